"""One-off background jobs of the dashboard: scanning for sensors and exporting a session.

Each job runs on its own thread and reports through Qt signals (progress, done, error as one readable
line); it never touches a widget (STYLE.md §7). The GUI keeps a reference until ``sigFinished``.

Jobs run on a QThread. A report is rendered by ``stridesync report`` in a child process: its figures are
pyqtgraph widgets, which may only live on a GUI thread, and the dashboard's GUI thread must not block
(measured: ~0.5 s to render sample_run's report in-process, plus ~1.5 s of start-up as a child).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from .worker import error_words

log = logging.getLogger(__name__)

#: how long a scan listens, s: virtual sensors advertise every 100 ms; real ones may be slower
VIRTUAL_SCAN_S = 1.5
REAL_SCAN_S = 5.0


class JobBridge(QObject):
    """Created on the GUI thread, emitted from the job's thread (queued connections)."""

    sigProgress = Signal(int, str)   # percent (0–100; -1 = busy, unknown how long), what is happening
    sigDone = Signal(object)         # the job's result
    sigError = Signal(str)
    sigFinished = Signal()


class _JobThread(QThread):
    def __init__(self, target):
        super().__init__()
        self._target = target

    def run(self) -> None:  # the job's thread
        self._target()


class _Job:
    name = "job"

    def __init__(self):
        self.bridge = JobBridge()
        self.result = None
        self.error: str | None = None
        self._thread = _JobThread(self._main)
        self._thread.setObjectName(f"stridesync-{self.name}")

    def start(self):
        self._thread.start()
        return self

    def join(self, timeout_s: float | None = None) -> bool:
        return self._thread.wait(-1 if timeout_s is None else int(timeout_s * 1000))

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    def _main(self) -> None:
        try:
            self.result = self.run()
            self.bridge.sigDone.emit(self.result)
        except Exception as exc:  # the user asked for it: say what went wrong, in one line
            log.exception("%s failed", self.name)
            self.error = error_words(exc)
            self.bridge.sigError.emit(self.error)
        finally:
            self.bridge.sigFinished.emit()

    def progress(self, pct: float, text: str) -> None:
        self.bridge.sigProgress.emit(int(max(0.0, min(100.0, pct))), text)

    def busy(self, text: str) -> None:
        """Working, for an unknown time (the progress bar shows a busy indicator)."""
        self.bridge.sigProgress.emit(-1, text)

    def run(self):  # pragma: no cover - overridden
        raise NotImplementedError


# ---------------------------------------------------------------------------- scan
class ScanJob(_Job):
    """Sensors in range, as :class:`stridesync.sources.ble.FoundSensor` (strongest first), from a source's own
    scan: ``ble:`` scans the adapter; ``virtual:seed=N`` brings up the same virtual radio and simulated sensors a
    virtual live session uses (same serials), on this thread's own event loop, scans them through the same
    bleak API, and takes them down again.
    """

    name = "scan"

    def __init__(self, source: str, *, timeout_s: float | None = None, sim_params=None):
        from stridesync.sources import open_source

        super().__init__()
        self.source = open_source(source)
        virtual = self.source.spec.kind == "virtual"
        self.timeout_s = timeout_s if timeout_s is not None else (VIRTUAL_SCAN_S if virtual else REAL_SCAN_S)
        self.sim_params = sim_params

    def run(self):
        return asyncio.run(self._scan())

    async def _scan(self):
        self.progress(5, "scanning for sensors…")
        return await self.source.scan(self.timeout_s, sim_params=self.sim_params)


# ---------------------------------------------------------------------------- export
@dataclasses.dataclass(frozen=True)
class ExportDone:
    """What an export wrote, for the status line."""

    files: tuple[Path, ...]
    note: str | None = None

    def words(self) -> str:
        names = ", ".join(p.name for p in self.files)
        where = self.files[0].parent if self.files else ""
        return f"exported {names} to {where}" + (f" ({self.note})" if self.note else "")


def csv_paths(folder: str | Path, stem: str) -> dict[str, Path]:
    """The four contract files of one session in ``folder``: events, steps, summary, samples."""
    folder = Path(folder)
    return {"events": folder / f"{stem}_events.csv", "steps": folder / f"{stem}_steps.csv",
            "summary": folder / f"{stem}_summary.json", "samples": folder / f"{stem}_samples.csv"}


#: the longest a report may take to render, s
REPORT_TIMEOUT_S = 300.0


def render_report_in_child(session_path: Path, out: Path) -> str:
    """``stridesync report SESSION --out OUT`` in a child process (offscreen); its one-line summary.
    A failure raises StrideSyncError with the child's one-line message."""
    from stridesync.errors import StrideSyncError

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")  # its figure widgets never appear on screen
    try:
        r = subprocess.run([sys.executable, "-m", "stridesync.cli", "report", str(session_path), "--out", str(out)],
                           env=env, capture_output=True, text=True, timeout=REPORT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise StrideSyncError(f"the report took longer than {REPORT_TIMEOUT_S:.0f} s and was stopped") from None
    if r.returncode != 0:
        lines = [ln for ln in (r.stderr or "").splitlines() if ln.strip() and not ln.startswith("This plugin")]
        raise StrideSyncError(lines[-1].removeprefix("stridesync: ").strip() if lines
                              else f"the report failed (exit code {r.returncode})")
    return (r.stdout or "").strip().splitlines()[-1] if r.stdout.strip() else f"wrote {out}"


class ExportJob(_Job):
    """Export one session file: a report (``report``: .html or .pdf) and/or the CSVs (``csv_dir``).

    Uses :mod:`stridesync.session.export` for the CSVs (atomic: all files or none) and ``stridesync
    report`` (:func:`stridesync_ui.report.render` of :func:`report_data_from_session`) for the report.
    """

    name = "export"

    def __init__(self, session_path: str | Path, *, report: str | Path | None = None, csv_dir: str | Path | None = None):
        super().__init__()
        if report is None and csv_dir is None:
            raise ValueError("nothing to export")
        self.session_path = Path(session_path)
        self.report = Path(report) if report is not None else None
        self.csv_dir = Path(csv_dir) if csv_dir is not None else None

    def run(self) -> ExportDone:
        from stridesync.session.store import Session

        files: list[Path] = []
        note = None
        with Session.open(self.session_path) as session:
            if self.csv_dir is not None:
                from stridesync.session.export import export_session

                rng = session.time_range_s or (0.0, 1.0)
                span = max(rng[1] - rng[0], 1e-6)
                paths = csv_paths(self.csv_dir, self.session_path.name.split(".")[0])
                self.progress(5, "exporting the CSVs: events, steps, summary…")
                res = export_session(session, **paths, on_progress=lambda t: self.progress(
                    10 + 80 * (t - rng[0]) / span, "exporting the CSVs: decoding the samples…"))
                note = res.note
                files += paths.values()
        if self.report is not None:
            self.busy(f"rendering {self.report.name}…")
            render_report_in_child(self.session_path, self.report)
            files.append(self.report)
        self.progress(100, "done")
        return ExportDone(tuple(files), note)
