"""``stridesync sessions``: list the session files in a folder (athlete, date, duration, sensors, steps, and
whether each was closed cleanly)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import StrideSyncError
from .common import fmt


def add_parser(sub) -> None:
    ls = sub.add_parser("sessions", help="list the session files in a folder")
    ls.add_argument("dir", type=Path, nargs="?", default=Path("."), help="folder (default: the current one)")
    ls.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..session.store import SESSION_SUFFIX, Session, SessionError

    folder = args.dir
    if not folder.is_dir():
        raise StrideSyncError(f"{folder} is not a directory")
    files = sorted(p for p in folder.iterdir() if p.suffix == SESSION_SUFFIX and p.is_file())
    if not files:
        print(f"no sessions ({SESSION_SUFFIX} files) in {folder}")
        return 0
    print(f"{'file':<28} {'athlete':<18} {'date':<20} {'duration':>9} {'sensors':>7} {'steps':>6}  note")
    for p in files:
        try:
            with Session.open(p) as s:
                summ = s.summary("live")
                steps = len(s.steps("live")) if summ is not None else None
                note = "" if s.complete else ("stopped early: " + s.recording_error if s.recording_error else "incomplete (not closed cleanly)")
                note = "; ".join(x for x in (" ".join((s.notes or "").split()), note) if x)  # the user's --notes first
                print(f"{p.name:<28} {(s.athlete or '—')[:18]:<18} {(s.date or '—')[:19]:<20} "
                      f"{s.duration_s / 60:6.1f} min {len(s.sensors):>7} {fmt(steps, 'd'):>6}  {note}")
        except SessionError as exc:
            print(f"{p.name:<28} unreadable: {exc}")
    return 0
