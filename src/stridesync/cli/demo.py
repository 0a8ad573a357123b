"""``stridesync demo``: four virtual sensors streamed over a virtual BLE radio and analysed live; in the Qt
dashboard when it can open, else in the terminal."""

from __future__ import annotations

import argparse

from .common import open_source, positive_seconds, run_live_terminal


def add_parser(sub) -> None:
    d = sub.add_parser("demo", help="four virtual sensors streamed over a virtual BLE radio, analysed live")
    d.add_argument("--seconds", type=positive_seconds, default=30.0, help="how long to stream")
    d.add_argument("--seed", type=int, default=1)
    d.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        from stridesync_ui.launch import dashboard_available, run_dashboard
    except ImportError:  # the Qt extras are not installed: the terminal demo
        dashboard_available = None
    if dashboard_available is not None and dashboard_available():
        return run_dashboard(source=f"virtual:seed={args.seed}", seconds=args.seconds)
    return run_live_terminal(open_source(virtual=True, seed=args.seed), seconds=args.seconds, title=(
        f"StrideSync demo: a simulated runner wearing four virtual sensors, streamed over a virtual Bluetooth "
        f"radio through the real BLE stack and analysed live for {args.seconds:.0f} s (Ctrl-C stops)."))
