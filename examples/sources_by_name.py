"""One way in: the same code runs any source named by a spec (virtual:, ble:ROSTER, replay:FILE, csv:FILE).

    python examples/sources_by_name.py [SPEC ...]

Default: a simulated CSV (written to a temporary file) and the sample session, each as a source, through the
same callback.
"""

import asyncio
import sys
import tempfile
from pathlib import Path

from stridesync.io import write_wide_csv
from stridesync.live_run import LiveOptions, run_source
from stridesync.sim import SimParams, simulate
from stridesync.sources import open_source

HERE = Path(__file__).resolve().parent


def run(spec: str) -> None:
    source = open_source(spec)  # the kind's module is imported only now
    n = 0

    def on_update(events, steps, analyzer):
        nonlocal n
        n += len(steps)

    result = asyncio.run(run_source(source, LiveOptions(seconds=15.0, on_update=on_update)))
    summary = result.analyzer.core.summary()
    print(f"{spec}: {n} steps, cadence {summary['cadence_spm']:.0f} steps/min, sync score {summary['sync_score']:.0f}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        for spec in sys.argv[1:]:
            run(spec)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / "run.csv"
            write_wide_csv(csv, simulate(SimParams(duration_s=30.0), seed=2).recording)
            run(f"csv:{csv}")
            run(f"replay:{HERE.parent / 'recordings' / 'sample_run.stridesync'}")
