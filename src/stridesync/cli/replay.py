"""``stridesync replay``: a session file through the analyser, at real time, another speed or as fast as
possible, printing the lines ``live`` printed."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import StrideSyncError
from .common import STEP_HEADER, STEP_LEGEND, Progress, SessionPrinter


def add_parser(sub) -> None:
    rp = sub.add_parser("replay", help="replay a session through the analyser")
    rp.add_argument("session", type=Path, help="session file (.stridesync)")
    g = rp.add_mutually_exclusive_group()
    g.add_argument("--speed", type=float, default=1.0, help="data seconds per wall-clock second (default 1: real time)")
    g.add_argument("--fast", action="store_true", help="as fast as possible")
    rp.add_argument("-q", "--quiet", action="store_true", help="no per-step lines (a progress bar instead)")
    rp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..session.replay import Replay
    from ..session.store import Session

    with Session.open(args.session) as session:
        speed = None if args.fast else args.speed
        if speed is not None and not speed > 0:
            raise StrideSyncError("--speed must be positive")
        print(f"replaying {args.session}: {session.athlete or 'unnamed athlete'}, {session.date or 'undated'}, "
              f"{session.duration_s:.0f} s, {len(session.sensors)} sensors, "
              + ("as fast as possible" if speed is None else f"{speed:g}× real time"))
        if not args.quiet:
            print(STEP_LEGEND)
            print(STEP_HEADER)
        printer = SessionPrinter(quiet=args.quiet)  # the lines live printed
        r = Replay(session, speed=speed, on_update=printer.update)
        bar = Progress("replaying", r.t_end_s - r.t_start_s, enabled=None if args.quiet else False)
        r.on_progress = lambda t: bar.update(t - r.t_start_s)
        res = r.run()
        bar.close()
    SessionPrinter.end(res.analyzer, res.steps, res.summary)
    print(f"replayed {res.data_s:.1f} s of data in {res.wall_s:.2f} s")
    return 0
