"""``stridesync repair``: salvage every intact row of a damaged session file into a new one, and say per
table what was saved and lost (the damaged file is not changed)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    rep = sub.add_parser("repair", help="salvage the intact inputs of a damaged session file into a new one",
                         description="Copy every row SQLite can still read from a damaged session file (by rowid "
                                     "ranges, skipping damaged pages) into a new session file, and say per table "
                                     "how many rows were saved and lost. The damaged file is not changed.")
    rep.add_argument("session", type=Path, help="the damaged session file")
    rep.add_argument("--out", type=Path, required=True, help="the repaired session file to create")
    rep.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Salvage every intact row of a damaged session file into a new one, and say what was saved and lost."""
    from ..session.repair import repair_session

    rep = repair_session(args.session, args.out)
    inputs = rep.tables.get("inputs")
    if not rep.damaged:
        print(f"{args.session} reads in full: every row was copied to {args.out}")
    else:
        print(f"salvaged {args.session} → {args.out}"
              + (f": {inputs.saved} inputs saved, {inputs.lost} lost" if inputs is not None else ""))
    for line in rep.lines():
        print(line)
    if rep.results_dropped:
        print("the cached results were dropped: export, report and replay recompute them from the saved inputs")
    return 0
