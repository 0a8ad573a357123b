"""Throughput and latency of the real-time core on a 60-minute, 4-sensor (accelerometer + gyroscope), 200 Hz
session at 175 steps/min, analysed with the gyroscope rules.

Baseline, in the same run: a plain SciPy pipeline over the same channels (sosfiltfilt of every filtered
signal the rules use, then find_peaks), the least work any zero-phase detector must do.

Figures:
  realtime_x          data seconds per wall-clock second (1 s blocks, one core, best of 3)
  samples_per_s       sensor samples (all four sensors) processed per wall-clock second
  ratio_vs_scipy      wall time of the real-time core / wall time of the plain SciPy pipeline
  chunk_p99_ms        p99 wall time of one push of 20 ms of data (all four sensors), over 10 minutes
  report_delay_p95_ms p95 of (data time at emission − event instant), over all events, 20 ms blocks
  step_delay_p95_ms   p95 of (data time at emission − the step's push), 20 ms blocks (target: one stride, 686 ms)

The last line printed is one JSON object with these figures.

Usage: python bench/core_throughput.py [--minutes 60]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
from scipy import signal

from stridesync.core import rules
from stridesync.core.config import DetectorConfig
from stridesync.pipeline import blocks
from stridesync.sim import SimParams, simulate


def plain_scipy(recording, cfg: DetectorConfig) -> int:
    """sosfiltfilt + find_peaks over the same channels the core filters; returns the peak count."""
    n = 0
    for role, s in recording.items():
        fs = s.sample_rate_hz
        sp = rules.spec(role, rules.choose(cfg, s.gyro_dps is not None), cfg)
        raw = rules.raw_signals(sp, s.acc_g, s.gyro_dps)
        chans = [(raw[name], fc) for name, fc in sp.signals.items() if fc is not None]
        for x, fc in chans:
            sos = signal.butter(4, min(fc, 0.4 * fs), fs=fs, output="sos")
            y = signal.sosfiltfilt(sos, x)
            n += len(signal.find_peaks(y, distance=int(0.3 * fs))[0]) + len(signal.find_peaks(-y, distance=int(0.3 * fs))[0])
    return n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60.0)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cfg = DetectorConfig()
    dur = args.minutes * 60.0
    t0 = time.perf_counter()
    sim = simulate(SimParams(duration_s=dur, cadence_spm=175.0, lag_drift_ms_per_min=(0.5, 0.0, 0.0)), seed=11)
    rec = sim.recording
    n_samples = sum(len(s) for s in rec.values())
    print(f"simulated {args.minutes:.0f} min, {len(rec)} sensors, {n_samples} samples in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    t_scipy = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        n_peaks = plain_scipy(rec, cfg)
        t_scipy = min(t_scipy, time.perf_counter() - t0)

    # the core alone, fed 1 s blocks of all four sensors; best of three (a shared machine is noisy)
    from stridesync.core.realtime import RealtimeCore
    groups = list(blocks(rec, 1.0))
    t_core = float("inf")
    for _ in range(3):
        core = RealtimeCore({r: s.sample_rate_hz for r, s in rec.items()}, config=cfg, gyro_roles=list(rec))
        t0 = time.perf_counter()
        for g in groups:
            core.push_many(g)
        core.finish()
        t_core = min(t_core, time.perf_counter() - t0)
    n_events, n_steps = len(core.events_), len(core.steps_)

    # per-chunk latency with 20 ms blocks, over the first 10 minutes
    sub = {r: type(s)(r, s.time_s[s.time_s < 600.0], s.acc_g[s.time_s < 600.0], s.gyro_dps[s.time_s < 600.0])
           for r, s in rec.items()}
    rt = RealtimeCore({r: s.sample_rate_hz for r, s in sub.items()}, config=cfg, gyro_roles=list(sub))
    lat = []
    for group in blocks(sub, 0.02):
        a = time.perf_counter()
        rt.push_many(group)
        lat.append(time.perf_counter() - a)
    n_live_steps = len(rt.step_delays_s)  # steps emitted while streaming (finish() flushes the rest)
    rt.finish()
    step_delays = np.array(rt.step_delays_s[:n_live_steps])
    lat_ms = np.array(lat) * 1000
    # reporting delay: measured in the 20 ms run, where data time advances as it would live
    # (events emitted by finish() at the very end are not live and are left out)
    delays = np.concatenate([np.asarray(v) for v in rt.delays_s.values() if v])
    delays = delays[delays < 30.0]
    per_kind = {k.value: float(np.percentile(v, 95)) * 1000 for k, v in rt.delays_s.items() if v}

    out = {
        "minutes": args.minutes,
        "events": n_events,
        "steps": n_steps,
        "realtime_x": round(dur / t_core, 1),
        "samples_per_s": round(n_samples / t_core),
        "scipy_realtime_x": round(dur / t_scipy, 1),
        "ratio_vs_scipy": round(t_core / t_scipy, 2),
        "chunk_p50_ms": round(float(np.percentile(lat_ms, 50)), 3),
        "chunk_p99_ms": round(float(np.percentile(lat_ms, 99)), 3),
        "chunk_max_ms": round(float(lat_ms.max()), 3),
        "report_delay_p50_ms": round(float(np.percentile(delays, 50)) * 1000, 1),
        "report_delay_p95_ms": round(float(np.percentile(delays, 95)) * 1000, 1),
        "report_delay_p95_ms_by_event": {k: round(v, 1) for k, v in per_kind.items()},
        "step_delay_p50_ms": round(float(np.percentile(step_delays, 50)) * 1000, 1) if len(step_delays) else None,
        "step_delay_p95_ms": round(float(np.percentile(step_delays, 95)) * 1000, 1) if len(step_delays) else None,
    }
    print(f"real-time core: {t_core:.2f} s for {dur:.0f} s of data ({out['realtime_x']}x real time); "
          f"plain SciPy: {t_scipy:.2f} s ({n_peaks} raw peaks)")
    print(f"20 ms blocks: p50 {out['chunk_p50_ms']} ms, p99 {out['chunk_p99_ms']} ms, max {out['chunk_max_ms']} ms")
    print(f"reporting delay p95 by event (ms): {out['report_delay_p95_ms_by_event']}")
    print(f"step delay after its push: p50 {out['step_delay_p50_ms']} ms, p95 {out['step_delay_p95_ms']} ms "
          f"(one stride at 175 steps/min: 686 ms)")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
