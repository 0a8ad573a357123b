"""Real-data acceptance checks of the detector (skipped when ``../shared`` is absent).

Three public data sets, loaded by ``tests/realdata.py`` (see each ``PROVENANCE.md``):

adeptdata ankle (one shoe-clip accelerometer, fed as ``left_shin``)
    No events in the standing breaks; the real-time core reproduces the reference. The shoe is not the tibia:
    the cadence check is a strict xfail with the measured figures (see its reason).
StrikeWatch wrists (24 wrist-only runs, ``left_wrist``, ±2 g clipped)
    The real-time core's ``arm_fwd``/``arm_back`` agree with the reference analyser's, pooled over all 24
    files; one ``arm_fwd`` per stride (event period vs the file's dominant arm-swing frequency).
Fukuchi 2017 virtual shanks (treadmill, force plate + markers, trials T25/T35/T45)
    ``contact`` against force-plate initial contact, ``swing`` against the marker-derived peak shank angular
    velocity (version 2's gyroscope rules; all 17 runners are in tests/test_body_accuracy.py).

The measuring helpers here are also used by ``bench/realdata_accuracy.py``, which prints every figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy.signal import periodogram, welch

from stridesync.core.config import DetectorConfig
from stridesync.core.reference import analyze
from stridesync.model import AnalysisResult, Event, EventKind, Role, Side
from stridesync.pipeline import run_realtime

from . import realdata as rd

TRIALS = ("T25", "T35", "T45")
MATCH_TOL_S = 0.05  # ref ↔ real-time pairing: nearest event of the same role and kind within 50 ms

# ================================================================================================ helpers


def times(events: list[Event], role: Role, kind: EventKind) -> np.ndarray:
    return np.array(sorted(e.time_s for e in events if e.role is role and e.kind is kind))


def pair_nearest(a: np.ndarray, b: np.ndarray, tol_s: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one pairing of two sorted time arrays, nearest first, within ``tol_s``.

    Returns index arrays (ia, ib) of the pairs, ordered by ``a``.
    """
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    if len(a) == 0 or len(b) == 0:
        return np.array([], int), np.array([], int)
    cand = []
    j = np.searchsorted(b, a)
    for i, jj in enumerate(j):
        for k in (jj - 1, jj):
            if 0 <= k < len(b):
                d = abs(b[k] - a[i])
                if d <= tol_s:
                    cand.append((d, i, k))
    cand.sort()
    used_a, used_b, pairs = set(), set(), []
    for _, i, k in cand:
        if i not in used_a and k not in used_b:
            used_a.add(i)
            used_b.add(k)
            pairs.append((i, k))
    pairs.sort()
    if not pairs:
        return np.array([], int), np.array([], int)
    ia, ib = np.array(pairs).T
    return ia, ib


@dataclass
class Agreement:
    """Real-time core vs reference analyser, pooled over event kinds (and files, when summed)."""

    n_ref: int
    n_rt: int
    n_matched: int
    dt_ms: np.ndarray  # rt − ref of the matched pairs

    @property
    def recall(self) -> float:
        return self.n_matched / self.n_ref if self.n_ref else float("nan")

    @property
    def precision(self) -> float:
        return self.n_matched / self.n_rt if self.n_rt else float("nan")

    def abs_pct(self, q: float) -> float:
        return float(np.percentile(np.abs(self.dt_ms), q)) if len(self.dt_ms) else float("nan")

    def __add__(self, other: "Agreement") -> "Agreement":
        return Agreement(self.n_ref + other.n_ref, self.n_rt + other.n_rt, self.n_matched + other.n_matched,
                         np.concatenate([self.dt_ms, other.dt_ms]))


def agreement(ref: list[Event], rt: list[Event], kinds: tuple[EventKind, ...], tol_s: float = MATCH_TOL_S) -> Agreement:
    """Match each role/kind's events by nearest instant within ``tol_s`` (one-to-one)."""
    total = Agreement(0, 0, 0, np.array([]))
    roles = {e.role for e in ref} | {e.role for e in rt}
    for role in roles:
        for kind in kinds:
            a, b = times(ref, role, kind), times(rt, role, kind)
            ia, ib = pair_nearest(a, b, tol_s)
            total = total + Agreement(len(a), len(b), len(ia), (b[ib] - a[ia]) * 1e3)
    return total


def inside(t: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    m = np.zeros(len(t), bool)
    for a, b in spans:
        m |= (t >= a) & (t <= b)
    return m


def bias_sd(d_ms: np.ndarray) -> tuple[float, float]:
    """Mean and SD (ddof 1) of the finite differences (misses, stored as inf, are left out)."""
    d = np.asarray(d_ms, float)
    d = d[np.isfinite(d)]
    if len(d) == 0:
        return float("nan"), float("nan")
    return float(d.mean()), float(d.std(ddof=1)) if len(d) > 1 else float("nan")


# ------------------------------------------------------------------------------------------------ spectra

#: Spectral cadence of a 30-s window, from ‖a‖ of the ONE ankle present. That signal repeats once per
#: stride, so its spectrum holds the stride frequency f1 (1–1.75 Hz) and its harmonics; the 2nd harmonic
#: 2·f1 is the step frequency and the strongest line (PROVENANCE: 2.2–2.7 Hz).
#:
#: Primary estimate: cadence = 120 × f1, f1 the largest line in STRIDE_BAND_HZ of a Welch spectrum (Hann,
#: 10-s segments, 50 % overlap, zero-padded to SPECTRUM_NFFT points = 0.003 Hz bins at 100 Hz), refined by
#: a parabola through the log-power of the peak bin and its two neighbours.
#: Cross-check: cadence = 60 × the largest line in STEP_BAND_HZ of one Hann periodogram of the whole window.
#: Why the fundamental and Welch: when the cadence drifts inside a window (e.g. strides 0.78 s → 0.70 s at
#: 855–885 s), each harmonic splits into lines whose spacing grows with the harmonic number; the single
#: periodogram's step line then lands on one half of the window (−2.2 % and +3.9 % in two of 33 windows,
#: with a clean contact train), while the fundamental of the averaged shorter-segment spectrum stays at
#: the window's typical rate. Both figures are printed by bench/realdata_accuracy.py.
SPECTRUM_NFFT = 2**15
STEP_BAND_HZ = (2.0, 3.5)
STRIDE_BAND_HZ = (1.0, 1.75)
WELCH_SEGMENT_S = 10.0


def spectral_peak_hz(x: np.ndarray, fs: float, band: tuple[float, float], segment_s: float | None = None,
                     nfft: int = SPECTRUM_NFFT) -> float:
    """Frequency of the largest spectral line of ``x`` in ``band``.

    Hann window, mean removed, zero-padded to ``nfft``; one periodogram of the whole of ``x``, or a Welch
    average of ``segment_s`` segments (50 % overlap). The peak is refined by a parabola on log power.
    """
    x = np.asarray(x, float) - np.mean(x)
    if segment_s is None or segment_s * fs >= len(x):
        f, p = periodogram(x, fs=fs, window="hann", nfft=max(nfft, len(x)), detrend=False)
    else:
        n = int(round(segment_s * fs))
        f, p = welch(x, fs=fs, window="hann", nperseg=n, noverlap=n // 2, nfft=max(nfft, n), detrend=False)
    sel = np.flatnonzero((f >= band[0]) & (f <= band[1]))
    i = sel[np.argmax(p[sel])]
    if 0 < i < len(p) - 1 and min(p[i - 1], p[i], p[i + 1]) > 0:
        a, b, c = np.log(p[i - 1 : i + 2])
        den = a - 2 * b + c
        d = 0.5 * (a - c) / den if den != 0 else 0.0
        return float(f[i] + np.clip(d, -0.5, 0.5) * (f[1] - f[0]))
    return float(f[i])


def spectral_cadence_spm(norm_a: np.ndarray, fs: float) -> float:
    """The primary spectral cadence (steps/min) of a one-ankle ‖a‖ window: 120 × Welch stride line."""
    return 120.0 * spectral_peak_hz(norm_a, fs, STRIDE_BAND_HZ, WELCH_SEGMENT_S)


def step_line_cadence_spm(norm_a: np.ndarray, fs: float) -> float:
    """The cross-check: 60 × the step line of one periodogram of the window."""
    return 60.0 * spectral_peak_hz(norm_a, fs, STEP_BAND_HZ)


def windows_in(spans: list[tuple[float, float]], length_s: float = 30.0, hop_s: float = 30.0) -> list[tuple[float, float]]:
    """Consecutive ``length_s`` windows (every ``hop_s``) lying fully inside one of ``spans``."""
    out = []
    for a, b in spans:
        w0 = a
        while w0 + length_s <= b + 1e-9:
            out.append((w0, w0 + length_s))
            w0 += hop_s
    return out


def contact_cadence_spm(contacts: np.ndarray, w: tuple[float, float], cfg: DetectorConfig) -> tuple[float, int]:
    """Cadence (steps/min) from the contacts of ONE leg inside window ``w``: 120 / median stride time.

    Stride times are the intervals between consecutive contacts inside the window that lie within the
    contract's counted-stride range. Returns (cadence, number of strides); NaN when fewer than 5 strides.
    """
    c = contacts[(contacts >= w[0]) & (contacts <= w[1])]
    d = np.diff(c)
    d = d[(d >= cfg.stride_min_s) & (d <= cfg.stride_max_s)]
    if len(d) < 5:
        return float("nan"), len(d)
    return 120.0 / float(np.median(d)), len(d)


@dataclass
class CadenceWindow:
    span: tuple[float, float]
    n_strides: int
    contacts_spm: float
    spectral_spm: float  # primary spectral cadence (spectral_cadence_spm)
    step_line_spm: float  # cross-check (step_line_cadence_spm)

    @property
    def err_pct(self) -> float:
        return 100.0 * (self.contacts_spm - self.spectral_spm) / self.spectral_spm

    @property
    def step_line_err_pct(self) -> float:
        return 100.0 * (self.contacts_spm - self.step_line_spm) / self.step_line_spm


def adept_cadence_windows(contacts: np.ndarray, hop_s: float = 30.0, cfg: DetectorConfig | None = None) -> list[CadenceWindow]:
    cfg = cfg or DetectorConfig()
    s = rd.load_adept_ankle()
    fs = s.sample_rate_hz
    m = np.linalg.norm(s.acc_g, axis=1)
    out = []
    for w in windows_in(rd.adept_segments()["running"], 30.0, hop_s):
        sel = (s.time_s >= w[0]) & (s.time_s < w[1])
        spm, n = contact_cadence_spm(contacts, w, cfg)
        out.append(CadenceWindow(w, n, spm, spectral_cadence_spm(m[sel], fs), step_line_cadence_spm(m[sel], fs)))
    return out


# ------------------------------------------------------------------------------------------------ Fukuchi


@dataclass
class VsTruth:
    """Detected events against ground-truth instants of one trial/side."""

    n_truth: int
    n_detected: int
    d_ms: np.ndarray  # detected − truth, one per truth instant that has a detected event in its stride
    phase: np.ndarray  # the detected event's phase in the force-plate stride (0–1), same order

    @property
    def bias_sd(self) -> tuple[float, float]:
        return bias_sd(self.d_ms)

    def within(self, tol_ms: float) -> float:
        return float(np.mean(np.abs(self.d_ms) <= tol_ms)) if self.n_truth else float("nan")


def contacts_vs_plate(ft: rd.FukuchiTrial, side: Side, result: AnalysisResult, tol_s: float = 0.15) -> VsTruth:
    """Each force-plate IC paired one-to-one with the nearest detected ``contact`` of that shin within ``tol_s``."""
    ic = ft.contacts[side]
    c = times(result.events, side.shin, EventKind.CONTACT)
    ia, ib = pair_nearest(ic, c, tol_s)
    d_ms = np.full(len(ic), np.inf)  # a plate contact without a detected one stays +inf (a miss)
    d_ms[ia] = (c[ib] - ic[ia]) * 1e3
    T = float(np.median(np.diff(ic)))
    return VsTruth(len(ic), len(c), d_ms, ((c[ib] - ic[ia]) / T) % 1.0)


def swings_vs_omega(ft: rd.FukuchiTrial, side: Side, result: AnalysisResult) -> VsTruth:
    """Each marker peak-ω instant paired with the detected ``swing`` of the same force-plate stride.

    The force-plate stride is [IC_k, IC_k+1) of the same foot that holds the peak (peaks lie between a
    toe-off and the next IC); among the detected swings in that stride the nearest is taken. Strides with
    no detected swing are left out of ``d_ms`` (they show as ``len(d_ms) < n_truth``).
    """
    ic = ft.contacts[side]
    po = ft.peak_omega_t[side]
    sw = times(result.events, side.shin, EventKind.SWING)
    d, ph = [], []
    n_truth = 0
    for t_pk in po:
        k = np.searchsorted(ic, t_pk) - 1
        if k < 0 or k + 1 >= len(ic):
            continue  # stride not bounded by two plate contacts (trial start/end)
        n_truth += 1
        a, b = ic[k], ic[k + 1]
        cand = sw[(sw >= a) & (sw < b)]
        if len(cand) == 0:
            continue
        j = cand[np.argmin(np.abs(cand - t_pk))]
        d.append((j - t_pk) * 1e3)
        ph.append((j - a) / (b - a))
    return VsTruth(n_truth, len(sw), np.array(d), np.array(ph))


def pooled(items: list[VsTruth]) -> VsTruth:
    return VsTruth(sum(v.n_truth for v in items), sum(v.n_detected for v in items),
                   np.concatenate([v.d_ms for v in items]), np.concatenate([v.phase for v in items]))


# ================================================================================================ fixtures


@pytest.fixture(scope="module")
def adept():
    s = rd.load_adept_ankle()
    rec = {Role.LEFT_SHIN: s}
    ref = analyze(rec)
    rt, _ = run_realtime(rec)
    return s, ref, rt


@pytest.fixture(scope="module")
def strikewatch():
    out = {}
    for name in rd.strikewatch_files():
        rec = {Role.LEFT_WRIST: rd.load_strikewatch(name)}
        out[name] = (analyze(rec), run_realtime(rec)[0])
    return out


@pytest.fixture(scope="module")
def fukuchi():
    pytest.importorskip("ezc3d")
    out = {}
    for trial in TRIALS:
        ft = rd.load_fukuchi(trial)
        out[trial] = (ft, analyze(ft.recording), run_realtime(ft.recording)[0])
    return out


# ================================================================================================ adeptdata


def test_adept_no_events_in_standing_breaks(adept):
    _, ref, rt = adept
    seg = rd.adept_segments()
    for res in (ref, rt):
        ev_t = np.array([e.time_s for e in res.events])
        assert len(ev_t) > 100  # not vacuous: the running stretches give events
        assert not inside(ev_t, seg["standing"]).any(), "events inside a standing break"


ADEPT_SHOE_REASON = (
    "The adeptdata sensor is clipped to the shoe below the ankle, not to the tibia (PROVENANCE). Version 2's "
    "accelerometer rules follow the tibia's kinematics (terminal-swing deceleration, the forward-swing hump of "
    "a_y, the toe-off dip before it); on the shoe, the 'push' they find sits at 52 % of the stride (median; "
    "tibia: 25-40 %), so only 76 of 381 strides of the first running stretch pass the flight-phase test (stance "
    "< half the stride) and 10 of 33 30-s windows keep cadence within 2 %. A shoe sensor is a placement the "
    "contract does not define; the gyroscope rules on real shank IMUs are checked in tests/test_body_accuracy.py "
    "and tests/test_realdata_walking.py.")


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=ADEPT_SHOE_REASON)
def test_adept_cadence_agrees_with_spectrum(adept):
    _, ref, rt = adept
    for res in (ref, rt):
        wins = adept_cadence_windows(times(res.events, Role.LEFT_SHIN, EventKind.CONTACT))
        assert len(wins) >= 25
        err = np.array([w.err_pct for w in wins])
        ok = np.abs(np.nan_to_num(err, nan=np.inf)) <= 2.0
        assert ok.mean() >= 0.95, f"{ok.sum()}/{len(ok)} windows within 2 %; errors {np.round(err, 2)}"


def test_adept_realtime_matches_reference(adept):
    """On the shoe sensor many strides sit at the flight-phase boundary (stance ≈ half the stride), where the
    real-time core's microsecond differences from the reference flip a few decisions: 98.5 % agreement."""
    _, ref, rt = adept
    ag_all = agreement(ref.events, rt.events, (EventKind.CONTACT, EventKind.PUSH, EventKind.SWING))
    assert ag_all.recall >= 0.98 and ag_all.precision >= 0.98 and ag_all.abs_pct(50) <= 1.0


# ================================================================================================ StrikeWatch


def test_strikewatch_all_24_realtime_matches_reference(strikewatch):
    assert len(strikewatch) == 24
    total = Agreement(0, 0, 0, np.array([]))
    for name, (ref, rt) in strikewatch.items():
        assert len(times(ref.events, Role.LEFT_WRIST, EventKind.ARM_FWD)) >= 30, name
        total = total + agreement(ref.events, rt.events, (EventKind.ARM_FWD, EventKind.ARM_BACK))
    assert total.recall >= 0.995, f"recall {total.recall:.4f} ({total.n_matched}/{total.n_ref})"
    assert total.precision >= 0.995, f"precision {total.precision:.4f} ({total.n_matched}/{total.n_rt})"
    assert total.abs_pct(50) <= 1.0
    assert total.abs_pct(95) <= 5.0


def wrist_stride_hz(name: str) -> float:
    """Dominant arm-swing frequency of a StrikeWatch file: a_y (the swing axis) in 0.8–2.0 Hz."""
    s = rd.load_strikewatch(name)
    return spectral_peak_hz(s.acc_g[:, 1], s.sample_rate_hz, (0.8, 2.0))


def test_strikewatch_one_arm_fwd_per_stride(strikewatch):
    for name, (ref, rt) in strikewatch.items():
        f = wrist_stride_hz(name)
        for res in (ref, rt):
            fwd = times(res.events, Role.LEFT_WRIST, EventKind.ARM_FWD)
            period = float(np.median(np.diff(fwd)))
            assert period * f == pytest.approx(1.0, abs=0.05), f"{name}: period {period:.3f} s vs {1 / f:.3f} s"


# ================================================================================================ Fukuchi


def test_fukuchi_one_contact_per_plate_stride(fukuchi):
    allv = []
    for trial, (ft, ref, rt) in fukuchi.items():
        for side in Side:
            for res in (ref, rt):
                v = contacts_vs_plate(ft, side, res)
                # every plate contact has its own detected contact within ±150 ms ...
                assert np.isfinite(v.d_ms).all(), f"{trial} {side}: plate contact without a detected contact"
                # ... and every detected contact between the first and last plate contact is one of them
                # (extras exist only in the first/last 50 ms of the trial, outside the plate's record)
                c = times(res.events, side.shin, EventKind.CONTACT)
                ic = ft.contacts[side]
                span = (c >= ic[0] - 0.15) & (c <= ic[-1] + 0.15)
                assert span.sum() == v.n_truth, (trial, side, v.n_truth, c[span])
                # the detected instant is the impact (+10…+20 ms) or the terminal-swing braking peak
                # (−40…−75 ms): never outside −80…+30 ms
                assert v.d_ms.min() >= -80.0 and v.d_ms.max() <= 30.0, (trial, side, v.d_ms.min(), v.d_ms.max())
                if res is ref:
                    allv.append(v)
    p = pooled(allv)
    assert p.within(60.0) >= 0.90, f"{p.within(60.0):.3f} of plate contacts within ±60 ms"


def test_fukuchi_realtime_matches_reference(fukuchi):
    total = Agreement(0, 0, 0, np.array([]))
    for trial, (ft, ref, rt) in fukuchi.items():
        total = total + agreement(ref.events, rt.events, (EventKind.CONTACT, EventKind.PUSH, EventKind.SWING))
    assert total.recall >= 0.995 and total.precision >= 0.995
    assert total.abs_pct(50) <= 1.0 and total.abs_pct(95) <= 5.0


def _swing_figures(fukuchi) -> dict[str, tuple[float, float]]:
    """Pooled (bias, SD) in ms of swing − peak ω, for the reference and the real-time core."""
    out = {}
    for i, label in ((1, "ref"), (2, "rt")):
        out[label] = pooled([swings_vs_omega(v[0], side, v[i]) for v in fukuchi.values() for side in Side]).bias_sd
    return out


def test_fukuchi_every_plate_stride_has_one_swing(fukuchi):
    for trial, (ft, ref, rt) in fukuchi.items():
        for side in Side:
            for res in (ref, rt):
                v = swings_vs_omega(ft, side, res)
                assert len(v.d_ms) >= 0.95 * v.n_truth, (trial, side, len(v.d_ms), v.n_truth)


def test_fukuchi_swing_meets_target(fukuchi):
    """Version 2's gyroscope swing (the mid-swing peak of −ω_z) against the marker-derived peak shank angular
    velocity, RBDS001: |bias| <= 3 ms and SD <= 5 ms (the issue's target; the whole-population figures are in
    tests/test_body_accuracy.py). Version 1's accelerometer feature missed it by −182 ± 121 ms."""
    for label, (bias, sd) in _swing_figures(fukuchi).items():
        assert abs(bias) <= 3.0 and sd <= 5.0, f"{label}: bias {bias:.1f} ms, SD {sd:.1f} ms"
