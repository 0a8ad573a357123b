"""What a session must remember, packed: events and steps as rows of a growable numpy array.

A live session emits some 52 000 events and 10 000 steps an hour. As Python objects (a frozen dataclass
and its boxed floats) they cost about 300 bytes each and made an hour-long recording grow by ~15 MB
(#11 item 16, bench/soak.py); packed they cost 30-100 bytes. :class:`EventLog` and :class:`StepLog` are
append-only sequences that give back equal :class:`~stridesync.model.Event` / :class:`~stridesync.model.Step`
objects (the float64 round trip is exact, ``None`` is kept as ``None``), compare equal to lists of them,
and slice to lists, so the core's ``events_`` and ``steps_`` read as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ..model import Event, Step

__all__ = ["EventLog", "PackedRecords", "StepLog"]

#: column kinds: a float64, a float64 that may be None, an int64, or a value from a small set (stored as its code)
FLOAT, OPT_FLOAT, INT, CODE = "f8", "f8?", "i8", "code"


class PackedRecords(Sequence):
    """An append-only sequence of frozen records, stored column by column in one structured array.

    Subclasses set ``record`` (the class, built from its fields by keyword) and ``fields`` (name, kind)
    in the order of the record's fields. Rows live in fixed-size blocks: appending never copies, and the
    memory grows with the rows, a block at a time (no doubling: a long session's memory stays in step with
    its length).
    """

    record: type
    fields: tuple[tuple[str, str], ...]
    BLOCK = 256  # rows a block (7 kB of events, 25 kB of steps)
    _CHUNK = 4096  # rows unpacked at a time when iterating

    def __init__(self, items: Iterable = ()) -> None:
        cols = []
        for name, kind in self.fields:
            cols.append((name, {FLOAT: "f8", OPT_FLOAT: "f8", INT: "i8", CODE: "u1"}[kind]))
            if kind == OPT_FLOAT:
                cols.append((name + "__none", "?"))
        self._dtype = np.dtype(cols)
        self._blocks: list[np.ndarray] = []
        self._n = 0
        # per CODE column: the values seen, and their codes (the values are enums or short strings)
        self._values: dict[str, list] = {name: [] for name, kind in self.fields if kind == CODE}
        self._codes: dict[str, dict] = {name: {} for name, kind in self.fields if kind == CODE}
        self.extend(items)

    # ------------------------------------------------------------------ writing
    def append(self, item: Any) -> None:
        k = self._n % self.BLOCK
        if k == 0:
            self._blocks.append(np.empty(self.BLOCK, dtype=self._dtype))
        self._blocks[-1][k] = self._pack(item)
        self._n += 1

    def extend(self, items: Iterable) -> None:
        for item in items:
            self.append(item)

    def _pack(self, item: Any) -> tuple:
        row = []
        for name, kind in self.fields:
            v = getattr(item, name)
            if kind == CODE:
                codes = self._codes[name]
                c = codes.get(v)
                if c is None:
                    values = self._values[name]
                    if len(values) == 255:
                        raise ValueError(f"{type(self).__name__}: more than 255 distinct {name} values")
                    c = codes[v] = len(values)
                    values.append(v)
                row.append(c)
            elif kind == OPT_FLOAT:
                row += [np.nan, True] if v is None else [v, False]
            else:
                row.append(v)
        return tuple(row)

    # ------------------------------------------------------------------ reading
    def _unpack_rows(self, lo: int, hi: int) -> list:
        """Records of rows lo..hi-1, built column by column (plain Python floats and ints, from ``tolist``)."""
        a = self._rows(lo, hi)
        cols = []
        for name, kind in self.fields:
            if kind == CODE:
                values = self._values[name]
                cols.append([values[c] for c in a[name].tolist()])
            elif kind == OPT_FLOAT:
                x = a[name].astype(object)
                x[a[name + "__none"]] = None
                cols.append(x.tolist())
            else:
                cols.append(a[name].tolist())
        return list(map(self.record, *cols))

    def _rows(self, lo: int, hi: int) -> np.ndarray:
        """Rows lo..hi-1 as one array (a view when they lie in one block)."""
        B = self.BLOCK
        if hi <= lo:
            return np.empty(0, dtype=self._dtype)
        b0, b1 = lo // B, (hi - 1) // B
        if b0 == b1:
            return self._blocks[b0][lo - b0 * B:hi - b0 * B]
        return np.concatenate([self._blocks[b][max(lo - b * B, 0):min(hi - b * B, B)] for b in range(b0, b1 + 1)])

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(self._n)
            if step == 1:
                return self._unpack_rows(start, max(start, stop))
            return [self[k] for k in range(start, stop, step)]
        k = int(i)
        if k < 0:
            k += self._n
        if not 0 <= k < self._n:
            raise IndexError(f"{type(self).__name__} index out of range")
        return self._unpack_rows(k, k + 1)[0]

    def __iter__(self) -> Iterator:
        for lo in range(0, self._n, self._CHUNK):
            yield from self._unpack_rows(lo, min(lo + self._CHUNK, self._n))

    def __reversed__(self) -> Iterator:
        # newest first, in chunks that start small (a reader often stops after the last few seconds' rows)
        hi, chunk = self._n, 64
        while hi > 0:
            lo = max(0, hi - chunk)
            yield from reversed(self._unpack_rows(lo, hi))
            hi, chunk = lo, min(2 * chunk, self._CHUNK)

    def column(self, name: str) -> np.ndarray:
        """One numeric column of every row (a copy, for vectorised selection: e.g. ``column("time_s")``)."""
        return self._rows(0, self._n)[name].copy()

    def take(self, index: Iterable[int]) -> list:
        """The records at these row indices, in the order given."""
        return [self._unpack_rows(int(k), int(k) + 1)[0] for k in index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (PackedRecords, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._n} rows)"

    @property
    def nbytes(self) -> int:
        """Bytes held by the packed rows (the blocks' capacity)."""
        return sum(int(b.nbytes) for b in self._blocks)


class EventLog(PackedRecords):
    """Events in emission order, packed (about 27 bytes each)."""

    record = Event
    fields = (("role", CODE), ("kind", CODE), ("time_s", FLOAT), ("amplitude", FLOAT), ("stride_index", INT),
              ("source", CODE))


class StepLog(PackedRecords):
    """Steps in time order, packed (about 100 bytes each)."""

    record = Step
    fields = (("time_s", FLOAT), ("stance_side", CODE), ("stride_time_s", FLOAT), ("cadence_spm", FLOAT),
              ("contact_time_s", OPT_FLOAT), ("swing_lag_ms", OPT_FLOAT), ("ipsi_arm_lag_ms", OPT_FLOAT),
              ("contra_arm_lag_ms", OPT_FLOAT), ("swing_lag_pct", OPT_FLOAT), ("ipsi_arm_lag_pct", OPT_FLOAT),
              ("contra_arm_lag_pct", OPT_FLOAT), ("sync_score", OPT_FLOAT))
