"""``stridesync check``: estimate how each sensor sits on its limb and say what looks wrong (exit 1 when
something needs fixing)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import StrideSyncError
from .common import Progress


def add_parser(sub) -> None:
    ck = sub.add_parser("check", help="estimate each sensor's mounting and say what looks wrong",
                        description="Estimate how each sensor sits on its limb (gravity while standing, the swing "
                                    "axis while running) and check the sensors against each other: upside down, "
                                    "rotated around the segment, sides swapped, a wrist sensor on a shin, a sensor "
                                    "that slipped. Exit 1 when something needs fixing.")
    ck.add_argument("input", type=Path, help="wide samples CSV or session file (.stridesync)")
    ck.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..core.mounting import align_recording
    from ..core.mounting_checks import check
    from ..io import read_wide_csv
    from ..io.plausible import check_recording

    if str(args.input).endswith(".stridesync"):
        from ..session.replay import session_recording
        from ..session.store import Session

        with Session.open(args.input) as session:
            bar = Progress("reading", max(session.duration_s, 1e-3))
            t0 = (session.time_range_s or (0.0, 0.0))[0]
            recording = session_recording(session, on_progress=lambda t: bar.update(t - t0))
            bar.close()
    else:
        recording = read_wide_csv(args.input)
        check_recording(recording, str(args.input))
    if not recording:
        raise StrideSyncError(f"{args.input}: no sensor samples to check")
    aligned, trackers = align_recording(recording)
    for role, tr in sorted(trackers.items(), key=lambda kv: kv[0].value):
        for lg in tr.log:
            e = lg.estimate
            if not e.ok:
                continue
            x, y, z = (" ".join(f"{v:+.2f}" for v in row) for row in e.rotation)
            q = [f"{e.method} rules"]
            if e.x_from == "standing":
                q.append(f"standing {e.standing_s:.1f} s (gravity within {e.standing_spread_deg:.1f}°)")
            elif e.x_from == "running":
                q.append("no standing")
            if e.planarity is not None:
                q.append(f"planarity {e.planarity:.2f}")
            if e.strides:
                q.append(f"{e.strides} strides")
            print(f"{role.value} at {lg.time_s:.1f} s ({lg.kind}): body x = [{x}], y = [{y}], z = [{z}]; "
                  f"{', '.join(q)}")
    estimates = {r: t.current for r, t in trackers.items() if t.current is not None}
    verdicts = check(estimates, aligned)
    for v in verdicts:
        print(f"{'ok  ' if v.ok else 'FIX '} {v.text}")
    for role, tr in trackers.items():
        for lg in tr.log:
            if lg.kind == "slipped":
                print(f"FIX  {role.value.replace('_', ' ')} sensor moved {lg.angle_deg:.0f}° on its segment at "
                      f"{lg.time_s:.1f} s (corrected from then on)")
    return 0 if all(v.ok for v in verdicts) else 1
