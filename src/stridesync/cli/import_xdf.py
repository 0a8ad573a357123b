"""``stridesync import-xdf``: turn a LabRecorder XDF of StrideSync streams into one session file per athlete
(:mod:`stridesync.team.xdf`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    x = sub.add_parser("import-xdf", help="turn a LabRecorder XDF of StrideSync streams into session files",
                       description="Reads an XDF file (pyxdf) and writes one session file per athlete found in "
                                   "its StrideSync streams: the sensors' samples (replayable, reportable) and the "
                                   "hubs' events and steps as the session's results.")
    x.add_argument("xdf", type=Path, help="the .xdf file")
    x.add_argument("--out-dir", type=Path, default=Path("."), help="folder for the session files (default: here)")
    x.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..team.xdf import run_import_xdf
    return run_import_xdf(args)
