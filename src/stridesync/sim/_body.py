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
ANKLE_SENSOR_M = 0.13  # ankle to sensor
UPPER_ARM_M = 0.30
FOREARM_SENSOR_M = 0.25  # elbow to dorsal wrist

# Typical running kinematics in degrees vs stride phase (0 = contact, ~0.35 = toe-off/push,
# ~0.85 = peak shank angular velocity, i.e. the other leg's push). Shapes follow published
# sagittal-plane curves (thigh flexion; shank angle to vertical); fitted by a periodic spline and
# kept as a 7-harmonic Fourier series so that derivatives are analytic.
_THIGH_KEYS_DEG = [
    (0.00, 27), (0.12, 16), (0.25, 0), (0.38, -14), (0.46, -15), (0.60, 0),
    (0.74, 26), (0.86, 37), (0.95, 32),
]
_SHANK_KEYS_DEG = [
    (0.00, 10), (0.12, -9), (0.20, -19), (0.30, -32), (0.38, -45), (0.50, -70),
    (0.66, -86), (0.82, -46), (0.93, 2),
]
#: Canonical phases of the designed features in the templates.
PUSH_PHASE = 0.36
PUSH_WIDTH = 0.028  # Gaussian σ of the push-off dip, in stride phase (~19 ms at 175 spm)
N_HARMONICS = 7
#: Share of the thigh's rotation that reaches the shank sensor in swing. A rigid hip-driven
#: chain over-states it: the knee's own motion is damped by the joint and soft tissue.
THIGH_COUPLING = 0.5
#: Elbow flexion swing relative to the shoulder swing (the elbow flexes as the arm comes forward).
#: Runners swing the hand largely from the elbow; this keeps the upper arm's centripetal term,
#: which peaks twice per stride, small against the turnarounds' tangential acceleration.
ELBOW_SWING_RATIO = 0.8
#: Second harmonic (cos, sin) of the shoulder swing, relative to its amplitude: the arm does not
#: swing as a pure sine (it lingers behind and snaps forward).
ARM_H2 = (-0.12, -0.11)


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
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Shank angle (θ, θ̇, θ̈), the sensor's relative acceleration (fwd, up) in g, and the stance weight.

    In swing the acceleration is relative to the hip (through thigh and shank); in stance it is
    relative to the planted ankle; the two blend smoothly at landing and lift-off. The caller adds
    the pelvis's specific force in swing and gravity alone in stance.

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
    def timed(v, d1, d2):
        return gain * v, gain * d1 * ph.rate, gain * (d2 * ph.rate**2 + d1 * ph.accel)

    th_t = timed(t_v, t_d1, t_d2)
    th_s = timed(s_v, s_d1, s_d2)
    # swing: the sensor hangs from the hip through thigh and shank
    ft, ut = _segment_acc(THIGH_M, *th_t)
    fs_, us_ = _segment_acc(SHIN_SENSOR_M, *th_s)
    sw_f, sw_u = THIGH_COUPLING * ft + fs_, THIGH_COUPLING * ut + us_
    # stance: the foot is planted, the shank pivots about the ankle (sensor above the pivot)
    st_f, st_u = _segment_acc(-ANKLE_SENSOR_M, *th_s)
    w = stance_weight(psi, push_psi) * (gain > 0)
    a_f = w * st_f + (1 - w) * sw_f
    a_u = w * st_u + (1 - w) * sw_u
    # push-off: the forefoot's last push rotates the shank forward abruptly; modelled as a
    # tangential (along +y) acceleration shaped like a Gaussian's second derivative, depth
    # push_depth_g at the push instant, with the small forward overshoots on either side.
    u = (psi - push_psi + 0.5) % 1.0 - 0.5
    z = u / PUSH_WIDTH
    dip = -push_depth_g * gain * (1.0 - z * z) * np.exp(-0.5 * z * z)
    c, s = np.cos(th_s[0]), np.sin(th_s[0])
    return th_s, (a_f + dip * c, a_u + dip * s), w


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def stance_weight(psi: np.ndarray, push_psi: float) -> np.ndarray:
    """1 while the foot is planted (contact to just after push-off), 0 in swing, smooth between."""
    u = psi % 1.0
    rise = _smoothstep((u - 0.90) / 0.10)  # landing: the leg is reaching for the ground
    fall = 1.0 - _smoothstep((u - (push_psi + 0.02)) / 0.08)  # lift-off: just after push
    return np.where(u >= 0.5, rise, fall)


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
    c2, s2 = ARM_H2
    u_v = mean_rad + A * (np.cos(w) + c2 * np.cos(2 * w) + s2 * np.sin(2 * w))
    u_d1 = -2 * np.pi * A * (np.sin(w) + 2 * c2 * np.sin(2 * w) - 2 * s2 * np.cos(2 * w))
    u_d2 = -((2 * np.pi) ** 2) * A * (np.cos(w) + 4 * c2 * np.cos(2 * w) + 4 * s2 * np.sin(2 * w))
    eA = ELBOW_SWING_RATIO * A
    e_v = elbow_rad + eA * np.cos(w)
    e_d1 = -2 * np.pi * eA * np.sin(w)
    e_d2 = -((2 * np.pi) ** 2) * eA * np.cos(w)

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
