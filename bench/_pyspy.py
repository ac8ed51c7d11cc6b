"""Reading py-spy's raw (collapsed stacks) output: the functions that hold the most samples."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

_LINE = re.compile(r":\d+\)$")
# Frames that are waiting, not working (py-spy cannot always tell): left out of the own-time ranking.
IDLE = (
    "select (selectors.py)",
    "EpollSelector.select (selectors.py)",
    "wait (threading.py)",
    "_wait_for_tstate_lock (threading.py)",
    "poll (",
)


def _frame(frame: str) -> str:
    """A frame without its line number, so one function counts once: `fn (path/file.py)`."""
    frame = _LINE.sub(")", frame.strip())
    return re.sub(r"\(.*?/site-packages/", "(", re.sub(r"\(/work/main/", "(", frame))


def top_functions(path: Path, n: int = 5) -> tuple[list[tuple[str, int]], list[tuple[str, int]], int]:
    """(top `n` by own samples, top `n` recpipeline functions by inclusive samples, total samples)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_frame(f) for f in stack.split(";") if "(" in f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        k = int(count)
        total += k
        if not frames[-1].startswith(IDLE):
            own[frames[-1]] += k
        for fn in set(frames):
            if "recpipeline/" in fn and "recpipeline/local.py" not in fn:
                inclusive[fn] += k
    return own.most_common(n), inclusive.most_common(n), total
