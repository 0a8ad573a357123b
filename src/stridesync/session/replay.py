"""Replay: a source that feeds a recorded session through the same path as live.

A live session's file holds every input the :class:`~stridesync.live.LiveAnalyzer` received, in
order. A replay feeds the same inputs, in the same order, to a fresh analyser built with the recorded
detector settings: decode → clock → core run exactly as they did live, so the events and steps are
the same, bit for bit. An imported session (or samples in memory) holds samples; its replay feeds them in
blocks to the real-time core.

This is the one replay engine: recorded sessions (the CLI's ``replay``, ``export --recompute``, the dashboard),
samples CSVs and imported sessions (the ``csv:`` and ``replay:`` sources, ``analyze``, ``import``: through
:func:`stridesync.pipeline.run_realtime`) and the tests' feeders all go through it.

Pacing is :class:`stridesync.pacing.Pacer`'s (the one pacer): real time times ``speed``, or as fast as possible
(``speed=None``). :meth:`Replay.pause`, :meth:`Replay.resume`, :meth:`Replay.seek`, :meth:`Replay.stop` and
the ``speed`` setter may be called from another thread (a dashboard's). A seek restarts from the beginning and
fast-forwards to the target without pacing or callbacks (through the analyser's bulk path for recorded live
sessions): the state at any instant depends only on the inputs before it, so a seek is deterministic.

As fast as possible without per-input hooks, a recorded live session goes through the analyser's bulk
path (:func:`stridesync.live_bulk.feed_recorded`: each sensor decoded and clock-aligned in one pass, the
core fed in chunks of seconds); with hooks, input by input with the core's pushes batched to about a
second (flushed before every gap declaration and at the end). The core's results do not depend on how
its input is split into blocks (its defining chunk-invariance property, tested in
``tests/test_core.py``), and the replay tests check that these replays equal the live results exactly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.config import DetectorConfig
from ..core.mounting import MountingTracker
from ..core.realtime import RealtimeCore
from ..live import LiveAnalyzer, SamplesAnalyzer
from ..live_bulk import feed_recorded
from ..model import Event, InputKind, Recording, Role, RoleSamples, Step
from ..pacing import Pacer, blocks
from .store import Session, SessionError

log = logging.getLogger(__name__)

__all__ = ["Replay", "ReplayResult", "apply_input", "replay", "session_recording"]

#: as-fast-as-possible replays hand the core about this many samples at a time
FAST_BATCH_SAMPLES = 800
#: imported sessions: block length (s of data) when paced, as a live source would deliver
PACED_BLOCK_S = 0.02
FAST_BLOCK_S = 5.0  # as fast as possible: the core is chunk-invariant, and fewer pushes cost less


class _Capture:
    """A core listener that keeps every block handed to the core (the decoded, clock-mapped samples)."""

    def __init__(self):
        self.parts: dict[Role, list] = {}

    def __call__(self, blocks) -> None:
        for role, t, acc, *g in blocks:
            gyro = g[0] if g and g[0] is not None else None
            self.parts.setdefault(Role(role), []).append(
                (np.asarray(t, float), np.asarray(acc, float), None if gyro is None else np.asarray(gyro, float)))

    def recording(self) -> Recording:
        out: Recording = {}
        for role, parts in self.parts.items():
            gyro = (np.concatenate([p[2] for p in parts]).reshape(-1, 3)
                    if all(p[2] is not None for p in parts) else None)
            out[role] = RoleSamples(role, np.concatenate([p[0] for p in parts]),
                                    np.concatenate([p[1] for p in parts]).reshape(-1, 3), gyro)
        return out


def apply_input(a: LiveAnalyzer, kind: InputKind, t_s: float, key: str, payload: Any) -> tuple[list, list]:
    """Hand one recorded input to an analyser, as live did: ``payload`` is a packet's bytes, an exchange's
    ``(t1_s, t2_us, t3_us, t4_s)``, a link state's ``(state, battery_pct, rssi)``, nothing for a tick or the
    finish. Returns the new events and steps."""
    if kind == InputKind.PACKET:
        return a.on_packet(t_s, key, payload)
    if kind == InputKind.EXCHANGE:
        a.on_time_sync(key, *payload)
    elif kind == InputKind.STATE:
        a.set_state(key, payload[0], battery_pct=payload[1], rssi=payload[2])
    elif kind == InputKind.TICK:
        return a.tick(t_s)
    elif kind == InputKind.FINISH:
        return a.finish()
    return [], []


@dataclass
class ReplayResult:
    """Everything the replay computed. ``events`` in emission order (like the core's ``events_``)."""

    analyzer: Any
    events: list[Event]
    steps: list[Step]
    summary: dict
    data_s: float = 0.0
    wall_s: float = 0.0
    samples: Recording = field(default_factory=dict)  # with ``capture_samples``: what reached the core


class Replay:
    """Feed a session through the analyser.

    Parameters
    ----------
    session : an open :class:`~.store.Session`.
    speed : data seconds per wall-clock second (1.0 = real time); ``None`` = as fast as possible. It may be
        changed while running (pacing restarts from the current position).
    config : detector settings; default the session's own (use another to re-analyse differently).
    on_update : ``(events, steps, analyzer)`` after each input that produced any (like run_live's).
    on_progress : ``(data_time_s)`` about once per second of data.
    capture_samples : keep the decoded, clock-mapped samples that reached the core (for export).
    before_input, after_input : ``(analyzer, input_time_s)`` around every recorded input (on the replay's
        thread). The analyser is a new one at the start and after every seek, so a viewer attaches to it
        here and can publish snapshots between inputs.
    on_analyzer : ``(analyzer)`` whenever a new analyser is built (the start, and after every seek): a listener
        attaches to its core here (``analyzer.core.add_listener``).
    block_s : samples (a recording or an imported session): the length of the blocks handed to the core, s
        of data (default 20 ms when paced, as a radio delivers them; 5 s as fast as possible).
    delivery_rng : samples: draw the block lengths at random (1 ms to 0.5 s) and hold a sensor's block back
        now and then, as a radio's batches arrive (:func:`stridesync.pacing.blocks`); the results must not
        change (the core's chunk invariance, tested).
    """

    def __init__(self, session: Session | None = None, *, recording: Recording | None = None, align: str = "given",
                 speed: float | None = 1.0, config: DetectorConfig | None = None,
                 on_update: Callable[[list[Event], list[Step], Any], None] | None = None,
                 on_progress: Callable[[float], None] | None = None, capture_samples: bool = False,
                 before_input: Callable[[Any, float], None] | None = None,
                 after_input: Callable[[Any, float], None] | None = None,
                 on_analyzer: Callable[[Any], None] | None = None, block_s: float | None = None,
                 delivery_rng: np.random.Generator | None = None):
        self.pacer = Pacer(speed)
        if (session is None) == (recording is None):
            raise ValueError("give a session or a recording")
        if align not in ("auto", "given"):
            raise ValueError(f"align must be 'auto' or 'given', not {align!r}")
        self.session = session
        self.block_s, self.delivery_rng = block_s, delivery_rng
        self.recording_in, self.align = recording, align
        #: samples (an imported session or a recording in memory) rather than recorded live inputs
        self.samples_mode = recording is not None or session.source == "import"
        self.name = str(session.path) if session is not None else "the recording"
        self.config = config or (session.detector_config if session is not None else DetectorConfig())
        self.on_update, self.on_progress = on_update, on_progress
        self.capture_samples = capture_samples
        self.before_input, self.after_input, self.on_analyzer = before_input, after_input, on_analyzer
        self.position_s = 0.0
        if self.samples_mode:
            self._load_samples()
        else:
            self._load_inputs()
        self._times_arr: np.ndarray | None = None
        self.t_start_s = self._times[0] if self._times else 0.0
        self.t_end_s = self._times[-1] if self._times else 0.0

    # ------------------------------------------------------------------ control (any thread)
    @property
    def speed(self) -> float | None:
        """Data seconds per wall second (``None``: as fast as possible); settable while running."""
        return self.pacer.speed

    @speed.setter
    def speed(self, value: float | None) -> None:
        self.pacer.speed = value

    def pause(self) -> None:
        self.pacer.pause()

    def resume(self) -> None:
        self.pacer.resume()

    @property
    def paused(self) -> bool:
        return self.pacer.paused

    def seek(self, t_s: float) -> None:
        """Continue from data time ``t_s`` (restart and fast-forward: deterministic)."""
        self.pacer.seek(t_s)

    def stop(self) -> None:
        self.pacer.stop()

    # ------------------------------------------------------------------ loading
    def _load_inputs(self) -> None:
        c = self.session.columns()
        self._cols = c
        self._times = c["t_s"]
        rates = {s.serial: (s.role, s.rate_hz, bool(s.gyro_range_dps)) for s in self.session.sensors
                 if s.role is not None and s.rate_hz}
        if not rates:
            raise SessionError(f"{self.session.path}: no sensor with a role and a rate; nothing to replay")
        self._rates = rates

    def _load_samples(self) -> None:
        if self.recording_in is not None:
            rec = {r: s for r, s in self.recording_in.items() if len(s) >= 2}
            if not rec:
                raise SessionError("the recording holds no sensor data")
            self._recording = rec
            self._rates = {r: s.sample_rate_hz for r, s in rec.items()}
            self._groups_and_times(rec)
            return
        parts: dict[Role, list[np.ndarray]] = {}
        for role, rows in self.session.sample_blocks():
            parts.setdefault(role, []).append(rows)
        rec: Recording = {}
        for role, stored in parts.items():
            a = np.concatenate(stored)
            gyro = np.ascontiguousarray(a[:, 4:7]) if a.shape[1] >= 7 else None
            rec[role] = RoleSamples(role, np.ascontiguousarray(a[:, 0]), np.ascontiguousarray(a[:, 1:4]), gyro)
        if not rec:
            raise SessionError(f"{self.session.path}: the session holds no samples")
        self._recording = rec
        rates = {s.role: s.rate_hz for s in self.session.sensors if s.role in rec}
        self._rates = {r: (rates.get(r) or rec[r].sample_rate_hz) for r in rec}
        self._groups_and_times(rec)

    def _groups_and_times(self, rec: Recording) -> None:
        block_s = self.block_s or (PACED_BLOCK_S if self.speed is not None else FAST_BLOCK_S)
        self._groups = list(blocks(rec, block_s, rng=self.delivery_rng))
        self._times = [max(float(b[1][-1]) for b in g) for g in self._groups]

    # ------------------------------------------------------------------ running
    def _new_analyzer(self, batch: bool):
        if self.samples_mode:
            m = self._mounting()
            mounting = {r: MountingTracker(r, self._rates[r], has_gyro=s.gyro_dps is not None)
                        for r, s in self._recording.items() if m["align"] == "auto"}
            core = RealtimeCore(self._rates, config=self.config, mounting=mounting,
                                gyro_roles=[r for r, s in self._recording.items() if s.gyro_dps is not None])
            a = SamplesAnalyzer(core)
        else:
            a = LiveAnalyzer(self._rates, config=self.config, batch_samples=FAST_BATCH_SAMPLES if batch else 0,
                             **self._mounting())
        self._capture = None
        if self.capture_samples:
            self._capture = _Capture()
            a.core.add_listener(self._capture)
        if self.on_analyzer is not None:
            self.on_analyzer(a)
        return a

    def _mounting(self) -> dict:
        """How live treated the sensors' mounting (session meta ``mounting``; sessions before it: as given)."""
        if self.session is None:
            return {"align": self.align, "pinned": ()}
        m = self.session.meta.get("mounting")
        if not isinstance(m, dict) or m.get("align") not in ("auto", "given"):
            return {"align": "given", "pinned": ()}
        return {"align": m["align"], "pinned": tuple(str(k) for k in m.get("pinned") or ())}

    def _apply(self, a, i: int) -> tuple[list, list]:
        if self.samples_mode:
            a.now_s = self._times[i]
            return a.core.push_many(self._groups[i])
        c = self._cols
        kind = c["kind"][i]
        if kind == InputKind.PACKET:
            return a.on_packet(c["t_s"][i], c["sensor"][i], c["data"][i])
        if kind == InputKind.EXCHANGE:
            payload = (c["t1_s"][i], c["t2_us"][i], c["t3_us"][i], c["t4_s"][i])
        elif kind == InputKind.STATE:
            payload = (c["state"][i], c["battery_pct"][i], c["rssi"][i])
        else:
            payload = None
            self._finished = self._finished or kind == InputKind.FINISH
        return apply_input(a, kind, c["t_s"][i], c["sensor"][i], payload)

    def _apply_hooked(self, a, i: int) -> tuple[list, list]:
        t = self._times[i]
        if self.before_input is not None:
            self.before_input(a, t)
        out = self._apply(a, i)
        if self.after_input is not None:
            self.after_input(a, t)
        return out

    def run(self) -> ReplayResult:
        """Replay to the end (or until :meth:`stop`); returns the results. Blocks the calling thread."""
        if self.speed is None and not self.samples_mode and not (self.before_input or self.after_input):
            return self._run_bulk()
        wall_start = time.monotonic()
        n = len(self._times)
        fast = self.speed is None
        a = self._new_analyzer(batch=fast)
        self._finished = False
        i = 0
        next_progress = self.t_start_s
        apply = self._apply_hooked if (self.before_input or self.after_input) else self._apply
        times, on_update, pacer = self._times, self.on_update, self.pacer
        pacer.anchor(self.t_start_s)
        while i < n and not pacer.stopped:
            target = pacer.take_seek()
            if target is not None:
                a = self._new_analyzer(batch=fast)
                self._finished = False
                i = 0
                if not self.samples_mode:  # everything before the target in bulk: same state
                    i = self._bulk_forward(a, target)
                while i < n and times[i] < target:
                    apply(a, i)
                    i += 1
                pacer.anchor(target)
                continue
            t = times[i]
            if not pacer.wait(t):  # stopped, or a seek to handle first
                continue
            ev, st = apply(a, i)
            self.position_s = t
            if on_update is not None and (ev or st):
                on_update(ev, st, a)
            if self.on_progress is not None and t >= next_progress:
                next_progress = t + 1.0
                self.on_progress(t)
            i += 1
        if not self._finished and not pacer.stopped:  # a recording cut short (crash): end as live would have
            ev, st = a.finish() if not self.samples_mode else a.core.finish()
            if on_update is not None and (ev or st):
                on_update(ev, st, a)
        elif self.samples_mode and not pacer.stopped:
            ev, st = a.core.finish()
            if on_update is not None and (ev or st):
                on_update(ev, st, a)
        return self._result(a, wall_start)

    def _bulk_forward(self, a: Any, target: float) -> int:
        """Feed a fresh analyser every input before the first one at or after ``target`` through the bulk
        path (:mod:`stridesync.live_bulk`: the analyser ends in the state the per-input path would leave);
        the hooks see the new analyser once, then once per chunk. Returns the index of the next input."""
        if self._times_arr is None:
            self._times_arr = np.asarray(self._times, dtype=np.float64)
        at = np.flatnonzero(self._times_arr >= target)
        k = int(at[0]) if len(at) else len(self._times)
        if k == 0:
            return 0
        if self.before_input is not None:
            self.before_input(a, self._times[0])
        after = self.after_input

        def on_chunk(ev: list[Event], st: list[Step], t: float) -> None:
            if after is not None:
                after(a, t)

        cols = {key: col[:k] for key, col in self._cols.items()}
        self._finished = feed_recorded(a, cols, on_chunk=on_chunk, should_stop=lambda: self.pacer.stopped)
        return k

    def _run_bulk(self) -> ReplayResult:
        """As fast as possible, no per-input hooks: the analyser's bulk path (same results, see
        :mod:`stridesync.live_bulk`)."""
        wall_start = time.monotonic()
        a = LiveAnalyzer(self._rates, config=self.config, **self._mounting())
        self._capture = None
        if self.capture_samples:
            self._capture = _Capture()
            a.core.add_listener(self._capture)
        if self.on_analyzer is not None:
            self.on_analyzer(a)
        on_update, on_progress = self.on_update, self.on_progress

        def on_chunk(ev: list[Event], st: list[Step], t: float) -> None:
            self.position_s = t
            if on_update is not None and (ev or st):
                on_update(ev, st, a)
            if on_progress is not None:
                on_progress(t)

        finished = feed_recorded(a, self._cols, on_chunk=on_chunk, should_stop=lambda: self.pacer.stopped)
        if not finished and not self.pacer.stopped:  # a recording cut short (crash): end as live would have
            ev, st = a.finish()
            if on_update is not None and (ev or st):
                on_update(ev, st, a)
        return self._result(a, wall_start)

    def _result(self, a: Any, wall_start: float) -> ReplayResult:
        core = a.core
        samples: Recording = self._capture.recording() if self._capture is not None else {}
        return ReplayResult(a, list(core.events_), list(core.steps_), core.summary(),
                            data_s=self.t_end_s - self.t_start_s, wall_s=time.monotonic() - wall_start, samples=samples)


def replay(session: Session, *, speed: float | None = None, config: DetectorConfig | None = None,
           **kw: Any) -> ReplayResult:
    """Replay ``session`` (as fast as possible by default) and return what was computed."""
    return Replay(session, speed=speed, config=config, **kw).run()


def session_recording(session: Session, *, on_progress: Callable[[float], None] | None = None) -> Recording:
    """The samples of a session on the session clock: stored ones (import), or the decoded, clock-mapped
    samples that reached the core when the packets are replayed (live)."""
    r = Replay(session, speed=None, capture_samples=True, on_progress=on_progress)
    if session.source == "import":
        return dict(r._recording)
    return r.run().samples


class ReplaySource:
    """``replay:run.stridesync[,speed=S]``: a recorded session through the analyser, as live saw it (as fast as
    possible unless ``speed`` is given), as a named source (:mod:`stridesync.sources`)."""

    recordable = False

    def __init__(self, spec):
        from ..errors import InputFormatError

        spec.check_keys({"speed"})
        if not spec.target:
            raise InputFormatError(f"source {spec.text!r}: replay needs a session file (replay:run.stridesync)")
        self.spec = spec
        self.path = spec.target
        self.speed = spec.number("speed", None)
        if self.speed is not None and not self.speed > 0:
            raise InputFormatError(f"source {spec.text!r}: speed must be positive")

    async def run(self, opts):
        @contextmanager
        def opened(hooks):
            with Session.open(self.path) as session:  # opened on the replay's thread (SQLite connections are)
                yield Replay(session, speed=self.speed, **hooks)

        return await run_source_replay(opened, opts)


async def run_source_replay(opened: Callable[[dict], Any], opts) -> Any:
    """Run a :class:`Replay` as a named source, on a worker thread. ``opened(hooks)`` is a context manager
    that builds it there with the given keyword hooks (``on_update``; ``on_analyzer`` = ``opts.on_start``);
    ``opts.stop`` stops it. Returns the live runner's :class:`~stridesync.live.LiveResult`."""
    import asyncio

    from ..live import LiveResult

    loop = asyncio.get_running_loop()
    hooks = {"on_update": opts.on_update, "on_analyzer": opts.on_start}

    def work():
        with opened(hooks) as r:
            if opts.stop is not None:
                asyncio.run_coroutine_threadsafe(_stop_when(opts.stop, r), loop)
            return r.run()

    t0 = time.monotonic()
    res = await asyncio.to_thread(work)
    return LiveResult(res.analyzer, wall_s=time.monotonic() - t0)


async def _stop_when(event, replay: "Replay") -> None:
    await event.wait()
    replay.stop()
