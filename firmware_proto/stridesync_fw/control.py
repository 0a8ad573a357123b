"""Control characteristic of PROTOCOL.md §4-5, sensor side: configuration record and command handler.

``ControlHandler.handle`` is the whole command path of the sensor: it validates a written command,
applies it to the ``Config`` and returns the response to notify. It never raises on what the host
writes: every malformed command gets a status code. Hardware is reached only through the optional
callbacks, so the same code runs under CPython tests, the MicroPython test runner and the board.
"""

import os
import struct

from . import packets as P
from .timesync import time_sync_payload

CONFIG_RECORD_SIZE = 22
_CONFIG = "<BB3sHBHBB8sBB"  # PROTOCOL §5
_PAYLOAD_LEN = {P.OP_START: 0, P.OP_STOP: 0, P.OP_SET_RATE: 2, P.OP_SET_RANGE: 3, P.OP_SET_ROLE: 4,
                P.OP_TIME_SYNC: 8, P.OP_IDENTIFY: 1, P.OP_GET_CONFIG: 0}


def pad_serial(serial):
    """Serial as the 8 ASCII bytes of the wire (right-padded with 0); ValueError if it does not fit."""
    if isinstance(serial, str):
        serial = serial.encode()
    serial = bytes(serial)
    if len(serial) > 8:
        raise ValueError("serial longer than 8 bytes")
    for b in serial:
        if b == 0 or b > 0x7E or b < 0x20:
            raise ValueError("serial must be printable ASCII")
    return serial + bytes(8 - len(serial))


class Config:
    """The sensor's configuration (PROTOCOL §5): what GET_CONFIG returns and what is kept in flash.

    Attributes are plain: ``role`` (role code 0..4), ``remap`` (3 bytes), ``rate_hz`` (requested
    nominal rate, Hz), ``acc_range_g``, ``gyro_range_dps`` (0 = no gyroscope), ``streaming`` (bool),
    ``serial`` (8 bytes), ``fw_major``, ``fw_minor``. ``fmt`` follows from the gyroscope range.
    """

    def __init__(self, serial=b"", role=0, remap=P.IDENTITY_REMAP, rate_hz=200, acc_range_g=16,
                 gyro_range_dps=0, streaming=False, fw_major=1, fw_minor=0):
        self.role = role
        self.remap = bytes(remap)
        self.rate_hz = rate_hz
        self.acc_range_g = acc_range_g
        self.gyro_range_dps = gyro_range_dps
        self.streaming = bool(streaming)
        self.serial = pad_serial(serial)
        self.fw_major = fw_major
        self.fw_minor = fw_minor

    @property
    def fmt(self):
        """Data format: 1 (accelerometer + gyroscope) when a gyroscope range is set, else 0."""
        return P.FMT_ACC_GYRO if self.gyro_range_dps else P.FMT_ACC

    @property
    def serial_str(self):
        return self.serial.rstrip(b"\x00").decode()

    def to_bytes(self):
        """The 22-byte record of PROTOCOL §5."""
        return struct.pack(_CONFIG, P.PROTOCOL_VERSION, self.role, self.remap, self.rate_hz,
                           self.acc_range_g, self.gyro_range_dps, self.fmt,
                           1 if self.streaming else 0, self.serial, self.fw_major, self.fw_minor)

    @classmethod
    def from_bytes(cls, data):
        """Parse and validate a 22-byte record; ``ValueError`` if it is not one."""
        if len(data) != CONFIG_RECORD_SIZE:
            raise ValueError("config record is %d bytes, not 22" % len(data))
        (version, role, remap, rate_hz, acc, gyro, fmt, streaming, serial, fw_major,
         fw_minor) = struct.unpack(_CONFIG, data)
        if version != P.PROTOCOL_VERSION:
            raise ValueError("unknown config version %d" % version)
        if not 0 <= role < len(P.ROLE_NAMES):
            raise ValueError("unknown role code %d" % role)
        if not P.remap_valid(remap):
            raise ValueError("invalid remap")
        if not P.MIN_RATE_HZ <= rate_hz <= P.MAX_RATE_HZ:
            raise ValueError("rate %d Hz out of range" % rate_hz)
        if acc not in P.ACC_RANGES_G or gyro not in P.GYRO_RANGES_DPS:
            raise ValueError("invalid ranges")
        if fmt != (P.FMT_ACC_GYRO if gyro else P.FMT_ACC) or streaming > 1:
            raise ValueError("format or streaming flag inconsistent")
        text = serial.rstrip(b"\x00")
        if b"\x00" in text:
            raise ValueError("serial not right-padded with 0")
        return cls(serial=text, role=role, remap=remap, rate_hz=rate_hz, acc_range_g=acc,
                   gyro_range_dps=gyro, streaming=streaming, fw_major=fw_major, fw_minor=fw_minor)


def save_config(config, path):
    """Keep the record in flash atomically: write ``path + '.tmp'``, then rename over ``path``.

    A power cut during the write leaves the old file intact (the rename is atomic on littlefs and
    POSIX). The streaming flag is stored as 0: a sensor always boots stopped.
    """
    streaming = config.streaming
    config.streaming = False
    try:
        record = config.to_bytes()
    finally:
        config.streaming = streaming
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(record)
    os.rename(tmp, path)


def load_config(path, serial, fw_major, fw_minor):
    """Read the stored record; the serial and firmware version always come from the device.

    Returns a default ``Config`` if the file is missing or corrupt (a first boot, or a record written
    by another firmware version), so a bad file can never keep the sensor from booting.
    """
    try:
        with open(path, "rb") as f:
            cfg = Config.from_bytes(f.read())
    except (OSError, ValueError):
        cfg = Config()
    cfg.serial = pad_serial(serial)
    cfg.fw_major = fw_major
    cfg.fw_minor = fw_minor
    cfg.streaming = False
    return cfg


def build_response(opcode, token, status, payload=b""):
    """Response bytes: ``u8 (opcode | 0x80) | u8 token | u8 status | payload`` (PROTOCOL §4)."""
    return bytes((opcode | P.RESPONSE_BIT, token, status)) + payload


def _call(cb, *args):
    """Run a hardware callback; False if it raised, so the handler can answer status 6."""
    if cb is None:
        return True
    try:
        cb(*args)
        return True
    except Exception:  # noqa: BLE001 - any hardware failure becomes status 6, never a crash
        return False


class ControlHandler:
    """Apply commands written to the Control characteristic to a ``Config``.

    Parameters
    ----------
    config : Config
        Changed in place.
    clock_us : callable, optional
        Returns the sensor clock in µs; read as late as possible for TIME_SYNC's send time t3.
        Without it t3 equals the receive time t2.
    on_start, on_stop, on_reconfigure, on_identify, on_save : callable, optional
        Hardware hooks: ``on_start(config)``, ``on_stop(config)``, ``on_reconfigure(config)``
        (rate or range changed while stopped), ``on_identify(seconds)``, ``on_save(config)``
        (persist role and remap). A hook that raises makes the command answer status 6 and leaves
        the configuration as it was.
    acc_ranges_g, gyro_ranges_dps : tuple of int
        What the board's IMU supports; other values of SET_RANGE answer status 2.
    mtu : int
        Negotiated ATT MTU; set it on each connection. START answers 5 if no sample fits, and a
        response that would not fit in one notification is replaced by status 5 without payload.
    """

    def __init__(self, config, clock_us=None, on_start=None, on_stop=None, on_reconfigure=None,
                 on_identify=None, on_save=None, acc_ranges_g=P.ACC_RANGES_G,
                 gyro_ranges_dps=P.GYRO_RANGES_DPS, mtu=247):
        self.config = config
        self.clock_us = clock_us
        self.on_start = on_start
        self.on_stop = on_stop
        self.on_reconfigure = on_reconfigure
        self.on_identify = on_identify
        self.on_save = on_save
        self.acc_ranges_g = acc_ranges_g
        self.gyro_ranges_dps = gyro_ranges_dps
        self.mtu = mtu

    def handle(self, data, now_us):
        """Answer one command written at sensor time ``now_us`` (µs); returns the response bytes.

        Never raises. Order of checks: length < 2, unknown opcode (3), payload length (1),
        values (2), busy while streaming (4), MTU (5), hardware hooks (6).
        """
        try:
            return self._fit(self._handle(data, now_us))
        except Exception:  # noqa: BLE001 - the last line of defence: a sensor must not reboot
            op = data[0] if len(data) else 0
            tok = data[1] if len(data) > 1 else 0
            return build_response(op, tok, P.ST_SENSOR_ERROR)

    def _fit(self, resp):
        if len(resp) > self.mtu - P.ATT_OVERHEAD:
            return build_response(resp[0] & 0x7F, resp[1], P.ST_MTU_TOO_SMALL)
        return resp

    def _handle(self, data, now_us):
        if len(data) < 2:
            return build_response(data[0] if len(data) else 0, 0, P.ST_BAD_LENGTH)
        op = data[0]
        tok = data[1]
        if op not in _PAYLOAD_LEN:
            return build_response(op, tok, P.ST_UNKNOWN_OPCODE)
        if len(data) - 2 != _PAYLOAD_LEN[op]:
            return build_response(op, tok, P.ST_BAD_LENGTH)
        status, payload = getattr(self, "_op%d" % op)(data, now_us)
        return build_response(op, tok, status, payload)

    # -- one method per opcode: (status, payload) ------------------------------------------------

    def _op1(self, data, now_us):  # START
        cfg = self.config
        if cfg.streaming:
            return P.ST_OK, b""
        if P.max_samples(self.mtu, cfg.fmt) == 0:
            return P.ST_MTU_TOO_SMALL, b""
        cfg.streaming = True
        if not _call(self.on_start, cfg):
            cfg.streaming = False
            return P.ST_SENSOR_ERROR, b""
        return P.ST_OK, b""

    def _op2(self, data, now_us):  # STOP
        cfg = self.config
        if cfg.streaming:
            cfg.streaming = False
            if not _call(self.on_stop, cfg):
                return P.ST_SENSOR_ERROR, b""
        return P.ST_OK, b""

    def _reconfigure(self, attrs, values, imu=True):
        cfg = self.config
        old = [getattr(cfg, a) for a in attrs]
        for a, v in zip(attrs, values):
            setattr(cfg, a, v)
        if (not imu or _call(self.on_reconfigure, cfg)) and _call(self.on_save, cfg):
            return P.ST_OK, b""
        for a, v in zip(attrs, old):
            setattr(cfg, a, v)
        return P.ST_SENSOR_ERROR, b""

    def _op3(self, data, now_us):  # SET_RATE
        rate = data[2] | (data[3] << 8)
        if not P.MIN_RATE_HZ <= rate <= P.MAX_RATE_HZ:
            return P.ST_BAD_VALUE, b""
        if self.config.streaming:
            return P.ST_BUSY, b""
        return self._reconfigure(("rate_hz",), (rate,))

    def _op4(self, data, now_us):  # SET_RANGE
        acc = data[2]
        gyro = data[3] | (data[4] << 8)
        if acc not in self.acc_ranges_g or gyro not in self.gyro_ranges_dps:
            return P.ST_BAD_VALUE, b""
        if self.config.streaming:
            return P.ST_BUSY, b""
        return self._reconfigure(("acc_range_g", "gyro_range_dps"), (acc, gyro))

    def _op5(self, data, now_us):  # SET_ROLE
        role = data[2]
        remap = bytes(data[3:6])
        if role >= len(P.ROLE_NAMES) or not P.remap_valid(remap):
            return P.ST_BAD_VALUE, b""
        if self.config.streaming:
            return P.ST_BUSY, b""
        return self._reconfigure(("role", "remap"), (role, remap), imu=False)

    def _op6(self, data, now_us):  # TIME_SYNC
        host_send_us = struct.unpack_from("<Q", data, 2)[0]
        t3 = self.clock_us() if self.clock_us is not None else now_us
        return P.ST_OK, time_sync_payload(host_send_us, now_us, t3)

    def _op7(self, data, now_us):  # IDENTIFY
        if not _call(self.on_identify, data[2]):
            return P.ST_SENSOR_ERROR, b""
        return P.ST_OK, b""

    def _op8(self, data, now_us):  # GET_CONFIG
        return P.ST_OK, self.config.to_bytes()
