"""Export a session to the contract's files: wide samples CSV, events CSV, steps CSV, summary JSON.

By default the results computed when the session was made (live, or at import) are exported;
``recompute=True`` replays the raw inputs through the current core instead. With the same detector
settings both give identical files. A session cut short by a crash has no live results: its export
recomputes them (and says so). All outputs are written atomically, as one transaction.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..io import AtomicOutputs, check_writable, write_events_csv, write_steps_csv, write_summary_json, write_wide_csv
from ..model import Event, Step
from .replay import replay, session_recording
from .store import Session

log = logging.getLogger(__name__)

__all__ = ["ExportResult", "export_session", "session_results", "session_summary"]


@dataclass
class ExportResult:
    events: list[Event]
    steps: list[Step]
    summary: dict
    #: 'live' (the cached results) or 'recompute'
    source: str
    #: why the results were recomputed although not asked (a crashed recording), else None
    note: str | None = None
    #: recomputed: each sensor's health at the end of the replay (``SensorHealth.as_dict``), as live stores it
    health: list[dict] | None = None


def _sorted(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: e.order)


def session_summary(session: Session, summary: dict) -> dict:
    """The analyser's summary plus provenance (identical for live and recomputed results)."""
    out = dict(summary)
    out["detector_settings"] = session.detector_config.to_dict()
    out["software_version"] = __version__
    out["session"] = {"file": os.path.basename(session.path), "athlete": session.athlete, "date": session.date,
                      "notes": session.notes, "tags": session.tags, "source": session.source,
                      "recorded_with": session.software_version, "complete": session.complete,
                      "sensors": [{"serial": s.serial, "role": s.role.value if s.role else None, "rate_hz": s.rate_hz,
                                   "firmware": s.firmware} for s in session.sensors],
                      "laps": [{"time_s": m.t_s, "label": m.label} for m in session.laps()]}
    return out


def recompute_reason(session: Session) -> str:
    """Why a session's cached results cannot be used (the caller recomputes them)."""
    if getattr(session, "results_outdated", False):
        return "it was analysed under measurement contract v1 (recomputed with the current rules)"
    if getattr(session, "complete", False):
        return "its cached results are damaged"
    return "the recording did not end cleanly"


def session_results(session: Session, *, recompute: bool = False,
                    on_progress: Callable[[float], None] | None = None) -> ExportResult:
    """Events (time order), steps and summary: cached live ones, or recomputed by a replay."""
    note = None
    if not recompute and session.has_results("live"):
        return ExportResult(_sorted(session.events("live")), session.steps("live"), session.summary("live") or {}, "live")
    if not recompute:
        note = f"{recompute_reason(session)}, so its results were recomputed from the raw inputs"
    r = replay(session, speed=None, on_progress=on_progress)
    health = [h.as_dict() for h in r.analyzer.health()] if hasattr(r.analyzer, "sensors") else None
    return ExportResult(_sorted(r.events), r.steps, r.summary, "recompute", note, health)


def export_session(session: Session, *, samples: str | os.PathLike | None = None,
                   events: str | os.PathLike | None = None, steps: str | os.PathLike | None = None,
                   summary: str | os.PathLike | None = None, recompute: bool = False,
                   on_progress: Callable[[float], None] | None = None) -> ExportResult:
    """Write the requested files (all or none). Returns what was exported."""
    outputs = [Path(p) for p in (samples, events, steps, summary) if p]
    check_writable(outputs)
    res = session_results(session, recompute=recompute, on_progress=on_progress) if (events or steps or summary) else None
    recording = session_recording(session, on_progress=on_progress) if samples else None
    with AtomicOutputs(outputs) as out:
        if samples:
            write_wide_csv(out.temp_path(samples), recording)
        if events:
            write_events_csv(out.temp_path(events), res.events)
        if steps:
            write_steps_csv(out.temp_path(steps), res.steps)
        if summary:
            write_summary_json(out.temp_path(summary), session_summary(session, res.summary))
    return res or ExportResult([], [], {}, "live")
