"""The live consumer: raw sensor notifications in; decoded, clock-aligned, analysed; snapshots out.

BLE callbacks only enqueue ``(arrival_s, key, bytes)`` (STYLE.md §7). This object is the one consumer:
it decodes each packet, accounts for lost and malformed ones, feeds the sensor's clock estimator, maps
the samples onto the session clock and pushes them into the real-time core. It is plain synchronous
code, so a replay or a test can drive it without any event loop.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from .clock import ClockSync
from .core.config import DetectorConfig
from .core.realtime import RealtimeCore
from .model import Event, Role, Step
from .protocol import FMT_ACC_GYRO, SENSOR_TIME_LIMIT_US, DataPacket, ProtocolError

log = logging.getLogger(__name__)

#: a sensor silent this long is treated as away: the core stops waiting for it
GAP_AFTER_S = 1.0
#: link states a packet does not overturn: the link reports them when it is down for good ('stopped': the
#: session ended; 'off': the user disconnected the sensor), and packets queued before still drain after them
STICKY_STATES = ("streaming", "off", "stopped")
#: packets held while a sensor's clock map is still unknown (a few seconds' worth)
MAX_HELD = 200
#: entries kept in each diagnostic log (about 1.5 hours of packets of one sensor)
DIAG_MAX = 100_000


@dataclass(frozen=True)
class SensorHealth:
    """What the coach sees about one sensor. Rates in Hz, times in ms, loss in %."""

    key: str
    role: Role
    state: str
    rate_hz: float | None
    loss_pct: float
    latency_ms: float | None
    battery_pct: int | None
    clock_residual_ms: float | None
    packets: int
    lost_packets: int
    malformed: int
    reconnects: int
    stalls: int
    rssi: int | None = None

    def as_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["role"] = self.role.value
        return d


@dataclass
class _Sensor:
    key: str
    role: Role
    clock: ClockSync
    state: str = "connecting"
    last_seq: int | None = None
    last_t0_us: int | None = None
    packets: int = 0
    lost: int = 0
    malformed: int = 0
    reconnects: int = 0
    stalls: int = 0
    battery_pct: int | None = None
    rssi: int | None = None
    last_arrival_s: float | None = None
    last_sample_s: float = -np.inf
    held: list = field(default_factory=list)
    arrivals: deque = field(default_factory=lambda: deque(maxlen=400))  # (arrival_s, n samples)
    latencies: deque = field(default_factory=lambda: deque(maxlen=200))


class LiveAnalyzer:
    """Decode → clock → core for a set of sensors.

    Parameters
    ----------
    sensors : key → (role, nominal sample rate Hz[, streams angular rate]). The key is the sensor's serial
        number. A sensor that streams angular rate is analysed with the gyroscope rules (unless
        ``config.rules`` says ``accel``); its packets without angular rate are counted as malformed.
    config : detector settings.
    sink : optional recorder (:class:`~stridesync.session.recorder.Recorder` or anything with the same
        methods). Every input call is passed to it first, in call order: ``packet(arrival_s, key, data)``,
        ``exchange(key, t1_s, t2_us, t3_us, t4_s)``, ``state(now_s, key, state, battery_pct, rssi)``,
        ``tick(now_s)``, ``finish(now_s)``. Feeding the same calls to a fresh analyzer with the same
        settings reproduces every event and step exactly: that is what a replay does.
    """

    def __init__(self, sensors: dict[str, tuple[Role, float]], *, config: DetectorConfig | None = None,
                 sink: object | None = None):
        self.config = config or DetectorConfig()
        self.sink = sink
        self.sensors = {k: _Sensor(k, Role(v[0]), ClockSync()) for k, v in sensors.items()}
        self.gyro = {k for k, v in sensors.items() if len(v) > 2 and v[2]}
        self.core = RealtimeCore({Role(v[0]): v[1] for v in sensors.values()}, config=self.config,
                                 gyro_roles=[Role(v[0]) for k, v in sensors.items() if k in self.gyro])
        self.now_s = 0.0
        self._streams = self.core.streams  # the core's per-role streams (kept if the core is wrapped)
        # diagnostics for tests, benchmarks and health views; bounded, so a long session cannot grow them
        # without limit (the session file is the complete record)
        self.state_log: list[tuple[float, str, str]] = []  # (session time, key, new state)
        self.arrival_log: dict[str, deque] = {k: deque(maxlen=DIAG_MAX) for k in sensors}  # data packets' arrivals
        #: per packet pushed: (sensor time of its last sample µs, its session time s, arrival s)
        self.mapping_log: dict[str, deque] = {k: deque(maxlen=DIAG_MAX) for k in sensors}
        #: per event emitted: (event, session time it was emitted, newest sample time the core had)
        self.emission_log: deque = deque(maxlen=DIAG_MAX)

    # ------------------------------------------------------------------ input
    def on_packet(self, arrival_s: float, key: str, data: bytes) -> tuple[list[Event], list[Step]]:
        """One notification from the data characteristic. Malformed packets are counted, never raised."""
        if self.sink is not None:
            self.sink.packet(arrival_s, key, data)
        s = self.sensors.get(key)
        self.now_s = max(self.now_s, arrival_s)
        if s is None:
            return [], []
        try:
            pkt = DataPacket.from_bytes(data)
        except ProtocolError as exc:
            s.malformed += 1
            log.debug("%s: malformed packet: %s", key, exc)
            return [], []
        if key in self.gyro and pkt.fmt != FMT_ACC_GYRO:
            s.malformed += 1
            log.debug("%s: a packet without angular rate from a sensor that streams it", key)
            return [], []
        if pkt.t0_us >= SENSOR_TIME_LIMIT_US:
            s.malformed += 1
            log.debug("%s: sensor time %d us is beyond any plausible uptime", key, pkt.t0_us)
            return [], []
        if s.last_t0_us is not None and pkt.t0_us <= s.last_t0_us:
            if pkt.t0_us + 10_000_000 < s.last_t0_us:  # the sensor rebooted: its clock restarted
                log.warning("%s: sensor clock restarted; re-estimating its clock", key)
                s.clock = ClockSync()
                s.last_seq = None
            else:
                s.malformed += 1  # a duplicate or out-of-order packet
                return [], []
        if s.last_seq is not None:
            gap = (pkt.seq - s.last_seq - 1) & 0xFFFF
            if gap < 0x8000:
                s.lost += gap
        s.last_seq, s.last_t0_us = pkt.seq, pkt.t0_us
        s.packets += 1
        s.last_arrival_s = arrival_s
        s.arrivals.append((arrival_s, pkt.n))
        self.arrival_log[key].append(arrival_s)
        if s.state not in STICKY_STATES:
            s.state = "streaming"
        s.clock.add_packet(pkt.t0_us + (pkt.n - 1) * pkt.period_us, arrival_s)
        s.held.append(pkt)
        if len(s.held) > MAX_HELD:
            s.held.pop(0)
        if s.clock.model is None:
            return [], []
        return self._flush(s, arrival_s)

    def on_time_sync(self, key: str, t1_s: float, t2_us: int, t3_us: int, t4_s: float) -> None:
        if self.sink is not None:
            self.sink.exchange(key, t1_s, t2_us, t3_us, t4_s)
        s = self.sensors.get(key)
        if s is not None and max(t2_us, t3_us) < SENSOR_TIME_LIMIT_US:
            s.clock.add_exchange(t1_s, t2_us, t3_us, t4_s)

    def set_state(self, key: str, state: str, *, battery_pct: int | None = None, rssi: int | None = None) -> None:
        """Link-level news from the acquisition layer ('connecting', 'streaming', 'stalled', 'reconnecting', 'lost', ...)."""
        if self.sink is not None:
            self.sink.state(self.now_s, key, state, battery_pct, rssi)
        s = self.sensors.get(key)
        if s is None:
            return
        if state != s.state:
            self.state_log.append((self.now_s, key, state))
        if state == "reconnecting" and s.state != "reconnecting":
            s.reconnects += 1
        if state == "stalled" and s.state != "stalled":
            s.stalls += 1
        s.state = state
        if battery_pct is not None:
            s.battery_pct = battery_pct
        if rssi is not None:
            s.rssi = rssi

    def tick(self, now_s: float) -> tuple[list[Event], list[Step]]:
        """Called a few times a second: a sensor silent for ``GAP_AFTER_S`` is declared away, so the
        other limbs' decisions do not wait for it."""
        if self.sink is not None:
            self.sink.tick(now_s)
        self.now_s = max(self.now_s, now_s)
        ev, st = [], []
        for s in self.sensors.values():
            last = s.last_arrival_s
            if last is not None and now_s - last > GAP_AFTER_S and s.clock.model is not None:
                # samples taken before (now − GAP_AFTER_S) that have not arrived by now are lost
                until = max(s.last_sample_s, now_s - GAP_AFTER_S) + 1e-6
                if until > self.core.streams[s.role].quiet_until:
                    e, p = self._logged(self.core.declare_gap(s.role, until))
                    ev += e
                    st += p
        return ev, st

    def finish(self) -> tuple[list[Event], list[Step]]:
        if self.sink is not None:
            self.sink.finish(self.now_s)
        return self.core.finish()

    # ------------------------------------------------------------------ internals
    def _flush(self, s: _Sensor, arrival_s: float) -> tuple[list[Event], list[Step]]:
        model = s.clock.model
        # samples at or before this time are already in the core, or fall in a declared gap
        floor = max(s.last_sample_s, self._streams[s.role].quiet_until - 1e-12)
        blocks = []
        for pkt in s.held:
            t_us = pkt.sample_times_us()
            times = model.to_session(t_us)
            last = float(times[-1])
            self.mapping_log[s.key].append((int(t_us[-1]), last, arrival_s))
            if last <= floor:
                continue
            acc = pkt.acc_g()
            gyro = pkt.gyro_dps() if s.key in self.gyro else None
            if times[0] <= floor:  # overlaps what the core has: keep the new part only
                keep = times > floor
                times, acc = times[keep], acc[keep]
                gyro = None if gyro is None else gyro[keep]
            blocks.append((s.role, times, acc, gyro))
            floor = s.last_sample_s = last
            s.latencies.append(arrival_s - last)
        s.held.clear()
        if not blocks:
            return [], []
        return self._logged(self.core.push_many(blocks))

    def _logged(self, out: tuple[list[Event], list[Step]]) -> tuple[list[Event], list[Step]]:
        newest = self.core.now_s
        for e in out[0]:
            self.emission_log.append((e, self.now_s, newest))
        return out

    # ------------------------------------------------------------------ output
    def health(self) -> list[SensorHealth]:
        out = []
        for s in self.sensors.values():
            rate = None
            if len(s.arrivals) >= 2:
                recent = [(t, n) for t, n in s.arrivals if t >= s.arrivals[-1][0] - 5.0]
                span = recent[-1][0] - recent[0][0]
                if span > 0.5:
                    rate = sum(n for _, n in recent[1:]) / span
            total = s.packets + s.lost
            out.append(SensorHealth(
                key=s.key, role=s.role, state=s.state, rate_hz=rate,
                loss_pct=100.0 * s.lost / total if total else 0.0,
                latency_ms=1000.0 * float(np.median(s.latencies)) if s.latencies else None,
                battery_pct=s.battery_pct,
                clock_residual_ms=s.clock.residual_ms if s.clock.model is not None else None,
                packets=s.packets, lost_packets=s.lost, malformed=s.malformed,
                reconnects=s.reconnects, stalls=s.stalls, rssi=s.rssi))
        return out
