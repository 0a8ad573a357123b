"""StrideSync's streams on Lab Streaming Layer: names, types, channels and sample encodings (protocol 1).

The outlets (:mod:`stridesync.sinks.lsl`) and the inlets (:mod:`stridesync.sources.lsl`) both take their
wire format from here, so they cannot drift apart; this module does not import pylsl.

A hub publishes, per athlete:

``imu`` (type ``IMU``), one per sensor
    A regular stream at the sensor's nominal rate, ``double64``: specific force x, y, z in g, then (for a
    sensor with a gyroscope) angular rate x, y, z in deg/s, in the body frame the sensor delivers (its
    roster mounting applied; the analyser's own mounting estimate is not, so any inlet can estimate it again,
    as a replay does). Each sample is stamped on the hub's LSL clock through the sensor's clock model
    (``session time + offset``), not with its arrival time.
``events`` (type ``Markers``), ``steps`` (type ``StrideSync.Steps``)
    Irregular string streams whose channels are the columns of the events and steps CSVs
    (docs/formats.md), with numbers written with Python's shortest round-trip ``repr`` (empty: cannot be
    computed), plus ``hub_sent_s``: the hub's LSL clock when it pushed the sample (for latency). The sample's
    LSL time stamp is the instant itself (the event's time, the step's toe-off) on the hub's LSL clock.
``health`` (type ``StrideSync.Health``)
    An irregular one-channel string stream: a JSON object every :data:`HEARTBEAT_S` (the hub's heartbeat)
    with its state, each sensor's health, the lag targets and the hub's LSL offset.

Every stream's XML description carries ``<stridesync>`` with ``protocol``, ``athlete``, ``hub``, ``kind``
(and ``serial``, ``role`` for an ``imu`` stream), ``<channels>`` with each channel's label, unit and type
(the XDF meta-data conventions), and ``<acquisition>``. ``source_id`` is built from the athlete and the
sensor serials only, so an inlet recognises a restarted hub's streams.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

from .model import Event, EventKind, Role, Side, Step

#: the wire protocol of these streams; an inlet ignores (with one warning) a hub that speaks another
PROTOCOL_VERSION = 1
#: stream kinds
IMU, EVENTS, STEPS, HEALTH = "imu", "events", "steps", "health"
KINDS = (IMU, EVENTS, STEPS, HEALTH)
#: LSL stream type per kind (``Markers`` is LSL's convention for irregular string event streams)
STREAM_TYPE = {IMU: "IMU", EVENTS: "Markers", STEPS: "StrideSync.Steps", HEALTH: "StrideSync.Health"}
TYPES = frozenset(STREAM_TYPE.values())
#: the hub's heartbeat: a health sample this often (s)
HEARTBEAT_S = 0.2

EVENT_CHANNELS = ("role", "event", "time_s", "amplitude", "unit", "stride_index", "source", "hub_sent_s")
STEP_CHANNELS = ("time_s", "stance_side", "stride_time_s", "cadence_spm", "contact_time_s", "swing_lag_ms",
                 "ipsi_arm_lag_ms", "contra_arm_lag_ms", "swing_lag_pct", "ipsi_arm_lag_pct", "contra_arm_lag_pct",
                 "sync_score", "hub_sent_s")
_STEP_UNITS = {"time_s": "s", "stride_time_s": "s", "contact_time_s": "s", "cadence_spm": "steps/min",
               "swing_lag_ms": "ms", "ipsi_arm_lag_ms": "ms", "contra_arm_lag_ms": "ms", "swing_lag_pct": "%",
               "ipsi_arm_lag_pct": "%", "contra_arm_lag_pct": "%", "sync_score": "score", "hub_sent_s": "s"}
_EVENT_UNITS = {"time_s": "s", "hub_sent_s": "s"}
HEALTH_CHANNELS = ("health_json",)


class WireError(ValueError):
    """A sample that does not follow the protocol (wrong channel count, a field that does not parse)."""


@dataclass(frozen=True)
class Channel:
    label: str
    unit: str
    type: str


def imu_channels(role: Role, gyro: bool) -> list[Channel]:
    """``left_shin_x`` … in g (type ``Accelerometer``), then ``left_shin_gx`` … in deg/s (``Gyroscope``)."""
    r = Role(role).value
    out = [Channel(f"{r}_{a}", "g", "Accelerometer") for a in "xyz"]
    if gyro:
        out += [Channel(f"{r}_g{a}", "deg/s", "Gyroscope") for a in "xyz"]
    return out


def string_channels(kind: str) -> list[Channel]:
    if kind == EVENTS:
        return [Channel(c, _EVENT_UNITS.get(c, ""), "Marker") for c in EVENT_CHANNELS]
    if kind == STEPS:
        return [Channel(c, _STEP_UNITS.get(c, ""), "Marker") for c in STEP_CHANNELS]
    return [Channel(HEALTH_CHANNELS[0], "", "Marker")]


def source_id(athlete: str, kind: str, serials: list[str] | tuple[str, ...]) -> str:
    """Stable across restarts: the athlete and the sensor serials (sorted), nothing random."""
    return f"stridesync/{athlete}/{kind}/{'+'.join(sorted(serials))}"


def hub_id(athlete: str, serials: list[str] | tuple[str, ...]) -> str:
    """A short stable name of a hub: its athlete and sensors."""
    return hashlib.sha1(f"{athlete}\0{'+'.join(sorted(serials))}".encode()).hexdigest()[:10]


def stream_name(athlete: str, kind: str, role: Role | None = None) -> str:
    return f"StrideSync {athlete} {kind}" + (f" {Role(role).value}" if role is not None else "")


# ---------------------------------------------------------------------------------------------- samples
def _num(v: float | int | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return repr(float(v))


def _opt(text: str, what: str) -> float | None:
    if text == "":
        return None
    return _req(text, what)


def _req(text: str, what: str) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise WireError(f"{what}: {text[:20]!r} is not a number") from None
    if not math.isfinite(v):
        raise WireError(f"{what}: {text[:20]!r} is not finite")
    return v


def encode_event(e: Event, sent_s: float) -> list[str]:
    return [Role(e.role).value, EventKind(e.kind).value, _num(e.time_s), _num(e.amplitude), e.unit,
            str(int(e.stride_index)), e.source, _num(sent_s)]


def decode_event(row: list[str] | tuple[str, ...]) -> tuple[Event, float]:
    """The event and the hub's send time; :class:`WireError` for a sample that does not follow the format."""
    if len(row) != len(EVENT_CHANNELS):
        raise WireError(f"an event sample has {len(row)} channels, not {len(EVENT_CHANNELS)}")
    try:
        role, kind = Role(row[0]), EventKind(row[1])
    except ValueError:
        raise WireError(f"unknown role or event {row[0][:20]!r}/{row[1][:20]!r}") from None
    if row[6] not in ("gyro", "accel"):
        raise WireError(f"unknown rule set {row[6][:20]!r}")
    try:
        index = int(row[5])
    except ValueError:
        raise WireError(f"stride_index {row[5][:20]!r} is not an integer") from None
    ev = Event(role, kind, _req(row[2], "time_s"), _req(row[3], "amplitude"), index, row[6])
    return ev, _req(row[7], "hub_sent_s")


def encode_step(s: Step, sent_s: float) -> list[str]:
    out = []
    for c in STEP_CHANNELS[:-1]:
        v = getattr(s, c)
        out.append(Side(v).value if c == "stance_side" else _num(v))
    return out + [_num(sent_s)]


def decode_step(row: list[str] | tuple[str, ...]) -> tuple[Step, float]:
    if len(row) != len(STEP_CHANNELS):
        raise WireError(f"a step sample has {len(row)} channels, not {len(STEP_CHANNELS)}")
    try:
        side = Side(row[1])
    except ValueError:
        raise WireError(f"stance_side {row[1][:20]!r} is neither left nor right") from None
    vals = {}
    for c, text in zip(STEP_CHANNELS, row):
        if c == "stance_side":
            continue
        vals[c] = _req(text, c) if c in ("time_s", "stride_time_s", "cadence_spm", "hub_sent_s") else _opt(text, c)
    sent = vals.pop("hub_sent_s")
    return Step(stance_side=side, **vals), sent


def encode_health(state: str, sensors: list[dict], targets_ms: dict | None, offset_s: float, now_s: float,
                  extra: dict | None = None) -> list[str]:
    return [json.dumps({"state": state, "sensors": sensors, "targets_ms": targets_ms, "lsl_offset_s": offset_s,
                        "session_s": now_s, **(extra or {})}, separators=(",", ":"))]


def decode_health(row: list[str] | tuple[str, ...]) -> dict:
    if len(row) != 1:
        raise WireError(f"a health sample has {len(row)} channels, not 1")
    try:
        d = json.loads(row[0])
    except ValueError:
        raise WireError("a health sample is not JSON") from None
    if not isinstance(d, dict) or not isinstance(d.get("sensors", []), list):
        raise WireError("a health sample is not a JSON object with a sensors list")
    return d


__all__ = ["EVENTS", "EVENT_CHANNELS", "HEALTH", "HEARTBEAT_S", "IMU", "KINDS", "PROTOCOL_VERSION", "STEPS",
           "STEP_CHANNELS", "STREAM_TYPE", "TYPES", "Channel", "WireError", "decode_event", "decode_health",
           "decode_step", "encode_event", "encode_health", "encode_step", "hub_id", "imu_channels", "source_id",
           "stream_name", "string_channels"]


def need_lsl(what: str = "team mode") -> None:
    """One line, not a traceback, when the LSL extras are missing."""
    from .errors import StrideSyncError
    try:
        import pylsl  # noqa: F401
        import pyxdf  # noqa: F401
    except (ImportError, RuntimeError) as exc:  # RuntimeError: pylsl without a loadable liblsl
        raise StrideSyncError(f"{what} needs the LSL extras (pip install 'stridesync[lsl]'): {exc}") from None
