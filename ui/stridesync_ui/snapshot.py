"""Immutable dashboard snapshots and the Qt-free code that builds them (STYLE.md §7).

The worker thread owns the analyser. After each update it builds a :class:`DashSnapshot` (frozen, with
read-only arrays) and hands it to the GUI, which only renders the newest one. Nothing here imports Qt, so
the builder and the coach's words are testable on their own.

Units are in the names: seconds (``_s``), milliseconds (``_ms``), percent (``_pct``), g (``_g``).

Each role's trace is the signal its rule set reads (MEASUREMENT.md §1–§2): the sagittal angular rate −ω_z
(deg/s, positive while the shank or the hand swings forward) where a gyroscope is worn, else the
acceleration axis of the accelerometer rules (a_x on a shin, a_y on a wrist, g).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from stridesync.model import LAG_NAMES, Event, EventKind, LinkState, Role, Step

from stridesync.report.weak import weak_link_text
from stridesync.report.words import ROLE_NAME, trace_label

from .setup_state import MountingWatch, SetupState

#: the rolling trace window kept per role, s (the view shows the last TRACE_VIEW_S of it)
TRACE_KEEP_S = 10.0
TRACE_VIEW_S = 8.0
#: events kept in a snapshot, s before the newest sample
EVENTS_KEEP_S = 10.0
#: a sensor silent this long is shown as 'no data' at once, before the link layer gives up on it
SILENT_AFTER_S = 0.5
#: a recovered sensor's notice stays this long, s
RECOVERY_NOTICE_S = 6.0
#: samples further apart than this are not joined by the trace line, s
GAP_BREAK_S = 0.1
#: the score trend holds this many steps
TREND_STEPS = 200

#: under the accelerometer rules, the acceleration axis drawn per role: the axis its events are read from
TRACE_AXIS = {Role.LEFT_SHIN: 0, Role.RIGHT_SHIN: 0, Role.LEFT_WRIST: 1, Role.RIGHT_WRIST: 1}
#: under the gyroscope rules, the body-frame axis whose negated rate is drawn: −ω_z, the sagittal rate
GYRO_TRACE_AXIS = 2
ROLE_WORDS = ROLE_NAME
LAG_WORDS = {"swing_lag": "other leg's swing", "ipsi_arm_lag": "stance-side arm", "contra_arm_lag": "other arm"}
#: link states that mean the sensor is gone (the link layer is working on it)
DOWN_STATES = {LinkState.STALLED: "STALLED — restarting its stream", LinkState.LOST: "LOST — reconnecting",
               LinkState.RECONNECTING: "LOST — reconnecting", LinkState.CONNECTING: "LOST — reconnecting"}


def fmt(v: float | None, spec: str = ".0f", unit: str = "") -> str:
    """A number for display; a value that cannot be computed is an em dash, never 0."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{v:{spec}}{unit}"


def signed_ms(v: float | None) -> str:
    return fmt(v, "+.0f", " ms")


@dataclass(frozen=True)
class SensorRow:
    """One line of the sensor panel, already in words."""

    role: Role
    key: str
    state: str            # the link state as the analyser knows it
    words: str            # what the coach reads: 'streaming', 'NO DATA 1.2 s', 'LOST — reconnecting'
    level: str            # 'ok', 'warn', 'bad', 'idle'
    battery_pct: int | None
    rate_hz: float | None
    loss_pct: float
    clock_residual_ms: float | None
    latency_ms: float | None
    reconnects: int


@dataclass(frozen=True)
class DashSnapshot:
    """Everything one dashboard frame shows. Immutable: arrays are read-only, mappings are proxies."""

    mode: str = "live"                      # 'live' | 'replay'
    state: str = "idle"                     # 'idle' | 'connecting' | 'running' | 'paused' | 'stopped' | 'finished' | 'error'
    now_s: float = 0.0                      # session time of this snapshot
    seq: int = 0                            # increases with every snapshot a source publishes
    traces: Mapping[Role, tuple[np.ndarray, np.ndarray]] = field(default_factory=lambda: MappingProxyType({}))
    events: tuple[Event, ...] = ()
    last_step: Step | None = None
    n_steps: int = 0
    rolling: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    targets_ms: Mapping[str, float | None] = field(default_factory=lambda: MappingProxyType({}))
    target_model: str = "together"
    score_trend: tuple[tuple[float, float], ...] = ()
    recent_steps: tuple[Step, ...] = ()
    sensors: tuple[SensorRow, ...] = ()
    alerts: tuple[str, ...] = ()           # red: something the coach must know now
    notices: tuple[str, ...] = ()          # green: a recovery
    message: str = ""                      # an error or status line in words
    #: whole-session statistics (core.summary(), what the report shows) once the session has ended; else None
    session_summary: Mapping[str, Any] | None = None
    #: the rule set of each role the core analyses: 'gyro' or 'accel' (MEASUREMENT.md §2)
    rule_sets: Mapping[Role, str] = field(default_factory=lambda: MappingProxyType({}))
    #: what each role's trace shows, in words with its unit ("Left shin, forward swing rate (deg/s)")
    trace_labels: Mapping[Role, str] = field(default_factory=lambda: MappingProxyType({}))
    #: counted strides per shin whose swing peak reached the gyroscope's full scale (their swing is not reported)
    clipped_swing_peaks: Mapping[Role, int] = field(default_factory=lambda: MappingProxyType({}))
    #: the weak link in words (last 20 steps, or the whole session once ended), as the terminal and report say it
    weak_link: str = "—"
    #: each sensor's mounting setup (waiting for standing, for strides, the verdict); None when the session
    #: estimates no mounting (align "given", or a samples file)
    setup: SetupState | None = None
    position_s: float | None = None        # replay: where playback is
    duration_s: float | None = None        # replay: session length
    speed: float = 1.0


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


class SampleRing:
    """The last ``keep_s`` seconds of one role's traced axis: appended from the worker, copied per snapshot."""

    def __init__(self, keep_s: float = TRACE_KEEP_S, sample_rate_hz: float = 200.0):
        n = int(keep_s * sample_rate_hz * 1.5) + 64
        self.keep_s = keep_s
        self.t = np.full(n, np.nan)
        self.y = np.full(n, np.nan)
        self.n = 0
        self.first_s: float | None = None  # the first sample ever received (traces start with the data)

    def extend(self, t: np.ndarray, y: np.ndarray) -> None:
        m = len(t)
        if not m:
            return
        if self.first_s is None:
            self.first_s = float(t[0])
        if self.n and t[0] - self.t[self.n - 1] > GAP_BREAK_S:  # a dropout: do not draw a line across it
            t, y, m = np.concatenate(([self.t[self.n - 1] + 1e-6], t)), np.concatenate(([np.nan], y)), m + 1
        cap = len(self.t)
        if m >= cap:
            t, y, m = t[-cap:], y[-cap:], cap
        if self.n + m > cap:  # drop the oldest, keep the last keep_s at least
            keep = cap - m
            self.t[:keep] = self.t[self.n - keep:self.n]
            self.y[:keep] = self.y[self.n - keep:self.n]
            self.n = keep
        self.t[self.n:self.n + m] = t
        self.y[self.n:self.n + m] = y
        self.n += m

    def recent(self, since_s: float) -> tuple[np.ndarray, np.ndarray]:
        t = self.t[:self.n]
        k = int(np.searchsorted(t, since_s)) if self.n and not np.isnan(t[0]) else 0
        return _ro(t[k:].copy()), _ro(self.y[k:self.n].copy())


class SensorWatch:
    """Turns link states and data age into words: 'RIGHT SHIN LOST — reconnecting', and its recovery."""

    def __init__(self):
        self.seen_streaming: set[str] = set()
        self.down_since: dict[str, float] = {}
        self.recovered_at: dict[str, float] = {}

    def row(self, h, age_s: float | None, now_s: float, *, ended: bool = False) -> tuple[SensorRow, str | None, str | None]:
        """``ended``: the session is over, so silence is no alarm. A sensor the session stopped never is."""
        name = ROLE_WORDS[h.role].upper()
        alert = notice = None
        silent = age_s is not None and age_s > SILENT_AFTER_S and not ended
        down = h.state in DOWN_STATES and h.key in self.seen_streaming
        if h.state == LinkState.OFF:  # taken out by the coach: no alarm, and its return is no recovery
            self.seen_streaming.discard(h.key)
            self.down_since.pop(h.key, None)
            self.recovered_at.pop(h.key, None)
            words, level = "off — disconnected by you", "idle"
        elif h.state == LinkState.STOPPED or (ended and h.state in (LinkState.STREAMING, LinkState.IDLE)):
            words, level = "stopped: session ended", "idle"
        elif h.state == LinkState.STREAMING and not silent:
            if h.key in self.down_since:
                self.recovered_at[h.key] = now_s
                del self.down_since[h.key]
            self.seen_streaming.add(h.key)
            words, level = "streaming", "ok"
        elif down:
            self.down_since.setdefault(h.key, now_s)
            words, level = DOWN_STATES[h.state], "bad"
            alert = f"{name} {words}"
        elif silent and h.key in self.seen_streaming:
            self.down_since.setdefault(h.key, now_s)
            words, level = f"NO DATA for {age_s:.1f} s", "bad"
            alert = f"{name} NO DATA for {age_s:.1f} s — out of range?"
        elif h.state in (LinkState.CONNECTING, LinkState.IDLE):
            words, level = "connecting…", "idle"
        else:
            words, level = h.state, "warn"
        if alert is None and h.key in self.recovered_at and now_s - self.recovered_at[h.key] < RECOVERY_NOTICE_S:
            notice = f"{name} back — streaming again"
        row = SensorRow(role=h.role, key=h.key, state=h.state, words=words, level=level, battery_pct=h.battery_pct,
                        rate_hz=h.rate_hz, loss_pct=h.loss_pct, clock_residual_ms=h.clock_residual_ms,
                        latency_ms=h.latency_ms, reconnects=h.reconnects)
        return row, alert, notice


class SnapshotBuilder:
    """Keeps the worker-side state a snapshot needs (sample rings, sensor watch, cached statistics).

    Call :meth:`attach` once with the real-time core: it listens to the core's input
    (``core.add_listener``) so every block the core receives is also copied into the rings. Call
    :meth:`build` on the same thread as the core.
    """

    def __init__(self, mode: str = "live"):
        self.mode = mode
        self.rings: dict[Role, SampleRing] = {}
        self.rule_sets: Mapping[Role, str] = MappingProxyType({})
        self.trace_labels: Mapping[Role, str] = MappingProxyType({})
        self.watch = SensorWatch()
        self.mounting: MountingWatch | None = None
        self.core = None
        self.seq = 0
        self._stats_key: tuple | None = None
        self._stats: tuple = (MappingProxyType({}), (), "—")
        self._summary_key: tuple | None = None
        self._session_weak = "—"
        self._summary: Mapping[str, Any] | None = None

    def restart(self, core) -> None:
        """Follow a fresh core (a replay that seeks restarts its analyser): new rings and sensor watch,
        the snapshot sequence keeps counting so the GUI sees every new snapshot."""
        self.core = None
        self.watch = SensorWatch()
        self._stats_key = self._summary_key = None
        self.attach(core)

    def attach(self, core) -> None:
        if self.core is core:
            return
        self.core = core
        self.rings = {r: SampleRing(sample_rate_hz=s.fs) for r, s in core.streams.items()}
        self.rule_sets = MappingProxyType({Role(r): str(getattr(rs, "value", rs)) for r, rs in core.rule_sets.items()})
        self.trace_labels = MappingProxyType({r: trace_label(r, rs) for r, rs in self.rule_sets.items()})
        watch = self.mounting = MountingWatch(core)
        trackers = watch.trackers

        def on_blocks(blocks):
            if watch.active:
                watch.feed(blocks)
            for role, t, acc, *gyro in blocks:
                role = Role(role)
                ring = self.rings.get(role)
                if ring is not None and len(t):
                    g = gyro[0] if gyro else None
                    tr = trackers.get(role)
                    R = tr.rotation if tr is not None else None
                    if R is not None:  # the trace in the body frame, as the core reads it, once the mounting is known
                        acc = np.asarray(acc, dtype=float).reshape(len(t), 3) @ R.T
                        g = None if g is None else np.asarray(g, dtype=float).reshape(len(t), 3) @ R.T
                    ring.extend(np.asarray(t, dtype=float), self.trace_values(role, len(t), acc, g))

        core.add_listener(on_blocks)  # the core's tap: every block as pushed, before the core uses it

    def trace_values(self, role: Role, n: int, acc_g, gyro_dps) -> np.ndarray:
        """The traced signal of one block: −ω_z (deg/s) under the gyroscope rules, else the rules' acceleration
        axis (g). A gyroscope-rule block always carries its rates (the core refuses one without)."""
        if self.rule_sets.get(role) == "gyro" and gyro_dps is not None:
            return -np.asarray(gyro_dps, dtype=float).reshape(n, 3)[:, GYRO_TRACE_AXIS]
        return np.asarray(acc_g, dtype=float).reshape(n, 3)[:, TRACE_AXIS[role]]

    def _statistics(self, core) -> tuple:
        key = (len(core.steps_), len(core.events_))
        if key != self._stats_key:
            self._stats_key = key
            rolling = core.rolling()
            trend = tuple((s.time_s, s.sync_score) for s in core.steps_[-TREND_STEPS:] if s.sync_score is not None)
            weak = weak_link_text(core.steps_[-core.config.window_steps:], core.targets_ms or {})
            self._stats = (MappingProxyType(rolling), trend, weak)
        return self._stats

    def _session_summary(self, core) -> Mapping[str, Any]:
        key = (len(core.steps_), len(core.events_))
        if key != self._summary_key:
            self._summary_key = key
            self._summary = MappingProxyType(core.summary())
            self._session_weak = weak_link_text(core.steps_, core.targets_ms or {})
        return self._summary

    def build(self, core, now_s: float, *, health=(), ages_s: Mapping[str, float | None] | None = None,
              state: str = "running", message: str = "", ended: bool = False, **extra) -> DashSnapshot:
        """A snapshot of the core now. ``health`` is a list of SensorHealth (empty for samples without
        packets). ``ended``: the session is over; the snapshot then carries the whole-session summary."""
        self.seq += 1
        newest = max((r.t[r.n - 1] for r in self.rings.values() if r.n and not np.isnan(r.t[r.n - 1])), default=now_s)
        view_end = max(now_s, newest)
        traces = {role: ring.recent(view_end - TRACE_VIEW_S - 0.5) for role, ring in self.rings.items()}
        events = []
        for e in reversed(core.events_):  # events arrive roughly in time order; stop once well past the window
            if e.time_s >= view_end - EVENTS_KEEP_S:
                events.append(e)
            elif e.time_s < view_end - EVENTS_KEEP_S - 5.0:
                break
        events.sort(key=lambda e: e.time_s)
        rolling, trend, weak = self._statistics(core)
        session_summary = self._session_summary(core) if ended else None
        if ended:
            weak = self._session_weak
        rows, alerts, notices = [], [], []
        for h in health:
            row, alert, notice = self.watch.row(h, (ages_s or {}).get(h.key), now_s, ended=ended)
            rows.append(row)
            if alert:
                alerts.append(alert)
            if notice:
                notices.append(notice)
        steps = core.steps_
        setup = self.mounting.state([r for r in Role if r in self.rings]) if self.mounting is not None else None
        return DashSnapshot(
            mode=self.mode, state=state, now_s=view_end, seq=self.seq, traces=MappingProxyType(traces),
            events=tuple(events), last_step=steps[-1] if steps else None, n_steps=len(steps),
            rolling=rolling, targets_ms=MappingProxyType(dict(core.targets_ms or {})),
            target_model=core.config.target_model, score_trend=trend, recent_steps=tuple(steps[-20:]),
            sensors=tuple(rows), alerts=tuple(alerts), notices=tuple(notices), message=message,
            session_summary=session_summary, rule_sets=self.rule_sets, weak_link=weak,
            trace_labels=self.trace_labels, clipped_swing_peaks=MappingProxyType(clipped_swing_peaks(core)), setup=setup,
            **extra)


def clipped_swing_peaks(core) -> dict[Role, int]:
    """Per shin under the gyroscope rules, the counted strides whose swing peak was clipped so far.

    The core's running counters (``RealtimeCore.clipped_swing_peaks``, O(1)); ``core.summary()`` holds the
    same counts but summarises the whole session on every call. A core without them reports none.
    """
    counts = getattr(core, "clipped_swing_peaks", None) or {}
    return {Role(r): int(n) for r, n in counts.items() if n}


# ---------------------------------------------------------------------------- coach's words
def balance_words(sa_pct: float | None, what: str) -> str:
    """A symmetry angle (0 = even, positive = right larger) as 'contact time: right 2.1 % longer'."""
    if sa_pct is None:
        return f"{what}: —"
    if abs(sa_pct) < 0.5:
        return f"{what}: even ({sa_pct:+.1f} %)"
    side = "right" if sa_pct > 0 else "left"
    return f"{what}: {side} longer ({sa_pct:+.1f} %)"


def step_lags(step: Step | None) -> dict[str, tuple[float | None, float | None]]:
    """name → (lag ms, lag % of stride) of one step."""
    if step is None:
        return {n: (None, None) for n in LAG_NAMES}
    return {n: (getattr(step, f"{n}_ms"), getattr(step, f"{n}_pct")) for n in LAG_NAMES}


def lag_limb(name: str, step: Step) -> Role:
    """Which limb a lag describes for this step's stance side (docs/measurement.md §5)."""
    side = step.stance_side
    return {"swing_lag": side.other.shin, "ipsi_arm_lag": side.wrist, "contra_arm_lag": side.other.wrist}[name]


def weak_link_words(snap: DashSnapshot) -> str:
    """The weak link as the dashboard shows it: the snapshot's words (stridesync.report.weak), which say
    "both legs" or "both arms" when the two sides differ by less than their noise."""
    return snap.weak_link


EVENT_KINDS = tuple(EventKind)
