"""``stridesync team``: the squad view in the terminal, following every hub on the network
(:mod:`stridesync.team.view`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    t = sub.add_parser("team", help="the squad view in the terminal: every hub on the network",
                       description="Discovers every StrideSync hub on LSL and follows each athlete's steps, sync "
                                   "score, weak link, cadence and sensor health; a hub that vanishes shows as lost "
                                   "and is picked up again when it comes back.")
    t.add_argument("--seconds", type=float, default=3600.0, help="how long to watch, s")
    t.add_argument("--summary", type=Path, metavar="F.json", help="write the squad summary JSON at the end")
    t.add_argument("--record", type=Path, metavar="DIR", help="record every athlete into DIR/NAME.stridesync")
    t.add_argument("--steps-dir", type=Path, metavar="DIR", help="write each athlete's steps CSV (DIR/NAME.steps.csv)")
    t.add_argument("--every", type=float, default=2.0, help="seconds between squad table prints")
    t.add_argument("--quiet", action="store_true", help="print state changes and the end only")
    t.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..team.view import run_team
    return run_team(args)
