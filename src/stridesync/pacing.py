"""The one pacer, and how samples are cut for delivery: for every source that plays data back.

A replayed session, a samples CSV, an imported session and the synthetic inputs of the tests all hand their
inputs over at data time ``t`` once ``(t − t_anchor) / speed`` wall seconds have passed since the anchor, or
at once when ``speed`` is ``None`` (as fast as possible). :meth:`Pacer.pause`, :meth:`Pacer.resume`,
:meth:`Pacer.seek`, :meth:`Pacer.stop` and the :attr:`Pacer.speed` setter may be called from any thread
(a dashboard's); a wait naps at most 50 ms at a time, so each takes effect within that.

The pacer does not move data: the engine that owns it (:class:`stridesync.session.replay.Replay`,
:func:`stridesync.session.synth.feed`) asks :meth:`Pacer.wait` before each input, and acts on a pending seek
(:meth:`Pacer.take_seek`) or a stop when the wait says no.

:func:`blocks` cuts a recording into the blocks a radio would deliver, in time order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np

from .model import Recording, Role

__all__ = ["Pacer", "blocks"]

#: longest nap while waiting (s): pause, seek, stop and speed changes take effect within it
NAP_S = 0.05


class Pacer:
    """Real time × ``speed`` (``None``: as fast as possible), with pause, resume, seek and stop."""

    def __init__(self, speed: float | None = None):
        self._check(speed)
        self._speed = speed
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._running.set()
        self._stopped = False
        self._seek_to: float | None = None
        self._anchor: tuple[float, float] | None = None  # (data time, wall time) that correspond

    @staticmethod
    def _check(speed: float | None) -> None:
        if speed is not None and not speed > 0:
            raise ValueError("speed must be positive (or None for as fast as possible)")

    # ------------------------------------------------------------------ control (any thread)
    @property
    def speed(self) -> float | None:
        """Data seconds per wall second; ``None`` is as fast as possible. Setting it re-anchors at the next input."""
        return self._speed

    @speed.setter
    def speed(self, value: float | None) -> None:
        self._check(value)
        with self._lock:
            if value != self._speed:
                self._speed, self._anchor = value, None

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def stop(self) -> None:
        self._stopped = True
        self._running.set()

    @property
    def stopped(self) -> bool:
        return self._stopped

    def seek(self, t_s: float) -> None:
        """Ask the engine to continue from data time ``t_s`` (it calls :meth:`take_seek`)."""
        with self._lock:
            self._seek_to = float(t_s)

    def take_seek(self) -> float | None:
        """The pending seek target (cleared), or ``None``."""
        with self._lock:
            target, self._seek_to = self._seek_to, None
        return target

    # ------------------------------------------------------------------ the engine's side
    def anchor(self, t_s: float) -> None:
        """Data time ``t_s`` is due now (the start, and after a seek)."""
        with self._lock:
            self._anchor = (float(t_s), time.monotonic())

    def delay(self, t_s: float) -> float:
        """Wall seconds until data time ``t_s`` is due (≤ 0: due now). The first call anchors at ``t_s``."""
        with self._lock:
            if self._speed is None:
                return 0.0
            if self._anchor is None:
                self._anchor = (float(t_s), time.monotonic())
            t0, wall0 = self._anchor
            return (t_s - t0) / self._speed - (time.monotonic() - wall0)

    def _hold(self) -> None:
        paused_at = time.monotonic()
        self._running.wait()
        with self._lock:  # the pause does not count as played time
            if self._anchor is not None:
                self._anchor = (self._anchor[0], self._anchor[1] + time.monotonic() - paused_at)

    def wait(self, t_s: float) -> bool:
        """Block until data time ``t_s`` is due. ``False`` (at once) when stopped or a seek is pending: the
        engine handles that and asks again."""
        while True:
            if self._stopped or self._seek_to is not None:
                return False
            if not self._running.is_set():
                self._hold()
                continue
            d = self.delay(t_s)
            if d <= 0:
                return True
            time.sleep(min(d, NAP_S))


def blocks(recording: Recording, block_s: float, *, rng: np.random.Generator | None = None
           ) -> Iterator[list[tuple[Role, np.ndarray, np.ndarray, np.ndarray | None]]]:
    """Yield, for each ``block_s`` of session time in order, the ``(role, time_s, acc_g, gyro_dps)`` blocks that
    fall in it.

    With ``rng``, deliveries are irregular, as a radio's batches arrive: each block spans 1 ms to 0.5 s (drawn),
    and a sensor's block is held back with probability 0.3 (it arrives merged with its next one). The core's
    results do not depend on this (its chunk invariance, tested with it).
    """
    if not recording:
        return
    t_end = max(float(s.time_s[-1]) for s in recording.values() if len(s))
    edge = min(float(s.time_s[0]) for s in recording.values() if len(s))
    t_start = edge
    pos = {r: 0 for r in recording}
    k = 0
    while True:
        k += 1
        if rng is None:
            edge = t_start + k * block_s  # no accumulated rounding: block k ends at exactly t0 + k·block_s
        else:
            edge += float(rng.uniform(0.001, 0.5))
        group = []
        for role, s in recording.items():
            j = int(np.searchsorted(s.time_s, edge, side="left")) if edge <= t_end else len(s)
            if rng is not None and edge <= t_end and rng.random() < 0.3:
                continue  # this sensor's block arrives later, merged with the next
            if j > pos[role]:
                group.append((role, s.time_s[pos[role]:j], s.acc_g[pos[role]:j],
                              None if s.gyro_dps is None else s.gyro_dps[pos[role]:j]))
                pos[role] = j
        if group:
            yield group
        if edge > t_end:
            return
