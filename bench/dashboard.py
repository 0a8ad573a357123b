"""The dashboard's frame loop under a live run: 4 virtual sensors at 200 Hz, 60 s, on a real X display (Xvfb).

Figures (measured from the moment the first snapshot with data arrives):
  fps            frames the dashboard rendered per second
  cpu_pct        CPU of the whole process (virtual sensors, radio, core, GUI), % of one core
  max_frame_ms   the longest gap between two frames (a freeze shows here)
  frame_work_p99_ms  time inside the frame callback (setData, labels), p99
Baselines in the same run, same live session:
  baseline_*     a bare QMainWindow with the same 16 ms frame timer that only stores the snapshots: the
                 cost of the live pipeline and Qt's event loop, without any drawing
  no_traces_*    the dashboard with the trace panel hidden: what the four traces cost
Targets (issue 5): fps ≥ 30 (aim 60), cpu_pct ≤ 60, max_frame_ms ≤ 100.

Starts Xvfb :99 itself when DISPLAY is unset and Xvfb exists. The last line printed is one JSON object.
Usage: python bench/dashboard.py [--seconds 60] [--baseline-seconds 30] [--screenshot docs/dashboard.png]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

import numpy as np


from stridesync_ui.launch import start_xvfb  # Qt-free


def live_options(seconds: float):
    from stridesync.model import Role
    from stridesync.sim import SimParams

    params = SimParams(duration_s=seconds + 40.0, standing_start_s=1.0, standing_end_s=5.0, swing_lag_ms=30.0,
                       ipsi_arm_lag_ms=-15.0, contra_arm_lag_ms=10.0, sample_rate_hz={r: 200.0 for r in Role})
    return {"sim_params": params, "sim_seed": 2}  # the seed goes into the source spec


def run_phase(app, kind: str, seconds: float, screenshot: str | None = None) -> dict:
    """One live session with the given window; measure ``seconds`` once data flows."""
    from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
    from PySide6.QtWidgets import QLabel, QMainWindow

    from stridesync.core.config import DetectorConfig
    from stridesync.live_run import LiveOptions
    from stridesync_ui.app import DashboardWindow
    from stridesync_ui.worker import LiveWorker

    kw = live_options(seconds)
    settings = QSettings(os.path.join(os.environ.get("TMPDIR", "/tmp"), "stridesync-bench.ini"), QSettings.Format.IniFormat)
    frames: list[float] = []
    if kind == "baseline":
        win = QMainWindow()
        win.resize(1280, 800)
        win.setCentralWidget(QLabel("baseline"))
        latest = {}
        worker = LiveWorker(LiveOptions(seconds=seconds + 25.0, config=DetectorConfig(), sim_params=kw["sim_params"],
                                        source=f"virtual:seed={kw['sim_seed']}"))
        worker.bridge.sigSnapshot.connect(lambda s: latest.__setitem__("snap", s))
        timer = QTimer(win)
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.timeout.connect(lambda: frames.append(time.perf_counter()))
        timer.start(16)
        win.show()
        worker.start()
        has_data = lambda: "snap" in latest and latest["snap"].state == "running"  # noqa: E731
    else:
        win = DashboardWindow(source=f"virtual:seed={kw['sim_seed']}", seconds=seconds + 25.0, settings=settings,
                              live_kwargs={"sim_params": kw["sim_params"]})
        win.controls.athlete.setText("Ana Silva")
        if kind == "no_traces":
            win.traces.hide()
        win.show()
        win.start_live()
        worker = win.source
        has_data = lambda: win.snap is not None and win.snap.state == "running" and win.snap.n_steps > 0  # noqa: E731

    loop = QEventLoop()
    poll = QTimer()
    poll.timeout.connect(lambda: loop.quit() if has_data() else None)
    poll.start(50)
    loop.exec()
    poll.stop()
    t0, cpu0 = time.perf_counter(), time.process_time()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    t1, cpu1 = time.perf_counter(), time.process_time()
    if screenshot:
        win.grab().save(screenshot)
    if kind == "baseline":
        at = [t for t in frames if t >= t0]
        work = []
    else:
        at = [t for t in win.frame_at if t >= t0]
        work = [w for t, w in zip(win.frame_at, win.frame_work_s) if t >= t0]
    gaps = np.diff(at) if len(at) > 1 else np.array([np.nan])
    out = {"fps": (len(at) - 1) / (at[-1] - at[0]) if len(at) > 1 else 0.0,
           "cpu_pct": 100.0 * (cpu1 - cpu0) / (t1 - t0),
           "max_frame_ms": 1000.0 * float(np.max(gaps)),
           "frame_p99_ms": 1000.0 * float(np.percentile(gaps, 99)),
           "frame_work_p99_ms": 1000.0 * float(np.percentile(work, 99)) if work else None,
           "steps": (win.snap.n_steps if kind != "baseline" else latest["snap"].n_steps)}
    worker.stop()
    worker.join(10.0)
    win.close()
    app.processEvents()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--baseline-seconds", type=float, default=30.0)
    ap.add_argument("--screenshot", help="save a grab of the dashboard at the end of the main run")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    xvfb = start_xvfb()
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        # without a display Qt aborts inside its platform plugin; the offscreen plugin would measure no real frames
        print("bench/dashboard.py needs an X display: install Xvfb (Debian/Ubuntu: apt-get install xvfb; "
              "Fedora: dnf install xorg-x11-server-Xvfb) and run it again, or set DISPLAY", file=sys.stderr)
        return 2
    os.environ.pop("QT_QPA_PLATFORM", None) if os.environ.get("QT_QPA_PLATFORM") == "offscreen" else None
    try:
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication(["bench"])
        print(f"display {os.environ.get('DISPLAY')} ({app.platformName()}), {os.cpu_count()} cores", flush=True)
        res = {}
        for kind, secs in (("baseline", args.baseline_seconds), ("no_traces", args.baseline_seconds),
                           ("dashboard", args.seconds)):
            r = run_phase(app, kind, secs, screenshot=args.screenshot if kind == "dashboard" else None)
            res[kind] = r
            print(f"{kind:<10} {secs:4.0f} s: fps {r['fps']:5.1f}  cpu {r['cpu_pct']:5.1f} %  max frame "
                  f"{r['max_frame_ms']:6.1f} ms  p99 frame {r['frame_p99_ms']:5.1f} ms  "
                  f"frame work p99 {r['frame_work_p99_ms'] if r['frame_work_p99_ms'] is None else round(r['frame_work_p99_ms'], 2)} ms"
                  f"  steps {r['steps']}", flush=True)
        d, b, n = res["dashboard"], res["baseline"], res["no_traces"]
        summary = {"fps": round(d["fps"], 1), "cpu_pct": round(d["cpu_pct"], 1), "max_frame_ms": round(d["max_frame_ms"], 1),
                   "frame_p99_ms": round(d["frame_p99_ms"], 1), "frame_work_p99_ms": round(d["frame_work_p99_ms"], 2),
                   "baseline_fps": round(b["fps"], 1), "baseline_cpu_pct": round(b["cpu_pct"], 1),
                   "baseline_max_frame_ms": round(b["max_frame_ms"], 1),
                   "no_traces_fps": round(n["fps"], 1), "no_traces_cpu_pct": round(n["cpu_pct"], 1),
                   "cpu_ratio_vs_baseline": round(d["cpu_pct"] / b["cpu_pct"], 2) if b["cpu_pct"] else None,
                   "seconds": args.seconds, "platform": app.platformName(),
                   "targets_met": bool(d["fps"] >= 30 and d["cpu_pct"] <= 60 and d["max_frame_ms"] <= 100)}
        print(json.dumps(summary))
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
