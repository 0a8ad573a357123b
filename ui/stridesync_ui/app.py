"""The dashboard window: live view and replay view over the same panels.

The window owns one source at a time (:class:`~.worker.LiveWorker`, or :class:`~.worker.ReplayWorker` for
session files and samples CSVs alike: one replay engine). It keeps only the newest snapshot the
source published and renders it on a QTimer; it never waits on the source (STYLE.md §7). Scans and exports
are :mod:`~.jobs` on their own threads, reporting progress and errors through signals.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QApplication, QFileDialog, QHBoxLayout, QMainWindow, QProgressBar, QTabWidget,
                               QVBoxLayout, QWidget)

from stridesync.errors import StrideSyncError
from stridesync.model import TARGET_MODELS, EventKind, Role

from . import theme
from .plots import ROLE_ORDER, TracePanel
from .setup_view import SetupPanel
from .snapshot import ROLE_WORDS, DashSnapshot
from .widgets import ControlBar, ReplayBar, SensorPanel, SyncPanel, label, set_text
from .worker import LiveWorker, ReplayWorker, error_words, live_supports_recording, load_replay

SESSION_SUFFIXES = (".stridesync",)

log = logging.getLogger(__name__)

#: the render timer: 50 frames per second. 60 fps measured 63 % of a core for the whole process on the
#: 2-core machine (bench/dashboard.py), over the 60 % budget; 50 fps scrolls just as smoothly to the eye
FRAME_MS = 20
FRAME_HISTORY = 20000    # frame instants kept for the fps and max-frame figures


class DashboardWindow(QMainWindow):
    """StrideSync's track-side dashboard.

    Parameters
    ----------
    source : where live sessions come from, by name (:mod:`stridesync.sources`): ``virtual:seed=N`` (simulated
        sensors on a virtual radio) or ``ble:`` / ``ble:roster.json`` (real sensors). Files are opened with
        :meth:`open_replay`.
    roster : a :class:`stridesync.roster.Roster` for real sensors (default: the ``ble:`` spec's file, else the
        remembered one; a scan makes one).
    seconds : the longest a live session runs.
    live_kwargs : extra :class:`~stridesync.live_run.LiveOptions` fields (``links``, ``sim_params``, ``on_fleet``).
    settings : a QSettings to remember the athlete, target model and folders (default: the user's).
    """

    def __init__(self, *, source: str = "virtual:seed=1", roster=None, seconds: float = 3600.0,
                 live_kwargs: dict | None = None, settings: QSettings | None = None):
        super().__init__()
        from stridesync.sources import parse_source

        spec = parse_source(source)
        if spec.kind not in ("virtual", "ble"):
            raise StrideSyncError(f"source {spec.text!r}: live sessions come from virtual: or ble: sources "
                                  f"(a {spec.kind}: file is opened as a replay)")
        if spec.kind == "ble" and spec.target and roster is None:
            from stridesync.roster import Roster
            roster = Roster.load(Path(spec.target))
        #: the spec live sessions and scans open: the virtual one as given, real sensors as ``ble:`` with the roster
        self.live_source = spec.text if spec.kind == "virtual" else "ble:"
        self.virtual, self.roster, self.seconds = spec.kind == "virtual", roster, seconds
        self.live_kwargs = dict(live_kwargs or {})
        self.settings = settings or QSettings("StrideSync", "dashboard")
        self.source: LiveWorker | ReplayWorker | None = None
        self.roster_from_cli = roster is not None
        self.session_path: Path | None = None   # the session file exports read (the replayed or last recorded)
        self.job = None                          # the running export or scan job
        self.scan_dialog = None
        self.snap: DashSnapshot | None = None
        self.snap_at = 0.0
        self.replay_name = ""
        self.laps: list[float] = []
        self.frame_at: list[float] = []
        self.frame_work_s: list[float] = []
        self.errors: list[str] = []
        self._title_key = None
        self.setStyleSheet(theme.STYLESHEET)
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        self._build()
        self._menus()
        self._restore()
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._frame)
        self.timer.start(FRAME_MS)
        self._title()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        root = QWidget()
        v = QVBoxLayout(root)
        v.setContentsMargins(6, 4, 6, 4)
        v.setSpacing(4)
        self.controls = ControlBar()
        self.controls.sigStart.connect(self.start_live)
        self.controls.sigStop.connect(self.stop_source)
        self.controls.sigLap.connect(self.mark_lap)
        self.controls.sigOpen.connect(self.open_dialog)
        self.controls.sigRecord.connect(self._record_toggled)
        if not live_supports_recording():
            self.controls.record.setEnabled(False)
            self.controls.record.setToolTip("Recording is not available in this build: the live session "
                                            "(stridesync.live_run.LiveOptions) has no record_to option yet.")
        v.addWidget(self.controls)
        self.alert = label("", "alert")
        self.alert.hide()
        v.addWidget(self.alert)
        self.notice = label("", "notice")
        self.notice.hide()
        v.addWidget(self.notice)
        self.message = label("", "message")
        self.message.setWordWrap(True)
        self.message.hide()
        v.addWidget(self.message)

        body = QHBoxLayout()
        body.setSpacing(6)
        left = QVBoxLayout()
        left.setSpacing(4)
        self.traces = TracePanel()
        left.addWidget(self.traces, 1)
        legend = "  ".join(theme.EVENT_WORDS[k] for k in EventKind)
        self.legend = label(f"{legend}  ·  last 8 s", "caption")
        self.legend.setToolTip("markers: each event at the instant it stands for (initial contact, toe-off, the "
                               "shank's peak forward swing rate, the wrist's forward and backward turnarounds)")
        left.addWidget(self.legend)
        self.sensors = SensorPanel()
        self.sensors.sigScan.connect(self.scan_sensors)
        self.sensors.sigIdentify.connect(self.identify_sensor)
        self.sensors.sigDisconnect.connect(lambda role: self._sensor_action(role, "disconnect"))
        self.sensors.sigReconnect.connect(lambda role: self._sensor_action(role, "reconnect"))
        left.addWidget(self.sensors)
        body.addLayout(left, 11)
        self.sync = SyncPanel()
        self.sync.setMinimumWidth(470)
        # the minute before a run: the Setup tab shows how each sensor sits (stand still, jog, verdicts); the
        # Sync tab takes over once every verdict is green and steps come (the coach can switch any time)
        self.setup = SetupPanel()
        self.setup.sigIdentify.connect(self.identify_sensor)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.setup, "Setup")
        self.tabs.addTab(self.sync, "Sync")
        self.tabs.setCurrentWidget(self.sync)
        self.tabs.setTabToolTip(0, "how each sensor sits on its limb: stand still 2 s, then jog a few strides")
        self._setup_tab_key = None
        self._setup_switched = False  # the automatic switch to Sync happens once per session
        body.addWidget(self.tabs, 9)
        v.addLayout(body, 1)
        self.replay_bar = ReplayBar()
        self.replay_bar.sigPlay.connect(lambda p: self._replay_call("set_playing", p))
        self.replay_bar.sigSpeed.connect(self._speed_changed)
        self.replay_bar.sigSeek.connect(lambda t: self._replay_call("seek", t))
        self.replay_bar.sigExportReport.connect(self.export_report)
        self.replay_bar.sigExportCsv.connect(self.export_csvs)
        self.replay_bar.hide()
        v.addWidget(self.replay_bar)
        self.setCentralWidget(root)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(260)
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)

    def _menus(self) -> None:
        def act(menu, text, keys, slot):
            a = QAction(text, self)
            a.setShortcut(QKeySequence(keys))
            a.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            a.triggered.connect(slot)
            menu.addAction(a)
            return a

        mb = self.menuBar()
        f = mb.addMenu("&File")
        self.act_open = act(f, "&Open session for replay…", "Ctrl+O", self.open_dialog)
        self.act_export_report = act(f, "Export &report (HTML/PDF)…", "Ctrl+E", self.export_report)
        self.act_export_csv = act(f, "Export &CSVs…", "Ctrl+Shift+E", self.export_csvs)
        f.addSeparator()
        act(f, "&Quit", "Ctrl+Q", self.close)
        self._exports_enabled()
        s = mb.addMenu("&Session")
        self.act_start = act(s, "Start / stop live session", "F5", self.toggle_live)
        self.act_record = act(s, "Record / stop recording", "Ctrl+R", self.controls.record.toggle)
        self.act_record.setEnabled(self.controls.record.isEnabled())
        self.act_lap = act(s, "Lap marker", "L", self.mark_lap)
        self.act_scan = act(s, "&Scan and assign sensors…", "Ctrl+B", self.scan_sensors)
        r = mb.addMenu("&Replay")
        self.act_play = act(r, "Play / pause", "Space", self.toggle_play)

    def _restore(self) -> None:
        st = self.settings
        self.controls.athlete.setText(str(st.value("athlete", "") or ""))
        model = str(st.value("target_model", "together") or "together")
        if model in TARGET_MODELS:
            self.controls.target.setCurrentText(model)
        speed = float(st.value("replay_speed", 1.0) or 1.0)
        i = self.replay_bar.speed.findData(speed)
        if i >= 0:
            self.replay_bar.speed.setCurrentIndex(i)
        if not self.roster_from_cli:
            saved = str(st.value(self._roster_key(), "") or "")
            if saved:
                try:
                    from stridesync.roster import Roster
                    self.roster = Roster.from_dict(json.loads(saved), "the remembered roster")
                except (ValueError, StrideSyncError) as exc:
                    log.warning("ignoring the remembered roster: %s", exc)
        self._roster_tip()

    def _roster_key(self) -> str:
        return "roster_virtual" if self.virtual else "roster"

    def _roster_tip(self) -> None:
        r = self.roster
        where = ("; ".join(f"{ROLE_WORDS[e.role]}: {e.serial}" for e in r.sensors) if r is not None and r.sensors
                 else ("every virtual sensor" if self.virtual else "none — scan first"))
        self.sensors.scan.setToolTip(f"scan for sensors and give each its limb (used from the next start)\n"
                                     f"roster now: {where}")

    def _save(self) -> None:
        st = self.settings
        st.setValue("athlete", self.controls.athlete.text())
        st.setValue("target_model", self.controls.target.currentText())
        st.setValue("replay_speed", float(self.replay_bar.speed.currentData()))
        st.sync()

    # ------------------------------------------------------------------ sources
    def _attach(self, source) -> None:
        self.source = source
        self.snap = None
        self._exports_enabled()
        source.bridge.sigSnapshot.connect(self._on_snapshot)
        source.bridge.sigError.connect(self.show_error)
        source.bridge.sigNotice.connect(lambda text: self.statusBar().showMessage(text, 10000))
        source.bridge.sigFinished.connect(lambda s=source: self._on_finished(s))

    def start_live(self) -> None:
        """Start a live session (virtual sensors or the roster's). The target model applies from here on."""
        from stridesync.core.config import DetectorConfig
        from stridesync.live_run import LiveOptions

        if self.virtual is False and self.roster is None:
            self.show_error("no sensors to connect: start the dashboard with a roster, or with --virtual")
            return
        self.stop_source()
        self._clear_message()
        self.replay_bar.hide()
        self.replay_name = ""
        self.laps = []
        opts = LiveOptions(seconds=self.seconds, source=self.live_source, roster=self.roster,
                           config=DetectorConfig(target_model=self.controls.target.currentText()), **self.live_kwargs)
        self.session_path = None
        if self.controls.record.isChecked() and live_supports_recording():
            opts.record_to = self._recording_path()  # type: ignore[attr-defined]
            opts.athlete = self.controls.athlete.text().strip()  # type: ignore[attr-defined]
            self.statusBar().showMessage(f"recording to {opts.record_to}", 15000)
        self._attach(LiveWorker(opts).start())
        self._setup_switched = False
        self.tabs.setCurrentWidget(self.setup if opts.align == "auto" else self.sync)
        self.controls.set_running(True)
        self.sensors.scan.setEnabled(False)
        self._save()
        self._title()

    def follow(self, source, athlete: str) -> None:
        """Show a source whose session runs elsewhere: one athlete of the squad view, fed from LSL
        (:mod:`~.team_view`). The live controls are hidden (the athlete's hub runs the session)."""
        self.stop_source()
        self.controls.hide()
        for a in (self.act_start, self.act_record, self.act_lap, self.act_scan, self.act_open):
            a.setEnabled(False)
        self.controls.athlete.setText(athlete)
        self.replay_bar.hide()
        self._setup_switched = True
        self.tabs.setCurrentWidget(self.sync)
        self._attach(source)
        self._title()

    def _recording_path(self) -> Path:
        folder = Path(str(self.settings.value("session_dir", "") or Path.home() / "StrideSync"))
        folder.mkdir(parents=True, exist_ok=True)
        who = "".join(c if c.isalnum() else "_" for c in self.controls.athlete.text().strip()) or "session"
        from stridesync.session.store import SESSION_SUFFIX

        return folder / f"{who}_{time.strftime('%Y%m%d_%H%M%S')}{SESSION_SUFFIX}"

    def stop_source(self) -> None:
        src = self.source
        if src is not None:
            src.stop()
        self.controls.set_running(False)
        self._title()

    def toggle_live(self) -> None:
        if isinstance(self.source, LiveWorker) and self.source.running:
            self.stop_source()
        else:
            self.start_live()

    def open_dialog(self) -> None:
        folder = str(self.settings.value("open_dir", "") or "")
        path, _ = QFileDialog.getOpenFileName(self, "Open a session for replay", folder,
                                              "Sessions and samples (*.csv *.csv.gz *.stridesync *.json *.zip);;All files (*)")
        if path:
            self.open_replay(path)

    def open_replay(self, path: str | Path) -> bool:
        """Replay a session file; errors become a message in the window, never a traceback."""
        path = Path(path)
        speed = float(self.replay_bar.speed.currentData())
        laps: list[float] = []
        try:
            if path.name.lower().endswith(SESSION_SUFFIXES):
                # a session file: its inputs go through Replay on the worker thread; here only the header is read
                from stridesync.session.store import Session
                session = Session.open(path)
                try:
                    athlete = session.athlete or None
                    laps = [m.t_s for m in session.laps()]
                    worker = ReplayWorker(session, speed=speed)
                except Exception:
                    session.close()
                    raise
            else:
                recording, config, athlete = load_replay(path)
                if config is None:
                    from stridesync.core.config import DetectorConfig
                    config = DetectorConfig(target_model=self.controls.target.currentText())
                worker = ReplayWorker(recording=recording, config=config, name=path.name, speed=speed)
        except Exception as exc:  # a user picked a file: say what is wrong with it
            self.show_error(f"cannot open {path.name}: {error_words(exc)}")
            return False
        self.stop_source()
        self._clear_message()
        self.settings.setValue("open_dir", str(path.parent))
        if athlete:
            self.controls.athlete.setText(str(athlete))
        self.replay_name = path.name
        self.session_path = path if worker.session is not None else None
        self.laps = laps
        self.sync.laps = tuple(laps)
        self.replay_bar.set_playing(True)
        self.replay_bar.show()
        self._setup_switched = True  # a replay opens on its numbers; its Setup tab shows how live saw the sensors
        self.tabs.setCurrentWidget(self.sync)
        self._attach(worker.start())
        self._title()
        return True

    def _replay_call(self, name: str, *args) -> None:
        if isinstance(self.source, ReplayWorker):
            getattr(self.source, name)(*args)

    def _speed_changed(self, speed: float) -> None:
        self._replay_call("set_speed", speed)
        self.settings.setValue("replay_speed", speed)

    def toggle_play(self) -> None:
        if isinstance(self.source, ReplayWorker):
            self.replay_bar.toggle()

    def mark_lap(self) -> None:
        snap = self.snap
        if snap is None or snap.state not in ("running", "paused"):
            return
        self.laps.append(snap.now_s)
        self.sync.laps = tuple(self.laps)
        split = f" ({self.laps[-1] - self.laps[-2]:.1f} s)" if len(self.laps) > 1 else ""
        stored = isinstance(self.source, LiveWorker) and self.source.mark_lap(snap.now_s, f"lap {len(self.laps)}")
        self.statusBar().showMessage(f"lap {len(self.laps)} at {snap.now_s:.1f} s{split}"
                                     + (" · stored in the session file" if stored else ""), 10000)

    def _record_toggled(self, on: bool) -> None:
        """Record on while live: the session restarts into a new session file. Record off: the session
        stops and its file is closed cleanly. While idle, the next start records."""
        live = isinstance(self.source, LiveWorker) and self.source.running
        recording = live and getattr(self.source.options, "record_to", None) is not None
        if on and live and not recording:
            self.start_live()
        elif not on and recording:
            self.stop_source()

    # ------------------------------------------------------------------ snapshots and frames
    def _on_snapshot(self, snap: DashSnapshot) -> None:
        if self.source is None:
            return
        self.snap = snap
        self.snap_at = time.monotonic()

    def _on_finished(self, source) -> None:
        if source is self.source:
            self.controls.set_running(False)
            record_to = getattr(getattr(source, "options", None), "record_to", None)
            if isinstance(source, LiveWorker) and record_to is not None and Path(record_to).exists():
                self.session_path = Path(record_to)  # the session just recorded can be exported at once
            self._exports_enabled()
            self.sensors.scan.setEnabled(True)
            self._title()

    def identify_sensor(self, role: Role, seconds: int = 5) -> bool:
        """Blink the LED of the sensor worn as ``role`` (live sessions). The answer shows in the status line."""
        return self._sensor_action(role, "identify", seconds)

    def _sensor_action(self, role: Role, action: str, seconds: int = 5) -> bool:
        """identify / disconnect / reconnect the sensor worn as ``role`` in the running live session."""
        src = self.source
        row = next((r for r in (self.snap.sensors if self.snap is not None else ()) if r.role == role), None)
        words = ROLE_WORDS[role]
        if not isinstance(src, LiveWorker) or not src.running or row is None:
            self.statusBar().showMessage(f"{words}: {action} works while a live session is connected", 10000)
            return False
        key = row.key
        news = {"identify": ("asking it to blink…", f"LED blinking for {seconds} s"),
                "disconnect": ("disconnecting…", "off — disconnected (right-click the row to reconnect)"),
                "reconnect": ("reconnecting…", "reconnected")}[action]

        def done(error: str | None) -> None:  # on the worker thread
            src.bridge.sigNotice.emit(f"{words} sensor {key}: {news[1]}" if error is None
                                      else f"{words} sensor {key}: {action} failed ({error})")

        call = {"identify": lambda: src.identify(key, seconds, on_done=done),
                "disconnect": lambda: src.disconnect_sensor(key, on_done=done),
                "reconnect": lambda: src.reconnect_sensor(key, on_done=done)}[action]
        if not call():
            self.statusBar().showMessage(f"{words}: the sensors are not connected yet", 10000)
            return False
        self.statusBar().showMessage(f"{words} sensor {key}: {news[0]}", 10000)
        return True

    def show_error(self, text: str) -> None:
        self.errors.append(text)
        self.message.setText(f"⚠ {text}")
        self.message.show()
        self.statusBar().showMessage(text, 15000)
        self._title()

    def _clear_message(self) -> None:
        self.message.hide()
        self.message.setText("")

    def _frame(self) -> None:
        t0 = time.perf_counter()
        snap = self.snap
        if snap is not None:
            t = snap.now_s
            playing = getattr(self.source, "playing", True)  # a pause shows at once, before the source confirms it
            if snap.state == "running" and playing:
                t += min(time.monotonic() - self.snap_at, 0.25) * (snap.speed if snap.mode == "replay" else 1.0)
            if snap.state == "finished" and self.replay_bar.playing:
                self.replay_bar.set_playing(False)  # the end: Play starts over
            self.traces.new_data(snap)
            self.traces.scroll_to(t)
            self.sensors.render(snap)
            self.sync.render(snap)
            self.setup.render(snap)
            self._setup_tab(snap)
            self.replay_bar.render(snap)
            self._banners(snap)
            key = (snap.state, bool(snap.alerts), snap.n_steps // 10)
            if key != self._title_key:
                self._title_key = key
                self._title()
        self.frame_at.append(t0)
        self.frame_work_s.append(time.perf_counter() - t0)
        if len(self.frame_at) > FRAME_HISTORY:
            del self.frame_at[:FRAME_HISTORY // 2], self.frame_work_s[:FRAME_HISTORY // 2]

    def _setup_tab(self, snap: DashSnapshot) -> None:
        """The Setup tab's title says how setup stands; the view moves to Sync once, when all is green and
        steps come. A wrong verdict or a later slip keeps (or puts) a ⚠ on the Setup tab."""
        st = snap.setup
        if st is None:
            key = "Setup"
        elif st.all_ok:
            key = "Setup ✓"
        elif any(r.wrong for r in st.rows.values()) or any(not ok for _, ok in st.notes):
            key = "Setup ⚠"
        else:
            key = "Setup …"
        if key != self._setup_tab_key:
            self._setup_tab_key = key
            self.tabs.setTabText(self.tabs.indexOf(self.setup), key)
        if (not self._setup_switched and st is not None and st.all_ok and snap.n_steps > 0
                and self.tabs.currentWidget() is self.setup):
            self._setup_switched = True
            self.tabs.setCurrentWidget(self.sync)

    def _banners(self, snap: DashSnapshot) -> None:
        text = "   ·   ".join(snap.alerts)
        set_text(self.alert, text)
        self.alert.setVisible(bool(text))
        ntext = "   ·   ".join(snap.notices)
        set_text(self.notice, ntext)
        self.notice.setVisible(bool(ntext))
        if snap.state == "connecting" and snap.message and not self.errors:
            set_text(self.message, snap.message)
            self.message.setVisible(True)
        elif self.message.isVisible() and not self.errors:
            self.message.hide()

    def _title(self) -> None:
        who = self.controls.athlete.text().strip()
        snap, src = self.snap, self.source
        if isinstance(src, ReplayWorker):
            what = f"REPLAY {self.replay_name}"
            if snap is not None:
                what += f" · {snap.state}" + (f" · {snap.n_steps} steps" if snap.n_steps else "")
        elif isinstance(src, LiveWorker) and src.running:
            what = "LIVE · connecting" if snap is None or snap.state == "connecting" else f"LIVE · {snap.n_steps} steps"
            if getattr(src.options, "record_to", None):
                what += " · ● RECORDING"
            if snap is not None and snap.alerts:
                what += " · ⚠ " + ", ".join(a.split(" —")[0] for a in snap.alerts)
        elif isinstance(src, LiveWorker):
            what = "stopped" + (f" · {snap.n_steps} steps" if snap is not None else "")
        elif src is not None:  # a followed source (the squad view's athlete)
            what = getattr(src, "title", "following") + (f" · {snap.n_steps} steps" if snap is not None else "")
            if snap is not None and snap.alerts:
                what += " · ⚠ " + ", ".join(a.split(" —")[0] for a in snap.alerts)
        else:
            what = "idle · F5 starts a live session, Ctrl+O opens a replay"
        if self.errors and (snap is None or snap.state in ("error", "stopped", "finished")):
            what += " · error"
        self.setWindowTitle(" — ".join(x for x in ("StrideSync", who, what) if x))

    # ------------------------------------------------------------------ export
    def _exports_enabled(self) -> None:
        on = self.session_path is not None and self.job is None
        why = "" if self.session_path is not None else "open a session file (.stridesync) or record one to export it"
        for w, tip in ((self.act_export_report, "Export a report of this session (HTML or PDF)"),
                       (self.act_export_csv, "Export events, steps, summary and samples of this session"),
                       (self.replay_bar.export_report, "Export a report of this session (HTML or PDF)"),
                       (self.replay_bar.export_csv, "Export events, steps, summary and samples of this session")):
            w.setEnabled(on)
            w.setToolTip(why or tip)

    def export_report(self, path: str | Path | None = None) -> bool:
        """Write a report of the current session file (.html or .pdf by the name) on a worker thread."""
        if self.session_path is None:
            self.show_error("nothing to export: open a session file (.stridesync) or record one first")
            return False
        if not path:
            folder = str(self.settings.value("export_dir", "") or self.session_path.parent)
            suggested = str(Path(folder) / (self.session_path.name.split(".")[0] + "_report.html"))
            path, _ = QFileDialog.getSaveFileName(self, "Export a report", suggested,
                                                  "HTML report (*.html);;PDF report (*.pdf)")
            if not path:
                return False
        return self._run_export(report=Path(path))

    def export_csvs(self, folder: str | Path | None = None) -> bool:
        """Write events, steps, summary and samples of the current session file into ``folder``."""
        if self.session_path is None:
            self.show_error("nothing to export: open a session file (.stridesync) or record one first")
            return False
        if not folder:
            start = str(self.settings.value("export_dir", "") or self.session_path.parent)
            folder = QFileDialog.getExistingDirectory(self, "Export the CSVs into", start)
            if not folder:
                return False
        return self._run_export(csv_dir=Path(folder))

    def _run_export(self, **what) -> bool:
        from .jobs import ExportJob

        if self.job is not None:
            self.show_error("an export or scan is still running: wait for it to finish")
            return False
        target = what.get("report") or what.get("csv_dir")
        self.settings.setValue("export_dir", str(target.parent if "report" in what else target))
        job = ExportJob(self.session_path, **what)
        job.bridge.sigProgress.connect(self._job_progress)
        job.bridge.sigDone.connect(lambda done: self.statusBar().showMessage(done.words(), 20000))
        job.bridge.sigError.connect(lambda text: self.show_error(f"export failed: {text}"))
        job.bridge.sigFinished.connect(self._job_finished)
        self.job = job
        self._exports_enabled()
        self._job_progress(0, "exporting…")
        job.start()
        return True

    def _job_progress(self, pct: int, text: str) -> None:
        if pct < 0:  # busy for an unknown time
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(pct)
        self.progress.setFormat(f"{text} %p%")
        self.progress.show()
        self.statusBar().showMessage(text)

    def _job_finished(self) -> None:
        self.job = None
        self.progress.hide()
        self._exports_enabled()

    # ------------------------------------------------------------------ scan and assign roles
    def scan_sensors(self):
        """Scan for sensors (virtual ones in --virtual mode) and let the coach give each its limb.
        Returns the dialog (shown, not modal, so the dashboard keeps drawing)."""
        from .roster_dialog import ScanDialog

        if isinstance(self.source, LiveWorker) and self.source.running:
            self.show_error("stop the live session before scanning: connected sensors do not advertise")
            return None
        if self.scan_dialog is None:
            dlg = ScanDialog(self, athlete=self.controls.athlete.text().strip(), previous=self.roster)
            dlg.sigRescan.connect(self._start_scan)
            dlg.sigRoster.connect(self.set_roster)
            dlg.finished.connect(lambda _r: setattr(self, "scan_dialog", None))
            self.scan_dialog = dlg
        self.scan_dialog.show()
        self._start_scan()
        return self.scan_dialog

    def _start_scan(self) -> None:
        from .jobs import ScanJob

        dlg = self.scan_dialog
        if dlg is None or self.job is not None:
            return
        job = ScanJob(self.live_source, sim_params=self.live_kwargs.get("sim_params") if self.virtual else None)
        dlg.set_scanning(True)
        job.bridge.sigDone.connect(lambda found, d=dlg: d.set_found(found))
        job.bridge.sigError.connect(lambda text, d=dlg: (d.show_error(f"scan failed: {text}"), d.set_scanning(False)))
        job.bridge.sigFinished.connect(self._job_finished)
        self.job = job
        self.statusBar().showMessage("scanning for sensors…")
        job.start()

    def set_roster(self, roster) -> None:
        """The roster for the next start; remembered (per mode: virtual or real sensors)."""
        self.roster = roster
        self.settings.setValue(self._roster_key(), json.dumps(roster.to_dict()))
        self.settings.sync()
        self._roster_tip()
        self.statusBar().showMessage(f"roster set: {len(roster.sensors)} sensors, used from the next start", 15000)

    # ------------------------------------------------------------------ figures
    def frame_stats(self, since: float | None = None) -> dict:
        """fps and the longest gap between frames (ms) since ``since`` (perf_counter), for tests and the bench."""
        at = [t for t in self.frame_at if since is None or t >= since]
        if len(at) < 2:
            return {"frames": len(at), "fps": 0.0, "max_frame_ms": None}
        gaps = [b - a for a, b in zip(at, at[1:])]
        return {"frames": len(at), "fps": (len(at) - 1) / (at[-1] - at[0]), "max_frame_ms": 1000.0 * max(gaps)}

    # ------------------------------------------------------------------ Qt overrides
    def dragEnterEvent(self, ev) -> None:  # noqa: N802 - Qt override
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:  # noqa: N802 - Qt override
        urls = [u for u in ev.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_replay(urls[0].toLocalFile())
            ev.acceptProposedAction()

    def closeEvent(self, ev) -> None:  # noqa: N802 - Qt override
        self._save()
        self.timer.stop()
        src = self.source
        self.source = None
        if src is not None:
            src.stop()
            src.join(5.0)
        if self.job is not None:
            self.job.join(30.0)  # an export writes atomically: let it finish or fail cleanly
        super().closeEvent(ev)


def sensor_words(snap: DashSnapshot) -> dict[Role, str]:
    """role → the state words the sensor panel shows (for tests and logs)."""
    return {r.role: r.words for r in snap.sensors}


__all__ = ["DashboardWindow", "ROLE_ORDER", "ROLE_WORDS", "sensor_words", "QApplication"]
