"""The real bleak API end to end over bumble virtual sensors (stridesync.sources.bumble_backend)."""

from __future__ import annotations

import asyncio
import time

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError
from bumble import gatt

from stridesync.sources.bumble_backend import (
    BumbleClient, BumbleScanner, VirtualPeripheral, VirtualRadio, get_radio)

SVC = "5e1f0001-7a3c-4b8e-9d2a-51de5a7c0001"
DATA = "5e1f0002-7a3c-4b8e-9d2a-51de5a7c0001"      # notify
CTRL = "5e1f0003-7a3c-4b8e-9d2a-51de5a7c0001"      # write + notify (command/response)
INFO = "5e1f0004-7a3c-4b8e-9d2a-51de5a7c0001"      # read
BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"
SERIAL = "00002a25-0000-1000-8000-00805f9b34fb"
P = gatt.Characteristic.Properties
RD, WR = gatt.Characteristic.READABLE, gatt.Characteristic.WRITEABLE


def run(coro, timeout=20.0):
    async def main():
        async with VirtualRadio() as radio:
            return await asyncio.wait_for(coro(radio), timeout)
    return asyncio.run(main())


class Sensor:
    """A minimal stride sensor: data notify, control write+notify (echo), info read, battery, serial."""

    def __init__(self, name: str, index: int):
        self.name, self.address = name, f"D0:00:00:00:00:{index:02X}"
        self.data = gatt.Characteristic(DATA, P.NOTIFY, RD, b"")
        self.writes: list[bytes] = []
        self.ctrl = gatt.Characteristic(CTRL, P.WRITE | P.NOTIFY, RD | WR,
                                        gatt.CharacteristicValue(write=self._on_write))
        self.info = gatt.Characteristic(INFO, P.READ, RD, b"fw=1.2.3;" + name.encode())
        self.services = [
            gatt.Service(SVC, [self.data, self.ctrl, self.info]),
            gatt.Service(gatt.GATT_BATTERY_SERVICE, [
                gatt.Characteristic(gatt.GATT_BATTERY_LEVEL_CHARACTERISTIC, P.READ | P.NOTIFY, RD, bytes([87]))]),
            gatt.Service(gatt.GATT_DEVICE_INFORMATION_SERVICE, [
                gatt.Characteristic(gatt.GATT_SERIAL_NUMBER_STRING_CHARACTERISTIC, P.READ, RD, f"SN-{index:04d}".encode())]),
        ]
        self.p: VirtualPeripheral | None = None

    def _on_write(self, connection, value: bytes) -> None:
        self.writes.append(bytes(value))
        if self.p is not None:  # answer on the control characteristic, like the firmware
            asyncio.ensure_future(self.p.device.notify_subscriber(connection, self.ctrl, b"ack:" + bytes(value)))

    async def add(self, radio: VirtualRadio, **kw) -> VirtualPeripheral:
        self.p = await radio.add_peripheral(self.name, self.address, services=self.services, service_uuids=[SVC],
                                            manufacturer_data={0xFFFF: b"\x01\x02"}, **kw)
        return self.p


async def find(name: str, timeout: float = 2.0):
    dev = await BleakScanner.find_device_by_filter(lambda d, ad: ad.local_name == name, timeout=timeout,
                                                   backend=BumbleScanner)
    assert dev is not None, name
    return dev


def test_discover_advertisement_data():
    async def body(radio):
        await Sensor("SS-L", 1).add(radio, rssi=-57)
        await Sensor("SS-R", 2).add(radio)
        await radio.add_peripheral("Other", "D0:00:00:00:00:99", service_uuids=["180d"])
        found = await BleakScanner.discover(0.4, return_adv=True, service_uuids=[SVC], backend=BumbleScanner)
        assert sorted(d.name for d, _ in found.values()) == ["SS-L", "SS-R"]
        dev, ad = found["D0:00:00:00:00:01"]
        assert dev.address == "D0:00:00:00:00:01" and ad.local_name == "SS-L"
        assert ad.service_uuids == [SVC] and ad.manufacturer_data == {0xFFFF: b"\x01\x02"}
        assert ad.rssi == -57 and found["D0:00:00:00:00:02"][1].rssi == -60
        everything = await BleakScanner.discover(0.3, backend=BumbleScanner)
        assert {d.name for d in everything} == {"SS-L", "SS-R", "Other"}
    run(body)


def test_detection_callback_and_context_manager():
    async def body(radio):
        await Sensor("SS-L", 1).add(radio)
        seen = []
        async with BleakScanner(lambda d, ad: seen.append((d.address, ad.local_name, ad.rssi)),
                                service_uuids=[SVC], backend=BumbleScanner) as scanner:
            await asyncio.sleep(0.35)
        assert len(seen) >= 2 and set(seen) == {("D0:00:00:00:00:01", "SS-L", -60)}
        assert [d.name for d in scanner.discovered_devices] == ["SS-L"]
        n = len(seen)
        await asyncio.sleep(0.3)
        assert len(seen) == n  # stopped
        assert not radio.central.is_scanning
    run(body)


def test_connect_gatt_read_write_notify_disconnect():
    async def body(radio):
        s = Sensor("SS-L", 1)
        p = await s.add(radio)
        dev = await find("SS-L")
        async with BleakClient(dev, timeout=2.0, backend=BumbleClient) as client:
            assert client.is_connected and client.mtu_size == 247
            assert client.services.get_service(SVC) is not None
            char = client.services.get_characteristic(DATA)
            assert "notify" in char.properties and char.max_write_without_response_size == 244
            assert "write" in client.services.get_characteristic(CTRL).properties
            assert await client.read_gatt_char(INFO) == bytearray(b"fw=1.2.3;SS-L")
            assert await client.read_gatt_char(BATTERY_LEVEL) == bytearray([87])
            assert await client.read_gatt_char(SERIAL) == bytearray(b"SN-0001")
            got, acks = [], []
            await client.start_notify(DATA, lambda sender, data: got.append((sender.uuid, data)))
            await client.start_notify(CTRL, lambda sender, data: acks.append(bytes(data)))
            payloads = [bytes([i]) * n for i, n in enumerate((244, 240, 20, 1))]
            for v in payloads:
                await p.notify(s.data, v)
            await client.write_gatt_char(CTRL, b"\x10start", response=True)
            await asyncio.sleep(0.05)
            assert [d for _, d in got] == payloads and all(isinstance(d, bytearray) for _, d in got)
            assert got[0][0] == DATA
            assert s.writes == [b"\x10start"] and acks == [b"ack:\x10start"]
            await client.stop_notify(DATA)
            await p.notify(s.data, b"late")
            await asyncio.sleep(0.05)
            assert len(got) == 4
        assert not client.is_connected
        await asyncio.sleep(0.05)
        assert not p.is_connected and p.is_advertising  # re-advertises after the central left
    run(body)


def test_peripheral_disconnect_callback_and_reconnect():
    async def body(radio):
        s = Sensor("SS-L", 1)
        p = await s.add(radio)
        dev = await find("SS-L")
        lost = asyncio.Event()
        client = BleakClient(dev, disconnected_callback=lambda c: lost.set(), timeout=2.0, backend=BumbleClient)
        await client.connect()
        got = []
        await client.start_notify(DATA, lambda _, d: got.append(d))
        await p.go_out_of_range()
        await asyncio.wait_for(lost.wait(), 1.0)
        assert not client.is_connected
        with pytest.raises(BleakError):
            await client.read_gatt_char(INFO)
        t0 = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):  # not advertising: times out cleanly
            await client.connect(timeout=0.3)
        assert time.monotonic() - t0 < 1.0
        assert radio.controller.pending_le_connection is None and not radio.central.is_le_connecting
        await p.come_into_range()
        lost.clear()
        await client.connect()  # same BleakClient reconnects
        assert client.is_connected and client.mtu_size == 247
        await client.start_notify(DATA, lambda _, d: got.append(d))
        await p.notify(s.data, bytes(240))
        await asyncio.sleep(0.02)
        assert got == [bytearray(240)]
        await radio.remove_peripheral(p)  # switched off: the central notices
        await asyncio.wait_for(lost.wait(), 1.0)
        assert not client.is_connected
    run(body)


def test_connect_timeout_unknown_device_then_connect_other():
    async def body(radio):
        s = Sensor("SS-L", 1)
        await s.add(radio)
        t0 = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await BleakClient("D0:00:00:00:00:42", timeout=0.2, backend=BumbleClient).connect()
        assert time.monotonic() - t0 < 0.8
        async with BleakClient("D0:00:00:00:00:01", timeout=1.0, backend=BumbleClient) as c:
            assert await c.read_gatt_char(SERIAL) == bytearray(b"SN-0001")
    run(body)


def test_four_sensors_concurrently():
    async def body(radio):
        sensors = [Sensor(f"SS-{i}", i) for i in range(1, 5)]
        for s in sensors:
            await s.add(radio)
        found = await BleakScanner.discover(0.3, return_adv=True, service_uuids=[SVC], backend=BumbleScanner)
        assert len(found) == 4
        clients, got = [], {s.address: [] for s in sensors}
        for s in sensors:  # connect serially
            c = BleakClient(found[s.address][0], timeout=2.0, backend=BumbleClient)
            await c.connect()
            await c.start_notify(DATA, lambda _, d, a=s.address: got[a].append(bytes(d)))
            clients.append(c)
        for k in range(5):
            await asyncio.gather(*(s.p.notify(s.data, bytes([k, i]) * 120) for i, s in enumerate(sensors)))
        await asyncio.sleep(0.05)
        for i, s in enumerate(sensors):
            assert got[s.address] == [bytes([k, i]) * 120 for k in range(5)]
        assert [await c.read_gatt_char(SERIAL) for c in clients] == [f"SN-{i:04d}".encode() for i in range(1, 5)]
        for c in clients:
            await c.disconnect()
        assert not radio.central.connections
    run(body)


def test_registry_and_explicit_radio():
    async def body():
        with pytest.raises(BleakError):
            get_radio()
        radio = VirtualRadio(central_address="C0:00:00:00:00:07")
        await radio.start()
        try:
            assert get_radio() is radio
            await Sensor("SS-L", 1).add(radio)
            found = await BleakScanner.discover(0.3, backend=BumbleScanner, radio=radio)
            assert [d.name for d in found] == ["SS-L"]
        finally:
            await radio.close()
        with pytest.raises(BleakError):
            get_radio()
        with pytest.raises(ValueError):
            await VirtualRadio(central_address="00:00:00:00:00:01").start()  # not random static
    asyncio.run(body())


def test_notification_cpu_budget():
    """4 sensors x 30 packets/s x 240 B: whole-process CPU (central + peripherals) well under 30 %."""
    async def body(radio):
        sensors = [Sensor(f"SS-{i}", i) for i in range(1, 5)]
        clients, count = [], [0]
        for s in sensors:
            await s.add(radio)
            c = BleakClient(s.address, timeout=2.0, backend=BumbleClient)
            await c.connect()
            await c.start_notify(DATA, lambda _, d: count.__setitem__(0, count[0] + len(d)))
            clients.append(c)

        async def stream(s, hz=30.0, seconds=2.0):
            t0 = loop.time()
            for k in range(int(hz * seconds)):
                await asyncio.sleep(max(0.0, t0 + k / hz - loop.time()))
                await s.p.notify(s.data, bytes(240))

        loop = asyncio.get_running_loop()
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.gather(*(stream(s) for s in sensors))
        await asyncio.sleep(0.02)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        assert count[0] == 4 * 60 * 240
        print(f"\nCPU {100 * cpu / wall:.1f}% of one core for 4x30 notif/s (wall {wall:.2f}s)")
        assert cpu / wall < 0.15
        for c in clients:
            await c.disconnect()
    run(body)


def test_link_hook_and_disconnect_during_gatt_operation():
    """A LocalLink subclass sees every ACL PDU (hook for a link model); a link lost mid-read raises."""
    from bumble.link import LocalLink

    class CountingLink(LocalLink):
        acl = 0

        def send_acl_data(self, *args):
            CountingLink.acl += 1
            return super().send_acl_data(*args)

    async def slow_read(connection):
        await asyncio.sleep(1.0)
        return b"never"

    async def body():
        async with VirtualRadio(link=CountingLink()) as radio:
            slow = gatt.Characteristic("5e1f00ff-7a3c-4b8e-9d2a-51de5a7c0001", P.READ, RD,
                                       gatt.CharacteristicValue(read=slow_read))
            p = await radio.add_peripheral("SS-X", "D0:00:00:00:00:05", services=[gatt.Service(SVC, [slow])])
            async with BleakClient("D0:00:00:00:00:05", timeout=1.0, backend=BumbleClient) as client:
                assert CountingLink.acl > 0 and client.mtu_size == 247
                asyncio.get_running_loop().call_later(0.1, lambda: asyncio.ensure_future(p.go_out_of_range()))
                t0 = time.monotonic()
                with pytest.raises(BleakError):
                    await client.read_gatt_char(slow.uuid)
                assert time.monotonic() - t0 < 0.5 and not client.is_connected
    asyncio.run(asyncio.wait_for(body(), 10))
