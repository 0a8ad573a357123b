"""Analyse a wide samples CSV: estimate each sensor's mounting, detect events and steps, print the session.

    python examples/analyse_a_csv.py [RUN.csv]

Without an argument a 40-second simulated run (standing, then running) is written to a temporary file first.
"""

import sys
import tempfile
from pathlib import Path

from stridesync.core.mounting import align_recording
from stridesync.core.mounting_checks import check
from stridesync.core.reference import analyze
from stridesync.io import read_wide_csv, write_wide_csv
from stridesync.sim import SimParams, simulate


def main(path: Path) -> None:
    recording = read_wide_csv(path)  # role → samples (g, deg/s) on the session clock
    aligned, trackers = align_recording(recording)  # each sensor's rotation, from standing and the first strides
    for verdict in check({role: t.current for role, t in trackers.items()}, aligned):
        print("mounting:", verdict.text)
    result = analyze(aligned)  # the reference analyser: events, steps, session summary
    s = result.summary
    print(f"{len(result.events)} events, {len(result.steps)} steps, cadence {s['cadence_spm']:.0f} steps/min, "
          f"sync score {s['sync_score']:.0f}")
    for step in result.steps[10:15]:
        print(f"  {step.time_s:6.2f} s  {step.stance_side.value:5s}  swing lag {step.swing_lag_ms:+5.1f} ms")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "run.csv"
            write_wide_csv(path, simulate(SimParams(duration_s=40.0, standing_start_s=4.0), seed=1).recording)
            main(path)
