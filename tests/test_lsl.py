"""LSL streams in one process on loopback: the wire format, real outlets and inlets, bad input ignored with
one warning, and a silent hub marked lost and back."""

from __future__ import annotations

import time

import pytest

pylsl = pytest.importorskip("pylsl")

from stridesync.lsl_streams import WireError, decode_event, decode_step, encode_event, encode_step  # noqa: E402
from stridesync.model import Event, EventKind, Role, Side, Step  # noqa: E402
from stridesync.sinks.lsl import HubOutlets  # noqa: E402
from stridesync.sources.lsl import TeamInlets  # noqa: E402

STEP = Step(12.345678901, Side.LEFT, 0.6812345, 176.1234567, None, 23.14567891, -8.1, None, 3.39, None, -1.2, 63.28)
EVENT = Event(Role.RIGHT_WRIST, EventKind.ARM_FWD, 1.0000001, 212.34567, 7, "gyro")


def test_events_and_steps_cross_the_wire_exactly_and_bad_rows_raise_one_error():
    assert decode_step(encode_step(STEP, 5.0)) == (STEP, 5.0)
    assert decode_event(encode_event(EVENT, 5.0)) == (EVENT, 5.0)
    for bad in (encode_step(STEP, 1.0)[:-1], ["x"] + encode_step(STEP, 1.0)[1:]):
        with pytest.raises(WireError):
            decode_step(bad)
    with pytest.raises(WireError):
        decode_event(["right_wrist", "arm_fwd", "nan?", "1", "deg/s", "7", "gyro", "1"])


def _poll_until(inlets, pred, timeout_s=6.0):
    items = []
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        items += inlets.poll()
        if pred(items):
            return items
        time.sleep(0.02)
    return items


def _foreign_outlets():
    foreign = pylsl.StreamOutlet(pylsl.StreamInfo("Someone else's markers", "Markers", 1, 0, pylsl.cf_string, "foreign-1"))
    info = pylsl.StreamInfo("StrideSync Old health", "StrideSync.Health", 1, 0, pylsl.cf_string, "old-1")
    ours = info.desc().append_child("stridesync")
    for k, v in {"protocol": "99", "athlete": "Old", "hub": "oldhub", "kind": "health"}.items():
        ours.append_child_value(k, v)
    return foreign, pylsl.StreamOutlet(info)


def test_a_hub_on_loopback_delivers_steps_and_bad_input_is_ignored_with_one_warning_each():
    hub = HubOutlets("Ana", [("SS1", Role.LEFT_SHIN, 200.0, True), ("SS2", Role.RIGHT_SHIN, 200.0, True)], lsl_offset_s=100.0)
    foreign, old = _foreign_outlets()
    inlets = TeamInlets()
    try:
        items = _poll_until(inlets, lambda its: any(i.kind == "state" for i in its) or hub.health("running", [], None, 0.0))
        assert any(i.kind == "state" and i.rows == "found" and i.athlete == "Ana" for i in items)
        # samples pushed before an inlet is connected are not kept for it: go on once both are connected
        outs = [hub.outlets[k] for k in ("events", "steps")]
        _poll_until(inlets, lambda its: all(o.have_consumers() for o in outs), 10.0)
        assert all(o.have_consumers() for o in outs), "the squad's inlets never opened the events and steps streams"
        hub.results([EVENT], [STEP])
        bad = hub.outlets["steps"]
        for _ in range(3):
            bad.push_sample(["garbage"] * 13)  # a malformed step sample, three times
        for _ in range(3):
            foreign.push_sample(["hello"])
            old.push_sample(['{"state": "running", "sensors": []}'])
        hub.results([], [STEP])
        items = _poll_until(inlets, lambda its: sum(len(i.rows) for i in its if i.kind == "steps") >= 2)
        steps = [r for i in items if i.kind == "steps" for r in i.rows]
        assert [s for s, _, _ in steps] == [STEP, STEP]
        assert abs(steps[0][1] - (STEP.time_s + 100.0)) < 0.01  # stamped with the instant on the LSL clock
        events = [r for i in items if i.kind == "events" for r in i.rows]
        assert [e for e, _, _ in events] == [EVENT]
        w = inlets.warnings
        assert len([x for x in w if "not a StrideSync stream" in x]) == 1
        assert len([x for x in w if "protocol 99" in x]) == 1
        assert len([x for x in w if "malformed" in x]) == 1 and inlets.bad_samples == 3
        assert not any(i.athlete == "Old" for i in items)

        # silence: lost within 2 s; beating again: back
        t_silent = time.monotonic()
        items = _poll_until(inlets, lambda its: any(i.kind == "state" and i.rows == "lost" for i in its), 3.0)
        assert any(i.kind == "state" and i.rows == "lost" for i in items)
        assert time.monotonic() - t_silent <= 2.0
        hub.health("running", [], None, 1.0)
        items = _poll_until(inlets, lambda its: any(i.kind == "state" and i.rows == "back" for i in its), 3.0)
        assert any(i.kind == "state" and i.rows == "back" for i in items)
    finally:
        inlets.close()
        hub.close()


def test_a_sensor_stream_is_pulled_only_while_wanted_and_reopens_when_wanted_again():
    """A view that follows an athlete pulls her sensor streams; when it stops, their inlets close (the hub's
    outlet loses its consumer and no more samples arrive); following again reopens them."""
    import numpy as np

    hub = HubOutlets("Ana", [("SS1", Role.LEFT_SHIN, 200.0, True)], lsl_offset_s=0.0)
    wanted: set[str] = set()
    inlets = TeamInlets(want_imu=lambda athlete: athlete in wanted)
    out = hub.imu[Role.LEFT_SHIN]
    t = [0.0]

    def push() -> None:  # 50 ms of samples
        n = 10
        ts = t[0] + np.arange(n) / 200.0
        t[0] += n / 200.0
        hub.samples([(Role.LEFT_SHIN, ts, np.zeros((n, 3)), np.zeros((n, 3)))])

    def pushing_until(pred, timeout_s=8.0):
        items, end = [], time.monotonic() + timeout_s
        while time.monotonic() < end:
            push()
            items += inlets.poll()
            if pred(items):
                break
            time.sleep(0.05)
        return items

    try:
        items = _poll_until(inlets, lambda its: any(i.kind == "state" for i in its) or hub.health("running", [], None, 0.0))
        assert any(i.rows == "found" for i in items if i.kind == "state")
        time.sleep(1.5)
        items = pushing_until(lambda its: False, 1.0)
        assert not any(i.kind == "imu" for i in items) and not out.have_consumers()  # not wanted: not pulled
        wanted.add("Ana")
        inlets.refresh_imu()
        items = pushing_until(lambda its: any(i.kind == "imu" for i in its))
        assert any(i.kind == "imu" and i.role is Role.LEFT_SHIN for i in items)
        assert ("Ana", "imu", Role.LEFT_SHIN) in inlets.open_streams
        wanted.clear()
        inlets.refresh_imu()
        assert ("Ana", "imu", Role.LEFT_SHIN) not in inlets.open_streams
        pushing_until(lambda its: not out.have_consumers(), 5.0)
        assert not out.have_consumers(), "the closed inlet still consumes the hub's sensor stream"
        items = pushing_until(lambda its: False, 0.5)
        assert not any(i.kind == "imu" for i in items)
        wanted.add("Ana")
        inlets.refresh_imu()
        items = pushing_until(lambda its: any(i.kind == "imu" for i in its))
        assert any(i.kind == "imu" for i in items), "wanted again, the sensor stream did not reopen"
    finally:
        inlets.close()
        hub.close()
