"""Opt-in tests against real sensors: ``STRIDESYNC_ROSTER=roster.json pytest -m hardware``.

They need a Bluetooth adapter and the roster's sensors switched on nearby; without the roster they skip.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from stridesync.live_run import LiveOptions, run_live
from stridesync.roster import Roster

pytestmark = pytest.mark.hardware


@pytest.fixture
def roster() -> Roster:
    path = os.environ.get("STRIDESYNC_ROSTER")
    if not path:
        pytest.skip("real sensors: set STRIDESYNC_ROSTER to a roster JSON of sensors in range")
    return Roster.load(path)


def test_real_sensors_stream_for_20_s(roster):
    res = asyncio.run(run_live(LiveOptions(seconds=20.0, source="ble:", roster=roster)))
    health = res.analyzer.health()
    assert len(health) == len(roster.sensors)
    for h in health:
        assert h.packets > 50, f"{h.role.value}: only {h.packets} packets"
        assert h.rate_hz and abs(h.rate_hz - 200.0) < 10.0
        assert h.malformed == 0
