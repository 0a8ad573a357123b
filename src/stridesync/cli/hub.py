"""``stridesync hub``: publish one athlete's live analysis (or a replayed session) on Lab Streaming Layer.
The options and the run live in :mod:`stridesync.team.hub`."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    from ..team.hub import add_hub_arguments

    h = sub.add_parser("hub", help="publish one athlete's live analysis (or a session) on Lab Streaming Layer",
                       description="Runs the live pipeline (as `live`) and publishes per athlete on LSL: one regular "
                                   "stream per sensor (specific force g, angular rate deg/s, stamped through the "
                                   "clock model), and irregular streams of events, steps and sensor health. "
                                   "Hubs on one subnet are found by `stridesync team` and LabRecorder.")
    add_hub_arguments(h)
    h.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..team.hub import run_hub
    return run_hub(args)
