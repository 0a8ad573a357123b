"""File formats of MEASUREMENT.md §4 and atomic outputs (stridesync.io)."""

from __future__ import annotations

import gzip
import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stridesync.errors import InputFormatError, OutputError
from stridesync.io import (
    EVENTS_HEADER,
    STEPS_HEADER,
    AtomicOutputs,
    atomic_write,
    check_writable,
    read_events_csv,
    read_steps_csv,
    read_summary_json,
    read_wide_csv,
    write_events_csv,
    write_steps_csv,
    write_summary_json,
    write_wide_csv,
)
from stridesync.model import ROLES, SHIN_EVENTS, WRIST_EVENTS, Event, EventKind, Role, RoleSamples, Side, Step

HYPOTHESIS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def leftovers(directory: Path, keep: set[str] = frozenset()) -> list[str]:
    return sorted(name for name in os.listdir(directory) if name not in keep)


def make_recording(rate_hz: float = 200.0, n: int = 400, roles=ROLES, gyro: bool = False, seed: int = 0):
    rng = np.random.default_rng(seed)
    time_s = np.arange(n) / rate_hz + 12.5
    return {
        role: RoleSamples(
            role=role,
            time_s=time_s.copy(),
            acc_g=rng.normal(0.0, 2.0, (n, 3)),
            gyro_dps=rng.normal(0.0, 300.0, (n, 3)) if gyro else None,
        )
        for role in roles
    }


def assert_same_recording(got, expected, *, exact: bool) -> None:
    assert set(got) == set(expected)
    for role, samples in expected.items():
        assert np.array_equal(got[role].time_s, samples.time_s), role  # times are always bit-exact
        assert got[role].time_s.dtype == np.float64
        if exact:
            assert np.array_equal(got[role].acc_g, samples.acc_g)
        else:
            np.testing.assert_allclose(got[role].acc_g, samples.acc_g, rtol=6e-6, atol=1e-300)
        if samples.gyro_dps is None:
            assert got[role].gyro_dps is None
        elif exact:
            assert np.array_equal(got[role].gyro_dps, samples.gyro_dps)
        else:
            np.testing.assert_allclose(got[role].gyro_dps, samples.gyro_dps, rtol=6e-6)


# ---------------------------------------------------------------------------------------------
# wide samples CSV: round trips


def test_wide_round_trip_single_rate(tmp_path):
    recording = make_recording()
    path = tmp_path / "rec.csv"
    write_wide_csv(path, recording)
    got = read_wide_csv(path)
    assert_same_recording(got, recording, exact=False)
    # the header is the literal contract: time_s, then the accelerometer columns in role order
    header = path.read_text().split("\n", 1)[0]
    assert header == "time_s," + ",".join(f"{r.value}_{a}" for r in ROLES for a in "xyz")
    # values are written with %.6g, so a second write reproduces the file byte for byte
    again = tmp_path / "again.csv"
    write_wide_csv(again, got)
    assert again.read_bytes() == path.read_bytes()
    assert_same_recording(read_wide_csv(again), got, exact=True)


def test_wide_round_trip_lossless_and_gyro_gz(tmp_path):
    recording = make_recording(gyro=True, roles=(Role.RIGHT_SHIN, Role.LEFT_WRIST))
    path = tmp_path / "rec.csv.gz"
    write_wide_csv(path, recording, lossless=True)
    with gzip.open(path, "rt") as handle:
        header = handle.readline().strip()
    assert header == (
        "time_s,right_shin_x,right_shin_y,right_shin_z,left_wrist_x,left_wrist_y,left_wrist_z,"
        "right_shin_gx,right_shin_gy,right_shin_gz,left_wrist_gx,left_wrist_gy,left_wrist_gz"
    )
    assert_same_recording(read_wide_csv(path), recording, exact=True)


def test_wide_mixed_rate_empty_cells(tmp_path):
    text = (
        "time_s,left_shin_x,left_shin_y,left_shin_z,right_wrist_x,right_wrist_y,right_wrist_z,right_wrist_gx,right_wrist_gy,right_wrist_gz\n"
        "0.000,1,2,3,4,5,6,7,8,9\n"
        "0.005,1.5,2.5,3.5,,,,,,\n"
        "0.010,1,2,3,4.5,5.5,6.5,7.5,8.5,9.5\n"
        "0.015,1,2,3,,,,,,\n"
        "0.020,,,,4,5,6,7,8,9\n"
    )
    path = tmp_path / "mixed.csv"
    path.write_text(text)
    got = read_wide_csv(path)
    assert set(got) == {Role.LEFT_SHIN, Role.RIGHT_WRIST}
    assert got[Role.LEFT_SHIN].time_s.tolist() == [0.0, 0.005, 0.010, 0.015]
    assert got[Role.LEFT_SHIN].acc_g[1].tolist() == [1.5, 2.5, 3.5]
    assert got[Role.LEFT_SHIN].gyro_dps is None
    assert got[Role.RIGHT_WRIST].time_s.tolist() == [0.0, 0.010, 0.020]
    assert got[Role.RIGHT_WRIST].acc_g[1].tolist() == [4.5, 5.5, 6.5]
    assert got[Role.RIGHT_WRIST].gyro_dps[1].tolist() == [7.5, 8.5, 9.5]
    # and the writer reproduces the same layout
    out = tmp_path / "out.csv"
    write_wide_csv(out, got)
    lines = out.read_text().splitlines()
    assert lines[2] == "0.005,1.5,2.5,3.5,,,,,,"
    assert lines[5] == "0.02,,,,4,5,6,7,8,9"
    assert_same_recording(read_wide_csv(out), got, exact=True)


def test_wide_mixed_rates_written_and_read(tmp_path):
    shin = make_recording(rate_hz=200, n=600, roles=(Role.LEFT_SHIN,))
    wrist = make_recording(rate_hz=100, n=300, roles=(Role.LEFT_WRIST,), seed=1, gyro=True)
    odd = make_recording(rate_hz=160, n=480, roles=(Role.RIGHT_SHIN,), seed=2)
    recording = {**shin, **wrist, **odd}
    path = tmp_path / "mixed.csv"
    write_wide_csv(path, recording, lossless=True)
    assert_same_recording(read_wide_csv(path), recording, exact=True)


def test_wide_careful_path_matches_fast_path(tmp_path):
    """Spaces, CRLF line ends, a BOM and blank lines take the field-by-field path; the values must agree."""
    clean = "time_s,left_shin_x,left_shin_y,left_shin_z\n0,1,2,3\n0.005,-1.25e-3,2,3\n0.01,1,2,3\n"
    messy = "\ufefftime_s, left_shin_x ,left_shin_y,left_shin_z\r\n0, 1,2 ,3\r\n\r\n0.005,-1.25e-3,2,3\r\n0.01,1,2,3\r\n\r\n"
    (tmp_path / "clean.csv").write_text(clean)
    (tmp_path / "messy.csv").write_bytes(messy.encode("utf-8"))
    # a no-break space is whitespace too, but only the field-by-field path handles it
    (tmp_path / "careful.csv").write_text(clean.replace(",2,", ",\u00a02,"))
    expected = read_wide_csv(tmp_path / "clean.csv")
    assert_same_recording(read_wide_csv(tmp_path / "messy.csv"), expected, exact=True)
    assert_same_recording(read_wide_csv(tmp_path / "careful.csv"), expected, exact=True)


@st.composite
def recordings(draw):
    roles = draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=4, unique=True))
    recording = {}
    for role in roles:
        ticks = draw(st.lists(st.integers(-10**9, 10**10), min_size=2, max_size=30, unique=True))
        time_s = np.sort(np.array(ticks, dtype=np.int64)) / 1e6  # multiples of 1 µs
        n = len(time_s)
        finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)
        acc = np.array(draw(st.lists(finite, min_size=3 * n, max_size=3 * n))).reshape(n, 3)
        gyro = None
        if draw(st.booleans()):
            gyro = np.array(draw(st.lists(finite, min_size=3 * n, max_size=3 * n))).reshape(n, 3)
        recording[role] = RoleSamples(role=role, time_s=time_s, acc_g=acc, gyro_dps=gyro)
    return recording


@HYPOTHESIS
@given(recording=recordings())
def test_wide_round_trip_property(tmp_path, recording):
    path = tmp_path / "rec.csv"
    write_wide_csv(path, recording, lossless=True)
    assert_same_recording(read_wide_csv(path), recording, exact=True)
    write_wide_csv(path, recording)
    once = read_wide_csv(path)
    for role, samples in recording.items():
        assert np.array_equal(once[role].time_s, samples.time_s)
        np.testing.assert_allclose(once[role].acc_g, samples.acc_g, rtol=6e-6, atol=1e-300)  # subnormals
    write_wide_csv(path, once)  # %.6g is idempotent: read -> write -> read is exact
    assert_same_recording(read_wide_csv(path), once, exact=True)


def test_write_wide_rejects_non_finite(tmp_path):
    recording = make_recording(roles=(Role.LEFT_SHIN,))
    recording[Role.LEFT_SHIN].acc_g[3, 1] = np.nan
    with pytest.raises(InputFormatError, match="left_shin acc_g"):
        write_wide_csv(tmp_path / "x.csv", recording)
    assert leftovers(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# wide samples CSV: bad input

HEADER = "time_s,left_shin_x,left_shin_y,left_shin_z"
GOOD_ROWS = "0,1,2,3\n0.005,1,2,3\n0.01,1,2,3\n"

BAD_WIDE = {
    "empty file": ("", "file is empty", None),
    "blank file": ("\n \n", "file is empty", None),
    "no header": ("0,1,2,3\n0.005,1,2,3\n", "no header", 1),
    "empty first line": ("\ntime_s,left_shin_x,left_shin_y,left_shin_z\n0,1,2,3\n", "no header", 1),
    "missing time_s": ("t,left_shin_x,left_shin_y,left_shin_z\n0,1,2,3\n", "unknown column 't'", 1),
    "no time_s at all": ("left_shin_x,left_shin_y,left_shin_z\n1,2,3\n", "no time_s column", 1),
    "unknown column": ("time_s,left_shin_x,left_shin_y,left_shin_z,chest_x\n0,1,2,3,4\n", "unknown column 'chest_x'", 1),
    "duplicate column": ("time_s,left_shin_x,left_shin_y,left_shin_z,left_shin_y\n0,1,2,3,4\n", "duplicate column 'left_shin_y'", 1),
    "partial axes": ("time_s,left_shin_x,left_shin_y\n0,1,2\n", "not left_shin_z", 1),
    "partial gyro": (HEADER + ",left_shin_gx\n0,1,2,3,4\n", "not left_shin_gy, left_shin_gz", 1),
    "gyro without acc": ("time_s,left_shin_x,left_shin_y,left_shin_z,right_shin_gx,right_shin_gy,right_shin_gz\n", "no acceleration", 1),
    "no role columns": ("time_s\n0\n1\n", "no sensor columns", 1),
    "header only": (HEADER + "\n", "no data rows", None),
    "non-numeric": (HEADER + "\n0,1,2,3\n0.005,1,abc,3\n", "line 3, column 3 (left_shin_y): 'abc' is not a number", 3),
    "python-only number": (HEADER + "\n0,1,2,3\n0.005,1,1_0,3\n", "'1_0' is not a number", 3),
    "nan": (HEADER + "\n0,1,2,3\n0.005,1,2,NaN\n", "column 4 (left_shin_z): 'NaN' is not allowed", 3),
    "inf": (HEADER + "\n0,1,2,3\n0.005,-inf,2,3\n", "'-inf' is not allowed", 3),
    "overflow": (HEADER + "\n0,1,2,3\n0.005,1e999,2,3\n", "out of the float64 range", 3),
    "overflow with spaces": (HEADER + "\n0,1,2,3\n0.005, 1e999,2,3\n", "out of the float64 range", 3),
    "non-monotonic": (HEADER + "\n0,1,2,3\n0.01,1,2,3\n0.005,1,2,3\n", "not after the previous row's 0.01 (line 3)", 4),
    "duplicate time": (HEADER + "\n0,1,2,3\n0.005,1,2,3\n0.005,1,2,3\n", "duplicate time_s 0.005 (same as line 3)", 4),
    "non-monotonic after blank line": (HEADER + "\n0,1,2,3\n\n0.01,1,2,3\n0.005,1,2,3\n", "(line 4)", 5),
    "empty time": (HEADER + "\n0,1,2,3\n,1,2,3\n", "time_s is empty", 3),
    "too few fields": (HEADER + "\n0,1,2,3\n0.005,1,2\n", "3 fields; the header has 4", 3),
    "too many fields": (HEADER + "\n0,1,2,3,\n0.005,1,2,3\n", "5 fields; the header has 4", 2),
    "partial row": (HEADER + "\n0,1,2,3\n0.005,1,,3\n", "left_shin has some fields empty (left_shin_y)", 3),
    "one sample": (HEADER + ",right_shin_x,right_shin_y,right_shin_z\n0,1,2,3,,,\n0.005,1,2,3,4,5,6\n0.01,1,2,3,,,\n", "right_shin has 1 sample", None),
    "not utf-8": (b"time_s,left_shin_x,left_shin_y,left_shin_z\n0,1,2,\xff\n", "not UTF-8", None),
}


@pytest.mark.parametrize("case", list(BAD_WIDE))
def test_wide_bad_input(tmp_path, case):
    content, expected, line = BAD_WIDE[case]
    path = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(InputFormatError) as info:
        read_wide_csv(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path) + ": ")
    assert expected in message
    if line is not None:
        assert f"line {line}" in message


def test_wide_bad_file_paths(tmp_path):
    for path, expected in [
        (tmp_path / "missing.csv", "no such file"),
        (tmp_path, "is a directory"),
        (tmp_path / "plain.csv.gz", "not a valid gzip file"),
    ]:
        if path.name == "plain.csv.gz":
            path.write_text(HEADER + "\n" + GOOD_ROWS)
        with pytest.raises(InputFormatError) as info:
            read_wide_csv(path)
        assert expected in str(info.value) and str(path) in str(info.value)
        assert "\n" not in str(info.value)


def test_wide_error_names_line_in_large_file(tmp_path):
    """The fast path hands errors to the careful path, which still names the exact line."""
    rows = [f"{i / 200!r},1,2,3" for i in range(5000)]
    rows[3210] = rows[3210].replace(",2,", ",x,")
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputFormatError, match=r"line 3212, column 3 \(left_shin_y\): 'x' is not a number"):
        read_wide_csv(path)


# ---------------------------------------------------------------------------------------------
# events CSV

event_strategy = st.sampled_from(ROLES).flatmap(
    lambda role: st.builds(
        Event,
        role=st.just(role),
        kind=st.sampled_from(SHIN_EVENTS if role.is_shin else WRIST_EVENTS),
        time_s=st.integers(-10**10, 10**11).map(lambda k: k / 1e6),  # multiples of 1 µs
        amplitude=st.integers(0, 10**7).map(lambda k: k / 1e4),  # multiples of 0.1 mg (or 1e-4 deg/s)
        stride_index=st.integers(0, 10**6),
        source=st.sampled_from(("gyro", "accel")),
    )
)


@HYPOTHESIS
@given(events=st.lists(event_strategy, max_size=20))
def test_events_round_trip(tmp_path, events):
    path = tmp_path / "events.csv"
    write_events_csv(path, events)
    assert read_events_csv(path) == events


def test_events_format(tmp_path):
    events = [Event(Role.LEFT_SHIN, EventKind.CONTACT, 1.0000004, 7.123456, 0, "gyro"),
              Event(Role.RIGHT_WRIST, EventKind.ARM_BACK, 2.5, 0.5, 3, "accel"),
              Event(Role.LEFT_SHIN, EventKind.SWING, 3.25, 712.34567, 4, "gyro")]
    path = tmp_path / "events.csv.gz"
    write_events_csv(path, events)
    with gzip.open(path, "rt") as handle:
        text = handle.read()
    assert text == ("role,event,time_s,amplitude,unit,stride_index,source\n"
                    "left_shin,contact,1.000000,7.1235,g,0,gyro\n"
                    "right_wrist,arm_back,2.500000,0.5000,g,3,accel\n"
                    "left_shin,swing,3.250000,712.3457,deg/s,4,gyro\n")
    assert ",".join(EVENTS_HEADER) == text.split("\n")[0]
    assert read_events_csv(path)[1] == events[1]


def test_version_1_events_files_still_read_as_accelerometer_events(tmp_path):
    path = tmp_path / "events_v1.csv"
    path.write_text("role,event,time_s,amplitude_g,stride_index\nleft_shin,push,0.5,1.25,0\n")
    assert read_events_csv(path) == [Event(Role.LEFT_SHIN, EventKind.PUSH, 0.5, 1.25, 0, "accel")]


@pytest.mark.parametrize(
    "row, expected",
    [
        ("chest,contact,1.0,3.0,g,0,gyro", "column 1 (role): unknown role 'chest'"),
        ("left_shin,bounce,1.0,3.0,g,0,gyro", "unknown event 'bounce'"),
        ("left_wrist,contact,1.0,3.0,g,0,gyro", "contact is not an event of left_wrist"),
        ("left_shin,contact,nan,3.0,g,0,gyro", "'nan' is not allowed"),
        ("left_shin,contact,1.0,abc,g,0,gyro", "column 4 (amplitude): 'abc' is not a number"),
        ("left_shin,contact,1.0,3.0,g,-1,gyro", "column 6 (stride_index): '-1' is not a whole number"),
        ("left_shin,contact,1.0,3.0,g,1.5,gyro", "'1.5' is not a whole number"),
        ("left_shin,contact,1.0,3.0,g,0,magnet", "column 7 (source): unknown source 'magnet'"),
        ("left_shin,swing,1.0,650,g,0,gyro", "column 5 (unit): unit 'g' does not fit a gyro swing (expected deg/s)"),
        ("left_shin,contact,1.0,3.0,g,0", "6 fields; the header has 7"),
    ],
)
def test_events_bad_input(tmp_path, row, expected):
    path = tmp_path / "events.csv"
    path.write_text("role,event,time_s,amplitude,unit,stride_index,source\nleft_shin,push,0.5,1.0,deg/s,0,gyro\n"
                    + row + "\n")
    with pytest.raises(InputFormatError) as info:
        read_events_csv(path)
    assert "\n" not in str(info.value)
    assert "line 3" in str(info.value) and expected in str(info.value)


def test_events_bad_header(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("role,event,time,amplitude_g,stride_index\n")
    with pytest.raises(InputFormatError, match="line 1: header must be"):
        read_events_csv(path)
    path.write_text("role,event,time_s,amplitude_g,stride_index\n")
    assert read_events_csv(path) == []


# ---------------------------------------------------------------------------------------------
# steps CSV

optional = lambda scale: st.none() | st.integers(-10**7, 10**7).map(lambda k: k / scale)  # noqa: E731

step_strategy = st.builds(
    Step,
    time_s=st.integers(0, 10**11).map(lambda k: k / 1e6),
    stance_side=st.sampled_from(Side),
    stride_time_s=st.integers(0, 10**7).map(lambda k: k / 1e6),
    cadence_spm=st.integers(0, 10**6).map(lambda k: k / 1e3),
    contact_time_s=optional(1e6),
    swing_lag_ms=optional(1e3),
    ipsi_arm_lag_ms=optional(1e3),
    contra_arm_lag_ms=optional(1e3),
    swing_lag_pct=optional(1e3),
    ipsi_arm_lag_pct=optional(1e3),
    contra_arm_lag_pct=optional(1e3),
    sync_score=st.none() | st.integers(0, 10000).map(lambda k: k / 100),
)


@HYPOTHESIS
@given(steps=st.lists(step_strategy, max_size=20))
def test_steps_round_trip(tmp_path, steps):
    path = tmp_path / "steps.csv"
    write_steps_csv(path, steps)
    assert read_steps_csv(path) == steps


def test_steps_missing_values_are_empty_never_zero(tmp_path):
    step = Step(10.25, Side.LEFT, 0.72, 166.6666667, None, 12.3456, None, -3.0, 1.7146, None, float("nan"), None)
    path = tmp_path / "steps.csv"
    write_steps_csv(path, [step])
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(STEPS_HEADER)
    assert lines[1] == "10.250000,left,0.720000,166.667,,12.346,,-3.000,1.715,,,"
    (got,) = read_steps_csv(path)
    assert got.contact_time_s is None and got.ipsi_arm_lag_ms is None and got.sync_score is None
    assert got.contra_arm_lag_pct is None  # NaN was written as an empty field
    assert got.contra_arm_lag_ms == -3.0 and got.stance_side is Side.LEFT


@pytest.mark.parametrize(
    "row, expected",
    [
        ("1.0,middle,0.7,170,,,,,,,,", "column 2 (stance_side): stance_side must be 'left' or 'right'"),
        (",left,0.7,170,,,,,,,,", "column 1 (time_s): empty field; this value is required"),
        ("1.0,left,0.7,170,0.2,fast,,,,,,", "column 6 (swing_lag_ms): 'fast' is not a number"),
        ("1.0,left,0.7,170,0.2,inf,,,,,,", "'inf' is not allowed"),
        ("1.0,left,0.7,170", "4 fields; the header has 12"),
    ],
)
def test_steps_bad_input(tmp_path, row, expected):
    path = tmp_path / "steps.csv"
    path.write_text(",".join(STEPS_HEADER) + "\n" + row + "\n")
    with pytest.raises(InputFormatError) as info:
        read_steps_csv(path)
    assert "\n" not in str(info.value)
    assert "line 2" in str(info.value) and expected in str(info.value)


def test_steps_writer_rejects_non_finite_required(tmp_path):
    step = Step(float("nan"), Side.RIGHT, 0.7, 170.0, *([None] * 8))
    with pytest.raises(InputFormatError, match="step 0 time_s"):
        write_steps_csv(tmp_path / "steps.csv", [step])
    assert leftovers(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# summary JSON


def test_summary_json(tmp_path):
    summary = {
        "zeta": 1,
        "alpha": {"b": float("nan"), "a": np.float64(2.5), "inf": float("inf")},
        Role.LEFT_SHIN: np.array([1, 2]),
        "model": Side.RIGHT,
        "count": np.int64(7),
        "flag": np.bool_(True),
        "pair": (1.0, None),
    }
    path = tmp_path / "summary.json"
    write_summary_json(path, summary)
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text and text.endswith("\n")
    assert json.loads(text) == {
        "alpha": {"a": 2.5, "b": None, "inf": None},
        "count": 7,
        "flag": True,
        "left_shin": [1, 2],
        "model": "right",
        "pair": [1.0, None],
        "zeta": 1,
    }
    keys = [line.split('"')[1] for line in text.splitlines() if line.startswith('  "')]
    assert keys == sorted(keys)
    assert read_summary_json(path)["alpha"]["b"] is None


def test_summary_json_rejects_unknown_types(tmp_path):
    with pytest.raises(TypeError, match="object"):
        write_summary_json(tmp_path / "s.json", {"x": object()})
    assert leftovers(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# atomic outputs


def test_atomic_write_success_and_mode(tmp_path):
    path = tmp_path / "out.txt"
    with atomic_write(path) as handle:
        handle.write("hello\n")
        assert not path.exists()  # nothing visible until the block ends
    assert path.read_text() == "hello\n"
    assert leftovers(tmp_path) == ["out.txt"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_atomic_write_failure_leaves_previous_content(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="writer broke"):
        with atomic_write(path) as handle:
            handle.write("half of the new conte")
            raise RuntimeError("writer broke")
    assert path.read_text() == "old"
    assert leftovers(tmp_path) == ["out.txt"]


def test_atomic_write_missing_directory(tmp_path):
    path = tmp_path / "nope" / "out.csv"
    with pytest.raises(OutputError) as info:
        with atomic_write(path) as handle:
            handle.write("x")
    assert str(path) in str(info.value) and "does not exist" in str(info.value)
    assert "\n" not in str(info.value)


def test_check_writable(tmp_path):
    check_writable([tmp_path / "a.csv", tmp_path / "b.csv"])
    assert leftovers(tmp_path) == []  # the probe file is gone
    (tmp_path / "file").write_text("")
    for path, expected in [
        (tmp_path / "missing" / "a.csv", "does not exist"),
        (tmp_path / "file" / "a.csv", "is not a directory"),
        (tmp_path, "is a directory"),
    ]:
        with pytest.raises(OutputError) as info:
            check_writable(path)
        assert str(path) in str(info.value) and expected in str(info.value)
        assert "\n" not in str(info.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="permission bits do not stop root")
def test_unwritable_directory_real(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="not writable"):
            check_writable(locked / "a.csv")
        with pytest.raises(OutputError, match=str(locked / "a.csv")):
            write_events_csv(locked / "a.csv", [])
    finally:
        locked.chmod(0o700)


def test_unwritable_directory_simulated(tmp_path, monkeypatch):
    """Permission bits cannot stop root (CI runs as root), so the OS refusal is simulated at mkstemp."""
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(OutputError) as info:
        check_writable(tmp_path / "a.csv")
    assert str(info.value) == f"cannot write {tmp_path / 'a.csv'}: directory {tmp_path} is not writable (Permission denied)"
    with pytest.raises(OutputError, match="Permission denied"):
        write_steps_csv(tmp_path / "steps.csv", [])
    assert leftovers(tmp_path) == []


def test_atomic_outputs_all_or_nothing(tmp_path):
    events_path, steps_path, summary_path = tmp_path / "events.csv", tmp_path / "steps.csv", tmp_path / "summary.json"
    summary_path.write_text("{}\n")  # a previous run's output survives a failed transaction
    with pytest.raises(RuntimeError, match="analysis failed"):
        with AtomicOutputs([events_path, steps_path, summary_path]) as outputs:
            write_events_csv(outputs.temp_path(events_path), [Event(Role.LEFT_SHIN, EventKind.PUSH, 1.0, 2.0, 0)])
            with outputs.open(steps_path) as handle:
                handle.write(",".join(STEPS_HEADER) + "\n")
                raise RuntimeError("analysis failed")
    assert leftovers(tmp_path) == ["summary.json"]
    assert summary_path.read_text() == "{}\n"

    with AtomicOutputs([events_path, steps_path, summary_path]) as outputs:
        write_events_csv(outputs.temp_path(events_path), [Event(Role.LEFT_SHIN, EventKind.PUSH, 1.0, 2.0, 0)])
        with outputs.open(steps_path) as handle:
            handle.write(",".join(STEPS_HEADER) + "\n")
        write_summary_json(outputs.temp_path(summary_path), {"steps": 0})
        # nothing is in place before the block ends
        assert not events_path.exists() and not steps_path.exists() and summary_path.read_text() == "{}\n"
    assert leftovers(tmp_path) == ["events.csv", "steps.csv", "summary.json"]
    assert read_events_csv(events_path)[0].kind is EventKind.PUSH
    assert read_steps_csv(steps_path) == []
    assert read_summary_json(summary_path) == {"steps": 0}


def test_atomic_outputs_checks_before_work(tmp_path):
    ran = []
    with pytest.raises(OutputError, match="does not exist"):
        with AtomicOutputs([tmp_path / "a.csv", tmp_path / "missing" / "b.csv"]):
            ran.append(True)
    assert ran == [] and leftovers(tmp_path) == []


def test_atomic_outputs_rejects_same_path_twice(tmp_path):
    with pytest.raises(ValueError, match="already written"):
        with AtomicOutputs() as outputs:
            outputs.temp_path(tmp_path / "a.csv")
            outputs.temp_path(tmp_path / "a.csv")
    assert leftovers(tmp_path) == []


def test_write_events_to_missing_directory_is_output_error(tmp_path):
    with pytest.raises(OutputError) as info:
        write_events_csv(tmp_path / "missing" / "events.csv", [])
    assert "\n" not in str(info.value) and str(tmp_path / "missing" / "events.csv") in str(info.value)
