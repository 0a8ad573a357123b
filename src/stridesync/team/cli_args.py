"""The team-mode subcommands' parsers (hub, team, import-xdf); cli.py adds them with one call."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def add_team_parsers(sub, *, hub: Callable, team: Callable, import_xdf: Callable) -> None:
    from .hub import add_hub_arguments

    h = sub.add_parser("hub", help="publish one athlete's live analysis (or a session) on Lab Streaming Layer",
                       description="Runs the live pipeline (as `live`) and publishes per athlete on LSL: one regular "
                                   "stream per sensor (specific force g, angular rate deg/s, stamped through the "
                                   "clock model), and irregular streams of events, steps and sensor health. "
                                   "Hubs on one subnet are found by `stridesync team` and LabRecorder.")
    add_hub_arguments(h)
    h.set_defaults(func=hub)

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
    t.set_defaults(func=team)

    x = sub.add_parser("import-xdf", help="turn a LabRecorder XDF of StrideSync streams into session files",
                       description="Reads an XDF file (pyxdf) and writes one session file per athlete found in "
                                   "its StrideSync streams: the sensors' samples (replayable, reportable) and the "
                                   "hubs' events and steps as the session's results.")
    x.add_argument("xdf", type=Path, help="the .xdf file")
    x.add_argument("--out-dir", type=Path, default=Path("."), help="folder for the session files (default: here)")
    x.set_defaults(func=import_xdf)


__all__ = ["add_team_parsers"]
