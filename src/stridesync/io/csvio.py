"""The public file formats of MEASUREMENT.md §4: wide samples CSV, events CSV, steps CSV, summary JSON.

Each format's reader and writer live side by side so they cannot drift apart. Readers accept
gzip-compressed files (name ending ``.gz``); writers compress when the name ends ``.gz``. Every
writer is atomic (:mod:`stridesync.io.atomic`). Every reader error is an :class:`InputFormatError`
whose message is one line naming the file, the line and column where applicable, and the problem.

Number formats (what a reader gets back after a write)
------------------------------------------------------
Wide samples CSV
    ``time_s``: Python's shortest round-trip repr, so every float64 time reads back bit-identical.
    Samples: ``%.6g`` (6 significant digits, finer than any 16-bit IMU's resolution; a file read and
    written again reproduces identical values). ``lossless=True`` writes samples with repr as well.
Events CSV
    ``time_s`` 6 decimals (1 µs), ``amplitude`` 4 decimals (0.1 mg or 0.0001 deg/s) in ``unit`` (``g`` or
    ``deg/s``), ``stride_index`` integer, ``source`` the rule set (``gyro`` or ``accel``). Version-1 files
    (``role,event,time_s,amplitude_g,stride_index``) still read: their events are ``accel`` events in g.
Steps CSV
    Times (``time_s``, ``stride_time_s``, ``contact_time_s``) 6 decimals (1 µs); ``cadence_spm``
    3 decimals; lags in ms 3 decimals (1 µs); lags in % 3 decimals; ``sync_score`` 2 decimals.
    A value that cannot be computed (``None``, or NaN) is an empty field, never 0.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import math
import os
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputFormatError
from ..model import (AXES, ROLES, SHIN_EVENTS, SOURCES, WRIST_EVENTS, Event, EventKind, Recording, Role, RoleSamples, Side,
                     Step, event_unit)
from .atomic import atomic_write

__all__ = [
    "EVENTS_HEADER",
    "STEPS_HEADER",
    "read_events_csv",
    "read_steps_csv",
    "read_summary_json",
    "read_wide_csv",
    "write_events_csv",
    "write_steps_csv",
    "write_summary_json",
    "write_wide_csv",
    "wide_csv_columns",
]

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

TIME_COLUMN = "time_s"
GYRO_AXES = ("gx", "gy", "gz")
EVENTS_HEADER = ("role", "event", "time_s", "amplitude", "unit", "stride_index", "source")
#: the events CSV of contract version 1 (read only)
EVENTS_HEADER_V1 = ("role", "event", "time_s", "amplitude_g", "stride_index")
STEPS_HEADER = (
    "time_s",
    "stance_side",
    "stride_time_s",
    "cadence_spm",
    "contact_time_s",
    "swing_lag_ms",
    "ipsi_arm_lag_ms",
    "contra_arm_lag_ms",
    "swing_lag_pct",
    "ipsi_arm_lag_pct",
    "contra_arm_lag_pct",
    "sync_score",
)

#: printf formats of the steps CSV columns (see the module docstring).
_STEP_FORMATS = {
    "time_s": "%.6f",
    "stride_time_s": "%.6f",
    "cadence_spm": "%.3f",
    "contact_time_s": "%.6f",
    "swing_lag_ms": "%.3f",
    "ipsi_arm_lag_ms": "%.3f",
    "contra_arm_lag_ms": "%.3f",
    "swing_lag_pct": "%.3f",
    "ipsi_arm_lag_pct": "%.3f",
    "contra_arm_lag_pct": "%.3f",
    "sync_score": "%.2f",
}
_STEP_REQUIRED = ("time_s", "stance_side", "stride_time_s", "cadence_spm")

#: A decimal number as the formats allow it: no NaN/inf words, no underscores, no hex.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NON_FINITE_WORDS = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
#: Characters the fast wide-CSV path lets through; anything else takes the careful path.
_FAST_CHARS = str.maketrans("", "", "0123456789.eE+-,\n")


# --------------------------------------------------------------------------------------------------
# shared helpers


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _error(path: PathLike, message: str, line: int | None = None, column: int | None = None, name: str | None = None) -> InputFormatError:
    where = ""
    if line is not None:
        where = f"line {line}"
        if column is not None:
            where += f", column {column}"
            if name:
                where += f" ({name})"
        where += ": "
    return InputFormatError(_one_line(f"{path}: {where}{message}"))


def _show(text: str, limit: int = 40) -> str:
    """A field value quoted for an error message, shortened and without line breaks."""
    if len(text) > limit:
        text = text[:limit] + "..."
    return repr(text)


def read_text(path: PathLike) -> str:
    """The whole file as text with ``\\n`` line ends; gunzipped when the name ends ``.gz``."""
    p = Path(path)
    try:
        if p.name.endswith(".gz"):
            with gzip.open(p, "rb") as handle:
                raw = handle.read()
        else:
            raw = p.read_bytes()
    except FileNotFoundError as exc:
        raise _error(path, "no such file") from exc
    except IsADirectoryError as exc:
        raise _error(path, "is a directory, not a file") from exc
    except PermissionError as exc:
        raise _error(path, "cannot read: permission denied") from exc
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise _error(path, f"not a valid gzip file ({_one_line(str(exc)) or type(exc).__name__})") from exc
    except OSError as exc:
        raise _error(path, f"cannot read: {_one_line(exc.strerror or str(exc))}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _error(path, f"not UTF-8 text (bad byte at offset {exc.start})") from exc
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _parse_float(text: str, path: PathLike, line: int, column: int, name: str) -> float:
    """Parse one numeric field strictly: a finite decimal number, nothing else."""
    field = text.strip()
    if _NUMBER.fullmatch(field):
        value = float(field)
        if math.isfinite(value):
            return value
        raise _error(path, f"{_show(field)} is out of the float64 range", line, column, name)
    if field.lower() in _NON_FINITE_WORDS:
        raise _error(path, f"{_show(field)} is not allowed (NaN/inf); leave the field empty for a missing value", line, column, name)
    if not field:
        raise _error(path, "empty field", line, column, name)
    raise _error(path, f"{_show(field)} is not a number", line, column, name)


def _write_text(path: PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) atomically, gzip-compressed if the name ends ``.gz`` (reproducibly: mtime 0)."""
    data = text.encode("utf-8")
    with atomic_write(path, "wb") as handle:
        if Path(path).name.endswith(".gz"):
            with gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0, compresslevel=3) as compressed:
                compressed.write(data)
        else:
            handle.write(data)


def _header_of(path: PathLike) -> tuple[str, ...]:
    """The header fields of a small CSV (empty for an empty file)."""
    first = read_text(path).split("\n", 1)[0]
    return tuple(name.strip() for name in next(csv.reader([first]))) if first.strip() else ()


def _csv_rows(path: PathLike, header: Sequence[str]) -> list[tuple[int, list[str]]]:
    """The data rows of a small CSV with a fixed header, as ``(line number, fields)``; blank lines skipped."""
    text = read_text(path)
    if not text.strip():
        raise _error(path, "file is empty")
    lines = text.split("\n")
    got = [name.strip() for name in next(csv.reader([lines[0]]))] if lines[0].strip() else []
    if got != list(header):
        raise _error(path, f"header must be {','.join(header)!r}, got {_show(lines[0], 200)}", 1)
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = next(csv.reader([line]))
        if len(fields) != len(header):
            raise _error(path, f"{len(fields)} fields; the header has {len(header)}", number)
        rows.append((number, fields))
    return rows


# --------------------------------------------------------------------------------------------------
# wide samples CSV


def wide_csv_columns(role: Role, *, gyro: bool = False) -> tuple[str, ...]:
    """Column names of one role: ``<role>_x/_y/_z`` and, with ``gyro``, ``<role>_gx/_gy/_gz``."""
    axes = AXES + GYRO_AXES if gyro else AXES
    return tuple(f"{role.value}_{axis}" for axis in axes)


@dataclass(frozen=True)
class _Layout:
    """Where each role's columns sit in a wide CSV (0-based column indices)."""

    names: tuple[str, ...]
    time: int
    acc: dict[Role, tuple[int, int, int]]
    gyro: dict[Role, tuple[int, int, int]]

    def role_columns(self, role: Role) -> tuple[int, ...]:
        return self.acc[role] + self.gyro.get(role, ())


_KNOWN_COLUMNS = {
    f"{role.value}_{axis}": (role, axis) for role in ROLES for axis in AXES + GYRO_AXES
}


def _parse_header(path: PathLike, line: str) -> _Layout:
    if not line.strip():
        raise _error(path, "no header: the first line is empty (it must name the columns, starting with time_s)", 1)
    names = tuple(name.strip() for name in line.split(","))
    first = names[0]
    if _NUMBER.fullmatch(first) or first.lower() in _NON_FINITE_WORDS:
        raise _error(path, f"no header: the first line starts with the number {_show(first)} (it must name the columns, starting with time_s)", 1)
    seen: dict[str, int] = {}
    found: dict[Role, dict[str, int]] = {}
    for index, name in enumerate(names):
        column = index + 1
        if not name:
            raise _error(path, "empty column name in the header", 1, column)
        if name in seen:
            raise _error(path, f"duplicate column {name!r} (also column {seen[name] + 1})", 1, column)
        seen[name] = index
        if name == TIME_COLUMN:
            continue
        if name not in _KNOWN_COLUMNS:
            roles = ", ".join(role.value for role in ROLES)
            raise _error(path, f"unknown column {_show(name)}; expected time_s or <role>_x/y/z/gx/gy/gz with role one of {roles}", 1, column)
        role, axis = _KNOWN_COLUMNS[name]
        found.setdefault(role, {})[axis] = index
    if TIME_COLUMN not in seen:
        raise _error(path, "the header has no time_s column", 1)
    if not found:
        raise _error(path, "the header has no sensor columns (expected e.g. left_shin_x,left_shin_y,left_shin_z)", 1)
    acc: dict[Role, tuple[int, int, int]] = {}
    gyro: dict[Role, tuple[int, int, int]] = {}
    for role in ROLES:
        axes = found.get(role)
        if not axes:
            continue
        for group, target in ((AXES, acc), (GYRO_AXES, gyro)):
            present = [axis for axis in group if axis in axes]
            if present and len(present) < 3:
                missing = [f"{role.value}_{axis}" for axis in group if axis not in axes]
                raise _error(path, f"{role.value} has {', '.join(f'{role.value}_{a}' for a in present)} but not {', '.join(missing)}", 1)
            if present:
                target[role] = tuple(axes[axis] for axis in group)  # type: ignore[assignment]
        if role not in acc:
            raise _error(path, f"{role.value} has angular-rate columns but no acceleration columns {role.value}_x/y/z", 1)
    return _Layout(names=names, time=seen[TIME_COLUMN], acc=acc, gyro=gyro)


def _parse_body_fast(body: str, n_columns: int) -> np.ndarray | None:
    """Parse the data rows with numpy's C reader; ``None`` when anything looks unusual.

    Only a plain body is taken: digits, ``.eE+-``, commas and newlines, no blank lines. Empty
    fields become NaN (a literal NaN cannot pass the character check, so NaN means "empty").
    On ``None`` the caller retries once with blank lines and spaces around fields removed, then
    falls back to :func:`_parse_body_careful`, which either names the first error or parses the
    unusual-but-valid file. All paths accept exactly the same files and return the same values
    (all parse with correctly rounded decimal-to-binary conversion).
    """
    body = body.rstrip()
    if not body or body.translate(_FAST_CHARS) or "\n\n" in body:
        return None
    if ",," in body:
        body = body.replace(",,", ",nan,").replace(",,", ",nan,")
    body = body.replace(",\n", ",nan\n").replace("\n,", "\nnan,")
    if body.startswith(","):
        body = "nan" + body
    if body.endswith(","):
        body += "nan"
    try:
        data = np.loadtxt(io.StringIO(body), delimiter=",", dtype=np.float64, ndmin=2, comments=None, quotechar=None)
    except ValueError:
        return None
    if data.shape[1] != n_columns:
        return None
    return data


def _parse_body_careful(path: PathLike, lines: list[str], layout: _Layout) -> tuple[np.ndarray, np.ndarray]:
    """Field by field: return the data (NaN = empty) and each row's line number, or raise the first error."""
    names = layout.names
    n_columns = len(names)
    rows: list[list[float]] = []
    line_numbers: list[int] = []
    nan = math.nan
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        fields = line.split(",")
        if len(fields) != n_columns:
            raise _error(path, f"{len(fields)} fields; the header has {n_columns}", number)
        row = []
        for index, field in enumerate(fields):
            if field.strip():
                row.append(_parse_float(field, path, number, index + 1, names[index]))
            else:
                row.append(nan)
        rows.append(row)
        line_numbers.append(number)
    data = np.array(rows, dtype=np.float64).reshape(len(rows), n_columns)
    return data, np.array(line_numbers, dtype=np.int64)


def _check_values(path: PathLike, data: np.ndarray, line_of: np.ndarray, layout: _Layout) -> None:
    names = layout.names
    infinite = np.isinf(data)
    if infinite.any():
        row, col = np.argwhere(infinite)[0]
        raise _error(path, "value is out of the float64 range", int(line_of[row]), int(col) + 1, names[col])
    time = data[:, layout.time]
    empty_time = np.isnan(time)
    if empty_time.any():
        row = int(np.flatnonzero(empty_time)[0])
        raise _error(path, "time_s is empty", int(line_of[row]), layout.time + 1, TIME_COLUMN)
    steps = np.diff(time)
    bad = np.flatnonzero(~(steps > 0))
    if bad.size:
        row = int(bad[0]) + 1
        now, before, previous_line = float(time[row]), float(time[row - 1]), int(line_of[row - 1])
        if now == before:
            problem = f"duplicate time_s {now!r} (same as line {previous_line})"
        else:
            problem = f"time_s {now!r} is not after the previous row's {before!r} (line {previous_line})"
        raise _error(
            path,
            f"{problem}; time_s must increase strictly",
            int(line_of[row]),
            layout.time + 1,
            TIME_COLUMN,
        )
    for role in layout.acc:
        columns = layout.role_columns(role)
        empty = np.isnan(data[:, columns])
        partial = empty.any(axis=1) & ~empty.all(axis=1)
        if partial.any():
            row = int(np.flatnonzero(partial)[0])
            blank = ", ".join(names[c] for c, e in zip(columns, empty[row]) if e)
            raise _error(
                path,
                f"{role.value} has some fields empty ({blank}) and others filled; a role's fields are all filled or all empty",
                int(line_of[row]),
            )


def read_wide_csv(path: PathLike) -> Recording:
    """Read a wide samples CSV (MEASUREMENT.md §4) into a :data:`Recording`.

    The header holds ``time_s`` and, per role present, ``<role>_x,_y,_z`` (g) and optionally
    ``<role>_gx,_gy,_gz`` (deg/s), in any order. A row whose fields of one role are all empty is a
    time at which that role has no sample: sensors running at different rates share one file that
    way. Each role gets the rows where its fields are filled. Files ending ``.gz`` are gunzipped.

    Parameters
    ----------
    path : str or PathLike

    Returns
    -------
    Recording
        ``{role: RoleSamples}`` for the roles whose columns are present; ``gyro_dps`` is ``None``
        when the role has no angular-rate columns.

    Raises
    ------
    InputFormatError
        One line naming the file, the line and column where applicable, and what is wrong: missing
        or unreadable file, empty file, no header, no ``time_s``, unknown or duplicate column, a
        role's axes incomplete, wrong field count, non-numeric value, NaN/inf, ``time_s`` not
        strictly increasing, a role's fields partly empty in a row, no sensor columns, or a role with
        fewer than 2 samples.

    Notes
    -----
    A 60-minute, 4-role, 200 Hz file (720 000 rows, 13 columns, 82 MB) reads in about 3 s on a
    2-core machine: numpy's C reader parses it. Blank lines or spaces around fields cost a little
    more; anything else unusual (or an error) takes a field-by-field path (~15 s for such a file)
    that names the first error precisely.
    """
    text = read_text(path)
    if not text.strip():
        raise _error(path, "file is empty")
    header, _, body = text.partition("\n")
    layout = _parse_header(path, header)
    data = _parse_body_fast(body, len(layout.names))
    if data is not None:
        line_of = np.arange(2, data.shape[0] + 2, dtype=np.int64)
    else:
        lines = body.split("\n")
        # Second chance for valid files with blank lines or spaces around fields (hand-edited, other
        # tools): drop the blank lines, remember the line numbers of the others, strip the spaces.
        kept = [number for number, line in enumerate(lines, start=2) if line.strip()]
        cleaned = "\n".join(line for line in lines if line.strip())
        for space in (" ", "\t"):
            for pair, joined in ((space + ",", ","), ("," + space, ","), (space + "\n", "\n"), ("\n" + space, "\n")):
                while pair in cleaned:
                    cleaned = cleaned.replace(pair, joined)
        cleaned = cleaned.strip(" \t")
        data = _parse_body_fast(cleaned, len(layout.names))
        if data is not None and data.shape[0] == len(kept):
            line_of = np.array(kept, dtype=np.int64)
        else:
            data, line_of = _parse_body_careful(path, lines, layout)
    if data.shape[0] == 0:
        raise _error(path, "no data rows after the header")
    _check_values(path, data, line_of, layout)
    time = data[:, layout.time]
    recording: Recording = {}
    for role in ROLES:
        if role not in layout.acc:
            continue
        has = ~np.isnan(data[:, layout.acc[role][0]])
        count = int(has.sum())
        if count < 2:
            raise _error(path, f"{role.value} has {count} sample{'s' if count != 1 else ''}; a role needs at least 2")
        everywhere = count == data.shape[0]
        acc = data[:, layout.acc[role]] if everywhere else data[has][:, layout.acc[role]]
        gyro = None
        if role in layout.gyro:
            gyro = data[:, layout.gyro[role]] if everywhere else data[has][:, layout.gyro[role]]
            gyro = np.ascontiguousarray(gyro)
        recording[role] = RoleSamples(
            role=role,
            time_s=np.ascontiguousarray(time if everywhere else time[has]),
            acc_g=np.ascontiguousarray(acc),
            gyro_dps=gyro,
        )
    logger.debug("read %s: %d rows, roles %s", path, data.shape[0], ", ".join(r.value for r in recording))
    return recording


def _check_finite(array: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(array)):
        raise InputFormatError(_one_line(f"cannot write {what}: it holds NaN or inf values"))


def write_wide_csv(path: PathLike, recording: Recording, *, lossless: bool = False) -> None:
    """Write a recording as a wide samples CSV, atomically (gzip-compressed if ``path`` ends ``.gz``).

    Columns: ``time_s``, then ``<role>_x,_y,_z`` of every role present in :data:`~stridesync.model.ROLES`
    order (left_shin, right_shin, left_wrist, right_wrist), then ``<role>_gx,_gy,_gz`` of every role
    that has angular rate, in the same order. Rows: the sorted union of all roles' times; a role
    without a sample at a row's time (times match when float-equal) has empty fields there.

    Parameters
    ----------
    path : str or PathLike
    recording : Recording
        Times strictly increasing per role; all values finite.
    lossless : bool
        Write samples with Python's shortest round-trip repr (bit-exact, about twice the size)
        instead of ``%.6g``. ``time_s`` is always written round-trip exact.

    Raises
    ------
    InputFormatError
        The recording is empty or holds NaN/inf, or a role's times are not strictly increasing.
    OutputError
        The file cannot be written (nothing is left behind).
    """
    roles = [role for role in ROLES if role in recording]
    if not roles:
        raise InputFormatError("cannot write an empty recording (no roles)")
    for role in roles:
        samples = recording[role]
        _check_finite(samples.time_s, f"{role.value} time_s")
        _check_finite(samples.acc_g, f"{role.value} acc_g")
        if samples.gyro_dps is not None:
            _check_finite(samples.gyro_dps, f"{role.value} gyro_dps")
        if len(samples.time_s) > 1 and not np.all(np.diff(samples.time_s) > 0):
            raise InputFormatError(f"cannot write {role.value}: time_s is not strictly increasing")
    times = np.unique(np.concatenate([np.asarray(recording[role].time_s, dtype=np.float64) for role in roles]))
    n_rows = len(times)
    value_format = "%r" if lossless else "%.6g"

    header = [TIME_COLUMN]
    groups: list[tuple[Role, np.ndarray]] = []  # (role, values) per column group, in column order
    for role in roles:
        header += wide_csv_columns(role)
        groups.append((role, recording[role].acc_g))
    for role in roles:
        gyro = recording[role].gyro_dps
        if gyro is not None:
            header += [f"{role.value}_{axis}" for axis in GYRO_AXES]
            groups.append((role, gyro))

    columns: list[Any] = [[repr(t) for t in times.tolist()]]
    for role, values in groups:
        fmt = ",".join([value_format] * 3)
        cells = [fmt % tuple(row) for row in np.asarray(values, dtype=np.float64).tolist()]
        if len(cells) == n_rows:
            columns.append(cells)
        else:
            filled = np.full(n_rows, ",,", dtype=object)
            filled[np.searchsorted(times, recording[role].time_s)] = cells
            columns.append(filled.tolist())
    lines = [",".join(header)]
    lines += [",".join(row) for row in zip(*columns)]
    lines.append("")
    _write_text(path, "\n".join(lines))


# --------------------------------------------------------------------------------------------------
# events CSV


def _fmt_required(value: float, fmt: str, what: str) -> str:
    value = float(value)
    if not math.isfinite(value):
        raise InputFormatError(_one_line(f"cannot write {what}: value {value!r} is not finite"))
    return fmt % value


def write_events_csv(path: PathLike, events: Iterable[Event]) -> None:
    """Write events as ``role,event,time_s,amplitude,unit,stride_index,source``, atomically, in the given
    order. ``time_s`` has 6 decimals (1 µs), ``amplitude`` 4 decimals.
    """
    lines = [",".join(EVENTS_HEADER)]
    for index, event in enumerate(events):
        what = f"event {index} ({event.role}, {event.kind})"
        lines.append(
            f"{Role(event.role).value},{EventKind(event.kind).value},"
            f"{_fmt_required(event.time_s, '%.6f', what + ' time_s')},"
            f"{_fmt_required(event.amplitude, '%.4f', what + ' amplitude')},"
            f"{event.unit},{int(event.stride_index)},{event.source}"
        )
    lines.append("")
    _write_text(path, "\n".join(lines))


_ROLE_BY_NAME = {role.value: role for role in ROLES}
_KIND_BY_NAME = {kind.value: kind for kind in EventKind}
_INTEGER = re.compile(r"[+-]?\d+")


def read_events_csv(path: PathLike) -> list[Event]:
    """Read an events CSV (MEASUREMENT.md §7) in file order; a version-1 file (without ``unit`` and
    ``source``) reads as accelerometer events.

    Raises
    ------
    InputFormatError
        Wrong header, wrong field count, unknown role or event, an event that does not belong to the
        role (``contact``/``push``/``swing`` are shin events, ``arm_fwd``/``arm_back`` wrist events),
        a non-numeric or non-finite time or amplitude, a stride index that is not a whole number ≥ 0, an
        unknown source, or a unit that does not match the source and event.
    """
    events = []
    v1 = _header_of(path) == EVENTS_HEADER_V1
    for number, fields in _csv_rows(path, EVENTS_HEADER_V1 if v1 else EVENTS_HEADER):
        fields = [f.strip() for f in fields]
        if v1:
            role_text, kind_text, time_text, amplitude_text, index_text = fields
            unit_text, source = "g", "accel"
        else:
            role_text, kind_text, time_text, amplitude_text, unit_text, index_text, source = fields
        role = _ROLE_BY_NAME.get(role_text)
        if role is None:
            raise _error(path, f"unknown role {_show(role_text)}; expected one of {', '.join(_ROLE_BY_NAME)}", number, 1, "role")
        kind = _KIND_BY_NAME.get(kind_text)
        if kind is None:
            raise _error(path, f"unknown event {_show(kind_text)}; expected one of {', '.join(_KIND_BY_NAME)}", number, 2, "event")
        if kind not in (SHIN_EVENTS if role.is_shin else WRIST_EVENTS):
            raise _error(path, f"{kind.value} is not an event of {role.value}", number, 2, "event")
        time_s = _parse_float(time_text, path, number, 3, "time_s")
        amplitude = _parse_float(amplitude_text, path, number, 4, "amplitude")
        col = 5 if v1 else 6
        if not _INTEGER.fullmatch(index_text) or int(index_text) < 0:
            raise _error(path, f"{_show(index_text)} is not a whole number >= 0", number, col, "stride_index")
        if source not in SOURCES:
            raise _error(path, f"unknown source {_show(source)}; expected one of {', '.join(SOURCES)}", number, 7, "source")
        if unit_text != event_unit(source, kind):
            raise _error(path, f"unit {_show(unit_text)} does not fit a {source} {kind.value} "
                               f"(expected {event_unit(source, kind)})", number, 5, "unit")
        events.append(Event(role, kind, time_s, amplitude, int(index_text), source))
    return events


# --------------------------------------------------------------------------------------------------
# steps CSV


def write_steps_csv(path: PathLike, steps: Iterable[Step]) -> None:
    """Write steps with the 12 columns of MEASUREMENT.md §4, atomically, in the given order.

    Number formats are in the module docstring (times 6 decimals, ms and % 3 decimals, score 2).
    An optional value that is ``None`` or NaN is written as an empty field, never 0; the required
    ``time_s``, ``stride_time_s`` and ``cadence_spm`` must be finite.
    """
    lines = [",".join(STEPS_HEADER)]
    for index, step in enumerate(steps):
        fields = []
        for name in STEPS_HEADER:
            value = getattr(step, name)
            if name == "stance_side":
                fields.append(Side(value).value)
            elif name in _STEP_REQUIRED:
                fields.append(_fmt_required(value, _STEP_FORMATS[name], f"step {index} {name}"))
            elif value is None or math.isnan(value):
                fields.append("")
            elif math.isinf(value):
                raise InputFormatError(f"cannot write step {index} {name}: value {value!r} is not finite")
            else:
                fields.append(_STEP_FORMATS[name] % value)
        lines.append(",".join(fields))
    lines.append("")
    _write_text(path, "\n".join(lines))


def read_steps_csv(path: PathLike) -> list[Step]:
    """Read a steps CSV (MEASUREMENT.md §4) in file order; an empty optional field becomes ``None``.

    Raises
    ------
    InputFormatError
        Wrong header, wrong field count, a ``stance_side`` other than ``left``/``right``, an empty
        required field (``time_s``, ``stance_side``, ``stride_time_s``, ``cadence_spm``), or a
        non-numeric or non-finite value.
    """
    steps = []
    for number, fields in _csv_rows(path, STEPS_HEADER):
        values: dict[str, Any] = {}
        for column, (name, text) in enumerate(zip(STEPS_HEADER, fields), start=1):
            text = text.strip()
            if name == "stance_side":
                if text not in ("left", "right"):
                    raise _error(path, f"stance_side must be 'left' or 'right', got {_show(text)}", number, column, name)
                values[name] = Side(text)
            elif not text:
                if name in _STEP_REQUIRED:
                    raise _error(path, "empty field; this value is required", number, column, name)
                values[name] = None
            else:
                values[name] = _parse_float(text, path, number, column, name)
        steps.append(Step(**values))
    return steps


# --------------------------------------------------------------------------------------------------
# summary JSON


def jsonable(value: Any, where: str = "summary") -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value, where)
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return [jsonable(item, where) for item in value.tolist()]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            key = key.value if isinstance(key, Enum) else key
            out[str(key)] = jsonable(item, f"{where}[{key!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [jsonable(item, where) for item in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{where}: cannot store a {type(value).__name__} in the summary JSON")


def write_summary_json(path: PathLike, summary: dict) -> None:
    """Write a summary as JSON, atomically: sorted keys, 2-space indent, UTF-8, trailing newline.

    NaN and ±inf become ``null`` (strict JSON has no NaN). Enums become their value, numpy scalars
    and arrays plain numbers and lists, tuples lists, dict keys strings.
    """
    text = json.dumps(jsonable(summary), sort_keys=True, indent=2, allow_nan=False, ensure_ascii=False)
    _write_text(path, text + "\n")


def read_summary_json(path: PathLike) -> dict:
    """Read a summary JSON written by :func:`write_summary_json` (``null`` stays ``None``)."""
    text = read_text(path)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _error(path, f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from exc
    if not isinstance(value, dict):
        raise _error(path, "a summary must be a JSON object")
    return value
