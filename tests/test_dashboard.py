"""The Qt dashboard under pytest-qt (offscreen): a real virtual live session, a replay, errors, the CLI.

The live test runs four virtual sensors on the virtual radio in real time (the acquisition's initial scan
alone takes 5 s), so it is one session that checks, in order: traces move and steps appear; a sensor drop
is shown in words; its recovery is shown; after stopping, every number on screen equals the core's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt  # noqa: E402

from stridesync.model import LAG_NAMES, Role  # noqa: E402
from stridesync.sim import SimParams, simulate  # noqa: E402
from stridesync.sources.virtual import LinkModel  # noqa: E402
from stridesync_ui.app import DashboardWindow  # noqa: E402
from stridesync.report.weak import weak_link_text  # noqa: E402
from stridesync.report.words import pci_words  # noqa: E402
from stridesync_ui.snapshot import (DashSnapshot, SampleRing, SensorWatch, balance_words, fmt,  # noqa: E402
                                    weak_link_words)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def shown(window: DashboardWindow) -> dict[str, str]:
    """What the coach reads, from the widgets' text."""
    sp = window.sync
    out = {"score": sp.score.text(), "score_last": sp.score_last.text(), "weak": sp.weak.text(),
           "cadence": sp.tiles["cadence"].text(), "stride": sp.tiles["stride"].text(),
           "contact": sp.tiles["contact"].text(), "flight": sp.tiles["flight"].text(),
           "contact_cv": sp.cvs["contact"].text(), "flight_cv": sp.cvs["flight"].text(),
           "balance_contact": sp.balance_contact.text(), "balance_stride": sp.balance_stride.text(), "pci": sp.pci.text()}
    for name in LAG_NAMES:
        out[name] = sp.lag_values[name].text()
    return out


def expected(core, *, ended: bool = False) -> dict[str, str]:
    """The same numbers computed from the core directly, formatted as the dashboard formats them: the last
    20 steps while running, the whole session (``core.summary()``, what the report shows) once ended."""
    r = core.summary() if ended else core.rolling()
    st = core.steps_[-1]
    weak_steps = core.steps_ if ended else core.steps_[-core.config.window_steps:]
    out = {"score": fmt(r["sync_score"]), "score_last": fmt(st.sync_score),
           "weak": weak_link_text(weak_steps, core.targets_ms or {}),
           "cadence": fmt(r["cadence_spm"]), "stride": fmt(r["stride_time_s"] * 1000.0),
           "contact": fmt(r["contact_time_s"] * 1000.0), "flight": fmt(r["flight_time_s"] * 1000.0),
           "contact_cv": f"CV {fmt(r['contact_time_cv_pct'], '.1f', ' %')}",
           "flight_cv": f"CV {fmt(r['flight_time_cv_pct'], '.1f', ' %')}",
           "balance_contact": balance_words(r["balance"]["contact_time_sa_pct"], "ground contact"),
           "balance_stride": balance_words(r["balance"]["stride_time_sa_pct"], "stride time"),
           "pci": pci_words(r["pci_pct"])}
    for name in LAG_NAMES:
        ms, pct = getattr(st, f"{name}_ms"), getattr(st, f"{name}_pct")
        out[name] = f"{fmt(ms, '+.0f', ' ms')} {fmt(pct, '+.0f', '%')}"
    return out


def test_live_virtual_session_traces_drop_recovery_numbers_and_recording(qtbot, settings, tmp_path):
    from stridesync_ui.worker import live_supports_recording

    drop_at, drop_s = 13.0, 3.0
    links = {r: LinkModel(interval_s=0.02, seed=k) for k, r in enumerate(Role)}
    links[Role.RIGHT_SHIN] = LinkModel(interval_s=0.02, drops=((drop_at, drop_s),), seed=9)
    # the runner stands 4 s first, as a user does: each sensor's mounting is estimated from it and the first
    # strides well before the drop (with 1 s the estimate needed 15 strides and could fall after the drop)
    params = SimParams(duration_s=60.0, standing_start_s=4.0, standing_end_s=5.0, swing_lag_ms=30.0)
    fleets = []
    w = DashboardWindow(source="virtual:seed=1", seconds=40.0, settings=settings,
                        live_kwargs={"links": links, "sim_params": params, "on_fleet": fleets.append})
    qtbot.addWidget(w)
    w.show()
    assert not any(b.isEnabled() for b in w.sensors.identify.values())  # nothing to blink before a session
    record = live_supports_recording()
    if record:
        settings.setValue("session_dir", str(tmp_path / "sessions"))
        w.controls.athlete.setText("Ana Silva")
        w.controls.record.setChecked(True)  # armed: the next start records
    w.start_live()
    seen = []  # (state, sensor rows) of every snapshot: the analyser is there before any sensor connects
    w.source.bridge.sigSnapshot.connect(lambda s: seen.append((s.state, len(s.sensors))))
    assert "LIVE" in w.windowTitle()
    assert ("RECORDING" in w.windowTitle()) == record

    # within seconds of the sensors streaming: traces move and steps appear
    qtbot.waitUntil(lambda: w.snap is not None and w.snap.n_steps >= 3
                    and w.traces.curves[Role.LEFT_WRIST].xData is not None, timeout=25000)
    assert ("connecting", 4) in seen, seen[:5]  # sensor rows while connecting (LiveOptions.on_start)
    t_first = w.traces.curves[Role.LEFT_WRIST].xData[-1]
    n_first = w.snap.n_steps
    qtbot.waitUntil(lambda: w.traces.curves[Role.LEFT_WRIST].xData[-1] > t_first + 1.0, timeout=5000)  # traces move
    qtbot.waitUntil(lambda: w.snap.n_steps > n_first + 2, timeout=8000)  # steps keep coming
    for role in Role:
        assert len(w.traces.curves[role].xData) > 200
        # the views stay on the last 8 s and the items move; each item's idea of what is visible must move
        # with it (pyqtgraph caches it), or the markers of the newest seconds are not drawn
        vr, now = w.traces.markers[role].viewRect(), w.traces.t_now_s
        assert abs(vr.right() - now) < 0.05 and abs(vr.left() - (now - 8.0)) < 0.05, (vr, now)
    assert "steps" in w.windowTitle()
    assert w.sensors.cells[Role.LEFT_SHIN]["state"].text() == "streaming"
    assert w.sensors.cells[Role.LEFT_SHIN]["rate"].text().endswith("Hz")

    # which sensor is which: Identify makes that virtual sensor's LED blink (IDENTIFY over the real bleak API)
    button = w.sensors.identify[Role.LEFT_WRIST]
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    sensor = fleets[0].sensors[Role.LEFT_WRIST]
    qtbot.waitUntil(lambda: bool(sensor.identify_log) and "LED blinking" in w.statusBar().currentMessage(), timeout=5000)
    assert sensor.identify_log[-1][1] == 5 and sensor.serial in w.statusBar().currentMessage()
    assert not any(s.identify_log for r, s in fleets[0].sensors.items() if r is not Role.LEFT_WRIST)

    # the right shin walks out of range: shown at once, in words, in the banner, the panel and the title
    qtbot.waitUntil(lambda: w.alert.isVisible() and "RIGHT SHIN" in w.alert.text(), timeout=int((drop_at + 8) * 1000))
    down_text = w.alert.text()
    assert any(word in down_text for word in ("NO DATA", "LOST", "STALLED")), down_text
    assert w.sensors.cells[Role.RIGHT_SHIN]["state"].text() != "streaming"
    assert w.sensors.cells[Role.LEFT_SHIN]["state"].text() == "streaming"
    assert "RIGHT SHIN" in w.windowTitle()

    # ... and comes back: the alert goes, a recovery notice says so
    qtbot.waitUntil(lambda: w.notice.isVisible() and "RIGHT SHIN back" in w.notice.text(), timeout=15000)
    assert not w.alert.isVisible()
    assert w.sensors.cells[Role.RIGHT_SHIN]["state"].text() == "streaming"

    # the coach takes the left wrist out (a flat battery, say) from the row's menu: it is told to stop, shows
    # 'off' without an alarm, and the legs go on; then it is brought back and streams again
    def row_actions():
        return {a.text().split()[0]: a for a in w.sensors.row_menu(Role.LEFT_WRIST).actions()}

    stops_before = sensor.stop_commands
    assert row_actions()["Disconnect"].isEnabled() and not row_actions()["Reconnect"].isEnabled()
    row_actions()["Disconnect"].trigger()
    qtbot.waitUntil(lambda: w.sensors.cells[Role.LEFT_WRIST]["state"].text().startswith("off"), timeout=5000)
    assert sensor.stop_commands == stops_before + 1
    n_steps = w.snap.n_steps
    qtbot.waitUntil(lambda: w.snap.n_steps > n_steps + 2, timeout=8000)  # steps go on without that arm
    assert w.sensors.cells[Role.LEFT_WRIST]["state"].text().startswith("off") and not w.alert.isVisible()
    assert row_actions()["Reconnect"].isEnabled() and not row_actions()["Disconnect"].isEnabled()
    row_actions()["Reconnect"].trigger()
    qtbot.waitUntil(lambda: w.sensors.cells[Role.LEFT_WRIST]["state"].text() == "streaming", timeout=15000)
    t_back = w.traces.curves[Role.LEFT_WRIST].xData[-1]
    qtbot.waitUntil(lambda: w.traces.curves[Role.LEFT_WRIST].xData[-1] > t_back + 1.0, timeout=5000)
    assert not w.alert.isVisible()

    # stop: the final snapshot is published; every number shown equals the core's
    w.stop_source()
    qtbot.waitUntil(lambda: not w.source.running and w.snap.state == "stopped", timeout=10000)
    qtbot.wait(100)  # at least one frame renders the final snapshot
    analyzer = w.source.analyzer
    core = analyzer.core
    assert len(core.steps_) >= 10
    assert shown(w) == expected(core, ended=True)
    assert w.sync.score_caption.text().startswith("SYNC SCORE · whole session")
    for key, s in analyzer.sensors.items():  # traces start with the first sample the core received
        ring = w.source.builder.rings[s.role]
        first_packet_end_s = analyzer.mapping_log[key][0][1]
        assert first_packet_end_s - 0.5 <= ring.first_s <= first_packet_end_s, (key, ring.first_s, first_packet_end_s)
    assert w.snap.n_steps == len(core.steps_)
    assert "stopped" in w.windowTitle()
    if record:  # record and stop give a valid, complete session file with the athlete and every step
        from stridesync.session.store import Session

        files = list((tmp_path / "sessions").iterdir())
        assert len(files) == 1 and files[0].name.startswith("Ana_Silva_")
        with Session.open(files[0]) as sess:
            assert sess.complete and sess.athlete == "Ana Silva"
            assert sess.duration_s > 5
            assert len(sess.steps()) == len(core.steps_)
    stats = w.frame_stats()
    assert stats["fps"] > 20 and stats["frames"] > 200, stats


@pytest.fixture(scope="module")
def run_csv(tmp_path_factory):
    from stridesync.io import write_wide_csv

    path = tmp_path_factory.mktemp("replay") / "run.csv"
    sim = simulate(SimParams(duration_s=40.0, standing_start_s=1.0, standing_end_s=3.0, swing_lag_ms=30.0), seed=4)
    write_wide_csv(path, sim.recording)
    return path


def test_replay_shows_the_same_numbers_as_the_offline_realtime_analysis(qtbot, settings, run_csv):
    from stridesync.io import read_wide_csv
    from stridesync.pipeline import run_realtime

    w = DashboardWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    assert w.open_replay(run_csv)
    assert w.replay_bar.isVisible()
    assert "REPLAY run.csv" in w.windowTitle()
    w.replay_bar.speed.setCurrentIndex(w.replay_bar.speed.findData(8.0))
    qtbot.waitUntil(lambda: w.snap is not None and w.snap.n_steps >= 5, timeout=15000)
    # seek to the end: the core is fed at full speed to there
    w.replay_bar.sigSeek.emit(1e9)
    qtbot.waitUntil(lambda: w.snap is not None and w.snap.state == "finished", timeout=15000)
    qtbot.wait(100)
    recording = read_wide_csv(run_csv)
    _, core = run_realtime(recording, config=w.source.config)
    assert w.snap.n_steps == len(core.steps_)
    assert shown(w) == expected(core, ended=True)
    assert w.sync.tiles["flight"].text() not in ("", "—")  # the flight time is measured next to ground contact
    assert "finished" in w.windowTitle()
    # measurement contract v2: every sensor streams angular rate, so every one is analysed with the gyro rules,
    # and each trace is the signal those rules read: the forward swing rate −ω_z, in deg/s
    for role in Role:
        assert w.sensors.cells[role]["rules"].text() == "gyro"
        assert_trace_is(w, role, recording[role], -recording[role].gyro_dps[:, 2])
    assert w.traces.trace_name(Role.LEFT_SHIN) == "Left shin, forward swing rate (deg/s)"
    assert w.traces.trace_name(Role.RIGHT_WRIST) == "Right wrist, forward swing rate (deg/s)"
    assert w.sensors.clipped.isHidden()  # nothing clipped at 2000 deg/s
    assert not w.replay_bar.playing  # at the end: Play starts over
    w.toggle_play()
    qtbot.waitUntil(lambda: w.snap.state == "running" and w.snap.n_steps < len(core.steps_), timeout=10000)
    w.close()


def assert_trace_is(w: DashboardWindow, role: Role, samples, signal) -> None:
    """The trace drawn for ``role`` holds exactly ``signal`` (one value per sample of ``samples``, a
    RoleSamples) at its sample times, gap markers aside."""
    import numpy as np

    curve = w.traces.curves[role]
    t, y = np.asarray(curve.xData), np.asarray(curve.yData)
    ok = np.isfinite(y)
    assert ok.sum() > 200, role
    k = np.searchsorted(samples.time_s, t[ok])
    assert np.array_equal(samples.time_s[k], t[ok]), role
    assert np.array_equal(np.asarray(signal)[k], y[ok]), role


def test_rule_sets_traces_and_clipped_swing_peaks_in_the_dashboard(qtbot, settings, tmp_path):
    """A replay whose right shin's gyroscope was set too low (its swing peaks clip at 500 deg/s) and whose
    left wrist has no gyroscope: the sensor panel names each sensor's rules and flags the clipped peaks with
    their count; the left wrist's trace is its a_y in g, the others the forward swing rate in deg/s."""
    import dataclasses

    import numpy as np

    from stridesync.io import read_wide_csv, write_wide_csv
    from stridesync.pipeline import run_realtime

    rec = dict(simulate(SimParams(duration_s=30.0, standing_start_s=1.0, standing_end_s=3.0, swing_lag_ms=30.0),
                        seed=4).recording)
    rs = rec[Role.RIGHT_SHIN]
    rec[Role.RIGHT_SHIN] = dataclasses.replace(rs, gyro_dps=np.clip(rs.gyro_dps, -500.0, 500.0))
    rec[Role.LEFT_WRIST] = dataclasses.replace(rec[Role.LEFT_WRIST], gyro_dps=None)
    path = tmp_path / "clipped.csv"
    write_wide_csv(path, rec)
    recording = read_wide_csv(path)

    w = DashboardWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    assert w.open_replay(path)
    w.replay_bar.sigSeek.emit(1e9)  # to the end, at full speed
    qtbot.waitUntil(lambda: w.snap is not None and w.snap.state == "finished", timeout=20000)
    qtbot.wait(100)
    _, core = run_realtime(recording, config=w.source.config)
    n = core.summary()["clipped_swing_peaks"]["right_shin"]
    assert n > 0 and core.summary()["clipped_swing_peaks"]["left_shin"] == 0
    assert not w.sensors.clipped.isHidden()
    assert w.sensors.clipped.text() == (f"⚠ right shin: {n} swing peaks clipped at the gyroscope's range (set it to "
                                        "2000 deg/s or more); their swing lags are left out")
    rules = {role: w.sensors.cells[role]["rules"].text() for role in Role}
    assert rules == {Role.LEFT_SHIN: "gyro", Role.RIGHT_SHIN: "gyro", Role.LEFT_WRIST: "accel",
                     Role.RIGHT_WRIST: "gyro"}
    assert w.traces.trace_name(Role.LEFT_WRIST) == "Left wrist, forward acceleration a_y (g)"
    assert_trace_is(w, Role.LEFT_WRIST, recording[Role.LEFT_WRIST], recording[Role.LEFT_WRIST].acc_g[:, 1])
    assert w.traces.trace_name(Role.RIGHT_SHIN) == "Right shin, forward swing rate (deg/s)"
    for role in (Role.RIGHT_SHIN, Role.RIGHT_WRIST):
        assert_trace_is(w, role, recording[role], -recording[role].gyro_dps[:, 2])
    w.close()


def test_bad_files_give_readable_messages(qtbot, settings, tmp_path):
    w = DashboardWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    bad = tmp_path / "notes.csv"
    bad.write_text("hello,world\n1,2\n")
    assert not w.open_replay(bad)
    assert w.message.isVisible() and w.message.text().startswith("⚠ cannot open notes.csv")
    assert "Traceback" not in w.message.text()
    assert not w.open_replay(tmp_path / "missing.csv")
    assert "no such file" in w.message.text()
    assert w.source is None


def test_settings_are_remembered(qtbot, settings):
    w = DashboardWindow(settings=settings)
    qtbot.addWidget(w)
    w.controls.athlete.setText("Ana Silva")
    w.controls.target.setCurrentText("baseline")
    w.close()
    w2 = DashboardWindow(settings=settings)
    qtbot.addWidget(w2)
    assert w2.controls.athlete.text() == "Ana Silva"
    assert w2.controls.target.currentText() == "baseline"
    assert "Ana Silva" in w2.windowTitle()


def test_record_button_says_why_when_recording_is_not_available(qtbot, settings):
    from stridesync_ui.worker import live_supports_recording

    w = DashboardWindow(settings=settings)
    qtbot.addWidget(w)
    if live_supports_recording():
        assert w.controls.record.isEnabled()
    else:
        assert not w.controls.record.isEnabled()
        assert "record_to" in w.controls.record.toolTip()


def test_fits_a_1280_by_800_screen(qtbot, settings):
    w = DashboardWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    hint = w.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 800, hint
    # at 1280 px, with a live session's wide sensor rows, the widest lag text is shown whole and clear of
    # its bars (a cut sign would lie)
    w.resize(1280, 800)
    for cells in w.sensors.cells.values():
        for h, text in (("state", "NO DATA 12.3 s"), ("rules", "accel"), ("battery", "100 %"), ("rate", "200 Hz"),
                        ("loss", "12.5 %"), ("clock ±", "10.5 ms"), ("reconn.", "12")):
            cells[h].setText(text)
    w.sensors.clipped.setText("⚠ right shin: 1234 swing peaks clipped at the gyroscope's range (set it to 2000 deg/s "
                              "or more); their swing lags are left out\n⚠ left shin: 1234 swing peaks clipped at the "
                              "gyroscope's range (set it to 2000 deg/s or more); their swing lags are left out")
    w.sensors.clipped.show()
    for key, text in (("cadence", "188"), ("stride", "1000"), ("contact", "500"), ("flight", "400")):
        w.sync.tiles[key].setText(text)
    for lab in w.sync.cvs.values():
        lab.setText("CV 12.5 %")
    for lab in w.sync.lag_values.values():
        lab.setText("+188 ms +27%")
    qtbot.wait(50)
    assert w.minimumSizeHint().width() <= 1280 and w.width() == 1280
    for lab in w.sync.lag_values.values():
        assert lab.fontMetrics().horizontalAdvance(lab.text()) <= lab.width()
        assert lab.geometry().right() < w.sync.bars.geometry().left()
    # the rhythm tiles' captions ("GROUND CONTACT ms"), numbers and CVs are shown whole
    for tile in w.sync.tiles.values():
        for lab in tile.parentWidget().findChildren(type(tile)):
            assert lab.fontMetrics().horizontalAdvance(lab.text()) <= lab.width(), lab.text()


# ---------------------------------------------------------------------------- Qt-free parts
def test_sensor_watch_words_for_a_drop_and_a_recovery():
    from stridesync.live import SensorHealth

    def h(state):
        return SensorHealth(key="SS2", role=Role.RIGHT_SHIN, state=state, rate_hz=200.0, loss_pct=0.0, latency_ms=20.0,
                            battery_pct=80, clock_residual_ms=0.5, packets=10, lost_packets=0, malformed=0,
                            reconnects=0, stalls=0)

    watch = SensorWatch()
    row, alert, notice = watch.row(h("connecting"), None, 0.0)
    assert row.words == "connecting…" and alert is None
    row, alert, _ = watch.row(h("streaming"), 0.02, 1.0)
    assert row.words == "streaming" and row.level == "ok" and alert is None
    row, alert, _ = watch.row(h("streaming"), 0.9, 2.0)  # silent before the link layer notices
    assert row.level == "bad" and alert.startswith("RIGHT SHIN NO DATA for 0.9 s")
    row, alert, _ = watch.row(h("reconnecting"), 3.0, 4.0)
    assert alert == "RIGHT SHIN LOST — reconnecting"
    row, alert, notice = watch.row(h("streaming"), 0.01, 6.0)
    assert alert is None and notice == "RIGHT SHIN back — streaming again"
    _, _, notice = watch.row(h("streaming"), 0.01, 30.0)
    assert notice is None


def test_sample_ring_keeps_the_newest_and_breaks_lines_at_gaps():
    import numpy as np

    ring = SampleRing(keep_s=1.0, sample_rate_hz=100.0)
    for k in range(50):
        t = np.arange(10) * 0.01 + k * 0.1
        ring.extend(t, t * 2)
    t, y = ring.recent(4.0)
    assert t[0] >= 4.0 and abs(t[-1] - 4.99) < 1e-9 and not t.flags.writeable
    ring.extend(np.array([6.0, 6.01]), np.array([1.0, 1.0]))  # a second of silence
    t, y = ring.recent(4.5)
    assert np.isnan(y).sum() == 1 and np.all(np.diff(t) > 0)


def test_snapshot_is_immutable_and_empty_values_are_dashes():
    snap = DashSnapshot()
    with pytest.raises(Exception):
        snap.n_steps = 3  # type: ignore[misc]
    assert fmt(None) == "—" and fmt(float("nan")) == "—" and fmt(0.0) == "0"
    assert balance_words(None, "contact time") == "contact time: —"
    assert balance_words(2.0, "contact time") == "contact time: right longer (+2.0 %)"
    assert weak_link_words(snap) == "—"


def test_importing_the_core_and_the_launcher_leaves_qt_unloaded():
    code = ("import sys, stridesync, stridesync.cli, stridesync.live_run, stridesync_ui.launch, stridesync_ui.snapshot;"
            "assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))], 'Qt imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_dashboard_available_needs_a_display(monkeypatch):
    from stridesync_ui.launch import dashboard_available

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not dashboard_available()
    monkeypatch.setenv("DISPLAY", ":99")
    assert dashboard_available()


# ---------------------------------------------------------------------------- CLI
def test_cli_replay_screenshot_and_quit(tmp_path, run_csv):
    from PySide6.QtGui import QImage

    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "stridesync.cli", "dashboard", "--replay", str(run_csv),
                        "--screenshot", str(out), "--quit-after", "4"], env=env, capture_output=True, text=True,
                       timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t0 < 30
    assert f"wrote {out}" in r.stdout and "propagateSizeHints" not in r.stderr, (r.stdout, r.stderr)
    img = QImage(str(out))
    assert img.width() >= 1000 and img.height() >= 700


def test_cli_dashboard_bad_input_is_one_line(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-m", "stridesync.cli", "dashboard", "--replay", str(tmp_path / "nope.csv")],
                       env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no such file" in r.stderr
    r = subprocess.run([sys.executable, "-m", "stridesync.cli", "dashboard", "--screenshot", str(tmp_path / "x.png")],
                       env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 2 and "--quit-after" in r.stderr


# ---------------------------------------------------------------------------- session replay, export, scan
SAMPLE = ROOT / "recordings" / "sample_run.stridesync"


@pytest.mark.skipif(not SAMPLE.exists(), reason="recordings/sample_run.stridesync is not in this checkout")
def test_session_replay_shows_the_reports_numbers_and_exports_from_the_ui(qtbot, settings, tmp_path):
    """A live session's packets replayed through Replay (LiveAnalyzer: sensor health too), played to the end
    fast: the whole-session numbers shown equal the report's (report_data_from_session and the HTML the UI
    exports); the CSV export writes the four files."""
    import json
    import re

    from stridesync.session.store import Session
    from stridesync_ui.report import report_data_from_session
    from stridesync.report.text import key_numbers
    from stridesync_ui.snapshot import fmt as dash_fmt
    from stridesync_ui.worker import SessionReplayWorker

    w = DashboardWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    assert not w.act_export_report.isEnabled()
    w.replay_bar.speed.setCurrentIndex(w.replay_bar.speed.findData(8.0))
    assert w.open_replay(SAMPLE)
    assert isinstance(w.source, SessionReplayWorker) and w.source.running
    assert w.act_export_report.isEnabled() and w.act_export_csv.isEnabled()
    # sensor health from the recorded packets, while playing
    qtbot.waitUntil(lambda: w.snap is not None and w.snap.n_steps >= 2, timeout=20000)
    assert w.sensors.cells[Role.LEFT_SHIN]["state"].text() == "streaming"
    # pause holds the position; a seek while paused moves there and stays paused
    w.toggle_play()
    qtbot.waitUntil(lambda: w.source.replay_paused, timeout=3000)
    w.replay_bar.sigSeek.emit(60.0)
    qtbot.waitUntil(lambda: w.snap.state == "paused" and 60.0 <= w.snap.position_s < 61.0, timeout=10000)
    assert "paused" in w.windowTitle()
    # play to the end, fast
    w.replay_bar.speed.setCurrentIndex(w.replay_bar.speed.findData(64.0))
    w.toggle_play()
    qtbot.waitUntil(lambda: w.snap.state == "finished", timeout=20000)
    qtbot.wait(100)

    with Session.open(SAMPLE) as session:
        data = report_data_from_session(session)
        health = {h["role"]: h for h in session.meta["health"]}
    kn = {k.key: k for k in key_numbers(data)}
    assert w.snap.n_steps == len(data.steps)
    # like with like: the replay's end shows the whole session, as the report does
    assert w.sync.score_caption.text() == f"SYNC SCORE · whole session · {len(data.steps)} steps"
    assert w.sync.score.text() == kn["sync_score"].shown
    assert w.sync.tiles["cadence"].text() == kn["cadence_spm"].shown
    assert w.sync.weak.text() == kn["weak_link"].shown
    assert w.sync.tiles["contact"].text() == kn["contact_time_s"].shown
    for role in Role:  # the health the live session recorded, recomputed by the replay
        h = health[role.value]
        assert w.sensors.cells[role]["loss"].text() == dash_fmt(h["loss_pct"], ".1f", " %")
        assert w.sensors.cells[role]["clock ±"].text() == dash_fmt(h["clock_residual_ms"], ".1f", " ms")
    assert not w.alert.isVisible()

    # export from the UI: the report, on a worker thread with progress, shows the same numbers
    report = tmp_path / "report.html"
    assert w.export_report(report)
    assert w.progress.isVisible() and not w.act_export_report.isEnabled()
    qtbot.waitUntil(lambda: w.job is None, timeout=30000)
    assert not w.errors, w.errors
    html = report.read_text(encoding="utf-8")
    for key, widget in (("sync_score", w.sync.score), ("cadence_spm", w.sync.tiles["cadence"]),
                        ("weak_link", w.sync.weak)):
        m = re.search(rf'data-key="{key}"[^>]*>([^<]*)<', html)
        assert m and m.group(1).replace("&#x27;", "'") == widget.text(), (key, m and m.group(1))
    assert "exported report.html" in w.statusBar().currentMessage()
    # ... and the CSVs
    out = tmp_path / "csv"
    out.mkdir()
    assert w.export_csvs(out)
    qtbot.waitUntil(lambda: w.job is None, timeout=30000)
    assert not w.errors, w.errors
    names = sorted(p.name for p in out.iterdir())
    assert names == ["sample_run_events.csv", "sample_run_samples.csv", "sample_run_steps.csv", "sample_run_summary.json"]
    assert len((out / "sample_run_steps.csv").read_text().splitlines()) == len(data.steps) + 1
    assert json.loads((out / "sample_run_summary.json").read_text())["sync_score"] == pytest.approx(data.summary["sync_score"])
    # an export that cannot be written: one readable message
    assert w.export_csvs(tmp_path / "no" / "such" / "folder")
    qtbot.waitUntil(lambda: w.job is None, timeout=30000)
    assert w.errors and w.errors[-1].startswith("export failed: ") and "Traceback" not in w.errors[-1]
    assert "folder" in w.errors[-1]
    w.close()


def test_scan_and_assign_roles_in_virtual_mode(qtbot, settings):
    from stridesync_ui.roster_dialog import NOT_USED

    w = DashboardWindow(source="virtual:seed=1", seconds=20.0, settings=settings)
    qtbot.addWidget(w)
    w.show()
    dlg = w.scan_sensors()
    qtbot.waitUntil(lambda: w.job is None and dlg.table.rowCount() > 0, timeout=20000)
    assert dlg.table.rowCount() == 4
    serials = [dlg.table.item(i, 1).text() for i in range(4)]
    assert all(s.startswith("SS") for s in serials)
    assert dlg.table.item(0, 3).text().endswith("%")  # battery from the advert
    roles = {dlg.role_combo(i).currentData() for i in range(4)}
    assert roles == {r.value for r in Role}  # every sensor offered a limb
    # two sensors on one limb: said in words, the dialog stays open
    dlg.role_combo(1).setCurrentIndex(dlg.role_combo(1).findData(dlg.role_combo(0).currentData()))
    assert not dlg.accept_roster()
    assert "repeats a role" in dlg.error.text() and w.roster is None
    # the right wrist's sensor not worn today, one sensor mounted upside down
    for i in range(4):
        dlg.role_combo(i).setCurrentIndex(dlg.role_combo(i).findData(Role(ROLE_VALUES[i]).value))
    dlg.role_combo(3).setCurrentIndex(dlg.role_combo(3).findText(NOT_USED))
    dlg.mounting_edit(0).setText("-x +y -z")
    assert dlg.accept_roster(), dlg.error.text()
    assert w.roster is not None and len(w.roster.sensors) == 3
    assert w.roster.by_serial(serials[0]).mounting.describe() == ["-x", "+y", "-z"]
    # remembered, and used by the next start
    w2 = DashboardWindow(source="virtual:seed=1", seconds=20.0, settings=settings)
    qtbot.addWidget(w2)
    assert w2.roster == w.roster
    w.start_live()
    assert w.source.options.roster is w.roster
    assert not w.sensors.scan.isEnabled()
    w.stop_source()
    qtbot.waitUntil(lambda: w.sensors.scan.isEnabled(), timeout=15000)  # once the session has finished


ROLE_VALUES = [r.value for r in (Role.LEFT_SHIN, Role.RIGHT_SHIN, Role.LEFT_WRIST, Role.RIGHT_WRIST)]
