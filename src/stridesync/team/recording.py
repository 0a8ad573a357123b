"""One athlete's session file from samples and results that arrived over LSL (or from an XDF file).

The file is the existing session format with imported samples (``source: import``, as
:mod:`stridesync.session.importer` writes): per sensor, blocks of float64 rows ``time_s, acc x/y/z g,
gyro x/y/z deg/s``, with the hubs' events and steps as the session's results. It replays (the replay
analyses the samples again, estimating the mounting as live did) and reports like any session.

Time base: the session clock of the athlete's first hub run, i.e. an LSL stamp minus that hub's LSL
offset, so the stored results carry the hub's own times. A restarted hub (another offset) or a squad-side
analysis is shifted onto the same base. The file is written to a temporary name and moved into place when
it is complete (never overwriting a session).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from ..core.config import DetectorConfig
from ..model import Event, Role, Step

log = logging.getLogger(__name__)


def session_name(athlete: str) -> str:
    """A file name for an athlete: letters, digits, '-', '_' and '.' kept, the rest '_'."""
    return re.sub(r"[^\w.-]+", "_", athlete.strip(), flags=re.UNICODE).strip("._") or "athlete"


def _free_path(directory: Path, athlete: str) -> Path:
    base = session_name(athlete)
    p = directory / f"{base}.stridesync"
    k = 2
    while p.exists():
        p = directory / f"{base}-{k}.stridesync"
        k += 1
    return p


def _shift(x, by: float):
    return x if by == 0.0 else dataclasses.replace(x, time_s=x.time_s + by)


class TeamRecording:
    """Samples and results of one athlete into a new session file in ``directory``.

    ``sensors``: declarations with ``serial``, ``role``, ``rate_hz``, ``gyro`` (what the hubs publish).
    """

    def __init__(self, directory: Path, athlete: str, sensors, *, config: DetectorConfig | None = None,
                 meta: dict | None = None):
        from ..session.recorder import Recorder
        from ..session.store import SensorInfo

        self.directory = Path(directory)
        self.athlete = athlete
        self.config = config or DetectorConfig()
        self.by_role = {}
        for d in sensors:
            self.by_role.setdefault(Role(d.role), d)
        infos = [SensorInfo(d.serial, d.role, d.rate_hz, gyro_range_dps=2000 if d.gyro else 0)
                 for d in self.by_role.values()]
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{session_name(athlete)}.", suffix=".tmp")
        os.close(fd)
        self.tmp = Path(tmp)
        self.tmp.unlink()
        m = {"athlete": athlete, "source": "import", "mounting": {"align": "auto", "pinned": []},
             "imported_from": "lsl", **(meta or {})}
        self.rec = Recorder(self.tmp, sensors=infos, config=self.config, meta=m)
        self.base_s: float | None = None  # the time base on the (local) LSL clock
        self.last_t: dict[Role, float] = {}
        self.events: list[Event] = []
        self.steps: list[Step] = []
        self.targets_ms: dict | None = None
        self.n_samples = 0

    def set_base(self, lsl_s: float) -> None:
        if self.base_s is None:
            self.base_s = float(lsl_s)

    def samples(self, role: Role, data: np.ndarray, stamps_lsl: np.ndarray) -> None:
        """Samples of one sensor: ``data`` (n, 3 or 6), their stamps on the LSL clock."""
        d = self.by_role.get(Role(role))
        if d is None or len(stamps_lsl) == 0:
            return
        self.set_base(float(stamps_lsl[0]))
        t = np.asarray(stamps_lsl, dtype=np.float64) - self.base_s
        keep = t > self.last_t.get(role, -np.inf)  # a sensor's samples in time order, once
        if not keep.all():
            t, data = t[keep], data[keep]
        if len(t) == 0:
            return
        data = np.asarray(data, dtype=np.float64)
        cols = 6 if d.gyro else 3
        if data.shape[1] < cols or not np.isfinite(data[:, :cols]).all():
            ok = np.isfinite(data[:, :cols]).all(axis=1) if data.shape[1] >= cols else np.zeros(len(t), bool)
            t, data = t[ok], data[ok]
            if len(t) == 0:
                return
        self.rec.samples(d.serial, np.hstack([t[:, None], data[:, :cols]]))
        self.last_t[role] = float(t[-1])
        self.n_samples += len(t)

    def results(self, events, steps, local_offset_s: float) -> None:
        """Events and steps whose times are ``LSL − local_offset_s`` (a hub's session clock, or the squad's)."""
        self.set_base(local_offset_s)
        by = local_offset_s - self.base_s
        self.events.extend(_shift(e, by) for e in events)
        self.steps.extend(_shift(s, by) for s in steps)

    def close(self, extra_meta: dict | None = None) -> Path | None:
        """Write the results and move the file into place; returns its path (None if nothing was recorded)."""
        from ..core.measures import summarize
        from ..errors import OutputError

        events = sorted(self.events, key=lambda e: e.order)
        steps = sorted(self.steps, key=lambda s: s.time_s)
        summary = summarize(events, steps, self.targets_ms or {}, self.config)
        summary["targets_ms"] = self.targets_ms
        duration = max(self.last_t.values()) if self.last_t else 0.0
        self.rec.close(events=events, steps=steps, summary=summary,
                       meta={"duration_s": duration, **(extra_meta or {})})
        try:
            if self.rec.error:
                raise OutputError(f"cannot write the session of {self.athlete}: {self.rec.error}")
            if self.n_samples == 0:
                log.warning("%s: no samples arrived; no session file written", self.athlete)
                return None
            path = _free_path(self.directory, self.athlete)
            os.replace(self.tmp, path)
            return path
        finally:
            for p in (self.tmp, Path(str(self.tmp) + "-wal"), Path(str(self.tmp) + "-shm")):
                with contextlib.suppress(OSError):
                    p.unlink()


__all__ = ["TeamRecording", "session_name"]
