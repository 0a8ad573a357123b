"""Simulated runner: four body-worn IMUs (shins and wrists) with known physical truth.

Why a simulator: StrideSync's detectors, lag measures and reports need recordings where the true instant
of every event is known, at any cadence, lag, sample rate, noise and clipping. The truth here is the set of
*physical* instants of MEASUREMENT.md §2 (version 2): initial contact, toe-off, the shank's peak forward
angular velocity, and the wrist's turnarounds relative to the pelvis.

How: each limb is one rigid segment whose pose (angle + one point) is a template measured on real runners
(:mod:`stridesync.sim._body`, :mod:`stridesync.sim._templates`: RBDS shanks, 12 runners at 2.5-4.5 m/s;
Hamner arms, 5 runners at 2-5 m/s). A gait timeline lays out the instants with the lags the caller asks
for (:mod:`stridesync.sim._gait`), and each template is time-warped through them
(:mod:`stridesync.sim._warp`), so the rendered motion has its contact, toe-off, swing peak and
turnarounds exactly there. Angular rate and specific force come from the same pose; real impacts
(sharp on a tibial accelerometer, absent from marker-based virtual sensors) are added at contact.

Quick use::

    from stridesync.sim import SimParams, simulate
    res = simulate(SimParams(duration_s=60, swing_lag_ms=40), seed=1)
    res.recording[Role.LEFT_SHIN].acc_g        # what the sensor delivers (g, body frame)
    res.design_events                           # the physical instants (the truth)

The calibration against real runners is documented in ``docs/simulator.md`` and tested in
``tests/test_sim.py``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..errors import ConfigError
from ..model import ROLES, Event, EventKind, Recording, Role, RoleSamples, Side
from . import _body as body
from ._gait import RUN, ArmTimeline, Gait, LegTimeline, build_gait
from ._warp import Warp, make_warp

__all__ = ["DETECTED_OFFSET_MS", "SimParams", "SimResult", "simulate"]

log = logging.getLogger(__name__)

#: Impact transient on the tibia: damped oscillation, mostly axial (x). It starts IMPACT_ONSET_S after
#: initial contact, so its first (largest) peak comes ~10 ms after it (the heel/forefoot strike loads the
#: tibia over the first milliseconds of contact).
IMPACT_FREQ_HZ = 28.0
IMPACT_DECAY_S = 0.012
IMPACT_ONSET_S = 0.004
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
#: Share of each segment of the shank's warp (contact, toe-off, the swing lobe's ends) at either end over
#: which its rate changes (:func:`make_warp`).
SHANK_EASE = 0.25
#: Largest ratio of the rate of the part before (toe-off → lobe) and after (lobe → contact) the swing lobe's
#: core to the core's own rate (:func:`_lobe_rate`).
LOBE_RATE_RATIO = (1.6, 1.3)
#: Share of each half of the arm's swing over which its rate eases into the next half's (:func:`make_warp`).
ARM_EASE = 0.25
#: Window after initial contact in which the contact amplitude (peak ‖a‖) is read, s.
CONTACT_PEAK_WINDOW_S = 0.04
#: What the real-time analyser (gyroscope rules) reads from a simulated run, relative to the lags asked for, ms:
#: medians over runs at 160-190 steps/min and lags from -30 to +40 ms (tests/test_edges_sim.py holds them, within
#: 3 ms for the swing and 8 ms for the arms). The ground truth (``design_events``, ``simulate --truth-dir``) is
#: exactly as asked; the analysis reads the swing lag about 6 ms early (it finds the simulated toe-off about 8 ms
#: late and the swing peak about 1 ms late: README, "Accuracy"), the stance-side arm about 62 ms late and the
#: other arm about 25 ms early: a wrist sensor sees the forearm, whose forward turn comes about that much after
#: the wrist's turn relative to the trunk and whose backward turn before it, on real runners as on the simulated
#: ones (docs/measurement.md §9). Under the ``baseline`` target model these constant offsets cancel.
DETECTED_OFFSET_MS = {"swing_lag": -6.0, "ipsi_arm_lag": 62.0, "contra_arm_lag": -25.0}


@dataclass(frozen=True, kw_only=True)
class SimParams:
    """Everything the simulated session is made of. Units are in the names.

    Lags follow MEASUREMENT.md §4 between the physical instants of §2: ``swing_lag_ms`` is the other
    leg's swing peak (its most negative ω_z) minus the stance leg's toe-off; ``ipsi_arm_lag_ms`` the
    stance-side wrist's forward turnaround minus that toe-off; ``contra_arm_lag_ms`` the other wrist's
    backward turnaround minus it; positive is late. ``*_lag_sd_ms`` is each lag's stride-to-stride SD.
    ``lag_drift_ms_per_min`` adds (swing, ipsi arm, contra arm) drift over the session, e.g. a swing
    that gets later as the runner tires. ``*_lr_ratio`` is the left/right amplitude ratio of that limb
    (1 = symmetric; 1.1 = left 10 % larger than right).

    ``duty_factor`` is contact time / stride time (initial contact to toe-off). Real runners: about
    0.36 at 2.5 m/s, 0.32 at 3.5 and 0.30 at 4.5 (RBDS).

    The measured runners' own lags (medians over runners): swing −33 / −22 / −20 ms at 2.5 / 3.5 /
    4.5 m/s (RBDS); arms ipsi −73 / −58 ms, contra +14 / +32 ms at 3 / 4 m/s (Hamner). Other lags are
    rendered by stretching parts of the measured strides; far from these (tens of ms) the waveforms are
    less like a real runner's, the truth instants stay exact.

    Amplitudes:

    - ``swing_amp_g``: the shank's centripetal ω²r at the swing peak, with r = 0.30 m from the knee to
      the sensor, i.e. a peak forward angular velocity ω = √(swing_amp_g·g / 0.30 m) (3.5 g → 608
      deg/s) at the starting cadence and lags. It also picks the runner: the limb templates are those of
      the running speed at which the measured population swings that hard (2.4 g ≈ 2.5 m/s, 3.4 g ≈
      3.5 m/s, 4.3 g ≈ 4.5 m/s).
    - ``arm_amp_g``: the wrist's fore-aft acceleration relative to the pelvis at its turnarounds, g; it
      scales the arm's swing. None (the default): the measured population's at the runner's speed and
      cadence (1.2 g at 2 m/s, 1.4 at 3, 1.8 at 4 and 2.5 at 5 m/s).
    - ``impact_g``: the median peak tibial acceleration (‖a‖ within 40 ms after initial contact). The
      rigid motion alone peaks at 5-8 g there; a lower ``impact_g`` is exceeded (the impact transient is
      never smaller than a quarter of it).
    - ``push_amp_g``, ``push_lr_ratio``: kept for compatibility, no longer used. Version 1's push was a
      dip of a_y that the model drew; version 2's push is toe-off, whose waveform is the measured one.
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
    arm_amp_g: float | None = None
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
        if min(self.impact_g, self.swing_amp_g, self.push_amp_g) <= 0 or (self.arm_amp_g is not None and self.arm_amp_g <= 0):
            bad("amplitudes must be > 0")
        if self.impact_g < 3.5:
            log.warning("impact_g %.1f is close to the 3 g contact threshold; contacts may be missed", self.impact_g)
        # the design instants must stay inside their phase of the stride at every cadence reached: the
        # swing peak between toe-off (+15 % of the stride) and 8 % before the next contact
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
    """A simulated session and its physical truth.

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
        The truth: the physical instants of MEASUREMENT.md §2 in the rendered motion, sorted by time.
        ``contact`` is initial contact and ``push`` toe-off (the model's stance starts and ends there);
        ``swing`` is the shank's most negative ω_z between toe-off and the next contact; ``arm_fwd`` /
        ``arm_back`` are the extremes of the wrist's fore-aft position relative to the pelvis. Only counted
        running strides carry events (§3), wrist events only inside running bouts. They do not know about
        dropouts or clipping. ``amplitude`` is in ``Event.unit`` (``source`` is "gyro"): ``contact`` the
        peak ‖a‖ (g) of the continuous clean signal within 40 ms after contact; ``push`` the peak backward shank
        angular velocity (ω_z > 0, deg/s) between toe-off and the swing peak: the knee's flexion as the
        foot leaves the ground; ``swing`` |ω_z| at the swing peak (deg/s); ``arm_fwd`` / ``arm_back`` the
        peak |ω_z| of the forearm during the swing that ends at the turnaround (deg/s).
    params : SimParams
    """

    recording: Recording
    clean: Recording
    sensor_time_s: dict[Role, np.ndarray]
    design_events: list[Event]
    params: SimParams


#: ``source`` of the truth events: their amplitudes are in the gyroscope rules' units (``Event.unit``:
#: g for ``contact``, deg/s for the others).
TRUTH_SOURCE = "gyro"


# --------------------------------------------------------------------------------------------------
# limb models


def _lr(ratio: float, side: Side) -> float:
    return ratio ** (0.5 if side is Side.LEFT else -0.5)


def swing_peak_dps(swing_amp_g: float) -> float:
    """Peak forward shank angular velocity (deg/s) for a centripetal ω²r of ``swing_amp_g`` at the sensor."""
    return float(np.degrees(np.sqrt(swing_amp_g * body.G_MS2 / body.SHIN_SENSOR_M)))


def equivalent_speed_ms(p: SimParams) -> float:
    """The running speed (m/s) whose measured runners swing the shank as hard as ``p.swing_amp_g`` asks."""
    return round(body.equivalent_speed(swing_peak_dps(p.swing_amp_g)), 3)


@dataclass(frozen=True)
class _ShinModel:
    tpl: body.ShankTemplate
    warp: Warp  # the shank's angle
    ankle: Warp  # the ankle's path
    scale: float
    gait: Gait
    side: Side

    def motion(self, t: np.ndarray) -> body.Motion:
        gain = self.gait.segments.gain(t, WALK_LEG_SCALE)
        return body.shank_motion(self.tpl, self.warp.phase(t), self.ankle.phase(t), gain, self.scale)

    def body_acc(self, t: np.ndarray) -> tuple[np.ndarray, body.Motion]:
        """Specific force (n, 3) in g of the rigid shank alone (no impact), and its motion."""
        mo = self.motion(t)
        act, _run = self.gait.segments.levels(t)
        return body.to_body(mo.acc_fwd, mo.acc_up + 1.0, _sway(self.gait, t, act), mo.theta[0]), mo


@dataclass(frozen=True)
class _ArmModel:
    tpl: body.ArmTemplate
    warp: Warp
    scale: float
    gait: Gait

    def motion(self, t: np.ndarray) -> body.Motion:
        ph = self.warp.phase(t)
        return body.arm_motion(self.tpl, ph, self.gait.segments.gain(t, WALK_ARM_SCALE), self.scale)


def _shin_model(p: SimParams, gait: Gait, side: Side) -> _ShinModel:
    """The shank's template, warps and excursion scale.

    The scale makes the swing peak ``swing_amp_g`` (per side) on a nominal stride.
    """
    tpl = body.shank_template(equivalent_speed_ms(p))
    leg: LegTimeline = gait.legs[side]
    nxt = np.append(leg.contacts_s[1:], np.nan)
    warp = make_warp(*_shank_knots(tpl, leg.contacts_s, leg.push_s, leg.swing_s, nxt), ease=SHANK_EASE)
    ankle = make_warp(*_ankle_knots(tpl, leg.contacts_s, leg.push_s))
    T = 120.0 / p.cadence_spm
    to = np.array([p.duty_factor * T])
    r = _lobe_rate(tpl, to, to + 0.5 * T + 1e-3 * p.swing_lag_ms, np.array([T]))
    target = np.radians(swing_peak_dps(p.swing_amp_g * _lr(p.swing_lr_ratio, side)))
    return _ShinModel(tpl, warp, ankle, float(target / (tpl.peak_rate_per_phase() * r[0])), gait, side)


def _lobe_rate(tpl: body.ShankTemplate, to: np.ndarray, pk: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    """Template phase per second across the core of the swing's forward lobe (nan where there is no swing).

    The mean of the two swing halves' uniform rates (toe-off → peak, peak → next contact), so that the
    parts before and after the lobe are stretched alike, kept where the parts outside the lobe are played
    at 1/:data:`LOBE_RATE_RATIO` to :data:`LOBE_RATE_RATIO` times the lobe's rate. When no rate does
    both (a design whose swing peak sits far from where the measured runners have it), the outside parts
    are never played faster than that, and one of them slower: it would otherwise crush the early swing
    or the approach to contact."""
    z1, z2 = tpl.lobe
    qa, qb = LOBE_RATE_RATIO
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = 0.5 * ((1.0 - tpl.swing_psi) / (nxt - pk) + (tpl.swing_psi - tpl.push_psi) / (pk - to))
        # the part before the lobe (toe-off → z1) at 1/qa..qa times r, the part after it (z2 → next contact)
        # at 1/qb..qb times r
        lo = np.maximum(((tpl.swing_psi - z1) + (z1 - tpl.push_psi) / qa) / (pk - to),
                        ((z2 - tpl.swing_psi) + (1.0 - z2) / qb) / (nxt - pk))
        hi = np.minimum(((tpl.swing_psi - z1) + (z1 - tpl.push_psi) * qa) / (pk - to),
                        ((z2 - tpl.swing_psi) + (1.0 - z2) * qb) / (nxt - pk))
        r = np.where(lo <= hi, np.clip(mean, lo, hi), lo)  # never crush a part; stretch one if need be
    return np.where((pk > to) & (nxt > pk), r, np.nan)


def _shank_knots(tpl: body.ShankTemplate, ic: np.ndarray, to: np.ndarray, pk: np.ndarray,
                 nxt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Knots (times, template phases, slopes dt/dψ) of the shank angle's warp.

    Initial contact is ψ = k and toe-off k + push_psi. The core of the swing's forward lobe, where the
    shank's forward angular velocity exceeds 30 % of its peak (:attr:`~stridesync.sim._body.ShankTemplate.lobe`),
    is played at one constant rate r (:func:`_lobe_rate`) and placed so that its peak falls on the design
    instant ``pk``: two knots at the core's ends, t = pk − (ψ_pk − ψ_z1)/r and pk + (ψ_z2 − ψ_pk)/r, with
    slopes 1/r, make the warp linear between them, so the peak of dθ/dψ stays the peak of θ̇, on ``pk``.
    Outside the core the rate is at most 1.6 times r (and an easing part 1.2 times its ends), so the
    forward angular velocity there stays below ~60 % of the peak: the most negative ω_z between toe-off
    and the next contact is the core's peak, whatever the stride's proportions (within ~0.05 ms; up to
    ~1 ms for a design far from the runners' proportions, where knot slopes have to be limited). The next
    contact's slope is the geometric mean of the secants of the part after the core and of the stance, so
    that neither is played in a burst between two slower ends. Strides without a swing (walking, standing)
    get their two knots only.
    """
    k = np.arange(len(ic), dtype=float)
    r = _lobe_rate(tpl, to, pk, nxt)
    ok = np.isfinite(r)
    z1, z2 = tpl.lobe
    t_z2 = pk + (z2 - tpl.swing_psi) / r
    # contact k closes stride k − 1's swing
    ic_slope = np.full(len(k), np.nan)
    ic_slope[1:] = np.sqrt((ic[1:] - t_z2[:-1]) / (1.0 - z2) * (to[1:] - ic[1:]) / tpl.push_psi)
    times = [ic, to, pk[ok] - (tpl.swing_psi - z1) / r[ok], t_z2[ok]]
    psis = [k, k + tpl.push_psi, k[ok] + z1, k[ok] + z2]
    slopes = [ic_slope, np.full(len(k), np.nan), 1.0 / r[ok], 1.0 / r[ok]]
    return np.concatenate(times), np.concatenate(psis), np.concatenate(slopes)


def _ankle_knots(tpl: body.ShankTemplate, ic: np.ndarray, to: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Knots of the ankle's warp: contact and toe-off only, each stance played at one constant rate (the foot
    is planted: a changing rate would make it slide), the change of rate spread over the swing. Where a swing
    is much shorter or longer than its stances would have it (strides into and out of walking), the stance's
    rate is given up at that end, limited to 0.67-1.5 times the swing's, so that the swing is not played at a
    burst."""
    k = np.arange(len(ic), dtype=float)
    stance = (to - ic) / tpl.push_psi
    swing = np.append((ic[1:] - to[:-1]) / (1.0 - tpl.push_psi), np.nan)  # swing after stance k
    prev = np.insert(swing[:-1], 0, np.nan)  # swing before contact k
    lim = lambda x, sw: np.where(np.isfinite(sw), np.clip(x, sw / 1.5, 1.5 * sw), x)  # noqa: E731
    return np.concatenate([ic, to]), np.concatenate([k, k + tpl.push_psi]), np.concatenate([lim(stance, prev), lim(stance, swing)])


def _arm_model(p: SimParams, gait: Gait, side: Side) -> _ArmModel:
    """The forearm's template, warp and swing scale (``arm_amp_g`` at the turnarounds of a nominal stride;
    with None, the template's own swing)."""
    tpl = body.arm_template(equivalent_speed_ms(p))
    arm: ArmTimeline = gait.arms[side]
    k = np.arange(len(arm.fwd_s), dtype=float)
    ok = np.isfinite(arm.back_s)
    warp = make_warp(np.concatenate([arm.fwd_s, arm.back_s[ok]]),
                     np.concatenate([k + tpl.fwd_psi, k[ok] + tpl.back_psi]), ease=ARM_EASE)
    T = 120.0 / p.cadence_spm
    d_fb = 0.5 * T + 1e-3 * (p.contra_arm_lag_ms - p.ipsi_arm_lag_ms)
    wb = tpl.back_psi - tpl.fwd_psi
    rate = 0.5 * (wb / d_fb + (1.0 - wb) / (T - d_fb))
    x2 = 0.5 * (abs(tpl.wrist_fwd.exact(tpl.fwd_psi, 2)[0]) + abs(tpl.wrist_fwd.exact(tpl.back_psi, 2)[0]))
    natural_g = x2 * rate**2 / body.G_MS2
    asked = natural_g if p.arm_amp_g is None else p.arm_amp_g
    return _ArmModel(tpl, warp, float(asked * _lr(p.arm_lr_ratio, side) / natural_g), gait)


# --------------------------------------------------------------------------------------------------
# rendering


def _pelvis(gait: Gait, t: np.ndarray, act: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Specific force of the pelvis (fwd, up, left), g, from the two legs' ground reactions.

    Each stance (initial contact to toe-off) is a half-sine of vertical force scaled so its stride mean
    is 1 g (peak π·T/(4·contact)), and one sine period of braking-then-propulsion horizontally.
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
    return act * fwd, 1.0 + act * (up - 1.0), _sway(gait, t, act)


def _sway(gait: Gait, t: np.ndarray, act: np.ndarray) -> np.ndarray:
    """The pelvis's lateral sway, g: one period per stride."""
    left = gait.legs[Side.LEFT]
    return act * 0.08 * np.sin(2 * np.pi * np.interp(t, left.contacts_s, np.arange(len(left.contacts_s))))


def _transient(t: np.ndarray, onsets_s: np.ndarray, amp: np.ndarray, freq_hz: float, decay_s: float) -> np.ndarray:
    """Sum of unit-peak damped sines starting at ``onsets_s`` (only the latest onset is active)."""
    k = np.searchsorted(onsets_s, t, side="right") - 1
    valid = k >= 0
    kk = np.clip(k, 0, len(onsets_s) - 1)
    tau = t - onsets_s[kk]
    return np.where(valid & (tau < 12 * decay_s), amp[kk] * body.damped_sine(tau, freq_hz, decay_s), 0.0)


def _impact_shape(tau: np.ndarray) -> np.ndarray:
    """The tibial impact of unit size, body frame (n, 3), at τ s after initial contact: a sharp axial
    (x) damped oscillation starting :data:`IMPACT_ONSET_S` after contact, a smaller opposite kick on y, and
    the soft tissue's slower wobble on y and z."""
    u = tau - IMPACT_ONSET_S
    out = np.zeros((len(tau), 3))
    out[:, 0] = body.damped_sine(u, IMPACT_FREQ_HZ, IMPACT_DECAY_S)
    out[:, 1] = -0.3 * body.damped_sine(u - 0.003, IMPACT_FREQ_HZ, IMPACT_DECAY_S)
    out[:, 1] += 0.12 * body.damped_sine(u - 0.010, WOBBLE_FREQ_HZ, WOBBLE_DECAY_S)
    out[:, 2] = 0.10 * body.damped_sine(u - 0.006, 0.85 * WOBBLE_FREQ_HZ, WOBBLE_DECAY_S)
    return out


_IMPACT_SPAN_S = 12 * WOBBLE_DECAY_S + IMPACT_ONSET_S + 0.010
_PEAK_STEP_S = 1e-3
_PEAK_GRID_S = np.arange(0.0, CONTACT_PEAK_WINDOW_S + _PEAK_STEP_S / 2, _PEAK_STEP_S)


def _impacts(p: SimParams, model: _ShinModel) -> tuple[np.ndarray, np.ndarray]:
    """(size of each contact's impact, the resulting peak ‖a‖ within 40 ms of contact), g.

    While running, each impact is sized so that the continuous ‖a‖ (the rigid shank's motion plus the
    impact) peaks at the stride's target ``impact_g × leg.impact_g``: a few fixed-point steps on a
    1 ms grid, parabola-refined. The rigid motion alone already peaks at 5-8 g at contact (the ankle's
    deceleration as measured by the markers, RBDS: 4.8 / 6.5 / 8.0 g at 2.5 / 3.5 / 4.5 m/s); the impact
    is never smaller than a quarter of the target, so a target below that peak is exceeded. Walking and
    standing contacts keep the target as the impact's size.
    """
    leg = model.gait.legs[model.side]
    target = p.impact_g * leg.impact_g
    n, m = len(leg.contacts_s), len(_PEAK_GRID_S)
    tt = (leg.contacts_s[:, None] + _PEAK_GRID_S[None, :]).ravel()
    bg = model.body_acc(tt)[0].reshape(n, m, 3)
    u = _impact_shape(_PEAK_GRID_S)[None, :, :]
    amp = np.maximum(target - bg[:, int(round(0.010 / _PEAK_STEP_S)), 0], 0.25 * target)
    running = leg.mode == RUN
    for _ in range(4):
        peak = np.linalg.norm(bg + amp[:, None, None] * u, axis=2).max(axis=1)
        amp = np.where(running, np.maximum(amp * target / np.maximum(peak, 1e-9), 0.25 * target), target)
    peak = np.linalg.norm(bg + amp[:, None, None] * u, axis=2)
    i = np.clip(np.argmax(peak, axis=1), 1, m - 2)
    rows = np.arange(n)
    _shift, val = _refine(peak[rows, i - 1], peak[rows, i], peak[rows, i + 1])
    return amp, val


def _render_shin(p: SimParams, model: _ShinModel, side: Side, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clean specific force (n, 3) in g and angular rate (n, 3) in deg/s of one shin sensor, and the peak
    ‖a‖ (g) of each contact."""
    leg = model.gait.legs[side]
    acc, mo = model.body_acc(t)
    amp, peaks = _impacts(p, model)
    k = np.searchsorted(leg.contacts_s, t, side="right") - 1
    kk = np.clip(k, 0, len(leg.contacts_s) - 1)
    tau = t - leg.contacts_s[kk]
    live = (k >= 0) & (tau < _IMPACT_SPAN_S)
    acc[live] += amp[kk[live], None] * _impact_shape(tau[live])
    gyro = np.zeros_like(acc)
    gyro[:, 2] = -np.rad2deg(mo.theta[1])
    return acc, gyro, peaks


def _render_wrist(p: SimParams, model: _ArmModel, side: Side, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Clean specific force (n, 3) in g and angular rate (n, 3) in deg/s of one wrist sensor."""
    gait = model.gait
    mo = model.motion(t)
    act, _run = gait.segments.levels(t)
    f_fwd, f_up, f_lat = _pelvis(gait, t, act)
    sign = 1.0 if side is Side.LEFT else -1.0  # the forward swing crosses toward the midline
    lat = 0.5 * f_lat - sign * 0.25 * mo.acc_fwd
    acc = body.to_body(f_fwd + mo.acc_fwd, f_up + mo.acc_up, lat, mo.theta[0])
    for leg in gait.legs.values():
        amp = WRIST_IMPACT_RATIO * p.impact_g * leg.impact_g
        tr = _transient(t, leg.contacts_s + 0.015, amp, WRIST_IMPACT_FREQ_HZ, WRIST_IMPACT_DECAY_S)
        acc[:, 0] += tr
        acc[:, 1] += 0.6 * tr
    gyro = np.zeros_like(acc)
    gyro[:, 2] = -np.rad2deg(mo.theta[1])
    return acc, gyro


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


def _refine(ym: np.ndarray, y0: np.ndarray, yp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised parabola through three samples: (shift in samples, limited to ±½; value)."""
    den = ym - 2.0 * y0 + yp
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(den != 0.0, np.clip(0.5 * (ym - yp) / den, -0.5, 0.5), 0.0)
    return shift, y0 - 0.25 * (ym - yp) * shift


def _windowed_peak(t: np.ndarray, y: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per window [t0, t1): time and value of the maximum of ``y`` at the samples, parabola-refined
    (nan where a window holds fewer than 3 samples)."""
    t0, t1 = np.asarray(t0, float), np.asarray(t1, float)
    times = np.full(len(t0), np.nan)
    vals = np.full(len(t0), np.nan)
    i0 = np.searchsorted(t, np.nan_to_num(t0, nan=np.inf))
    i1 = np.searchsorted(t, np.nan_to_num(t1, nan=-np.inf))
    ok = i1 - i0 >= 3
    if not ok.any() or len(t) < 3:
        return times, vals
    i0, i1 = i0[ok], i1[ok]
    width = int(np.max(i1 - i0))
    idx = i0[:, None] + np.arange(width)[None, :]
    seg = np.where(idx < i1[:, None], y[np.minimum(idx, len(y) - 1)], -np.inf)
    i = np.clip(i0 + np.argmax(seg, axis=1), 1, len(y) - 2)
    dt = float(np.median(np.diff(t)))
    shift, v = _refine(y[i - 1], y[i], y[i + 1])
    times[ok], vals[ok] = t[i] + shift * dt, v
    return times, vals


@dataclass(frozen=True)
class _Truth:
    times: np.ndarray
    amps: np.ndarray
    stride: np.ndarray


def _shin_truth(leg: LegTimeline, model: _ShinModel, contact_peaks: np.ndarray, clean: RoleSamples,
                gyro_z: np.ndarray, reported: np.ndarray, counted: np.ndarray, idx: np.ndarray) -> dict[EventKind, _Truth]:
    """contact = initial contact and push = toe-off (the warp's knots, where the model's stance starts and
    ends); swing = the most negative ω_z between toe-off and the next contact."""
    t = clean.time_s
    dt = float(np.median(np.diff(t)))
    nxt = np.append(leg.contacts_s[1:], np.inf)
    out = {EventKind.CONTACT: _Truth(leg.contacts_s[reported], contact_peaks[reported], idx[reported])}
    # swing: the model's own peak, which the warp puts on the design instant (within a few hundredths of a
    # millisecond; up to ~1 ms where a design far from real runners' proportions bends the swing lobe, see
    # _shank_knots): refined on a 0.5 ms grid around the design instant, then checked against the rendered
    # signal at this rate; where they disagree by more than a sample, the refined sample wins
    sw = counted & np.isfinite(leg.swing_s)
    knot = leg.swing_s[sw]
    grid = np.arange(-6, 7) * 5e-4
    w = -np.rad2deg(model.motion((knot[:, None] + grid[None, :]).ravel()).theta[1]).reshape(len(knot), len(grid))
    i = np.clip(np.argmin(w, axis=1), 1, len(grid) - 2)
    rows = np.arange(len(knot))
    shift, v_fine = _refine(-w[rows, i - 1], -w[rows, i], -w[rows, i + 1])
    t_fine = knot + grid[i] + shift * 5e-4
    t_min, v_min = _windowed_peak(t, -gyro_z, leg.push_s[sw], nxt[sw])
    far = np.isfinite(t_min) & ~(np.abs(t_min - t_fine) <= dt)
    if np.any(far):
        log.warning("%d of %d swing peaks lie off their design instant; the truth is the rendered peak",
                    int(np.sum(far)), len(knot))
    out[EventKind.SWING] = _Truth(np.where(far, t_min, t_fine), np.where(far, v_min, v_fine), idx[sw])
    # push: toe-off; amplitude the peak backward rate (ω_z > 0) between toe-off and the swing peak
    tp = leg.push_s[counted]
    end = np.where(np.isfinite(leg.swing_s), leg.swing_s, 0.5 * (leg.push_s + nxt))[counted]
    _t, a_p = _windowed_peak(t, gyro_z, tp, end)
    out[EventKind.PUSH] = _Truth(tp, a_p, idx[counted])
    return out


def _arm_truth(arm: ArmTimeline, clean: RoleSamples, gyro_z: np.ndarray, inside: np.ndarray,
               back: np.ndarray, idx: np.ndarray) -> dict[EventKind, _Truth]:
    """arm_fwd / arm_back = the turnarounds (the warp's knots: extremes of the wrist's position relative
    to the pelvis); amplitude = the peak |ω_z| of the forearm's swing that ends there."""
    t = clean.time_s
    prev_back = np.concatenate([[np.nan], arm.back_s[:-1]])
    prev_back = np.where(np.isfinite(prev_back), prev_back, np.concatenate([[np.nan], arm.fwd_s[:-1]]))
    tf = arm.fwd_s[inside]
    _t, a_f = _windowed_peak(t, np.abs(gyro_z), np.nan_to_num(prev_back[inside], nan=-1.0), tf)
    tb = arm.back_s[back]
    _t, a_b = _windowed_peak(t, np.abs(gyro_z), arm.fwd_s[back], tb)
    return {EventKind.ARM_FWD: _Truth(tf, a_f, idx[inside]), EventKind.ARM_BACK: _Truth(tb, a_b, idx[back])}


def _design_events(p: SimParams, gait: Gait, clean: Recording, gyro_z: dict[Role, np.ndarray],
                   contact_peaks: dict[Role, np.ndarray], models: dict[Role, "_ShinModel | _ArmModel"]) -> list[Event]:
    """The physical instants of counted strides and running bouts, with their amplitudes."""
    found: dict[tuple[Role, EventKind], _Truth] = {}
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
        for kind, tr in _shin_truth(leg, models[role], contact_peaks[role], clean[role], gyro_z[role],
                                    reported, counted, idx).items():
            found[(role, kind)] = tr
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
        for kind, tr in _arm_truth(arm, clean[role], gyro_z[role], inside, back, idx).items():
            found[(role, kind)] = tr

    events: list[Event] = []
    for (role, kind), tr in found.items():
        events.extend(Event(role, kind, float(t), float(a), int(i), TRUTH_SOURCE)
                      for t, a, i in zip(tr.times, tr.amps, tr.stride))
    events.sort(key=lambda e: e.order)
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
    gyro_z: dict[Role, np.ndarray] = {}
    models: dict[Role, _ShinModel | _ArmModel] = {}
    contact_peaks: dict[Role, np.ndarray] = {}
    for role in p.roles:
        t, ts = _sample_times(p, role)
        side = role.side
        if role.is_shin:
            models[role] = model = _shin_model(p, gait, side)
            acc, gyro, contact_peaks[role] = _render_shin(p, model, side, t)
            rng_g = p.shin_range_g
        else:
            models[role] = model = _arm_model(p, gait, side)
            acc, gyro = _render_wrist(p, model, side, t)
            rng_g = p.wrist_range_g
        gyro_z[role] = gyro[:, 2]
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
    events = _design_events(p, gait, clean, gyro_z, contact_peaks, models)
    log.info("simulated %.0f s, roles %s, %d truth events", p.duration_s, [str(r) for r in p.roles], len(events))
    return SimResult(rec, clean, sensor_time, events, p)
