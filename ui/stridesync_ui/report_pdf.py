"""The PDF writer: a :class:`~stridesync_ui.report_doc.Document` painted onto A4 pages with QPdfWriter.

The page is laid out at 96 dpi in CSS pixels (A4 = 794 × 1123 px), so figures are painted 1:1 from
their pyqtgraph scenes as vector graphics and every word is real, selectable text. Layout is two
passes: blocks are measured and placed on pages (a section title never ends a page; a table that
does not fit is split between rows and its header repeated), then everything is painted with a
footer "page i of n".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen, QTextDocument

from .report_doc import CONTENT_W, Columns, Document, FigureBlock, KeyNumbers, Paragraphs, Section, Table
from .report_plots import INK, font
from stridesync.report.text import NOT_MEASURED, esc

PAGE_W, PAGE_H = 794, 1123
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = (PAGE_W - CONTENT_W) // 2, 50, 66
BOTTOM = PAGE_H - MARGIN_BOTTOM
MUTED = "#57606a"
LINE = "#d0d7de"
SOFT = "#f6f8fa"
ACCENT = "#0072B2"
WEAK = "#D55E00"
GAP = 10.0

Painter = Callable[[QPainter, float, float], None]


@dataclass
class Placed:
    y: float
    paint: Painter


class Layout:
    """Places measured blocks on pages; ``device`` is the PDF writer (for exact font metrics)."""

    def __init__(self, device: QPdfWriter):
        self.device = device
        self.pages: list[list[Placed]] = [[]]
        self.y = float(MARGIN_TOP)

    # ---------------------------------------------------------------- placement
    @property
    def room(self) -> float:
        return BOTTOM - self.y

    def new_page(self) -> None:
        if self.pages[-1]:
            self.pages.append([])
        self.y = float(MARGIN_TOP)

    def place(self, height: float, paint: Callable[[QPainter, float, float], None], gap: float = GAP) -> None:
        if height > self.room and self.y > MARGIN_TOP:
            self.new_page()
        x = float(MARGIN_X)
        y = self.y
        self.pages[-1].append(Placed(y, lambda p, _y=y, _x=x: paint(p, _x, _y)))
        self.y += height + gap

    # ---------------------------------------------------------------- measuring helpers
    def metrics(self, font: QFont) -> QFontMetricsF:
        return QFontMetricsF(font, self.device)

    def text_height(self, text: str, font: QFont, width: float) -> float:
        r = self.metrics(font).boundingRect(QRectF(0, 0, width, 10_000), int(Qt.TextWordWrap), text)
        return r.height()

    def rich(self, html: str, width: float, pt: float = 9.5, colour: str = INK) -> QTextDocument:
        doc = QTextDocument()
        doc.documentLayout().setPaintDevice(self.device)
        doc.setDocumentMargin(0)
        doc.setDefaultFont(font(pt))
        doc.setHtml(f'<div style="color:{colour}">{html}</div>')
        doc.setTextWidth(width)
        return doc


def _draw_rich(doc: QTextDocument) -> Painter:
    def paint(p: QPainter, x: float, y: float) -> None:
        p.save()
        p.translate(x, y)
        doc.drawContents(p)
        p.restore()
    return paint


# -------------------------------------------------------------------- blocks
def _header(lay: Layout, doc: Document) -> None:
    d = doc.data
    athlete = d.athlete or "Unnamed athlete"
    meta_font, meta_bold = font(9), font(9, bold=True)
    fm, fb = lay.metrics(meta_font), lay.metrics(meta_bold)
    # meta pairs flow in lines
    lines: list[list[tuple[str, str, float]]] = [[]]
    x = 0.0
    for k, v in doc.meta:
        w = fm.horizontalAdvance(k + " ") + fb.horizontalAdvance(v) + 22
        if x + w > CONTENT_W and lines[-1]:
            lines.append([])
            x = 0.0
        lines[-1].append((k, v, x))
        x += w
    athlete_font = font(21, bold=True)
    height = 18 + 36 + 18 + 8 + 17 * len(lines) + 12

    def paint(p: QPainter, x0: float, y0: float) -> None:
        p.setPen(QColor(ACCENT))
        p.setFont(font(8, bold=True))
        p.drawText(QRectF(x0, y0, CONTENT_W, 16), int(Qt.AlignLeft | Qt.AlignVCenter), "S T R I D E S Y N C")
        p.setPen(QColor(INK))
        p.setFont(athlete_font)
        p.drawText(QRectF(x0, y0 + 18, CONTENT_W, 36), int(Qt.AlignLeft | Qt.AlignVCenter),
                   lay.metrics(athlete_font).elidedText(athlete, Qt.ElideRight, CONTENT_W))
        p.setPen(QColor(MUTED))
        p.setFont(font(10))
        p.drawText(QRectF(x0, y0 + 54, CONTENT_W, 18), int(Qt.AlignLeft | Qt.AlignVCenter),
                   f"{doc.title}: limb timing against push-off")
        yy = y0 + 54 + 18 + 8
        for line in lines:
            for k, v, dx in line:
                p.setFont(meta_font)
                p.setPen(QColor(MUTED))
                p.drawText(QRectF(x0 + dx, yy, 400, 17), int(Qt.AlignLeft | Qt.AlignVCenter), k)
                kx = fm.horizontalAdvance(k + " ")
                p.setFont(meta_bold)
                p.setPen(QColor(INK))
                p.drawText(QRectF(x0 + dx + kx, yy, CONTENT_W - dx - kx, 17), int(Qt.AlignLeft | Qt.AlignVCenter), v)
            yy += 17
        p.setPen(QPen(QColor(ACCENT), 3))
        p.drawLine(int(x0), int(y0 + height - 3), int(x0 + CONTENT_W), int(y0 + height - 3))
    lay.place(height, paint, gap=14)


def _section_title(lay: Layout, s: Section, first_height: float) -> None:
    h = 28.0
    if s.page_break_before:
        lay.new_page()
    elif h + 6 + min(first_height, BOTTOM - MARGIN_TOP - h - 6) > lay.room:
        lay.new_page()

    def paint(p: QPainter, x: float, y: float) -> None:
        p.setPen(QColor(INK))
        p.setFont(font(13, bold=True))
        p.drawText(QRectF(x, y, CONTENT_W, 22), int(Qt.AlignLeft | Qt.AlignVCenter), s.title)
        p.setPen(QPen(QColor(LINE), 1))
        p.drawLine(int(x), int(y + 25), int(x + CONTENT_W), int(y + 25))
    lay.place(h, paint, gap=6)


def _key_numbers(lay: Layout, b: KeyNumbers) -> float:
    tiles = [k for k in b.items if k.key != "weak_link"]
    weak = next((k for k in b.items if k.key == "weak_link"), None)
    tw = (CONTENT_W - GAP * (len(tiles) - 1)) / max(len(tiles), 1)
    th = 100.0
    wh = 62.0 if weak else 0.0

    def paint(p: QPainter, x: float, y: float) -> None:
        for i, k in enumerate(tiles):
            r = QRectF(x + i * (tw + GAP), y, tw, th)
            p.setPen(QPen(QColor(LINE), 1))
            p.setBrush(QColor(SOFT))
            p.drawRoundedRect(r, 5, 5)
            p.setBrush(Qt.NoBrush)
            inner = r.adjusted(10, 7, -8, -6)
            p.setPen(QColor(MUTED))
            p.setFont(font(7.5, bold=True))
            p.drawText(QRectF(inner.x(), inner.y(), inner.width(), 14), int(Qt.AlignLeft | Qt.AlignVCenter), k.label.upper())
            if k.value is None:
                p.setFont(font(12, italic=True))
                p.drawText(QRectF(inner.x(), inner.y() + 18, inner.width(), 26), int(Qt.AlignLeft | Qt.AlignVCenter), NOT_MEASURED)
                p.setFont(font(7.5))
                p.drawText(QRectF(inner.x(), inner.y() + 46, inner.width(), 30), int(Qt.AlignLeft | Qt.TextWordWrap), k.missing)
                continue
            # five tiles side by side: the number and its unit stay whole inside the tile (a long unit first
            # gets smaller, then the number)
            unit_pt, pt = 10.0, 24.0
            while unit_pt > 7.5 and lay.metrics(font(pt, bold=True)).horizontalAdvance(k.shown) + 5 + \
                    lay.metrics(font(unit_pt)).horizontalAdvance(k.unit) > inner.width():
                unit_pt -= 0.5
            while pt > 14 and lay.metrics(font(pt, bold=True)).horizontalAdvance(k.shown) + 5 + \
                    lay.metrics(font(unit_pt)).horizontalAdvance(k.unit) > inner.width():
                pt -= 1.0
            big = font(pt, bold=True)
            fm = lay.metrics(big)
            p.setPen(QColor(INK))
            p.setFont(big)
            base = inner.y() + 16 + lay.metrics(font(24, bold=True)).ascent()
            p.drawText(inner.x(), base, k.shown)
            p.setPen(QColor(MUTED))
            p.setFont(font(unit_pt))
            p.drawText(inner.x() + fm.horizontalAdvance(k.shown) + 5, base, k.unit)
            p.setFont(font(7.5))
            p.drawText(QRectF(inner.x(), inner.y() + 56, inner.width(), 34), int(Qt.AlignLeft | Qt.TextWordWrap), k.detail)
        if weak is not None:
            r = QRectF(x, y + th + GAP, CONTENT_W, wh)
            p.setPen(QPen(QColor(LINE), 1))
            p.setBrush(QColor("#fff8f2"))
            p.drawRoundedRect(r, 5, 5)
            p.fillRect(QRectF(r.x(), r.y(), 6, r.height()), QColor(WEAK))
            p.setBrush(Qt.NoBrush)
            inner = r.adjusted(18, 6, -10, -6)
            p.setPen(QColor(MUTED))
            p.setFont(font(7.5, bold=True))
            p.drawText(QRectF(inner.x(), inner.y(), inner.width(), 14), int(Qt.AlignLeft | Qt.AlignVCenter), "WEAK LINK")
            p.setPen(QColor(INK if weak.value is not None else MUTED))
            p.setFont(font(16, bold=weak.value is not None, italic=weak.value is None))
            p.drawText(QRectF(inner.x(), inner.y() + 14, inner.width(), 24), int(Qt.AlignLeft | Qt.AlignVCenter), weak.shown)
            p.setPen(QColor(MUTED))
            p.setFont(font(8))
            p.drawText(QRectF(inner.x(), inner.y() + 38, inner.width(), 14), int(Qt.AlignLeft | Qt.AlignVCenter),
                       weak.detail or weak.missing)
    h = th + (GAP + wh if weak else 0.0)
    lay.place(h, paint)
    return h


def _paragraphs(lay: Layout, b: Paragraphs, width: float = CONTENT_W) -> None:
    for html in b.html:
        doc = lay.rich(html, width, pt=8.5 if b.small else 9.5)
        lay.place(doc.size().height(), _draw_rich(doc), gap=7)


def _figure_measure(lay: Layout, b: FigureBlock, width: float) -> tuple[float, float, QTextDocument | None]:
    w = min(width, b.figure.width_px)
    h = b.figure.height_px * w / b.figure.width_px
    cap = lay.rich(esc(b.caption), width, pt=8, colour=MUTED) if b.caption else None
    return w, h, cap


def _figure_painter(b: FigureBlock, w: float, h: float, cap: QTextDocument | None) -> Painter:
    def paint(p: QPainter, x: float, y: float) -> None:
        b.figure.render(p, QRectF(x, y, w, h))
        if cap is not None:
            _draw_rich(cap)(p, x, y + h + 4)
    return paint


def _figure(lay: Layout, b: FigureBlock) -> None:
    w, h, cap = _figure_measure(lay, b, CONTENT_W)
    lay.place(h + (cap.size().height() + 4 if cap else 0), _figure_painter(b, w, h, cap))


# ---- tables
@dataclass
class _TableGeom:
    widths: list[float]
    header_h: float
    row_h: list[float]
    cap: QTextDocument | None


PAD_X, PAD_Y = 5.0, 3.0
CELL_FONT_PT, HEAD_FONT_PT = 8.0, 7.5


def _table_geom(lay: Layout, t: Table, width: float) -> _TableGeom:
    n = len(t.header)
    weights = t.weights or [1.0] * n
    total = sum(weights)
    widths = [width * w / total for w in weights]
    f, fh = font(CELL_FONT_PT), font(HEAD_FONT_PT, bold=True)
    header_h = max(lay.text_height(h, fh, w - 2 * PAD_X) for h, w in zip(t.header, widths)) + 2 * PAD_Y + 2
    row_h = [max(lay.text_height(c.text or " ", f, w - 2 * PAD_X) for c, w in zip(row, widths)) + 2 * PAD_Y
             for row in t.rows]
    cap = lay.rich(esc(t.caption), width, pt=8, colour=MUTED) if t.caption else None
    return _TableGeom(widths, header_h, row_h, cap)


def _table_painter(t: Table, g: _TableGeom, rows: range, with_caption: bool) -> Painter:
    def paint(p: QPainter, x: float, y: float) -> None:
        fh = font(HEAD_FONT_PT, bold=True)
        width = sum(g.widths)
        p.setFont(fh)
        p.setPen(QColor(MUTED))
        cx = x
        for i, (h, w) in enumerate(zip(t.header, g.widths)):
            align = (Qt.AlignRight if i in t.numeric else Qt.AlignLeft) | Qt.AlignBottom | Qt.TextWordWrap
            p.drawText(QRectF(cx + PAD_X, y + PAD_Y, w - 2 * PAD_X, g.header_h - 2 * PAD_Y), int(align), h)
            cx += w
        yy = y + g.header_h
        p.setPen(QPen(QColor(LINE), 2))
        p.drawLine(int(x), int(yy), int(x + width), int(yy))
        for k in rows:
            row, h = t.rows[k], g.row_h[k]
            if k % 2 == 1:
                p.fillRect(QRectF(x, yy, width, h), QColor("#fafbfc"))
            cx = x
            for i, (c, w) in enumerate(zip(row, g.widths)):
                missing = c.text.startswith(NOT_MEASURED) or c.text in ("not recorded", "not worn")
                p.setFont(font(CELL_FONT_PT, italic=missing))
                p.setPen(QColor(MUTED if missing else INK))
                right = i in t.numeric and c.value is not None
                align = (Qt.AlignRight if right else Qt.AlignLeft) | Qt.AlignTop | Qt.TextWordWrap
                p.drawText(QRectF(cx + PAD_X, yy + PAD_Y, w - 2 * PAD_X, h - 2 * PAD_Y), int(align), c.text)
                cx += w
            yy += h
            p.setPen(QPen(QColor(LINE), 1))
            p.drawLine(int(x), int(yy), int(x + width), int(yy))
        if with_caption and g.cap is not None:
            _draw_rich(g.cap)(p, x, yy + 4)
    return paint


def _table_height(g: _TableGeom, rows: range, with_caption: bool) -> float:
    return g.header_h + sum(g.row_h[k] for k in rows) + (g.cap.size().height() + 4 if with_caption and g.cap else 0.0)


def _table(lay: Layout, t: Table) -> None:
    g = _table_geom(lay, t, CONTENT_W)
    start = 0
    n = len(t.rows)
    while start < n or n == 0:
        end = start
        while end < n and _table_height(g, range(start, end + 1), end + 1 == n) <= (lay.room if lay.y > MARGIN_TOP or end > start else 1e9):
            end += 1
        if end == start:
            if lay.y > MARGIN_TOP:
                lay.new_page()
                continue
            end = start + 1
        rows = range(start, end)
        lay.place(_table_height(g, rows, end == n), _table_painter(t, g, rows, end == n))
        start = end
        if n == 0:
            break


def _columns(lay: Layout, b: Columns) -> None:
    parts: list[tuple[float, Painter]] = []
    for blk, w in zip(b.blocks, b.widths):
        if isinstance(blk, FigureBlock):
            fw, fh, cap = _figure_measure(lay, blk, w)
            parts.append((fh + (cap.size().height() + 4 if cap else 0), _figure_painter(blk, fw, fh, cap)))
        elif isinstance(blk, Table):
            g = _table_geom(lay, blk, w)
            rows = range(len(blk.rows))
            parts.append((_table_height(g, rows, True), _table_painter(blk, g, rows, True)))
        elif isinstance(blk, Paragraphs):
            docs = [lay.rich(h, w) for h in blk.html]
            hh = sum(d.size().height() + 7 for d in docs)

            def pp(p, x, y, _docs=docs):
                for d in _docs:
                    _draw_rich(d)(p, x, y)
                    y += d.size().height() + 7
            parts.append((hh, pp))
        else:
            raise TypeError(f"cannot put {type(blk).__name__} in columns")
    offsets, x = [], 0.0
    for w in b.widths:
        offsets.append(x)
        x += w + (CONTENT_W - sum(b.widths)) / max(len(b.widths) - 1, 1)
    height = max(h for h, _ in parts)

    def paint(p: QPainter, x0: float, y0: float) -> None:
        for (h, fn), dx in zip(parts, offsets):
            fn(p, x0 + dx, y0 + (14 if h < height - 14 else 0))
    lay.place(height, paint)


def _first_height(lay: Layout, b) -> float:
    if isinstance(b, FigureBlock):
        _, h, cap = _figure_measure(lay, b, CONTENT_W)
        return h + (cap.size().height() + 4 if cap else 0.0)
    if isinstance(b, KeyNumbers):
        return 170.0
    if isinstance(b, Table):
        g = _table_geom(lay, b, CONTENT_W)
        return _table_height(g, range(min(3, len(b.rows))), False)
    if isinstance(b, Paragraphs) and b.html:
        return lay.rich(b.html[0], CONTENT_W).size().height()
    if isinstance(b, Columns):
        return 300.0
    return 40.0


def _footer(p: QPainter, doc: Document, page: int, pages: int) -> None:
    d = doc.data
    y = PAGE_H - MARGIN_BOTTOM + 24
    p.setPen(QPen(QColor(LINE), 1))
    p.drawLine(MARGIN_X, int(y), MARGIN_X + CONTENT_W, int(y))
    p.setPen(QColor(MUTED))
    p.setFont(font(7.5))
    left = f"StrideSync {d.provenance.get('software_version', '')} · {d.athlete or 'Unnamed athlete'} · {d.date}"
    fm = QFontMetricsF(font(7.5), p.device())
    p.drawText(QRectF(MARGIN_X, y + 4, CONTENT_W - 90, 16), int(Qt.AlignLeft | Qt.AlignVCenter),
               fm.elidedText(left, Qt.ElideRight, CONTENT_W - 100))
    p.drawText(QRectF(MARGIN_X, y + 4, CONTENT_W, 16), int(Qt.AlignRight | Qt.AlignVCenter), f"page {page} of {pages}")


def write_pdf(doc: Document) -> bytes:
    """The document as PDF bytes (A4 portrait, 96 dpi layout)."""
    buf = QBuffer()
    buf.open(QIODevice.WriteOnly)
    writer = QPdfWriter(buf)
    writer.setResolution(96)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.A4), QPageLayout.Portrait, QMarginsF(0, 0, 0, 0)))
    writer.setTitle(f"StrideSync session report — {doc.data.athlete} — {doc.data.date}")
    writer.setCreator(f"StrideSync {doc.data.provenance.get('software_version', '')}")

    lay = Layout(writer)
    _header(lay, doc)
    for s in doc.sections:
        _section_title(lay, s, _first_height(lay, s.blocks[0]) if s.blocks else 0.0)
        for b in s.blocks:
            if isinstance(b, KeyNumbers):
                _key_numbers(lay, b)
            elif isinstance(b, Paragraphs):
                _paragraphs(lay, b)
            elif isinstance(b, FigureBlock):
                _figure(lay, b)
            elif isinstance(b, Table):
                _table(lay, b)
            elif isinstance(b, Columns):
                _columns(lay, b)
            else:
                raise TypeError(f"unknown report block {type(b).__name__}")
        lay.y += 6

    painter = QPainter()
    if not painter.begin(writer):
        raise RuntimeError("QPdfWriter could not start painting")
    try:
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setRenderHint(QPainter.TextAntialiasing, True)
        n = len(lay.pages)
        for i, page in enumerate(lay.pages):
            if i:
                writer.newPage()
            for item in page:
                item.paint(painter)
            _footer(painter, doc, i + 1, n)
    finally:
        painter.end()
    return bytes(buf.data())
