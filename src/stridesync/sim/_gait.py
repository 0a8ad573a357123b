"""Gait timeline: when each foot lands and pushes, when each shank and arm peaks.

The timeline is built in *design time* on the session clock, before any signal exists. Everything
the body model renders (stride phase warps, pelvis bounce, impacts) is driven from it, so the
design lags of :class:`~stridesync.sim.SimParams` steer the measured lags directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import Side

#: Duration of the smooth transitions between standing, walking and running, s.
RAMP_S = 1.0
STAND, WALK, RUN = 0, 1, 2


@dataclass(frozen=True)
class Segments:
    """Activity over the session: standing at both ends, walking bouts, running elsewhere."""

    duration_s: float
    run_start_s: float  # end of the standing start
    run_end_s: float  # start of the standing end
    walking: tuple[tuple[float, float], ...]

    def mode(self, t_s: np.ndarray) -> np.ndarray:
        t = np.asarray(t_s, dtype=float)
        m = np.where((t >= self.run_start_s) & (t < self.run_end_s), RUN, STAND)
        for a, b in self.walking:
            m = np.where((t >= a) & (t < b) & (m == RUN), WALK, m)
        return m

    def run_segment_id(self, t_s: np.ndarray) -> np.ndarray:
        """Index of the running segment containing t, -1 outside running."""
        bounds = sorted([self.run_start_s, self.run_end_s] + [x for w in self.walking for x in w])
        idx = np.searchsorted(bounds, t_s, side="right")
        return np.where(self.mode(t_s) == RUN, idx, -1)

    def levels(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(activity, running) levels in [0, 1]; ramps sit inside the standing and walking parts so
        that every running stride is at full amplitude."""
        t = np.asarray(t_s, dtype=float)
        r = RAMP_S
        act = np.interp(t, [self.run_start_s - r, self.run_start_s, self.run_end_s, self.run_end_s + r], [0, 1, 1, 0])
        run = np.ones_like(t)
        for a, b in self.walking:
            rr = min(r, 0.5 * (b - a))
            run = np.minimum(run, np.interp(t, [a, a + rr, b - rr, b], [1, 0, 0, 1]))
        smooth = lambda x: x * x * (3.0 - 2.0 * x)  # noqa: E731  (C1 smoothstep)
        return smooth(act), smooth(run)


@dataclass(frozen=True)
class LegTimeline:
    """Per-leg design instants; arrays are aligned per stride k (stride k starts at contacts[k])."""

    contacts_s: np.ndarray
    stride_s: np.ndarray  # contacts[k+1] - contacts[k] (last one repeated)
    push_s: np.ndarray  # end of push-off (contact + duty × stride)
    swing_s: np.ndarray  # the peak of this leg's shank angular velocity in stride k, nan if none
    mode: np.ndarray  # STAND / WALK / RUN of each contact
    impact_g: np.ndarray  # impact transient amplitude at each contact, g
    counted: np.ndarray  # bool: stride k is a counted running stride (MEASUREMENT.md §2)


@dataclass(frozen=True)
class ArmTimeline:
    """Per-wrist design instants: forward turnarounds and the backward one after each (nan if none)."""

    fwd_s: np.ndarray
    back_s: np.ndarray


@dataclass(frozen=True)
class Gait:
    segments: Segments
    legs: dict[Side, LegTimeline]
    arms: dict[Side, ArmTimeline]


def _lag_s(base_ms: float, drift_ms_per_min: float, t_s: np.ndarray, sd_ms: float, rng: np.random.Generator) -> np.ndarray:
    return 1e-3 * (base_ms + drift_ms_per_min * t_s / 60.0 + sd_ms * rng.standard_normal(len(t_s)))


def build_gait(p, rng: np.random.Generator, *, stationary: bool = False) -> Gait:
    """Lay out contacts, pushes, swing peaks and arm turnarounds for the whole session.

    Parameters
    ----------
    p : SimParams
    rng : numpy Generator (the timeline's own stream)
    stationary : bool
        Constant cadence, no variability, running throughout: used to calibrate the templates.
    """
    if stationary:
        seg = Segments(p.duration_s, -10.0, p.duration_s + 10.0, ())
    else:
        seg = Segments(p.duration_s, p.standing_start_s, p.duration_s - p.standing_end_s, tuple(p.walking))
    step_sd = 0.0 if stationary else p.stride_cv_pct / 100.0 * np.sqrt(2.0)
    # step sequence from before the session to after it, so every sample has knots on both sides
    t = -2.5
    starts: list[float] = []
    while t < p.duration_s + 2.5:
        starts.append(t)
        m = int(seg.mode(np.array([t]))[0])
        if m == RUN:
            cad = p.cadence_spm + (0.0 if stationary else p.cadence_drift_spm_per_min * max(t, 0.0) / 60.0)
        elif m == WALK:
            cad = p.walk_cadence_spm
        else:
            cad = 100.0
        t += 60.0 / cad * (1.0 + step_sd * rng.standard_normal())
    starts_a = np.array(starts)
    legs_c = {Side.LEFT: starts_a[0::2], Side.RIGHT: starts_a[1::2]}
    duty_of = {STAND: 0.6, WALK: 0.62, RUN: p.duty_factor}

    pushes: dict[Side, np.ndarray] = {}
    strides: dict[Side, np.ndarray] = {}
    modes: dict[Side, np.ndarray] = {}
    for side, c in legs_c.items():
        T = np.diff(c, append=c[-1] + (c[-1] - c[-2]))
        m = seg.mode(c)
        duty = np.vectorize(duty_of.get)(m).astype(float)
        pushes[side] = c + duty * T
        strides[side] = T
        modes[side] = m

    def lag(kind: str, t_s: np.ndarray) -> np.ndarray:
        base = {"swing": p.swing_lag_ms, "ipsi": p.ipsi_arm_lag_ms, "contra": p.contra_arm_lag_ms}[kind]
        drift = dict(zip(("swing", "ipsi", "contra"), p.lag_drift_ms_per_min))[kind]
        sd = 0.0 if stationary else (p.swing_lag_sd_ms if kind == "swing" else p.arm_lag_sd_ms)
        run = seg.mode(t_s) == RUN  # design lags apply while running; elsewhere limbs follow loosely
        out = _lag_s(base, drift, t_s, sd, rng)
        return np.where(run, out, 0.0)

    legs: dict[Side, LegTimeline] = {}
    arms: dict[Side, ArmTimeline] = {}
    run_id = seg.run_segment_id
    for side in (Side.LEFT, Side.RIGHT):
        c, T, m = legs_c[side], strides[side], modes[side]
        other = side.other
        w_all = pushes[other] + lag("swing", pushes[other])
        k = np.searchsorted(c, w_all, side="right") - 1
        swing = np.full(len(c), np.nan)
        ok = (k >= 0) & (k < len(c))
        for kk, ww in zip(k[ok], w_all[ok]):
            # keep only a swing between this stride's push and the next contact
            if pushes[side][kk] + 0.08 * T[kk] < ww < c[kk] + 0.97 * T[kk]:
                swing[kk] = ww
        sid0, sid1 = run_id(c), run_id(c + T)
        counted = (sid0 >= 0) & (sid0 == sid1) & (T >= 0.4) & (T <= 1.0) & (np.arange(len(c)) < len(c) - 1)
        counted &= (c >= 0.0) & (c + T < p.duration_s)
        if stationary:
            imp = np.full(len(c), 1.0)
        else:
            lr = p.impact_lr_ratio ** (0.5 if side is Side.LEFT else -0.5)
            imp = np.exp(p.impact_cv_pct / 100.0 * rng.standard_normal(len(c))) * lr
        act, _ = seg.levels(c)
        impact = np.where(m == RUN, imp, act * p.walk_impact_g / max(p.impact_g, 1e-9) * imp)
        legs[side] = LegTimeline(c, T, pushes[side], swing, m, impact, counted)

        fwd = pushes[side] + lag("ipsi", pushes[side])
        back_all = pushes[other] + lag("contra", pushes[other])
        back = np.full(len(fwd), np.nan)
        j = np.searchsorted(fwd, back_all, side="right") - 1
        ok = (j >= 0) & (j < len(fwd) - 1)
        for jj, bb in zip(j[ok], back_all[ok]):
            span = fwd[jj + 1] - fwd[jj]
            if fwd[jj] + 0.2 * span < bb < fwd[jj] + 0.8 * span:
                back[jj] = bb
        arms[side] = ArmTimeline(fwd, back)
    return Gait(seg, legs, arms)
