"""The live consumer: raw sensor notifications in; decoded, clock-aligned, analysed; snapshots out.

BLE callbacks only enqueue ``(arrival_s, key, bytes)`` (STYLE.md §7). This object is the one consumer:
it decodes each packet, accounts for lost and malformed ones, feeds the sensor's clock estimator, maps
the samples onto the session clock and pushes them into the real-time core. It is plain synchronous
code, so a replay or a test can drive it without any event loop.

Which packets become samples. The protocol has no checksum (BLE's link layer has one; bytes can still be
damaged after it, by firmware or on disk), so a packet is judged by what it says. It is **malformed**,
counted per sensor and never turned into samples, when:

- it does not decode (length, version, format, ranges: :meth:`DataPacket.from_bytes`), its sensor time is
  beyond any uptime, or a sensor that streams angular rate sends it without;
- its sample period is more than 25 % off the sensor's nominal rate;
- its samples are noise across the full scale (:func:`implausible_payload`: a body segment does not
  jump between extremes from one sample to the next);
- it breaks the sensor's stream (:func:`classify`: its time overlaps or precedes the last packet's, its
  sequence number does not fit the time it skipped, its ranges or period changed, or its sensor clock ran
  ahead of the host's) and the packet after it does not confirm the break. A real break (a reboot, an
  IMU overrun) is confirmed by the next packet continuing it, so it costs one packet of delay; damaged
  bytes in a header are not, so they cannot restart the clock or fake a loss.

A few damaged sample bytes among plausible ones cannot be told from data: that needs a checksum in the
protocol.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .clock import ClockSync
from .core.config import DetectorConfig
from .core.mounting import MountingTracker
from .core.realtime import RealtimeCore
from .model import Event, LinkState, Role, Step
from .protocol import FMT_ACC_GYRO, SENSOR_TIME_LIMIT_US, DataPacket, ProtocolError
from .ringlog import RingLog

log = logging.getLogger(__name__)

#: a sensor silent this long is treated as away: the core stops waiting for it
GAP_AFTER_S = 1.0
#: link states a packet does not overturn: the link reports them when it is down for good ('stopped': the
#: session ended; 'off': the user disconnected the sensor), and packets queued before still drain after them
STICKY_STATES = (LinkState.STREAMING, LinkState.OFF, LinkState.STOPPED)
#: packets held while a sensor's clock map is still unknown (a few seconds' worth)
MAX_HELD = 200
#: entries kept in each per-packet diagnostic log: 2-6 minutes of one sensor's packets (a BLE link brings 13-40
#: a second). The logs are for tests, benchmarks and health views; the session file is the complete record.
#: (100 000, 1.5 hours' worth, made a live session grow by ~65 MB/h for its first half hour; 15 000 still took
#: ~18 minutes to fill over the virtual radio: #11 item 16, bench/soak.py.) They are packed
#: (:class:`~stridesync.ringlog.RingLog`: 8 and 24 bytes an entry, not ~150 as tuples of floats)
DIAG_MAX = 5_000
#: events kept in the emission log (with their Event objects): 3-4 minutes of four sensors' events
EMISSION_MAX = 3_000
#: a sensor time this far (µs) below the last packet's is a reboot (its clock restarted), nearer a duplicate
REBOOT_BACK_US = 10_000_000
#: a packet's sensor time may run ahead of its arrival time since the last packet by at most this (µs):
#: arrival jitter and a sensor's send backlog; a larger lead is a damaged time
OUTRUN_SLACK_US = 2_000_000
#: largest deviation of a packet's sample period from the nominal one (share), and between packets
PERIOD_TOLERANCE = 0.25
PERIOD_CHANGE = 0.02
#: packets with fewer samples are not judged by their samples (too few differences to tell noise)
PAYLOAD_MIN_SAMPLES = 4

#: :func:`classify` verdicts
NEXT, DUP, BREAK = "next", "dup", "break"


class PacketHead(NamedTuple):
    """What the stream check keeps of an accepted packet: its header fields and its arrival (s)."""

    seq: int
    t0_us: int
    n: int
    period_us: int
    acc_range_g: int
    gyro_range_dps: int
    arrival_s: float


def classify(a: PacketHead, h: PacketHead) -> str:
    """How packet ``h`` follows packet ``a`` of the same sensor.

    ``NEXT``: it continues the stream (the same ranges and about the same period; the sequence numbers it
    skipped fit the sensor time it skipped, at 1-255 samples a lost packet; its sensor time did not run
    ahead of the host's by more than ``OUTRUN_SLACK_US``). ``DUP``: its time is at or before ``a``'s, by
    less than ``REBOOT_BACK_US`` (a duplicate or a late packet). ``BREAK``: anything else (a reboot, an
    IMU overrun, or damaged header bytes), to be confirmed by the packet after it.
    The bulk replay (:mod:`stridesync.live_bulk`) computes the same test on arrays, with the same arithmetic.
    """
    if h.t0_us <= a.t0_us:
        return BREAK if h.t0_us + REBOOT_BACK_US < a.t0_us else DUP
    d = (h.seq - a.seq) & 0xFFFF
    expected = a.t0_us + a.n * a.period_us
    half = a.period_us // 2
    if (d >= 1 and h.acc_range_g == a.acc_range_g and h.gyro_range_dps == a.gyro_range_dps
            and abs(h.period_us - a.period_us) * 50 <= a.period_us
            and expected - half + (d - 1) * a.period_us <= h.t0_us <= expected + half + (d - 1) * 255 * a.period_us
            and float(h.t0_us - a.t0_us) <= (h.arrival_s - a.arrival_s) * 1e6 + OUTRUN_SLACK_US):
        return NEXT
    return BREAK


def implausible_payload(raw: np.ndarray) -> bool:
    """Whether a packet's raw samples (n × 3 or n × 6 int16) are noise across the full scale.

    The RMS difference between consecutive samples, over every axis, in units of full scale: uniform
    random bytes give about 0.8 (never below 0.5 in 12 samples); real shank, ankle and wrist sensors at
    100-200 Hz stay below 0.25, even a 2 g wrist sensor that clips (tests/realdata: adeptdata, TRIPOD,
    strikewatch). The threshold is 0.4. Exact integer arithmetic, so the bulk path decides alike.
    """
    n, w = raw.shape
    if n < PAYLOAD_MIN_SAMPLES:
        return False
    d = np.diff(raw.astype(np.int64), axis=0)
    return 25 * int((d * d).sum()) > 4 * 32768 * 32768 * (n - 1) * w


class PacketGate:
    """One sensor's stream check: which packets are accepted, in which order (see the module notes).

    ``offer`` returns the packets accepted by this arrival, each with whether it starts a new sensor clock
    (a confirmed reboot), and counts the ones it rejects in ``rejected``. At most one packet waits for
    confirmation (``pending``); a packet that arrived before its predecessor is put back in order.
    """

    def __init__(self) -> None:
        self.last: PacketHead | None = None
        self.pending: tuple[PacketHead, object] | None = None
        self.rejected = 0

    def offer(self, h: PacketHead, obj: object) -> list[tuple[object, PacketHead, bool]]:
        last, pend = self.last, self.pending
        if last is None:  # the first packet: nothing to judge it by
            self.last = h
            return [(obj, h, False)]
        self.pending = None
        if pend is not None and classify(pend[0], h) == NEXT:  # h continues the held packet: its break was real
            self.last = h
            return [(pend[1], pend[0], pend[0].t0_us + REBOOT_BACK_US < last.t0_us), (obj, h, False)]
        verdict = classify(last, h)
        if verdict == NEXT:
            self.last = h
            out = [(obj, h, False)]
            if pend is not None:
                if classify(h, pend[0]) == NEXT:  # the held packet had arrived before this, its predecessor
                    self.last = pend[0]
                    out.append((pend[1], pend[0], False))
                else:
                    self.rejected += 1
            return out
        if pend is not None:
            self.rejected += 1
        if verdict == DUP:
            self.rejected += 1
        else:
            self.pending = (h, obj)
        return []


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
    state: str = LinkState.CONNECTING
    last_seq: int | None = None
    last_t0_us: int | None = None
    nominal_rate_hz: float = 0.0
    gate: PacketGate = field(default_factory=PacketGate)
    bad: int = 0  # packets rejected before the stream check
    packets: int = 0
    lost: int = 0
    reconnects: int = 0
    stalls: int = 0
    battery_pct: int | None = None
    rssi: int | None = None
    last_arrival_s: float | None = None
    last_sample_s: float = -np.inf
    held: list = field(default_factory=list)
    arrivals: deque = field(default_factory=lambda: deque(maxlen=400))  # (arrival_s, n samples)
    latencies: deque = field(default_factory=lambda: deque(maxlen=200))

    @property
    def malformed(self) -> int:
        """Packets that did not become samples because they are malformed (module notes)."""
        return self.bad + self.gate.rejected


@dataclass
class LiveResult:
    """What a session run returns (any source): its analyser, and for live sensors the simulator, the virtual
    fleet, the wall and CPU time and the closed recorder."""

    analyzer: object  # LiveAnalyzer, or SamplesAnalyzer for a samples source
    sim: object | None = None
    fleet: object | None = None
    wall_s: float = 0.0
    cpu_s: float = 0.0
    recorder: object | None = None  # the session Recorder when ``record_to`` was given (closed)


class SamplesAnalyzer:
    """What a samples source (an imported session, a CSV) exposes where a live one exposes its
    :class:`LiveAnalyzer`: the core, the newest data time, and no link health."""

    def __init__(self, core: RealtimeCore):
        self.core = core
        self.now_s = 0.0

    def health(self) -> list:
        return []


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
    align : ``"auto"`` estimates each sensor's mounting from its data (held until standing and the first
        strides give an estimate, then rotated; re-checked for slips), ``"given"`` takes the sensors' frames
        as the body frame. ``pinned``: sensor keys whose roster mounting is kept even with ``"auto"``.
    """

    def __init__(self, sensors: dict[str, tuple[Role, float]], *, config: DetectorConfig | None = None,
                 sink: object | None = None, align: str = "given", pinned: Iterable[str] = (),
                 batch_samples: int = 0):
        self.config = config or DetectorConfig()
        self.sink = sink
        self.sensors = {k: _Sensor(k, Role(v[0]), ClockSync(), nominal_rate_hz=float(v[1])) for k, v in sensors.items()}
        self.gyro = {k for k, v in sensors.items() if len(v) > 2 and v[2]}
        if align not in ("auto", "given"):
            raise ValueError(f"align must be 'auto' or 'given', not {align!r}")
        pinned = set(pinned)
        #: mounting estimation (core/mounting.py) for every sensor the roster does not pin, when ``align="auto"``
        mounting = {Role(v[0]): MountingTracker(Role(v[0]), float(v[1]), has_gyro=k in self.gyro)
                    for k, v in sensors.items() if align == "auto" and k not in pinned}
        self.core = RealtimeCore({Role(v[0]): v[1] for v in sensors.values()}, config=self.config,
                                 gyro_roles=[Role(v[0]) for k, v in sensors.items() if k in self.gyro],
                                 mounting=mounting)
        self.now_s = 0.0
        self._streams = self.core.streams  # the core's per-role streams
        #: hand the core about this many samples at a time (0: every packet's at once); a replay as fast as
        #: possible batches, the core being chunk-invariant
        self.batch_samples = int(batch_samples)
        self._pending: list = []
        self._pending_n = 0
        # diagnostics for tests, benchmarks and health views; bounded, so a long session cannot grow them
        # without limit (the session file is the complete record)
        self.state_log: list[tuple[float, str, str]] = []  # (session time, key, new state)
        self.arrival_log: dict[str, RingLog] = {k: RingLog(DIAG_MAX) for k in sensors}  # data packets' arrivals (s)
        #: per packet pushed: (sensor time of its last sample µs, its session time s, arrival s)
        self.mapping_log: dict[str, RingLog] = {k: RingLog(DIAG_MAX, ["i8", "f8", "f8"]) for k in sensors}
        #: per event emitted: (event, session time it was emitted, newest sample time the core had)
        self.emission_log: deque = deque(maxlen=EMISSION_MAX)

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
            s.bad += 1
            log.debug("%s: malformed packet: %s", key, exc)
            return [], []
        why = self._implausible(s, pkt)
        if why:
            s.bad += 1
            log.debug("%s: malformed packet: %s", key, why)
            return [], []
        head = PacketHead(pkt.seq, pkt.t0_us, pkt.n, pkt.period_us, pkt.acc_range_g, pkt.gyro_range_dps, arrival_s)
        ev: list[Event] = []
        st: list[Step] = []
        for p, h, reboot in s.gate.offer(head, pkt):
            e, q = self._accept(s, p, h, reboot, arrival_s)
            ev += e
            st += q
        return ev, st

    def _implausible(self, s: _Sensor, pkt: DataPacket) -> str | None:
        """Why a decoded packet cannot be this sensor's data, or None (the checks before the stream's)."""
        if s.key in self.gyro and pkt.fmt != FMT_ACC_GYRO:
            return "a packet without angular rate from a sensor that streams it"
        if pkt.t0_us >= SENSOR_TIME_LIMIT_US:
            return f"sensor time {pkt.t0_us} us is beyond any plausible uptime"
        if abs(pkt.period_us * s.nominal_rate_hz - 1e6) > PERIOD_TOLERANCE * 1e6:
            return f"sample period {pkt.period_us} us does not fit {s.nominal_rate_hz:g} Hz"
        if implausible_payload(pkt.raw):
            return "its samples are noise across the full scale"
        return None

    def _accept(self, s: _Sensor, pkt: DataPacket, h: PacketHead, reboot: bool,
                arrival_s: float) -> tuple[list[Event], list[Step]]:
        """One packet the stream check accepted (``h.arrival_s`` its own arrival, ``arrival_s`` now's)."""
        if reboot:
            log.warning("%s: sensor clock restarted; re-estimating its clock", s.key)
            s.clock = ClockSync()
            s.last_seq = None
        if s.last_seq is not None:
            gap = (pkt.seq - s.last_seq - 1) & 0xFFFF
            if gap < 0x8000:
                s.lost += gap
        s.last_seq, s.last_t0_us = pkt.seq, pkt.t0_us
        s.packets += 1
        s.last_arrival_s = h.arrival_s
        s.arrivals.append((h.arrival_s, pkt.n))
        self.arrival_log[s.key].append(h.arrival_s)
        if s.state not in STICKY_STATES:
            s.state = LinkState.STREAMING
        s.clock.add_packet(pkt.t0_us + (pkt.n - 1) * pkt.period_us, h.arrival_s)
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
        if state == LinkState.RECONNECTING and s.state != LinkState.RECONNECTING:
            s.reconnects += 1
        if state == LinkState.STALLED and s.state != LinkState.STALLED:
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
                    e0, p0 = self.flush()
                    e, p = self.logged(self.core.declare_gap(s.role, until))
                    e, p = e0 + e, p0 + p
                    ev += e
                    st += p
        return ev, st

    def finish(self) -> tuple[list[Event], list[Step]]:
        if self.sink is not None:
            self.sink.finish(self.now_s)
        ev, st = self.flush()
        e2, s2 = self.core.finish()
        return ev + e2, st + s2

    def flush(self) -> tuple[list[Event], list[Step]]:
        """Hand the core the blocks held for batching (one block per sensor), if any."""
        if not self._pending:
            return [], []
        blocks, self._pending, self._pending_n = self._pending, [], 0
        by_role: dict[Role, list] = {}
        for role, t, acc, gyro in blocks:  # a sensor's samples are in time order
            by_role.setdefault(role, []).append((t, acc, gyro))
        merged = [(role, np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                   None if parts[0][2] is None else np.concatenate([p[2] for p in parts]))
                  for role, parts in by_role.items()]
        return self.core.push_many(merged)

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
        if self.batch_samples:
            self._pending += blocks
            self._pending_n += sum(len(b[1]) for b in blocks)
            if self._pending_n < self.batch_samples:
                return [], []
            return self.logged(self.flush())
        return self.logged(self.core.push_many(blocks))

    @property
    def streams(self) -> dict:
        """The core's per-role streams, read-only (the bulk replay reads their quiet edges)."""
        return self._streams

    def logged(self, out: tuple[list[Event], list[Step]]) -> tuple[list[Event], list[Step]]:
        """Note ``out``'s events in the emission log (session time, newest sample) and return it: every path
        that hands the core's output on goes through here (the bulk replay too)."""
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
