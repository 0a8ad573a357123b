"""Tests of the simulator: sensor model, design truth, and realism against real recordings.

The real-data comparison reads /work/shared/datasets (adeptdata ankle, StrikeWatch wrist). The
StrikeWatch data is CC BY-NC: it is only read here, never copied into the repository.
"""

from __future__ import annotations

import gzip
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from stridesync.errors import ConfigError
from stridesync.model import EventKind, Role
from stridesync.sim import SimParams, SimResult, simulate
from stridesync.sim._features import lowpass, window_extremum

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATASETS = SHARED / "datasets"

SHORT = SimParams(duration_s=40.0, standing_start_s=4.0, standing_end_s=4.0)


@pytest.fixture(scope="module")
def base() -> SimResult:
    return simulate(SHORT, seed=3)


def events_of(res: SimResult, role: Role, kind: EventKind) -> np.ndarray:
    return np.array([e.time_s for e in res.design_events if e.role is role and e.kind is kind])


# --------------------------------------------------------------------------------------------------
# a small contract feature finder (MEASUREMENT.md §2), independent of the simulator's timeline


def find_events(res: SimResult, rec_key: str = "clean") -> dict[tuple[Role, EventKind], np.ndarray]:
    """Contract features found from the signal alone: contacts by peak picking on ‖a‖ (≥ 3 g,
    strides 0.4-1.0 s), push/swing in their stride windows, arm_fwd as one a_y minimum per stride
    period, arm_back as the maximum between two arm_fwd."""
    rec = getattr(res, rec_key)
    out: dict[tuple[Role, EventKind], np.ndarray] = {}
    periods = []
    for role in (Role.LEFT_SHIN, Role.RIGHT_SHIN):
        if role not in rec:
            continue
        rs = rec[role]
        fs = rs.sample_rate_hz
        t = rs.time_s
        norm = lowpass(np.linalg.norm(rs.acc_g, axis=1), 50, fs)
        ay = lowpass(rs.acc_g[:, 1], 15, fs)
        ax = lowpass(rs.acc_g[:, 0], 10, fs)
        pk, _ = signal.find_peaks(norm, height=3.0, distance=int(0.4 * fs))
        c = t[pk]
        contacts, pushes, swings = [], [], []
        for c0, c1 in zip(c[:-1], c[1:]):
            T = c1 - c0
            if not 0.4 <= T <= 1.0:
                continue
            periods.append(T)
            contacts += [window_extremum(t, norm, c0 - 0.02, c0 + 0.02, maximum=True)[0]]
            pushes.append(window_extremum(t, ay, c0 + 0.10 * T, c0 + 0.60 * T, maximum=False)[0])
            swings.append(window_extremum(t, ax, c0 + 0.35 * T, c0 + 0.95 * T, maximum=True)[0])
        out[(role, EventKind.CONTACT)] = np.array(contacts)
        out[(role, EventKind.PUSH)] = np.array(pushes)
        out[(role, EventKind.SWING)] = np.array(swings)
    T = float(np.median(periods)) if periods else 0.7
    for role in (Role.LEFT_WRIST, Role.RIGHT_WRIST):
        if role not in rec:
            continue
        rs = rec[role]
        fs = rs.sample_rate_hz
        ay = lowpass(rs.acc_g[:, 1], 4, fs)
        pk, _ = signal.find_peaks(-ay, distance=int(0.6 * T * fs), prominence=0.3)
        fwd = np.array([window_extremum(rs.time_s, ay, rs.time_s[i] - 0.01, rs.time_s[i] + 0.01, maximum=False)[0] for i in pk])
        back = [window_extremum(rs.time_s, ay, a, b, maximum=True)[0] for a, b in zip(fwd[:-1], fwd[1:])]
        out[(role, EventKind.ARM_FWD)] = fwd
        out[(role, EventKind.ARM_BACK)] = np.array(back)
    return out


def nearest_errors_ms(design: np.ndarray, found: np.ndarray) -> np.ndarray:
    j = np.abs(found[None, :] - design[:, None]).argmin(axis=1)
    return 1e3 * (found[j] - design)


# --------------------------------------------------------------------------------------------------
# sensor model


def test_deterministic_per_seed():
    a = simulate(SHORT, seed=7)
    b = simulate(SHORT, seed=7)
    c = simulate(SHORT, seed=8)
    for role in SHORT.roles:
        np.testing.assert_array_equal(a.recording[role].acc_g, b.recording[role].acc_g)
        np.testing.assert_array_equal(a.recording[role].time_s, b.recording[role].time_s)
        assert not np.array_equal(a.recording[role].acc_g, c.recording[role].acc_g)
    assert [e.time_s for e in a.design_events] == [e.time_s for e in b.design_events]


def test_shapes_and_rates_per_role():
    rates = {Role.LEFT_SHIN: 400.0, Role.RIGHT_SHIN: 200.0, Role.LEFT_WRIST: 100.0}
    p = replace(SHORT, sample_rate_hz=rates, roles=tuple(rates))
    res = simulate(p, seed=1)
    assert set(res.recording) == set(rates) == set(res.clean)
    for role, hz in rates.items():
        rs = res.recording[role]
        assert rs.acc_g.shape == (len(rs.time_s), 3)
        assert rs.gyro_dps is not None and rs.gyro_dps.shape == rs.acc_g.shape
        assert rs.sample_rate_hz == pytest.approx(hz, rel=1e-6)
        assert len(rs) == pytest.approx(p.duration_s * hz, abs=2)
        assert len(res.sensor_time_s[role]) == len(rs)
        assert np.all(np.diff(rs.time_s) > 0)
    assert not any(e.role is Role.RIGHT_WRIST for e in res.design_events)


def test_standing_reads_gravity_with_arms_hanging(base):
    for role in SHORT.roles:
        rs = base.recording[role]
        m = (rs.time_s > 0.5) & (rs.time_s < SHORT.standing_start_s - 1.2)  # before the ramp to running
        norm = np.linalg.norm(rs.acc_g[m], axis=1)
        assert abs(np.mean(norm) - 1.0) < 0.05, role
        assert np.std(norm) < 0.05, role
        # segments hang vertically: x (toward the proximal joint) reads +1 g
        assert np.mean(rs.acc_g[m, 0]) == pytest.approx(1.0, abs=0.05), role
    assert all(e.time_s > SHORT.standing_start_s for e in base.design_events)
    assert all(e.time_s < SHORT.duration_s - SHORT.standing_end_s for e in base.design_events)


def test_clipping_respected():
    p = replace(SHORT, shin_range_g=6.0, wrist_range_g=2.0)
    res = simulate(p, seed=2)
    for role in p.roles:
        lim = 6.0 if role.is_shin else 2.0
        assert np.max(np.abs(res.recording[role].acc_g)) <= lim
        assert np.max(np.abs(res.clean[role].acc_g)) > lim  # the motion really exceeds the range
        assert np.mean(np.abs(res.recording[role].acc_g) >= lim - 1e-9) > 0.001


def test_dropouts_remove_samples():
    p = replace(SHORT, dropouts=((Role.LEFT_WRIST, 10.0, 12.5), (Role.RIGHT_SHIN, 20.0, 20.3)))
    res = simulate(p, seed=2)
    for role, a, b in p.dropouts:
        t = res.recording[role].time_s
        assert not np.any((t >= a) & (t < b))
        assert len(res.clean[role]) - len(t) == pytest.approx((b - a) * 200, abs=1)
        assert np.max(np.diff(t)) == pytest.approx(b - a, abs=0.006)
        assert len(res.sensor_time_s[role]) == len(t)
    assert len(res.recording[Role.LEFT_SHIN]) == len(res.clean[Role.LEFT_SHIN])


def test_clock_offset_and_drift_recorded():
    p = replace(SHORT, clock_offset_s={Role.LEFT_SHIN: 2.5}, clock_drift_ppm={Role.LEFT_SHIN: 100.0})
    res = simulate(p, seed=2)
    t = res.recording[Role.LEFT_SHIN].time_s
    ts = res.sensor_time_s[Role.LEFT_SHIN]
    np.testing.assert_allclose(ts, 2.5 + t * (1 + 100e-6), atol=1e-9)
    assert np.allclose(np.diff(ts), 1 / 200.0)  # ticks are uniform on the sensor's clock
    assert np.median(np.diff(t)) == pytest.approx(1 / 200.0 / (1 + 100e-6), rel=1e-9)
    tr = res.sensor_time_s[Role.RIGHT_SHIN]
    np.testing.assert_allclose(tr, res.recording[Role.RIGHT_SHIN].time_s, atol=1e-9)


def test_bad_params_raise_config_error():
    with pytest.raises(ConfigError):
        SimParams(cadence_spm=90)
    with pytest.raises(ConfigError):
        SimParams(swing_lag_ms=200)
    with pytest.raises(ConfigError):
        SimParams(sample_rate_hz={Role.LEFT_SHIN: 50})
    with pytest.raises(ConfigError):
        SimParams(duration_s=10, standing_start_s=5, standing_end_s=5)


# --------------------------------------------------------------------------------------------------
# design truth


@pytest.mark.parametrize("cadence", [160.0, 185.0])
def test_cadence_matches_params_spectrally(cadence):
    p = replace(SHORT, duration_s=60.0, cadence_spm=cadence, roles=(Role.LEFT_SHIN, Role.RIGHT_SHIN))
    res = simulate(p, seed=4)
    both = sum(np.linalg.norm(res.recording[r].acc_g, axis=1) for r in p.roles)
    m = (res.recording[Role.LEFT_SHIN].time_s > 5) & (res.recording[Role.LEFT_SHIN].time_s < 55)
    f, pxx = signal.welch(both[m] - both[m].mean(), fs=200.0, nperseg=8192)
    band = (f > 2.0) & (f < 4.0)
    step_hz = f[band][np.argmax(pxx[band])]
    assert 60 * step_hz == pytest.approx(cadence, rel=0.02)
    contacts = events_of(res, Role.LEFT_SHIN, EventKind.CONTACT)
    assert 120.0 / np.median(np.diff(contacts)) == pytest.approx(cadence, rel=0.02)


def test_design_events_found_at_design_instants(base):
    found = find_events(base)
    report = {}
    for (role, kind), times in found.items():
        design = events_of(base, role, kind)
        assert len(design) > 20
        err = nearest_errors_ms(design, times)
        tol = 15.0 if role.is_shin else 30.0
        report[(role.value, kind.value)] = (float(np.median(err)), float(np.mean(np.abs(err) <= tol)))
    print("median error ms, share within tolerance:", report)
    for (role, kind), (med, share) in report.items():
        assert abs(med) < 10.0, (role, kind, med)
        need = 0.75 if kind == "arm_back" else 0.95  # arm_back is a broad maximum
        assert share >= need, (role, kind, share)
    # amplitudes: contact ≥ 3 g and near impact_g, push depth and swing peak positive
    amps = {k: np.median([e.amplitude_g for e in base.design_events if e.kind is k]) for k in EventKind}
    assert amps[EventKind.CONTACT] == pytest.approx(SHORT.impact_g, rel=0.15)
    assert amps[EventKind.SWING] > 2.0 and amps[EventKind.PUSH] > 0.5 and amps[EventKind.ARM_FWD] > 0.1


def test_stride_indices_and_counts(base):
    for role in (Role.LEFT_SHIN, Role.RIGHT_SHIN):
        ev = [e for e in base.design_events if e.role is role]
        idx = [e.stride_index for e in ev if e.kind is EventKind.CONTACT]
        assert idx == list(range(len(idx)))
        for e in ev:
            if e.kind in (EventKind.PUSH, EventKind.SWING):
                opening = [c for c in ev if c.kind is EventKind.CONTACT and c.stride_index == e.stride_index][0]
                assert 0 < e.time_s - opening.time_s < 1.0


def lag_medians(res: SimResult, found: dict) -> dict[str, float]:
    """Median measured lags (ms) from found events, both stance sides pooled (MEASUREMENT.md §3)."""
    out: dict[str, list[float]] = {"swing": [], "ipsi": [], "contra": []}
    for s_shin, o_shin, s_wrist, o_wrist in (
        (Role.LEFT_SHIN, Role.RIGHT_SHIN, Role.LEFT_WRIST, Role.RIGHT_WRIST),
        (Role.RIGHT_SHIN, Role.LEFT_SHIN, Role.RIGHT_WRIST, Role.LEFT_WRIST),
    ):
        for tp in found[(s_shin, EventKind.PUSH)]:
            for name, key in (("swing", (o_shin, EventKind.SWING)), ("ipsi", (s_wrist, EventKind.ARM_FWD)),
                              ("contra", (o_wrist, EventKind.ARM_BACK))):
                x = found[key]
                out[name].append(1e3 * (x[np.argmin(np.abs(x - tp))] - tp))
    return {k: float(np.median(v)) for k, v in out.items()}


def test_design_lags_steer_measured_lags():
    p0 = replace(SHORT, swing_lag_sd_ms=0.0, arm_lag_sd_ms=0.0)
    p1 = replace(p0, swing_lag_ms=30.0, ipsi_arm_lag_ms=-30.0, contra_arm_lag_ms=30.0)
    m0 = lag_medians(None, find_events(simulate(p0, seed=5)))
    m1 = lag_medians(None, find_events(simulate(p1, seed=5)))
    print("measured lags ms, together:", m0, "designed (+30, -30, +30):", m1)
    assert all(abs(v) < 12.0 for v in m0.values()), m0
    # each measured lag moves with its design lag, by at least half the designed change
    assert m1["swing"] - m0["swing"] > 15.0
    assert m1["ipsi"] - m0["ipsi"] < -15.0
    assert m1["contra"] - m0["contra"] > 15.0


def test_design_lags_reproduced_within_tolerance():
    p = replace(SHORT, swing_lag_ms=30.0, ipsi_arm_lag_ms=-30.0, contra_arm_lag_ms=30.0, swing_lag_sd_ms=0.0, arm_lag_sd_ms=0.0)
    m = lag_medians(None, find_events(simulate(p, seed=5)))
    print("measured lags ms for design (+30, -30, +30):", m)
    assert m["swing"] == pytest.approx(30.0, abs=10.0)
    assert m["ipsi"] == pytest.approx(-30.0, abs=15.0)
    assert m["contra"] == pytest.approx(30.0, abs=15.0)


def test_walking_and_standing_produce_no_events():
    p = replace(SHORT, duration_s=50.0, walking=((20.0, 32.0),))
    res = simulate(p, seed=6)
    inside = [e for e in res.design_events if 20.0 <= e.time_s < 32.0]
    assert inside == []
    for role in (Role.LEFT_SHIN, Role.RIGHT_SHIN):
        rs = res.clean[role]
        m = (rs.time_s > 21.5) & (rs.time_s < 30.5)
        norm = lowpass(np.linalg.norm(rs.acc_g, axis=1), 50, 200.0)
        assert np.max(norm[m]) < 3.0, role  # no contact can be detected while walking
    assert any(e.time_s > 33.0 for e in res.design_events)  # running resumes


def test_reference_analyser_finds_design_events(base):
    reference = pytest.importorskip("stridesync.core.reference")
    res = reference.analyze(base.clean)
    report = {}
    for role in base.params.roles:
        for kind in EventKind:
            design = events_of(base, role, kind)
            found = np.array([e.time_s for e in res.events if e.role is role and e.kind is kind])
            if len(design) == 0:
                continue
            assert len(found) > 0.9 * len(design), (role, kind)
            err = nearest_errors_ms(design, found)
            report[(role.value, kind.value)] = (round(float(np.median(err)), 1), round(float(np.percentile(np.abs(err), 90)), 1))
    print("reference analyser vs design (median, p90 |err| ms):", report)
    for (role, kind), (med, p90) in report.items():
        assert abs(med) < (15.0 if "shin" in role else 30.0), (role, kind, med)


# --------------------------------------------------------------------------------------------------
# realism: simulated vs real statistics, side by side


def _need_shared() -> None:
    if not DATASETS.is_dir():
        pytest.skip(f"real datasets not available at {DATASETS} (shared folder absent)")


def _per_stride_peaks(norm: np.ndarray, fs: float, stride_s: float) -> np.ndarray:
    pk, _ = signal.find_peaks(norm, height=3.0, distance=int(0.6 * stride_s * fs))
    return norm[pk]


def _dominant_hz(x: np.ndarray, fs: float) -> float:
    f, pxx = signal.welch(x - x.mean(), fs=fs, nperseg=min(4096, len(x)))
    band = f > 0.5
    return float(f[band][np.argmax(pxx[band])])


def test_sim_vs_real_ankle_impacts_and_rhythm():
    _need_shared()
    path = DATASETS / "adeptdata_running" / "acc_running_wide.csv.gz"
    if not path.exists():
        pytest.skip(f"{path} missing")
    with gzip.open(path, "rt") as fh:
        d = np.loadtxt(fh, delimiter=",", skiprows=1, usecols=(0, 2, 3, 4))
    acc = d[:, 1:]
    fs = 100.0
    norm = np.linalg.norm(acc, axis=1)
    # running only: 10 s windows with strong activity, away from the documented standing breaks
    win = int(10 * fs)
    n = len(norm) // win
    active = np.repeat(norm[: n * win].reshape(n, win).std(axis=1) > 1.0, win)
    active = np.concatenate([active, np.zeros(len(norm) - n * win, bool)])
    real_dom = _dominant_hz(norm[active], fs)
    real_stride = 2.0 / real_dom  # the one-ankle |a| spectrum peaks at the step rate
    real_pk = _per_stride_peaks(lowpass(norm, 50, fs)[active], fs, real_stride)
    # simulate the same cadence, sample the shin like the ankle device (100 Hz, ±8 g)
    cad = 60.0 * real_dom
    p = SimParams(duration_s=120.0, standing_start_s=2.0, standing_end_s=2.0, cadence_spm=cad,
                  sample_rate_hz={Role.LEFT_SHIN: 100.0}, shin_range_g=8.0, roles=(Role.LEFT_SHIN,))
    res = simulate(p, seed=11)
    rs = res.recording[Role.LEFT_SHIN]
    m = (rs.time_s > 5) & (rs.time_s < 115)
    snorm = np.linalg.norm(rs.acc_g, axis=1)
    sim_dom = _dominant_hz(snorm[m], fs)
    sim_pk = _per_stride_peaks(lowpass(snorm, 50, fs)[m], fs, 120.0 / cad)
    rq = np.percentile(real_pk, [10, 50, 90])
    sq = np.percentile(sim_pk, [10, 50, 90])
    print("\nankle (real, shoe clip) vs shin (sim), 100 Hz, ±8 g")
    print(f"  per-stride |a| peak p10/p50/p90 g : real {np.round(rq, 2)}  sim {np.round(sq, 2)}")
    print(f"  dominant |a| frequency Hz         : real {real_dom:.2f}  sim {sim_dom:.2f}")
    print(f"  dominant / stride frequency       : real {real_dom * real_stride:.2f}  sim {sim_dom * 120.0 / cad:.2f}")
    # the shoe sees larger impacts than the tibia: sim median 0.6..1.2 x the shoe's
    assert 0.6 * rq[1] <= sq[1] <= 1.2 * rq[1]
    assert sq[2] / sq[0] < 2.0 and rq[2] / rq[0] < 2.0  # both a tight, unimodal running distribution
    # both spectra peak on a harmonic (1 or 2) of the same stride frequency
    harm = sim_dom * 120.0 / cad
    assert min(abs(harm - 1.0), abs(harm - 2.0)) < 0.05


@pytest.mark.xfail(reason="known gap: the real shoe-clip |a| peaks at the step rate (toe-off as strong as "
                          "the impact), the simulated shin |a| at the stride rate", strict=True)
def test_sim_vs_real_ankle_dominant_harmonic():
    _need_shared()
    path = DATASETS / "adeptdata_running" / "acc_running_wide.csv.gz"
    if not path.exists():
        pytest.skip(f"{path} missing")
    # the real value is 2.0 (checked in the side-by-side test above and in PROVENANCE.md)
    p = SimParams(duration_s=60.0, standing_start_s=2.0, standing_end_s=2.0, cadence_spm=155.0,
                  sample_rate_hz={Role.LEFT_SHIN: 100.0}, roles=(Role.LEFT_SHIN,))
    rs = simulate(p, seed=11).recording[Role.LEFT_SHIN]
    m = (rs.time_s > 5) & (rs.time_s < 55)
    dom = _dominant_hz(np.linalg.norm(rs.acc_g, axis=1)[m], 100.0)
    assert dom * 120.0 / 155.0 == pytest.approx(2.0, abs=0.1)


def test_sim_vs_real_wrist_arm_swing_band():
    _need_shared()
    files = sorted((DATASETS / "strikewatch_wrist" / "data" / "csv").glob("*.csv"))
    if not files:
        pytest.skip("StrikeWatch csv files missing")
    fs = 100.0

    def stats(acc_g: np.ndarray) -> tuple[float, float, float, float]:
        """(stride Hz from the arm-swing axis, |a| dominant / stride, LP4 p-p of the largest axis, clip share)"""
        lp = lowpass(acc_g, 4.0, fs)
        doms = [_dominant_hz(acc_g[:, i], fs) for i in range(3)]
        stride_hz = min(doms)  # the arm-swing axis carries the stride fundamental
        norm_dom = _dominant_hz(np.linalg.norm(acc_g, axis=1), fs)
        w = int(round(fs / stride_hz))
        k = len(lp) // w
        pp = np.median(lp[: k * w].reshape(k, w, 3).max(1) - lp[: k * w].reshape(k, w, 3).min(1), axis=0)
        clip = float(np.mean(np.any(np.abs(acc_g) >= 1.999, axis=1)))
        return stride_hz, norm_dom / stride_hz, float(pp.max()), clip

    real = np.array([stats(np.loadtxt(f, delimiter=",", skiprows=1, usecols=(0, 1, 2)) / 9.80665) for f in files])
    cad = 60.0 * 2 * float(np.median(real[:, 0]))
    p = SimParams(duration_s=90.0, standing_start_s=2.0, standing_end_s=2.0, cadence_spm=cad,
                  sample_rate_hz={Role.LEFT_WRIST: 100.0}, wrist_range_g=2.0, roles=(Role.LEFT_WRIST,))
    res = simulate(p, seed=12)
    rs = res.recording[Role.LEFT_WRIST]
    m = (rs.time_s > 5) & (rs.time_s < 85)
    sim = np.array(stats(rs.acc_g[m]))
    names = ["stride Hz", "|a| dominant / stride", "LP4 p-p max axis g", "rows clipped at 2 g"]
    print("\nwrist: real StrikeWatch (12 runners x 2; min / median / max) vs sim (±2 g, 100 Hz)")
    for i, nm in enumerate(names):
        print(f"  {nm:24s}: real {real[:, i].min():.2f} / {np.median(real[:, i]):.2f} / {real[:, i].max():.2f}   sim {sim[i]:.2f}")
    assert sim[0] == pytest.approx(np.median(real[:, 0]), rel=0.05)
    assert real[:, 2].min() * 0.8 <= sim[2] <= real[:, 2].max() * 1.2
    assert real[:, 3].min() * 0.5 <= sim[3] <= real[:, 3].max() * 1.5
