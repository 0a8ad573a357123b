"""``stridesync team``: the squad view in the terminal (every hub on LSL), its summary JSON and recordings."""

from __future__ import annotations

import argparse
import json
import signal
import time
from pathlib import Path

from ..errors import StrideSyncError


def _f(v, spec: str = ".0f") -> str:
    return "—" if v is None else format(v, spec)


def squad_table(squad) -> list[str]:
    lines = [f"{'athlete':<16} {'state':<6} {'steps':>5} {'sync':>5} {'trend':>6} {'cad.':>5}  weak link / sensors"]
    for name, a in sorted(squad.athletes.items()):
        lines.append(f"{name[:16]:<16} {a.state:<6} {len(a.steps):>5} {_f(a.sync_score):>5} {_f(a.trend, '+.0f'):>6} "
                     f"{_f(a.cadence_spm):>5}  {a.weak_link_text()}  [{a.health_line()}]")
    return lines


class SquadFeed:
    """Inlets and the squad model, polled together (the terminal and the Qt team view share it)."""

    def __init__(self, *, record_dir: Path | None = None):
        from ..sources.lsl import TeamInlets, lsl_clock
        from .squad import Squad

        self.clock = lsl_clock
        self.squad = Squad(recorder_dir=record_dir)
        self.inlets = TeamInlets(want_imu=self.squad.wants_imu)
        self.t0 = lsl_clock()
        #: callables given every poll's inlet items (a view that draws an athlete's sensor traces)
        self.taps: list = []

    def watch(self, athlete: str, on: bool = True) -> None:
        """Pull that athlete's sensor streams too, or stop: their inlets close unless the squad still needs them
        (an athlete split over hubs, or recorded)."""
        (self.squad.watched.add if on else self.squad.watched.discard)(athlete)
        self.inlets.refresh_imu()

    def poll(self) -> list[str]:
        items = self.inlets.poll()
        for tap in self.taps:
            tap(items)
        self.squad.note_hub_sensors(self.inlets)
        split_before = {n for n, a in self.squad.athletes.items() if a.split}
        changes = self.squad.update(items, self.clock())
        if {n for n, a in self.squad.athletes.items() if a.split} - split_before:
            self.inlets.refresh_imu()
        return changes

    def close(self) -> list[Path]:
        self.squad.finish()
        paths = self.squad.close_recordings() if self.squad.recorder_dir is not None else []
        self.inlets.close()
        return paths

    def summary(self) -> dict:
        out = self.squad.summary()
        for name, d in out["athletes"].items():
            first = self.squad.first_seen.get(name)
            d["appeared_after_s"] = None if first is None else round(first - self.t0, 3)
        out["warnings"] = list(self.inlets.warnings)
        out["malformed_samples"] = self.inlets.bad_samples
        return out


def run_team(args: argparse.Namespace) -> int:
    from ..io import AtomicOutputs, check_writable, write_steps_csv
    from ..lsl_streams import need_lsl
    from .recording import session_name

    need_lsl("the squad view")
    if not args.seconds > 0:
        raise StrideSyncError("--seconds must be positive")
    if args.summary:
        check_writable([args.summary])
    for d in (args.record, args.steps_dir):
        if d is not None and not d.is_dir():
            raise StrideSyncError(f"{d}: no such folder")
    feed = SquadFeed(record_dir=args.record)
    stop = {"now": False}

    def on_signal(*_):
        stop["now"] = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, on_signal)
        except ValueError:
            pass
    print(f"StrideSync squad view: following every hub on LSL for {args.seconds:.0f} s (Ctrl-C stops).", flush=True)
    end = time.monotonic() + args.seconds
    next_table = time.monotonic() + args.every
    while time.monotonic() < end and not stop["now"]:
        for line in feed.poll():
            print(f"{feed.clock() - feed.t0:7.2f}  {line}", flush=True)
        if not args.quiet and time.monotonic() >= next_table:
            next_table += args.every
            print("\n".join(squad_table(feed.squad)), flush=True)
        time.sleep(0.02)
    for line in feed.poll():
        print(f"{feed.clock() - feed.t0:7.2f}  {line}", flush=True)
    paths = feed.close()
    print("\n".join(squad_table(feed.squad)), flush=True)
    for p in paths:
        print(f"recorded {p}", flush=True)
    summary = feed.summary()
    outs = []
    if args.steps_dir is not None:
        outs += [args.steps_dir / f"{session_name(n)}.steps.csv" for n in feed.squad.athletes]
    if args.summary:
        outs.append(args.summary)
    if outs:
        with AtomicOutputs(outs) as out:
            if args.steps_dir is not None:
                for n, a in feed.squad.athletes.items():
                    write_steps_csv(out.temp_path(args.steps_dir / f"{session_name(n)}.steps.csv"), a.steps)
            if args.summary:
                with out.open(args.summary) as f:
                    json.dump(summary, f, indent=1, sort_keys=True, default=str)
        print("wrote " + ", ".join(str(p) for p in outs), flush=True)
    return 0


__all__ = ["SquadFeed", "run_team", "squad_table"]
