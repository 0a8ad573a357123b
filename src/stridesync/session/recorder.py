"""Recording off the acquisition path: a sink that queues, and a writer thread that commits.

The caller (the live consumer, on the event loop) only appends a tuple to a queue: it never waits for
the disk. A writer thread drains the queue, decodes each packet's header (sensor time, sample count)
and commits in batches at least every ``commit_every_s`` (0.5 s by default). SQLite in WAL mode makes
each commit atomic, so a process killed with ``kill -9`` leaves a valid file holding everything up to
the last commit: at most ``commit_every_s`` plus the queue's backlog is lost.

When the disk fills up (or any other write fails), recording stops cleanly: what was committed stays,
``error`` says why in one line, ``on_error`` is called once, and the live session goes on (later
inputs are counted in ``dropped`` and discarded, so memory does not grow).
"""

from __future__ import annotations

import errno
import json
import logging
import math
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..core.config import DetectorConfig
from ..protocol import HEADER_STRUCT, HEADER_SIZE, SENSOR_TIME_LIMIT_US
from ..model import InputKind
from .store import SensorInfo, one_line, upsert_sensor, create_session, put_results, set_meta

log = logging.getLogger(__name__)

__all__ = ["Recorder"]

_STOP = object()


class Recorder:
    """A recording sink for :class:`~stridesync.live.LiveAnalyzer` (its ``sink=``).

    Parameters
    ----------
    path : the session file to create (it must not exist).
    sensors : the sensors, with role and nominal rate (what the analyser is built from on replay).
    config : the detector settings of the live analysis (stored verbatim).
    meta : athlete, notes, tags, ... (stored as JSON in ``meta``); ``date`` defaults to now (UTC).
    commit_every_s : longest time between commits (s): bounds what a crash loses.
    clock_every_s : period of the clock-map snapshots when an analyser is bound (:meth:`bind`).
    on_error : called once, from the writer thread, with a one-line message if recording stops.
    """

    def __init__(self, path: str | Path, *, sensors: Iterable[SensorInfo], config: DetectorConfig,
                 meta: dict[str, Any] | None = None, commit_every_s: float = 0.5, clock_every_s: float = 1.0,
                 on_error: Callable[[str], None] | None = None):
        self.path = Path(path)
        meta = dict(meta or {})
        meta.setdefault("date", datetime.now(timezone.utc).isoformat(timespec="seconds"))
        meta.setdefault("source", "live")
        meta["complete"] = False
        self._con = create_session(self.path, sensors=sensors, config=config, meta=meta, check_same_thread=False)
        self._ids = {serial: i for i, serial in self._con.execute("SELECT id, serial FROM sensors")}
        self.commit_every_s = commit_every_s
        self.clock_every_s = clock_every_s
        self.on_error = on_error
        self.error: str | None = None
        self.written = 0  # inputs committed
        self.dropped = 0  # inputs discarded after a write failure
        self.commits = 0
        self.writer_cpu_s = 0.0  # CPU time of the writer thread (s)
        self.max_backlog = 0
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._analyzer = None
        self._next_clock_s = -math.inf
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"recorder-{self.path.name}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ the sink (caller's thread)
    def packet(self, arrival_s: float, key: str, data: bytes) -> None:
        self._q.put((InputKind.PACKET, arrival_s, key, data))

    def exchange(self, key: str, t1_s: float, t2_us: int, t3_us: int, t4_s: float) -> None:
        self._q.put((InputKind.EXCHANGE, t4_s, key, (t1_s, t2_us, t3_us, t4_s)))

    def state(self, now_s: float, key: str, state: str, battery_pct: int | None = None, rssi: int | None = None) -> None:
        self._q.put((InputKind.STATE, now_s, key, (state, battery_pct, rssi)))

    def tick(self, now_s: float) -> None:
        self._q.put((InputKind.TICK, now_s, None, None))
        a = self._analyzer
        if a is not None and now_s >= self._next_clock_s:
            self._next_clock_s = now_s + self.clock_every_s
            for s in a.sensors.values():
                model = s.clock.model
                if model is not None:
                    self._q.put(("clock", now_s, s.key, model))

    def finish(self, now_s: float) -> None:
        self._q.put((InputKind.FINISH, now_s, None, None))

    def samples(self, key: str, rows) -> None:
        """An imported block of samples: ``rows`` (n, 4 or 7) float64 of time_s, acc g[, gyro dps]."""
        self._q.put((InputKind.SAMPLES, float(rows[0, 0]), key, rows))

    # ------------------------------------------------------------------ extras
    def bind(self, analyzer) -> None:
        """Take periodic snapshots of ``analyzer``'s clock maps (at ticks, every ``clock_every_s``)."""
        self._analyzer = analyzer

    def lap(self, t_s: float, label: str = "") -> None:
        self._q.put(("mark", t_s, "lap", label))

    def marker(self, t_s: float, label: str = "") -> None:
        self._q.put(("mark", t_s, "marker", label))

    def update_sensor(self, info: SensorInfo) -> None:
        """Firmware, address, ... learnt after connecting."""
        self._q.put(("sensor", 0.0, None, info))

    @property
    def backlog(self) -> int:
        return self._q.qsize()

    def close(self, *, events=None, steps=None, summary: dict | None = None, meta: dict[str, Any] | None = None,
              timeout_s: float = 60.0) -> None:
        """Write everything queued, then the live results and final metadata; close the file."""
        if self._closed:
            return
        self._closed = True
        self._q.put((_STOP, 0.0, None, None))
        self._thread.join(timeout_s)
        con = self._con
        try:
            if self.error is None:
                con.execute("BEGIN")
                if events is not None and steps is not None:
                    put_results(con, "live", events, steps, summary)
                set_meta(con, {**(meta or {}), "complete": True})
                con.execute("COMMIT")
            else:
                set_meta(con, {"recording_error": self.error})
        except sqlite3.Error as exc:
            self._fail(exc)
        finally:
            try:
                con.close()
            except sqlite3.Error:
                pass

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ the writer thread
    def _fail(self, exc: BaseException) -> None:
        if self.error is not None:
            return
        text = one_line(exc)
        name = getattr(exc, "sqlite_errorname", "")
        if name == "SQLITE_FULL" or (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG)):
            self.error = f"disk full: recording to {self.path} stopped; the {self.written} inputs before that are kept ({text})"
        elif name == "SQLITE_IOERR_WRITE":  # ENOSPC is SQLITE_FULL; a file size limit (EFBIG) lands here
            self.error = (f"disk full or file too large: recording to {self.path} stopped; the {self.written} inputs "
                          f"before that are kept ({text})")
        else:
            self.error = f"recording to {self.path} stopped after a write error; the {self.written} inputs before that are kept ({text})"
        log.warning("%s", self.error)
        if self.on_error is not None:
            try:
                self.on_error(self.error)
            except Exception:  # a display callback must not kill the writer
                log.exception("recorder on_error callback failed")

    def _run(self) -> None:
        cpu0 = time.thread_time()
        q, con = self._q, self._con
        seq = 0
        warn_at = 100_000
        stop = False
        while not stop:
            rows, clocks, marks, sensors = [], [], [], []
            deadline = time.monotonic() + self.commit_every_s
            while True:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    break
                try:
                    item = q.get(timeout=timeout)
                except queue.Empty:
                    break
                kind, t_s, key, payload = item
                if kind is _STOP:
                    stop = True
                    break
                if kind == InputKind.PACKET:
                    sensor_us = n = None
                    if len(payload) >= HEADER_SIZE:
                        h = HEADER_STRUCT.unpack_from(payload, 0)
                        sensor_us, n = (h[3] if h[3] < SENSOR_TIME_LIMIT_US else None), h[5]
                    rows.append((kind, t_s, self._sensor_id(key), sensor_us, n, payload, None, None, None, None, None, None, None))
                elif kind == InputKind.EXCHANGE:
                    if max(payload[1], payload[2]) >= SENSOR_TIME_LIMIT_US:
                        continue  # impossible sensor times: the analyser ignores such an exchange too
                    rows.append((kind, t_s, self._sensor_id(key), None, None, None, *payload, None, None, None))
                elif kind == InputKind.STATE:
                    rows.append((kind, t_s, self._sensor_id(key), None, None, None, None, None, None, None, *payload))
                elif kind in (InputKind.TICK, InputKind.FINISH):
                    rows.append((kind, t_s, None, None, None, None, None, None, None, None, None, None, None))
                elif kind == InputKind.SAMPLES:
                    import numpy as np
                    data = np.ascontiguousarray(payload, dtype="<f8")
                    rows.append((kind, t_s, self._sensor_id(key), None, data.shape[0], data.tobytes(),
                                 None, None, None, None, None, None, None))
                elif kind == "clock":
                    clocks.append((t_s, self._sensor_id(key), json.dumps(payload.to_dict())))
                elif kind == "mark":
                    marks.append((t_s, key, payload))
                elif kind == "sensor":
                    sensors.append(payload)
                if len(rows) >= 5000:
                    break
            backlog = q.qsize()
            self.max_backlog = max(self.max_backlog, backlog)
            if backlog > warn_at:
                log.warning("recorder %s: %d inputs waiting to be written (the disk is slow)", self.path.name, backlog)
                warn_at *= 2
            if self.error is not None:
                self.dropped += len(rows)
                continue
            if not (rows or clocks or marks or sensors):
                continue
            try:
                con.execute("BEGIN")
                if rows:
                    con.executemany("INSERT INTO inputs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                    [(seq + i, *r) for i, r in enumerate(rows)])
                if clocks:
                    con.executemany("INSERT INTO clock VALUES (?, ?, ?)", clocks)
                if marks:
                    con.executemany("INSERT INTO marks (t_s, kind, label) VALUES (?, ?, ?)", marks)
                for info in sensors:
                    self._ids[info.serial] = upsert_sensor(con, info)
                con.execute("COMMIT")
                seq += len(rows)
                self.written += len(rows)
                self.commits += 1
            except (sqlite3.Error, OSError) as exc:
                try:
                    if con.in_transaction:
                        con.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                self.dropped += len(rows)
                self._fail(exc)
        self.writer_cpu_s = time.thread_time() - cpu0

    def _sensor_id(self, key: str | None) -> int | None:
        if key is None:
            return None
        i = self._ids.get(key)
        if i is None:  # a device the roster did not name: keep its inputs, with no role
            i = self._ids[key] = upsert_sensor(self._con, SensorInfo(key, None))
        return i
