"""A hub: one athlete's live pipeline (or a replayed session) published on Lab Streaming Layer.

``stridesync hub`` runs exactly what ``live`` runs (:func:`stridesync.live_run.run_live`) and hands the
analyser's input samples, its events and steps, and its sensors' health to :class:`~stridesync.sinks.lsl.HubOutlets`.
The session clock is mapped onto LSL's clock with one offset, measured at the start: both are monotonic
clocks of the same machine, so every stamp (a sample's, an event's) goes through the sensor's clock model,
never through arrival times. ``--replay`` publishes a session file instead: through the analyser, as it was
seen live, or (``--cached``) its stored samples and results, paced, which costs almost nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import threading
import time
from pathlib import Path

from ..errors import StrideSyncError
from ..lsl_streams import HEARTBEAT_S
from ..model import ROLES, Role

log = logging.getLogger(__name__)

#: after the last step, keep the outlets this long so inlets take the last samples before the streams end
LINGER_S = 1.0


def _fmt(v, spec: str = "+.0f") -> str:
    return "—" if v is None else format(v, spec)


def _step_line(athlete: str, s) -> str:
    return (f"{athlete}: {s.time_s:7.2f} {s.stance_side.value:>5} swing {_fmt(s.swing_lag_ms):>4} arm "
            f"{_fmt(s.ipsi_arm_lag_ms):>4} o.arm {_fmt(s.contra_arm_lag_ms):>4} score {_fmt(s.sync_score, '.0f'):>3} "
            f"cadence {_fmt(s.cadence_spm, '.0f')}")


def _virtual_roster(roles: list[Role], athlete: str):
    """The virtual fleet's serials (``SS000101`` … in role order) for a subset of the roles."""
    from ..roster import Roster
    return Roster.from_dict({"athlete": athlete, "sensors": [{"serial": f"SS{101 + k:06d}", "role": r.value}
                                                             for k, r in enumerate(ROLES) if r in roles]})


def _parse_roles(text: str | None) -> list[Role] | None:
    if not text:
        return None
    try:
        return [Role(t.strip()) for t in text.split(",") if t.strip()]
    except ValueError:
        raise StrideSyncError(f"--roles: {text!r}: give roles among {', '.join(r.value for r in ROLES)}") from None


def _lsl_minus_monotonic() -> float:
    """LSL's clock minus :func:`time.monotonic` (0 where both read CLOCK_MONOTONIC; measured, not assumed)."""
    from ..sinks.lsl import lsl_clock
    best = None
    for _ in range(5):
        a = time.monotonic()
        b = lsl_clock()
        c = time.monotonic()
        if best is None or c - a < best[0]:
            best = (c - a, b - (a + c) / 2)
    return best[1]


def run_hub(args: argparse.Namespace) -> int:
    """``stridesync hub``: the live pipeline or a replay, published on LSL for a squad view."""
    from ..lsl_streams import need_lsl
    need_lsl("the hub")
    from ..lsl_streams import need_lsl
    need_lsl()
    if not (args.athlete or "").strip():
        raise StrideSyncError("give the athlete's name (--athlete NAME): the squad view shows athletes by name")
    athlete = args.athlete.strip()
    if args.replay is not None:
        return _run_replay_hub(args, athlete)
    return _run_live_hub(args, athlete)


def _outputs(args) -> list[Path]:
    from ..io import check_writable
    outs = [p for p in (args.events, args.steps) if p]
    check_writable(outs)
    return outs


def _write_outputs(args, events, steps) -> None:
    from ..io import AtomicOutputs, write_events_csv, write_steps_csv
    outs = [p for p in (args.events, args.steps) if p]
    if not outs:
        return
    with AtomicOutputs(outs) as out:
        if args.events:
            write_events_csv(out.temp_path(args.events), sorted(events, key=lambda e: e.order))
        if args.steps:
            write_steps_csv(out.temp_path(args.steps), steps)
    print("wrote " + ", ".join(str(p) for p in outs), flush=True)


def _run_live_hub(args, athlete: str) -> int:
    from ..core.config import DetectorConfig
    from ..live_run import LiveOptions, run_live
    from ..roster import Roster
    from ..sinks.lsl import HubOutlets, lsl_clock

    roles = _parse_roles(args.roles)
    roster = Roster.load(args.roster) if args.roster else None
    if roster is None and not args.virtual:
        raise StrideSyncError("give a roster (--roster FILE) to connect real sensors, or --virtual for simulated ones")
    if roster is None and roles is not None:
        roster = _virtual_roster(roles, athlete)
    elif roles is not None:
        raise StrideSyncError("--roles picks virtual sensors; with a roster, list only the sensors this hub holds")
    if args.record is not None and args.record.exists():
        raise StrideSyncError(f"{args.record} already exists; choose another name (a session is never overwritten)")
    outs = _outputs(args) + ([args.record] if args.record else [])
    from ..io import check_writable
    check_writable(outs)
    d = _lsl_minus_monotonic()
    if args.sim_start is not None:  # the simulated run's time 0 at this LSL instant; every hub of it ends together
        origin = float(args.sim_start) - d
    else:
        origin = time.monotonic()
    offset = origin + d  # LSL clock − session clock
    state = {"outlets": None, "analyzer": None, "steps": 0}

    def on_start(analyzer) -> None:
        sensors = [(k, s.role, s.nominal_rate_hz, k in analyzer.gyro) for k, s in analyzer.sensors.items()]
        outlets = HubOutlets(athlete, sensors, lsl_offset_s=offset)
        analyzer.core.add_listener(outlets.samples)
        state["outlets"], state["analyzer"] = outlets, analyzer
        print(f"hub {outlets.hub}: {athlete}, {len(sensors)} sensors on LSL "
              f"({', '.join(r.value for _, r, *_ in sensors)}) at LSL clock {lsl_clock():.3f}", flush=True)

    def on_update(events, steps, analyzer) -> None:
        out = state["outlets"]
        if out is not None:
            out.results(events, steps)
        for s in steps:
            state["steps"] += 1
            if not args.quiet:
                print(_step_line(athlete, s), flush=True)

    def beat(status: str) -> None:
        out, a = state["outlets"], state["analyzer"]
        if out is not None and a is not None:
            out.health(status, [h.as_dict() for h in a.health()], a.core.targets_ms, a.now_s)

    async def heartbeat(stop: asyncio.Event) -> None:
        while not stop.is_set():
            beat("running")
            try:
                await asyncio.wait_for(stop.wait(), HEARTBEAT_S)
            except asyncio.TimeoutError:
                pass

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        if args.sim_start is not None:  # a shared run ends at one instant for all its hubs (same simulated runner)
            loop.call_later(max(0.0, float(args.sim_start) + args.seconds - lsl_clock()), stop.set)
        done = asyncio.Event()
        hb = asyncio.create_task(heartbeat(done))
        try:
            # ble: the roster given below
            source = f"virtual:seed={args.seed},loss={args.sim_loss}" if args.virtual else "ble:"
            opts = LiveOptions(seconds=args.seconds, source=source, roster=roster, config=DetectorConfig(),
                               on_update=on_update, on_start=on_start, stop=stop,
                               clock_origin_s=origin, record_to=args.record, athlete=athlete)
            return await run_live(opts)
        finally:
            done.set()
            await hb

    try:
        res = asyncio.run(main())
    except StrideSyncError:
        raise
    except (OSError, RuntimeError) as exc:
        raise StrideSyncError(f"cannot run the hub: {exc.__class__.__name__}: {exc}") from None
    a = res.analyzer
    for k in range(int(LINGER_S / HEARTBEAT_S)):
        beat("ended")
        time.sleep(HEARTBEAT_S)
    if state["outlets"] is not None:
        state["outlets"].close()
    print(f"hub: {athlete}: {len(a.core.steps_)} steps published", flush=True)
    _write_outputs(args, a.core.events_, a.core.steps_)
    if res.recorder is not None:
        print(f"recorded {res.recorder.written} inputs to {res.recorder.path}", flush=True)
    return 0


# ------------------------------------------------------------------------------------------- replay
def _run_replay_hub(args, athlete: str) -> int:
    from ..session.store import Session

    speed = args.speed
    if not speed > 0:
        raise StrideSyncError("--speed must be positive")
    _outputs(args)
    with Session.open(args.replay) as session:
        if args.cached:
            events, steps = _replay_cached(session, athlete, speed, args)
        else:
            events, steps = _replay_analysed(session, athlete, speed, args)
    print(f"hub: {athlete}: {len(steps)} steps published (replay of {args.replay})", flush=True)
    _write_outputs(args, events, steps)
    return 0


def _replay_analysed(session, athlete: str, speed: float, args):
    """Through the analyser, paced, as it was seen live (the replay engine's per-input path)."""
    from ..session.replay import Replay
    from ..sinks.lsl import HubOutlets, lsl_clock

    st: dict = {"outlets": None, "a": None, "next_beat": 0.0}
    r = Replay(session, speed=speed)
    offset = lsl_clock() - r.t_start_s  # at speed 1, stamps follow LSL's clock; the pacing starts now

    def before(a, t) -> None:
        if st["a"] is not a:  # a new analyser (start or seek): watch its input
            if st["outlets"] is None:
                sensors = _session_sensors(session)
                st["outlets"] = HubOutlets(athlete, sensors, lsl_offset_s=offset)
            a.core.add_listener(st["outlets"].samples)
            st["a"] = a
        now = time.monotonic()
        if now >= st["next_beat"]:
            st["next_beat"] = now + HEARTBEAT_S
            health = [h.as_dict() for h in a.health()] if hasattr(a, "health") else []
            st["outlets"].health("running", health, a.core.targets_ms, t)

    def on_update(events, steps, a) -> None:
        st["outlets"].results(events, steps)
        if not args.quiet:
            for s in steps:
                print(_step_line(athlete, s), flush=True)

    r.before_input, r.on_update = before, on_update
    res = r.run()
    out = st["outlets"]
    if out is not None:
        for _ in range(int(LINGER_S / HEARTBEAT_S)):
            out.health("ended", [], None, r.t_end_s)
            time.sleep(HEARTBEAT_S)
        out.close()
    return res.events, res.steps


def _session_sensors(session) -> list[tuple[str, Role, float, bool]]:
    out = []
    for s in session.sensors:
        if s.role is None:
            continue
        key = s.serial
        out.append((key, s.role, float(s.rate_hz or 200.0), bool(s.gyro_range_dps)))
    return out


def _replay_cached(session, athlete: str, speed: float, args):
    """The session's samples (decoded once) and stored results, paced: no analysis, almost no CPU."""
    import numpy as np

    from ..session.replay import session_recording
    from ..sinks.lsl import HubOutlets, lsl_clock

    rec = session_recording(session)
    if session.has_results("live") and not session.results_outdated:
        events, steps = session.events("live"), session.steps("live")
    else:
        raise StrideSyncError(f"{session.path}: no stored live results to replay (--cached); replay without --cached")
    sensors = [(k, r, hz, g) for k, r, hz, g in _session_sensors(session) if r in rec]
    sensors = [(k, r, float(rec[r].sample_rate_hz), rec[r].gyro_dps is not None) for k, r, _, _ in sensors]
    t0 = min(float(s.time_s[0]) for s in rec.values())
    t1 = max(float(s.time_s[-1]) for s in rec.values())
    outlets = HubOutlets(athlete, sensors, lsl_offset_s=0.0)
    cursor = {r: 0 for r in rec}
    ev_i = st_i = 0
    events_sorted = sorted(events, key=lambda e: e.time_s)
    wall0 = time.monotonic()
    outlets.offset_s = lsl_clock() - t0
    next_beat = 0.0
    targets = (session.summary("live") or {}).get("targets_ms")
    stop = threading.Event()
    try:
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
    except ValueError:
        pass
    while not stop.is_set():
        now_data = t0 + (time.monotonic() - wall0) * speed
        blocks = []
        for r, s in rec.items():
            i = cursor[r]
            j = int(np.searchsorted(s.time_s, now_data, side="right"))
            if j > i:
                blocks.append((r, s.time_s[i:j], s.acc_g[i:j], None if s.gyro_dps is None else s.gyro_dps[i:j]))
                cursor[r] = j
        if blocks:
            outlets.samples(blocks)
        e_new, s_new = [], []
        while ev_i < len(events_sorted) and events_sorted[ev_i].time_s <= now_data:
            e_new.append(events_sorted[ev_i])
            ev_i += 1
        while st_i < len(steps) and steps[st_i].time_s <= now_data:
            s_new.append(steps[st_i])
            st_i += 1
        if e_new or s_new:
            outlets.results(e_new, s_new)
            if not args.quiet:
                for s in s_new:
                    print(_step_line(athlete, s), flush=True)
        if time.monotonic() >= next_beat:
            next_beat = time.monotonic() + HEARTBEAT_S
            outlets.health("running", [], targets, now_data)
        if now_data > t1 and st_i >= len(steps) and ev_i >= len(events_sorted):
            break
        time.sleep(0.02)
    for _ in range(int(LINGER_S / HEARTBEAT_S)):
        outlets.health("ended", [], targets, t1)
        time.sleep(HEARTBEAT_S)
    outlets.close()
    return events_sorted[:ev_i], steps[:st_i]


def add_hub_arguments(p: argparse.ArgumentParser) -> None:
    """The ``hub`` subcommand's options (stridesync.cli.hub adds the parser)."""
    p.add_argument("--athlete", required=True, help="the athlete's name: how the squad view shows this hub")
    p.add_argument("--virtual", action="store_true", help="four simulated sensors on a virtual radio")
    p.add_argument("--roster", type=Path, help="roster JSON: serial → role and mounting")
    p.add_argument("--seconds", type=float, default=3600.0, help="how long to stream, s")
    p.add_argument("--record", type=Path, metavar="FILE", help="also record the session to this new file")
    p.add_argument("--replay", type=Path, metavar="FILE", help="publish a session file instead of live sensors")
    p.add_argument("--speed", type=float, default=1.0, help="with --replay: data seconds per second (1: real time)")
    p.add_argument("--cached", action="store_true",
                   help="with --replay: publish the stored samples and results, paced, without analysing (cheap)")
    p.add_argument("--events", type=Path, help="write this hub's events CSV at the end")
    p.add_argument("--steps", type=Path, help="write this hub's steps CSV at the end")
    p.add_argument("--quiet", action="store_true", help="no line per step")
    p.add_argument("--seed", type=int, default=1, help="virtual runner's seed")
    p.add_argument("--roles", help=argparse.SUPPRESS)  # virtual: this hub holds only these sensors (split runner)
    # virtual: the LSL instant of the run's time 0 (hubs sharing one simulated runner); --seconds then counts from it
    p.add_argument("--sim-start", type=float, help=argparse.SUPPRESS)
    # virtual: the probability that a data packet is lost (0 to compare hubs packet for packet)
    p.add_argument("--sim-loss", type=float, default=0.005, help=argparse.SUPPRESS)


__all__ = ["add_hub_arguments", "run_hub"]
