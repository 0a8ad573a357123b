"""A bleak backend over bumble's in-process virtual radio (no adapter, no BlueZ, no kernel).

The product uses the real bleak API and only picks the backend::

    BleakScanner(..., backend=BumbleScanner)
    BleakClient(device, backend=BumbleClient)

Tests (or the simulator) own a :class:`VirtualRadio` on the running event loop: one
``bumble.link.LocalLink``, one central bumble ``Device`` that the backend drives, and any number
of bumble peripheral ``Device`` objects (:class:`VirtualPeripheral`) with real GATT servers::

    async with VirtualRadio() as radio:
        p = await radio.add_peripheral("SS-L", "D0:00:00:00:00:01", services=[...],
                                       service_uuids=[SVC], manufacturer_data={0xFFFF: b"\\x01"})
        async with BleakClient(dev, backend=BumbleClient) as client: ...

The backends find the radio of the running loop through a module registry (or ``radio=`` kwarg).
Written against bumble==0.0.236 (it patches/subclasses internals: pin it exactly).
"""

from __future__ import annotations

import asyncio
import logging
import uuid as _uuid
import weakref
from collections.abc import Callable, Iterable
from typing import Any, Optional

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from bumble import att, colors, core, gatt, hci
from bumble.controller import Controller
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.link import LocalLink

__all__ = ["BumbleClient", "BumbleScanner", "VirtualPeripheral", "VirtualRadio", "get_radio",
           "make_advertising_data", "quiet_bumble_formatting"]

logger = logging.getLogger(__name__)

DEFAULT_MTU = 247
DEFAULT_RSSI = -60
CONNECTION_TIMEOUT = hci.HCI_ErrorCode.CONNECTION_TIMEOUT_ERROR  # 0x08: the out-of-range reason
_ADT = core.AdvertisingData


# --------------------------------------------------------------------------- debug-string cost
# bumble logs every HCI/ATT packet with logger.debug(f"... {packet}"): the f-string (colour codes
# plus a field-by-field dump) is built even when DEBUG is off and dominated the per-notification
# CPU. We make packet __str__ and color() cheap unless the "bumble" logger is enabled for DEBUG.
_BUMBLE_LOG = logging.getLogger("bumble")
_patched = False


def _debug_on() -> bool:
    return _BUMBLE_LOG.isEnabledFor(logging.DEBUG)


def _cheap_str(orig: Callable[[Any], str]) -> Callable[[Any], str]:
    def __str__(self: Any) -> str:
        if _debug_on():
            return orig(self)
        return getattr(self, "name", None) or type(self).__name__
    __str__.__wrapped__ = orig  # type: ignore[attr-defined]
    return __str__


def _cheap_color(s: str, *args: Any, **kwargs: Any) -> str:
    return colors.color(s, *args, **kwargs) if _debug_on() else s


class _InFlightAtDisconnect(logging.Filter):
    """A notification still in flight when a link drops is lost silently on a real radio; bumble's
    virtual controller warns about each one ("!!! no connection for ..."), which only clutters the
    demo's last lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("!!! no connection for")


def quiet_bumble_formatting() -> None:
    """Idempotent, process-wide; full dumps come back when logging 'bumble' at DEBUG."""
    global _patched
    if _patched:
        return
    _patched = True
    logging.getLogger("bumble.controller").addFilter(_InFlightAtDisconnect())
    import importlib
    for base in (hci.HCI_Packet, att.ATT_PDU):
        todo = [base]
        while todo:
            cls = todo.pop()
            todo.extend(cls.__subclasses__())
            if "__str__" in cls.__dict__:
                cls.__str__ = _cheap_str(cls.__dict__["__str__"])  # type: ignore[method-assign]
    for name in ("host", "controller", "hci", "device", "gatt_client", "gatt_server", "att",
                 "l2cap", "gatt"):
        mod = importlib.import_module(f"bumble.{name}")
        if getattr(mod, "color", None) is colors.color:
            mod.color = _cheap_color  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- virtual controller
class _VirtualController(Controller):
    """bumble's Controller with the fixes this backend needs.

    * LE ACL buffers of 251 bytes: the default 27 makes the host split every 247-byte ATT PDU into
      10 HCI fragments (each parsed and acknowledged separately).
    * LE Create Connection Cancel really cancels: stock bumble answers "success" but keeps
      ``pending_le_connection`` and never reports the cancellation, so a timed-out connect hangs
      in bumble and blocks every later connect with COMMAND_DISALLOWED.
    """

    le_acl_data_packet_length = 251

    def on_hci_le_create_connection_cancel_command(self, command):  # type: ignore[override]
        pending = self.pending_le_connection
        if pending is None:
            return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.COMMAND_DISALLOWED_ERROR)
        self.pending_le_connection = None
        # queued before the Command Complete is queued, but send_hci_packet itself queues, so the
        # host sees Command Complete first and then this event, as the spec orders them
        asyncio.get_running_loop().call_soon(self.send_hci_packet, hci.HCI_LE_Connection_Complete_Event(
            status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR, connection_handle=0,
            role=hci.Role.CENTRAL, peer_address_type=pending.peer_address.address_type,
            peer_address=pending.peer_address, connection_interval=0, peripheral_latency=0,
            supervision_timeout=0, central_clock_accuracy=0))
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)


def _addr(address: str | hci.Address) -> hci.Address:
    if isinstance(address, hci.Address):
        return address
    a = hci.Address(address, hci.Address.RANDOM_DEVICE_ADDRESS)
    if a.address_bytes[5] & 0xC0 != 0xC0:  # most significant byte (printed first)
        raise ValueError(f"{address}: use a random static address (top two bits set, C0..FF)")
    return a


def _addr_str(a: hci.Address) -> str:
    return a.to_string(False)


def _uuid_str(u: core.UUID) -> str:
    return str(_uuid.UUID(bytes=bytes(reversed(u.uuid_128_bytes))))


def make_advertising_data(name: Optional[str] = None, service_uuids: Iterable[str] = (),
                          manufacturer_data: Optional[dict[int, bytes]] = None,
                          tx_power: Optional[int] = None) -> bytes:
    """Raw AD structures: flags, complete 16/128-bit service lists, name, manufacturer data."""
    out = bytearray(b"\x02\x01\x06")

    def ad(t: int, v: bytes) -> None:
        out.extend(bytes([len(v) + 1, t]) + v)

    uu = [core.UUID(str(u)) for u in service_uuids]
    for size, t in ((2, _ADT.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS),
                    (16, _ADT.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS)):
        part = b"".join(u.to_bytes() for u in uu if len(u.to_bytes()) == size)
        if part:
            ad(t, part)
    if name:
        ad(_ADT.COMPLETE_LOCAL_NAME, name.encode())
    for company, payload in (manufacturer_data or {}).items():
        ad(_ADT.MANUFACTURER_SPECIFIC_DATA, company.to_bytes(2, "little") + bytes(payload))
    if tx_power is not None:
        ad(_ADT.TX_POWER_LEVEL, (tx_power & 0xFF).to_bytes(1, "little"))
    return bytes(out)


# --------------------------------------------------------------------------- radio + peripherals
_RADIOS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, VirtualRadio]" = weakref.WeakKeyDictionary()


def get_radio(radio: Optional["VirtualRadio"] = None) -> "VirtualRadio":
    if radio is not None:
        return radio
    try:
        return _RADIOS[asyncio.get_running_loop()]
    except KeyError:
        raise BleakError("no VirtualRadio started on this event loop") from None


class VirtualPeripheral:
    """A bumble peripheral Device on the radio's link, with its own controller and GATT server.

    Define its GATT database with plain ``bumble.gatt.Service``/``Characteristic`` objects. It
    advertises ``advertising_data`` every ``advertising_interval_ms`` while not connected and
    re-advertises after a disconnection unless :meth:`stop_advertising`/:meth:`go_out_of_range`.
    """

    def __init__(self, radio: "VirtualRadio", name: str, address: str, services: Iterable[gatt.Service],
                 advertising_data: bytes, rssi: int, advertising_interval_ms: float) -> None:
        self.radio, self.name, self.rssi = radio, name, rssi
        self.bd_address = _addr(address)
        self.address = _addr_str(self.bd_address)
        self.advertising_data = advertising_data
        self.advertising_interval_ms = advertising_interval_ms
        self.controller = _VirtualController(f"periph-{name}", link=radio.link)
        self.device = Device.with_hci(name, self.bd_address, self.controller, self.controller)
        self.device.add_services(list(services))
        self.device.on("connection", self._on_connection)
        self._want_advertising = False
        self._adv_lock = asyncio.Lock()  # start/stop/re-advertise must not interleave
        self._tasks: set[asyncio.Future[None]] = set()

    @property
    def connections(self) -> list[Connection]:
        return list(self.device.connections.values())

    @property
    def is_connected(self) -> bool:
        return bool(self.device.connections)

    @property
    def is_advertising(self) -> bool:
        return self._want_advertising and not self.device.connections

    def _on_connection(self, connection: Connection) -> None:
        connection.on("disconnection", lambda reason: self._on_disconnection())

    def _on_disconnection(self) -> None:
        if self._want_advertising:
            task = asyncio.ensure_future(self._advertise())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _advertise(self) -> None:
        async with self._adv_lock:
            if not self._want_advertising or self.device.connections:
                return
            await self.device.start_advertising(
                advertising_data=self.advertising_data, scan_response_data=b"",
                advertising_interval_min=self.advertising_interval_ms,
                advertising_interval_max=self.advertising_interval_ms)

    async def start_advertising(self) -> None:
        self._want_advertising = True
        await self._advertise()

    async def stop_advertising(self) -> None:
        self._want_advertising = False
        async with self._adv_lock:
            await self.device.stop_advertising()

    async def disconnect(self, reason: int = CONNECTION_TIMEOUT) -> None:
        """Peripheral-initiated disconnect of every connection (central sees ``reason``)."""
        for c in self.connections:
            try:
                await c.disconnect(reason)
            except core.BaseBumbleError:
                pass

    async def go_out_of_range(self) -> None:
        """Stop advertising and drop the link with a supervision timeout, like a sensor walking off."""
        await self.stop_advertising()
        await self.disconnect(CONNECTION_TIMEOUT)

    async def come_into_range(self) -> None:
        await self.start_advertising()

    async def notify(self, characteristic: gatt.Characteristic, value: bytes) -> None:
        """Notify every subscribed central (no-op without subscribers)."""
        await self.device.notify_subscribers(characteristic, value)


class VirtualRadio:
    """Owns the LocalLink, the central Device the backend drives, and the peripherals.

    ``link`` may be a LocalLink subclass (e.g. a link model adding loss/latency).
    Start it on the loop that will run bleak (``async with VirtualRadio() as radio``).
    """

    def __init__(self, *, link: Optional[LocalLink] = None, central_address: str = "C0:00:00:00:00:01",
                 mtu: int = DEFAULT_MTU, quiet: bool = True) -> None:
        self.link = link if link is not None else LocalLink()
        self.central_address = central_address
        self.mtu = mtu
        self.quiet = quiet
        self.peripherals: dict[str, VirtualPeripheral] = {}
        self.controller: Optional[_VirtualController] = None
        self.central: Optional[Device] = None
        self._scanners: set[BumbleScanner] = set()
        self._scan_lock = asyncio.Lock()
        self._connect_lock = asyncio.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    async def start(self) -> "VirtualRadio":
        if self.quiet:
            quiet_bumble_formatting()
        self._loop = asyncio.get_running_loop()
        if self._loop in _RADIOS:
            raise BleakError("a VirtualRadio is already running on this loop")
        self.controller = _VirtualController("central", link=self.link)
        self.central = Device.with_hci("central", _addr(self.central_address), self.controller, self.controller)
        self.central.on("advertisement", self._on_advertisement)
        await self.central.power_on()
        _RADIOS[self._loop] = self
        return self

    async def close(self) -> None:
        for p in list(self.peripherals.values()):
            await self.remove_peripheral(p)
        if self.central is not None:
            for c in list(self.central.connections.values()):
                try:
                    await c.disconnect(hci.HCI_ErrorCode.REMOTE_USER_TERMINATED_CONNECTION_ERROR)
                except core.BaseBumbleError:
                    pass
            if self.central.is_scanning:
                await self.central.stop_scanning()
        if self.controller is not None and self.controller in self.link.controllers:
            self.link.remove_controller(self.controller)
        if self._loop is not None and _RADIOS.get(self._loop) is self:
            del _RADIOS[self._loop]

    async def __aenter__(self) -> "VirtualRadio":
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # peripherals -------------------------------------------------------------------------
    async def add_peripheral(self, name: str, address: str, *, services: Iterable[gatt.Service] = (),
                             service_uuids: Iterable[str] = (), manufacturer_data: Optional[dict[int, bytes]] = None,
                             advertising_data: Optional[bytes] = None, rssi: int = DEFAULT_RSSI,
                             advertising_interval_ms: float = 100.0, advertise: bool = True) -> VirtualPeripheral:
        if advertising_data is None:
            advertising_data = make_advertising_data(name, service_uuids, manufacturer_data)
        p = VirtualPeripheral(self, name, address, services, advertising_data, rssi, advertising_interval_ms)
        if p.address in self.peripherals:
            raise ValueError(f"address {p.address} already on the radio")
        await p.device.power_on()
        self.peripherals[p.address] = p
        if advertise:
            await p.start_advertising()
        return p

    async def remove_peripheral(self, p: VirtualPeripheral, reason: int = CONNECTION_TIMEOUT) -> None:
        """Switch the peripheral off: stop advertising, drop links (central sees ``reason``), unplug."""
        await p.stop_advertising()
        await p.disconnect(reason)
        self.peripherals.pop(p.address, None)
        if p.controller in self.link.controllers:
            self.link.remove_controller(p.controller)

    # scanning ----------------------------------------------------------------------------
    async def _add_scanner(self, s: "BumbleScanner") -> None:
        async with self._scan_lock:
            self._scanners.add(s)
            assert self.central is not None
            if not self.central.is_scanning:
                await self.central.start_scanning(active=True, filter_duplicates=False)

    async def _remove_scanner(self, s: "BumbleScanner") -> None:
        async with self._scan_lock:
            self._scanners.discard(s)
            assert self.central is not None
            if not self._scanners and self.central.is_scanning:
                await self.central.stop_scanning()

    def _on_advertisement(self, adv: Advertisement) -> None:
        if not self._scanners:
            return
        address = _addr_str(adv.address)
        p = self.peripherals.get(address)
        rssi = p.rssi if p is not None else adv.rssi
        data = adv.data
        name = data.get(_ADT.COMPLETE_LOCAL_NAME) or data.get(_ADT.SHORTENED_LOCAL_NAME)
        uuids: list[str] = []
        for t in (_ADT.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, _ADT.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                  _ADT.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS, _ADT.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
                  _ADT.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, _ADT.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS):
            for lst in data.get_all(t):
                uuids.extend(u for u in map(_uuid_str, lst) if u not in uuids)  # type: ignore[arg-type]
        mfr = {cid: bytes(v) for cid, v in data.get_all(_ADT.MANUFACTURER_SPECIFIC_DATA)}  # type: ignore[misc]
        sdata = {}
        for t in (_ADT.SERVICE_DATA_16_BIT_UUID, _ADT.SERVICE_DATA_32_BIT_UUID, _ADT.SERVICE_DATA_128_BIT_UUID):
            sdata.update({_uuid_str(u): bytes(v) for u, v in data.get_all(t)})  # type: ignore[misc]
        tx = data.get(_ADT.TX_POWER_LEVEL)
        ad = AdvertisementData(local_name=name, manufacturer_data=mfr, service_data=sdata, service_uuids=uuids,
                               tx_power=tx, rssi=rssi, platform_data=(adv,))
        for s in list(self._scanners):
            s._handle(address, adv.address, name, ad)

    # connecting --------------------------------------------------------------------------
    async def connect(self, address: hci.Address, timeout: float) -> Connection:
        """Connect the central (serially). Raises TimeoutError, leaving the controller reusable."""
        assert self.central is not None and self.controller is not None
        async with self._connect_lock:
            try:
                return await asyncio.wait_for(self.central.connect_le(address, timeout=timeout), timeout + 1.0)
            except (core.TimeoutError, asyncio.TimeoutError) as e:
                raise asyncio.TimeoutError(f"connect to {_addr_str(address)} timed out") from e
            finally:
                # belt and braces: never leave a stale pending LE connection in the controller
                if self.controller.pending_le_connection is not None and not self.central.is_le_connecting:
                    self.controller.pending_le_connection = None


# --------------------------------------------------------------------------- bleak backends
class BumbleScanner(BaseBleakScanner):
    """bleak scanner backend reporting the VirtualRadio's advertisements."""

    def __init__(self, detection_callback: Optional[AdvertisementDataCallback], service_uuids: Optional[list[str]],
                 scanning_mode: str = "active", *, radio: Optional[VirtualRadio] = None, **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        self._radio = radio

    async def start(self) -> None:
        self.seen_devices = {}
        await get_radio(self._radio)._add_scanner(self)

    async def stop(self) -> None:
        await get_radio(self._radio)._remove_scanner(self)

    def _handle(self, key: str, address: hci.Address, name: Optional[str], ad: AdvertisementData) -> None:
        if not self.is_allowed_uuid(ad.service_uuids):
            return
        device = self.create_or_update_device(key, key, name, address, ad)
        self.call_detection_callbacks(device, ad)


_PROPS = ((0x01, "broadcast"), (0x02, "read"), (0x04, "write-without-response"), (0x08, "write"),
          (0x10, "notify"), (0x20, "indicate"), (0x40, "authenticated-signed-writes"), (0x80, "extended-properties"))


class BumbleClient(BaseBleakClient):
    """bleak client backend driving the VirtualRadio's central Device.

    On connect: LE connection, ATT MTU exchange (radio.mtu, 247), full GATT discovery. The
    disconnected_callback fires on every disconnection (peripheral- or client-initiated), like
    the BlueZ backend.
    """

    def __init__(self, address_or_ble_device: BLEDevice | str, *, radio: Optional[VirtualRadio] = None,
                 services: Optional[set[str]] = None, **kwargs: Any) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=kwargs.pop("disconnected_callback", None),
                         timeout=kwargs.pop("timeout", 10.0))
        self._radio = radio
        self._bd_address = (address_or_ble_device.details if isinstance(address_or_ble_device, BLEDevice)
                            and isinstance(address_or_ble_device.details, hci.Address) else _addr(self.address))
        self._name = address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        self._services_filter = services
        self._connection: Optional[Connection] = None
        self._peer: Optional[Peer] = None
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    @property
    def name(self) -> str:
        return self._name or self.address

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection is not None else att.ATT_DEFAULT_MTU

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if self.is_connected:
            return
        radio = get_radio(self._radio)
        timeout = kwargs.get("timeout", self._timeout)
        connection = await radio.connect(self._bd_address, timeout)
        self._connection = connection
        self._peer = Peer(connection)
        connection.on("disconnection", lambda reason, c=connection: self._on_disconnection(c, reason))
        try:
            await self._guard(self._peer.request_mtu(radio.mtu))
            self.services = await self._guard(self._discover())
        except BaseException:
            await self.disconnect()
            raise

    async def _discover(self) -> BleakGATTServiceCollection:
        assert self._peer is not None
        coll = BleakGATTServiceCollection()
        for svc in await self._peer.discover_services():
            suuid = _uuid_str(svc.uuid)
            if self._services_filter and suuid not in self._services_filter:
                continue
            bsvc = BleakGATTService(svc, svc.handle, suuid)
            coll.add_service(bsvc)
            for ch in await self._peer.discover_characteristics(service=svc):
                props = [n for bit, n in _PROPS if ch.properties & bit]
                bch = BleakGATTCharacteristic(ch, ch.handle, _uuid_str(ch.uuid), props,  # type: ignore[arg-type]
                                              lambda: self.mtu_size - 3, bsvc)
                coll.add_characteristic(bch)
                for d in await self._peer.discover_descriptors(ch):
                    coll.add_descriptor(BleakGATTDescriptor(d, d.handle, _uuid_str(d.type), bch))
        return coll

    def _on_disconnection(self, connection: Connection, reason: int) -> None:
        if self._connection is not connection:
            return
        logger.debug("%s disconnected, reason 0x%02X", self.address, reason)
        self._connection = None
        self._peer = None
        self._subscribers.clear()
        self.services = None  # as BlueZ does: BleakClient.services raises until the next connect
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def _guard(self, aw: Any) -> Any:
        """Await a GATT operation; a disconnection meanwhile raises BleakError instead of hanging."""
        conn = self._connection
        if conn is None:
            raise BleakError("Not connected")
        try:
            return await conn.cancel_on_disconnection(aw)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._connection is not conn and not (task is not None and task.cancelling()):
                raise BleakError(f"{self.address} disconnected") from None
            raise
        except core.BaseBumbleError as e:
            raise BleakError(str(e)) from e

    async def disconnect(self) -> None:
        conn = self._connection
        if conn is None:
            return
        try:
            await conn.disconnect(hci.HCI_ErrorCode.REMOTE_USER_TERMINATED_CONNECTION_ERROR)
        except core.BaseBumbleError as e:
            logger.debug("disconnect: %s", e)
        self._on_disconnection(conn, hci.HCI_ErrorCode.CONNECTION_TERMINATED_BY_LOCAL_HOST_ERROR)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        logger.info("BumbleClient: pairing not supported by the virtual radio; ignored")

    async def unpair(self) -> None:
        logger.info("BumbleClient: unpairing not supported by the virtual radio; ignored")

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False,
                             **kwargs: Any) -> bytearray:
        return bytearray(await self._guard(self._gatt().read_value(characteristic.handle)))

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False,
                                   **kwargs: Any) -> bytearray:
        return bytearray(await self._guard(self._gatt().read_value(descriptor.handle)))

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any, response: bool) -> None:
        await self._guard(self._gatt().write_value(characteristic.handle, bytes(data), with_response=response))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        await self._guard(self._gatt().write_value(descriptor.handle, bytes(data), with_response=True))

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback,
                           **kwargs: Any) -> None:
        def on_value(value: bytes) -> None:
            callback(bytearray(value))
        old = self._subscribers.pop(characteristic.handle, None)
        gc = self._gatt()
        if old is not None:
            await self._guard(gc.unsubscribe(characteristic.obj, old))
        self._subscribers[characteristic.handle] = on_value
        await self._guard(gc.subscribe(characteristic.obj, on_value, prefer_notify=True))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        sub = self._subscribers.pop(characteristic.handle, None)
        await self._guard(self._gatt().unsubscribe(characteristic.obj, sub, force=sub is None))

    def _gatt(self) -> Any:
        if self._peer is None:
            raise BleakError("Not connected")
        return self._peer.gatt_client
