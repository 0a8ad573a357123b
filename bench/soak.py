"""Soak: does a long recording's memory stay flat? (#11 item 16)

Fast: a 60-minute session of four sensors at 200 Hz goes through the live path — packet decode, clock
sync, the real-time core, and the session recorder's writer thread into a real SQLite file — faster than
real time: the packets are the ones virtual sensors send (:func:`stridesync.session.synth.synth_inputs`,
the sensors' codec, 5 samples a packet, 0.5 % lost, TIME_SYNC at 2 Hz, ticks every 0.2 s), fed at
``--speed`` times real time (the recorder keeps up: its largest backlog is printed).

Live: ``stridesync record --virtual`` as it runs, in real time (``--live-minutes``, 15 by default; 0 skips
it): four virtual sensors on the bumble radio, reached through bleak, the asyncio loop, the analyser and
the recorder (:func:`stridesync.live_run.run_live`). The virtual radio follows the wall clock (its
connection events, the sensors' clocks and the simulator's samples all share it), so it cannot run faster.

Each variant runs in its own process; RSS is read from /proc every data minute (fast) or every 30 s (live).

Figures:
  rss_growth_mb_per_h       RSS growth after the first ``--warmup-min`` minutes (least-squares slope), MB per
                            hour of session, fast, recording on: the target is <= 10
  baseline_*                the same pipeline with recording off (the plain baseline)
  live_rss_growth_mb_per_h  the same slope for the real-time run over the virtual radio, recording on
  before_*                  recording on with the storage before #11 item 16 (diagnostic logs as deques of
                            100 000 tuples per sensor, events and steps as lists of objects): what was removed

The last line printed is one JSON object.  Usage: python bench/soak.py [--minutes 60] [--speed 30]
[--live-minutes 15]
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


def legacy_storage(a) -> None:
    """Give analyser ``a`` the storage it had before #11 item 16: its diagnostic logs as deques of 100 000
    tuples per sensor, the core's events and steps as lists of objects (for the 'before' figure)."""
    from collections import deque

    a.arrival_log = {k: deque(maxlen=100_000) for k in a.arrival_log}
    a.mapping_log = {k: deque(maxlen=100_000) for k in a.mapping_log}
    a.emission_log = deque(maxlen=100_000)
    core = a.core
    core.events_, core.steps_ = [], []
    core.delays_s = {k: [] for k in core.delays_s}
    core.step_delays_s = []


def child(minutes: float, speed: float, record: bool, legacy: bool) -> dict:
    """One variant: build the inputs, feed them, sample RSS each data minute."""
    import gc

    from stridesync import live
    from stridesync.core.config import DetectorConfig
    from stridesync.session.recorder import Recorder
    from stridesync.session.synth import feed, sensor_infos, synth_inputs
    from stridesync.sim import SimParams, simulate

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
        if legacy:
            legacy_storage(a)
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


def live_child(minutes: float, every_s: float = 30.0) -> dict:
    """The real-time variant: ``record --virtual`` for ``minutes``, RSS sampled every ``every_s`` of session."""
    import asyncio
    from pathlib import Path

    from stridesync.live_run import LiveOptions, run_live

    samples: list[tuple[float, float]] = []
    lag = [0.0]

    async def main(path: Path) -> dict:
        started = asyncio.Event()
        ana = []

        def on_start(a) -> None:
            ana.append(a)

        def on_acquisition(_acq) -> None:
            started.set()

        async def sampler() -> None:
            await started.wait()
            t0 = time.monotonic()
            k = 0
            while True:
                due = t0 + k * every_s
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                lag[0] = max(lag[0], time.monotonic() - due)  # the event loop's worst lateness
                samples.append((time.monotonic() - t0, rss_mb()))
                k += 1

        task = asyncio.create_task(sampler())
        try:
            res = await run_live(LiveOptions(source="virtual:seed=1", seconds=minutes * 60.0, record_to=path,
                                             on_start=on_start, on_acquisition=on_acquisition))
        finally:
            task.cancel()
        a = res.analyzer
        return {"samples": samples, "wall_s": res.wall_s, "cpu_s": res.cpu_s, "steps": len(a.core.steps_),
                "events": len(a.core.events_), "packets": sum(s.packets for s in a.sensors.values()),
                "max_backlog": res.recorder.max_backlog, "written": res.recorder.written,
                "sampler_late_s": lag[0]}

    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(main(Path(tmp) / "soak_live.stridesync"))


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
    if "--live" in extra:
        cmd = [sys.executable, __file__, "--child", "--live", "--minutes", str(args.live_minutes)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    res = json.loads(out.strip().splitlines()[-1])
    slope, plain = growth_mb_per_h(res["samples"], args.warmup_min)
    res.update(growth=slope, plain=plain)
    r = res["samples"]
    print(f"{name:<10} RSS {r[0][1]:6.1f} MB at start, {r[-1][1]:6.1f} MB after {r[-1][0] / 60:.0f} min; growth after "
          f"{args.warmup_min:.0f} min {slope:+6.1f} MB/h (end-start {plain:+.1f}); {res['steps']} steps, "
          f"{res['events']} events, {res['written']} inputs recorded (writer backlog <= {res['max_backlog']}), "
          f"{res['wall_s']:.0f} s wall" + (f", {res['cpu_s']:.0f} s CPU, {res['packets']} packets, event loop up "
                                           f"to {1000 * res['sampler_late_s']:.0f} ms late" if "cpu_s" in res else ""),
          flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="session length, minutes of data")
    ap.add_argument("--speed", type=float, default=30.0, help="times real time (the recorder must keep up)")
    ap.add_argument("--warmup-min", type=float, default=5.0, help="minutes left out of the growth figure")
    ap.add_argument("--live-minutes", type=float, default=15.0,
                    help="minutes of the real-time run over the virtual radio (0: skip it)")
    ap.add_argument("--no-before", action="store_true", help="skip the run with the storage before the fix")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-record", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--legacy", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--live", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        if args.live:
            print(json.dumps(live_child(args.minutes)))
        else:
            print(json.dumps(child(args.minutes, args.speed, not args.no_record, args.legacy)))
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
        before = run_variant(args, "before", ["--legacy"])
        out["before_rss_growth_mb_per_h"] = round(before["growth"], 1)
    if args.live_minutes > 0:
        if args.live_minutes <= args.warmup_min + 2:
            raise SystemExit("--live-minutes must exceed the warm-up by a few minutes")
        lv = run_variant(args, "live", ["--live"])
        out.update(live_minutes=args.live_minutes, live_rss_growth_mb_per_h=round(lv["growth"], 1),
                   live_rss_end_mb=round(lv["samples"][-1][1], 1), live_packets=lv["packets"],
                   live_event_loop_late_ms=round(1000 * lv["sampler_late_s"], 1),
                   live_meets_target=bool(lv["growth"] <= 10.0))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
