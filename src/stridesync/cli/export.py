"""``stridesync export``: write a session's samples, events, steps and summary as the contract's files (as
computed live or at import, or recomputed through the current core)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import StrideSyncError
from .common import Progress


def add_parser(sub) -> None:
    ex = sub.add_parser("export", help="write a session's samples, events, steps and summary",
                        description="Export a session to the contract's files. By default the results computed live "
                                    "(or at import); --recompute replays the raw inputs through the current core.")
    ex.add_argument("session", type=Path, help="session file (.stridesync)")
    ex.add_argument("--samples", type=Path,
                    help="wide samples CSV: the decoded samples on the session clock, each sensor's at its own "
                         "instants (one sensor per row: the sensors sample independently, and a shared row would "
                         "need resampling, which changes the data); times in full precision, so they read back "
                         "bit-identical")
    ex.add_argument("--events", type=Path, help="events CSV")
    ex.add_argument("--steps", type=Path, help="steps CSV")
    ex.add_argument("--summary", type=Path, help="summary JSON")
    ex.add_argument("--recompute", action="store_true", help="replay the raw inputs through the current core")
    ex.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..session.export import export_session
    from ..session.store import Session

    if not any((args.samples, args.events, args.steps, args.summary)):
        raise StrideSyncError("nothing to export: give --samples, --events, --steps and/or --summary")
    with Session.open(args.session) as session:
        bar = Progress("replaying", max(session.duration_s, 1e-3))
        t0 = (session.time_range_s or (0.0, 0.0))[0]
        res = export_session(session, samples=args.samples, events=args.events, steps=args.steps,
                             summary=args.summary, recompute=args.recompute, on_progress=lambda t: bar.update(t - t0))
        bar.close()
        made = "as computed at import" if session.source == "import" else "as computed live"
    if res.note:
        print(f"note: {res.note}")
    written = [str(p) for p in (args.samples, args.events, args.steps, args.summary) if p]
    what = "recomputed" if res.source == "recompute" else made
    detail = f" ({len(res.events)} events, {len(res.steps)} steps, {what})" if (args.events or args.steps or args.summary) else ""
    print(f"wrote {', '.join(written)}{detail}")
    return 0
