"""The ``stridesync`` command. Each subcommand parses, builds objects, calls the library and prints.

Bad input of any kind ends in one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path

from . import __version__
from .errors import StrideSyncError
from .model import TARGET_MODELS

log = logging.getLogger("stridesync")


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like every other bad input."""

    def error(self, message: str) -> None:  # noqa: D102 - argparse override
        self.exit(2, f"stridesync {self.prog.split()[-1]}: error: {message}\n" if " " in self.prog else f"stridesync: error: {message}\n")


def positive_seconds(text: str) -> float:
    """An argparse type: a finite duration above 0 s (``--seconds 0``, ``-5`` or ``nan`` is a usage error)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return v


def _truth_dir(path: Path) -> None:
    """Create the ground-truth folder, or say in one line why it cannot be."""
    if path.exists() and not path.is_dir():
        raise StrideSyncError(f"--truth-dir {path} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StrideSyncError(f"--truth-dir {path}: cannot create it ({exc.strerror or exc})") from None


def _fmt(v: float | None, spec: str = ".0f", unit: str = "") -> str:
    return "  —" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:{spec}}{unit}"


class Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal, or when forced)."""

    def __init__(self, label: str, total: float, enabled: bool | None = None):
        self.label, self.total = label, max(total, 1e-9)
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._last = -1

    def update(self, done: float) -> None:
        if not self.enabled:
            return
        pct = int(100 * min(1.0, done / self.total))
        if pct != self._last:
            self._last = pct
            bar = "#" * (pct // 4) + "-" * (25 - pct // 4)
            sys.stderr.write(f"\r{self.label} [{bar}] {pct:3d}%")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self._last >= 0:  # a bar was drawn: end its line
            sys.stderr.write("\n")


# ---------------------------------------------------------------------------- analyze
def cmd_analyze(args: argparse.Namespace) -> int:
    from .core.config import DetectorConfig
    from .core.reference import ReferenceAnalyzer
    from .io import AtomicOutputs, check_writable, read_wide_csv, write_events_csv, write_steps_csv, write_summary_json
    from .pipeline import run_realtime

    outputs = [p for p in (args.events, args.steps, args.summary) if p]
    if not outputs:
        raise StrideSyncError("nothing to write: give --events, --steps and/or --summary")
    check_writable(outputs)
    from .io.plausible import check_recording
    cfg = DetectorConfig(target_model=args.target, rules=args.rules)
    recording = read_wide_csv(args.input)
    check_recording(recording, str(args.input))
    mounting = None
    if args.align == "auto":
        recording, mounting = _align(recording)
    if args.rules == "gyro":
        missing = [r.value for r, s in recording.items() if s.gyro_dps is None]
        if missing:
            raise StrideSyncError(f"--rules gyro needs angular rate (<role>_gx/_gy/_gz columns); "
                                  f"{args.input} has none for {', '.join(missing)}")
    if args.reference:
        res = ReferenceAnalyzer(config=cfg).analyze(recording).result()
    else:
        t0 = min(s.time_s[0] for s in recording.values())
        t1 = max(s.time_s[-1] for s in recording.values())
        bar = Progress("analysing", t1 - t0)
        res, _ = run_realtime(recording, config=cfg, block_s=args.block_s,
                              on_block=lambda t, ev, st: bar.update(min(t, t1) - t0))
        bar.close()
    summary = dict(res.summary)
    summary["detector_settings"] = cfg.to_dict()
    summary["software_version"] = __version__
    summary["input"] = str(args.input)
    if mounting is not None:
        summary["mounting"] = mounting
    with AtomicOutputs(outputs) as out:
        if args.events:
            write_events_csv(out.temp_path(args.events), res.events)
        if args.steps:
            write_steps_csv(out.temp_path(args.steps), res.steps)
        if args.summary:
            write_summary_json(out.temp_path(args.summary), summary)
    print(f"{len(res.events)} events, {len(res.steps)} steps ({'reference' if args.reference else 'real-time'} analyser, "
          f"target model {cfg.target_model})")
    wl = summary.get("weak_link")
    print(f"cadence {_fmt(summary.get('cadence_spm'))} steps/min, sync score {_fmt(summary.get('sync_score'))}, "
          f"weak link: {wl['text'] if wl else '—'}")
    return 0


def _align(recording):
    """Estimate every sensor's mounting (core/mounting.py), print one line each, return the aligned recording and
    the estimates as stored in summaries."""
    from .core.mounting import align_recording
    from .core.mounting_checks import check

    aligned, trackers = align_recording(recording)
    estimates = {r: t.current for r, t in trackers.items() if t.current is not None}
    for v in check(estimates, aligned):
        print(f"mounting: {v.text}")
    return aligned, {r.value: [dict(lg.estimate.as_dict(), event=lg.kind) for lg in t.log] for r, t in trackers.items()}


def cmd_check(args: argparse.Namespace) -> int:
    from .core.mounting import align_recording
    from .core.mounting_checks import check
    from .io import read_wide_csv
    from .io.plausible import check_recording

    if str(args.input).endswith(".stridesync"):
        from .session.replay import session_recording
        from .session.store import Session

        with Session.open(args.input) as session:
            bar = Progress("reading", max(session.duration_s, 1e-3))
            t0 = (session.time_range_s or (0.0, 0.0))[0]
            recording = session_recording(session, on_progress=lambda t: bar.update(t - t0))
            bar.close()
    else:
        recording = read_wide_csv(args.input)
        check_recording(recording, str(args.input))
    if not recording:
        raise StrideSyncError(f"{args.input}: no sensor samples to check")
    aligned, trackers = align_recording(recording)
    for role, tr in sorted(trackers.items(), key=lambda kv: kv[0].value):
        for lg in tr.log:
            e = lg.estimate
            if not e.ok:
                continue
            x, y, z = (" ".join(f"{v:+.2f}" for v in row) for row in e.rotation)
            q = [f"{e.method} rules"]
            if e.x_from == "standing":
                q.append(f"standing {e.standing_s:.1f} s (gravity within {e.standing_spread_deg:.1f}°)")
            elif e.x_from == "running":
                q.append("no standing")
            if e.planarity is not None:
                q.append(f"planarity {e.planarity:.2f}")
            if e.strides:
                q.append(f"{e.strides} strides")
            print(f"{role.value} at {lg.time_s:.1f} s ({lg.kind}): body x = [{x}], y = [{y}], z = [{z}]; "
                  f"{', '.join(q)}")
    estimates = {r: t.current for r, t in trackers.items() if t.current is not None}
    verdicts = check(estimates, aligned)
    for v in verdicts:
        print(f"{'ok  ' if v.ok else 'FIX '} {v.text}")
    for role, tr in trackers.items():
        for lg in tr.log:
            if lg.kind == "slipped":
                print(f"FIX  {role.value.replace('_', ' ')} sensor moved {lg.angle_deg:.0f}° on its segment at "
                      f"{lg.time_s:.1f} s (corrected from then on)")
    return 0 if all(v.ok for v in verdicts) else 1


# ---------------------------------------------------------------------------- simulate
SIM_FLOATS = {
    "duration_s": "--seconds", "cadence_spm": "--cadence", "cadence_drift_spm_per_min": "--cadence-drift",
    "stride_cv_pct": "--stride-cv", "duty_factor": "--duty-factor", "swing_lag_ms": "--swing-lag",
    "ipsi_arm_lag_ms": "--ipsi-arm-lag", "contra_arm_lag_ms": "--contra-arm-lag", "noise_g": "--noise",
    "standing_start_s": "--standing-start", "standing_end_s": "--standing-end",
}


#: simulate's options: what each sets, in its unit (the default is SimParams's)
SIM_HELP = {
    "duration_s": "length of the run, s", "cadence_spm": "steps per minute at the start",
    "cadence_drift_spm_per_min": "cadence change, steps/min per minute",
    "stride_cv_pct": "stride-to-stride variation of the stride time, %%",
    "duty_factor": "ground contact time / stride time",
    "swing_lag_ms": "the other leg's peak swing minus the stance leg's toe-off, ms (+ late)",
    "ipsi_arm_lag_ms": "the stance-side wrist's forward turn minus the toe-off, ms",
    "contra_arm_lag_ms": "the other wrist's backward turn minus the toe-off, ms",
    "noise_g": "sensor noise, g RMS", "standing_start_s": "standing still before the run, s",
    "standing_end_s": "standing still after the run, s",
}


def _sim_epilog() -> str:
    from .sim import DETECTED_OFFSET_MS as off
    return (
        "The lags are the simulated runner's physical truth: --truth-dir writes them exactly as asked (each step\n"
        "varies by its stride-to-stride SD: 3 ms for the swing, 8 ms for the arms). What `stridesync analyze`\n"
        "reads from the file differs by what the sensors and the rules see (docs/measurement.md §9):\n"
        f"  swing lag        {off['swing_lag']:+.0f} ms (toe-off is found about 8 ms late on the simulated shanks)\n"
        f"  stance-side arm  {off['ipsi_arm_lag']:+.0f} ms (a wrist sensor sees the forearm, whose forward turn comes later)\n"
        f"  other arm        {off['contra_arm_lag']:+.0f} ms (... and whose backward turn comes earlier)\n"
        "so --swing-lag 30 reads about 24 ms. Under --target baseline these constant offsets cancel.\n"
        "example:\n"
        "  stridesync simulate run.csv --seconds 120 --swing-lag 30 --truth-dir truth/\n"
        "  stridesync analyze run.csv --steps steps.csv --summary summary.json")


def _sim_params(args: argparse.Namespace):
    from .sim import SimParams

    kw = {k: getattr(args, k) for k in SIM_FLOATS if getattr(args, k) is not None}
    if args.rate is not None:
        from .model import Role
        kw["sample_rate_hz"] = {r: float(args.rate) for r in Role}
    try:
        return SimParams(**kw)
    except (TypeError, ValueError) as exc:
        raise StrideSyncError(f"bad simulation parameter: {exc}") from None


def sim_truth(sim, until_s: float = float("inf")):
    """The simulator's ground truth: its physical instants (MEASUREMENT.md §2) up to ``until_s``, and the
    steps they make under the contract's measures."""
    from .core.config import DetectorConfig
    from .core.measures import build_steps
    events = [e for e in sim.design_events if e.time_s <= until_s]
    steps, _ = build_steps(events, DetectorConfig())
    return events, steps


def cmd_simulate(args: argparse.Namespace) -> int:
    from .io import AtomicOutputs, check_writable, write_events_csv, write_steps_csv, write_wide_csv
    from .sim import simulate

    outputs = [args.output]
    if args.truth_dir:
        _truth_dir(args.truth_dir)
        outputs += [args.truth_dir / "events.csv", args.truth_dir / "steps.csv"]
    check_writable(outputs)
    params = _sim_params(args)
    sim = simulate(params, seed=args.seed)
    with AtomicOutputs(outputs) as out:
        write_wide_csv(out.temp_path(args.output), sim.recording)
        if args.truth_dir:
            events, steps = sim_truth(sim)
            write_events_csv(out.temp_path(outputs[1]), events)
            write_steps_csv(out.temp_path(outputs[2]), steps)
    print(f"wrote {args.output}: {params.duration_s:.0f} s, {len(sim.recording)} sensors"
          + (f"; ground truth in {args.truth_dir}" if args.truth_dir else ""))
    return 0


# ---------------------------------------------------------------------------- live
def _weak_short(core) -> str:
    """The live weak link of a core in a few characters: 'R swing +29', 'both legs -28' (stridesync.report.weak:
    "both" when the two sides differ by less than their noise)."""
    from .report.weak import column, window_weak_link
    return column(window_weak_link(core))


def _step_line(s, weak: str | None = None) -> str:
    line = (f"{s.time_s:7.2f} {s.stance_side.value:>6} {_fmt(s.swing_lag_ms, '+.0f'):>6} "
            f"{_fmt(s.ipsi_arm_lag_ms, '+.0f'):>6} {_fmt(s.contra_arm_lag_ms, '+.0f'):>6} "
            f"{_fmt(s.sync_score):>5} {_fmt(s.cadence_spm):>9}")
    return line if weak is None else f"{line}  {weak}"


STEP_HEADER = (f"{'time s':>7} {'stance':>6} {'swing':>6} {'arm':>6} {'o.arm':>6} {'score':>5} {'steps/min':>9}"
               f"  weak link (last 20 steps, ms)")
STEP_LEGEND = ("Each line is one step: how late (+) or early (-), in ms, the other leg's swing, the stance-side arm\n"
               "and the other arm peak against the stance leg's push; the sync score (100 = all together), cadence,\n"
               "and the limb furthest from its target over the last 20 steps.")


class _SessionPrinter:
    """What `live`, `record` and `replay` print as a session goes, and at its end.

    Each step line's weak-link column and each window line ("last 20 steps", every 10 steps) are computed
    from the steps up to that step, not from when the line is printed: a replay, whose analyser hands its
    steps over in chunks, prints the same lines as the live session did. A health line per sensor follows
    every 5 s of session time (in a replay as fast as possible: at the end of each 5-s chunk).
    """

    def __init__(self, *, quiet: bool = False):
        self.quiet = quiet
        self.n = 0
        self.last_health = 0.0
        self._mount_seen: dict = {}  # role → mounting decisions already printed

    def update(self, events, steps, analyzer) -> None:
        from .core.measures import summarize
        from .report.weak import column, weak_link_verdict
        from .report.weak import words as weak_words

        core = analyzer.core
        window_n = core.config.window_steps
        for st in steps:
            self.n += 1
            if self.quiet:
                continue
            window = core.steps_[max(0, self.n - window_n):self.n]
            targets = core.targets_ms or {}
            print(_step_line(st, column(weak_link_verdict(window, targets))), flush=True)
            if self.n % 10 == 0:
                r = summarize([], window, targets, core.config)
                print(f"        last {window_n} steps: sync {_fmt(r.get('sync_score'))}, cadence {_fmt(r.get('cadence_spm'))}, "
                      f"weak link: {weak_words(weak_link_verdict(window, targets))}", flush=True)
        if not self.quiet:
            self._mounting(analyzer.core)
        if not self.quiet and analyzer.now_s - self.last_health >= 5.0:
            self.last_health = analyzer.now_s
            for h in analyzer.health():
                print(_health_line(h), flush=True)

    def _mounting(self, core) -> None:
        """One line per new mounting decision (estimated, kept, a slip, settled), in the order they fell."""
        from .core.mounting_checks import describe_rotation

        seen = self._mount_seen
        for role, tr in core.mounting.items():
            for lg in tr.log[seen.get(role, 0):]:
                e, who = lg.estimate, role.value.replace("_", " ")
                if lg.kind == "estimated":
                    how = (f"standing {e.standing_s:.1f} s, {e.strides} strides" if e.x_from == "standing"
                           else f"{e.strides} strides, no standing: the turn about the swing axis kept as given")
                    print(f"mounting: {who} estimated at {lg.time_s:.1f} s ({how}): "
                          f"{describe_rotation(role, e.rotation)[0]}", flush=True)
                elif lg.kind == "kept":
                    print(f"mounting: {who}: {e.message}", flush=True)
                elif lg.kind == "slipped":
                    print(f"mounting: {who} sensor moved {lg.angle_deg:.0f}° on its segment at {lg.time_s:.1f} s: "
                          f"corrected from then on", flush=True)
            seen[role] = len(tr.log)

    @staticmethod
    def end(analyzer, steps, summary) -> None:
        """The sensors at the end, the session's figures and weak link, and the packets left out."""
        from .report.weak import session_weak_link
        from .report.weak import words as weak_words

        health = analyzer.health()
        if health:
            print("\nsensors at the end:")
            for h in health:
                print(_health_line(h))
        print(f"session: {summary.get('n_steps', len(steps))} steps, cadence {_fmt(summary.get('cadence_spm'))} steps/min, "
              f"sync score {_fmt(summary.get('sync_score'))}, PCI {_fmt(summary.get('pci_pct'), '.1f', ' %')}")
        print(f"weak link: {weak_words(session_weak_link(steps, summary))}")
        bad = [h for h in health if h.malformed]
        if bad:
            print(f"malformed packets left out (not made into samples): {sum(h.malformed for h in bad)} "
                  f"({', '.join(f'{h.role.value} {h.malformed}' for h in bad)})")


def _health_line(h) -> str:
    rate = f"{h.rate_hz:5.1f} Hz" if h.rate_hz else "    — Hz"
    lat = f"{h.latency_ms:4.0f} ms" if h.latency_ms is not None else "   — ms"
    clk = f"{h.clock_residual_ms:4.1f} ms" if h.clock_residual_ms is not None else "  — ms"
    bat = f"{h.battery_pct:3d} %" if h.battery_pct is not None else "  — %"
    return (f"   {h.role.value:<11} {h.state:<12} {rate}  loss {h.loss_pct:4.1f} %  latency {lat}  "
            f"clock ±{clk}  battery {bat}  reconnects {h.reconnects}  malformed {h.malformed}")


def _run_live_terminal(args: argparse.Namespace, *, title: str) -> int:
    import asyncio
    import signal

    from .core.config import DetectorConfig
    from .live_run import LiveOptions, run_source

    source = _open_source(args)
    if getattr(args, "out", None) is not None and not source.recordable:
        raise StrideSyncError(f"source {source.spec.text!r} cannot be recorded: a session records live sensors' "
                              f"packets (virtual: or ble:); replay and csv sources are files already")
    outputs = [p for p in (getattr(args, "events", None), getattr(args, "steps", None), getattr(args, "health", None)) if p]
    truth_dir = getattr(args, "truth_dir", None)
    if truth_dir:
        if source.spec.kind != "virtual":
            raise StrideSyncError("--truth-dir needs --virtual: only simulated sensors have a ground truth")
        _truth_dir(truth_dir)
        outputs += [truth_dir / "events.csv", truth_dir / "steps.csv"]
    from .io import check_writable
    check_writable(outputs)
    print(title)
    print(STEP_LEGEND)
    print(STEP_HEADER)
    printer = _SessionPrinter()
    on_update = printer.update

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
            pass
        return await run_source(source, LiveOptions(seconds=args.seconds, config=DetectorConfig(),
                                                    on_update=on_update, stop=stop, **_record_options(args)))

    try:
        res = asyncio.run(main())
    except StrideSyncError:
        raise
    except (OSError, RuntimeError) as exc:  # bleak without an adapter, BlueZ absent, permission denied
        raise bluetooth_error(exc) from None
    a = res.analyzer
    _SessionPrinter.end(a, a.core.steps_, a.core.summary())
    _write_live_outputs(args, res, outputs)
    return _report_recording(res)


def _write_live_outputs(args, res, outputs) -> None:
    if not outputs:
        return
    import json as _json

    from .io import AtomicOutputs, write_events_csv, write_steps_csv
    core = res.analyzer.core
    events = sorted(core.events_, key=lambda e: (e.time_s, e.role.value, e.kind.value))
    with AtomicOutputs(outputs) as out:
        if getattr(args, "events", None):
            write_events_csv(out.temp_path(args.events), events)
        if getattr(args, "steps", None):
            write_steps_csv(out.temp_path(args.steps), core.steps_)
        if getattr(args, "health", None):
            with out.open(args.health) as f:
                _json.dump({"sensors": [h.as_dict() for h in res.analyzer.health()],
                            "state_log": [{"time_s": t, "sensor": k, "state": s} for t, k, s in res.analyzer.state_log]},
                           f, indent=1, sort_keys=True)
        if getattr(args, "truth_dir", None):  # only the span that was streamed
            t_events, t_steps = sim_truth(res.sim, until_s=core.now_s)
            write_events_csv(out.temp_path(args.truth_dir / "events.csv"), t_events)
            write_steps_csv(out.temp_path(args.truth_dir / "steps.csv"), t_steps)
    print("wrote " + ", ".join(str(p) for p in outputs))


def bluetooth_error(exc: BaseException) -> StrideSyncError:
    """A one-line explanation of why Bluetooth could not be used."""
    if isinstance(exc, FileNotFoundError) or "org.bluez" in str(exc) or "dbus" in str(exc).lower():
        why = "no Bluetooth service on this machine (BlueZ/D-Bus not found)"
    elif isinstance(exc, PermissionError):
        why = "permission to use Bluetooth was refused"
    else:
        why = f"{exc.__class__.__name__}: {exc}"
    return StrideSyncError(f"cannot use Bluetooth: {why}; --virtual runs the same thing on simulated sensors")


def _open_source(args: argparse.Namespace):
    """The session's source: ``--source SPEC`` (stridesync.sources), or the shorthands ``--virtual`` (virtual:)
    and ``--roster R`` (ble:R)."""
    from .sources import SourceSpec, open_source

    spec = getattr(args, "source", None)
    roster = getattr(args, "roster", None)
    if spec and (args.virtual or roster):
        raise StrideSyncError("give --source, or --virtual / --roster, not both")
    if spec:
        return open_source(spec)
    if args.virtual:
        return open_source(SourceSpec("virtual", "", {"seed": str(getattr(args, "seed", 1))},
                                      f"virtual:seed={getattr(args, 'seed', 1)}"))
    if roster:
        return open_source(SourceSpec("ble", str(roster), {}, f"ble:{roster}"))
    raise StrideSyncError("give a roster (--roster FILE) to connect real sensors, --virtual for simulated ones, "
                          "or --source SPEC (virtual:, ble:ROSTER, replay:FILE, csv:FILE)")


def _source_words(args: argparse.Namespace) -> str:
    spec = getattr(args, "source", None)
    if spec:
        return spec
    return "four virtual sensors" if args.virtual else "the roster's sensors"


def cmd_live(args: argparse.Namespace) -> int:
    what = _source_words(args)
    return _run_live_terminal(args, title=f"StrideSync live: {what}, {args.seconds:.0f} s (Ctrl-C stops).")


def cmd_demo(args: argparse.Namespace) -> int:
    args.virtual = True
    try:
        from stridesync_ui.launch import dashboard_available, run_dashboard
    except ImportError:  # the Qt extras are not installed: the terminal demo
        dashboard_available = None
    if dashboard_available is not None and dashboard_available():
        return run_dashboard(virtual=True, seconds=args.seconds, seed=args.seed)
    return _run_live_terminal(args, title=(
        f"StrideSync demo: a simulated runner wearing four virtual sensors, streamed over a virtual Bluetooth "
        f"radio through the real BLE stack and analysed live for {args.seconds:.0f} s (Ctrl-C stops)."))


def cmd_dashboard(args: argparse.Namespace) -> int:
    """The Qt dashboard: a live session (virtual sensors or a roster's), or a replay of a session file."""
    from .roster import Roster

    try:
        from stridesync_ui.launch import run_dashboard
    except ImportError as exc:
        raise StrideSyncError(f"the dashboard needs the Qt extras (pip install 'stridesync[ui]'): {exc}") from None
    if args.quit_after is not None and args.quit_after <= 0:
        raise StrideSyncError("--quit-after must be a positive number of seconds")
    if args.screenshot is not None and args.quit_after is None:
        raise StrideSyncError("--screenshot needs --quit-after SECONDS: when to take it")
    if args.screenshot is not None:
        from .io import check_writable
        check_writable([args.screenshot])
    if getattr(args, "team", False):  # the squad view: every hub on LSL
        from stridesync_ui.launch import run_team_dashboard
        return run_team_dashboard(screenshot=args.screenshot, quit_after_s=args.quit_after)
    if args.source:  # a source by name: the same choices as the flags below
        from .sources import parse_source

        if args.virtual or args.roster or args.replay:
            raise StrideSyncError("give --source, or --virtual / --roster / --replay, not both")
        spec = parse_source(args.source)
        if spec.kind == "virtual":
            spec.check_keys({"seed"})
            args.virtual, args.seed = True, int(spec.number("seed", args.seed))
        elif spec.kind == "ble":
            spec.check_keys(set())
            args.roster = Path(spec.target)
        elif spec.kind in ("replay", "csv"):
            spec.check_keys(set())
            args.replay = Path(spec.target)
        else:
            raise StrideSyncError(f"the dashboard does not open {spec.kind}: sources")
    if args.replay is not None and not args.replay.exists():
        raise StrideSyncError(f"cannot open {args.replay}: no such file")
    roster = Roster.load(args.roster) if args.roster else None
    virtual = args.virtual or (roster is None and args.replay is None)
    return run_dashboard(virtual=virtual, replay=args.replay, roster=roster, seconds=args.seconds,
                         screenshot=args.screenshot, quit_after_s=args.quit_after, seed=args.seed)


def cmd_scan(args: argparse.Namespace) -> int:
    import asyncio

    from .sources.ble import scan

    async def main():
        if args.virtual:
            from .sim import SimParams, simulate
            from .sources.bumble_backend import BumbleScanner, VirtualRadio
            from .sources.virtual import start_fleet
            async with VirtualRadio() as radio:
                fleet = await start_fleet(radio, simulate(SimParams(duration_s=30.0), seed=1), clock=lambda: 0.0)
                try:
                    return await scan(args.seconds, backend=BumbleScanner)
                finally:
                    await fleet.close()
        return await scan(args.seconds)

    try:
        found = asyncio.run(main())
    except StrideSyncError:
        raise
    except Exception as exc:  # bleak: no adapter, BlueZ absent, permission denied
        raise bluetooth_error(exc) from None
    if not found:
        print("no StrideSync sensors found")
        return 0
    print(f"{'name':<16} {'address':<18} {'rssi':>5} {'serial':<9} {'role':<12} {'battery':>7}")
    for f in found:
        print(f"{f.name:<16} {f.address:<18} {_fmt(f.rssi, 'd'):>5} {f.serial or '—':<9} "
              f"{f.role.value if f.role else 'unassigned':<12} {_fmt(f.battery_pct, 'd', ' %'):>7}")
    return 0


# ---------------------------------------------------------------------------- sessions
def _record_options(args: argparse.Namespace) -> dict:
    """LiveOptions fields for ``record`` (none for ``live`` and ``demo``)."""
    if getattr(args, "out", None) is None or getattr(args, "command", None) != "record":
        return {}

    def on_error(msg: str) -> None:
        print(f"stridesync record: {msg}; the live session goes on", file=sys.stderr, flush=True)

    return {"record_to": args.out, "athlete": args.athlete or "", "notes": args.notes or "",
            "tags": tuple(t.strip() for t in (args.tags or "").split(",") if t.strip()),
            "lap_every_s": args.lap_every, "on_record_error": on_error}


def _report_recording(res) -> int:
    """Say what was recorded; the exit code: 1 when the recording stopped early (the file is incomplete:
    the live session went on, but the session file does not hold all of it), else 0."""
    rec = getattr(res, "recorder", None)
    if rec is None:
        return 0
    if rec.error:
        print(f"recording stopped early: {rec.error}")
        print(f"stridesync record: {rec.path} is incomplete: it holds the session up to the error", file=sys.stderr)
        return 1
    print(f"recorded {rec.written} inputs to {rec.path}")
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from .io import check_writable
    if args.out.exists():
        raise StrideSyncError(f"{args.out} already exists; choose another name (a session is never overwritten)")
    check_writable([args.out])
    what = _source_words(args)
    return _run_live_terminal(args, title=f"StrideSync record → {args.out}: {what}, {args.seconds:.0f} s (Ctrl-C stops).")


def cmd_replay(args: argparse.Namespace) -> int:
    from .session.replay import Replay
    from .session.store import Session

    with Session.open(args.session) as session:
        speed = None if args.fast else args.speed
        if speed is not None and not speed > 0:
            raise StrideSyncError("--speed must be positive")
        print(f"replaying {args.session}: {session.athlete or 'unnamed athlete'}, {session.date or 'undated'}, "
              f"{session.duration_s:.0f} s, {len(session.sensors)} sensors, "
              + ("as fast as possible" if speed is None else f"{speed:g}× real time"))
        if not args.quiet:
            print(STEP_LEGEND)
            print(STEP_HEADER)
        printer = _SessionPrinter(quiet=args.quiet)  # the lines live printed
        r = Replay(session, speed=speed, on_update=printer.update)
        bar = Progress("replaying", r.t_end_s - r.t_start_s, enabled=None if args.quiet else False)
        r.on_progress = lambda t: bar.update(t - r.t_start_s)
        res = r.run()
        bar.close()
    _SessionPrinter.end(res.analyzer, res.steps, res.summary)
    print(f"replayed {res.data_s:.1f} s of data in {res.wall_s:.2f} s")
    return 0


def _mapping(args: argparse.Namespace):
    from .session.importer import ColumnMapping

    if not args.map:
        for flag in ("gyro_map", "time_col", "rate"):
            if getattr(args, flag):
                raise StrideSyncError(f"--{flag.replace('_', '-')} needs --map (without --map the input is the contract's wide CSV)")
        if args.units != "g" or args.time_unit != "s":
            raise StrideSyncError("--units and --time-unit need --map (the contract's wide CSV is in g and seconds)")
        return None
    acc = dict(ColumnMapping.parse_role_spec(m) for m in args.map)
    gyro = dict(ColumnMapping.parse_role_spec(m) for m in (args.gyro_map or []))
    extra = set(gyro) - set(acc)
    if extra:
        raise StrideSyncError(f"--gyro-map for {', '.join(r.value for r in extra)} without a --map for it")
    return ColumnMapping(acc=acc, gyro=gyro, time_col=args.time_col, time_unit=args.time_unit, rate_hz=args.rate,
                         units=args.units, delimiter={"comma": ",", "semicolon": ";", "tab": "\t"}.get(args.delimiter))


def cmd_import(args: argparse.Namespace) -> int:
    from .session.importer import import_csv

    mapping = _mapping(args)
    bar = Progress("analysing", 1.0)

    def progress(done_s: float, total_s: float) -> None:
        bar.total = max(total_s, 1e-9)
        bar.update(done_s)

    info = import_csv(args.input, args.out, mapping=mapping, athlete=args.athlete or "", notes=args.notes or "",
                      tags=tuple(t.strip() for t in (args.tags or "").split(",") if t.strip()),
                      on_progress=progress, align=args.align)
    bar.close()
    print(f"imported {args.input} → {args.out}: {', '.join(info['roles'])}; {info['samples']} samples, "
          f"{info['duration_s']:.1f} s, {info['steps']} steps")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .session.export import export_session
    from .session.store import Session

    if not any((args.samples, args.events, args.steps, args.summary)):
        raise StrideSyncError("nothing to export: give --samples, --events, --steps and/or --summary")
    with Session.open(args.session) as session:
        bar = Progress("replaying", max(session.duration_s, 1e-3))
        t0 = (session.time_range_s or (0.0, 0.0))[0]
        res = export_session(session, samples=args.samples, events=args.events, steps=args.steps,
                             summary=args.summary, recompute=args.recompute, on_progress=lambda t: bar.update(t - t0))
        bar.close()
        made = "as computed at import" if session.source == "import" else "as computed live"
    if res.note:
        print(f"note: {res.note}")
    written = [str(p) for p in (args.samples, args.events, args.steps, args.summary) if p]
    what = "recomputed" if res.source == "recompute" else made
    detail = f" ({len(res.events)} events, {len(res.steps)} steps, {what})" if (args.events or args.steps or args.summary) else ""
    print(f"wrote {', '.join(written)}{detail}")
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    from .session.store import SESSION_SUFFIX, Session, SessionError

    folder = args.dir
    if not folder.is_dir():
        raise StrideSyncError(f"{folder} is not a directory")
    files = sorted(p for p in folder.iterdir() if p.suffix == SESSION_SUFFIX and p.is_file())
    if not files:
        print(f"no sessions ({SESSION_SUFFIX} files) in {folder}")
        return 0
    print(f"{'file':<28} {'athlete':<18} {'date':<20} {'duration':>9} {'sensors':>7} {'steps':>6}  note")
    for p in files:
        try:
            with Session.open(p) as s:
                summ = s.summary("live")
                steps = len(s.steps("live")) if summ is not None else None
                note = "" if s.complete else ("stopped early: " + s.recording_error if s.recording_error else "incomplete (not closed cleanly)")
                note = "; ".join(x for x in (" ".join((s.notes or "").split()), note) if x)  # the user's --notes first
                print(f"{p.name:<28} {(s.athlete or '—')[:18]:<18} {(s.date or '—')[:19]:<20} "
                      f"{s.duration_s / 60:6.1f} min {len(s.sensors):>7} {_fmt(steps, 'd'):>6}  {note}")
        except SessionError as exc:
            print(f"{p.name:<28} unreadable: {exc}")
    return 0


# ---------------------------------------------------------------------------- repair
def cmd_repair(args: argparse.Namespace) -> int:
    """Salvage every intact row of a damaged session file into a new one, and say what was saved and lost."""
    from .session.repair import repair_session

    rep = repair_session(args.session, args.out)
    inputs = rep.tables.get("inputs")
    if not rep.damaged:
        print(f"{args.session} reads in full: every row was copied to {args.out}")
    else:
        print(f"salvaged {args.session} → {args.out}"
              + (f": {inputs.saved} inputs saved, {inputs.lost} lost" if inputs is not None else ""))
    for line in rep.lines():
        print(line)
    if rep.results_dropped:
        print("the cached results were dropped: export, report and replay recompute them from the saved inputs")
    return 0


# ---------------------------------------------------------------------------- report
def _rescored(data, target_model: str) -> dict:
    """The steps, summary and provenance of report data under another target model: the lags are the
    session's; the targets, scores and weak link follow the model asked for (MEASUREMENT.md §4)."""
    import dataclasses

    from .core.config import DetectorConfig
    from .core.measures import build_steps, summarize

    stored = dict(data.provenance.get("detector_settings") or {})
    cfg = dataclasses.replace(DetectorConfig.from_dict(stored) if stored else DetectorConfig(), target_model=target_model)
    events = sorted(data.events, key=lambda e: e.time_s)
    steps, targets = build_steps(events, cfg)
    summary = {**data.summary, **summarize(events, steps, targets, cfg)}
    provenance = {**data.provenance, "target_model": target_model,
                  "detector_settings": cfg.to_dict()}
    return {"steps": steps, "summary": summary, "provenance": provenance}


def cmd_report(args: argparse.Namespace) -> int:
    """Render a session report. SESSION is a session file, or a wide samples CSV (``.csv``, ``.csv.gz``),
    which is analysed with the reference analyser (the judge) and reported like a session."""
    from .errors import OutputError
    from .io import check_writable

    if args.out.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise OutputError(f"cannot write {args.out}: a report must end in .html or .pdf")
    check_writable([args.out])
    try:
        from stridesync_ui.report import render, report_data_from_analysis, report_data_from_session
    except ImportError as exc:
        raise StrideSyncError(f"reports need the Qt extra (pip install 'stridesync[ui]'): {exc}") from None
    name = args.session.name.lower()
    if name.endswith(".csv") or name.endswith(".csv.gz"):
        from .core.config import DetectorConfig
        from .core.reference import analyze
        from .io import read_wide_csv

        cfg = DetectorConfig(target_model=args.target or "together")
        recording = read_wide_csv(args.session)
        res = analyze(recording, cfg)
        date = args.date
        if date is None:
            import datetime as _dt
            date = _dt.date.fromtimestamp(args.session.stat().st_mtime).isoformat()
        data = report_data_from_analysis(recording, res.events, res.steps, res.summary, config=cfg,
                                         athlete=args.athlete or "", date=date, notes=args.notes or "",
                                         analyser="reference", source=str(args.session))
    else:
        import dataclasses

        from .session.store import Session

        with Session.open(args.session) as session:
            bar = Progress("replaying", max(session.duration_s, 1e-3))  # only if the results must be recomputed
            t0 = (session.time_range_s or (0.0, 0.0))[0]
            data = report_data_from_session(session, on_progress=lambda t: bar.update(t - t0))
            bar.close()
        over = {k: v for k, v in (("athlete", args.athlete), ("date", args.date), ("notes", args.notes)) if v}
        if args.target and args.target != data.summary.get("target_model"):
            over.update(_rescored(data, args.target))
        data = dataclasses.replace(data, **over)
    render(data, args.out)
    from .report.weak import session_weak_link
    from .report.weak import words as weak_words
    print(f"wrote {args.out}: {len(data.steps)} steps, sync score {_fmt(data.summary.get('sync_score'))}, "
          f"weak link: {weak_words(session_weak_link(data.steps, data.summary))}")
    return 0


# ---------------------------------------------------------------------------- main
def cmd_hub(args: argparse.Namespace) -> int:
    from .team.hub import run_hub
    return run_hub(args)


def cmd_team(args: argparse.Namespace) -> int:
    from .team.view import run_team
    return run_team(args)


def cmd_import_xdf(args: argparse.Namespace) -> int:
    from .session.xdf import run_import_xdf
    return run_import_xdf(args)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="stridesync", description="StrideSync: per-step limb synchronisation for runners.")
    p.add_argument("--version", action="version", version=f"stridesync {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    a = sub.add_parser("analyze", help="detect events and steps in a wide samples CSV")
    a.add_argument("input", type=Path, help="wide samples CSV (docs/formats.md)")
    a.add_argument("--events", type=Path, help="events CSV to write")
    a.add_argument("--steps", type=Path, help="steps CSV to write")
    a.add_argument("--summary", type=Path, help="session summary JSON to write")
    a.add_argument("--reference", action="store_true", help="use the offline reference analyser")
    a.add_argument("--target", choices=TARGET_MODELS, default="together", help="target model")
    a.add_argument("--rules", choices=("auto", "gyro", "accel"), default="auto",
                   help="rule set: auto (gyroscope rules wherever angular rate is present), gyro, or accel "
                        "(ignore angular rate, for comparison) (default: auto)")
    a.add_argument("--align", choices=("auto", "given"), default="auto",
                   help="sensor mounting: auto (estimate each sensor's rotation from standing and the first "
                        "strides, docs/measurement.md) or given (the file's axes are the body frame) (default: auto)")
    a.add_argument("--block-s", type=float, default=0.02, help=argparse.SUPPRESS)
    a.set_defaults(func=cmd_analyze)

    ck = sub.add_parser("check", help="estimate each sensor's mounting and say what looks wrong",
                        description="Estimate how each sensor sits on its limb (gravity while standing, the swing "
                                    "axis while running) and check the sensors against each other: upside down, "
                                    "rotated around the segment, sides swapped, a wrist sensor on a shin, a sensor "
                                    "that slipped. Exit 1 when something needs fixing.")
    ck.add_argument("input", type=Path, help="wide samples CSV or session file (.stridesync)")
    ck.set_defaults(func=cmd_check)

    import dataclasses as _dc

    from .sim import SimParams
    sim_defaults = {f.name: f.default for f in _dc.fields(SimParams)}
    s = sub.add_parser("simulate", help="write a simulated run as a wide samples CSV",
                       description="Write a simulated runner's four sensors (shins and wrists, accelerometer and "
                                   "gyroscope) as a wide samples CSV.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_sim_epilog())
    s.add_argument("output", type=Path, help="wide samples CSV to write (.gz compresses)")
    s.add_argument("--truth-dir", type=Path, help="write the noise-free ground truth events.csv and steps.csv here")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--rate", type=float, help="sample rate of every sensor, Hz, 100–400 (default 200)")
    for field, flag in SIM_FLOATS.items():
        unit = {"s": "S", "spm": "SPM", "min": "SPM", "pct": "PCT", "ms": "MS", "g": "G"}.get(field.rsplit("_", 1)[-1], "X")
        s.add_argument(flag, dest=field, type=float, metavar=unit,
                       help=f"{SIM_HELP[field]} (default {sim_defaults[field]:g})")
    s.set_defaults(func=cmd_simulate)

    d = sub.add_parser("demo", help="four virtual sensors streamed over a virtual BLE radio, analysed live")
    d.add_argument("--seconds", type=positive_seconds, default=30.0, help="how long to stream")
    d.add_argument("--seed", type=int, default=1)
    d.set_defaults(func=cmd_demo)

    db = sub.add_parser("dashboard", help="the Qt track-side dashboard: live view or replay")
    db.add_argument("--source", metavar="SPEC", help="a source by name: virtual:seed=1, ble:roster.json, "
                                                     "replay:run.stridesync or csv:run.csv")
    db.add_argument("--virtual", action="store_true", help="four simulated sensors on a virtual radio (the default without --roster)")
    db.add_argument("--roster", type=Path, help="roster JSON: serial → role and mounting (real sensors)")
    db.add_argument("--replay", type=Path, metavar="FILE", help="replay a session file (or a wide samples CSV)")
    db.add_argument("--seconds", type=positive_seconds, default=3600.0, help="longest live session, s")
    db.add_argument("--seed", type=int, default=1)
    db.add_argument("--screenshot", type=Path, metavar="OUT.png", help="save a screenshot of the window (with --quit-after)")
    db.add_argument("--quit-after", type=float, metavar="S", help="take the screenshot and quit after S seconds")
    db.add_argument("--team", action="store_true", help="the squad view: every hub on LSL, one row per athlete")
    db.set_defaults(func=cmd_dashboard)

    sc = sub.add_parser("scan", help="list StrideSync sensors in range")
    sc.add_argument("--seconds", type=positive_seconds, default=5.0, help="how long to scan")
    sc.add_argument("--virtual", action="store_true", help="scan a virtual radio with four simulated sensors")
    sc.set_defaults(func=cmd_scan)

    lv = sub.add_parser("live", help="live monitoring in the terminal")
    lv.add_argument("--source", metavar="SPEC", help="where samples come from: virtual:seed=1, ble:roster.json, replay:run.stridesync[,speed=S], csv:run.csv[,speed=S] (files run to their end)")
    lv.add_argument("--virtual", action="store_true", help="four simulated sensors on a virtual radio")
    lv.add_argument("--roster", type=Path, help="roster JSON: serial → role and mounting")
    lv.add_argument("--seconds", type=positive_seconds, default=60.0, help="how long to stream")
    lv.add_argument("--events", type=Path, help="events CSV to write at the end")
    lv.add_argument("--steps", type=Path, help="steps CSV to write at the end")
    lv.add_argument("--health", type=Path, help="sensor health JSON to write at the end")
    lv.add_argument("--truth-dir", type=Path, help="virtual mode: the simulator's ground truth events.csv and steps.csv")
    lv.add_argument("--seed", type=int, default=1)
    lv.set_defaults(func=cmd_live)

    rc = sub.add_parser("record", help="live monitoring with recording to a session file",
                        description="Live monitoring (as `live`) while every packet, clock exchange and link state "
                                    "is recorded to a new session file (SQLite; crash-safe: a crash loses at most "
                                    "the last second).")
    rc.add_argument("--source", metavar="SPEC", help="live sensors to record: virtual:seed=1 or ble:roster.json")
    rc.add_argument("--virtual", action="store_true", help="four simulated sensors on a virtual radio")
    rc.add_argument("--roster", type=Path, help="roster JSON: serial → role and mounting")
    rc.add_argument("--seconds", type=positive_seconds, default=60.0, help="how long to record")
    rc.add_argument("--athlete", help="athlete's name (default: the roster's)")
    rc.add_argument("--notes", help="free-text notes stored with the session")
    rc.add_argument("--tags", help="comma-separated tags, e.g. 'track,intervals'")
    rc.add_argument("--lap-every", type=positive_seconds, metavar="S", help="mark a lap every S seconds")
    rc.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    rc.add_argument("--out", type=Path, required=True, help="session file to create (.stridesync); never overwritten")
    rc.set_defaults(func=cmd_record)

    rp = sub.add_parser("replay", help="replay a session through the analyser")
    rp.add_argument("session", type=Path, help="session file (.stridesync)")
    g = rp.add_mutually_exclusive_group()
    g.add_argument("--speed", type=float, default=1.0, help="data seconds per wall-clock second (default 1: real time)")
    g.add_argument("--fast", action="store_true", help="as fast as possible")
    rp.add_argument("-q", "--quiet", action="store_true", help="no per-step lines (a progress bar instead)")
    rp.set_defaults(func=cmd_replay)

    im = sub.add_parser(
        "import", help="turn a samples CSV into a session", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Import a CSV of samples as a session. Without --map the input is the contract's wide samples "
                    "CSV (time_s, <role>_x,_y,_z in g).",
        epilog="Other devices' exports: map columns onto roles.\n"
               "  --map ROLE=X,Y,Z     the columns holding ROLE's body-frame x, y, z (repeat per role);\n"
               "                       a leading '-' flips an axis, the order remaps axes:\n"
               "                       --map left_shin=AccZ,-AccX,AccY\n"
               "  --time-col NAME      the time column (--time-unit s|ms|us), or\n"
               "  --rate HZ            evenly spaced samples at a fixed rate\n"
               "  --units g|m/s2       acceleration unit of the file\n"
               "example:\n"
               "  stridesync import watch.csv --map left_wrist=ax,ay,az --time-col timestamp_ms --time-unit ms \\\n"
               "      --units m/s2 --out watch.stridesync")
    im.add_argument("input", type=Path, help="CSV to import (.gz is read compressed)")
    im.add_argument("--out", type=Path, required=True, help="session file to create (.stridesync)")
    im.add_argument("--map", action="append", metavar="ROLE=X,Y,Z", help="accelerometer columns of a role (repeatable)")
    im.add_argument("--gyro-map", action="append", metavar="ROLE=X,Y,Z", help="angular-rate columns (deg/s) of a role")
    im.add_argument("--time-col", help="name of the time column")
    im.add_argument("--time-unit", choices=("s", "ms", "us"), default="s", help="unit of the time column")
    im.add_argument("--rate", type=float, help="fixed sample rate in Hz (no time column)")
    im.add_argument("--units", choices=("g", "m/s2"), default="g", help="acceleration unit of the file")
    im.add_argument("--delimiter", choices=("comma", "semicolon", "tab"), help="field separator (default: detected)")
    im.add_argument("--athlete", help="athlete's name")
    im.add_argument("--notes", help="free-text notes")
    im.add_argument("--tags", help="comma-separated tags")
    im.add_argument("--align", choices=("auto", "given"), default="auto",
                    help="sensor mounting: auto (estimated from standing and the first strides, as live) or given "
                         "(the mapped axes are the body frame) (default: auto)")
    im.set_defaults(func=cmd_import)

    ex = sub.add_parser("export", help="write a session's samples, events, steps and summary",
                        description="Export a session to the contract's files. By default the results computed live "
                                    "(or at import); --recompute replays the raw inputs through the current core.")
    ex.add_argument("session", type=Path, help="session file (.stridesync)")
    ex.add_argument("--samples", type=Path,
                    help="wide samples CSV: the decoded samples on the session clock, each sensor's at its own "
                         "instants (one sensor per row: the sensors sample independently, and a shared row would "
                         "need resampling, which changes the data); times in full precision, so they read back "
                         "bit-identical")
    ex.add_argument("--events", type=Path, help="events CSV")
    ex.add_argument("--steps", type=Path, help="steps CSV")
    ex.add_argument("--summary", type=Path, help="summary JSON")
    ex.add_argument("--recompute", action="store_true", help="replay the raw inputs through the current core")
    ex.set_defaults(func=cmd_export)

    ls = sub.add_parser("sessions", help="list the session files in a folder")
    ls.add_argument("dir", type=Path, nargs="?", default=Path("."), help="folder (default: the current one)")
    ls.set_defaults(func=cmd_sessions)

    rpt = sub.add_parser("report", help="a session report as self-contained HTML or A4 PDF")
    rpt.add_argument("session", type=Path, help="session file, or a wide samples CSV (.csv, .csv.gz) to analyse")
    rpt.add_argument("--out", type=Path, required=True, help="report to write: .html or .pdf")
    rpt.add_argument("--athlete", help="athlete name for the header (default: the session's)")
    rpt.add_argument("--date", help="session date for the header (default: the session's, or the CSV file's date)")
    rpt.add_argument("--notes", help="notes shown under the key numbers (default: the session's)")
    rpt.add_argument("--target", choices=TARGET_MODELS, default=None,
                     help="target model of the report's scores and weak link (default: a session's own, "
                          "'together' for a CSV)")
    rpt.set_defaults(func=cmd_report)

    rep = sub.add_parser("repair", help="salvage the intact inputs of a damaged session file into a new one",
                         description="Copy every row SQLite can still read from a damaged session file (by rowid "
                                     "ranges, skipping damaged pages) into a new session file, and say per table "
                                     "how many rows were saved and lost. The damaged file is not changed.")
    rep.add_argument("session", type=Path, help="the damaged session file")
    rep.add_argument("--out", type=Path, required=True, help="the repaired session file to create")
    rep.set_defaults(func=cmd_repair)
    from .team.cli_args import add_team_parsers
    add_team_parsers(sub, hub=cmd_hub, team=cmd_team, import_xdf=cmd_import_xdf)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except StrideSyncError as exc:
        msg = " ".join(str(exc).split())
        from .session.store import SessionDamagedError
        if isinstance(exc, SessionDamagedError) and args.command != "repair":
            msg += f"; `stridesync repair {exc.path} --out REPAIRED.stridesync` salvages its intact inputs"
        print(f"stridesync {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"stridesync {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
