"""``stridesync dashboard``: the Qt track-side dashboard on a live session (virtual sensors or a roster's), a
replay of a session file or samples CSV, or the squad view of every hub on LSL."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import StrideSyncError
from .common import positive_seconds


def add_parser(sub) -> None:
    db = sub.add_parser("dashboard", help="the Qt track-side dashboard: live view or replay")
    db.add_argument("--source", metavar="SPEC", help="a source by name: virtual:seed=1, ble:roster.json, "
                                                     "replay:run.stridesync or csv:run.csv")
    db.add_argument("--virtual", action="store_true", help="four simulated sensors on a virtual radio (the default without --roster)")
    db.add_argument("--roster", type=Path, help="roster JSON: serial → role and mounting (real sensors)")
    db.add_argument("--replay", type=Path, metavar="FILE", help="replay a session file (or a wide samples CSV)")
    db.add_argument("--seconds", type=positive_seconds, default=3600.0, help="longest live session, s")
    db.add_argument("--seed", type=int, default=1)
    db.add_argument("--screenshot", type=Path, metavar="OUT.png", help="save a screenshot of the window (with --quit-after)")
    db.add_argument("--quit-after", type=float, metavar="S", help="take the screenshot and quit after S seconds")
    db.add_argument("--team", action="store_true", help="the squad view: every hub on LSL, one row per athlete")
    db.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """The Qt dashboard: a live session (virtual sensors or a roster's), or a replay of a session file."""
    from ..roster import Roster

    try:
        from stridesync_ui.launch import run_dashboard
    except ImportError as exc:
        raise StrideSyncError(f"the dashboard needs the Qt extras (pip install 'stridesync[ui]'): {exc}") from None
    if args.quit_after is not None and args.quit_after <= 0:
        raise StrideSyncError("--quit-after must be a positive number of seconds")
    if args.screenshot is not None and args.quit_after is None:
        raise StrideSyncError("--screenshot needs --quit-after SECONDS: when to take it")
    if args.screenshot is not None:
        from ..io import check_writable
        check_writable([args.screenshot])
    if args.team:  # the squad view: every hub on LSL
        from stridesync_ui.launch import run_team_dashboard
        return run_team_dashboard(screenshot=args.screenshot, quit_after_s=args.quit_after)
    from ..sources import open_source

    source, roster_path, replay = f"virtual:seed={args.seed}", args.roster, args.replay
    if args.source:  # a source by name: the same choices as the flags below
        if args.virtual or roster_path or replay:
            raise StrideSyncError("give --source, or --virtual / --roster / --replay, not both")
        opened = open_source(args.source)  # checks its options: one clear line when wrong
        if opened.spec.kind in ("virtual", "ble"):  # live sessions from it
            source = args.source
            roster_path = Path(opened.spec.target) if opened.spec.kind == "ble" and opened.spec.target else None
        elif opened.spec.kind in ("replay", "csv"):
            source, replay = "ble:", Path(opened.spec.target)
        else:
            raise StrideSyncError(f"the dashboard does not open {opened.spec.kind}: sources")
    elif (roster_path or replay) and not args.virtual:  # real sensors' mode (a replay: as before, not simulated)
        source = "ble:"
    if replay is not None and not replay.exists():
        raise StrideSyncError(f"cannot open {replay}: no such file")
    roster = Roster.load(roster_path) if roster_path else None
    return run_dashboard(source=source, replay=replay, roster=roster, seconds=args.seconds,
                         screenshot=args.screenshot, quit_after_s=args.quit_after)
