"""``stridesync analyze``: detect events and steps in a wide samples CSV and write them (events, steps,
summary), with the real-time analyser or the offline reference."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import __version__
from ..errors import StrideSyncError
from ..model import TARGET_MODELS
from .common import Progress, fmt


def add_parser(sub) -> None:
    a = sub.add_parser("analyze", help="detect events and steps in a wide samples CSV")
    a.add_argument("input", type=Path, help="wide samples CSV (docs/formats.md)")
    a.add_argument("--events", type=Path, help="events CSV to write")
    a.add_argument("--steps", type=Path, help="steps CSV to write")
    a.add_argument("--summary", type=Path, help="session summary JSON to write")
    a.add_argument("--reference", action="store_true", help="use the offline reference analyser")
    a.add_argument("--target", choices=TARGET_MODELS, default="together", help="target model")
    a.add_argument("--rules", choices=("auto", "gyro", "accel"), default="auto",
                   help="rule set: auto (gyroscope rules wherever angular rate is present), gyro, or accel "
                        "(ignore angular rate, for comparison) (default: auto)")
    a.add_argument("--align", choices=("auto", "given"), default="auto",
                   help="sensor mounting: auto (estimate each sensor's rotation from standing and the first "
                        "strides, docs/measurement.md) or given (the file's axes are the body frame) (default: auto)")
    a.add_argument("--block-s", type=float, default=0.02, help=argparse.SUPPRESS)
    a.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..core.config import DetectorConfig
    from ..core.reference import ReferenceAnalyzer
    from ..io import AtomicOutputs, check_writable, read_wide_csv, write_events_csv, write_steps_csv, write_summary_json
    from ..pipeline import run_realtime

    outputs = [p for p in (args.events, args.steps, args.summary) if p]
    if not outputs:
        raise StrideSyncError("nothing to write: give --events, --steps and/or --summary")
    check_writable(outputs)
    from ..io.plausible import check_recording
    cfg = DetectorConfig(target_model=args.target, rules=args.rules)
    recording = read_wide_csv(args.input)
    check_recording(recording, str(args.input))
    mounting = None
    if args.align == "auto":
        recording, mounting = _align(recording)
    if args.rules == "gyro":
        missing = [r.value for r, s in recording.items() if s.gyro_dps is None]
        if missing:
            raise StrideSyncError(f"--rules gyro needs angular rate (<role>_gx/_gy/_gz columns); "
                                  f"{args.input} has none for {', '.join(missing)}")
    if args.reference:
        res = ReferenceAnalyzer(config=cfg).analyze(recording).result()
    else:
        t0 = min(s.time_s[0] for s in recording.values())
        t1 = max(s.time_s[-1] for s in recording.values())
        bar = Progress("analysing", t1 - t0)
        res, _ = run_realtime(recording, config=cfg, block_s=args.block_s,
                              on_progress=lambda t: bar.update(min(t, t1) - t0))
        bar.close()
    summary = dict(res.summary)
    summary["detector_settings"] = cfg.to_dict()
    summary["software_version"] = __version__
    summary["input"] = str(args.input)
    if mounting is not None:
        summary["mounting"] = mounting
    with AtomicOutputs(outputs) as out:
        if args.events:
            write_events_csv(out.temp_path(args.events), res.events)
        if args.steps:
            write_steps_csv(out.temp_path(args.steps), res.steps)
        if args.summary:
            write_summary_json(out.temp_path(args.summary), summary)
    print(f"{len(res.events)} events, {len(res.steps)} steps ({'reference' if args.reference else 'real-time'} analyser, "
          f"target model {cfg.target_model})")
    from ..report.weak import session_weak_link, words

    # the weak link in the words live, replay, the report and the dashboard use (sides equal within their noise:
    # "both legs"), not the summary's one-limb pick
    wl = session_weak_link(res.steps, summary)
    print(f"cadence {fmt(summary.get('cadence_spm'))} steps/min, sync score {fmt(summary.get('sync_score'))}, "
          f"weak link: {words(wl)}")
    return 0


def _align(recording):
    """Estimate every sensor's mounting (core/mounting.py), print one line each, return the aligned recording and
    the estimates as stored in summaries."""
    from ..core.mounting import align_recording
    from ..core.mounting_checks import check

    aligned, trackers = align_recording(recording)
    estimates = {r: t.current for r, t in trackers.items() if t.current is not None}
    for v in check(estimates, aligned):
        print(f"mounting: {v.text}")
    return aligned, {r.value: [dict(lg.estimate.as_dict(), event=lg.kind) for lg in t.log] for r, t in trackers.items()}
