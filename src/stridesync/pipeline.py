"""Run a whole recording through the real-time core, block by block, as a live source would.

Live runs, replays and offline files take this same path (STYLE.md §1): samples in time order, per sensor, in
blocks, into :class:`~stridesync.core.realtime.RealtimeCore`, through the one replay engine
(:class:`stridesync.session.replay.Replay`) as fast as possible. :func:`blocks` (how samples are cut for
delivery) lives in :mod:`stridesync.pacing`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .core.config import DetectorConfig
from .core.realtime import RealtimeCore
from .model import AnalysisResult, Recording
from .pacing import blocks

__all__ = ["blocks", "run_realtime"]


def run_realtime(recording: Recording, *, config: DetectorConfig | None = None, block_s: float = 0.02,
                 on_progress: Callable[[float], None] | None = None, rng: np.random.Generator | None = None
                 ) -> tuple[AnalysisResult, RealtimeCore]:
    """Feed a recording to a fresh real-time core (its mounting as given), as fast as possible.

    Parameters
    ----------
    block_s : block length in seconds of data (20 ms is a typical BLE notification batch).
    on_progress : called with the data time about once per second of data.
    rng : irregular deliveries instead of ``block_s`` blocks (:func:`stridesync.pacing.blocks`).
    """
    from .session.replay import Replay

    res = Replay(recording=recording, align="given", speed=None, config=config, block_s=block_s,
                 delivery_rng=rng, on_progress=on_progress).run()
    events = sorted(res.events, key=lambda e: e.order)
    return AnalysisResult(events, list(res.steps), res.summary), res.analyzer.core
