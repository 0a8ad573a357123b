"""Multi-sensor BLE acquisition through bleak: scan, connect, stream, watch, reconnect, stop.

Only the bleak API is used, so the same code drives a real adapter (Linux/BlueZ, macOS/CoreBluetooth,
Windows/WinRT) and the virtual sensors (``backend=`` the bumble-based backend). Notification callbacks
only enqueue ``(arrival_s, key, bytes)``; one consumer (:class:`~stridesync.live.LiveAnalyzer`) decodes.

The weak points users of today's IMU tools complain about are handled here:

* links drop as sensors are added → connect serially, one at a time, with a timeout each;
* reconnects dead-end → every link runs its own reconnect loop with exponential backoff, rescanning by
  serial number (an address goes stale, and macOS hides it anyway);
* streams stall silently while "connected" → a watchdog re-subscribes after ``stall_s`` without data,
  then drops and reconnects the link;
* packets are lost unnoticed → the consumer counts sequence gaps per sensor (loss %, effective rate);
* clocks drift → TIME_SYNC exchanges every ``time_sync_every_s`` feed each sensor's clock estimator.
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from stridesync_fw import packets as P

from ..errors import StrideSyncError
from ..model import LinkState, Role
from ..protocol import SENSOR_TIME_LIMIT_US, Advert, Command, ConfigRecord, ProtocolError, Response
from ..roster import GYRO_RANGE_DPS, Mounting, Roster

log = logging.getLogger(__name__)

BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
SERIAL_NUMBER_UUID = "00002a25-0000-1000-8000-00805f9b34fb"
FIRMWARE_REV_UUID = "00002a26-0000-1000-8000-00805f9b34fb"


class SensorLostError(StrideSyncError, ConnectionError):
    """A sensor could not be reached (not found, connect timed out, refused)."""


@dataclass(frozen=True)
class FoundSensor:
    """One advertising StrideSync sensor, as a scan sees it."""

    name: str
    address: str
    rssi: int | None
    serial: str | None
    role: Role | None
    battery_pct: int | None
    device: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class LinkSettings:
    """Timing of connection management, in seconds."""

    connect_timeout_s: float = 10.0
    scan_timeout_s: float = 5.0
    stall_s: float = 1.0
    backoff_s: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
    #: TIME_SYNC exchanges: mean spacing (randomised ±50 %, never in step with the data), and a faster
    #: burst for the first ``time_sync_burst_s`` after each (re)connection. The clock estimator reads the
    #: *floor* of the exchanges' host delays, whose error shrinks like 1/(exchanges per fit window): at
    #: 2 Hz after a 10 s burst the inter-sensor error in the first 30 s reaches 1.2 ms p95 (exponential
    #: 2 ms host delay; 5–6 ms with a uniform 0–20 ms delay), at 4 Hz after a 30 s burst 0.7 ms (1.4 ms).
    #: An exchange is three tiny PDUs at existing connection events: no airtime or power worth counting.
    time_sync_every_s: float = 0.25
    time_sync_burst_every_s: float = 0.1
    time_sync_burst_s: float = 30.0
    command_timeout_s: float = 2.0
    mtu: int = 247


def parse_advert(device: BLEDevice, adv: AdvertisementData) -> FoundSensor:
    serial = role = battery = None
    data = (adv.manufacturer_data or {}).get(P.COMPANY_ID)
    if data is not None:
        try:
            a = Advert.from_bytes(bytes(data))
            serial, role, battery = a.serial, a.role, a.battery_pct
        except ProtocolError:
            pass
    return FoundSensor(adv.local_name or device.name or "", device.address, adv.rssi, serial, role, battery, device)


async def scan(timeout_s: float = 5.0, *, backend: type | None = None,
               wanted: set[str] | None = None) -> list[FoundSensor]:
    """StrideSync sensors in range (filtered by the IMU service UUID), strongest first.

    With ``wanted`` (serial numbers), the scan ends as soon as all of them have been seen.
    """
    seen: dict[str, FoundSensor] = {}
    done = asyncio.Event()

    def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
        f = parse_advert(device, adv)
        if f.serial is None and P.IMU_SERVICE_UUID not in (adv.service_uuids or []):
            return
        seen[f.address] = f
        if wanted and wanted <= {x.serial for x in seen.values()}:
            done.set()

    kw = {"backend": backend} if backend else {}
    async with BleakScanner(on_adv, service_uuids=[P.IMU_SERVICE_UUID], **kw):
        try:
            await asyncio.wait_for(done.wait(), timeout_s)
        except asyncio.TimeoutError:
            pass
    return sorted(seen.values(), key=lambda f: -(f.rssi if f.rssi is not None else -999))


class SensorLink:
    """One sensor's connection, kept alive for the whole session.

    Parameters
    ----------
    serial, role, mounting : who this sensor is and how it is worn (from the roster).
    on_packet : ``(arrival_s, serial, bytes)`` for every data notification (called on the event loop).
    on_state : ``(serial, state, battery_pct)`` on every state change.
    on_time_sync : ``(serial, t1_s, t2_us, t3_us, t4_s)`` for every two-way exchange.
    clock : the session clock (seconds), shared by all links.
    """

    def __init__(self, serial: str, role: Role, mounting: Mounting, *, on_packet: Callable, on_state: Callable,
                 on_time_sync: Callable, clock: Callable[[], float], settings: LinkSettings,
                 backend: type | None = None, scanner_backend: type | None = None, device: Any = None):
        self.serial, self.role, self.mounting = serial, role, mounting
        #: the gyroscope range to set on connecting (0: the sensor has none; leave it)
        self.gyro_range_dps = GYRO_RANGE_DPS
        self.on_packet, self.on_state, self.on_time_sync = on_packet, on_state, on_time_sync
        self.clock, self.settings = clock, settings
        self.backend, self.scanner_backend = backend, scanner_backend
        self.device = device
        self.client: BleakClient | None = None
        self.state = LinkState.IDLE
        self.last_data_s: float | None = None
        self.battery_pct: int | None = None
        self.firmware: str | None = None
        self.config: ConfigRecord | None = None
        self._token = 0
        self._pending: dict[int, asyncio.Future] = {}
        self._disconnected = asyncio.Event()
        self._stop = asyncio.Event()
        self._final_state = LinkState.STOPPED  # what the link says once stopped ('off': the user disconnected it)
        self.connected_once = asyncio.Event()

    # ------------------------------------------------------------------ state
    def _set(self, state: str) -> None:
        if state != self.state:
            log.info("%s (%s): %s", self.serial, self.role.value, state)
            self.state = state
            self.on_state(self.serial, state, self.battery_pct)

    # ------------------------------------------------------------------ main loop
    async def run(self) -> None:
        """Connect and stream until :meth:`stop`; reconnect with backoff whenever the link drops."""
        attempt = 0
        while not self._stop.is_set():
            try:
                await self._session()
                attempt = 0
            except Exception as exc:  # bleak raises BleakError (an Exception); timeouts, OSError, ours
                if self._stop.is_set():
                    break
                log.info("%s: link lost or refused: %s: %s", self.serial, exc.__class__.__name__, exc)
            if self._stop.is_set():
                break
            self._set(LinkState.RECONNECTING)
            delay = self.settings.backoff_s[min(attempt, len(self.settings.backoff_s) - 1)]
            attempt += 1
            try:
                await asyncio.wait_for(self._stop.wait(), delay)
            except asyncio.TimeoutError:
                pass
        self._set(self._final_state)

    async def stop(self, final_state: str = LinkState.STOPPED) -> None:
        """Stop streaming, then disconnect (a clean shutdown leaves the sensor idle, not mid-stream).
        ``final_state``: the state reported once the link is down ('off' when the user disconnected it)."""
        self._final_state = final_state
        self._stop.set()
        client = self.client
        if client is not None and client.is_connected:
            try:
                await self.command(P.OP_STOP)
            except Exception as exc:  # the link may already be gone
                log.debug("%s: STOP failed: %s", self.serial, exc)
            try:
                await client.disconnect()
            except Exception as exc:
                log.debug("%s: disconnect failed: %s", self.serial, exc)
        self._disconnected.set()

    async def _find(self) -> Any:
        """The sensor's current BLEDevice, found by its advertised serial number."""
        if self.device is not None:
            dev, self.device = self.device, None
            return dev
        kw = {"backend": self.scanner_backend} if self.scanner_backend else {}

        def match(d: BLEDevice, adv: AdvertisementData) -> bool:
            return parse_advert(d, adv).serial == self.serial

        dev = await BleakScanner.find_device_by_filter(match, timeout=self.settings.scan_timeout_s, **kw)
        if dev is None:
            raise SensorLostError(f"sensor {self.serial} not found")
        return dev

    async def _session(self) -> None:
        self._set(LinkState.CONNECTING)
        device = await self._find()
        self._disconnected.clear()
        kw = {"backend": self.backend} if self.backend else {}
        client = BleakClient(device, disconnected_callback=lambda c: self._disconnected.set(),
                             timeout=self.settings.connect_timeout_s, **kw)
        await client.connect()
        self.client = client
        try:
            await self._setup(client)
            self.connected_once.set()
            await self._stream(client)
        finally:
            self.client = None
            if client.is_connected and not self._stop.is_set():
                try:
                    await client.disconnect()
                except Exception:
                    pass

    async def _setup(self, client: BleakClient) -> None:
        acquire = getattr(getattr(client, "_backend", None), "_acquire_mtu", None)
        if acquire is not None and client.mtu_size < self.settings.mtu:  # BlueZ needs asking
            try:
                await acquire()
            except Exception:
                pass
        try:
            self.battery_pct = int((await client.read_gatt_char(BATTERY_LEVEL_UUID))[0])
        except Exception:
            self.battery_pct = None
        try:
            self.firmware = bytes(await client.read_gatt_char(FIRMWARE_REV_UUID)).decode(errors="replace")
        except Exception:
            self.firmware = None
        await client.start_notify(P.CONTROL_CHAR_UUID, self._on_control)
        self.config = ConfigRecord.from_bytes(bytes(await client.read_gatt_char(P.CONFIG_CHAR_UUID)))
        if self.config.streaming:
            await self.command(P.OP_STOP)
        if self.config.role is not self.role or self.config.remap != self.mounting.to_bytes():
            await self.command(P.OP_SET_ROLE, bytes([_ROLE_CODE[self.role]]) + self.mounting.to_bytes())
        if self.gyro_range_dps and self.config.gyro_range_dps != self.gyro_range_dps:
            # angular rate is what the default rules measure; a shank in a sprint passes 1500 deg/s
            await self.command(P.OP_SET_RANGE, struct.pack("<BH", self.config.acc_range_g, self.gyro_range_dps))
            self.config = ConfigRecord.from_bytes(bytes(await client.read_gatt_char(P.CONFIG_CHAR_UUID)))
        for _ in range(3):
            await self.time_sync()
        await client.start_notify(P.DATA_CHAR_UUID, self._on_data)
        await self.command(P.OP_START)
        self.last_data_s = self.clock()

    async def _stream(self, client: BleakClient) -> None:
        """Watch the stream: data flowing → streaming; silent → re-subscribe, then give up the link."""
        self._set(LinkState.STREAMING)
        connected_at = self.clock()
        rng = random.Random(hash(self.serial) & 0xFFFF)

        def next_sync_after(now: float) -> float:
            mean = (self.settings.time_sync_burst_every_s if now - connected_at < self.settings.time_sync_burst_s
                    else self.settings.time_sync_every_s)
            return now + mean * rng.uniform(0.5, 1.5)

        next_sync = next_sync_after(connected_at)
        resubscribed = False
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._disconnected.wait(), 0.02)
                raise SensorLostError(f"sensor {self.serial} disconnected")
            except asyncio.TimeoutError:
                pass
            now = self.clock()
            silent = now - (self.last_data_s or now)
            if silent > self.settings.stall_s:
                if resubscribed:
                    self._set(LinkState.LOST)
                    raise SensorLostError(f"sensor {self.serial} stalled for {silent:.1f} s")
                self._set(LinkState.STALLED)
                log.warning("%s: no data for %.1f s: re-subscribing", self.serial, silent)
                try:
                    await client.stop_notify(P.DATA_CHAR_UUID)
                except Exception:
                    pass
                await client.start_notify(P.DATA_CHAR_UUID, self._on_data)
                # restart the stream: a sensor that believes it is streaming ignores a bare START
                await self.command(P.OP_STOP)
                await self.command(P.OP_START)
                resubscribed = True
                self.last_data_s = self.clock()
            elif silent < 0.5 and self.state != LinkState.STREAMING:
                self._set(LinkState.STREAMING)
                resubscribed = False
            if now >= next_sync:
                next_sync = next_sync_after(now)
                try:
                    await self.time_sync()
                except (asyncio.TimeoutError, ProtocolError) as exc:
                    log.debug("%s: time sync failed: %s", self.serial, exc)

    # ------------------------------------------------------------------ callbacks and commands
    def _on_data(self, _sender: Any, data: bytearray) -> None:
        self.last_data_s = t = self.clock()
        self.on_packet(t, self.serial, bytes(data))

    def _on_control(self, _sender: Any, data: bytearray) -> None:
        try:
            resp = Response.from_bytes(bytes(data))
        except ProtocolError as exc:
            log.debug("%s: malformed control response: %s", self.serial, exc)
            return
        fut = self._pending.pop(resp.token, None)
        if fut is not None and not fut.done():
            fut.set_result((self.clock(), resp))

    async def command(self, opcode: int, payload: bytes = b"") -> Response:
        client = self.client
        if client is None:
            raise SensorLostError(f"sensor {self.serial} is not connected")
        self._token = (self._token + 1) & 0xFF
        token = self._token
        fut = asyncio.get_running_loop().create_future()
        self._pending[token] = fut
        await client.write_gatt_char(P.CONTROL_CHAR_UUID, bytes(Command(opcode, token, payload)), response=True)
        try:
            _, resp = await asyncio.wait_for(fut, self.settings.command_timeout_s)
        finally:
            self._pending.pop(token, None)
        if resp.status != P.ST_OK:
            raise ProtocolError(f"sensor {self.serial}: {P.OPCODE_NAMES[opcode]} refused ({P.STATUS_NAMES[resp.status] if resp.status < len(P.STATUS_NAMES) else resp.status})")
        return resp

    async def identify(self, seconds: int = 5) -> None:
        """Blink the sensor's LED for ``seconds`` (0 stops it): which sensor is which, at the track."""
        await self.command(P.OP_IDENTIFY, bytes([max(0, min(int(seconds), 255))]))

    async def time_sync(self) -> None:
        """One two-way exchange: host send t1, sensor receive t2 and send t3, host receive t4."""
        client = self.client
        if client is None:
            return
        self._token = (self._token + 1) & 0xFF
        token = self._token
        fut = asyncio.get_running_loop().create_future()
        self._pending[token] = fut
        t1 = self.clock()
        await client.write_gatt_char(P.CONTROL_CHAR_UUID,
                                     bytes(Command(P.OP_TIME_SYNC, token, int(round(t1 * 1e6)).to_bytes(8, "little"))),
                                     response=True)
        try:
            t4, resp = await asyncio.wait_for(fut, self.settings.command_timeout_s)
        finally:
            self._pending.pop(token, None)
        if resp.status != P.ST_OK or len(resp.payload) != 24:
            raise ProtocolError(f"sensor {self.serial}: bad TIME_SYNC response")
        t2 = int.from_bytes(resp.payload[8:16], "little")
        t3 = int.from_bytes(resp.payload[16:24], "little")
        if max(t2, t3) >= SENSOR_TIME_LIMIT_US:
            raise ProtocolError(f"sensor {self.serial}: TIME_SYNC answer with an impossible sensor time")
        self.on_time_sync(self.serial, t1, t2, t3, t4)


_ROLE_CODE = {Role.LEFT_SHIN: 1, Role.RIGHT_SHIN: 2, Role.LEFT_WRIST: 3, Role.RIGHT_WRIST: 4}


class Acquisition:
    """All sensors of a roster: serial connects, concurrent streams, one queue of raw notifications.

    Use as ``async with Acquisition(roster, ...) as acq:`` then read ``acq.queue``: items are
    ``(arrival_s, serial, bytes)`` for data packets and ``(t4_s, serial, (t1_s, t2_us, t3_us, t4_s))`` for
    time-sync exchanges, in arrival order. Leaving the block stops every stream and disconnects. Nothing
    here decodes: see :class:`~stridesync.live.LiveAnalyzer`.
    """

    def __init__(self, roster: Roster, *, settings: LinkSettings | None = None, backend: type | None = None,
                 scanner_backend: type | None = None, on_state: Callable | None = None,
                 on_time_sync: Callable | None = None, clock: Callable[[], float] | None = None):
        self.roster = roster
        self.settings = settings or LinkSettings()
        self.backend, self.scanner_backend = backend, scanner_backend
        t0 = time.monotonic()
        self.clock = clock or (lambda: time.monotonic() - t0)
        self.queue: asyncio.Queue = asyncio.Queue()
        self._on_state = on_state or (lambda *a: None)
        # by default a time-sync result joins the packets' queue, so the consumer sees every input in
        # arrival order (an exchange applied ahead of a backlog of older packets would look like the
        # sensor clock going backwards)
        self._on_time_sync = on_time_sync or (
            lambda serial, t1, t2, t3, t4: self.queue.put_nowait((t4, serial, (t1, t2, t3, t4))))
        self.links: dict[str, SensorLink] = {}
        self.unknown_devices: set[str] = set()
        self._tasks: dict[str, asyncio.Task] = {}

    async def __aenter__(self) -> "Acquisition":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    async def start(self) -> None:
        """Scan once, then bring the links up one at a time (parallel connects race on many stacks)."""
        wanted = {e.serial for e in self.roster.sensors}
        found = {f.serial: f for f in await scan(self.settings.scan_timeout_s, backend=self.scanner_backend, wanted=wanted)}
        self.unknown_devices = {f"{f.name} {f.address}" for s, f in found.items() if self.roster.by_serial(s or "") is None}
        for entry in self.roster.sensors:
            link = self._start_link(entry, found[entry.serial].device if entry.serial in found else None)
            try:  # serial connects: wait for this one before starting the next
                await asyncio.wait_for(link.connected_once.wait(), self.settings.connect_timeout_s + self.settings.scan_timeout_s)
            except asyncio.TimeoutError:
                log.warning("%s (%s) did not connect yet; it keeps retrying in the background", entry.serial, entry.role.value)

    def _start_link(self, entry: Any, device: Any = None) -> SensorLink:
        link = SensorLink(entry.serial, entry.role, entry.mounting,
                          on_packet=lambda t, k, b: self.queue.put_nowait((t, k, b)),
                          on_state=self._on_state, on_time_sync=self._on_time_sync, clock=self.clock,
                          settings=self.settings, backend=self.backend, scanner_backend=self.scanner_backend,
                          device=device)
        link.gyro_range_dps = GYRO_RANGE_DPS if entry.gyro else 0
        self.links[entry.serial] = link
        self._tasks[entry.serial] = asyncio.create_task(link.run(), name=f"link-{entry.serial}")
        return link

    def _link(self, serial: str) -> SensorLink:
        link = self.links.get(serial)
        if link is None:
            raise SensorLostError(f"sensor {serial} is not in the roster")
        return link

    async def identify(self, serial: str, seconds: int = 5) -> None:
        """Blink one sensor's LED. Raises SensorLostError when it is not in the roster or not connected."""
        await self._link(serial).identify(seconds)

    async def disconnect(self, serial: str) -> None:
        """Take one sensor out of the session (a flat battery, a sensor swapped): its stream stops, it
        disconnects and reports 'off'; the others go on. :meth:`reconnect` brings it back."""
        link = self._link(serial)
        await link.stop(final_state=LinkState.OFF)
        await asyncio.gather(self._tasks[serial], return_exceptions=True)

    async def reconnect(self, serial: str) -> None:
        """Bring a sensor taken out by :meth:`disconnect` back: found again by its serial, connected and
        streaming as at the start. A sensor whose link is still up (or still retrying) is left alone."""
        self._link(serial)
        if not self._tasks[serial].done():
            return
        entry = self.roster.by_serial(serial)
        assert entry is not None
        self._start_link(entry)

    async def stop(self) -> None:
        await asyncio.gather(*(link.stop() for link in self.links.values()), return_exceptions=True)
        tasks = list(self._tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
