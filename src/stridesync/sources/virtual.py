"""Virtual sensors: bumble peripherals that run the firmware's pure modules, fed by the simulator.

Each :class:`VirtualSensor` is a StrideSync sensor as PROTOCOL.md describes it (IMU service, Battery,
Device Information, advertising with the serial number), on a :class:`~.bumble_backend.VirtualRadio`. The
product's BLE code reaches it through the real bleak API with the bumble backend.

The firmware's packetizer and control handler run unchanged here. What bumble's in-process link lacks,
:class:`LinkModel` adds: notifications leave only at connection events (batching), the host sees them
after a random stack delay (jitter), some never arrive (loss), and the sensor can walk out of range and
come back (link drops). Timing follows the shared session clock, so the simulator's ground truth lines
up with what the host measures.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from bumble import gatt

from stridesync_fw import advert as A
from stridesync_fw import packets as P
from stridesync_fw.control import Config, ControlHandler

from ..model import Role, RoleSamples
from ..protocol import remap_matrix
from .bumble_backend import VirtualPeripheral, VirtualRadio

log = logging.getLogger(__name__)

#: the sensor's radio loop runs this long before each connection event: it gathers the samples taken up
#: to the event and the commands received since the last one, so its own wake-up latency (asyncio timers
#: round up to 1 ms, and the loop may be busy) never delays the event
EVENT_LEAD_S = 0.002


class _RadioTimer:
    """Wakes coroutines at precise instants of the session clock, for the radio's timing.

    A radio sends at its connection events to the microsecond. asyncio's timers cannot: the selector
    rounds its timeout *up* to whole milliseconds, so every ``asyncio.sleep`` wakes 0–1 ms late (plus
    whatever the loop is busy with). Chained twice (the event, then the host's delay) that adds a
    uniform 0–2 ms to every delivery — a host latency no real stack has, and worst of all at its
    *bottom*, where a lower-envelope clock estimator reads its floor. One daemon thread sleeps on a
    condition variable (µs resolution) and hands each due wake-up to its loop with
    ``call_soon_threadsafe``, which wakes the selector at once. What remains is what a real host has
    too: a busy event loop runs the callback only when it is free.
    """

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._heap: list[tuple[float, int, asyncio.AbstractEventLoop, asyncio.Future]] = []
        self._seq = 0
        self._thread: threading.Thread | None = None

    def sleep(self, delay_s: float) -> asyncio.Future:
        """A future that completes ``delay_s`` from now (at once if not positive)."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        if delay_s <= 0:
            fut.set_result(None)
            return fut
        with self._cv:
            self._seq += 1
            heapq.heappush(self._heap, (time.monotonic() + delay_s, self._seq, loop, fut))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="virtual-radio-timer", daemon=True)
                self._thread.start()
            self._cv.notify()
        return fut

    def _run(self) -> None:
        with self._cv:
            while True:
                if not self._heap:
                    if not self._cv.wait(2.0) and not self._heap:  # idle: let the thread go
                        self._thread = None
                        return
                    continue
                due = self._heap[0][0] - time.monotonic()
                if due > 0:
                    self._cv.wait(due)
                    continue
                _, _, loop, fut = heapq.heappop(self._heap)
                try:
                    loop.call_soon_threadsafe(_wake, fut)
                except RuntimeError:  # that loop is closed
                    pass


def _wake(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)


_TIMER = _RadioTimer()

ROLE_CODE = {Role.LEFT_SHIN: 1, Role.RIGHT_SHIN: 2, Role.LEFT_WRIST: 3, Role.RIGHT_WRIST: 4}


@dataclass(frozen=True, kw_only=True)
class LinkModel:
    """What a real BLE link does to notifications, in seconds.

    ``interval_s``: connection interval (7.5–50 ms): notifications queue until the next connection event.
    ``jitter_s``: upper bound of the extra delay of each connection event's delivery (host stack, radio
    retries); events stay in order. Host stacks mostly deliver promptly with a long thin tail (about 2 ms
    SD, Bideaux 2015), so the delay is exponential with mean ``jitter_mean_s`` with probability
    1 − ``jitter_tail``, and uniform up to ``jitter_s`` otherwise; ``jitter_mean_s=None`` makes it
    uniform up to ``jitter_s`` always (a harsher stress case). ``loss``: probability that a
    notification never arrives.
    ``drops``: ``(start_s, duration_s)`` spans on the session clock when the sensor is out of range.
    ``max_latency_s``: the firmware sends a packet once its first sample is this old, even if not full.
    """

    interval_s: float = 0.03
    jitter_s: float = 0.0
    jitter_mean_s: float | None = 0.002
    jitter_tail: float = 0.05
    loss: float = 0.0
    drops: tuple[tuple[float, float], ...] = ()
    max_latency_s: float = 0.06
    seed: int = 0


class VirtualSensor:
    """One simulated sensor on the virtual radio.

    Parameters
    ----------
    radio : the VirtualRadio (must be started).
    serial : 8-character serial number, advertised and in Device Information.
    samples : the simulator's samples of this sensor on the *session* clock.
    sensor_time_s : each sample's time on the sensor's own clock (offset + drift), same length.
    clock : the shared session clock (s), the same the host uses.
    role : the role stored in the sensor's flash (what it advertises before the host assigns one).
    """

    def __init__(self, radio: VirtualRadio, serial: str, samples: RoleSamples, sensor_time_s: np.ndarray, *,
                 clock: Callable[[], float], link: LinkModel | None = None, role: Role | None = None,
                 address: str | None = None, battery_pct: int = 87, acc_range_g: int = 16,
                 gyro_range_dps: int | None = None):
        self.radio, self.serial, self.samples = radio, serial, samples
        self.sensor_us = np.round(np.asarray(sensor_time_s) * 1e6).astype(np.int64)
        self.clock = clock
        self.link = link or LinkModel()
        self.rng = random.Random(self.link.seed)
        self.battery_pct = battery_pct
        self.address = address or _random_static_address(serial)
        period_us = int(round(1e6 / samples.sample_rate_hz))
        if gyro_range_dps is None:  # the firmware's factory setting: the host sets the range it wants on connecting
            gyro_range_dps = 0
        if gyro_range_dps and samples.gyro_dps is None:
            raise ValueError(f"{serial}: a gyroscope range without angular-rate samples")
        #: the IMU has a gyroscope exactly when the samples carry angular rate
        self.has_gyro = samples.gyro_dps is not None
        self.config = Config(serial=serial.encode(), role=ROLE_CODE.get(role, 0) if role else 0,
                             rate_hz=int(round(samples.sample_rate_hz)), acc_range_g=acc_range_g,
                             gyro_range_dps=gyro_range_dps)
        self.period_us = period_us
        self.handler = ControlHandler(self.config, clock_us=self.sensor_now_us, on_start=self._on_start,
                                      on_stop=self._on_stop, on_identify=self._on_identify,
                                      gyro_ranges_dps=P.GYRO_RANGES_DPS if self.has_gyro else (0,))
        #: IDENTIFY requests received, as (session time, seconds): the LED a coach would see blink
        self.identify_log: list[tuple[float, int]] = []
        self.peripheral: VirtualPeripheral | None = None
        self.stalled = False
        self.sent = self.lost = 0
        self._packetizer: P.Packetizer | None = None
        self._outbox: list[tuple] = []
        self._commands: list[bytes] = []
        self._last_delivery_s = 0.0
        self.stop_commands = 0  # STOPs received from the host (a clean shutdown sends one before disconnecting)
        self._deliver_lock = asyncio.Lock()
        self._next_index = 0
        self._seq = 0
        self._task: asyncio.Task | None = None
        self._drop_task: asyncio.Task | None = None

    # ------------------------------------------------------------------ clocks
    def sensor_now_us(self) -> int:
        """The sensor clock now: the session clock mapped like the samples (offset and drift)."""
        return self.sensor_at_us(self.clock())

    def sensor_at_us(self, t: float) -> int:
        """The sensor clock at session time t."""
        k = int(np.searchsorted(self.samples.time_s, t))
        k = min(max(k, 1), len(self.samples.time_s) - 1)
        t0, t1 = self.samples.time_s[k - 1], self.samples.time_s[k]
        u0, u1 = self.sensor_us[k - 1], self.sensor_us[k]
        return int(u0 + (t - t0) * (u1 - u0) / (t1 - t0))

    # ------------------------------------------------------------------ GATT
    def _services(self) -> list[gatt.Service]:
        self.data_char = gatt.Characteristic(P.DATA_CHAR_UUID, gatt.Characteristic.Properties.NOTIFY,
                                             gatt.Characteristic.READABLE, b"")
        self.control_char = gatt.Characteristic(
            P.CONTROL_CHAR_UUID, gatt.Characteristic.Properties.WRITE | gatt.Characteristic.Properties.NOTIFY,
            gatt.Characteristic.WRITEABLE, gatt.CharacteristicValue(write=self._on_control_write))
        self.config_char = gatt.Characteristic(P.CONFIG_CHAR_UUID, gatt.Characteristic.Properties.READ,
                                               gatt.Characteristic.READABLE,
                                               gatt.CharacteristicValue(read=lambda _c: self.config.to_bytes()))
        battery = gatt.Characteristic(gatt.GATT_BATTERY_LEVEL_CHARACTERISTIC,
                                      gatt.Characteristic.Properties.READ | gatt.Characteristic.Properties.NOTIFY,
                                      gatt.Characteristic.READABLE,
                                      gatt.CharacteristicValue(read=lambda _c: bytes([self.battery_pct])))
        dis = [gatt.Characteristic(uuid, gatt.Characteristic.Properties.READ, gatt.Characteristic.READABLE, value)
               for uuid, value in ((gatt.GATT_MANUFACTURER_NAME_STRING_CHARACTERISTIC, b"StrideSync (virtual)"),
                                   (gatt.GATT_MODEL_NUMBER_STRING_CHARACTERISTIC, b"SS-IMU-1"),
                                   (gatt.GATT_SERIAL_NUMBER_STRING_CHARACTERISTIC, self.serial.encode()),
                                   (gatt.GATT_FIRMWARE_REVISION_STRING_CHARACTERISTIC, b"1.0-virtual"),
                                   (gatt.GATT_HARDWARE_REVISION_STRING_CHARACTERISTIC, b"bumble"))]
        return [gatt.Service(P.IMU_SERVICE_UUID, [self.data_char, self.control_char, self.config_char]),
                gatt.Service(gatt.GATT_BATTERY_SERVICE, [battery]),
                gatt.Service(gatt.GATT_DEVICE_INFORMATION_SERVICE, dis)]

    async def start(self) -> "VirtualSensor":
        """Power on and advertise; schedule the link drops."""
        mfr = A.manufacturer_payload(self.config.role, self.battery_pct, self.serial)
        self.peripheral = await self.radio.add_peripheral(
            A.device_name(self.serial), self.address, services=self._services(),
            service_uuids=[P.IMU_SERVICE_UUID], manufacturer_data={P.COMPANY_ID: mfr})
        self.peripheral.device.on("connection", lambda conn: conn.on("disconnection", lambda *_: self._on_disconnection()))
        self._task = asyncio.create_task(self._radio_loop(), name=f"vsensor-{self.serial}")
        if self.link.drops:
            self._drop_task = asyncio.create_task(self._drops(), name=f"vsensor-drops-{self.serial}")
        return self

    async def close(self) -> None:
        for t in (self._task, self._drop_task):
            if t is not None:
                t.cancel()
        await asyncio.gather(*(t for t in (self._task, self._drop_task) if t is not None), return_exceptions=True)
        if self.peripheral is not None:
            await self.radio.remove_peripheral(self.peripheral)

    # ------------------------------------------------------------------ control
    def _on_control_write(self, connection, value: bytes) -> None:
        # like a real link: the write reaches the sensor at the next connection event (where the
        # firmware stamps TIME_SYNC's receive time), and the response leaves at the event after
        self._commands.append(bytes(value))

    def _on_start(self, config: Config) -> None:
        self.stalled = False
        self._packetizer = P.Packetizer(lambda pkt: self._outbox.append((self.data_char, pkt)), config.fmt,
                                        self.period_us, config.acc_range_g, config.gyro_range_dps,
                                        mtu=self.radio.mtu, seq=self._seq)
        # the stream starts now: samples taken before START are not sent (no backfill)
        self._next_index = int(np.searchsorted(self.samples.time_s, self.clock()))

    def _on_identify(self, seconds: int) -> None:
        self.identify_log.append((self.clock(), int(seconds)))

    def _on_stop(self, config: Config) -> None:
        self.stop_commands += 1
        self._halt()

    def _on_disconnection(self) -> None:
        """Firmware rule (PROTOCOL §4): a disconnect stops streaming."""
        if self.config.streaming:
            self.config.streaming = False
            self._halt()

    def _halt(self) -> None:
        if self._packetizer is not None:
            self._packetizer.flush()
            self._seq = self._packetizer.seq
        self._packetizer = None

    def stall(self) -> None:
        """Stop notifying while staying connected (a firmware hang the host cannot see), until the next START."""
        self.stalled = True

    # ------------------------------------------------------------------ the radio
    def _sample(self, until: float) -> None:
        """Push every sample taken up to session time ``until`` (the connection event) into the packetizer
        (raw int16, remapped by the mounting the host set, as the firmware does)."""
        pk = self._packetizer
        if pk is None or not self.config.streaming:
            return
        j = int(np.searchsorted(self.samples.time_s, until, side="right"))
        if j <= self._next_index:
            return
        fs = self.config.acc_range_g
        # the firmware's mounting remap (PROTOCOL §4): the simulated samples are what the IMU's own axes read
        remap = bytes(self.config.remap)
        M = None if remap == b"\x00\x01\x02" else remap_matrix(remap)
        acc = self.samples.acc_g[self._next_index:j]
        x = (acc if M is None else acc @ M.T) * (32768.0 / fs)
        if self.config.gyro_range_dps:
            gyro = self.samples.gyro_dps[self._next_index:j]
            x = np.hstack([x, (gyro if M is None else gyro @ M.T) * (32768.0 / self.config.gyro_range_dps)])
        raw = np.clip(np.round(x), -32768, 32767).astype(np.int16)
        for k, t_us in enumerate(self.sensor_us[self._next_index:j]):
            pk.push(int(t_us), raw[k])
        self._next_index = j
        pk.flush_if_older(int(self.sensor_us[j - 1]), int(self.link.max_latency_s * 1e6))

    async def _radio_loop(self) -> None:
        """Connection events every ``interval_s`` with a random phase; each delivers what is queued.

        The loop runs ``EVENT_LEAD_S`` ahead of each event: it packs the samples taken up to the event
        and schedules the delivery at the event's own instant plus the host's delay, so the packet
        timing is the radio's, not this task's wake-up time."""
        interval = self.link.interval_s
        next_event = self.clock() + self.rng.uniform(0, interval)
        while True:
            # connection events sit on a fixed grid (the controller's anchor points), not "sleep after work"
            next_event += interval
            await asyncio.sleep(max(0.0, next_event - EVENT_LEAD_S - self.clock()))
            p = self.peripheral
            if p is None or not p.is_connected:
                self._outbox.clear()  # nobody to send to: what was queued is gone (no backfill)
                self._commands.clear()
                continue
            self._sample(next_event)
            if self._outbox:
                batch, self._outbox = self._outbox, []
                # the host stack delays deliveries but never reorders them
                at = max(next_event + (self._jitter() if self.link.jitter_s else 0.0), self._last_delivery_s)
                self._last_delivery_s = at
                asyncio.create_task(self._deliver(batch, at))
            if self._commands:  # received at this event; answered at the next
                cmds, self._commands = self._commands, []
                # the firmware stamps TIME_SYNC in the radio's event interrupt: the event's own time,
                # not when this Python task happened to wake up
                t_event_us = self.sensor_at_us(next_event)
                self.handler.clock_us = lambda: t_event_us
                for value in cmds:
                    self._outbox.append((self.control_char, self.handler.handle(value, t_event_us)))
                self.handler.clock_us = self.sensor_now_us

    def _jitter(self) -> float:
        lk = self.link
        if lk.jitter_mean_s is None or self.rng.random() < lk.jitter_tail:
            return self.rng.uniform(0, lk.jitter_s)
        return min(lk.jitter_s, self.rng.expovariate(1.0 / lk.jitter_mean_s))

    async def _deliver(self, batch: list, at: float) -> None:
        """Deliver ``batch`` at session time ``at`` (its event plus the host's delay)."""
        await _TIMER.sleep(at - self.clock())
        async with self._deliver_lock:  # FIFO: deliveries keep their order
            await self._deliver_now(batch)

    async def _deliver_now(self, batch: list) -> None:
        p = self.peripheral
        if p is None:
            return
        for char, value in batch:
            if char is self.data_char:
                if self.stalled:
                    continue
                if self.link.loss and self.rng.random() < self.link.loss:
                    self.lost += 1
                    continue
                self.sent += 1
            try:
                await p.notify(char, value)
            except Exception as exc:  # the link went down under us
                log.debug("%s: notify failed: %s", self.serial, exc)
                return

    async def _drops(self) -> None:
        for start, duration in sorted(self.link.drops):
            await asyncio.sleep(max(0.0, start - self.clock()))
            log.info("%s: out of range for %.1f s", self.serial, duration)
            await self.peripheral.go_out_of_range()
            await asyncio.sleep(duration)
            await self.peripheral.come_into_range()
            log.info("%s: back in range", self.serial)


def _random_static_address(serial: str) -> str:
    """A random static address (two top bits set) derived from the serial, stable across runs."""
    h = int.from_bytes(serial.encode().rjust(6, b"\0")[-6:], "big")
    b = [(h >> (8 * i)) & 0xFF for i in range(5, -1, -1)]
    b[0] |= 0xC0
    return ":".join(f"{x:02X}" for x in b)


@dataclass
class VirtualFleet:
    """Four (or fewer) virtual sensors of one simulated run, with the session clock they share."""

    sensors: dict[Role, VirtualSensor]
    clock: Callable[[], float]

    @property
    def roster_dict(self) -> dict:
        return {"athlete": "Virtual runner",
                "sensors": [{"serial": s.serial, "role": r.value, "mounting": ["+x", "+y", "+z"],
                             **({} if s.has_gyro else {"gyro": False})} for r, s in self.sensors.items()]}

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self.sensors.values()), return_exceptions=True)


async def start_fleet(radio: VirtualRadio, sim, *, clock: Callable[[], float], links: dict[Role, LinkModel] | None = None,
                      serial_base: int = 101) -> VirtualFleet:
    """Virtual sensors for every role of a :class:`~stridesync.sim.SimResult`, advertising on ``radio``."""
    sensors = {}
    for k, (role, samples) in enumerate(sim.recording.items()):
        serial = f"SS{serial_base + k:06d}"
        link = (links or {}).get(role, LinkModel(seed=k))
        sensors[role] = await VirtualSensor(radio, serial, samples, sim.sensor_time_s[role], clock=clock, link=link).start()
    return VirtualFleet(sensors, clock)
