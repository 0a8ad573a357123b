"""Starting the dashboard from the command line. Importing this module does not import Qt.

``dashboard_available()`` lets ``stridesync demo`` open the dashboard on a desktop and stay in the terminal
on a headless machine; ``run_dashboard()`` is what ``stridesync dashboard`` calls.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)



def _quit_later(app, win, quit_after_s: float | None, screenshot, status: dict) -> None:
    """With ``quit_after_s``: then save the screenshot (if asked; a failure makes the exit code 2) and quit."""
    if quit_after_s is None:
        return
    from PySide6.QtCore import QTimer

    def finish() -> None:
        if screenshot is not None:
            out = Path(screenshot)
            if not win.grab().save(str(out)):
                log.error("could not write the screenshot %s", out)
                status["code"] = 2
            else:
                print(f"wrote {out}", flush=True)
        win.close()
        app.quit()

    QTimer.singleShot(int(quit_after_s * 1000), finish)

def dashboard_available() -> bool:
    """A display is there (DISPLAY or WAYLAND_DISPLAY) and PySide6 and pyqtgraph can be imported."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    return all(importlib.util.find_spec(m) is not None for m in ("PySide6", "pyqtgraph"))


def start_xvfb(display: str = ":99", size: str = "1280x800x24") -> subprocess.Popen | None:
    """Start Xvfb on ``display`` when no display is set and Xvfb exists (dev tools and benches only)."""
    if os.environ.get("DISPLAY") or shutil.which("Xvfb") is None:
        return None
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", size, "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock = Path(f"/tmp/.X11-unix/X{display.lstrip(':')}")
    for _ in range(50):
        if sock.exists():
            break
        time.sleep(0.1)
    os.environ["DISPLAY"] = display
    return proc


#: platform-plugin messages that say nothing to a user taking a screenshot (the offscreen plugin has no window
#: manager to pass size hints to, and says so for every window)
_QUIET = ("does not support propagateSizeHints",)


def _quiet_offscreen_warnings() -> None:
    """Drop the offscreen plugin's harmless warnings; every other Qt message still reaches stderr."""
    from PySide6.QtCore import qInstallMessageHandler

    def handler(mode, context, message: str) -> None:
        if not any(q in message for q in _QUIET):
            sys.stderr.write(message + "\n")

    qInstallMessageHandler(handler)


def run_dashboard(*, source: str = "virtual:seed=1", replay: str | Path | None = None, roster=None,
                  seconds: float = 3600.0, screenshot: str | Path | None = None, quit_after_s: float | None = None,
                  live_kwargs: dict | None = None) -> int:
    """Open the dashboard; returns the process exit code.

    With ``replay`` it opens that session; otherwise it starts a live session from ``source``
    (``virtual:seed=N``, or ``ble:`` with ``roster``: :class:`~.app.DashboardWindow`). ``screenshot`` with
    ``quit_after_s`` saves a grab of the window after that many seconds and
    quits (used by the README's screenshot and by tests).
    """
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if not has_display and not os.environ.get("QT_QPA_PLATFORM"):
        if screenshot is None:
            from stridesync.errors import StrideSyncError
            raise StrideSyncError("the dashboard needs a display (DISPLAY or WAYLAND_DISPLAY is not set); "
                                  "`stridesync live` runs in the terminal, or use --screenshot to render offscreen")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
    from PySide6.QtWidgets import QApplication

    from .app import DashboardWindow

    if screenshot is not None:
        _quiet_offscreen_warnings()
    app = QApplication.instance() or QApplication(["stridesync"])
    app.setApplicationName("StrideSync")
    win = DashboardWindow(source=source, roster=roster, seconds=seconds, live_kwargs=live_kwargs)
    win.show()
    status = {"code": 0}
    if replay is not None:
        if not win.open_replay(replay):
            status["code"] = 2
    elif win.virtual or win.roster is not None:
        win.start_live()

    _quit_later(app, win, quit_after_s, screenshot, status)
    app.exec()
    if quit_after_s is not None and win.snap is not None:  # unattended: what the window showed at the end, in a line
        snap = win.snap
        print(f"dashboard: {snap.state}, {snap.n_steps} steps; sensors: "
              + (", ".join(f"{r.role.value} {r.words}" for r in snap.sensors) or "none"), flush=True)
    if win.errors and status["code"] == 0 and replay is not None:
        status["code"] = 2
    if status["code"] and win.errors and quit_after_s is not None:  # unattended: say it on the terminal too
        print(f"stridesync dashboard: error: {win.errors[-1]}", file=sys.stderr)
    return status["code"]


def run_team_dashboard(*, record_dir: str | Path | None = None, screenshot: str | Path | None = None,
                       quit_after_s: float | None = None) -> int:
    """Open the squad view (``stridesync dashboard --team``): every hub on LSL; returns the exit code.

    ``record_dir`` records every athlete (as ``stridesync team --record DIR``). ``screenshot`` with
    ``quit_after_s`` saves a grab of the window after that many seconds and quits.
    """
    from stridesync.lsl_streams import need_lsl

    need_lsl("the squad view")
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if not has_display and not os.environ.get("QT_QPA_PLATFORM"):
        if screenshot is None:
            from stridesync.errors import StrideSyncError
            raise StrideSyncError("the squad view needs a display (DISPLAY or WAYLAND_DISPLAY is not set); "
                                  "`stridesync team` runs in the terminal, or use --screenshot to render offscreen")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    from .team_view import TeamWindow

    if screenshot is not None:
        _quiet_offscreen_warnings()
    app = QApplication.instance() or QApplication(["stridesync"])
    app.setApplicationName("StrideSync")
    win = TeamWindow(record_dir=Path(record_dir) if record_dir is not None else None)
    win.show()
    status = {"code": 0}
    _quit_later(app, win, quit_after_s, screenshot, status)
    app.exec()
    for p in win.worker.recorded:
        print(f"recorded {p}", flush=True)
    if win.worker.error:
        print(f"stridesync dashboard --team: error: {win.worker.error}", file=sys.stderr)
        status["code"] = status["code"] or 2
    return status["code"]
