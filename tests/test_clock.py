"""Clock alignment: a simulated BLE link (``simulate_arrivals``) through the real ``ClockSync``.

The acceptance figure is the inter-sensor alignment error: for one true instant, the difference
between two sensors' estimated session times minus the true difference (zero), over all pairs.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stridesync.clock import ClockModel, ClockSync, ClockSyncConfig, simulate_arrivals
from stridesync.errors import ConfigError

# four sensors: (sample period µs, samples per packet, connection interval s). Three of them
# are (nearly) phase-locked: 50 ms packets on a 50 ms interval, 60 ms on 30 ms, 40 ms on 15 ms.
LINKS = [(5000, 20, 0.0075), (5000, 8, 0.015), (10000, 6, 0.030), (5000, 10, 0.050)]


def feed(sim: dict, cs: ClockSync | None = None, stop_s: float = np.inf):
    """Feed packets and exchanges in arrival order; return the estimator and its model history
    (arrival time of the observation after which each model became current)."""
    cs = cs or ClockSync()
    ta, te = sim["arrival_s"], sim["t4_s"]
    times = np.concatenate([ta, te])
    kind = np.concatenate([np.zeros(len(ta), int), np.ones(len(te), int)])
    idx = np.concatenate([np.arange(len(ta)), np.arange(len(te))])
    order = np.argsort(times, kind="stable")
    su = sim["sensor_t_last_us"].tolist()
    ar = ta.tolist()
    ex = list(zip(sim["t1_s"].tolist(), sim["t2_us"].tolist(), sim["t3_us"].tolist(), te.tolist()))
    hist_t, hist_m = [], []
    last = None
    for o in order.tolist():
        t = float(times[o])
        if t >= stop_s:
            break
        i = int(idx[o])
        if kind[o] == 0:
            cs.add_packet(su[i], ar[i])
        else:
            cs.add_exchange(*ex[i])
        m = cs.model
        if m is not last and m is not None:
            hist_t.append(t)
            hist_m.append(m)
            last = m
    return cs, np.array(hist_t), hist_m


def errors(sim: dict, hist_t: np.ndarray, hist_m: list[ClockModel], grid: np.ndarray) -> np.ndarray:
    """Estimated minus true session time of the sensor instant taken at each true instant of
    ``grid``, with the model current at that instant (nan before the first model)."""
    k = np.searchsorted(hist_t, grid, side="right") - 1
    ref = np.array([m.ref_sensor_us for m in hist_m], dtype=np.int64)
    off = np.array([m.offset_s for m in hist_m])
    dr = np.array([m.drift for m in hist_m])
    kk = np.maximum(k, 0)
    sensor_us = (grid - sim["offset_s"]) / (1.0 + sim["drift"]) * 1e6
    dx = (sensor_us - ref[kk]) * 1e-6
    est = off[kk] + dx + dr[kk] * dx
    return np.where(k >= 0, est - grid, np.nan)


@functools.lru_cache(maxsize=4)
def session(seed: int, duration_s: float = 3600.0, exchanges: bool = True):
    """A 4-sensor session: per-sensor errors on a 1 s grid, and the estimators."""
    rng = np.random.default_rng(seed)
    grid = np.arange(0.0, duration_s, 1.0)
    errs, syncs = [], []
    for period_us, n, conn in LINKS:
        sim = simulate_arrivals(
            duration_s, offset_s=-rng.uniform(10, 5000), drift_ppm=rng.uniform(-100, 100),
            period_us=period_us, samples_per_packet=n, conn_interval_s=conn, jitter="exp",
            loss=0.02, exchange_rate_hz=4.0 if exchanges else 0.0,
            exchange_burst=(10.0, 30.0) if exchanges else (0.0, 0.0), rng=rng)
        cs, ht, hm = feed(sim)
        errs.append(errors(sim, ht, hm, grid))
        syncs.append(cs)
    return grid, np.array(errs), syncs


def alignment(errs: np.ndarray) -> np.ndarray:
    """Worst pair at each instant: max − min over sensors of the estimation error."""
    return np.max(errs, axis=0) - np.min(errs, axis=0)


@pytest.mark.parametrize("seed", [1])
def test_target_60_minutes_four_sensors(seed):
    grid, errs, syncs = session(seed)
    al = alignment(errs)[grid >= 10.0]
    assert not np.isnan(al).any()
    assert np.percentile(al, 95) <= 1e-3
    assert al.max() <= 2e-3
    # absolute error vs the host clock: the host's minimum latency (1 ms in the simulator) less
    # the sensor's receive stamping delay (0.3 ms), the same for every sensor
    ab = errs[:, grid >= 10.0]
    assert np.all(np.abs(np.median(ab, axis=1) - 0.7e-3) < 0.3e-3)
    for cs in syncs:
        assert cs.n_resets == 0 and cs.conn_interval_s is not None
        assert 0 < cs.model.uncertainty_s < 0.01


@pytest.mark.parametrize("seed", range(6))
def test_target_in_the_first_minute_over_seeds(seed):
    """The hardest stretch is just after the first 10 s, before a window of data pins the floor: one
    seed's hour hides it, so check several short sessions (with the client's TIME_SYNC schedule)."""
    grid, errs, _ = session(seed, 60.0)
    al = alignment(errs)[grid >= 10.0]
    assert np.percentile(al, 95) <= 1e-3 and al.max() <= 2e-3, (np.percentile(al, 95), al.max())


def test_converges_within_10_s():
    grid, errs, _ = session(1)
    sel = (grid >= 3.0) & (grid < 10.0)
    assert not np.isnan(errs[:, grid >= 3.0]).any()  # a model from 3 s on
    al = alignment(errs)
    assert al[grid == 10.0][0] <= 1e-3
    assert np.nanmax(al[sel]) <= 2e-3


def test_drift_tracking_within_a_few_ppm():
    rng = np.random.default_rng(7)
    for drift_ppm in (-100.0, -37.0, 0.0, 55.0, 100.0):
        sim = simulate_arrivals(300.0, drift_ppm=drift_ppm, samples_per_packet=10, conn_interval_s=0.0225,
                                exchange_rate_hz=2.0, rng=rng)
        cs, _, _ = feed(sim)
        assert abs(cs.model.drift * 1e6 - drift_ppm) < 3.0


def test_phase_lock_needs_the_exchanges():
    """50 ms packets on a 50 ms interval wait the same time at every connection event: the packet
    floor alone is off by that wait; the exchange responses (which wait for no event) fix it."""
    grid = np.arange(0.0, 300.0, 1.0)
    out = {}
    for rate in (0.0, 2.0):
        sim = simulate_arrivals(300.0, drift_ppm=3.0, samples_per_packet=10, conn_interval_s=0.05,
                                exchange_rate_hz=rate, rng=np.random.default_rng(3))
        cs, ht, hm = feed(sim)
        e = errors(sim, ht, hm, grid)[grid >= 30.0]
        out[rate] = np.abs(e - 0.7e-3).max()
    assert out[2.0] < 0.5e-3
    assert out[0.0] > 2e-3  # documents the limitation of a stream-only estimate


@pytest.mark.parametrize("conn_s", [0.0075, 0.015, 0.03, 0.04875, 0.05])
def test_identifies_the_connection_interval(conn_s):
    sim = simulate_arrivals(30.0, conn_interval_s=conn_s, exchange_rate_hz=2.0, drift_ppm=-80.0,
                            rng=np.random.default_rng(11))
    cs, _, _ = feed(sim)
    assert cs.conn_interval_s == pytest.approx(conn_s)


def test_link_drop_and_reconnect():
    """5 s without packets mid-session; the new connection has a new event phase."""
    grid = np.arange(0.0, 240.0, 0.5)
    rng = np.random.default_rng(5)
    errs = []
    for period_us, n, conn in LINKS[:2]:
        drops = ((120.0, 5.0),) if conn == 0.0075 else ()
        sim = simulate_arrivals(240.0, drift_ppm=rng.uniform(-100, 100), period_us=period_us,
                                samples_per_packet=n, conn_interval_s=conn, drops=drops,
                                exchange_rate_hz=2.0, exchange_burst=(10.0, 10.0), rng=rng)
        cs, ht, hm = feed(sim)
        assert cs.n_resets == 0
        errs.append(errors(sim, ht, hm, grid))
    al = alignment(np.array(errs))[grid >= 10.0]
    assert al.max() <= 1.5e-3


def test_stall_and_impossible_outliers():
    """A 500 ms host stall only delays arrivals; a packet stamped 100 ms too early is rejected.
    Neither changes the estimate, compared with the same link without them."""
    grid = np.arange(10.0, 120.0, 0.25)
    out = []
    for stalls in ((), ((60.0, 0.5),)):
        sim = simulate_arrivals(120.0, drift_ppm=40.0, samples_per_packet=8, conn_interval_s=0.03,
                                stalls=stalls, exchange_rate_hz=2.0, exchange_burst=(10.0, 10.0),
                                rng=np.random.default_rng(2))
        if stalls:
            i = int(np.searchsorted(sim["arrival_s"], 90.0))
            sim["arrival_s"] = sim["arrival_s"].copy()
            sim["arrival_s"][i] -= 0.1
        cs, ht, hm = feed(sim)
        out.append(errors(sim, ht, hm, grid))
    assert np.abs(out[1] - out[0]).max() < 0.05e-3
    assert np.abs(out[1] - 0.7e-3).max() < 0.6e-3
    assert cs.n_rejected == 1 and cs.n_resets == 0


def test_sensor_reboot_restarts():
    sim = simulate_arrivals(30.0, samples_per_packet=8, conn_interval_s=0.03, rng=np.random.default_rng(4))
    cs, _, _ = feed(sim)
    assert cs.model is not None
    cs.add_packet(1000, sim["arrival_s"][-1] + 0.03)  # the sensor clock starts again near zero
    assert cs.n_resets == 1 and cs.model is None


def test_causal_model_uses_only_the_past():
    """The models up to time T are the same whatever arrives after T."""
    sim = simulate_arrivals(60.0, drift_ppm=-60.0, samples_per_packet=8, conn_interval_s=0.015,
                            exchange_rate_hz=2.0, rng=np.random.default_rng(8))
    _, ht_a, hm_a = feed(sim)
    other = dict(sim)
    late = sim["arrival_s"] >= 30.0
    other["arrival_s"] = np.where(late, sim["arrival_s"] + 0.5, sim["arrival_s"])  # a different future
    _, ht_b, hm_b = feed(other)
    n = int(np.searchsorted(ht_a, 30.0))
    assert n > 10
    assert list(ht_a[:n]) == list(ht_b[:n]) and hm_a[:n] == hm_b[:n]
    assert all(m.fitted_at_s <= t for t, m in zip(ht_a, hm_a))


def test_model_is_float64_safe_over_hours():
    m = ClockModel(ref_sensor_us=2**40, offset_s=12345.678, drift=37e-6)
    us = np.int64(2**40) + np.arange(0, 4 * 3600 * 10**6, 997 * 10**6 + 1, dtype=np.int64)
    s = m.to_session(us)
    assert isinstance(m.to_session(int(us[3])), float)
    assert np.allclose(m.to_sensor_us(s), us, atol=1e-3, rtol=0)  # back to µs within 1 ns
    assert np.all(np.diff(s) > 0)


@settings(max_examples=60, deadline=None)
@given(
    offset_s=st.floats(-1e6, 1e6),
    drift_ppm=st.floats(-200, 200),
    ref=st.integers(0, 2**50),
    steps=st.lists(st.integers(1, 10**9), min_size=2, max_size=50),
)
def test_map_is_monotonic_increasing(offset_s, drift_ppm, ref, steps):
    m = ClockModel(ref_sensor_us=ref, offset_s=offset_s, drift=drift_ppm * 1e-6)
    us = np.int64(max(ref - 10**9, 0)) + np.cumsum(np.array(steps, dtype=np.int64))
    assert np.all(np.diff(m.to_session(us)) > 0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), drift_ppm=st.floats(-100, 100),
       conn_s=st.sampled_from([0.0075, 0.01, 0.02, 0.03, 0.05]), n=st.integers(1, 37))
def test_estimated_map_is_monotonic(seed, drift_ppm, conn_s, n):
    sim = simulate_arrivals(20.0, drift_ppm=drift_ppm, samples_per_packet=n, conn_interval_s=conn_s,
                            jitter="uniform", exchange_rate_hz=3.0, rng=seed)
    cs, _, hm = feed(sim)
    assert hm
    for m in hm[:: max(1, len(hm) // 5)]:
        assert abs(m.drift) <= cs.config.max_drift_ppm * 1e-6
        us = m.ref_sensor_us + np.arange(-10**7, 10**7, 12345, dtype=np.int64)
        assert np.all(np.diff(m.to_session(us)) > 0)


def test_config_is_validated():
    with pytest.raises(ConfigError):
        ClockSyncConfig(bin_s=0.0)
    with pytest.raises(ConfigError):
        ClockSyncConfig(max_drift_ppm=50.0, prior_drift_ppm=80.0)
    with pytest.raises(AttributeError):
        ClockSyncConfig().window_s = 10.0  # frozen
