"""Sessions: recording overhead, file size, as-fast-as-possible replay, report time.

A 60-minute, 4-sensor, 200 Hz session is synthesised from the simulator (packets cut by the host codec,
BLE-like arrivals: :mod:`stridesync.session.synth`) and written through the real Recorder; it is not
recorded live for an hour. Figures (the last line is one JSON object):

  report_s        render(session, out.pdf) of stridesync_ui.report, if that module exists (else null)
  replay_x        data seconds per wall-clock second, replaying the hour as fast as possible through
                  decode → clock → core (best of 3; the replay's bulk path, stridesync.live_bulk)
  record_cpu_pct  CPU of the recorder's writer thread per second of live data, % of one core, measured
                  at real-time pace (commits every 0.5 s, as live) over ``--rt-seconds`` of the session
  mb_per_hour     session file size for the hour (MB = 1e6 bytes)

Baselines in the same run: a bare sqlite3 ``executemany`` of the same rows in one transaction (vs the
recorder's writer CPU on the whole hour), and ``pipeline.run_realtime`` on the same samples in 1 s
blocks (vs replay, which also decodes every packet and maps every sensor clock).

    .venv/bin/python bench/sessions.py [--minutes 60] [--rt-seconds 20]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from stridesync.core.config import DetectorConfig
from stridesync.pipeline import run_realtime
from stridesync.session.recorder import Recorder
from stridesync.session.replay import replay
from stridesync.session.store import Session, put_results
from stridesync.session.synth import feed, sensor_infos, synth_inputs
from stridesync.sim import SimParams, simulate


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--rt-seconds", type=float, default=20.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ss-bench-"))
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> None:
    dur = args.minutes * 60.0

    t0 = time.perf_counter()
    sim = simulate(SimParams(duration_s=dur, cadence_drift_spm_per_min=-0.2, lag_drift_ms_per_min=(0.5, 0.0, 0.3)), seed=11)
    sensors, items = synth_inputs(sim, seed=11)
    n_packets = sum(1 for it in items if it[1] == 0)
    log(f"synthesised {args.minutes:.0f} min: {len(items)} inputs ({n_packets} packets) in {time.perf_counter() - t0:.1f} s")
    infos = sensor_infos(sensors)

    # ---- the whole hour through the recorder (as fast as the writer goes)
    path = tmp / "hour.stridesync"
    t0 = time.perf_counter()
    rec = Recorder(path, sensors=infos, config=DetectorConfig())
    feed(items, sink=rec)
    rec.close()
    wall_rec = time.perf_counter() - t0
    mb_per_hour = path.stat().st_size / 1e6 * 60.0 / args.minutes
    log(f"recorder, whole session unpaced: {wall_rec:.1f} s wall, writer CPU {rec.writer_cpu_s:.1f} s, "
        f"{rec.commits} commits, file {path.stat().st_size / 1e6:.1f} MB → {mb_per_hour:.1f} MB/hour")

    # baseline: bare executemany of the same rows, one transaction
    base = tmp / "bare.sqlite"
    con = sqlite3.connect(base, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE inputs (seq INTEGER PRIMARY KEY, kind INTEGER, t_s REAL, sensor TEXT, data BLOB)")
    rows = [(i, k, t, s, d if isinstance(d, bytes) else None) for i, (t, k, s, d) in enumerate(items)]
    c0 = time.process_time()
    t0 = time.perf_counter()
    con.execute("BEGIN")
    con.executemany("INSERT INTO inputs VALUES (?, ?, ?, ?, ?)", rows)
    con.execute("COMMIT")
    bare_s = time.perf_counter() - t0
    con.close()
    log(f"baseline bare executemany (one transaction): {bare_s:.2f} s wall, {time.process_time() - c0:.2f} s CPU; "
        f"the recorder's writer thread used {rec.writer_cpu_s / max(bare_s, 1e-9):.1f}× that")

    # ---- recorder CPU at real-time pace (commits every 0.5 s, as live)
    rt_items = [it for it in items if it[0] < items[0][0] + args.rt_seconds]
    rt_path = tmp / "rt.stridesync"
    rec2 = Recorder(rt_path, sensors=infos, config=DetectorConfig())
    feed(rt_items, sink=rec2, pace=1.0)
    rec2.close()
    span = rt_items[-1][0] - rt_items[0][0]
    record_cpu_pct = 100.0 * rec2.writer_cpu_s / span
    log(f"recorder at real time: {rec2.writer_cpu_s * 1e3:.0f} ms writer CPU over {span:.1f} s of data, "
        f"{rec2.commits} commits → {record_cpu_pct:.2f} % of one core")

    # ---- replay as fast as possible vs a plain fast analysis of the same samples
    best = float("inf")
    with Session.open(path) as s:
        for _ in range(3):
            t0 = time.perf_counter()
            res = replay(s)
            best = min(best, time.perf_counter() - t0)
        data_s = s.duration_s
    replay_x = data_s / best
    t0 = time.perf_counter()
    base_res, _ = run_realtime(sim.recording, block_s=1.0)
    plain_s = time.perf_counter() - t0
    log(f"replay: {data_s:.0f} s of data in {best:.1f} s → {replay_x:.0f}× real time ({len(res.steps)} steps); "
        f"plain run_realtime on the samples, 1 s blocks: {plain_s:.1f} s → {data_s / plain_s:.0f}× "
        f"({len(base_res.steps)} steps); replay / plain time = {best / plain_s:.1f}")

    # ---- report, if the report module exists
    report_s = None
    try:
        import importlib
        report = importlib.import_module("stridesync_ui.report")
        render = getattr(report, "render")
    except (ImportError, AttributeError) as exc:
        log(f"report: not measured ({exc.__class__.__name__}: {exc})")
    else:
        # the hour was written without an analyser: cache the replay's results as its live results
        con = sqlite3.connect(path, isolation_level=None)
        put_results(con, "live", res.events, res.steps, res.summary)
        con.close()
        adapt = getattr(report, "report_data_from_session", None)
        for suffix in (".pdf", ".html"):
            with Session.open(path) as s:
                t0 = time.perf_counter()
                render(adapt(s) if adapt else s, tmp / f"out{suffix}")
                took = time.perf_counter() - t0
            log(f"report {suffix}: {took:.1f} s")
            if suffix == ".pdf":
                report_s = took

    print(json.dumps({"report_s": None if report_s is None else round(report_s, 2), "replay_x": round(replay_x, 1),
                      "record_cpu_pct": round(record_cpu_pct, 3), "mb_per_hour": round(mb_per_hour, 1),
                      "replay_vs_plain_core": round(best / plain_s, 2), "recorder_vs_bare_sqlite": round(rec.writer_cpu_s / bare_s, 2)}))


if __name__ == "__main__":
    main()
