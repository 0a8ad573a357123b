"""``stridesync scan``: list the StrideSync sensors in Bluetooth range (or on a virtual radio)."""

from __future__ import annotations

import argparse

from ..errors import StrideSyncError
from .common import bluetooth_error, fmt, positive_seconds


def add_parser(sub) -> None:
    sc = sub.add_parser("scan", help="list StrideSync sensors in range")
    sc.add_argument("--seconds", type=positive_seconds, default=5.0, help="how long to scan")
    sc.add_argument("--virtual", action="store_true", help="scan a virtual radio with four simulated sensors")
    sc.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from ..sources import open_source

    source = open_source("virtual:seed=1" if args.virtual else "ble:")  # each source brings its own radio

    async def main():
        return await source.scan(args.seconds)

    try:
        found = asyncio.run(main())
    except StrideSyncError:
        raise
    except Exception as exc:  # bleak: no adapter, BlueZ absent, permission denied
        raise bluetooth_error(exc) from None
    if not found:
        print("no StrideSync sensors found")
        return 0
    print(f"{'name':<16} {'address':<18} {'rssi':>5} {'serial':<9} {'role':<12} {'battery':>7}")
    for f in found:
        print(f"{f.name:<16} {f.address:<18} {fmt(f.rssi, 'd'):>5} {f.serial or '—':<9} "
              f"{f.role.value if f.role else 'unassigned':<12} {fmt(f.battery_pct, 'd', ' %'):>7}")
    return 0
