"""Sessions: recording a real virtual live session, replay determinism, export, import, faults.

Real SQLite files and real subprocesses throughout; the live session runs once (module fixture).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from stridesync import cli
from stridesync.io import read_wide_csv
from stridesync.live_run import LiveOptions, run_live
from stridesync.model import Role
from stridesync.session.replay import Replay, replay, session_recording
from stridesync.session.store import Kind, Session, SessionError
from stridesync.sim import SimParams

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "recordings" / "sample_run.stridesync"


def _key(e):
    return (e.time_s, e.role.value, e.kind.value)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A 10 s virtual live session (bumble radio, bleak backend) recorded to a session file."""
    path = tmp_path_factory.mktemp("live") / "run.stridesync"
    res = asyncio.run(run_live(LiveOptions(
        seconds=10.0, sim_params=SimParams(duration_s=35.0, standing_start_s=1.0, contra_arm_lag_ms=30.0),
        record_to=path, athlete="Ana <Silva>", notes="fixture", tags=("test", "virtual"), lap_every_s=4.0)))
    assert res.recorder.error is None
    return path, res


def test_recorded_session_holds_everything(live):
    path, res = live
    with Session.open(path) as s:
        assert s.schema_version == 2 and s.complete and s.source == "live" and not s.results_outdated
        assert s.athlete == "Ana <Silva>" and s.tags == ["test", "virtual"] and s.notes == "fixture"
        assert s.detector_config == res.analyzer.config
        assert {x.role for x in s.sensors} == set(Role) and all(x.rate_hz == 200.0 for x in s.sensors)
        assert all(x.firmware and x.address for x in s.sensors)
        assert s.count(Kind.PACKET) == sum(len(v) for v in res.analyzer.arrival_log.values())
        assert s.count(Kind.EXCHANGE) > 20 and s.count(Kind.TICK) > 20 and s.count(Kind.FINISH) == 1
        assert [m.label for m in s.laps()] == ["lap 1", "lap 2"]
        clocks = s.clock_estimates()
        assert clocks and {"offset_s", "drift", "ref_sensor_us"} <= set(clocks[0][2])
        # every packet: its arrival time and its header's sensor time
        first = next(s.inputs(kinds=(Kind.PACKET,)))
        assert first.sensor_us is not None and first.n > 0 and first.t_s > 0
        assert s.events("live") == res.analyzer.core.events_ and s.steps("live") == res.analyzer.core.steps_
        assert len(res.analyzer.core.steps_) >= 10
        assert s.summary("live")["n_steps"] == len(res.analyzer.core.steps_)


def test_replay_is_bit_identical_to_live(live):
    path, res = live
    core = res.analyzer.core
    with Session.open(path) as s:
        fast = replay(s)  # as fast as possible: the core gets ~1 s batches
        paced = Replay(s, speed=200.0).run()  # paced: the very same calls as live
    assert paced.events == core.events_ and paced.steps == core.steps_
    assert sorted(fast.events, key=_key) == sorted(core.events_, key=_key)
    assert fast.steps == core.steps_ and fast.summary == core.summary()


def test_replay_pause_and_seek_are_deterministic(live):
    path, res = live
    with Session.open(path) as s:
        r = Replay(s, speed=20.0)
        seen = []
        r.on_update = lambda ev, st, a: seen.extend(st)
        import threading
        th = threading.Thread(target=lambda: setattr(r, "result", r.run()))
        th.start()
        time.sleep(0.2)
        r.pause()
        time.sleep(0.2)
        pos = r.position_s
        time.sleep(0.2)
        assert r.position_s == pos  # paused: nothing moves
        r.seek(r.t_start_s + 8.0)
        r.resume()
        r.speed = None  # then as fast as possible to the end
        th.join(30)
    assert not th.is_alive()
    assert r.result.steps == res.analyzer.core.steps_


def test_export_live_and_recompute_are_identical(live, tmp_path):
    path, _ = live
    a = [tmp_path / f"a.{x}" for x in ("events.csv", "steps.csv", "json")]
    b = [tmp_path / f"b.{x}" for x in ("events.csv", "steps.csv", "json")]
    assert cli.main(["export", str(path), "--events", str(a[0]), "--steps", str(a[1]), "--summary", str(a[2])]) == 0
    assert cli.main(["export", str(path), "--events", str(b[0]), "--steps", str(b[1]), "--summary", str(b[2]),
                     "--recompute"]) == 0
    for x, y in zip(a, b):
        assert x.read_bytes() == y.read_bytes()
    assert len(a[1].read_text().splitlines()) > 10


def test_csv_round_trip_export_import_same_samples(live, tmp_path):
    path, _ = live
    w1, w2, s2 = tmp_path / "w1.csv", tmp_path / "w2.csv", tmp_path / "imp.stridesync"
    assert cli.main(["export", str(path), "--samples", str(w1)]) == 0
    assert cli.main(["import", str(w1), "--out", str(s2), "--athlete", "Ana"]) == 0
    with Session.open(s2) as imp:
        assert imp.source == "import" and imp.athlete == "Ana"
        back = session_recording(imp)
        # the imported session replays through the same core as its import-time analysis
        assert replay(imp).steps == imp.steps("live") and len(imp.steps("live")) > 5
    ref = read_wide_csv(w1)
    assert set(back) == set(ref)
    for role in ref:
        assert np.array_equal(back[role].time_s, ref[role].time_s)
        assert np.array_equal(back[role].acc_g, ref[role].acc_g)
    assert cli.main(["export", str(s2), "--samples", str(w2)]) == 0
    assert w1.read_bytes() == w2.read_bytes()
    # the exported samples are what reached the core live: within int16 quantisation of the simulator's
    with Session.open(path) as s:
        rec = session_recording(s)
    assert all(len(rec[r]) > 1000 for r in Role)


def test_import_of_another_device_through_a_column_mapping(tmp_path):
    from stridesync.session.importer import STANDARD_GRAVITY
    from tests.conftest import sim_cached

    sim = sim_cached(seed=4, duration_s=30.0, standing_start_s=2.0)
    rec = sim.recording
    n = min(len(s) for s in rec.values())
    t_ms = rec[Role.LEFT_SHIN].time_s[:n] * 1000.0
    ls, rs = rec[Role.LEFT_SHIN].acc_g[:n], rec[Role.RIGHT_SHIN].acc_g[:n]
    lines = ["timestamp_ms;AccX_L;AccY_L;AccZ_L;AccX_R;AccY_R;AccZ_R"]
    # the device's frame: its X is our -y, its Y our x, its Z our z; in m/s²
    for k in range(n):
        a, b = ls[k] * STANDARD_GRAVITY, rs[k] * STANDARD_GRAVITY
        lines.append(";".join(repr(float(v)) for v in (t_ms[k], -a[1], a[0], a[2], -b[1], b[0], b[2])))
    src = tmp_path / "device.csv"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "dev.stridesync"
    assert cli.main(["import", str(src), "--out", str(out), "--map", "left_shin=AccY_L,-AccX_L,AccZ_L",
                     "--map", "right_shin=AccY_R,-AccX_R,AccZ_R", "--time-col", "timestamp_ms", "--time-unit", "ms",
                     "--units", "m/s2"]) == 0
    with Session.open(out) as s:
        got = session_recording(s)
        assert len(s.steps("live")) > 20
    assert np.allclose(got[Role.LEFT_SHIN].acc_g, ls, atol=1e-12)
    assert np.allclose(got[Role.RIGHT_SHIN].time_s, t_ms / 1000.0, atol=1e-12)


KILL_CHILD = textwrap.dedent("""
    import sys
    from stridesync.core.config import DetectorConfig
    from stridesync.live import LiveAnalyzer
    from stridesync.session.recorder import Recorder
    from stridesync.session.store import SensorInfo
    from stridesync.session.synth import feed, sensor_infos, synth_inputs
    from stridesync.sim import SimParams, simulate

    sim = simulate(SimParams(duration_s=40.0, standing_start_s=1.0), seed=5)
    sensors, items = synth_inputs(sim, seed=5)
    rec = Recorder(sys.argv[1], sensors=sensor_infos(sensors), config=DetectorConfig())
    a = LiveAnalyzer(sensors, sink=rec)
    rec.bind(a)
    print("start", flush=True)
    feed(items, a, pace=1.0, on_fed=lambda t: print(f"fed {t!r}", flush=True))
""")


def test_kill_9_mid_recording_loses_at_most_one_second(tmp_path):
    from stridesync.core.config import DetectorConfig
    from stridesync.live import LiveAnalyzer
    from stridesync.session.synth import feed
    from stridesync.sim import simulate

    path = tmp_path / "killed.stridesync"
    child = subprocess.Popen([sys.executable, "-c", KILL_CHILD, str(path)], stdout=subprocess.PIPE, text=True,
                             cwd=REPO)
    fed = None
    for line in child.stdout:
        if line.startswith("fed "):
            fed = float(line.split()[1])
            if fed >= 6.0:
                break
    child.send_signal(signal.SIGKILL)
    for line in child.stdout:  # what it fed before it died
        if line.startswith("fed "):
            fed = float(line.split()[1])
    child.wait()
    assert child.returncode == -signal.SIGKILL and fed is not None and fed >= 6.0
    with Session.open(path) as s:
        assert not s.complete and not s.has_results("live")
        n = s.n_inputs
        last = max(i.t_s for i in s.inputs())
        assert fed - last <= 1.0, f"lost {fed - last:.2f} s"
        r = replay(s)
    # the partial file replays exactly like the same first n inputs fed live, then finished
    from stridesync.session.synth import synth_inputs as _si
    from stridesync.sim import SimParams
    sensors, items = _si(simulate(SimParams(duration_s=40.0, standing_start_s=1.0), seed=5), seed=5)
    a = LiveAnalyzer(sensors, config=DetectorConfig())
    feed(items[:n], a)
    a.finish()
    assert r.steps == a.core.steps_ and len(r.steps) > 3
    # and the CLI exports it, recomputing (there are no live results), saying so
    assert cli.main(["export", str(path), "--steps", str(tmp_path / "k.csv")]) == 0
    # ... and builds the athlete's report from it, with the recomputed numbers and a provenance that says so
    from stridesync_ui.report import report_data_from_session
    assert cli.main(["report", str(path), "--out", str(tmp_path / "k.html")]) == 0
    html = (tmp_path / "k.html").read_text()
    assert "recomputed from the recorded inputs" in html
    with Session.open(path) as s:
        data = report_data_from_session(s)
    assert data.steps == r.steps and data.summary == r.summary
    loss = {x["serial"]: x["loss_pct"] for x in data.provenance["sensors"]}
    assert all(v is not None and 0.0 <= v < 5.0 for v in loss.values()), loss  # from the replay's own health


DISK_FULL_CHILD = textwrap.dedent("""
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # writes past the limit fail with EFBIG instead
    from stridesync.core.config import DetectorConfig
    from stridesync.live import LiveAnalyzer
    from stridesync.session.recorder import Recorder
    from stridesync.session.store import SensorInfo
    from stridesync.session.synth import feed, sensor_infos, synth_inputs
    from stridesync.sim import SimParams, simulate

    sim = simulate(SimParams(duration_s=60.0, standing_start_s=1.0), seed=6)
    sensors, items = synth_inputs(sim, seed=6)
    errors = []
    rec = Recorder(sys.argv[1], sensors=sensor_infos(sensors),
                   config=DetectorConfig(), commit_every_s=0.05, on_error=errors.append)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))   # a 200 kB disk
    a = LiveAnalyzer(sensors, sink=rec)
    half = len(items) // 2
    feed(items[:half], a, pace=20.0)   # the writer commits as it goes, until the disk is full
    feed(items[half:], a)
    rec.close(events=a.core.events_, steps=a.core.steps_, summary=a.core.summary())
    print(len(errors), len(a.core.steps_), rec.written, rec.dropped, len(items))
    print(errors[0] if errors else "")
""")


def test_disk_full_stops_recording_cleanly_and_keeps_what_was_written(tmp_path):
    path = tmp_path / "full.stridesync"
    out = subprocess.run([sys.executable, "-c", DISK_FULL_CHILD, str(path)], capture_output=True, text=True,
                         cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    counts, message = out.stdout.strip().split("\n")
    n_err, n_steps, written, dropped, total = map(int, counts.split())
    assert n_err == 1 and "disk full" in message and "\n" not in message
    assert n_steps > 50  # the live session went on to the end
    assert 0 < written < total and dropped > 0
    with Session.open(path) as s:
        assert s.n_inputs == written and not s.complete
        assert len(replay(s).steps) > 0


# ------------------------------------------------------------------------------------------ bad input
def _run_cli(args, capsys):
    code = cli.main([str(a) for a in args])
    err = capsys.readouterr().err
    return code, err


@pytest.fixture
def bad_files(tmp_path, live):
    path, _ = live
    data = path.read_bytes()
    files = {}
    files["truncated"] = tmp_path / "truncated.stridesync"
    files["truncated"].write_bytes(data[: len(data) // 3])
    corrupt = bytearray(data)
    for k in range(4096, len(corrupt), 8192):
        corrupt[k:k + 512] = os.urandom(512)
    files["corrupt"] = tmp_path / "corrupt.stridesync"
    files["corrupt"].write_bytes(bytes(corrupt))
    files["foreign_text"] = tmp_path / "notes.stridesync"
    files["foreign_text"].write_text("time_s,left_shin_x\n1,2\n")
    files["foreign_sqlite"] = tmp_path / "other.stridesync"
    con = sqlite3.connect(files["foreign_sqlite"])
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    files["newer"] = tmp_path / "newer.stridesync"
    files["newer"].write_bytes(data)
    con = sqlite3.connect(files["newer"])
    con.execute("PRAGMA user_version=7")
    con.commit()
    con.close()
    return files


@pytest.mark.parametrize("which,words", [("truncated", "truncated"), ("corrupt", "corrupt"),
                                         ("foreign_text", "not a StrideSync session"),
                                         ("foreign_sqlite", "not a StrideSync session"),
                                         ("newer", "newer StrideSync (schema 7); update")])
def test_bad_session_files_give_one_line_and_exit_2(bad_files, which, words, capsys, tmp_path):
    with pytest.raises(SessionError):
        Session.open(bad_files[which]).close()
    out = tmp_path / "e.csv"
    code, err = _run_cli(["export", bad_files[which], "--events", out], capsys)
    assert code == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()
    code, err = _run_cli(["replay", bad_files[which], "--fast"], capsys)
    assert code == 2 and err.count("\n") == 1


def test_bad_csvs_and_outputs_give_one_line_and_exit_2(tmp_path, capsys, live):
    path, _ = live
    back = tmp_path / "back.csv"
    back.write_text("time_s,left_shin_x,left_shin_y,left_shin_z\n0.0,1,0,0\n0.01,1,0,0\n0.005,1,0,0\n")
    code, err = _run_cli(["import", back, "--out", tmp_path / "a.stridesync"], capsys)
    assert code == 2 and "increase" in err and err.count("\n") == 1
    dev = tmp_path / "dev.csv"
    dev.write_text("t,ax,ay,az\n0,1,0,0\n10,1,0,0\n5,1,0,0\n")
    code, err = _run_cli(["import", dev, "--out", tmp_path / "b.stridesync", "--map", "left_shin=ax,ay,az",
                          "--time-col", "t", "--time-unit", "ms"], capsys)
    assert code == 2 and "line 4" in err and "not strictly increasing" in err
    code, err = _run_cli(["import", dev, "--out", tmp_path / "c.stridesync", "--map", "left_shin=ax,ay,gz",
                          "--rate", "100"], capsys)
    assert code == 2 and "column 'gz' not found" in err
    code, err = _run_cli(["import", dev, "--out", tmp_path / "d.stridesync"], capsys)
    assert code == 2 and err.count("\n") == 1  # not the contract's format, and no mapping
    assert not any(p.suffix == ".stridesync" or p.name.endswith(".tmp") for p in tmp_path.iterdir())
    # unwritable outputs: nothing is written, nothing is left
    code, err = _run_cli(["export", path, "--events", tmp_path / "e.csv", "--steps", tmp_path / "no" / "s.csv"], capsys)
    assert code == 2 and "does not exist" in err and not (tmp_path / "e.csv").exists()
    code, err = _run_cli(["record", "--virtual", "--seconds", "1", "--out", path], capsys)
    assert code == 2 and "already exists" in err
    code, err = _run_cli(["import", back, "--out", tmp_path / "no" / "x.stridesync"], capsys)
    assert code == 2 and "does not exist" in err


def test_sessions_listing(live, tmp_path, capsys):
    path, res = live
    (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "junk.stridesync").write_text("nope")
    assert cli.main(["sessions", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["file", "athlete", "date"]
    row = next(line for line in out if line.startswith(path.name))
    assert "Ana <Silva>" in row and f" {len(res.analyzer.core.steps_)} " in row
    assert any(line.startswith("junk.stridesync") and "unreadable" in line for line in out)


@pytest.mark.skipif(not SAMPLE.exists(), reason="recordings/sample_run.stridesync not generated")
def test_sample_session_replays_like_it_was_recorded():
    with Session.open(SAMPLE) as s:
        assert s.complete and len(s.sensors) == 4 and 120.0 <= s.duration_s <= 200.0
        assert len(s.laps()) >= 2 and s.athlete
        assert SAMPLE.stat().st_size < 8_000_000
        r = replay(s)
        assert r.steps == s.steps("live") and sorted(r.events, key=_key) == sorted(s.events("live"), key=_key)
        wl = s.summary("live")["weak_link"]
    assert wl and "arm" in wl["text"]


V1_SESSION = Path(__file__).with_name("data") / "v1_session.stridesync"


def test_a_session_from_contract_version_1_replays_exports_and_reports_with_the_current_rules(tmp_path):
    """A schema-1 file (recorded under measurement contract v1, accelerometer packets only): it opens, its
    cached v1 results are not used, and replay, export and report recompute them with today's rules and say so."""
    import shutil

    from stridesync.io import read_events_csv
    from stridesync.session.export import export_session
    path = tmp_path / "old.stridesync"
    shutil.copy(V1_SESSION, path)
    with Session.open(path) as s:
        assert s.schema_version == 1 and s.results_outdated and not s.has_results("live")
        assert s.events("live") == [] and s.summary("live") is None
        res = export_session(s, events=tmp_path / "e.csv", steps=tmp_path / "s.csv")
        assert res.source == "recompute" and "contract v1" in res.note
        r = replay(s)
        assert r.steps == res.steps and sorted(r.events, key=_key) == res.events
    # its packets carry no angular rate: the accelerometer rules analyse it. (Its runner is version 1's
    # simulator, whose accelerations were shaped for version 1's features, not a tibia's: few strides count.)
    events = read_events_csv(tmp_path / "e.csv")
    assert {e.source for e in events} <= {"accel"} and len(events) == len(res.events)
    from stridesync.report.data import report_data_from_session
    with Session.open(path) as s:
        data = report_data_from_session(s)
    assert "contract v1" in data.provenance["analyser"] and len(data.steps) == len(res.steps)


def test_a_damaged_cached_summary_costs_its_results_not_the_listing(live, tmp_path, capsys):
    """A session whose stored summary is not valid JSON (#11 item 4): ``sessions`` still lists it (and every
    other file), and ``export`` and ``report`` recompute its results from the inputs and say why."""
    import shutil

    from stridesync.cli import main
    src, res = live
    folder = tmp_path / "sessions"
    folder.mkdir()
    good, bad = folder / "good.stridesync", folder / "bad.stridesync"
    shutil.copy(src, good)
    shutil.copy(src, bad)
    con = sqlite3.connect(bad)
    con.execute("UPDATE summary SET json = '{not json' WHERE source = 'live'")
    con.commit()
    con.close()
    assert main(["sessions", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "good.stridesync" in out and "bad.stridesync" in out
    assert main(["export", str(bad), "--steps", str(tmp_path / "s.csv"), "--summary", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    assert "recomputed" in out and "damaged" in out
    import json as _json
    assert _json.loads((tmp_path / "s.json").read_text())["n_steps"] == len(res.analyzer.core.steps_)
    assert main(["report", str(bad), "--out", str(tmp_path / "r.html")]) == 0
    assert "cached results are damaged" in (tmp_path / "r.html").read_text()
