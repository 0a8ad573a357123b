"""The ``stridesync`` command. Each subcommand parses, builds objects, calls the library and prints.

One module per subcommand, each with ``add_parser(sub)`` and ``run(args) -> int``; what they share (formatting,
errors, the live-terminal runner) is in :mod:`stridesync.cli.common`. Bad input of any kind ends in one line on
stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .. import __version__
from ..errors import StrideSyncError
from . import (analyze, check, dashboard, demo, export, hub, import_csv, import_xdf, live, record, repair, replay,
               report, scan, sessions, simulate, team)
from .common import Progress, bluetooth_error, positive_seconds, sim_truth, weak_short

log = logging.getLogger("stridesync")

#: the subcommands in the order ``stridesync --help`` lists them
COMMANDS = (analyze, check, simulate, demo, dashboard, scan, live, record, replay, import_csv, export, sessions,
            report, repair, hub, team, import_xdf)


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like every other bad input."""

    def error(self, message: str) -> None:  # noqa: D102 - argparse override
        self.exit(2, f"stridesync {self.prog.split()[-1]}: error: {message}\n" if " " in self.prog else f"stridesync: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``stridesync`` parser: the global options, then each command module's sub-parser."""
    p = _Parser(prog="stridesync", description="StrideSync: per-step limb synchronisation for runners.")
    p.add_argument("--version", action="version", version=f"stridesync {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        command.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run ``stridesync`` with ``argv`` (default: the command line); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.command:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except StrideSyncError as exc:
        msg = " ".join(str(exc).split())
        from ..session.store import SessionDamagedError
        if isinstance(exc, SessionDamagedError) and args.command != "repair":
            msg += f"; `stridesync repair {exc.path} --out REPAIRED.stridesync` salvages its intact inputs"
        print(f"stridesync {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"stridesync {args.command}: interrupted", file=sys.stderr)
        return 130


__all__ = ["COMMANDS", "Progress", "bluetooth_error", "build_parser", "main", "positive_seconds", "sim_truth",
           "weak_short"]
