"""Simulated runner: four body-worn IMUs (shins and wrists) with known design truth.

Why a simulator: StrideSync's detectors, lag measures and reports need recordings where the true
instants of every event are known. Real data has no such truth for push, swing and arm timing, so
this model *designs* the instants (with lags between limbs that the caller chooses) and renders
sensor signals from a planar multi-limb kinematic model (see :mod:`stridesync.sim._body`), so the
waveforms carry the gravity projection, pelvis bounce, impacts and soft-tissue wobble that the
real sensors see.

Quick use::

    from stridesync.sim import SimParams, simulate
    res = simulate(SimParams(duration_s=60, swing_lag_ms=40), seed=1)
    res.recording[Role.LEFT_SHIN].acc_g        # what the sensor delivers (g, body frame)
    res.design_events                           # the instants the model put the features at

Calibration against real data (adeptdata ankle, StrikeWatch wrist) is documented and tested in
``tests/test_sim.py``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Mapping

import numpy as np
from scipy.interpolate import PchipInterpolator

from ..errors import ConfigError
from ..model import ROLES, Event, EventKind, Recording, Role, RoleSamples, Side
from . import _body as body
from ._features import LP_ARM_HZ, LP_CONTACT_HZ, LP_PUSH_HZ, LP_SWING_HZ, lowpass, window_extremum
from ._gait import ArmTimeline, Gait, LegTimeline, build_gait

__all__ = ["SimParams", "SimResult", "simulate"]

log = logging.getLogger(__name__)

#: Impact transient on the tibia: damped oscillation, mostly axial (x).
IMPACT_FREQ_HZ = 28.0
IMPACT_DECAY_S = 0.012
#: Soft-tissue wobble after each foot strike.
WOBBLE_FREQ_HZ = 16.0
WOBBLE_DECAY_S = 0.035
#: Fraction of the shin impact that reaches the wrist, and its ringing.
WRIST_IMPACT_RATIO = 0.04
WRIST_IMPACT_FREQ_HZ = 12.0
WRIST_IMPACT_DECAY_S = 0.045
#: Horizontal ground reaction (braking then propulsion), peak in g of body weight.
GRF_HORIZONTAL_G = 0.35
#: Walking excursion relative to running.
WALK_LEG_SCALE = 0.4
WALK_ARM_SCALE = 0.4
#: Trunk transmission of the pelvis bounce to the shoulder.
SHOULDER_BOUNCE_RATIO = 0.3
ELBOW_FLEXION_DEG = 100.0
ARM_MEAN_DEG = 0.0
#: Fixed-point iterations of the template calibration (each renders ~14 stationary strides).
CAL_ITERATIONS = 12
CAL_GAIN = 0.7
CAL_GAIN_DECAY = 0.8


@dataclass(frozen=True, kw_only=True)
class SimParams:
    """Everything the simulated session is made of. Units are in the names.

    Lags follow MEASUREMENT.md §3: each is the design time of the limb's feature minus the stance
    leg's ``push``; positive is late. ``lag_drift_ms_per_min`` adds (swing, ipsi arm, contra arm)
    drift over the session, e.g. a swing that gets later as the runner tires. ``*_lr_ratio`` is the
    left/right amplitude ratio of that limb (1 = symmetric; 1.1 = left 10 % larger than right).

    Amplitudes: ``impact_g`` is the median peak tibial acceleration (‖a‖ at contact);
    ``swing_amp_g`` the shank's centripetal ω²r at the sensor at the starting cadence (the swing
    event also carries ~1 g of gravity and the thigh's share); ``push_amp_g`` the depth of the
    tangential push-off dip; ``arm_amp_g`` the wrist's tangential acceleration at the turnarounds.
    """

    duration_s: float = 120.0
    cadence_spm: float = 175.0
    cadence_drift_spm_per_min: float = 0.0
    stride_cv_pct: float = 1.5
    duty_factor: float = 0.35
    swing_lag_ms: float = 0.0
    ipsi_arm_lag_ms: float = 0.0
    contra_arm_lag_ms: float = 0.0
    lag_drift_ms_per_min: tuple[float, float, float] = (0.0, 0.0, 0.0)
    swing_lag_sd_ms: float = 3.0
    arm_lag_sd_ms: float = 8.0
    push_amp_g: float = 1.5
    swing_amp_g: float = 3.5
    arm_amp_g: float = 2.0
    impact_g: float = 9.0
    impact_cv_pct: float = 10.0
    push_lr_ratio: float = 1.0
    swing_lr_ratio: float = 1.0
    arm_lr_ratio: float = 1.0
    impact_lr_ratio: float = 1.0
    noise_g: float = 0.02
    bias_g: float = 0.01
    shin_range_g: float = 32.0
    wrist_range_g: float = 16.0
    gyro: bool = True
    gyro_noise_dps: float = 1.0
    gyro_range_dps: float = 2000.0
    sample_rate_hz: Mapping[Role, float] = field(default_factory=dict)
    standing_start_s: float = 5.0
    standing_end_s: float = 5.0
    walking: tuple[tuple[float, float], ...] = ()
    walk_cadence_spm: float = 110.0
    walk_impact_g: float = 0.6
    clock_offset_s: Mapping[Role, float] = field(default_factory=dict)
    clock_drift_ppm: Mapping[Role, float] = field(default_factory=dict)
    dropouts: tuple[tuple[Role, float, float], ...] = ()
    roles: tuple[Role, ...] = ROLES

    def __post_init__(self) -> None:
        def bad(msg: str) -> None:
            raise ConfigError(f"SimParams: {msg}")

        if self.duration_s <= 0:
            bad("duration_s must be > 0")
        if not 120.0 <= self.cadence_spm <= 240.0:
            bad(f"cadence_spm {self.cadence_spm} outside 120..240 (running strides must be 0.5..1.0 s)")
        if not 0.2 <= self.duty_factor <= 0.45:
            bad(f"duty_factor {self.duty_factor} outside 0.2..0.45")
        if not 0.0 <= self.stride_cv_pct <= 10.0:
            bad("stride_cv_pct must be in 0..10")
        for r in self.roles:
            if not isinstance(r, Role):
                bad(f"roles must be Role members, got {r!r}")
        for r, hz in self.sample_rate_hz.items():
            if not 100.0 <= hz <= 400.0:
                bad(f"sample_rate_hz[{r}] = {hz} outside 100..400")
        if self.standing_start_s < 0 or self.standing_end_s < 0:
            bad("standing durations must be >= 0")
        if self.standing_start_s + self.standing_end_s >= self.duration_s:
            bad("standing_start_s + standing_end_s leaves no time to run")
        for a, b in self.walking:
            if not 0 <= a < b <= self.duration_s:
                bad(f"walking segment ({a}, {b}) outside the session")
        for role, a, b in self.dropouts:
            if not isinstance(role, Role) or b <= a:
                bad(f"dropout ({role}, {a}, {b}) must be (Role, start_s, end_s) with end > start")
        if min(self.impact_g, self.swing_amp_g, self.arm_amp_g, self.push_amp_g) <= 0:
            bad("amplitudes must be > 0")
        if self.impact_g < 3.5:
            log.warning("impact_g %.1f is close to the 3 g contact threshold; contacts may be missed", self.impact_g)
        # the designed features must stay inside the contract's windows at every cadence reached
        minutes = self.duration_s / 60.0
        cad_end = self.cadence_spm + self.cadence_drift_spm_per_min * minutes
        if not 120.0 <= cad_end <= 240.0:
            bad(f"cadence drifts to {cad_end:.0f} spm, outside 120..240")
        for cad in (self.cadence_spm, cad_end):
            stride_s = 120.0 / cad
            for lag0, drift, name in (
                (self.swing_lag_ms, self.lag_drift_ms_per_min[0], "swing"),
                (self.ipsi_arm_lag_ms, self.lag_drift_ms_per_min[1], "ipsi_arm"),
                (self.contra_arm_lag_ms, self.lag_drift_ms_per_min[2], "contra_arm"),
            ):
                for lag_ms in (lag0, lag0 + drift * minutes):
                    frac = lag_ms / 1000.0 / stride_s
                    if name == "swing":
                        ph = 0.5 + self.duty_factor + frac
                        if not self.duty_factor + 0.15 <= ph <= 0.92:
                            bad(
                                f"swing lag {lag_ms:.0f} ms puts the swing peak at {100 * ph:.0f} % of the "
                                f"stride at {cad:.0f} spm; it must stay within {100 * (self.duty_factor + 0.15):.0f}..92 %"
                            )
                    elif abs(frac) > 0.2:
                        bad(f"{name} lag {lag_ms:.0f} ms exceeds 20 % of the stride at {cad:.0f} spm")
            if abs(self.ipsi_arm_lag_ms - self.contra_arm_lag_ms) / 1000.0 > 0.25 * stride_s:
                bad("ipsi and contra arm lags differ by more than 25 % of a stride")

    def rate_hz(self, role: Role) -> float:
        """Sample rate of a role, Hz (200 unless set)."""
        return float(self.sample_rate_hz.get(role, 200.0))


@dataclass(frozen=True)
class SimResult:
    """A simulated session and its design truth.

    Attributes
    ----------
    recording : Recording
        What the sensors deliver, on the session clock: noise, bias, clipping, dropouts, per-role rates.
    clean : Recording
        Same roles, same motion and sample times, without noise, bias, clipping or dropouts.
    sensor_time_s : dict[Role, np.ndarray]
        Each delivered sample's time on the sensor's own clock (offset + drift), aligned with
        ``recording[role].time_s``.
    design_events : list[Event]
        The instants the model put the features at, sorted by time. Only counted running strides
        carry events (MEASUREMENT.md §2), wrist events only inside running bouts. Design events do
        not know about dropouts or clipping. Amplitudes are read from the clean signal after the
        contract's filters.
    params : SimParams
    """

    recording: Recording
    clean: Recording
    sensor_time_s: dict[Role, np.ndarray]
    design_events: list[Event]
    params: SimParams


# --------------------------------------------------------------------------------------------------
# rendering


def _pelvis(gait: Gait, t: np.ndarray, act: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Specific force of the pelvis (fwd, up, left), g, from the two legs' ground reactions.

    Each stance is a half-sine of vertical force scaled so its stride mean is 1 g (peak
    π·T/(4·contact)), and one sine period of braking-then-propulsion horizontally.
    """
    up = np.zeros_like(t)
    fwd = np.zeros_like(t)
    for leg in gait.legs.values():
        k = np.clip(np.searchsorted(leg.contacts_s, t, side="right") - 1, 0, len(leg.contacts_s) - 1)
        tau = t - leg.contacts_s[k]
        d = leg.push_s[k] - leg.contacts_s[k]
        inside = (tau >= 0) & (tau < d)
        peak = np.pi * leg.stride_s[k] / (4.0 * d)
        up += np.where(inside, peak * np.sin(np.pi * tau / d), 0.0)
        fwd += np.where(inside, -GRF_HORIZONTAL_G * np.sin(2 * np.pi * tau / d), 0.0)
    left = gait.legs[Side.LEFT]
    sway = np.interp(t, left.contacts_s, np.arange(len(left.contacts_s)))
    lat = 0.08 * np.sin(2 * np.pi * sway)
    return act * fwd, 1.0 + act * (up - 1.0), act * lat


def _phase(knots_t: np.ndarray, knots_psi: np.ndarray, t: np.ndarray) -> body.Phase:
    """Monotone (PCHIP) stride-phase warp through the design knots."""
    f = PchipInterpolator(*_sorted_knots(knots_t, knots_psi), extrapolate=True)
    return body.Phase(f(t), f.derivative(1)(t), f.derivative(2)(t))


def _sorted_knots(knots_t: np.ndarray, knots_psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knots in time order, without those that would make the warp non-monotone."""
    order = np.argsort(knots_t)
    kt, kp = knots_t[order], knots_psi[order]
    keep = np.ones(len(kt), bool)
    # drop knots that would make the warp non-monotone (only happens outside designed strides)
    last_t, last_p = -np.inf, -np.inf
    for i in range(len(kt)):
        if kt[i] <= last_t + 1e-4 or kp[i] <= last_p + 1e-3:
            keep[i] = False
        else:
            last_t, last_p = kt[i], kp[i]
    return kt[keep], kp[keep]


def _transient(t: np.ndarray, onsets_s: np.ndarray, amp: np.ndarray, freq_hz: float, decay_s: float) -> np.ndarray:
    """Sum of unit-peak damped sines starting at ``onsets_s`` (only the latest onset is active)."""
    k = np.searchsorted(onsets_s, t, side="right") - 1
    valid = k >= 0
    kk = np.clip(k, 0, len(onsets_s) - 1)
    tau = t - onsets_s[kk]
    out = np.where(valid & (tau < 12 * decay_s), amp[kk] * body.damped_sine(tau, freq_hz, decay_s), 0.0)
    return out


@dataclass(frozen=True)
class _ShinCal:
    push_psi: float
    swing_psi: float
    contact_shift_s: float
    impact_scale: float


@dataclass(frozen=True)
class _ArmCal:
    fwd_psi: float
    back_psi: float


def _shin_knots(leg: LegTimeline, cal: _ShinCal | None) -> tuple[np.ndarray, np.ndarray]:
    """(times, template phases) the shank's phase warp passes through; uniform strides if no cal."""
    k = np.arange(len(leg.contacts_s), dtype=float)
    if cal is None:
        return leg.contacts_s, k
    ok = np.isfinite(leg.swing_s)
    return (
        np.concatenate([leg.contacts_s, leg.push_s, leg.swing_s[ok]]),
        np.concatenate([k, k + cal.push_psi, k[ok] + cal.swing_psi]),
    )


def _arm_knots(arm: ArmTimeline, cal: _ArmCal | None) -> tuple[np.ndarray, np.ndarray]:
    """(times, template phases) the arm's phase warp passes through; uniform strides if no cal."""
    k = np.arange(len(arm.fwd_s), dtype=float)
    if cal is None:
        return arm.fwd_s, k
    ok = np.isfinite(arm.back_s)
    return np.concatenate([arm.fwd_s, arm.back_s[ok]]), np.concatenate([k + cal.fwd_psi, k[ok] + cal.back_psi])


def _lr(ratio: float, side: Side) -> float:
    return ratio ** (0.5 if side is Side.LEFT else -0.5)


def _shin_amps(p: SimParams, side: Side) -> tuple[float, float]:
    """(swing excursion scale, push depth g) for one shank."""
    stride_s = 120.0 / p.cadence_spm
    omega = body.shank_peak_rate_per_phase() / stride_s
    target = p.swing_amp_g * _lr(p.swing_lr_ratio, side) * body.G_MS2
    scale = float(np.sqrt(target / body.SHIN_SENSOR_M) / omega)
    return scale, p.push_amp_g * _lr(p.push_lr_ratio, side)


def _render_shin(
    p: SimParams, gait: Gait, side: Side, t: np.ndarray, cal: _ShinCal | None
) -> tuple[np.ndarray, np.ndarray]:
    """Clean specific force (n, 3) in g and angular rate (n, 3) in deg/s of one shin sensor."""
    leg = gait.legs[side]
    ph = _phase(*_shin_knots(leg, cal), t)
    act, run = gait.segments.levels(t)
    gain = act * (WALK_LEG_SCALE + (1 - WALK_LEG_SCALE) * run)
    scale, push_g = _shin_amps(p, side)
    th, (a_fwd, a_up), w = body.shin_kinematics(
        ph, gain, swing_scale=scale, push_depth_g=push_g, push_psi=body.PUSH_PHASE
    )
    f_fwd, f_up, f_lat = _pelvis(gait, t, act)
    # a planted foot does not feel the pelvis bounce: gravity only (1 g up) in stance
    f_fwd = (1 - w) * f_fwd
    f_up = w + (1 - w) * f_up
    acc = body.to_body(f_fwd + a_fwd, f_up + a_up, f_lat, th[0])
    # foot-strike impact, timed so that the contract's contact peak lands on the design contact
    shift = 0.0 if cal is None else cal.contact_shift_s
    iscale = 1.0 if cal is None else cal.impact_scale
    onset = leg.contacts_s - body.damped_sine_peak_s(IMPACT_FREQ_HZ, IMPACT_DECAY_S) - shift
    amp = p.impact_g * iscale * leg.impact_g
    acc[:, 0] += _transient(t, onset, amp, IMPACT_FREQ_HZ, IMPACT_DECAY_S)
    acc[:, 1] += _transient(t, onset + 0.003, -0.3 * amp, IMPACT_FREQ_HZ, IMPACT_DECAY_S)
    acc[:, 1] += _transient(t, onset + 0.010, 0.12 * amp, WOBBLE_FREQ_HZ, WOBBLE_DECAY_S)
    acc[:, 2] += _transient(t, onset + 0.006, 0.10 * amp, WOBBLE_FREQ_HZ * 0.85, WOBBLE_DECAY_S)
    gyro = np.zeros_like(acc)
    gyro[:, 2] = -np.rad2deg(th[1])
    return acc, gyro


def _arm_swing_rad(p: SimParams, side: Side) -> float:
    """Shoulder swing amplitude that gives ``arm_amp_g`` tangential acceleration at the turnarounds."""
    omega = 2 * np.pi * p.cadence_spm / 120.0
    # tangential lever along the forearm's y: the upper arm (elbow near 90°) plus the forearm,
    # which also turns with the elbow's own swing
    r_eff = body.UPPER_ARM_M + body.FOREARM_SENSOR_M * (1.0 + body.ELBOW_SWING_RATIO)
    return float(p.arm_amp_g * _lr(p.arm_lr_ratio, side) * body.G_MS2 / (omega**2 * r_eff))


def _render_wrist(
    p: SimParams, gait: Gait, side: Side, t: np.ndarray, cal: _ArmCal | None
) -> tuple[np.ndarray, np.ndarray]:
    """Clean specific force (n, 3) in g and angular rate (n, 3) in deg/s of one wrist sensor."""
    arm = gait.arms[side]
    ph = _phase(*_arm_knots(arm, cal), t)
    act, run = gait.segments.levels(t)
    gain = act * (WALK_ARM_SCALE + (1 - WALK_ARM_SCALE) * run)
    th, (a_fwd, a_up), tang = body.arm_kinematics(
        ph,
        gain,
        swing_rad=_arm_swing_rad(p, side),
        mean_rad=np.deg2rad(ARM_MEAN_DEG),
        elbow_rad=np.deg2rad(ELBOW_FLEXION_DEG),
    )
    f_fwd, f_up, f_lat = _pelvis(gait, t, act)
    sh_fwd = SHOULDER_BOUNCE_RATIO * f_fwd
    sh_up = 1.0 + SHOULDER_BOUNCE_RATIO * (f_up - 1.0)
    sign = 1.0 if side is Side.LEFT else -1.0  # forward swing crosses toward the midline
    lat = 0.5 * f_lat - sign * 0.25 * tang
    acc = body.to_body(sh_fwd + a_fwd, sh_up + a_up, lat, th[0])
    for leg in gait.legs.values():
        amp = WRIST_IMPACT_RATIO * p.impact_g * leg.impact_g
        onset = leg.contacts_s + 0.015
        tr = _transient(t, onset, amp, WRIST_IMPACT_FREQ_HZ, WRIST_IMPACT_DECAY_S)
        acc[:, 0] += tr
        acc[:, 1] += 0.6 * tr
    gyro = np.zeros_like(acc)
    gyro[:, 2] = -np.rad2deg(th[1])
    return acc, gyro


# --------------------------------------------------------------------------------------------------
# calibration: where do the contract's features land on the templates?


_CAL_FIELDS = (
    "cadence_spm", "duty_factor", "swing_lag_ms", "ipsi_arm_lag_ms", "contra_arm_lag_ms", "push_amp_g",
    "swing_amp_g", "arm_amp_g", "impact_g", "push_lr_ratio", "swing_lr_ratio", "arm_lr_ratio",
)


def _calibrate(p: SimParams, role: Role) -> _ShinCal | _ArmCal:
    """Cached :func:`_calibrate_key` on the parameters that move the features."""
    key = tuple((name, getattr(p, name)) for name in _CAL_FIELDS)
    return _calibrate_key(key, role, p.rate_hz(role))


@lru_cache(maxsize=64)
def _calibrate_key(key: tuple, role: Role, fs: float) -> _ShinCal | _ArmCal:
    """Render a few stationary strides at this role's rate and find the contract features.

    The results become the template phases at which the design knots are placed, so that after
    the contract's filters each feature falls on its design instant.
    """
    p = SimParams(**dict(key), sample_rate_hz={role: fs}, roles=(role,))
    stride_s = 120.0 / p.cadence_spm
    n_strides = 14
    dur = n_strides * stride_s + 3.0
    ps = replace(p, duration_s=dur, standing_start_s=0.0, standing_end_s=0.0)
    gait = build_gait(ps, np.random.default_rng(0), stationary=True)
    t = np.arange(0.0, dur, 1.0 / fs)
    side = role.side
    # Damped fixed-point iteration on the time errors at the design instants; the warp itself
    # moves broad extrema a little, so the template phases are found by trial, keeping the best.
    best: tuple[float, _ShinCal | _ArmCal] | None = None
    if role.is_shin:
        leg = gait.legs[side]
        good = np.flatnonzero((leg.contacts_s > 1.0) & (leg.contacts_s + leg.stride_s < dur - 1.0) & np.isfinite(leg.swing_s))
        cal: _ShinCal | _ArmCal = _ShinCal(body.PUSH_PHASE, float(np.mean(leg.swing_s[good] - leg.contacts_s[good]) / stride_s), 0.0, 1.0)
        for it in range(CAL_ITERATIONS):
            gain = CAL_GAIN * CAL_GAIN_DECAY**it  # shrinking steps: the arg-max can jump between humps
            acc, _g = _render_shin(ps, gait, side, t, cal)
            norm = lowpass(np.linalg.norm(acc, axis=1), LP_CONTACT_HZ, fs)
            ay = lowpass(acc[:, 1], LP_PUSH_HZ, fs)
            ax = lowpass(acc[:, 0], LP_SWING_HZ, fs)
            ec, amps, ep, ew = [], [], [], []
            for k in good:
                c, T = leg.contacts_s[k], leg.stride_s[k]
                # the impact itself (the contract would take the stride's largest |a|; checked by tests)
                tc, ac = window_extremum(t, norm, c - 0.02, c + 0.02, maximum=True)
                tp, _v = window_extremum(t, ay, tc + 0.10 * T, tc + 0.60 * T, maximum=False)
                tw, _v = window_extremum(t, ax, tc + 0.35 * T, tc + 0.95 * T, maximum=True)
                ec.append(tc - c)
                amps.append(ac)
                ep.append(tp - leg.push_s[k])
                ew.append(tw - leg.swing_s[k])
            e = np.median(ec), np.median(ep), np.median(ew)
            log.debug("shin calibration %s -> errors %s", cal, e)
            score = float(np.max(np.abs(e)))
            if best is None or score < best[0]:
                best = (score, cal)
            cal = _ShinCal(
                push_psi=cal.push_psi + gain * e[1] / stride_s,
                swing_psi=cal.swing_psi + gain * e[2] / stride_s,
                contact_shift_s=cal.contact_shift_s + e[0],
                impact_scale=cal.impact_scale * float(p.impact_g / np.median(amps)),
            )
    else:
        arm = gait.arms[side]
        good = np.flatnonzero((arm.fwd_s > 1.0) & (arm.fwd_s < dur - 1.0) & np.isfinite(arm.back_s))
        good = good[good + 1 < len(arm.fwd_s)]
        cal = _ArmCal(0.0, float(np.mean(arm.back_s[good] - arm.fwd_s[good]) / stride_s))
        for it in range(CAL_ITERATIONS):
            gain = CAL_GAIN * CAL_GAIN_DECAY**it
            acc, _g = _render_wrist(ps, gait, side, t, cal)
            ay = lowpass(acc[:, 1], LP_ARM_HZ, fs)
            ef, eb = [], []
            for j in good:
                f0, f1 = arm.fwd_s[j], arm.fwd_s[j + 1]
                T = f1 - f0
                tf, _v = window_extremum(t, ay, f0 - 0.3 * T, f0 + 0.3 * T, maximum=False)
                tf1, _v = window_extremum(t, ay, f1 - 0.3 * T, f1 + 0.3 * T, maximum=False)
                tb, _v = window_extremum(t, ay, tf, tf1, maximum=True)
                ef.append(tf - f0)
                eb.append(tb - arm.back_s[j])
            e = np.median(ef), np.median(eb)
            score = float(np.max(np.abs(e)))
            if best is None or score < best[0]:
                best = (score, cal)
            cal = _ArmCal(cal.fwd_psi + gain * e[0] / stride_s, cal.back_psi + gain * e[1] / stride_s)
    assert best is not None
    score, cal = best
    if score > 0.005:
        log.warning("%s: template calibration leaves %.1f ms of design-instant error", role, 1e3 * score)
    log.debug("calibration %s at %.0f Hz: %s", role, fs, cal)
    return cal


# --------------------------------------------------------------------------------------------------
# sensor: clocks, noise, clipping, dropouts


def _sample_times(p: SimParams, role: Role) -> tuple[np.ndarray, np.ndarray]:
    """(session times, sensor-clock times) of every tick the sensor would produce in the session.

    The sensor ticks uniformly on its own clock, ``sensor = offset + session × (1 + drift_ppm·1e-6)``.
    """
    fs = p.rate_hz(role)
    off = float(p.clock_offset_s.get(role, 0.0))
    k = 1.0 + 1e-6 * float(p.clock_drift_ppm.get(role, 0.0))
    n0 = int(np.ceil(off * fs - 1e-9))
    n1 = int(np.floor((off + p.duration_s * k) * fs - 1e-9))
    sensor = np.arange(n0, n1 + 1) / fs
    session = (sensor - off) / k
    keep = (session >= 0.0) & (session < p.duration_s)
    return session[keep], sensor[keep]


def _design_events(p: SimParams, gait: Gait, clean: Recording) -> list[Event]:
    """Design instants of counted strides, with amplitudes read from the filtered clean signal."""
    # (role, kind) -> (times, stride indices); amplitudes are interpolated in one call per signal
    found: dict[tuple[Role, EventKind], tuple[np.ndarray, np.ndarray]] = {}
    bouts: list[tuple[float, float]] = []
    for side in (Side.LEFT, Side.RIGHT):
        leg: LegTimeline = gait.legs[side]
        counted = leg.counted
        reported = counted | np.concatenate([[False], counted[:-1]])
        idx = np.cumsum(reported) - 1
        seg_id = gait.segments.run_segment_id(leg.contacts_s)
        for sid in np.unique(seg_id[reported]):
            sel = reported & (seg_id == sid)
            bouts.append((float(leg.contacts_s[sel].min()), float(leg.contacts_s[sel].max())))
        role = side.shin
        if role not in clean:
            continue
        sw = counted & np.isfinite(leg.swing_s)
        found[(role, EventKind.CONTACT)] = (leg.contacts_s[reported], idx[reported])
        found[(role, EventKind.PUSH)] = (leg.push_s[counted], idx[counted])
        found[(role, EventKind.SWING)] = (leg.swing_s[sw], idx[sw])
    # merge overlapping bouts of the two legs
    merged: list[list[float]] = []
    for a, b in sorted(bouts):
        if merged and a <= merged[-1][1] + 1.0:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    for side in (Side.LEFT, Side.RIGHT):
        role = side.wrist
        if role not in clean:
            continue
        arm = gait.arms[side]
        inside = np.zeros(len(arm.fwd_s), bool)
        for a, b in merged:
            inside |= (arm.fwd_s >= a) & (arm.fwd_s <= b)
        idx = np.cumsum(inside) - 1
        back = inside & np.concatenate([inside[1:], [False]]) & np.isfinite(arm.back_s)
        found[(role, EventKind.ARM_FWD)] = (arm.fwd_s[inside], idx[inside])
        found[(role, EventKind.ARM_BACK)] = (arm.back_s[back], idx[back])

    events: list[Event] = []
    for (role, kind), (times, sidx) in found.items():
        rs = clean[role]
        fs = rs.sample_rate_hz
        if kind is EventKind.CONTACT:
            sig = lowpass(np.linalg.norm(rs.acc_g, axis=1), LP_CONTACT_HZ, fs)
        elif kind is EventKind.PUSH:
            sig = lowpass(rs.acc_g[:, 1], LP_PUSH_HZ, fs)
        elif kind is EventKind.SWING:
            sig = lowpass(rs.acc_g[:, 0], LP_SWING_HZ, fs)
        else:
            sig = lowpass(rs.acc_g[:, 1], LP_ARM_HZ, fs)
        amps = np.abs(np.interp(times, rs.time_s, sig))
        events.extend(Event(role, kind, float(t), float(a), int(i)) for t, a, i in zip(times, amps, sidx))
    events.sort(key=lambda e: (e.time_s, e.role.value, e.kind.value))
    return events


_ROLE_STREAM = {r: i + 1 for i, r in enumerate(ROLES)}


def simulate(params: SimParams, *, seed: int = 0) -> SimResult:
    """Simulate a running session.

    Parameters
    ----------
    params : SimParams
    seed : int
        Seeds every random stream (timeline variability, per-role noise and bias). The same seed
        and parameters give bit-identical results; each role's noise has its own stream, so
        adding or removing a role leaves the others unchanged.

    Returns
    -------
    SimResult
    """
    p = params
    streams = np.random.SeedSequence(seed).spawn(len(ROLES) + 1)
    gait = build_gait(p, np.random.default_rng(streams[0]))
    clean: Recording = {}
    rec: Recording = {}
    sensor_time: dict[Role, np.ndarray] = {}
    for role in p.roles:
        t, ts = _sample_times(p, role)
        cal = _calibrate(p, role)
        if role.is_shin:
            acc, gyro = _render_shin(p, gait, role.side, t, cal)  # type: ignore[arg-type]
            rng_g = p.shin_range_g
        else:
            acc, gyro = _render_wrist(p, gait, role.side, t, cal)  # type: ignore[arg-type]
            rng_g = p.wrist_range_g
        clean[role] = RoleSamples(role, t, acc, gyro if p.gyro else None)
        rng = np.random.default_rng(streams[_ROLE_STREAM[role]])
        bias = p.bias_g * rng.standard_normal(3)
        noisy = np.clip(acc + bias + p.noise_g * rng.standard_normal(acc.shape), -rng_g, rng_g)
        gnoisy = None
        if p.gyro:
            gnoisy = np.clip(gyro + p.gyro_noise_dps * rng.standard_normal(gyro.shape), -p.gyro_range_dps, p.gyro_range_dps)
        keep = np.ones(len(t), bool)
        for r, a, b in p.dropouts:
            if r is role:
                keep &= ~((t >= a) & (t < b))
        rec[role] = RoleSamples(role, t[keep], noisy[keep], None if gnoisy is None else gnoisy[keep])
        sensor_time[role] = ts[keep]
    events = _design_events(p, gait, clean)
    log.info("simulated %.0f s, roles %s, %d design events", p.duration_s, [str(r) for r in p.roles], len(events))
    return SimResult(rec, clean, sensor_time, events, p)
