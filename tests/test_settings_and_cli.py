"""Settings refuse bad values at start naming the field; run conf accepts only declared Params; the CLI answers
bad input with one line and a non-zero exit (issue 12, rows 5, 12 and 13)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from types import SimpleNamespace

import pytest

from recpipeline.config import load_settings
from recpipeline.runtime import requested_date, run_settings

DECLARED = ("ds", "top_k", "epochs")


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("RECPIPE_RANDOM_MODEL", "flase", "random_model"),
        ("RECPIPE_MAX_REJECT_RATE", "5", "max_reject_rate"),
        ("RECPIPE_MAX_REJECT_RATE", "nan", "max_reject_rate"),
        ("RECPIPE_GATE_METRIC", "bogus", "gate_metric"),
        ("RECPIPE_DROPOUT", "2", "dropout"),
        ("RECPIPE_HISTORY_DAYS", "-5", "history_days"),
        ("RECPIPE_GATE_BASELINES", "popularity,nope", "gate_baselines"),
        ("RECPIPE_EPOCHS", "2.5", "epochs"),
        ("RECPIPE_CELL", "rnn", "cell"),
    ],
)
def test_bad_environment_values_are_refused_naming_the_field(monkeypatch, name, value, field):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=field):
        load_settings()


def test_good_values_and_strict_booleans_pass(monkeypatch):
    monkeypatch.setenv("RECPIPE_RANDOM_MODEL", "Yes")
    monkeypatch.setenv("RECPIPE_MAX_REJECT_RATE", "0.5")
    settings = load_settings()
    assert settings.random_model is True and settings.max_reject_rate == 0.5


def context(conf, params=None, logical=None):
    return {"dag_run": SimpleNamespace(conf=conf), "params": params or {}, "logical_date": logical}


def test_run_conf_with_undeclared_keys_fails_naming_them():
    with pytest.raises(ValueError, match="database_url, landing_dir"):
        run_settings(
            context({"database_url": "postgresql://elsewhere/db", "landing_dir": "/tmp", "top_k": 5}), DECLARED
        )
    with pytest.raises(ValueError, match="JSON object"):
        run_settings(context([1, 2]), DECLARED)
    settings = run_settings(context({"top_k": 5}, {"top_k": 5, "ds": "2026-10-30"}), DECLARED)
    assert settings.top_k == 5  # declared Params apply; `ds` chooses the day, it is not a setting


def test_the_requested_day_is_the_ds_param_else_the_logical_date_else_none():
    assert requested_date(context({}, {"ds": "2026-10-29"}, datetime(2026, 10, 30))) == date(2026, 10, 29)
    assert requested_date(context({}, {}, datetime(2026, 10, 30))) == date(2026, 10, 30)
    assert requested_date(context({}, {})) is None


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "recpipeline.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


def test_cli_answers_bad_input_with_one_line_and_a_non_zero_exit(pg_url):
    for args, env, expected in [
        (("run", "--ds", "2026-10-30", "--conf", "[1,2]"), {}, "must be a JSON object"),
        (("run", "--ds", "2026-10-30", "--conf", "{oops"), {}, "not JSON"),
        (("db", "upgrade"), {"RECPIPE_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"}, "cannot connect"),
        (("db", "upgrade"), {"RECPIPE_DATABASE_URL": "not a url"}, "cannot connect"),
        (("eval", "report", "--ds", "1999-01-01"), {"RECPIPE_DATABASE_URL": pg_url}, "no evaluation for 1999-01-01"),
    ]:
        out = cli(*args, **env)
        assert out.returncode != 0, (args, out.stdout, out.stderr)
        assert "Traceback" not in out.stderr and expected in out.stderr, (args, out.stderr[-2000:])
    out = cli("dq", "report", "--ds", "1999-01-01", RECPIPE_DATABASE_URL=pg_url)
    assert out.returncode == 1 and "no data-quality results" in out.stdout
