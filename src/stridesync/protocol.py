"""Sensor BLE protocol v1, host side (firmware_proto/PROTOCOL.md).

Each wire format is a frozen dataclass with ``from_bytes`` and ``__bytes__``; the sensor-side peer is
``stridesync_fw`` (packets, control, advert). Both are held to ``firmware_proto/golden_vectors.json``.
Anything malformed raises :class:`ProtocolError` with a one-line message, never another exception:
the decoder faces bytes from the radio.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Mapping

import numpy as np

from stridesync.errors import StrideSyncError
from stridesync.model import Role

PROTOCOL_VERSION = 1

IMU_SERVICE_UUID = "5a1f0001-7e57-4d1a-9c6b-57a1de5c0de0"
DATA_CHAR_UUID = "5a1f0002-7e57-4d1a-9c6b-57a1de5c0de0"
CONTROL_CHAR_UUID = "5a1f0003-7e57-4d1a-9c6b-57a1de5c0de0"
CONFIG_CHAR_UUID = "5a1f0004-7e57-4d1a-9c6b-57a1de5c0de0"
COMPANY_ID = 0xFFFF
NAME_PREFIX = "StrideSync"

FMT_ACC = 0
FMT_ACC_GYRO = 1
HEADER_SIZE = 18
ATT_OVERHEAD = 3
ACC_RANGES_G = (2, 4, 8, 16, 32)
GYRO_RANGES_DPS = (0, 125, 250, 500, 1000, 2000, 4000)

#: sensor times at or beyond this (µs; ~146,000 years of uptime) can only be corruption. The wire format's
#: u64 allows them; the host's int64 sample-time arithmetic and SQLite's INTEGER do not, so the host treats
#: a packet or TIME_SYNC answer carrying one as malformed.
SENSOR_TIME_LIMIT_US = 1 << 62
HEADER_STRUCT = struct.Struct("<BBHQHBBH")
_CONFIG = struct.Struct("<BB3sHBHBB8sBB")
_U64 = struct.Struct("<Q")
_TIME_SYNC = struct.Struct("<QQQ")


class ProtocolError(StrideSyncError, ValueError):
    """Bytes that do not follow the sensor protocol (a malformed packet, command or response)."""


class Opcode(IntEnum):
    """Control commands (PROTOCOL §4)."""

    START = 0x01
    STOP = 0x02
    SET_RATE = 0x03
    SET_RANGE = 0x04
    SET_ROLE = 0x05
    TIME_SYNC = 0x06
    IDENTIFY = 0x07
    GET_CONFIG = 0x08


class Status(IntEnum):
    """Response status codes (PROTOCOL §4)."""

    OK = 0
    BAD_LENGTH = 1
    BAD_VALUE = 2
    UNKNOWN_OPCODE = 3
    BUSY = 4
    MTU_TOO_SMALL = 5
    SENSOR_ERROR = 6


#: Command payload length of each opcode, bytes.
COMMAND_PAYLOAD_LEN = {Opcode.START: 0, Opcode.STOP: 0, Opcode.SET_RATE: 2, Opcode.SET_RANGE: 3,
                       Opcode.SET_ROLE: 4, Opcode.TIME_SYNC: 8, Opcode.IDENTIFY: 1,
                       Opcode.GET_CONFIG: 0}
#: Payload length of an OK response, bytes.
RESPONSE_PAYLOAD_LEN = {op: 0 for op in Opcode} | {Opcode.TIME_SYNC: 24, Opcode.GET_CONFIG: 22}

#: Role codes of PROTOCOL §4; code 0 is "unassigned" (``None``).
ROLE_CODES: dict[Role, int] = {Role.LEFT_SHIN: 1, Role.RIGHT_SHIN: 2, Role.LEFT_WRIST: 3,
                               Role.RIGHT_WRIST: 4}
_CODE_ROLES = {c: r for r, c in ROLE_CODES.items()}


def role_from_code(code: int) -> Role | None:
    """The role of a role code; ``None`` for 0 (unassigned). ProtocolError for an unknown code."""
    if code == 0:
        return None
    try:
        return _CODE_ROLES[code]
    except KeyError:
        raise ProtocolError(f"unknown role code {code}") from None


def role_to_code(role: Role | None) -> int:
    """The role code of a role (0 for ``None``)."""
    return 0 if role is None else ROLE_CODES[Role(role)]


def sample_size(fmt: int) -> int:
    """Bytes per sample: 6 (format 0) or 12 (format 1)."""
    if fmt not in (FMT_ACC, FMT_ACC_GYRO):
        raise ProtocolError(f"unknown data format {fmt}")
    return 6 if fmt == FMT_ACC else 12


def max_samples(mtu: int, fmt: int) -> int:
    """Largest sample count per packet at ATT MTU ``mtu`` (0 when none fits, e.g. the default 23)."""
    return max(0, min(255, (mtu - ATT_OVERHEAD - HEADER_SIZE) // sample_size(fmt)))


def _check_remap(remap: bytes) -> None:
    src = [b & 3 for b in remap]
    if len(remap) != 3 or any(b & 0x7C for b in remap) or sorted(src) != [0, 1, 2]:
        raise ProtocolError(f"invalid mounting remap {bytes(remap).hex()}")
    odd = tuple(src) not in ((0, 1, 2), (1, 2, 0), (2, 0, 1))
    if (sum(1 for b in remap if b & 0x80) + odd) % 2:
        raise ProtocolError(f"mounting remap {bytes(remap).hex()} is a mirror, not a rotation")


def remap_matrix(remap: bytes) -> np.ndarray:
    """(3, 3) matrix M with body = M @ device for a 3-byte remap (PROTOCOL §4)."""
    _check_remap(remap)
    m = np.zeros((3, 3))
    for body_axis, b in enumerate(remap):
        m[body_axis, b & 3] = -1.0 if b & 0x80 else 1.0
    return m


# ---- data packets ------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class DataPacket:
    """One data notification (PROTOCOL §3).

    Attributes
    ----------
    seq : int
        u16 packet counter; a jump is packets lost on the radio.
    t0_us : int
        Sensor clock of the first sample, µs since sensor boot.
    period_us : int
        Sample period on the sensor clock, µs.
    acc_range_g, gyro_range_dps : int
        Full scales (``gyro_range_dps`` is 0 in format 0).
    raw : ndarray of int16, shape (n, 3) or (n, 6)
        Body-frame raw counts: ``ax, ay, az[, gx, gy, gz]``.
    fmt : int
        0 (accelerometer) or 1 (accelerometer + gyroscope); must match ``raw``'s width.
    version : int
        Protocol version, 1.
    """

    seq: int
    t0_us: int
    period_us: int
    acc_range_g: int
    gyro_range_dps: int
    raw: np.ndarray
    fmt: int = FMT_ACC
    version: int = PROTOCOL_VERSION

    def __post_init__(self) -> None:
        raw = np.asarray(self.raw)
        width = 6 if self.fmt == FMT_ACC_GYRO else 3
        if raw.ndim != 2 or raw.shape[1] != width or not 1 <= raw.shape[0] <= 255:
            raise ProtocolError(f"raw samples of shape {raw.shape} do not fit format {self.fmt}")
        if raw.dtype != np.int16:
            if raw.size and (raw.min() < -32768 or raw.max() > 32767):
                raise ProtocolError("raw sample values out of int16")
            raw = raw.astype(np.int16)
        object.__setattr__(self, "raw", raw)
        _check_header(self.version, self.fmt, self.seq, self.t0_us, self.period_us,
                      self.acc_range_g, self.gyro_range_dps)

    @property
    def n(self) -> int:
        return self.raw.shape[0]

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> "DataPacket":
        """Decode one notification; ProtocolError if malformed (PROTOCOL §3)."""
        if len(data) < HEADER_SIZE:
            raise ProtocolError(f"data packet of {len(data)} bytes is shorter than its 18-byte header")
        version, fmt, seq, t0_us, period_us, n, acc, gyro = HEADER_STRUCT.unpack_from(data, 0)
        _check_header(version, fmt, seq, t0_us, period_us, acc, gyro)
        width = 3 if fmt == FMT_ACC else 6
        if n == 0 or len(data) != HEADER_SIZE + 2 * width * n:
            raise ProtocolError(f"data packet of {len(data)} bytes does not hold n={n} samples of format {fmt}")
        raw = np.frombuffer(data, dtype="<i2", offset=HEADER_SIZE).reshape(n, width)
        if raw.dtype != np.int16:  # big-endian host: make a native copy
            raw = raw.astype(np.int16)
        obj = object.__new__(cls)  # the fields are already checked: skip __post_init__ (and frozen setattr)
        obj.__dict__.update(seq=seq, t0_us=t0_us, period_us=period_us, acc_range_g=acc, gyro_range_dps=gyro,
                            raw=raw, fmt=fmt, version=version)
        return obj

    def __bytes__(self) -> bytes:
        return HEADER_STRUCT.pack(self.version, self.fmt, self.seq, self.t0_us, self.period_us, self.n,
                            self.acc_range_g, self.gyro_range_dps) + self.raw.astype("<i2").tobytes()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataPacket):
            return NotImplemented
        return bytes(self) == bytes(other)

    def acc_g(self) -> np.ndarray:
        """(n, 3) float64 specific force in g: raw × range / 32768."""
        return self.raw[:, :3] * (self.acc_range_g / 32768.0)

    def gyro_dps(self) -> np.ndarray | None:
        """(n, 3) float64 angular rate in deg/s, or None in format 0."""
        if self.fmt != FMT_ACC_GYRO:
            return None
        return self.raw[:, 3:6] * (self.gyro_range_dps / 32768.0)

    def sample_times_us(self) -> np.ndarray:
        """(n,) int64 sensor-clock times, µs: ``t0_us + k × period_us``."""
        return np.int64(self.t0_us) + np.arange(self.n, dtype=np.int64) * self.period_us


_HEADER_DTYPE = np.dtype([("version", "u1"), ("fmt", "u1"), ("seq", "<u2"), ("t0_us", "<u8"), ("period_us", "<u2"),
                          ("n", "u1"), ("acc", "u1"), ("gyro", "<u2")])
assert _HEADER_DTYPE.itemsize == HEADER_SIZE


@dataclass(frozen=True)
class HeaderBatch:
    """Headers of many data packets, decoded at once (:func:`decode_headers`). Arrays, one entry per packet;
    fields of packets that are not ``ok`` are meaningless."""

    ok: np.ndarray  # bool: DataPacket.from_bytes would accept the packet
    seq: np.ndarray
    t0_us: np.ndarray  # uint64
    period_us: np.ndarray
    n: np.ndarray
    acc_range_g: np.ndarray
    fmt: np.ndarray
    gyro_range_dps: np.ndarray


def decode_headers(datas: list) -> HeaderBatch:
    """Decode and check the headers of many data packets at once: ``ok`` is exactly where
    :meth:`DataPacket.from_bytes` would not raise (the same checks, vectorised)."""
    m = len(datas)
    lens = np.fromiter(map(len, datas), dtype=np.int64, count=m)
    long = lens >= HEADER_SIZE
    h = np.zeros(m, dtype=_HEADER_DTYPE)
    if long.any():
        h[long] = np.frombuffer(b"".join([bytes(d[:HEADER_SIZE]) for d, x in zip(datas, long.tolist()) if x]),
                                dtype=_HEADER_DTYPE)
    fmt, gyro = h["fmt"], h["gyro"]
    width = np.where(fmt == FMT_ACC, 3, 6)
    ok = (long & (h["version"] == PROTOCOL_VERSION) & np.isin(fmt, (FMT_ACC, FMT_ACC_GYRO))
          & (h["period_us"] >= 1) & np.isin(h["acc"], ACC_RANGES_G)
          & ((fmt == FMT_ACC) == (gyro == 0)) & np.isin(gyro, GYRO_RANGES_DPS)
          & (h["n"] >= 1) & (lens == HEADER_SIZE + 2 * width * h["n"].astype(np.int64)))
    return HeaderBatch(ok, h["seq"].copy(), h["t0_us"].copy(), h["period_us"].copy(), h["n"].copy(),
                       h["acc"].copy(), fmt.copy(), gyro.copy())


def _check_header(version: int, fmt: int, seq: int, t0_us: int, period_us: int, acc: int,
                  gyro: int) -> None:
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {version} is not supported (this host speaks "
                            f"version {PROTOCOL_VERSION}): update StrideSync")
    if fmt not in (FMT_ACC, FMT_ACC_GYRO):
        raise ProtocolError(f"unknown data format {fmt}")
    if not 0 <= seq <= 0xFFFF or not 0 <= t0_us < 1 << 64:
        raise ProtocolError("seq or t0_us out of range")
    if not 1 <= period_us <= 0xFFFF:
        raise ProtocolError(f"sample period {period_us} us out of range")
    if acc not in ACC_RANGES_G:
        raise ProtocolError(f"accelerometer range {acc} g is not one of {ACC_RANGES_G}")
    if (fmt == FMT_ACC) != (gyro == 0) or gyro not in GYRO_RANGES_DPS:
        raise ProtocolError(f"gyroscope range {gyro} deg/s does not fit format {fmt}")


# ---- configuration record ----------------------------------------------------------------------

@dataclass(frozen=True)
class ConfigRecord:
    """The 22-byte configuration record (PROTOCOL §5): Config characteristic and GET_CONFIG."""

    role_code: int
    remap: bytes
    rate_hz: int
    acc_range_g: int
    gyro_range_dps: int
    streaming: bool
    serial: str
    fw_major: int
    fw_minor: int
    version: int = PROTOCOL_VERSION

    SIZE = 22

    def __post_init__(self) -> None:
        if self.version != PROTOCOL_VERSION:
            raise ProtocolError(f"config record version {self.version} is not supported")
        role_from_code(self.role_code)
        _check_remap(bytes(self.remap))
        if not 100 <= self.rate_hz <= 400:
            raise ProtocolError(f"rate {self.rate_hz} Hz out of 100..400")
        if self.acc_range_g not in ACC_RANGES_G or self.gyro_range_dps not in GYRO_RANGES_DPS:
            raise ProtocolError("invalid ranges in config record")
        raw = self.serial.encode("ascii", "replace")
        if len(raw) > 8 or any(not 0x20 <= c <= 0x7E for c in raw):
            raise ProtocolError("serial must be up to 8 printable ASCII characters")
        if not (0 <= self.fw_major <= 255 and 0 <= self.fw_minor <= 255):
            raise ProtocolError("firmware version out of u8")

    @property
    def fmt(self) -> int:
        """Data format: 1 when a gyroscope range is set."""
        return FMT_ACC_GYRO if self.gyro_range_dps else FMT_ACC

    @property
    def role(self) -> Role | None:
        return role_from_code(self.role_code)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> "ConfigRecord":
        if len(data) != cls.SIZE:
            raise ProtocolError(f"config record of {len(data)} bytes, expected 22")
        (version, role, remap, rate, acc, gyro, fmt, streaming, serial, fw_major,
         fw_minor) = _CONFIG.unpack(bytes(data))
        if fmt != (FMT_ACC_GYRO if gyro else FMT_ACC) or streaming > 1:
            raise ProtocolError("config record: format or streaming flag inconsistent")
        text = serial.rstrip(b"\x00")
        if b"\x00" in text:
            raise ProtocolError("config record: serial not right-padded with 0")
        return cls(role_code=role, remap=remap, rate_hz=rate, acc_range_g=acc,
                   gyro_range_dps=gyro, streaming=bool(streaming),
                   serial=text.decode("ascii", "replace"), fw_major=fw_major, fw_minor=fw_minor,
                   version=version)

    def __bytes__(self) -> bytes:
        return _CONFIG.pack(self.version, self.role_code, bytes(self.remap), self.rate_hz,
                            self.acc_range_g, self.gyro_range_dps, self.fmt, int(self.streaming),
                            self.serial.encode("ascii").ljust(8, b"\x00"), self.fw_major,
                            self.fw_minor)


# ---- control: commands and responses -----------------------------------------------------------

@dataclass(frozen=True)
class Command:
    """A command written to the Control characteristic: ``u8 opcode | u8 token | payload``.

    ``from_bytes`` checks the framing (known opcode, exact payload length); the payload's values are
    the sensor's to judge (it answers status 2). Build commands with the class methods.
    """

    opcode: Opcode
    token: int
    payload: bytes = b""

    def __post_init__(self) -> None:
        try:
            op = Opcode(self.opcode)
        except ValueError:
            raise ProtocolError(f"unknown opcode 0x{self.opcode:02x}") from None
        object.__setattr__(self, "opcode", op)
        if not 0 <= self.token <= 255:
            raise ProtocolError(f"token {self.token} out of u8")
        if len(self.payload) != COMMAND_PAYLOAD_LEN[op]:
            raise ProtocolError(f"{op.name} takes {COMMAND_PAYLOAD_LEN[op]} payload bytes, "
                                f"not {len(self.payload)}")
        object.__setattr__(self, "payload", bytes(self.payload))

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> "Command":
        if len(data) < 2:
            raise ProtocolError(f"command of {len(data)} bytes: needs opcode and token")
        return cls(data[0], data[1], bytes(data[2:]))

    def __bytes__(self) -> bytes:
        return bytes((self.opcode, self.token)) + self.payload

    @classmethod
    def start(cls, token: int) -> "Command":
        return cls(Opcode.START, token)

    @classmethod
    def stop(cls, token: int) -> "Command":
        return cls(Opcode.STOP, token)

    @classmethod
    def set_rate(cls, token: int, rate_hz: int) -> "Command":
        return cls(Opcode.SET_RATE, token, _pack("<H", rate_hz))

    @classmethod
    def set_range(cls, token: int, acc_range_g: int, gyro_range_dps: int) -> "Command":
        return cls(Opcode.SET_RANGE, token, _pack("<BH", acc_range_g, gyro_range_dps))

    @classmethod
    def set_role(cls, token: int, role: Role | None, remap: bytes = b"\x00\x01\x02") -> "Command":
        return cls(Opcode.SET_ROLE, token, bytes((role_to_code(role),)) + bytes(remap))

    @classmethod
    def time_sync(cls, token: int, host_send_us: int) -> "Command":
        return cls(Opcode.TIME_SYNC, token, _pack("<Q", host_send_us))

    @classmethod
    def identify(cls, token: int, seconds: int) -> "Command":
        return cls(Opcode.IDENTIFY, token, _pack("<B", seconds))

    @classmethod
    def get_config(cls, token: int) -> "Command":
        return cls(Opcode.GET_CONFIG, token)

    def args(self) -> dict:
        """The payload's fields by name (for logs and golden vectors)."""
        p = self.payload
        match self.opcode:
            case Opcode.SET_RATE:
                return {"rate_hz": struct.unpack("<H", p)[0]}
            case Opcode.SET_RANGE:
                acc, gyro = struct.unpack("<BH", p)
                return {"acc_range_g": acc, "gyro_range_dps": gyro}
            case Opcode.SET_ROLE:
                return {"role_code": p[0], "remap": p[1:].hex()}
            case Opcode.TIME_SYNC:
                return {"host_send_us": _U64.unpack(p)[0]}
            case Opcode.IDENTIFY:
                return {"seconds": p[0]}
        return {}


def _pack(fmt: str, *values: int) -> bytes:
    try:
        return struct.pack(fmt, *values)
    except struct.error as exc:
        raise ProtocolError(f"command value out of range: {exc}") from None


@dataclass(frozen=True)
class Response:
    """A notification on the Control characteristic: ``u8 opcode|0x80 | u8 token | u8 status | payload``.

    ``opcode`` is the raw command opcode the sensor echoes (an unknown one comes back with status 3,
    an empty write as opcode 0 with status 1). Only an OK response to TIME_SYNC or GET_CONFIG has a
    payload.
    """

    opcode: int
    token: int
    status: Status
    payload: bytes = b""

    def __post_init__(self) -> None:
        if not (0 <= self.opcode <= 0x7F and 0 <= self.token <= 255):
            raise ProtocolError("response opcode or token out of range")
        try:
            status = Status(self.status)
        except ValueError:
            raise ProtocolError(f"unknown status {self.status}") from None
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "payload", bytes(self.payload))
        known = self.opcode in Opcode._value2member_map_
        if status == Status.OK:
            if not known:
                raise ProtocolError(f"OK response to unknown opcode 0x{self.opcode:02x}")
            want = RESPONSE_PAYLOAD_LEN[Opcode(self.opcode)]
        else:
            want = 0
        if len(self.payload) != want:
            raise ProtocolError(f"response to opcode 0x{self.opcode:02x} with status "
                                f"{status.name} has {len(self.payload)} payload bytes, expected {want}")
        if self.opcode == Opcode.GET_CONFIG and want:
            ConfigRecord.from_bytes(self.payload)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> "Response":
        if len(data) < 3:
            raise ProtocolError(f"response of {len(data)} bytes: needs opcode, token and status")
        if not data[0] & 0x80:
            raise ProtocolError(f"response opcode byte 0x{data[0]:02x} lacks the response bit")
        return cls(data[0] & 0x7F, data[1], data[2], bytes(data[3:]))

    def __bytes__(self) -> bytes:
        return bytes((self.opcode | 0x80, self.token, self.status)) + self.payload

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    def time_sync(self) -> tuple[int, int, int]:
        """(host_send_us t1, sensor_receive_us t2, sensor_send_us t3) of a TIME_SYNC answer."""
        if self.opcode != Opcode.TIME_SYNC or not self.ok:
            raise ProtocolError("not an OK TIME_SYNC response")
        return _TIME_SYNC.unpack(self.payload)

    def config(self) -> ConfigRecord:
        """The configuration record of a GET_CONFIG answer."""
        if self.opcode != Opcode.GET_CONFIG or not self.ok:
            raise ProtocolError("not an OK GET_CONFIG response")
        return ConfigRecord.from_bytes(self.payload)


# ---- advertising -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Advert:
    """The manufacturer data of a sensor's scan response (PROTOCOL §1), after the company ID."""

    role_code: int
    battery_pct: int
    serial: str
    version: int = PROTOCOL_VERSION

    SIZE = 11

    @property
    def role(self) -> Role | None:
        return role_from_code(self.role_code)

    @property
    def name(self) -> str:
        """The local name the sensor advertises with this serial."""
        return NAME_PREFIX + self.serial[-4:]

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> "Advert":
        """Parse the 11-byte payload. A sensor of another protocol version is rejected, so the
        caller can tell the user to update rather than connect to it."""
        if len(data) < 1:
            raise ProtocolError("empty manufacturer data")
        if data[0] != PROTOCOL_VERSION:
            raise ProtocolError(f"sensor speaks protocol version {data[0]}, this host speaks "
                                f"{PROTOCOL_VERSION}: update StrideSync")
        if len(data) != cls.SIZE:
            raise ProtocolError(f"manufacturer data of {len(data)} bytes, expected 11")
        role_from_code(data[1])
        if data[2] > 100:
            raise ProtocolError(f"battery {data[2]} % out of range")
        text = bytes(data[3:]).rstrip(b"\x00")
        if b"\x00" in text or any(not 0x20 <= c <= 0x7E for c in text):
            raise ProtocolError("serial must be printable ASCII, right-padded with 0")
        return cls(role_code=data[1], battery_pct=data[2], serial=text.decode("ascii"),
                   version=data[0])

    @classmethod
    def from_manufacturer_data(cls, manufacturer_data: Mapping[int, bytes]) -> "Advert | None":
        """From bleak's ``AdvertisementData.manufacturer_data``; None if not a StrideSync sensor."""
        payload = manufacturer_data.get(COMPANY_ID)
        return None if payload is None else cls.from_bytes(payload)

    def __bytes__(self) -> bytes:
        serial = self.serial.encode("ascii")
        if len(serial) > 8:
            raise ProtocolError("serial longer than 8 characters")
        return bytes((self.version, self.role_code, self.battery_pct)) + serial.ljust(8, b"\x00")
