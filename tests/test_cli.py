"""The ``stridesync`` command as a user runs it: real files, real subprocesses, exit codes, outputs."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys

import numpy as np
import pytest

from stridesync.core.reference import analyze
from stridesync.evaluate import compare
from stridesync.io import read_events_csv, read_steps_csv, read_wide_csv, write_wide_csv

from .conftest import sim_cached

EXE = [sys.executable, "-m", "stridesync.cli"]


def run(*args, cwd=None):
    return subprocess.run([*EXE, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def session_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "run.csv"
    write_wide_csv(path, sim_cached(seed=21, duration_s=30.0).recording)
    return path


def test_simulate_writes_samples_and_truth(tmp_path):
    out = tmp_path / "sim.csv"
    r = run("simulate", out, "--seconds", 20, "--seed", 4, "--swing-lag", 20, "--truth-dir", tmp_path / "truth")
    assert r.returncode == 0, r.stderr
    rec = read_wide_csv(out)
    assert len(rec) == 4 and all(abs(s.sample_rate_hz - 200.0) < 1e-6 for s in rec.values())
    events = read_events_csv(tmp_path / "truth" / "events.csv")
    steps = read_steps_csv(tmp_path / "truth" / "steps.csv")
    assert len(events) > 100 and len(steps) > 20
    swing = sorted(s.swing_lag_ms for s in steps if s.swing_lag_ms is not None)
    assert 5.0 < swing[len(swing) // 2] < 35.0


def test_analyze_realtime_and_reference_agree(tmp_path, session_csv):
    r1 = run("analyze", session_csv, "--events", tmp_path / "e.csv", "--steps", tmp_path / "s.csv", "--summary", tmp_path / "j.json")
    r2 = run("analyze", session_csv, "--events", tmp_path / "e2.csv", "--steps", tmp_path / "s2.csv", "--reference")
    assert r1.returncode == 0 and r2.returncode == 0, r1.stderr + r2.stderr
    rt, ref = read_events_csv(tmp_path / "e.csv"), read_events_csv(tmp_path / "e2.csv")
    assert len(ref) > 100
    c = compare(ref, rt)
    assert c.recall >= 0.99 and c.precision >= 0.99
    assert np.median(np.abs(c.all_errors())) < 1.0
    summary = json.loads((tmp_path / "j.json").read_text())
    assert summary["detector_settings"]["target_model"] == "together"
    assert summary["n_steps"] == len(read_steps_csv(tmp_path / "s.csv"))
    # the file analysed in-process gives the same steps as the CLI wrote (to the CSV's µs precision): the CLI
    # estimates each sensor's mounting first (--align auto, the default for files), as align_recording does
    from stridesync.core.mounting import align_recording

    direct = analyze(align_recording(read_wide_csv(session_csv))[0])
    assert [round(s.time_s, 6) for s in direct.steps] == [s.time_s for s in read_steps_csv(tmp_path / "s2.csv")]
    assert "weak link" in r1.stdout
    # --align given analyses the file's axes as they are
    r3 = run("analyze", session_csv, "--events", tmp_path / "e3.csv", "--steps", tmp_path / "s3.csv", "--reference",
             "--align", "given")
    assert r3.returncode == 0, r3.stderr
    given = analyze(read_wide_csv(session_csv))
    assert [round(s.time_s, 6) for s in given.steps] == [s.time_s for s in read_steps_csv(tmp_path / "s3.csv")]


BAD = {
    "missing_time": "left_shin_x,left_shin_y,left_shin_z\n1,2,3\n",
    "non_monotonic": "time_s,left_shin_x,left_shin_y,left_shin_z\n0.0,1,0,0\n0.01,1,0,0\n0.005,1,0,0\n",
    "unknown_column": "time_s,left_knee_x\n0.0,1\n",
    "non_numeric": "time_s,left_shin_x,left_shin_y,left_shin_z\n0.0,1,0,0\n0.01,one,0,0\n",
    "empty": "",
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_one_line_exit_2_no_outputs(tmp_path, case):
    src = tmp_path / "bad.csv"
    src.write_text(BAD[case])
    ev, st = tmp_path / "e.csv", tmp_path / "s.csv"
    r = run("analyze", src, "--events", ev, "--steps", st)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("stridesync analyze: error:")
    assert not ev.exists() and not st.exists()
    assert os.listdir(tmp_path) == ["bad.csv"]


def test_bad_arguments_and_unwritable_output(tmp_path, session_csv):
    r = run("analyze", session_csv)  # nothing to write: one line naming the outputs (any one of them will do)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--steps" in r.stderr, r.stderr
    r = run("analyze", session_csv, "--events", tmp_path / "nodir" / "e.csv", "--steps", tmp_path / "s.csv")
    assert r.returncode == 2 and "does not exist" in r.stderr and not (tmp_path / "s.csv").exists()
    r = run("analyze", session_csv, "--events", tmp_path / "e.csv", "--steps", tmp_path / "s.csv", "--target", "sometimes")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    r = run("simulate", tmp_path / "x.csv", "--cadence", 400)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "cadence" in r.stderr
    assert not (tmp_path / "x.csv").exists()


def test_demo_streams_virtual_sensors_and_names_the_weak_link():
    r = run("demo", "--seconds", 12)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    step_lines = [l for l in lines if l.strip() and l.strip()[0].isdigit()]
    assert len(step_lines) > 15
    health = [l for l in lines if "Hz" in l and "loss" in l]
    assert {l.split()[0] for l in health} == {"left_shin", "right_shin", "left_wrist", "right_wrist"}
    assert any(l.startswith("weak link:") and ("late by" in l or "early by" in l) for l in lines)


def test_live_virtual_writes_outputs_and_truth(tmp_path):
    r = run("live", "--virtual", "--seconds", 10, "--events", tmp_path / "e.csv", "--steps", tmp_path / "s.csv",
            "--health", tmp_path / "h.json", "--truth-dir", tmp_path / "truth")
    assert r.returncode == 0, r.stderr
    events = read_events_csv(tmp_path / "e.csv")
    truth = read_events_csv(tmp_path / "truth" / "events.csv")
    assert len(events) > 40 and len(truth) >= 0.9 * len(events)
    # the truth covers the span that was streamed, no more (the simulated run is longer than the session)
    assert max(e.time_s for e in truth) <= max(e.time_s for e in events) + 1.5
    health = json.loads((tmp_path / "h.json").read_text())
    assert len(health["sensors"]) == 4 and all(h["packets"] > 20 for h in health["sensors"])
    # the shins' events are the physical instants (the arms' rule reads the forearm: docs/measurement.md §9)
    shin = [e for e in events if e.role.is_shin]
    c = compare([e for e in truth if e.role.is_shin and shin[0].time_s <= e.time_s <= shin[-1].time_s], shin)
    assert c.precision >= 0.95


def test_live_needs_a_roster_or_virtual(tmp_path):
    r = run("live", "--seconds", 1)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "roster" in r.stderr
    bad = tmp_path / "roster.json"
    bad.write_text('{"sensors": [{"serial": "SS1", "role": "left_knee"}]}')
    r = run("live", "--roster", bad, "--seconds", 1)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "left_knee" in r.stderr


def test_scan_lists_virtual_sensors():
    r = run("scan", "--virtual", "--seconds", 1.5)
    assert r.returncode == 0, r.stderr
    rows = [l for l in r.stdout.splitlines() if l.startswith("StrideSync")]
    assert len(rows) == 4
    for row in rows:
        name, address, rssi, serial, role, battery = row.split()[:6]
        assert serial.startswith("SS") and name.endswith(serial[-4:])
        assert int(rssi) < 0 and role == "unassigned" and address.count(":") == 5


def test_scan_without_bluetooth_is_one_line():
    r = run("scan", "--seconds", 0.5)
    # on a machine with an adapter this lists what is in range; without one it must say so in one line
    if r.returncode != 0:
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
        assert "cannot use Bluetooth" in r.stderr and "--virtual" in r.stderr
    else:
        assert "no StrideSync sensors found" in r.stdout or "serial" in r.stdout


def test_analyze_rules_gyro_accel_and_auto(tmp_path, session_csv):
    """``--rules``: auto takes the gyroscope rules where the CSV has angular rate; accel forces the
    accelerometer rules on the same file; gyro on a file without angular rate is one line and exit 2."""
    for rules in ("auto", "accel"):
        r = run("analyze", session_csv, "--events", tmp_path / f"{rules}.csv", "--steps", tmp_path / f"{rules}_s.csv",
                "--rules", rules)
        assert r.returncode == 0, r.stderr
    auto, accel = read_events_csv(tmp_path / "auto.csv"), read_events_csv(tmp_path / "accel.csv")
    assert auto and {e.source for e in auto} == {"gyro"} and {e.unit for e in auto if e.kind.value == "swing"} == {"deg/s"}
    assert accel and {e.source for e in accel} == {"accel"} and {e.unit for e in accel} == {"g"}
    header = (tmp_path / "auto.csv").read_text().splitlines()[0]
    assert header == "role,event,time_s,amplitude,unit,stride_index,source"
    no_gyro = tmp_path / "acc_only.csv"
    rec = sim_cached(seed=21, duration_s=30.0, gyro=False).recording
    write_wide_csv(no_gyro, rec)
    r = run("analyze", no_gyro, "--events", tmp_path / "g.csv", "--steps", tmp_path / "g_s.csv", "--rules", "gyro")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "angular rate" in r.stderr
    assert not (tmp_path / "g.csv").exists()
    r = run("analyze", no_gyro, "--events", tmp_path / "a.csv", "--steps", tmp_path / "a_s.csv")
    assert r.returncode == 0 and {e.source for e in read_events_csv(tmp_path / "a.csv")} == {"accel"}


@pytest.mark.parametrize("args", [
    ("live", "--virtual", "--seconds", "0"),
    ("record", "--virtual", "--seconds", "nan", "--out", "{tmp}/x.stridesync"),
    ("demo", "--seconds", "-3"),
    ("scan", "--virtual", "--seconds", "inf"),
    ("record", "--virtual", "--seconds", "5", "--lap-every", "-1", "--out", "{tmp}/y.stridesync"),
])
def test_durations_must_be_positive_and_finite(tmp_path, args):
    """A zero, negative, infinite or NaN duration is a usage error: one line, exit 2, no session written
    (it used to record and report a 0-step session, or 400 laps at negative times)."""
    r = run(*(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "positive number of seconds" in r.stderr
    assert not list(tmp_path.iterdir())


def test_truth_dir_that_cannot_be_a_folder_is_one_line(tmp_path):
    a_file = tmp_path / "taken"
    a_file.write_text("")
    for args in (("simulate", tmp_path / "s.csv", "--seconds", 10, "--truth-dir", a_file),
                 ("simulate", tmp_path / "s.csv", "--seconds", 10, "--truth-dir", "/proc/no/such/dir"),
                 ("live", "--virtual", "--seconds", 5, "--truth-dir", a_file)):
        r = run(*args)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "--truth-dir" in r.stderr and "Traceback" not in r.stderr
        assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize("dt, acc, expect", [
    (1.0, (1.0, 0.0, 0.0), "sampled at 1 Hz"),                    # an import with the time unit wrong: crashed the core
    (0.05, (1.0, 0.0, 0.0), "sampled at 20 Hz"),                  # a 20 Hz sensor: analysed into nonsense
    (5.0, (1.0, 0.0, 0.0), "look like milliseconds"),             # 200 Hz with times in ms read as s
    (0.005, (9.81, 0.0, 0.0), "gravity in m/s²"),                 # m/s² read as g
])
def test_implausible_rates_and_units_are_named_not_analysed(tmp_path, dt, acc, expect):
    """#11 items 1 and 5: one line naming the likely mistake, exit 2, nothing written (analyze and import)."""
    from stridesync.model import Role, RoleSamples
    t = np.arange(2000) * dt
    a = np.tile(acc, (2000, 1)) + np.random.default_rng(1).normal(0, 0.02, (2000, 3))
    write_wide_csv(tmp_path / "in.csv", {Role.LEFT_SHIN: RoleSamples(Role.LEFT_SHIN, t, a)})
    for args in (("analyze", tmp_path / "in.csv", "--events", tmp_path / "e.csv", "--steps", tmp_path / "s.csv"),
                 ("analyze", tmp_path / "in.csv", "--events", tmp_path / "e.csv", "--steps", tmp_path / "s.csv", "--reference"),
                 ("import", tmp_path / "in.csv", "--out", tmp_path / "x.stridesync")):
        r = run(*args)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert expect in r.stderr and "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_record_exits_non_zero_when_the_disk_fills(tmp_path):
    """#11 item 14: the live session goes on when the disk fills, but the exit code says the requested file
    is incomplete (it used to exit 0)."""
    import resource
    import signal as _signal

    def small_disk():  # a 100 kB disk for the child (an 8 s recording is ~200 kB): writes beyond fail with EFBIG
        _signal.signal(_signal.SIGXFSZ, _signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    out = tmp_path / "full.stridesync"
    r = subprocess.run([*EXE, "record", "--virtual", "--seconds", "8", "--out", str(out)], capture_output=True,
                       text=True, timeout=300, preexec_fn=small_disk)
    assert r.returncode == 1, (r.returncode, r.stderr[-500:])
    assert "recording stopped early" in r.stdout and "incomplete" in r.stderr
    assert "session:" in r.stdout  # the live session itself went on to its end


def test_automatic_laps_do_not_start_in_the_last_quarter_lap(tmp_path):
    """#11 item 14: ``record --lap-every`` no longer starts a lap that ends empty (or after the session)."""
    from stridesync.session.store import Session
    out = tmp_path / "laps.stridesync"
    r = run("record", "--virtual", "--seconds", 8, "--lap-every", 3, "--out", out)
    assert r.returncode == 0, r.stderr
    with Session.open(out) as s:
        laps = s.laps()
        assert [m.label for m in laps] == ["lap 1", "lap 2"]
        assert all(m.t_s <= s.duration_s - 1.0 for m in laps)


def test_report_takes_the_target_model_asked_for(tmp_path):
    """#11 item 10: ``report SESSION --target baseline`` used to be ignored (the report said "together")."""
    sample = os.path.join(os.path.dirname(__file__), "..", "recordings", "sample_run.stridesync")
    for target in ("baseline", "together"):
        r = run("report", sample, "--out", tmp_path / f"{target}.html", "--target", target)
        assert r.returncode == 0, r.stderr
    base, tog = ((tmp_path / f"{t}.html").read_text() for t in ("baseline", "together"))
    assert "target model: baseline" in base and "target model: together" in tog
    score = {t: float(re.search(r'data-key="sync_score" data-value="([^"]+)"', h).group(1))
             for t, h in (("baseline", base), ("together", tog))}
    assert score["baseline"] > score["together"] + 10  # the runner's own pattern is closer to itself
