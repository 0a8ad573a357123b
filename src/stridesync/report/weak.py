"""The weak link in words, for every view: the terminal's step column and window line, the dashboard and
the report (docs/measurement.md §6, "Weak link").

The analyser's :func:`~stridesync.core.measures.weak_link` names the one limb whose mean |lag − target| is
largest. When the two legs (or the two arms) are about equally far from their targets, which one is larger
is decided by step-to-step scatter: on a symmetric runner the name flips left/right every few steps. So
before naming one side, :func:`weak_link_verdict` compares it with its mirror limb, and says "both legs"
("both arms") when the two differ by less than their noise:

    mean_abs_dev(weak) − mean_abs_dev(mirror)  <  max(5 ms, 2 × sqrt(s_w² / n_w + s_m² / n_m))

where s is the SD (n − 1) of each limb's |lag − target| over the window and n its count: 2 × that standard
error is the two-sided 95 % band of the difference of two means (the live window's 10 steps per side), and
5 ms is the floor that a long session's tiny standard error cannot undercut, since sensor placement alone
shifts a limb's timing by that much. Qt-free.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from stridesync.core.measures import limb_deviations
from stridesync.model import Role, Step

#: the noise rule's factor: sides closer than this many standard errors of their difference are "both"
BOTH_SIDES_Z = 2.0
#: ... and its floor, ms: a left/right difference this small can come from where the sensors sit (moving one
#: by 5 cm shifts its timing by up to 10 ms), however many steps average it
BOTH_SIDES_MIN_MS = 5.0

MIRROR = {Role.LEFT_SHIN: Role.RIGHT_SHIN, Role.RIGHT_SHIN: Role.LEFT_SHIN,
          Role.LEFT_WRIST: Role.RIGHT_WRIST, Role.RIGHT_WRIST: Role.LEFT_WRIST}
#: a limb as the weak link's text names it (a leg is weak through its swing)
LIMB_TEXT = {Role.LEFT_SHIN: "left swing", Role.RIGHT_SHIN: "right swing", Role.LEFT_WRIST: "left arm",
             Role.RIGHT_WRIST: "right arm"}
LIMB_SHORT = {Role.LEFT_SHIN: "L swing", Role.RIGHT_SHIN: "R swing", Role.LEFT_WRIST: "L arm", Role.RIGHT_WRIST: "R arm"}


@dataclass(frozen=True)
class WeakLink:
    """The weak link over a window of steps, as every view says it.

    ``limbs`` holds one role, or two (a left/right pair) when the two sides differ by less than their
    noise. ``mean_dev_ms``, ``mean_dev_pct`` and ``mean_abs_dev_ms`` pool the lags of ``limbs``;
    ``share_pct`` is their share of all limbs' mean |lag − target|. ``gap_ms`` is the mean |lag − target| of
    the named side minus its mirror's and ``noise_ms`` the rule's threshold (None without a mirror).
    """

    limbs: tuple[Role, ...]
    direction: str
    mean_dev_ms: float
    mean_dev_pct: float
    mean_abs_dev_ms: float
    share_pct: float | None
    gap_ms: float | None = None
    noise_ms: float | None = None
    side_dev_ms: tuple[float, ...] = ()

    @property
    def both(self) -> bool:
        return len(self.limbs) == 2

    @property
    def is_legs(self) -> bool:
        return self.limbs[0].is_shin

    @property
    def who(self) -> str:
        """'left swing', 'right arm', 'both legs', 'both arms'."""
        if self.both:
            return "both legs" if self.is_legs else "both arms"
        return LIMB_TEXT[self.limbs[0]]

    @property
    def text(self) -> str:
        """'right arm late by 42 ms, 6 % of stride'; 'both legs early by 28 ms, 4 % of stride'. When the two
        sides of a pair point different ways, each side's mean deviation is given instead."""
        if self.both and len(self.side_dev_ms) == 2 and (self.side_dev_ms[0] > 0) != (self.side_dev_ms[1] > 0):
            a, b = self.side_dev_ms
            return (f"{self.who}: left {_late(a)} by {abs(a):.0f} ms, right {_late(b)} by {abs(b):.0f} ms")
        return f"{self.who} {self.direction} by {abs(self.mean_dev_ms):.0f} ms, {abs(self.mean_dev_pct):.0f} % of stride"

    @property
    def short(self) -> str:
        """A few characters for the terminal's step column: 'R swing +29', 'both legs -28'."""
        who = ("both legs" if self.is_legs else "both arms") if self.both else LIMB_SHORT[self.limbs[0]]
        return f"{who} {self.mean_dev_ms:+.0f}"


def _late(v: float) -> str:
    return "late" if v > 0 else "early"


def weak_link_verdict(steps: Sequence[Step], targets: Mapping[str, float | None]) -> WeakLink | None:
    """The weak link over ``steps`` (same limb choice as :func:`stridesync.core.measures.weak_link`), with the
    noise rule for "both legs" / "both arms"; None when no step has a lag."""
    devs = limb_deviations(steps, targets or {})
    if not devs:
        return None
    mean_abs = {r: float(np.mean(np.abs(d[:, 0]))) for r, d in devs.items()}
    total = sum(mean_abs.values())
    weak = max(mean_abs, key=lambda r: mean_abs[r])
    limbs: tuple[Role, ...] = (weak,)
    gap = noise = None
    mirror = MIRROR[weak]
    if mirror in devs:
        a, b = np.abs(devs[weak][:, 0]), np.abs(devs[mirror][:, 0])
        gap = mean_abs[weak] - mean_abs[mirror]
        if len(a) >= 2 and len(b) >= 2:
            noise = max(BOTH_SIDES_MIN_MS, BOTH_SIDES_Z * math.sqrt(float(np.var(a, ddof=1)) / len(a)
                                                                    + float(np.var(b, ddof=1)) / len(b)))
            if gap < noise:
                limbs = tuple(r for r in (Role.LEFT_SHIN, Role.RIGHT_SHIN, Role.LEFT_WRIST, Role.RIGHT_WRIST)
                              if r in (weak, mirror))
    d = np.concatenate([devs[r] for r in limbs])
    mean_dev = float(np.mean(d[:, 0]))
    return WeakLink(limbs=limbs, direction="late" if mean_dev > 0 else "early", mean_dev_ms=mean_dev,
                    mean_dev_pct=float(np.mean(d[:, 1])), mean_abs_dev_ms=float(np.mean(np.abs(d[:, 0]))),
                    share_pct=100.0 * sum(mean_abs[r] for r in limbs) / total if total else None,
                    gap_ms=gap, noise_ms=noise,
                    side_dev_ms=tuple(float(np.mean(devs[r][:, 0])) for r in limbs))


def weak_link_text(steps: Sequence[Step], targets: Mapping[str, float | None]) -> str:
    """The weak link over ``steps`` in words, or an em dash when there is none."""
    wl = weak_link_verdict(steps, targets)
    return wl.text if wl else "—"


def weak_link_short(steps: Sequence[Step], targets: Mapping[str, float | None]) -> str:
    """The weak link over ``steps`` in a few characters (the terminal's step column), or an em dash."""
    wl = weak_link_verdict(steps, targets)
    return wl.short if wl else "—"


def window_weak_link(core) -> WeakLink | None:
    """The live weak link of a real-time core: over its last ``window_steps`` steps, with its targets."""
    return weak_link_verdict(core.steps_[-core.config.window_steps:], core.targets_ms or {})


def session_weak_link(steps: Sequence[Step], summary: Mapping) -> WeakLink | None:
    """The weak link of a whole session: its steps with the summary's targets."""
    return weak_link_verdict(steps, dict(summary.get("targets_ms") or {}))


def words(wl: WeakLink | None) -> str:
    """A weak link's text, or an em dash when there is none (the terminal's and dashboard's empty value)."""
    return wl.text if wl else "—"


def column(wl: WeakLink | None) -> str:
    """A weak link's few characters for the terminal's step column, or an em dash."""
    return wl.short if wl else "—"


__all__ = ["BOTH_SIDES_MIN_MS", "BOTH_SIDES_Z", "LIMB_SHORT", "LIMB_TEXT", "MIRROR", "WeakLink", "column", "limb_deviations", "session_weak_link",
           "weak_link_short", "weak_link_text", "weak_link_verdict", "window_weak_link", "words"]
