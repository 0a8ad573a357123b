"""The real-time core against the offline reference, on simulated runs through the real code."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from stridesync.core import dsp
from stridesync.core.config import DetectorConfig
from stridesync.core.reference import analyze
from stridesync.model import EventKind, Role
from stridesync.sim._gait import RAMP_S

from .conftest import event_key, feed, sim_cached, sorted_events


def match(ref_events, rt_events, tol_s=0.05):
    """Pair events of equal role and kind by nearest time; return (pairs, unmatched_ref, unmatched_rt)."""
    rt_events = list(rt_events)  # one object per event: a packed log (core.events_) gives new ones on each pass
    by = defaultdict(list)
    for e in rt_events:
        by[(e.role, e.kind)].append(e)
    pairs, miss = [], []
    used = set()
    for e in ref_events:
        cands = [x for x in by[(e.role, e.kind)] if id(x) not in used and abs(x.time_s - e.time_s) <= tol_s]
        if not cands:
            miss.append(e)
            continue
        best = min(cands, key=lambda x: abs(x.time_s - e.time_s))
        used.add(id(best))
        pairs.append((e, best))
    extra = [x for x in rt_events if id(x) not in used]
    return pairs, miss, extra


# ------------------------------------------------------------------ primitives

def test_import_leaves_qt_unloaded():
    code = ("import sys, stridesync, stridesync.cli, stridesync.pipeline, stridesync.core.realtime, "
            "stridesync.core.reference, stridesync.io, stridesync.sim; "
            "bad=[m for m in sys.modules if m.split('.')[0] in ('PySide6','pyqtgraph','shiboken6')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_chunked_forward_filter_is_bit_identical():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(2000)
    sos, zi = dsp.lowpass_sos(15.0, 200.0)
    whole, _ = signal.sosfilt(sos, x, zi=zi * x[0])
    state = zi * x[0]
    parts = []
    for a, b in [(0, 1), (1, 17), (17, 900), (900, 2000)]:
        y, zf = dsp.sosfilt_rows(sos, x[None, a:b], state[None])
        state = zf[0]
        parts.append(y[0])
    assert np.array_equal(np.concatenate(parts), whole)


def test_cutoff_is_capped_at_040_fs():
    sos_capped, _ = dsp.lowpass_sos(50.0, 100.0)
    sos_40, _ = dsp.lowpass_sos(40.0, 100.0)
    assert np.allclose(sos_capped, sos_40)
    assert dsp.effective_cutoff_hz(50.0, 200.0) == 50.0


def test_refine_extremum_on_a_parabola():
    t = np.arange(5) * 0.01
    y = -(t - 0.0213) ** 2 + 3.0
    i = int(np.argmax(y))
    shift, val = dsp.refine_extremum(y, i)
    assert dsp.sample_time(t, i, shift) == pytest.approx(0.0213, abs=1e-12)
    assert val == pytest.approx(3.0, abs=1e-12)
    # the shift is limited to half a sample even for a lopsided triple
    shift, _ = dsp.refine_extremum(np.array([0.0, 1.0, 1.0 - 1e-9]), 1)
    assert -0.5 <= shift <= 0.5


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=12))
def test_fill_holes_streaming_equals_batch(splits):
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.choice([0.005, 0.005, 0.005, 0.015, 0.03, 0.2], size=300))
    x = rng.standard_normal((300, 3))
    bt, bx, bn = dsp.fill_holes(t, x, 0.005, 0.1)
    cuts = np.cumsum(splits)
    cuts = [0] + [c for c in cuts if c < 300] + [300]
    parts_t, parts_x, parts_n = [], [], []
    prev_t = prev_x = None
    for a, b in zip(cuts[:-1], cuts[1:]):
        tt, xx, nn = dsp.fill_holes(t[a:b], x[a:b], 0.005, 0.1, prev_t, prev_x)
        prev_t, prev_x = t[b - 1], x[b - 1]
        parts_t.append(tt), parts_x.append(xx), parts_n.append(nn)
    assert np.array_equal(np.concatenate(parts_t), bt)
    assert np.array_equal(np.concatenate(parts_x), bx)
    assert np.array_equal(np.concatenate(parts_n)[1:], bn[1:])
    assert bn.sum() == 1 + np.sum(np.diff(t) > 0.1)


def test_detector_settings_round_trip():
    cfg = DetectorConfig(target_model="baseline", baseline_n=12)
    assert DetectorConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError):
        DetectorConfig(target_model="sometimes")


# ------------------------------------------------------------------ real-time vs reference

@pytest.mark.parametrize("rate", [100.0, 200.0, 400.0])
def test_realtime_reports_the_reference_instants(rate):
    sim = sim_cached(seed=int(rate), duration_s=45.0, cadence_spm=165.0 + rate / 20,
                     rate_hz=rate, noise_g=0.05)
    ref = analyze(sim.recording)
    core = feed(sim.recording)
    pairs, miss, extra = match(ref.events, core.events_)
    n = len(ref.events)
    assert n > 250  # ~37 s of running x 4 sensors: the first stride of each limb has no anchor before it
    assert len(miss) <= 0.005 * n and len(extra) <= 0.005 * n, (len(miss), len(extra))
    err_ms = np.array([abs(a.time_s - b.time_s) * 1000 for a, b in pairs])
    assert np.median(err_ms) <= 1.0 and np.percentile(err_ms, 95) <= 5.0
    # contacts are sharp impacts: the streamed instant is the reference's to a small fraction of a ms
    contact = np.array([abs(a.time_s - b.time_s) * 1000 for a, b in pairs if a.kind is EventKind.CONTACT])
    assert np.percentile(contact, 95) < 0.25
    shin = np.array([abs(a.time_s - b.time_s) * 1000 for a, b in pairs if a.role.is_shin])
    assert np.percentile(shin, 95) < 1.0
    assert len(core.steps_) == len(ref.steps)
    lag_err = []
    for a, b in zip(ref.steps, core.steps_):
        assert a.time_s == pytest.approx(b.time_s, abs=1e-3)
        for name in ("swing_lag_ms", "ipsi_arm_lag_ms", "contra_arm_lag_ms"):
            va, vb = getattr(a, name), getattr(b, name)
            assert (va is None) == (vb is None)
            if va is not None:
                lag_err.append(abs(va - vb))
    assert np.median(lag_err) <= 2.0 and max(lag_err) < 10.0


def test_chunk_invariance_random_chunking(default_sim):
    one = feed(default_sim.recording, chunks=1e9)
    for seed in range(3):
        other = feed(default_sim.recording, rng=np.random.default_rng(seed))
        assert [event_key(e) for e in sorted_events(other.events_)] == [event_key(e) for e in sorted_events(one.events_)]
        assert other.steps_ == one.steps_
    assert len(one.steps_) > 50


def test_standing_and_walking_produce_no_events():
    sim = sim_cached(seed=5, duration_s=60.0, standing_start_s=8.0, standing_end_s=8.0, walking=((25.0, 35.0),))
    for res in (analyze(sim.recording), feed(sim.recording)):
        events = res.events if hasattr(res, "events") else res.events_
        assert events
        times = np.array([e.time_s for e in events])
        # the simulator ramps into and out of each part over RAMP_S, inside the standing/walking parts
        assert not np.any(times < 8.0 - RAMP_S) and not np.any(times > 52.0 + RAMP_S)
        assert not np.any((times > 25.0 + RAMP_S) & (times < 35.0 - RAMP_S)), times[(times > 25) & (times < 35)]


def test_gap_no_stride_spans_it_and_realtime_agrees():
    sim = sim_cached(seed=6, duration_s=50.0, dropouts=((Role.RIGHT_SHIN, 20.0, 25.0), (Role.LEFT_WRIST, 30.0, 30.05)))
    ref = analyze(sim.recording)
    core = feed(sim.recording)
    contacts = sorted(e.time_s for e in ref.events if e.role is Role.RIGHT_SHIN and e.kind is EventKind.CONTACT)
    assert contacts
    assert not any(20.0 - 1e-9 <= t <= 25.0 for t in contacts)
    by_index = {e.stride_index: e.time_s for e in ref.events if e.role is Role.RIGHT_SHIN and e.kind is EventKind.CONTACT}
    for e in ref.events:
        if e.role is Role.RIGHT_SHIN and e.kind is EventKind.PUSH:
            assert not (by_index[e.stride_index] < 20.0 < by_index[e.stride_index + 1])
    pairs, miss, extra = match(ref.events, core.events_)
    assert not miss and not extra
    # a 50 ms wrist hole is bridged, not a gap: the wrist keeps its events around it
    lw = [e.time_s for e in ref.events if e.role is Role.LEFT_WRIST and 29.0 < e.time_s < 31.0]
    assert len(lw) >= 4


def test_any_subset_of_sensors_works():
    sim = sim_cached(seed=7, duration_s=40.0)
    sub = {r: sim.recording[r] for r in (Role.LEFT_SHIN, Role.RIGHT_WRIST)}
    ref = analyze(sub)
    core = feed(sub)
    assert {e.role for e in ref.events} == {Role.LEFT_SHIN, Role.RIGHT_WRIST}
    assert ref.steps and all(s.stance_side.value == "left" for s in ref.steps)
    assert all(s.swing_lag_ms is None and s.ipsi_arm_lag_ms is None for s in ref.steps)
    assert sum(s.contra_arm_lag_ms is not None for s in ref.steps) > 0.8 * len(ref.steps)
    assert core.steps_ == ref.steps or len(core.steps_) == len(ref.steps)


def test_wrists_only_use_their_own_period():
    sim = sim_cached(seed=8, duration_s=40.0)
    sub = {r: sim.recording[r] for r in (Role.LEFT_WRIST, Role.RIGHT_WRIST)}
    ref = analyze(sub)
    core = feed(sub)
    fwd = [e for e in ref.events if e.kind is EventKind.ARM_FWD and e.role is Role.LEFT_WRIST]
    assert len(fwd) > 30
    assert min(e.time_s for e in fwd) > 4.0  # not while standing
    assert not ref.steps
    pairs, miss, extra = match(ref.events, core.events_)
    assert not miss and not extra


def test_baseline_target_model():
    sim = sim_cached(seed=9, duration_s=40.0, swing_lag_ms=40.0)
    cfg = DetectorConfig(target_model="baseline", baseline_n=10)
    ref = analyze(sim.recording, cfg)
    core = feed(sim.recording, config=cfg)
    swing = [s.swing_lag_ms for s in ref.steps if s.swing_lag_ms is not None][:10]
    assert ref.summary["targets_ms"]["swing_lag"] == pytest.approx(float(np.median(swing)))
    # the same ten steps: the streamed instants differ from the reference's by fractions of a ms (docs §8)
    assert core.targets_ms["swing_lag"] == pytest.approx(ref.summary["targets_ms"]["swing_lag"], abs=0.5)
    assert ref.summary["target_model"] == "baseline"
    # against its own baseline a steady runner scores well; against "together" the 40 ms lag costs points
    together = analyze(sim.recording)
    assert ref.summary["sync_score"] > together.summary["sync_score"] + 5


def test_declared_gap_lets_the_other_leg_go_on():
    """A shin that drops out must not hold back the other limbs' events until it returns."""
    sim = sim_cached(seed=12, duration_s=40.0)
    rec = sim.recording
    from stridesync.core.realtime import RealtimeCore
    core = RealtimeCore({r: s.sample_rate_hz for r, s in rec.items()})
    t_drop, t_back = 15.0, 25.0
    emitted_at = {}
    edge = 0.0
    pos = {r: 0 for r in rec}
    while edge < 40.0:
        edge += 0.05
        for r, s in rec.items():
            j = int(np.searchsorted(s.time_s, edge))
            if r is Role.RIGHT_SHIN and t_drop <= edge < t_back:
                pos[r] = j  # these samples never arrive
                continue
            if r is Role.RIGHT_SHIN and edge >= t_back and pos[r] < j and s.time_s[pos[r]] < t_back:
                pos[r] = int(np.searchsorted(s.time_s, t_back))
            if j > pos[r]:
                for e in core.push(r, s.time_s[pos[r]:j], s.acc_g[pos[r]:j])[0]:
                    emitted_at[(e.role, e.kind, e.time_s)] = edge
                pos[r] = j
        if t_drop + 1.0 <= edge < t_back:  # the acquisition layer knows the link is down
            for e in core.declare_gap(Role.RIGHT_SHIN, edge - 0.5)[0]:
                emitted_at[(e.role, e.kind, e.time_s)] = edge
    core.finish()
    left = [(k, v) for k, v in emitted_at.items() if k[0] is Role.LEFT_SHIN and k[1] is EventKind.CONTACT and 17.0 < k[2] < 23.0]
    assert len(left) >= 6
    assert max(v - k[2] for k, v in left) < 2.5  # emitted during the dropout, not at the sensor's return
    right = [e.time_s for e in core.events_ if e.role is Role.RIGHT_SHIN]
    assert not [t for t in right if t_drop - 0.001 < t < t_back]
    assert [t for t in right if t > t_back + 2.0]  # and the leg is back after the gap


def test_a_clipped_swing_peak_is_flagged_and_left_out():
    """A shank gyroscope set to 500 deg/s clips every mid-swing peak (they reach ~600-900 deg/s): the swing
    instant is unknown, so no swing is reported and its lags are empty, while the strides still count; a
    16-bit rate at 2000 deg/s (the host's setting) with peaks that repeat a value on two samples is not
    taken for clipping."""
    sim = sim_cached(seed=21, duration_s=30.0, gyro_range_dps=500.0)
    for res in (analyze(sim.recording), feed(sim.recording)):
        summary = res.summary if hasattr(res, "summary") and isinstance(res.summary, dict) else res.summary()
        events = res.events if hasattr(res, "events") else res.events_
        steps = res.steps if hasattr(res, "steps") else res.steps_
        assert summary["clipped_swing_peaks"]["left_shin"] > 10 and summary["clipped_swing_peaks"]["right_shin"] > 10
        swings = [e for e in events if e.kind is EventKind.SWING]
        assert all(e.amplitude < 500.0 for e in swings)  # only the peaks that stayed within the range
        assert sum(1 for e in events if e.kind is EventKind.PUSH) > 20
        assert sum(s.swing_lag_ms is None for s in steps) > 10
    clean = sim_cached(seed=21, duration_s=30.0)
    quantised = {}
    for r, s in clean.recording.items():
        g = np.round(s.gyro_dps * 32768.0 / 2000.0) * (2000.0 / 32768.0)
        quantised[r] = type(s)(r, s.time_s, s.acc_g, g)
    ref = analyze(quantised)
    assert ref.summary["clipped_swing_peaks"] == {"left_shin": 0, "right_shin": 0}
    assert sum(1 for e in ref.events if e.kind is EventKind.SWING) > 20


def test_flight_time_is_toe_off_to_the_other_legs_contact():
    sim = sim_cached(seed=22, duration_s=30.0, cadence_spm=175.0)
    ref = analyze(sim.recording)
    from stridesync.core.measures import flight_times_s
    flights = flight_times_s(ref.steps, ref.events)
    assert len(flights) > 0.9 * len(ref.steps)
    # each flight: the other leg's first contact after the push, minus the push
    contacts = {side: sorted(e.time_s for e in ref.events if e.role is side.shin and e.kind is EventKind.CONTACT)
                for side in (Role.LEFT_SHIN.side, Role.RIGHT_SHIN.side)}
    s = ref.steps[len(ref.steps) // 2]
    nxt = min(t for t in contacts[s.stance_side.other] if t > s.time_s)
    assert nxt - s.time_s in flights
    # a running stride: half a stride between the legs' contacts, minus the ground contact
    assert ref.summary["flight_time_s"] == pytest.approx(
        ref.summary["stride_time_s"] / 2 - ref.summary["contact_time_s"], abs=0.01)
    assert 0.03 < ref.summary["flight_time_s"] < 0.25
