"""Accuracy of the real-time core over a grid of simulated runs.

For each run (sample rate × cadence × lag set × noise, standing at start and end):
  * real-time vs reference on the same noisy input: recall, precision, timing and lag errors;
  * real-time on the noisy input vs the reference on the simulator's noise-free signal (the
    measurement's own noise sensitivity), per event type;
  * events while standing.
Baseline in the same run: a plain causal detector (each event taken from a 4th-order causal
Butterworth of the same cut-off, i.e. without the zero-phase buffering) against the same truth.

The last line printed is one JSON object.  Usage: python bench/accuracy_grid.py [--quick]
"""

from __future__ import annotations

import logging

import argparse
import itertools
import json
import sys
import time

import numpy as np

from stridesync.core.config import DetectorConfig
from stridesync.core.reference import analyze
from stridesync.evaluate import compare
from stridesync.model import EventKind, Role
from stridesync.pipeline import run_realtime
from stridesync.sim import SimParams, simulate
from stridesync.sim._gait import RAMP_S

SHIN = (EventKind.CONTACT, EventKind.PUSH, EventKind.SWING)
WRIST = (EventKind.ARM_FWD, EventKind.ARM_BACK)


def lag_sets(cadence: float):
    """Lags in ms as fractions of the stride: together, ±12 % arms, swing −12 % / +7 % (the simulator's limit)."""
    T = 120.0 / cadence * 1000.0
    return {
        "zero": (0.0, 0.0, 0.0),
        "late": (0.07 * T, 0.12 * T, 0.12 * T),
        "early": (-0.12 * T, -0.12 * T, -0.10 * T),
    }


def causal_baseline(recording, cfg):
    """The same contract with forward-only (causal) filters and no buffering: what a naive live detector
    that trusts the causal peak would report. Its timing bias is the filters' group delay."""
    from scipy import signal

    from stridesync.core import reference

    def forward_only(x, sos, zi):
        return signal.sosfilt(sos, x, zi=zi * x[0])[0] if len(x) else x

    saved = reference.dsp.zero_phase
    reference.dsp.zero_phase = forward_only
    try:
        return analyze(recording, cfg)
    finally:
        reference.dsp.zero_phase = saved


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a smaller grid")
    ap.add_argument("--seconds", type=float, default=75.0)
    args = ap.parse_args()
    logging.getLogger("stridesync.sim").setLevel(logging.ERROR)
    rates = (100.0, 200.0, 400.0)
    cadences = (150.0, 175.0, 200.0) if not args.quick else (175.0,)
    noises = (0.02, 0.08) if not args.quick else (0.05,)
    cfg = DetectorConfig()
    rows = []
    agg = {"rt_ref": [], "rt_truth": {k: [] for k in EventKind}, "lag_rt_ref": [], "lag_rt_truth": [],
           "base_truth": {k: [] for k in EventKind}, "standing_events": 0, "n_truth": 0, "n_ref": 0, "n_rt": 0, "matched_ref": 0,
           "matched_truth": 0}
    t0 = time.perf_counter()
    for seed, (rate, cad, (lname), noise) in enumerate(itertools.product(rates, cadences, ("zero", "late", "early"), noises)):
        sw, ip, co = lag_sets(cad)[lname]
        p = SimParams(duration_s=args.seconds, cadence_spm=cad, swing_lag_ms=sw, ipsi_arm_lag_ms=ip, contra_arm_lag_ms=co,
                      noise_g=noise, sample_rate_hz={r: rate for r in Role}, standing_start_s=8.0, standing_end_s=8.0)
        sim = simulate(p, seed=100 + seed)
        truth = analyze(sim.clean, cfg)
        ref = analyze(sim.recording, cfg)
        rt, _ = run_realtime(sim.recording, config=cfg)
        c_ref = compare(ref.events, rt.events, ref.steps, rt.steps)
        c_tru = compare(truth.events, rt.events, truth.steps, rt.steps)
        # standing still: the standing parts less the simulator's 1 s ramp into and out of the run
        still_to, still_from = 8.0 - RAMP_S, args.seconds - 8.0 + RAMP_S
        standing = sum(1 for e in rt.events if e.time_s < still_to or e.time_s > still_from)
        agg["standing_events"] += standing
        agg["n_ref"] += c_ref.n_truth
        agg["n_rt"] += c_ref.n_test
        agg["matched_ref"] += c_ref.n_matched
        agg["n_truth"] += c_tru.n_truth
        agg["matched_truth"] += c_tru.n_matched
        agg["rt_ref"].append(c_ref.all_errors())
        agg["lag_rt_ref"].append(c_ref.lag_errors_ms)
        agg["lag_rt_truth"].append(c_tru.lag_errors_ms)
        for k, v in c_tru.errors_ms.items():
            agg["rt_truth"][k].append(v)
        base = compare(truth.events, causal_baseline(sim.recording, cfg).events)
        for k, v in base.errors_ms.items():
            agg["base_truth"][k].append(v)
        rows.append((rate, cad, lname, noise, c_ref.recall, c_ref.precision, np.median(np.abs(c_ref.all_errors())),
                     np.percentile(np.abs(c_ref.all_errors()), 95), np.median(np.abs(c_ref.lag_errors_ms)), standing))
        print(f"{rate:5.0f} Hz {cad:5.0f} spm lags {lname:5s} noise {noise:.2f} g: rt vs ref recall {c_ref.recall:.4f} "
              f"precision {c_ref.precision:.4f} |err| median {rows[-1][6]:.3f} p95 {rows[-1][7]:.3f} ms, lag |err| median "
              f"{rows[-1][8]:.3f} ms, standing events {standing}", flush=True)
    e_ref = np.abs(np.concatenate(agg["rt_ref"]))
    lag_ref = np.abs(np.concatenate(agg["lag_rt_ref"]))
    lag_tru = np.abs(np.concatenate(agg["lag_rt_truth"]))
    per_kind = {}
    for k in EventKind:
        v = np.abs(np.concatenate(agg["rt_truth"][k])) if agg["rt_truth"][k] else np.empty(0)
        b = np.abs(np.concatenate(agg["base_truth"][k])) if agg["base_truth"][k] else np.empty(0)
        per_kind[k.value] = {"median_ms": round(float(np.median(v)), 3), "p95_ms": round(float(np.percentile(v, 95)), 3),
                             "baseline_causal_median_ms": round(float(np.median(b)), 2) if len(b) else None,
                             "baseline_causal_p95_ms": round(float(np.percentile(b, 95)), 2) if len(b) else None}
    out = {
        "runs": len(rows),
        "rt_vs_ref_recall": round(agg["matched_ref"] / agg["n_ref"], 5),
        "rt_vs_ref_precision": round(agg["matched_ref"] / agg["n_rt"], 5),
        "rt_vs_ref_err_median_ms": round(float(np.median(e_ref)), 4),
        "rt_vs_ref_err_p95_ms": round(float(np.percentile(e_ref, 95)), 4),
        "rt_vs_ref_lag_err_median_ms": round(float(np.median(lag_ref)), 4),
        "rt_vs_truth_recall": round(agg["matched_truth"] / agg["n_truth"], 5),
        "rt_vs_truth_lag_err_median_ms": round(float(np.median(lag_tru)), 3),
        "rt_vs_truth_by_event": per_kind,
        "standing_events": agg["standing_events"],
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    print("real-time vs noise-free truth, per event (|error| ms; baseline = same contract on causal filters):")
    for k, v in per_kind.items():
        print(f"  {k:9s} median {v['median_ms']:7.3f}  p95 {v['p95_ms']:7.3f}   baseline median {v['baseline_causal_median_ms']}  p95 {v['baseline_causal_p95_ms']}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
