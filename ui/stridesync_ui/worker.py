"""Data sources for the dashboard, each on its own thread, publishing :class:`DashSnapshot` through Qt signals.

- :class:`LiveWorker`: an asyncio loop in a ``threading.Thread`` running :func:`stridesync.live_run.run_live`
  (virtual sensors or a roster's real ones). QtAsyncio cannot run bleak on Linux and qasync starves under
  repaints, so the GUI thread never runs asyncio.
- :class:`SessionReplayWorker`: a session file through :class:`stridesync.session.replay.Replay` (recorded
  packets through a LiveAnalyzer, so sensor health too), with play, pause, speed and seek.
- :class:`ReplayWorker`: a wide samples CSV fed block by block into a fresh real-time core, at a chosen
  speed, with pause and seek: the same data path as a live run (STYLE.md §1).

The GUI connects to ``bridge.sigSnapshot`` / ``sigError`` / ``sigFinished`` and keeps only the newest
snapshot; the worker never touches a widget (STYLE.md §7).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from stridesync.errors import StrideSyncError
from stridesync.model import LinkState

from .snapshot import DashSnapshot, SnapshotBuilder

log = logging.getLogger(__name__)

#: snapshots per second a source publishes; the GUI draws at its own rate from the newest
PUBLISH_HZ = 20.0


class SnapshotBridge(QObject):
    """Created on the GUI thread; emitted from a worker thread, so connections are queued."""

    sigSnapshot = Signal(object)
    sigError = Signal(str)
    sigNotice = Signal(str)  # news for the status line (not an error)
    sigFinished = Signal()


def error_words(exc: BaseException) -> str:
    """An exception as one readable line (our errors already are; others get their type named)."""
    if isinstance(exc, StrideSyncError):
        return " ".join(str(exc).split())
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename or exc}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}"
    return f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__


def live_supports_recording() -> bool:
    """Whether this build's LiveOptions can write a session file while running (``record_to``)."""
    from stridesync.live_run import LiveOptions

    return "record_to" in {f.name for f in fields(LiveOptions)}


class _Threaded:
    """A source that runs on its own thread (``self._thread``): wait for it, ask whether it still runs."""

    _thread: threading.Thread

    def join(self, timeout_s: float | None = None) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()


class LiveWorker(_Threaded):
    """A live session on a worker thread.

    Parameters
    ----------
    options : a :class:`stridesync.live_run.LiveOptions`; its ``on_update`` and ``stop`` are set here.
    publish_hz : snapshot rate.
    """

    def __init__(self, options, *, publish_hz: float = PUBLISH_HZ):
        self.options = options
        self.publish_hz = publish_hz
        self.bridge = SnapshotBridge()
        self.builder = SnapshotBuilder("live")
        self.analyzer = None
        self.result = None
        self.error: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._acq = None  # the Acquisition, once its links are up
        self._stop_requested = threading.Event()
        self._thread = threading.Thread(target=self._main, name="stridesync-live", daemon=True)
        self._t0 = time.monotonic()
        self._phase = "starting the session…"

    # ------------------------------------------------------------------ GUI-thread API
    def start(self) -> "LiveWorker":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the session to end (thread-safe; returns at once). Streams stop, then sensors disconnect."""
        self._stop_requested.set()
        loop, ev = self._loop, self._stop
        if loop is not None and ev is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(ev.set)
            except RuntimeError:  # the loop closed meanwhile
                pass

    def mark_lap(self, t_s: float, label: str = "") -> bool:
        """Store a lap mark in the session file being recorded (thread-safe). False when not recording."""
        a, loop = self.analyzer, self._loop
        sink = getattr(a, "sink", None) if a is not None else None
        if sink is None or loop is None or loop.is_closed():
            return False
        loop.call_soon_threadsafe(sink.lap, t_s, label)
        return True

    def identify(self, serial: str, seconds: int = 5, on_done: Callable[[str | None], None] | None = None) -> bool:
        """Blink one sensor's LED (thread-safe; returns at once). ``on_done(error_words or None)`` runs on
        the worker thread when the sensor answered or failed. False when no session is connected."""
        return self._sensor_call("identify", serial, seconds, on_done=on_done)

    def disconnect_sensor(self, serial: str, on_done: Callable[[str | None], None] | None = None) -> bool:
        """Take one sensor out of the running session (it stops, disconnects and shows 'off')."""
        return self._sensor_call("disconnect", serial, on_done=on_done)

    def reconnect_sensor(self, serial: str, on_done: Callable[[str | None], None] | None = None) -> bool:
        """Bring a sensor taken out with :meth:`disconnect_sensor` back into the session."""
        return self._sensor_call("reconnect", serial, on_done=on_done)

    def _sensor_call(self, name: str, serial: str, *args, on_done: Callable[[str | None], None] | None = None) -> bool:
        acq, loop = self._acq, self._loop
        if acq is None or loop is None or loop.is_closed():
            return False
        fut = asyncio.run_coroutine_threadsafe(getattr(acq, name)(serial, *args), loop)
        if on_done is not None:
            def done(f) -> None:
                if f.cancelled():
                    on_done("the session ended first")
                else:
                    exc = f.exception()
                    on_done(None if exc is None else error_words(exc))
            fut.add_done_callback(done)
        return True

    # ------------------------------------------------------------------ worker thread
    def _main(self) -> None:
        try:
            asyncio.run(self._amain())
        except Exception as exc:  # anything the session raised: tell the user in words
            log.exception("live session failed")
            self.error = error_words(exc)
            self.bridge.sigError.emit(self.error)
        finally:
            self.bridge.sigFinished.emit()

    def _now(self) -> float:
        return time.monotonic() - self._t0

    def _on_start(self, analyzer) -> None:
        """LiveOptions.on_start: the analyser exists, no sensor is connected yet. From here on every
        sample the core receives also lands in the trace rings, and the sensor rows show the connecting."""
        self.analyzer = analyzer
        self.builder.attach(analyzer.core)
        self._phase = "connecting to the sensors…"

    def _publish(self, state: str | None = None, message: str = "") -> None:
        a = self.analyzer
        if a is None:
            snap = DashSnapshot(mode="live", state=state or "connecting", now_s=self._now(),
                                message=message or self._phase, target_model=self.options.config.target_model)
        else:
            now = max(a.now_s, self._now())
            health = a.health()
            if state is None:  # running once a sensor streams; connecting until then
                state = "running" if any(h.state == LinkState.STREAMING for h in health) else "connecting"
                message = message or (self._phase if state == "connecting" else "")
            ages = {k: (now - s.last_arrival_s if s.last_arrival_s is not None else None) for k, s in a.sensors.items()}
            snap = self.builder.build(a.core, now, health=health, ages_s=ages, state=state, message=message,
                                      ended=state == "stopped")
        self.bridge.sigSnapshot.emit(snap)

    async def _amain(self) -> None:
        from stridesync.live_run import run_live

        self._loop = asyncio.get_running_loop()
        self._stop = self.options.stop = asyncio.Event()
        if self._stop_requested.is_set():
            self._stop.set()
        self.options.on_start = self._on_start
        self.options.on_acquisition = lambda acq: setattr(self, "_acq", acq)
        if self.options.on_record_error is None:
            self.options.on_record_error = lambda text: self.bridge.sigError.emit(f"recording stopped: {text}")
        user_on_fleet = self.options.on_fleet

        def on_fleet(fleet) -> None:
            self._phase = "virtual sensors are up: finding and connecting to them…"
            if user_on_fleet is not None:
                user_on_fleet(fleet)

        self.options.on_fleet = on_fleet  # called by a virtual source only
        self._t0 = time.monotonic()
        task = asyncio.create_task(run_live(self.options))
        period = 1.0 / self.publish_hz
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=period)
                if not task.done():
                    self._publish()
            self.result = task.result()
            self._publish("stopped", "session stopped" if self._stop.is_set() else "session finished")
        finally:
            self._acq = None
            if not task.done():
                self._stop.set()
                await asyncio.gather(task, return_exceptions=True)


# ============================================================================ replay
def load_replay(path: str | Path):
    """A session for replay: ``(recording, detector config or None, athlete or None)``.

    A session file (``.stridesync``, :mod:`stridesync.session`) gives its samples as the core received
    them, its stored detector settings and its athlete; a wide samples CSV (MEASUREMENT.md §4) gives its
    samples only.
    """
    path = Path(path)
    if not path.exists():
        raise StrideSyncError(f"cannot open {path}: no such file")
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        from stridesync.io import read_wide_csv

        return read_wide_csv(path), None, None
    try:
        from stridesync.session.replay import session_recording
        from stridesync.session.store import Session
    except ImportError:  # pragma: no cover - a build without sessions
        raise StrideSyncError(f"cannot open {path.name}: this build replays wide samples CSV files only") from None
    with Session.open(path) as session:
        recording = session_recording(session)
        return recording, session.detector_config, session.athlete or None


# ============================================================================ session replay
class ReplayWorker(_Threaded):
    """A session file, or samples in memory, replayed through :class:`stridesync.session.replay.Replay` (the
    one replay engine and its pacer) on a worker thread.

    A live session's recorded packets, clock exchanges and link states go through a fresh
    :class:`~stridesync.live.LiveAnalyzer` exactly as they did live: the same events and steps, and the
    sensor health (loss, clock residual, drops) as the coach saw it. An imported session's samples, or a
    samples CSV's, go through the real-time core (Replay covers all three). Play, pause, speed and seek go to
    the running Replay (thread-safe); a replay that reached the end starts a new one on play or seek.

    Parameters
    ----------
    session : an open :class:`stridesync.session.store.Session`; the worker owns and closes it. Or
    recording : samples (a wide samples CSV's), with ``config``; ``name`` is what messages call it.
    speed : data seconds per wall second.
    """

    def __init__(self, session=None, *, recording=None, config=None, name: str = "the recording",
                 speed: float = 1.0, publish_hz: float = PUBLISH_HZ, start_playing: bool = True):
        self.session, self.recording = session, recording
        if session is not None:
            self.path = Path(session.path)
            rng = session.time_range_s
            if rng is None:
                raise StrideSyncError(f"{self.path.name}: the session holds no inputs to replay")
            self.config = session.detector_config
        else:
            if not recording or not any(len(x) for x in recording.values()):
                raise StrideSyncError("the recording holds no sensor data")
            from stridesync.core.config import DetectorConfig

            self.path = Path(name)
            rng = (min(float(x.time_s[0]) for x in recording.values() if len(x)),
                   max(float(x.time_s[-1]) for x in recording.values() if len(x)))
            self.config = config or DetectorConfig()
        self.t_start, self.t_end = float(rng[0]), float(rng[1])
        self.speed = float(speed)
        self.playing = start_playing
        self.publish_hz = publish_hz
        self.bridge = SnapshotBridge()
        self.builder = SnapshotBuilder("replay")
        self.analyzer = None
        self.result = None
        self.position_s = self.t_start
        self._replay = None
        self._lock = threading.Lock()
        self._cmds: queue.Queue = queue.Queue()
        self._stopping = False
        self._hold_at: float | None = None   # a seek while paused: pause again on reaching this data time
        self._published_at = -1e9
        self._thread = threading.Thread(target=self._main, name="stridesync-session-replay", daemon=True)

    # ------------------------------------------------------------------ GUI-thread API
    def start(self) -> "ReplayWorker":
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            if self._replay is not None:
                self._replay.stop()
        self._cmds.put(("stop", None))

    def set_playing(self, playing: bool) -> None:
        with self._lock:
            self.playing = bool(playing)
            r = self._replay
            if r is None:
                self._cmds.put(("play", self.playing))
            elif self.playing:
                self._hold_at = None
                r.resume()
            else:
                r.pause()

    def set_speed(self, speed: float) -> None:
        with self._lock:
            self.speed = max(0.1, min(float(speed), 256.0))
            if self._replay is not None:
                self._replay.speed = self.speed

    def seek(self, position_s: float) -> None:
        """Go to ``position_s`` seconds from the start (paused stays paused, at the new place)."""
        target = self.t_start + max(0.0, min(float(position_s), self.duration_s))
        with self._lock:
            r = self._replay
            if r is None:
                self._cmds.put(("seek", target))
                return
            r.seek(target)
            if not self.playing:
                self._hold_at = target
                r.resume()

    @property
    def duration_s(self) -> float:
        return self.t_end - self.t_start

    @property
    def replay_paused(self) -> bool:
        """The running Replay has been told to pause (it stops before its next input)."""
        r = self._replay
        return r is not None and r.paused

    # ------------------------------------------------------------------ replay thread
    def _before_input(self, a, t_s: float) -> None:
        if a is not self.analyzer:  # a new analyser: the start, or a seek restarted the replay
            self.analyzer = a
            self.builder.restart(a.core)

    def _after_input(self, a, t_s: float) -> None:
        self.position_s = t_s
        hold = self._hold_at
        if hold is not None and t_s >= hold:
            with self._lock:
                if self._hold_at is not None and not self.playing:
                    self._hold_at = None
                    self._replay.pause()
            self._publish("paused")
            return
        now = time.monotonic()
        if now - self._published_at >= 1.0 / self.publish_hz:
            self._publish()

    def _publish(self, state: str | None = None, message: str = "") -> None:
        a = self.analyzer
        if a is None:
            return
        self._published_at = time.monotonic()
        if state is None:
            state = "running" if self.playing else "paused"
        sensors = getattr(a, "sensors", {})
        now = max(self.position_s, getattr(a, "now_s", 0.0))
        ages = {k: (now - s.last_arrival_s if s.last_arrival_s is not None else None) for k, s in sensors.items()}
        snap = self.builder.build(a.core, now, health=a.health(), ages_s=ages, state=state, message=message,
                                  ended=state == "finished", position_s=self.position_s - self.t_start,
                                  duration_s=self.duration_s, speed=self.speed)
        self.bridge.sigSnapshot.emit(snap)

    def _main(self) -> None:
        try:
            self._run()
        except Exception as exc:  # a damaged file found mid-way: tell the user in words
            log.exception("session replay failed")
            self.bridge.sigError.emit(f"replay of {self.path.name} stopped: {error_words(exc)}")
        finally:
            if self.session is not None:
                self.session.close()
            self.bridge.sigFinished.emit()

    def _run(self) -> None:
        from stridesync.session.replay import Replay

        seek_to: float | None = None
        while True:
            while True:  # what the GUI asked before this Replay existed (e.g. a seek right after opening)
                try:
                    cmd, arg = self._cmds.get_nowait()
                except queue.Empty:
                    break
                if cmd == "stop":
                    return
                if cmd == "seek":
                    seek_to = arg
                elif cmd == "play":
                    self.playing = bool(arg)
            with self._lock:
                if self._stopping:
                    return
                r = Replay(self.session, recording=self.recording, before_input=self._before_input,
                           after_input=self._after_input, speed=self.speed, config=self.config,
                           align="auto" if self.recording is not None else "given")  # files: as analyze
                if seek_to is not None:
                    r.seek(seek_to)
                    if not self.playing:
                        self._hold_at = seek_to
                elif not self.playing:
                    r.pause()
                self._replay = r
            self.result = r.run()
            with self._lock:
                self._replay = None
                if self._stopping:
                    return
            self.position_s = self.t_end
            self.playing = False
            self._publish("finished", f"end of {self.path.name}: whole-session figures, as in the report")
            seek_to = None
            while seek_to is None:  # at the end: wait for play (from the start), seek, or stop
                cmd, arg = self._cmds.get()
                if cmd == "stop":
                    return
                if cmd == "play" and arg:
                    seek_to = self.t_start
                elif cmd == "seek":
                    seek_to = arg
            if seek_to <= self.t_start:
                seek_to = None


#: the name this worker had when it replayed session files only
SessionReplayWorker = ReplayWorker
