"""Qt-free snapshots of the squad for the Qt team view (STYLE.md §7), built on the squad worker's thread.

:func:`squad_rows` turns :class:`stridesync.team.squad.Squad` into immutable :class:`SquadRow` s, one per
athlete, already in words; the team window only renders the newest tuple.

:class:`LslAthleteBuilder` builds the full single-athlete view's :class:`~.snapshot.DashSnapshot` from what
the hubs publish on LSL: **the hub's own results** (its steps, events, sync score, weak link, targets and
sensor health, as the squad model holds them; for an athlete split over hubs, the squad's own analysis) and
the athlete's sensor streams for the traces. Nothing is analysed again here, so the view's step count is the
hub's. Times in the view are seconds on this machine's LSL clock since the squad view started (every
athlete on one clock; a restarted hub's new session clock does not make the view jump back).
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from stridesync.core.measures import summarize, zero_targets
from stridesync.live import SensorHealth
from stridesync.model import Role
from stridesync.report.words import trace_label

from .snapshot import (EVENTS_KEEP_S, GYRO_TRACE_AXIS, TRACE_AXIS, TRACE_VIEW_S, TREND_STEPS, DashSnapshot,
                       SampleRing, SensorWatch, fmt)

#: a hub that came back is shown as 'back' this long (s)
BACK_SHOWN_S = 10.0
#: sync scores kept per row for its sparkline (the rolling score after each step)
SPARK_STEPS = 120


@dataclass(frozen=True)
class SquadRow:
    """One athlete's line in the team view, in words and numbers (units in the names)."""

    name: str
    state: str                 # 'live', 'lost', 'back', 'ended', 'waiting'
    state_words: str           # 'live', 'lost since 14:03:27', 'back (lost 3.1 s)'
    n_steps: int
    sync_score: float | None
    trend: float | None        # points, + is better (the last 20 steps against the 20 before)
    spark: tuple[float, ...]   # the rolling sync score after each of the last SPARK_STEPS steps
    weak_link: str
    cadence_spm: float | None
    health: str                # the sensors in a few words (the ones that are not fine first)
    health_tip: str            # every sensor's state
    health_level: str          # 'ok', 'warn', 'bad', 'idle'
    hubs: int
    split: bool


def wall_clock_words(lsl_t: float, lsl_now: float) -> str:
    """An instant on the LSL clock as the wall-clock time hh:mm:ss it happened."""
    return time.strftime("%H:%M:%S", time.localtime(time.time() - (lsl_now - lsl_t)))


def _state(a, now_lsl: float) -> tuple[str, str]:
    state = a.state
    if state == "lost":
        lost = [e["time_s"] for e in a.hub_log if e["state"] == "lost"]
        since = wall_clock_words(lost[-1], now_lsl) if lost else "?"
        return "lost", f"lost since {since}"
    if state == "live":
        log = a.hub_log
        for k in range(len(log) - 1, -1, -1):
            e = log[k]
            if now_lsl - e["time_s"] > BACK_SHOWN_S:
                break
            if e["state"] in ("back", "found") and any(p["state"] == "lost" for p in log[:k]):
                gone = [p["time_s"] for p in log[:k] if p["state"] == "lost"][-1]
                return "back", f"back (gone {e['time_s'] - gone:.0f} s)"
        return "live", "live"
    return state, state


def _health_level(a) -> str:
    states = [str(d.get("state", "")) for sensors in a.health.values() for d in sensors]
    if not states:
        return "idle"
    if any(s in ("lost", "reconnecting", "stalled") for s in states):
        return "bad"
    if all(s == "streaming" for s in states):
        return "ok"
    return "warn"


def health_words(a) -> str:
    """The sensors in a few words: '4 streaming', or the ones that are not fine first ('right shin lost, 3
    streaming'); a sensor losing 1 % of its packets or more is named with its loss."""
    fine, other = 0, []
    for sensors in a.health.values():
        for d in sensors:
            state, loss = str(d.get("state", "?")), d.get("loss_pct")
            lossy = isinstance(loss, (int, float)) and loss >= 1.0
            if state == "streaming" and not lossy:
                fine += 1
            else:
                other.append(f"{str(d.get('role', '?')).replace('_', ' ')} {state}" + (f" {loss:.0f}% lost" if lossy else ""))
    if not other and not fine:
        return "—"
    return ", ".join(other + ([f"{fine} streaming" if other else f"all {fine} streaming"] if fine else []))


def squad_rows(squad, now_lsl: float) -> tuple[SquadRow, ...]:
    """Every athlete of the squad model, sorted by name."""
    out = []
    for name, a in sorted(squad.athletes.items()):
        state, words = _state(a, now_lsl)
        spark = tuple(float(s) for s in a.scores[-SPARK_STEPS:] if s is not None)
        out.append(SquadRow(name=name, state=state, state_words=words, n_steps=len(a.steps), sync_score=a.sync_score,
                            trend=a.trend, spark=spark, weak_link=a.weak_link_text(), cadence_spm=a.cadence_spm,
                            health=health_words(a), health_tip=a.health_line(), health_level=_health_level(a),
                            hubs=sum(1 for s in a.hubs.values() if s != "ended") or len(a.hubs), split=a.split))
    return tuple(out)


def sensor_health(d: dict) -> SensorHealth | None:
    """A hub's heartbeat entry (SensorHealth.as_dict) back as a SensorHealth; None if it does not parse."""
    try:
        kw = {f.name: d.get(f.name) for f in dataclasses.fields(SensorHealth)}
        kw["role"] = Role(kw["role"])
        for k in ("packets", "lost_packets", "malformed", "reconnects", "stalls"):
            kw[k] = int(kw[k] or 0)
        kw["loss_pct"] = float(kw["loss_pct"] or 0.0)
        kw["key"], kw["state"] = str(kw["key"]), str(kw["state"])
        return SensorHealth(**kw)
    except (TypeError, ValueError, KeyError):
        return None


class LslAthleteBuilder:
    """One athlete's dashboard snapshots from the squad model and the inlet items (call both on one thread).

    Parameters
    ----------
    athlete : the athlete's name, as the hubs publish it.
    t0_lsl : time 0 of the view on this machine's LSL clock (the squad view's start).
    """

    def __init__(self, athlete: str, t0_lsl: float):
        self.athlete = athlete
        self.t0 = float(t0_lsl)
        self.rings: dict[Role, SampleRing] = {}
        self.rule_sets: dict[Role, str] = {}
        self.events: deque = deque(maxlen=2000)  # on the view's clock
        self.watch = SensorWatch()
        self.seq = 0
        self._merged_seen: int | None = None
        self._stats_key = None
        self._stats = (MappingProxyType({}), ())
        self.newest_s: float | None = None
        self.description = "from LSL"  # where the numbers come from, in words (the window's title)

    # ------------------------------------------------------------------ input (the squad worker's thread)
    def feed(self, items, squad) -> None:
        """Take this athlete's sensor samples and (from a hub, not split) events from one poll's items."""
        a = squad.athletes.get(self.athlete)
        for it in items:
            if it.athlete != self.athlete:
                continue
            if it.kind == "imu":
                self._samples(a, it)
            elif it.kind == "events" and not (a is not None and a.split):
                self.events.extend(dataclasses.replace(ev, time_s=stamp - self.t0) for ev, stamp, _ in it.rows)
        if a is not None and a.merged is not None:  # split over hubs: the squad's own events, on its clock
            start = len(a.events) if self._merged_seen is None else self._merged_seen
            shift = a.merged.origin_s - self.t0
            self.events.extend(dataclasses.replace(e, time_s=e.time_s + shift) for e in a.events[start:])
            self._merged_seen = len(a.events)

    def _samples(self, a, it) -> None:
        role = it.role
        data, stamps = it.rows
        if role is None or len(stamps) == 0:
            return
        ring = self.rings.get(role)
        if ring is None:
            decl = None
            if a is not None:
                decl = next((d for sensors in a.hub_sensors.values() for d in sensors if d.role == role), None)
            gyro = data.shape[1] >= 6 if decl is None else decl.gyro
            self.rule_sets[role] = "gyro" if gyro else "accel"
            ring = self.rings[role] = SampleRing(sample_rate_hz=decl.rate_hz if decl is not None else 200.0)
        t = np.asarray(stamps, dtype=float) - self.t0
        if ring.n and t[0] <= ring.t[ring.n - 1]:  # a restarted hub's stream overlapping the old one: newer only
            keep = t > ring.t[ring.n - 1]
            t, data = t[keep], data[keep]
            if not len(t):
                return
        if self.rule_sets[role] == "gyro" and data.shape[1] >= 6:
            y = -data[:, 3 + GYRO_TRACE_AXIS]
        else:
            y = data[:, TRACE_AXIS[role]]
        ring.extend(t, np.ascontiguousarray(y, dtype=float))
        self.newest_s = float(t[-1]) if self.newest_s is None else max(self.newest_s, float(t[-1]))

    # ------------------------------------------------------------------ output
    def _statistics(self, a) -> tuple:
        key = (len(a.steps), len(a.events), id(a.steps[-1]) if a.steps else None)
        if key != self._stats_key:
            self._stats_key = key
            steps = a.window()
            if steps:  # the hub's clock: its steps and events (the squad's for a split athlete)
                lo = steps[0].time_s - steps[0].stride_time_s - 1.0
                hi = steps[-1].time_s + 1.0
                events = sorted((e for e in a.events[-600:] if lo <= e.time_s <= hi), key=lambda e: e.time_s)
            else:
                events = []
            rolling = summarize(events, steps, a.targets_ms or zero_targets(), _config())
            stamps = a.step_stamps[-TREND_STEPS:]
            trend = tuple((t - self.t0, s.sync_score) for s, t in zip(a.steps[-TREND_STEPS:], stamps)
                          if s.sync_score is not None)
            self._stats = (MappingProxyType(rolling), trend)
        return self._stats

    def build(self, squad, now_lsl: float) -> DashSnapshot:
        """The snapshot now (``now_lsl``: this machine's LSL clock)."""
        self.seq += 1
        now_s = now_lsl - self.t0
        view_end = now_s if self.newest_s is None else max(self.newest_s, now_s - 0.3)
        a = squad.athletes.get(self.athlete)
        traces = {r: ring.recent(view_end - TRACE_VIEW_S - 0.5) for r, ring in self.rings.items()}
        since = max(view_end - EVENTS_KEEP_S, min((r.first_s for r in self.rings.values() if r.first_s is not None),
                                                  default=view_end))  # no markers where no trace is drawn yet
        events = tuple(e for e in self.events if e.time_s >= since)
        labels = {r: trace_label(r, rs) for r, rs in self.rule_sets.items()}
        if a is None:
            return DashSnapshot(mode="live", state="connecting", now_s=view_end, seq=self.seq,
                                message=f"waiting for {self.athlete}'s hub on LSL…")
        rolling, trend = self._statistics(a)
        state, words = _state(a, now_lsl)
        rows, alerts, notices = [], [], []
        ended = state == "ended"
        for sensors in a.health.values():
            for d in sensors:
                h = sensor_health(d)
                if h is None:
                    continue
                row, alert, notice = self.watch.row(h, None, now_s, ended=ended)
                rows.append(row)
                alerts += [alert] if alert and state != "lost" else []
                notices += [notice] if notice else []
        if state == "lost":
            alerts.insert(0, f"HUB {words.upper()} — it comes back by itself when it beats again")
        elif state == "back":
            notices.insert(0, f"hub {words}")
        how = "split over hubs: this squad view's analysis" if a.merged is not None else "the hub's own analysis"
        self.description = f"from LSL · {how} · hub {', '.join(sorted(a.hubs))}"
        steps = a.steps
        return DashSnapshot(
            mode="live", state={"ended": "stopped", "waiting": "connecting"}.get(state, "running"), now_s=view_end,
            seq=self.seq, traces=MappingProxyType(traces), events=events, last_step=steps[-1] if steps else None,
            n_steps=len(steps), rolling=rolling, targets_ms=MappingProxyType(dict(a.targets_ms or {})),
            score_trend=trend, recent_steps=tuple(steps[-20:]), sensors=tuple(rows), alerts=tuple(alerts),
            notices=tuple(notices), message=f"waiting for {self.athlete}'s hub…" if state == "waiting" else "",
            rule_sets=MappingProxyType(dict(self.rule_sets)), trace_labels=MappingProxyType(labels),
            weak_link=a.weak_link_text())


def _config():
    from stridesync.core.config import DetectorConfig
    global _CONFIG
    if _CONFIG is None:
        _CONFIG = DetectorConfig()
    return _CONFIG


_CONFIG = None


def score_words(row: SquadRow) -> str:
    return fmt(row.sync_score)


def trend_words(row: SquadRow) -> str:
    if row.trend is not None and abs(row.trend) < 0.5:
        return "±0"
    return fmt(row.trend, "+.0f")


__all__ = ["BACK_SHOWN_S", "LslAthleteBuilder", "health_words", "SquadRow", "score_words", "sensor_health", "squad_rows",
           "trend_words", "wall_clock_words"]
