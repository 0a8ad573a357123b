"""``stridesync record``: live monitoring (as ``live``) while every packet, clock exchange and link state is
recorded to a new session file."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import StrideSyncError
from .common import open_source, parse_tags, positive_seconds, run_live_terminal, source_words


def add_parser(sub) -> None:
    rc = sub.add_parser("record", help="live monitoring with recording to a session file",
                        description="Live monitoring (as `live`) while every packet, clock exchange and link state "
                                    "is recorded to a new session file (SQLite; crash-safe: a crash loses at most "
                                    "the last second).")
    rc.add_argument("--source", metavar="SPEC", help="live sensors to record: virtual:seed=1 or ble:roster.json")
    rc.add_argument("--virtual", action="store_true", help="four simulated sensors on a virtual radio")
    rc.add_argument("--roster", type=Path, help="roster JSON: serial → role and mounting")
    rc.add_argument("--seconds", type=positive_seconds, default=60.0, help="how long to record")
    rc.add_argument("--athlete", help="athlete's name (default: the roster's)")
    rc.add_argument("--notes", help="free-text notes stored with the session")
    rc.add_argument("--tags", help="comma-separated tags, e.g. 'track,intervals'")
    rc.add_argument("--lap-every", type=positive_seconds, metavar="S", help="mark a lap every S seconds")
    rc.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    rc.add_argument("--out", type=Path, required=True, help="session file to create (.stridesync); never overwritten")
    rc.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io import check_writable
    if args.out.exists():
        raise StrideSyncError(f"{args.out} already exists; choose another name (a session is never overwritten)")
    check_writable([args.out])
    what = source_words(args.source, args.virtual)
    source = open_source(source=args.source, virtual=args.virtual, roster=args.roster, seed=args.seed)
    return run_live_terminal(source, title=f"StrideSync record → {args.out}: {what}, {args.seconds:.0f} s (Ctrl-C stops).",
                             seconds=args.seconds, out=args.out, athlete=args.athlete or "", notes=args.notes or "",
                             tags=parse_tags(args.tags), lap_every_s=args.lap_every)
