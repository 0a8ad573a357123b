"""Small edges of the command line (#11 polish), as a user types them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXE = [sys.executable, "-m", "stridesync.cli"]
ROOT = Path(__file__).resolve().parents[1]


def run(*args, env=None):
    return subprocess.run([*EXE, *map(str, args)], capture_output=True, text=True, timeout=300, env=env)


def test_sessions_lists_the_notes_and_export_of_an_import_says_where_its_results_come_from(tmp_path):
    assert run("simulate", tmp_path / "run.csv", "--seconds", 20, "--seed", 3).returncode == 0
    r = run("import", tmp_path / "run.csv", "--out", tmp_path / "run.stridesync", "--notes", "windy, lane 3")
    assert r.returncode == 0, r.stderr
    listing = run("sessions", tmp_path)
    assert "windy, lane 3" in listing.stdout
    ex = run("export", tmp_path / "run.stridesync", "--steps", tmp_path / "steps.csv")
    assert ex.returncode == 0 and "as computed at import" in ex.stdout and "live" not in ex.stdout
    assert "own instants" in run("export", "--help").stdout  # why the samples CSV has one sensor per row


def test_the_dashboard_bench_without_a_display_or_xvfb_says_what_to_install(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PATH"] = str(tmp_path)  # no Xvfb on it
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "dashboard.py"), "--seconds", "1"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "install Xvfb" in r.stderr and "Traceback" not in r.stderr
