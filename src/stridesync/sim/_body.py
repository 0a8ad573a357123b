"""Planar body model: joint-angle templates and their rendering into body-frame specific force.

Why kinematics and not wave shapes: the contract's features are physical (the swing peak is the
centripetal ω²r of the shank, push is the tangential dip at the end of push-off, the arm turnarounds
are where the forearm's tangential acceleration changes sign), so generating position-level motion
and differentiating it gives waveforms whose *other* parts (gravity projection, pelvis bounce,
harmonics) interfere with the features the way they do on real sensors.

World frame (sagittal plane): ``fwd`` (anterior) and ``up``; the lateral axis points left, so the
contract's body frame of a segment at angle θ from the downward vertical (positive = distal end
forward) is ``x = (-sin θ, cos θ)``, ``y = (cos θ, sin θ)``, ``z = left``.
All accelerations here are in g, angles in rad, times in s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

G_MS2 = 9.80665

#: Segment geometry, m (adult, 1.75-1.80 m tall).
THIGH_M = 0.45
SHIN_SENSOR_M = 0.30  # knee to sensor: distal third of a 0.43 m tibia
UPPER_ARM_M = 0.30
FOREARM_SENSOR_M = 0.25  # elbow to dorsal wrist

# Typical running kinematics in degrees vs stride phase (0 = contact, ~0.35 = toe-off/push,
# ~0.85 = peak shank angular velocity, i.e. the other leg's push). Shapes follow published
# sagittal-plane curves (thigh flexion; shank angle to vertical); fitted by a periodic spline and
# kept as a 7-harmonic Fourier series so that derivatives are analytic.
_THIGH_KEYS_DEG = [
    (0.00, 27), (0.12, 16), (0.25, 0), (0.38, -14), (0.46, -15), (0.60, 0),
    (0.74, 26), (0.88, 40), (0.95, 35),
]
_SHANK_KEYS_DEG = [
    (0.00, 7), (0.10, -8), (0.20, -19), (0.30, -32), (0.38, -45), (0.50, -70),
    (0.64, -86), (0.76, -58), (0.86, -10), (0.935, 16), (0.975, 13),
]
#: Canonical phases of the designed features in the templates.
PUSH_PHASE = 0.36
PUSH_WIDTH = 0.028  # Gaussian σ of the push-off dip, in stride phase (~19 ms at 175 spm)
N_HARMONICS = 7


@dataclass(frozen=True)
class Fourier:
    """A periodic function of stride phase ψ (period 1) with analytic derivatives."""

    mean: float
    a: np.ndarray  # cos coefficients, harmonics 1..H
    b: np.ndarray  # sin coefficients

    @classmethod
    def from_keys(cls, keys_deg: list[tuple[float, float]], harmonics: int = N_HARMONICS) -> "Fourier":
        ph = np.array([k[0] for k in keys_deg] + [1.0])
        val = np.deg2rad(np.array([k[1] for k in keys_deg] + [keys_deg[0][1]]))
        spline = CubicSpline(ph, val, bc_type="periodic")
        n = 512
        grid = np.arange(n) / n
        spec = np.fft.rfft(spline(grid)) / n
        a = 2.0 * spec.real[1 : harmonics + 1]
        b = -2.0 * spec.imag[1 : harmonics + 1]
        return cls(float(spec.real[0]), a, b)

    def eval(self, psi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Value, first and second derivative with respect to ψ."""
        h = np.arange(1, len(self.a) + 1)
        w = 2.0 * np.pi * h
        v = np.full(psi.shape, self.mean)
        d1 = np.zeros(psi.shape)
        d2 = np.zeros(psi.shape)
        for k in range(len(h)):
            c = np.cos(w[k] * psi)
            s = np.sin(w[k] * psi)
            v += self.a[k] * c + self.b[k] * s
            d1 += w[k] * (-self.a[k] * s + self.b[k] * c)
            d2 -= w[k] ** 2 * (self.a[k] * c + self.b[k] * s)
        return v, d1, d2


THIGH = Fourier.from_keys(_THIGH_KEYS_DEG)
SHANK = Fourier.from_keys(_SHANK_KEYS_DEG)


def shank_peak_rate_per_phase() -> float:
    """max |dθ_shank/dψ| (rad per stride), to turn a centripetal target into an excursion scale."""
    psi = np.linspace(0.0, 1.0, 2000, endpoint=False)
    return float(np.max(np.abs(SHANK.eval(psi)[1])))


def _segment_acc(r_m: float, th: np.ndarray, thd: np.ndarray, thdd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Acceleration (fwd, up) in g of a point r_m along a segment hanging at angle θ from its joint."""
    c, s = np.cos(th), np.sin(th)
    k = r_m / G_MS2
    return k * (thdd * c - thd**2 * s), k * (thdd * s + thd**2 * c)


def to_body(f_fwd: np.ndarray, f_up: np.ndarray, f_lat: np.ndarray, th: np.ndarray) -> np.ndarray:
    """Rotate world specific force (g) into the contract's body frame of a segment at angle θ."""
    c, s = np.cos(th), np.sin(th)
    return np.column_stack((-f_fwd * s + f_up * c, f_fwd * c + f_up * s, f_lat))


@dataclass(frozen=True)
class Phase:
    """Stride phase ψ(t) (unwrapped: stride k spans k..k+1) and its time derivatives."""

    psi: np.ndarray
    rate: np.ndarray  # dψ/dt, 1/s
    accel: np.ndarray  # d²ψ/dt², 1/s²


def shin_kinematics(
    ph: Phase,
    gain: np.ndarray,
    *,
    swing_scale: float,
    push_depth_g: float,
    push_psi: float,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Shank angle (θ, θ̇, θ̈) and the sensor's acceleration relative to the hip (fwd, up), in g.

    ``gain`` scales the excursion from the standing posture (0 standing, 1 running).
    ``swing_scale`` scales the shank's excursion about its mean, so the centripetal swing peak
    scales with its square. The push-off dip is a narrow Gaussian bump in the shank angle whose
    second derivative gives a tangential (−y) acceleration of ``push_depth_g`` at its centre.
    """
    psi = ph.psi
    t_v, t_d1, t_d2 = THIGH.eval(psi)
    s_v, s_d1, s_d2 = SHANK.eval(psi)
    s_v = SHANK.mean + swing_scale * (s_v - SHANK.mean)
    s_d1 = swing_scale * s_d1
    s_d2 = swing_scale * s_d2
    # push-off bump, periodic in ψ: θ_b = -B exp(-u²/2σ²); θ_b'' at centre = +B/σ² ... sign chosen so
    # that the tangential acceleration r·θ̈ is negative (a_y dip) at the centre.
    u = (psi - push_psi + 0.5) % 1.0 - 0.5
    sig = PUSH_WIDTH
    e = np.exp(-0.5 * (u / sig) ** 2)
    rate0 = np.median(ph.rate) if len(ph.rate) else 1.0
    bump = push_depth_g * G_MS2 / SHIN_SENSOR_M * sig**2 / rate0**2  # rad, so θ̈(0) = -depth·g/r
    b_v = bump * e
    b_d1 = bump * e * (-u / sig**2)
    b_d2 = bump * e * (u**2 / sig**4 - 1.0 / sig**2)
    s_v, s_d1, s_d2 = s_v + b_v, s_d1 + b_d1, s_d2 + b_d2

    def timed(v, d1, d2):
        return gain * v, gain * d1 * ph.rate, gain * (d2 * ph.rate**2 + d1 * ph.accel)

    th_t = timed(t_v, t_d1, t_d2)
    th_s = timed(s_v, s_d1, s_d2)
    ft, ut = _segment_acc(THIGH_M, *th_t)
    fs_, us_ = _segment_acc(SHIN_SENSOR_M, *th_s)
    return th_s, (ft + fs_, ut + us_)


def arm_kinematics(
    ph: Phase, gain: np.ndarray, *, swing_rad: float, mean_rad: float, elbow_rad: float
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Forearm angle (θ, θ̇, θ̈), wrist acceleration relative to the shoulder (fwd, up) in g, and the
    tangential acceleration (g) used for the small cross-body (z) component.

    ψ = 0 is the forward turnaround (max shoulder flexion), ψ = 0.5 the backward one. The shoulder
    swing has a second harmonic (the arm goes less far forward than back) and the elbow flexes
    more when the arm is forward, as in running.
    """
    w = 2.0 * np.pi * ph.psi
    A = swing_rad
    u_v = mean_rad + A * (np.cos(w) + 0.12 * np.cos(2 * w + 0.4))
    u_d1 = -2 * np.pi * A * (np.sin(w) + 0.24 * np.sin(2 * w + 0.4))
    u_d2 = -((2 * np.pi) ** 2) * A * (np.cos(w) + 0.48 * np.cos(2 * w + 0.4))
    eA = np.deg2rad(12.0)
    e_v = elbow_rad + eA * np.cos(w - 0.3)
    e_d1 = -2 * np.pi * eA * np.sin(w - 0.3)
    e_d2 = -((2 * np.pi) ** 2) * eA * np.cos(w - 0.3)

    def timed(v, d1, d2):
        return gain * v, gain * d1 * ph.rate, gain * (d2 * ph.rate**2 + d1 * ph.accel)

    th_u = timed(u_v, u_d1, u_d2)
    th_f = timed(u_v + e_v, u_d1 + e_d1, u_d2 + e_d2)
    fu, uu = _segment_acc(UPPER_ARM_M, *th_u)
    ff, uf = _segment_acc(FOREARM_SENSOR_M, *th_f)
    tangential = (UPPER_ARM_M * th_u[2] + FOREARM_SENSOR_M * th_f[2]) / G_MS2
    return th_f, (fu + ff, uu + uf), tangential


def damped_sine(tau_s: np.ndarray, freq_hz: float, decay_s: float) -> np.ndarray:
    """A unit-peak damped sine starting at τ = 0 (zero before); the shape of an impact or wobble."""
    w = 2.0 * np.pi * freq_hz
    t_pk = np.arctan(w * decay_s) / w
    peak = np.exp(-t_pk / decay_s) * np.sin(w * t_pk)
    out = np.where(tau_s >= 0.0, np.exp(-np.clip(tau_s, 0, None) / decay_s) * np.sin(w * np.clip(tau_s, 0, None)), 0.0)
    return out / peak


def damped_sine_peak_s(freq_hz: float, decay_s: float) -> float:
    """Time from onset to the first (largest) peak of :func:`damped_sine`, s."""
    w = 2.0 * np.pi * freq_hz
    return float(np.arctan(w * decay_s) / w)
