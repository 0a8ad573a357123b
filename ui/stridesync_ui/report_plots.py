"""The report's figures, drawn with pyqtgraph on a white page and exported as vector graphics.

Each ``*_figure`` function returns a :class:`Figure` of a fixed size in CSS pixels (96 dpi). A figure
becomes inline SVG through :class:`QSvgGenerator` (pyqtgraph 0.14.0's own SVGExporter is broken) or is
painted straight into a PDF page at 96 dpi, so text stays text in both.

Colours are the Okabe–Ito colour-blind-safe palette, one per limb everywhere in the report: blues for
the left side, oranges for the right; dashed lines mark an arm's *back* turnaround.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication

from stridesync.model import Role

from stridesync.report.data import ReportData
from stridesync.report.stats import LIMB_NAME, LIMBS, Phase, Series, Trends, all_series, missing_reason, series_data
from stridesync.report.text import (NOT_MEASURED, SA_BAND_PCT, TARGET_BAND_PCT, balance_labels, balance_needs, balance_rules,
                          balance_value)

LIMB_COLOUR = {Role.LEFT_SHIN: "#0072B2", Role.RIGHT_SHIN: "#D55E00",
               Role.LEFT_WRIST: "#56B4E9", Role.RIGHT_WRIST: "#E69F00"}
SCORE_COLOUR = "#009E73"
CADENCE_COLOUR = "#CC79A7"
INK = "#1f2328"
GREY = "#6e7781"
BAND = (120, 120, 120, 38)
FONT_FAMILY = "DejaVu Sans"

log = logging.getLogger(__name__)


def _qcolor(c, alpha: int | None = None) -> QColor:
    q = QColor(c) if isinstance(c, str) else QColor(*c)
    if alpha is not None:
        q.setAlpha(alpha)
    return q


def font(pt: float, bold: bool = False, italic: bool = False) -> QFont:
    f = QFont(FONT_FAMILY)
    f.setPointSizeF(pt)
    f.setBold(bold)
    f.setItalic(italic)
    return f


def _pen(c, width: float = 1.0, dash: bool = False, alpha: int | None = None):
    p = pg.mkPen(_qcolor(c, alpha), width=width)
    if dash:
        p.setStyle(Qt.DashLine)
    p.setCosmetic(True)
    return p


class Figure:
    """A pyqtgraph layout of a fixed size, laid out off screen, ready to export."""

    def __init__(self, width_px: int, height_px: int, title: str):
        QApplication.instance() or _need_app()
        self.width_px, self.height_px, self.title = int(width_px), int(height_px), title
        self.widget = pg.GraphicsLayoutWidget()
        self.widget.setBackground("w")
        self.widget.setAttribute(Qt.WA_DontShowOnScreen, True)
        self.widget.setFixedSize(self.width_px, self.height_px)
        self.widget.setFrameStyle(0)
        self.layout = self.widget.ci
        self.layout.setContentsMargins(4, 4, 8, 4)

    def add_plot(self, row: int, col: int, *, title: str = "", x_label: str = "", y_label: str = "",
                 rowspan: int = 1, colspan: int = 1) -> pg.PlotItem:
        p = self.layout.addPlot(row=row, col=col, rowspan=rowspan, colspan=colspan)
        p.setMenuEnabled(False)
        p.hideButtons()
        if title:
            p.setTitle(f'<span style="color:{INK}; font-size:9.5pt; font-weight:600">{title}</span>')
        for name in ("left", "bottom"):
            ax = p.getAxis(name)
            ax.enableAutoSIPrefix(False)
            ax.setPen(_pen("#57606a"))
            ax.setTextPen(_pen(INK))
            ax.setStyle(tickFont=font(7.5), tickLength=-4)
        if x_label:
            p.getAxis("bottom").setLabel(x_label, **{"font-size": "8.5pt", "color": INK})
        if y_label:
            p.getAxis("left").setLabel(y_label, **{"font-size": "8.5pt", "color": INK})
        p.showGrid(x=True, y=True, alpha=0.12)
        return p

    def finish(self) -> "Figure":
        for item in self.widget.scene().items():
            # draw symbols as vector paths: the default pixmap atlas exports as bitmaps in SVG and PDF
            if isinstance(item, (pg.PlotDataItem, pg.ScatterPlotItem)):
                item.opts["useCache"] = False
        self.widget.show()
        QApplication.processEvents()
        w = self.layout.geometry().width()
        if w > self.width_px + 1:  # a label too wide for the figure widens the layout: it would be cut off
            log.warning("figure %r is laid out %.0f px wide, more than its %d px", self.title, w, self.width_px)
        return self

    def render(self, painter: QPainter, target: QRectF) -> None:
        """Paint the figure into ``target`` (in the painter's coordinates)."""
        self.widget.scene().render(painter, target, QRectF(0, 0, self.width_px, self.height_px))

    def svg(self) -> str:
        """The figure as an inline ``<svg>`` element that scales to its container's width."""
        buf = QBuffer()
        buf.open(QIODevice.WriteOnly)
        gen = QSvgGenerator()
        gen.setOutputDevice(buf)
        gen.setSize(QSize(self.width_px, self.height_px))
        gen.setViewBox(QRectF(0, 0, self.width_px, self.height_px))
        gen.setTitle(self.title)
        gen.setResolution(96)
        painter = QPainter(gen)
        try:
            self.render(painter, QRectF(0, 0, self.width_px, self.height_px))
        finally:
            painter.end()
        text = bytes(buf.data()).decode("utf-8")
        text = re.sub(r"^<\?xml[^>]*\?>\s*", "", text)
        text = re.sub(r'<svg width="[^"]*" height="[^"]*"',
                      f'<svg role="img" width="100%" style="max-width:{self.width_px}px;height:auto"', text, count=1)
        text = re.sub(r"<desc>Generated with Qt</desc>\s*", "", text, count=1)
        return text

    def close(self) -> None:
        self.widget.close()
        self.widget.deleteLater()


def _need_app() -> None:
    raise RuntimeError("the report's figures need a QApplication; stridesync_ui.report.render creates one")


def _note(p: pg.PlotItem, x: float, y: float, text: str, *, colour: str = GREY, anchor=(0.5, 0.5),
          pt: float = 8.0, italic: bool = True, bold: bool = False) -> pg.TextItem:
    t = pg.TextItem(text, color=_qcolor(colour), anchor=anchor)
    t.setFont(font(pt, italic=italic, bold=bold))
    t.setPos(x, y)
    p.addItem(t)
    return t


def _band(p: pg.PlotItem, x0, x1, y0, y1, colour=BAND) -> None:
    item = pg.QtWidgets.QGraphicsRectItem(QRectF(x0, y0, x1 - x0, y1 - y0))
    item.setPen(pg.mkPen(None))
    item.setBrush(pg.mkBrush(_qcolor(colour)))
    item.setZValue(-20)
    p.addItem(item)


def _fill_between(p: pg.PlotItem, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, colour) -> int:
    """Shade between two curves, one polygon per run of finite bins (a plain path item in data
    coordinates: pyqtgraph's FillBetweenItem is not painted when a figure is exported). Returns the polygons."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QPainterPath, QPolygonF

    ok = np.isfinite(lo) & np.isfinite(hi)
    n = 0
    k = 0
    while k < len(x):
        if not ok[k]:
            k += 1
            continue
        j = k
        while j + 1 < len(x) and ok[j + 1]:
            j += 1
        xs = x[k:j + 1]
        if j == k:  # a lone bin: a thin bar a tenth of the bin spacing wide
            half = 0.05 * (float(np.median(np.diff(x))) if len(x) > 1 else 1.0)
            xs_lo, xs_hi = np.array([xs[0] - half, xs[0] + half]), np.array([xs[0] + half, xs[0] - half])
            ys_lo, ys_hi = np.repeat(lo[k], 2), np.repeat(hi[k], 2)
        else:
            xs_lo, xs_hi, ys_lo, ys_hi = xs, xs[::-1], lo[k:j + 1], hi[k:j + 1][::-1]
        poly = QPolygonF([QPointF(float(a), float(b)) for a, b in zip(np.r_[xs_lo, xs_hi], np.r_[ys_lo, ys_hi])])
        path = QPainterPath()
        path.addPolygon(poly)
        path.closeSubpath()
        item = pg.QtWidgets.QGraphicsPathItem(path)
        item.setPen(pg.mkPen(None))
        item.setBrush(pg.mkBrush(colour))
        item.setZValue(-15)
        p.addItem(item)
        n += 1
        k = j + 1
    return n


def _mean_stride_ms(data: ReportData) -> float:
    v = data.summary.get("stride_time_s")
    return 1000.0 * v if v else 700.0


# ------------------------------------------------------------------------ lag distributions
def lag_distribution_figure(data: ReportData, width_px: int = 700, height_px: int = 330) -> Figure:
    """Ridges: one histogram per limb series, with its median, middle 50 % and target band."""
    fig = Figure(width_px, height_px, "Lag of each limb's event from toe-off")
    p = fig.add_plot(0, 0, title="Each limb's event vs toe-off: look for ridges inside the grey band",
                     x_label="lag from the stance leg's toe-off (ms)   ← early · late →")
    targets = dict(data.summary.get("targets_ms") or {})
    sd = series_data(data.steps, targets)
    stride_ms = _mean_stride_ms(data)
    band_ms = TARGET_BAND_PCT / 100.0 * stride_ms
    rows = all_series()
    vals = np.concatenate([d.lag_ms for d in sd.values()] + [np.array([0.0])])
    tg = [v for v in targets.values() if v is not None] or [0.0]
    lo = min(np.percentile(vals, 2.5), min(tg) - band_ms) - 0.04 * stride_ms
    hi = max(np.percentile(vals, 97.5), max(tg) + band_ms) + 0.04 * stride_ms
    lo, hi = max(lo, -0.5 * stride_ms), min(hi, 0.5 * stride_ms)
    edges = np.linspace(lo, hi, 61)
    worn = data.roles_worn
    ticks = []
    for i, se in enumerate(rows):
        y = len(rows) - 1 - i
        ticks.append((y + 0.35, se.label))
        d = sd[se]
        tgt = targets.get(se.lag)
        if tgt is not None:
            _band(p, tgt - band_ms, tgt + band_ms, y + 0.02, y + 0.9)
            p.plot([tgt, tgt], [y + 0.02, y + 0.9], pen=_pen(INK, 1.0, dash=True))
        if d.n < 2:
            _note(p, (lo + hi) / 2, y + 0.4, f"{NOT_MEASURED} — {missing_reason(se.needs, worn, 'no paired peaks')}")
            continue
        h, _ = np.histogram(d.lag_ms, bins=edges)  # lags beyond the axis still count in the bar and dot
        h = 0.85 * h / max(h.max(), 1)
        xs = np.repeat(edges, 2)[1:-1]
        ys = y + np.repeat(h, 2)
        colour = LIMB_COLOUR[se.role]
        dash = se.lag == "contra_arm_lag"
        p.plot(xs, ys, pen=_pen(colour, 1.0, dash=dash), fillLevel=y, brush=pg.mkBrush(_qcolor(colour, 70)))
        q1, med, q3 = np.percentile(d.lag_ms, [25, 50, 75])
        p.plot([q1, q3], [y, y], pen=pg.mkPen(_qcolor(colour), width=4))
        p.plot([med], [y], pen=None, symbol="o", symbolSize=7, symbolBrush=_qcolor(INK), symbolPen=pg.mkPen("w"))
        below, above = int(np.sum(d.lag_ms < lo)), int(np.sum(d.lag_ms > hi))
        if below:
            _note(p, lo, y + 0.25, f"‹ {below}", anchor=(0.0, 0.5), pt=6.5, italic=False)
        if above:
            _note(p, hi, y + 0.25, f"{above} ›", anchor=(1.0, 0.5), pt=6.5, italic=False)
    p.getAxis("left").setTicks([ticks, []])
    p.getAxis("left").setStyle(tickFont=font(8))
    p.getAxis("left").setWidth(142)  # "Right arm forward turn" whole: a label wider than its axis is not drawn
    p.showGrid(x=True, y=False, alpha=0.12)
    p.setXRange(lo, hi, padding=0)
    p.setYRange(-0.15, len(rows) - 0.05, padding=0)
    return fig.finish()


# ------------------------------------------------------------------------ trends
def _windows(p: pg.PlotItem, fatigue_window_min: tuple[float, float, float] | None) -> None:
    if not fatigue_window_min:
        return
    t0, t1, w = fatigue_window_min
    for a in ((t0, t0 + w), (t1 - w, t1)):
        region = pg.LinearRegionItem(values=a, movable=False, brush=pg.mkBrush(0, 114, 178, 14), pen=pg.mkPen(None))
        region.setZValue(-30)
        p.addItem(region)


def timing_trend_figure(data: ReportData, tr: Trends | None, fatigue_window_min=None,
                        width_px: int = 700, height_px: int = 380) -> Figure:
    """Per-bin medians of each limb's lag − target, and of the sync score."""
    fig = Figure(width_px, height_px, "Timing over the session")
    unit = f"{tr.bin_s:.0f} s" if tr else ""
    p1 = fig.add_plot(0, 0, title=f"Lag − target per limb event (median per {unit}): leaving the band = losing sync",
                      y_label="lag − target (ms)")
    p2 = fig.add_plot(1, 0, title=f"Sync score (median per {unit}; band: middle 50 % of steps): falling = drifting apart",
                      x_label="time from session start (min)", y_label="sync score")
    p2.setXLink(p1)
    fig.layout.layout.setRowStretchFactor(0, 3)
    fig.layout.layout.setRowStretchFactor(1, 2)
    if tr is None:
        _note(p1, 0.5, 0.5, f"{NOT_MEASURED} — too few steps")
        return fig.finish()
    band_ms = TARGET_BAND_PCT / 100.0 * _mean_stride_ms(data)
    x0, x1 = float(np.nanmin(tr.t_min)) - tr.bin_s / 120, float(np.nanmax(tr.t_min)) + tr.bin_s / 120
    _band(p1, x0, x1, -band_ms, band_ms)
    p1.addItem(pg.InfiniteLine(pos=0, angle=0, pen=_pen(INK, 1.0, dash=True)))
    any_limb = False
    for se, v in tr.series_dev_ms.items():
        if np.isfinite(v).sum() == 0:
            continue
        any_limb = True
        colour = LIMB_COLOUR[se.role]
        p1.plot(tr.t_min, v, pen=_pen(colour, 1.0, dash=se.lag == "contra_arm_lag"), connect="finite",
                symbol="o" if se.lag != "contra_arm_lag" else "s", symbolSize=5,
                symbolBrush=_qcolor(colour) if se.lag != "contra_arm_lag" else pg.mkBrush("w"),
                symbolPen=None if se.lag != "contra_arm_lag" else pg.mkPen(_qcolor(colour)))
    if not any_limb:
        _note(p1, (x0 + x1) / 2, 0, f"{NOT_MEASURED} — no paired limb peaks")
    _windows(p1, fatigue_window_min)
    q1, q3 = tr.score_q
    ok = np.isfinite(q1) & np.isfinite(q3)
    if ok.any():
        _fill_between(p2, tr.t_min, q1, q3, _qcolor(SCORE_COLOUR, 60))
        p2.plot(tr.t_min, tr.score, pen=_pen(SCORE_COLOUR, 1.0), symbol="o", symbolSize=5, connect="finite",
                symbolBrush=_qcolor(SCORE_COLOUR), symbolPen=None)
    else:
        _note(p2, (x0 + x1) / 2, 50, f"{NOT_MEASURED} — no step had a sync score")
    _windows(p2, fatigue_window_min)
    fig.layout.addLabel(_limb_legend(tr), row=2, col=0)
    p2.setYRange(0, 100, padding=0.02)
    p1.setXRange(x0, x1, padding=0.01)
    p1.getAxis("left").setWidth(52)
    p2.getAxis("left").setWidth(52)
    return fig.finish()


def _limb_legend(tr: Trends) -> str:
    cells = []
    for r in LIMBS:
        have = any(np.isfinite(v).any() for se, v in tr.series_dev_ms.items() if se.role is r)
        cells.append(f'<span style="color:{LIMB_COLOUR[r]}; font-size:11pt">━</span>'
                     f'<span style="color:{INK if have else GREY}; font-size:8pt"> {LIMB_NAME[r]}'
                     f'{"" if have else " (" + NOT_MEASURED + ")"}</span>')
    cells.append(f'<span style="color:{SCORE_COLOUR}; font-size:11pt">━</span>'
                 f'<span style="color:{INK}; font-size:8pt"> sync score</span>')
    return "&nbsp;&nbsp;&nbsp;&nbsp;".join(cells)


def cadence_figure(data: ReportData, tr: Trends | None, width_px: int = 700, height_px: int = 200) -> Figure:
    fig = Figure(width_px, height_px, "Cadence over the session")
    unit = f"{tr.bin_s:.0f} s" if tr else ""
    p = fig.add_plot(0, 0, title=f"Cadence (per {unit}; dashed: session mean): a flat line is a steady rhythm",
                     x_label="time from session start (min)", y_label="cadence (steps/min)")
    p.getAxis("left").setWidth(52)
    if tr is None or not np.isfinite(tr.cadence_spm).any():
        _note(p, 0.5, 0.5, f"{NOT_MEASURED} — too few steps")
        return fig.finish()
    mean = data.summary.get("cadence_spm")
    if mean:
        p.addItem(pg.InfiniteLine(pos=mean, angle=0, pen=_pen(GREY, 1.0, dash=True)))
    p.plot(tr.t_min, tr.cadence_spm, pen=_pen(CADENCE_COLOUR, 1.0), symbol="o", symbolSize=5, connect="finite",
           symbolBrush=_qcolor(CADENCE_COLOUR), symbolPen=None)
    c = tr.cadence_spm[np.isfinite(tr.cadence_spm)]
    mid = float(np.median(c))
    half = max(6.0, float(np.max(np.abs(c - mid))) + 2.0)
    p.setYRange(mid - half, mid + half, padding=0)
    return fig.finish()


# ------------------------------------------------------------------------ phase wheel
def _xy(pct: np.ndarray | float, r: float):
    th = np.asarray(pct, float) * 2 * np.pi / 100.0
    return r * np.sin(th), r * np.cos(th)


def phase_wheel_figure(data: ReportData, ph: dict[str, Phase], width_px: int = 340, height_px: int = 420) -> Figure:
    """Polar stride clock: 0 % (top) is the stance leg's push; clockwise is later. Each ring is one limb series:
    the arc spans ± one circular SD around the mean phase (dot); a black tick marks the target."""
    fig = Figure(width_px, height_px, "Phase wheel")
    p = fig.add_plot(0, 0, title="Stride clock: arcs at the top = together")
    p.hideAxis("left")
    p.hideAxis("bottom")
    p.showGrid(False, False)
    p.setAspectLocked(True)
    rows = all_series()
    radii = {se: 0.42 + 0.1 * i for i, se in enumerate(rows)}
    r_out = 0.42 + 0.1 * len(rows)
    circle = np.linspace(0, 100, 241)
    for r in [*radii.values(), r_out]:
        p.plot(*_xy(circle, r), pen=_pen("#d0d7de", 1.0))
    for pct, label in ((0, "push-off 0 %"), (25, "+25 %"), (50, "±50 %"), (-25, "−25 %")):
        x, y = _xy(pct, r_out)
        x0, y0 = _xy(pct, 0.32)
        p.plot([x0, x], [y0, y], pen=_pen("#d0d7de", 1.0))
        lx, ly = _xy(pct, r_out + 0.08)
        anchor = {0: (0.5, 1.0), 25: (0.0, 0.5), 50: (0.5, 0.0), -25: (1.0, 0.5)}[pct]
        _note(p, lx, ly, label, colour=INK if pct == 0 else GREY, anchor=anchor, italic=False, pt=7.5, bold=pct == 0)
    for se in rows:
        r = radii[se]
        key = f"{se.role.value}:{se.lag}"
        ring = ph.get(key)
        colour = LIMB_COLOUR[se.role]
        if ring is None:
            x, y = _xy(0, r)
            p.plot([x], [y], pen=None, symbol="x", symbolSize=6, symbolPen=_pen(GREY), symbolBrush=None)
            continue
        spread = min(ring.spread_pct, 49.0)
        arc = np.linspace(ring.mean_pct - spread, ring.mean_pct + spread, 60)
        pen = pg.mkPen(_qcolor(colour), width=5, cap=Qt.FlatCap)
        if se.lag == "contra_arm_lag":
            pen.setStyle(Qt.DashLine)
        p.plot(*_xy(arc, r), pen=pen)
        x, y = _xy(ring.mean_pct, r)
        p.plot([x], [y], pen=None, symbol="o", symbolSize=8, symbolBrush=_qcolor(colour), symbolPen=pg.mkPen(INK, width=1))
        if ring.target_pct is not None:
            (ax, ay), (bx, by) = _xy(ring.target_pct, r - 0.045), _xy(ring.target_pct, r + 0.045)
            p.plot([ax, bx], [ay, by], pen=pg.mkPen(INK, width=2))
    for i, se in enumerate(rows):
        x, y = _xy(50, radii[se])
        _note(p, x, y, str(i + 1), colour=GREY, italic=False, pt=6.5)
    for key, label, sym in (("own_contact", "stance foot strike", "t"), ("other_contact", "other foot strike", "t1")):
        c = ph.get(key)
        if c is None:
            continue
        x, y = _xy(c.mean_pct, r_out)
        p.plot([x], [y], pen=None, symbol="d", symbolSize=9, symbolBrush=_qcolor(GREY), symbolPen=None)
        lx, ly = _xy(c.mean_pct, r_out + 0.07)
        _note(p, lx, ly, label, colour=GREY, pt=7, italic=True,
              anchor=(0.0 if lx > 0 else 1.0, 0.5 if abs(ly) < 0.8 * r_out else (1.0 if ly > 0 else 0.0)))
    p.setXRange(-r_out - 0.62, r_out + 0.62, padding=0)
    p.setYRange(-r_out - 0.2, r_out + 0.25, padding=0)
    legend = fig.layout.addLabel(_wheel_legend(rows, ph), row=1, col=0, justify="left")
    legend.setMaximumHeight(80)
    return fig.finish()


def _wheel_legend(rows: list[Series], ph: dict[str, Phase]) -> str:
    cells = []
    for i, se in enumerate(rows):
        dash = "╍" if se.lag == "contra_arm_lag" else "━"
        have = f"{se.role.value}:{se.lag}" in ph
        cells.append(f'<span style="color:{LIMB_COLOUR[se.role] if have else GREY}; font-size:11pt">{dash if have else "×"}</span>'
                     f'<span style="color:{INK if have else GREY}; font-size:7.5pt"> {i + 1} {se.label}</span>')
    lines = ["&nbsp;&nbsp;".join(cells[k:k + 2]) for k in range(0, len(cells), 2)]
    return (f'<span style="font-size:7.5pt; color:{GREY}">rings from the centre out (× = {NOT_MEASURED}):</span><br>'
            + "<br>".join(lines))


# ------------------------------------------------------------------------ balance
def balance_figure(data: ReportData, width_px: int = 700, height_px: int = 250) -> Figure:
    fig = Figure(width_px, height_px, "Left/right balance")
    b = data.summary.get("balance") or {}
    worn = data.roles_worn
    p = fig.add_plot(0, 0, title=f"Symmetry angle: look for bars beyond the ±{SA_BAND_PCT:.0f} % band",
                     x_label="symmetry angle (%)   ← left larger · right larger →")
    labels = balance_labels(data)
    keys = list(labels)
    shown = {k: balance_value(data, k) for k in keys}
    vals = [shown[k][0] for k in keys]
    finite = [abs(v) for v in vals if v is not None]
    lim = max(10.0, (1.25 * max(finite) + 2.0) if finite else 0.0)  # room for the value beside the longest bar
    _band(p, -SA_BAND_PCT, SA_BAND_PCT, -0.6, len(keys) - 0.4)
    p.addItem(pg.InfiniteLine(pos=0, angle=90, pen=_pen(INK, 1.0)))
    ticks = []
    for i, (k, v) in enumerate(zip(keys, vals)):
        y = len(keys) - 1 - i
        ticks.append((y, labels[k]))
        if v is None:
            _note(p, 0, y, shown[k][1] or f"{NOT_MEASURED} — {missing_reason(balance_needs(k), worn)}", pt=7.5)
            continue
        arm = k.startswith("arm_")
        side = Role.RIGHT_WRIST if arm and v > 0 else Role.LEFT_WRIST if arm else Role.RIGHT_SHIN if v > 0 else Role.LEFT_SHIN
        p.addItem(pg.BarGraphItem(x0=[min(0.0, v)], y=[y], height=0.55, width=[abs(v)],
                                  brush=_qcolor(LIMB_COLOUR[side]), pen=pg.mkPen(None)))
        _note(p, v + (0.3 if v >= 0 else -0.3), y, ("0.0 %" if abs(v) < 0.05 else f"{v:+.1f} %"), colour=INK, italic=False, pt=7,
              anchor=(0.0, 0.5) if v >= 0 else (1.0, 0.5))
    p.getAxis("left").setTicks([ticks, []])
    p.getAxis("left").setStyle(tickFont=font(7.5))
    p.getAxis("left").setWidth(128)
    p.showGrid(x=True, y=False, alpha=0.12)
    p.setXRange(-lim, lim, padding=0.02)
    p.setYRange(-0.6, len(keys) - 0.4, padding=0)

    rules = balance_rules(data, "swing_amplitude_sa_pct")
    ratio_label = {"gyro": "swing peak rate / push-off rate", "accel": "swing hump / push depth (g/g)"}.get(rules, "swing / push")
    q = fig.add_plot(0, 1, title="Swing / push", y_label=ratio_label)
    fig.layout.layout.setColumnStretchFactor(0, 4)
    fig.layout.layout.setColumnStretchFactor(1, 1)
    top = 0.0
    for i, side in enumerate(("left", "right")):
        v = b.get(f"{side}_swing_push_ratio") if rules is not None else None
        role = Role.LEFT_SHIN if side == "left" else Role.RIGHT_SHIN
        if v is None:
            _note(q, i, 0.2, NOT_MEASURED, pt=7, anchor=(0.5, 1.0))
            continue
        top = max(top, v)
        q.addItem(pg.BarGraphItem(x=[i], height=[v], width=0.6, brush=_qcolor(LIMB_COLOUR[role]), pen=pg.mkPen(None)))
        _note(q, i, v, f"{v:.2f}", colour=INK, italic=False, pt=7.5, anchor=(0.5, 1.0))
    q.getAxis("bottom").setTicks([[(0, "left"), (1, "right")], []])
    q.getAxis("left").setWidth(44)
    q.showGrid(x=False, y=True, alpha=0.12)
    q.setXRange(-0.6, 1.6, padding=0)
    q.setYRange(0, max(top * 1.2, 1.0), padding=0)
    return fig.finish()


def all_figures(data: ReportData, tr: Trends | None, ph: dict[str, Phase], fatigue_window_min, width_px: int = 700) -> dict[str, Figure]:
    """Every figure of a report, keyed by its section id."""
    return {
        "lag-distribution": lag_distribution_figure(data, width_px),
        "timing-trend": timing_trend_figure(data, tr, fatigue_window_min, width_px),
        "cadence-trend": cadence_figure(data, tr, width_px),
        "phase-wheel": phase_wheel_figure(data, ph),
        "balance": balance_figure(data, width_px),
    }


__all__ = ["Figure", "LIMB_COLOUR", "all_figures", "balance_figure", "cadence_figure", "lag_distribution_figure",
           "phase_wheel_figure", "timing_trend_figure"]
