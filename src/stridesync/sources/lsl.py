"""LSL inlets: discover every StrideSync hub, pull its streams, follow each hub's heartbeat (with
sinks/lsl.py, the only modules that import pylsl).

:class:`TeamInlets` is polled (never blocks for long): a :class:`pylsl.ContinuousResolver` finds streams in
the background; each new stream of one of our types gets an inlet, whose full description says whether it
is ours (``<stridesync>``) and which protocol it speaks. A stream that is not ours, a hub speaking another
protocol, and a sample that does not decode are each ignored with one warning, never a crash.

A hub is **lost** when its heartbeat (the health stream, every 0.2 s) has been silent for
``lost_after_s``; it is **back** when a heartbeat arrives again, from the same streams (a stall) or from a
restarted hub's new ones (same ``source_id``, new uid; found by the resolver within about a second). Inlets
do not use liblsl's own recovery (``recover=False``): a dead stream's inlet is dropped and its successor
gets a new one, so nothing waits on a stream that is gone.

Times: every stamp is mapped onto this machine's LSL clock with the inlet's ``time_correction()``
(refreshed every few seconds), so events from different hubs compare on one clock.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pylsl
from pylsl.util import LostError

from ..lsl_streams import (EVENTS, HEALTH, IMU, KINDS, PROTOCOL_VERSION, STEPS, TYPES, WireError, decode_event,
                           decode_health, decode_step)
from ..model import Role

log = logging.getLogger(__name__)

#: a hub whose heartbeat is silent this long is lost (s)
LOST_AFTER_S = 1.0
#: refresh each inlet's clock offset this often (s)
TIME_CORRECTION_EVERY_S = 5.0


def quiet_liblsl() -> None:
    """liblsl logs every retry to stderr; keep its errors to itself (a user's own LSLAPICFG wins). Must run
    before any other liblsl call of the process; later calls do nothing."""
    global _CONFIGURED
    if _CONFIGURED:
        return
    _CONFIGURED = True
    if os.environ.get("LSLAPICFG"):
        return
    try:
        pylsl.set_config_content("[log]\nlevel = -3\n")
    except Exception as exc:  # an older liblsl: noisy, not wrong
        log.debug("cannot configure liblsl: %s", exc)


_CONFIGURED = False


def lsl_clock() -> float:
    quiet_liblsl()
    return pylsl.local_clock()


@dataclass(frozen=True)
class SensorDecl:
    """A sensor as a hub declares it in its streams' descriptions."""

    serial: str
    role: Role
    rate_hz: float
    gyro: bool


class Item(NamedTuple):
    """One thing that happened: ``kind`` is ``events``, ``steps``, ``health``, ``imu`` or ``state``.

    ``rows``: events/steps: ``[(Event or Step, stamp, hub_sent)]`` (stamps on this machine's LSL clock);
    health: the decoded dict; imu: ``(samples (n, c) float64, stamps (n,))``; state: the new hub state
    (``found``, ``lost``, ``back``, ``ended``). ``t`` is this machine's LSL clock when it was seen.
    """

    kind: str
    athlete: str
    hub: str
    role: Role | None
    rows: object
    t: float
    tc: float = 0.0  # the time correction already added to the stamps (this clock minus the hub's)


@dataclass
class _Handle:
    inlet: pylsl.StreamInlet
    uid: str
    name: str
    kind: str
    athlete: str
    hub: str
    role: Role | None = None
    serial: str = ""
    sensors: tuple[SensorDecl, ...] = ()
    tc_s: float = 0.0
    next_tc: float = 0.0
    warned: bool = False
    info: pylsl.StreamInfo | None = None  # the full description (a sensor stream closed when no longer wanted reopens)


@dataclass
class HubState:
    athlete: str
    hub: str
    state: str = "found"
    last_beat: float = 0.0
    offset_s: float | None = None  # the hub's LSL clock minus its session clock, from its heartbeat
    sensors: tuple[SensorDecl, ...] = ()
    log: list = field(default_factory=list)  # (time, state)


def _parse_sensors(text: str) -> tuple[SensorDecl, ...]:
    out = []
    for part in (text or "").split(","):
        bits = part.split(":")
        if len(bits) >= 2:
            try:
                out.append(SensorDecl(bits[0], Role(bits[1]), float(bits[2]) if len(bits) > 2 else 200.0,
                                      bits[3] == "1" if len(bits) > 3 else True))
            except ValueError:
                continue
    return tuple(out)


class TeamInlets:
    """Every StrideSync hub on the network, polled.

    Parameters
    ----------
    want_imu : ``(athlete) -> bool``: whether to pull that athlete's sensor streams (a squad view needs them
        to record, or to analyse an athlete whose sensors are split over hubs); the events, steps and health
        streams are always pulled.
    lost_after_s : heartbeat silence that makes a hub lost.
    """

    def __init__(self, *, want_imu: Callable[[str], bool] | None = None, lost_after_s: float = LOST_AFTER_S,
                 forget_after_s: float = 3.0):
        quiet_liblsl()
        self.want_imu = want_imu or (lambda athlete: False)
        self.lost_after_s = lost_after_s
        self._resolver = pylsl.ContinuousResolver(forget_after=forget_after_s)
        self._handles: dict[str, _Handle] = {}
        self._ignored: set[str] = set()
        self._pending_imu: dict[str, pylsl.StreamInfo] = {}  # uid → info of imu streams not (yet) wanted
        self._warned_hubs: set[str] = set()
        self.hubs: dict[tuple[str, str], HubState] = {}
        self.warnings: list[str] = []
        self.bad_samples = 0
        self._next_resolve = 0.0
        self._tc: dict[str, float] = {}  # hub → this clock minus the hub's LSL clock (s)
        self._stop = threading.Event()
        self._tc_thread = threading.Thread(target=self._time_corrections, name="lsl-time-correction", daemon=True)
        self._tc_thread.start()

    def _time_corrections(self) -> None:
        """Each hub's clock offset, refreshed in the background (the first estimate takes a few exchanges)."""
        due: dict[str, float] = {}
        while not self._stop.is_set():
            for h in list(self._handles.values()):
                if h.kind != HEALTH or time.monotonic() < due.get(h.uid, 0.0) or self._stop.is_set():
                    continue
                try:
                    self._tc[h.hub] = float(h.inlet.time_correction(timeout=2.0))
                    due[h.uid] = time.monotonic() + TIME_CORRECTION_EVERY_S
                except Exception:  # not yet, or gone
                    due[h.uid] = time.monotonic() + 0.5
            self._stop.wait(0.1)

    # ------------------------------------------------------------------ discovery
    def _warn(self, msg: str) -> None:
        self.warnings.append(msg)
        log.warning("%s", msg)

    def _discover(self, now: float) -> None:
        if now < self._next_resolve:
            return
        self._next_resolve = now + 0.25
        try:
            infos = self._resolver.results()
        except Exception as exc:  # liblsl errors surface as RuntimeError subclasses
            log.debug("resolver: %s", exc)
            return
        for info in infos:
            uid = info.uid()
            if uid in self._handles or uid in self._ignored or info.type() not in TYPES:
                continue
            if info.type() == "IMU" and uid in self._pending_imu:
                athlete = self._pending_imu[uid].desc().child("stridesync").child_value("athlete")
                if not self.want_imu(athlete):
                    continue
                self._open(self._pending_imu.pop(uid), full=True)
                continue
            self._open(info)

    def _open(self, info: pylsl.StreamInfo, full: bool = False) -> None:
        uid = info.uid()
        try:
            inlet = pylsl.StreamInlet(info, max_buflen=60, recover=False)
            full_info = info if full else inlet.info(timeout=1.0)
        except Exception as exc:
            log.debug("cannot open %s: %s", info.name(), exc)
            return
        ours = full_info.desc().child("stridesync")
        if ours.empty():
            self._ignored.add(uid)
            self._warn(f"ignoring LSL stream {info.name()!r} (type {info.type()}, from {info.hostname()}): "
                       "not a StrideSync stream")
            return
        proto, athlete, hub, kind = (ours.child_value(k) for k in ("protocol", "athlete", "hub", "kind"))
        if proto != str(PROTOCOL_VERSION):
            self._ignored.add(uid)
            if hub not in self._warned_hubs:
                self._warned_hubs.add(hub)
                self._warn(f"ignoring hub {hub} ({athlete or 'unnamed'}, {info.hostname()}): it speaks StrideSync "
                           f"LSL protocol {proto or '?'}, this squad view speaks {PROTOCOL_VERSION}; update one of them")
            return
        if kind not in KINDS or not athlete or not hub:
            self._ignored.add(uid)
            self._warn(f"ignoring LSL stream {info.name()!r}: its StrideSync description is incomplete")
            return
        if kind == IMU and not full and not self.want_imu(athlete):
            self._pending_imu[uid] = full_info
            return
        h = _Handle(inlet, uid, info.name(), kind, athlete, hub, info=full_info)
        if kind == IMU:
            try:
                h.role, h.serial = Role(ours.child_value("role")), ours.child_value("serial")
            except ValueError:
                self._ignored.add(uid)
                self._warn(f"ignoring LSL stream {info.name()!r}: unknown role {ours.child_value('role')!r}")
                return
        else:
            h.sensors = _parse_sensors(ours.child_value("sensors"))
        try:
            inlet.open_stream(timeout=1.0)
        except Exception as exc:
            log.debug("cannot open %s: %s", info.name(), exc)
            return
        self._handles[uid] = h
        if kind == HEALTH:
            hs = self.hubs.get((athlete, hub))
            if hs is None:
                self.hubs[(athlete, hub)] = HubState(athlete, hub, "new", sensors=h.sensors)
            else:
                hs.sensors = h.sensors

    def refresh_imu(self) -> None:
        """Follow a change of ``want_imu``: open the sensor streams of athletes newly wanted, and close those of
        athletes no longer wanted (their samples stop crossing the network; wanted again, they reopen)."""
        self._next_resolve = 0.0
        for uid, h in list(self._handles.items()):
            if h.kind == IMU and not self.want_imu(h.athlete):
                del self._handles[uid]
                try:
                    h.inlet.close_stream()
                except Exception as exc:  # gone already
                    log.debug("closing %s: %s", h.name, exc)
                if h.info is not None:
                    self._pending_imu[uid] = h.info
        for uid, info in list(self._pending_imu.items()):
            if self.want_imu(info.desc().child("stridesync").child_value("athlete")):
                self._open(self._pending_imu.pop(uid), full=True)

    @property
    def open_streams(self) -> list[tuple[str, str, Role | None]]:
        """``(athlete, kind, role)`` of every stream pulled now (read-only)."""
        return [(h.athlete, h.kind, h.role) for h in self._handles.values()]

    # ------------------------------------------------------------------ pulling
    def poll(self) -> list[Item]:
        """Everything that arrived since the last call, and the hubs' state changes."""
        now = pylsl.local_clock()
        self._discover(now)
        out: list[Item] = []
        for uid, h in list(self._handles.items()):
            h.tc_s = self._tc.get(h.hub, 0.0)
            try:
                if h.kind == IMU:
                    data, ts = h.inlet.pull_chunk(timeout=0.0, max_samples=4096)
                else:
                    data, ts = h.inlet.pull_chunk(timeout=0.0, max_samples=1024)
            except LostError:
                del self._handles[uid]
                continue
            except Exception as exc:
                log.debug("%s: %s", h.name, exc)
                continue
            if not ts:
                continue
            self._decode(h, data, ts, now, out)
        self._check_beats(now, out)
        return out

    def _decode(self, h: _Handle, data, ts, now: float, out: list[Item]) -> None:
        tc = h.tc_s
        if h.kind == IMU:
            arr = np.asarray(data, dtype=np.float64)
            out.append(Item(IMU, h.athlete, h.hub, h.role, (arr, np.asarray(ts, dtype=np.float64) + tc), now, tc))
            return
        rows = []
        for row, stamp in zip(data, ts):
            try:
                if h.kind == EVENTS:
                    ev, sent = decode_event(row)
                    rows.append((ev, stamp + tc, sent + tc))
                elif h.kind == STEPS:
                    st, sent = decode_step(row)
                    rows.append((st, stamp + tc, sent + tc))
                else:
                    d = decode_health(row)
                    off = d.get("lsl_offset_s")
                    if isinstance(off, (int, float)) and math.isfinite(off):
                        d["_offset_local_s"] = float(off) + tc  # the hub's session time 0 on this LSL clock
                    rows.append((d, stamp + tc, stamp + tc))
            except WireError as exc:
                self.bad_samples += 1
                if not h.warned:
                    h.warned = True
                    self._warn(f"ignoring malformed samples from {h.name!r} ({exc}); further ones are ignored silently")
        if not rows:
            return
        if h.kind == HEALTH:
            hs = self.hubs.setdefault((h.athlete, h.hub), HubState(h.athlete, h.hub, "new", sensors=h.sensors))
            last = rows[-1][0]
            hs.last_beat = now
            off = last.get("lsl_offset_s")
            if isinstance(off, (int, float)):
                hs.offset_s = float(off) + tc
            prev = hs.state
            if last.get("state") == "ended":
                new = None if prev == "ended" else "ended"
            else:
                new = "found" if prev == "new" else "back" if prev in ("lost", "ended") else None
            if new is not None:
                hs.state = "ended" if new == "ended" else "live"
                hs.log.append((now, new))
                out.append(Item("state", h.athlete, h.hub, None, new, now))
            for d, stamp, _ in rows:
                out.append(Item(HEALTH, h.athlete, h.hub, None, d, stamp, tc))
            return
        out.append(Item(h.kind, h.athlete, h.hub, None, rows, now, tc))

    def _check_beats(self, now: float, out: list[Item]) -> None:
        for hs in self.hubs.values():
            if hs.state == "live" and now - hs.last_beat > self.lost_after_s:
                hs.state = "lost"
                hs.log.append((now, "lost"))
                out.append(Item("state", hs.athlete, hs.hub, None, "lost", now))

    def close(self) -> None:
        self._stop.set()
        self._tc_thread.join(3.0)
        for h in self._handles.values():
            try:
                h.inlet.close_stream()
            except Exception:
                pass
        self._handles.clear()


__all__ = ["HubState", "Item", "LOST_AFTER_S", "SensorDecl", "TeamInlets", "lsl_clock"]
