"""Host codec (stridesync.protocol) against the golden vectors, the firmware encoder, and fuzzing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stridesync.errors import StrideSyncError
from stridesync.model import Role
from stridesync.protocol import (Advert, Command, ConfigRecord, DataPacket, Opcode, ProtocolError,
                                 Response, Status, max_samples, remap_matrix, role_from_code,
                                 role_to_code)
from stridesync_fw import packets as FP

GOLDEN = json.loads((Path(__file__).resolve().parent.parent / "firmware_proto" /
                     "golden_vectors.json").read_text())


def cases(kind, malformed=False):
    out = [c for c in GOLDEN if c["kind"] == kind and bool(c.get("expect_error")) == malformed]
    assert out, kind
    return [pytest.param(c, id=c["name"]) for c in out]


DECODERS = {"data": DataPacket, "command": Command, "response": Response, "config": ConfigRecord,
            "advert": Advert}


# ---- golden vectors, both ways ------------------------------------------------------------------

@pytest.mark.parametrize("case", cases("data"))
def test_golden_data(case):
    f = case["fields"]
    pkt = DataPacket.from_bytes(bytes.fromhex(case["hex"]))
    assert (pkt.version, pkt.fmt, pkt.seq, pkt.t0_us, pkt.period_us, pkt.acc_range_g,
            pkt.gyro_range_dps) == (f["version"], f["fmt"], f["seq"], f["t0_us"], f["period_us"],
                                    f["acc_range_g"], f["gyro_range_dps"])
    assert pkt.raw.dtype == np.int16 and pkt.raw.tolist() == f["samples"]
    built = DataPacket(seq=f["seq"], t0_us=f["t0_us"], period_us=f["period_us"],
                       acc_range_g=f["acc_range_g"], gyro_range_dps=f["gyro_range_dps"],
                       raw=np.array(f["samples"]), fmt=f["fmt"])
    assert bytes(built).hex() == case["hex"] and built == pkt
    if "mtu" in f:
        assert pkt.n == max_samples(f["mtu"], f["fmt"])


@pytest.mark.parametrize("case", cases("command"))
def test_golden_command(case):
    f = case["fields"]
    cmd = Command.from_bytes(bytes.fromhex(case["hex"]))
    assert (cmd.opcode, cmd.token, cmd.payload.hex()) == (f["opcode"], f["token"], f["payload"])
    assert cmd.args() == f["args"]
    assert bytes(cmd).hex() == case["hex"]
    builder = getattr(Command, Opcode(f["opcode"]).name.lower())
    args = dict(f["args"])
    if "role_code" in args:
        args = {"role": role_from_code(args["role_code"]), "remap": bytes.fromhex(args["remap"])}
    assert bytes(builder(f["token"], **args)).hex() == case["hex"]


@pytest.mark.parametrize("case", cases("response"))
def test_golden_response(case):
    f = case["fields"]
    resp = Response.from_bytes(bytes.fromhex(case["hex"]))
    assert (resp.opcode, resp.token, resp.status, resp.payload.hex()) == (
        f["opcode"], f["token"], f["status"], f["payload"])
    assert bytes(resp).hex() == case["hex"]
    assert bytes(Response(f["opcode"], f["token"], Status(f["status"]),
                          bytes.fromhex(f["payload"]))).hex() == case["hex"]
    if resp.ok and resp.opcode == Opcode.TIME_SYNC:
        t1, t2, t3 = resp.time_sync()
        assert (t2, t3) == (case["rig"]["t_rx"], case["rig"]["t_tx"])
        assert t1 == Command.from_bytes(bytes.fromhex(case["command_hex"])).args()["host_send_us"]
    if resp.ok and resp.opcode == Opcode.GET_CONFIG:
        assert bytes(resp.config()).hex() == case["rig"]["config_hex"]


@pytest.mark.parametrize("case", cases("config"))
def test_golden_config(case):
    f = case["fields"]
    rec = ConfigRecord.from_bytes(bytes.fromhex(case["hex"]))
    assert (rec.role_code, rec.remap.hex(), rec.rate_hz, rec.acc_range_g, rec.gyro_range_dps,
            rec.fmt, int(rec.streaming), rec.serial, rec.fw_major, rec.fw_minor) == (
        f["role_code"], f["remap"], f["rate_hz"], f["acc_range_g"], f["gyro_range_dps"], f["fmt"],
        f["streaming"], f["serial"], f["fw_major"], f["fw_minor"])
    assert bytes(rec).hex() == case["hex"]


@pytest.mark.parametrize("case", cases("advert"))
def test_golden_advert(case):
    f = case["fields"]
    adv = Advert.from_manufacturer_data({0x004C: b"\x02", 0xFFFF: bytes.fromhex(case["hex"])})
    assert (adv.version, adv.role_code, adv.battery_pct, adv.serial, adv.name) == (
        f["version"], f["role_code"], f["battery_pct"], f["serial"], f["name"])
    assert bytes(adv).hex() == case["hex"]
    assert Advert.from_manufacturer_data({0x004C: b"\x02"}) is None


@pytest.mark.parametrize("case", [p for k in DECODERS for p in cases(k, malformed=True)])
def test_golden_malformed(case):
    with pytest.raises(ProtocolError) as err:
        DECODERS[case["kind"]].from_bytes(bytes.fromhex(case["hex"]))
    assert "\n" not in str(err.value) and isinstance(err.value, (StrideSyncError, ValueError))


def test_hand_checked_bytes():
    """Written from PROTOCOL.md by hand, not from either encoder."""
    pkt = DataPacket.from_bytes(bytes.fromhex("01012c0115cd5b0700000000c8120208d007"
                                              "640038ff00100080ff7f050000f0000001000200fdff0400"))
    assert pkt.seq == 300 and pkt.t0_us == 123_456_789 and pkt.period_us == 4808
    assert pkt.raw.tolist() == [[100, -200, 4096, -32768, 32767, 5], [-4096, 0, 1, 2, -3, 4]]
    np.testing.assert_allclose(pkt.acc_g()[0], [100 * 8 / 32768, -200 * 8 / 32768, 1.0])
    np.testing.assert_allclose(pkt.gyro_dps()[0], [-2000.0, 32767 * 2000 / 32768, 5 * 2000 / 32768])
    assert pkt.sample_times_us().tolist() == [123_456_789, 123_456_789 + 4808]
    assert bytes(Command.set_rate(0x13, 200)) == b"\x03\x13\xc8\x00"
    assert bytes(Command.set_role(1, Role.RIGHT_WRIST, b"\x02\x80\x81")) == b"\x05\x01\x04\x02\x80\x81"
    assert Response.from_bytes(b"\x84\x07\x04").status is Status.BUSY


# ---- helpers ------------------------------------------------------------------------------------

def test_roles_and_remap():
    for role in Role:
        assert role_from_code(role_to_code(role)) is role
    assert role_from_code(0) is None and role_to_code(None) == 0
    with pytest.raises(ProtocolError):
        role_from_code(5)
    assert [FP.ROLE_NAMES[role_to_code(r)] for r in Role] == [r.value for r in Role]
    m = remap_matrix(b"\x01\x80\x02")
    assert m.tolist() == [[0, 1, 0], [-1, 0, 0], [0, 0, 1]] and np.linalg.det(m) == 1
    with pytest.raises(ProtocolError):
        remap_matrix(b"\x80\x01\x02")
    assert max_samples(247, 0) == 37 and max_samples(247, 1) == 18 and max_samples(23, 0) == 0


def test_format0_has_no_gyro():
    pkt = DataPacket(seq=0, t0_us=0, period_us=5000, acc_range_g=4, gyro_range_dps=0,
                     raw=np.zeros((2, 3), np.int16))
    assert pkt.gyro_dps() is None and pkt.acc_g().shape == (2, 3)
    with pytest.raises(ProtocolError):
        DataPacket(seq=0, t0_us=0, period_us=5000, acc_range_g=4, gyro_range_dps=0,
                   raw=np.zeros((2, 6), np.int16))
    with pytest.raises(ProtocolError):
        DataPacket(seq=0, t0_us=0, period_us=5000, acc_range_g=4, gyro_range_dps=0,
                   raw=np.full((1, 3), 40000))
    with pytest.raises(ProtocolError):
        Command.set_rate(1, 70000)


# ---- property tests -----------------------------------------------------------------------------

@st.composite
def data_packets(draw):
    fmt = draw(st.sampled_from([0, 1]))
    n = draw(st.integers(1, 255))
    width = 3 if fmt == 0 else 6
    blob = draw(st.binary(min_size=2 * n * width, max_size=2 * n * width))  # fast: any int16 bits
    raw = np.frombuffer(blob, "<i2").astype(np.int16)
    return DataPacket(seq=draw(st.integers(0, 0xFFFF)), t0_us=draw(st.integers(0, 2**64 - 1)),
                      period_us=draw(st.integers(1, 0xFFFF)),
                      acc_range_g=draw(st.sampled_from(FP.ACC_RANGES_G)),
                      gyro_range_dps=0 if fmt == 0 else draw(st.sampled_from(FP.GYRO_RANGES_DPS[1:])),
                      raw=raw.reshape(n, width), fmt=fmt)


@settings(max_examples=150, deadline=None)
@given(data_packets())
def test_data_round_trip_and_firmware_agree(pkt):
    data = bytes(pkt)
    assert DataPacket.from_bytes(data) == pkt
    assert FP.encode_data(pkt.seq, pkt.t0_us, pkt.period_us, pkt.fmt, pkt.acc_range_g,
                          pkt.gyro_range_dps, pkt.raw.ravel().tolist()) == data


commands = st.one_of(
    st.builds(Command.start, st.integers(0, 255)), st.builds(Command.stop, st.integers(0, 255)),
    st.builds(Command.set_rate, st.integers(0, 255), st.integers(0, 0xFFFF)),
    st.builds(Command.set_range, st.integers(0, 255), st.integers(0, 255), st.integers(0, 0xFFFF)),
    st.builds(Command.set_role, st.integers(0, 255), st.sampled_from([None, *Role]),
              st.binary(min_size=3, max_size=3)),
    st.builds(Command.time_sync, st.integers(0, 255), st.integers(0, 2**64 - 1)),
    st.builds(Command.identify, st.integers(0, 255), st.integers(0, 255)),
    st.builds(Command.get_config, st.integers(0, 255)))


@settings(max_examples=200, deadline=None)
@given(commands)
def test_command_round_trip_and_firmware_answers(cmd):
    assert Command.from_bytes(bytes(cmd)) == cmd
    from stridesync_fw.control import Config, ControlHandler
    resp = Response.from_bytes(ControlHandler(Config(serial="HYP1")).handle(bytes(cmd), 99))
    assert resp.opcode == cmd.opcode and resp.token == cmd.token


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 0x7F), st.integers(0, 255), st.sampled_from(list(Status)))
def test_response_round_trip(opcode, token, status):
    try:
        resp = Response(opcode, token, status)
    except ProtocolError:
        return  # an OK response that would need a payload, or to an unknown opcode
    assert Response.from_bytes(bytes(resp)) == resp


@settings(max_examples=600, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_decoders_raise_only_protocol_error(data):
    for cls in DECODERS.values():
        try:
            obj = cls.from_bytes(data)
        except ProtocolError:
            continue
        assert bytes(obj) == data  # whatever decodes re-encodes to the same bytes


@settings(max_examples=300, deadline=None)
@given(data_packets(), st.integers(0, 300), st.integers(0, 255))
def test_fuzz_mutated_packets(pkt, pos, value):
    data = bytearray(bytes(pkt))
    data[pos % len(data)] = value
    for blob in (bytes(data), bytes(data[: pos % len(data)]), bytes(data) + bytes([value])):
        try:
            DataPacket.from_bytes(blob)
        except ProtocolError:
            pass


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32), st.sampled_from([(247, 0, 0), (247, 1, 1000), (27, 0, 0), (185, 1, 250)]),
       st.integers(0, 0xFFFF), st.lists(st.integers(1, 40), min_size=1, max_size=30))
def test_packetizer_stream_decodes_on_host(seed, mtu_fmt, seq, gaps):
    """Random sample streams with FIFO overruns: the host recovers every sample at its time."""
    mtu, fmt, gyro = mtu_fmt
    rng = np.random.default_rng(seed)
    width = 3 if fmt == 0 else 6
    out: list[bytes] = []
    pk = FP.Packetizer(out.append, fmt, 2500, 8, gyro, mtu=mtu, seq=seq)
    times, samples = [], []
    t = int(rng.integers(0, 2**40))
    for run in gaps:
        for _ in range(run):
            raw = rng.integers(-32768, 32768, width)
            pk.push(t, raw.tolist())
            times.append(t)
            samples.append(raw)
            t += 2500
        t += 2500 * int(rng.integers(0, 3))  # 0 to 2 samples lost
    pk.flush()
    pkts = [DataPacket.from_bytes(p) for p in out]
    assert [p.seq for p in pkts] == [(seq + i) & 0xFFFF for i in range(len(pkts))]
    assert all(p.n <= max_samples(mtu, fmt) and len(bytes(p)) <= mtu - 3 for p in pkts)
    np.testing.assert_array_equal(np.concatenate([p.raw for p in pkts]), np.array(samples))
    np.testing.assert_array_equal(np.concatenate([p.sample_times_us() for p in pkts]), times)


def test_decode_speed():
    """1000 packets of 37 samples decode in well under 50 ms (numpy frombuffer, no per-sample work)."""
    rng = np.random.default_rng(0)
    blobs = [bytes(DataPacket(seq=i, t0_us=i * 185_000, period_us=5000, acc_range_g=16,
                              gyro_range_dps=0, raw=rng.integers(-32768, 32768, (37, 3))))
             for i in range(1000)]
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for b in blobs:
            DataPacket.from_bytes(b)
        best = min(best, time.perf_counter() - start)
    assert best < 0.05, f"{best * 1000:.1f} ms for 1000 packets"


@st.composite
def packet_like_blobs(draw):
    """Valid packets, and valid packets with one header byte or the length disturbed, and noise."""
    kind = draw(st.sampled_from(["valid", "byte", "length", "noise"]))
    if kind == "noise":
        return draw(st.binary(max_size=60))
    data = bytearray(bytes(draw(data_packets())))
    if kind == "byte":
        data[draw(st.integers(0, 17))] = draw(st.integers(0, 255))
    elif kind == "length":
        data = data[: draw(st.integers(0, len(data) - 1))] if draw(st.booleans()) else data + b"\0\0"
    return bytes(data)


@settings(max_examples=60, deadline=None)
@given(st.lists(packet_like_blobs(), max_size=30))
def test_batch_header_decoding_accepts_exactly_what_from_bytes_accepts(blobs):
    from stridesync.protocol import decode_headers
    h = decode_headers(blobs)
    for i, b in enumerate(blobs):
        try:
            p = DataPacket.from_bytes(b)
        except ProtocolError:
            assert not h.ok[i]
        else:
            assert h.ok[i]
            assert (h.seq[i], h.t0_us[i], h.period_us[i], h.n[i], h.acc_range_g[i], h.fmt[i]) == \
                (p.seq, p.t0_us, p.period_us, p.n, p.acc_range_g, p.fmt)
