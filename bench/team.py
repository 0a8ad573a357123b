"""Squad view under load: hubs replaying a recorded session at real time (``hub --replay --cached``: paced,
no analysis) feed one squad view; its CPU and hub-to-display latency for 4, 8 and 16 athletes.

Baseline, same run and same hubs: bare pylsl inlets pulling the same events and steps streams in a tight
loop (what any LSL consumer pays). Latency: the squad view's clock when a step or event is taken in, minus
the hub's clock when it pushed it (``hub_sent_s``), on one machine's LSL clock. Targets at 16 athletes:
latency p95 <= 250 ms, squad-view CPU <= 50 % of one core. Last line: one JSON object.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WATCH_S = float(os.environ.get("BENCH_TEAM_WATCH_S", "12"))


def _session(tmp: Path) -> Path:
    out = tmp / "run.stridesync"
    subprocess.run([sys.executable, "-m", "stridesync.cli", "record", "--virtual", "--seconds", "45", "--out", str(out)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def _hubs(session: Path, n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-m", "stridesync.cli", "hub", "--replay", str(session), "--cached",
                              "--athlete", f"Athlete{k:02d}", "--quiet"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for k in range(n)]


def _squad(n: int) -> dict:
    from stridesync.team.view import SquadFeed
    feed = SquadFeed()
    end = time.monotonic() + 30
    while time.monotonic() < end and len(feed.squad.athletes) < n:  # wait for every hub
        feed.poll()
        time.sleep(0.02)
    for a in feed.squad.athletes.values():
        a.latencies_ms.clear()
    cpu0, w0 = time.process_time(), time.monotonic()
    while time.monotonic() - w0 < WATCH_S:
        feed.poll()
        time.sleep(0.02)
    cpu = (time.process_time() - cpu0) / (time.monotonic() - w0) * 100
    lat = np.concatenate([np.asarray(a.latencies_ms) for a in feed.squad.athletes.values()] or [np.zeros(0)])
    seen = len(feed.squad.athletes)
    feed.close()
    return {"athletes_seen": seen, "cpu_pct": round(cpu, 1), "latency_p95_ms": round(float(np.percentile(lat, 95)), 1)
            if len(lat) else None, "latency_median_ms": round(float(np.median(lat)), 1) if len(lat) else None,
            "n_latencies": int(len(lat))}


def _bare(n: int) -> dict:
    import pylsl
    infos = [i for i in pylsl.resolve_streams(2.0) if i.type() in ("Markers", "StrideSync.Steps")
             and i.name().startswith("StrideSync Athlete")]
    inlets = [pylsl.StreamInlet(i, recover=False) for i in infos]
    for i in inlets:
        i.open_stream(timeout=2.0)
    lat = []
    cpu0, w0 = time.process_time(), time.monotonic()
    while time.monotonic() - w0 < WATCH_S:
        for i in inlets:
            data, ts = i.pull_chunk(timeout=0.0)
            now = pylsl.local_clock()
            lat += [(now - float(row[-1])) * 1e3 for row in data]
        time.sleep(0.02)
    cpu = (time.process_time() - cpu0) / (time.monotonic() - w0) * 100
    return {"streams": len(inlets), "cpu_pct": round(cpu, 1),
            "latency_p95_ms": round(float(np.percentile(lat, 95)), 1) if lat else None}


def main() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    out: dict = {"by_athletes": {}, "baseline_bare_inlets": {}, "watch_s": WATCH_S}
    with tempfile.TemporaryDirectory() as tmp:
        session = _session(Path(tmp))
        for n in (4, 8, 16):
            hubs = _hubs(session, n)
            try:
                r = _squad(n)
                b = _bare(n)
            finally:
                for h in hubs:
                    h.terminate()
                for h in hubs:
                    try:
                        h.wait(10)
                    except subprocess.TimeoutExpired:
                        h.kill()
            print(f"{n:2d} athletes: squad view CPU {r['cpu_pct']} % of a core, latency p95 {r['latency_p95_ms']} ms "
                  f"(median {r['latency_median_ms']}, {r['n_latencies']} samples, {r['athletes_seen']} seen); "
                  f"bare inlets: CPU {b['cpu_pct']} %, latency p95 {b['latency_p95_ms']} ms", flush=True)
            out["by_athletes"][str(n)] = {"latency_p95_ms": r["latency_p95_ms"], "cpu_pct": r["cpu_pct"]}
            out["baseline_bare_inlets"][str(n)] = b
            time.sleep(2.0)
    t = out["by_athletes"]["16"]
    out["targets_met_16"] = {"latency": t["latency_p95_ms"] is not None and t["latency_p95_ms"] <= 250,
                             "cpu": t["cpu_pct"] <= 50}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
