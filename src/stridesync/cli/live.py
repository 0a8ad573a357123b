"""``stridesync live``: live monitoring in the terminal, one line per step, from any source (virtual or real
sensors, or a session file or samples CSV replayed at its pace), with the events, steps, sensor health and
(virtual sensors) ground truth written at the end."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import open_source, positive_seconds, run_live_terminal, source_words


def add_parser(sub) -> None:
    lv = sub.add_parser("live", help="live monitoring in the terminal")
    lv.add_argument("--source", metavar="SPEC", help="where samples come from: virtual:seed=1, ble:roster.json, replay:run.stridesync[,speed=S], csv:run.csv[,speed=S] (files run to their end)")
    lv.add_argument("--virtual", action="store_true", help="four simulated sensors on a virtual radio")
    lv.add_argument("--roster", type=Path, help="roster JSON: serial → role and mounting")
    lv.add_argument("--seconds", type=positive_seconds, default=60.0, help="how long to stream")
    lv.add_argument("--events", type=Path, help="events CSV to write at the end")
    lv.add_argument("--steps", type=Path, help="steps CSV to write at the end")
    lv.add_argument("--health", type=Path, help="sensor health JSON to write at the end")
    lv.add_argument("--truth-dir", type=Path, help="virtual mode: the simulator's ground truth events.csv and steps.csv")
    lv.add_argument("--seed", type=int, default=1)
    lv.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    what = source_words(args.source, args.virtual)
    source = open_source(source=args.source, virtual=args.virtual, roster=args.roster, seed=args.seed)
    return run_live_terminal(source, title=f"StrideSync live: {what}, {args.seconds:.0f} s (Ctrl-C stops).",
                             seconds=args.seconds, events=args.events, steps=args.steps, health=args.health,
                             truth_dir=args.truth_dir)
