"""The drawn parts of the dashboard: limb traces (pyqtgraph), score trend, lag bars and phase wheel (QPainter).

Cost matters (issue 5, measured): no grids, 1 px cosmetic pens, no OpenGL. Curves get new data only when a
new snapshot arrives; between snapshots a frame only moves the shared x range, so the time axis scrolls
smoothly at the display rate.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from stridesync.model import LAG_NAMES, EventKind, Role

from . import theme
from .snapshot import TRACE_VIEW_S, DashSnapshot, lag_limb
from stridesync.report.words import ROLE_NAME, TARGET_BAND_PCT

pg.setConfigOptions(antialias=False, useOpenGL=False, background=theme.BG, foreground=theme.FG)

ROLE_ORDER = (Role.LEFT_SHIN, Role.RIGHT_SHIN, Role.LEFT_WRIST, Role.RIGHT_WRIST)


def inner_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """Round tick values kept away from a stacked plot's top and bottom edges (12 % of its range): a tick at
    an edge prints its label across the neighbouring plot's, as the wrists' ±500 did."""
    span = hi - lo
    if not span > 0:
        return []
    raw = span / 6.0
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first, last = lo + 0.12 * span, hi - 0.12 * span
    vals = np.arange(math.ceil(first / step) * step, last + 1e-9, step)
    return [(float(v), f"{v:g}") for v in vals]


class TracePanel(pg.GraphicsLayoutWidget):
    """Four stacked limb traces over the last ``TRACE_VIEW_S`` seconds, with event markers.

    Each trace is named in words in its top-left corner, with what it shows and its unit (the snapshot's
    ``trace_labels``: the forward swing rate −ω_z where a gyroscope is worn, an acceleration axis otherwise).

    The views stay fixed on −TRACE_VIEW_S … 0 s ("seconds before now") and each frame moves the curves
    and markers instead (``setPos``): no view range changes, so no linked-view updates and no axis
    re-layout per frame, and the cached curve paths are only translated."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # a scroll changes everything in the view anyway: one full repaint per frame is the cheapest
        self.setViewportUpdateMode(pg.QtWidgets.QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.ci.layout.setSpacing(0)
        self.ci.setContentsMargins(2, 2, 8, 2)
        self.plots: dict[Role, pg.PlotItem] = {}
        self.curves: dict[Role, pg.PlotDataItem] = {}
        self.markers: dict[Role, pg.ScatterPlotItem] = {}
        self.names: dict[Role, pg.TextItem] = {}
        self._marker_style: dict[Role, dict[EventKind, tuple]] = {}
        self._marker_key: dict[Role, tuple] = {}
        self._yrange: dict[Role, tuple[float, float]] = {}
        self._seq = -1
        self._yr_at = -1e9
        self.frames = 0
        self.t_now_s = 0.0  # the session time shown at the right edge
        for k, role in enumerate(ROLE_ORDER):
            p = self.addPlot(row=k, col=0)
            p.setMenuEnabled(False)
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
            p.showGrid(x=False, y=False)
            for name in ("left", "bottom", "top", "right"):  # else every scroll re-typesets each axis label
                p.getAxis(name).enableAutoSIPrefix(False)
            colour = theme.LIMB_COLOUR[role]
            ax = p.getAxis("left")
            ax.setWidth(44)
            ax.setStyle(maxTickLevel=1, tickLength=-4)
            # the name sits in the plot's corner, in view pixels: a vertical axis label of this length would
            # not fit a quarter of the panel's height
            name = pg.TextItem(ROLE_NAME[role].capitalize(), color=colour, anchor=(0, 0),
                               fill=pg.mkBrush(255, 255, 255, 215))
            font = QFont()
            font.setPointSizeF(10.5)
            font.setBold(True)
            name.setFont(font)
            name.setParentItem(p.vb)
            name.setPos(2, 0)
            name.setZValue(20)
            self.names[role] = name
            p.getAxis("bottom").setStyle(maxTickLevel=1, tickLength=-4)
            if k < len(ROLE_ORDER) - 1:
                p.hideAxis("bottom")
            else:
                p.setLabel("bottom", "seconds before now")
            p.vb.disableAutoRange()
            p.setYRange(-1.5, 3.0, padding=0)
            p.setXRange(-TRACE_VIEW_S, 0.0, padding=0)
            self.plots[role] = p
            self.curves[role] = p.plot(pen=pg.mkPen(colour, width=1), connect="finite", skipFiniteCheck=False)
            # one scatter per plot for all its event kinds: each item costs a bounding-rect pass per frame
            self.markers[role] = pg.ScatterPlotItem(size=11, pen=pg.mkPen(theme.FG, width=1), pxMode=True)
            p.addItem(self.markers[role])
            kinds = (EventKind.CONTACT, EventKind.PUSH, EventKind.SWING) if role.is_shin else (EventKind.ARM_FWD, EventKind.ARM_BACK)
            self._marker_style[role] = {
                k: (theme.EVENT_SYMBOL[k], pg.mkBrush(colour if k in (EventKind.PUSH, EventKind.ARM_FWD, EventKind.CONTACT)
                                                      else theme.BG)) for k in kinds}

    def trace_name(self, role: Role) -> str:
        """The words naming a trace, as shown."""
        return self.names[role].textItem.toPlainText()

    def new_data(self, snap: DashSnapshot) -> None:
        """Hand the newest snapshot's samples and events to the curves (once per snapshot)."""
        if snap.seq == self._seq:
            return
        self._seq = snap.seq
        by_role: dict[Role, list] = {}
        for e in snap.events:
            by_role.setdefault(e.role, []).append(e)
        for role, text in snap.trace_labels.items():
            name = self.names.get(role)
            if name is not None and name.textItem.toPlainText() != text:
                name.setText(text)
                self._yrange.pop(role, None)  # another signal: its own scale, at once
                self._yr_at = -1e9
        rescale = snap.now_s - self._yr_at > 2.0
        if rescale:
            self._yr_at = snap.now_s
        for role, curve in self.curves.items():
            t, y = snap.traces.get(role, (np.empty(0), np.empty(0)))
            curve.setData(t, y)
            style = self._marker_style[role]
            evs = [e for e in by_role.get(role, ()) if e.kind in style]
            key = (len(evs), evs[0].time_s if evs else None, evs[-1].time_s if evs else None)
            if key == self._marker_key.get(role):
                pass  # the same events: their markers stay
            elif evs and np.count_nonzero(ok := ~np.isnan(y)) > 1:
                self._marker_key[role] = key
                times = np.array([e.time_s for e in evs])
                self.markers[role].setData(x=times, y=np.interp(times, t[ok], y[ok]),
                                           symbol=[style[e.kind][0] for e in evs], brush=[style[e.kind][1] for e in evs])
            else:
                self._marker_key[role] = key
                self.markers[role].setData(x=[], y=[])
            if rescale and len(y) > 10:
                fin = y[np.isfinite(y)]
                if len(fin) > 10:
                    lo, hi = np.percentile(fin, [0.2, 99.8])
                    pad = 0.12 * max(hi - lo, 0.5)
                    want = (float(lo - pad), float(hi + 2.5 * pad))  # room at the top for the trace's name
                    have = self._yrange.get(role)
                    if have is None or want[0] < have[0] or want[1] > have[1] or (have[1] - have[0]) > 1.6 * (want[1] - want[0]):
                        self._yrange[role] = want
                        self.plots[role].setYRange(*want, padding=0)
                        self.plots[role].getAxis("left").setTicks([inner_ticks(*want), []])

    def scroll_to(self, t_now_s: float) -> None:
        """One frame: show the last TRACE_VIEW_S seconds up to ``t_now_s`` (the items move, the views stay)."""
        if t_now_s != self.t_now_s:
            self.t_now_s = t_now_s
            for role in self.plots:
                curve, markers = self.curves[role], self.markers[role]
                curve.setPos(-t_now_s, 0.0)
                markers.setPos(-t_now_s, 0.0)
                # pyqtgraph caches each item's view rectangle in its own coordinates and only forgets it
                # when the view changes; a moved item must forget it too (the markers draw only the
                # points inside it)
                curve.curve.viewTransformChanged()
                markers.viewTransformChanged()
        self.frames += 1


class TrendWidget(QWidget):
    """The sync score of every step, 0–100, newest on the right: is it getting better?"""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumHeight(60)
        self.points: tuple[tuple[float, float], ...] = ()
        self.laps: tuple[float, ...] = ()

    def set_points(self, points, laps=()) -> None:
        if points != self.points or tuple(laps) != self.laps:
            self.points, self.laps = points, tuple(laps)
            self.update()

    def paintEvent(self, _ev) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        w, h = self.width(), self.height()
        p.fillRect(0, 0, w, h, QColor(theme.BG))
        p.setPen(QPen(QColor(theme.GRID), 1))
        for v in (50, 100):
            y = h - 2 - (h - 4) * v / 100
            p.drawLine(0, int(y), w, int(y))
        p.setPen(QColor(theme.MUTED))
        p.setFont(QFont(p.font().family(), 8))
        p.drawText(2, 10, "100")
        p.drawText(2, int(h / 2) + 4, "50")
        pts = self.points
        if len(pts) >= 2:
            t0, t1 = pts[0][0], pts[-1][0]
            span = max(t1 - t0, 1e-6)
            xs = [28 + (w - 30) * (t - t0) / span for t, _ in pts]
            ys = [h - 2 - (h - 4) * max(0.0, min(100.0, s)) / 100 for _, s in pts]
            p.setPen(QPen(QColor(theme.BAD), 1))
            for lap in self.laps:
                if t0 <= lap <= t1:
                    x = 28 + (w - 30) * (lap - t0) / span
                    p.drawLine(int(x), 0, int(x), h)
            p.setPen(QPen(QColor(theme.FG), 1))
            p.drawPolyline([QPointF(x, y) for x, y in zip(xs, ys)])
        p.end()


class LagBars(QWidget):
    """The last step's three lags on a ±25 % of stride scale, with the target band (target ± TARGET_BAND_PCT %
    of stride, the one band of every view: docs/measurement.md §6)."""

    SCALE_PCT = 25.0
    BAND_PCT = TARGET_BAND_PCT

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumHeight(84)
        self.rows: list[tuple[str, str, float | None, float | None, float]] = []

    def set_step(self, step, targets_ms) -> None:
        rows = []
        if step is not None:
            stride_ms = step.stride_time_s * 1000.0
            for name in LAG_NAMES:
                limb = lag_limb(name, step)
                tgt = (targets_ms.get(name) or 0.0) if targets_ms else 0.0
                rows.append((name, limb.value, getattr(step, f"{name}_pct"), getattr(step, f"{name}_ms"),
                             100.0 * tgt / stride_ms))
        if rows != self.rows:
            self.rows = rows
            self.update()

    def paintEvent(self, _ev) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        w, h = self.width(), self.height()
        p.fillRect(0, 0, w, h, QColor(theme.BG))
        left, right = 8, w - 8
        n = 3
        rh = h / n

        def x_of(pct: float) -> float:
            pct = max(-self.SCALE_PCT, min(self.SCALE_PCT, pct))
            return left + (right - left) * (pct + self.SCALE_PCT) / (2 * self.SCALE_PCT)

        p.setPen(QPen(QColor(theme.MUTED), 1))
        x0 = x_of(0.0)
        p.drawLine(int(x0), 0, int(x0), h)
        for i, row in enumerate(self.rows):
            _name, limb, pct, _ms, tgt_pct = row
            y = i * rh
            band = QRectF(x_of(tgt_pct - self.BAND_PCT), y + 4, x_of(tgt_pct + self.BAND_PCT) - x_of(tgt_pct - self.BAND_PCT), rh - 8)
            p.fillRect(band, QColor(theme.BAND))
            p.setPen(QPen(QColor(theme.OK), 1))
            p.drawLine(int(x_of(tgt_pct)), int(y + 4), int(x_of(tgt_pct)), int(y + rh - 4))
            if pct is not None:
                colour = QColor(theme.LIMB_COLOUR[Role(limb)])
                x = x_of(pct)
                p.fillRect(QRectF(min(x0, x), y + rh * 0.3, abs(x - x0) or 2, rh * 0.4), colour)
                p.setPen(QPen(QColor(theme.FG), 1))
                p.drawLine(int(x), int(y + 2), int(x), int(y + rh - 2))
        p.setPen(QColor(theme.MUTED))
        p.setFont(QFont(p.font().family(), 8))
        p.drawText(left, h - 1, "−25 %")  # early
        p.drawText(QRectF(left, h - 12, right - left, 12), Qt.AlignmentFlag.AlignRight, "+25 %")  # late
        p.end()


class PhaseWheel(QWidget):
    """Where each limb peaks in the stride, push of the stance leg at 12 o'clock, clockwise = later.

    Dots: the last 20 steps (faint) and the last step (solid); ticks: the targets.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(150, 150)
        self.steps = ()
        self.targets_ms = {}

    def set_steps(self, steps, targets_ms) -> None:
        steps = tuple(steps)
        if steps != self.steps:
            self.steps, self.targets_ms = steps, dict(targets_ms or {})
            self.update()

    def paintEvent(self, _ev) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        w, h = self.width(), self.height()
        p.fillRect(0, 0, w, h, QColor(theme.BG))
        r = min(w, h) / 2 - 30
        c = QPointF(w / 2, h / 2)
        p.setPen(QPen(QColor(theme.FG), 1))
        p.drawEllipse(c, r, r)
        p.setFont(QFont(p.font().family(), 8))
        p.setPen(QColor(theme.MUTED))
        for pct, label in ((0, "push"), (25, "+25%"), (-25, "−25%"), (50, "±50%")):
            a = math.radians(pct * 3.6 - 90)
            tx, ty = c.x() + (r + 9) * math.cos(a), c.y() + (r + 9) * math.sin(a)
            p.drawText(QRectF(tx - 30, ty - 7, 60, 14), Qt.AlignmentFlag.AlignCenter, label)

        def at(pct: float, rr: float) -> QPointF:
            a = math.radians(pct * 3.6 - 90)
            return QPointF(c.x() + rr * math.cos(a), c.y() + rr * math.sin(a))

        p.setPen(QPen(QColor(theme.FG), 1))
        p.setBrush(QColor(theme.FG))
        p.drawEllipse(at(0, r), 5, 5)
        ring = {"swing_lag": 0.86, "ipsi_arm_lag": 0.62, "contra_arm_lag": 0.40}
        last = self.steps[-1] if self.steps else None
        for s in self.steps:
            stride_ms = s.stride_time_s * 1000.0
            for name in LAG_NAMES:
                pct = getattr(s, f"{name}_pct")
                if pct is None:
                    continue
                colour = QColor(theme.LIMB_COLOUR[lag_limb(name, s)])
                solid = s is last
                colour.setAlpha(255 if solid else 70)
                p.setPen(QPen(QColor(theme.FG), 1) if solid else Qt.PenStyle.NoPen)
                p.setBrush(colour)
                p.drawEllipse(at(pct, r * ring[name]), 7 if solid else 4, 7 if solid else 4)
                if solid and name == "swing_lag":
                    tgt = 100.0 * (self.targets_ms.get(name) or 0.0) / stride_ms
                    p.setPen(QPen(QColor(theme.OK), 1))
                    p.drawLine(at(tgt, r * 0.95), at(tgt, r * 1.05))
        p.end()
