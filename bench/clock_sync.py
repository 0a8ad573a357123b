"""Clock alignment over simulated BLE links: ClockSync against plain baselines, in the same run.

Each session has four sensors with their own offset, drift (±100 ppm), sample period, packet
size and connection interval (7.5–50 ms), 2 % packet loss and host jitter; TIME_SYNC exchanges at
4 Hz, with a 10 Hz burst for the first 30 s (the client's schedule, ``LinkSettings``). Link sets:

  locked   three of four sensors (nearly) phase-locked to their interval (e.g. 50 ms packets on
           a 50 ms interval): the hard, common case
  unlocked 208/104 Hz sensors: packet periods incommensurate with the intervals
  short    7.5–15 ms intervals only (what the host asks for)

Jitter models: ``exp`` (exponential, mean 2 ms, 5 % tail uniform up to 20 ms) and ``uniform``
(uniform 0–20 ms: a stress case with no concentration near the minimum).

Figures (ms, after the first 10 s unless said):
  align_err_p95_ms / align_err_max_ms   worst sensor pair, p95 / max over the session
  abs_err_median_ms                      estimate − true host time (the host's latency floor)
  converge_s                             first time after which the alignment stays ≤ 1 ms
  baseline_lsq_*                         least squares of arrival vs sensor time, last 120 s
  baseline_mean_*                        offset = mean(arrival − sensor time) so far, no drift
  baseline_ntp_*                         NTP: offset of the min-RTT exchange of the last 16,
                                         drift from the least-squares baseline
  stream_only_*                          ClockSync fed the packets but no exchanges
  us_per_packet                          ClockSync CPU per observation (µs, one core)

The last line printed is one JSON object.  Usage: python bench/clock_sync.py [--minutes 60] [--quick]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from stridesync.clock import ClockSync, simulate_arrivals

LINK_SETS = {
    "locked": [(5000, 20, 0.0075), (5000, 8, 0.015), (10000, 6, 0.030), (5000, 10, 0.050)],
    # 208 / 104 Hz (the output data rates of common ST IMUs): incommensurate with 1.25 ms
    "unlocked": [(4808, 8, 0.0075), (4808, 10, 0.02125), (9615, 4, 0.03), (4808, 13, 0.04875)],
    "short": [(5000, 8, 0.0075), (2500, 13, 0.01), (5000, 6, 0.01125), (5000, 10, 0.015)],
}


def feed(sim: dict, exchanges: bool = True, config=None):
    """Feed ClockSync in arrival order; model history as arrays; CPU seconds; observations."""
    cs = ClockSync(config)
    ta = sim["arrival_s"]
    te = sim["t4_s"] if exchanges else np.zeros(0)
    times = np.concatenate([ta, te])
    order = np.argsort(times, kind="stable").tolist()
    n_a = len(ta)
    su, ar = sim["sensor_t_last_us"].tolist(), ta.tolist()
    ex = list(zip(sim["t1_s"].tolist(), sim["t2_us"].tolist(), sim["t3_us"].tolist(), sim["t4_s"].tolist()))
    ht, ref, off, dr = [], [], [], []
    last = None
    cpu = 0.0
    for o in order:
        t0 = time.perf_counter()
        if o < n_a:
            cs.add_packet(su[o], ar[o])
        else:
            cs.add_exchange(*ex[o - n_a])
        m = cs.model
        cpu += time.perf_counter() - t0
        if m is not last and m is not None:
            last = m
            ht.append(times[o]), ref.append(m.ref_sensor_us), off.append(m.offset_s), dr.append(m.drift)
    return (np.array(ht), np.array(ref, dtype=np.int64), np.array(off), np.array(dr)), cpu, len(order)


def eval_models(sim, hist, grid):
    ht, ref, off, dr = hist
    k = np.searchsorted(ht, grid, side="right") - 1
    kk = np.maximum(k, 0)
    us = (grid - sim["offset_s"]) / (1 + sim["drift"]) * 1e6
    dx = (us - ref[kk]) * 1e-6
    return np.where(k >= 0, off[kk] + dx + dr[kk] * dx - grid, np.nan)


def baselines(sim, grid, window_s=120.0):
    """Causal plain estimators evaluated at the grid instants (data arrived before each)."""
    x = sim["sensor_t_last_us"].astype(np.float64) * 1e-6
    x0 = x[0]
    x = x - x0
    y = sim["arrival_s"]
    cs = {k: np.concatenate([[0.0], np.cumsum(v)]) for k, v in
          dict(n=np.ones_like(x), x=x, y=y, xx=x * x, xy=x * y).items()}
    hi = np.searchsorted(y, grid, side="right")
    lo = np.searchsorted(y, grid - window_s, side="right")
    us = (grid - sim["offset_s"]) / (1 + sim["drift"]) * 1e6
    xg = us * 1e-6 - x0

    def s(k, a, b):
        return cs[k][b] - cs[k][a]

    n = s("n", lo, hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        sx, sy, sxx, sxy = s("x", lo, hi), s("y", lo, hi), s("xx", lo, hi), s("xy", lo, hi)
        b = (n * sxy - sx * sy) / (n * sxx - sx * sx)
        a = (sy - b * sx) / n
        lsq = np.where(n >= 10, a + b * xg - grid, np.nan)
        n0 = s("n", 0, hi)
        mean = np.where(n0 >= 1, (cs["y"][hi] - cs["x"][hi]) / n0 + xg - grid, np.nan)
    # NTP: offset of the min-RTT exchange among the last 16, drift from the LSQ slope
    t1, t2, t3, t4 = sim["t1_s"], sim["t2_us"] * 1e-6 - x0, sim["t3_us"] * 1e-6 - x0, sim["t4_s"]
    rtt = (t4 - t1) - (t3 - t2)
    theta = ((t1 - t2) + (t4 - t3)) / 2  # host − sensor at the exchange
    he = np.searchsorted(t4, grid, side="right")
    ntp = np.full(len(grid), np.nan)
    for i in np.flatnonzero(he >= 1):
        j0 = max(0, he[i] - 16)
        j = j0 + int(np.argmin(rtt[j0:he[i]]))
        slope = b[i] - 1 if np.isfinite(b[i]) else 0.0
        ntp[i] = theta[j] + t2[j] + (xg[i] - t2[j]) * (1 + slope) - grid[i]
    return lsq, mean, ntp


def summarize(grid, errs, t_from=10.0):
    al = np.nanmax(errs, axis=0) - np.nanmin(errs, axis=0)
    sel = grid >= t_from
    a = al[sel]
    bad = np.flatnonzero(~(al <= 1e-3))
    conv = float(grid[bad[-1] + 1]) if len(bad) and bad[-1] + 1 < len(grid) else (0.0 if not len(bad) else np.inf)
    return dict(p95=float(np.nanpercentile(a, 95) * 1e3), max=float(np.nanmax(a) * 1e3),
                abs_med=float(np.nanmedian(errs[:, sel]) * 1e3), converge_s=conv)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="10 minutes, 2 seeds")
    args = ap.parse_args()
    minutes, seeds = (10.0, 2) if args.quick else (args.minutes, args.seeds)
    dur = minutes * 60.0
    grid = np.arange(0.0, dur, 0.5)
    rows = []
    cpu_total, obs_total = 0.0, 0
    print(f"{minutes:.0f}-minute sessions, 4 sensors, 2 % loss, exchanges 4 Hz (+10 Hz for 30 s)")
    print(f"{'links':9s} {'jitter':8s} {'seed':>4s} | {'ours p95/max':>13s} {'abs':>5s} {'conv':>5s} | "
          f"{'stream-only':>13s} | {'LSQ p95/max':>13s} | {'mean p95/max':>15s} | {'NTP p95/max':>13s}")
    for links_name, links in LINK_SETS.items():
        for jitter in ("exp", "uniform"):
            for seed in range(seeds):
                rng = np.random.default_rng(1000 * seed + len(links_name))
                E = {k: [] for k in ("ours", "stream", "lsq", "mean", "ntp")}
                for period_us, n, conn in links:
                    sim = simulate_arrivals(dur, offset_s=-rng.uniform(10, 5000), drift_ppm=rng.uniform(-100, 100),
                                            period_us=period_us, samples_per_packet=n, conn_interval_s=conn,
                                            jitter=jitter, loss=0.02, exchange_rate_hz=4.0,
                                            exchange_burst=(10.0, 30.0), rng=rng)
                    hist, cpu, nobs = feed(sim)
                    cpu_total += cpu
                    obs_total += nobs
                    E["ours"].append(eval_models(sim, hist, grid))
                    E["stream"].append(eval_models(sim, feed(sim, exchanges=False)[0], grid))
                    lsq, mean, ntp = baselines(sim, grid)
                    E["lsq"].append(lsq), E["mean"].append(mean), E["ntp"].append(ntp)
                S = {k: summarize(grid, np.array(v)) for k, v in E.items()}
                rows.append(dict(links=links_name, jitter=jitter, seed=seed, **{k: v for k, v in S.items()}))
                f = lambda k: f"{S[k]['p95']:6.2f}/{S[k]['max']:6.2f}"  # noqa: E731
                print(f"{links_name:9s} {jitter:8s} {seed:4d} | {f('ours'):>13s} {S['ours']['abs_med']:5.2f} "
                      f"{S['ours']['converge_s']:5.1f} | {f('stream'):>13s} | {f('lsq'):>13s} | "
                      f"{f('mean'):>15s} | {f('ntp'):>13s}")

    def agg(key, what, jitter=None, fn=max):
        v = [r[key][what] for r in rows if jitter is None or r["jitter"] == jitter]
        return round(float(fn(v)), 3)

    out = {
        "minutes": minutes, "seeds": seeds,
        "align_err_p95_ms": agg("ours", "p95", "exp"), "align_err_max_ms": agg("ours", "max", "exp"),
        "abs_err_median_ms": agg("ours", "abs_med", "exp", fn=np.median),
        "converge_s_worst": agg("ours", "converge_s", "exp"),
        "uniform_jitter_align_err_p95_ms": agg("ours", "p95", "uniform"),
        "uniform_jitter_align_err_max_ms": agg("ours", "max", "uniform"),
        "stream_only_align_err_p95_ms": agg("stream", "p95", "exp"),
        "baseline_lsq_align_err_p95_ms": agg("lsq", "p95", "exp"),
        "baseline_lsq_align_err_max_ms": agg("lsq", "max", "exp"),
        "baseline_mean_align_err_p95_ms": agg("mean", "p95", "exp"),
        "baseline_ntp_align_err_p95_ms": agg("ntp", "p95", "exp"),
        "us_per_packet": round(cpu_total / obs_total * 1e6, 2),
    }
    out["lsq_over_ours_p95"] = round(out["baseline_lsq_align_err_p95_ms"] / out["align_err_p95_ms"], 1)
    print("worst over seeds and link sets (exp jitter unless named); medians for abs error")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
