"""Synthetic live inputs: what a LiveAnalyzer would receive from sensors over BLE, without a radio.

For tests and benchmarks that need long or killable recordings quickly. The simulator's samples are
quantised to int16 and cut into data packets (the host codec :class:`~stridesync.protocol.DataPacket`,
byte-identical to the firmware packetizer's output, golden-vector tested); each packet arrives at the
first connection event after its last sample plus a host delay (1 ms + exponential jitter, FIFO),
0.5 % are lost; TIME_SYNC exchanges run at ~2 Hz; the consumer ticks every 0.2 s.
"""

from __future__ import annotations

import numpy as np

from ..model import InputKind
from ..protocol import FMT_ACC, FMT_ACC_GYRO, DataPacket

__all__ = ["synth_inputs", "feed"]


def synth_inputs(sim, *, samples_per_packet: int = 12, interval_s: float = 0.0225, loss: float = 0.005,
                 acc_range_g: int = 16, gyro_range_dps: int = 2000, seed: int = 0,
                 serial_base: int = 101) -> tuple[dict, list[tuple]]:
    """Inputs of a :class:`~stridesync.sim.SimResult` as a live session would record them (angular rate in
    every packet of a sensor whose samples have it, at ``gyro_range_dps``).

    Returns ``(sensors, inputs)``: ``sensors`` maps serial → (role, rate Hz, streams angular rate); ``inputs`` is the time-
    ordered list of ``(t_s, kind, serial, payload)`` with payload the packet bytes (PACKET), the
    exchange ``(t1_s, t2_us, t3_us, t4_s)`` (EXCHANGE), or None (TICK, FINISH).
    """
    rng = np.random.default_rng(seed)
    sensors: dict[str, tuple] = {}
    items: list[tuple] = []
    for k, (role, s) in enumerate(sim.recording.items()):
        serial = f"SS{serial_base + k:06d}"
        rate = s.sample_rate_hz
        gyro = s.gyro_dps is not None and gyro_range_dps > 0
        sensors[serial] = (role, rate, gyro)
        sensor_us = np.round(np.asarray(sim.sensor_time_s[role]) * 1e6).astype(np.int64)
        x = s.acc_g * (32768.0 / acc_range_g)
        if gyro:
            x = np.hstack([x, s.gyro_dps * (32768.0 / gyro_range_dps)])
        raw = np.clip(np.round(x), -32768, 32767).astype(np.int16)
        period_us = int(round(1e6 / rate))
        n = len(s.time_s)
        starts = np.arange(0, n - samples_per_packet + 1, samples_per_packet)
        last = starts + samples_per_packet - 1
        phase = rng.uniform(0, interval_s)
        done = s.time_s[last] + 2e-4
        event = phase + np.ceil((done - phase) / interval_s) * interval_s
        arrival = np.maximum.accumulate(event + 1e-3 + rng.exponential(0.002, len(event)))
        keep = rng.random(len(event)) >= loss
        for j in np.flatnonzero(keep):
            a = int(starts[j])
            pkt = DataPacket(seq=int(j) & 0xFFFF, t0_us=int(sensor_us[a]), period_us=period_us,
                             acc_range_g=acc_range_g, gyro_range_dps=gyro_range_dps if gyro else 0,
                             raw=raw[a:a + samples_per_packet], fmt=FMT_ACC_GYRO if gyro else FMT_ACC)
            items.append((float(arrival[j]), InputKind.PACKET, serial, bytes(pkt)))
        # TIME_SYNC at ~2 Hz: t2 stamped at a connection event, answered at the next one
        t1 = np.cumsum(rng.uniform(0.25, 0.75, int(s.time_s[-1] * 2) + 1)) + float(s.time_s[0])
        t1 = t1[t1 < s.time_s[-1] - 0.1]
        e2 = phase + np.ceil((t1 + 1e-3 - phase) / interval_s) * interval_s
        t2 = np.round(np.interp(e2, s.time_s, sensor_us.astype(float))).astype(np.int64)
        t4 = e2 + interval_s + 1e-3 + rng.exponential(0.002, len(e2))
        for a, b, c in zip(t1, t2, t4):
            items.append((float(c), InputKind.EXCHANGE, serial, (float(a), int(b), int(b) + 150, float(c))))
    t_end = max(t for t, *_ in items)
    items += [(float(t), InputKind.TICK, None, None) for t in np.arange(0.0, t_end, 0.2)]
    items.sort(key=lambda x: x[0])
    items.append((t_end, InputKind.FINISH, None, None))
    return sensors, items


def sensor_infos(sensors: dict, gyro_range_dps: int = 2000) -> list:
    """The :class:`~stridesync.session.store.SensorInfo` of each sensor of :func:`synth_inputs`."""
    from .store import SensorInfo
    return [SensorInfo(k, v[0], v[1], gyro_range_dps=gyro_range_dps if len(v) > 2 and v[2] else 0)
            for k, v in sensors.items()]


def feed(items: list[tuple], analyzer=None, sink=None, *, pace: float | None = None,
         on_fed=None) -> None:
    """Feed inputs to an analyser (whose sink records them) or straight to a sink, paced by the one pacer
    (:class:`stridesync.pacing.Pacer`: ``pace`` × real time, ``None`` as fast as possible); an analyser gets
    each input exactly as a replay hands it over (:func:`stridesync.session.replay.apply_input`).

    ``items`` as :func:`synth_inputs` makes them; a STATE item's payload is ``(state, battery_pct, rssi)``.
    ``on_fed(t_s)`` is called after each input. Runs to the end.
    """
    from ..pacing import Pacer
    from .replay import apply_input

    if analyzer is not None:
        def call(t, kind, key, payload):
            apply_input(analyzer, kind, t, key, payload)
    else:
        to_sink = {InputKind.PACKET: lambda t, k, p: sink.packet(t, k, p),
                   InputKind.EXCHANGE: lambda t, k, p: sink.exchange(k, *p),
                   InputKind.STATE: lambda t, k, p: sink.state(t, k, *p),
                   InputKind.TICK: lambda t, k, p: sink.tick(t),
                   InputKind.FINISH: lambda t, k, p: sink.finish(t)}

        def call(t, kind, key, payload):
            to_sink[kind](t, key, payload)
    pacer = Pacer(pace or None)
    for t, kind, key, payload in items:
        pacer.wait(t)
        call(t, kind, key, payload)
        if on_fed is not None:
            on_fed(t)
