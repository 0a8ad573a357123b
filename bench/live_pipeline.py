"""The live pipeline end to end: 4 virtual sensors at 200 Hz on a virtual BLE radio for 60 s, through the
real bleak API, the live consumer and the real-time core, under a hostile link (50 ms connection
interval, up to 20 ms extra delay, 2 % loss, clocks ±100 ppm apart).

Figures:
  cpu_pct             CPU of the whole process (virtual sensors and radio included), % of one core
  e2e_latency_p95_ms  pipeline latency: from the instant of the newest sample the core had when it emitted
                      an event, to the emission (what the link and the software add to the core's windows)
  event_delay_p95_ms  from an event's own instant to its emission (adds the contract's confirmation windows)
  loss_pct            packets lost, all sensors
  sync_err_p95_ms     inter-sensor alignment error of the clock maps vs the simulator's truth, after 10 s
  stress_*            the same with the extra delay uniform over 0–20 ms (no concentration near the minimum)
Baseline in the same run: the same session with a perfect link (7.5 ms, no delay, no loss) for CPU and
latency, and the naive clock map (offset = first arrival − first sensor time) for alignment.

The last line printed is one JSON object.  Usage: python bench/live_pipeline.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys

import numpy as np

from stridesync.evaluate import clock_alignment_errors_ms
from stridesync.live_run import LiveOptions, run_live
from stridesync.model import Role
from stridesync.sim import SimParams
from stridesync.sources.virtual import LinkModel

DRIFT_PPM = {Role.LEFT_SHIN: 100.0, Role.RIGHT_SHIN: -100.0, Role.LEFT_WRIST: 40.0, Role.RIGHT_WRIST: -60.0}
OFFSET_S = {Role.LEFT_SHIN: 12.3, Role.RIGHT_SHIN: 407.9, Role.LEFT_WRIST: 3.1, Role.RIGHT_WRIST: 77.0}


def session(seconds: float, links: dict) -> tuple:
    params = SimParams(duration_s=seconds + 25.0, standing_start_s=1.0, standing_end_s=5.0, swing_lag_ms=30.0,
                       clock_drift_ppm=DRIFT_PPM, clock_offset_s=OFFSET_S)
    return asyncio.run(run_live(LiveOptions(seconds=seconds, links=links, sim_params=params, source="virtual:seed=3")))


def alignment_errors(res, naive: bool = False) -> np.ndarray:
    return clock_alignment_errors_ms(res.sim, res.analyzer, naive=naive)


def figures(res, seconds: float) -> dict:
    a = res.analyzer
    lat = np.array([(now - newest) for _, now, newest in a.emission_log]) * 1000.0
    delay = np.array([(now - e.time_s) for e, now, _ in a.emission_log]) * 1000.0
    h = a.health()
    lost = sum(x.lost_packets for x in h)
    got = sum(x.packets for x in h)
    return {
        "cpu_pct": round(100.0 * res.cpu_s / res.wall_s, 1),
        "e2e_latency_p50_ms": round(float(np.percentile(lat, 50)), 1),
        "e2e_latency_p95_ms": round(float(np.percentile(lat, 95)), 1),
        "event_delay_p95_ms": round(float(np.percentile(delay, 95)), 1),
        "loss_pct": round(100.0 * lost / max(1, lost + got), 2),
        "events": len(a.core.events_), "steps": len(a.core.steps_),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    hostile = {r: LinkModel(interval_s=0.05, jitter_s=0.02, loss=0.02, seed=k) for k, r in enumerate(Role)}
    perfect = {r: LinkModel(interval_s=0.0075, seed=k) for k, r in enumerate(Role)}
    res = session(args.seconds, hostile)
    out = figures(res, args.seconds)
    err = alignment_errors(res)
    naive = alignment_errors(res, naive=True)
    out["sync_err_p95_ms"] = round(float(np.percentile(err, 95)), 3)
    out["sync_err_max_ms"] = round(float(err.max()), 3)
    out["baseline_naive_sync_err_p95_ms"] = round(float(np.percentile(naive, 95)), 3)
    stress = session(args.seconds, {r: LinkModel(interval_s=0.05, jitter_s=0.02, jitter_mean_s=None, loss=0.02, seed=k)
                                    for k, r in enumerate(Role)})
    serr = alignment_errors(stress)
    out["stress_uniform_delay_sync_err_p95_ms"] = round(float(np.percentile(serr, 95)), 3)
    out["stress_uniform_delay_sync_err_max_ms"] = round(float(serr.max()), 3)
    base = figures(session(args.seconds, perfect), args.seconds)
    out["baseline_perfect_link_cpu_pct"] = base["cpu_pct"]
    out["baseline_perfect_link_e2e_latency_p95_ms"] = base["e2e_latency_p95_ms"]
    print(f"hostile link (50 ms interval, ≤20 ms extra delay, 2 % loss, ±100 ppm): CPU {out['cpu_pct']} % of one core, "
          f"pipeline latency p95 {out['e2e_latency_p95_ms']} ms, event delay p95 {out['event_delay_p95_ms']} ms, "
          f"loss {out['loss_pct']} %, inter-sensor alignment p95 {out['sync_err_p95_ms']} ms (max {out['sync_err_max_ms']})")
    print(f"baselines: perfect link CPU {base['cpu_pct']} %, latency p95 {base['e2e_latency_p95_ms']} ms; "
          f"naive clock map alignment p95 {out['baseline_naive_sync_err_p95_ms']} ms")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
