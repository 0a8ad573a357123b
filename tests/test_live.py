"""End to end through the real bleak API: virtual sensors on a bumble radio, the product's BLE client,
the live consumer and the real-time core. These run in real time (a few tens of seconds in all)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stridesync.core.reference import analyze
from stridesync.evaluate import clock_alignment_errors_ms, compare
from stridesync.live import LiveAnalyzer
from stridesync.live_run import LiveOptions, run_live
from stridesync.model import EventKind, Role
from stridesync.sim import SimParams
from stridesync.sources.ble import LinkSettings
from stridesync.sources.virtual import LinkModel


def run(opts: LiveOptions):
    return asyncio.run(run_live(opts))


def truth_between(sim, t0: float, t1: float):
    truth = analyze(sim.clean)
    return [e for e in truth.events if t0 <= e.time_s <= t1], [s for s in truth.steps if t0 <= s.time_s <= t1]


def test_four_sensors_stream_and_steps_match_the_truth():
    links = {r: LinkModel(interval_s=iv, jitter_s=0.005, loss=0.0, seed=k)
             for k, (r, iv) in enumerate(zip(Role, (0.0075, 0.015, 0.03, 0.05)))}
    res = run(LiveOptions(seconds=14.0, links=links, sim_params=SimParams(duration_s=40.0, standing_start_s=1.0,
                                                                           swing_lag_ms=30.0)))
    a = res.analyzer
    # a clean shutdown stops every stream before disconnecting
    assert all(not s.config.streaming and s.stop_commands >= 1 for s in res.fleet.sensors.values())
    health = {h.role: h for h in a.health()}
    assert set(health) == set(Role)
    for h in health.values():
        assert h.packets > 50 and h.loss_pct == 0.0 and h.malformed == 0
        assert h.rate_hz == pytest.approx(200.0, rel=0.02)
        assert h.clock_residual_ms is not None and h.clock_residual_ms < 5.0
    events = a.core.events_
    steps = a.core.steps_
    assert len(steps) > 15
    lo = min(e.time_s for e in events) + 1.0
    hi = max(e.time_s for e in events) - 1.0
    t_events, t_steps = truth_between(res.sim, lo, hi)
    mine = [e for e in events if lo <= e.time_s <= hi]
    c = compare(t_events, mine, t_steps, [s for s in steps if lo <= s.time_s <= hi])
    assert c.recall >= 0.97 and c.precision >= 0.97, (c.recall, c.precision)
    shin = np.abs(c.all_errors((EventKind.CONTACT, EventKind.PUSH, EventKind.SWING)))
    arm = np.abs(c.all_errors((EventKind.ARM_FWD, EventKind.ARM_BACK)))
    # the clock map carries the link's minimum latency (common to all sensors) and its residual
    assert np.median(shin) <= 5.0 and np.median(arm) <= 8.0, (np.median(shin), np.median(arm))
    assert np.median(np.abs(c.lag_errors_ms)) <= 5.0


def test_dropout_is_marked_without_false_events_and_recovers():
    drop_at, drop_s = 7.0, 5.0
    links = {r: LinkModel(interval_s=0.03, seed=k) for k, r in enumerate(Role)}
    links[Role.RIGHT_SHIN] = LinkModel(interval_s=0.03, drops=((drop_at, drop_s),), seed=9)
    res = run(LiveOptions(seconds=18.0, links=links, sim_params=SimParams(duration_s=45.0, standing_start_s=1.0)))
    a = res.analyzer
    key = res.fleet.sensors[Role.RIGHT_SHIN].serial
    arrivals = np.array(a.arrival_log[key])
    back = drop_at + drop_s
    resumed = arrivals[arrivals > back]
    assert len(resumed) > 20, "the sensor never came back"
    assert resumed[0] - back < 2.0, f"streaming again {resumed[0] - back:.2f} s after returning"
    silent = arrivals[(arrivals > drop_at + 0.2) & (arrivals < back)]
    assert len(silent) == 0
    states = [s for t, k, s in a.state_log if k == key]
    assert "reconnecting" in states and states[-1] in ("streaming", "stopped")
    h = {x.role: x for x in a.health()}[Role.RIGHT_SHIN]
    assert h.reconnects >= 1
    # no event of that leg inside the gap, and no stride spans it
    rs = [e for e in a.core.events_ if e.role is Role.RIGHT_SHIN]
    assert not [e for e in rs if drop_at + 0.1 < e.time_s < back]
    assert [e for e in rs if e.time_s > back + 1.0], "no events after the sensor returned"
    # the other leg kept its events during the gap
    ls = [e for e in a.core.events_ if e.role is Role.LEFT_SHIN and e.kind is EventKind.CONTACT]
    assert len([e for e in ls if drop_at + 1 < e.time_s < back - 1]) >= 4


def test_stall_watchdog_resubscribes_a_silent_stream():
    seen = {}

    async def main():
        async def staller():
            while "fleet" not in seen:
                await asyncio.sleep(0.1)
            fleet = seen["fleet"]
            while fleet.clock() < 6.0:
                await asyncio.sleep(0.1)
            fleet.sensors[Role.LEFT_WRIST].stall()
            seen["stalled_at"] = fleet.clock()

        task = asyncio.create_task(staller())
        res = await run_live(LiveOptions(seconds=12.0, sim_params=SimParams(duration_s=40.0, standing_start_s=1.0),
                                         on_fleet=lambda f: seen.setdefault("fleet", f)))
        await task
        return res

    res = asyncio.run(main())
    a = res.analyzer
    key = seen["fleet"].sensors[Role.LEFT_WRIST].serial
    t_stall = seen["stalled_at"]
    arr = np.array(a.arrival_log[key])
    after = arr[arr > t_stall + 0.2]
    assert len(after) > 10, "the stalled stream never resumed"
    assert after[0] - t_stall < 3.0, after[0] - t_stall
    states = [s for t, k, s in a.state_log if k == key]
    assert "stalled" in states and states[-1] in ("streaming", "stopped")
    assert {h.role: h for h in a.health()}[Role.LEFT_WRIST].stalls == 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_malformed_packets_are_counted_never_raised(data):
    a = LiveAnalyzer({"SS000001": (Role.LEFT_SHIN, 200.0)})
    a.on_packet(1.0, "SS000001", data)
    a.on_packet(1.1, "unknown", data)
    h = a.health()[0]
    assert h.malformed + h.packets == 1


def test_clock_sync_target_under_the_link_model():
    """±100 ppm clocks, 7.5–50 ms intervals, up to 20 ms extra delay, 2 % loss: sensors stay aligned."""
    drift = dict(zip(Role, (100.0, -100.0, 40.0, -60.0)))
    offset = dict(zip(Role, (12.3, 407.9, 3.1, 77.0)))
    links = {r: LinkModel(interval_s=iv, jitter_s=0.02, loss=0.02, seed=k)
             for k, (r, iv) in enumerate(zip(Role, (0.05, 0.0075, 0.03, 0.015)))}
    # past the end of the client's TIME_SYNC burst (10 s here, 30 s by default) and 15 s into its steady rate
    res = run(LiveOptions(seconds=25.0, links=links, link_settings=LinkSettings(time_sync_burst_s=10.0),
                          sim_params=SimParams(duration_s=50.0, standing_start_s=1.0, clock_drift_ppm=drift,
                                               clock_offset_s=offset)))
    err = clock_alignment_errors_ms(res.sim, res.analyzer)
    naive = clock_alignment_errors_ms(res.sim, res.analyzer, naive=True)
    assert len(err) > 100
    print(f"inter-sensor clock error p95 {np.percentile(err, 95):.2f} ms, max {err.max():.2f} ms ({len(err)} instants)")
    assert np.percentile(err, 95) <= 1.0 and err.max() <= 2.0, (np.percentile(err, 95), err.max())
    assert np.percentile(naive, 95) > 10.0  # without the clock map, batching and offsets would dominate
    loss = [h.loss_pct for h in res.analyzer.health()]
    assert 0.5 < np.mean(loss) < 4.0
