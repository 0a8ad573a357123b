"""From records to reported events: running strides, bouts and the wrist gate (docs/measurement.md §4).

The offline reference feeds every record of a limb at once; the real-time core feeds them one by one as
they become final. Both call these classes, so what counts as a running stride is written once.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass

from ..model import Event, EventKind, Role
from .config import DetectorConfig
from .rules import Found, RuleSet

INF = float("inf")


@dataclass(frozen=True, slots=True)
class Record:
    """The events one anchor gives (see :func:`stridesync.core.rules.record`).

    ``ordinal`` numbers the anchors of a sensor from 0; ``cycle`` is True when the previous anchor lies
    0.4–1.0 s before this one in the same segment (only then are the cycle's events present).
    """

    ordinal: int
    anchor_s: float
    cycle: bool
    found: tuple[Found, ...]

    def get(self, kind: EventKind) -> Found | None:
        for f in self.found:
            if f.kind is kind:
                return f
        return None


class ShinStrides:
    """Counts running strides of one shin and emits their events.

    Stride j runs from the contact of record j−1 to the contact of record j and holds record j's ``push``
    and ``swing``. It counts when both records are consecutive anchors of one segment (record j has its
    cycle), the contacts lie ``stride_min_s``–``stride_max_s`` apart, push and swing lie between them, and
    the stance (contact to push) is shorter than half the stride: a flight phase.
    """

    def __init__(self, role: Role, rules: RuleSet, cfg: DetectorConfig):
        self.role, self.rules, self.cfg = role, rules, cfg
        self.prev: Record | None = None
        self.prev_reported = False
        #: (start, end) of every counted stride, in order
        self.strides: list[tuple[float, float]] = []
        #: contact time that opens the newest stride still to be judged (None: no stride can open yet)
        self.last_contact_s: float | None = None
        #: counted strides whose swing peak was clipped at the gyroscope's full scale (swing not reported)
        self.clipped = 0

    def _event(self, kind: EventKind, f: Found, index: int) -> Event:
        return Event(self.role, kind, f.time_s, f.amplitude, index, self.rules.value)

    def add(self, rec: Record) -> list[Event]:
        cfg = self.cfg
        out: list[Event] = []
        prev, self.prev = self.prev, rec
        prev_reported, self.prev_reported = self.prev_reported, False
        c1 = rec.get(EventKind.CONTACT)
        self.last_contact_s = c1.time_s if c1 is not None else None
        if prev is None or not rec.cycle or c1 is None:
            return out
        c0 = prev.get(EventKind.CONTACT)
        push, swing = rec.get(EventKind.PUSH), rec.get(EventKind.SWING)
        if c0 is None or push is None or swing is None:
            return out
        T = c1.time_s - c0.time_s
        if not (cfg.stride_min_s <= T <= cfg.stride_max_s):
            return out
        if not (c0.time_s < push.time_s < c1.time_s and c0.time_s < swing.time_s < c1.time_s):
            return out
        if not (push.time_s - c0.time_s < 0.5 * T):
            return out
        k = prev.ordinal
        if not prev_reported:
            out.append(self._event(EventKind.CONTACT, c0, k))
        out.append(self._event(EventKind.PUSH, push, k))
        if swing.clipped:
            self.clipped += 1
        else:
            out.append(self._event(EventKind.SWING, swing, k))
        out.append(self._event(EventKind.CONTACT, c1, rec.ordinal))
        self.prev_reported = True
        self.strides.append((c0.time_s, c1.time_s))
        return out


class WristGate:
    """Which wrist events are reported.

    With a shin worn, an event counts when it lies in a counted stride of either leg (both ends
    included). Without shins, the events of every record whose cycle is valid and whose arm swings
    clearly count.
    """

    def __init__(self, role: Role, rules: RuleSet, with_shins: bool):
        self.role, self.rules, self.with_shins = role, rules, with_shins
        self.pending: deque[Event] = deque()

    def add(self, rec: Record, clear: bool) -> list[Event]:
        evs = []
        for f in rec.found:
            # gyroscope: the backward turn follows this anchor's forward turn; accelerometer: it precedes it
            index = rec.ordinal - 1 if f.kind is EventKind.ARM_BACK and self.rules is RuleSet.ACCEL else rec.ordinal
            evs.append(Event(self.role, f.kind, f.time_s, f.amplitude, index, self.rules.value))
        if not self.with_shins:
            return sorted(evs, key=lambda e: e.time_s) if rec.cycle and clear else []
        for e in sorted(evs, key=lambda e: e.time_s):
            self.pending.append(e)
        return []

    def release(self, known_until_s: float, covered) -> list[Event]:
        """Report the pending events that lie in a counted stride known so far (``covered(t)``), and drop
        those before ``known_until_s`` that do not (every counted stride that could contain them is known).
        The others wait."""
        out, keep = [], deque()
        for e in self.pending:
            if covered(e.time_s):
                out.append(e)
            elif e.time_s >= known_until_s:
                keep.append(e)
        self.pending = keep
        return out


class Coverage:
    """The counted strides of both legs, for the wrist gate: sorted closed intervals."""

    def __init__(self) -> None:
        self.iv: list[tuple[float, float]] = []

    def add(self, a: float, b: float) -> None:
        bisect.insort(self.iv, (a, b))

    def __call__(self, t: float) -> bool:
        iv = self.iv
        k = bisect.bisect_right(iv, (t, INF))
        for j in range(max(0, k - 4), k):
            a, b = iv[j]
            if a <= t <= b:
                return True
        return False
