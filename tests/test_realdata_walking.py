"""No running where there is none: TRIPOD treadmill walking on real shank IMUs (skipped when ``../shared`` is absent).

One person (TRIPOD subject FZ) walks at three speeds (PWS−20 % / PWS / PWS+20 %: 3.0 / 3.7 / 4.4 km/h)
with GaitUp Physilog sensors (accelerometer + gyroscope, 128 Hz) on both shanks and OptoGait photo-cells
under the belt. ``tests/realdata.py:load_tripod`` infers each sensor's axes from its data and puts the
photo-cell contacts and toe-offs on the IMU clock.

What is pinned here:

* the loader: rate, units, the inferred axis maps (the same at every speed, proper rotations), the truth;
* the issue's requirement: walking gives **zero** counted strides with the gyroscope rules (the default),
  with the accelerometer rules, in the reference analyser and in the real-time core;
* that the zero is not vacuous: the gyroscope anchors (the shank's mid-swing peaks) are there, about one
  per photo-cell stride, and the gait really is walking (photo-cell stance > half the stride);
* which rule gives the zero. Every walking stride here lasts more than 1.0 s, so the contract's
  0.4–1.0 s stride gate rejects them all. The flight-phase rule (stance < half the stride) does **not**
  reject them by itself: with the stride gate opened, the gyroscope rules count most walking strides, because
  their ``push`` fires near heel-off, 0.27–0.39 s before toe-off (clock-free figure; in walking the shank's
  backward rotation, which the rule takes for early swing, starts in double support before toe-off). That is a
  strict xfail with the figures.

``test_informative_timing_against_photocells`` measures the raw ``contact`` and ``push`` of every record
against the photo-cells (run with ``-s`` to print the table of ``docs/tripod_check.md``). The photo-cells
are aligned to the IMUs by hand, once per trial, on another sensor, and the two shank sensors disagree
with each other by 0.05–0.18 s: biases carry that offset; spreads and intervals do not.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from stridesync.core import rules
from stridesync.core.config import DetectorConfig
from stridesync.core.reference import ReferenceAnalyzer, prepare, records
from stridesync.model import EventKind, Role, Side

from . import realdata as rd
from .conftest import feed

SPEEDS = rd.TRIPOD_SPEEDS
SHINS = (Role.LEFT_SHIN, Role.RIGHT_SHIN)
#: the stride gate opened wide enough for walking: the rules then compute every record's ``push`` (they need
#: the previous anchor of a valid cycle) and the flight-phase rule is the only walking filter left
OPEN_GATE_S = 2.0


@pytest.fixture(scope="module", params=SPEEDS)
def trial(request) -> rd.TripodTrial:
    return rd.load_tripod(request.param)


def _records(trial: rd.TripodTrial, role: Role, cfg: DetectorConfig):
    s = trial.recording[role]
    p = prepare(s, rules.spec(role, rules.choose(cfg, s.gyro_dps is not None), cfg), cfg)
    return [r for r, _ in records(p, cfg)]


def _nearest(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """For each x, the nearest value of the sorted array ``ref``."""
    k = np.clip(np.searchsorted(ref, x), 1, len(ref) - 1)
    a, b = ref[k - 1], ref[k]
    return np.where(np.abs(x - a) <= np.abs(x - b), a, b)


def _stride_table(trial: rd.TripodTrial, side: Side) -> tuple[np.ndarray, np.ndarray]:
    """Photo-cell stride times and stance fractions (contact time / stride) of one foot."""
    ic, to = trial.contacts[side], trial.toe_offs[side]
    stride = np.diff(ic)
    return stride, (to[:-1] - ic[:-1]) / stride


# ================================================================================================ loader


def test_tripod_rejects_unknown_speed():
    with pytest.raises(ValueError, match="speed must be one of"):
        rd.load_tripod("PWS+40")


def test_tripod_recording_units_rate_and_clock(trial):
    assert set(trial.recording) == set(SHINS)
    n = {len(s) for s in trial.recording.values()}
    assert len(n) == 1  # both files share one clock and length
    for role, s in trial.recording.items():
        assert s.role is role and s.gyro_dps is not None and s.gyro_dps.shape == (len(s), 3)
        assert s.sample_rate_hz == 128.0
        assert np.allclose(np.diff(s.time_s), 1 / 128)
        assert 150 < s.time_s[-1] - s.time_s[0] < 175  # PROVENANCE: 150-170 s per trial
        assert np.all(np.isfinite(s.acc_g)) and np.all(np.isfinite(s.gyro_dps))
        # walking shank: the mean specific force along the shank stays near 1 g, the sagittal rate dominates
        assert 1.0 < s.acc_g[:, 0].mean() < 1.3
        assert s.gyro_dps[:, 2].std() > 2 * max(s.gyro_dps[:, 0].std(), s.gyro_dps[:, 1].std())


def test_tripod_axis_maps_are_proper_signed_permutations(trial):
    for role, m in trial.axis_maps.items():
        assert np.allclose(m @ m.T, np.eye(3))
        assert np.linalg.det(m) == pytest.approx(1.0)
        assert set(np.abs(m).ravel()) == {0.0, 1.0} and np.all(np.abs(m).sum(axis=0) == 1)
        ev = trial.axis_evidence[role]
        assert ev["quiet"]
        assert ev["gravity_g"][0] == pytest.approx(1.0, abs=0.05)  # standing: +1 g along the shank
        assert np.linalg.norm(ev["gravity_g"]) == pytest.approx(1.0, abs=0.03)
        # the swing's peak is the large negative excursion of ω_z
        assert ev["swing_peak_dps"] < -250 and ev["swing_peak_dps"] < -1.3 * ev["counter_peak_dps"]
        # and y = z × x
        assert np.allclose(np.cross(m[2], m[0]), m[1])


def test_tripod_axis_maps_agree_at_every_speed():
    trials = [rd.load_tripod(sp) for sp in SPEEDS]
    for role in SHINS:
        maps = [t.axis_maps[role] for t in trials]
        for m in maps[1:]:
            assert np.array_equal(m, maps[0]), role
        ev = [(t.axis_evidence[role]["x_axis"], t.axis_evidence[role]["z_axis"]) for t in trials]
        assert len(set(ev)) == 1, (role, ev)
    # as documented on load_tripod: the two sensors are mirror-mounted on the lateral faces
    assert trials[0].axis_evidence[Role.LEFT_SHIN]["x_axis"] == "+Y"
    assert trials[0].axis_evidence[Role.LEFT_SHIN]["z_axis"] == "+Z"
    assert trials[0].axis_evidence[Role.RIGHT_SHIN]["x_axis"] == "+Y"
    assert trials[0].axis_evidence[Role.RIGHT_SHIN]["z_axis"] == "-Z"


def test_infer_shank_axes_recovers_every_mounting():
    """The inference undoes each of the 24 axis-aligned mountings (proper signed permutations) of a sensor
    already in the body frame (the left shin at PWS)."""
    s = rd.load_tripod("PWS").recording[Role.LEFT_SHIN]
    body_acc, body_gyro = s.acc_g, s.gyro_dps
    n = 0
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            p = np.zeros((3, 3))
            p[np.arange(3), perm] = signs  # device = p @ body
            if np.linalg.det(p) < 0:
                continue  # a mirror image, not a mounting
            m, _ = rd.infer_shank_axes(body_acc @ p.T, body_gyro @ p.T, 128.0)
            assert np.allclose(m @ p, np.eye(3)), (perm, signs)
            n += 1
    assert n == 24


def test_tripod_photocell_truth(trial):
    for side in Side:
        ic, to = trial.contacts[side], trial.toe_offs[side]
        assert len(ic) == len(to) >= 100
        assert np.all(np.diff(ic) > 0) and np.all(to > ic)
        stride, _ = _stride_table(trial, side)
        expected = {"PWS-20": 1.455, "PWS": 1.236, "PWS+20": 1.092}[trial.speed]
        assert np.median(stride) == pytest.approx(expected, abs=0.01)
        s = trial.recording[side.shin]
        assert s.time_s[0] < ic[0] and ic[-1] < s.time_s[-1]  # the truth lies on the IMU record
    # contacts alternate feet, the first one is the right foot at ic_time (SyncInfo.csv)
    both = sorted([(t, Side.LEFT) for t in trial.contacts[Side.LEFT]] + [(t, Side.RIGHT) for t in trial.contacts[Side.RIGHT]])
    assert both[0][1] is Side.RIGHT
    assert all(a[1] is not b[1] for a, b in zip(both[:-1], both[1:]))


def test_tripod_shank_swings_fall_in_the_same_foots_swing(trial):
    """L/R of the photo-cells and of the sensors agree: each shank's mid-swing peaks (the gyroscope anchors)
    lie between a toe-off and the next contact of the *same* foot, not of the other one."""
    cfg = DetectorConfig()
    for role in SHINS:
        anchors = np.array([r.anchor_s for r in _records(trial, role, cfg)])
        share = {}
        for side in Side:
            ic, to = trial.contacts[side], trial.toe_offs[side]
            k = np.searchsorted(ic, anchors)
            ok = (k > 0) & (k < len(ic))
            a, kk = anchors[ok], k[ok]
            share[side] = np.mean((a > to[kk - 1]) & (a < ic[kk]))
        assert share[role.side] >= 0.9, (role, share)
        assert share[role.side.other] <= 0.05, (role, share)


# ================================================================================================ zero strides


@pytest.mark.parametrize("rule_set", ["auto", "accel"])
def test_walking_counts_no_stride_in_the_reference(trial, rule_set):
    cfg = DetectorConfig(rules=rule_set)
    ra = ReferenceAnalyzer(config=cfg).analyze(trial.recording)
    assert ra.rule_sets_ == {r.value: ("gyro" if rule_set == "auto" else "accel") for r in SHINS}
    shin_events = [e for e in ra.events_ if e.kind in (EventKind.CONTACT, EventKind.PUSH, EventKind.SWING)]
    assert shin_events == []
    assert ra.events_ == [] and ra.steps_ == []


@pytest.mark.parametrize("rule_set", ["auto", "accel"])
def test_walking_counts_no_stride_in_real_time(trial, rule_set):
    core = feed(trial.recording, 0.02, DetectorConfig(rules=rule_set))
    assert core.events_ == [] and core.steps_ == []


# ================================================================================================ not vacuous


def test_the_zero_is_not_vacuous(trial):
    """The gyroscope anchors exist, about one per photo-cell stride, and the gait is walking (stance > half).

    The photo-cells go on recording a few short shuffling 'strides' (0.5-1.0 s) while the subject stops at
    the end of each trial; the shanks do not swing there (no anchor), so records are 88-102 % of the
    photo-cell strides and their spacing matches the photo-cell stride time.
    """
    cfg = DetectorConfig()
    for role in SHINS:
        side = role.side
        recs = _records(trial, role, cfg)
        stride, stance = _stride_table(trial, side)
        assert 0.88 * len(stride) <= len(recs) <= 1.02 * len(stride), (role, len(recs), len(stride))
        anchors = np.array([r.anchor_s for r in recs])
        spacing = np.diff(anchors)
        assert np.median(spacing) == pytest.approx(np.median(stride), rel=0.02)
        assert spacing.min() > 0.7 * np.median(stride)  # never two anchors in one stride
        # every record has the shank's swing (a clear one: walking peaks at 250-420 deg/s) and nearly all a contact
        sw = np.array([r.get(EventKind.SWING).amplitude for r in recs])
        assert np.all(sw >= cfg.gyro_swing_min_dps) and np.median(sw) > 250
        assert np.mean([r.get(EventKind.CONTACT) is not None for r in recs]) > 0.9
        # walking: double support, stance well over half of the stride
        steady = (stride > 0.75 * np.median(stride)) & (stride < 1.25 * np.median(stride))
        assert np.median(stance[steady]) > 0.5
        assert np.mean(stance[steady] > 0.5) >= 0.95
        # what rejects these strides: every one of them is longer than the contract's 1.0 s limit
        assert not any(r.cycle for r in recs)
        assert np.median(stride) > cfg.stride_max_s


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "The flight-phase rule alone does not reject walking with the gyroscope rules: with the stride gate "
    "opened to 2.0 s they count 78-89 % of each leg's photo-cell strides (PWS-20 / PWS / PWS+20: 513 / 601 / "
    "739 events, 169 / 197 / 245 steps) because their push fires near heel-off, not at toe-off: the detected "
    "stance (push - contact of one sensor, free of the clock offset) is 0.27-0.39 s shorter than the "
    "photo-cell contact time, about 0.44 of the stride instead of 0.70. Walking with strides under 1.0 s "
    "(about 120 steps/min and up) would then count as running. See docs/tripod_check.md."))
def test_flight_phase_rule_alone_rejects_walking(trial):
    ra = ReferenceAnalyzer(config=DetectorConfig(stride_max_s=OPEN_GATE_S)).analyze(trial.recording)
    counted = [e for e in ra.events_ if e.kind is EventKind.PUSH]
    assert len(counted) == 0, f"{trial.speed}: {len(counted)} walking strides counted, {len(ra.steps_)} steps"


# ================================================================================================ informative


def timing_figures(trial: rd.TripodTrial, rule_set: str = "gyro") -> dict[tuple[Role, str], np.ndarray]:
    """(detected − nearest photo-cell instant) in s, per shin and measure, for every record of one trial.

    Records come from the stride gate opened to :data:`OPEN_GATE_S` (the rules compute ``push`` only for a
    record whose previous anchor forms a valid cycle; ``contact`` and ``swing`` do not depend on it).
    Measures: ``contact`` vs initial contact, ``push`` vs toe-off, ``stance`` (push − the previous record's
    contact, against the photo-cell contact time of the contact nearest that one: free of the clock offset)
    and, from the raw signals, ``impact`` (the largest unfiltered ‖a‖ within ±100 ms of the record's
    contact) vs initial contact.
    """
    cfg = DetectorConfig(rules=rule_set, stride_max_s=OPEN_GATE_S)
    out = {}
    for role in SHINS:
        ic, to = trial.contacts[role.side], trial.toe_offs[role.side]
        recs = _records(trial, role, cfg)
        c = np.array([f.time_s for r in recs if (f := r.get(EventKind.CONTACT)) is not None])
        p = np.array([f.time_s for r in recs if (f := r.get(EventKind.PUSH)) is not None])
        out[role, "contact"] = c - _nearest(c, ic)
        out[role, "push"] = p - _nearest(p, to) if len(p) else np.array([])
        stance = []
        for a, b in zip(recs[:-1], recs[1:]):
            ca, pb = a.get(EventKind.CONTACT), b.get(EventKind.PUSH)
            if ca is None or pb is None or not b.cycle:
                continue
            k = int(np.argmin(np.abs(ic - ca.time_s)))
            if abs(ic[k] - ca.time_s) < 0.4:
                stance.append((pb.time_s - ca.time_s) - (to[k] - ic[k]))
        out[role, "stance"] = np.array(stance)
        s = trial.recording[role]
        norm = np.linalg.norm(s.acc_g, axis=1)
        imp = []
        for tc in c:
            sel = np.flatnonzero(np.abs(s.time_s - tc) <= 0.1)
            imp.append(s.time_s[sel[np.argmax(norm[sel])]])
        imp = np.array(imp)
        out[role, "impact"] = imp - _nearest(imp, ic) if len(imp) else np.array([])
    return out


def mutual_offset_s(trial: rd.TripodTrial) -> float:
    """How far the right shank's clock runs behind the left one's (s), from the sensors alone.

    The lag that best aligns the two sagittal rates, minus half the photo-cell stride (the legs alternate
    at 0.50 of a stride on the photo-cells), wrapped to ±half a stride.
    """
    a = trial.recording[Role.LEFT_SHIN].gyro_dps[:, 2]
    b = trial.recording[Role.RIGHT_SHIN].gyro_dps[:, 2]
    a, b = a - a.mean(), b - b.mean()
    T = float(np.median(np.diff(trial.contacts[Side.LEFT])))
    lags = np.arange(-int(1.5 * T * 128), int(1.5 * T * 128) + 1)
    m = int(lags.max())
    cc = [float(np.dot(a[m:-m], b[m + k:len(b) - m + k])) for k in lags]
    x = lags[int(np.argmax(cc))] / 128.0 - T / 2
    return float((x + T / 2) % T - T / 2)


def test_informative_timing_against_photocells(trial):
    """Not an accuracy target (walking, not running): the figures of docs/tripod_check.md. The assertions only
    guard the loader and the pairing (a spread of tens of ms, biases within the clock offsets seen)."""
    rows = []
    for rule_set in ("gyro", "accel"):
        fig = timing_figures(trial, rule_set)
        for (role, what), d in fig.items():
            if rule_set == "accel" and what == "impact":
                continue
            if len(d) >= 2:
                rows.append(f"{trial.speed:7s} {rule_set:5s} {role.value:10s} {what:8s} "
                            f"{1000 * d.mean():+5.0f} ± {1000 * d.std(ddof=1):3.0f} ms  n={len(d)}")
            else:
                rows.append(f"{trial.speed:7s} {rule_set:5s} {role.value:10s} {what:8s} n={len(d)}")
        if rule_set == "gyro":
            for role in SHINS:
                c = fig[role, "contact"]
                assert len(c) >= 80 and np.abs(c.mean()) < 0.2 and c.std() < 0.04
    off = mutual_offset_s(trial)
    print(f"\n{trial.speed}: right shank clock behind the left by {1000 * off:+.0f} ms (sensor cross-correlation)")
    print("\n".join(rows))
    assert -0.3 < off < 0.3
