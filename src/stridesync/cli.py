"""The ``stridesync`` command. Each subcommand parses, builds objects, calls the library and prints.

Bad input of any kind ends in one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path

from . import __version__
from .errors import StrideSyncError

log = logging.getLogger("stridesync")


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like every other bad input."""

    def error(self, message: str) -> None:  # noqa: D102 - argparse override
        self.exit(2, f"stridesync {self.prog.split()[-1]}: error: {message}\n" if " " in self.prog else f"stridesync: error: {message}\n")


def _fmt(v: float | None, spec: str = ".0f", unit: str = "") -> str:
    return "  —" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:{spec}}{unit}"


class Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal, or when forced)."""

    def __init__(self, label: str, total: float, enabled: bool | None = None):
        self.label, self.total = label, max(total, 1e-9)
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._last = -1

    def update(self, done: float) -> None:
        if not self.enabled:
            return
        pct = int(100 * min(1.0, done / self.total))
        if pct != self._last:
            self._last = pct
            bar = "#" * (pct // 4) + "-" * (25 - pct // 4)
            sys.stderr.write(f"\r{self.label} [{bar}] {pct:3d}%")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


# ---------------------------------------------------------------------------- analyze
def cmd_analyze(args: argparse.Namespace) -> int:
    from .core.config import DetectorConfig
    from .core.reference import ReferenceAnalyzer
    from .io import AtomicOutputs, check_writable, read_wide_csv, write_events_csv, write_steps_csv, write_summary_json
    from .pipeline import run_realtime

    outputs = [p for p in (args.events, args.steps, args.summary) if p]
    check_writable(outputs)
    cfg = DetectorConfig(target_model=args.target)
    recording = read_wide_csv(args.input)
    if args.reference:
        res = ReferenceAnalyzer(config=cfg).analyze(recording).result()
    else:
        t0 = min(s.time_s[0] for s in recording.values())
        t1 = max(s.time_s[-1] for s in recording.values())
        bar = Progress("analysing", t1 - t0)
        res, _ = run_realtime(recording, config=cfg, block_s=args.block_s,
                              on_block=lambda t, ev, st: bar.update(min(t, t1) - t0))
        bar.close()
    summary = dict(res.summary)
    summary["detector_settings"] = cfg.to_dict()
    summary["software_version"] = __version__
    summary["input"] = str(args.input)
    with AtomicOutputs(outputs) as out:
        write_events_csv(out.temp_path(args.events), res.events)
        write_steps_csv(out.temp_path(args.steps), res.steps)
        if args.summary:
            write_summary_json(out.temp_path(args.summary), summary)
    print(f"{len(res.events)} events, {len(res.steps)} steps ({'reference' if args.reference else 'real-time'} analyser, "
          f"target model {cfg.target_model})")
    wl = summary.get("weak_link")
    print(f"cadence {_fmt(summary.get('cadence_spm'))} steps/min, sync score {_fmt(summary.get('sync_score'))}, "
          f"weak link: {wl['text'] if wl else '—'}")
    return 0


# ---------------------------------------------------------------------------- simulate
SIM_FLOATS = {
    "duration_s": "--seconds", "cadence_spm": "--cadence", "cadence_drift_spm_per_min": "--cadence-drift",
    "stride_cv_pct": "--stride-cv", "duty_factor": "--duty-factor", "swing_lag_ms": "--swing-lag",
    "ipsi_arm_lag_ms": "--ipsi-arm-lag", "contra_arm_lag_ms": "--contra-arm-lag", "noise_g": "--noise",
    "standing_start_s": "--standing-start", "standing_end_s": "--standing-end",
}


def _sim_params(args: argparse.Namespace):
    from .sim import SimParams

    kw = {k: getattr(args, k) for k in SIM_FLOATS if getattr(args, k) is not None}
    if args.rate is not None:
        from .model import Role
        kw["sample_rate_hz"] = {r: float(args.rate) for r in Role}
    try:
        return SimParams(**kw)
    except (TypeError, ValueError) as exc:
        raise StrideSyncError(f"bad simulation parameter: {exc}") from None


def cmd_simulate(args: argparse.Namespace) -> int:
    from .core.config import DetectorConfig
    from .core.reference import analyze
    from .io import AtomicOutputs, check_writable, write_events_csv, write_steps_csv, write_wide_csv
    from .sim import simulate

    outputs = [args.output]
    if args.truth_dir:
        args.truth_dir.mkdir(parents=True, exist_ok=True)
        outputs += [args.truth_dir / "events.csv", args.truth_dir / "steps.csv"]
    check_writable(outputs)
    params = _sim_params(args)
    sim = simulate(params, seed=args.seed)
    with AtomicOutputs(outputs) as out:
        write_wide_csv(out.temp_path(args.output), sim.recording)
        if args.truth_dir:
            truth = analyze(sim.clean, DetectorConfig())
            write_events_csv(out.temp_path(outputs[1]), truth.events)
            write_steps_csv(out.temp_path(outputs[2]), truth.steps)
    print(f"wrote {args.output}: {params.duration_s:.0f} s, {len(sim.recording)} sensors"
          + (f"; ground truth in {args.truth_dir}" if args.truth_dir else ""))
    return 0


# ---------------------------------------------------------------------------- demo
def cmd_demo(args: argparse.Namespace) -> int:
    from .core.config import DetectorConfig
    from .pipeline import run_realtime
    from .sim import SimParams, simulate

    params = SimParams(duration_s=args.seconds, swing_lag_ms=35.0, ipsi_arm_lag_ms=-15.0, contra_arm_lag_ms=10.0)
    print(f"StrideSync demo: a simulated {args.seconds:.0f} s run on four virtual sensors, analysed live "
          f"({'as fast as possible' if args.fast else f'{args.speed:g}x real time'}).")
    print("Each line is one step: how late (+) or early (-), in ms, the other leg's swing, the stance-side arm\n"
          "and the other arm peak against the stance leg's push; the sync score (100 = all together) and cadence.")
    print(f"{'time s':>7} {'stance':>6} {'swing':>6} {'arm':>6} {'o.arm':>6} {'score':>5} {'steps/min':>9}")
    sim = simulate(params, seed=args.seed)
    state = {"n": 0}
    core_ref = {}

    def show(t, events, steps):
        for s in steps:
            print(f"{s.time_s:7.2f} {s.stance_side.value:>6} {_fmt(s.swing_lag_ms, '+.0f'):>6} "
                  f"{_fmt(s.ipsi_arm_lag_ms, '+.0f'):>6} {_fmt(s.contra_arm_lag_ms, '+.0f'):>6} "
                  f"{_fmt(s.sync_score):>5} {_fmt(s.cadence_spm):>9}")
            state["n"] += 1
            if state["n"] % 10 == 0 and "core" in core_ref:
                r = core_ref["core"].rolling()
                wl = r.get("weak_link")
                print(f"        last 20 steps: sync {_fmt(r.get('sync_score'))}, weak link: {wl['text'] if wl else '—'}")

    res, _ = run_realtime(sim.recording, config=DetectorConfig(), on_block=show,
                          pace=None if args.fast else args.speed, core_out=core_ref)
    s = res.summary
    wl = s.get("weak_link")
    print(f"\nsession: {s['n_steps']} steps, cadence {_fmt(s.get('cadence_spm'))} steps/min, "
          f"sync score {_fmt(s.get('sync_score'))}, PCI {_fmt(s.get('pci_pct'), '.1f', ' %')}")
    print(f"weak link: {wl['text'] if wl else '—'}")
    return 0


# ---------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="stridesync", description="StrideSync: per-step limb synchronisation for runners.")
    p.add_argument("--version", action="version", version=f"stridesync {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    a = sub.add_parser("analyze", help="detect events and steps in a wide samples CSV")
    a.add_argument("input", type=Path, help="wide samples CSV (MEASUREMENT.md §4)")
    a.add_argument("--events", type=Path, required=True, help="events CSV to write")
    a.add_argument("--steps", type=Path, required=True, help="steps CSV to write")
    a.add_argument("--summary", type=Path, help="session summary JSON to write")
    a.add_argument("--reference", action="store_true", help="use the offline reference analyser")
    a.add_argument("--target", choices=("together", "baseline"), default="together", help="target model")
    a.add_argument("--block-s", type=float, default=0.02, help=argparse.SUPPRESS)
    a.set_defaults(func=cmd_analyze)

    s = sub.add_parser("simulate", help="write a simulated run as a wide samples CSV")
    s.add_argument("output", type=Path, help="wide samples CSV to write (.gz compresses)")
    s.add_argument("--truth-dir", type=Path, help="write the noise-free ground truth events.csv and steps.csv here")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--rate", type=float, help="sample rate of every sensor, Hz (100–400)")
    for field, flag in SIM_FLOATS.items():
        s.add_argument(flag, dest=field, type=float, help=field.replace("_", " "))
    s.set_defaults(func=cmd_simulate)

    d = sub.add_parser("demo", help="a simulated run analysed live in the terminal")
    d.add_argument("--seconds", type=float, default=40.0, help="length of the simulated run")
    d.add_argument("--speed", type=float, default=4.0, help="data time per wall-clock time")
    d.add_argument("--fast", action="store_true", help="as fast as possible")
    d.add_argument("--seed", type=int, default=1)
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except StrideSyncError as exc:
        msg = " ".join(str(exc).split())
        print(f"stridesync {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"stridesync {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
