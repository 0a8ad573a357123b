"""Time warps: from the session clock to a limb's template phase, smooth to the second derivative.

A limb's motion is a template of stride phase ψ (stride k spans k..k+1) played back through a warp
ψ(t) that passes through the design knots (for a shank: initial contact, toe-off, the swing's
forward lobe; for a wrist: its turnarounds). The warp is written the other way round, as t(ψ):
between two knots, a quintic Hermite polynomial in ψ with the knots' times, slopes dt/dψ (the
harmonic mean of the two adjacent secants unless given) and **zero second derivative** at every
knot, so ψ(t), ψ̇ and ψ̈ are continuous. Two properties are used:

- An extremum of a template's *value* (Θ' = 0) on a knot stays there in time under any monotone
  warp: the wrist's turnarounds land exactly on theirs.
- Where two adjacent knots are given slopes equal to their secant, the warp is linear between them
  (constant rate): a template's *rate* dΘ/dψ keeps its shape there, and its extremum stays at the
  same phase. The shank's swing lobe is played that way (``stridesync.sim._shank_knots``).

The calibration script (``docs/simulator_templates.py``) time-normalises real strides with this warp.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Phase", "Warp", "make_warp"]


@dataclass(frozen=True)
class Phase:
    """Template phase ψ(t) (unwrapped) and its time derivatives."""

    psi: np.ndarray
    rate: np.ndarray  # dψ/dt, 1/s
    accel: np.ndarray  # d²ψ/dt², 1/s²


@dataclass(frozen=True)
class Warp:
    """t(ψ) through knots (ψ_i, t_i) with slopes dt/dψ; see the module docstring.

    On segment i, with u = (ψ − ψ_i)/h_i: t = t_i + u(a + u²(c3 + u(c4 + u c5))), a = h_i·slope_i.
    """

    psi: np.ndarray
    t: np.ndarray
    slope: np.ndarray

    def __post_init__(self) -> None:
        h = np.diff(self.psi)
        a, b, dy = h * self.slope[:-1], h * self.slope[1:], np.diff(self.t)
        object.__setattr__(self, "_h", h)
        object.__setattr__(self, "_c", np.stack([a, 10 * dy - 6 * a - 4 * b, -15 * dy + 8 * a + 7 * b,
                                                 6 * dy - 3 * a - 3 * b]))

    def time(self, psi: np.ndarray) -> np.ndarray:
        """t(ψ): the inverse direction, used to time-normalise real strides."""
        psi = np.asarray(psi, dtype=float)
        k = np.clip(np.searchsorted(self.psi, psi, side="right") - 1, 0, len(self.psi) - 2)
        u = np.clip((psi - self.psi[k]) / self._h[k], 0.0, 1.0)
        a, c3, c4, c5 = self._c[:, k]
        tv = self.t[k] + u * (a + u * u * (c3 + u * (c4 + u * c5)))
        lo, hi = psi < self.psi[0], psi > self.psi[-1]
        tv[lo] = self.t[0] + (psi[lo] - self.psi[0]) * self.slope[0]
        tv[hi] = self.t[-1] + (psi[hi] - self.psi[-1]) * self.slope[-1]
        return tv

    def phase(self, t: np.ndarray) -> Phase:
        """ψ(t), ψ̇ and ψ̈ at session times ``t`` (Newton inversion of t(ψ) per segment)."""
        t = np.asarray(t, dtype=float)
        tc = np.clip(t, self.t[0], self.t[-1])
        k = np.clip(np.searchsorted(self.t, tc, side="right") - 1, 0, len(self.t) - 2)
        t0 = self.t[k]
        a, c3, c4, c5 = self._c[:, k]
        y = tc - t0
        u = y / (self.t[k + 1] - t0)
        todo = np.arange(len(u))
        for _ in range(20):  # Newton: quadratic convergence, 3-5 steps in practice
            uu, aa, q3, q4, q5 = u[todo], a[todo], c3[todo], c4[todo], c5[todo]
            u2 = uu * uu
            err = uu * (aa + u2 * (q3 + uu * (q4 + uu * q5))) - y[todo]
            d1 = aa + u2 * (3 * q3 + uu * (4 * q4 + 5 * q5 * uu))
            u[todo] = np.clip(uu - err / d1, 0.0, 1.0)
            todo = todo[np.abs(err) >= 1e-10]
            if len(todo) == 0:
                break
        u2 = u * u
        d1 = a + u2 * (3 * c3 + u * (4 * c4 + 5 * c5 * u))  # dt/du
        d2 = u * (6 * c3 + u * (12 * c4 + 20 * c5 * u))
        h = self._h[k]
        psi = self.psi[k] + u * h
        rate = h / d1
        accel = -(d2 / (h * h)) * rate**3
        # beyond the end knots: constant rate
        lo, hi = t < self.t[0], t > self.t[-1]
        if lo.any():
            psi[lo] = self.psi[0] + (t[lo] - self.t[0]) / self.slope[0]
            rate[lo], accel[lo] = 1.0 / self.slope[0], 0.0
        if hi.any():
            psi[hi] = self.psi[-1] + (t[hi] - self.t[-1]) / self.slope[-1]
            rate[hi], accel[hi] = 1.0 / self.slope[-1], 0.0
        return Phase(psi, rate, accel)


def make_warp(knots_t: np.ndarray, knots_psi: np.ndarray, slopes: np.ndarray | None = None,
              ease: float | None = None) -> Warp:
    """The warp through knots (time order; knots that would make it non-monotone are dropped).

    Slopes dt/dψ at interior knots are the harmonic mean of the two adjacent secants, at the end knots
    the end secant, unless ``slopes`` gives one (nan: automatic).

    Without ``ease`` each segment is one quintic. A harmonic mean is at most twice the smaller secant,
    and a quintic Hermite segment with zero end curvature is monotone for any end slopes in (0, 2 × its
    secant] (dt/du ≥ secant/8); a given slope outside that range is replaced by the automatic one.

    With ``ease`` (a share of each segment, ≤ 0.45) every segment is played at one constant rate except
    within that share of it at either end, where the rate eases from the knot's: two more knots per
    segment, the middle's slope S chosen so that the segment keeps its duration, each easing part's
    secant the geometric mean of its end slopes. An easing part whose end slopes differ by a factor up
    to 3 stays within its end rates, up to 6 within 1.5 times them; automatic knot slopes are limited to
    1/3-3 times the middle slopes of both adjacent segments, given ones to 1/6-6 times. Two adjacent
    knots whose given slopes equal their secant leave the warp exactly linear between them.
    """
    kt = np.asarray(knots_t, float)
    kp = np.asarray(knots_psi, float)
    given = np.full(len(kt), np.nan) if slopes is None else np.asarray(slopes, float)
    keep = _sorted_knots(kt, kp)
    kt, kp, given = kt[keep], kp[keep], given[keep]
    if len(kt) < 2:
        raise ValueError("a warp needs at least two knots")
    sec = np.diff(kt) / np.diff(kp)
    m = np.empty(len(kt))
    m[0], m[-1] = sec[0], sec[-1]
    if len(kt) > 2:
        m[1:-1] = 2.0 / (1.0 / sec[:-1] + 1.0 / sec[1:])
    has = np.isfinite(given) & (given > 0)
    if not ease:
        lim = np.minimum(np.append(sec, np.inf), np.insert(sec, 0, np.inf))  # smaller adjacent secant
        ok = has & (given <= 2.0 * lim * (1 + 1e-9))
        m[ok] = given[ok]
        return Warp(kp, kt, m)
    m[has] = given[has]
    w = np.diff(kp)
    e = min(float(ease), 0.45) * w
    tau = np.diff(kt)
    f = np.where(has, 6.0, 3.0)  # a given slope may differ more: its easing part is still bounded
    for _ in range(3):
        mid = _middle_slope(e, w, tau, m[:-1], m[1:])
        hi = np.minimum(np.append(mid, np.inf), np.insert(mid, 0, np.inf)) * f
        lo = np.maximum(np.append(mid, 0.0), np.insert(mid, 0, 0.0)) / f
        m = np.where(lo <= hi, np.clip(m, lo, hi), np.sqrt(lo * hi))
    mid = _middle_slope(e, w, tau, m[:-1], m[1:])
    sa, sb = np.sqrt(m[:-1] * mid), np.sqrt(m[1:] * mid)  # secants of the two easing parts
    n = len(kt)
    t_all, p_all, m_all = np.empty(3 * n - 2), np.empty(3 * n - 2), np.empty(3 * n - 2)
    t_all[0::3], p_all[0::3], m_all[0::3] = kt, kp, m
    t_all[1::3], p_all[1::3], m_all[1::3] = kt[:-1] + e * sa, kp[:-1] + e, mid
    t_all[2::3], p_all[2::3], m_all[2::3] = kt[1:] - e * sb, kp[1:] - e, mid
    return Warp(p_all, t_all, m_all)


def _middle_slope(e: np.ndarray, w: np.ndarray, tau: np.ndarray, ma: np.ndarray, mb: np.ndarray) -> np.ndarray:
    """Slope S of a segment's middle such that e·√(ma·S) + (w − 2e)·S + e·√(mb·S) = τ (its duration)."""
    c2 = w - 2.0 * e
    c1 = e * (np.sqrt(ma) + np.sqrt(mb))
    x = (-c1 + np.sqrt(c1 * c1 + 4.0 * c2 * tau)) / (2.0 * c2)
    return x * x


def _sorted_knots(knots_t: np.ndarray, knots_psi: np.ndarray) -> np.ndarray:
    """Indices of the knots in time order, without those that would make the warp non-monotone."""
    order = np.argsort(knots_t, kind="stable")
    t_o, p_o = knots_t[order], knots_psi[order]
    fine = np.isfinite(t_o) & np.isfinite(p_o)
    if fine.all() and np.all(np.diff(t_o) > 1e-4) and np.all(np.diff(p_o) > 1e-3):
        return order
    keep = []
    last_t, last_p = -np.inf, -np.inf
    for i in order:
        t, p = knots_t[i], knots_psi[i]
        if np.isfinite(t) and np.isfinite(p) and t > last_t + 1e-4 and p > last_p + 1e-3:
            keep.append(i)
            last_t, last_p = t, p
    return np.array(keep, dtype=int)

