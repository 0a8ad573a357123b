"""Team mode end to end, in separate processes on loopback: hubs with virtual sensors, a squad view, kill -9
and a restart, an athlete split over two hubs, and an XDF recorded from the hubs' streams imported again."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pylsl = pytest.importorskip("pylsl")
pytest.importorskip("pyxdf")

from stridesync.io import read_steps_csv  # noqa: E402
from stridesync.session.store import Session  # noqa: E402

from .lsl_tools import MiniRecorder  # noqa: E402

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def _cli(*args, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "stridesync.cli", *args], stdout=open(out, "w"),
                            stderr=subprocess.STDOUT, env=ENV)


def _lags(steps):
    return np.array([[np.nan if v is None else v for v in (s.swing_lag_ms, s.ipsi_arm_lag_ms, s.contra_arm_lag_ms)]
                     for s in steps])


def _same_steps(a, b) -> None:
    assert len(a) == len(b) > 5
    assert np.allclose([s.time_s for s in a], [s.time_s for s in b], atol=1e-6)
    np.testing.assert_allclose(_lags(a), _lags(b), atol=0.01, equal_nan=True)


def test_three_hubs_a_squad_view_a_kill_and_a_restart(tmp_path):
    """Three hubs and a squad view: every athlete appears within 5 s and the squad's steps equal each hub's
    steps CSV; one hub killed with SIGKILL is marked lost within 2 s while the others go on, and its restart is
    picked up within 5 s; an XDF of the streams imports into sessions whose steps equal the hubs'."""
    rec_dir = tmp_path / "rec"
    rec_dir.mkdir()
    xdf_rec = MiniRecorder()
    t_start = pylsl.local_clock()
    team = _cli("team", "--seconds", "21", "--summary", str(tmp_path / "squad.json"), "--steps-dir", str(tmp_path),
                "--record", str(rec_dir), "--quiet", out=tmp_path / "team.out")
    hubs = {name: _cli("hub", "--virtual", "--athlete", name, "--seed", str(k + 1), "--seconds", "14", "--quiet",
                       "--steps", str(tmp_path / f"{name}.hub.csv"), out=tmp_path / f"{name}.out")
            for k, name in enumerate(("Ana", "Ben", "Cleo"))}
    try:
        time.sleep(8.0)
        hubs["Cleo"].send_signal(signal.SIGKILL)
        t_kill = pylsl.local_clock()
        hubs["Cleo"].wait(5)
        time.sleep(1.0)
        t_restart = pylsl.local_clock()
        hubs["Cleo2"] = _cli("hub", "--virtual", "--athlete", "Cleo", "--seed", "3", "--seconds", "6", "--quiet",
                             out=tmp_path / "Cleo2.out")
        for name in ("Ana", "Ben", "Cleo2"):
            assert hubs[name].wait(40) == 0, (tmp_path / f"{name}.out").read_text()[-2000:]
        assert team.wait(40) == 0, (tmp_path / "team.out").read_text()[-2000:]
    finally:
        for p in (*hubs.values(), team):
            if p.poll() is None:
                p.kill()
    xdf_rec.stop_and_write(tmp_path / "hubs.xdf")

    squad = json.loads((tmp_path / "squad.json").read_text())["athletes"]
    assert set(squad) == {"Ana", "Ben", "Cleo"}
    for name in ("Ana", "Ben", "Cleo"):  # from the hub's streams going up (starting a process takes 1-3 s here)
        first = min(e["time_s"] for e in squad[name]["hub_log"])
        up = float(re.search(r"at LSL clock ([0-9.]+)", (tmp_path / f"{name}.out").read_text()).group(1))
        print(f"{name}: on LSL {up - t_start:.2f} s after launch, in the squad view {first - up:.2f} s later")
        assert first - up < 5.0, f"{name} appeared {first - up:.1f} s after its hub went up"
    for name in ("Ana", "Ben"):  # the others went on without a gap: every step arrived
        _same_steps(read_steps_csv(tmp_path / f"{name}.steps.csv"), read_steps_csv(tmp_path / f"{name}.hub.csv"))
        assert [e["state"] for e in squad[name]["hub_log"]] == ["found", "ended"]
    log = squad["Cleo"]["hub_log"]
    lost = [e["time_s"] for e in log if e["state"] == "lost"]
    back = [e["time_s"] for e in log if e["state"] in ("back", "found") and e["time_s"] > t_kill]
    assert lost and 0 < lost[0] - t_kill <= 2.0, log
    assert back and back[0] - t_restart <= 5.0, log

    # team recording: every athlete in their own session file, with the hub's steps as its results
    with Session.open(rec_dir / "Ana.stridesync") as s:
        assert s.source == "import"
        _same_steps(s.steps("live"), read_steps_csv(tmp_path / "Ana.hub.csv"))

    # the XDF of the same streams imports into sessions whose steps equal the hubs'
    out = tmp_path / "from_xdf"
    out.mkdir()
    r = subprocess.run([sys.executable, "-m", "stridesync.cli", "import-xdf", str(tmp_path / "hubs.xdf"),
                        "--out-dir", str(out)], capture_output=True, text=True, env=ENV, timeout=60)
    assert r.returncode == 0, r.stderr
    for name in ("Ana", "Ben"):
        with Session.open(out / f"{name}.stridesync") as s:
            _same_steps(s.steps("live"), read_steps_csv(tmp_path / f"{name}.hub.csv"))
            assert len(s.sensors) == 4


def test_one_runner_split_over_two_hubs_lines_up_with_one_hub(tmp_path):
    """The same simulated runner (one run, time 0 at one LSL instant): its left sensors on one hub, its right
    sensors on another; the squad view analyses them on LSL's clock. Against one hub holding all four: the
    lags match within p95 <= 2 ms."""
    # the run's time 0 after every process is up and the squad has its streams (3-5 s here on 2 cores): each
    # analysis sees the runner's standing start, so each estimates the mountings as a hub does
    t0 = pylsl.local_clock() + 5.0
    # no packet loss here: each hub draws its own losses, so the configurations would lose different packets, and
    # a packet lost at a push moves that step's lags by up to 15 ms in one of them; that is the loss's effect
    # (tests/test_live.py), not the clocks'. With loss 0.5 %, 1 run in 5 here had one such step (p95 2.05 ms)
    common = ["--virtual", "--seconds", "12", "--quiet", "--seed", "4", "--sim-start", repr(t0), "--sim-loss", "0"]
    team = _cli("team", "--seconds", "19", "--summary", str(tmp_path / "squad.json"), "--steps-dir", str(tmp_path),
                "--quiet", out=tmp_path / "team.out")
    hubs = [_cli("hub", "--athlete", "Split", "--roles", "left_shin,left_wrist", *common, out=tmp_path / "l.out"),
            _cli("hub", "--athlete", "Split", "--roles", "right_shin,right_wrist", *common, out=tmp_path / "r.out"),
            _cli("hub", "--athlete", "Solo", "--steps", str(tmp_path / "solo.csv"), *common, out=tmp_path / "s.out")]
    try:
        for p, n in zip(hubs, "lrs"):
            assert p.wait(40) == 0, (tmp_path / f"{n}.out").read_text()[-2000:]
        assert team.wait(40) == 0, (tmp_path / "team.out").read_text()[-2000:]
    finally:
        for p in (*hubs, team):
            if p.poll() is None:
                p.kill()
    squad = json.loads((tmp_path / "squad.json").read_text())["athletes"]
    assert squad["Split"]["split_over_hubs"] and not squad["Solo"]["split_over_hubs"]
    origin = squad["Split"]["clock_origin_lsl_s"]
    solo = read_steps_csv(tmp_path / "solo.csv")  # session time = LSL time − t0 (the run's time 0)
    split = read_steps_csv(tmp_path / "Split.steps.csv")  # squad clock: LSL time − origin
    t_split = np.array([s.time_s + origin - t0 for s in split])
    diffs = []
    end = 12.0 - 1.0  # the last stride before the hubs stop is left out: each analysis ends its own way there
    for s in (s for s in solo if s.time_s < end):  # (a hub finishes its core; the squad declares the sensors away)
        k = int(np.argmin(np.abs(t_split - s.time_s)))
        if abs(t_split[k] - s.time_s) < 0.03:
            diffs.append(np.abs(_lags([s])[0] - _lags([split[k]])[0]))
    diffs = np.array(diffs)
    # the squad's analysis starts once it has seen both hubs and opened their sensor streams (a few strides late)
    print(f"one hub {len(solo)} steps, split {len(split)}, matched {len(diffs)}")
    assert len(diffs) >= 0.8 * len(split) and len(split) >= 0.5 * len(solo) > 10
    d = diffs[np.isfinite(diffs)]
    p95 = float(np.percentile(d, 95))
    print(f"split vs one hub: {len(diffs)} steps matched of {len(solo)}, |lag difference| p95 {p95:.3f} ms")
    assert p95 <= 2.0
