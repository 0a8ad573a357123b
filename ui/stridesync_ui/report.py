"""Session reports: one self-contained HTML page or a multi-page A4 PDF, from a :class:`ReportData`.

Quick use::

    from stridesync_ui.report import render, report_data_from_simulation
    render(report_data_from_simulation(sim, athlete="Ana Silva"), "report.pdf")   # or .html

The HTML has its figures inline as SVG (no external assets, no JavaScript). The PDF is painted with
Qt's QPdfWriter at 96 dpi: text is real text and figures are vector graphics. Both are written
atomically (:func:`stridesync.io.atomic_write`): a failure leaves no partial file behind.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from stridesync.errors import OutputError
from stridesync.io import atomic_write

from stridesync.report.data import (
    ReportData,
    report_data_from_analysis,
    report_data_from_session,
    report_data_from_simulation,
)
from .report_doc import CONTENT_W, Columns, Document, FigureBlock, KeyNumbers, Paragraphs, Section, Table, build_document
from stridesync.report.text import esc

__all__ = ["ReportData", "ensure_app", "render", "render_html", "render_pdf", "report_data_from_analysis",
           "report_data_from_session", "report_data_from_simulation"]

log = logging.getLogger(__name__)


def ensure_app():
    """The running QApplication, or a new one. Reports never show a window, so without a display
    (a server, CI, the CLI over ssh) Qt's offscreen platform is used."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        if not os.environ.get("QT_QPA_PLATFORM") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QApplication(["stridesync-report"])
    return app


def render(data: ReportData, path: str | os.PathLike) -> Path:
    """Write the report to ``path``: PDF if it ends in ``.pdf``, HTML for ``.html`` or ``.htm``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return render_pdf(data, path)
    if suffix in (".html", ".htm"):
        return render_html(data, path)
    raise OutputError(f"cannot write {path}: a report must end in .html or .pdf")


def render_html(data: ReportData, path: str | os.PathLike) -> Path:
    """Write a self-contained HTML report (inline SVG figures, no external assets, no JavaScript)."""
    ensure_app()
    doc = build_document(data)
    try:
        text = html_document(doc)
    finally:
        doc.close()
    with atomic_write(path, "w") as f:
        f.write(text)
    return Path(path)


def render_pdf(data: ReportData, path: str | os.PathLike) -> Path:
    """Write an A4 PDF report (QPdfWriter, 96 dpi, page numbers in the footer)."""
    from .report_pdf import write_pdf

    ensure_app()
    doc = build_document(data)
    try:
        with atomic_write(path, "wb") as f:
            f.write(write_pdf(doc))
    finally:
        doc.close()
    return Path(path)


# ------------------------------------------------------------------------------------------ HTML
CSS = """
:root { --ink:#1f2328; --muted:#57606a; --line:#d0d7de; --soft:#f6f8fa; --accent:#0072B2; }
* { box-sizing: border-box; }
body { margin: 0; background: #eef1f4; color: var(--ink);
       font: 15px/1.5 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 860px; margin: 24px auto; background: #fff; padding: 36px 44px 28px;
       box-shadow: 0 1px 3px rgba(0,0,0,.12); }
header.report { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 8px; }
header .brand { color: var(--accent); font-weight: 700; letter-spacing: .08em; font-size: 12px; text-transform: uppercase; }
header h1 { margin: 4px 0 2px; font-size: 30px; line-height: 1.2; }
header .kind { color: var(--muted); font-size: 15px; }
dl.meta { display: flex; flex-wrap: wrap; gap: 4px 28px; margin: 12px 0 0; }
dl.meta div { display: flex; gap: 6px; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; font-weight: 600; }
section { margin-top: 26px; }
h2 { font-size: 19px; margin: 0 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.tiles { display: grid; grid-template-columns: repeat(5, 1fr); gap: 10px; }
.tile { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.tile .label { font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
.tile .value { font-size: 34px; font-weight: 700; line-height: 1.15; }
.tile .unit { font-size: 15px; color: var(--muted); font-weight: 400; margin-left: 4px; }
.tile .detail, .banner .detail { font-size: 12.5px; color: var(--muted); }
.tile.missing .value, .banner.missing .value { font-size: 20px; color: var(--muted); font-style: italic; }
.banner { margin-top: 10px; border: 1px solid var(--line); border-left: 6px solid #D55E00; border-radius: 6px;
          padding: 10px 14px; background: #fff8f2; }
.banner .label { font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
.banner .value { font-size: 24px; font-weight: 700; }
p { margin: 0 0 10px; }
figure { margin: 6px 0 12px; } figure svg { display: block; }
figcaption, .caption { font-size: 12.5px; color: var(--muted); margin-top: 4px; }
.columns { display: flex; gap: 12px; align-items: flex-start; flex-wrap: wrap; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0 4px; }
th { text-align: left; font-weight: 600; color: var(--muted); border-bottom: 2px solid var(--line); padding: 4px 6px; }
td { border-bottom: 1px solid var(--line); padding: 4px 6px; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.missing { color: var(--muted); font-style: italic; }
footer { margin-top: 28px; font-size: 12px; color: var(--muted); border-top: 1px solid var(--line); padding-top: 8px; }
@media print { body { background: #fff; } main { box-shadow: none; margin: 0; max-width: none; padding: 0; }
  section, figure, table, .tiles { break-inside: avoid; } #provenance { break-before: page; } }
@page { size: A4; margin: 14mm; }
"""


def _key_numbers_html(block: KeyNumbers) -> str:
    tiles, banner = [], ""
    for k in block.items:
        value_attr = "" if k.value is None else f' data-value="{k.value!r}"'
        if k.key == "weak_link":
            body = (f'<div class="value" data-key="{k.key}"{value_attr}>{esc(k.shown)}</div>'
                    f'<div class="detail">{esc(k.detail or k.missing)}</div>')
            banner = f'<div class="banner{" missing" if k.value is None else ""}"><div class="label">{esc(k.label)}</div>{body}</div>'
            continue
        unit = f'<span class="unit">{esc(k.unit)}</span>' if k.unit and k.value is not None else ""
        detail = esc(k.detail) if k.value is not None else esc(k.missing)
        tiles.append(f'<div class="tile{" missing" if k.value is None else ""}"><div class="label">{esc(k.label)}</div>'
                     f'<div class="value"><span data-key="{k.key}"{value_attr}>{esc(k.shown)}</span>{unit}</div>'
                     f'<div class="detail">{detail}</div></div>')
    return f'<div class="tiles">{"".join(tiles)}</div>{banner}'


def _table_html(t: Table) -> str:
    head = "".join(f'<th{" class=num" if i in t.numeric else ""}>{esc(h)}</th>' for i, h in enumerate(t.header))
    rows = []
    for row in t.rows:
        cells = []
        for i, c in enumerate(row):
            cls = ["num"] if i in t.numeric and c.value is not None else []
            if c.text.startswith("not measured") or c.text in ("not recorded", "not worn"):
                cls.append("missing")
            attr = f' class="{" ".join(cls)}"' if cls else ""
            val = f' data-value="{c.value!r}"' if c.value is not None else ""
            cells.append(f"<td{attr}{val}>{esc(c.text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f'<div class="caption">{esc(t.caption)}</div>' if t.caption else ""
    tid = f' id="{t.id}"' if t.id else ""
    return f"<table{tid}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{cap}"


def _block_html(b) -> str:
    if isinstance(b, KeyNumbers):
        return _key_numbers_html(b)
    if isinstance(b, Paragraphs):
        return "".join(f"<p>{p}</p>" for p in b.html)
    if isinstance(b, FigureBlock):
        cap = f"<figcaption>{esc(b.caption)}</figcaption>" if b.caption else ""
        return f"<figure>{b.figure.svg()}{cap}</figure>"
    if isinstance(b, Table):
        return _table_html(b)
    if isinstance(b, Columns):
        return '<div class="columns">' + "".join(
            f'<div style="flex:1 1 {w}px; max-width:{max(w, 340)}px">{_block_html(x)}</div>' if i == 0 else
            f'<div style="flex:1 1 {w}px">{_block_html(x)}</div>' for i, (x, w) in enumerate(zip(b.blocks, b.widths))) + "</div>"
    raise TypeError(f"unknown report block {type(b).__name__}")


def _section_html(s: Section) -> str:
    return f'<section id="{s.id}"><h2>{esc(s.title)}</h2>{"".join(_block_html(b) for b in s.blocks)}</section>'


def html_document(doc: Document) -> str:
    d = doc.data
    meta = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in doc.meta)
    athlete = esc(d.athlete) if d.athlete else "Unnamed athlete"
    version = esc(d.provenance.get("software_version", ""))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="StrideSync {version}">
<title>{esc(doc.title)} — {athlete} — {esc(d.date)}</title>
<style>{CSS}</style>
</head>
<body>
<main style="--content:{CONTENT_W}px">
<header class="report" id="header">
<div class="brand">StrideSync</div>
<h1 id="athlete">{athlete}</h1>
<div class="kind">{esc(doc.title)}: limb timing against push-off</div>
<dl class="meta">{meta}</dl>
</header>
{"".join(_section_html(s) for s in doc.sections)}
<footer>StrideSync {version} · {athlete} · {esc(d.date)}. Definitions of every number: docs/measurement.md.</footer>
</main>
</body>
</html>
"""
