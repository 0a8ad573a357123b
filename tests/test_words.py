"""The words every view says about the numbers (#11 "Trustworthy edges", items 7, 8, 11 and 15): the trend text
against the numbers it summarises on a drifting run, "both legs" when the sides differ by less than their
noise, one target band, and one Qt-free home (``stridesync.report``) for the terminal, the report and the
dashboard. Runs are simulated and go through the CLI as a user types it where one exists."""

from __future__ import annotations

import dataclasses
import html
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from stridesync.cli import main, weak_short
from stridesync.core.config import DetectorConfig
from stridesync.core.measures import build_steps, weak_link
from stridesync.core.reference import analyze
from stridesync.io import read_wide_csv, write_wide_csv
from stridesync.model import EventKind, Role
from stridesync.report.stats import LAG_EVENT, LIMB_NAME, all_series, series_data
from stridesync.report.text import TREND_LAG_MS
from stridesync.report.weak import BOTH_SIDES_MIN_MS, weak_link_verdict
from stridesync.report.words import TARGET_BAND_PCT

from .conftest import feed, sim_cached

ROOT = Path(__file__).resolve().parents[1]
#: a runner whose legs are the weak link and equal (the simulator's legs share one swing lag), arms near target
EQUAL_LEGS = dict(swing_lag_ms=-60.0, ipsi_arm_lag_ms=-65.0, contra_arm_lag_ms=10.0)


def _paragraph(text: str, head: str) -> str:
    m = re.search(rf"<p><b>{head}.*?</p>", text, re.S)
    assert m, head
    return html.unescape(re.sub(r"<[^>]+>", "", m.group(0))).replace("\u00a0", " ")


@pytest.fixture(scope="module")
def drifting_csv(tmp_path_factory):
    """A run whose other arm's back turn climbs ~35 ms while every other lag holds (contra drift 15 ms/min)."""
    sim = sim_cached(seed=3, duration_s=150.0, swing_lag_ms=-20.0, ipsi_arm_lag_ms=-40.0, contra_arm_lag_ms=35.0,
                     lag_drift_ms_per_min=(0.0, 0.0, 15.0))
    path = tmp_path_factory.mktemp("drift") / "drift.csv"
    write_wide_csv(path, sim.recording)
    return path


def test_the_trend_text_describes_each_lag_the_weak_link_uses_and_says_what_its_numbers_say(drifting_csv, tmp_path,
                                                                                           capsys):
    """Item 7: an arm's forward and back turns were merged into one median, so the text said "held steady" for
    an arm whose back turn climbed. Each of the six lags is now described on its own, with its numbers."""
    out = tmp_path / "r.html"
    assert main(["report", str(drifting_csv), "--out", str(out)]) == 0
    capsys.readouterr()
    text = _paragraph(out.read_text(encoding="utf-8"), "Over the session")
    # the numbers it summarises, computed here from the same analysis (the CLI analyses a CSV with the reference)
    res = analyze(read_wide_csv(drifting_csv), DetectorConfig())
    steps = res.steps
    t0, t1 = steps[0].time_s, steps[-1].time_s
    w = min(300.0, (t1 - t0) / 4.0)
    first = [s for s in steps if s.time_s <= t0 + w]
    last = [s for s in steps if s.time_s >= t1 - w]
    targets = res.summary["targets_ms"]
    steady = text.split("held steady", 1)[1] if "held steady" in text else ""
    moved = 0
    for se in all_series():
        a = float(np.median(series_data(first, targets)[se].dev_ms))
        z = float(np.median(series_data(last, targets)[se].dev_ms))
        name = f"the {LIMB_NAME[se.role]}'s {LAG_EVENT[se.lag]}"  # "the right arm's back turn"
        if abs(z - a) >= TREND_LAG_MS:
            moved += 1
            assert f"{name} went from {a:+.0f}\u2009ms to {z:+.0f}\u2009ms" in text, (name, a, z, text)
            assert name.removeprefix("the ") not in steady, (name, text)
        else:
            assert name.removeprefix("the ") in steady, (name, a, z, text)
    assert moved >= 2  # both arms' back turns climb (each arm is the other arm on half of the steps)
    assert "right arm's back turn went from" in text and "right arm's forward turn" in steady


def test_equal_legs_are_both_legs_in_the_report_and_its_command_line_not_the_left_leg(tmp_path, capsys):
    """Item 8: with the simulator's legs sharing one swing lag, the report named one leg; it now says both."""
    run = tmp_path / "equal.csv"
    assert main(["simulate", str(run), "--seconds", "90", "--swing-lag", "-60", "--ipsi-arm-lag", "-65",
                 "--contra-arm-lag", "10", "--seed", "2"]) == 0
    out = tmp_path / "r.html"
    capsys.readouterr()
    assert main(["report", str(run), "--out", str(out)]) == 0
    line = capsys.readouterr().out
    assert "weak link: both legs early by" in line
    # analyze says the same sentence (it printed the summary's one-limb pick: "left leg early by …")
    assert main(["analyze", str(run), "--steps", str(tmp_path / "s.csv")]) == 0
    said = capsys.readouterr().out
    assert "weak link: both legs early by" in said and "left leg" not in said
    page = out.read_text(encoding="utf-8")
    coaching = _paragraph(page, "Weak link")
    assert coaching.startswith("Weak link: both legs.") and "left leg" not in coaching
    assert re.search(r'data-key="weak_link"[^>]*>both legs early by', page)


def test_the_live_weak_link_column_stops_flipping_between_equal_legs_and_still_names_an_unequal_one():
    """Item 8: the live column (last 20 steps) flipped L/R every few steps between equal legs. The noise rule:
    sides closer than max(5 ms, 2 standard errors of their difference) are "both"."""
    sim = sim_cached(seed=2, duration_s=90.0, **EQUAL_LEGS)
    core = feed(sim.recording, 0.5)
    n = len(core.steps_)
    col = [weak_short(SimpleNamespace(steps_=core.steps_[:i], targets_ms=core.targets_ms, config=core.config))
           for i in range(20, n + 1)]
    old = [weak_link(core.steps_[i - 20:i], core.targets_ms)["limb"] for i in range(20, n + 1)]
    assert sum(a != b for a, b in zip(old, old[1:])) >= 10  # what it did: the side flips with the noise
    assert sum(c.startswith("both legs") for c in col) >= 0.9 * len(col)
    assert not any(c.startswith(("L swing", "R swing")) for c in col)
    # an unequal runner: the left leg's swing 15 ms later than the right's (> the 5 ms floor) is named, not "both"
    cfg = DetectorConfig()
    res = analyze(sim.recording, cfg)
    shifted = sorted((dataclasses.replace(e, time_s=e.time_s + 0.015) if e.role is Role.LEFT_SHIN and
                      e.kind is EventKind.SWING else e for e in res.events), key=lambda e: e.time_s)
    steps, targets = build_steps(shifted, cfg)
    wins = [weak_link_verdict(steps[i - 20:i], targets) for i in range(20, len(steps) + 1)]
    assert all(w.limbs == (Role.RIGHT_SHIN,) for w in wins)  # the left swing is less early: the right is weaker
    whole = weak_link_verdict(steps, targets)
    assert whole.text.startswith("right swing early by") and whole.gap_ms > BOTH_SIDES_MIN_MS


def test_one_target_band_in_the_dashboard_the_report_and_the_docs(tmp_path, capsys):
    """Item 11: the dashboard said ±5 %, the report ±2.5 %. One band, defined in docs/measurement.md; the ridge
    plot no longer says "from the other leg's push-off" for rows measured from the same side's push."""
    pytest.importorskip("PySide6")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from stridesync_ui.plots import LagBars
    from stridesync_ui.report import ensure_app
    from stridesync_ui.widgets import SyncPanel

    ensure_app()
    band = f"±{TARGET_BAND_PCT:.0f} %"
    panel = SyncPanel()
    assert band in panel.step_caption.text() and LagBars.BAND_PCT == TARGET_BAND_PCT
    run = tmp_path / "run.csv"
    write_wide_csv(run, sim_cached(seed=4, duration_s=60.0, swing_lag_ms=20.0).recording)
    out = tmp_path / "r.html"
    assert main(["report", str(run), "--out", str(out)]) == 0
    page = html.unescape(out.read_text(encoding="utf-8")).replace("\u00a0", " ")
    bands = set(re.findall(r"±(\d+(?:\.\d+)?) ?% (?:of the mean stride|target band)", page))
    assert bands == {f"{TARGET_BAND_PCT:.0f}"}, bands
    assert "other leg's toe-off" not in page and "stance leg's toe-off" in page
    docs = (ROOT / "docs" / "measurement.md").read_text(encoding="utf-8")
    assert "### Target band" in docs and f"±{TARGET_BAND_PCT:.0f} % of the stride" in docs


def test_the_sync_score_band_the_caption_promises_is_drawn():
    """Item 11: the score chart's title promised a band (the middle 50 % of steps) that was never painted."""
    pytest.importorskip("PySide6")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from stridesync.report.data import report_data_from_simulation
    from stridesync.report.stats import trends
    from stridesync_ui.report import ensure_app
    from stridesync_ui.report_plots import SCORE_COLOUR, timing_trend_figure

    ensure_app()
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor, QImage, QPainter

    data = report_data_from_simulation(sim_cached(seed=4, duration_s=60.0, swing_lag_ms=20.0))
    fig = timing_trend_figure(data, trends(data))
    try:  # painted as the PDF paints it (the SVG export drew the old fill; the PDF did not)
        img = QImage(fig.width_px, fig.height_px, QImage.Format.Format_RGB32)
        img.fill(QColor("white"))
        p = QPainter(img)
        fig.render(p, QRectF(0, 0, fig.width_px, fig.height_px))
        p.end()
    finally:
        fig.close()
    a = np.frombuffer(img.constBits(), np.uint8).reshape(fig.height_px, img.bytesPerLine() // 4, 4)[:, :fig.width_px]
    b, g, r = (a[..., k].astype(int) for k in range(3))  # BGRA
    score = QColor(SCORE_COLOUR)
    assert score.green() > score.red() and score.green() > score.blue()
    light_score = (g > 200) & (r > 120) & (r < g - 25) & (b < g - 5)  # the score colour, faint, over white
    assert light_score.sum() > 500, int(light_score.sum())


def test_the_words_live_in_a_qt_free_package_that_every_view_imports():
    """Item 15: the report's data, statistics and sentences moved from ui/ to stridesync.report, which imports
    no Qt; ui/ keeps only the rendering."""
    code = ("import sys, stridesync.report.data, stridesync.report.stats, stridesync.report.text, "
            "stridesync.report.weak, stridesync.report.words;"
            "assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'shiboken6'))], 'Qt imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    ui = ROOT / "ui" / "stridesync_ui"
    assert not [p.name for p in ui.glob("*.py") if p.stem in ("report_data", "report_stats", "report_text", "words")]


def test_replay_report_and_dashboard_say_the_same_weak_link_sentence(tmp_path, capsys):
    """Item 15: the terminal (replay, report) and the dashboard take the sentence from one function."""
    pytest.importorskip("PySide6")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sample = ROOT / "recordings" / "sample_run.stridesync"
    assert main(["replay", str(sample), "--fast", "--quiet"]) == 0
    replay_line = [ln for ln in capsys.readouterr().out.splitlines() if "weak link:" in ln][-1]
    out = tmp_path / "r.html"
    assert main(["report", str(sample), "--out", str(out)]) == 0
    report_line = capsys.readouterr().out
    said = replay_line.split("weak link: ", 1)[1].strip()
    assert report_line.strip().endswith(f"weak link: {said}")
    m = re.search(r'data-key="weak_link"[^>]*>([^<]*)<', out.read_text(encoding="utf-8"))
    assert m and html.unescape(m.group(1)) == said
    from stridesync.session.store import Session
    from stridesync.session.replay import replay
    from stridesync_ui.snapshot import SnapshotBuilder

    with Session.open(sample) as s:
        res = replay(s)
    core = SimpleNamespace(steps_=res.steps, targets_ms=res.summary["targets_ms"], config=DetectorConfig(),
                           events_=res.events, summary=lambda: res.summary, rolling=lambda: res.summary)
    snap = SnapshotBuilder().build(core, res.steps[-1].time_s, ended=True)
    assert snap.weak_link == said


def test_a_session_report_shows_its_date_in_local_time(tmp_path, capsys):
    """Polish: sessions store UTC; the report showed '2026-12-06T01:19:26+00:00' instead of the local time."""
    pytest.importorskip("PySide6")
    import datetime as _dt

    from stridesync.session.store import Session
    sample = ROOT / "recordings" / "sample_run.stridesync"
    with Session.open(sample) as s:
        stored = s.date
    local = _dt.datetime.fromisoformat(stored).astimezone().strftime("%Y-%m-%d %H:%M")
    out = tmp_path / "r.html"
    assert main(["report", str(sample), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert f"<dt>Date</dt><dd>{local}</dd>" in page and "+00:00" not in page
