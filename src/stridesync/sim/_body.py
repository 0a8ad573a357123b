"""Rigid-segment limb models driven by templates measured on real runners.

Each limb is one rigid segment in the sagittal plane, described by a *pose*: the angle θ of the segment
and the position of one of its points, both as templates of stride phase ψ (:mod:`._templates`). The
sensor's angular rate and specific force follow from the same pose by differentiation, so the gyro and
the accelerometer always agree with each other and with the truth instants.

- **Shank**: θ is the shank's angle from the downward vertical (positive with the foot forward), the
  point is the ankle-joint centre in a frame moving with the runner's mean speed (the treadmill's frame,
  inertial). The sensor sits :data:`ANKLE_SENSOR_M` above the ankle on the shank's axis. Templates: RBDS,
  12 runners at 2.5 / 3.5 / 4.5 m/s, stride-normalised through initial contact (ψ = 0), toe-off and the
  swing peak. The angle and the ankle's path have their own warps (``stridesync.sim._shank_knots``,
  ``_ankle_knots``): the angle's keeps the swing peak's shape, the ankle's keeps the foot planted.
- **Forearm**: θ is the forearm's angle as a watch's gyro sees it (its mean from the elbow → wrist line,
  its swing from −∫ω_z of the virtual watch), the point is the wrist relative to the pelvis; the pelvis's
  own specific force (from the legs' ground reactions, ``stridesync.sim._pelvis``) is added. Templates:
  Hamner & Delp 2013, 5 runners at 2-5 m/s, normalised through the wrist's forward (ψ = 0) and backward
  turnarounds relative to the pelvis.

The model is planar: the gyro's x and y read zero, the accelerometer's z only the pelvis's sway (and, at
the wrist, the swing's crossing toward the midline).

Sign conventions (MEASUREMENT.md §1): the world frame is (fwd, up) with the lateral axis to the left; a
segment at angle θ has body axes ``x = (−sin θ, cos θ)`` (toward the proximal joint), ``y = (cos θ, sin θ)``
and ``z`` = left, and ω_z = −θ̇ (negative when the distal end swings forward).

Templates at one speed are blended from the two measured speeds around it (each remapped onto the blended
knot phases with the C² warp of :mod:`._warp`, so the blended swing peak and turnarounds stay extrema on
their knots). All accelerations here are in g, angles in rad, times in s.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import _templates
from ._warp import Phase, make_warp

G_MS2 = 9.80665

#: Shank sensor: on the shank's axis, this far above the ankle-joint centre: the lower end of a
#: sensor strapped on the distal third of the tibia, where the RBDS virtual sensor sits (16-21 % of the
#: ankle-knee distance).
ANKLE_SENSOR_M = 0.08
#: Knee to the shank sensor: the lever of ``SimParams.swing_amp_g`` (centripetal ω²r at the sensor).
SHIN_SENSOR_M = 0.30

_TABLE = 4096  # samples per stride of the evaluation tables
#: The core of the shank's swing lobe, played at one rate (``stridesync.sim._shank_knots``): where the
#: forward angular velocity exceeds this share of its peak. Outside it the rate is at most 1.6 times the
#: core's (×1.2 in an easing part), which leaves the forward rate well below the peak.
LOBE_CORE = 0.3
_FFT = 1024  # samples per stride when blending


# --------------------------------------------------------------------------------------------------
# periodic curves


@dataclass(frozen=True)
class Curve:
    """A periodic function of phase ψ (period 1), tabulated with its first two ψ-derivatives."""

    coef: np.ndarray  # complex Fourier coefficients c_0..c_H
    val: np.ndarray
    d1: np.ndarray
    d2: np.ndarray

    @classmethod
    def from_coef(cls, coef: np.ndarray) -> "Curve":
        coef = np.asarray(coef, dtype=complex)
        return cls(coef, *(np.append(v, v[0]) for v in (_synth(coef, der, _TABLE) for der in range(3))))

    @classmethod
    def from_samples(cls, y: np.ndarray, harmonics: int) -> "Curve":
        """Fourier fit (``harmonics`` kept) of samples on ψ = arange(n)/n."""
        return cls.from_coef(np.fft.rfft(y)[: harmonics + 1] / len(y))

    @property
    def mean(self) -> float:
        return float(self.coef[0].real)

    def eval(self, psi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Value, dy/dψ and d²y/dψ² (linear interpolation in the 4096-point tables)."""
        x = (np.asarray(psi) % 1.0) * _TABLE
        i = np.minimum(x.astype(np.int64), _TABLE - 1)
        w = x - i
        return tuple(tab[i] + w * (tab[i + 1] - tab[i]) for tab in (self.val, self.d1, self.d2))  # type: ignore[return-value]

    def exact(self, psi: np.ndarray, der: int = 0) -> np.ndarray:
        """The Fourier series itself (slow, exact): for finding extrema."""
        psi = np.atleast_1d(np.asarray(psi, dtype=float))
        h = np.arange(len(self.coef))
        w = (2j * np.pi * h) ** der
        c = self.coef * w
        c[1:] *= 2.0
        if der:
            c[0] = 0.0
        return (np.exp(2j * np.pi * np.outer(psi, h)) @ c).real

    def extremum_near(self, psi0: float, *, maximum: bool, der: int = 0, span: float = 0.05) -> float:
        """Phase of the extremum of the ``der``-th derivative nearest ``psi0`` (within ±span), to ~1e-9."""
        lo, hi = psi0 - span, psi0 + span
        sign = 1.0 if maximum else -1.0
        for _ in range(5):
            g = np.linspace(lo, hi, 201)
            i = int(np.clip(np.argmax(sign * self.exact(g, der)), 1, len(g) - 2))
            lo, hi = g[i - 1], g[i + 1]
        return float(g[i])


def _synth(coef: np.ndarray, der: int, n: int) -> np.ndarray:
    """The ``der``-th derivative of the series on ψ = arange(n)/n."""
    spec = np.zeros(n // 2 + 1, dtype=complex)
    h = np.arange(len(coef))
    spec[: len(coef)] = coef * (2j * np.pi * h) ** der
    if der:
        spec[0] = 0.0
    return np.fft.irfft(spec * n, n)


def _tuple_coef(pair: tuple[tuple[float, ...], tuple[float, ...]]) -> np.ndarray:
    return np.asarray(pair[0]) + 1j * np.asarray(pair[1])


def _remap(curve_coef: np.ndarray, src_knots: np.ndarray, dst_knots: np.ndarray) -> np.ndarray:
    """Samples on the destination phase grid of a curve whose knots sit at ``src_knots`` (periodic)."""
    ext = lambda k: np.concatenate([k + j for j in (-2, -1, 0, 1, 2)])  # noqa: E731
    warp = make_warp(ext(src_knots), ext(dst_knots))  # t(ψ_dst) = ψ_src: "time" is the source phase
    grid = np.arange(_FFT) / _FFT
    src = warp.time(grid)
    c = curve_coef.copy()
    c[1:] *= 2.0
    h = np.arange(len(c))
    return (np.exp(2j * np.pi * np.outer(src, h)) @ c).real


def _blend(table: dict, speed: float, names: tuple[str, ...], knots_of) -> tuple[dict[str, Curve], np.ndarray, float]:
    """Curves blended between the two measured speeds around ``speed`` (clipped to the measured range)."""
    speeds = sorted(table)
    v = float(np.clip(speed, speeds[0], speeds[-1]))
    j = int(np.clip(np.searchsorted(speeds, v) - 1, 0, len(speeds) - 2))
    a, b = speeds[j], speeds[j + 1]
    wb = (v - a) / (b - a)
    ka, kb = knots_of(table[a]), knots_of(table[b])
    knots = (1 - wb) * ka + wb * kb
    curves = {}
    for name in names:
        ca, cb = _tuple_coef(table[a][name]), _tuple_coef(table[b][name])
        harmonics = len(ca) - 1
        y = (1 - wb) * _remap(ca, ka, knots) + wb * _remap(cb, kb, knots)
        curves[name] = Curve.from_samples(y, harmonics)
    stride = (1 - wb) * table[a]["stride_s"] + wb * table[b]["stride_s"]
    return curves, knots, float(stride)


# --------------------------------------------------------------------------------------------------
# limb templates


@dataclass(frozen=True)
class ShankTemplate:
    theta: Curve
    ankle_fwd: Curve
    ankle_up: Curve
    push_psi: float  # toe-off
    swing_psi: float  # the swing peak: the maximum of dθ/dψ (d²θ/dψ² = 0 exactly here)
    lobe: tuple[float, float]  # the swing lobe's core: dθ/dψ > LOBE_CORE × its peak between these
    stride_s: float  # the measured runners' mean stride at this speed

    def peak_rate_per_phase(self) -> float:
        """dθ/dψ at the swing peak, rad per unit phase."""
        return float(self.theta.exact(self.swing_psi, 1)[0])


@dataclass(frozen=True)
class ArmTemplate:
    theta: Curve
    wrist_fwd: Curve
    wrist_up: Curve
    fwd_psi: float  # forward turnaround: maximum of wrist_fwd
    back_psi: float  # backward turnaround: minimum of wrist_fwd
    stride_s: float


def _shank_knots(d: dict) -> np.ndarray:
    w0, w1 = d["widths"]
    return np.array([0.0, w0, w0 + w1])


def _arm_knots(d: dict) -> np.ndarray:
    return np.array([0.0, d["back_phase"]])


@lru_cache(maxsize=32)
def shank_template(speed_ms: float) -> ShankTemplate:
    """The population's shank template at a running speed (blended between 2.5, 3.5 and 4.5 m/s)."""
    curves, knots, stride = _blend(_templates.SHANK, speed_ms, ("theta", "ankle_fwd", "ankle_up"), _shank_knots)
    th = curves["theta"]
    swing = th.extremum_near(knots[2], maximum=True, der=1, span=0.03)
    # the core of the swing's forward lobe: where dθ/dψ is above LOBE_CORE × its peak
    g = np.linspace(knots[1], 1.0, 8001)
    d1 = th.exact(g, 1)
    i_pk = int(np.argmin(np.abs(g - swing)))
    level = LOBE_CORE * th.exact(swing, 1)[0]
    low = np.flatnonzero(d1 <= level)
    i0, i1 = low[low < i_pk].max(), low[low > i_pk].min()
    cross = lambda i: float(g[i] + (g[i + 1] - g[i]) * (d1[i] - level) / (d1[i] - d1[i + 1]))  # noqa: E731
    lobe = (cross(i0), cross(i1 - 1))
    return ShankTemplate(th, curves["ankle_fwd"], curves["ankle_up"], float(knots[1]), swing, lobe, stride)


@lru_cache(maxsize=32)
def arm_template(speed_ms: float) -> ArmTemplate:
    """The population's forearm template at a running speed (blended between 2, 3, 4 and 5 m/s)."""
    curves, knots, stride = _blend(_templates.ARM, speed_ms, ("theta", "wrist_fwd", "wrist_up"), _arm_knots)
    x = curves["wrist_fwd"]
    fwd = x.extremum_near(knots[0], maximum=True, span=0.05)
    back = x.extremum_near(knots[1], maximum=False, span=0.05)
    return ArmTemplate(curves["theta"], x, curves["wrist_up"], fwd, back, stride)


def natural_swing_peaks_dps() -> tuple[np.ndarray, np.ndarray]:
    """(speeds, the measured runners' median peak forward shank angular velocity in deg/s): the scale on
    which a requested peak is mapped to an equivalent running speed."""
    speeds = np.array(sorted(_templates.SHANK), dtype=float)
    return speeds, np.array([_templates.SHANK[v]["swing_peak_dps"] for v in speeds])


def equivalent_speed(peak_dps: float) -> float:
    """Running speed (m/s) whose population swing peak is ``peak_dps`` (linear in between, extrapolated)."""
    v, p = natural_swing_peaks_dps()
    if peak_dps <= p[0]:
        return float(v[0] + (peak_dps - p[0]) * (v[1] - v[0]) / (p[1] - p[0]))
    if peak_dps >= p[-1]:
        return float(v[-1] + (peak_dps - p[-1]) * (v[-1] - v[-2]) / (p[-1] - p[-2]))
    return float(np.interp(peak_dps, p, v))


# --------------------------------------------------------------------------------------------------
# kinematics


@dataclass(frozen=True)
class Gain:
    """Activity level (0 standing … 1 running) scaling a limb's excursion, with its time derivatives."""

    v: np.ndarray
    d1: np.ndarray
    d2: np.ndarray


def _timed(g: Gain, ph: Phase, v: np.ndarray, d1: np.ndarray, d2: np.ndarray):
    """y(t) = g(t)·Y(ψ(t)) and its first two time derivatives."""
    yd = d1 * ph.rate
    ydd = d2 * ph.rate**2 + d1 * ph.accel
    return g.v * v, g.d1 * v + g.v * yd, g.d2 * v + 2 * g.d1 * yd + g.v * ydd


def _scaled(curve: Curve, psi: np.ndarray, scale: float, about_mean: bool):
    v, d1, d2 = curve.eval(psi)
    if about_mean:
        m = curve.mean
        return m + scale * (v - m), scale * d1, scale * d2
    return scale * v, scale * d1, scale * d2


@dataclass(frozen=True)
class Motion:
    """A segment's angle (θ, θ̇, θ̈), its sensor's position (fwd, up) in m and acceleration (fwd, up) in g,
    world frame, without gravity. For the wrist both are relative to the pelvis."""

    theta: tuple[np.ndarray, np.ndarray, np.ndarray]
    pos_fwd: np.ndarray
    pos_up: np.ndarray
    acc_fwd: np.ndarray
    acc_up: np.ndarray


def shank_motion(tpl: ShankTemplate, ph: Phase, ph_ankle: Phase, gain: Gain, scale: float) -> Motion:
    """Rigid shank: ankle-joint centre + sensor :data:`ANKLE_SENSOR_M` up the shank's axis.

    The angle follows ``ph``, the ankle's path ``ph_ankle`` (its own warp, see
    ``stridesync.sim._ankle_knots``). ``scale`` multiplies the angle's excursion about its mean and the
    ankle's fore-aft excursion (a harder swing goes with a longer stride); the ankle's vertical path is kept.
    """
    th = _timed(gain, ph, *_scaled(tpl.theta, ph.psi, scale, True))
    ax = _timed(gain, ph_ankle, *_scaled(tpl.ankle_fwd, ph_ankle.psi, scale, False))
    ay = _timed(gain, ph_ankle, *_scaled(tpl.ankle_up, ph_ankle.psi, 1.0, False))
    # sensor = ankle + r (−sin θ, cos θ)
    r = ANKLE_SENSOR_M
    c, s = np.cos(th[0]), np.sin(th[0])
    f = ax[2] + r * (-c * th[2] + s * th[1] ** 2)
    u = ay[2] + r * (-s * th[2] - c * th[1] ** 2)
    return Motion(th, ax[0] - r * s, ay[0] + r * c, f / G_MS2, u / G_MS2)


def arm_motion(tpl: ArmTemplate, ph: Phase, gain: Gain, scale: float) -> Motion:
    """Rigid forearm with the sensor at the wrist; position and acceleration relative to the pelvis (the
    extremes of the fore-aft position are the arm's turnarounds). ``scale`` multiplies the forearm angle's
    excursion about its mean and the wrist's path relative to the pelvis.
    """
    th = _timed(gain, ph, *_scaled(tpl.theta, ph.psi, scale, True))
    x = _timed(gain, ph, *_scaled(tpl.wrist_fwd, ph.psi, scale, False))
    y = _timed(gain, ph, *_scaled(tpl.wrist_up, ph.psi, scale, False))
    return Motion(th, x[0], y[0], x[2] / G_MS2, y[2] / G_MS2)


def to_body(f_fwd: np.ndarray, f_up: np.ndarray, f_lat: np.ndarray, th: np.ndarray) -> np.ndarray:
    """Rotate world specific force (g) into the contract's body frame of a segment at angle θ."""
    c, s = np.cos(th), np.sin(th)
    return np.column_stack((-f_fwd * s + f_up * c, f_fwd * c + f_up * s, f_lat))


# --------------------------------------------------------------------------------------------------
# transients


def damped_sine(tau_s: np.ndarray, freq_hz: float, decay_s: float) -> np.ndarray:
    """A unit-peak damped sine starting at τ = 0 (zero before); the shape of an impact or wobble."""
    w = 2.0 * np.pi * freq_hz
    t_pk = np.arctan(w * decay_s) / w
    peak = np.exp(-t_pk / decay_s) * np.sin(w * t_pk)
    tau = np.clip(tau_s, 0, None)
    out = np.where(tau_s >= 0.0, np.exp(-tau / decay_s) * np.sin(w * tau), 0.0)
    return out / peak


def damped_sine_peak_s(freq_hz: float, decay_s: float) -> float:
    """Time from onset to the first (largest) peak of :func:`damped_sine`, s."""
    w = 2.0 * np.pi * freq_hz
    return float(np.arctan(w * decay_s) / w)
