"""Import: a CSV of samples becomes a session (samples instead of packets, analysed by the same core).

Two kinds of input:

* the contract's wide samples CSV (MEASUREMENT.md §4): ``time_s`` and ``<role>_x,_y,_z`` in g;
* another device's CSV export, through a :class:`ColumnMapping`: which columns hold each role's
  body-frame x, y, z (with a sign, for axis remaps), where time comes from (a column, in s, ms or µs,
  or a fixed rate), and the units of acceleration (g or m/s²).

The session file is written to a temporary name and moved into place when complete: an import
either succeeds completely or leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.config import DetectorConfig
from ..errors import InputFormatError, OutputError
from ..io import check_writable, read_wide_csv
from ..io.csvio import read_text
from ..model import ROLES, Recording, Role, RoleSamples
from .store import SensorInfo, SessionError

log = logging.getLogger(__name__)

__all__ = ["ColumnMapping", "import_csv", "read_mapped_csv", "STANDARD_GRAVITY"]

STANDARD_GRAVITY = 9.80665  # m/s² per g
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
#: rows per stored block of samples (one block = one ``inputs`` row)
BLOCK_ROWS = 200


def _parse_axes(spec: str, where: str) -> tuple[str, str, str]:
    cols = tuple(c.strip() for c in spec.split(","))
    if len(cols) != 3 or not all(c.lstrip("+-").strip() for c in cols):
        raise InputFormatError(f"{where}: expected three columns X,Y,Z (a leading '-' flips an axis), got {spec!r}")
    return cols  # type: ignore[return-value]


@dataclass(frozen=True)
class ColumnMapping:
    """How another device's CSV maps onto StrideSync roles.

    Attributes
    ----------
    acc : role → the three columns holding its body-frame x, y, z. ``-col`` negates a column, so
        ``("-ay", "ax", "az")`` swaps and flips axes (a sensor mounted differently).
    gyro : role → three angular-rate columns (deg/s), optional.
    time_col : the time column; ``None`` with ``rate_hz`` means evenly spaced samples.
    time_unit : unit of ``time_col``: 's', 'ms' or 'us'.
    rate_hz : fixed sample rate when there is no time column (Hz).
    units : acceleration unit of the file: 'g' or 'm/s2'.
    delimiter : field separator; ``None`` detects ',', ';' or tab from the header.
    """

    acc: dict[Role, tuple[str, str, str]]
    gyro: dict[Role, tuple[str, str, str]] = field(default_factory=dict)
    time_col: str | None = None
    time_unit: str = "s"
    rate_hz: float | None = None
    units: str = "g"
    delimiter: str | None = None

    def __post_init__(self) -> None:
        if not self.acc:
            raise InputFormatError("a column mapping needs at least one role (--map ROLE=X,Y,Z)")
        if (self.time_col is None) == (self.rate_hz is None):
            raise InputFormatError("give either a time column (--time-col) or a fixed sample rate (--rate), not both or neither")
        if self.rate_hz is not None and not 1.0 <= self.rate_hz <= 10_000.0:
            raise InputFormatError(f"sample rate {self.rate_hz} Hz is out of range (1–10000)")
        if self.time_unit not in TIME_UNITS:
            raise InputFormatError(f"time unit must be one of {', '.join(TIME_UNITS)}, not {self.time_unit!r}")
        if self.units not in ("g", "m/s2"):
            raise InputFormatError(f"acceleration units must be 'g' or 'm/s2', not {self.units!r}")

    @staticmethod
    def parse_role_spec(spec: str) -> tuple[Role, tuple[str, str, str]]:
        """``"left_shin=ax,-ay,az"`` → (Role.LEFT_SHIN, ("ax", "-ay", "az"))."""
        name, sep, cols = spec.partition("=")
        if not sep:
            raise InputFormatError(f"mapping {spec!r}: expected ROLE=X,Y,Z")
        try:
            role = Role(name.strip())
        except ValueError:
            raise InputFormatError(f"mapping {spec!r}: unknown role {name.strip()!r} (one of {', '.join(r.value for r in ROLES)})") from None
        return role, _parse_axes(cols, f"mapping {spec!r}")


def _sniff(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def read_mapped_csv(path: str | os.PathLike, mapping: ColumnMapping) -> Recording:
    """Read another device's CSV through ``mapping`` into a :data:`Recording` (g, session seconds).

    Raises :class:`InputFormatError` (one line, with line and column) for a missing column, an empty
    or non-numeric value, or time that is not strictly increasing.
    """
    text = read_text(path)
    if not text.strip():
        raise InputFormatError(f"{path}: file is empty")
    first = text.split("\n", 1)[0]
    delim = mapping.delimiter or _sniff(first)
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise InputFormatError(f"{path}: file is empty") from None
    index = {h: k for k, h in enumerate(header)}

    def col(name: str) -> tuple[int, float]:
        sign = -1.0 if name.startswith("-") else 1.0
        bare = name.lstrip("+-").strip()
        if bare not in index:
            shown = ", ".join(header[:20]) + (", ..." if len(header) > 20 else "")
            raise InputFormatError(f"{path}: column {bare!r} not found (the header has: {shown})")
        return index[bare], sign

    wanted: list[tuple[int, float]] = []
    layout: dict[Role, tuple[slice, slice | None]] = {}
    for role, cols in mapping.acc.items():
        a = len(wanted)
        wanted += [col(c) for c in cols]
        g = None
        if role in mapping.gyro:
            g0 = len(wanted)
            wanted += [col(c) for c in mapping.gyro[role]]
            g = slice(g0, g0 + 3)
        layout[role] = (slice(a, a + 3), g)
    time_idx = col(mapping.time_col)[0] if mapping.time_col is not None else None
    idx = [i for i, _ in wanted] + ([time_idx] if time_idx is not None else [])
    rows = []
    for line, fields in enumerate(reader, start=2):
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) <= max(idx):
            raise InputFormatError(f"{path}: line {line}: {len(fields)} fields, the header has {len(header)}")
        values = []
        for i in idx:
            f = fields[i].strip()
            try:
                v = float(f)
            except ValueError:
                what = "empty value" if not f else f"{f[:30]!r} is not a number"
                raise InputFormatError(f"{path}: line {line}, column {i + 1} ({header[i]}): {what}") from None
            if not np.isfinite(v):
                raise InputFormatError(f"{path}: line {line}, column {i + 1} ({header[i]}): {f!r} is not finite")
            values.append(v)
        rows.append((line, values))
    if len(rows) < 2:
        raise InputFormatError(f"{path}: fewer than 2 data rows")
    data = np.array([v for _, v in rows], dtype=np.float64)
    if time_idx is not None:
        t = data[:, -1] * TIME_UNITS[mapping.time_unit]
        bad = np.flatnonzero(np.diff(t) <= 0)
        if len(bad):
            k = int(bad[0]) + 1
            raise InputFormatError(f"{path}: line {rows[k][0]}: time is not strictly increasing "
                                   f"({mapping.time_col} {data[k - 1, -1]!r} then {data[k, -1]!r})")
    else:
        t = np.arange(len(rows), dtype=np.float64) / float(mapping.rate_hz)
    signs = np.array([s for _, s in wanted])
    values = data[:, :len(wanted)] * signs
    rec: Recording = {}
    scale = 1.0 / STANDARD_GRAVITY if mapping.units == "m/s2" else 1.0
    for role in ROLES:
        if role not in layout:
            continue
        a, g = layout[role]
        rec[role] = RoleSamples(role, t.copy(), np.ascontiguousarray(values[:, a] * scale),
                                np.ascontiguousarray(values[:, g]) if g is not None else None)
    return rec


def import_csv(path: str | os.PathLike, out: str | os.PathLike, *, mapping: ColumnMapping | None = None,
               config: DetectorConfig | None = None, athlete: str = "", notes: str = "", tags: tuple[str, ...] = (),
               on_progress: Callable[[float, float], None] | None = None, align: str = "auto") -> dict:
    """Import a CSV into a new session file ``out`` (atomically), analysed by the real-time core.

    ``mapping=None`` reads the contract's wide samples CSV. ``on_progress(done_s, total_s)`` follows the
    analysis. ``align="auto"`` estimates each sensor's mounting (core/mounting.py) as live does; the samples are
    stored as read and a replay estimates again, exactly. Returns a small description
    (roles, samples, duration, steps).
    """
    from ..pipeline import run_realtime
    from .recorder import Recorder

    out = Path(out)
    if out.exists():
        raise OutputError(f"{out} already exists; choose another name (a session is never overwritten)")
    check_writable([out])
    cfg = config or DetectorConfig()
    rec = read_wide_csv(path) if mapping is None else read_mapped_csv(path, mapping)
    from ..io.plausible import check_recording
    check_recording(rec, os.fspath(path))
    t0 = min(float(s.time_s[0]) for s in rec.values())
    t1 = max(float(s.time_s[-1]) for s in rec.values())
    if align not in ("auto", "given"):
        raise ValueError(f"align must be 'auto' or 'given', not {align!r}")
    analysed = rec
    if align == "auto":
        from ..core.mounting import align_recording
        analysed = align_recording(rec)[0]
    res, _ = run_realtime(analysed, config=cfg,
                          on_progress=(lambda t: on_progress(min(t, t1) - t0, t1 - t0)) if on_progress else None)
    sensors = [SensorInfo(f"import:{role.value}", role, s.sample_rate_hz,
                          gyro_range_dps=2000 if s.gyro_dps is not None else 0) for role, s in rec.items()]
    meta = {"athlete": athlete, "notes": notes, "tags": list(tags), "source": "import",
            "mounting": {"align": align, "pinned": []},
            "imported_from": os.path.basename(os.fspath(path)),
            "mapping": None if mapping is None else {
                "acc": {r.value: list(c) for r, c in mapping.acc.items()},
                "gyro": {r.value: list(c) for r, c in mapping.gyro.items()},
                "time_col": mapping.time_col, "time_unit": mapping.time_unit, "rate_hz": mapping.rate_hz,
                "units": mapping.units}}
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        rec_ = Recorder(tmp, sensors=sensors, config=cfg, meta=meta)
        # blocks in time order, interleaved by role, as a source would deliver them
        starts = sorted((float(s.time_s[k]), role, k) for role, s in rec.items() for k in range(0, len(s), BLOCK_ROWS))
        for _, role, k in starts:
            s = rec[role]
            cols = [s.time_s[k:k + BLOCK_ROWS, None], s.acc_g[k:k + BLOCK_ROWS]]
            if s.gyro_dps is not None:
                cols.append(s.gyro_dps[k:k + BLOCK_ROWS])
            rec_.samples(f"import:{role.value}", np.hstack(cols))
        rec_.close(events=res.events, steps=res.steps, summary=res.summary, meta={"duration_s": t1 - t0})
        if rec_.error:
            raise OutputError(f"cannot write {out}: {rec_.error}")
        os.replace(tmp, out)
    except SessionError as exc:
        raise OutputError(str(exc)) from None
    finally:
        for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
            with contextlib.suppress(OSError):
                p.unlink()
    return {"roles": [r.value for r in rec], "samples": sum(len(s) for s in rec.values()),
            "duration_s": t1 - t0, "steps": len(res.steps), "events": len(res.events)}
