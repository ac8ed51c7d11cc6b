"""Structure the codebase promises: no import cycle inside recpipeline/, thin tasks, nothing pointing outside."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from recpipeline.config import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "recpipeline"


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """recpipeline modules `path` imports anywhere (module level or inside functions), with the parent packages
    that importing them runs first (except the module's own ancestors, which are already being imported)."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            # `from pkg import sub` imports the submodule; `from mod import name` needs mod itself
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        for name in names:
            parts = name.split(".")
            implied = {".".join(parts[:i]) for i in range(1, len(parts))}  # parent packages Python imports first
            found |= ({name} | {p for p in implied if not me.startswith(p + ".")}) & modules
    return found - {me, "recpipeline"}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imported_modules(p, modules) for p in paths}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path [a, b, ..., a], or None (depth-first search with colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"b"}}) is None


def test_no_import_cycle_inside_recpipeline_even_through_function_level_imports():
    graph = import_graph()
    assert "recpipeline.config" in graph and graph["recpipeline.cli"]  # the walk sees the package
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_tasks_module_is_wiring_only():
    tasks = (PACKAGE / "tasks.py").read_text()
    assert len(tasks.splitlines()) <= 150
    tree = ast.parse(tasks)
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        assert len(fn.body) <= 8, f"tasks.{fn.name} holds logic: move it to its stage"


# Applied migrations are immutable (db.upgrade refuses a changed one): 001's header comment predates this rule.
FROZEN = {"sql/migrations/001_schemas.sql"}


def test_no_file_points_at_notes_outside_the_repository():
    pattern = re.compile(r"AIRFLOW_NOTES|DESIGN\.md|\.\./shared|/work/shared")
    offenders = [
        str(p.relative_to(PROJECT_ROOT))
        for folder in ("recpipeline", "dags", "plugins", "sql", "tests")
        for p in (PROJECT_ROOT / folder).rglob("*")
        if p.is_file()
        and p.suffix in (".py", ".sql", ".j2")
        and pattern.search(p.read_text(errors="replace"))
        and p.name != "test_architecture.py"
    ]
    assert sorted(set(offenders) - FROZEN) == []
