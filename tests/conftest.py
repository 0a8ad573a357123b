"""Shared fixtures: simulated sessions (cached per parameter set) and the real-time feed helper."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from stridesync.core.config import DetectorConfig
from stridesync.core.realtime import RealtimeCore
from stridesync.model import Recording
from stridesync.pipeline import run_realtime
from stridesync.sim import SimParams, simulate


@functools.lru_cache(maxsize=32)
def sim_cached(seed: int = 0, rate_hz: float | None = None, **kw):
    """A simulated session, cached: tests share the expensive ones. ``rate_hz`` sets every sensor's rate."""
    if rate_hz is not None:
        from stridesync.model import Role
        kw["sample_rate_hz"] = {r: rate_hz for r in Role}
    return simulate(SimParams(**kw), seed=seed)


def feed(recording: Recording, chunks: float = 0.02, config: DetectorConfig | None = None,
         rng: np.random.Generator | None = None) -> RealtimeCore:
    """Feed a recording to a new core through the replay engine (as ``analyze`` does): ``chunks`` is a block
    length in s, or with ``rng`` the deliveries are irregular (blocks of 1 ms to 0.5 s, a sensor's block held
    back now and then: :func:`stridesync.pacing.blocks`)."""
    return run_realtime(recording, config=config, block_s=chunks, rng=rng)[1]


def event_key(e):
    return (e.role.value, e.kind.value, e.time_s, e.amplitude, e.stride_index, e.source)


def sorted_events(events):
    return sorted(events, key=lambda e: (e.time_s, e.role.value, e.kind.value))


@pytest.fixture
def default_sim():
    return sim_cached(seed=3, duration_s=40.0)
