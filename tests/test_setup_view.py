"""The dashboard's sensor setup (#10 item 5): stand still, jog a few strides, each sensor's verdict turns green
(or red, with an Identify button that blinks that sensor). Real widgets under pytest-qt offscreen, the real
core with its mounting trackers, and virtual sensors over bumble for the live case."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from scipy.spatial.transform import Rotation  # noqa: E402

from stridesync.core.mounting import MountingTracker  # noqa: E402
from stridesync.model import Role, RoleSamples  # noqa: E402
from stridesync.session.replay import Replay  # noqa: E402
from stridesync.sim import SimParams  # noqa: E402
from stridesync_ui import theme  # noqa: E402
from stridesync_ui.app import DashboardWindow  # noqa: E402
from stridesync_ui.setup_state import mounting_report_words  # noqa: E402
from stridesync_ui.snapshot import SnapshotBuilder  # noqa: E402

from .conftest import sim_cached  # noqa: E402

UPSIDE_DOWN = Rotation.from_euler("z", 180, degrees=True).as_matrix()


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def _colour(label) -> str:
    return label.styleSheet().split("color:")[-1].split(";")[0].strip()


def test_a_live_sensor_mounted_upside_down_shows_a_red_verdict_and_its_identify_button_blinks_it(qtbot, settings):
    # the right shin's pod is strapped on upside down: the virtual sensor's samples are its body frame turned 180°
    # about the swing axis, while the roster says "+x +y +z" (the virtual sensors stream their samples as they are)
    params = SimParams(duration_s=60.0, standing_start_s=9.0, standing_end_s=3.0)  # standing seen after connecting
    fleets = []

    def on_fleet(fleet) -> None:
        fleets.append(fleet)
        s = fleet.sensors[Role.RIGHT_SHIN].samples
        fleet.sensors[Role.RIGHT_SHIN].samples = RoleSamples(Role.RIGHT_SHIN, s.time_s, s.acc_g @ UPSIDE_DOWN.T,
                                                             s.gyro_dps @ UPSIDE_DOWN.T)

    w = DashboardWindow(source="virtual:seed=1", seconds=40.0, settings=settings,
                        live_kwargs={"sim_params": params, "on_fleet": on_fleet})
    qtbot.addWidget(w)
    w.show()
    w.start_live()
    assert w.tabs.currentWidget() is w.setup  # the coach sees the setup first
    shown: dict[Role, list[str]] = {r: [] for r in Role}

    def record():
        for r, text in w.setup.texts().items():
            if not shown[r] or shown[r][-1] != text:
                shown[r].append(text)


    def verdicts_in() -> bool:
        record()
        st = w.setup.state
        return st is not None and st.done

    qtbot.waitUntil(verdicts_in, timeout=45000)
    for r in Role:  # each row went from waiting (for data, standing or strides) to its verdict
        assert any(t.startswith(("stand still", "jog:", "waiting")) for t in shown[r][:-1]), (r, shown[r])
    texts = w.setup.texts()
    assert texts[Role.RIGHT_SHIN] == "✗ upside down", texts
    assert all(texts[r] == "✓ sits as given" for r in Role if r is not Role.RIGHT_SHIN), texts
    right = w.setup.rows[Role.RIGHT_SHIN]
    assert right["sentence"].text().startswith("Right shin sensor is upside down")
    assert _colour(right["words"]) == theme.BAD
    assert all(_colour(w.setup.rows[r]["words"]) == theme.OK for r in Role if r is not Role.RIGHT_SHIN)
    # Identify next to the wrong verdict only, and the sensor panel marks that row too
    assert {r for r, b in w.setup.identify.items() if not b.isHidden()} == {Role.RIGHT_SHIN}
    assert theme.BAD in w.sensors.identify[Role.RIGHT_SHIN].styleSheet()
    assert theme.BAD not in w.sensors.identify[Role.LEFT_SHIN].styleSheet()
    line = w.sensors.mounting.text()
    assert "right shin</span> <span style='color:%s; font-weight:800'>✗ flipped" % theme.BAD in line, line
    assert "Right shin sensor is upside down" in w.sensors.mounting.toolTip()
    assert w.tabs.tabText(w.tabs.indexOf(w.setup)) == "Setup ⚠"

    button = w.setup.identify[Role.RIGHT_SHIN]
    qtbot.waitUntil(button.isEnabled, timeout=5000)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    sensor = fleets[0].sensors[Role.RIGHT_SHIN]
    qtbot.waitUntil(lambda: bool(sensor.identify_log), timeout=5000)
    assert sensor.identify_log[-1][1] == 5
    assert not any(s.identify_log for r, s in fleets[0].sensors.items() if r is not Role.RIGHT_SHIN)
    # a wrong sensor keeps the coach on the setup view: no switch to the numbers while steps come
    qtbot.waitUntil(lambda: w.snap.n_steps > 3, timeout=15000)
    qtbot.wait(200)
    assert w.tabs.currentWidget() is w.setup
    w.stop_source()
    qtbot.waitUntil(lambda: not w.source.running, timeout=10000)
    summary = w.source.analyzer.core.summary()["mounting"]
    assert mounting_report_words(summary["right_shin"], Role.RIGHT_SHIN).endswith("upside down (corrected)")


def _feed(w: DashboardWindow, recording, *, every_s: float = 0.25):
    """The recording through the replay engine (the real core with its trackers, 20 ms blocks, as fast as
    possible), a snapshot rendered every ``every_s`` of data by the window's panels (the path a live worker
    takes, without the radio)."""
    builder = SnapshotBuilder("live")
    seen, next_t = [], [0.0]

    def on_analyzer(a) -> None:
        builder.attach(a.core)
        builder.mounting.clock = lambda: a.core.now_s  # throttled by data time: as fast as the data, not the wall

    def after_input(a, t_s: float) -> None:
        core = a.core
        if core.now_s >= next_t[0]:
            next_t[0] = core.now_s + every_s
            snap = builder.build(core, core.now_s)
            w.sensors.render(snap)
            w.setup.render(snap)
            w._setup_tab(snap)
            seen.append((core.now_s, dict(w.setup.texts()), w.tabs.currentWidget() is w.setup))

    res = Replay(recording=recording, align="auto", speed=None, block_s=0.02, on_analyzer=on_analyzer,
                 after_input=after_input).run()
    return res.analyzer.core, seen


def test_setup_goes_from_stand_still_to_strides_to_green_and_then_shows_the_numbers(qtbot, settings):
    sim = sim_cached(seed=7, duration_s=40.0, standing_start_s=4.0, standing_end_s=3.0)
    w = DashboardWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    w.tabs.setCurrentWidget(w.setup)  # as a live start leaves it
    core, seen = _feed(w, sim.recording)
    left = [texts[Role.LEFT_SHIN] for _, texts, _ in seen]
    # standing first, then strides counting up, then the verdict
    i_stand = next(i for i, t in enumerate(left) if t.startswith("stand still"))
    i_jog = next(i for i, t in enumerate(left) if t.startswith("jog:"))
    i_done = next(i for i, t in enumerate(left) if t == "✓ sits as given")
    assert i_stand < i_jog < i_done, left
    counts = [int(t.split()[1]) for t in left if t.startswith("jog:")]
    assert counts == sorted(counts) and counts[-1] >= 2, counts
    assert "of 4 strides" in next(t for t in left if t.startswith("jog:"))
    final = seen[-1][1]
    assert all(t == "✓ sits as given" for t in final.values()), final
    assert all(_colour(w.setup.rows[r]["words"]) == theme.OK for r in Role)
    assert all(b.isHidden() for b in w.setup.identify.values())
    assert "sides not swapped" in w.setup.notes.text()
    # all green and steps counted: the view moved to the numbers, once
    t_switch = next(t for t, _, on_setup in seen if not on_setup)
    first_step = core.steps_[0].time_s
    assert t_switch >= first_step - 0.5
    assert w.tabs.tabText(w.tabs.indexOf(w.setup)) == "Setup ✓"


def test_a_sensor_that_slips_later_shows_the_slip_on_that_sensor(qtbot, settings):
    sim = sim_cached(seed=4, duration_s=110.0, standing_start_s=4.0, standing_end_s=3.0)
    at = 60.0
    s = sim.recording[Role.LEFT_SHIN]
    R = Rotation.from_euler("x", 45, degrees=True).as_matrix()
    after = s.time_s >= at
    rec = dict(sim.recording)
    rec[Role.LEFT_SHIN] = RoleSamples(Role.LEFT_SHIN, s.time_s, np.where(after[:, None], s.acc_g @ R.T, s.acc_g),
                                      np.where(after[:, None], s.gyro_dps @ R.T, s.gyro_dps))
    w = DashboardWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    core, seen = _feed(w, rec, every_s=1.0)
    before = [texts[Role.LEFT_SHIN] for t, texts, _ in seen if 20.0 < t < at]
    assert before and all(t == "✓ sits as given" for t in before)
    assert w.setup.texts()[Role.LEFT_SHIN].startswith("⚠ slipped")
    assert _colour(w.setup.rows[Role.LEFT_SHIN]["words"]) == theme.WARN
    assert "corrected" in w.setup.rows[Role.LEFT_SHIN]["sentence"].text()
    assert not w.setup.identify[Role.LEFT_SHIN].isHidden() and theme.BAD in w.sensors.identify[Role.LEFT_SHIN].styleSheet()
    assert "⚠ slipped" in w.sensors.mounting.text()
    assert w.tabs.tabText(w.tabs.indexOf(w.setup)) == "Setup ⚠"
    words = mounting_report_words(core.summary()["mounting"]["left_shin"], Role.LEFT_SHIN)
    assert words.startswith("estimated at") and "slipped" in words and "(corrected)" in words


def test_report_words_for_an_estimate_kept_as_given_say_why():
    short = sim_cached(seed=7, duration_s=40.0, standing_start_s=4.0, standing_end_s=3.0).recording[Role.LEFT_WRIST]
    tr = MountingTracker(Role.LEFT_WRIST, short.sample_rate_hz, has_gyro=True)
    tr.push(short.time_s[:600], short.acc_g[:600], short.gyro_dps[:600])
    tr.finish()
    entries = [dict(lg.estimate.as_dict(), event=lg.kind, decided_s=lg.time_s) for lg in tr.log]
    words = mounting_report_words(entries, Role.LEFT_WRIST)
    assert words.startswith("kept as given: ") and "running" in words, words
    assert mounting_report_words(None, Role.LEFT_WRIST) is None
