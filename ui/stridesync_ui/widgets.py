"""The dashboard's panels: sensors, sync numbers, session controls and the replay bar.

Each panel has ``render(snapshot)``; it only sets a label's text when the text changed, so an unchanged
frame costs almost nothing.
"""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QMenu, QPushButton, QStyle,
                               QSlider, QVBoxLayout, QWidget)

from stridesync.model import LAG_NAMES, TARGET_MODELS, LinkState, Role

from . import theme
from .plots import ROLE_ORDER, LagBars, PhaseWheel, TrendWidget
from .snapshot import LAG_WORDS, ROLE_WORDS, DashSnapshot, balance_words, fmt, lag_limb, signed_ms, weak_link_words
from stridesync.report.words import PCI_DETAIL, RULE_DETAIL, TARGET_BAND_PCT, pci_words, band_words, clipped_sentences, rule_words


def set_text(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)


def label(text: str = "", name: str | None = None, align=None) -> QLabel:
    w = QLabel(text)
    if name:
        w.setObjectName(name)
    if align is not None:
        w.setAlignment(align)
    return w


def panel() -> QFrame:
    f = QFrame()
    f.setObjectName("panel")
    return f


SHORT_LAG = {"swing_lag": "swing", "ipsi_arm_lag": "stance arm", "contra_arm_lag": "other arm"}
LEVEL_COLOUR = {"ok": theme.OK, "warn": theme.WARN, "bad": theme.BAD, "idle": theme.MUTED}


class SensorPanel(QFrame):
    """Per sensor: state in words, the rules its events are found with, battery, rate, loss, clock residual,
    reconnects; below, a warning per shin whose swing peaks clip at the gyroscope's range."""

    NUMBERS_EVERY_S = 0.5  # rate, loss, clock: readable, not flickering
    COLUMNS = ("sensor", "state", "rules", "battery", "rate", "loss", "clock ±", "reconn.")

    sigScan = Signal()
    sigIdentify = Signal(object)  # Role: blink that sensor's LED
    sigDisconnect = Signal(object)  # Role: take that sensor out of the session
    sigReconnect = Signal(object)  # Role: bring it back

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("panel")
        g = QGridLayout(self)
        g.setContentsMargins(8, 4, 8, 4)
        g.setHorizontalSpacing(7)
        g.setVerticalSpacing(2)
        for c, h in enumerate(self.COLUMNS):
            g.addWidget(label(h, "caption"), 0, c)
        self.scan = QPushButton("Scan…")
        self.scan.setToolTip("scan for sensors and give each its limb (used from the next start)")
        self.scan.setStyleSheet("padding: 0px 8px;")
        self.scan.clicked.connect(self.sigScan.emit)
        g.addWidget(self.scan, 0, len(self.COLUMNS))  # heads the Identify column
        self.cells: dict[Role, dict[str, QLabel]] = {}
        self.identify: dict[Role, QPushButton] = {}
        self._identify_tip: dict[Role, str] = {}
        for r, role in enumerate(ROLE_ORDER, start=1):
            cells = {}
            for c, h in enumerate(self.COLUMNS):
                w = label("—")
                if c == 0:
                    w.setText(ROLE_WORDS[role])
                    w.setStyleSheet(f"color: {theme.LIMB_COLOUR[role]}; font-weight: 800;")
                elif c == 1:
                    w.setMinimumWidth(195)  # "LOST — reconnecting" without the row jumping; leaves room for "rules"
                    w.setStyleSheet("font-weight: 800;")
                elif h == "rules":
                    w.setToolTip("the rules that find this sensor's events:\n" + "\n".join(
                        f"{rule_words(k, short=True)} = {rule_words(k)}: {v}" for k, v in RULE_DETAIL.items()))
                g.addWidget(w, r, c)
                cells[h] = w
            self.cells[role] = cells
            b = QPushButton("Identify")
            self._identify_tip[role] = (f"blink the {ROLE_WORDS[role].lower()} sensor's LED for 5 s, to see which one "
                                        f"it is\nright-click the row: disconnect or reconnect this sensor")
            b.setToolTip(self._identify_tip[role])
            b.setStyleSheet("padding: 0px 6px;")
            b.setEnabled(False)
            b.clicked.connect(lambda _=False, role=role: self.sigIdentify.emit(role))
            g.addWidget(b, r, len(self.COLUMNS))
            self.identify[role] = b
            for w in (*cells.values(), b):  # right-click anywhere on the row
                w.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
                w.customContextMenuRequested.connect(lambda pos, w=w, role=role: self.row_menu(role).exec(w.mapToGlobal(pos)))
        g.setColumnStretch(1, 1)
        # a clipped swing peak is flagged, not trusted (MEASUREMENT.md §2): its instant is unknown
        self.clipped = label("", None)
        self.clipped.setWordWrap(True)
        self.clipped.setStyleSheet(f"color: {theme.WARN}; font-weight: 700;")
        self.clipped.hide()
        g.addWidget(self.clipped, len(ROLE_ORDER) + 2, 0, 1, len(self.COLUMNS) + 1)
        # how each sensor sits (core/mounting.py), one line for all four: a column would not fit 1280 px. A wrong
        # verdict or a slip also turns that row's Identify button red, to find the sensor
        self.mounting = label("", None)
        self.mounting.setWordWrap(True)
        self.mounting.setTextFormat(Qt.TextFormat.RichText)
        self.mounting.hide()
        g.addWidget(self.mounting, len(ROLE_ORDER) + 1, 0, 1, len(self.COLUMNS) + 1)
        self._states: dict[Role, str | None] = {}  # each row's link state in the newest live snapshot
        self._levels: dict[Role, str] = {}
        self._wrong: dict[Role, bool] = {}
        self._seq = -1
        self._numbers_at = -1e9

    def row_menu(self, role: Role) -> QMenu:
        """The row's menu: Identify, and Disconnect or Reconnect as the sensor's state allows."""
        state = self._states.get(role)
        m = QMenu(self)
        words = ROLE_WORDS[role].lower()
        a = m.addAction(f"Identify the {words} sensor (blink its LED)")
        a.setEnabled(state in (LinkState.STREAMING, LinkState.STALLED))
        a.triggered.connect(lambda: self.sigIdentify.emit(role))
        a = m.addAction(f"Disconnect the {words} sensor")
        a.setEnabled(state is not None and state not in (LinkState.OFF, LinkState.STOPPED))
        a.triggered.connect(lambda: self.sigDisconnect.emit(role))
        a = m.addAction(f"Reconnect the {words} sensor")
        a.setEnabled(state == LinkState.OFF)
        a.triggered.connect(lambda: self.sigReconnect.emit(role))
        return m

    def render(self, snap: DashSnapshot) -> None:
        if snap.seq == self._seq:
            return
        self._seq = snap.seq
        now = time.monotonic()
        numbers = now - self._numbers_at >= self.NUMBERS_EVERY_S or snap.state != "running"
        if numbers:
            self._numbers_at = now
        rows = {r.role: r for r in snap.sensors}
        self._mounting_line(snap)
        warning = "\n".join(f"⚠ {s}" for s in clipped_sentences(snap.clipped_swing_peaks))
        set_text(self.clipped, warning)
        if self.clipped.isHidden() == bool(warning):
            self.clipped.setVisible(bool(warning))
        for role, cells in self.cells.items():
            row = rows.get(role)
            set_text(cells["rules"], rule_words(snap.rule_sets.get(role), short=True))
            # a sensor can blink when it is connected in a live session
            self._states[role] = row.state if snap.mode == "live" and row is not None and snap.state != "stopped" else None
            can = snap.mode == "live" and row is not None and row.state in (LinkState.STREAMING, LinkState.STALLED)
            if self.identify[role].isEnabled() != can:
                self.identify[role].setEnabled(can)
            if row is None:
                for h in self.COLUMNS[1:]:
                    if h != "rules":
                        set_text(cells[h], "—" if snap.mode == "live" else "")
                if snap.mode == "replay":
                    set_text(cells["state"], "recorded")
                continue
            set_text(cells["state"], row.words)  # at once: a drop must show in the next frame
            if self._levels.get(role) != row.level:
                self._levels[role] = row.level
                cells["state"].setStyleSheet(f"font-weight: 800; color: {LEVEL_COLOUR[row.level]};")
            if not numbers:
                continue
            set_text(cells["battery"], fmt(row.battery_pct, "d", " %"))
            set_text(cells["rate"], fmt(row.rate_hz, ".0f", " Hz"))
            set_text(cells["loss"], fmt(row.loss_pct, ".1f", " %"))
            set_text(cells["clock ±"], fmt(row.clock_residual_ms, ".1f", " ms"))
            set_text(cells["reconn."], str(row.reconnects))


    def _mounting_line(self, snap: DashSnapshot) -> None:
        """The mounting line: each sensor's setup in a few coloured words; the full sentences in its tooltip."""
        st = snap.setup
        if st is None:
            if self.mounting.isVisible():
                self.mounting.hide()
            return
        parts, tips = [], []
        for role in ROLE_ORDER:
            m = st.rows.get(role)
            if m is None:
                continue
            parts.append(f"<span style='color:{theme.LIMB_COLOUR[role]}; font-weight:800'>{ROLE_WORDS[role]}</span>"
                         f" <span style='color:{LEVEL_COLOUR[m.level]}; font-weight:800'>{html.escape(m.short)}</span>")
            tips.append(m.sentence)
            wrong = m.wrong
            if self._wrong.get(role) != wrong:
                self._wrong[role] = wrong
                self.identify[role].setStyleSheet("padding: 0px 6px;" + (
                    f" border-color: {theme.BAD}; color: {theme.BAD};" if wrong else ""))
                self.identify[role].setToolTip(self._identify_tip[role] + (f"\n⚠ {m.sentence}" if wrong else ""))
        text = f"<span style='color:{theme.MUTED}'>mounting:</span> " + " · ".join(parts)
        set_text(self.mounting, text)
        tip = "\n".join(tips + [t for t, _ in st.notes])
        if self.mounting.toolTip() != tip:
            self.mounting.setToolTip(tip)
        if not self.mounting.isVisible():
            self.mounting.show()


class SyncPanel(QWidget):
    """Sync score now and as a trend, the weak link, the last step's lags, cadence/stride/contact, balance, wheel."""

    def __init__(self, parent=None):
        super().__init__(parent)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(6)

        top = panel()
        tg = QGridLayout(top)
        tg.setContentsMargins(8, 4, 8, 4)
        self.score_caption = label("SYNC SCORE · last 20 steps", "caption")
        tg.addWidget(self.score_caption, 0, 0)
        self.score = label("—", "big")
        self.score.setStyleSheet(f"font-size: {theme.BIG_PT + 14}pt; font-weight: 900;")
        tg.addWidget(self.score, 1, 0, 2, 1)
        tg.addWidget(label("last step", "caption"), 0, 1)
        self.score_last = label("—", "mid")
        tg.addWidget(self.score_last, 1, 1)
        self.trend = TrendWidget()
        tg.addWidget(self.trend, 0, 2, 3, 1)
        tg.setColumnStretch(2, 1)
        v.addWidget(top)

        wl = panel()
        wv = QVBoxLayout(wl)
        wv.setContentsMargins(8, 4, 8, 4)
        self.weak_caption = label("WEAK LINK · last 20 steps", "caption")
        wv.addWidget(self.weak_caption)
        self.weak = label("—", "weak")
        self.weak.setWordWrap(True)
        wv.addWidget(self.weak)
        v.addWidget(wl)

        lags = panel()
        lg = QGridLayout(lags)
        lg.setContentsMargins(8, 4, 8, 4)
        lg.setVerticalSpacing(0)
        lg.setHorizontalSpacing(8)  # the value never touches its bar (the minimum widths below fit 1280 px)
        self.step_caption = label(f"LAST STEP · lag vs push · {band_words()}", "caption")
        self.step_caption.setToolTip("each limb's event after the stance leg's push (toe-off), ms and % of stride: "
                                     "the other leg's peak forward swing rate, the arms' turnarounds; "
                                     f"green band: the target model's target ±{TARGET_BAND_PCT:.0f} % of stride")
        lg.addWidget(self.step_caption, 0, 0, 1, 3)  # over the bars too: it never gets cut off
        self.lag_names: dict[str, QLabel] = {}
        self.lag_values: dict[str, QLabel] = {}
        for i, name in enumerate(LAG_NAMES, start=1):
            n = label(SHORT_LAG[name])
            n.setToolTip(LAG_WORDS[name])
            n.setStyleSheet("font-weight: 700;")
            val = label("—", None, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            val.setStyleSheet(f"font-size: {theme.MID_PT - 2}pt; font-weight: 800;")
            val.setMinimumWidth(172)  # "+188 ms +27%" (170 px) in full at this size: a cut sign would lie
            lg.addWidget(n, i, 0)
            lg.addWidget(val, i, 1)
            self.lag_names[name], self.lag_values[name] = n, val
        self.bars = LagBars()
        self.bars.setMinimumWidth(130)
        lg.addWidget(self.bars, 1, 2, 3, 1)
        lg.setColumnStretch(0, 0)
        lg.setColumnStretch(1, 0)
        lg.setColumnStretch(2, 1)
        v.addWidget(lags)

        # rhythm: cadence, stride, and the two phases of a running step (MEASUREMENT.md §4): ground contact
        # (initial contact to toe-off) and flight (toe-off to the other foot's initial contact), with their CV
        row = QHBoxLayout()
        row.setSpacing(4)
        self.tiles: dict[str, QLabel] = {}
        self.cvs: dict[str, QLabel] = {}
        for key, caption, tip in (
                ("cadence", "CADENCE", "steps per minute"),
                ("stride", "STRIDE ms", "stride time: one foot's initial contact to its next"),
                ("contact", "GROUND CONTACT ms", "ground contact time: initial contact to toe-off"),
                ("flight", "FLIGHT ms", "flight time: toe-off to the other foot's initial contact")):
            t = panel()
            t.setToolTip(tip)
            tv = QVBoxLayout(t)
            tv.setContentsMargins(4, 2, 4, 2)
            tv.setSpacing(0)
            tv.addWidget(label(caption, "caption"))
            self.tiles[key] = label("—", "big")
            self.tiles[key].setStyleSheet(f"font-size: {theme.BIG_PT - 6}pt;")  # four side by side, and a CV line
            tv.addWidget(self.tiles[key])
            if key == "cadence":
                tv.addWidget(label("steps/min", "caption"))
            else:
                self.cvs[key] = label("CV —", "caption")
                tv.addWidget(self.cvs[key])
            row.addWidget(t, 1)
        v.addLayout(row)

        bottom = QHBoxLayout()
        bal = panel()
        bv = QVBoxLayout(bal)
        bv.setContentsMargins(8, 4, 8, 4)
        bv.addWidget(label("LEFT / RIGHT BALANCE", "caption"))
        self.balance_contact = label("ground contact: —")
        self.balance_stride = label("stride time: —")
        self.pci = label(pci_words(None))
        self.pci.setToolTip(PCI_DETAIL)
        for w in (self.balance_contact, self.balance_stride, self.pci):
            w.setStyleSheet(f"font-size: {theme.BASE_PT + 1}pt; font-weight: 700;")
            w.setWordWrap(True)
            bv.addWidget(w)
        bv.addStretch(1)
        cap = label("PHASE WHEEL → where each limb peaks in the stride: push at the top, clockwise = late. "
                    "Rings, outside in: swing, stance arm, other arm.", "caption")
        cap.setWordWrap(True)
        bv.addWidget(cap)
        bottom.addWidget(bal, 4)
        self.wheel = PhaseWheel()
        self.wheel.setMinimumWidth(250)
        bottom.addWidget(self.wheel, 5)
        v.addLayout(bottom, 1)
        self._seq = -1
        self.laps: tuple[float, ...] = ()

    def render(self, snap: DashSnapshot) -> None:
        if snap.seq == self._seq:
            return
        self._seq = snap.seq
        # while running: the last 20 steps; once the session has ended: the whole session, as the report
        ended = snap.session_summary is not None
        r = snap.session_summary if ended else snap.rolling
        scope = f"whole session · {r.get('n_steps', snap.n_steps)} steps" if ended else "last 20 steps"
        set_text(self.score_caption, f"SYNC SCORE · {scope}")
        set_text(self.weak_caption, f"WEAK LINK · {scope}")
        set_text(self.score, fmt(r.get("sync_score")))
        step = snap.last_step
        set_text(self.score_last, fmt(step.sync_score) if step else "—")
        set_text(self.weak, weak_link_words(snap))
        for name in LAG_NAMES:
            if step is None:
                set_text(self.lag_values[name], "—")
                continue
            ms, pct = getattr(step, f"{name}_ms"), getattr(step, f"{name}_pct")
            set_text(self.lag_values[name], f"{signed_ms(ms)} {fmt(pct, '+.0f', '%')}")
            limb = lag_limb(name, step)
            set_text(self.lag_names[name], f"{SHORT_LAG[name]} ({ROLE_WORDS[limb].split()[0][0].upper()})")
        stance = f" · {step.stance_side.value} stance" if step else ""
        set_text(self.step_caption, f"LAST STEP{stance} · lag vs push · {band_words()}")
        set_text(self.tiles["cadence"], fmt(r.get("cadence_spm")))
        for key, what in (("stride", "stride_time"), ("contact", "contact_time"), ("flight", "flight_time")):
            v = r.get(f"{what}_s")
            set_text(self.tiles[key], fmt(None if v is None else v * 1000.0))
            set_text(self.cvs[key], f"CV {fmt(r.get(f'{what}_cv_pct'), '.1f', ' %')}")
        bal = r.get("balance") or {}
        set_text(self.balance_contact, balance_words(bal.get("contact_time_sa_pct"), "ground contact"))
        set_text(self.balance_stride, balance_words(bal.get("stride_time_sa_pct"), "stride time"))
        set_text(self.pci, pci_words(r.get("pci_pct")))
        self.trend.set_points(snap.score_trend, self.laps)
        self.bars.set_step(step, snap.targets_ms)
        self.wheel.set_steps(snap.recent_steps, snap.targets_ms)


class ControlBar(QFrame):
    """Athlete, start/stop, record, lap, target model, open replay."""

    sigStart = Signal()
    sigStop = Signal()
    sigRecord = Signal(bool)
    sigLap = Signal()
    sigOpen = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        h = QHBoxLayout(self)
        h.setContentsMargins(4, 2, 4, 2)
        h.addWidget(label("Athlete"))
        self.athlete = QLineEdit()
        self.athlete.setPlaceholderText("name")
        self.athlete.setMaximumWidth(220)
        h.addWidget(self.athlete)
        self.start = QPushButton("▶ Start (F5)")
        self.start.setCheckable(False)
        self.start.clicked.connect(self._start_clicked)
        h.addWidget(self.start)
        self.record = QPushButton("● Record (Ctrl+R)")
        self.record.setCheckable(True)
        self.record.toggled.connect(self.sigRecord.emit)
        h.addWidget(self.record)
        self.lap = QPushButton("Lap (L)")
        self.lap.clicked.connect(self.sigLap.emit)
        h.addWidget(self.lap)
        h.addWidget(label("Target"))
        self.target = QComboBox()
        self.target.addItems(list(TARGET_MODELS))
        self.target.setToolTip("together: every limb peaks with the push (0 ms)\n"
                               "baseline: the median of the first 20 steps (applies from the next start)")
        h.addWidget(self.target)
        h.addStretch(1)
        self.open = QPushButton("Open replay… (Ctrl+O)")
        self.open.clicked.connect(self.sigOpen.emit)
        h.addWidget(self.open)
        self.running = False

    def _start_clicked(self) -> None:
        (self.sigStop if self.running else self.sigStart).emit()

    def set_running(self, running: bool) -> None:
        self.running = running
        self.start.setText("■ Stop (F5)" if running else "▶ Start (F5)")
        self.target.setEnabled(not running)
        self.lap.setEnabled(running)


class ReplayBar(QFrame):
    """Play/pause, speed and a seek timeline for a replay."""

    sigPlay = Signal(bool)
    sigSpeed = Signal(float)
    sigSeek = Signal(float)
    sigExportReport = Signal()
    sigExportCsv = Signal()
    SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("panel")
        h = QHBoxLayout(self)
        h.setContentsMargins(8, 2, 8, 2)
        self.play = QPushButton("Pause (Space)")
        # the media glyphs ⏸/▶ are missing from many fonts (an empty box in replay): the style's own icons
        self.play.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause))
        self.play.clicked.connect(self.toggle)
        h.addWidget(self.play)
        self.speed = QComboBox()
        for s in self.SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.speed.setCurrentIndex(1)
        self.speed.currentIndexChanged.connect(lambda i: self.sigSpeed.emit(float(self.speed.itemData(i))))
        h.addWidget(self.speed)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 1000)
        self.slider.sliderReleased.connect(lambda: self.sigSeek.emit(self.slider.value() / 10.0))
        h.addWidget(self.slider, 1)
        self.pos = label("0:00 / 0:00", "mid")
        h.addWidget(self.pos)
        self.export_report = QPushButton("Report…")
        self.export_report.setToolTip("Export a report of this session (HTML or PDF)")
        self.export_report.clicked.connect(self.sigExportReport.emit)
        h.addWidget(self.export_report)
        self.export_csv = QPushButton("CSVs…")
        self.export_csv.setToolTip("Export events, steps, summary and samples of this session as CSV/JSON")
        self.export_csv.clicked.connect(self.sigExportCsv.emit)
        h.addWidget(self.export_csv)
        self.playing = True

    def toggle(self) -> None:
        self.set_playing(not self.playing)
        self.sigPlay.emit(self.playing)

    def set_playing(self, playing: bool) -> None:
        self.playing = playing
        self.play.setText("Pause (Space)" if playing else "Play (Space)")
        self.play.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause if playing
                                                    else QStyle.StandardPixmap.SP_MediaPlay))

    def render(self, snap: DashSnapshot) -> None:
        if snap.duration_s is None:
            return
        dur = max(snap.duration_s, 1e-6)
        self.slider.setRange(0, int(dur * 10))
        pos = min(max(snap.position_s or 0.0, 0.0), dur)  # the connection phase before the data reads 0:00
        if not self.slider.isSliderDown():
            self.slider.setValue(int(pos * 10))

        def mmss(t: float) -> str:
            return f"{int(t // 60)}:{int(t % 60):02d}"

        set_text(self.pos, f"{mmss(pos)} / {mmss(dur)}")
