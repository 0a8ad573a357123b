"""The Qt squad view (stridesync dashboard --team) against real hubs: separate processes publishing on LSL on
loopback (virtual sensors), as tests/test_team.py runs them; the squad view in this process under pytest-qt."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pylsl")
pytest.importorskip("PySide6")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, Qt  # noqa: E402

from stridesync.io import read_steps_csv  # noqa: E402
from stridesync_ui.team_view import COLUMNS, LOST_FG, TeamWindow  # noqa: E402

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def _hub(name: str, seconds: float, out: Path, *more: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "stridesync.cli", "hub", "--virtual", "--athlete", name,
                             "--seconds", str(seconds), *more], stdout=open(out, "w"), stderr=subprocess.STDOUT, env=ENV)


def _hub_steps(out: Path, name: str) -> int:
    """The steps a hub has printed so far (one line per step)."""
    return len(re.findall(rf"^{name}: +[0-9.]+ +(?:left|right) ", out.read_text(), flags=re.M))


def _row(win: TeamWindow, name: str):
    return next((r for r in win.rows if r.name == name), None)


def _cell(win: TeamWindow, name: str, column: str):
    return win.table.item(win.table.row_of(name), COLUMNS.index(column))


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def hubs():
    procs: dict[str, subprocess.Popen] = {}
    yield procs
    for p in procs.values():
        if p.poll() is None:
            p.kill()
            p.wait(5)


def test_three_athletes_appear_with_their_steps_and_a_killed_hub_shows_lost_and_comes_back_by_itself(
        qtbot, settings, hubs, tmp_path):
    """Three hubs: each athlete gets a row whose steps cell is the squad's count and grows; Cleo's hub
    killed with SIGKILL shows 'lost since hh:mm:ss' in grey within 2 s while Ana and Ben stay live; its
    restart shows 'back' without anyone touching the view."""
    for k, name in enumerate(("Ana", "Ben", "Cleo")):
        hubs[name] = _hub(name, 30, tmp_path / f"{name}.out", "--seed", str(k + 1), "--quiet")
    win = TeamWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: len(win.rows) == 3 and all(r.n_steps >= 5 for r in win.rows), timeout=20000)
    assert [r.name for r in win.rows] == ["Ana", "Ben", "Cleo"]
    for r in win.rows:
        assert r.state in ("live", "back") and r.sync_score is not None and r.cadence_spm is not None
        assert r.weak_link not in ("", "—") and "streaming" in r.health
    first = {r.name: r.n_steps for r in win.rows}
    qtbot.waitUntil(lambda: all(r.n_steps >= first[r.name] + 3 for r in win.rows), timeout=5000)
    qtbot.wait(300)  # the table renders at 4 Hz
    for r in win.rows:
        assert _cell(win, r.name, "steps").text() == str(r.n_steps)

    hubs["Cleo"].send_signal(signal.SIGKILL)
    t_kill = time.monotonic()
    qtbot.waitUntil(lambda: _row(win, "Cleo").state == "lost", timeout=4000)
    lost_after = time.monotonic() - t_kill
    qtbot.wait(300)
    assert lost_after <= 2.0, f"lost shown {lost_after:.2f} s after the kill"
    assert re.fullmatch(r"lost since \d\d:\d\d:\d\d", _cell(win, "Cleo", "state").text())
    assert _cell(win, "Cleo", "steps").foreground().color().name() == LOST_FG
    assert {_row(win, n).state for n in ("Ana", "Ben")} <= {"live", "back"}

    hubs["Cleo"].wait(5)
    hubs["Cleo2"] = _hub("Cleo", 20, tmp_path / "Cleo2.out", "--seed", "3", "--quiet")
    t_restart = time.monotonic()
    qtbot.waitUntil(lambda: _row(win, "Cleo").state == "back", timeout=10000)
    print(f"lost {lost_after:.2f} s after the kill, back {time.monotonic() - t_restart:.2f} s after the restart")
    qtbot.wait(300)
    assert _cell(win, "Cleo", "state").text().startswith("back")
    assert _cell(win, "Cleo", "steps").foreground().color().name() != LOST_FG
    win.close()
    assert win.worker.join(5.0)


def test_clicking_an_athlete_opens_the_full_view_whose_steps_follow_the_hub(qtbot, settings, hubs, tmp_path):
    """A click on Dora's row opens the single-athlete dashboard fed from LSL: its step count keeps up with
    the steps the hub prints (within a second's worth), its traces carry her sensors' samples with the hub's
    events on them, and when the hub ends the view holds exactly the hub's steps (its CSV), lags and all."""
    out = tmp_path / "Dora.out"
    hubs["Dora"] = _hub("Dora", 20, out, "--seed", "5", "--steps", str(tmp_path / "Dora.csv"))
    win = TeamWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: _row(win, "Dora") is not None and _row(win, "Dora").n_steps >= 3, timeout=25000)
    qtbot.wait(300)
    rect = win.table.visualItemRect(_cell(win, "Dora", "athlete"))
    qtbot.mouseClick(win.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    athlete = win.athlete_windows["Dora"]
    assert athlete.isVisible() and athlete.controls.isHidden()
    qtbot.waitUntil(lambda: athlete.snap is not None and athlete.snap.n_steps > 0
                    and sum(len(t) for t, _ in athlete.snap.traces.values()) > 600, timeout=10000)
    gaps = []
    for _ in range(4):
        qtbot.wait(700)
        gaps.append(_hub_steps(out, "Dora") - athlete.snap.n_steps)
    print("hub steps printed minus the view's:", gaps)
    assert all(-1 <= g <= 4 for g in gaps), gaps  # ~3 steps a second; the view is 10 Hz behind LSL's ~20 ms
    snap = athlete.snap
    assert set(snap.traces) == set(snap.trace_labels) and len(snap.traces) == 4
    assert snap.events and snap.rolling.get("sync_score") is not None and snap.weak_link not in ("", "—")
    assert "Dora" in athlete.windowTitle() and "LSL" in athlete.windowTitle()
    t, y = snap.traces[next(iter(snap.traces))]
    assert np.isfinite(y).sum() > 100 and t[-1] - t[0] > 3.0

    assert hubs["Dora"].wait(40) == 0, out.read_text()[-2000:]
    hub_steps = read_steps_csv(tmp_path / "Dora.csv")
    qtbot.waitUntil(lambda: athlete.snap.n_steps == len(hub_steps) and athlete.snap.state == "stopped", timeout=5000)
    last = athlete.snap.last_step
    assert last.time_s == pytest.approx(hub_steps[-1].time_s, abs=1e-6)  # the CSV holds microseconds
    assert last.swing_lag_ms == pytest.approx(hub_steps[-1].swing_lag_ms, abs=0.01)
    assert last.sync_score == pytest.approx(hub_steps[-1].sync_score, abs=0.01)
    athlete.close()
    qtbot.waitUntil(lambda: "Dora" not in win.worker.followed, timeout=3000)
    win.close()
    assert win.worker.join(5.0)
