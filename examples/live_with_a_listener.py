"""Four virtual sensors streamed through the real BLE stack, analysed live, watched by your own listeners.

    python examples/live_with_a_listener.py [SECONDS]

Two ways to watch: ``on_update`` gets each batch of new events and steps; ``core.add_listener`` gets every block
of samples the real-time core receives (here: counting samples per sensor).
"""

import asyncio
import sys
from collections import Counter

from stridesync.live_run import LiveOptions, run_source


def main(seconds: float) -> None:
    samples = Counter()

    def on_start(analyzer):
        analyzer.core.add_listener(lambda blocks: samples.update({b[0].value: len(b[1]) for b in blocks}))

    def on_update(events, steps, analyzer):
        for step in steps:
            lag = "—" if step.swing_lag_ms is None else f"{step.swing_lag_ms:+.0f} ms"
            print(f"{step.time_s:6.2f} s  {step.stance_side.value:5s} push, other leg's swing {lag}")

    result = asyncio.run(run_source("virtual:seed=1", LiveOptions(seconds=seconds, on_start=on_start,
                                                                   on_update=on_update)))
    print(f"{len(result.analyzer.core.steps_)} steps; samples per sensor: {dict(samples)}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 15.0)
