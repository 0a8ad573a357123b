"""Real-time signal core: causal, streaming, chunk-invariant, and exact to the reference.

The contract defines every event on zero-phase filtered signals of the whole recording. This core
reproduces those instants while streaming:

* The forward pass of each filter runs causally with carried state; it is the same recursion as the
  reference's forward pass, so it matches it exactly.
* The backward pass runs every ``hop_s`` of data (at sample indices fixed by the data, not by how it was
  chunked) from the newest sample back over the last ``settle`` samples; values whose look-ahead covers
  the filter's impulse response down to ``settle_tol`` of its peak are final. When a segment ends (a gap,
  or the end of the session) the final stretch is computed from the true end, exactly like the reference.
* Every decision reads final values only, through the very functions the reference calls
  (:mod:`stridesync.core.rules`, :mod:`stridesync.core.strides`): an anchor is judged once its window is
  final, a record is computed once the samples it reads are final, and strides, bouts and the wrist gate
  follow in order. Nothing depends on how the input was chunked.
* A step is emitted once its push and stride are known and no event nearer to the push than the one
  found (or inside the pairing window, when none was found) can still appear (docs/measurement.md §6).

Each event carries the instant of the reference feature; ``delays_s`` records how long after that
instant (in data time) it was emitted, and ``step_delays_s`` how long after its push each step was.
"""

from __future__ import annotations

import bisect
import logging
import math
from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from ..errors import InputFormatError
from ..model import Event, EventKind, Role, Step
from . import dsp, rules
from .config import DetectorConfig
from .measures import RawStep, baseline_targets, nearest, raw_step, score_step, summarize, zero_targets
from .packed import EventLog, StepLog
from .rules import RuleSet, Track
from .strides import Coverage, Record, ShinStrides, WristGate

log = logging.getLogger(__name__)

INF = math.inf
KEEP_S = 8.0  # history kept in the buffers: covers every look-back window with margin


class _Buf:
    """A growable 1-D array addressed by global sample index, trimmed from the front."""

    def __init__(self, dtype=float):
        self.a = np.empty(1024, dtype=dtype)
        self.base = 0  # global index of a[0]
        self.n = 0  # global index one past the last element

    def extend(self, x: np.ndarray) -> None:
        k = self.n - self.base
        if k + len(x) > len(self.a):
            new = np.empty(max(2 * len(self.a), k + len(x)), dtype=self.a.dtype)
            new[:k] = self.a[:k]
            self.a = new
        self.a[k:k + len(x)] = x
        self.n += len(x)

    def grow(self, n: int) -> None:
        """Extend by n uninitialised elements (written later)."""
        k = self.n - self.base
        if k + n > len(self.a):
            new = np.empty(max(2 * len(self.a), k + n), dtype=self.a.dtype)
            new[:k] = self.a[:k]
            self.a = new
        self.n += n

    def view(self, lo: int, hi: int) -> np.ndarray:
        return self.a[lo - self.base:hi - self.base]

    def set(self, lo: int, x: np.ndarray) -> None:
        self.a[lo - self.base:lo - self.base + len(x)] = x

    def trim(self, keep_from: int) -> None:
        drop = keep_from - self.base
        if drop > len(self.a) // 2:
            k = self.n - keep_from
            self.a[:k] = self.a[drop:drop + k]
            self.base = keep_from


@dataclass
class _Chan:
    sos: np.ndarray
    zi: np.ndarray
    settle: int
    state: np.ndarray | None = None
    yf: _Buf = field(default_factory=_Buf)
    z: _Buf = field(default_factory=_Buf)
    settled: int = 0  # global index: z is final below it


class RoleStream:
    """One sensor's samples: hole filling, segments, streaming zero-phase filters."""

    def __init__(self, role: Role, sample_rate_hz: float, cfg: DetectorConfig, sp: rules.Spec):
        self.role, self.fs, self.cfg, self.spec = role, float(sample_rate_hz), cfg, sp
        self.dt = 1.0 / self.fs
        self.hop = max(1, int(round(cfg.hop_s * self.fs)))
        self.chans: dict[str, _Chan] = {}
        self.raws: dict[str, _Buf] = {}  # unfiltered signals: final as they arrive
        for name, fc in sp.signals.items():
            if fc is None:
                self.raws[name] = _Buf()
                continue
            sos, zi = dsp.lowpass_sos(fc, self.fs, cfg.filter_order, cfg.max_cutoff_frac)
            self.chans[name] = _Chan(sos, zi, dsp.settle_samples(fc, self.fs, cfg))
        self.t = _Buf()
        self.seg = _Buf(dtype=np.int64)
        self.n = 0
        self.seg_id = -1
        self.seg_start = 0
        self.seg_open = False
        self.finished = False
        self.hop_next = 0
        self.last_t: float | None = None
        self.last_acc: np.ndarray | None = None
        self.quiet_until = -INF  # see declare_gap
        self.force_new_segment = False

    # ---------------------------------------------------------------- input
    def push(self, t: np.ndarray, acc: np.ndarray) -> None:
        if self.finished:
            raise InputFormatError(f"{self.role}: samples after the end of the stream")
        if len(t) == 0:
            return
        if (self.last_t is not None and t[0] <= self.last_t) or (len(t) > 1 and not np.all(t[1:] > t[:-1])):
            raise InputFormatError(f"{self.role}: sample times must increase")
        if t[0] < self.quiet_until:
            raise InputFormatError(f"{self.role}: samples at {t[0]:.3f} s fall in a gap declared until {self.quiet_until:.3f} s")
        if self.force_new_segment:  # after a declared gap: no bridging across it
            tf, af, new = dsp.fill_holes(t, acc, self.dt, self.cfg.max_fill_gap_s)
            self.force_new_segment = False
        else:
            tf, af, new = dsp.fill_holes(t, acc, self.dt, self.cfg.max_fill_gap_s, self.last_t, self.last_acc)
        self.last_t, self.last_acc = float(t[-1]), np.array(acc[-1], dtype=float)
        cuts = list(np.flatnonzero(new)) + [len(tf)]
        if cuts[0] != 0:
            cuts.insert(0, 0)
        for a, b in zip(cuts[:-1], cuts[1:]):
            if new[a]:
                self._start_segment()
            self._append(tf[a:b], af[a:b])

    def finish(self) -> None:
        if self.seg_open:
            self._close_segment()
        self.finished = True

    def declare_gap(self, until_s: float) -> None:
        """No sample before ``until_s`` will arrive beyond those already pushed (the sensor is
        disconnected, or a block was lost). The open segment ends here, so decisions waiting on this
        sensor can go ahead; the next sample starts a new segment."""
        if self.seg_open:
            self._close_segment()
        self.quiet_until = max(self.quiet_until, float(until_s))
        self.force_new_segment = True

    def _start_segment(self) -> None:
        if self.seg_open:
            self._close_segment()
        self.seg_id += 1
        self.seg_start = self.n
        self.seg_open = True
        self.hop_next = self.n + self.hop
        for ch in self.chans.values():
            ch.state = None
            ch.settled = self.n

    def _append(self, t: np.ndarray, acc: np.ndarray) -> None:
        raw = rules.raw_signals(self.spec, acc[:, :3], acc[:, 3:6] if acc.shape[1] == 6 else None)
        for name, buf in self.raws.items():
            buf.extend(raw[name])
        for name, ch in self.chans.items():
            x = raw[name]
            if ch.state is None:
                ch.state = ch.zi * x[0]
            y, zf = dsp.sosfilt_rows(ch.sos, x[None, :], ch.state[None])
            ch.state = zf[0]
            ch.yf.extend(y[0])
            ch.z.grow(len(x))  # written by the backward passes
        self.t.extend(t)
        self.seg.extend(np.full(len(t), self.seg_id, dtype=np.int64))
        self.n += len(t)
        ends = []
        while self.hop_next <= self.n:
            ends.append(self.hop_next)
            self.hop_next += self.hop
        if ends:
            self._hops(ends)

    def _hops(self, ends: list[int]) -> None:
        """Backward passes of several hops at once: each hop end e finalises the samples that now
        have ``settle`` samples of look-ahead. Hops of equal shape run as rows of one filter call."""
        for ch in self.chans.values():
            # hop ends are consecutive multiples of the hop: only the first one that finalises
            # anything can have an odd shape (at a segment's start); the rest are full rows
            batch = [e for e in ends if e - ch.settle > ch.settled]
            if batch and ch.settled != batch[0] - ch.settle - self.hop:
                self._backward_one(ch, batch[0], batch[0] - ch.settle)
                ch.settled = batch[0] - ch.settle
                batch = batch[1:]
            if batch:
                ch.settled = batch[-1] - ch.settle
                width = self.hop + ch.settle
                # the rows are windows of yf at hop-spaced ends: a strided view, no gather (the ndarray
                # constructor checks the bounds, and costs a fraction of as_strided's bookkeeping)
                buf = ch.yf.a
                size = buf.itemsize
                rows = np.ndarray((len(batch), width), dtype=buf.dtype, buffer=buf,
                                  offset=(batch[0] - width - ch.yf.base) * size,
                                  strides=(self.hop * size, size))[:, ::-1]
                zb, _ = dsp.sosfilt_rows(ch.sos, rows, ch.zi[None] * rows[:, :1, None])
                out = zb[:, ch.settle:][:, ::-1]
                # consecutive hops finalise adjacent stretches: write them in one go when they are
                if batch[-1] - batch[0] == self.hop * (len(batch) - 1):
                    ch.z.set(batch[0] - width, out.reshape(-1))
                else:
                    for e, row in zip(batch, out):
                        ch.z.set(e - width, row)

    @staticmethod
    def _backward_one(ch: _Chan, e: int, new_settled: int) -> None:
        s = ch.settled
        y = ch.yf.view(s, e)
        zb, _ = dsp.sosfilt_rows(ch.sos, y[None, ::-1], ch.zi[None] * y[-1])
        ch.z.set(s, zb[0, ::-1][:new_settled - s])

    def _backward(self, e: int, final: bool) -> None:
        for ch in self.chans.values():
            if e > ch.settled:
                self._backward_one(ch, e, e)
                ch.settled = e

    def _close_segment(self) -> None:
        self._backward(self.n, final=True)
        self.seg_open = False

    def trim(self, needed_from_t: float = INF) -> None:
        """Forget samples older than ``KEEP_S`` and than ``needed_from_t`` minus ``KEEP_S``."""
        keep = max(0, self.n - int(KEEP_S * self.fs))
        if needed_from_t < INF:
            keep = min(keep, max(0, self.index_at(needed_from_t - KEEP_S)))
        self.t.trim(keep)
        self.seg.trim(keep)
        for ch in self.chans.values():
            ch.yf.trim(keep)
            ch.z.trim(keep)
        for buf in self.raws.values():
            buf.trim(keep)

    # ---------------------------------------------------------------- queries
    def time(self, i: int) -> float:
        return float(self.t.a[i - self.t.base])

    def index_at(self, t: float) -> int:
        """Global index of the first sample at or after t (among those kept)."""
        return int(self.t.view(self.t.base, self.n).searchsorted(t, side="left")) + self.t.base


class _Limb:
    """One sensor's decisions: anchor candidates, anchors awaiting their record, and the record logic."""

    def __init__(self, role: Role, stream: RoleStream, cfg: DetectorConfig):
        self.role, self.st, self.cfg = role, stream, cfg
        self.spec: rules.Spec = stream.spec
        self.scan = 0  # global index: candidates below it have been found
        self.cands: deque[int] = deque()
        self.pending: deque[int] = deque()  # accepted anchors whose record is not computed yet
        self.prev_anchor: int | None = None  # newest anchor whose record is done
        self.prev_anchor_s = -INF
        self.ordinal = 0
        self.after = cfg.anchor_after_s
        # the pending anchor whose record's reach is known (``_end_t``), and the final index last looked at
        self._end_for: int | None = None
        self._end_t: float | None = None
        self._end_seen = -1
        self._track: Track | None = None

    def track(self) -> Track:
        """The samples kept; values at and after ``final_end`` may still change (decisions wait for them).
        Built once per pass of the core (:meth:`RealtimeCore._run` drops it when the data change)."""
        if self._track is None:
            self._track = self._make_track()
        return self._track

    def _make_track(self) -> Track:
        st = self.st
        b = st.t.base
        sig = {k: ch.z.view(b, st.n) for k, ch in st.chans.items()}
        sig.update((k, buf.view(b, st.n)) for k, buf in st.raws.items())
        end = min((ch.settled for ch in st.chans.values()), default=st.n)
        return Track(st.t.view(b, st.n), st.seg.view(b, st.n), sig, b, st.fs, end)

    def final_through(self, i: int, t_end: float) -> bool:
        """Every value the decision about sample i reads, up to time ``t_end`` in i's segment, is final."""
        st = self.st
        if int(st.seg.a[i - st.seg.base]) != st.seg_id or not st.seg_open:
            return True  # a closed segment: all final
        hi = int(st.t.view(st.t.base, st.n).searchsorted(t_end, side="right")) + st.t.base
        if hi >= st.n:
            return False  # the data do not reach past the window yet
        return self.track().final_end > hi

    def scan_candidates(self) -> None:
        st = self.st
        lim = self.track().final_end - 1  # a candidate needs its right neighbour final
        i0 = max(self.scan, st.t.base + 1)
        if lim <= i0:
            return
        sp = self.spec
        x = st.chans[sp.anchor].z.view(i0 - 1, lim + 1)
        sg = st.seg.view(i0 - 1, lim + 1)
        for k in rules.candidates(x, sg, sp.anchor_sign, sp.anchor_min):
            self.cands.append(i0 - 1 + int(k))
        self.scan = lim

    def decide(self) -> bool:
        progressed = False
        while self.cands:
            i = self.cands[0]
            t_i = self.st.time(i)
            if not self.final_through(i, t_i + self.after):
                break
            self.cands.popleft()
            progressed = True
            if rules.is_anchor(self.track(), self.spec, i, self.cfg):
                self.pending.append(i)
        return progressed

    def next_record(self) -> tuple[Record, bool] | None:
        """The next record, once every sample it reads is final."""
        if not self.pending:
            return None
        i = self.pending[0]
        st = self.st
        if int(st.seg.a[i - st.seg.base]) == st.seg_id and st.seg_open:  # else: a closed segment, all final
            if self._end_for != i:  # a new anchor: how far its record reads is not known yet
                self._end_for, self._end_t, self._end_seen = i, None, -1
            if self._end_t is None:
                fin = self.track().final_end
                if fin == self._end_seen:  # no new final value since the last look
                    return None
                self._end_seen = fin
                self._end_t = rules.record_end_s(self.track(), self.spec, self.cfg, i, fin)
                if self._end_t is None:
                    return None
            if not self.final_through(i, self._end_t):
                return None
        self.pending.popleft()
        tr = self.track()
        ip = rules.cycle_prev(tr, self.cfg, self.prev_anchor, i)
        found = rules.record(tr, self.spec, self.cfg, ip, i)
        clear = ip is not None and not self.spec.is_shin and rules.wrist_cycle_clear(tr, self.spec, self.cfg, ip, i)
        rec = Record(self.ordinal, tr.time(i), ip is not None, tuple(found))
        self.ordinal += 1
        self.prev_anchor, self.prev_anchor_s = i, tr.time(i)
        return rec, clear

    def frontier(self) -> float:
        """Every anchor before this time has been decided and its record computed."""
        st = self.st
        if self.pending:
            return st.time(self.pending[0])
        if self.cands:
            return st.time(self.cands[0])
        if st.n == 0:
            return max(-INF, st.quiet_until) if st.finished else -INF
        if self.scan >= st.n - 1:  # caught up with every sample
            if st.finished:
                return INF
            if not st.seg_open:
                return max(st.time(st.n - 1), st.quiet_until)
        return st.time(max(self.scan, st.t.base))

    def needed_from(self) -> float:
        """Oldest time a pending decision may still read."""
        ts = [INF]
        if self.prev_anchor is not None:
            ts.append(self.prev_anchor_s)
        if self.cands:
            ts.append(self.st.time(self.cands[0]))
        if self.pending:
            ts.append(self.st.time(self.pending[0]))
        return min(ts)


class RealtimeCore:
    """Streams blocks of samples per role in; emits events and steps, and keeps rolling statistics.

    Parameters
    ----------
    sample_rates_hz : the nominal rate of each role that will stream. Only these roles are expected;
        decisions that involve another role wait until it has delivered enough data (or :meth:`finish`).
    config : detector settings (``config.rules`` picks the rule set).
    gyro_roles : the roles whose blocks carry angular rate. With ``rules="auto"`` these take the
        gyroscope rules and the others the accelerometer rules.
    mounting : optional :class:`~stridesync.core.mounting.MountingTracker` per role: that role's samples pass
        through it (held until its first estimate, then rotated into the body frame) before the core sees
        them. Roles without one are taken as given. ``summary()["mounting"]`` holds each tracker's log.

    Use :meth:`push` for each block (any size), then :meth:`finish`. New events and steps are returned by
    each call and accumulated in ``events_`` and ``steps_``.
    """

    def __init__(self, sample_rates_hz: dict[Role, float], *, config: DetectorConfig | None = None,
                 gyro_roles: Iterable[Role] = (), mounting: dict | None = None):
        self.config = cfg = config or DetectorConfig()
        self.mounting = {Role(r): t for r, t in (mounting or {}).items()}
        self._listeners: list[Callable[[list], None]] = []
        if not sample_rates_hz:
            raise InputFormatError("no sensor roles to analyse")
        gyro = {Role(r) for r in gyro_roles}
        self.rule_sets: dict[Role, RuleSet] = {Role(r): rules.choose(cfg, Role(r) in gyro) for r in sample_rates_hz}
        for r, rs in self.rule_sets.items():
            if rs is RuleSet.GYRO and r not in gyro:
                raise InputFormatError(f"{r}: the gyroscope rules need angular rate, and this sensor has none")
        self.streams = {Role(r): RoleStream(Role(r), fs, cfg, rules.spec(Role(r), self.rule_sets[Role(r)], cfg))
                        for r, fs in sample_rates_hz.items()}
        self._limbs = {r: _Limb(r, s, cfg) for r, s in self.streams.items()}
        self.shins = [r for r in (Role.LEFT_SHIN, Role.RIGHT_SHIN) if r in self.streams]
        self.wrists = [r for r in (Role.LEFT_WRIST, Role.RIGHT_WRIST) if r in self.streams]
        self._strides = {r: ShinStrides(r, self.rule_sets[r], cfg) for r in self.shins}
        self._gates = {r: WristGate(r, self.rule_sets[r], bool(self.shins)) for r in self.wrists}
        self._cover = Coverage()
        self._n_cover = {r: 0 for r in self.shins}  # strides of each shin already in the coverage
        # what the session remembers, packed (core/packed.py: ~30 and ~100 bytes a row, not ~300 as objects; #11
        # item 16): sequences of Event and Step objects in emission order, equal to lists of them
        self.events_: EventLog = EventLog()
        self.steps_: StepLog = StepLog()
        #: per event kind, how long after its instant (data time, s) each event was emitted; per step, after its push
        self.delays_s: dict[EventKind, array] = {k: array("d") for k in EventKind}
        self.step_delays_s: array = array("d")
        self._now = -INF
        # sorted times of each (role, kind), for pairing: float64 arrays (bisect works on them, 8 bytes a time)
        self._times: dict[tuple[Role, EventKind], array] = {}
        # what the call being served emitted (push_many, declare_gap and finish return these)
        self._new_events: list[Event] = []
        self._new_steps: list[Step] = []
        self._raws: list[RawStep] = []
        self._unscored: deque[RawStep] = deque()
        self._targets = zero_targets() if cfg.target_model == "together" else None
        self._push_q: list[Event] = []

    # ================================================================ public API
    def push(self, role: Role, time_s: np.ndarray, acc_g: np.ndarray, gyro_dps: np.ndarray | None = None
             ) -> tuple[list[Event], list[Step]]:
        """Feed one block of one sensor (session-clock times, (n, 3) accelerations in g, and (n, 3)
        angular rates in deg/s for a sensor that has them)."""
        return self.push_many([(role, time_s, acc_g, gyro_dps)])

    def add_listener(self, fn: Callable[[list], None]) -> None:
        """Call ``fn(blocks)`` with every list of blocks handed to :meth:`push_many`, as given (before the
        mounting stage), before the core uses them: the way to watch the core's input (a viewer's traces, a
        replay that keeps the samples) without wrapping or patching it."""
        self._listeners.append(fn)

    def push_many(self, blocks) -> tuple[list[Event], list[Step]]:
        """Feed blocks ``(role, time_s, acc_g[, gyro_dps])`` of several sensors that arrived together,
        then decide once."""
        self._serve()
        for fn in self._listeners:
            fn(blocks)
        if self.mounting:
            blocks = self._mounted(blocks)
        return self._push_body(blocks)

    def _push_body(self, blocks) -> tuple[list[Event], list[Step]]:
        """Body-frame blocks into the streams, then decide."""
        n_ev, n_st = len(self._new_events), len(self._new_steps)
        for block in blocks:
            role, time_s, acc_g = block[0], block[1], block[2]
            gyro_dps = block[3] if len(block) > 3 else None
            role = Role(role)
            st = self.streams.get(role)
            if st is None:
                raise InputFormatError(f"{role} was not declared when the core was created")
            t = np.asarray(time_s, dtype=float)
            x = np.asarray(acc_g, dtype=float).reshape(len(t), 3)
            if not len(t):
                continue
            if self.rule_sets[role] is RuleSet.GYRO:
                if gyro_dps is None:
                    raise InputFormatError(f"{role}: this sensor was declared with angular rate, and a block has none")
                x = np.hstack([x, np.asarray(gyro_dps, dtype=float).reshape(len(t), 3)])
            if len(t):
                self._now = max(self._now, float(t[-1]))
            st.push(t, x)
        self._run()
        return self._emitted(n_ev, n_st)

    def _emitted(self, n_ev: int, n_st: int) -> tuple[list[Event], list[Step]]:
        """What was emitted since ``_new_events``/``_new_steps`` had these lengths (each public call empties
        them first: they hold one call's output, not the session's)."""
        return self._new_events[n_ev:], self._new_steps[n_st:]

    def _serve(self) -> tuple[int, int]:
        """Start serving a public call."""
        self._new_events.clear()
        self._new_steps.clear()
        return 0, 0

    def declare_gap(self, role: Role, until_s: float) -> tuple[list[Event], list[Step]]:
        """``role`` will deliver no samples before ``until_s`` (e.g. its sensor dropped out): decisions
        that wait on it go ahead now instead of when it returns."""
        n_ev, n_st = self._serve()
        tr = self.mounting.get(Role(role))
        if tr is None or tr.rotation is not None:  # a sensor still held for its mounting has reached nothing
            self.streams[Role(role)].declare_gap(until_s)
        self._now = max(self._now, float(until_s))
        self._run()
        return self._emitted(n_ev, n_st)

    def finish(self) -> tuple[list[Event], list[Step]]:
        """End of the session: close every segment and decide everything still pending."""
        n_ev, n_st = self._serve()
        if self.mounting:
            rest = [(r, *b) for r, tr in self.mounting.items() for b in tr.finish()]
            if rest:  # already through their trackers (and seen by the listeners): straight to the streams
                self._push_body(rest)
        for s in self.streams.values():
            s.finish()
        self._run()
        if self._targets is None:
            self._targets = baseline_targets(self._raws, self.config.baseline_n)
        self._score_pending()
        return self._emitted(n_ev, n_st)

    @property
    def targets_ms(self) -> dict[str, float | None] | None:
        return self._targets

    @property
    def clipped_swing_peaks(self) -> dict[Role, int]:
        """Per shin under the gyroscope rules, the counted strides so far whose swing peak was clipped."""
        return {r: c.clipped for r, c in self._strides.items() if c.rules is RuleSet.GYRO}

    @property
    def now_s(self) -> float:
        """Newest sample time (or declared gap end) the core has seen."""
        return self._now

    def summary(self) -> dict:
        """Whole-session statistics of what has been emitted so far."""
        out = summarize(sorted(self.events_, key=lambda e: e.time_s), list(self.steps_), self._targets or zero_targets(),
                        self.config)
        out["detector"] = "realtime"
        out["rule_sets"] = {r.value: rs.value for r, rs in self.rule_sets.items()}
        out["clipped_swing_peaks"] = {r.value: n for r, n in self.clipped_swing_peaks.items()}
        if self.mounting:
            out["mounting"] = {r.value: [dict(lg.estimate.as_dict(), event=lg.kind, decided_s=lg.time_s)
                                         for lg in tr.log] for r, tr in self.mounting.items()}
        return out

    def _mounted(self, blocks) -> list:
        """Blocks through each role's mounting tracker (held, or rotated into the body frame)."""
        out = []
        for block in blocks:
            role = Role(block[0])
            tr = self.mounting.get(role)
            gyro = block[3] if len(block) > 3 else None
            if tr is None:
                out.append(block)
                continue
            t = np.asarray(block[1], dtype=float)
            if len(t):
                self._now = max(self._now, float(t[-1]))
            acc = np.asarray(block[2], dtype=float).reshape(len(t), 3)
            g = None if gyro is None else np.asarray(gyro, dtype=float).reshape(len(t), 3)
            out.extend((role, *b) for b in tr.push(t, acc, g))
        return out

    def rolling(self) -> dict:
        """Statistics over the last ``window_steps`` steps (the live view)."""
        steps = self.steps_[-self.config.window_steps:]
        if not steps:
            return summarize([], [], self._targets or zero_targets(), self.config)
        t0 = steps[0].time_s - steps[0].stride_time_s - 1.0
        # the events from t0 on, in emission order (then sorted, stably, by time): only those are unpacked
        events = self.events_.take(np.flatnonzero(self.events_.column("time_s") >= t0))
        events.sort(key=lambda e: e.time_s)
        return summarize(events, steps, self._targets or zero_targets(), self.config)

    # ================================================================ machinery
    def _run(self) -> None:
        """One pass through the stages, in dependency order."""
        for limb in self._limbs.values():  # new samples since the last pass: the tracks are rebuilt
            limb._track = None
        for r in self.shins:
            limb = self._limbs[r]
            limb.scan_candidates()
            limb.decide()
            while (got := limb.next_record()) is not None:
                for e in self._strides[r].add(got[0]):
                    self._emit(e)
                    if e.kind is EventKind.PUSH:
                        bisect.insort(self._push_q, e, key=lambda x: x.time_s)
                strides = self._strides[r].strides
                while len(strides) > self._n_cover[r]:
                    self._cover.add(*strides[self._n_cover[r]])
                    self._n_cover[r] += 1
        cover_known = min((self._cover_known(r) for r in self.shins), default=INF)
        for r in self.wrists:
            limb = self._limbs[r]
            limb.scan_candidates()
            limb.decide()
            gate = self._gates[r]
            while (got := limb.next_record()) is not None:
                for e in gate.add(*got):
                    self._emit(e)
            if self.shins:
                for e in gate.release(cover_known, self._cover):
                    self._emit(e)
        self._make_steps()
        for role, s in self.streams.items():
            s.trim(self._limbs[role].needed_from())

    def _emit(self, ev: Event) -> None:
        self.events_.append(ev)
        self._new_events.append(ev)
        self.delays_s[ev.kind].append(self._now - ev.time_s)
        lst = self._times.setdefault((ev.role, ev.kind), array("d"))
        bisect.insort(lst, ev.time_s)

    # ---------------------------------------------------------------- what is known
    def _shin_known(self, role: Role, kind: EventKind) -> float:
        """Every event of this kind of this shin before the returned time has been emitted (or dropped).

        Events of records still to come lie after the newest anchor whose record is done (gyroscope: the
        swing is the next anchor itself, at or after the frontier, and the push lies in the second half of
        the cycle that ends there; accelerometer: the contact is the anchor, refined by at most half a
        sample)."""
        if role not in self._limbs:
            return INF
        limb = self._limbs[role]
        f = limb.frontier()
        if f == INF:  # the stream ended and every record is done
            return INF
        if limb.spec.rules is RuleSet.GYRO:
            if kind is EventKind.SWING:
                return f
            if kind is EventKind.PUSH:
                return f if f == INF else 0.5 * (f + max(limb.prev_anchor_s, f - 2 * self.config.stride_max_s))
            return min(f, limb.prev_anchor_s)
        return min(f - 0.5 / limb.st.fs, limb.prev_anchor_s)

    def _cover_known(self, role: Role) -> float:
        """Every counted stride of this shin that starts before the returned time is known. A stride still to
        come starts at the contact of the newest record, or at a later record's contact: after its anchor
        (gyroscope rules) or at most ``acc_impact_before_s`` before it (accelerometer rules)."""
        limb = self._limbs[role]
        f = limb.frontier()
        if f == INF:
            return INF
        last = self._strides[role].last_contact_s
        margin = 0.0 if limb.spec.rules is RuleSet.GYRO else self.config.acc_impact_before_s + 1.0 / limb.st.fs
        return min(INF if last is None else last, f - margin)

    def _wrist_known(self, role: Role, kind: EventKind) -> float:
        if role not in self._limbs:
            return INF
        limb = self._limbs[role]
        f = limb.frontier()
        if f == INF and not self._gates[role].pending:
            return INF
        if limb.spec.rules is RuleSet.GYRO:  # both turns follow their anchor
            known = f
        else:
            known = min(f - 0.5 / limb.st.fs, limb.prev_anchor_s)
        q = self._gates[role].pending
        if q:
            known = min(known, q[0].time_s)
        return known

    # ---------------------------------------------------------------- steps
    def _ready(self, role: Role, kind: EventKind, t_p: float, win: float, known: float) -> bool:
        """No event of (role, kind) nearer to t_p than the nearest known one can still appear."""
        if known == INF:
            return True
        found = nearest(self._times.get((role, kind), []), t_p, win)
        reach = win if found is None else abs(found - t_p)
        return known > t_p + reach

    def _make_steps(self) -> None:
        cfg = self.config
        while self._push_q:
            p = self._push_q[0]
            side = p.role.side
            # every earlier push must be known (steps are emitted in time order)
            if any(self._shin_known(r, EventKind.PUSH) <= p.time_s for r in self.shins if r is not p.role):
                return
            contacts = self._times[(p.role, EventKind.CONTACT)]
            k = bisect.bisect_left(contacts, p.time_s)
            c0, c1 = contacts[k - 1], contacts[k]
            win = cfg.pairing_window_frac * (c1 - c0)
            t_p = p.time_s
            o_shin, s_wrist, o_wrist = side.other.shin, side.wrist, side.other.wrist
            if not (self._ready(o_shin, EventKind.SWING, t_p, win, self._shin_known(o_shin, EventKind.SWING))
                    and self._ready(s_wrist, EventKind.ARM_FWD, t_p, win, self._wrist_known(s_wrist, EventKind.ARM_FWD))
                    and self._ready(o_wrist, EventKind.ARM_BACK, t_p, win, self._wrist_known(o_wrist, EventKind.ARM_BACK))):
                return
            self._push_q.pop(0)
            raw = raw_step(p, c0, c1, self._times.get((o_shin, EventKind.SWING), []),
                           self._times.get((s_wrist, EventKind.ARM_FWD), []),
                           self._times.get((o_wrist, EventKind.ARM_BACK), []), cfg)
            if self._targets is None:  # only the baseline reads the raw steps: none kept once it is set
                self._raws.append(raw)
            self._unscored.append(raw)
            if self._targets is None and self._baseline_ready():
                self._targets = baseline_targets(self._raws, cfg.baseline_n)
            self._score_pending()

    def _baseline_ready(self) -> bool:
        """Every lag these sensors can produce has its first N values (a lag they cannot produce,
        e.g. the swing lag with one shin, does not hold the baseline back)."""
        n = self.config.baseline_n
        sides = [r.side for r in self.shins]
        wrist_sides = {r.side for r in self.wrists}
        need = {"swing_lag": len(self.shins) == 2,
                "ipsi_arm_lag": any(s in wrist_sides for s in sides),
                "contra_arm_lag": any(s.other in wrist_sides for s in sides)}
        for k, name in enumerate(("swing_lag", "ipsi_arm_lag", "contra_arm_lag")):
            if need[name] and sum(1 for r in self._raws if r.lags_ms[k] is not None) < n:
                return False
        return True

    def _score_pending(self) -> None:
        if self._targets is None:
            return
        while self._unscored:
            raw = self._unscored.popleft()
            step = score_step(raw, self._targets)
            self.steps_.append(step)
            self._new_steps.append(step)
            self.step_delays_s.append(self._now - raw.time_s)
