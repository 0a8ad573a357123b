"""``stridesync import``: turn a samples CSV (the contract's wide CSV, or another device's export with its
columns mapped onto roles) into a session file."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import StrideSyncError
from .common import Progress, parse_tags


def add_parser(sub) -> None:
    im = sub.add_parser(
        "import", help="turn a samples CSV into a session", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Import a CSV of samples as a session. Without --map the input is the contract's wide samples "
                    "CSV (time_s, <role>_x,_y,_z in g).",
        epilog="Other devices' exports: map columns onto roles.\n"
               "  --map ROLE=X,Y,Z     the columns holding ROLE's body-frame x, y, z (repeat per role);\n"
               "                       a leading '-' flips an axis, the order remaps axes:\n"
               "                       --map left_shin=AccZ,-AccX,AccY\n"
               "  --time-col NAME      the time column (--time-unit s|ms|us), or\n"
               "  --rate HZ            evenly spaced samples at a fixed rate\n"
               "  --units g|m/s2       acceleration unit of the file\n"
               "example:\n"
               "  stridesync import watch.csv --map left_wrist=ax,ay,az --time-col timestamp_ms --time-unit ms \\\n"
               "      --units m/s2 --out watch.stridesync")
    im.add_argument("input", type=Path, help="CSV to import (.gz is read compressed)")
    im.add_argument("--out", type=Path, required=True, help="session file to create (.stridesync)")
    im.add_argument("--map", action="append", metavar="ROLE=X,Y,Z", help="accelerometer columns of a role (repeatable)")
    im.add_argument("--gyro-map", action="append", metavar="ROLE=X,Y,Z", help="angular-rate columns (deg/s) of a role")
    im.add_argument("--time-col", help="name of the time column")
    im.add_argument("--time-unit", choices=("s", "ms", "us"), default="s", help="unit of the time column")
    im.add_argument("--rate", type=float, help="fixed sample rate in Hz (no time column)")
    im.add_argument("--units", choices=("g", "m/s2"), default="g", help="acceleration unit of the file")
    im.add_argument("--delimiter", choices=("comma", "semicolon", "tab"), help="field separator (default: detected)")
    im.add_argument("--athlete", help="athlete's name")
    im.add_argument("--notes", help="free-text notes")
    im.add_argument("--tags", help="comma-separated tags")
    im.add_argument("--align", choices=("auto", "given"), default="auto",
                    help="sensor mounting: auto (estimated from standing and the first strides, as live) or given "
                         "(the mapped axes are the body frame) (default: auto)")
    im.set_defaults(func=run)


def _mapping(args: argparse.Namespace):
    """The column mapping from --map and its companions, or None for the contract's wide CSV."""
    from ..session.importer import ColumnMapping

    if not args.map:
        for flag, value in (("--gyro-map", args.gyro_map), ("--time-col", args.time_col), ("--rate", args.rate)):
            if value:
                raise StrideSyncError(f"{flag} needs --map (without --map the input is the contract's wide CSV)")
        if args.units != "g" or args.time_unit != "s":
            raise StrideSyncError("--units and --time-unit need --map (the contract's wide CSV is in g and seconds)")
        return None
    acc = dict(ColumnMapping.parse_role_spec(m) for m in args.map)
    gyro = dict(ColumnMapping.parse_role_spec(m) for m in (args.gyro_map or []))
    extra = set(gyro) - set(acc)
    if extra:
        raise StrideSyncError(f"--gyro-map for {', '.join(r.value for r in extra)} without a --map for it")
    return ColumnMapping(acc=acc, gyro=gyro, time_col=args.time_col, time_unit=args.time_unit, rate_hz=args.rate,
                         units=args.units, delimiter={"comma": ",", "semicolon": ";", "tab": "\t"}.get(args.delimiter))


def run(args: argparse.Namespace) -> int:
    from ..session.importer import import_csv

    mapping = _mapping(args)
    bar = Progress("analysing", 1.0)

    def progress(done_s: float, total_s: float) -> None:
        bar.total = max(total_s, 1e-9)
        bar.update(done_s)

    info = import_csv(args.input, args.out, mapping=mapping, athlete=args.athlete or "", notes=args.notes or "",
                      tags=parse_tags(args.tags), on_progress=progress, align=args.align)
    bar.close()
    print(f"imported {args.input} → {args.out}: {', '.join(info['roles'])}; {info['samples']} samples, "
          f"{info['duration_s']:.1f} s, {info['steps']} steps")
    return 0
