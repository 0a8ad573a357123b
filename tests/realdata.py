"""Loaders for the real-world data sets in ``../shared/datasets`` (test helper, not a test module).

Every loader returns data in the contract's body frame (MEASUREMENT.md §1: ``x`` along the segment
toward the proximal joint, ``y`` anterior, ``z = x × y`` pointing to the runner's left), specific force
in g, angular rate in deg/s. The shared folder lives beside the repository; when it is absent,
:func:`require` skips the calling test.

Data sets (see each ``PROVENANCE.md``):

``adeptdata_running``
    One 25-min outdoor run, ActiGraph GT9X clipped to the outside of the left shoe just below the ankle,
    100 Hz, no ground truth. :func:`load_adept_ankle`, :func:`adept_segments`.
``strikewatch_wrist``
    24 wrist-accelerometer runs (12 runners × {fore,heel}foot strike), m/s², ±2 g, ~100 Hz (inferred),
    wrist side unknown. :func:`strikewatch_files`, :func:`load_strikewatch`.
``fukuchi2017_rbds001``
    Treadmill running, markers at 150 Hz and a force plate. :func:`load_fukuchi` builds *virtual* shank
    IMUs from the shank marker clusters and returns force-plate contacts and marker-derived swing
    (peak shank angular velocity) instants as ground truth.
``tripod_walking_shank``
    TRIPOD excerpt: one person walking on a treadmill at three speeds, real GaitUp Physilog shank IMUs
    (accelerometer + gyroscope, 128 Hz) and OptoGait photo-cell contacts and toe-offs. :func:`load_tripod`
    (axes inferred from the data by :func:`infer_shank_axes`).

Axis decisions (how each device's undocumented axes were mapped) are documented on each loader.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from stridesync.model import Recording, Role, RoleSamples, Side

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATASETS = SHARED / "datasets"

G = 9.80665  # m/s² per g

ADEPT = "adeptdata_running"
STRIKEWATCH = "strikewatch_wrist"
FUKUCHI = "fukuchi2017_rbds001"


def require(name: str | Path) -> Path:
    """The path of a data set (or a file in it), or skip the calling test when it is absent.

    ``name`` is relative to ``DATASETS`` (``"adeptdata_running"``, ``"fukuchi2017_rbds001/c3d/..."``)
    or an absolute path.
    """
    path = Path(name)
    if not path.is_absolute():
        path = DATASETS / path
    if not path.exists():
        pytest.skip(f"real data absent: {path} (the shared datasets folder is not beside the repo)")
    return path


def _lowpass(x: np.ndarray, cutoff_hz: float, fs_hz: float, order: int = 4, axis: int = 0) -> np.ndarray:
    sos = butter(order, cutoff_hz, btype="low", fs=fs_hz, output="sos")
    return sosfiltfilt(sos, x, axis=axis)


def _parabolic(y: np.ndarray, i: int) -> tuple[float, float]:
    """Sub-sample offset (limited to ±½) and value of the extreme at sample ``i``."""
    if i <= 0 or i >= len(y) - 1:
        return 0.0, float(y[i])
    a, b, c = y[i - 1], y[i], y[i + 1]
    den = a - 2 * b + c
    if den == 0:
        return 0.0, float(b)
    d = float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
    return d, float(b - 0.25 * (a - c) * d)


# ---------------------------------------------------------------------------------------------------------
# adeptdata: left ankle/shoe accelerometer, outdoor run
# ---------------------------------------------------------------------------------------------------------

#: device (ankle_x, ankle_y, ankle_z) → contract (x, y, z). Rows are contract axes. det = +1.
#:
#: * x (toward the knee) = −device y. In all three standing breaks (≈420–480 s, 810–840 s, 1200–1230 s)
#:   the device reads (≈+0.11, −1.00, +0.12) g: device y carries gravity and reads −1 g, so device +y
#:   points down and −y points up the leg. It is also the axis with the large positive (toward-knee)
#:   centripetal mean in swing (stride-averaged −y_dev ≈ +2…+3 g between toe-off and foot strike).
#: * y (anterior) = +device x. Device x carries by far the most stride-frequency power (it is the
#:   antero-posterior axis of a shoe clipped to the lateral side; device z, normal to the clip face, is
#:   medio-lateral with the least power). Sign, from the stride-averaged waveform aligned on the ‖a‖ peak
#:   of each stride (540–720 s): at foot strike the impact vector is (x_dev ≈ −5.6 g, −y_dev ≈ +4.2 g),
#:   i.e. up and *backward* if +x_dev is anterior — the braking impulse of a landing foot — and in the
#:   ~60 ms before the strike x_dev goes strongly negative (−1…−4 g: the foot decelerating at the end of
#:   swing), while in mid-swing it is positive (+0.8…+1.4 g: the foot accelerating forward). With
#:   +x_dev posterior every one of those would have the wrong physical sign.
#: * z = x × y = (−e_y) × e_x = +device z: out of the lateral face of a left-foot clip, i.e. the runner's
#:   left, as the contract requires.
ADEPT_DEVICE_TO_BODY = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


@lru_cache(maxsize=1)
def _adept_table() -> tuple[np.ndarray, np.ndarray]:
    path = require(f"{ADEPT}/acc_running_wide.csv.gz")
    with gzip.open(path, "rt") as fh:
        data = np.loadtxt(fh, delimiter=",", skiprows=1, usecols=(0, 2, 3, 4))
    t = data[:, 0].copy()
    acc_dev = data[:, 1:4].copy()
    return t, acc_dev


@lru_cache(maxsize=1)
def load_adept_ankle() -> RoleSamples:
    """The adeptdata ankle accelerometer as ``left_shin`` (100 Hz, 1500 s, no gyro).

    The sensor is on the shoe below the ankle, not on the tibia: contact impacts are larger and the
    swing/push waveforms differ from a shin sensor. Axis mapping: :data:`ADEPT_DEVICE_TO_BODY`.
    """
    t, acc_dev = _adept_table()
    acc = acc_dev @ ADEPT_DEVICE_TO_BODY.T
    return RoleSamples(Role.LEFT_SHIN, t, acc)


#: Segmentation thresholds on the std of ‖a‖ (g). Measured: standing ≤ 0.03, walking / stop-and-go
#: 0.3–1.15, steady running 1.3–2.3 (5-s blocks); 30-s windows sitting entirely in a standing break 0.00.
ADEPT_STANDING_MAX_STD_G = 0.05
ADEPT_RUNNING_MIN_STD_G = 1.2
_ADEPT_WINDOW_S = 30.0
_ADEPT_HOP_S = 5.0


@lru_cache(maxsize=1)
def adept_segments() -> dict[str, list[tuple[float, float]]]:
    """Standing breaks and running stretches of the adeptdata run, derived from the data.

    30-s windows (5-s hop) of ‖a‖. A window is *standing* when the std of ‖a‖ over it is below
    0.05 g; it is *running* when each of its six 5-s blocks has a std of ‖a‖ of at least 1.2 g (so a
    window with a pause or a walk in it is rejected). Overlapping qualifying windows are merged.
    Returns ``{"standing": [(t0, t1), ...], "running": [(t0, t1), ...]}`` in seconds.
    """
    acc = load_adept_ankle()
    t, norm = acc.time_s, np.linalg.norm(acc.acc_g, axis=1)
    fs = acc.sample_rate_hz
    hop = int(round(_ADEPT_HOP_S * fs))
    nblk = len(norm) // hop
    blocks = norm[: nblk * hop].reshape(nblk, hop)
    block_std = blocks.std(axis=1)
    per = int(round(_ADEPT_WINDOW_S / _ADEPT_HOP_S))
    standing, running = [], []
    for k in range(nblk - per + 1):
        window = blocks[k : k + per].ravel()
        span = (float(t[k * hop]), float(t[k * hop]) + _ADEPT_WINDOW_S)
        if window.std() < ADEPT_STANDING_MAX_STD_G:
            standing.append(span)
        if block_std[k : k + per].min() >= ADEPT_RUNNING_MIN_STD_G:
            running.append(span)
    return {"standing": _merge(standing), "running": _merge(running)}


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


# ---------------------------------------------------------------------------------------------------------
# StrikeWatch: wrist accelerometer, 24 runs
# ---------------------------------------------------------------------------------------------------------

STRIKEWATCH_FS_HZ = 100.0  # inferred (PROVENANCE): not documented by the authors
STRIKEWATCH_CLIP_G = 2.0

#: device (x, y, z) → contract (x, y, z); rows are contract axes; det = +1.
#:
#: * x (toward the elbow, +1 g with the arm hanging) = −device y: device y is the gravity axis. Its mean
#:   over each run is −0.47…−0.99 g (all 24 files), against |mean| ≤ 0.8 g (mostly 0.2–0.3) on device x
#:   and ≤ 0.6 g on device z; its dominant LP-4-Hz frequency is the step rate (≈2.6–2.9 Hz), i.e. the
#:   vertical bounce.
#: * y (anterior) = +device x: device x carries the arm swing: it has the largest band-passed
#:   (0.8–2 Hz) amplitude in every file (std 0.4–1.2 g vs 0.14–0.9 g on y and 0.1–0.4 g on z) and its
#:   dominant frequency is the stride rate (≈1.3–1.5 Hz). Sign: in the contract frame, y is x rotated
#:   forward by 90° in the sagittal plane, so y reads +g·cos(elevation of the elbow-ward axis) when the
#:   hand is in front of the elbow (the normal running posture) — a positive mean. Device x has a
#:   positive mean in 22 of 24 files (+0.03…+0.8 g; person8: −0.05/−0.07), so y = +device x.
#: * z = x × y = (−e_y) × e_x = +device z.
#:
#: This is the *functional* mapping asked of the loader (gravity → x, swing → y). If the device's y
#: were actually across the wrist (thumb axis) rather than along the forearm, the running arm (elbow at
#: ~90°) would put the swing on the forearm axis anyway; the mapping is a best guess, not a
#: documented mount.
STRIKEWATCH_DEVICE_TO_BODY = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def _strikewatch_dir() -> Path:
    return require(f"{STRIKEWATCH}/data/csv")


@lru_cache(maxsize=1)
def strikewatch_files() -> list[str]:
    """The 24 run names, e.g. ``"person1_heelstrike"`` (sorted by person number, then style)."""
    names = [p.stem for p in _strikewatch_dir().glob("person*_*.csv")]

    def key(n: str) -> tuple[int, str]:
        person, style = n.split("_", 1)
        return int(person.removeprefix("person")), style

    return sorted(names, key=key)


@lru_cache(maxsize=32)
def load_strikewatch(name: str) -> RoleSamples:
    """One StrikeWatch run as ``left_wrist`` (which wrist was used is not documented).

    m/s² → g, clipped at ±2 g (the device range), ``time_s = arange(n) / 100`` (rate inferred).
    Axis mapping: :data:`STRIKEWATCH_DEVICE_TO_BODY`.
    """
    path = _strikewatch_dir() / f"{name}.csv"
    if not path.exists():
        raise FileNotFoundError(path)
    raw = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1, 2))
    acc_dev = np.clip(raw / G, -STRIKEWATCH_CLIP_G, STRIKEWATCH_CLIP_G)
    acc = acc_dev @ STRIKEWATCH_DEVICE_TO_BODY.T
    t = np.arange(len(acc)) / STRIKEWATCH_FS_HZ
    return RoleSamples(Role.LEFT_WRIST, t, acc)


# ---------------------------------------------------------------------------------------------------------
# Fukuchi 2017 RBDS001: virtual shank IMUs from marker clusters + force-plate events
# ---------------------------------------------------------------------------------------------------------

#: Low-pass of marker positions before differentiation (4th-order Butterworth, zero-phase). Measurement
#: noise is not the limit (static-trial markers jitter by ≈ 0.005 mm; virtual ‖a‖ noise there is 0.002 g at
#: 20 Hz, 0.01 g at 60 Hz). The limit is that above ~20 Hz a skin-mounted cluster records its own wobble on
#: the soft tissue after impact, not the bone, and 150 Hz sampling cannot resolve a tibial impact transient
#: (content to 50-60 Hz) anyway. 20 Hz keeps all stride-frequency content (ω, swing and push waveforms are
#: unchanged between 20 and 40 Hz) but smooths the impact: at 3.5 m/s the median impact ‖a‖ is 4.6/6.6 g
#: (L/R) at 20 Hz vs 6.5/10.1 g at 40 Hz, peaking ≈ 13-20 ms after the force-plate IC. Impact amplitudes
#: are therefore lower bounds. ``load_fukuchi(trial, marker_lp_hz=...)`` varies it.
FUKUCHI_MARKER_LP_HZ = 20.0
FUKUCHI_SENSOR_MARKER = "Shank.Bottom.Lateral"
_CLUSTER = ("Shank.Top.Lateral", "Shank.Top.Medial", "Shank.Bottom.Lateral", "Shank.Bottom.Medial")
_SIDE_PREFIX = {Side.LEFT: "L", Side.RIGHT: "R"}
_LAB_FORWARD = np.array([1.0, 0.0, 0.0])  # lab +X: heel → toe in every trial (checked in tests)
_LAB_UP = np.array([0.0, 1.0, 0.0])  # lab +Y
_LAB_G = np.array([0.0, -G, 0.0])  # gravity, m/s²


class SideDict(dict):
    """A dict keyed by :class:`Side` that also accepts ``"L"``/``"R"`` and ``"left"``/``"right"``."""

    _ALIASES = {"L": Side.LEFT, "R": Side.RIGHT, "l": Side.LEFT, "r": Side.RIGHT}

    def __missing__(self, key):
        if key in self._ALIASES:
            return self[self._ALIASES[key]]
        raise KeyError(key)

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, self._ALIASES.get(key, key))


@dataclass(frozen=True)
class FukuchiTrial:
    """One Fukuchi treadmill trial with virtual shank IMUs and its ground truth.

    Attributes
    ----------
    trial : "T25" | "T35" | "T45" (treadmill speed 2.5 / 3.5 / 4.5 m/s)
    recording : left_shin and right_shin virtual IMUs, 150 Hz, with gyro_dps
    contacts : side → force-plate initial-contact times (s); the contact truncated at t = 0 is excluded
    toe_offs : side → force-plate toe-off times (s) of the same contacts
    peak_omega_t : side → time (s) of the peak sagittal shank angular velocity of each swing (between a
        toe-off and the next initial contact of the same foot), parabola-refined
    peak_omega_dps : side → that peak's value (deg/s, about the body z axis; negative = foot swinging
        forward, see :func:`load_fukuchi`)
    omega_dps : side → (t, ω_z): the sagittal angular velocity (deg/s) over the whole trial
    """

    trial: str
    recording: Recording
    contacts: SideDict
    toe_offs: SideDict
    peak_omega_t: SideDict
    peak_omega_dps: SideDict
    omega_dps: SideDict


def _read_points(path: Path) -> tuple[dict[str, np.ndarray], float]:
    import ezc3d  # optional test dependency

    c = ezc3d.c3d(str(path))
    labels = c["parameters"]["POINT"]["LABELS"]["value"]
    rate = float(c["parameters"]["POINT"]["RATE"]["value"][0])
    units = c["parameters"]["POINT"]["UNITS"]["value"][0]
    scale = {"mm": 1e-3, "m": 1.0}[units]
    pts = c["data"]["points"][:3] * scale  # (3, n_markers, n_frames)
    return {lab: pts[:, i, :].T.copy() for i, lab in enumerate(labels)}, rate


def _kabsch(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame rotation and translation fitting ``ref`` (m, 3) onto ``cur`` (n, m, 3).

    Returns R (n, 3, 3) and t (n, 3) with cur ≈ R @ ref + t.
    """
    ref_c = ref.mean(axis=0)
    cur_c = cur.mean(axis=1)
    P = ref - ref_c
    Q = cur - cur_c[:, None, :]
    H = np.einsum("mi,nmj->nij", P, Q)  # Σ p q^T
    U, _, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(np.einsum("nij,njk->nik", U, Vt)))
    D = np.zeros_like(H)
    D[:, 0, 0] = 1.0
    D[:, 1, 1] = 1.0
    D[:, 2, 2] = d
    R = np.einsum("nji,njk,nlk->nil", Vt, D, U)  # V D U^T
    t = cur_c - np.einsum("nij,j->ni", R, ref_c)
    return R, t


@lru_cache(maxsize=16)
def static_reference(path: Path) -> dict[Side, dict]:
    """Per side: cluster reference, sensor point, knee and ankle centres and anatomical axes (columns x, y, z in
    lab) from an RBDS static trial (any runner; c3d gaps, stored as (0, 0, 0), are left out of the means).

    x = ankle-joint centre → knee-joint centre (midpoints of the lateral/medial epicondyle and malleolus
    markers); y = lab forward (+X) made perpendicular to x; z = x × y (the runner's left, lab −Z).
    """
    pts, _ = _read_points(path)
    mean = {}
    for k, v in pts.items():
        ok = ~np.all(v == 0.0, axis=1)
        mean[k] = v[ok].mean(axis=0) if ok.any() else np.full(3, np.nan)
    out = {}
    for side, p in _SIDE_PREFIX.items():
        knee = 0.5 * (mean[f"{p}.Knee"] + mean[f"{p}.Knee.Medial"])
        ankle = 0.5 * (mean[f"{p}.Ankle"] + mean[f"{p}.Ankle.Medial"])
        x = knee - ankle
        x /= np.linalg.norm(x)
        y = _LAB_FORWARD - (_LAB_FORWARD @ x) * x
        y /= np.linalg.norm(y)
        out[side] = {
            "cluster": np.array([mean[f"{p}.{m}"] for m in _CLUSTER]),
            "sensor": mean[f"{p}.{FUKUCHI_SENSOR_MARKER}"],
            "axes": np.column_stack([x, y, np.cross(x, y)]),
            "knee": knee,
            "ankle": ankle,
        }
    return out


def _static_reference() -> dict[Side, dict]:
    """:func:`static_reference` of RBDS001 (the Fukuchi trials)."""
    return static_reference(require(f"{FUKUCHI}/c3d/RBDS001static.c3d"))


def _virtual_shank(
    pts: dict[str, np.ndarray], rate: float, side: Side, marker_lp_hz: float = FUKUCHI_MARKER_LP_HZ
) -> tuple[RoleSamples, np.ndarray]:
    """Virtual IMU of one shank; also returns the Kabsch RMS residual per frame (m)."""
    ref = _static_reference()[side]
    p = _SIDE_PREFIX[side]
    cur = np.stack([pts[f"{p}.{m}"] for m in _CLUSTER], axis=1)  # (n, 4, 3)
    n = cur.shape[0]
    if n > 15:
        cur = _lowpass(cur, marker_lp_hz, rate, axis=0)
    R, t = _kabsch(ref["cluster"], cur)
    fitted = np.einsum("nij,mj->nmi", R, ref["cluster"]) + t[:, None, :]
    resid = np.sqrt(((fitted - cur) ** 2).sum(axis=2).mean(axis=1))
    A = np.einsum("nij,jk->nik", R, ref["axes"])  # body axes in lab, per frame (columns)
    sensor = np.einsum("nij,j->ni", R, ref["sensor"]) + t  # m, lab
    h = 1.0 / rate
    acc_lab = np.empty_like(sensor)
    acc_lab[1:-1] = (sensor[2:] - 2 * sensor[1:-1] + sensor[:-2]) / h**2
    acc_lab[0], acc_lab[-1] = acc_lab[1], acc_lab[-2]
    f_lab = acc_lab - _LAB_G  # specific force
    acc_g = np.einsum("nji,nj->ni", A, f_lab) / G  # A^T f
    dA = np.gradient(A, h, axis=0)
    W = np.einsum("nji,njk->nik", A, dA)  # A^T dA/dt: skew, body-frame angular velocity
    W = 0.5 * (W - np.transpose(W, (0, 2, 1)))
    omega = np.column_stack([W[:, 2, 1], W[:, 0, 2], W[:, 1, 0]])
    gyro = np.degrees(omega)
    time_s = np.arange(n) / rate
    return RoleSamples(side.shin, time_s, acc_g, gyro), resid


@lru_cache(maxsize=1)
def load_fukuchi_static() -> Recording:
    """Virtual shank IMUs over the 1-s static standing trial (sanity check: x ≈ +1 g)."""
    pts, rate = _read_points(require(f"{FUKUCHI}/c3d/RBDS001static.c3d"))
    return {side.shin: _virtual_shank(pts, rate, side)[0] for side in Side}


@lru_cache(maxsize=4)
def fukuchi_fp_events(trial: str = "T35") -> list[dict]:
    """Rows of ``derived_fp_events_raw_c3d.csv`` for one trial (all of them, truncated ones included),
    with ``side`` as :class:`Side` and numeric fields as float/bool."""
    path = require(f"{FUKUCHI}/derived_fp_events_raw_c3d.csv")
    fname = f"RBDS001run{trial}.c3d"
    rows = []
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            if r["file"] != fname:
                continue
            rows.append(
                {
                    "side": Side.LEFT if r["side"] == "L" else Side.RIGHT,
                    "IC_s": float(r["IC_s"]),
                    "TO_s": float(r["TO_s"]),
                    "peak_abs_Fz_N": float(r["peak_abs_Fz_N"]),
                    "starts_at_trial_start": r["starts_at_trial_start"] == "1",
                    "ends_at_trial_end": r["ends_at_trial_end"] == "1",
                }
            )
    if not rows:
        raise ValueError(f"no force-plate events for {fname}")
    return rows


@lru_cache(maxsize=3)
def _fukuchi_markers(trial: str) -> tuple[dict[str, np.ndarray], float]:
    return _read_points(require(f"{FUKUCHI}/c3d/RBDS001run{trial}.c3d"))


@lru_cache(maxsize=6)
def load_fukuchi(trial: str = "T35", marker_lp_hz: float = FUKUCHI_MARKER_LP_HZ) -> FukuchiTrial:
    """Virtual left/right shank IMUs and ground truth for one Fukuchi RBDS001 treadmill trial.

    Virtual IMU
        The four shank-cluster markers are low-passed (``marker_lp_hz``, default
        :data:`FUKUCHI_MARKER_LP_HZ`), then fitted per
        frame (Kabsch/SVD) to their configuration in the static trial, giving R(t). The anatomical frame
        comes from the static trial's knee/ankle landmarks (:func:`_static_reference`) and is carried by
        R(t). The sensor point is the static position of ``Shank.Bottom.Lateral`` (lateral, distal third
        of the tibia) carried rigidly. Specific force = (p̈ − g) in the body frame, in g (second central
        difference); angular velocity = vee(Aᵀ dA/dt) in the body frame, deg/s.

    Sign of the sagittal rate
        ω_z is about body z (the runner's left). In mid-swing the foot swings forward past the knee, so
        the knee-ward x axis tilts backward: ω_z is *negative* there, and the swing peak is the minimum.
        ``peak_omega_t`` is the time of the most negative ω_z between each toe-off and the next initial
        contact of the same foot.
    """
    pts, rate = _fukuchi_markers(trial)
    recording: Recording = {}
    omega = SideDict()
    for side in Side:
        rs, _ = _virtual_shank(pts, rate, side, marker_lp_hz)
        recording[side.shin] = rs
        omega[side] = (rs.time_s, rs.gyro_dps[:, 2].copy())

    rows = fukuchi_fp_events(trial)
    contacts, toe_offs, peak_t, peak_v = SideDict(), SideDict(), SideDict(), SideDict()
    for side in Side:
        mine = [r for r in rows if r["side"] is side]
        valid = [r for r in mine if not r["starts_at_trial_start"]]
        contacts[side] = np.array([r["IC_s"] for r in valid])
        toe_offs[side] = np.array([r["TO_s"] for r in valid])
        t, w = omega[side]
        times, values = [], []
        for a, b in zip(mine[:-1], mine[1:]):  # swing: TO of one contact → IC of the next, same foot
            if a["ends_at_trial_end"]:
                continue
            sel = np.flatnonzero((t > a["TO_s"]) & (t < b["IC_s"]))
            if len(sel) < 3:
                continue
            i = sel[np.argmin(w[sel])]
            d, v = _parabolic(w, i)
            times.append(t[i] + d / rate)
            values.append(v)
        peak_t[side] = np.array(times)
        peak_v[side] = np.array(values)
    return FukuchiTrial(trial, recording, contacts, toe_offs, peak_t, peak_v, omega)


# ---------------------------------------------------------------------------------------------------------
# TRIPOD: treadmill walking, real shank IMUs (accelerometer + gyroscope), photo-cell contacts
# ---------------------------------------------------------------------------------------------------------

TRIPOD = "tripod_walking_shank"
TRIPOD_SPEEDS = ("PWS-20", "PWS", "PWS+20")
TRIPOD_FS_HZ = 128.0
_TRIPOD_FILES = {Role.LEFT_SHIN: "LS", Role.RIGHT_SHIN: "RS"}
_TRIPOD_PHOTO_SIDE = {"L": Side.LEFT, "R": Side.RIGHT}
#: a 1-s window is "quiet" when every accelerometer axis varies by less than this (g, SD); the quietest
#: window of each TRIPOD file (standing, at the start or the end of the trial) has SD ≤ 0.004 g
TRIPOD_QUIET_MAX_STD_G = 0.02


@dataclass(frozen=True)
class TripodTrial:
    """One TRIPOD treadmill walk of subject FZ: real shank IMUs and photo-cell truth.

    Attributes
    ----------
    speed : "PWS-20" | "PWS" | "PWS+20" (3.0 / 3.7 / 4.4 km/h)
    recording : left_shin and right_shin, 128 Hz, specific force (g) and angular rate (deg/s) in the body
        frame, on the IMU clock (s)
    contacts : side → photo-cell initial contacts on the IMU clock (s), ``ic_time + (Split − Split[0])``
    toe_offs : side → the toe-offs of the same contacts, ``contact + TContact`` (s)
    axis_maps : role → the inferred device → body rotation (rows: body x, y, z in device axes), see
        :func:`infer_shank_axes`
    axis_evidence : role → the figures the map was inferred from (see :func:`infer_shank_axes`)
    """

    speed: str
    recording: Recording
    contacts: SideDict
    toe_offs: SideDict
    axis_maps: dict
    axis_evidence: dict


def infer_shank_axes(acc_dev: np.ndarray, gyro_dev: np.ndarray, fs_hz: float) -> tuple[np.ndarray, dict]:
    """Device → body rotation of a shank sensor with undocumented axes, inferred from its own data.

    * **x** (toward the knee, +1 g standing) is the device axis that carries gravity: the largest
      component of the mean specific force over the quietest 1-s window (every axis SD below
      :data:`TRIPOD_QUIET_MAX_STD_G`; the whole file's mean when no window is that quiet), with its sign.
    * **z** (the runner's left) is the device axis with the dominant rotation (largest RMS angular rate
      over the file: the sagittal swing of the shank). It must differ from the gravity axis. Its sign is
      chosen so that the mid-swing peak is *negative* (MEASUREMENT.md §1): the swing peak is the largest
      excursion of the rate, so the sign makes the 1st percentile of ω_z larger in magnitude than the 99th.
    * **y** = z × x (anterior).

    Returns ``(M, evidence)``: M (3, 3) is a signed axis permutation, rows the body axes in device
    coordinates (``body = acc_dev @ M.T``), checked to be a proper rotation (det = +1). ``evidence``
    holds ``x_axis``/``z_axis`` (e.g. ``"+Y"``), ``quiet`` (whether a quiet window was found),
    ``gravity_g`` (that window's mean in the body frame), ``swing_peak_dps`` and ``counter_peak_dps``
    (1st and 99th percentiles of body ω_z) and ``rms_dps`` (device RMS rate per axis).
    """
    names = "XYZ"
    n_win = int(round(fs_hz))
    n = len(acc_dev) // n_win
    blocks = acc_dev[: n * n_win].reshape(n, n_win, 3)
    sd = blocks.std(axis=1).max(axis=1)
    k = int(np.argmin(sd))
    quiet = bool(sd[k] < TRIPOD_QUIET_MAX_STD_G)
    mean = blocks[k].mean(axis=0) if quiet else acc_dev.mean(axis=0)
    ix = int(np.argmax(np.abs(mean)))
    sx = float(np.sign(mean[ix]))
    rms = np.sqrt((gyro_dev**2).mean(axis=0))
    iz = int(np.argmax(rms))
    if iz == ix:
        raise ValueError(f"the dominant rotation axis ({names[iz]}) is the gravity axis: not a shank sensor?")
    lo, hi = np.percentile(gyro_dev[:, iz], [1, 99])
    sz = 1.0 if abs(lo) > abs(hi) else -1.0  # the swing's large excursion must read negative in the body
    x = np.zeros(3)
    x[ix] = sx
    z = np.zeros(3)
    z[iz] = sz
    M = np.vstack([x, np.cross(z, x), z])
    if not (np.allclose(M @ M.T, np.eye(3)) and np.isclose(np.linalg.det(M), 1.0)):
        raise AssertionError(f"inferred axis map is not a proper rotation: {M}")
    w = gyro_dev @ M[2]
    evidence = {
        "x_axis": ("+" if sx > 0 else "-") + names[ix],
        "z_axis": ("+" if sz > 0 else "-") + names[iz],
        "quiet": quiet,
        "gravity_g": mean @ M.T,
        "swing_peak_dps": float(np.percentile(w, 1)),
        "counter_peak_dps": float(np.percentile(w, 99)),
        "rms_dps": rms,
    }
    return M, evidence


def _tripod_imu(speed: str, role: Role) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    path = require(f"{TRIPOD}/Sub_FZ/{speed}/IMU/{_TRIPOD_FILES[role]}.csv")
    data = np.genfromtxt(path, delimiter=",", skip_header=7, usecols=range(7))
    t_file = data[:, 0]
    # the export rounds times to 10 µs: rebuild the exact 128-Hz grid on the same clock
    t = (np.round(t_file[0] * TRIPOD_FS_HZ) + np.arange(len(t_file))) / TRIPOD_FS_HZ
    if np.abs(t - t_file).max() > 1e-4:
        raise ValueError(f"{path}: samples are not on a regular {TRIPOD_FS_HZ:g}-Hz grid")
    return t, data[:, 4:7].copy(), data[:, 1:4].copy()


def _tripod_photocells(speed: str) -> tuple[SideDict, SideDict]:
    with open(require(f"{TRIPOD}/SyncInfo.csv"), newline="") as fh:
        ic_time = {r["run"]: float(r["ic_time"]) for r in csv.DictReader(fh) if r["subject"] == "Sub_FZ"}[speed]
    with open(require(f"{TRIPOD}/Sub_FZ/{speed}/OptoGait/optogait.csv"), newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["L/R"] in _TRIPOD_PHOTO_SIDE]
    split0 = float(rows[0]["Split"])  # the first foot contact (a right one in every trial)
    contacts, toe_offs = SideDict(), SideDict()
    for side in Side:
        mine = [r for r in rows if _TRIPOD_PHOTO_SIDE[r["L/R"]] is side and r["TContact"] != ""]
        ic = ic_time + np.array([float(r["Split"]) for r in mine]) - split0
        contacts[side] = ic
        toe_offs[side] = ic + np.array([float(r["TContact"]) for r in mine])
    return contacts, toe_offs


@lru_cache(maxsize=3)
def load_tripod(speed: str) -> TripodTrial:
    """Real GaitUp Physilog shank IMUs (128 Hz) and OptoGait photo-cell truth, one TRIPOD walk.

    Signals
        ``Accel X/Y/Z`` (g) and ``Gyro X/Y/Z`` (deg/s) of ``LS.csv``/``RS.csv`` become ``left_shin`` and
        ``right_shin``, rotated into the body frame by a map inferred from each file
        (:func:`infer_shank_axes`); the file's rounded times are replaced by the exact 128-Hz grid on the
        same (IMU) clock.

    Inferred axis maps (identical at all three speeds; checked in the tests). Figures: PWS−20 / PWS / PWS+20.
        ``left_shin``: x = +device Y, y = −device X, z = +device Z. Gravity: the quietest second of each
        file (standing on the belt, at its start or end) reads body x = +0.965 / +0.977 / +0.974 g.
        Rotation: device Z carries by far the most (RMS 121 / 141 / 157 deg/s against ≤ 51 on X and
        Y), and its large excursion, the swing, is negative as worn: body ω_z 1st percentile −300 / −354 /
        −393 deg/s against +163 / +196 / +228 at the 99th.
        ``right_shin``: x = +device Y, y = +device X, z = −device Z. Gravity: body x = +0.971 / +0.989 /
        +0.989 g. Device Z again dominates (RMS 120 / 142 / 158 deg/s, ≤ 48 on X and Y) but its swing
        reads *positive* on the device (the sensors are mirror-mounted on the lateral faces), so z = −Z:
        body ω_z 1st percentile −286 / −340 / −383 deg/s against +166 / +196 / +232 at the 99th.
        Both are signed permutations with det = +1. Consistency beyond the inference: with these maps the
        left and right swings hit the photo-cells' swing phases of the same foot (a gyroscope anchor lies
        between a toe-off and the next contact of that foot for 95–100 % of anchors, of the other foot for
        ≤ 2 %) and peak at the same rates on both legs. A signed permutation is the nearest axis-aligned
        mounting, not an exact one: standing, body y still reads −0.01 to +0.22 g and |z| 0.14 to 0.23 g
        (sensor tilt on the tibia plus posture); that residual rotation is left in the data.

    Truth (OptoGait, ``PROVENANCE.md``)
        Rows whose ``L/R`` is ``L``/``R`` (the START/STOP trigger rows and "No step" rows dropped; their
        L/R column is the foot); contact on the IMU clock = ``ic_time + (Split − Split[0])`` with Split[0]
        the first contact row (always a right foot: subjects stepped on with the right foot, and
        ``ic_time`` was clicked by hand on the right *foot* IMU's first impact); toe-off = contact +
        ``TContact``. A contact without ``TContact`` (the last row of two trials) is dropped. The photo-cell
        data keep their artefacts (a few 0.5-s or 4.9-s "strides" at the trial ends).

    Clock caveat
        Only one manual alignment per trial (``ic_time``), made on another sensor (the right foot's), and the
        two shank sensors do not agree with each other: their sagittal rates put the legs 0.52 / 0.63 / 0.66
        of a stride apart (PWS−20 / PWS / PWS+20) where the photo-cells say 0.50, i.e. the right shank's
        clock runs ≈ 54 / 171 / 178 ms behind the left one's. Use the truth for counts, stance fractions,
        intervals and spreads, not for absolute timing bias (docs/tripod_check.md).
    """
    if speed not in TRIPOD_SPEEDS:
        raise ValueError(f"speed must be one of {', '.join(TRIPOD_SPEEDS)}, not {speed!r}")
    recording: Recording = {}
    maps, evidence = {}, {}
    for role in _TRIPOD_FILES:
        t, acc_dev, gyro_dev = _tripod_imu(speed, role)
        M, ev = infer_shank_axes(acc_dev, gyro_dev, TRIPOD_FS_HZ)
        recording[role] = RoleSamples(role, t, acc_dev @ M.T, gyro_dev @ M.T)
        maps[role], evidence[role] = M, ev
    contacts, toe_offs = _tripod_photocells(speed)
    return TripodTrial(speed, recording, contacts, toe_offs, maps, evidence)
