"""Mounting estimation (#10): sensors strapped on any way round are found, named and analysed in the body frame.

Fast cases use the simulator (standing, then running); real-data cases use the RBDS/Hamner virtual sensors
(tests/mounting_cases.py) and TRIPOD's real shank IMUs, and skip when the shared data are absent. The full
sweep (every trial, ≥ 20 random rotations per trial type, both rule sets) is bench/mounting.py.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from stridesync.core.mounting import align_recording, estimate, rotation_angle_deg
from stridesync.core.mounting_checks import check
from stridesync.core.reference import analyze
from stridesync.io import read_events_csv, write_wide_csv
from stridesync.model import EventKind, Role, RoleSamples
from stridesync.pipeline import run_realtime
from stridesync.session.replay import Replay

from . import mounting_cases as mc
from .conftest import sim_cached

EXE = [sys.executable, "-m", "stridesync.cli"]
R_UPSIDE = Rotation.from_euler("z", 180, degrees=True).as_matrix()
R_X90 = Rotation.from_euler("x", 90, degrees=True).as_matrix()


def run(*args):
    return subprocess.run([*EXE, *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def sim():
    return sim_cached(seed=7, duration_s=60.0, standing_start_s=4.0, standing_end_s=3.0)


def _times(events, role=None):
    return sorted((e.role.value, e.kind.value, e.time_s) for e in events if role is None or e.role is role)  # exact


def _assert_same_events(ref, got, *, p95_ms=5.0, median_ms=1.0, recall=0.99):
    dt, _ = mc.event_errors(ref, got)
    found = np.isfinite(dt)
    assert found.mean() >= recall, f"recall {found.mean():.3f}"
    d = np.abs(dt[found]) * 1e3
    assert np.median(d) <= median_ms and np.percentile(d, 95) <= p95_ms, (np.median(d), np.percentile(d, 95))


def test_a_sensor_upside_down_one_turned_90_degrees_and_one_at_random_are_named_and_give_the_same_events(sim):
    rots = {Role.RIGHT_SHIN: R_UPSIDE, Role.LEFT_WRIST: R_X90,
            Role.LEFT_SHIN: Rotation.random(random_state=3).as_matrix()}
    ref = analyze(sim.recording).events
    al, trackers = align_recording(mc.rotated(sim.recording, rots))
    _assert_same_events(ref, analyze(al).events)
    for role, R in rots.items():  # the estimate undoes the strap's rotation (within 2° on the simulator)
        assert rotation_angle_deg(trackers[role].rotation @ R) < 2.0, role
    texts = [v.text for v in check({r: t.current for r, t in trackers.items()}, al)]
    assert "Right shin sensor is upside down" in texts
    assert "Left wrist sensor is rotated 90° around the forearm" in texts
    assert any(t.startswith("Right wrist sensor sits as given") for t in texts)
    # taken as given, the same rotations wreck the events: the estimate is what makes them right
    dt, _ = mc.event_errors(ref, analyze(mc.rotated(sim.recording, rots)).events)
    assert np.isfinite(dt).mean() < 0.9


def test_the_realtime_core_with_trackers_equals_the_core_on_the_aligned_recording_for_any_chunking(sim):
    rot = mc.rotated(sim.recording, {Role.LEFT_SHIN: R_X90, Role.RIGHT_WRIST: R_UPSIDE})
    al, _ = align_recording(rot)
    want = _times(run_realtime(al)[0].events)
    for block_s in (0.02, 0.31, 7.0):  # through the replay engine, each sensor's mounting estimated as live does
        core = Replay(recording=rot, align="auto", speed=None, block_s=block_s).run().analyzer.core
        assert _times(core.events_) == want, block_s
        assert {r for r, v in core.summary()["mounting"].items() if v and v[0]["ok"]} == {r.value for r in rot}
    # a recording too short for an estimate before its end: the trackers release at finish, once
    short = {r: RoleSamples(r, s.time_s[:1500], s.acc_g[:1500], s.gyro_dps[:1500]) for r, s in rot.items()}
    al, trk = align_recording(short)
    assert all(t.log and t.log[0].time_s == short[r].time_s[-1] for r, t in trk.items())  # decided at the end
    core = Replay(recording=short, align="auto", speed=None, block_s=0.05).run().analyzer.core
    assert _times(core.events_) == _times(run_realtime(al)[0].events)


def test_accelerometer_only_sensors_are_aligned_too(sim):
    acc = mc.accel_only(sim.recording)
    ref = analyze(acc).events
    al, trackers = align_recording(mc.rotated(acc, {Role.LEFT_SHIN: R_UPSIDE, Role.RIGHT_WRIST: R_X90}))
    assert all(t.current.method == "accel" and t.current.ok for t in trackers.values())
    _assert_same_events(ref, analyze(al).events)


def test_a_sensor_that_slips_45_degrees_is_flagged_within_10_strides_and_right_again_within_20():
    s = sim_cached(seed=4, duration_s=150.0, standing_start_s=4.0, standing_end_s=3.0)
    at = 70.0
    slipped = mc.slipped(s.recording, Role.LEFT_SHIN, at, Rotation.from_euler("x", 45, degrees=True).as_matrix())
    ref = [e for e in analyze(s.recording).events if e.role is Role.LEFT_SHIN]
    al, trk = align_recording(slipped)
    got = [e for e in analyze(al).events if e.role is Role.LEFT_SHIN]
    contacts = np.array(sorted(e.time_s for e in ref if e.kind is EventKind.CONTACT))
    flags = [lg.time_s for lg in trk[Role.LEFT_SHIN].log if lg.kind == "slipped"]
    assert flags and min(flags) > at, "no slip flagged, or one before the slip"
    assert np.sum((contacts > at) & (contacts <= flags[0])) <= 10
    dt, _ = mc.event_errors(ref, got)
    after = contacts[contacts > at][20]  # 20 strides after the slip, the rest of the run is right again
    _assert_same_events([e for e in ref if e.time_s >= after], [e for e in got if e.time_s >= after - 0.5])
    assert all(np.isfinite(d) and abs(d) <= 0.001 for e, d in zip(ref, dt) if e.time_s < at - 1)


def test_too_little_standing_or_running_keeps_the_given_mounting_with_a_clear_message(tmp_path, sim):
    short = {r: RoleSamples(r, s.time_s[:1000], s.acc_g[:1000], s.gyro_dps[:1000]) for r, s in sim.recording.items()}
    e = estimate(Role.LEFT_SHIN, short[Role.LEFT_SHIN].time_s, short[Role.LEFT_SHIN].acc_g,
                 short[Role.LEFT_SHIN].gyro_dps)
    assert not e.ok and "given mounting is kept" in e.message and np.array_equal(e.rotation, np.eye(3))
    assert not estimate(Role.LEFT_SHIN, np.arange(5) / 200, np.ones((5, 3))).ok
    al, trk = align_recording(short)  # nothing is lost: every sample comes out, as given
    for r, s in short.items():
        assert np.array_equal(al[r].acc_g, s.acc_g) and trk[r].current is not None and not trk[r].current.ok
    path = tmp_path / "short.csv"
    write_wide_csv(path, short)
    out = run("check", path)
    assert out.returncode == 1 and "given mounting is kept" in out.stdout and "Traceback" not in out.stderr
    res = run("analyze", path, "--events", tmp_path / "e.csv", "--steps", tmp_path / "s.csv")
    assert res.returncode == 0, res.stderr


def test_check_names_what_is_wrong_and_analyze_applies_the_estimate(tmp_path, sim):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    write_wide_csv(good, sim.recording)
    write_wide_csv(bad, mc.rotated(sim.recording, {Role.RIGHT_SHIN: R_UPSIDE, Role.LEFT_WRIST: R_X90}))
    ok = run("check", good)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "FIX" not in ok.stdout and "sides not swapped" in ok.stdout
    r = run("check", bad)
    assert r.returncode == 1
    assert "FIX  Right shin sensor is upside down" in r.stdout
    assert "FIX  Left wrist sensor is rotated 90° around the forearm" in r.stdout
    assert "standing" in r.stdout and "strides" in r.stdout
    # analyze: auto aligns (steps as on the good file), given analyses the wrong frame
    for name, args in (("good", [good]), ("auto", [bad]), ("given", [bad, "--align", "given"])):
        res = run("analyze", *args, "--events", tmp_path / f"{name}_e.csv", "--steps", tmp_path / f"{name}_s.csv",
                  "--summary", tmp_path / f"{name}.json")
        assert res.returncode == 0, res.stderr
    ev = {k: read_events_csv(tmp_path / f"{k}_e.csv") for k in ("good", "auto", "given")}
    _assert_same_events(ev["good"], ev["auto"])
    dt, _ = mc.event_errors(ev["good"], ev["given"], tol_s=0.005)
    assert np.isfinite(dt).mean() < 0.9
    summary = json.loads((tmp_path / "auto.json").read_text())
    assert summary["mounting"]["right_shin"][0]["ok"] and summary["mounting"]["right_shin"][0]["x_from"] == "standing"


def test_live_sensors_with_a_wrong_roster_mounting_are_estimated_recorded_and_replayed_alike(tmp_path):
    from stridesync.live_run import LiveOptions, run_live
    from stridesync.roster import Roster
    from stridesync.session.replay import replay
    from stridesync.session.store import Session
    from stridesync.sim import SimParams

    # the virtual fleet's serials are SS000101... in role order; the roster says the right shin's pod is mounted
    # upside down and the left wrist's turned: the firmware remaps with them, the host estimates them back
    roster = Roster.from_dict({"sensors": [
        {"serial": "SS000101", "role": "left_shin"},
        {"serial": "SS000102", "role": "right_shin", "mounting": ["-x", "-y", "+z"]},
        {"serial": "SS000103", "role": "left_wrist", "mounting": ["+x", "-z", "+y"]},
        {"serial": "SS000104", "role": "right_wrist", "pin": True}]})
    params = SimParams(duration_s=45.0, standing_start_s=4.0, standing_end_s=3.0)
    path = tmp_path / "run.stridesync"
    res = asyncio.run(run_live(LiveOptions(seconds=20.0, roster=roster, sim_params=params, record_to=path)))
    summary = res.analyzer.core.summary()
    assert set(summary["mounting"]) == {"left_shin", "right_shin", "left_wrist"}  # right wrist pinned
    assert all(v and v[0]["ok"] for v in summary["mounting"].values())
    # the virtual sensors remap as the firmware does, so the host's estimate undoes each roster mounting
    from stridesync.protocol import remap_matrix
    for e in roster.sensors:
        if e.role.value in summary["mounting"]:
            R = np.asarray(summary["mounting"][e.role.value][0]["rotation"])
            assert rotation_angle_deg(R @ remap_matrix(e.mounting.to_bytes())) < 3.0, e.role
    # against the simulator's own recording analysed in the body frame, live finds the same shin events
    truth = [e for e in analyze(res.sim.recording).events if e.time_s < res.analyzer.core.now_s - 2.0
             and e.role in (Role.LEFT_SHIN, Role.RIGHT_SHIN) and e.time_s > 8.0]
    live = [e for e in res.analyzer.core.events_ if e.role in (Role.LEFT_SHIN, Role.RIGHT_SHIN)]
    _assert_same_events(truth, live, p95_ms=5.0, median_ms=1.5, recall=0.98)
    with Session.open(path) as s:
        assert s.meta["mounting"] == {"align": "auto", "pinned": ["SS000104"]}
        again = replay(s)
    assert _times(again.events) == _times(res.analyzer.core.events_)


# ------------------------------------------------------------------------------------------- real bodies
@pytest.fixture(scope="module")
def hamner():
    from . import bodies

    return bodies.load_hamner("subject01", 4.0)


@pytest.fixture(scope="module")
def rbds():
    from . import bodies

    return bodies.load_rbds("RBDS001", 3.5)


@pytest.mark.parametrize("which", ["rbds", "hamner"])
def test_real_runners_rotated_at_random_give_the_same_events_after_estimation(which, request):
    trial = request.getfixturevalue(which)
    base = mc.with_standing(trial)
    aligned_ref = analyze(align_recording(base)[0]).events
    rng = np.random.default_rng(5)
    for R in mc.random_rotations(3, rng) + list(mc.special_rotations().values()):
        al, trk = align_recording(mc.rotated(base, {r: R for r in base}))
        assert all(t.current.ok and t.current.x_from == "standing" for t in trk.values())
        # what the rotation changes: nothing beyond rounding (the estimate follows the sensor)
        _assert_same_events(aligned_ref, analyze(al).events, p95_ms=0.01, median_ms=0.01, recall=1.0)
    # against the marker-defined body frame: the shins' events within the targets (the wrists: docs/measurement.md)
    shins = [e for e in analyze(base).events if e.role in (Role.LEFT_SHIN, Role.RIGHT_SHIN)]
    got = [e for e in aligned_ref if e.role in (Role.LEFT_SHIN, Role.RIGHT_SHIN)]
    _assert_same_events(shins, got, p95_ms=5.0, median_ms=1.0, recall=0.99)


def test_swapped_pods_and_a_wrist_pod_on_a_shin_are_named_without_false_alarms(hamner, rbds):
    def texts(rec):
        al, trk = align_recording(rec)
        return [v.text for v in check({r: t.current for r, t in trk.items()}, al) if not v.ok]

    for trial in (hamner, rbds):
        base = mc.with_standing(trial)
        assert texts(base) == []
        assert any("shins look swapped" in t for t in texts(mc.swapped(base, Role.LEFT_SHIN, Role.RIGHT_SHIN)))
    base = mc.with_standing(hamner)
    assert any("wrists look swapped" in t for t in texts(mc.swapped(base, Role.LEFT_WRIST, Role.RIGHT_WRIST)))
    assert any("left wrist sensor seems to be on a shin" in t
               for t in texts(mc.wrist_on_shin(base, Role.LEFT_WRIST, Role.LEFT_SHIN)))


def test_tripod_real_shank_sensors_are_aligned_from_their_raw_axes():
    from . import realdata as rd

    for role in (Role.LEFT_SHIN, Role.RIGHT_SHIN):
        t, acc, gyro = rd._tripod_imu("PWS", role)
        e = estimate(role, t, acc, gyro)
        assert e.ok and e.x_from == "standing" and e.standing_s > 5
        M, _ = rd.infer_shank_axes(acc, gyro, rd.TRIPOD_FS_HZ)
        # the same axes as the hand-checked signed permutation, within the sensor's tilt on the tibia (11-15°)
        assert rotation_angle_deg(e.rotation @ M.T) < 20
        body_acc, body_gyro = acc @ e.rotation.T, gyro @ e.rotation.T
        assert abs(np.percentile(body_gyro[:, 2], 1)) > abs(np.percentile(body_gyro[:, 2], 99))  # swing on −z
        quiet = np.linalg.norm(gyro, axis=1) < 5
        assert np.median(body_acc[quiet, 0]) > 0.98  # standing: +1 g on x


def test_the_sign_comes_from_the_running_posture_where_the_swing_asymmetry_misleads():
    """A simulated runner with a −60 ms swing lag rotates back faster than forward (ω_z 99.5th percentile 677
    against 628 deg/s): the swing-asymmetry rule alone turned its shins round. The posture decides first."""
    s = sim_cached(seed=2, duration_s=40.0, swing_lag_ms=-60.0, ipsi_arm_lag_ms=-65.0, contra_arm_lag_ms=10.0)
    for role in (Role.LEFT_SHIN, Role.RIGHT_SHIN):
        g = s.recording[role].gyro_dps[:, 2]
        assert abs(np.percentile(g, 0.5)) < np.percentile(g, 99.5)  # the asymmetry points the wrong way here
    _, trk = align_recording(s.recording)
    for role, t in trk.items():
        assert t.current.ok and rotation_angle_deg(t.current.rotation) < 3.0, (role, t.current.rotation)
