"""The bulk replay path (stridesync.live_bulk) against the per-input live path, on hostile input.

A live analyser is fed input by input (as acquisition does), recording to a real session file; the file
is then replayed as fast as possible, which takes the bulk path. Everything must be equal: events, steps,
summaries, every sensor's counters and link state, its clock estimator's model, and the diagnostics logs.
The inputs carry what a bad day at the track brings: loss, a 5 s dropout, a sensor reboot, duplicates,
out-of-order and malformed packets, packets with random bytes over their samples or anywhere, a gyro-format packet, an impossible sensor time, an impossibly early
arrival, link-state changes and a stranger's packets.
"""

from __future__ import annotations

import numpy as np
import pytest

from stridesync.core.config import DetectorConfig
from stridesync.live import LiveAnalyzer
from stridesync.protocol import DataPacket, HEADER_STRUCT
from stridesync.session.recorder import Recorder
from stridesync.session.replay import Replay, replay
from stridesync.session.store import Kind, SensorInfo, Session
from stridesync.session.synth import feed, sensor_infos, synth_inputs
from stridesync.sim import SimParams, simulate


def _key(e):
    return (e.time_s, e.role.value, e.kind.value)


def _mutate(items: list[tuple], serials: list[str], rng: np.random.Generator) -> list[tuple]:
    a, b, c, d = serials
    out: list[tuple] = []
    reboot_shift = 20_000_000  # sensor c reboots at 25 s: its clock restarts 20 s lower
    swapped = False
    for t, kind, key, payload in items:
        if key == b and 15.0 <= t < 20.0 and kind in (Kind.PACKET, Kind.EXCHANGE):
            continue  # dropout of sensor b
        if key == c and t >= 25.0:
            if kind == Kind.PACKET:
                p = DataPacket.from_bytes(payload)
                payload = HEADER_STRUCT.pack(1, p.fmt, p.seq, p.t0_us - reboot_shift, p.period_us, p.n, p.acc_range_g,
                                       p.gyro_range_dps) + payload[18:]
            elif kind == Kind.EXCHANGE:
                t1, t2, t3, t4 = payload
                payload = (t1, t2 - reboot_shift, t3 - reboot_shift, t4)
        if key == d and t >= 36.0:  # sensor d's arrivals step 100 ms earlier: its clock map steps back
            if kind == Kind.PACKET:
                t -= 0.1
            elif kind == Kind.EXCHANGE:
                payload = (payload[0] - 0.1, payload[1], payload[2], payload[3] - 0.1)
        out.append((t, kind, key, payload))
        if kind != Kind.PACKET:
            continue
        u = rng.random()
        if u < 0.01:
            out.append((t, kind, key, payload))  # duplicate
        elif u < 0.02:
            out.append((t, kind, key, payload[: rng.integers(0, len(payload))]))  # truncated
        elif u < 0.025:
            out.append((t, kind, key, bytes([2]) + payload[1:]))  # a future protocol version
        elif u < 0.03:
            out.append((t, kind, "STRANGER", payload))
        elif u < 0.032 and not swapped and key == a and len(out) >= 3:
            out[-1], out[-2] = out[-2], out[-1]  # out of order (arrival stamps stay as recorded)
            swapped = True
        elif u < 0.04:  # damaged in place: random bytes over the samples, or a few random bytes anywhere
            if u < 0.036:
                damaged = payload[:18] + rng.bytes(len(payload) - 18)
            else:
                b_ = bytearray(payload)
                for pos in rng.integers(0, len(payload), 3):
                    b_[pos] = int(rng.integers(0, 256))
                damaged = bytes(b_)
            out[-1] = (t, kind, key, damaged)
    # one packet without angular rate from a sensor that streams it (malformed for it), one with an impossible
    # sensor time, one impossibly early, link states
    i = next(k for k, x in enumerate(out) if x[1] == Kind.PACKET and x[2] == a and x[0] > 30.0)
    p = DataPacket.from_bytes(out[i][3])
    assert p.fmt == 1
    acc_only = DataPacket(seq=p.seq, t0_us=p.t0_us, period_us=p.period_us, acc_range_g=p.acc_range_g,
                          gyro_range_dps=0, raw=p.raw[:, :3], fmt=0)
    out[i] = (out[i][0], Kind.PACKET, a, bytes(acc_only))
    j = next(k for k, x in enumerate(out) if x[1] == Kind.PACKET and x[2] == d and x[0] > 32.0)
    q = DataPacket.from_bytes(out[j][3])
    out.insert(j, (out[j][0], Kind.PACKET, d, HEADER_STRUCT.pack(1, q.fmt, q.seq, (1 << 62) + 5, q.period_us, q.n,
                                                           q.acc_range_g, q.gyro_range_dps) + out[j][3][18:]))
    k = next(k for k, x in enumerate(out) if x[1] == Kind.PACKET and x[2] == d and x[0] > 34.0)
    out[k] = (out[k][0] - 0.2, Kind.PACKET, d, out[k][3])  # stamped 200 ms too early: below the clock floor
    for t, key, state in ((15.3, b, "reconnecting"), (19.9, b, "streaming"), (24.9, c, "reconnecting"),
                          (26.0, c, "lost"), (0.05, a, "connecting"), (10.0, a, "streaming"),
                          (38.0, a, "off"), (39.0, d, "stopped")):  # outlast the packets still draining
        n = next(k for k, x in enumerate(out) if x[0] >= t)
        out.insert(n, (t, Kind.STATE, key, (state, 70, -60)))
    return out


def _sensor_state(a: LiveAnalyzer) -> dict:
    out = {}
    for k, s in a.sensors.items():
        m = s.clock.model
        out[k] = dict(
            counters=(s.packets, s.lost, s.malformed, s.reconnects, s.stalls, s.battery_pct, s.rssi, s.state),
            last=(s.last_seq, s.last_t0_us, s.last_arrival_s, s.last_sample_s),
            arrivals=list(s.arrivals), latencies=list(s.latencies), held=[bytes(p) for p in s.held],
            clock=(None if m is None else m.to_dict(), s.clock.n_packets, s.clock.n_rejected, s.clock.n_exchanges,
                   s.clock.n_resets, s.clock.conn_interval_s),
            mapping=list(a.mapping_log[k]), arrival_log=list(a.arrival_log[k]),
            gate=(s.gate.last, s.gate.rejected, None if s.gate.pending is None else
                  (s.gate.pending[0], bytes(s.gate.pending[1]))), bad=s.bad)
    for role, st in a.streams.items():
        out[role.value] = (st.quiet_until, st.seg_id, st.n)
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_bulk_replay_equals_per_input_live_on_hostile_input(tmp_path, seed):
    sim = simulate(SimParams(duration_s=45.0, standing_start_s=2.0), seed=seed)
    sensors, items = synth_inputs(sim, seed=seed, loss=0.02)
    items = _mutate(items, sorted(sensors), np.random.default_rng(seed))
    path = tmp_path / "hostile.stridesync"
    rec = Recorder(path, sensors=sensor_infos(sensors), config=DetectorConfig())
    live = LiveAnalyzer(sensors, sink=rec)
    feed(items, live)
    rec.close(events=live.core.events_, steps=live.core.steps_, summary=live.core.summary())

    with Session.open(path) as s:
        bulk = Replay(s, speed=None)
        res = bulk.run()
    # the bulk path was taken, and the hostile parts really happened
    assert res.analyzer.core is not None and type(res.analyzer).__name__ == "LiveAnalyzer"
    st = _sensor_state(live)
    a, b, c, d = sorted(sensors)
    assert st[a]["counters"][2] > 0 and st[c]["clock"][0] is not None
    assert sum(x.gate.rejected for x in live.sensors.values()) > 0  # damaged headers were held, then refused
    assert any(k == b and x == "reconnecting" for _, k, x in live.state_log)
    assert live.sensors[a].state == "off" and live.sensors[d].state == "stopped"
    assert live.sensors[d].clock.n_rejected > 0
    mapped_last = np.array([x[1] for x in live.mapping_log[d]])
    assert np.any(np.diff(mapped_last) < 0)  # so samples overlapping what the core had were dropped
    assert live.streams[sensors[b][0]].quiet_until > 15.0  # the dropout was declared
    assert len(live.core.steps_) > 20
    gaps = [e for e in live.core.events_ if e.role == sensors[b][0] and 15.5 < e.time_s < 19.5]
    assert not gaps

    # the same events (emission order follows the chunking, as with any batching: compare as sets in time order)
    assert sorted(res.events, key=_key) == sorted(live.core.events_, key=_key)
    assert res.steps == live.core.steps_
    assert res.summary == live.core.summary()
    assert _sensor_state(res.analyzer) == st
    assert res.analyzer.state_log == live.state_log
    assert res.analyzer.now_s == live.now_s


def test_bulk_and_per_input_replays_agree_on_the_sample_session():
    from pathlib import Path
    sample = Path(__file__).resolve().parents[1] / "recordings" / "sample_run.stridesync"
    with Session.open(sample) as s:
        bulk = replay(s)
        per_input = Replay(s, speed=None, after_input=lambda a, t: None).run()  # a hook forces per-input
    assert sorted(bulk.events, key=_key) == sorted(per_input.events, key=_key)
    assert bulk.steps == per_input.steps and bulk.summary == per_input.summary
    assert _sensor_state(bulk.analyzer) == _sensor_state(per_input.analyzer)


def test_sensor_time_beyond_int64_is_counted_malformed_not_a_crash(tmp_path):
    """A well-formed packet may carry any u64 sensor time; the host's int64 sample times cannot. Such packets
    used to crash the analyser once a clock model existed."""
    from stridesync.model import Role
    sensors = {"A": (Role.LEFT_SHIN, 200.0)}
    items = []
    for i in range(400):
        t0 = (1 << 63) + 5 + i * 10_000 if i % 2 else 1_000_000 + i * 10_000
        data = HEADER_STRUCT.pack(1, 0, i, t0, 5000, 2, 4, 0) + np.zeros(6, "<i2").tobytes()
        items.append((100.0 + i * 0.01, Kind.PACKET, "A", data))
    path = tmp_path / "t0.stridesync"
    rec = Recorder(path, sensors=[SensorInfo("A", Role.LEFT_SHIN, 200.0)], config=DetectorConfig())
    live = LiveAnalyzer(sensors, sink=rec)
    feed(items, live)
    rec.close()
    assert live.sensors["A"].malformed == 200 and live.sensors["A"].clock.model is not None
    with Session.open(path) as s:
        res = replay(s)
    assert _sensor_state(res.analyzer) == _sensor_state(live)


def test_seek_fast_forwards_in_bulk_and_continues_input_by_input_like_live(tmp_path):
    """A seek rebuilds the state before the target in bulk; the per-input continuation after it (with hooks,
    as the dashboard replays) must end exactly where the live analyser ended."""
    sim = simulate(SimParams(duration_s=40.0, standing_start_s=2.0), seed=4)
    sensors, items = synth_inputs(sim, seed=4, loss=0.02)
    items = _mutate(items, sorted(sensors), np.random.default_rng(4))
    path = tmp_path / "seek.stridesync"
    rec = Recorder(path, sensors=sensor_infos(sensors), config=DetectorConfig())
    live = LiveAnalyzer(sensors, sink=rec)
    feed(items, live)
    rec.close(events=live.core.events_, steps=live.core.steps_, summary=live.core.summary())
    calls: list[float] = []
    with Session.open(path) as s:
        r = Replay(s, speed=None, before_input=lambda a, t: calls.append(t))
        target = r.t_start_s + 22.0  # after the dropout and the reboot
        r.seek(target)
        res = r.run()
    # the hook saw the rebuilt analyser once (bulk), then every input from the target on, one by one
    assert calls[0] == r.t_start_s and len(calls) > 1000 and all(t >= target for t in calls[1:])
    assert sorted(res.events, key=_key) == sorted(live.core.events_, key=_key)
    assert res.steps == live.core.steps_ and res.summary == live.core.summary()
    assert _sensor_state(res.analyzer) == _sensor_state(live)
