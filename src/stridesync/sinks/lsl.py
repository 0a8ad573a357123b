"""LSL outlets of a hub: one athlete's sensors, events, steps and health (with sources/lsl.py, the only
modules that import pylsl).

The streams and their encodings are described in :mod:`stridesync.lsl_streams`. :class:`HubOutlets` is a
sink: the hub hands it the blocks of samples the analyser receives (on the session clock), the events and
steps it emits, and its sensors' health; it stamps everything on the LSL clock with one offset
(``lsl_offset_s``: LSL clock minus session clock, measured once; both clocks are monotonic, so it is
constant), never with arrival times.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pylsl

from .. import __version__
from ..lsl_streams import (EVENTS, HEALTH, IMU, PROTOCOL_VERSION, STEPS, STREAM_TYPE, encode_event, encode_health,
                           encode_step, hub_id, imu_channels, source_id, stream_name, string_channels)
from ..model import Event, Role, Step
from ..sources.lsl import quiet_liblsl

log = logging.getLogger(__name__)
quiet_liblsl()


def lsl_clock() -> float:
    """LSL's clock (s), the time base of every stamp."""
    return pylsl.local_clock()


def _info(name: str, kind: str, n_channels: int, rate_hz: float, fmt: int, sid: str, *, athlete: str, hub: str,
          channels, extra: dict | None = None) -> pylsl.StreamInfo:
    info = pylsl.StreamInfo(name, STREAM_TYPE[kind], n_channels, rate_hz, fmt, sid)
    desc = info.desc()
    ours = desc.append_child("stridesync")
    for k, v in {"protocol": PROTOCOL_VERSION, "athlete": athlete, "hub": hub, "kind": kind, **(extra or {})}.items():
        ours.append_child_value(k, str(v))
    chans = desc.append_child("channels")
    for c in channels:
        ch = chans.append_child("channel")
        ch.append_child_value("label", c.label)
        ch.append_child_value("unit", c.unit)
        ch.append_child_value("type", c.type)
    acq = desc.append_child("acquisition")
    acq.append_child_value("manufacturer", "StrideSync")
    acq.append_child_value("model", "StrideSync hub")
    acq.append_child_value("software_version", __version__)
    return info


class HubOutlets:
    """The outlets of one athlete's hub.

    Parameters
    ----------
    athlete : the athlete's name (part of every stream's name and source_id).
    sensors : ``(serial, role, nominal rate Hz, has gyroscope)`` per sensor.
    lsl_offset_s : LSL clock minus the session clock (s).
    """

    def __init__(self, athlete: str, sensors: Iterable[tuple[str, Role, float, bool]], *, lsl_offset_s: float,
                 chunk_size: int = 0):
        self.athlete = athlete
        self.sensors = [(str(k), Role(r), float(hz), bool(g)) for k, r, hz, g in sensors]
        serials = [k for k, *_ in self.sensors]
        self.hub = hub_id(athlete, serials)
        self.offset_s = float(lsl_offset_s)
        common = {"athlete": athlete, "hub": self.hub}
        self.imu: dict[Role, pylsl.StreamOutlet] = {}
        self.gyro: dict[Role, bool] = {}
        for serial, role, hz, gyro in self.sensors:
            chans = imu_channels(role, gyro)
            info = _info(stream_name(athlete, IMU, role), IMU, len(chans), hz, pylsl.cf_double64,
                         source_id(athlete, IMU, [serial]), channels=chans, extra={"serial": serial, "role": role.value},
                         **common)
            self.imu[role] = pylsl.StreamOutlet(info, chunk_size, 30)
            self.gyro[role] = gyro
        self.outlets = {}
        for kind in (EVENTS, STEPS, HEALTH):
            chans = string_channels(kind)
            extra = {"sensors": ",".join(f"{k}:{r.value}:{hz:g}:{int(g)}" for k, r, hz, g in self.sensors)}
            info = _info(stream_name(athlete, kind), kind, len(chans), pylsl.IRREGULAR_RATE, pylsl.cf_string,
                         source_id(athlete, kind, serials), channels=chans, extra=extra, **common)
            self.outlets[kind] = pylsl.StreamOutlet(info, 0, 60)
        self.n_samples = 0

    # ------------------------------------------------------------------ the sink
    def samples(self, blocks) -> None:
        """Blocks ``(role, time_s, acc_g, gyro_dps | None)`` on the session clock, as the analyser got them."""
        for block in blocks:
            role, t, acc = Role(block[0]), block[1], block[2]
            out = self.imu.get(role)
            if out is None or len(t) == 0:
                continue
            gyro = block[3] if len(block) > 3 else None
            data = np.hstack([acc, gyro]) if self.gyro[role] and gyro is not None else np.asarray(acc)
            if self.gyro[role] and gyro is None:  # keep the declared channel count
                data = np.hstack([acc, np.full((len(t), 3), np.nan)])
            out.push_chunk(np.ascontiguousarray(data, dtype=np.float64), (np.asarray(t) + self.offset_s).tolist())
            self.n_samples += len(t)

    def results(self, events: Iterable[Event], steps: Iterable[Step]) -> None:
        """Events and steps as the analyser emits them, each stamped with its instant on the LSL clock."""
        now = pylsl.local_clock()
        ev_out, st_out = self.outlets[EVENTS], self.outlets[STEPS]
        for e in events:
            ev_out.push_sample(encode_event(e, now), e.time_s + self.offset_s)
        for s in steps:
            st_out.push_sample(encode_step(s, now), s.time_s + self.offset_s)

    def health(self, state: str, sensors: list[dict], targets_ms: dict | None, session_s: float,
               extra: dict | None = None) -> None:
        """The heartbeat: the hub's state and its sensors' health."""
        now = pylsl.local_clock()
        self.outlets[HEALTH].push_sample(encode_health(state, sensors, targets_ms, self.offset_s, session_s, extra), now)

    def have_consumers(self) -> bool:
        return any(o.have_consumers() for o in (*self.imu.values(), *self.outlets.values()))

    def close(self) -> None:
        """Destroy the outlets (inlets see the streams end)."""
        self.imu.clear()
        self.outlets.clear()


__all__ = ["HubOutlets", "lsl_clock"]
