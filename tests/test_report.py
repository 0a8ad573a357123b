"""Session reports (issue 4 §4): sections, numbers equal to the analyser's, escaping, missing sensors,
a valid multi-page PDF, atomic writes and the ``stridesync report`` command. Qt runs offscreen."""

from __future__ import annotations

import html
import os
import re

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from stridesync.cli import main  # noqa: E402
from stridesync.io import write_wide_csv  # noqa: E402
from stridesync.model import Role  # noqa: E402

from stridesync_ui import report as rpt  # noqa: E402
from stridesync.report.data import report_data_from_simulation  # noqa: E402
from stridesync.report.weak import weak_link_verdict  # noqa: E402

from .conftest import sim_cached  # noqa: E402

ATHLETE = 'Ana <script>alert("x")</script> & Co'
NOTES = "Windy <b>back</b> straight & 4 × 400 m"
SECTIONS = ("header", "key-numbers", "coaching", "lag-distribution", "timing-trend", "cadence-trend", "phase-wheel",
            "balance", "laps", "rhythm", "provenance")


@pytest.fixture(scope="module")
def full(qapp_module):
    sim = sim_cached(seed=5, duration_s=100.0, swing_lag_ms=30.0, lag_drift_ms_per_min=(8.0, 0.0, 0.0))
    return report_data_from_simulation(sim, athlete=ATHLETE, notes=NOTES, date="2026-05-01",
                                       laps=[(10.0, "Lap <1> & go"), (50.0, "Lap 2")])


@pytest.fixture(scope="module")
def qapp_module():
    return rpt.ensure_app()


@pytest.fixture(scope="module")
def full_html(full, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "r.html"
    rpt.render(full, path)
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def legs_only(qapp_module, tmp_path_factory):
    sim = sim_cached(seed=6, duration_s=60.0, swing_lag_ms=20.0, roles=(Role.LEFT_SHIN, Role.RIGHT_SHIN))
    data = report_data_from_simulation(sim, athlete="Legs only")
    path = tmp_path_factory.mktemp("report") / "legs.html"
    rpt.render(data, path)
    return data, path.read_text(encoding="utf-8")


def _section(text: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}">(.*?)</section>', text, re.S)
    assert m, f"section {sid} missing"
    return m.group(1)


def _table_rows(text: str, tid: str) -> list[list[tuple[str, float | None]]]:
    m = re.search(rf'<table id="{tid}">.*?<tbody>(.*?)</tbody>', text, re.S)
    assert m, f"table {tid} missing"
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S):
        cells = []
        for attrs, body in re.findall(r"<td([^>]*)>(.*?)</td>", tr, re.S):
            v = re.search(r'data-value="([^"]+)"', attrs)
            cells.append((html.unescape(body), float(v.group(1)) if v else None))
        rows.append(cells)
    return rows


def test_every_section_is_present_and_self_contained(full_html):
    for sid in SECTIONS:
        assert f'id="{sid}"' in full_html, sid
    assert full_html.count("<svg") == 5  # lag ridges, timing trend, cadence, phase wheel, balance
    assert "<script" not in full_html.replace("&lt;script", "")  # no JavaScript at all
    assert not re.search(r'(src|href)="(https?:|//|file:)', full_html)  # no external assets
    assert "<img" not in full_html


def test_key_numbers_equal_the_analysers_summary(full, full_html):
    s = full.summary
    found = {k: (float(v), shown) for k, v, shown in
             re.findall(r'data-key="([a-z_]+)" data-value="([^"]+)">([^<]*)<', full_html)}
    assert set(found) == {"cadence_spm", "stride_time_s", "contact_time_s", "flight_time_s", "sync_score", "weak_link"}
    for key in ("cadence_spm", "stride_time_s", "contact_time_s", "flight_time_s", "sync_score"):
        assert found[key][0] == s[key]  # repr round-trips: exactly the summary's number
    assert found["cadence_spm"][1] == f"{s['cadence_spm']:.0f}"
    assert found["stride_time_s"][1] == f"{s['stride_time_s']:.3f}"
    assert found["contact_time_s"][1] == f"{1000 * s['contact_time_s']:.0f}"
    assert found["flight_time_s"][1] == f"{1000 * s['flight_time_s']:.0f}"
    assert found["sync_score"][1] == f"{s['sync_score']:.0f}"
    wl = weak_link_verdict(full.steps, s["targets_ms"])  # the summary's limb, or both sides within their noise
    assert s["weak_link"]["limb"] in {r.value for r in wl.limbs}
    assert html.unescape(found["weak_link"][1]) == wl.text
    assert found["weak_link"][0] == wl.mean_dev_ms
    # the simulated runner's swing is 30 ms late and its arms on time; the gyroscope arm rule reads the forearm's
    # turns, ~60 ms after the wrist's (docs/measurement.md §9), so the weak link may be an arm: the report names
    # whichever limb the summary names, with its direction
    direction = s["weak_link"]["direction"]
    assert s["weak_link"]["limb"] in {r.value for r in Role} and direction in s["weak_link"]["text"]
    assert direction in _section(full_html, "coaching") and "hypothesis" in _section(full_html, "coaching")


def test_lag_and_rhythm_tables_equal_the_summary(full, full_html):
    lags = full.summary["lags"]
    rows = _table_rows(full_html, "lag-table")
    assert len(rows) == 3
    for row, name in zip(rows, ("swing_lag", "ipsi_arm_lag", "contra_arm_lag")):
        mean, median, sd, n, target = (c[1] for c in row[1:])
        assert (mean, median, sd, n, target) == (lags[name]["mean_ms"], lags[name]["median_ms"], lags[name]["sd_ms"],
                                                 lags[name]["n"], lags[name]["target_ms"])
        assert row[1][0] == f"{lags[name]['mean_ms']:+.1f}\u2009ms"
    rhythm = {r[0][0]: r[1][1] for r in _table_rows(full_html, "rhythm-table")}
    assert rhythm["phase coordination index (PCI)"] == full.summary["pci_pct"]
    assert rhythm["stride-time variation (CV)"] == full.summary["stride_time_cv_pct"]
    assert rhythm["phase locking, left wrist ~ right shin"] == full.summary["plv"]["left_wrist~right_shin"]


def _text(fragment: str) -> str:
    """What a reader sees: tags dropped, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def test_v2_rules_ground_contact_flight_and_units(full, full_html):
    """Measurement contract v2: each sensor's rule set is shown, contact time is the ground contact time and
    flight time stands next to it, and amplitudes carry their rules' unit (deg/s for a gyroscope swing)."""
    s = full.summary
    assert set(s["rule_sets"].values()) == {"gyro"}  # the simulated sensors stream angular rate
    rules = {r[0][0]: r[5][0] for r in _table_rows(full_html, "sensors-table")}
    assert rules == {"left shin": "gyro rules", "right shin": "gyro rules", "left wrist": "gyro rules",
                     "right wrist": "gyro rules"}
    header = _text(full_html.split('<header class="report" id="header">')[1].split("</header>")[0])
    assert "Sensors left shin, right shin, left wrist, right wrist (gyro rules)" in header
    key = _text(_section(full_html, "key-numbers"))
    assert "Ground contact" in key and "initial contact to toe-off" in key
    assert "Flight time" in key and f"CV {s['flight_time_cv_pct']:.1f} %" in key
    rhythm = {r[0][0]: r[1] for r in _table_rows(full_html, "rhythm-table")}
    assert rhythm["flight time"][1] == s["flight_time_s"]
    assert rhythm["flight-time variation (CV)"][1] == s["flight_time_cv_pct"]
    assert rhythm["ground contact time"][1] == s["contact_time_s"]
    assert rhythm["ground-contact-time variation (CV)"][1] == s["contact_time_cv_pct"]
    # amplitudes in the unit of the rules that found them: a swing peak is a rate in deg/s, never g
    balance = _text(_section(full_html, "balance"))
    coaching = _text(_section(full_html, "coaching"))
    assert "swing peak rate (deg/s)" in balance and "push-off rate (deg/s)" in balance
    assert "tibial impact peak (g)" in balance  # the impact stays an acceleration
    assert not re.search(r"(swing|push|arm)[^.;()]*\(g\)", balance), balance
    assert "deg/s over deg/s" in coaching and "(g/g)" not in full_html
    # events are physical instants, not accelerometer features
    assert "toe-off" in _text(_section(full_html, "lag-distribution"))
    assert "impact peak to the push feature" not in coaching and "initial contact" in coaching
    assert "clipped at the gyroscope" not in full_html  # nothing clipped in this run


@pytest.fixture(scope="module")
def clipped(qapp_module, tmp_path_factory):
    """The right shin's gyroscope set too low (500 deg/s: its swing peaks clip) and a left wrist sensor
    without a gyroscope (accelerometer rules), analysed by the reference analyser."""
    import dataclasses

    import numpy as np

    from stridesync.core.reference import analyze
    from stridesync.report.data import report_data_from_analysis

    rec = dict(sim_cached(seed=5, duration_s=60.0, swing_lag_ms=30.0).recording)
    rs = rec[Role.RIGHT_SHIN]
    rec[Role.RIGHT_SHIN] = dataclasses.replace(rs, gyro_dps=np.clip(rs.gyro_dps, -500.0, 500.0))
    rec[Role.LEFT_WRIST] = dataclasses.replace(rec[Role.LEFT_WRIST], gyro_dps=None)
    res = analyze(rec)
    data = report_data_from_analysis(rec, res.events, res.steps, res.summary, athlete="Clipped", date="2026-05-02")
    path = tmp_path_factory.mktemp("report") / "clipped.html"
    rpt.render(data, path)
    return data, path.read_text(encoding="utf-8")


def test_clipped_swing_peaks_are_flagged_and_rule_sets_named(clipped):
    data, text = clipped
    n = data.summary["clipped_swing_peaks"]["right_shin"]
    assert n > 0 and data.summary["clipped_swing_peaks"]["left_shin"] == 0
    sentence = (f"right shin: {n} swing peaks clipped at the gyroscope's range (set it to 2000 deg/s or more); "
                "their swing lags are left out")
    assert sentence in _text(_section(text, "coaching"))
    assert sentence in _text(_section(text, "provenance"))
    assert "left shin:" not in _text(_section(text, "coaching"))
    rules = {r[0][0]: r[5][0] for r in _table_rows(text, "sensors-table")}
    assert rules == {"left shin": "gyro rules", "right shin": f"gyro rules ({n} swing peaks clipped)",
                     "left wrist": "accelerometer rules", "right wrist": "gyro rules"}
    # a wrist pair under different rules has amplitudes in different units: not compared, not mixed
    coaching = _text(_section(text, "coaching"))
    assert "Not compared: arm forward turnaround, arm back turnaround" in coaching
    assert "(left accelerometer rules, right gyro rules)" in coaching


def test_accelerometer_only_sensors_read_in_g(qapp_module, tmp_path):
    sim = sim_cached(seed=8, duration_s=40.0, swing_lag_ms=25.0, gyro=False)
    data = report_data_from_simulation(sim, athlete="No gyro")
    path = tmp_path / "accel.html"
    rpt.render(data, path)
    text = path.read_text(encoding="utf-8")
    assert set(data.summary["rule_sets"].values()) == {"accel"}
    assert {r[5][0] for r in _table_rows(text, "sensors-table")} == {"accelerometer rules"}
    balance = _text(_section(text, "balance"))
    assert "swing hump, a_y (g)" in balance and "push depth, a_y (g)" in balance
    assert "deg/s" not in balance
    assert "clipped at the gyroscope" not in text  # no gyroscope, nothing to clip


def test_laps_table_covers_every_step(full, full_html):
    rows = _table_rows(full_html, "laps-table")
    labels = [r[0][0] for r in rows]
    assert labels == ["before the first lap", "Lap <1> & go", "Lap 2"]
    assert sum(int(r[3][1]) for r in rows) == full.summary["n_steps"]
    assert all(r[6][0] for r in rows)  # a weak link (or "not measured") per lap


def test_user_text_is_escaped(full_html):
    assert "<script>alert" not in full_html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in full_html
    assert "<b>back</b>" not in full_html and "&lt;b&gt;back&lt;/b&gt; straight &amp; 4" in full_html
    assert "Lap &lt;1&gt; &amp; go" in full_html


def test_missing_sensors_read_not_measured_never_zero(legs_only):
    data, text = legs_only
    assert data.summary["lags"]["ipsi_arm_lag"]["n"] == 0
    rows = _table_rows(text, "lag-table")
    for row in rows[1:]:  # arm lags
        assert row[1][0].startswith("not measured — no left wrist or right wrist sensors")
        assert row[1][1] is None and row[2][1] is None  # no number behind it
    assert rows[0][1][1] == data.summary["lags"]["swing_lag"]["mean_ms"]  # legs are still measured
    rhythm = {r[0][0]: r[1] for r in _table_rows(text, "rhythm-table")}
    assert rhythm["phase locking, left wrist ~ left shin"] == ("not measured — no left wrist sensor", None)
    sensors = {r[0][0]: r[1][0] for r in _table_rows(text, "sensors-table")}
    assert sensors["left wrist"] == "not worn"
    assert "arm forward turnaround" in _section(text, "coaching")  # balance text names what is not measured
    assert "not measured" in _section(text, "coaching")


def test_pdf_is_valid_and_multipage(full, tmp_path):
    path = tmp_path / "r.pdf"
    rpt.render(full, path)
    raw = path.read_bytes()
    assert raw.startswith(b"%PDF-")
    assert raw.rstrip().endswith(b"%%EOF")
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", raw))
    assert pages >= 2
    assert b"/Font" in raw  # real text, not one big image


def test_writes_are_atomic(full, tmp_path, monkeypatch):
    from stridesync_ui import report_pdf

    path = tmp_path / "r.pdf"
    path.write_bytes(b"previous report")

    def boom(doc):
        raise RuntimeError("painting failed")

    monkeypatch.setattr(report_pdf, "write_pdf", boom)
    with pytest.raises(RuntimeError):
        rpt.render(full, path)
    assert path.read_bytes() == b"previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.pdf"]  # no temporary left behind

    monkeypatch.setattr(rpt, "html_document", lambda doc: (_ for _ in ()).throw(RuntimeError("no")))
    with pytest.raises(RuntimeError):
        rpt.render(full, tmp_path / "new.html")
    assert not (tmp_path / "new.html").exists()


def test_cli_report_from_wide_csv(qapp_module, tmp_path, capsys):
    sim = sim_cached(seed=7, duration_s=40.0, swing_lag_ms=25.0)
    csv = tmp_path / "run.csv"
    write_wide_csv(csv, sim.recording)
    out = tmp_path / "r.html"
    assert main(["report", str(csv), "--out", str(out), "--athlete", "Bo & <i>", "--date", "2026-01-02"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "Bo &amp; &lt;i&gt;" in text and "2026-01-02" in text
    assert "weak link" in capsys.readouterr().out
    pdf = tmp_path / "r.pdf"
    assert main(["report", str(csv), "--out", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    # bad input: one line, exit 2, nothing written
    assert main(["report", str(csv), "--out", str(tmp_path / "r.txt")]) == 2
    assert main(["report", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "m.html")]) == 2
    assert main(["report", str(csv), "--out", str(tmp_path / "nodir" / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 3
    assert not (tmp_path / "m.html").exists() and not (tmp_path / "r.txt").exists()


def test_the_report_says_how_the_arms_are_read(full_html):
    """The arm rule's measured offsets (docs/measurement.md §9) are told to the coach, with the way around
    them, wherever the report coaches."""
    text = html.unescape(_section(full_html, "coaching"))
    assert "read from the forearm" in text and "70\xa0ms later" in text and "30\xa0ms earlier" in text
    assert "--target baseline" in text


@pytest.fixture(scope="module")
def mounted(qapp_module, tmp_path_factory):
    """A run whose right shin pod sat upside down and whose left wrist pod was pinned, analysed by the real-time
    core with its mounting trackers; the sensor list as a session gives it (roster axes, malformed packets)."""
    import numpy as np
    from scipy.spatial.transform import Rotation

    from stridesync.core.mounting import MountingTracker
    from stridesync.core.realtime import RealtimeCore
    from stridesync.model import RoleSamples
    from stridesync.pipeline import blocks
    from stridesync.report.data import report_data_from_analysis

    sim = sim_cached(seed=7, duration_s=40.0, standing_start_s=4.0, standing_end_s=3.0)
    R = Rotation.from_euler("z", 180, degrees=True).as_matrix()
    rec = dict(sim.recording)
    s = rec[Role.RIGHT_SHIN]
    rec[Role.RIGHT_SHIN] = RoleSamples(Role.RIGHT_SHIN, s.time_s, s.acc_g @ R.T, s.gyro_dps @ R.T)
    rates = {r: x.sample_rate_hz for r, x in rec.items()}
    core = RealtimeCore(rates, gyro_roles=list(rec), mounting={r: MountingTracker(r, fs, has_gyro=True)
                                                               for r, fs in rates.items() if r is not Role.LEFT_WRIST})
    for group in blocks(rec, 0.02):
        core.push_many(group)
    core.finish()
    summary = core.summary()
    sensors = [{"role": r.value, "serial": f"SS00010{k + 1}", "firmware": "0.3", "rate_hz": 200.0, "range_g": 16.0,
                "gyro_range_dps": 2000.0, "loss_pct": 0.5, "malformed": (0, 3, 0, 1)[k], "clock_residual_ms": 0.8,
                "mounting": ["-x", "-y", "+z"] if r is Role.RIGHT_SHIN else ["+x", "+y", "+z"]}
               for k, r in enumerate(Role)]
    data = report_data_from_analysis(rec, core.events_, core.steps_, summary, sensors=sensors, athlete="Mounted",
                                     analyser="real-time")
    path = tmp_path_factory.mktemp("report") / "mounted.html"
    rpt.render(data, path)
    assert np.isfinite(summary["mounting"]["right_shin"][0]["decided_s"])
    return data, path.read_text(encoding="utf-8")


def test_the_sensor_table_shows_each_estimated_mounting_and_the_malformed_packets(mounted):
    data, text = mounted
    header = re.search(r'<table id="sensors-table">.*?<thead>(.*?)</thead>', text, re.S).group(1)
    heads = [html.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", header, re.S)]
    assert heads[6:] == ["loss", "malformed", "clock residual", "mounting"], heads
    rows = {r[0][0]: r for r in _table_rows(text, "sensors-table")}
    assert {k: v[7] for k, v in rows.items()} == {"left shin": ("0", 0.0), "right shin": ("3", 3.0),
                                                  "left wrist": ("0", 0.0), "right wrist": ("1", 1.0)}
    at = data.summary["mounting"]["right_shin"][0]["decided_s"]
    assert rows["right shin"][9][0].replace("\xa0", " ") == f"estimated at {at:.1f} s: upside down (corrected); roster -x -y +z"
    at = data.summary["mounting"]["left_shin"][0]["decided_s"]
    assert rows["left shin"][9][0] == f"estimated at {at:.1f} s: as given"
    assert rows["left wrist"][9][0] == "as given (pinned in the roster)"


def test_a_session_without_mounting_estimates_shows_the_roster_axes_and_malformed_as_not_recorded(full_html):
    rows = _table_rows(full_html, "sensors-table")
    assert {r[7][0] for r in rows} == {"not recorded"}  # a simulation has no packets to judge
    assert {r[9][0] for r in rows} == {"not recorded"}
