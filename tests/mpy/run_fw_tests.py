"""Firmware tests that run unchanged under MicroPython and CPython.

Plain asserts, no pytest: under MicroPython (tests/mpy/run_mpy.mjs) this file is run whole and prints
``MPY-TESTS-OK`` last; under CPython, tests/test_firmware.py imports it and runs each ``test_*``
function as its own pytest case. So the pure firmware modules are judged by the same checks on both
interpreters, including the golden byte vectors shared with the host codec.
"""

import json
import struct
import sys

try:
    import stridesync_fw  # noqa: F401  (CPython: installed; MicroPython: see below)
except ImportError:
    sys.path.insert(0, "/lib/firmware_proto")  # where run_mpy.mjs copies firmware_proto/

from stridesync_fw import advert as A
from stridesync_fw import control as C
from stridesync_fw import packets as P
from stridesync_fw import ringbuf as R
from stridesync_fw import timesync as T


def _golden_path():
    candidates = ["/lib/firmware_proto/golden_vectors.json"]
    try:
        here = __file__.replace("\\", "/").rsplit("/", 1)[0]
        candidates.insert(0, here + "/../../firmware_proto/golden_vectors.json")
    except NameError:  # MicroPython runs this file as a string: no __file__
        pass
    for path in candidates:
        try:
            open(path).close()
            return path
        except OSError:
            continue
    raise OSError("golden_vectors.json not found")


def _golden():
    with open(_golden_path()) as f:
        return json.load(f)


_CASES = None


def golden(kind, malformed=False):
    global _CASES
    if _CASES is None:
        _CASES = _golden()
    return [c for c in _CASES if c["kind"] == kind and bool(c.get("expect_error")) == malformed]


def hexs(data):
    """``data.hex()`` as a str: MicroPython 1.27 returns b'' (bytes) for empty input."""
    h = bytes(data).hex()
    return h if isinstance(h, str) else h.decode()


def raises(exc, fn, *args):
    try:
        fn(*args)
    except exc:
        return True
    return False


class Lcg:
    """Deterministic pseudo-random numbers, the same on both interpreters."""

    def __init__(self, seed):
        self.x = seed & 0xFFFFFFFF

    def next(self):
        self.x = (self.x * 1103515245 + 12345) & 0x7FFFFFFF
        return self.x

    def below(self, n):
        return self.next() % n

    def raw16(self):
        return self.below(65536) - 32768


# ---- golden vectors -----------------------------------------------------------------------------

def test_golden_file_covers_everything():
    kinds = {}
    for c in _golden():
        kinds[c["kind"]] = kinds.get(c["kind"], 0) + 1
        assert "name" in c and "hex" in c
    for k in ("data", "command", "response", "config", "advert"):
        assert kinds.get(k, 0) >= 3, k
    statuses = sorted(set(c["fields"]["status"] for c in golden("response")))
    assert statuses == list(P.STATUSES), statuses
    opcodes = sorted(set(c["fields"]["opcode"] for c in golden("command")))
    assert opcodes == list(P.OPCODES), opcodes
    fmts = set(c["fields"]["fmt"] for c in golden("data"))
    assert fmts == {0, 1}


def test_golden_data_both_ways():
    for c in golden("data"):
        f = c["fields"]
        flat = [v for s in f["samples"] for v in s]
        got = P.encode_data(f["seq"], f["t0_us"], f["period_us"], f["fmt"], f["acc_range_g"],
                            f["gyro_range_dps"], flat)
        assert hexs(got) == c["hex"], c["name"]
        d = P.decode_data(bytes.fromhex(c["hex"]))
        assert d["samples"] == flat and d["seq"] == f["seq"] and d["t0_us"] == f["t0_us"], c["name"]
        if "mtu" in f:
            assert len(f["samples"]) == P.max_samples(f["mtu"], f["fmt"]), c["name"]
            assert len(got) <= f["mtu"] - 3


def test_golden_data_malformed_rejected():
    for c in golden("data", malformed=True):
        assert raises(ValueError, P.decode_data, bytes.fromhex(c["hex"])), c["name"]


def _rig_handler(rig):
    cfg = C.Config.from_bytes(bytes.fromhex(rig["config_hex"]))

    def boom(*_):
        raise OSError("i2c")
    hook = boom if rig["fail_hooks"] else None
    return C.ControlHandler(cfg, clock_us=lambda: rig["t_tx"], mtu=rig["mtu"],
                            acc_ranges_g=tuple(rig["acc_ranges_g"]),
                            gyro_ranges_dps=tuple(rig["gyro_ranges_dps"]), on_start=hook,
                            on_identify=hook)


def test_golden_responses_replayed_through_handler():
    cases = golden("response")
    assert len(cases) >= 15
    for c in cases:
        h = _rig_handler(c["rig"])
        got = h.handle(bytes.fromhex(c["command_hex"]), c["rig"]["t_rx"])
        assert hexs(got) == c["hex"], c["name"]
        f = c["fields"]
        assert got[0] == f["opcode"] | 0x80 and got[1] == f["token"] and got[2] == f["status"]
        assert hexs(got[3:]) == f["payload"]


def test_golden_commands_accepted():
    for c in golden("command"):
        f = c["fields"]
        cmd = bytes.fromhex(c["hex"])
        assert cmd[0] == f["opcode"] and cmd[1] == f["token"] and hexs(cmd[2:]) == f["payload"]
        h = C.ControlHandler(C.Config(serial="T1"))
        assert h.handle(cmd, 0)[2] == P.ST_OK, c["name"]


def test_golden_malformed_commands_get_a_status():
    for c in golden("command", malformed=True):
        h = C.ControlHandler(C.Config(serial="T1"))
        resp = h.handle(bytes.fromhex(c["hex"]), 0)
        assert len(resp) == 3 and resp[0] & 0x80 and resp[2] in (P.ST_BAD_LENGTH,
                                                                P.ST_UNKNOWN_OPCODE), c["name"]


def test_golden_config_both_ways():
    for c in golden("config"):
        f = c["fields"]
        cfg = C.Config(serial=f["serial"], role=f["role_code"], remap=bytes.fromhex(f["remap"]),
                       rate_hz=f["rate_hz"], acc_range_g=f["acc_range_g"],
                       gyro_range_dps=f["gyro_range_dps"], streaming=f["streaming"],
                       fw_major=f["fw_major"], fw_minor=f["fw_minor"])
        assert cfg.fmt == f["fmt"]
        assert hexs(cfg.to_bytes()) == c["hex"], c["name"]
        back = C.Config.from_bytes(bytes.fromhex(c["hex"]))
        assert hexs(back.to_bytes()) == c["hex"] and back.serial_str == f["serial"]
    for c in golden("config", malformed=True):
        assert raises(ValueError, C.Config.from_bytes, bytes.fromhex(c["hex"])), c["name"]


def test_golden_advert():
    for c in golden("advert"):
        f = c["fields"]
        got = A.manufacturer_payload(f["role_code"], f["battery_pct"], f["serial"])
        assert hexs(got) == c["hex"], c["name"]
        assert A.device_name(f["serial"]) == f["name"]


# ---- hand-checked bytes (written from PROTOCOL.md, not from the encoder) ---------------------------

def test_hand_checked_data_packet():
    got = P.encode_data(0x0102, 0x1122334455667788, 5000, 0, 16, 0, [1, -2, 0x7FFF])
    want = (b"\x01\x00" b"\x02\x01" b"\x88\x77\x66\x55\x44\x33\x22\x11" b"\x88\x13" b"\x01"
            b"\x10" b"\x00\x00" b"\x01\x00" b"\xfe\xff" b"\xff\x7f")
    assert got == want


def test_hand_checked_time_sync():
    h = C.ControlHandler(C.Config(serial="X"), clock_us=lambda: 0x0300)
    got = h.handle(b"\x06\x09" + b"\x01\x00\x00\x00\x00\x00\x00\x00", 0x0200)
    assert got == (b"\x86\x09\x00" b"\x01\x00\x00\x00\x00\x00\x00\x00"
                   b"\x00\x02\x00\x00\x00\x00\x00\x00" b"\x00\x03\x00\x00\x00\x00\x00\x00")


def test_hand_checked_config_record():
    cfg = C.Config(serial="AB12", role=2, remap=b"\x00\x01\x02", rate_hz=200, acc_range_g=16,
                   gyro_range_dps=500, fw_major=1, fw_minor=3)
    assert cfg.to_bytes() == (b"\x01\x02\x00\x01\x02\xc8\x00\x10\xf4\x01\x01\x00"
                              b"AB12\x00\x00\x00\x00\x01\x03")


def test_advertising_fits_legacy_payloads():
    adv = A.adv_data()
    # flags, then the 128-bit UUID little-endian: 5a1f0001-... reversed
    assert adv[:3] == b"\x02\x01\x06" and adv[3:5] == b"\x11\x07"
    assert adv[5:] == bytes(reversed(bytes.fromhex("5a1f00017e574d1a9c6b57a1de5c0de0")))
    for serial in ("A1B2C3D4", "1", "ZZZZZZZZ"):
        rsp = A.scan_response(4, 100, serial)
        assert len(adv) <= 31 and len(rsp) <= 31
        assert rsp[:4] == b"\x0e\xff\xff\xff"
        assert rsp[4:15] == A.manufacturer_payload(4, 100, serial)
        assert rsp[16] == 0x09 and rsp[17:] == A.device_name(serial).encode()
    assert A.device_name("A1B2C3D4") == "StrideSyncC3D4"


# ---- packets and packetizer ---------------------------------------------------------------------

def test_max_samples():
    assert P.max_samples(247, 0) == 37 and P.max_samples(247, 1) == 18
    assert P.max_samples(23, 0) == 0 and P.max_samples(23, 1) == 0
    assert P.max_samples(27, 0) == 1 and P.max_samples(32, 1) == 0 and P.max_samples(33, 1) == 1
    assert P.max_samples(517, 0) == 82 and P.max_samples(10000, 0) == 255
    assert P.sample_size(0) == 6 and P.sample_size(1) == 12
    assert raises(ValueError, P.sample_size, 2)


def test_encode_rejects_bad_fields():
    ok = [1, 2, 3]
    assert raises(ValueError, P.encode_data, 65536, 0, 5000, 0, 16, 0, ok)
    assert raises(ValueError, P.encode_data, 0, -1, 5000, 0, 16, 0, ok)
    assert raises(ValueError, P.encode_data, 0, 0, 0, 0, 16, 0, ok)
    assert raises(ValueError, P.encode_data, 0, 0, 5000, 0, 3, 0, ok)
    assert raises(ValueError, P.encode_data, 0, 0, 5000, 0, 16, 250, ok)
    assert raises(ValueError, P.encode_data, 0, 0, 5000, 1, 16, 0, ok + ok)
    assert raises(ValueError, P.encode_data, 0, 0, 5000, 0, 16, 0, [1, 2])
    assert raises(ValueError, P.encode_data, 0, 0, 5000, 0, 16, 0, [])
    assert raises(ValueError, P.encode_data, 0, 0, 5000, 0, 16, 0, [1, 2, 32768])
    assert raises(ValueError, P.encode_data, 0, 0, 5000, 0, 16, 0, [0] * 3 * 256)


def _stream(pk, rng, count, t0, period, axes, jitter=0):
    sent = []
    t = t0
    for _ in range(count):
        raw = [rng.raw16() for _ in range(axes)]
        j = rng.below(2 * jitter + 1) - jitter if jitter else 0
        pk.push(t + j, raw)
        sent.append((t + j, raw))
        t += period
    return sent


def test_packetizer_sizes_to_mtu_and_continues_t0():
    for mtu, fmt, gyro in ((247, 0, 0), (247, 1, 2000), (27, 0, 0), (100, 1, 250)):
        out = []
        pk = P.Packetizer(out.append, fmt, 5000, 16, gyro, mtu=mtu, seq=10)
        axes = P.axes_of(fmt)
        sent = _stream(pk, Lcg(mtu), 200, 100_000, 5000, axes, jitter=1200)
        pk.flush()
        n_max = P.max_samples(mtu, fmt)
        flat = [v for _, raw in sent for v in raw]
        got = []
        expect_t0 = 100_000
        for i, packet in enumerate(out):
            d = P.decode_data(packet)
            n = len(d["samples"]) // axes
            assert len(packet) <= mtu - 3
            assert n == n_max or i == len(out) - 1
            assert d["seq"] == 10 + i and d["period_us"] == 5000
            assert d["t0_us"] == sent[len(got) // axes][0]  # the first sample's own time
            assert abs(d["t0_us"] - expect_t0) <= 1200  # jitter spread < half a period: no new packet
            expect_t0 += n * 5000
            got.extend(d["samples"])
        assert got == flat and pk.gaps == 0
    assert raises(ValueError, P.Packetizer, lambda p: None, 0, 5000, 16, 0, 23)


def test_packetizer_seq_wraps():
    out = []
    pk = P.Packetizer(out.append, 0, 5000, 16, 0, mtu=27, seq=65534)
    for k in range(4):
        pk.push(k * 5000, [k, k, k])
    assert [P.decode_data(p)["seq"] for p in out] == [65534, 65535, 0, 1]


def test_packetizer_gap_opens_packet_with_true_t0():
    out = []
    pk = P.Packetizer(out.append, 0, 5000, 16, 0, mtu=247)
    for k in range(5):
        pk.push(100_000 + k * 5000, [k, 0, 0])
    for k in range(3):  # a FIFO overrun lost 7 samples: the next one is at its true time
        pk.push(100_000 + (12 + k) * 5000, [100 + k, 0, 0])
    pk.flush()
    a, b = [P.decode_data(p) for p in out]
    assert a["seq"] == 0 and b["seq"] == 1  # no packet lost on the radio
    assert a["t0_us"] == 100_000 and len(a["samples"]) == 15
    assert b["t0_us"] == 160_000 and b["samples"][::3] == [100, 101, 102]
    assert pk.gaps == 1
    out2 = []
    pk2 = P.Packetizer(out2.append, 0, 5000, 16, 0)
    pk2.push(50_000, [1, 1, 1])
    pk2.push(50_000 + 5000 - 2600, [2, 2, 2])  # earlier than half a period: also a new packet
    pk2.flush()
    assert len(out2) == 2 and pk2.gaps == 1


def test_packetizer_latency_flush_and_period_change():
    out = []
    pk = P.Packetizer(out.append, 1, 5000, 8, 500)
    pk.push(0, [1, 2, 3, 4, 5, 6])
    pk.period_us = 4990  # estimate changed: applies from the next packet
    pk.push(5000, [1, 2, 3, 4, 5, 6])
    assert pk.pending == 2 and pk.pending_t0_us == 0
    pk.flush_if_older(49_999, 50_000)
    assert out == []
    pk.flush_if_older(50_000, 50_000)
    assert len(out) == 1 and pk.pending == 0 and pk.pending_t0_us is None
    pk.push(10_000, [0] * 6)
    pk.flush()
    pk.flush()  # nothing pending: no packet
    d0, d1 = P.decode_data(out[0]), P.decode_data(out[1])
    assert d0["period_us"] == 5000 and d1["period_us"] == 4990 and len(out) == 2


# ---- remap and scaling --------------------------------------------------------------------------

def test_remap_validity_is_the_24_rotations():
    values = (0, 1, 2, 3, 0x80, 0x81, 0x82, 0x04)
    valid = 0
    for a in values:
        for b in values:
            for c in values:
                if P.remap_valid(bytes((a, b, c))):
                    valid += 1
    assert valid == 24
    assert P.remap_valid(b"\x00\x01\x02") and P.remap_valid(b"\x01\x80\x02")
    assert not P.remap_valid(b"\x80\x01\x02")  # a mirror
    assert not P.remap_valid(b"\x00\x01") and not P.remap_valid(b"\x00\x00\x02")
    assert not P.remap_valid(b"\x40\x01\x02")


def test_apply_remap_and_saturation():
    dev = [10, -20, -32768, 1, 2, 3]
    out = [0] * 6
    P.apply_remap(b"\x02\x80\x81", dev, 0, out, 0, triples=2)
    assert out == [-32768, -10, 20, 3, -1, -2]
    out = [0] * 3
    P.apply_remap(b"\x82\x00\x81", dev, 0, out, 0)
    assert out == [32767, 10, 20]  # -(-32768) saturates
    assert P.scale_to_raw(1.0, 16) == 2048 and P.scale_to_raw(-1.0, 2) == -16384
    assert P.scale_to_raw(100.0, 16) == 32767 and P.scale_to_raw(-100.0, 16) == -32768


# ---- control ------------------------------------------------------------------------------------

class Hooks:
    def __init__(self):
        self.calls = []
        self.fail = ()

    def hook(self, name):
        def fn(*args):
            self.calls.append(name)
            if name in self.fail:
                raise OSError(name)
        return fn


def _handler(**kw):
    hooks = Hooks()
    h = C.ControlHandler(C.Config(serial="A1B2C3D4"), clock_us=lambda: 777,
                         on_start=hooks.hook("start"), on_stop=hooks.hook("stop"),
                         on_reconfigure=hooks.hook("reconfigure"), on_identify=hooks.hook("identify"),
                         on_save=hooks.hook("save"), acc_ranges_g=(2, 4, 8, 16),
                         gyro_ranges_dps=(0, 125, 250, 500, 1000, 2000), **kw)
    return h, hooks


def test_control_every_opcode():
    h, hooks = _handler()
    cfg = h.config
    assert h.handle(b"\x03\x01\x90\x01", 5) == b"\x83\x01\x00" and cfg.rate_hz == 400
    assert h.handle(b"\x04\x02\x08\xf4\x01", 5) == b"\x84\x02\x00"
    assert cfg.acc_range_g == 8 and cfg.gyro_range_dps == 500 and cfg.fmt == 1
    assert h.handle(b"\x05\x03\x03\x01\x80\x02", 5) == b"\x85\x03\x00"
    assert cfg.role == 3 and cfg.remap == b"\x01\x80\x02"
    assert h.handle(b"\x07\x04\x03", 5) == b"\x87\x04\x00"
    resp = h.handle(b"\x08\x05", 5)
    assert resp[:3] == b"\x88\x05\x00" and resp[3:] == cfg.to_bytes() and len(resp) == 25
    assert h.handle(b"\x01\x06", 5) == b"\x81\x06\x00" and cfg.streaming
    assert h.handle(b"\x01\x07", 5) == b"\x81\x07\x00"  # START twice: still OK, no restart
    assert C.Config.from_bytes(h.handle(b"\x08\x08", 5)[3:]).streaming
    resp = h.handle(b"\x06\x09" + struct.pack("<Q", 123), 456)
    assert struct.unpack("<QQQ", resp[3:]) == (123, 456, 777)
    assert h.handle(b"\x02\x0a", 5) == b"\x82\x0a\x00" and not cfg.streaming
    assert h.handle(b"\x02\x0b", 5) == b"\x82\x0b\x00"  # STOP while stopped: OK
    assert hooks.calls == ["reconfigure", "save", "reconfigure", "save", "save", "identify",
                           "start", "stop"]


def test_control_busy_while_streaming():
    h, hooks = _handler()
    h.handle(b"\x01\x00", 0)
    before = h.config.to_bytes()
    assert h.handle(b"\x03\x01\xc8\x00", 0)[2] == P.ST_BUSY
    assert h.handle(b"\x04\x01\x04\x00\x00", 0)[2] == P.ST_BUSY
    assert h.handle(b"\x05\x01\x01\x00\x01\x02", 0)[2] == P.ST_BUSY
    assert h.handle(b"\x03\x01\x00\x00", 0)[2] == P.ST_BAD_VALUE  # values are checked first
    assert h.config.to_bytes() == before
    assert h.handle(b"\x07\x01\x01", 0)[2] == P.ST_OK  # IDENTIFY and TIME_SYNC still work
    assert h.handle(b"\x06\x01" + bytes(8), 0)[2] == P.ST_OK


def test_control_every_malformed_input():
    h, hooks = _handler()
    before = h.config.to_bytes()
    cases = [
        (b"", b"\x80\x00\x01"), (b"\x05", b"\x85\x00\x01"), (b"\x00\x01", b"\x80\x01\x03"),
        (b"\x09\x01", b"\x89\x01\x03"), (b"\x7f\x02\x00", b"\xff\x02\x03"),
        (b"\xff\x02", b"\xff\x02\x03"),
        (b"\x01\x01\x00", b"\x81\x01\x01"), (b"\x02\x01\x00", b"\x82\x01\x01"),
        (b"\x03\x01\xc8", b"\x83\x01\x01"), (b"\x03\x01\xc8\x00\x00", b"\x83\x01\x01"),
        (b"\x04\x01\x10\x00", b"\x84\x01\x01"), (b"\x05\x01\x01\x00\x01", b"\x85\x01\x01"),
        (b"\x06\x01" + bytes(7), b"\x86\x01\x01"), (b"\x07\x01", b"\x87\x01\x01"),
        (b"\x08\x01\x00", b"\x88\x01\x01"),
        (b"\x03\x01\x63\x00", b"\x83\x01\x02"), (b"\x03\x01\x91\x01", b"\x83\x01\x02"),
        (b"\x04\x01\x20\x00\x00", b"\x84\x01\x02"),  # 32 g: not on this IMU
        (b"\x04\x01\x03\x00\x00", b"\x84\x01\x02"), (b"\x04\x01\x10\xa0\x0f", b"\x84\x01\x02"),
        (b"\x05\x01\x05\x00\x01\x02", b"\x85\x01\x02"), (b"\x05\x01\x01\x00\x00\x02", b"\x85\x01\x02"),
        (b"\x05\x01\x01\x80\x01\x02", b"\x85\x01\x02"), (b"\x05\x01\x01\x03\x01\x02", b"\x85\x01\x02"),
        (b"\x05\x01\x01\x10\x01\x02", b"\x85\x01\x02"),
    ]
    for cmd, want in cases:
        got = h.handle(cmd, 0)
        assert got == want, (cmd, got, want)
    assert h.config.to_bytes() == before and hooks.calls == []


def test_control_mtu_and_hook_failures():
    h, hooks = _handler(mtu=23)
    assert h.handle(b"\x01\x01", 0) == b"\x81\x01\x05" and not h.config.streaming
    assert h.handle(b"\x06\x02" + bytes(8), 0) == b"\x86\x02\x05"  # 27 bytes do not fit in 20
    assert h.handle(b"\x08\x03", 0) == b"\x88\x03\x05"
    h.mtu = 27
    assert h.handle(b"\x01\x04", 0)[2] == P.ST_OK  # one accelerometer sample fits
    h.handle(b"\x02\x00", 0)
    h.handle(b"\x04\x00\x10\xfa\x00", 0)  # gyroscope on: 12-byte samples no longer fit
    assert h.handle(b"\x01\x05", 0)[2] == P.ST_MTU_TOO_SMALL
    h, hooks = _handler()
    hooks.fail = ("start", "save", "identify")
    assert h.handle(b"\x01\x01", 0)[2] == P.ST_SENSOR_ERROR and not h.config.streaming
    assert h.handle(b"\x05\x01\x02\x00\x01\x02", 0)[2] == P.ST_SENSOR_ERROR
    assert h.config.role == 0  # reverted: the flash write failed
    assert h.handle(b"\x03\x01\x64\x00", 0)[2] == P.ST_SENSOR_ERROR and h.config.rate_hz == 200
    assert h.handle(b"\x07\x01\x01", 0)[2] == P.ST_SENSOR_ERROR


def test_control_never_raises_on_random_bytes():
    h, hooks = _handler(mtu=40)
    rng = Lcg(7)
    for i in range(1500):
        n = rng.below(12)
        data = bytes(rng.below(256) if k or rng.below(3) else rng.below(10) for k in range(n))
        resp = h.handle(data, i)
        assert len(resp) >= 3 and resp[0] & 0x80 and resp[2] in P.STATUSES
        assert len(resp) <= 37
        if resp[2] != P.ST_OK:
            assert len(resp) == 3
        assert C.Config.from_bytes(h.config.to_bytes()).to_bytes() == h.config.to_bytes()


# ---- flash --------------------------------------------------------------------------------------

def _tmp_path(name):
    try:
        import tempfile
        return tempfile.mkdtemp() + "/" + name
    except ImportError:  # MicroPython: the wasm file system's root is writable
        return "/" + name


def test_config_flash_round_trip():
    import os
    path = _tmp_path("stridesync.cfg")
    cfg = C.Config(serial="A1B2C3D4", role=4, remap=b"\x01\x80\x02", rate_hz=100, acc_range_g=8,
                   gyro_range_dps=1000, streaming=True)
    C.save_config(cfg, path)
    assert cfg.streaming  # saving does not change the live config
    back = C.load_config(path, "A1B2C3D4", 1, 2)
    assert (back.role, back.remap, back.rate_hz, back.acc_range_g, back.gyro_range_dps) == (
        4, b"\x01\x80\x02", 100, 8, 1000)
    assert not back.streaming and back.fw_minor == 2  # boots stopped; version from the device
    names = os.listdir(path.rsplit("/", 1)[0] or "/")
    assert "stridesync.cfg.tmp" not in names
    cfg.role = 1
    C.save_config(cfg, path)  # overwrite through rename
    assert C.load_config(path, "A1B2C3D4", 1, 0).role == 1
    with open(path, "wb") as f:
        f.write(b"\x01garbage")
    fresh = C.load_config(path, "NEW1", 3, 4)
    assert fresh.role == 0 and fresh.serial_str == "NEW1" and fresh.fw_major == 3
    assert C.load_config(path + ".missing", "S", 1, 0).remap == b"\x00\x01\x02"


# ---- ring buffer --------------------------------------------------------------------------------

def test_ringbuf_order_and_overflow():
    rb = R.RingBuffer(4, 3)
    out = [0, 0, 0]
    assert rb.pop_into(out) is None and len(rb) == 0
    for k in range(6):
        rb.push(1000 * k + (1 << 40), [k, -k, 7], 0)
    assert len(rb) == 4 and rb.overflows == 2
    times = []
    while len(rb):
        times.append(rb.pop_into(out))
        assert out == [(times[-1] - (1 << 40)) // 1000, -((times[-1] - (1 << 40)) // 1000), 7]
    assert times == [(1 << 40) + 1000 * k for k in range(2, 6)]
    rng = Lcg(3)  # interleaved use keeps FIFO order across wrap-around
    rb = R.RingBuffer(5, 6)
    nxt = 0
    want = 0
    buf = [0] * 12
    for _ in range(300):
        for _ in range(rng.below(5)):  # pushes outpace pops: the ring overflows now and then
            rb.push(nxt, [nxt % 100] * 6)
            nxt += 1
        for _ in range(rng.below(4)):
            t = rb.pop_into(buf, 6)
            if t is None:
                break
            assert t >= want and buf[6:] == [t % 100] * 6
            want = t + 1
    assert rb.overflows > 0
    rb.clear()
    assert len(rb) == 0
    assert raises(ValueError, R.RingBuffer, 0, 3)


# ---- clock and timestamps -----------------------------------------------------------------------

def test_clock_extends_wrapping_ticks():
    for period in (1 << 30, 1 << 8):
        state = [period - 300]

        def ticks():
            return state[0] % period
        clk = T.Clock(ticks, period=period)
        start = clk.now_us()
        total = 0
        rng = Lcg(period)
        for _ in range(2000):
            step = rng.below(period // 2)  # called at least once per period
            state[0] += step
            total += step
            assert clk.now_us() - start == total
        assert total > 10 * period  # it really wrapped many times
    clk = T.Clock()  # the platform's own ticks
    a = clk.now_us()
    b = clk.now_us()
    assert b >= a


def test_fifo_timestamper_tracks_rate_error_and_jitter():
    rng = Lcg(11)
    nominal = 5000
    true_period = 5100  # IMU oscillator 2 % slow
    ts = T.FifoTimestamper(nominal)
    t_true0 = 3_000_000
    k = 0  # index of the next sample in the IMU's FIFO
    worst = 0
    for read in range(400):
        t_read = t_true0 + (k + 3 + rng.below(3)) * true_period + rng.below(true_period)
        # samples taken by t_read: all with index < (t_read - t_true0) // true_period + 1
        depth = (t_read - t_true0) // true_period + 1 - k
        first = ts.stamp(t_read, depth)
        for i in range(depth):
            err = ts.sample_time(i) - (t_true0 + (k + i) * true_period)
            if read > 150:
                worst = max(worst, abs(err))
        k += depth
    assert worst < true_period // 3, worst
    assert abs(ts.period_us - true_period) <= 15, ts.period_us
    assert ts.reanchors == 1
    # an overrun re-anchors on the read time
    first = ts.stamp(t_true0 + (k + 100) * true_period + 2550, 5, overrun=True)
    assert ts.reanchors == 2 and abs(first - (t_true0 + (k + 96) * true_period)) <= true_period
    assert raises(ValueError, ts.stamp, 0, 0)


def run_all():
    """Run every test_* function in this module; print the sentinel only if all passed."""
    names = sorted(n for n in globals() if n.startswith("test_"))
    for name in names:
        globals()[name]()
        print("ok", name)
    print("micropython: all %d firmware tests passed" % len(names))
    print("MPY-TESTS-OK")


if sys.implementation.name == "micropython":
    run_all()
