"""A bounded diagnostic log packed in a numpy array: the last ``maxlen`` entries, a few bytes each.

The live analyser keeps, per sensor, each packet's arrival and clock mapping for tests, benchmarks and
health views. As a ``deque`` of Python tuples and floats an entry cost ~150 bytes, so the logs of four
sensors took ~9 MB and, at the ~26 packets a second of a real BLE link, ten minutes to fill: a live
recording looked like it grew by ~50 MB/h over its first ten minutes (#11 item 16). Packed, an entry
costs 8–24 bytes. :class:`RingLog` reads like the deque it replaces (``append``, ``extend``, ``len``,
indexing, iteration, ``maxlen``); entries come back as Python floats, or tuples of Python scalars.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

__all__ = ["RingLog"]


class RingLog:
    """The newest ``maxlen`` entries of a log, oldest first.

    Parameters
    ----------
    maxlen : entries kept; older ones are dropped as new ones arrive.
    dtype : one numpy scalar type (entries are scalars), or a list of them (entries are tuples).
    """

    def __init__(self, maxlen: int, dtype: str | list[str] = "f8"):
        if maxlen < 1:
            raise ValueError("maxlen must be positive")
        self.maxlen = int(maxlen)
        self._row = not isinstance(dtype, str)
        self._dtype = np.dtype([(f"f{k}", d) for k, d in enumerate(dtype)]) if self._row else np.dtype(dtype)
        self._a = np.empty(min(64, self.maxlen), dtype=self._dtype)  # grows to maxlen, then wraps
        self._start = 0  # position of the oldest entry once wrapped
        self._n = 0

    def append(self, x) -> None:
        a = self._a
        if self._n < len(a):
            a[self._n] = x
            self._n += 1
        elif len(a) < self.maxlen:  # still growing (not wrapped yet: the entries are in order)
            self._a = np.empty(min(2 * len(a), self.maxlen), dtype=self._dtype)
            self._a[:self._n] = a
            self._a[self._n] = x
            self._n += 1
        else:
            a[self._start] = x
            self._start = (self._start + 1) % self.maxlen

    def extend(self, xs: Iterable) -> None:
        x = np.array(list(xs), dtype=self._dtype) if self._row else np.asarray(list(xs), dtype=self._dtype)
        if len(x) >= self.maxlen:  # only the newest maxlen stay
            self._a = x[-self.maxlen:].copy()
            self._start, self._n = 0, self.maxlen
            return
        for v in x:
            self.append(v)

    def clear(self) -> None:
        self._a = np.empty(min(64, self.maxlen), dtype=self._dtype)
        self._start = self._n = 0

    def _ordered(self) -> np.ndarray:
        a, s = self._a[:self._n], self._start
        return np.concatenate((a[s:], a[:s])) if s else a

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self._ordered()[i].tolist()
        k = int(i)
        if k < 0:
            k += self._n
        if not 0 <= k < self._n:
            raise IndexError("RingLog index out of range")
        return self._a[(self._start + k) % len(self._a)].item()

    def __iter__(self) -> Iterator:
        return iter(self._ordered().tolist())

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self._ordered().copy()
        return out if dtype is None else out.astype(dtype)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (RingLog, list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RingLog({self._n} of {self.maxlen})"
