"""The session file: one SQLite database per session (WAL mode, versioned schema), and its reader.

Why SQLite: a single file a coach can copy, crash-safe commits (WAL: a process killed mid-recording
loses at most the transaction in flight), random access for seek, and readable with any tool.

What a session holds (schema version :data:`SCHEMA_VERSION`, in ``PRAGMA user_version``):

``meta``
    key → JSON value: athlete, date (ISO 8601, UTC), notes, tags, software_version, target_model,
    detector_settings (:meth:`DetectorConfig.to_dict`), source ('live' or 'import'), complete, ...
``sensors``
    one row per sensor: serial, role, mounting, firmware, nominal rate (Hz), ranges, address, name.
``inputs``
    the ground truth, in the order it was received (``seq``). For a live session, every call the
    :class:`~stridesync.live.LiveAnalyzer` received: raw packets (``data``) with their arrival time
    ``t_s`` and the decoded header's sensor time ``sensor_us`` and sample count ``n``; TIME_SYNC
    exchanges (``t1_s``, ``t2_us``, ``t3_us``, ``t4_s``); link states; ticks; the finish. For an
    imported session, blocks of samples (``data`` = float64 rows of time_s, acc x/y/z in g[, gyro
    x/y/z in deg/s]).
``clock``
    periodic snapshots of each sensor's clock map (:meth:`ClockModel.to_dict` as JSON).
``marks``
    laps and markers on the session clock.
``events``, ``steps``, ``summary``
    derived results, a cache that can always be recomputed; ``source`` is 'live' (computed while
    recording or importing) or 'recompute' (a later replay through the current core).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.config import DetectorConfig
from ..errors import ConfigError, StrideSyncError
from ..model import Event, EventKind, InputKind, Role, Side, Step

log = logging.getLogger(__name__)

__all__ = ["SCHEMA_VERSION", "SESSION_SUFFIX", "Input", "Mark", "SensorInfo", "Session", "SessionDamagedError",
           "SessionError", "create_session", "put_results"]

#: the schema this code writes and reads; a file with a higher ``user_version`` is refused
SCHEMA_VERSION = 2
#: schema 1 files were analysed under measurement contract v1: their cached results are outdated
FIRST_V2_SCHEMA = 2
#: file name extension of session files (SQLite inside)
SESSION_SUFFIX = ".stridesync"
#: ``application_id`` header field ("SSYN"): lets ``file`` and this reader recognise our files
APPLICATION_ID = 0x5353594E


class SessionError(StrideSyncError):
    """A session file cannot be used: missing, truncated, corrupt, foreign or too new."""


class SessionDamagedError(SessionError):
    """A session file whose pages are damaged (truncated, overwritten): ``stridesync repair`` can salvage
    its intact rows (:mod:`stridesync.session.repair`). ``path`` is the damaged file."""

    def __init__(self, message: str, path: Path):
        super().__init__(message)
        self.path = path


#: input kinds (``inputs.kind``): the enum of :mod:`stridesync.model`, under the name this module has used
Kind = InputKind

KIND_NAMES = {k: k.word for k in InputKind}

SOURCES = ("live", "recompute")

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sensors (id INTEGER PRIMARY KEY, serial TEXT NOT NULL UNIQUE, role TEXT, mounting TEXT,
    firmware TEXT, rate_hz REAL, acc_range_g REAL, gyro_range_dps REAL, address TEXT, name TEXT);
CREATE TABLE inputs (seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, t_s REAL NOT NULL, sensor INTEGER,
    sensor_us INTEGER, n INTEGER, data BLOB, t1_s REAL, t2_us INTEGER, t3_us INTEGER, t4_s REAL,
    state TEXT, battery_pct INTEGER, rssi INTEGER);
CREATE TABLE clock (t_s REAL NOT NULL, sensor INTEGER NOT NULL, model TEXT NOT NULL);
CREATE TABLE marks (id INTEGER PRIMARY KEY, t_s REAL NOT NULL, kind TEXT NOT NULL, label TEXT);
CREATE TABLE events (source TEXT NOT NULL, idx INTEGER NOT NULL, role TEXT NOT NULL, kind TEXT NOT NULL,
    time_s REAL NOT NULL, amplitude REAL NOT NULL, stride_index INTEGER NOT NULL, rules TEXT NOT NULL,
    PRIMARY KEY (source, idx));
CREATE TABLE steps (source TEXT NOT NULL, idx INTEGER NOT NULL, time_s REAL NOT NULL, stance_side TEXT NOT NULL,
    stride_time_s REAL NOT NULL, cadence_spm REAL NOT NULL, contact_time_s REAL, swing_lag_ms REAL,
    ipsi_arm_lag_ms REAL, contra_arm_lag_ms REAL, swing_lag_pct REAL, ipsi_arm_lag_pct REAL,
    contra_arm_lag_pct REAL, sync_score REAL, PRIMARY KEY (source, idx));
CREATE TABLE summary (source TEXT PRIMARY KEY, json TEXT NOT NULL);
"""
_TABLES = {"meta", "sensors", "inputs", "clock", "marks", "events", "steps", "summary"}

_STEP_FIELDS = ("time_s", "stance_side", "stride_time_s", "cadence_spm", "contact_time_s", "swing_lag_ms",
                "ipsi_arm_lag_ms", "contra_arm_lag_ms", "swing_lag_pct", "ipsi_arm_lag_pct", "contra_arm_lag_pct",
                "sync_score")


@dataclass(frozen=True)
class SensorInfo:
    """One sensor of a session. ``rate_hz`` is the nominal rate the analyser was set up with."""

    serial: str
    role: Role | None
    rate_hz: float | None = None
    mounting: tuple[str, ...] = ("+x", "+y", "+z")
    firmware: str | None = None
    acc_range_g: float | None = None
    gyro_range_dps: float | None = None
    address: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Mark:
    """A lap or marker on the session clock (s)."""

    t_s: float
    kind: str  # 'lap' or 'marker'
    label: str = ""


@dataclass(frozen=True)
class Input:
    """One recorded input, as stored (unused fields are None)."""

    seq: int
    kind: int
    t_s: float
    sensor: str | None
    sensor_us: int | None = None
    n: int | None = None
    data: bytes | None = None
    t1_s: float | None = None
    t2_us: int | None = None
    t3_us: int | None = None
    t4_s: float | None = None
    state: str | None = None
    battery_pct: int | None = None
    rssi: int | None = None


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def _short(text: object, limit: int = 120) -> str:
    """SQLite's message on one line, cut to ``limit`` characters."""
    line = one_line(text)
    return line if len(line) <= limit else line[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------- writing
def create_session(path: str | os.PathLike, *, sensors: Iterable[SensorInfo], config: DetectorConfig,
                   meta: dict[str, Any], check_same_thread: bool = True) -> sqlite3.Connection:
    """Create a new session file and return its open connection (WAL, ``synchronous=NORMAL``).

    Raises :class:`SessionError` if ``path`` exists (a recording is never overwritten) or cannot be
    created.
    """
    path = Path(path)
    if path.exists():
        raise SessionError(f"{path} already exists; choose another name (a session is never overwritten)")
    try:
        con = sqlite3.connect(path, isolation_level=None, check_same_thread=check_same_thread)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute(f"PRAGMA application_id={APPLICATION_ID}")
        con.execute("BEGIN")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                con.execute(statement)
        con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        from .. import __version__
        full = {"software_version": __version__, "target_model": config.target_model,
                "detector_settings": config.to_dict(), "schema_version": SCHEMA_VERSION, **meta}
        con.executemany("INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in full.items()])
        for s in sensors:
            upsert_sensor(con, s)
        con.execute("COMMIT")
    except (sqlite3.Error, OSError) as exc:
        raise SessionError(f"cannot create session {path}: {one_line(exc)}") from None
    return con


def upsert_sensor(con: sqlite3.Connection, s: SensorInfo) -> int:
    row = con.execute("SELECT id FROM sensors WHERE serial = ?", (s.serial,)).fetchone()
    values = (s.role.value if s.role else None, json.dumps(list(s.mounting)), s.firmware, s.rate_hz,
              s.acc_range_g, s.gyro_range_dps, s.address, s.name)
    if row is None:
        return con.execute("INSERT INTO sensors (serial, role, mounting, firmware, rate_hz, acc_range_g, gyro_range_dps,"
                           " address, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (s.serial, *values)).lastrowid
    con.execute("UPDATE sensors SET role=?, mounting=?, firmware=?, rate_hz=?, acc_range_g=?, gyro_range_dps=?,"
                " address=?, name=? WHERE id=?", (*values, row[0]))
    return int(row[0])


def set_meta(con: sqlite3.Connection, items: dict[str, Any]) -> None:
    con.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in items.items()])


def _num(v: float | None) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def put_results(con: sqlite3.Connection, source: str, events: Iterable[Event], steps: Iterable[Step],
                summary: dict | None) -> None:
    """Replace the cached results of ``source`` ('live' or 'recompute') in one transaction."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    from ..io.csvio import jsonable
    own = not con.in_transaction
    if own:
        con.execute("BEGIN")
    try:
        for table in ("events", "steps", "summary"):
            con.execute(f"DELETE FROM {table} WHERE source = ?", (source,))
        con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [(source, i, e.role.value, e.kind.value, float(e.time_s), float(e.amplitude), int(e.stride_index),
                          e.source)
                         for i, e in enumerate(events)])
        con.executemany(f"INSERT INTO steps VALUES ({', '.join('?' * 14)})",
                        [(source, i, float(s.time_s), s.stance_side.value, float(s.stride_time_s), float(s.cadence_spm),
                          *(_num(getattr(s, f)) for f in _STEP_FIELDS[4:])) for i, s in enumerate(steps)])
        if summary is not None:
            con.execute("INSERT INTO summary VALUES (?, ?)", (source, json.dumps(jsonable(summary), sort_keys=True)))
        if own:
            con.execute("COMMIT")
    except BaseException:
        if own and con.in_transaction:
            con.execute("ROLLBACK")
        raise


# ---------------------------------------------------------------------------------------------- reading
class Session:
    """A session file opened for reading. Use :meth:`open`; close it (or use ``with``) when done.

    Everything is read lazily from the file; the inputs are read in ``seq`` order.
    """

    def __init__(self, path: Path, con: sqlite3.Connection, version: int):
        self.path = path
        self._con = con
        self.schema_version = version
        self._meta: dict[str, Any] | None = None
        self._sensors: list[SensorInfo] | None = None
        self._ids: dict[int, str] | None = None

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: str | os.PathLike) -> "Session":
        """Open ``path``; :class:`SessionError` (one line) if it is missing, truncated, corrupt, foreign or newer."""
        path = Path(path)
        if not path.exists():
            raise SessionError(f"{path}: no such session file")
        if path.is_dir():
            raise SessionError(f"{path} is a directory, not a session file")
        try:
            with open(path, "rb") as f:
                head = f.read(100)
        except OSError as exc:
            raise SessionError(f"cannot read {path}: {one_line(exc.strerror or exc)}") from None
        if not head.startswith(b"SQLite format 3\0"):
            raise SessionError(f"{path} is not a StrideSync session file (not an SQLite database)")
        if len(head) < 100:
            raise SessionError(f"session file {path} is truncated")
        con = None
        try:
            try:
                con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None,
                                      check_same_thread=False)
                con.execute("PRAGMA schema_version").fetchone()
            except sqlite3.OperationalError:  # a read-only place: read the main file as it is
                if con is not None:
                    con.close()
                con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True,
                                      isolation_level=None, check_same_thread=False)
            version = int(con.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise SessionError(f"session file {path} was written by a newer StrideSync (schema {version}); update")
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if version < 1 or not _TABLES <= tables:
                raise SessionError(f"{path} is not a StrideSync session file (an SQLite database without its tables)")
            check = con.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":  # SQLite's diagnostics run to pages of text: the one line says what it means
                raise SessionDamagedError(f"session file {path} is corrupt (damaged pages)", path)
            con.execute("SELECT count(*) FROM inputs").fetchone()
            session = cls(path, con, version)
            session.meta  # noqa: B018 - parse now so that a bad file fails here
            session.sensors  # noqa: B018
            return session
        except SessionError:
            if con is not None:
                con.close()
            raise
        except (sqlite3.Error, ValueError, KeyError, TypeError, ConfigError) as exc:
            if con is not None:
                con.close()
            if isinstance(exc, sqlite3.DatabaseError):
                raise SessionDamagedError(f"session file {path} is truncated or corrupt ({_short(exc)})", path) from None
            raise SessionError(f"session file {path} is unreadable ({one_line(exc)})") from None

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        try:
            return self._con.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise SessionDamagedError(f"session file {self.path} is corrupt ({_short(exc)})", self.path) from None

    # ------------------------------------------------------------------ metadata
    @property
    def meta(self) -> dict[str, Any]:
        if self._meta is None:
            self._meta = {k: json.loads(v) for k, v in self._query("SELECT key, value FROM meta")}
        return self._meta

    athlete = property(lambda self: str(self.meta.get("athlete") or ""))
    date = property(lambda self: str(self.meta.get("date") or ""))
    notes = property(lambda self: str(self.meta.get("notes") or ""))
    tags = property(lambda self: list(self.meta.get("tags") or []))
    software_version = property(lambda self: str(self.meta.get("software_version") or ""))
    target_model = property(lambda self: str(self.meta.get("target_model") or "together"))
    #: 'live' (recorded packets) or 'import' (samples)
    source = property(lambda self: str(self.meta.get("source") or "live"))
    #: False when the recording did not end cleanly (killed, crashed) or stopped early (disk full)
    complete = property(lambda self: bool(self.meta.get("complete")))
    recording_error = property(lambda self: self.meta.get("recording_error"))

    @property
    def detector_config(self) -> DetectorConfig:
        """The exact detector settings the session was analysed with."""
        return DetectorConfig.from_dict(self.meta.get("detector_settings") or {})

    @property
    def sensors(self) -> list[SensorInfo]:
        if self._sensors is None:
            rows = self._query("SELECT id, serial, role, mounting, firmware, rate_hz, acc_range_g, gyro_range_dps,"
                               " address, name FROM sensors ORDER BY id")
            self._sensors = [SensorInfo(serial, Role(role) if role else None, rate, tuple(json.loads(m or '["+x","+y","+z"]')),
                                        fw, acc, gyro, addr, name)
                             for _, serial, role, m, fw, rate, acc, gyro, addr, name in rows]
            self._ids = {r[0]: r[1] for r in rows}
        return self._sensors

    @property
    def sensor_ids(self) -> dict[int, str]:
        self.sensors  # noqa: B018
        return dict(self._ids or {})

    @property
    def roles(self) -> list[Role]:
        return [s.role for s in self.sensors if s.role is not None]

    @property
    def time_range_s(self) -> tuple[float, float] | None:
        """First and last input time (s on the session clock); None if nothing was recorded."""
        lo, hi = self._query("SELECT min(t_s), max(t_s) FROM inputs WHERE kind IN (?, ?)", (Kind.PACKET, Kind.SAMPLES))[0]
        if lo is None:
            return None
        if self.source == "import":  # a samples block starts at t_s; its last time is in its data
            row = self._query("SELECT n, data FROM inputs WHERE kind = ? ORDER BY t_s DESC LIMIT 8", (Kind.SAMPLES,))
            hi = max(float(np.frombuffer(d, "<f8").reshape(n, -1)[-1, 0]) for n, d in row)
        return float(lo), float(hi)

    @property
    def duration_s(self) -> float:
        r = self.time_range_s
        return 0.0 if r is None else r[1] - r[0]

    @property
    def n_inputs(self) -> int:
        return int(self._query("SELECT count(*) FROM inputs")[0][0])

    def count(self, kind: int) -> int:
        return int(self._query("SELECT count(*) FROM inputs WHERE kind = ?", (kind,))[0][0])

    @property
    def file_size_bytes(self) -> int:
        return sum(p.stat().st_size for p in (self.path, Path(str(self.path) + "-wal")) if p.exists())

    # ------------------------------------------------------------------ raw inputs
    def inputs(self, *, kinds: Iterable[int] | None = None, batch: int = 20000) -> Iterator[Input]:
        """Every recorded input in ``seq`` order (optionally only some kinds)."""
        ids = self.sensor_ids
        where = ""
        if kinds is not None:
            where = f" AND kind IN ({', '.join(str(int(k)) for k in kinds)})"
        last = -1
        while True:
            rows = self._query(f"SELECT * FROM inputs WHERE seq > ?{where} ORDER BY seq LIMIT {batch}", (last,))
            if not rows:
                return
            for r in rows:
                yield Input(r[0], r[1], r[2], ids.get(r[3]) if r[3] is not None else None, *r[4:])
            last = rows[-1][0]

    def columns(self) -> dict[str, list]:
        """All inputs as column lists in ``seq`` order (the fast path for replays): ``kind``, ``t_s``,
        ``sensor`` (serial), ``data``, and the exchange and state fields (None where they do not apply)."""
        try:
            # the packets' four columns for every row, then the few other rows' own fields: fetching
            # eight mostly-NULL columns for every packet costs more than the second query. One read
            # transaction, so a writer cannot slip rows in between the queries.
            self._con.execute("BEGIN")
            try:
                rows = self._con.execute("SELECT kind, t_s, sensor, data FROM inputs ORDER BY seq").fetchall()
                lo, hi = self._con.execute("SELECT min(seq), max(seq) FROM inputs").fetchone()
                extra = self._con.execute("SELECT seq, t1_s, t2_us, t3_us, t4_s, state, battery_pct, rssi FROM inputs"
                                          " WHERE kind != ? ORDER BY seq", (Kind.PACKET,)).fetchall()
                seqs = None
                if rows and hi - lo + 1 != len(rows):  # rows were deleted: positions by lookup
                    seqs = {q: i for i, (q,) in enumerate(self._con.execute("SELECT seq FROM inputs ORDER BY seq"))}
            finally:
                self._con.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise SessionDamagedError(f"session file {self.path} is corrupt ({_short(exc)})", self.path) from None
        names = ("kind", "t_s", "sensor", "data")
        cols = list(zip(*rows)) if rows else [()] * len(names)
        out: dict[str, list] = {k: list(v) for k, v in zip(names, cols)}
        ids = self.sensor_ids
        out["sensor"] = [ids.get(i) for i in out["sensor"]]
        more = ("t1_s", "t2_us", "t3_us", "t4_s", "state", "battery_pct", "rssi")
        for k in more:
            out[k] = [None] * len(rows)
        for r in extra:
            i = r[0] - lo if seqs is None else seqs[r[0]]
            for k, v in zip(more, r[1:]):
                out[k][i] = v
        return out

    def packets(self) -> Iterator[tuple[float, str, bytes]]:
        """``(arrival_s, serial, bytes)`` of every raw packet, in arrival order."""
        for i in self.inputs(kinds=(Kind.PACKET,)):
            yield i.t_s, i.sensor, i.data

    def sample_blocks(self) -> Iterator[tuple[Role, np.ndarray]]:
        """Imported sessions: ``(role, rows)`` with rows (n, 4) or (n, 7): time_s, acc x/y/z g[, gyro dps]."""
        roles = {s.serial: s.role for s in self.sensors}
        for i in self.inputs(kinds=(Kind.SAMPLES,)):
            yield roles[i.sensor], np.frombuffer(i.data, "<f8").reshape(i.n, -1)

    def clock_estimates(self) -> list[tuple[float, str, dict]]:
        """``(t_s, serial, ClockModel fields)`` snapshots, in time order."""
        ids = self.sensor_ids
        return [(t, ids.get(k, str(k)), json.loads(m)) for t, k, m in self._query("SELECT t_s, sensor, model FROM clock ORDER BY rowid")]

    # ------------------------------------------------------------------ laps, markers
    def marks(self) -> list[Mark]:
        return [Mark(t, k, lbl or "") for t, k, lbl in self._query("SELECT t_s, kind, label FROM marks ORDER BY t_s, id")]

    def laps(self) -> list[Mark]:
        return [m for m in self.marks() if m.kind == "lap"]

    def markers(self) -> list[Mark]:
        return [m for m in self.marks() if m.kind == "marker"]

    # ------------------------------------------------------------------ derived results (a cache)
    @property
    def results_outdated(self) -> bool:
        """The file was analysed under measurement contract v1 (schema 1): its cached results describe
        accelerometer features, not the body's instants, and are not used; they are recomputed."""
        return self.schema_version < FIRST_V2_SCHEMA

    def has_results(self, source: str = "live") -> bool:
        """Usable cached results of ``source``: none for a v1 file, nor when the stored summary is damaged
        (not valid JSON): those are recomputed from the inputs, which are the record."""
        return self.summary(source) is not None

    def events(self, source: str = "live") -> list[Event]:
        """Cached events in emission order (as the analyser's ``events_``)."""
        if self.results_outdated:
            return []
        return [Event(Role(r), EventKind(k), t, a, i, rs) for r, k, t, a, i, rs in self._query(
            "SELECT role, kind, time_s, amplitude, stride_index, rules FROM events WHERE source = ? ORDER BY idx",
            (source,))]

    def steps(self, source: str = "live") -> list[Step]:
        if self.results_outdated:
            return []
        rows = self._query(f"SELECT {', '.join(_STEP_FIELDS)} FROM steps WHERE source = ? ORDER BY idx", (source,))
        return [Step(r[0], Side(r[1]), *r[2:]) for r in rows]

    def summary(self, source: str = "live") -> dict | None:
        if self.results_outdated:
            return None
        rows = self._query("SELECT json FROM summary WHERE source = ?", (source,))
        if not rows:
            return None
        try:
            out = json.loads(rows[0][0])
        except (TypeError, ValueError):
            log.warning("%s: the cached %s summary is damaged; its results will be recomputed", self.path, source)
            return None
        return out if isinstance(out, dict) else None
