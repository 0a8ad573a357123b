"""Record the sample session ``sample_run.stridesync`` through the real live path.

A simulated runner wears four virtual sensors (bumble peripherals running the firmware modules) on a
virtual radio; the host reaches them through the real bleak API and records everything the live
analyser receives, exactly as ``stridesync record --virtual`` does. It runs in real time (~2.7 min).

The simulated runner's physical truth: the other arm's backward turnaround comes 35 ms late and drifts a
further +4 ms/min, the swing lag (15 ms) drifts +3 ms/min, and cadence falls 2 steps/min per minute. A lap is
marked every 60 s. recordings/README.md says what the analysis shows (the arms read with the forearm's offsets).

    .venv/bin/python recordings/make_sample.py [--seconds 150] [--out recordings/sample_run.stridesync]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from stridesync.live_run import LiveOptions, run_live
from stridesync.sim import SimParams

PARAMS = dict(cadence_spm=178.0, cadence_drift_spm_per_min=-2.0, swing_lag_ms=15.0, ipsi_arm_lag_ms=5.0,
              contra_arm_lag_ms=35.0, lag_drift_ms_per_min=(3.0, 0.0, 4.0), standing_start_s=8.0, standing_end_s=5.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=150.0)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("sample_run.stridesync"))
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    params = SimParams(duration_s=args.seconds + 25.0, **PARAMS)
    res = asyncio.run(run_live(LiveOptions(
        seconds=args.seconds, virtual=True, sim_params=params, sim_seed=args.seed, record_to=args.out,
        athlete="Sample Runner", notes="Virtual track session: steady run with late contra arm and fatigue drift",
        tags=("sample", "virtual", "track"), lap_every_s=60.0)))
    rec = res.recorder
    s = res.analyzer.core.summary()
    print(f"wrote {args.out}: {rec.written} inputs, {s['n_steps']} steps, weak link: "
          f"{(s.get('weak_link') or {}).get('text', '—')}; error: {rec.error}")


if __name__ == "__main__":
    main()
