"""Time warps: from the session clock to a limb's template phase, smooth to the second derivative.

A limb's motion is a template of stride phase ψ (stride k spans k..k+1) played back through a warp
ψ(t) that passes through the design knots (for a shank: initial contact, toe-off, the swing peak and
the next contact). The warp is written the other way round, as t(ψ): between two knots, a quintic
Hermite polynomial in ψ with the knots' times, slopes dt/dψ (the harmonic mean of the two adjacent
secants) and **zero second derivative** at every knot. Two properties follow:

- ψ̈ = −t''/t'³ is zero at every knot, so an extremum of the template's *rate* dΘ/dψ placed on a
  knot stays on that knot in time (d/dt[Θ'(ψ) ψ̇] = Θ'' ψ̇² + Θ' ψ̈ = 0 there). The shank's swing peak
  lands exactly on its design instant.
- An extremum of the template's *value* (Θ' = 0) on a knot stays there under any monotone warp: the
  wrist's turnarounds land exactly on theirs.

The calibration script (``docs/simulator_templates.py``) time-normalises real strides with the same
warp, so the templates and the simulator stretch strides the same way.
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
    """t(ψ) through knots (ψ_i, t_i) with slopes dt/dψ; see the module docstring."""

    psi: np.ndarray
    t: np.ndarray
    slope: np.ndarray

    def time(self, psi: np.ndarray) -> np.ndarray:
        """t(ψ): the inverse direction, used to time-normalise real strides."""
        psi = np.asarray(psi, dtype=float)
        k = np.clip(np.searchsorted(self.psi, psi, side="right") - 1, 0, len(self.psi) - 2)
        h = self.psi[k + 1] - self.psi[k]
        u = np.clip((psi - self.psi[k]) / h, 0.0, 1.0)
        tv, _d1, _d2 = _hermite(u, self.t[k], self.t[k + 1], h * self.slope[k], h * self.slope[k + 1])
        lo, hi = psi < self.psi[0], psi > self.psi[-1]
        tv[lo] = self.t[0] + (psi[lo] - self.psi[0]) * self.slope[0]
        tv[hi] = self.t[-1] + (psi[hi] - self.psi[-1]) * self.slope[-1]
        return tv

    def phase(self, t: np.ndarray) -> Phase:
        """ψ(t), ψ̇ and ψ̈ at session times ``t`` (Newton inversion of t(ψ) per segment)."""
        t = np.asarray(t, dtype=float)
        tc = np.clip(t, self.t[0], self.t[-1])
        k = np.clip(np.searchsorted(self.t, tc, side="right") - 1, 0, len(self.t) - 2)
        t0, t1 = self.t[k], self.t[k + 1]
        h = self.psi[k + 1] - self.psi[k]
        a, b = h * self.slope[k], h * self.slope[k + 1]
        u = (tc - t0) / (t1 - t0)
        for _ in range(12):  # Newton: quadratic convergence, 3-5 steps in practice
            tv, d1, d2 = _hermite(u, t0, t1, a, b)
            err = tv - tc
            if np.max(np.abs(err), initial=0.0) < 1e-10:
                break
            u = np.clip(u - err / d1, 0.0, 1.0)
        else:
            tv, d1, d2 = _hermite(u, t0, t1, a, b)
        tp = d1 / h  # dt/dψ
        tpp = d2 / h**2
        psi = self.psi[k] + u * h
        rate = 1.0 / tp
        accel = -tpp * rate**3
        # beyond the end knots: constant rate
        lo, hi = t < self.t[0], t > self.t[-1]
        if lo.any():
            psi[lo] = self.psi[0] + (t[lo] - self.t[0]) / self.slope[0]
            rate[lo], accel[lo] = 1.0 / self.slope[0], 0.0
        if hi.any():
            psi[hi] = self.psi[-1] + (t[hi] - self.t[-1]) / self.slope[-1]
            rate[hi], accel[hi] = 1.0 / self.slope[-1], 0.0
        return Phase(psi, rate, accel)

def _hermite(u, y0, y1, a, b):
    """Quintic Hermite with end values y0, y1, end derivatives a, b (per unit u), zero 2nd derivatives.

    Returns value, d/du and d²/du².
    """
    u2 = u * u
    u3 = u2 * u
    u4 = u3 * u
    u5 = u4 * u
    h01 = 10 * u3 - 15 * u4 + 6 * u5
    h10 = u - 6 * u3 + 8 * u4 - 3 * u5
    h11 = -4 * u3 + 7 * u4 - 3 * u5
    d01 = 30 * u2 - 60 * u3 + 30 * u4
    d10 = 1 - 18 * u2 + 32 * u3 - 15 * u4
    d11 = -12 * u2 + 28 * u3 - 15 * u4
    e01 = 60 * u - 180 * u2 + 120 * u3
    e10 = -36 * u + 96 * u2 - 60 * u3
    e11 = -24 * u + 84 * u2 - 60 * u3
    dy = y1 - y0
    return y0 + dy * h01 + a * h10 + b * h11, dy * d01 + a * d10 + b * d11, dy * e01 + a * e10 + b * e11


def make_warp(knots_t: np.ndarray, knots_psi: np.ndarray) -> Warp:
    """The warp through knots (time order; knots that would make it non-monotone are dropped).

    Slopes dt/dψ at interior knots are the harmonic mean of the two adjacent secants, at the end
    knots the end secant. A harmonic mean is at most twice the smaller secant, and a quintic Hermite
    segment with zero end curvature is monotone for any end slopes in (0, 2 × its secant]
    (dt/du ≥ secant/8), so every warp is monotone.
    """
    kt, kp = _sorted_knots(np.asarray(knots_t, float), np.asarray(knots_psi, float))
    if len(kt) < 2:
        raise ValueError("a warp needs at least two knots")
    sec = np.diff(kt) / np.diff(kp)
    m = np.empty(len(kt))
    m[0], m[-1] = sec[0], sec[-1]
    if len(kt) > 2:
        m[1:-1] = 2.0 / (1.0 / sec[:-1] + 1.0 / sec[1:])
    return Warp(kp, kt, m)


def _sorted_knots(knots_t: np.ndarray, knots_psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knots in time order, without those that would make the warp non-monotone."""
    order = np.argsort(knots_t, kind="stable")
    kt, kp = knots_t[order], knots_psi[order]
    keep = np.ones(len(kt), bool)
    last_t, last_p = -np.inf, -np.inf
    for i in range(len(kt)):
        if not (np.isfinite(kt[i]) and np.isfinite(kp[i])) or kt[i] <= last_t + 1e-4 or kp[i] <= last_p + 1e-3:
            keep[i] = False
        else:
            last_t, last_p = kt[i], kp[i]
    return kt[keep], kp[keep]
