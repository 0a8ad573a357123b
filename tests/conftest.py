"""Shared fixtures: simulated sessions (cached per parameter set) and the real-time feed helper."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from stridesync.core.config import DetectorConfig
from stridesync.core.realtime import RealtimeCore
from stridesync.model import Recording
from stridesync.sim import SimParams, simulate


@functools.lru_cache(maxsize=32)
def sim_cached(seed: int = 0, rate_hz: float | None = None, **kw):
    """A simulated session, cached: tests share the expensive ones. ``rate_hz`` sets every sensor's rate."""
    if rate_hz is not None:
        from stridesync.model import Role
        kw["sample_rate_hz"] = {r: rate_hz for r in Role}
    return simulate(SimParams(**kw), seed=seed)


def feed(recording: Recording, chunks: dict | float = 0.02, config: DetectorConfig | None = None,
         rng: np.random.Generator | None = None) -> RealtimeCore:
    """Feed a recording to a new core in time order; ``chunks`` is a block length in s, or with
    ``rng`` the block lengths are drawn at random (1 sample up to 1 s) per role."""
    core = RealtimeCore({r: s.sample_rate_hz for r, s in recording.items()}, config=config,
                        gyro_roles=[r for r, s in recording.items() if s.gyro_dps is not None])
    pos = {r: 0 for r in recording}
    t_end = max(s.time_s[-1] for s in recording.values())
    edge = min(s.time_s[0] for s in recording.values())
    while any(pos[r] < len(s) for r, s in recording.items()):
        edge += chunks if rng is None else float(rng.uniform(0.001, 0.5))
        for r, s in recording.items():
            j = len(s) if edge > t_end else int(np.searchsorted(s.time_s, edge))
            if rng is not None and rng.random() < 0.3 and edge <= t_end:
                continue  # this sensor's block arrives later, merged with the next
            if j > pos[r]:
                core.push(r, s.time_s[pos[r]:j], s.acc_g[pos[r]:j],
                          None if s.gyro_dps is None else s.gyro_dps[pos[r]:j])
                pos[r] = j
    core.finish()
    return core


def event_key(e):
    return (e.role.value, e.kind.value, e.time_s, e.amplitude, e.stride_index, e.source)


def sorted_events(events):
    return sorted(events, key=lambda e: (e.time_s, e.role.value, e.kind.value))


@pytest.fixture
def default_sim():
    return sim_cached(seed=3, duration_s=40.0)
