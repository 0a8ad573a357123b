"""A long recording keeps its memory bounded (#11 item 16; bench/soak.py measures the RSS).

Six and a half minutes of four sensors go through the live path (decode, clock, core) into a real session file, faster
than real time. The analyser's per-packet diagnostic logs hold only their newest entries, packed, while the file holds
everything; the core's events and steps are packed rows; and once the logs are full, the live path adds ~40 000 Python
objects per hour of session, where events and steps as objects added ~380 000 (bench/soak.py: ~72 MB/h before, ~2 now).
"""

from __future__ import annotations

import gc
import sys
import time

import numpy as np

from stridesync import live
from stridesync.core.config import DetectorConfig
from stridesync.live import LiveAnalyzer
from stridesync.session.recorder import Recorder
from stridesync.session.store import Kind, Session
from stridesync.session.synth import feed, sensor_infos, synth_inputs
from stridesync.sim import SimParams, simulate

#: Python objects (pymalloc blocks) a session may add per hour once the diagnostic logs are full. Packed (numpy
#: rows, float64 arrays) it adds ~40 000 (the strides' tuples, array headers); events and steps as objects with
#: their boxed floats added ~380 000, and a log that kept every packet's tuple ~600 000 more. The packed rows'
#: bytes are checked below (``nbytes``); tracemalloc would say the same but makes the run five times slower.
MAX_OBJECTS_PER_H = 80_000


def test_a_long_recording_keeps_its_memory_bounded_and_everything_on_disk(tmp_path, monkeypatch):
    # small logs, full after ~50 s of 40 packets a second: the rest of the run shows what still grows
    monkeypatch.setattr(live, "DIAG_MAX", 2_000)
    monkeypatch.setattr(live, "EMISSION_MAX", 500)
    sim = simulate(SimParams(duration_s=6.5 * 60.0, standing_start_s=2.0, standing_end_s=3.0), seed=3)
    sensors, items = synth_inputs(sim, samples_per_packet=5, seed=3)
    path = tmp_path / "long.stridesync"
    rec = Recorder(path, sensors=sensor_infos(sensors), config=DetectorConfig(), meta={})
    a = LiveAnalyzer(sensors, sink=rec)
    rec.bind(a)
    blocks: list[tuple[float, int]] = []
    nxt, fed = [120.0], [0]

    def on_fed(t: float) -> None:  # from 2 min on, every 20 s of data: the Python objects held
        fed[0] += 1
        if t >= nxt[0] and t < items[-1][0]:
            nxt[0] += 20.0
            while rec.written < fed[0]:  # every input fed so far is committed: the writer's batch is not what a
                time.sleep(0.002)        # session keeps
            time.sleep(0.002)
            gc.collect()  # a full collection also empties the free lists (freed objects kept for reuse)
            blocks.append((t, sys.getallocatedblocks()))

    feed(items, a, on_fed=on_fed)
    rec.close(events=a.core.events_, steps=a.core.steps_, summary=a.core.summary())
    t_h = np.array([x[0] for x in blocks[1:]]) / 3600.0
    n = np.array([x[1] for x in blocks[1:]], dtype=float)
    assert len(t_h) >= 10
    growth = float(np.polyfit(t_h, n, 1)[0])
    assert growth < MAX_OBJECTS_PER_H, f"{growth:.0f} objects/h"

    packets = sum(1 for _, kind, *_ in items if kind == Kind.PACKET)
    for key, log in a.arrival_log.items():  # bounded: the newest entries only, packed
        assert len(log) == len(a.mapping_log[key]) == 2_000, key
        assert log[-1] - log[0] < 60.0, key  # the last ~50 s at 40 packets/s (the session lasts 6.5 min)
        assert log[-1] == max(log)
    assert sum(len(v) for v in a.arrival_log.values()) < packets
    assert len(a.emission_log) == 500 <= len(a.core.events_)
    events, steps = a.core.events_, a.core.steps_
    assert len(steps) > 500 and len(events) > 2500
    assert events.nbytes < 64 * len(events) and steps.nbytes < 256 * len(steps)  # packed rows, not objects
    assert all(v.itemsize == 8 for v in a.core.delays_s.values()) and a.core.step_delays_s.itemsize == 8
    with Session.open(path) as s:  # the session file is the complete record
        assert s.count(Kind.PACKET) == packets
        assert s.steps() == steps and s.events() == events
