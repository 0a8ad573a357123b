"""Fixed-capacity ring buffer of timestamped raw samples between the IMU FIFO and the BLE notifier.

Why: the radio stalls (a connection event missed, a slow central) while the IMU keeps sampling. The
buffer absorbs that; when it is full the oldest sample is dropped and counted, so the freshest data
goes out and the host sees the loss as a gap in time. Storage is preallocated (``array``), so pushing
and popping allocate nothing on the MicroPython heap (except that timestamps beyond 2**30 µs are
MicroPython big ints when read back, a few words each).
"""

from array import array


class RingBuffer:
    """Ring of ``capacity`` samples of ``axes`` int16 values, each with a µs timestamp.

    Attributes
    ----------
    overflows : int
        Samples dropped because the buffer was full (oldest first).
    """

    def __init__(self, capacity, axes):
        if capacity < 1 or axes < 1:
            raise ValueError("capacity and axes must be positive")
        self.capacity = capacity
        self.axes = axes
        self.overflows = 0
        self._data = array("h", bytes(2 * capacity * axes))
        self._t = array("q", bytes(8 * capacity))
        self._head = 0  # index of the oldest sample
        self._len = 0

    def __len__(self):
        return self._len

    def clear(self):
        self._head = 0
        self._len = 0

    def push(self, t_us, raw, off=0):
        """Append one sample ``raw[off:off + axes]`` taken at ``t_us``; drop the oldest if full."""
        cap = self.capacity
        if self._len == cap:
            self._head = (self._head + 1) % cap
            self._len -= 1
            self.overflows += 1
        i = (self._head + self._len) % cap
        self._t[i] = t_us
        axes = self.axes
        base = i * axes
        data = self._data
        for k in range(axes):
            data[base + k] = raw[off + k]
        self._len += 1

    def pop_into(self, out, off=0):
        """Remove the oldest sample into ``out[off:off + axes]``; return its time (None if empty)."""
        if not self._len:
            return None
        i = self._head
        axes = self.axes
        base = i * axes
        data = self._data
        for k in range(axes):
            out[off + k] = data[base + k]
        self._head = (i + 1) % self.capacity
        self._len -= 1
        return self._t[i]
