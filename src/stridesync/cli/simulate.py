"""``stridesync simulate``: write a simulated runner's four sensors as a wide samples CSV, and optionally the
simulator's ground truth (events and steps)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from ..errors import StrideSyncError
from .common import make_truth_dir, sim_truth

#: simulate's float options: the SimParams field each sets → its flag
SIM_FLOATS = {
    "duration_s": "--seconds", "cadence_spm": "--cadence", "cadence_drift_spm_per_min": "--cadence-drift",
    "stride_cv_pct": "--stride-cv", "duty_factor": "--duty-factor", "swing_lag_ms": "--swing-lag",
    "ipsi_arm_lag_ms": "--ipsi-arm-lag", "contra_arm_lag_ms": "--contra-arm-lag", "noise_g": "--noise",
    "standing_start_s": "--standing-start", "standing_end_s": "--standing-end",
}


#: simulate's options: what each sets, in its unit (the default is SimParams's)
SIM_HELP = {
    "duration_s": "length of the run, s", "cadence_spm": "steps per minute at the start",
    "cadence_drift_spm_per_min": "cadence change, steps/min per minute",
    "stride_cv_pct": "stride-to-stride variation of the stride time, %%",
    "duty_factor": "ground contact time / stride time",
    "swing_lag_ms": "the other leg's peak swing minus the stance leg's toe-off, ms (+ late)",
    "ipsi_arm_lag_ms": "the stance-side wrist's forward turn minus the toe-off, ms",
    "contra_arm_lag_ms": "the other wrist's backward turn minus the toe-off, ms",
    "noise_g": "sensor noise, g RMS", "standing_start_s": "standing still before the run, s",
    "standing_end_s": "standing still after the run, s",
}


def _epilog() -> str:
    from ..sim import DETECTED_OFFSET_MS as off
    return (
        "The lags are the simulated runner's physical truth: --truth-dir writes them exactly as asked (each step\n"
        "varies by its stride-to-stride SD: 3 ms for the swing, 8 ms for the arms). What `stridesync analyze`\n"
        "reads from the file differs by what the sensors and the rules see (docs/measurement.md §9):\n"
        f"  swing lag        {off['swing_lag']:+.0f} ms (toe-off is found about 8 ms late on the simulated shanks)\n"
        f"  stance-side arm  {off['ipsi_arm_lag']:+.0f} ms (a wrist sensor sees the forearm, whose forward turn comes later)\n"
        f"  other arm        {off['contra_arm_lag']:+.0f} ms (... and whose backward turn comes earlier)\n"
        "so --swing-lag 30 reads about 24 ms. Under --target baseline these constant offsets cancel.\n"
        "example:\n"
        "  stridesync simulate run.csv --seconds 120 --swing-lag 30 --truth-dir truth/\n"
        "  stridesync analyze run.csv --steps steps.csv --summary summary.json")


def add_parser(sub) -> None:
    from ..sim import SimParams
    sim_defaults = {f.name: f.default for f in dataclasses.fields(SimParams)}
    s = sub.add_parser("simulate", help="write a simulated run as a wide samples CSV",
                       description="Write a simulated runner's four sensors (shins and wrists, accelerometer and "
                                   "gyroscope) as a wide samples CSV.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_epilog())
    s.add_argument("output", type=Path, help="wide samples CSV to write (.gz compresses)")
    s.add_argument("--truth-dir", type=Path, help="write the noise-free ground truth events.csv and steps.csv here")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--rate", type=float, help="sample rate of every sensor, Hz, 100–400 (default 200)")
    for field, flag in SIM_FLOATS.items():
        unit = {"s": "S", "spm": "SPM", "min": "SPM", "pct": "PCT", "ms": "MS", "g": "G"}.get(field.rsplit("_", 1)[-1], "X")
        s.add_argument(flag, dest=field, type=float, metavar=unit,
                       help=f"{SIM_HELP[field]} (default {sim_defaults[field]:g})")
    s.set_defaults(func=run)


def _params(args: argparse.Namespace):
    from ..sim import SimParams

    given = vars(args)
    kw = {k: given[k] for k in SIM_FLOATS if given[k] is not None}
    if args.rate is not None:
        from ..model import Role
        kw["sample_rate_hz"] = {r: float(args.rate) for r in Role}
    try:
        return SimParams(**kw)
    except (TypeError, ValueError) as exc:
        raise StrideSyncError(f"bad simulation parameter: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from ..io import AtomicOutputs, check_writable, write_events_csv, write_steps_csv, write_wide_csv
    from ..sim import simulate

    outputs = [args.output]
    if args.truth_dir:
        make_truth_dir(args.truth_dir)
        outputs += [args.truth_dir / "events.csv", args.truth_dir / "steps.csv"]
    check_writable(outputs)
    params = _params(args)
    sim = simulate(params, seed=args.seed)
    with AtomicOutputs(outputs) as out:
        write_wide_csv(out.temp_path(args.output), sim.recording)
        if args.truth_dir:
            events, steps = sim_truth(sim)
            write_events_csv(out.temp_path(outputs[1]), events)
            write_steps_csv(out.temp_path(outputs[2]), steps)
    print(f"wrote {args.output}: {params.duration_s:.0f} s, {len(sim.recording)} sensors"
          + (f"; ground truth in {args.truth_dir}" if args.truth_dir else ""))
    return 0
