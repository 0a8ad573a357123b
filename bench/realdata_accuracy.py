"""Measurement v2 on real data: accuracy against the body, real time against reference, no running where there
is none.

Body (MEASUREMENT.md §6.1)
    12 RBDS runners × 2.5/3.5/4.5 m/s and 5 Hamner runners × 2/3/4/5 m/s: virtual shank and wrist sensors from
    the marker clusters, truth from the force plates (30 N) and the markers (:mod:`tests.bodies`). Per event and
    rule set: bias and SD of detected − truth, % of truth events found inside analysable strides, extra
    detections, split by data set, speed and foot strike (:mod:`tests.body_accuracy` says what is counted).
    Per step: each lag against the truth lag of the same step.
    Baseline in the same run: the literature's shank-gyroscope rules applied plainly (Aminian 2002 / O'Donovan
    2009: mid-swing = peaks of −ω_z found by ``find_peaks`` ≥ 100 deg/s, ≥ 0.4 s apart; initial contact = the
    minimum within 0.3 s after it; toe-off = the minimum within 0.35 s before it).
Real time vs reference (§6.2)
    every body trial, both rule sets, 20 ms blocks: recall, precision, |timing| median and p95, |lag| median.
No running where there is none
    TRIPOD walking (real shank IMUs, 3 speeds): counted strides; adeptdata (shoe accelerometer): events in the
    three standing breaks; StrikeWatch wrists (24 files): real time vs reference.

The last line printed is one JSON object with the key figures.

Usage: .venv/bin/python bench/realdata_accuracy.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.signal import find_peaks

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.bodies and its helpers

from stridesync.core import dsp  # noqa: E402
from stridesync.core.config import DetectorConfig  # noqa: E402
from stridesync.core.reference import ReferenceAnalyzer  # noqa: E402
from stridesync.evaluate import compare  # noqa: E402
from stridesync.model import Event, EventKind, Role, Side  # noqa: E402
from tests import bodies  # noqa: E402
from tests import body_accuracy as BA  # noqa: E402
from tests import realdata as rd  # noqa: E402
from tests.conftest import feed  # noqa: E402

KINDS = (EventKind.CONTACT, EventKind.PUSH, EventKind.SWING, EventKind.ARM_FWD, EventKind.ARM_BACK)


def r(x, n=1):
    return None if x is None or not np.isfinite(x) else round(float(x), n)


def literature_baseline(trial) -> list[Event]:
    """Aminian/O'Donovan shank-gyroscope rules, plainly (no bouts, no flight test)."""
    out = []
    for side in Side:
        s = trial.recording.get(side.shin)
        if s is None:
            continue
        fs = s.sample_rate_hz
        sos, zi = dsp.lowpass_sos(20.0, fs)
        x = dsp.zero_phase(-s.gyro_dps[:, 2], sos, zi)
        t = s.time_s
        pk, _ = find_peaks(x, height=100.0, distance=int(0.4 * fs))
        for k, i in enumerate(pk):
            out.append(Event(side.shin, EventKind.SWING, float(t[i]), float(x[i]), k, "gyro"))
            a = i + int(np.argmin(x[i:i + int(0.3 * fs)]))
            out.append(Event(side.shin, EventKind.CONTACT, float(t[a]), 0.0, k + 1, "gyro"))
            lo = max(0, i - int(0.35 * fs))
            b = lo + int(np.argmin(x[lo:i])) if i > lo else i
            out.append(Event(side.shin, EventKind.PUSH, float(t[b]), 0.0, k, "gyro"))
    return out


def table(results, key, title: str, out: dict, label: str) -> None:
    print(f"\n{title}")
    print(f"  {'group':<16}{'event':<10}{'n':>6}{'bias ms':>9}{'SD ms':>8}{'found %':>9}{'extra':>7}")
    for (g, kind), p in sorted(BA.pool(results, key).items(), key=lambda kv: (str(kv[0][0]), KINDS.index(kv[0][1]))):
        row = p.row()
        if not row["n"]:
            continue
        print(f"  {str(g):<16}{kind.value:<10}{row['n']:>6}{row['bias_ms']:>9.1f}{row['sd_ms'] or 0:>8.1f}"
              f"{row['found_pct']:>9.1f}{row['extra']:>7}")
        out.setdefault(label, {}).setdefault(str(g), {})[kind.value] = {
            "n": row["n"], "bias_ms": r(row["bias_ms"]), "sd_ms": r(row["sd_ms"]), "found_pct": r(row["found_pct"])}


def main() -> int:
    t0 = time.perf_counter()
    trials = list(bodies.all_trials())
    print(f"{len(trials)} body trials loaded in {time.perf_counter() - t0:.1f} s")
    out: dict = {"trials": len(trials)}
    results = {}
    for rules in ("gyro", "accel"):
        cfg = DetectorConfig(rules=rules)
        results[rules] = [BA.evaluate(tr, BA.analyse(tr, cfg=cfg), cfg) for tr in trials]
    cfg = DetectorConfig()
    results["baseline"] = [BA.evaluate(tr, literature_baseline(tr), cfg) for tr in trials]

    for rules, name in (("gyro", "gyroscope rules"), ("accel", "accelerometer rules"),
                        ("baseline", "baseline: Aminian/O'Donovan gyroscope rules, plain")):
        res = results[rules]
        table(res, lambda r_, role: "all", f"== {name}: pooled", out, f"{rules}_all")
        if rules == "baseline":
            continue
        table(res, lambda r_, role: r_.trial_id.split("/")[0], f"-- {name}: by data set", out, f"{rules}_dataset")
        table(res, lambda r_, role: f"{r_.trial_id.split('/')[0]} {r_.speed_ms:g} m/s", f"-- {name}: by speed",
              out, f"{rules}_speed")
        table(res, lambda r_, role: r_.foot_strike.get(role.side, "unknown"), f"-- {name}: by foot strike",
              out, f"{rules}_strike")
        print(f"-- {name}: per step, detected lag − truth lag of the same step")
        for lag in ("swing_lag", "ipsi_arm_lag", "contra_arm_lag"):
            e = np.concatenate([x.lag_errors_ms[lag] for x in res])
            if len(e):
                print(f"  {lag:<16} n {len(e):5d}  median |error| {np.median(np.abs(e)):6.1f} ms  median {np.median(e):+6.1f} ms")
                out.setdefault(f"{rules}_lag_abs_median_ms", {})[lag] = r(np.median(np.abs(e)))

    print("\n== real time vs reference (20 ms blocks), every body trial")
    for rules in ("gyro", "accel"):
        cfg = DetectorConfig(rules=rules)
        n = [0, 0, 0]
        errs, lags = [], []
        for tr in trials:
            ref = ReferenceAnalyzer(config=cfg).analyze(tr.recording)
            core = feed(tr.recording, 0.02, cfg)
            c = compare(ref.events_, core.events_, ref.steps_, core.steps_)
            n = [n[0] + c.n_truth, n[1] + c.n_test, n[2] + c.n_matched]
            errs.append(np.abs(c.all_errors()))
            lags.append(np.abs(c.lag_errors_ms))
        e, lg = np.concatenate(errs), np.concatenate(lags)
        fig = {"recall_pct": r(100 * n[2] / n[0], 2), "precision_pct": r(100 * n[2] / n[1], 2),
               "timing_median_ms": r(np.median(e), 4), "timing_p95_ms": r(np.percentile(e, 95), 3),
               "lag_median_ms": r(np.median(lg), 4)}
        print(f"  {rules:6} {fig}")
        out[f"realtime_vs_reference_{rules}"] = fig

    print("\n== no running where there is none")
    walk = {}
    for speed in ("PWS-20", "PWS", "PWS+20"):
        tt = rd.load_tripod(speed)
        for rules in ("gyro", "accel"):
            res = ReferenceAnalyzer(config=DetectorConfig(rules=rules)).analyze(tt.recording)
            walk[f"{speed}_{rules}"] = sum(1 for e in res.events_ if e.kind is EventKind.PUSH)
    print(f"  TRIPOD walking, counted strides (reference): {walk}")
    out["tripod_counted_strides"] = sum(walk.values())
    s = rd.load_adept_ankle()
    res = ReferenceAnalyzer(config=DetectorConfig()).analyze({Role.LEFT_SHIN: s})
    ev_t = np.array([e.time_s for e in res.events_])
    standing = rd.adept_segments()["standing"]
    in_standing = int(sum(((ev_t >= a) & (ev_t <= b)).sum() for a, b in standing))
    print(f"  adeptdata (shoe sensor): {len(ev_t)} events, {in_standing} in the {len(standing)} standing breaks")
    out["adept_events_in_standing"] = in_standing
    n = [0, 0, 0]
    for name in rd.strikewatch_files():
        rec = {Role.LEFT_WRIST: rd.load_strikewatch(name)}
        ref = ReferenceAnalyzer(config=DetectorConfig()).analyze(rec)
        c = compare(ref.events_, feed(rec, 0.02).events_)
        n = [n[0] + c.n_truth, n[1] + c.n_test, n[2] + c.n_matched]
    print(f"  StrikeWatch wrists, real time vs reference: recall {100 * n[2] / n[0]:.2f} %, precision {100 * n[2] / n[1]:.2f} %")
    out["strikewatch_realtime_recall_pct"] = r(100 * n[2] / n[0], 2)
    out["seconds"] = r(time.perf_counter() - t0)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
