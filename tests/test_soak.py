"""A long recording keeps its per-packet diagnostics bounded (#11 item 16; bench/soak.py measures the RSS).

Seven and a half minutes of four sensors go through the live path (decode, clock, core) into a real session file, faster
than real time: the analyser's diagnostic logs hold the last ~5–6 minutes (15 000 packets a sensor), while the file holds everything.
"""

from __future__ import annotations

from stridesync.core.config import DetectorConfig
from stridesync.live import LiveAnalyzer
from stridesync.session.recorder import Recorder
from stridesync.session.store import Kind, Session
from stridesync.session.synth import feed, sensor_infos, synth_inputs
from stridesync.sim import SimParams, simulate


def test_a_long_recording_keeps_five_minutes_of_diagnostics_in_memory_and_everything_on_disk(tmp_path):
    sim = simulate(SimParams(duration_s=7.5 * 60.0, standing_start_s=2.0, standing_end_s=3.0), seed=3)
    sensors, items = synth_inputs(sim, samples_per_packet=5, seed=3)
    path = tmp_path / "long.stridesync"
    rec = Recorder(path, sensors=sensor_infos(sensors), config=DetectorConfig(), meta={})
    a = LiveAnalyzer(sensors, sink=rec)
    rec.bind(a)
    feed(items, a)
    rec.close(events=a.core.events_, steps=a.core.steps_, summary=a.core.summary())
    packets = sum(1 for _, kind, *_ in items if kind == Kind.PACKET)
    kept = sum(len(v) for v in a.arrival_log.values())
    assert kept < packets  # bounded: the logs did not keep every packet of the session
    for key, log in a.arrival_log.items():
        assert log[-1] - log[0] < 400.0, key  # the last ~6 minutes at 40 packets/s (100 000 entries kept all 7.5)
        assert len(a.mapping_log[key]) == len(log)
    assert len(a.emission_log) <= len(a.core.events_)
    with Session.open(path) as s:  # the session file is the complete record
        assert s.count(Kind.PACKET) == packets
        assert len(s.steps()) == len(a.core.steps_) > 500
