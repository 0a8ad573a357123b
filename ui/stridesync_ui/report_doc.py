"""A report as a document: sections of paragraphs, figures and tables, shared by the HTML and PDF writers.

:func:`build_document` decides *what* the report says, once; ``report.py`` (HTML) and ``report_pdf.py``
(PDF) only decide how it looks. Table cells are plain text (each writer escapes or draws them); a cell
may carry the unrounded number it shows, which the HTML keeps in a ``data-value`` attribute so the shown
figures can be checked against the analyser's summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stridesync.model import LAG_NAMES, Role

from stridesync.report.data import ReportData
from .report_plots import Figure, all_figures
from stridesync.report.stats import SENSOR_NAME, all_series, fatigue, lap_rows, missing_reason, phases, trends
from stridesync.report.text import (
    NOT_MEASURED,
    NOT_RECORDED,
    TARGET_BAND_PCT,
    KeyNumber,
    amplitude_units_text,
    balance_rules,
    clipped_text,
    coaching_paragraphs,
    duration_words,
    esc,
    key_numbers,
    mmss,
    num,
    rules_text,
    swing_push_words,
)
from stridesync.report.words import rule_words

from .setup_state import mounting_report_words

#: Width of the content column, CSS px at 96 dpi (A4 is 794 px wide; 48 px margins).
CONTENT_W = 698


@dataclass(frozen=True)
class Cell:
    text: str
    value: float | None = None


@dataclass
class Table:
    header: list[str]
    rows: list[list[Cell]]
    #: relative column widths (PDF); None shares the width by content
    weights: list[float] | None = None
    #: columns aligned right (numbers)
    numeric: set[int] = field(default_factory=set)
    caption: str = ""
    id: str = ""


@dataclass
class Paragraphs:
    html: list[str]
    small: bool = False


@dataclass
class FigureBlock:
    figure: Figure
    caption: str = ""


@dataclass
class Columns:
    """Blocks side by side (the PDF and wide HTML screens); ``widths`` in px, summing to at most CONTENT_W."""

    blocks: list
    widths: list[int]


@dataclass
class KeyNumbers:
    items: list[KeyNumber]


@dataclass
class Section:
    id: str
    title: str
    blocks: list
    page_break_before: bool = False


@dataclass
class Document:
    data: ReportData
    title: str
    meta: list[tuple[str, str]]
    sections: list[Section]
    figures: list[Figure]

    def close(self) -> None:
        for f in self.figures:
            f.close()


def _cell(v: float | None, spec: str, unit: str = "", scale: float = 1.0) -> Cell:
    if v is None:
        return Cell(NOT_MEASURED)
    return Cell(num(v * scale, spec, unit), v)


def _lag_table(data: ReportData) -> Table:
    lags = data.summary.get("lags") or {}
    worn = data.roles_worn
    need = {"swing_lag": (Role.LEFT_SHIN, Role.RIGHT_SHIN),
            "ipsi_arm_lag": (Role.LEFT_SHIN, Role.RIGHT_SHIN, Role.LEFT_WRIST, Role.RIGHT_WRIST),
            "contra_arm_lag": (Role.LEFT_SHIN, Role.RIGHT_SHIN, Role.LEFT_WRIST, Role.RIGHT_WRIST)}
    words = {"swing_lag": "other leg's swing", "ipsi_arm_lag": "stance-side arm (forward turn)",
             "contra_arm_lag": "other arm (back turn)"}
    rows = []
    for name in LAG_NAMES:
        d = lags.get(name) or {}
        n = d.get("n") or 0
        if not n:
            # which sensor is missing: a lag needs a shin and its limb; say which ones are absent
            needed = [r for r in need[name] if r not in worn]
            reason = missing_reason(needed if len(needed) < len(need[name]) else need[name], worn, "no paired peaks")
            rows.append([Cell(words[name]), Cell(f"{NOT_MEASURED} — {reason}"), Cell(""), Cell(""), Cell("0", 0),
                         _cell(d.get("target_ms"), "+.0f", "ms")])
            continue
        rows.append([Cell(words[name]), _cell(d.get("mean_ms"), "+.1f", "ms"), _cell(d.get("median_ms"), "+.1f", "ms"),
                     _cell(d.get("sd_ms"), ".1f", "ms"), Cell(str(n), n), _cell(d.get("target_ms"), "+.0f", "ms")])
    return Table(["lag (event − toe-off)", "mean", "median", "SD", "steps", "target"], rows,
                 weights=[3.2, 1.2, 1.2, 1, 0.9, 1], numeric={1, 2, 3, 4, 5}, id="lag-table",
                 caption="Session lag statistics, as computed by the analyser (positive = after push-off).")


def _phase_table(ph: dict) -> Table:
    rows = []
    for se in all_series():
        p = ph.get(f"{se.role.value}:{se.lag}")
        if p is None:
            rows.append([Cell(se.label), Cell(NOT_MEASURED), Cell(""), Cell("")])
            continue
        rows.append([Cell(se.label), Cell(f"{p.mean_pct:+.1f} %", p.mean_pct), Cell(f"{p.spread_pct:.1f} %", p.spread_pct),
                     Cell(f"{p.r:.2f}", p.r)])
    for key, label in (("own_contact", "Stance foot strike"), ("other_contact", "Other foot strike")):
        p = ph.get(key)
        if p is not None:
            rows.append([Cell(label), Cell(f"{p.mean_pct:+.1f} %", p.mean_pct), Cell(f"{p.spread_pct:.1f} %", p.spread_pct),
                         Cell(f"{p.r:.2f}", p.r)])
    return Table(["peak", "mean phase", "spread", "R"], rows, weights=[2.6, 1.3, 1.1, 0.7], numeric={1, 2, 3},
                 id="phase-table",
                 caption="Phase in % of the stride from the stance leg's push (0 %); spread = circular SD; "
                         "R = 1 when the limb peaks at the same phase every stride.")


def _lap_table(data: ReportData) -> Table | None:
    rows = []
    for lap in lap_rows(data):
        wl = lap.weak_link
        rows.append([Cell(lap.label), Cell(mmss(lap.start_s), lap.start_s), Cell(mmss(lap.duration_s), lap.duration_s),
                     Cell(str(lap.n_steps), lap.n_steps), _cell(lap.cadence_spm, ".0f"), _cell(lap.sync_score, ".0f"),
                     Cell(wl.text if wl else NOT_MEASURED)])
    if not rows:
        return None
    return Table(["lap", "start", "duration", "steps", "cadence (steps/min)", "sync score", "weak link"], rows,
                 weights=[1.6, 0.8, 0.9, 0.7, 1.1, 0.8, 3.0], numeric={1, 2, 3, 4, 5}, id="laps-table",
                 caption="Per lap: a lap starts at its marker and ends at the next one. Cadence = 120 / mean stride time; "
                         "sync score = mean over the lap's steps; weak link over the lap's steps, same targets as the session.")


def _rhythm_table(data: ReportData) -> Table:
    s = data.summary
    worn = data.roles_worn
    both_shins = missing_reason((Role.LEFT_SHIN, Role.RIGHT_SHIN), worn)
    rows = [
        [Cell("stride-time variation (CV)"), _cell(s.get("stride_time_cv_pct"), ".1f", "%"),
         Cell("steady running is usually under 2.5 %")],
        [Cell("ground contact time"), _cell(s.get("contact_time_s"), ".0f", "ms", 1000.0),
         Cell("initial contact to toe-off, mean")],
        [Cell("ground-contact-time variation (CV)"), _cell(s.get("contact_time_cv_pct"), ".1f", "%"), Cell("")],
        [Cell("flight time"),
         _cell(s.get("flight_time_s"), ".0f", "ms", 1000.0) if s.get("flight_time_s") is not None
         else Cell(f"{NOT_MEASURED} — {both_shins}"),
         Cell("toe-off to the other foot's initial contact, mean")],
        [Cell("flight-time variation (CV)"),
         _cell(s.get("flight_time_cv_pct"), ".1f", "%") if s.get("flight_time_cv_pct") is not None
         else Cell(f"{NOT_MEASURED} — {both_shins}"), Cell("")],
        [Cell("phase coordination index (PCI)"),
         _cell(s.get("pci_pct"), ".1f", "%") if s.get("pci_pct") is not None else Cell(f"{NOT_MEASURED} — {both_shins}"),
         Cell("0 % = legs exactly half a stride apart; no running norms exist")],
    ]
    plv = s.get("plv") or {}
    for wrist in (Role.LEFT_WRIST, Role.RIGHT_WRIST):
        for shin in (Role.LEFT_SHIN, Role.RIGHT_SHIN):
            key = f"{wrist.value}~{shin.value}"
            v = plv.get(key)
            label = f"phase locking, {SENSOR_NAME[wrist]} ~ {SENSOR_NAME[shin]}"
            rows.append([Cell(label), _cell(v, ".2f") if v is not None else Cell(f"{NOT_MEASURED} — {missing_reason((wrist, shin), worn)}"),
                         Cell("1 = the arm turns at the same phase every stride")])
    return Table(["measure", "value", "how to read it"], rows, weights=[2.4, 1.6, 3.2], numeric=set(), id="rhythm-table")


def _sensor_table(data: ReportData) -> Table:
    sensors = list(data.provenance.get("sensors") or [])
    worn = {s.get("role") for s in sensors}
    rows = []

    def c(v, spec=None, unit=""):
        if v is None or v == "":
            return Cell(NOT_RECORDED)
        if spec:
            return Cell(num(float(v), spec, unit), float(v))
        if isinstance(v, (list, tuple)):
            return Cell(" ".join(map(str, v)))
        return Cell(str(v))

    def ranges(s) -> Cell:
        acc, gyro = s.get("range_g"), s.get("gyro_range_dps")
        if acc in (None, "") and gyro in (None, ""):
            return Cell(NOT_RECORDED)
        parts = [num(float(acc), ".0f", "g") if acc not in (None, "") else ""]
        if gyro not in (None, ""):
            parts.append(num(float(gyro), ".0f", "deg/s"))
        return Cell(", ".join(p for p in parts if p), float(acc) if acc not in (None, "") else None)

    rule_sets = data.rule_sets
    clipped = data.clipped_swing_peaks
    estimated = data.summary.get("mounting")  # the trackers' logs when the session estimated the mountings
    for s in sensors:
        role = s.get("role")
        r = Role(role) if role else None
        rules = rule_words(rule_sets.get(r)) if r in rule_sets else NOT_RECORDED
        if clipped.get(r):
            rules += f" ({clipped[r]} swing peaks clipped)"
        rows.append([Cell(SENSOR_NAME.get(r, role) if role else NOT_RECORDED), c(s.get("serial")),
                     c(s.get("firmware")), c(s.get("rate_hz"), ".0f", "Hz"), ranges(s), Cell(rules),
                     c(s.get("loss_pct"), ".2f", "%"), c(s.get("malformed"), ".0f"),
                     c(s.get("clock_residual_ms"), ".2f", "ms"), _mounting_cell(r, s.get("mounting"), estimated)])
    for r in Role:
        if r.value not in worn:
            rows.append([Cell(SENSOR_NAME[r]), Cell("not worn")] + [Cell("") for _ in range(8)])
    return Table(["sensor", "serial", "firmware", "rate", "range", "rules", "loss", "malformed", "clock residual",
                  "mounting"], rows,
                 weights=[0.8, 0.95, 0.82, 0.68, 1.05, 0.9, 0.68, 1.0, 0.75, 1.6], numeric={3, 6, 7, 8},
                 id="sensors-table",
                 caption="Rules: which rules found each sensor's events (gyroscope rules from the angular rate "
                         "wherever a gyroscope is worn; accelerometer rules otherwise). Range: the accelerometer's "
                         "and the gyroscope's full scales; a shin's gyroscope needs 2000 deg/s. Malformed: packets "
                         "left out as damaged. Mounting: how the sensor sat on its limb, estimated from standing "
                         "and the first strides, against the roster's axes (corrected in the analysis).")


def _mounting_cell(role: Role | None, axes, estimated) -> Cell:
    """The roster's axes, and what the session estimated (summary ``mounting``: the trackers' logs)."""
    given = " ".join(map(str, axes)) if isinstance(axes, (list, tuple)) and axes else ""
    roster = f"roster\u00a0{given.replace(' ', chr(0xa0))}" if given and given != "+x +y +z" else ""  # kept on one line
    if isinstance(estimated, dict) and role is not None:
        words = mounting_report_words(estimated.get(role.value), role)
        if words is None:
            words = "as given (pinned in the roster)" if role.value not in estimated else "as given: no estimate"
        return Cell(f"{words}; {roster}" if roster else words)
    if given:
        return Cell(f"{given} (as given)")
    return Cell(NOT_RECORDED)


def _settings_table(data: ReportData) -> Table:
    st = data.provenance.get("detector_settings") or {}
    items = [(k, ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)) for k, v in st.items()]
    if not items:
        return Table(["setting", "value"], [[Cell(NOT_RECORDED), Cell("")]], id="settings-table")
    half = (len(items) + 1) // 2
    rows = []
    for i in range(half):
        a = items[i]
        b = items[i + half] if i + half < len(items) else ("", "")
        rows.append([Cell(a[0]), Cell(a[1]), Cell(b[0]), Cell(b[1])])
    return Table(["setting", "value", "setting", "value"], rows, weights=[2.2, 1.1, 2.2, 1.1], numeric=set(),
                 id="settings-table")


def build_document(data: ReportData) -> Document:
    """Lay out what the report says (figures are drawn here, once, for both formats)."""
    tr = trends(data)
    fa = fatigue(data)
    ph = phases(data)
    window = None
    if fa is not None and data.steps:
        window = (data.steps[0].time_s / 60.0, data.steps[-1].time_s / 60.0, fa.window_s / 60.0)
    figs = all_figures(data, tr, ph, window, CONTENT_W)
    s = data.summary
    target_words = ("together (every target 0 ms)" if data.target_model == "together" else
                    "baseline (the runner's own first steps)")
    rule_sets = data.rule_sets
    groups: dict[str | None, list[str]] = {}  # the sensors grouped by the rules that found their events
    for r in data.roles_worn:
        groups.setdefault(rule_sets.get(r), []).append(SENSOR_NAME[r])
    sensors = "; ".join(", ".join(names) + (f" ({rule_words(k)})" if k else "") for k, names in groups.items())
    meta = [("Date", data.date), ("Duration", duration_words(data.duration_s)),
            ("Steps", str(s.get("n_steps", len(data.steps)))),
            ("Sensors", sensors or "none"),
            ("Target model", target_words)]
    sections = [
        Section("key-numbers", "Key numbers", [KeyNumbers(key_numbers(data))]),
        Section("coaching", "What this session shows", [Paragraphs(coaching_paragraphs(data, fa))]),
        Section("lag-distribution", "Timing of each limb against its target", [
            FigureBlock(figs["lag-distribution"],
                        f"Each ridge is the distribution of one limb's event (a leg's peak forward swing rate, an arm's "
                        f"turnaround) relative to the stance leg's toe-off, over all steps: a leg's swing and an arm's back turn "
                        f"from the other side's push, an arm's forward turn from its own side's push. The bar spans the "
                        f"middle 50 % of steps and the dot is the median. The dashed line is the "
                        f"target and the grey band ±{TARGET_BAND_PCT:.0f} % of the mean stride around it. Dashed outlines: "
                        f"an arm's back turnaround. The axis shows the central 95 % of all lags; a count at a row's end (‹ n, n ›) "
                        f"gives that limb's steps beyond it, which still count in its bar and dot."),
            _lag_table(data)]),
        Section("timing-trend", "Timing and sync over the session", [
            FigureBlock(figs["timing-trend"],
                        "Shaded at both ends: the first and last stretches compared in the text. One line per lag "
                        "that the weak link uses: each leg's swing, each arm's forward turn (solid) and back turn "
                        f"(dashed), so an arm's two turns can drift apart visibly. Grey: the ±{TARGET_BAND_PCT:.0f} % "
                        "target band. Sync score: the median per bin, its band the middle 50 % of steps."
                        if window else "")]),
        Section("cadence-trend", "Cadence over the session", [FigureBlock(figs["cadence-trend"])]),
        Section("phase-wheel", "Where each limb peaks within the stride", [
            Columns([FigureBlock(figs["phase-wheel"]), _phase_table(ph)], [340, CONTENT_W - 352])]),
        Section("balance", "Left/right balance", [
            FigureBlock(figs["balance"],
                        "Symmetry angle = (45° − arctan(left/right)) / 90° × 100 %: 0 % is perfect symmetry. In running "
                        "it is usually under 1 % for contact time and step frequency and about 3 % for peak vertical force. "
                        f"Swing-to-push ratio: {swing_push_words(balance_rules(data, 'swing_amplitude_sa_pct'))}, "
                        f"means of each shin. {amplitude_units_text(data)}")]),
        Section("laps", "Laps", [_lap_table(data) or Paragraphs(["No laps were marked in this session."])]),
        Section("rhythm", "Rhythm and coordination details", [_rhythm_table(data)]),
        Section("provenance", "Appendix: provenance", [
            Paragraphs([f"<b>Software:</b> StrideSync {esc(data.provenance.get('software_version') or NOT_RECORDED)}; "
                        f"analyser: {esc(data.provenance.get('analyser') or NOT_RECORDED)}; "
                        f"source: {esc(data.provenance.get('source') or NOT_RECORDED)}. "
                        f"<b>Target model:</b> {esc(data.target_model)}; targets "
                        + ", ".join(f"{esc(k.replace('_', ' '))} {num(v, '+.1f', 'ms')}"
                                    for k, v in (s.get("targets_ms") or {}).items()) + ". "
                        "Loss is the share of samples missing from each sensor's stream; the clock residual is the "
                        "scatter of the sensor-to-session clock fit (lags between sensors are only as good as it).",
                        rules_text(data)] + ([clipped_text(data)] if clipped_text(data) else [])),
            _sensor_table(data),
            _settings_table(data)], page_break_before=True),
    ]
    if data.notes:
        sections.insert(1, Section("notes", "Notes", [Paragraphs([esc(data.notes).replace("\n", "<br>")])]))
    title = "Session report"
    return Document(data, title, meta, sections, list(figs.values()))


__all__ = ["CONTENT_W", "Cell", "Columns", "Document", "FigureBlock", "KeyNumbers", "Paragraphs", "Section", "Table",
           "build_document"]
