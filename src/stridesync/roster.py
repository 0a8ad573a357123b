"""The roster: which sensor (by serial number) is worn where, with which mounting, by which athlete.

Sensors are matched by the serial number they advertise and expose in Device Information, never by
address: macOS hides Bluetooth addresses, and random static addresses change with a reflash.

File format (JSON)::

    {"athlete": "Ana Silva",
     "sensors": [
        {"serial": "SS000101", "role": "left_shin",  "mounting": ["+x", "+y", "+z"]},
        {"serial": "SS000102", "role": "right_shin", "mounting": ["-x", "+y", "-z"]}
     ]}

``mounting`` says, for the body axes x, y, z in turn, which device axis (with sign) carries it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputFormatError
from .model import Role

AXES = {"x": 0, "y": 1, "z": 2}


@dataclass(frozen=True)
class Mounting:
    """Body axis ← device axis map: ``source[i]`` is the device axis of body axis i, ``flip[i]`` its sign."""

    source: tuple[int, int, int] = (0, 1, 2)
    flip: tuple[bool, bool, bool] = (False, False, False)

    def __post_init__(self) -> None:
        if sorted(self.source) != [0, 1, 2]:
            raise InputFormatError(f"mounting must use each device axis once, got sources {self.source}")

    @classmethod
    def parse(cls, spec: list[str] | str | None) -> "Mounting":
        if spec is None or spec == "identity":
            return cls()
        if isinstance(spec, str):
            spec = spec.replace(",", " ").split()
        if len(spec) != 3:
            raise InputFormatError(f"mounting needs three axes like ['+x', '+y', '+z'], got {spec!r}")
        src, flip = [], []
        for item in spec:
            item = str(item).strip().lower()
            sign = item[0] if item[:1] in "+-" else "+"
            axis = item[1:] if item[:1] in "+-" else item
            if axis not in AXES:
                raise InputFormatError(f"mounting axis {item!r} is not one of +x, -x, +y, -y, +z, -z")
            src.append(AXES[axis])
            flip.append(sign == "-")
        return cls(tuple(src), tuple(flip))

    def to_bytes(self) -> bytes:
        """The 3-byte remap of PROTOCOL.md §4 (bits 0–1 source axis, bit 7 sign flip)."""
        return bytes((s | (0x80 if f else 0)) for s, f in zip(self.source, self.flip))

    @classmethod
    def from_bytes(cls, data: bytes) -> "Mounting":
        if len(data) != 3:
            raise InputFormatError("a mounting remap is 3 bytes")
        return cls(tuple(b & 0x03 for b in data), tuple(bool(b & 0x80) for b in data))

    def describe(self) -> list[str]:
        names = "xyz"
        return [("-" if f else "+") + names[s] for s, f in zip(self.source, self.flip)]


@dataclass(frozen=True)
class RosterEntry:
    serial: str
    role: Role
    mounting: Mounting = field(default_factory=Mounting)
    #: the sensor streams angular rate (a StrideSync sensor does; ``"gyro": false`` in the roster for one
    #: without a gyroscope): the host sets its range to :data:`GYRO_RANGE_DPS` and the gyroscope rules apply
    gyro: bool = True
    #: ``"pin": true`` keeps the roster's mounting as given: no estimation for this sensor (core/mounting.py)
    pin: bool = False


#: the gyroscope range the host sets on every sensor that has one: sprinters' shanks pass 1500 deg/s
GYRO_RANGE_DPS = 2000


@dataclass(frozen=True)
class Roster:
    athlete: str = ""
    sensors: tuple[RosterEntry, ...] = ()

    def by_serial(self, serial: str) -> RosterEntry | None:
        for e in self.sensors:
            if e.serial == serial:
                return e
        return None

    @classmethod
    def load(cls, path: str | Path) -> "Roster":
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputFormatError(f"{path}: no such roster file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputFormatError(f"{path}: cannot read roster ({exc.__class__.__name__})") from None
        except json.JSONDecodeError as exc:
            raise InputFormatError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: object, where: str = "roster") -> "Roster":
        if not isinstance(data, dict) or not isinstance(data.get("sensors", []), list):
            raise InputFormatError(f"{where}: expected an object with a 'sensors' list")
        entries, seen_roles, seen_serials = [], set(), set()
        for k, s in enumerate(data.get("sensors", [])):
            if not isinstance(s, dict) or "serial" not in s or "role" not in s:
                raise InputFormatError(f"{where}: sensor {k + 1} needs 'serial' and 'role'")
            try:
                role = Role(s["role"])
            except ValueError:
                raise InputFormatError(f"{where}: sensor {k + 1} has unknown role {s['role']!r} "
                                       f"(one of {', '.join(r.value for r in Role)})") from None
            serial = str(s["serial"])
            if role in seen_roles or serial in seen_serials:
                raise InputFormatError(f"{where}: sensor {k + 1} repeats a role or serial ({role.value}, {serial})")
            seen_roles.add(role)
            seen_serials.add(serial)
            gyro = s.get("gyro", True)
            if not isinstance(gyro, bool):
                raise InputFormatError(f"{where}: sensor {k + 1}: 'gyro' must be true or false, not {gyro!r}")
            pin = s.get("pin", False)
            if not isinstance(pin, bool):
                raise InputFormatError(f"{where}: sensor {k + 1}: 'pin' must be true or false, not {pin!r}")
            entries.append(RosterEntry(serial, role, Mounting.parse(s.get("mounting")), gyro, pin))
        return cls(str(data.get("athlete", "")), tuple(entries))

    def to_dict(self) -> dict:
        return {"athlete": self.athlete,
                "sensors": [{"serial": e.serial, "role": e.role.value, "mounting": e.mounting.describe(),
                             **({} if e.gyro else {"gyro": False}), **({"pin": True} if e.pin else {})}
                            for e in self.sensors]}
