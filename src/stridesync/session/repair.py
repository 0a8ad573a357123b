"""Salvage what is intact in a damaged session file, through SQLite itself.

A session file can be damaged by a failing card, a copy cut short or a bad sector. SQLite's B-trees
keep every row in a leaf page reached from its table's root: a damaged page costs the rows under it,
and the rest can still be read by SQL, as long as the query does not walk through the damage. So the
salvage reads each table by ranges of its ``rowid`` (a B-tree seek per range); a range whose read fails
with SQLite's own corruption error is halved until the unreadable rowids are isolated, and every row
that reads is copied, unchanged, into a fresh session file with the same schema. Nothing here parses
file bytes: every row comes from an SQL query that SQLite answered.

Why not the ``sqlite3`` shell's ``.recover``: it would also read rows out of orphaned pages, but it
needs the ``sqlite_dbpage`` table, which the shell of many Linux distributions is built without (it
fails with "SQL logic error"), and Python's ``sqlite3`` has no binding for SQLite's recovery API.

The cached results (events, steps, summary) of a file that lost any input, event or step are dropped:
they no longer match the inputs, and export, report and replay recompute them from what was saved.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .store import SCHEMA, APPLICATION_ID, KIND_NAMES, SCHEMA_VERSION, SessionError, one_line

log = logging.getLogger(__name__)

__all__ = ["RepairReport", "TableSalvage", "repair_session"]

#: rowids read per query when a range reads cleanly
CHUNK = 4096
#: tables whose rows, when lost, make the cached results stale
_RESULT_INPUTS = ("inputs", "events", "steps")
_RESULT_TABLES = ("events", "steps", "summary")
#: tables whose rowids have no holes by construction (append-only): a hole in a damaged file is a lost row
_DENSE_ROWIDS = ("inputs", "clock", "marks", "sensors")
#: a table whose last rowid cannot be read is walked this many rowids past its last readable row
_TAIL_PROBE = 65536


@dataclass
class TableSalvage:
    """What one table gave back: rows copied, and the rowids that could not be read (``lost_ranges``
    as inclusive ``(first, last)`` spans). ``whole_lost`` when not even the table's first page reads."""

    name: str
    saved: int = 0
    lost: int = 0
    lost_ranges: list[tuple[int, int]] = field(default_factory=list)
    whole_lost: bool = False
    tail_damaged: bool = False
    by_kind: dict[str, int] = field(default_factory=dict)  # inputs: saved rows per input kind
    #: rowid spans between saved rows that did not come back (a damaged page that read as fewer rows)
    gaps: list[tuple[int, int]] = field(default_factory=list)

    def count_gaps(self) -> None:
        """Missing rowids count as lost (our tables' rowids are dense: inputs.seq, clock, marks, sensors)."""
        self.lost_ranges = sorted(set(self.lost_ranges) | set(self.gaps))
        merged: list[tuple[int, int]] = []
        for a, b in self.lost_ranges:
            if merged and a <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
            else:
                merged.append((a, b))
        self.lost_ranges = merged
        self.lost = sum(b - a + 1 for a, b in merged)

    @property
    def intact(self) -> bool:
        return not (self.lost or self.whole_lost or self.tail_damaged)


@dataclass
class RepairReport:
    """The salvage of one file, table by table."""

    source: Path
    out: Path
    tables: dict[str, TableSalvage]
    schema_from: str  # 'file' (the damaged file's own schema) or 'default' (this version's)
    results_dropped: bool

    @property
    def damaged(self) -> bool:
        return any(not t.intact for t in self.tables.values())

    def lines(self) -> list[str]:
        """One line per table: saved rows (per input kind for ``inputs``), and what was lost."""
        out = []
        for t in self.tables.values():
            what = f"{t.saved} row{'s' if t.saved != 1 else ''} saved"
            if t.name == "inputs" and t.by_kind:
                what += " (" + ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in t.by_kind.items()) + ")"
            if t.whole_lost:
                lost = "lost: the whole table is unreadable"
            elif t.lost or t.tail_damaged:
                spans = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in t.lost_ranges[:4])
                more = f" and {len(t.lost_ranges) - 4} more spans" if len(t.lost_ranges) > 4 else ""
                lost = f"lost: {t.lost} row{'s' if t.lost != 1 else ''} (rowids {spans}{more})" if t.lost else "lost: —"
                if t.tail_damaged:
                    lost += "; the table's end is damaged, later rows (if any) are lost"
            else:
                lost = "intact"
            out.append(f"  {t.name:<8} {what}; {lost}")
        return out


def _is_damage(exc: sqlite3.Error) -> bool:
    """SQLite's own word that the file is damaged (not a bug in our SQL)."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, (sqlite3.ProgrammingError,
                                                                           sqlite3.InterfaceError))


class _Reader:
    def __init__(self, con: sqlite3.Connection, table: str):
        self.con, self.table = con, table

    def rows(self, lo: int, hi: int) -> list[tuple]:
        """Rows with ``lo <= rowid <= hi`` (rowid first), or raise the damage error."""
        return self.con.execute(f'SELECT rowid, * FROM "{self.table}" WHERE rowid BETWEEN ? AND ? ORDER BY rowid',
                                (lo, hi)).fetchall()

    def salvage(self, lo: int, hi: int, put, t: TableSalvage) -> None:
        """Copy every readable row of ``[lo, hi]``; isolate the unreadable rowids by halving."""
        stack = [(lo, hi)]
        while stack:
            a, b = stack.pop()
            try:
                got = self.rows(a, b)
            except sqlite3.Error as exc:
                if not _is_damage(exc):
                    raise
                if a == b:
                    if t.lost_ranges and t.lost_ranges[-1][1] == a - 1:
                        t.lost_ranges[-1] = (t.lost_ranges[-1][0], a)
                    else:
                        t.lost_ranges.append((a, a))
                    t.lost += 1
                    continue
                mid = (a + b) // 2
                stack += [(mid + 1, b), (a, mid)]  # the lower half first: rows stay in rowid order
                continue
            if got:
                put(got)


def _bounds(con: sqlite3.Connection, table: str) -> tuple[int, int] | None | str:
    """``(min, max)`` rowid; None for an empty table; 'lo' when only the minimum reads; 'none' if neither."""
    try:
        lo = con.execute(f'SELECT min(rowid) FROM "{table}"').fetchone()[0]
    except sqlite3.Error:
        lo = "?"
    try:
        hi = con.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()[0]
    except sqlite3.Error:
        hi = "?"
    if lo is None and hi is None:
        return None
    if lo == "?" and hi == "?":
        return "none"
    if hi == "?":
        return "lo"
    return (0 if lo == "?" else int(lo), int(hi))


def _schema(src: sqlite3.Connection) -> tuple[list[tuple[str, str]], str]:
    """``(table, CREATE statement)`` of the damaged file, or of this version's schema if unreadable."""
    try:
        rows = src.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL"
                           " AND name NOT LIKE 'sqlite_%' ORDER BY rootpage").fetchall()
        if {"meta", "sensors", "inputs"} <= {n for n, _ in rows}:
            return rows, "file"
    except sqlite3.Error:
        pass
    rows = []
    for statement in SCHEMA.split(";"):
        s = statement.strip()
        if s:
            rows.append((s.split()[2], s))
    return rows, "default"


def repair_session(path: str | os.PathLike, out: str | os.PathLike) -> RepairReport:
    """Copy every readable row of the session file ``path`` into a new session file ``out``.

    ``out`` is written atomically (it appears complete, or not at all) and must not exist. Raises
    :class:`SessionError` (one line) when ``path`` is not an SQLite file at all, or nothing of a session
    could be read from it.
    """
    from ..io import AtomicOutputs, check_writable

    path, out = Path(path), Path(out)
    if not path.exists():
        raise SessionError(f"{path}: no such session file")
    if path.is_dir():
        raise SessionError(f"{path} is a directory, not a session file")
    if out.exists():
        raise SessionError(f"{out} already exists; choose another name (a session is never overwritten)")
    if out.resolve() == path.resolve():
        raise SessionError("--out must be a new file, not the damaged one")
    check_writable([out])
    with open(path, "rb") as f:
        head = f.read(100)
    if not head.startswith(b"SQLite format 3\0"):
        raise SessionError(f"{path} is not an SQLite database: there is nothing SQLite can salvage")
    # a copy is read (with its write-ahead log, if one was left beside it): the damaged file is never touched
    work = tempfile.TemporaryDirectory(prefix="stridesync-repair-")
    copy = Path(work.name) / "damaged.stridesync"
    shutil.copyfile(path, copy)
    if Path(f"{path}-wal").exists():
        shutil.copyfile(f"{path}-wal", f"{copy}-wal")
    src = sqlite3.connect(copy, isolation_level=None)
    try:
        try:
            version = int(src.execute("PRAGMA user_version").fetchone()[0]) or SCHEMA_VERSION
        except sqlite3.Error:
            version = SCHEMA_VERSION
        tables, schema_from = _schema(src)
        report = RepairReport(path, out, {}, schema_from, False)
        with AtomicOutputs([out]) as outputs:
            tmp = outputs.temp_path(out)
            if tmp.exists():
                tmp.unlink()
            dst = sqlite3.connect(tmp, isolation_level=None)
            try:
                dst.execute(f"PRAGMA application_id={APPLICATION_ID}")
                dst.execute("BEGIN")
                for _, sql in tables:
                    dst.execute(sql)
                try:
                    damaged = src.execute("PRAGMA quick_check").fetchone()[0] != "ok"
                except sqlite3.Error:
                    damaged = True
                for name, _ in tables:
                    report.tables[name] = _copy_table(src, dst, name)
                    if damaged and name in _DENSE_ROWIDS:
                        report.tables[name].count_gaps()
                _finish(dst, report, version)
                dst.execute("COMMIT")
            finally:
                dst.close()
            if not report.tables.get("sensors") or not report.tables["sensors"].saved:
                raise SessionError(f"{path}: no sensor of the session could be read; nothing useful to salvage")
        return report
    finally:
        src.close()
        work.cleanup()


def _copy_table(src: sqlite3.Connection, dst: sqlite3.Connection, name: str) -> TableSalvage:
    t = TableSalvage(name)
    kinds: dict[int, int] = {}

    cols = [r[1] for r in dst.execute(f'PRAGMA table_info("{name}")')]
    names = ", ".join(f'"{c}"' for c in cols)
    marks = ", ".join("?" * (len(cols) + 1))
    insert = f'INSERT OR IGNORE INTO "{name}" (rowid, {names}) VALUES ({marks})'

    last = [None]  # the last rowid saved: a jump past it is a span of rows that did not come back

    def put(rows: list[tuple]) -> None:
        if last[0] is not None and rows[0][0] > last[0] + 1:
            t.gaps.append((last[0] + 1, rows[0][0] - 1))
        for a, b in zip(rows, rows[1:]):
            if b[0] > a[0] + 1:
                t.gaps.append((a[0] + 1, b[0] - 1))
        last[0] = rows[-1][0]
        before = dst.total_changes
        dst.executemany(insert, rows)  # rowids kept: inputs.seq and every order by rowid survive
        t.saved += dst.total_changes - before  # a garbled row that breaks a constraint is not saved
        if name == "inputs":
            for r in rows:
                kinds[r[2]] = kinds.get(r[2], 0) + 1

    reader = _Reader(src, name)
    b = _bounds(src, name)
    if b is None:
        return t
    if b == "none":
        t.whole_lost = True
        try:  # a first chunk may still read (the damage is elsewhere in the tree)
            reader.salvage(0, CHUNK, put, TableSalvage(name))
        except sqlite3.Error:
            pass
        t.whole_lost = t.saved == 0
    elif b == "lo":  # the right edge of the tree is damaged: walk on until nothing more reads
        t.tail_damaged = True
        lo, last_good = 0, -1
        while lo <= last_good + _TAIL_PROBE:
            before = t.saved
            probe = TableSalvage(name)
            reader.salvage(lo, lo + CHUNK - 1, put, probe)
            if t.saved > before:
                last_good = lo + CHUNK - 1
                t.lost += probe.lost
                t.lost_ranges += probe.lost_ranges
            lo += CHUNK
    else:
        lo, hi = b
        for a in range(lo, hi + 1, CHUNK):
            reader.salvage(a, min(a + CHUNK - 1, hi), put, t)
    t.by_kind = {KIND_NAMES.get(k, str(k)): n for k, n in sorted(kinds.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))}
    return t


def _finish(dst: sqlite3.Connection, report: RepairReport, version: int) -> None:
    """Stamp the copy: schema version, why it is incomplete, and no stale cached results."""
    lost_results = any(not report.tables[n].intact for n in _RESULT_INPUTS if n in report.tables)
    if lost_results and all(n in report.tables for n in _RESULT_TABLES):
        for n in _RESULT_TABLES:
            dst.execute(f'DELETE FROM "{n}"')
        report.results_dropped = True
    dst.execute(f"PRAGMA user_version={int(version)}")
    if "meta" not in report.tables:
        return
    info = {"from": str(report.source), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "tables": {t.name: {"saved": t.saved, "lost": t.lost, "whole_lost": t.whole_lost,
                                "tail_damaged": t.tail_damaged} for t in report.tables.values()}}
    items = {"repaired": info}
    if not report.tables.get("inputs", TableSalvage("inputs")).intact:
        items["complete"] = False
        items["recording_error"] = f"repaired from a damaged file: {report.tables['inputs'].lost} inputs could not be read"
    dst.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in items.items()])

