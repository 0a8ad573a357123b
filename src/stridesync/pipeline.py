"""Run a whole recording through the real-time core, block by block, as a live source would.

Live runs, replays and offline files take this same path (STYLE.md §1): samples in time order,
per sensor, in blocks, into :class:`~stridesync.core.realtime.RealtimeCore`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .core.config import DetectorConfig
from .core.realtime import RealtimeCore
from .model import AnalysisResult, Event, Recording, Role, Step


def blocks(recording: Recording, block_s: float) -> Iterator[list[tuple[Role, np.ndarray, np.ndarray]]]:
    """Yield, for each ``block_s`` of session time in order, the ``(role, time_s, acc_g)`` blocks that fall in it."""
    if not recording:
        return
    t_end = max(float(s.time_s[-1]) for s in recording.values() if len(s))
    t_start = min(float(s.time_s[0]) for s in recording.values() if len(s))
    pos = {r: 0 for r in recording}
    k = 0
    while True:
        k += 1
        edge = t_start + k * block_s
        group = []
        for role, s in recording.items():
            j = int(np.searchsorted(s.time_s, edge, side="left")) if edge <= t_end else len(s)
            if j > pos[role]:
                group.append((role, s.time_s[pos[role]:j], s.acc_g[pos[role]:j],
                              None if s.gyro_dps is None else s.gyro_dps[pos[role]:j]))
                pos[role] = j
        if group:
            yield group
        if edge > t_end:
            return


def run_realtime(recording: Recording, *, config: DetectorConfig | None = None, block_s: float = 0.02,
                 sample_rates_hz: dict[Role, float] | None = None,
                 on_block: Callable[[float, list[Event], list[Step]], None] | None = None
                 ) -> tuple[AnalysisResult, RealtimeCore]:
    """Feed a recording to a fresh real-time core.

    Parameters
    ----------
    block_s : block length in seconds of data (20 ms is a typical BLE notification batch).
    on_block : called after each block with (data time, new events, new steps).
    """
    rates = dict(sample_rates_hz or {r: s.sample_rate_hz for r, s in recording.items() if len(s) >= 2})
    core = RealtimeCore(rates, config=config, gyro_roles=[r for r, s in recording.items() if s.gyro_dps is not None])
    for group in blocks({r: s for r, s in recording.items() if r in rates}, block_s):
        t_last = max(float(b[1][-1]) for b in group)
        ev, st = core.push_many(group)
        if on_block is not None:
            on_block(t_last, ev, st)
    ev, st = core.finish()
    if on_block is not None and (ev or st):
        on_block(float("inf"), ev, st)
    events = sorted(core.events_, key=lambda e: (e.time_s, e.role.value, e.kind.value))
    return AnalysisResult(events, list(core.steps_), core.summary()), core
