"""Accuracy of the real-time core over a grid of simulated runs, for both rule sets (MEASUREMENT.md §6.2).

For each run (sample rate × cadence × lag set × noise, standing at start and end) and rule set:
  * real-time vs reference on the same noisy input: recall, precision, timing and lag errors;
  * real-time vs the simulator's physical truth (its initial contacts, toe-offs, peak shank rates and wrist
    turnarounds, rendered from real runners' limb motion): signed bias and |error| per event, lag errors;
  * events while standing.
Baseline in the same run: the same rules on causal filters (each filter a 4th-order causal Butterworth of
the same cut-off, i.e. without the zero-phase buffering) against the same truth.

The last line printed is one JSON object.  Usage: python bench/accuracy_grid.py [--quick] [--seconds 60]
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
from stridesync.core.measures import build_steps
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


def grid(rules: str, rates, cadences, noises, seconds: float) -> dict:
    cfg = DetectorConfig(rules=rules)
    agg = {"rt_ref": [], "rt_truth": {k: [] for k in EventKind}, "lag_rt_ref": [], "lag_rt_truth": [],
           "base_truth": {k: [] for k in EventKind}, "standing_events": 0, "n_truth": 0, "n_ref": 0, "n_rt": 0,
           "matched_ref": 0, "matched_truth": 0, "runs": 0}
    t0 = time.perf_counter()
    for seed, (rate, cad, lname, noise) in enumerate(itertools.product(rates, cadences, ("zero", "late", "early"), noises)):
        sw, ip, co = lag_sets(cad)[lname]
        p = SimParams(duration_s=seconds, cadence_spm=cad, swing_lag_ms=sw, ipsi_arm_lag_ms=ip, contra_arm_lag_ms=co,
                      noise_g=noise, sample_rate_hz={r: rate for r in Role}, standing_start_s=8.0, standing_end_s=8.0)
        sim = simulate(p, seed=100 + seed)
        t_events = sim.design_events
        t_steps, _ = build_steps(t_events, cfg)
        ref = analyze(sim.recording, cfg)
        rt, _ = run_realtime(sim.recording, config=cfg)
        c_ref = compare(ref.events, rt.events, ref.steps, rt.steps)
        c_tru = compare(t_events, rt.events, t_steps, rt.steps)
        still_to, still_from = 8.0 - RAMP_S, seconds - 8.0 + RAMP_S
        standing = sum(1 for e in rt.events if e.time_s < still_to or e.time_s > still_from)
        agg["runs"] += 1
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
        base = compare(t_events, causal_baseline(sim.recording, cfg).events)
        for k, v in base.errors_ms.items():
            agg["base_truth"][k].append(v)
        e = np.abs(c_ref.all_errors())
        q = (lambda x, p: float(np.percentile(x, p)) if len(x) else float("nan"))
        print(f"{rules:5s} {rate:5.0f} Hz {cad:5.0f} spm lags {lname:5s} noise {noise:.2f} g: {c_ref.n_truth} reference "
              f"events, rt vs ref recall {c_ref.recall:.4f} precision {c_ref.precision:.4f} |err| median {q(e, 50):.3f} "
              f"p95 {q(e, 95):.3f} ms, lag |err| median {q(np.abs(c_ref.lag_errors_ms), 50):.3f} ms, "
              f"standing events {standing}", flush=True)
    e_ref = np.abs(np.concatenate(agg["rt_ref"]))
    lag_ref = np.abs(np.concatenate(agg["lag_rt_ref"]))
    lag_tru = np.concatenate(agg["lag_rt_truth"])
    per_kind = {}
    for k in EventKind:
        v = np.concatenate(agg["rt_truth"][k]) if agg["rt_truth"][k] else np.empty(0)
        b = np.concatenate(agg["base_truth"][k]) if agg["base_truth"][k] else np.empty(0)
        if not len(v):
            continue
        per_kind[k.value] = {"bias_ms": round(float(np.mean(v)), 2), "sd_ms": round(float(np.std(v)), 2),
                             "abs_median_ms": round(float(np.median(np.abs(v))), 3),
                             "abs_p95_ms": round(float(np.percentile(np.abs(v), 95)), 3),
                             "baseline_causal_bias_ms": round(float(np.mean(b)), 1) if len(b) else None,
                             "baseline_causal_abs_median_ms": round(float(np.median(np.abs(b))), 2) if len(b) else None}
    res = {
        "runs": agg["runs"],
        "rt_vs_ref_recall": round(agg["matched_ref"] / agg["n_ref"], 5),
        "rt_vs_ref_precision": round(agg["matched_ref"] / agg["n_rt"], 5),
        "rt_vs_ref_err_median_ms": round(float(np.median(e_ref)), 4),
        "rt_vs_ref_err_p95_ms": round(float(np.percentile(e_ref, 95)), 4),
        "rt_vs_ref_lag_err_median_ms": round(float(np.median(lag_ref)), 4),
        "rt_vs_truth_found": round(agg["matched_truth"] / agg["n_truth"], 4),
        "rt_vs_truth_lag_err_abs_median_ms": round(float(np.median(np.abs(lag_tru))), 2),
        "rt_vs_truth_by_event": per_kind,
        "standing_events": agg["standing_events"],
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    print(f"{rules} rules, real-time vs the simulator's physical truth, per event (ms; baseline = same rules, causal filters):")
    for k, v in per_kind.items():
        print(f"  {k:9s} bias {v['bias_ms']:+7.2f} SD {v['sd_ms']:6.2f}  |err| median {v['abs_median_ms']:7.3f} p95 "
              f"{v['abs_p95_ms']:7.3f}   baseline bias {v['baseline_causal_bias_ms']}  |err| median {v['baseline_causal_abs_median_ms']}")
    return res


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a smaller grid")
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    logging.getLogger("stridesync.sim").setLevel(logging.ERROR)
    rates = (100.0, 200.0, 400.0)
    cadences = (150.0, 175.0, 200.0) if not args.quick else (175.0,)
    noises = (0.02, 0.08) if not args.quick else (0.05,)
    out = {"runs_per_rule_set": 0}
    for rules in ("gyro", "accel"):
        out[rules] = grid(rules, rates, cadences, noises, args.seconds)
        out["runs_per_rule_set"] = out[rules].pop("runs")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
