"""StrideSync sensor firmware for the Seeed XIAO nRF52840 Sense (MicroPython + aioble).

Board-facing glue only: the protocol, command handling, buffering and time keeping are the pure
modules in ``stridesync_fw`` (tested under CPython and MicroPython). This file wires them to the
on-board LSM6DS3TR-C over I2C, the LEDs, the battery ADC, flash and the radio.

Data path, left to right::

    IMU FIFO --(imu_task: timestamp, remap)--> RingBuffer --(notify_task: Packetizer)--> Data notify

Needs a MicroPython build for the nRF52840 with the standard ``bluetooth`` module (aioble runs on it);
see README.md for the caveat about the stock nrf port. Cannot run on CPython: only compiled there.
"""

import asyncio
import struct
import time

import bluetooth
import machine
from micropython import const

import aioble
from stridesync_fw import advert as A
from stridesync_fw import control as C
from stridesync_fw import packets as P
from stridesync_fw.ringbuf import RingBuffer
from stridesync_fw.timesync import Clock, FifoTimestamper

FW_MAJOR = const(1)
FW_MINOR = const(0)
CONFIG_PATH = "/stridesync.cfg"
READ_EVERY_MS = const(20)  # FIFO poll period: at 416 Hz that is ~9 samples, far below the FIFO's 341
MAX_LATENCY_US = const(60_000)  # a partial packet is sent once its first sample is this old
RING_SAMPLES = const(1024)  # ~5 s at 200 Hz of radio stall before the oldest samples are dropped

# ---- board: Seeed XIAO nRF52840 Sense (pin number = 32 × port + pin) ----------------------------
PIN_IMU_PWR = const(40)  # P1.08 powers the LSM6DS3TR-C
PIN_I2C_SDA = const(7)  # P0.07, internal I2C to the IMU
PIN_I2C_SCL = const(27)  # P0.27
PIN_LED_RED = const(26)  # P0.26, active low
PIN_LED_GREEN = const(30)  # P0.30, active low
PIN_LED_BLUE = const(6)  # P0.06, active low
PIN_VBAT_ENABLE = const(14)  # P0.14: drive low to connect the battery divider
PIN_VBAT_ADC = const(31)  # P0.31 = AIN7, VBAT through 1 MΩ / 510 kΩ
VBAT_DIVIDER = 1510 / 510

# ---- LSM6DS3TR-C registers (datasheet DocID 030071, §8-9) --------------------------------------
IMU_ADDR = const(0x6A)
WHO_AM_I = const(0x0F)  # reads 0x6A
FIFO_CTRL1 = const(0x06)
FIFO_CTRL2 = const(0x07)
FIFO_CTRL3 = const(0x08)
FIFO_CTRL4 = const(0x09)
FIFO_CTRL5 = const(0x0A)
CTRL1_XL = const(0x10)
CTRL2_G = const(0x11)
CTRL3_C = const(0x12)
FIFO_STATUS1 = const(0x3A)  # DIFF_FIFO[7:0]: unread 16-bit words
FIFO_STATUS2 = const(0x3B)  # WaterM, OVER_RUN (bit 6), FULL, EMPTY, DIFF_FIFO[10:8]
FIFO_STATUS3 = const(0x3C)  # FIFO_PATTERN[7:0]: which word comes next
FIFO_STATUS4 = const(0x3D)  # FIFO_PATTERN[9:8]
FIFO_DATA_OUT_L = const(0x3E)
FIFO_DATA_OUT_H = const(0x3F)
# ODR codes (bits 7:4 of CTRL1_XL / CTRL2_G, bits 6:3 of FIFO_CTRL5): the IMU's rates at or above 100 Hz
ODR_CODES = ((104, 0x4), (208, 0x5), (416, 0x6))
FS_XL = {2: 0b00, 4: 0b10, 8: 0b11, 16: 0b01}  # CTRL1_XL bits 3:2
FS_G = {125: 0b0010, 250: 0b0000, 500: 0b0100, 1000: 0b1000, 2000: 0b1100}  # CTRL2_G bits 3:0
FIFO_CONTINUOUS = const(0b110)


class Imu:
    """LSM6DS3TR-C in FIFO continuous mode; returns raw device-axis samples with their FIFO depth."""

    def __init__(self):
        self.pwr = machine.Pin(PIN_IMU_PWR, machine.Pin.OUT, value=1)
        time.sleep_ms(20)  # power-up time before the first I2C access
        try:
            self.i2c = machine.I2C(1, scl=machine.Pin(PIN_I2C_SCL), sda=machine.Pin(PIN_I2C_SDA))
        except (TypeError, ValueError):
            self.i2c = machine.SoftI2C(scl=machine.Pin(PIN_I2C_SCL), sda=machine.Pin(PIN_I2C_SDA),
                                       freq=400_000)
        if self._r8(WHO_AM_I) != 0x6A:
            raise OSError("LSM6DS3TR-C not found")
        self._w8(CTRL3_C, 0x01)  # SW_RESET
        time.sleep_ms(5)
        self._w8(CTRL3_C, 0x44)  # BDU + IF_INC
        self.words = 3  # 16-bit words per sample in the FIFO: 3 (acc) or 6 (gyro + acc)
        self.odr_hz = 208
        self._status = bytearray(4)
        self._chunk = bytearray(2 * 6 * 16)  # up to 16 samples per I2C transfer
        self._mv = memoryview(self._chunk)

    def _r8(self, reg):
        return self.i2c.readfrom_mem(IMU_ADDR, reg, 1)[0]

    def _w8(self, reg, value):
        self.i2c.writeto_mem(IMU_ADDR, reg, bytes((value,)))

    def configure(self, rate_hz, acc_range_g, gyro_range_dps):
        """Program ODR and full scales; FIFO stays in bypass (off) until ``start``.

        The IMU has no 100/200/400 Hz: it runs at the lowest of its rates (104, 208, 416 Hz) at or
        above ``rate_hz``, and the packets carry that real period (PROTOCOL §3-4).
        Returns the nominal sample period, µs.
        """
        odr, code = ODR_CODES[-1]
        for hz, c in ODR_CODES:
            if hz >= rate_hz:
                odr, code = hz, c
                break
        self.odr_hz = odr
        self._code = code
        self._w8(FIFO_CTRL5, 0)  # bypass: also empties the FIFO
        self._w8(CTRL1_XL, (code << 4) | (FS_XL[acc_range_g] << 2))
        if gyro_range_dps:
            self._w8(CTRL2_G, (code << 4) | FS_G[gyro_range_dps])
            self.words = 6
        else:
            self._w8(CTRL2_G, 0)  # gyroscope powered down
            self.words = 3
        return (1_000_000 + odr // 2) // odr

    def start(self):
        """Empty the FIFO and start continuous mode at the ODR (oldest samples overwritten if full)."""
        self._w8(FIFO_CTRL5, 0)
        self._w8(FIFO_CTRL1, 0)
        self._w8(FIFO_CTRL2, 0)
        self._w8(FIFO_CTRL3, ((1 if self.words == 6 else 0) << 3) | 1)  # no decimation
        self._w8(FIFO_CTRL4, 0)
        self._w8(FIFO_CTRL5, (self._code << 3) | FIFO_CONTINUOUS)

    def stop(self):
        self._w8(FIFO_CTRL5, 0)

    def status(self):
        """(whole samples waiting, overrun flag, pattern): one 4-byte read of FIFO_STATUS1..4."""
        s = self._status
        self.i2c.readfrom_mem_into(IMU_ADDR, FIFO_STATUS1, s)
        words = ((s[1] & 0x07) << 8) | s[0]
        pattern = ((s[3] & 0x03) << 8) | s[2]
        return words, bool(s[1] & 0x40), pattern

    def align(self, pattern):
        """Discard words until the next one starts a sample (after an overrun, or at start)."""
        skip = (self.words - pattern) % self.words
        if skip:
            self.i2c.readfrom_mem_into(IMU_ADDR, FIFO_DATA_OUT_L, self._mv[:2 * skip])
        return skip

    def read(self, count):
        """Yield ``count`` samples as a memoryview of int16-LE bytes each, oldest first.

        Relies on the FIFO_DATA_OUT_L/H address roll-back: a burst read from FIFO_DATA_OUT_L keeps
        returning successive FIFO words (as ST's own driver does).
        """
        size = 2 * self.words
        per = len(self._chunk) // size
        while count:
            k = per if count > per else count
            self.i2c.readfrom_mem_into(IMU_ADDR, FIFO_DATA_OUT_L, self._mv[:k * size])
            for i in range(k):
                yield self._mv[i * size:(i + 1) * size]
            count -= k


class Led:
    """RGB status LED: blue advertising, green streaming, blinking white for IDENTIFY, red error."""

    def __init__(self):
        self.pins = [machine.Pin(p, machine.Pin.OUT, value=1) for p in
                     (PIN_LED_RED, PIN_LED_GREEN, PIN_LED_BLUE)]
        self.color = (0, 0, 1)
        self.identify_until_ms = 0
        self.error = False

    def show(self, rgb):
        for pin, on in zip(self.pins, rgb):
            pin.value(0 if on else 1)  # active low

    async def run(self):
        phase = 0
        while True:
            if time.ticks_diff(self.identify_until_ms, time.ticks_ms()) > 0:
                self.show((1, 1, 1) if phase else (0, 0, 0))
            else:
                self.show((1, 0, 0) if self.error else self.color)
            phase ^= 1
            await asyncio.sleep_ms(150)


def battery_pct():
    """Battery level from the VBAT divider: linear 3.3 V → 0 %, 4.2 V → 100 % (LiPo, coarse)."""
    en = machine.Pin(PIN_VBAT_ENABLE, machine.Pin.OUT, value=0)
    try:
        adc = machine.ADC(machine.Pin(PIN_VBAT_ADC))
        raw = adc.read_u16() if hasattr(adc, "read_u16") else adc.value() << 4
        volts = raw / 65535 * 3.3 * VBAT_DIVIDER
    finally:
        en.init(machine.Pin.IN)  # disconnect the divider: it drains the battery
    pct = int((volts - 3.3) / 0.9 * 100)
    return 0 if pct < 0 else 100 if pct > 100 else pct


def device_serial():
    """8 hex digits from the chip's factory-programmed ID (FICR DEVICEID), stable across reflashes."""
    uid = machine.unique_id()
    return "".join("%02X" % b for b in uid[-4:])


# ---- GATT ----------------------------------------------------------------------------------------
_U = bluetooth.UUID
imu_service = aioble.Service(_U(P.IMU_SERVICE_UUID))
data_char = aioble.Characteristic(imu_service, _U(P.DATA_CHAR_UUID), notify=True)
control_char = aioble.Characteristic(imu_service, _U(P.CONTROL_CHAR_UUID), write=True, notify=True,
                                     capture=True)
config_char = aioble.Characteristic(imu_service, _U(P.CONFIG_CHAR_UUID), read=True)
battery_service = aioble.Service(_U(0x180F))
battery_char = aioble.Characteristic(battery_service, _U(0x2A19), read=True, notify=True)
dis_service = aioble.Service(_U(0x180A))
DIS = {}
for uuid16 in (0x2A29, 0x2A24, 0x2A25, 0x2A26, 0x2A27):
    DIS[uuid16] = aioble.Characteristic(dis_service, _U(uuid16), read=True)
aioble.register_services(imu_service, battery_service, dis_service)


class Sensor:
    """All run-time state: configuration, IMU, buffers and the current connection."""

    def __init__(self):
        self.clock = Clock()
        self.serial = device_serial()
        self.config = C.load_config(CONFIG_PATH, self.serial, FW_MAJOR, FW_MINOR)
        self.led = Led()
        self.imu = None
        try:
            self.imu = Imu()
            self.imu.configure(self.config.rate_hz, self.config.acc_range_g,
                               self.config.gyro_range_dps)
        except Exception as exc:  # noqa: BLE001 - keep advertising so the host can see the error
            print("IMU init failed:", exc)
            self.led.error = True
        self.connection = None
        self.ring = RingBuffer(RING_SAMPLES, 6)
        self.packetizer = None
        self.stamper = None
        self.battery = 100
        self.handler = C.ControlHandler(
            self.config, clock_us=self.clock.now_us, on_start=self.start, on_stop=self.stop,
            on_reconfigure=self.reconfigure, on_identify=self.identify, on_save=self.save,
            acc_ranges_g=tuple(FS_XL), gyro_ranges_dps=(0,) + tuple(FS_G))
        for uuid16, value in ((0x2A29, "StrideSync"), (0x2A24, "StrideSync IMU v1"),
                              (0x2A25, self.serial), (0x2A26, "%d.%d" % (FW_MAJOR, FW_MINOR)),
                              (0x2A27, "Seeed XIAO nRF52840 Sense")):
            DIS[uuid16].write(value.encode())
        config_char.write(self.config.to_bytes())

    # -- hooks of the ControlHandler (run inside handle(); raising answers status 6) --------------

    def _need_imu(self):
        if self.imu is None:
            raise OSError("no IMU")

    def reconfigure(self, cfg):
        self._need_imu()
        self.imu.configure(cfg.rate_hz, cfg.acc_range_g, cfg.gyro_range_dps)

    def start(self, cfg):
        self._need_imu()
        period_us = self.imu.configure(cfg.rate_hz, cfg.acc_range_g, cfg.gyro_range_dps)
        self.ring = RingBuffer(RING_SAMPLES, P.axes_of(cfg.fmt))
        self.stamper = FifoTimestamper(period_us)
        seq = self.packetizer.seq if self.packetizer else 0  # seq runs on across STOP/START
        self.packetizer = P.Packetizer(self.send_data, cfg.fmt, period_us, cfg.acc_range_g,
                                       cfg.gyro_range_dps, mtu=self.handler.mtu, seq=seq)
        self.imu.start()
        self.led.color = (0, 1, 0)

    def stop(self, cfg):
        if self.packetizer:
            self.packetizer.flush()
        if self.imu:
            self.imu.stop()
        self.ring.clear()
        self.led.color = (0, 0, 1)

    def identify(self, seconds):
        self.led.identify_until_ms = time.ticks_add(time.ticks_ms(), 1000 * seconds)

    def save(self, cfg):
        C.save_config(cfg, CONFIG_PATH)

    # -- data path ----------------------------------------------------------------------------------

    def send_data(self, packet):
        conn = self.connection
        if conn is None:
            return
        for _ in range(20):  # the controller's buffers are full: wait a connection event
            try:
                data_char.notify(conn, packet)
                return
            except OSError:
                time.sleep_ms(2)
        print("data notify dropped")  # the host sees the gap as a seq jump

    async def imu_task(self):
        """Poll the FIFO; stamp, remap and queue each sample (method: timesync.FifoTimestamper)."""
        body = [0] * 6
        dev = [0] * 6
        while True:
            await asyncio.sleep_ms(READ_EVERY_MS)
            if not self.config.streaming or self.imu is None:
                continue
            try:
                words, overrun, pattern = self.imu.status()
                t_read = self.clock.now_us()  # right after the depth was latched
                if pattern:
                    words -= self.imu.align(pattern)
                    overrun = True  # the block does not follow the last one
                depth = words // self.imu.words
                if depth == 0:
                    continue
                self.stamper.stamp(t_read, depth, overrun)
                gyro = self.imu.words == 6
                i = 0
                for raw in self.imu.read(depth):
                    v = struct.unpack("<hhhhhh" if gyro else "<hhh", raw)
                    if gyro:  # FIFO order: gyroscope data set first, then accelerometer
                        dev[0], dev[1], dev[2], dev[3], dev[4], dev[5] = v[3], v[4], v[5], v[0], v[1], v[2]
                    else:
                        dev[0], dev[1], dev[2] = v
                    P.apply_remap(self.config.remap, dev, 0, body, 0, 2 if gyro else 1)
                    self.ring.push(self.stamper.sample_time(i), body)
                    i += 1
                self.packetizer.period_us = self.stamper.period_us
            except OSError as exc:
                print("IMU read failed:", exc)
                self.led.error = True

    async def notify_task(self):
        """Move samples from the ring into packets; bound the latency of partial packets."""
        sample = [0] * 6
        while True:
            await asyncio.sleep_ms(5)
            pk = self.packetizer
            if not self.config.streaming or pk is None:
                continue
            while len(self.ring):
                t = self.ring.pop_into(sample)
                pk.push(t, sample)
            pk.flush_if_older(self.clock.now_us(), MAX_LATENCY_US)

    async def control_task(self):
        while True:
            conn, data = await control_char.written()
            now = self.clock.now_us()
            resp = self.handler.handle(data, now)
            config_char.write(self.config.to_bytes())
            try:
                control_char.notify(conn, resp)
            except OSError as exc:
                print("control notify failed:", exc)

    async def battery_task(self):
        while True:
            try:
                self.battery = battery_pct()
            except Exception as exc:  # noqa: BLE001 - a failed ADC read keeps the last value
                print("battery read failed:", exc)
            battery_char.write(bytes((self.battery,)), send_update=True)
            await asyncio.sleep(60)

    async def peripheral_task(self):
        """Advertise (PROTOCOL §1), serve one central at a time, stop streaming when it leaves."""
        aioble.config(mtu=247)
        while True:
            self.led.color = (0, 0, 1)
            resp = A.scan_response(self.config.role, self.battery, self.serial)
            async with await aioble.advertise(100_000, adv_data=A.adv_data(), resp_data=resp,
                                              connectable=True) as conn:
                self.connection = conn
                self.handler.mtu = P.DEFAULT_MTU
                try:
                    self.handler.mtu = await conn.exchange_mtu(247)
                except Exception:  # noqa: BLE001 - the central may have exchanged it already
                    self.handler.mtu = getattr(conn, "mtu", None) or P.DEFAULT_MTU
                await conn.disconnected(timeout_ms=None)
            self.connection = None
            if self.config.streaming:
                self.config.streaming = False
                self.stop(self.config)

    async def main(self):
        await asyncio.gather(self.led.run(), self.imu_task(), self.notify_task(),
                             self.control_task(), self.battery_task(), self.peripheral_task())


def run():
    asyncio.run(Sensor().main())


if __name__ == "__main__":
    run()
