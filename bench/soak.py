"""Soak: does a long recording's memory stay flat? (#11 item 16)

A 60-minute session of four sensors at 200 Hz goes through the live path — packet decode, clock sync,
the real-time core, and the session recorder's writer thread into a real SQLite file — faster than real
time: the packets are the ones virtual sensors send (:func:`stridesync.session.synth.synth_inputs`, the
sensors' codec, 5 samples a packet, 0.5 % lost, TIME_SYNC at 2 Hz, ticks every 0.2 s), fed at ``--speed``
times real time (the recorder keeps up: its largest backlog is printed). The BLE transport (bumble radio,
bleak) is not in this loop; ``stridesync record --virtual`` measures that part in real time.

Each variant runs in its own process; RSS is read from /proc every data minute.

Figures:
  rss_growth_mb_per_h   RSS growth after the first ``--warmup-min`` minutes (least-squares slope), MB per
                        hour of session, recording on: the target is <= 10
  baseline_*            the same pipeline with recording off (the plain baseline)
  before_*              recording on with the diagnostic logs at their old size (100 000 entries per sensor,
                        live.DIAG_MAX before the fix): the growth the fix removed

The last line printed is one JSON object.  Usage: python bench/soak.py [--minutes 60] [--speed 30]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc/self/status")


def child(minutes: float, speed: float, record: bool, diag_max: int | None) -> dict:
    """One variant: build the inputs, feed them, sample RSS each data minute."""
    import gc

    from stridesync import live
    from stridesync.core.config import DetectorConfig
    from stridesync.session.recorder import Recorder
    from stridesync.session.synth import feed, sensor_infos, synth_inputs
    from stridesync.sim import SimParams, simulate

    if diag_max is not None:
        live.DIAG_MAX = diag_max
    sim = simulate(SimParams(duration_s=minutes * 60.0 + 10.0, standing_start_s=2.0, standing_end_s=5.0,
                             swing_lag_ms=30.0, ipsi_arm_lag_ms=-15.0, contra_arm_lag_ms=10.0), seed=1)
    sensors, items = synth_inputs(sim, samples_per_packet=5, seed=1)
    del sim
    gc.collect()
    with tempfile.TemporaryDirectory() as tmp:
        rec = None
        if record:
            rec = Recorder(os.path.join(tmp, "soak.stridesync"), sensors=sensor_infos(sensors), config=DetectorConfig(),
                           meta={"athlete": "soak"})
        a = live.LiveAnalyzer(sensors, sink=rec)
        if rec is not None:
            rec.bind(a)
        samples: list[tuple[float, float]] = [(0.0, rss_mb())]
        nxt = [60.0]

        def on_fed(t: float) -> None:
            if t >= nxt[0]:
                nxt[0] += 60.0
                samples.append((t, rss_mb()))

        wall0 = time.monotonic()
        feed(items, a, pace=speed, on_fed=on_fed)
        wall = time.monotonic() - wall0
        if rec is not None:
            rec.close(events=a.core.events_, steps=a.core.steps_, summary=a.core.summary())
        return {"samples": samples, "wall_s": wall, "steps": len(a.core.steps_), "events": len(a.core.events_),
                "max_backlog": rec.max_backlog if rec is not None else 0,
                "written": rec.written if rec is not None else 0}


def growth_mb_per_h(samples: list, warmup_min: float) -> tuple[float, float]:
    """Least-squares slope of RSS after the warm-up (MB per hour of session), and the plain end-minus-start."""
    t = np.array([s[0] for s in samples]) / 3600.0
    m = np.array([s[1] for s in samples])
    keep = t >= warmup_min / 60.0
    t, m = t[keep], m[keep]
    if len(t) < 3:
        raise SystemExit("too few RSS samples after the warm-up: run longer (--minutes)")
    slope = float(np.polyfit(t, m, 1)[0])
    return slope, float((m[-1] - m[0]) / (t[-1] - t[0]))


def run_variant(args, name: str, extra: list[str]) -> dict:
    cmd = [sys.executable, __file__, "--child", "--minutes", str(args.minutes), "--speed", str(args.speed), *extra]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    res = json.loads(out.strip().splitlines()[-1])
    slope, plain = growth_mb_per_h(res["samples"], args.warmup_min)
    res.update(growth=slope, plain=plain)
    r = res["samples"]
    print(f"{name:<10} RSS {r[0][1]:6.1f} MB at start, {r[-1][1]:6.1f} MB after {r[-1][0] / 60:.0f} min; growth after "
          f"{args.warmup_min:.0f} min {slope:+6.1f} MB/h (end-start {plain:+.1f}); {res['steps']} steps, "
          f"{res['events']} events, {res['written']} inputs recorded (writer backlog <= {res['max_backlog']}), "
          f"{res['wall_s']:.0f} s wall", flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="session length, minutes of data")
    ap.add_argument("--speed", type=float, default=30.0, help="times real time (the recorder must keep up)")
    ap.add_argument("--warmup-min", type=float, default=5.0, help="minutes left out of the growth figure")
    ap.add_argument("--no-before", action="store_true", help="skip the run with the old diagnostic-log size")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-record", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--diag-max", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.minutes, args.speed, not args.no_record, args.diag_max)))
        return
    print(f"soak: {args.minutes:.0f} min of 4 sensors at 200 Hz through decode, clock, core and recorder, "
          f"{args.speed:g}x real time; RSS growth after the first {args.warmup_min:.0f} min", flush=True)
    rec = run_variant(args, "recording", [])
    base = run_variant(args, "baseline", ["--no-record"])
    out = {"minutes": args.minutes, "speed": args.speed, "warmup_min": args.warmup_min,
           "rss_growth_mb_per_h": round(rec["growth"], 1), "baseline_rss_growth_mb_per_h": round(base["growth"], 1),
           "recording_minus_baseline_mb_per_h": round(rec["growth"] - base["growth"], 1),
           "rss_end_mb": round(rec["samples"][-1][1], 1), "baseline_rss_end_mb": round(base["samples"][-1][1], 1),
           "target_mb_per_h": 10.0, "meets_target": bool(rec["growth"] <= 10.0)}
    if not args.no_before:
        before = run_variant(args, "before", ["--diag-max", "100000"])
        out["before_rss_growth_mb_per_h"] = round(before["growth"], 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
