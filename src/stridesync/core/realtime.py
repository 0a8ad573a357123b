"""Real-time signal core: causal, streaming, chunk-invariant, and exact to the reference.

The contract defines every event on zero-phase filtered signals of the whole
recording. This core reproduces those instants while streaming:

* The forward pass of each filter runs causally with carried state; it is the
  same recursion as the reference's forward pass, so it matches it exactly.
* The backward pass runs every ``hop_s`` of data (at sample indices fixed by the
  data, not by how it was chunked) from the newest sample back over the last
  ``settle`` samples; values whose look-ahead covers the filter's impulse
  response down to ``settle_tol`` of its peak are final. When a segment ends (a gap, or the end of the session)
  the final stretch is computed from the true end, exactly like the reference.
* Decisions (is this peak the largest in its window? is this stride counted?)
  are taken in time order, once every earlier decision they depend on is taken,
  at the window's *decision edge*: the first hop end after the window. The
  values there are final where they have settled, and otherwise those of that
  hop's backward pass, with a margin that bounds how far they may still move; a
  call within the margin waits one more hop. The decision edge is a property of
  the data, so decisions are independent of chunking. The extreme itself is
  always compared with its neighbours on final values.

Each event carries the instant of the reference feature; ``delays_s`` records how
long after that instant (in data time) it was emitted.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputFormatError
from ..model import Event, EventKind, Role, Step
from . import dsp
from .config import DetectorConfig
from .measures import RawStep, baseline_targets, raw_step, score_step, summarize, zero_targets
from .reference import SHIN_SIGNALS, WRIST_SIGNALS, raw_signals

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
    decay_per_s: float  # decay rate of the filter's slowest pole: how fast an edge transient fades
    state: np.ndarray | None = None
    yf: _Buf = field(default_factory=_Buf)
    z: _Buf = field(default_factory=_Buf)
    settled: int = 0  # global index: z is final below it
    _decay: np.ndarray | None = None

    def decay(self, fs: float) -> np.ndarray:
        """exp(−decay_per_s × d / fs) for d = 0 … settle + 1 samples (cached)."""
        if self._decay is None:
            self._decay = np.exp(-self.decay_per_s * np.arange(self.settle + 2) / fs)
        return self._decay


class RoleStream:
    """One sensor's samples: hole filling, segments, streaming zero-phase filters."""

    def __init__(self, role: Role, sample_rate_hz: float, cfg: DetectorConfig):
        self.role, self.fs, self.cfg = role, float(sample_rate_hz), cfg
        self.dt = 1.0 / self.fs
        self.hop = max(1, int(round(cfg.hop_s * self.fs)))
        names = SHIN_SIGNALS if role.is_shin else WRIST_SIGNALS
        self.chans: dict[str, _Chan] = {}
        for name, attr in names.items():
            sos, zi = dsp.lowpass_sos(getattr(cfg, attr), self.fs, cfg.filter_order, cfg.max_cutoff_frac)
            fc = getattr(cfg, attr)
            self.chans[name] = _Chan(sos, zi, dsp.settle_samples(fc, self.fs, cfg), dsp.decay_per_s(fc, self.fs, cfg))
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
        raw = raw_signals(self.role, acc)
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

    # ---------------------------------------------------------------- queries
    def settled(self, name: str) -> int:
        return self.chans[name].settled

    def final_until_t(self, name: str) -> float:
        """Every final value of ``name`` up to this time is known (inf once the stream ended)."""
        if self.finished:
            return INF
        s = self.chans[name].settled
        t = self.time(s - 1) if s > 0 else -INF
        return t if self.seg_open else max(t, self.quiet_until)

    def time(self, i: int) -> float:
        return float(self.t.a[i - self.t.base])

    def window(self, i: int, half_s: float) -> tuple[int, int]:
        """Global index range [lo, hi) of i's segment within ±half_s of t[i] (among samples present)."""
        ta = self.t.view(self.t.base, self.n)
        ti = ta[i - self.t.base]
        lo = int(ta.searchsorted(ti - half_s, side="left")) + self.t.base
        hi = int(ta.searchsorted(ti + half_s, side="right")) + self.t.base
        if i >= self.seg_start and lo >= self.seg_start:  # the usual case: all in the current segment
            return lo, hi
        sg = self.seg.view(lo, hi)
        sid = self.seg.a[i - self.seg.base]
        inside = np.flatnonzero(sg == sid)
        return lo + int(inside[0]), lo + int(inside[-1]) + 1

    def window_values(self, name: str, i: int, half_s: float, final_through: int | None = None,
                      extra_hops: int = 0) -> tuple[int, int, np.ndarray, np.ndarray] | None:
        """The values of ``name`` in i's window (±half_s, within i's segment), as known at the window's
        *decision edge*; ``None`` while the data do not reach past the window yet.

        The decision edge is the first hop end at or after the window's last sample: a property of the
        data, not of how they were chunked. Samples that were final at that hop take their final value;
        the newest ``settle`` samples take the value of that hop's backward pass. A window decision
        therefore waits only for the data to cover the window, not for the filter to settle, and is the
        same for any chunking. In a closed segment every value is final. ``final_through`` moves the
        edge later until that sample and its right neighbour are final (a broad extreme must be compared
        with its neighbours on final values, or a provisional pass could shift it by a sample).
        ``extra_hops`` moves it later still, when a decision was too close to call.

        Returns ``(lo, hi, values, margin)``: ``margin`` bounds how far each provisional value may
        still move (0 for final values; None when every value is final): the edge transient of the
        backward pass, which decays like the filter's slowest pole, scaled by the window's range.
        """
        ch = self.chans[name]
        sid = self.seg.a[i - self.seg.base]
        if sid != self.seg_id or not self.seg_open:
            lo, hi = self.window(i, half_s)
            return lo, hi, ch.z.view(lo, hi), None
        if self.n == 0 or self.time(self.n - 1) <= self.time(i) + half_s:
            return None
        lo, hi = self.window(i, half_s)
        need = hi if final_through is None else max(hi, final_through + 2 + ch.settle)
        k = max(1, -(-(need - self.seg_start) // self.hop)) + extra_hops
        e = self.seg_start + k * self.hop
        if e >= self.hop_next:
            return None
        fin = e - ch.settle
        if hi <= fin:
            return lo, hi, ch.z.view(lo, hi), None
        margin = np.zeros(hi - lo)
        s = max(lo, fin, self.seg_start)
        y = ch.yf.view(s, e)
        zb, _ = dsp.sosfilt_rows(ch.sos, y[None, ::-1], ch.zi[None] * y[-1])
        vals = np.array(ch.z.view(lo, hi))
        vals[s - lo:] = zb[0, ::-1][:hi - s]
        # bound on the edge transient: it starts at most at the signal's recent range and decays with
        # the slowest pole; a factor 10 covers the discretised filter and the pole pair's ringing
        recent = ch.yf.view(max(self.seg_start, e - 4 * ch.settle), e)
        span = float(recent.max() - recent.min()) + 1e-3
        # decay[d] = exp(-rate × d samples): sample j sits e − j samples before the edge
        margin[s - lo:] = (10.0 * span) * ch.decay(self.fs)[e - hi + 1:e - s + 1][::-1]
        return lo, hi, vals, margin

    def beaten_nearby(self, name: str, i: int, half_s: float, sign: float) -> bool:
        """A final value of i's segment within ±half_s beats sign × z[i] (an earlier one ties it).

        Every window a candidate is judged in is at least this wide (its period is at least the
        shortest stride), so such a candidate is certainly rejected: dropping it at once saves the
        window decision for the many small peaks of impact ringing and noise."""
        z = self.chans[name].z
        lo, hi = self.window(i, half_s)
        hi = min(hi, self.chans[name].settled)
        x = sign * z.view(lo, hi)
        return _beaten(x, i - lo, x[i - lo])

    def refined(self, name: str, i: int) -> tuple[float, float]:
        """Same parabola as the reference (``Prepared.refined``)."""
        z = self.chans[name].z
        if i - 1 < self.seg.base or i + 1 >= self.n or len(set(self.seg.view(i - 1, i + 2).tolist())) != 1:
            return self.time(i), abs(float(z.a[i - z.base]))
        shift, val = dsp.refine_extremum(z.view(i - 1, i + 2), 1)
        return dsp.sample_time(self.t.view(i - 1, i + 2), 1, shift), abs(val)

    def index_at(self, t: float) -> int:
        """Global index of the first sample at or after t (among those kept)."""
        return int(self.t.view(self.t.base, self.n).searchsorted(t, side="left")) + self.t.base


@dataclass
class _Cand:
    t: float
    role: Role
    i: int
    period: float | None = None  # spacing period, once it is known
    extra: int = 0  # hops past the decision edge, after too-close calls


def _is_extreme(window: tuple[int, int, np.ndarray, np.ndarray], i: int, sign: float) -> bool | None:
    """Does sign × value at i beat every earlier value of the window strictly and every later one or
    tie it? ``None`` when a provisional value is within its margin of deciding it either way."""
    lo, hi, vals, margin = window
    x = sign * vals
    v = x[i - lo]
    k = i - lo
    if margin is None:  # all final: a plain comparison
        return not _beaten(x, k, v)
    x_k = x[k]
    lo_b = x - margin
    lo_b[k] = x_k  # the candidate itself is compared with its value, not its bounds
    if _beaten(lo_b, k, v):
        return False
    hi_b = x + margin
    hi_b[k] = x_k
    if _beaten(hi_b, k, v):
        return None
    return True


def _beaten(x: np.ndarray, k: int, v: float) -> bool:
    """Some value before k is >= v, or some value after k is > v (x[k] <= v).

    One pass: if the maximum exceeds v, something other than k beats it; if it equals v, it beats it
    exactly when its first occurrence lies before k. (Same answer as two slice maxima, NaN aside.)"""
    j = int(x.argmax())
    m = x[j]
    return bool(m > v or (m == v and j < k))


class RealtimeCore:
    """Streams blocks of samples per role in; emits events and steps, and keeps rolling statistics.

    Parameters
    ----------
    sample_rates_hz : the nominal rate of each role that will stream. Only these roles are
        expected; decisions that involve another role wait until it has delivered enough data
        (or :meth:`finish` is called).
    config : detector settings.

    Use :meth:`push` for each block (any size), then :meth:`finish`. New events and steps are
    returned by each call and accumulated in ``events_`` and ``steps_``.
    """

    def __init__(self, sample_rates_hz: dict[Role, float], *, config: DetectorConfig | None = None):
        self.config = cfg = config or DetectorConfig()
        if not sample_rates_hz:
            raise InputFormatError("no sensor roles to analyse")
        self.streams = {Role(r): RoleStream(Role(r), fs, cfg) for r, fs in sample_rates_hz.items()}
        self.shins = [r for r in (Role.LEFT_SHIN, Role.RIGHT_SHIN) if r in self.streams]
        self.wrists = [r for r in (Role.LEFT_WRIST, Role.RIGHT_WRIST) if r in self.streams]
        self.events_: list[Event] = []
        self.steps_: list[Step] = []
        self.delays_s: dict[EventKind, list[float]] = {k: [] for k in EventKind}
        self.step_delays_s: list[float] = []
        self._now = -INF
        # shin state
        self._scan = {r: 0 for r in self.shins}
        self._cands = {r: deque() for r in self.shins}
        self._history: list[tuple[float, float]] = []
        self._last_contact: dict[Role, tuple[float, float, int, int, bool, int]] = {}
        self._ordinal = {r: 0 for r in self.shins}
        self._pending_strides = {r: deque() for r in self.shins}
        self._covered: list[tuple[float, float]] = []
        # wrist state
        self._wscan = {r: 0 for r in self.wrists}
        self._wcands = {r: deque() for r in self.wrists}
        self._fwd: dict[Role, list[tuple[float, int, int, float]]] = {r: [] for r in self.wrists}
        self._wcount = {r: deque() for r in self.wrists}  # events awaiting the in-bout decision
        self._wonly_reported: dict[Role, set[int]] = {r: set() for r in self.wrists}
        # emitted event times for pairing
        self._times: dict[tuple[Role, EventKind], list[float]] = {}
        self._raws: list[RawStep] = []
        self._unscored: deque[RawStep] = deque()
        self._targets = zero_targets() if cfg.target_model == "together" else None
        self._push_q: list[Event] = []
        self._push_seen = 0

    # ================================================================ public API
    def push(self, role: Role, time_s: np.ndarray, acc_g: np.ndarray) -> tuple[list[Event], list[Step]]:
        """Feed one block of one sensor (session-clock times, (n, 3) accelerations in g)."""
        return self.push_many([(role, time_s, acc_g)])

    def push_many(self, blocks: list[tuple[Role, np.ndarray, np.ndarray]]) -> tuple[list[Event], list[Step]]:
        """Feed blocks of several sensors that arrived together, then decide once."""
        n_ev, n_st = len(self.events_), len(self.steps_)
        for role, time_s, acc_g in blocks:
            role = Role(role)
            if role not in self.streams:
                raise InputFormatError(f"{role} was not declared when the core was created")
            t = np.asarray(time_s, dtype=float)
            acc = np.asarray(acc_g, dtype=float).reshape(len(t), 3)
            if len(t):
                self._now = max(self._now, float(t[-1]))
            self.streams[role].push(t, acc)
        self._run()
        return self.events_[n_ev:], self.steps_[n_st:]

    def declare_gap(self, role: Role, until_s: float) -> tuple[list[Event], list[Step]]:
        """``role`` will deliver no samples before ``until_s`` (e.g. its sensor dropped out): decisions
        that wait on it go ahead now instead of when it returns."""
        n_ev, n_st = len(self.events_), len(self.steps_)
        self.streams[Role(role)].declare_gap(until_s)
        self._now = max(self._now, float(until_s))
        self._run()
        return self.events_[n_ev:], self.steps_[n_st:]

    def finish(self) -> tuple[list[Event], list[Step]]:
        """End of the session: close every segment and decide everything still pending."""
        n_ev, n_st = len(self.events_), len(self.steps_)
        for s in self.streams.values():
            s.finish()
        self._run()
        if self._targets is None:
            self._targets = baseline_targets(self._raws, self.config.baseline_n)
        self._score_pending()
        return self.events_[n_ev:], self.steps_[n_st:]

    @property
    def targets_ms(self) -> dict[str, float | None] | None:
        return self._targets

    def summary(self) -> dict:
        """Whole-session statistics of what has been emitted so far."""
        out = summarize(sorted(self.events_, key=lambda e: e.time_s), self.steps_, self._targets or zero_targets(), self.config)
        out["detector"] = "realtime"
        return out

    def rolling(self) -> dict:
        """Statistics over the last ``window_steps`` steps (the live view)."""
        steps = self.steps_[-self.config.window_steps:]
        if not steps:
            return summarize([], [], self._targets or zero_targets(), self.config)
        t0 = steps[0].time_s - steps[0].stride_time_s - 1.0
        events = [e for e in self.events_ if e.time_s >= t0]
        events.sort(key=lambda e: e.time_s)
        return summarize(events, steps, self._targets or zero_targets(), self.config)

    # ================================================================ machinery
    def _run(self) -> None:
        """One pass through the stages, in dependency order: a later stage never unblocks an earlier
        one, and each stage decides all it can before returning."""
        for r in self.shins:
            self._scan_contacts(r)
        self._decide_contacts()
        for r in self.shins:
            self._emit_strides(r)
        for r in self.wrists:
            self._scan_wrist(r)
            self._decide_wrist(r)
            self._count_wrist(r)
        self._make_steps()
        for role, s in self.streams.items():
            s.trim(self._needed_from(role))

    def _needed_from(self, role: Role) -> float:
        """Oldest time a pending decision about ``role`` may still look at."""
        ts = [INF]
        for q in (self._cands, self._wcands):
            if role in q and q[role]:
                ts.append(q[role][0].t)
        if role in self._pending_strides and self._pending_strides[role]:
            ts.append(self._pending_strides[role][0][0])
        if role in self.shins:  # wrists ask the shins for their dominant period, up to the wrists' frontier
            ts.extend(self._wrist_frontier(w) for w in self.wrists)
        return min(ts)

    def _wrist_frontier(self, role: Role) -> float:
        """Every ``arm_fwd`` candidate of this wrist before this time has been decided."""
        st = self.streams[role]
        q = self._wcands[role]
        if q:
            return q[0].t
        if st.finished and self._wscan[role] >= st.n - 1:
            return INF
        if not st.seg_open and self._wscan[role] >= st.n - 1:
            return max(st.time(st.n - 1) if st.n else -INF, st.quiet_until)
        if st.n == 0:
            return -INF
        return st.time(min(self._wscan[role], st.n - 1))

    def _emit(self, ev: Event) -> None:
        self.events_.append(ev)
        self.delays_s[ev.kind].append(self._now - ev.time_s)
        lst = self._times.setdefault((ev.role, ev.kind), [])
        bisect.insort(lst, ev.time_s)

    # ---------------------------------------------------------------- contacts
    def _scan_contacts(self, role: Role) -> None:
        st = self.streams[role]
        lim = st.settled("m") - 1  # i needs i+1 final
        i0 = max(self._scan[role], st.t.base + 1)
        if lim <= i0:
            return
        z = st.chans["m"].z
        m = z.view(i0 - 1, lim + 1)
        sg = st.seg.view(i0 - 1, lim + 1)
        c = m[1:-1]
        ok = (c > m[:-2]) & (c >= m[2:]) & (c >= self.config.contact_min_g) & (sg[1:-1] == sg[:-2]) & (sg[1:-1] == sg[2:])
        min_half = self.config.contact_window_frac * self.config.stride_min_s
        for k in np.flatnonzero(ok):
            i = i0 + int(k)
            if not st.beaten_nearby("m", i, min_half, 1.0):
                self._cands[role].append(_Cand(st.time(i), role, i))
        self._scan[role] = lim

    def _scan_frontier(self, role: Role) -> float:
        """All contact candidates of ``role`` before this time have been found."""
        st = self.streams[role]
        if st.finished and self._scan[role] >= st.n - 1:
            return INF
        if not st.seg_open and self._scan[role] >= st.n - 1:  # caught up with a closed segment
            return max(st.time(st.n - 1) if st.n else -INF, st.quiet_until)
        if st.n == 0:
            return -INF
        if self._scan[role] >= st.n:
            return st.time(st.n - 1)
        return st.time(self._scan[role])

    def _leg_frontier(self, role: Role) -> float:
        """All contact decisions of ``role`` before this time are taken."""
        f = self._scan_frontier(role)
        if self._cands[role]:
            f = min(f, self._cands[role][0].t)
        return f

    def _decide_contacts(self) -> bool:
        cfg = self.config
        progressed = False
        while True:
            heads = [self._cands[r][0] for r in self.shins if self._cands[r]]
            if not heads:
                return progressed
            c = min(heads, key=lambda c: (c.t, c.role.value))
            # no earlier candidate may still appear on another leg
            for r in self.shins:
                if r is not c.role and self._scan_frontier(r) < c.t:
                    return progressed
            st = self.streams[c.role]
            if c.period is None:
                c.period = dsp.period_from_history(self._history, c.t, cfg)
            verdict = self._judge(c, st, "m", cfg.contact_window_frac, 1.0)
            if verdict is None:
                return progressed
            self._cands[c.role].popleft()
            progressed = True
            if not verdict:
                continue
            self._accept_contact(c, st)

    def _judge(self, c: _Cand, st: RoleStream, name: str, frac: float, sign: float) -> bool | None:
        """Is candidate c the extreme (sign: +1 largest, −1 smallest) of ``name`` within ± frac × its
        period? ``None`` while the data do not allow the answer yet. Without a period yet, it is the
        dominant period of the candidate's own signal around it."""
        cfg = self.config
        if c.period is None:
            w = st.window_values(name, c.i, cfg.dominant_half_window_s)
            if w is None:
                return None
            c.period = dsp.dominant_period_s(w[2], st.fs, cfg.stride_min_s, cfg.stride_max_s) or cfg.fallback_period_s
        while True:
            w = st.window_values(name, c.i, frac * c.period, final_through=c.i, extra_hops=c.extra)
            if w is None:
                return None
            verdict = _is_extreme(w, c.i, sign)
            if verdict is not None:
                return verdict
            c.extra += 1  # too close to call on provisional values: decide at a later edge

    def _accept_contact(self, c: _Cand, st: RoleStream) -> None:
        cfg = self.config
        role = c.role
        tc, amp = st.refined("m", c.i)
        k = self._ordinal[role]
        self._ordinal[role] += 1
        seg = int(st.seg.a[c.i - st.seg.base])
        prev = self._last_contact.get(role)
        reported = False
        if prev is not None and prev[5] == seg and cfg.stride_min_s <= tc - prev[0] <= cfg.stride_max_s:
            self._history.append((tc, tc - prev[0]))
            if not prev[4]:
                self._emit(Event(role, EventKind.CONTACT, prev[0], prev[1], prev[3]))
            self._emit(Event(role, EventKind.CONTACT, tc, amp, k))
            reported = True
            self._pending_strides[role].append((prev[0], tc, prev[3]))
            bisect.insort(self._covered, (prev[0], tc))
        self._last_contact[role] = (tc, amp, c.i, k, reported, seg)

    def _emit_strides(self, role: Role) -> bool:
        """Push and swing of counted strides, once their windows are final."""
        cfg = self.config
        st = self.streams[role]
        q = self._pending_strides[role]
        progressed = False
        while q:
            t0, t1, k = q[0]
            T = t1 - t0
            jobs = []
            for kind, name, (a, b), sign in ((EventKind.PUSH, "ay", cfg.push_window, -1.0),
                                            (EventKind.SWING, "ax", cfg.swing_window, 1.0)):
                ta = st.t.view(st.t.base, st.n)
                lo = int(ta.searchsorted(t0 + a * T, side="left")) + st.t.base
                hi = int(ta.searchsorted(t0 + b * T, side="right")) + st.t.base
                if st.settled(name) < hi + 1:
                    return progressed
                jobs.append((kind, name, lo, hi, sign))
            q.popleft()
            progressed = True
            for kind, name, lo, hi, sign in jobs:
                if hi <= lo:
                    continue
                z = st.chans[name].z
                j = lo + int((sign * z.view(lo, hi)).argmax())
                te, amp = st.refined(name, j)
                self._emit(Event(role, kind, te, amp, k))
        return progressed

    def _shin_known_until(self, role: Role) -> float:
        """Every ``push``/``swing`` of ``role`` before this time has been emitted."""
        if role not in self.streams:
            return INF
        f = self._leg_frontier(role)
        last = self._last_contact.get(role)
        known = f if last is None or f > last[0] + self.config.stride_max_s else last[0]
        if self._pending_strides[role]:
            known = min(known, self._pending_strides[role][0][0])
        return known

    # ---------------------------------------------------------------- wrists
    def _scan_wrist(self, role: Role) -> None:
        st = self.streams[role]
        lim = st.settled("ay") - 1
        i0 = max(self._wscan[role], st.t.base + 1)
        if lim <= i0:
            return
        z = st.chans["ay"].z
        a = -z.view(i0 - 1, lim + 1)
        sg = st.seg.view(i0 - 1, lim + 1)
        c = a[1:-1]
        ok = (c > a[:-2]) & (c >= a[2:]) & (sg[1:-1] == sg[:-2]) & (sg[1:-1] == sg[2:])
        min_half = self.config.arm_spacing_frac * self.config.stride_min_s
        for k in np.flatnonzero(ok):
            i = i0 + int(k)
            if not st.beaten_nearby("ay", i, min_half, -1.0):
                self._wcands[role].append(_Cand(st.time(i), role, i))
        self._wscan[role] = lim

    def _legs_period(self, t: float) -> float | None:
        """Spacing period at t from the legs; None while it cannot be known yet."""
        cfg = self.config
        for r in self.shins:
            st = self.streams[r]
            if self._leg_frontier(r) <= t + 1.0 / st.fs:
                return None
        p = dsp.period_from_history(self._history, t, cfg)
        if p is not None:
            return p
        for r in self.shins:
            st = self.streams[r]
            if st.final_until_t("m") < t + cfg.dominant_half_window_s + 2.0 / st.fs:
                return None
            ta = st.t.view(st.t.base, st.n)
            i = int(np.clip(np.searchsorted(ta, t), 0, len(ta) - 1))
            if abs(ta[i] - t) > 1.5 / st.fs:
                continue
            w = st.window_values("m", i + st.t.base, cfg.dominant_half_window_s)
            if w is None:
                return None
            d = dsp.dominant_period_s(w[2], st.fs, cfg.stride_min_s, cfg.stride_max_s)
            if d is not None:
                return d
        return cfg.fallback_period_s

    def _decide_wrist(self, role: Role) -> bool:
        cfg = self.config
        st = self.streams[role]
        q = self._wcands[role]
        progressed = False
        while q:
            c = q[0]
            if c.period is None and self.shins:  # the legs set the period when they are worn
                c.period = self._legs_period(c.t)
                if c.period is None:
                    return progressed
            verdict = self._judge(c, st, "ay", cfg.arm_spacing_frac, -1.0)
            if verdict is None:
                return progressed
            q.popleft()
            progressed = True
            if not verdict:
                continue
            z = st.chans["ay"].z
            tf, amp = st.refined("ay", c.i)
            fwd = self._fwd[role]
            k = len(fwd)
            seg = int(st.seg.a[c.i - st.seg.base])
            fwd.append((tf, c.i, k, amp, seg))
            if self.shins:
                self._wcount[role].append(Event(role, EventKind.ARM_FWD, tf, amp, k))
            if k >= 1:
                ta, ia, ka, ampa, sega = fwd[k - 1]
                if sega == seg and cfg.stride_min_s <= tf - ta <= cfg.stride_max_s:
                    seg_vals = z.view(ia, c.i + 1)
                    j = ia + 1 + int(seg_vals[1:-1].argmax())
                    tb, ampb = st.refined("ay", j)
                    back = Event(role, EventKind.ARM_BACK, tb, ampb, ka)
                    if self.shins:
                        self._wcount[role].append(back)
                    elif seg_vals.max() - seg_vals.min() >= cfg.wrist_only_min_p2p_g:
                        rep = self._wonly_reported[role]
                        if ka not in rep:
                            self._emit(Event(role, EventKind.ARM_FWD, ta, ampa, ka))
                        self._emit(back)
                        self._emit(Event(role, EventKind.ARM_FWD, tf, amp, k))
                        rep.update((ka, k))
        return progressed

    def _count_wrist(self, role: Role) -> bool:
        """Legs present: a wrist event counts when it lies inside a counted stride of either leg."""
        q = self._wcount[role]
        if not self.shins or not q:
            return False
        q_sorted = sorted(q, key=lambda e: e.time_s)
        q.clear()
        q.extend(q_sorted)
        progressed = False
        smax = self.config.stride_max_s
        while q:
            ev = q[0]
            if self._is_covered(ev.time_s):
                self._emit(ev)
            elif all(self._leg_frontier(r) > ev.time_s + smax for r in self.shins):
                pass  # outside every bout: dropped
            else:
                return progressed
            q.popleft()
            progressed = True
        return progressed

    def _is_covered(self, t: float) -> bool:
        iv = self._covered
        k = bisect.bisect_right(iv, (t, INF))
        for j in range(max(0, k - 4), k):
            a, b = iv[j]
            if a <= t <= b:
                return True
        return False

    def _wrist_known_until(self, role: Role) -> float:
        """Every reported event of this wrist before this time has been emitted."""
        if role not in self.streams:
            return INF
        f = self._wrist_frontier(role)
        fwd = self._fwd[role]
        known = f
        if fwd and f <= fwd[-1][0] + self.config.stride_max_s:
            known = fwd[-1][0]
        if self._wcount[role]:
            known = min(known, self._wcount[role][0].time_s)
        return known

    # ---------------------------------------------------------------- steps
    def _make_steps(self) -> bool:
        cfg = self.config
        progressed = False
        for e in self.events_[self._push_seen:]:
            if e.kind is EventKind.PUSH:
                bisect.insort(self._push_q, e, key=lambda x: x.time_s)
        self._push_seen = len(self.events_)
        while self._push_q:
            p = self._push_q[0]
            side = p.role.side
            # every earlier push must be known
            if any(self._shin_known_until(r) < p.time_s for r in self.shins if r is not p.role):
                return progressed
            contacts = self._times[(p.role, EventKind.CONTACT)]
            k = bisect.bisect_left(contacts, p.time_s)
            c0, c1 = contacts[k - 1], contacts[k]
            win = cfg.pairing_window_frac * (c1 - c0)
            need = p.time_s + win
            if (self._shin_known_until(side.other.shin) <= need
                    or self._wrist_known_until(side.wrist) <= need
                    or self._wrist_known_until(side.other.wrist) <= need):
                return progressed
            self._push_q.pop(0)
            progressed = True
            raw = raw_step(p, c0, c1, self._times.get((side.other.shin, EventKind.SWING), []),
                           self._times.get((side.wrist, EventKind.ARM_FWD), []),
                           self._times.get((side.other.wrist, EventKind.ARM_BACK), []), cfg)
            self._raws.append(raw)
            self._unscored.append(raw)
            if self._targets is None and self._baseline_ready():
                self._targets = baseline_targets(self._raws, cfg.baseline_n)
            self._score_pending()
        return progressed

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
            self.steps_.append(score_step(raw, self._targets))
            self.step_delays_s.append(self._now - raw.time_s)
