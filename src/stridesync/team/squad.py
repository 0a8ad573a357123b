"""The squad model: every athlete's state, built from what the hubs publish (no Qt, no pylsl).

:class:`Squad` takes the :class:`~stridesync.sources.lsl.Item` s an inlet set delivers and keeps, per
athlete, the steps and events, the sync score and its trend, the weak link (stridesync.report.weak, over the
last 20 steps, with the hub's targets), the cadence, each sensor's health and each hub's log of state
changes (found, lost, back, ended). An athlete whose sensors are split over several hubs is analysed here:
a :class:`~stridesync.core.realtime.RealtimeCore` is fed with the hubs' sensor streams on this machine's LSL
clock (each hub's samples stamped through its own clock model), so limbs seen by different hubs are compared
on one clock. Recording writes each athlete into their own session file (:mod:`stridesync.team.recording`).
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.config import DetectorConfig
from ..model import Event, Role, Step

log = logging.getLogger(__name__)

#: the weak link and the sync score are over this many last steps (the live view's window)
WINDOW_STEPS = 20
#: a split athlete's sensor silent this long (s) is declared away in the squad's core (as LiveAnalyzer does)
GAP_AFTER_S = 1.0


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return float(np.mean(xs)) if xs else None


@dataclass
class _Merged:
    """The squad's own analysis of an athlete split over hubs: the hubs' samples on this machine's LSL clock."""

    core: object
    origin_s: float  # core time 0 on the LSL clock
    last_t: dict = field(default_factory=dict)   # role → newest sample time (core clock)
    last_seen: dict = field(default_factory=dict)  # role → LSL clock when it last delivered


@dataclass
class AthleteState:
    name: str
    steps: list[Step] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    step_stamps: list[float] = field(default_factory=list)  # each step's instant on this machine's LSL clock
    targets_ms: dict | None = None
    health: dict = field(default_factory=dict)  # hub → list of sensor health dicts
    hubs: dict = field(default_factory=dict)  # hub → state
    hub_sensors: dict = field(default_factory=dict)  # hub → tuple[SensorDecl]
    hub_log: list = field(default_factory=list)  # {"time_s", "hub", "state"}
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=20000))
    scores: list[float] = field(default_factory=list)  # rolling sync score after each step
    merged: _Merged | None = None
    offsets: dict = field(default_factory=dict)  # hub → its LSL clock minus its session clock (hub's clock)

    @property
    def split(self) -> bool:
        """Sensors spread over more than one hub (live at the same time)."""
        return len({h for h, s in self.hub_sensors.items() if s and self.hubs.get(h) != "ended"}) > 1 or (
            self.merged is not None)

    @property
    def state(self) -> str:
        states = set(self.hubs.values())
        if not states:
            return "waiting"
        for s in ("lost", "live", "ended"):
            if s in states:
                return s
        return next(iter(states))

    def window(self) -> list[Step]:
        return self.steps[-WINDOW_STEPS:]

    @property
    def sync_score(self) -> float | None:
        return _mean(s.sync_score for s in self.window())

    @property
    def trend(self) -> float | None:
        """The sync score over the last 20 steps minus the one 20 steps before (points; + is better)."""
        if len(self.scores) <= WINDOW_STEPS or self.scores[-1] is None or self.scores[-1 - WINDOW_STEPS] is None:
            return None
        return self.scores[-1] - self.scores[-1 - WINDOW_STEPS]

    @property
    def cadence_spm(self) -> float | None:
        c = [s.cadence_spm for s in self.steps[-10:]]
        return float(np.median(c)) if c else None

    def weak_link(self):
        from ..report.weak import weak_link_verdict
        return weak_link_verdict(self.window(), self.targets_ms or {}) if self.steps else None

    def weak_link_text(self) -> str:
        from ..report.weak import words
        return words(self.weak_link())

    def health_line(self) -> str:
        parts = []
        for hub, sensors in self.health.items():
            for d in sensors:
                loss = d.get("loss_pct")
                parts.append(f"{str(d.get('role', '?')).replace('_', ' ')} {d.get('state', '?')}"
                             + (f" {loss:.0f}%" if isinstance(loss, (int, float)) and loss >= 1 else ""))
        return ", ".join(parts) or "—"

    def add_steps(self, steps: list[Step], stamps: list[float]) -> None:
        for s, t in zip(steps, stamps):
            self.steps.append(s)
            self.step_stamps.append(t)
            self.scores.append(self.sync_score)


class Squad:
    """Every athlete the hubs publish; fed with :meth:`update` (a list of inlet items)."""

    def __init__(self, *, config: DetectorConfig | None = None, recorder_dir: Path | None = None):
        self.config = config or DetectorConfig()
        self.athletes: dict[str, AthleteState] = {}
        self.recorder_dir = recorder_dir
        self.recordings: dict[str, object] = {}  # athlete → TeamRecording
        self.first_seen: dict[str, float] = {}
        #: athletes whose sensor streams a view follows (the Qt team view's single-athlete window)
        self.watched: set[str] = set()

    def athlete(self, name: str) -> AthleteState:
        a = self.athletes.get(name)
        if a is None:
            a = self.athletes[name] = AthleteState(name)
        return a

    def wants_imu(self, name: str) -> bool:
        """Sensor streams are pulled to record, to analyse an athlete split over hubs, or for a view that watches them."""
        if self.recorder_dir is not None or name in self.watched:
            return True
        a = self.athletes.get(name)
        return a is not None and a.split

    def update(self, items, now_s: float) -> list[str]:
        """Apply inlet items; returns the state changes in words (for the terminal)."""
        changes = []
        for it in items:
            a = self.athlete(it.athlete)
            self.first_seen.setdefault(it.athlete, now_s)
            if it.kind == "state":
                a.hubs[it.hub] = {"found": "live", "back": "live"}.get(it.rows, it.rows)
                a.hub_log.append({"time_s": round(it.t, 3), "hub": it.hub, "state": it.rows})
                changes.append(f"{it.athlete}: hub {it.hub} {it.rows}")
            elif it.kind == "health":
                a.health[it.hub] = it.rows.get("sensors") or []
                off = it.rows.get("lsl_offset_s")
                if isinstance(off, (int, float)):
                    a.offsets[it.hub] = float(off)  # on the hub's own LSL clock
                if it.rows.get("targets_ms"):
                    a.targets_ms = it.rows["targets_ms"]
            elif it.kind == "steps":
                if a.split:
                    continue  # a partial hub's steps (none, usually): the squad's own analysis stands
                a.add_steps([r[0] for r in it.rows], [r[1] for r in it.rows])
                for _, _, sent in it.rows:
                    a.latencies_ms.append((now_s - sent) * 1e3)
                self._record_results(a, it.hub, [], [r[0] for r in it.rows])
            elif it.kind == "events":
                if a.split:
                    continue
                a.events.extend(r[0] for r in it.rows)
                for _, _, sent in it.rows:
                    a.latencies_ms.append((now_s - sent) * 1e3)
                self._record_results(a, it.hub, [r[0] for r in it.rows], [])
            elif it.kind == "imu":
                self._on_imu(a, it, now_s)
        for name, a in self.athletes.items():
            if a.merged is not None:
                self._tick_merged(a, now_s)
        return changes

    def note_hub_sensors(self, inlets) -> None:
        """The sensors each hub declares (from the inlets' hub table)."""
        for (athlete, hub), hs in inlets.hubs.items():
            self.athlete(athlete).hub_sensors[hub] = hs.sensors

    # ------------------------------------------------------------------ split athletes and recording
    def _on_imu(self, a: AthleteState, it, now_s: float) -> None:
        data, stamps = it.rows
        if len(stamps) == 0:
            return
        if a.split:
            if a.merged is None:
                a.merged = self._new_merged(a, float(stamps[0]))
            if a.merged is not None:
                self._push_merged(a, it.role, data, stamps, now_s)
        rec = self._recording(a)
        if rec is not None:
            if a.merged is not None:  # one clock for limbs from several hubs: this machine's
                rec.set_base(a.merged.origin_s)
                rec.samples(it.role, data, stamps)
            elif it.hub in a.offsets:  # the hub's own clock: its session times come back exactly
                rec.set_base(a.offsets[it.hub])
                rec.samples(it.role, data, stamps - it.tc)

    def _new_merged(self, a: AthleteState, first_stamp: float) -> _Merged | None:
        from ..core.mounting import MountingTracker
        from ..core.realtime import RealtimeCore

        decls = {d.role: d for sensors in a.hub_sensors.values() for d in sensors}
        if not decls:
            return None
        rates = {r: d.rate_hz for r, d in decls.items()}
        gyro = [r for r, d in decls.items() if d.gyro]
        mounting = {r: MountingTracker(r, d.rate_hz, has_gyro=d.gyro) for r, d in decls.items()}
        core = RealtimeCore(rates, config=self.config, gyro_roles=gyro, mounting=mounting)
        origin = math.floor(first_stamp) - 1.0
        log.info("%s: sensors split over %d hubs; analysing them here on the LSL clock", a.name, len(a.hub_sensors))
        return _Merged(core, origin)

    def _push_merged(self, a: AthleteState, role: Role, data: np.ndarray, stamps: np.ndarray, now_s: float) -> None:
        m = a.merged
        if role not in m.core.streams:
            return
        t = stamps - m.origin_s
        last = m.last_t.get(role, -np.inf)
        keep = t > last
        if not keep.any():
            return
        t, data = t[keep], data[keep]
        if m.core.streams[role].quiet_until >= t[0]:
            k = t > m.core.streams[role].quiet_until
            t, data = t[k], data[k]
            if len(t) == 0:
                return
        gyro = np.ascontiguousarray(data[:, 3:6]) if data.shape[1] >= 6 else None
        ev, st = m.core.push_many([(role, np.ascontiguousarray(t), np.ascontiguousarray(data[:, :3]), gyro)])
        m.last_t[role] = float(t[-1])
        m.last_seen[role] = now_s
        self._merged_out(a, ev, st, now_s)

    def _merged_out(self, a: AthleteState, ev, st, now_s: float) -> None:
        m = a.merged
        if m.core.targets_ms:
            a.targets_ms = m.core.targets_ms
        if ev:
            a.events.extend(ev)
        if st:
            a.add_steps(st, [s.time_s + m.origin_s for s in st])
            for s in st:
                a.latencies_ms.append((now_s - (s.time_s + m.origin_s)) * 1e3)
        rec = self.recordings.get(a.name)
        if rec is not None and (ev or st):
            rec.results(ev, st, m.origin_s)

    def _tick_merged(self, a: AthleteState, now_s: float) -> None:
        m = a.merged
        for role, seen in list(m.last_seen.items()):
            if now_s - seen > GAP_AFTER_S:
                until = max(m.last_t.get(role, 0.0), now_s - GAP_AFTER_S - m.origin_s) + 1e-6
                if until > m.core.streams[role].quiet_until:
                    ev, st = m.core.declare_gap(role, until)
                    self._merged_out(a, ev, st, now_s)

    def _recording(self, a: AthleteState):
        if self.recorder_dir is None:
            return None
        rec = self.recordings.get(a.name)
        if rec is None:
            from .recording import TeamRecording
            decls = [d for sensors in a.hub_sensors.values() for d in sensors]
            if not decls:
                return None
            rec = self.recordings[a.name] = TeamRecording(self.recorder_dir, a.name, decls, config=self.config)
        return rec

    def _record_results(self, a: AthleteState, hub: str, events, steps) -> None:
        rec = self._recording(a)
        off = a.offsets.get(hub)
        if rec is not None and off is not None:
            rec.results(events, steps, off)

    def finish(self) -> None:
        """End every split athlete's analysis (its last steps)."""
        for a in self.athletes.values():
            if a.merged is not None:
                ev, st = a.merged.core.finish()
                self._merged_out(a, ev, st, math.inf)

    def close_recordings(self) -> list[Path]:
        """Write every athlete's session file (after :meth:`finish`)."""
        out = []
        for name, rec in self.recordings.items():
            a = self.athletes[name]
            rec.targets_ms = a.targets_ms
            path = rec.close({"hub_log": a.hub_log, "split_over_hubs": a.merged is not None})
            if path is not None:
                out.append(path)
        return out

    # ------------------------------------------------------------------ summary
    def summary(self) -> dict:
        out = {}
        for name, a in sorted(self.athletes.items()):
            wl = a.weak_link()
            lat = np.asarray(a.latencies_ms, dtype=float)
            lat = lat[np.isfinite(lat)]
            out[name] = {
                "steps": len(a.steps),
                "sync_score": None if a.sync_score is None else round(a.sync_score, 2),
                "sync_trend": None if a.trend is None else round(a.trend, 2),
                "weak_link": wl.text if wl else None,
                "cadence_spm": None if a.cadence_spm is None else round(a.cadence_spm, 1),
                "state": a.state,
                "split_over_hubs": a.merged is not None,
                "hubs": dict(a.hubs),
                "hub_log": a.hub_log,
                "latency_p95_ms": round(float(np.percentile(lat, 95)), 2) if len(lat) else None,
                "health": a.health,
            }
            if a.merged is not None:
                out[name]["clock_origin_lsl_s"] = a.merged.origin_s
        return {"athletes": out}


__all__ = ["AthleteState", "Squad", "WINDOW_STEPS"]
