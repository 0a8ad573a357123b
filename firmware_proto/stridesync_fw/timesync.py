"""Sensor clock: a 64-bit µs counter, the TIME_SYNC payload, and FIFO sample timestamps.

Everything the host aligns is stamped on one clock, the sensor's µs since boot (PROTOCOL §3-4).
MicroPython's ``time.ticks_us`` wraps (every 2**30 µs, about 17.9 min, on most ports), so ``Clock``
extends it to an unwrapping counter. Pure and MicroPython-compatible.
"""

import struct

TICKS_PERIOD = 1 << 30  # MicroPython's default MICROPY_PY_TIME_TICKS_PERIOD


def _default_ticks():
    import time
    if hasattr(time, "ticks_us"):
        return time.ticks_us
    ns = time.monotonic_ns  # CPython: same wrapping behaviour, so both run the same code
    return lambda: (ns() // 1000) & (TICKS_PERIOD - 1)


class Clock:
    """Extend a wrapping µs tick counter to a non-wrapping one.

    Parameters
    ----------
    ticks : callable, optional
        Returns the raw counter in ``[0, period)`` µs; default ``time.ticks_us``. Injected in tests.
    period : int
        Wrap period of ``ticks``, a power of two.

    ``now_us()`` must be called at least once per period (the firmware calls it on every FIFO read,
    every few ms); a longer silence would lose whole periods. The counter starts at the first raw
    reading, so on the board it is µs since boot.
    """

    def __init__(self, ticks=None, period=TICKS_PERIOD):
        self._ticks = ticks if ticks is not None else _default_ticks()
        self._mask = period - 1
        self._last = self._ticks() & self._mask
        self._base = self._last

    def now_us(self):
        """Sensor clock, µs: monotonic, 64-bit in practice (an int)."""
        raw = self._ticks() & self._mask
        self._base += (raw - self._last) & self._mask
        self._last = raw
        return self._base


def time_sync_payload(host_send_us, sensor_receive_us, sensor_send_us):
    """TIME_SYNC response payload (PROTOCOL §4): host t1 echoed, sensor t2 and t3, 3 × u64 µs."""
    return struct.pack("<QQQ", host_send_us, sensor_receive_us, sensor_send_us)


class FifoTimestamper:
    """Sensor-clock times of samples read in blocks from an IMU FIFO.

    Method: when the FIFO is read, its depth D (samples) is read first and the clock is read right
    after, at ``t_read_us``. The newest sample was taken between 0 and 1 period before, so sample i
    of the block (0 = oldest) is placed at the centre of that uncertainty,
    ``t_read_us - (D - i - 0.5) × period``: the "anchor" of the block. Anchors carry ±½ period of
    jitter, and the IMU's own oscillator may run a few % off its nominal rate. An alpha-beta tracker
    therefore follows the anchors: it predicts the block's first sample from the previous block,
    moves the prediction 1/8 of the way to the anchor, and corrects its period estimate by 1/64 of the
    residual per sample. That removes the read jitter, keeps sample times continuous across blocks,
    and follows a constant rate error with no lag. After an overrun (samples lost inside the IMU) or
    a residual beyond 4 periods, it re-anchors on the anchor itself.

    Integer arithmetic only (the period is kept in 1/256 µs): MicroPython floats are 32-bit and
    cannot hold µs timestamps.

    Parameters
    ----------
    period_us : int
        Nominal sample period, µs.
    """

    def __init__(self, period_us):
        self.nominal_q8 = period_us << 8
        self.period_q8 = self.nominal_q8
        self.reanchors = 0
        self._next = None  # predicted time of the next block's first sample, µs
        self._lo = self.nominal_q8 - self.nominal_q8 // 20  # period kept within ±5 % of nominal
        self._hi = self.nominal_q8 + self.nominal_q8 // 20

    @property
    def period_us(self):
        """Current period estimate rounded to µs: what goes into the packets' ``period_us``."""
        return (self.period_q8 + 128) >> 8

    def stamp(self, t_read_us, depth, overrun=False):
        """Time of the first of ``depth`` samples just read (µs); call ``sample_time`` for the rest."""
        if depth < 1:
            raise ValueError("a FIFO block has at least one sample")
        p = self.period_q8
        anchor = t_read_us - ((depth * 2 - 1) * p >> 9)
        nxt = self._next
        if nxt is None or overrun or abs(anchor - nxt) > (4 * p >> 8):
            self.reanchors += 1
            first = anchor
        else:
            r = anchor - nxt
            first = nxt + (r >> 3)
            per = p + (r << 2) // depth  # 1/64 of the residual per sample, in q8
            self.period_q8 = self._lo if per < self._lo else self._hi if per > self._hi else per
        self._first = first
        self._next = first + (depth * self.period_q8 >> 8)
        return first

    def sample_time(self, i):
        """Time of sample ``i`` of the last stamped block, µs."""
        return self._first + (i * self.period_q8 >> 8)
