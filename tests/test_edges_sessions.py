"""Trustworthy edges of sessions (#11 items 6 and 9), through the command line as a user types it.

Real parts only: the simulator's runner, packets cut by the host codec, a live analyser recording to a
real SQLite session, the ``stridesync`` command in a subprocess (and, for ``record``, virtual sensors on
a bumble radio reached through bleak).
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from stridesync.core.config import DetectorConfig
from stridesync.live import LiveAnalyzer
from stridesync.report.data import report_data_from_session
from stridesync.session.recorder import Recorder
from stridesync.session.store import Kind, Session
from stridesync.session.synth import feed, sensor_infos, synth_inputs
from stridesync.sim import SimParams, simulate

EXE = [sys.executable, "-m", "stridesync.cli"]
STEP_LINE = re.compile(r"^\s*\d+\.\d\d\s+(left|right)\s")


def run(*args, timeout=300):
    return subprocess.run([*EXE, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def _record(path, items, sensors) -> None:
    rec = Recorder(path, sensors=sensor_infos(sensors), config=DetectorConfig())
    live = LiveAnalyzer(sensors, sink=rec)
    feed(items, live)
    rec.close(events=live.core.events_, steps=live.core.steps_, summary=live.core.summary(),
              meta={"health": [h.as_dict() for h in live.health()]})


def _damage(items: list[tuple], how: str, seed: int = 7) -> tuple[list[tuple], dict[str, int]]:
    """Every 7th data packet of the session gets random bytes: over its samples, or 3 anywhere."""
    rng = np.random.default_rng(seed)
    out, damaged, k = [], {}, 0
    for t, kind, key, payload in items:
        if kind == Kind.PACKET:
            k += 1
            if k % 7 == 0:
                if how == "dropped":  # lost on the radio instead
                    damaged[key] = damaged.get(key, 0) + 1
                    continue
                if how == "samples":
                    payload = payload[:18] + rng.bytes(len(payload) - 18)
                else:
                    b = bytearray(payload)
                    for pos in rng.integers(0, len(payload), 3):
                        b[pos] = int(rng.integers(0, 256))
                    payload = bytes(b)
                damaged[key] = damaged.get(key, 0) + 1
        out.append((t, kind, key, payload))
    return out, damaged


def _session_lines(out: str) -> tuple[int, float, str]:
    n = int(re.search(r"^session: (\d+) steps", out, re.M).group(1))
    wl = re.search(r"^weak link: (.*)$", out, re.M).group(1)
    ms = float(re.search(r"by (\d+) ms", wl).group(1))
    return n, ms, wl


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    d = tmp_path_factory.mktemp("edges")
    sim = simulate(SimParams(duration_s=60.0, standing_start_s=2.0, standing_end_s=2.0,
                             swing_lag_ms=25.0, contra_arm_lag_ms=20.0), seed=3)
    sensors, items = synth_inputs(sim, seed=3)
    _record(d / "clean.stridesync", items, sensors)
    counts = {}
    for how in ("samples", "anywhere", "dropped"):
        bad, counts[how] = _damage(items, how)
        _record(d / f"{how}.stridesync", bad, sensors)
    return d, sensors, counts


@pytest.mark.parametrize("pace", [["--fast"], ["--speed", "1000"]])
def test_replay_of_a_session_with_random_bytes_over_every_7th_packets_samples_keeps_its_steps_and_says_how_many(
        sessions, pace):
    d, sensors, counts = sessions
    clean = run("replay", d / "clean.stridesync", *pace)
    bad = run("replay", d / "samples.stridesync", *pace)
    lost = run("replay", d / "dropped.stridesync", *pace)
    assert clean.returncode == 0 and bad.returncode == 0 and lost.returncode == 0, bad.stderr
    n_clean, ms_clean, _ = _session_lines(clean.stdout)
    n_bad, ms_bad, _ = _session_lines(bad.stdout)
    # the damaged packets became no samples: the analysis is the one of the same session with those packets
    # lost on the radio, step for step; a seventh of the data is missing, so a few steps go
    assert [x for x in bad.stdout.splitlines() if STEP_LINE.match(x)] == \
        [x for x in lost.stdout.splitlines() if STEP_LINE.match(x)]
    assert _session_lines(bad.stdout) == _session_lines(lost.stdout)
    assert n_bad >= 0.9 * n_clean, (n_bad, n_clean)
    assert abs(ms_bad - ms_clean) <= 3.0, (ms_bad, ms_clean)
    # every damaged packet is counted, per sensor, in the health lines and the closing line
    expected = {sensors[k][0].value: v for k, v in counts["samples"].items()}
    end = bad.stdout.split("sensors at the end:")[1]
    for role, v in expected.items():
        assert re.search(rf"^\s+{role}\s.*malformed {v}$", end, re.M), (role, v, end)
    assert f"malformed packets left out (not made into samples): {sum(expected.values())}" in bad.stdout
    assert "malformed packets" not in clean.stdout and "malformed 0" in clean.stdout


def test_random_bytes_anywhere_in_every_7th_packet_cannot_restart_a_clock_or_end_the_analysis(sessions):
    d, sensors, counts = sessions
    clean = run("replay", d / "clean.stridesync", "--fast")
    bad = run("replay", d / "anywhere.stridesync", "--fast")
    assert bad.returncode == 0, bad.stderr
    n_clean, ms_clean, _ = _session_lines(clean.stdout)
    n_bad, ms_bad, _ = _session_lines(bad.stdout)
    assert "sensor clock restarted" not in bad.stderr
    assert n_bad >= 0.9 * n_clean, (n_bad, n_clean)
    assert abs(ms_bad - ms_clean) <= 6.0, (ms_bad, ms_clean)
    assert "malformed packets left out" in bad.stdout


def test_the_reports_data_and_the_recomputed_export_count_malformed_packets_per_sensor(sessions, tmp_path):
    d, sensors, counts = sessions
    with Session.open(d / "samples.stridesync") as s:
        data = report_data_from_session(s)
    got = {x["serial"]: x["malformed"] for x in data.provenance["sensors"]}
    assert got == counts["samples"]


def test_replay_prints_what_live_printed(tmp_path):
    path = tmp_path / "run.stridesync"
    live = run("record", "--virtual", "--seconds", 16, "--out", path)
    assert live.returncode == 0, live.stderr
    for pace in (["--fast"], ["--speed", "50"]):
        rep = run("replay", path, *pace)
        assert rep.returncode == 0, rep.stderr

        def lines(out, pattern):
            return [x for x in out.splitlines() if re.search(pattern, x)]

        live_steps = [x for x in live.stdout.splitlines() if STEP_LINE.match(x)]
        assert len(live_steps) > 20
        # every step line with its weak-link column, and every window line, as live printed them
        assert [x for x in rep.stdout.splitlines() if STEP_LINE.match(x)] == live_steps
        assert lines(rep.stdout, r"^\s+last 20 steps:") == lines(live.stdout, r"^\s+last 20 steps:")
        assert all(len(x.split("  ")[-1].strip()) > 0 for x in live_steps)  # the weak-link column is filled
        # the sensors' health as it went and at the end, the session's figures with the PCI, the weak link
        assert len(lines(rep.stdout, r"^\s+left_shin\s+\w+\s+.*malformed \d+$")) >= 2
        for pattern in (r"^session: .* PCI", r"^weak link: "):
            assert lines(rep.stdout, pattern) == lines(live.stdout, pattern)
        assert "sensors at the end:" in rep.stdout
