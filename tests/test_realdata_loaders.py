"""Checks of the real-data loaders in ``tests/realdata.py`` (skipped when ../shared is absent).

They pin the axis mappings and the ground truth the accuracy tests rely on: every loader must deliver
the contract's body frame (MEASUREMENT.md §1) and physically sensible values.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, find_peaks, sosfiltfilt

from stridesync.model import Role, RoleSamples, Side

from . import realdata as rd

TRIALS = ("T25", "T35", "T45")


def _bandpass(x: np.ndarray, lo: float, hi: float, fs: float) -> np.ndarray:
    return sosfiltfilt(butter(2, [lo, hi], btype="band", fs=fs, output="sos"), x, axis=0)


def _dominant_hz(x: np.ndarray, fs: float, lo: float = 0.5, hi: float = 5.0) -> float:
    x = x - x.mean()
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    f = np.fft.rfftfreq(len(x), 1 / fs)
    band = (f >= lo) & (f <= hi)
    return float(f[band][np.argmax(spec[band])])


def _inside(t: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    m = np.zeros(len(t), bool)
    for a, b in spans:
        m |= (t >= a) & (t < b)
    return m


# ------------------------------------------------------------------------------------------------ helpers


def test_require_skips_cleanly_when_absent():
    with pytest.raises(pytest.skip.Exception, match="absent: .*shared datasets folder is not beside the repo"):
        rd.require("no_such_dataset_here")


def test_mapping_matrices_are_proper_rotations():
    for m in (rd.ADEPT_DEVICE_TO_BODY, rd.STRIKEWATCH_DEVICE_TO_BODY):
        assert np.allclose(m @ m.T, np.eye(3))
        assert np.linalg.det(m) == pytest.approx(1.0)


# ------------------------------------------------------------------------------------------------ adeptdata


def test_adept_ankle_shape_and_rate():
    s = rd.load_adept_ankle()
    assert isinstance(s, RoleSamples) and s.role is Role.LEFT_SHIN
    assert len(s) == 150_000 and s.gyro_dps is None
    assert s.sample_rate_hz == pytest.approx(100.0)
    assert np.all(np.diff(s.time_s) > 0)
    assert s.time_s[0] == 0.0 and s.time_s[-1] == pytest.approx(1499.99)


def test_adept_segments_match_the_provenance():
    seg = rd.adept_segments()
    standing, running = seg["standing"], seg["running"]
    assert len(standing) == 3
    # PROVENANCE: still at about 420-480, 810-840 and 1200-1230 s
    for (a, b), (ea, eb) in zip(standing, [(420, 480), (810, 840), (1200, 1230)]):
        assert a <= ea + 1 and b >= eb - 1 and b - a <= (eb - ea) + 50
    # the walking / slowing stretches are not running
    t = np.arange(0, 1500, 1.0)
    run = _inside(t, running)
    assert not run[_inside(t, [(760, 800), (1445, 1500)] + standing)].any()
    assert 900 <= run.sum() <= 1200
    assert all(b - a >= 30 for a, b in running)


def test_adept_standing_reads_plus_one_g_on_x():
    s = rd.load_adept_ankle()
    for a, b in rd.adept_segments()["standing"]:
        m = _inside(s.time_s, [(a + 2, b - 2)])
        mean = s.acc_g[m].mean(axis=0)
        assert mean[0] == pytest.approx(1.0, abs=0.03)
        assert np.all(np.abs(mean[1:]) < 0.2)
        assert np.linalg.norm(mean) == pytest.approx(1.0, abs=0.03)


def test_adept_running_has_toward_knee_centripetal_mean_and_stride_rate():
    s = rd.load_adept_ankle()
    m = _inside(s.time_s, rd.adept_segments()["running"])
    acc = s.acc_g[m]
    # swing centripetal acceleration points toward the knee: x mean well above the 1 g of gravity
    assert acc[:, 0].mean() > 1.5
    assert abs(acc[:, 2].mean()) < 0.3
    # one stride (left foot) ≈ 0.75 s, from the ‖a‖ impact peaks
    a, b = rd.adept_segments()["running"][2]
    sel = (s.time_s >= a) & (s.time_s < b)
    norm = np.linalg.norm(s.acc_g[sel], axis=1)
    pk, _ = find_peaks(norm, height=3.0, distance=50)
    stride = np.median(np.diff(pk)) / 100.0
    assert 0.65 <= stride <= 0.9


def test_adept_impact_is_up_and_backward():
    """Documents the y sign: at foot strike the impact specific force points up (+x) and back (−y)."""
    s = rd.load_adept_ankle()
    a, b = rd.adept_segments()["running"][2]
    sel = np.flatnonzero((s.time_s >= a) & (s.time_s < b))
    norm = np.linalg.norm(s.acc_g[sel], axis=1)
    pk, _ = find_peaks(norm, height=4.0, distance=50)
    at = s.acc_g[sel][pk]
    assert len(pk) > 100
    assert np.median(at[:, 0]) > 2.0
    assert np.median(at[:, 1]) < -2.0
    assert np.mean(at[:, 1] < 0) > 0.9


# ------------------------------------------------------------------------------------------------ StrikeWatch


def test_strikewatch_file_list():
    names = rd.strikewatch_files()
    assert len(names) == 24
    assert names[0] == "person1_forefootstrike" and names[-1] == "person12_heelstrike"
    for p in range(1, 13):
        assert f"person{p}_forefootstrike" in names and f"person{p}_heelstrike" in names


def test_strikewatch_units_range_and_clock():
    for name in rd.strikewatch_files():
        s = rd.load_strikewatch(name)
        assert s.role is Role.LEFT_WRIST and s.gyro_dps is None
        assert 3800 <= len(s) <= 9050 and len(s) % 10 == 0  # PROVENANCE says ×50; person1_heelstrike is 4530
        assert np.array_equal(s.time_s, np.arange(len(s)) / 100.0)
        assert np.abs(s.acc_g).max() <= 2.0
        # the device saturates at ±19.61 m/s² = ±2 g: clipped samples reach the limit
        assert np.isclose(np.abs(s.acc_g), 2.0, atol=1e-3).any()
        norm = np.linalg.norm(s.acc_g, axis=1)
        assert 0.7 < np.median(norm) < 3.0  # up to 2√3 g when every axis saturates


def test_strikewatch_gravity_on_x_swing_on_y():
    means, swing_ok, stride_hz = [], 0, []
    for name in rd.strikewatch_files():
        s = rd.load_strikewatch(name)
        mean = s.acc_g.mean(axis=0)
        means.append(mean)
        # x carries the mean gravity (positive: toward the elbow, up)
        assert mean[0] > 0.4, name
        assert abs(mean[0]) > abs(mean[1]) and abs(mean[0]) > abs(mean[2]), name
        # y carries the arm swing: largest stride-band (0.8-2 Hz) amplitude, at the stride rate
        bp = _bandpass(s.acc_g, 0.8, 2.0, 100.0).std(axis=0)
        swing_ok += bp[1] == bp.max()
        stride_hz.append(_dominant_hz(sosfiltfilt(butter(4, 4.0, fs=100.0, output="sos"), s.acc_g[:, 1]), 100.0))
    assert swing_ok == 24
    stride_hz = np.array(stride_hz)
    assert np.mean((stride_hz > 1.1) & (stride_hz < 1.9)) >= 0.9
    # y sign: the hand is ahead of the elbow, so y reads a positive share of gravity on average
    assert np.mean(np.array(means)[:, 1] > 0) >= 20 / 24


# ------------------------------------------------------------------------------------------------ Fukuchi


def test_fukuchi_static_trial_reads_plus_one_g_on_x():
    rec = rd.load_fukuchi_static()
    assert set(rec) == {Role.LEFT_SHIN, Role.RIGHT_SHIN}
    for s in rec.values():
        mean = s.acc_g.mean(axis=0)
        assert mean[0] == pytest.approx(1.0, abs=0.01)
        assert np.all(np.abs(mean[1:]) < 0.1)
        assert s.acc_g.std(axis=0).max() < 0.02
        assert np.abs(s.gyro_dps).max() < 5.0


def test_fukuchi_anatomical_frame_points_forward_and_left():
    for side, ref in rd._static_reference().items():
        x, y, z = ref["axes"].T
        assert x[1] > 0.99  # toward the knee: up (lab +Y)
        assert y[0] > 0.99  # anterior: lab +X
        assert z[2] < -0.99  # left: lab −Z (right-side markers have the larger Z)
    pts, _ = rd._fukuchi_markers("T35")
    for p in ("L", "R"):
        heel_toe = pts[f"{p}.MT1"] - pts[f"{p}.Heel.Bottom"]
        assert np.median(heel_toe[:, 0]) > 0.1  # m: the runner faces lab +X
        assert np.median(np.abs(heel_toe[:, 2])) < 0.5 * np.median(heel_toe[:, 0])  # some toe-out only
    assert np.median(pts["R.ASIS"][:, 2] - pts["L.ASIS"][:, 2]) > 0.1


@pytest.mark.parametrize("trial", TRIALS)
def test_fukuchi_force_plate_events(trial):
    rows = rd.fukuchi_fp_events(trial)
    sides = [r["side"] for r in rows]
    assert all(a is not b for a, b in zip(sides[:-1], sides[1:]))  # perfect L/R alternation
    truncated = [i for i, r in enumerate(rows) if r["starts_at_trial_start"]]
    assert truncated in ([], [0])  # T25 and T35 start mid-contact, T45 does not
    assert all(rows[i]["IC_s"] == 0.0 for i in truncated)
    expected = {"T25": (79, 0.278), "T35": (86, 0.224), "T45": (91, 0.196)}[trial]
    assert len(rows) == expected[0]
    tr = rd.load_fukuchi(trial)
    assert len(tr.contacts[Side.LEFT]) + len(tr.contacts[Side.RIGHT]) == len(rows) - len(truncated)
    for side in Side:
        ic, to = tr.contacts[side], tr.toe_offs[side]
        assert np.all(ic > 0) and np.all(np.diff(ic) > 0) and np.all(to > ic)
        assert np.median(to - ic) == pytest.approx(expected[1], abs=0.02)
        assert 0.6 < np.median(np.diff(ic)) < 0.8  # stride time
    assert tr.contacts["L"] is tr.contacts[Side.LEFT] and tr.contacts["right"] is tr.contacts[Side.RIGHT]


@pytest.mark.parametrize("trial", TRIALS)
def test_fukuchi_virtual_shank_recording(trial):
    tr = rd.load_fukuchi(trial)
    assert set(tr.recording) == {Role.LEFT_SHIN, Role.RIGHT_SHIN}
    pts, rate = rd._fukuchi_markers(trial)
    for side in Side:
        s = tr.recording[side.shin]
        assert s.role is side.shin and len(s) == 4500
        assert s.sample_rate_hz == pytest.approx(150.0)
        assert s.gyro_dps is not None and s.gyro_dps.shape == (4500, 3)
        assert np.all(np.isfinite(s.acc_g)) and np.all(np.isfinite(s.gyro_dps))
        # the shank cluster stays rigid: fit residual well below marker-cluster spacing (≈ 50-80 mm)
        _, resid = rd._virtual_shank(pts, rate, side)
        assert np.median(resid) < 0.001 and resid.max() < 0.004
        # running shank: swing centripetal makes the mean of x exceed gravity; sagittal rate dominates
        assert 1.1 < s.acc_g[:, 0].mean() < 2.5
        assert s.gyro_dps[:, 2].std() > 2 * max(s.gyro_dps[:, 0].std(), s.gyro_dps[:, 1].std())
        t, w = tr.omega_dps[side]
        assert np.array_equal(t, s.time_s) and np.array_equal(w, s.gyro_dps[:, 2])


@pytest.mark.parametrize("trial", TRIALS)
def test_fukuchi_impact_peak_follows_force_plate_contact(trial):
    """‖a‖ has a local impact peak 5-35 ms after each force-plate IC (PROVENANCE: ≈ 23 ms vertical).

    Only *local* peaks in IC−5 ms … IC+60 ms count: a larger terminal-swing peak ≈ 50 ms before IC
    (the shank's forward swing being braked) can spill into the window.
    """
    tr = rd.load_fukuchi(trial)
    for side in Side:
        s = tr.recording[side.shin]
        norm = np.linalg.norm(s.acc_g, axis=1)
        local, _ = find_peaks(norm)
        delays, peaks = [], []
        for ic in tr.contacts[side]:
            cand = local[(s.time_s[local] >= ic - 0.005) & (s.time_s[local] <= ic + 0.060)]
            if len(cand):
                i = cand[np.argmax(norm[cand])]
                delays.append(s.time_s[i] - ic)
                peaks.append(norm[i])
        delays = np.array(delays)
        assert len(delays) >= len(tr.contacts[side]) - 1
        assert 0.005 <= np.median(delays) <= 0.030
        assert np.mean((delays >= 0.005) & (delays <= 0.035)) >= 0.75
        assert np.median(peaks) >= 3.0  # the contract's contact threshold


@pytest.mark.parametrize("trial", TRIALS)
def test_fukuchi_peak_omega_falls_in_swing(trial):
    tr = rd.load_fukuchi(trial)
    for side in Side:
        rows = [r for r in rd.fukuchi_fp_events(trial) if r["side"] is side]
        to = np.array([r["TO_s"] for r in rows])
        ic = np.array([r["IC_s"] for r in rows])
        pk, val = tr.peak_omega_t[side], tr.peak_omega_dps[side]
        assert len(pk) >= len(rows) - 2 and np.all(np.diff(pk) > 0.5)
        for p in pk:
            k = np.searchsorted(to, p) - 1  # the swing opened by toe-off k, closed by contact k+1
            assert 0 <= k < len(rows) - 1 and to[k] < p < ic[k + 1]
            frac = (p - to[k]) / (ic[k + 1] - to[k])
            assert 0.4 < frac < 0.95
        # the forward swing of the shank: negative about z (left), several hundred deg/s
        assert np.all(val < -300) and np.all(val > -900)
        t, w = tr.omega_dps[side]
        assert np.min(val) >= w.min() - 1.0


def test_fukuchi_peak_omega_grows_with_speed():
    peaks = [np.median(np.concatenate([rd.load_fukuchi(t).peak_omega_dps[s] for s in Side])) for t in TRIALS]
    assert peaks[0] > peaks[1] > peaks[2]  # more negative = faster forward swing
