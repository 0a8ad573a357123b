"""The squad view in Qt (``stridesync dashboard --team``): every hub on LSL, one row per athlete.

Threads (STYLE.md §7): :class:`SquadWorker` owns the :class:`stridesync.team.view.SquadFeed` (pylsl inlets
and the squad model) on its own thread, polls it every 20 ms as the terminal squad view does, and leaves an
immutable tuple of :class:`~.team_snapshot.SquadRow` s for the GUI, which reads the newest on a 4 Hz timer
and only renders. Clicking an athlete opens the single-athlete dashboard (:class:`~.app.DashboardWindow`)
fed by an :class:`LslAthleteSource`: the worker then also pulls that athlete's sensor streams and, at
:data:`ATHLETE_HZ`, builds its :class:`~.snapshot.DashSnapshot` (the hub's own steps, events, score, weak
link and health; the sensor streams for the traces; see :mod:`~.team_snapshot`) and emits it through a
Qt signal.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path

from PySide6.QtCore import QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QPen, QPolygonF
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QMainWindow, QStyledItemDelegate, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from . import theme
from .team_snapshot import LslAthleteBuilder, SquadRow, score_words, squad_rows, trend_words
from .widgets import LEVEL_COLOUR, label, set_text
from .worker import SnapshotBridge, error_words

log = logging.getLogger(__name__)

#: the squad feed is polled this often (s), as `stridesync team` does
POLL_S = 0.02
#: the table is rebuilt (worker) and rendered (GUI) this often (Hz)
TABLE_HZ = 4.0
#: a followed athlete's snapshot rate (Hz)
ATHLETE_HZ = 10.0
#: how the lost rows look
LOST_FG = "#8a8a8a"

COLUMNS = ("athlete", "state", "steps", "sync", "trend", "weak link", "cadence", "sensors")


class LslAthleteSource:
    """One athlete of the squad, as a dashboard source (what :class:`~.app.DashboardWindow` needs of one).

    Made on the GUI thread; :class:`SquadWorker` builds its snapshots on its own thread and emits them
    through ``bridge``. :meth:`stop` tells the worker to stop following the athlete.
    """

    playing = True

    def __init__(self, worker: "SquadWorker", athlete: str):
        self.worker = worker
        self.athlete = athlete
        self.bridge = SnapshotBridge()
        self.builder = LslAthleteBuilder(athlete, worker.t0_lsl)
        self._stopped = threading.Event()

    @property
    def title(self) -> str:
        return f"SQUAD · {self.athlete} {self.builder.description}"

    @property
    def running(self) -> bool:
        return not self._stopped.is_set() and self.worker.running

    def stop(self) -> None:
        if not self._stopped.is_set():
            self._stopped.set()
            self.worker.unfollow(self)

    def join(self, timeout_s: float | None = None) -> bool:
        return True


class SquadWorker:
    """The squad feed on its own thread. GUI-thread API: :meth:`start`, :meth:`rows`, :meth:`follow`,
    :meth:`unfollow`, :meth:`stop`, :meth:`join`."""

    def __init__(self, *, record_dir: Path | None = None):
        from stridesync.sources.lsl import lsl_clock

        self.record_dir = record_dir
        self.t0_lsl = lsl_clock()
        self.bridge = SnapshotBridge()  # sigError / sigNotice / sigFinished for the team window
        self.recorded: list[Path] = []
        self.error: str | None = None
        self.followed: frozenset[str] = frozenset()  # athletes a dashboard follows (set by the worker thread)
        self._rows: tuple[SquadRow, ...] = ()
        self._rows_lock = threading.Lock()
        self._cmds: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="stridesync-squad", daemon=True)

    # ------------------------------------------------------------------ GUI-thread API
    def start(self) -> "SquadWorker":
        self._thread.start()
        return self

    def rows(self) -> tuple[SquadRow, ...]:
        with self._rows_lock:
            return self._rows

    def follow(self, athlete: str) -> LslAthleteSource:
        src = LslAthleteSource(self, athlete)
        self._cmds.put(("follow", src))
        return src

    def unfollow(self, src: LslAthleteSource) -> None:
        self._cmds.put(("unfollow", src))

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout_s: float | None = None) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    # ------------------------------------------------------------------ worker thread
    def _main(self) -> None:
        try:
            self._run()
        except Exception as exc:
            log.exception("squad view failed")
            self.error = error_words(exc)
            self.bridge.sigError.emit(self.error)
        finally:
            self.bridge.sigFinished.emit()

    def _run(self) -> None:
        from stridesync.team.view import SquadFeed

        feed = SquadFeed(record_dir=self.record_dir)
        feed.t0 = self.t0_lsl
        followed: list[LslAthleteSource] = []

        def tap(items) -> None:
            for src in followed:
                src.builder.feed(items, feed.squad)

        feed.taps.append(tap)
        next_rows = next_athletes = 0.0
        try:
            while not self._stop.is_set():
                while True:
                    try:
                        cmd, src = self._cmds.get_nowait()
                    except queue.Empty:
                        break
                    if cmd == "follow":
                        followed.append(src)
                        feed.watch(src.athlete)
                    elif src in followed:
                        followed.remove(src)
                        if not any(s.athlete == src.athlete for s in followed):
                            feed.watch(src.athlete, False)
                    self.followed = frozenset(s.athlete for s in followed)
                for line in feed.poll():
                    log.info("%s", line)
                    self.bridge.sigNotice.emit(line)
                now = feed.clock()
                if now >= next_rows:
                    next_rows = now + 1.0 / TABLE_HZ
                    rows = squad_rows(feed.squad, now)
                    with self._rows_lock:
                        self._rows = rows
                if followed and now >= next_athletes:
                    next_athletes = now + 1.0 / ATHLETE_HZ
                    for src in followed:
                        src.bridge.sigSnapshot.emit(src.builder.build(feed.squad, now))
                self._stop.wait(POLL_S)
        finally:
            self.recorded = feed.close()
            for p in self.recorded:
                self.bridge.sigNotice.emit(f"recorded {p}")
            for src in followed:
                src.bridge.sigFinished.emit()


# ============================================================================ widgets
class SparkDelegate(QStyledItemDelegate):
    """The trend cell: the rolling sync score after each of the last steps as a thin polyline (0–100 scaled
    to the cell), then the trend in points. One QPainter polyline per visible row: no plot items."""

    def paint(self, painter, option, index) -> None:  # noqa: N802 - Qt override
        super().paint(painter, option, index)
        pts = index.data(Qt.ItemDataRole.UserRole)
        if not pts or len(pts) < 2:
            return
        r = option.rect.adjusted(4, 4, -48, -4)
        lo, hi = min(pts), max(pts)
        lo, hi = min(lo, hi - 10.0), max(hi, lo + 10.0)  # at least 10 points tall: noise stays flat
        n = len(pts)
        poly = QPolygonF([QPointF(r.left() + r.width() * k / (n - 1), r.bottom() - r.height() * (v - lo) / (hi - lo))
                          for k, v in enumerate(pts)])
        colour = index.data(Qt.ItemDataRole.ForegroundRole)
        painter.save()
        painter.setPen(QPen(colour.color() if colour is not None else QColor(theme.FG), 1))
        painter.drawPolyline(poly)
        painter.restore()


class SquadTable(QTableWidget):
    """One row per athlete; rows are kept by name, cells are only set when their text changes."""

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels([c.upper() for c in COLUMNS])
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setItemDelegateForColumn(COLUMNS.index("trend"), SparkDelegate(self))
        h = self.horizontalHeader()
        for k, c in enumerate(COLUMNS):
            h.setSectionResizeMode(k, QHeaderView.ResizeMode.Stretch if c in ("weak link", "sensors")
                                   else QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(COLUMNS.index("trend"), QHeaderView.ResizeMode.Fixed)
        self.setColumnWidth(COLUMNS.index("trend"), 170)
        self.verticalHeader().setDefaultSectionSize(34)
        self.setToolTip("click an athlete for the full view, fed from LSL")
        self.names: list[str] = []
        self._shown: dict[tuple[str, str], tuple] = {}

    def render(self, rows: tuple[SquadRow, ...]) -> None:
        names = [r.name for r in rows]
        if names != self.names:
            self.setRowCount(len(rows))
            self.names = names
            self._shown.clear()
            for k in range(len(rows)):
                for c in range(len(COLUMNS)):
                    item = QTableWidgetItem()
                    if COLUMNS[c] in ("steps", "sync", "cadence"):
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    elif COLUMNS[c] == "trend":
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.setItem(k, c, item)
        for k, r in enumerate(rows):
            lost = r.state == "lost"
            fg = LOST_FG if lost else theme.FG
            state_fg = {"lost": theme.BAD, "back": theme.OK, "live": theme.OK}.get(r.state, theme.MUTED)
            split = " (split)" if r.split else ""
            cells = {"athlete": (r.name + split, fg), "state": (r.state_words, state_fg),
                     "steps": (str(r.n_steps), fg), "sync": (score_words(r), fg), "trend": (trend_words(r), fg),
                     "weak link": (r.weak_link, fg), "cadence": (fmt_cadence(r.cadence_spm), fg),
                     "sensors": (r.health, LOST_FG if lost else LEVEL_COLOUR[r.health_level])}
            for c, (text, colour) in cells.items():
                col = COLUMNS.index(c)
                spark = r.spark if c == "trend" else None
                key = (text, colour, spark)
                if self._shown.get((r.name, c)) == key:
                    continue
                self._shown[(r.name, c)] = key
                item = self.item(k, col)
                item.setText(text)
                item.setForeground(QColor(colour))
                if c == "trend":
                    item.setData(Qt.ItemDataRole.UserRole, list(spark))
                elif c == "sensors":
                    item.setToolTip(r.health_tip)
                if c in ("athlete", "state", "sync"):
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)

    def row_of(self, name: str) -> int:
        return self.names.index(name)


def fmt_cadence(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f}/min"


class TeamWindow(QMainWindow):
    """The squad view: the table, a line of news; a click opens that athlete's dashboard.

    Parameters
    ----------
    record_dir : record every athlete into this folder (as ``stridesync team --record DIR``); the files are
        written when the window closes.
    """

    def __init__(self, *, record_dir: Path | None = None, settings: QSettings | None = None):
        super().__init__()
        self.settings = settings or QSettings("StrideSync", "team-athlete-view")
        self.setStyleSheet(theme.STYLESHEET)
        self.resize(1280, 420)
        root = QWidget()
        v = QVBoxLayout(root)
        v.setContentsMargins(6, 4, 6, 4)
        self.caption = label("SQUAD · every StrideSync hub on Lab Streaming Layer · click an athlete for the full view",
                             "caption")
        v.addWidget(self.caption)
        self.table = SquadTable()
        self.table.cellClicked.connect(lambda row, _col: self.open_athlete(self.table.names[row]))
        v.addWidget(self.table, 1)
        self.news = label("", "caption")
        v.addWidget(self.news)
        self.setCentralWidget(root)
        self.errors: list[str] = []
        self.athlete_windows: dict[str, object] = {}
        self.worker = SquadWorker(record_dir=record_dir)
        self.worker.bridge.sigNotice.connect(self._news)
        self.worker.bridge.sigError.connect(self._error)
        self.worker.start()
        self.rows: tuple[SquadRow, ...] = ()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._frame)
        self.timer.start(int(1000 / TABLE_HZ))
        self._title(record_dir)

    def _title(self, record_dir: Path | None) -> None:
        rec = f" · ● RECORDING into {record_dir}" if record_dir is not None else ""
        self.setWindowTitle(f"StrideSync — squad view{rec}")

    def _news(self, text: str) -> None:
        set_text(self.news, f"{time.strftime('%H:%M:%S')}  {text}")

    def _error(self, text: str) -> None:
        self.errors.append(text)
        set_text(self.news, f"⚠ {text}")

    def _frame(self) -> None:
        rows = self.worker.rows()
        if rows is not self.rows:
            self.rows = rows
            self.table.render(rows)

    def open_athlete(self, name: str):
        """The single-athlete dashboard of ``name``, fed from LSL (raised if already open)."""
        from .app import DashboardWindow

        win = self.athlete_windows.get(name)
        if win is not None and win.isVisible():
            win.raise_()
            win.activateWindow()
            return win
        win = DashboardWindow(source="ble:", settings=self.settings)  # it follows a hub; it starts nothing
        win.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        win.follow(self.worker.follow(name), name)
        win.show()
        self.athlete_windows[name] = win
        return win

    def closeEvent(self, ev) -> None:  # noqa: N802 - Qt override
        self.timer.stop()
        for win in self.athlete_windows.values():
            win.close()
        self.worker.stop()
        self.worker.join(10.0)
        super().closeEvent(ev)


__all__ = ["LslAthleteSource", "SquadTable", "SquadWorker", "TeamWindow"]
