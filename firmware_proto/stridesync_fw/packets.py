"""Data packets of PROTOCOL.md §3, sensor side: constants, encoder, packetizer, mounting remap.

Runs unchanged under CPython 3.11 and MicroPython: ``struct`` and ``array`` only, no typing at run
time, no dataclasses. The host peer of every format here is ``stridesync.protocol``; both are held to
``firmware_proto/golden_vectors.json``.
"""

import struct
from array import array

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

PROTOCOL_VERSION = const(1)

# GATT (PROTOCOL §2)
IMU_SERVICE_UUID = "5a1f0001-7e57-4d1a-9c6b-57a1de5c0de0"
DATA_CHAR_UUID = "5a1f0002-7e57-4d1a-9c6b-57a1de5c0de0"
CONTROL_CHAR_UUID = "5a1f0003-7e57-4d1a-9c6b-57a1de5c0de0"
CONFIG_CHAR_UUID = "5a1f0004-7e57-4d1a-9c6b-57a1de5c0de0"
COMPANY_ID = const(0xFFFF)

# Data formats (§3)
FMT_ACC = const(0)
FMT_ACC_GYRO = const(1)
HEADER_SIZE = const(18)
ATT_OVERHEAD = const(3)  # opcode + handle of a notification: payload = MTU - 3
DEFAULT_MTU = const(23)
MAX_N = const(255)

# Control opcodes (§4)
OP_START = const(0x01)
OP_STOP = const(0x02)
OP_SET_RATE = const(0x03)
OP_SET_RANGE = const(0x04)
OP_SET_ROLE = const(0x05)
OP_TIME_SYNC = const(0x06)
OP_IDENTIFY = const(0x07)
OP_GET_CONFIG = const(0x08)
OPCODES = (OP_START, OP_STOP, OP_SET_RATE, OP_SET_RANGE, OP_SET_ROLE, OP_TIME_SYNC, OP_IDENTIFY,
           OP_GET_CONFIG)
OPCODE_NAMES = ("", "START", "STOP", "SET_RATE", "SET_RANGE", "SET_ROLE", "TIME_SYNC", "IDENTIFY",
                "GET_CONFIG")
RESPONSE_BIT = const(0x80)

# Status codes (§4)
ST_OK = const(0)
ST_BAD_LENGTH = const(1)
ST_BAD_VALUE = const(2)
ST_UNKNOWN_OPCODE = const(3)
ST_BUSY = const(4)
ST_MTU_TOO_SMALL = const(5)
ST_SENSOR_ERROR = const(6)
STATUSES = (ST_OK, ST_BAD_LENGTH, ST_BAD_VALUE, ST_UNKNOWN_OPCODE, ST_BUSY, ST_MTU_TOO_SMALL,
            ST_SENSOR_ERROR)
STATUS_NAMES = ("ok", "bad length", "bad value", "unknown opcode", "busy", "MTU too small",
                "sensor error")

# Role codes (§4); index = code
ROLE_UNASSIGNED = const(0)
ROLE_NAMES = ("unassigned", "left_shin", "right_shin", "left_wrist", "right_wrist")

# Value sets (§4). A sensor may support a subset (the board's IMU) and answers "bad value" otherwise.
ACC_RANGES_G = (2, 4, 8, 16, 32)
GYRO_RANGES_DPS = (0, 125, 250, 500, 1000, 2000, 4000)
MIN_RATE_HZ = const(100)
MAX_RATE_HZ = const(400)

_HEADER = "<BBHQHBBH"  # version, format, seq, t0_us, period_us, n, acc_range_g, gyro_range_dps
_U64_MAX = 0xFFFFFFFFFFFFFFFF


def axes_of(fmt):
    """Raw int16 values per sample: 3 (accelerometer) or 6 (accelerometer + gyroscope)."""
    if fmt == FMT_ACC:
        return 3
    if fmt == FMT_ACC_GYRO:
        return 6
    raise ValueError("unknown data format %r" % (fmt,))


def sample_size(fmt):
    """Bytes per sample on the wire: 6 for format 0, 12 for format 1."""
    return 2 * axes_of(fmt)


def max_samples(mtu, fmt):
    """Largest ``n`` whose packet fits one notification at ATT MTU ``mtu`` (0 if none fits).

    ``floor((mtu - 3 - 18) / sample_size)``, capped at 255: 37 (format 0) or 18 (format 1) at
    MTU 247, and 0 at the default MTU 23, where not even one sample fits (PROTOCOL §2).
    """
    room = mtu - ATT_OVERHEAD - HEADER_SIZE
    if room <= 0:
        return 0
    n = room // sample_size(fmt)
    return MAX_N if n > MAX_N else n


def _check_header(seq, t0_us, period_us, fmt, acc_range_g, gyro_range_dps):
    axes_of(fmt)
    if not 0 <= seq <= 0xFFFF:
        raise ValueError("seq %r out of u16" % (seq,))
    if not 0 <= t0_us <= _U64_MAX:
        raise ValueError("t0_us %r out of u64" % (t0_us,))
    if not 1 <= period_us <= 0xFFFF:
        raise ValueError("period_us %r out of 1..65535" % (period_us,))
    if acc_range_g not in ACC_RANGES_G:
        raise ValueError("acc_range_g %r not one of %r" % (acc_range_g, ACC_RANGES_G))
    if fmt == FMT_ACC and gyro_range_dps != 0:
        raise ValueError("gyro_range_dps must be 0 in format 0")
    if fmt == FMT_ACC_GYRO and (gyro_range_dps == 0 or gyro_range_dps not in GYRO_RANGES_DPS):
        raise ValueError("gyro_range_dps %r not a gyroscope range" % (gyro_range_dps,))


def encode_data(seq, t0_us, period_us, fmt, acc_range_g, gyro_range_dps, samples_raw):
    """Encode one data packet (PROTOCOL §3).

    Parameters
    ----------
    seq : int
        Packet sequence number, u16.
    t0_us : int
        Sensor clock of the first sample, µs since boot.
    period_us : int
        Sample period on the sensor clock, µs.
    fmt : int
        0 (accelerometer) or 1 (accelerometer + gyroscope).
    acc_range_g, gyro_range_dps : int
        Full scales; ``gyro_range_dps`` is 0 in format 0.
    samples_raw : sequence of int
        Flat body-frame raw values, ``ax, ay, az[, gx, gy, gz]`` per sample, each in int16.

    Returns
    -------
    bytes
        ``18 + n * sample_size(fmt)`` bytes.

    Raises
    ------
    ValueError
        A field out of range (MicroPython's ``struct`` would silently truncate it, so this checks).
    """
    _check_header(seq, t0_us, period_us, fmt, acc_range_g, gyro_range_dps)
    axes = axes_of(fmt)
    count = len(samples_raw)
    if count == 0 or count % axes:
        raise ValueError("%d raw values is not a whole number of samples" % count)
    n = count // axes
    if n > MAX_N:
        raise ValueError("%d samples exceed 255" % n)
    buf = bytearray(HEADER_SIZE + 2 * count)
    struct.pack_into(_HEADER, buf, 0, PROTOCOL_VERSION, fmt, seq, t0_us, period_us, n,
                     acc_range_g, gyro_range_dps)
    off = HEADER_SIZE
    for v in samples_raw:
        if not -32768 <= v <= 32767:
            raise ValueError("raw value %r out of int16" % (v,))
        struct.pack_into("<h", buf, off, v)
        off += 2
    return bytes(buf)


def decode_data(data):
    """Decode a data packet into a dict of its fields (firmware-side check of golden vectors).

    The host's ``DataPacket.from_bytes`` is the production decoder; this one exists so the firmware
    tests can check the byte layout both ways under MicroPython. Raises ``ValueError`` if malformed.
    """
    if len(data) < HEADER_SIZE:
        raise ValueError("data packet shorter than its header")
    version, fmt, seq, t0_us, period_us, n, acc_range_g, gyro_range_dps = struct.unpack_from(
        _HEADER, data, 0)
    if version != PROTOCOL_VERSION:
        raise ValueError("unknown protocol version %d" % version)
    _check_header(seq, t0_us, period_us, fmt, acc_range_g, gyro_range_dps)
    axes = axes_of(fmt)
    if n == 0 or len(data) != HEADER_SIZE + 2 * axes * n:
        raise ValueError("data packet length does not match n")
    raw = [struct.unpack_from("<h", data, HEADER_SIZE + 2 * i)[0] for i in range(n * axes)]
    return {"version": version, "fmt": fmt, "seq": seq, "t0_us": t0_us, "period_us": period_us,
            "acc_range_g": acc_range_g, "gyro_range_dps": gyro_range_dps, "samples": raw}


# ---- mounting remap and scaling ---------------------------------------------------------------

IDENTITY_REMAP = b"\x00\x01\x02"
_REMAP_SIGN = const(0x80)
_EVEN_PERMUTATIONS = ((0, 1, 2), (1, 2, 0), (2, 0, 1))


def remap_valid(remap):
    """True if the 3 remap bytes (PROTOCOL §4) are a proper rotation of the device axes.

    Each byte: bits 0-1 the source device axis (0..2), bit 7 the sign flip, bits 2-6 zero. The sources
    must be a permutation, and the whole must keep the frame right-handed (determinant +1): the body
    frame z = x × y of MEASUREMENT.md §1 is right-handed like the IMU's, so a mirror is always a
    configuration mistake, and it would also flip the sense of every angular rate.
    """
    if len(remap) != 3:
        return False
    src = []
    flips = 0
    for b in remap:
        if b & 0x7C or (b & 0x03) == 3:
            return False
        src.append(b & 0x03)
        if b & _REMAP_SIGN:
            flips += 1
    perm = (src[0], src[1], src[2])
    if sorted(src) != [0, 1, 2]:
        return False
    odd = perm not in _EVEN_PERMUTATIONS
    return (flips + (1 if odd else 0)) % 2 == 0


def _sat16(v):
    if v > 32767:
        return 32767
    if v < -32768:
        return -32768
    return v


def apply_remap(remap, dev, dev_off, out, out_off, triples=1):
    """Write body-frame raw values from device-axis raw values.

    ``remap`` is the 3-byte record; each of ``triples`` consecutive xyz triples (1 for the
    accelerometer, 2 with the gyroscope, which shares the remap) is permuted and sign-flipped.
    A flipped -32768 saturates to +32767 rather than wrapping to -32768. ``dev`` and ``out`` may be
    lists or ``array('h')``; nothing is allocated, so this runs in the IMU read loop.
    """
    s0 = remap[0] & 3
    s1 = remap[1] & 3
    s2 = remap[2] & 3
    f0 = remap[0] & _REMAP_SIGN
    f1 = remap[1] & _REMAP_SIGN
    f2 = remap[2] & _REMAP_SIGN
    for t in range(triples):
        d = dev_off + 3 * t
        o = out_off + 3 * t
        v0 = dev[d + s0]
        v1 = dev[d + s1]
        v2 = dev[d + s2]
        out[o] = _sat16(-v0) if f0 else v0
        out[o + 1] = _sat16(-v1) if f1 else v1
        out[o + 2] = _sat16(-v2) if f2 else v2


def scale_to_raw(value, full_scale):
    """Physical value (g or deg/s) to the int16 raw count: ``round(value × 32768 / full_scale)``,
    saturated to int16, so that raw × range / 32768 (PROTOCOL §3) gives the value back to ½ LSB."""
    return _sat16(int(round(value * 32768.0 / full_scale)))


# ---- packetizer --------------------------------------------------------------------------------

class Packetizer:
    """Turn timestamped body-frame samples into data packets sized to the connection's MTU.

    Samples are pushed one at a time with their own sensor-clock time. A packet's ``t0_us`` is the
    time of its first sample; the others are implied at ``t0_us + k × period_us``. A sample whose time
    is more than half a period away from that implied time (an IMU FIFO overrun or a ring-buffer
    overflow dropped samples in between, or the timestamper re-anchored) closes the current packet
    and opens a new one at its own time. The next packet keeps the next ``seq``: no packet was lost
    on the radio, so the host sees consecutive ``seq`` with a gap in time (PROTOCOL §3).

    Parameters
    ----------
    sink : callable
        Called with each finished packet (``bytes``), in order.
    fmt, acc_range_g, gyro_range_dps : int
        Stream format and full scales, fixed for the life of the packetizer (one per START).
    period_us : int
        Initial sample period, µs; ``period_us`` may be changed later and applies from the next packet.
    mtu : int
        Negotiated ATT MTU. ``ValueError`` if not even one sample fits (use status 5).
    seq : int
        Sequence number of the first packet.
    """

    def __init__(self, sink, fmt, period_us, acc_range_g, gyro_range_dps, mtu=247, seq=0):
        _check_header(seq, 0, period_us, fmt, acc_range_g, gyro_range_dps)
        self.max_n = max_samples(mtu, fmt)
        if self.max_n == 0:
            raise ValueError("MTU %d carries no sample of format %d" % (mtu, fmt))
        self.sink = sink
        self.fmt = fmt
        self.axes = axes_of(fmt)
        self.acc_range_g = acc_range_g
        self.gyro_range_dps = gyro_range_dps
        self.period_us = period_us  # applies from the next packet
        self.seq = seq  # of the next packet
        self.gaps = 0  # packets opened early because of a time discontinuity
        self._buf = array("h", bytes(2 * self.max_n * self.axes))
        self._n = 0
        self._t0 = 0
        self._pkt_period = period_us

    @property
    def pending(self):
        """Samples waiting in the open packet."""
        return self._n

    @property
    def pending_t0_us(self):
        """Sensor time of the open packet's first sample (None when empty), for latency flushes."""
        return self._t0 if self._n else None

    def push(self, t_us, raw, off=0):
        """Add one sample: ``raw[off:off + axes]`` in body-frame int16, taken at ``t_us`` µs."""
        n = self._n
        if n:
            drift = t_us - (self._t0 + n * self._pkt_period)
            if drift > self._pkt_period // 2 or -drift > self._pkt_period // 2:
                self.gaps += 1
                self.flush()
                n = 0
        if n == 0:
            self._t0 = t_us
            self._pkt_period = self.period_us
        axes = self.axes
        base = n * axes
        buf = self._buf
        for i in range(axes):
            buf[base + i] = raw[off + i]
        self._n = n + 1
        if self._n == self.max_n:
            self.flush()

    def flush(self):
        """Emit the open packet now, even if short (end of stream, or to bound latency)."""
        n = self._n
        if not n:
            return
        self._n = 0
        view = self._buf if n == self.max_n else self._buf[:n * self.axes]
        packet = encode_data(self.seq, self._t0, self._pkt_period, self.fmt, self.acc_range_g,
                             self.gyro_range_dps, view)
        self.seq = (self.seq + 1) & 0xFFFF
        self.sink(packet)

    def flush_if_older(self, now_us, max_latency_us):
        """Flush the open packet if its first sample is older than ``max_latency_us``.

        Why: at 200 Hz a full MTU-247 packet takes 185 ms to fill; the live display wants less.
        """
        if self._n and now_us - self._t0 >= max_latency_us:
            self.flush()
