"""Gait timeline: when each foot lands and leaves the ground, when each shank and arm peaks.

The timeline is built in *design time* on the session clock, before any signal exists: initial
contacts, toe-offs, the instants of each shank's swing peak and each wrist's turnarounds. The limb
models (:mod:`stridesync.sim._body`) are warped through exactly these instants (:mod:`._warp`), so they
are the physical instants of the rendered motion and the design lags of
:class:`~stridesync.sim.SimParams` are the lags between them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import Side
from ._body import Gain

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

    def gain(self, t_s: np.ndarray, walk_scale: float) -> Gain:
        """A limb's excursion level, ``act × (walk_scale + (1 − walk_scale) × run)`` of :meth:`levels`,
        with its first two time derivatives (so that rates and accelerations stay consistent with the
        angles through the ramps)."""
        t = np.asarray(t_s, dtype=float)
        r = RAMP_S
        a = _Ramp(t, [self.run_start_s - r, self.run_start_s, self.run_end_s, self.run_end_s + r], [0, 1, 1, 0])
        run = _Ramp(t, [-1e9, 1e9], [1.0, 1.0])
        for a_, b_ in self.walking:
            rr = min(r, 0.5 * (b_ - a_))
            w = _Ramp(t, [a_, a_ + rr, b_ - rr, b_], [1, 0, 0, 1])
            take = w.x < run.x
            run = _Ramp.where(take, w, run)
        act, run_ = a.smooth(), run.smooth()
        lvl = (walk_scale + (1 - walk_scale) * run_[0], (1 - walk_scale) * run_[1], (1 - walk_scale) * run_[2])
        return Gain(act[0] * lvl[0], act[1] * lvl[0] + act[0] * lvl[1],
                    act[2] * lvl[0] + 2 * act[1] * lvl[1] + act[0] * lvl[2])


class _Ramp:
    """A piecewise-linear level x(t) in [0, 1] and its slope; ``smooth`` applies the C1 smoothstep."""

    def __init__(self, t: np.ndarray | None, xp, fp, *, x=None, slope=None) -> None:
        if t is None:
            self.x, self.slope = x, slope
            return
        xp, fp = np.asarray(xp, float), np.asarray(fp, float)
        self.x = np.interp(t, xp, fp)
        k = np.searchsorted(xp, t, side="right") - 1
        inside = (k >= 0) & (k < len(xp) - 1)
        kk = np.clip(k, 0, len(xp) - 2)
        self.slope = np.where(inside, (fp[kk + 1] - fp[kk]) / (xp[kk + 1] - xp[kk]), 0.0)

    @staticmethod
    def where(mask: np.ndarray, a: "_Ramp", b: "_Ramp") -> "_Ramp":
        return _Ramp(None, None, None, x=np.where(mask, a.x, b.x), slope=np.where(mask, a.slope, b.slope))

    def smooth(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, s = self.x, self.slope
        return x * x * (3.0 - 2.0 * x), 6.0 * x * (1.0 - x) * s, (6.0 - 12.0 * x) * s * s


@dataclass(frozen=True)
class LegTimeline:
    """Per-leg design instants; arrays are aligned per stride k (stride k starts at contacts[k]).

    ``contacts_s`` are the initial contacts, ``push_s`` the toe-offs (contact + duty × stride),
    ``swing_s`` the instants of the shank's peak forward angular velocity."""

    contacts_s: np.ndarray
    stride_s: np.ndarray  # contacts[k+1] - contacts[k] (last one repeated)
    push_s: np.ndarray  # toe-off (contact + duty × stride)
    swing_s: np.ndarray  # the peak of this leg's forward shank angular velocity in stride k, nan if none
    mode: np.ndarray  # STAND / WALK / RUN of each contact
    impact_g: np.ndarray  # impact transient amplitude at each contact, g
    counted: np.ndarray  # bool: stride k is a counted running stride (MEASUREMENT.md §2)


@dataclass(frozen=True)
class ArmTimeline:
    """Per-wrist design instants: forward turnarounds of the wrist relative to the pelvis and the backward
    one after each (nan if none)."""

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
        Constant cadence, no variability, running throughout (identical strides, for tests).
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
        # a stride into another mode (walk → run, ...) takes the mean duty of the two, so that its swing is
        # neither squeezed nor stretched
        change = np.append(m[1:] != m[:-1], False)
        duty[change] = 0.5 * (duty[change] + np.append(duty[1:], duty[-1])[change])
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
        # the other leg's running rhythm, contact + duty_factor × stride: its toe-off in every counted stride,
        # and steady where its duty changes (into and out of walking)
        rhythm_o = legs_c[other] + p.duty_factor * strides[other]
        w_all = rhythm_o + lag("swing", rhythm_o)
        k = np.searchsorted(c, w_all, side="right") - 1
        swing = np.full(len(c), np.nan)
        ok = (k >= 0) & (k < len(c))
        for kk, ww in zip(k[ok], w_all[ok]):
            # keep only a swing of a running stride (both contacts running), between its toe-off and the next
            # contact; the others (walking, standing, the strides into and out of them) swing as the template does
            nxt_run = kk + 1 < len(c) and m[kk + 1] == RUN
            if m[kk] == RUN and nxt_run and pushes[side][kk] + 0.08 * T[kk] < ww < c[kk] + 0.97 * T[kk]:
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

        # the arms keep the legs' running rhythm, contact + duty_factor × stride: the toe-off of every running
        # stride, and smooth through walking (whose toe-off comes much later in the stride)
        rhythm = {sd: legs_c[sd] + p.duty_factor * strides[sd] for sd in (side, other)}
        fwd = rhythm[side] + lag("ipsi", rhythm[side])
        back_all = rhythm[other] + lag("contra", rhythm[other])
        back = np.full(len(fwd), np.nan)
        j = np.searchsorted(fwd, back_all, side="right") - 1
        ok = (j >= 0) & (j < len(fwd) - 1)
        for jj, bb in zip(j[ok], back_all[ok]):
            span = fwd[jj + 1] - fwd[jj]
            if fwd[jj] + 0.2 * span < bb < fwd[jj] + 0.8 * span:
                back[jj] = bb
        arms[side] = ArmTimeline(fwd, back)
    return Gait(seg, legs, arms)
