"""Sources by name (#13): one registry, each kind's module imported only when opened, the same printer for all."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stridesync.errors import InputFormatError
from stridesync.io import read_steps_csv, write_wide_csv
from stridesync.sources import REGISTRY, parse_source

from .conftest import sim_cached

EXE = [sys.executable, "-m", "stridesync.cli"]


def run(*args):
    return subprocess.run([*EXE, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_a_spec_is_kind_target_and_options():
    s = parse_source("replay:run.stridesync,speed=4")
    assert (s.kind, s.target, s.params) == ("replay", "run.stridesync", {"speed": "4"})
    assert parse_source("virtual:seed=3").params == {"seed": "3"}
    for bad, words in (("nope:x", "unknown kind 'nope'"), ("virtual", "expected KIND:TARGET"),
                       ("csv:a.csv,b.csv", "not key=value"), ("replay:a,speed=1,speed=2", "repeated")):
        with pytest.raises(InputFormatError, match=words):
            parse_source(bad)


def test_opening_a_kind_imports_only_its_module():
    code = ("import sys; from stridesync.sources import open_source; "
            "open_source('csv:x.csv'); "
            "print(sorted(m for m in sys.modules if m.startswith(('stridesync.sources.', 'stridesync.session.replay', "
            "'bleak', 'bumble', 'pylsl'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['stridesync.sources.csv']"
    assert set(REGISTRY) >= {"virtual", "ble", "replay", "csv"}


def test_live_from_a_csv_source_prints_the_steps_analyze_finds(tmp_path):
    path = tmp_path / "run.csv"
    write_wide_csv(path, sim_cached(seed=21, duration_s=30.0).recording)
    a = run("analyze", path, "--steps", tmp_path / "steps.csv")
    assert a.returncode == 0, a.stderr
    want = read_steps_csv(tmp_path / "steps.csv")
    r = run("live", "--source", f"csv:{path}", "--steps", tmp_path / "live_steps.csv")
    assert r.returncode == 0, r.stderr
    got = read_steps_csv(tmp_path / "live_steps.csv")
    assert [s.time_s for s in got] == [s.time_s for s in want] and len(got) > 20
    assert r.stdout.count("\n   ") > 0 and "weak link:" in r.stdout
    # a file source cannot be recorded: one line, exit 2, nothing written
    r = run("record", "--source", f"csv:{path}", "--out", tmp_path / "x.stridesync")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and not (tmp_path / "x.stridesync").exists()
    r = run("live", "--source", f"csv:{path},speed=-1")
    assert r.returncode == 2 and "speed must be positive" in r.stderr


def test_live_from_a_virtual_source_spec_equals_the_virtual_flag():
    r = run("live", "--source", "virtual:seed=2", "--seconds", 5)
    assert r.returncode == 0, r.stderr
    assert "StrideSync live: virtual:seed=2" in r.stdout and "sensors at the end" in r.stdout
    r = run("live", "--source", "virtual:seed=2", "--virtual")
    assert r.returncode == 2 and "not both" in r.stderr


def test_the_dashboard_takes_a_source_spec(tmp_path):
    path = tmp_path / "run.csv"
    write_wide_csv(path, sim_cached(seed=21, duration_s=30.0).recording)
    shot = tmp_path / "dash.png"
    import os
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([*EXE, "dashboard", "--source", f"csv:{path}", "--quit-after", "3", "--screenshot", str(shot)],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert shot.exists() and shot.stat().st_size > 10_000
    r = run("dashboard", "--source", f"csv:{path}", "--virtual")
    assert r.returncode == 2 and "not both" in r.stderr


def test_the_dashboard_runs_a_live_session_from_a_virtual_spec(tmp_path):
    """``dashboard --source virtual:seed=3`` starts a live session on that simulated runner: after 6 s the
    window's sensor table shows the four sensors streaming (its closing line says what the window showed)."""
    import os
    shot = tmp_path / "live.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([*EXE, "dashboard", "--source", "virtual:seed=3", "--quit-after", "6", "--screenshot",
                        str(shot)], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert shot.exists() and shot.stat().st_size > 10_000
    line = next(x for x in r.stdout.splitlines() if x.startswith("dashboard: "))
    assert line.startswith("dashboard: running") and line.count(" streaming") == 4, line
    r = run("dashboard", "--source", "virtual:seed=3,colour=red")
    assert r.returncode == 2 and "unknown option 'colour'" in r.stderr


def test_a_source_that_cannot_start_prints_its_error_alone():
    """``live --source ble:`` without a roster: one line on stderr, exit 2, nothing on stdout (the live table's
    title and header come only once the source is up)."""
    r = run("live", "--source", "ble:", "--seconds", 2)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "give a roster (ble:roster.json)" in r.stderr
