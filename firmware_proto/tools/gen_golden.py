"""Generate firmware_proto/golden_vectors.json from the FIRMWARE encoders (stridesync_fw).

Run from anywhere: ``python firmware_proto/tools/gen_golden.py``; ``--check`` only verifies that the
committed file is what the firmware produces today (the tests do the same). The host codec
(stridesync.protocol) and the MicroPython test run are then checked against this file, so a change
on either side of the wire that the other does not share shows up as a failing vector.
"""

import argparse
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FW_ROOT = os.path.dirname(HERE)
sys.path.insert(0, FW_ROOT)

from stridesync_fw import advert as A  # noqa: E402
from stridesync_fw import control as C  # noqa: E402
from stridesync_fw import packets as P  # noqa: E402

OUT = os.path.join(FW_ROOT, "golden_vectors.json")
SERIAL = "A1B2C3D4"
T_RX = 0x0000_0123_4567_89AB  # sensor receive time of the vectors' commands, µs
T_TX = T_RX + 42  # sensor send time


def _data(name, seq, t0, period, fmt, acc, gyro, samples, **extra):
    flat = [v for s in samples for v in s]
    fields = {"version": 1, "fmt": fmt, "seq": seq, "t0_us": t0, "period_us": period,
              "acc_range_g": acc, "gyro_range_dps": gyro, "samples": samples}
    fields.update(extra)
    return {"name": name, "kind": "data", "fields": fields,
            "hex": P.encode_data(seq, t0, period, fmt, acc, gyro, flat).hex()}


def data_cases():
    cases = [
        _data("data_acc_one_sample", 0, 0, 5000, 0, 16, 0, [[0x0102, -1, 16384]]),
        _data("data_acc_extremes", 7, 1_000_000, 5000, 0, 2, 0,
              [[-32768, 32767, 0], [-1, 1, -256]]),
        _data("data_accgyro_two", 300, 123_456_789, 4808, 1, 8, 2000,
              [[100, -200, 4096, -32768, 32767, 5], [-4096, 0, 1, 2, -3, 4]]),
        _data("data_t0_large", 1, (1 << 64) - 1, 2500, 0, 32, 0, [[1, 2, 3]]),
        _data("data_accgyro_125dps", 2, 1 << 40, 10000, 1, 4, 125, [[-7, 7, -7, 7, -7, 7]]),
    ]
    for mtu, fmt, gyro in ((247, 0, 0), (247, 1, 500), (27, 0, 0), (33, 1, 250)):
        axes = P.axes_of(fmt)
        n = P.max_samples(mtu, fmt)
        samples = [[(k * 37 + a * 1001) % 65536 - 32768 for a in range(axes)] for k in range(n)]
        case = _data("data_max_n_mtu%d_fmt%d" % (mtu, fmt), 42, 5_000_000, 5000, fmt, 16, gyro,
                     samples, mtu=mtu)
        assert len(case["hex"]) // 2 <= mtu - P.ATT_OVERHEAD
        cases.append(case)
    # seq wrap, made by the Packetizer itself: 65535 then 0
    out = []
    pk = P.Packetizer(out.append, 0, 5000, 16, 0, mtu=27, seq=65535)
    pk.push(10_000, [1, 2, 3])
    pk.push(15_000, [-4, -5, -6])
    for name, packet in zip(("data_seq_65535", "data_seq_wraps_to_0"), out):
        d = P.decode_data(packet)
        cases.append({"name": name, "kind": "data", "fields": {
            "version": 1, "fmt": 0, "seq": d["seq"], "t0_us": d["t0_us"], "period_us": 5000,
            "acc_range_g": 16, "gyro_range_dps": 0, "samples": [d["samples"]]}, "hex": packet.hex()})
    return cases


def _hdr(version=1, fmt=0, seq=0, t0=0, period=5000, n=1, acc=16, gyro=0):
    return struct.pack("<BBHQHBBH", version, fmt, seq, t0, period, n, acc, gyro)


def data_malformed():
    one = b"\x01\x00\x02\x00\x03\x00"
    bad = [
        ("data_bad_empty", b""),
        ("data_bad_short_header", _hdr()[:17]),
        ("data_bad_header_only", _hdr(n=0)),
        ("data_bad_n_zero_with_bytes", _hdr(n=0) + one),
        ("data_bad_version_2", _hdr(version=2) + one),
        ("data_bad_version_0", _hdr(version=0) + one),
        ("data_bad_format_2", _hdr(fmt=2) + one),
        ("data_bad_one_byte_short", _hdr(n=2) + one + one[:-1]),
        ("data_bad_one_byte_long", _hdr() + one + b"\x00"),
        ("data_bad_n_too_big", _hdr(n=2) + one),
        ("data_bad_acc_range", _hdr(acc=3) + one),
        ("data_bad_gyro_in_fmt0", _hdr(gyro=250) + one),
        ("data_bad_fmt1_no_gyro", _hdr(fmt=1) + one + one),
        ("data_bad_gyro_range", _hdr(fmt=1, gyro=300) + one + one),
        ("data_bad_period_zero", _hdr(period=0) + one),
        ("data_bad_fmt1_half_sample", _hdr(fmt=1, gyro=250) + one),
    ]
    return [{"name": n, "kind": "data", "hex": b.hex(), "expect_error": True} for n, b in bad]


class _Rig:
    """A ControlHandler with a fixed config and clock, as the vectors need."""

    def __init__(self, streaming=False, mtu=247, fail=False):
        self.spec = {"streaming": streaming, "mtu": mtu, "fail_hooks": fail, "t_rx": T_RX,
                     "t_tx": T_TX, "config_hex": "", "acc_ranges_g": [2, 4, 8, 16],
                     "gyro_ranges_dps": [0, 125, 250, 500, 1000, 2000]}
        self.cfg = C.Config(serial=SERIAL, role=1, remap=b"\x01\x80\x02", rate_hz=200,
                            acc_range_g=16, gyro_range_dps=0, streaming=streaming)

        def boom(*_):
            raise OSError("i2c")
        self.h = C.ControlHandler(self.cfg, clock_us=lambda: T_TX, mtu=mtu,
                                  acc_ranges_g=tuple(self.spec["acc_ranges_g"]),
                                  gyro_ranges_dps=tuple(self.spec["gyro_ranges_dps"]),
                                  on_start=boom if fail else None, on_identify=boom if fail else None)

    def answer(self, cmd):
        """Respond to ``cmd``; also return the rig, so a test can rebuild the same handler."""
        self.spec["config_hex"] = self.cfg.to_bytes().hex()  # before the command changes it
        return self.h.handle(cmd, T_RX), self.spec


COMMANDS = [  # name, bytes, args
    ("start", b"\x01\x11", {}),
    ("stop", b"\x02\x12", {}),
    ("set_rate_200", b"\x03\x13" + struct.pack("<H", 200), {"rate_hz": 200}),
    ("set_range_8g_500dps", b"\x04\x14" + struct.pack("<BH", 8, 500),
     {"acc_range_g": 8, "gyro_range_dps": 500}),
    ("set_role_right_wrist", b"\x05\x15\x04\x02\x80\x81", {"role_code": 4, "remap": "028081"}),
    ("time_sync", b"\x06\x16" + struct.pack("<Q", 0x1122334455667788),
     {"host_send_us": 0x1122334455667788}),
    ("identify_5s", b"\x07\x17\x05", {"seconds": 5}),
    ("get_config", b"\x08\x18", {}),
]


def control_cases():
    cases = []
    for name, cmd, args in COMMANDS:
        cases.append({"name": "cmd_" + name, "kind": "command",
                      "fields": {"opcode": cmd[0], "token": cmd[1], "payload": cmd[2:].hex(),
                                 "args": args}, "hex": cmd.hex()})
        resp, rig = _Rig().answer(cmd)
        assert resp[2] == P.ST_OK, (name, resp)
        cases.append(_response("resp_" + name, resp, rig, cmd))
    # one response for every non-OK status, each from the handler in the situation that causes it
    situations = [
        ("resp_status1_bad_length", _Rig(), b"\x03\x21\xc8"),
        ("resp_status1_empty_write", _Rig(), b""),
        ("resp_status1_no_token", _Rig(), b"\x01"),
        ("resp_status2_rate_99", _Rig(), b"\x03\x22" + struct.pack("<H", 99)),
        ("resp_status2_mirror_remap", _Rig(), b"\x05\x23\x01\x80\x01\x02"),
        ("resp_status3_unknown_opcode", _Rig(), b"\x09\x24"),
        ("resp_status3_unknown_high_opcode", _Rig(), b"\xff\x25\x00"),
        ("resp_status4_set_rate_streaming", _Rig(streaming=True), b"\x03\x26" + struct.pack("<H", 100)),
        ("resp_status5_start_mtu23", _Rig(mtu=23), b"\x01\x27"),
        ("resp_status5_time_sync_mtu23", _Rig(mtu=23), b"\x06\x28" + bytes(8)),
        ("resp_status6_start_imu_failed", _Rig(fail=True), b"\x01\x29"),
    ]
    for name, rig, cmd in situations:
        cases.append(_response(name, *rig.answer(cmd), cmd=cmd))
    return cases


def _response(name, resp, rig, cmd):
    """A response vector with the command and handler state ("rig") that produced it."""
    return {"name": name, "kind": "response", "command_hex": cmd.hex(), "rig": rig,
            "fields": {"opcode": resp[0] & 0x7F, "token": resp[1], "status": resp[2],
                       "payload": resp[3:].hex()}, "hex": resp.hex()}


def control_malformed():
    cmds = [("cmd_bad_empty", b""), ("cmd_bad_no_token", b"\x01"),
            ("cmd_bad_unknown_opcode", b"\x09\x01"), ("cmd_bad_opcode_0", b"\x00\x01"),
            ("cmd_bad_start_with_payload", b"\x01\x01\x00"),
            ("cmd_bad_set_rate_short", b"\x03\x01\xc8"), ("cmd_bad_time_sync_long", b"\x06\x01" + bytes(9))]
    resps = [("resp_bad_empty", b""), ("resp_bad_two_bytes", b"\x81\x01"),
             ("resp_bad_no_response_bit", b"\x01\x01\x00"), ("resp_bad_status_7", b"\x81\x01\x07"),
             ("resp_bad_time_sync_short", b"\x86\x01\x00" + bytes(23)),
             ("resp_bad_error_with_payload", b"\x83\x01\x02\x00"),
             ("resp_bad_ok_unknown_opcode", b"\x89\x01\x00"),
             ("resp_bad_get_config_bad_record", b"\x88\x01\x00" + b"\x02" + bytes(21))]
    out = [{"name": n, "kind": "command", "hex": b.hex(), "expect_error": True} for n, b in cmds]
    out += [{"name": n, "kind": "response", "hex": b.hex(), "expect_error": True} for n, b in resps]
    return out


def _config_fields(cfg):
    return {"version": 1, "role_code": cfg.role, "remap": cfg.remap.hex(), "rate_hz": cfg.rate_hz,
            "acc_range_g": cfg.acc_range_g, "gyro_range_dps": cfg.gyro_range_dps, "fmt": cfg.fmt,
            "streaming": 1 if cfg.streaming else 0, "serial": cfg.serial_str,
            "fw_major": cfg.fw_major, "fw_minor": cfg.fw_minor}


def config_cases():
    cfgs = [("config_default", C.Config(serial=SERIAL)),
            ("config_left_shin_gyro_streaming", C.Config(serial="XY12", role=1, remap=b"\x02\x81\x00",
                                                         rate_hz=400, acc_range_g=32,
                                                         gyro_range_dps=4000, streaming=True,
                                                         fw_major=2, fw_minor=17))]
    out = [{"name": n, "kind": "config", "fields": _config_fields(c), "hex": c.to_bytes().hex()}
           for n, c in cfgs]
    good = C.Config(serial=SERIAL).to_bytes()
    bad = [("config_bad_short", good[:21]), ("config_bad_long", good + b"\x00"),
           ("config_bad_version", b"\x02" + good[1:]), ("config_bad_role", good[:1] + b"\x05" + good[2:]),
           ("config_bad_mirror_remap", good[:2] + b"\x80\x01\x02" + good[5:]),
           ("config_bad_rate", good[:5] + struct.pack("<H", 401) + good[7:]),
           ("config_bad_fmt", good[:10] + b"\x01" + good[11:]),
           ("config_bad_streaming_2", good[:11] + b"\x02" + good[12:]),
           ("config_bad_serial_hole", good[:12] + b"A\x00B" + bytes(5) + good[20:])]
    out += [{"name": n, "kind": "config", "hex": b.hex(), "expect_error": True} for n, b in bad]
    return out


def advert_cases():
    out = []
    for name, role, batt, serial in (("advert_unassigned", 0, 100, SERIAL),
                                     ("advert_right_wrist_low_battery", 4, 3, "9F"),
                                     ("advert_left_shin", 1, 57, "00C0FFEE")):
        out.append({"name": name, "kind": "advert",
                    "fields": {"version": 1, "role_code": role, "battery_pct": batt, "serial": serial,
                               "name": A.device_name(serial)},
                    "hex": A.manufacturer_payload(role, batt, serial).hex()})
    good = A.manufacturer_payload(1, 50, SERIAL)
    bad = [("advert_bad_version", b"\x02" + good[1:]), ("advert_bad_short", good[:10]),
           ("advert_bad_role", good[:1] + b"\x07" + good[2:]),
           ("advert_bad_battery", good[:2] + b"\x65" + good[3:]), ("advert_bad_empty", b"")]
    out += [{"name": n, "kind": "advert", "hex": b.hex(), "expect_error": True} for n, b in bad]
    return out


def build():
    return (data_cases() + data_malformed() + control_cases() + control_malformed()
            + config_cases() + advert_cases())


def render(cases):
    return "[\n" + ",\n".join(json.dumps(c, sort_keys=True) for c in cases) + "\n]\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if the committed file differs")
    args = ap.parse_args(argv)
    text = render(build())
    if args.check:
        with open(OUT) as f:
            if f.read() != text:
                print("golden_vectors.json is out of date: run firmware_proto/tools/gen_golden.py")
                return 1
        print("golden vectors up to date")
        return 0
    with open(OUT, "w") as f:
        f.write(text)
    print("wrote %d cases to %s" % (len(build()), OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
