"""``stridesync report``: a session report as self-contained HTML or A4 PDF, from a session file or a wide
samples CSV (analysed with the reference analyser), optionally rescored under another target model."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import StrideSyncError
from ..model import TARGET_MODELS
from .common import Progress, fmt


def add_parser(sub) -> None:
    rpt = sub.add_parser("report", help="a session report as self-contained HTML or A4 PDF")
    rpt.add_argument("session", type=Path, help="session file, or a wide samples CSV (.csv, .csv.gz) to analyse")
    rpt.add_argument("--out", type=Path, required=True, help="report to write: .html or .pdf")
    rpt.add_argument("--athlete", help="athlete name for the header (default: the session's)")
    rpt.add_argument("--date", help="session date for the header (default: the session's, or the CSV file's date)")
    rpt.add_argument("--notes", help="notes shown under the key numbers (default: the session's)")
    rpt.add_argument("--target", choices=TARGET_MODELS, default=None,
                     help="target model of the report's scores and weak link (default: a session's own, "
                          "'together' for a CSV)")
    rpt.set_defaults(func=run)


def _rescored(data, target_model: str) -> dict:
    """The steps, summary and provenance of report data under another target model: the lags are the
    session's; the targets, scores and weak link follow the model asked for (MEASUREMENT.md §4)."""
    import dataclasses

    from ..core.config import DetectorConfig
    from ..core.measures import build_steps, summarize

    stored = dict(data.provenance.get("detector_settings") or {})
    cfg = dataclasses.replace(DetectorConfig.from_dict(stored) if stored else DetectorConfig(), target_model=target_model)
    events = sorted(data.events, key=lambda e: e.time_s)
    steps, targets = build_steps(events, cfg)
    summary = {**data.summary, **summarize(events, steps, targets, cfg)}
    provenance = {**data.provenance, "target_model": target_model,
                  "detector_settings": cfg.to_dict()}
    return {"steps": steps, "summary": summary, "provenance": provenance}


def run(args: argparse.Namespace) -> int:
    """Render a session report. SESSION is a session file, or a wide samples CSV (``.csv``, ``.csv.gz``),
    which is analysed with the reference analyser (the judge) and reported like a session."""
    from ..errors import OutputError
    from ..io import check_writable

    if args.out.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise OutputError(f"cannot write {args.out}: a report must end in .html or .pdf")
    check_writable([args.out])
    try:
        from stridesync_ui.report import render, report_data_from_analysis, report_data_from_session
    except ImportError as exc:
        raise StrideSyncError(f"reports need the Qt extra (pip install 'stridesync[ui]'): {exc}") from None
    name = args.session.name.lower()
    if name.endswith(".csv") or name.endswith(".csv.gz"):
        from ..core.config import DetectorConfig
        from ..core.reference import analyze
        from ..io import read_wide_csv

        cfg = DetectorConfig(target_model=args.target or "together")
        recording = read_wide_csv(args.session)
        res = analyze(recording, cfg)
        date = args.date
        if date is None:
            import datetime as _dt
            date = _dt.date.fromtimestamp(args.session.stat().st_mtime).isoformat()
        data = report_data_from_analysis(recording, res.events, res.steps, res.summary, config=cfg,
                                         athlete=args.athlete or "", date=date, notes=args.notes or "",
                                         analyser="reference", source=str(args.session))
    else:
        import dataclasses

        from ..session.store import Session

        with Session.open(args.session) as session:
            bar = Progress("replaying", max(session.duration_s, 1e-3))  # only if the results must be recomputed
            t0 = (session.time_range_s or (0.0, 0.0))[0]
            data = report_data_from_session(session, on_progress=lambda t: bar.update(t - t0))
            bar.close()
        over = {k: v for k, v in (("athlete", args.athlete), ("date", args.date), ("notes", args.notes)) if v}
        if args.target and args.target != data.summary.get("target_model"):
            over.update(_rescored(data, args.target))
        data = dataclasses.replace(data, **over)
    render(data, args.out)
    from ..report.weak import session_weak_link
    from ..report.weak import words as weak_words
    print(f"wrote {args.out}: {len(data.steps)} steps, sync score {fmt(data.summary.get('sync_score'))}, "
          f"weak link: {weak_words(session_weak_link(data.steps, data.summary))}")
    return 0
