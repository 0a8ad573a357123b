"""Every script in examples/ runs as a user would run it (gaitmap and pyqtgraph do the same)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXPECT = {
    "analyse_a_csv.py": (["mounting: Left shin sensor sits as given", "steps, cadence"], []),
    "session_replay_and_report.py": (["replayed:", "wrote "], []),
    "live_with_a_listener.py": (["other leg's swing", "samples per sensor"], ["8"]),
    "sources_by_name.py": (["csv:", "replay:", "steps, cadence"], []),
}


def test_every_example_is_run_by_this_test():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECT)


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_example_runs(name, tmp_path):
    words, args = EXPECT[name]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=300,
                       cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    for w in words:
        assert w in r.stdout, (w, r.stdout[-1500:])
