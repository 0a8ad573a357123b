"""Mounting estimation (#10) on real bodies and simulated runs: rotations, swaps, slips, TRIPOD's own axes.

Rotations (real)
    Every RBDS and Hamner trial (56; virtual sensors, body frame; standing put in front by
    :func:`tests.mounting_cases.with_standing`), each sensor turned by random rotations uniform on SO(3)
    (``--per-trial`` each; at least 20 per trial type: RBDS 12 runners × speed, Hamner 5 runners × speed) and by
    the named ones (exactly upside down, 90° about the segment, 180° about y), both rule sets. After estimation
    (``align_recording``, the path of analyze, live and replay) the reference analyser's events are compared with
    those of the unrotated recording taken as given: |Δt| median and p95, recall; and with those of the unrotated
    recording aligned the same way (what the rotation itself changes). Axes: the estimated x, y, z
    against the body frame of the virtual sensor (anatomical: ankle-knee / elbow-wrist and the standing
    anterior), and the estimate's equivariance (rotated vs unrotated estimate).
    Baseline in the same run: the same events without estimation (the rotated data analysed as given).
Checks (real)
    Hamner (all four limbs): swapped shins, swapped wrists, the left wrist's pod on the left shin; RBDS (shins
    only): swapped shins. Named in how many cases; false alarms on the unmodified trials.
Slip (simulated)
    A 10-minute simulated run, the left shin's sensor turned 45° about the shin at 300 s: strides until flagged,
    and the first stride from which the rest of the run's events meet the targets again against the unslipped
    run (recall ≥ 99 %, |Δt| median ≤ 1 ms, p95 ≤ 5 ms), both rule sets.
TRIPOD
    Real shank IMUs, undocumented axes: the estimate from the raw device data against the signed permutation the
    test loader infers, gravity on x while standing, and the swing on −z.

The last line printed is one JSON object.

Usage: .venv/bin/python bench/mounting.py [--per-trial N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stridesync.core.config import DetectorConfig  # noqa: E402
from stridesync.core.mounting_checks import check  # noqa: E402
from stridesync.core.mounting import (align_recording, estimate,  # noqa: E402
                                      rotation_angle_deg)
from stridesync.core.reference import ReferenceAnalyzer  # noqa: E402
from stridesync.model import EventKind, Role  # noqa: E402
from tests import bodies  # noqa: E402
from tests import mounting_cases as mc  # noqa: E402


def events(rec, rules: str):
    return ReferenceAnalyzer(config=DetectorConfig(rules=rules)).analyze(rec).result().events


def _axes_err(R: np.ndarray) -> list[float]:
    return [math.degrees(math.acos(max(-1.0, min(1.0, float(R[i, i]))))) for i in range(3)]


def rotations_part(per_trial: int, quick: bool) -> dict:
    rng = np.random.default_rng(10)
    out: dict = {}
    trials = list(bodies.all_trials())
    if quick:
        trials = trials[::9]
    n_types: dict = {}
    for k, tr in enumerate(trials):
        base = mc.with_standing(tr, seed=k)
        n_rand = per_trial if tr.dataset == "rbds" else max(per_trial, 4)
        n_types[(tr.dataset, tr.speed_ms)] = n_types.get((tr.dataset, tr.speed_ms), 0) + n_rand
        rots = [("random", R) for R in mc.random_rotations(n_rand, rng)]
        rots += list(mc.special_rotations().items())
        for rules in ("gyro", "accel"):
            rec0 = base if rules == "gyro" else mc.accel_only(base)
            ref = events(rec0, rules)
            ref_al = events(align_recording(rec0)[0], rules)  # the unrotated recording, aligned the same way
            e0 = {r: estimate(r, s.time_s, s.acc_g, s.gyro_dps) for r, s in rec0.items()}
            o = out.setdefault(rules, {"dt": {}, "found": {}, "n": {}, "base_found": {}, "axes": {}, "equiv": [],
                                       "failed": 0, "cases": 0})
            for r, e in e0.items():
                o["axes"].setdefault(r.value.split("_")[1], []).append(_axes_err(e.rotation) if e.ok else [np.nan] * 3)
            for name, R in rots:
                rot = mc.rotated(rec0, {r: (R if name != "random" else mc.random_rotations(1, rng)[0]) for r in rec0},
                                 gyro=rules == "gyro")
                al, trackers = align_recording(rot)
                got = events(al, rules)
                o["cases"] += 1
                for r, t in trackers.items():
                    e = t.log[0].estimate if t.log else None
                    if e is None or not e.ok:
                        o["failed"] += 1
                dte, _ = mc.event_errors(ref_al, got)
                for ev, d in zip(ref_al, dte):
                    key = f"{ev.role.value.split('_')[1]}/{ev.kind.value}"
                    q = o.setdefault("eq", {}).setdefault(key, [0, 0, []])
                    q[1] += 1
                    if np.isfinite(d):
                        q[0] += 1
                        q[2].append(abs(d) * 1e3)
                dt, _ = mc.event_errors(ref, got)
                for ev, d in zip(ref, dt):
                    key = f"{ev.role.value.split('_')[1]}/{ev.kind.value}"
                    o["n"][key] = o["n"].get(key, 0) + 1
                    if np.isfinite(d):
                        o["found"][key] = o["found"].get(key, 0) + 1
                        o["dt"].setdefault(key, []).append(abs(d) * 1e3)
                if name == "random" and o["cases"] % 7 == 1:  # the baseline: rotated data taken as given
                    bdt, _ = mc.event_errors(ref, events(rot, rules))
                    for ev, d in zip(ref, bdt):
                        key = f"{ev.role.value.split('_')[1]}/{ev.kind.value}"
                        b = o["base_found"].setdefault(key, [0, 0])
                        b[0] += int(np.isfinite(d) and abs(d) <= 0.005)
                        b[1] += 1
        print(f"  rotations: {k + 1}/{len(trials)} trials ({tr.id})", flush=True)
    res = {"cases_per_trial_type_min": min(n_types.values())}
    for rules, o in out.items():
        table = {}
        for key in sorted(o["n"]):
            d = np.array(o["dt"].get(key, [np.nan]))
            b = o["base_found"].get(key, [0, 1])
            q = o.get("eq", {}).get(key, [0, 1, [np.nan]])
            table[key] = {"n": o["n"][key], "recall_pct": round(100 * o["found"].get(key, 0) / o["n"][key], 2),
                          "vs_aligned_unrotated": {"recall_pct": round(100 * q[0] / max(q[1], 1), 2),
                                                   "p95_ms": round(float(np.nanpercentile(q[2] or [np.nan], 95)), 4)},
                          "median_ms": round(float(np.nanmedian(d)), 3), "p95_ms": round(float(np.nanpercentile(d, 95)), 3),
                          "baseline_within_5ms_pct": round(100 * b[0] / max(b[1], 1), 1)}
        axes = {}
        for seg, v in o["axes"].items():
            a = np.array(v)
            axes[seg] = {ax: {"median_deg": round(float(np.nanmedian(a[:, i])), 1),
                              "p95_deg": round(float(np.nanpercentile(a[:, i], 95)), 1),
                              "max_deg": round(float(np.nanmax(a[:, i])), 1)} for i, ax in enumerate("xyz")}
        res[rules] = {"events": table, "axes_vs_body": axes, "estimates_failed": o["failed"], "cases": o["cases"]}
    return res


def equivariance_part(quick: bool) -> dict:
    """estimate(R·data) · R == estimate(data): the estimate follows the sensor, whatever the rotation."""
    rng = np.random.default_rng(3)
    worst = {"gyro": 0.0, "accel": 0.0}
    trials = list(bodies.all_trials())[:: (9 if quick else 3)]
    for tr in trials:
        base = mc.with_standing(tr)
        for role, s in base.items():
            for rules in worst:
                g = s.gyro_dps if rules == "gyro" else None
                e0 = estimate(role, s.time_s, s.acc_g, g)
                for R in mc.random_rotations(3, rng):
                    e = estimate(role, s.time_s, s.acc_g @ R.T, None if g is None else g @ R.T)
                    if e.ok and e0.ok:
                        worst[rules] = max(worst[rules], rotation_angle_deg(e.rotation @ R @ e0.rotation.T))
    return {k: round(v, 4) for k, v in worst.items()}


def checks_part() -> dict:
    cases = {"swapped_shins": 0, "swapped_wrists": 0, "wrist_on_shin": 0}
    named = {k: 0 for k in cases}
    false_alarms, unmodified = 0, 0
    details = []
    for tr in bodies.all_trials():
        # pods worn as the roster says: the firmware's remap gives the body frame (input = body); the cases
        # below give what the input reads when pods sit on other limbs (tests/mounting_cases.py)
        base = mc.with_standing(tr)

        def verdicts(rec):
            al, trk = align_recording(rec)
            return check({r: t.current for r, t in trk.items()}, al)

        v0 = verdicts(base)
        unmodified += 1
        bad = [v.text for v in v0 if not v.ok]
        if bad:
            false_alarms += 1
            details.append((tr.id, "unmodified", bad))
        todo = [("swapped_shins", mc.swapped(base, Role.LEFT_SHIN, Role.RIGHT_SHIN), "shins look swapped")]
        if Role.LEFT_WRIST in base:
            todo += [("swapped_wrists", mc.swapped(base, Role.LEFT_WRIST, Role.RIGHT_WRIST), "wrists look swapped"),
                     ("wrist_on_shin", mc.wrist_on_shin(base, Role.LEFT_WRIST, Role.LEFT_SHIN), "left wrist sensor seems to be on a shin")]
        for name, rec, want in todo:
            cases[name] += 1
            texts = [v.text for v in verdicts(rec)]
            if any(want in t for t in texts):
                named[name] += 1
            else:
                details.append((tr.id, name, texts))
    for d in details[:30]:
        print("   ", d)
    return {"named": {k: f"{named[k]}/{cases[k]}" for k in cases}, "false_alarms": f"{false_alarms}/{unmodified}"}


def slip_part(minutes: float = 10.0) -> dict:
    from stridesync.sim import SimParams, simulate
    from scipy.spatial.transform import Rotation

    sim = simulate(SimParams(duration_s=minutes * 60, standing_start_s=5.0, standing_end_s=5.0), seed=4)
    rec = sim.recording
    at = minutes * 30.0
    R45 = Rotation.from_euler("x", 45, degrees=True).as_matrix()
    out = {}
    for rules in ("gyro", "accel"):
        base = rec if rules == "gyro" else mc.accel_only(rec)
        ref = [e for e in events(base, rules) if e.role is Role.LEFT_SHIN]
        slip = mc.slipped(base, Role.LEFT_SHIN, at, R45)
        al, trk = align_recording(slip)
        got = [e for e in events(al, rules) if e.role is Role.LEFT_SHIN]
        tr = trk[Role.LEFT_SHIN]
        flagged = [lg.time_s for lg in tr.log if lg.kind == "slipped" and lg.time_s >= at]
        contacts = np.array(sorted(e.time_s for e in ref if e.kind is EventKind.CONTACT))
        strides_to_flag = int(np.sum((contacts > at) & (contacts <= flagged[0]))) if flagged else None
        dt, _ = mc.event_errors(ref, got)
        # right again: the first stride from which the next 20 strides, and the rest of the run, meet the targets
        # (recall ≥ 99 %, median ≤ 1 ms, p95 ≤ 5 ms against the unslipped run)
        times = np.array([e.time_s for e in ref])
        strides_to_right, last_bad = None, at
        post = contacts[contacts > at]
        for k, c in enumerate(post[:-20]):
            d = dt[(times >= c) & (times < post[k + 20])]  # the next 20 strides
            f = np.isfinite(d)
            rest = dt[times >= c]
            if not (np.isfinite(rest).mean() >= 0.99 and np.percentile(np.abs(rest[np.isfinite(rest)]), 95) <= 0.005):
                continue
            if len(d) and f.mean() >= 0.99 and np.median(np.abs(d[f])) <= 0.001 and np.percentile(np.abs(d[f]), 95) <= 0.005:
                strides_to_right, last_bad = k, c
                break
        before = [d for e, d in zip(ref, dt) if e.time_s < at - 1]
        after = [d for e, d in zip(ref, dt) if e.time_s >= last_bad]
        out[rules] = {"strides_to_flag": strides_to_flag, "strides_until_right": strides_to_right,
                      "false_slips_before": sum(1 for lg in tr.log if lg.kind == "slipped" and lg.time_s < at),
                      "after_recall_pct": round(100 * float(np.mean(np.isfinite(after))), 2) if after else None,
                      "after_max_ms": round(float(np.max(np.abs(np.array(after)[np.isfinite(after)])) * 1e3), 3)
                      if after else None,
                      "after_p95_ms": round(float(np.percentile(np.abs(np.array(after)[np.isfinite(after)]) * 1e3, 95)), 3)
                      if after else None,
                      "before_recall_pct": round(100 * float(np.mean(np.isfinite(before))), 2)}
        print(f"  slip ({rules}): {out[rules]}", flush=True)
    return out


def tripod_part() -> dict:
    from tests import realdata as rd

    out = {}
    for speed in ("PWS-20", "PWS", "PWS+20"):
        for role in (Role.LEFT_SHIN, Role.RIGHT_SHIN):
            t, acc, gyro = rd._tripod_imu(speed, role)
            M, _ = rd.infer_shank_axes(acc, gyro, rd.TRIPOD_FS_HZ)
            e = estimate(role, t, acc, gyro)
            if not e.ok:
                out[f"{speed}/{role.value}"] = {"ok": False, "message": e.message}
                continue
            body_g = gyro @ e.rotation.T
            out[f"{speed}/{role.value}"] = {
                "ok": True, "standing_s": round(e.standing_s, 1), "x_from": e.x_from,
                "rotation": [[round(float(v), 3) for v in row] for row in e.rotation],
                "vs_inferred_permutation_deg": round(rotation_angle_deg(e.rotation @ M.T), 1),
                "swing_on_minus_z": bool(abs(np.percentile(body_g[:, 2], 1)) > abs(np.percentile(body_g[:, 2], 99))),
                "planarity": round(e.planarity, 2), "strides": e.strides}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-trial", type=int, default=2, help="random rotations per trial (Hamner: at least 4)")
    ap.add_argument("--quick", action="store_true", help="every 9th trial only")
    args = ap.parse_args()
    t0 = time.time()
    res = {}
    print("TRIPOD (real shank IMUs, undocumented axes):", flush=True)
    res["tripod"] = tripod_part()
    for k, v in res["tripod"].items():
        print(f"  {k}: {v}")
    print("equivariance (worst angle, deg):", flush=True)
    res["equivariance_deg"] = equivariance_part(args.quick)
    print(" ", res["equivariance_deg"])
    print("checks:", flush=True)
    res["checks"] = checks_part()
    print(" ", res["checks"])
    print("slip:", flush=True)
    res["slip"] = slip_part()
    print("rotations:", flush=True)
    res["rotations"] = rotations_part(args.per_trial, args.quick)
    for rules in ("gyro", "accel"):
        print(f"  {rules}: {res['rotations'][rules]['cases']} cases, {res['rotations'][rules]['estimates_failed']} "
              f"sensor estimates failed")
        for key, row in res["rotations"][rules]["events"].items():
            print(f"    {key:16s} {row}")
        for seg, ax in res["rotations"][rules]["axes_vs_body"].items():
            print(f"    axes {seg}: {ax}")
    res["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
