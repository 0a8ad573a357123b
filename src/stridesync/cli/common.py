"""What the ``stridesync`` sub-commands share: argument types, number formatting, the progress bar, the
one-line errors, the per-step and health lines, and the live-terminal runner behind ``live``, ``record`` and
``demo`` (with the source it opens and the files it writes at the end).

Everything here is public: the command modules (one per sub-command) import it by name.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ..errors import StrideSyncError


def positive_seconds(text: str) -> float:
    """An argparse type: a finite duration above 0 s (``--seconds 0``, ``-5`` or ``nan`` is a usage error)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return v


def make_truth_dir(path: Path) -> None:
    """Create the ground-truth folder (``--truth-dir``), or say in one line why it cannot be."""
    if path.exists() and not path.is_dir():
        raise StrideSyncError(f"--truth-dir {path} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StrideSyncError(f"--truth-dir {path}: cannot create it ({exc.strerror or exc})") from None


def fmt(v: float | None, spec: str = ".0f", unit: str = "") -> str:
    """``v`` formatted with ``spec`` and ``unit``, or a dash when there is no value (None or NaN)."""
    return "  —" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:{spec}}{unit}"


def parse_tags(text: str | None) -> tuple[str, ...]:
    """``--tags 'track, intervals'`` as a tuple of tags (blanks dropped)."""
    return tuple(t.strip() for t in (text or "").split(",") if t.strip())


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


def bluetooth_error(exc: BaseException) -> StrideSyncError:
    """A one-line explanation of why Bluetooth could not be used."""
    if isinstance(exc, FileNotFoundError) or "org.bluez" in str(exc) or "dbus" in str(exc).lower():
        why = "no Bluetooth service on this machine (BlueZ/D-Bus not found)"
    elif isinstance(exc, PermissionError):
        why = "permission to use Bluetooth was refused"
    else:
        why = f"{exc.__class__.__name__}: {exc}"
    return StrideSyncError(f"cannot use Bluetooth: {why}; --virtual runs the same thing on simulated sensors")


def sim_truth(sim, until_s: float = float("inf")):
    """The simulator's ground truth: its physical instants (MEASUREMENT.md §2) up to ``until_s``, and the
    steps they make under the contract's measures."""
    from ..core.config import DetectorConfig
    from ..core.measures import build_steps
    events = [e for e in sim.design_events if e.time_s <= until_s]
    steps, _ = build_steps(events, DetectorConfig())
    return events, steps


# ---------------------------------------------------------------------------- the per-step and health lines
def weak_short(core) -> str:
    """The live weak link of a core in a few characters: 'R swing +29', 'both legs -28' (stridesync.report.weak:
    "both" when the two sides differ by less than their noise)."""
    from ..report.weak import column, window_weak_link
    return column(window_weak_link(core))


def step_line(s, weak: str | None = None) -> str:
    """One step as a line under :data:`STEP_HEADER` (lags in ms, score, cadence; the weak-link column)."""
    line = (f"{s.time_s:7.2f} {s.stance_side.value:>6} {fmt(s.swing_lag_ms, '+.0f'):>6} "
            f"{fmt(s.ipsi_arm_lag_ms, '+.0f'):>6} {fmt(s.contra_arm_lag_ms, '+.0f'):>6} "
            f"{fmt(s.sync_score):>5} {fmt(s.cadence_spm):>9}")
    return line if weak is None else f"{line}  {weak}"


STEP_HEADER = (f"{'time s':>7} {'stance':>6} {'swing':>6} {'arm':>6} {'o.arm':>6} {'score':>5} {'steps/min':>9}"
               f"  weak link (last 20 steps, ms)")
STEP_LEGEND = ("Each line is one step: how late (+) or early (-), in ms, the other leg's swing, the stance-side arm\n"
               "and the other arm peak against the stance leg's push; the sync score (100 = all together), cadence,\n"
               "and the limb furthest from its target over the last 20 steps.")


def health_line(h) -> str:
    """One sensor's link health: state, rate, loss, latency, clock fit, battery, reconnects, malformed packets."""
    rate = f"{h.rate_hz:5.1f} Hz" if h.rate_hz else "    — Hz"
    lat = f"{h.latency_ms:4.0f} ms" if h.latency_ms is not None else "   — ms"
    clk = f"{h.clock_residual_ms:4.1f} ms" if h.clock_residual_ms is not None else "  — ms"
    bat = f"{h.battery_pct:3d} %" if h.battery_pct is not None else "  — %"
    return (f"   {h.role.value:<11} {h.state:<12} {rate}  loss {h.loss_pct:4.1f} %  latency {lat}  "
            f"clock ±{clk}  battery {bat}  reconnects {h.reconnects}  malformed {h.malformed}")


class SessionPrinter:
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
        from ..core.measures import summarize
        from ..report.weak import column, weak_link_verdict
        from ..report.weak import words as weak_words

        core = analyzer.core
        window_n = core.config.window_steps
        for st in steps:
            self.n += 1
            if self.quiet:
                continue
            window = core.steps_[max(0, self.n - window_n):self.n]
            targets = core.targets_ms or {}
            print(step_line(st, column(weak_link_verdict(window, targets))), flush=True)
            if self.n % 10 == 0:
                r = summarize([], window, targets, core.config)
                print(f"        last {window_n} steps: sync {fmt(r.get('sync_score'))}, cadence {fmt(r.get('cadence_spm'))}, "
                      f"weak link: {weak_words(weak_link_verdict(window, targets))}", flush=True)
        if not self.quiet:
            self._mounting(analyzer.core)
        if not self.quiet and analyzer.now_s - self.last_health >= 5.0:
            self.last_health = analyzer.now_s
            for h in analyzer.health():
                print(health_line(h), flush=True)

    def _mounting(self, core) -> None:
        """One line per new mounting decision (estimated, kept, a slip, settled), in the order they fell."""
        from ..core.mounting_checks import describe_rotation

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
        from ..report.weak import session_weak_link
        from ..report.weak import words as weak_words

        health = analyzer.health()
        if health:
            print("\nsensors at the end:")
            for h in health:
                print(health_line(h))
        print(f"session: {summary.get('n_steps', len(steps))} steps, cadence {fmt(summary.get('cadence_spm'))} steps/min, "
              f"sync score {fmt(summary.get('sync_score'))}, PCI {fmt(summary.get('pci_pct'), '.1f', ' %')}")
        print(f"weak link: {weak_words(session_weak_link(steps, summary))}")
        bad = [h for h in health if h.malformed]
        if bad:
            print(f"malformed packets left out (not made into samples): {sum(h.malformed for h in bad)} "
                  f"({', '.join(f'{h.role.value} {h.malformed}' for h in bad)})")


# ---------------------------------------------------------------------------- sources
def open_source(*, source: str | None = None, virtual: bool = False, roster: Path | None = None, seed: int = 1):
    """The session's source: ``--source SPEC`` (stridesync.sources), or the shorthands ``--virtual`` (virtual:)
    and ``--roster R`` (ble:R)."""
    from ..sources import SourceSpec, open_source as open_spec

    if source and (virtual or roster):
        raise StrideSyncError("give --source, or --virtual / --roster, not both")
    if source:
        return open_spec(source)
    if virtual:
        return open_spec(SourceSpec("virtual", "", {"seed": str(seed)}, f"virtual:seed={seed}"))
    if roster:
        return open_spec(SourceSpec("ble", str(roster), {}, f"ble:{roster}"))
    raise StrideSyncError("give a roster (--roster FILE) to connect real sensors, --virtual for simulated ones, "
                          "or --source SPEC (virtual:, ble:ROSTER, replay:FILE, csv:FILE)")


def source_words(source: str | None, virtual: bool) -> str:
    """The source as a title says it: the spec as given, or what the shorthand stands for."""
    if source:
        return source
    return "four virtual sensors" if virtual else "the roster's sensors"


# ---------------------------------------------------------------------------- the live terminal
def run_live_terminal(source, *, title: str, seconds: float, events: Path | None = None, steps: Path | None = None,
                      health: Path | None = None, truth_dir: Path | None = None, out: Path | None = None,
                      athlete: str = "", notes: str = "", tags: tuple[str, ...] = (),
                      lap_every_s: float | None = None) -> int:
    """Run an opened source live in the terminal (``live``, ``record``, ``demo``): the per-step lines as they
    come, the end's figures, then the files asked for. ``events``/``steps``/``health`` are written at the end,
    ``truth_dir`` gets the simulator's ground truth (virtual sources only), ``out`` records the session to a
    new file (with ``athlete``, ``notes``, ``tags`` and a lap every ``lap_every_s`` s). Returns the exit code.
    """
    import asyncio
    import signal

    from ..core.config import DetectorConfig
    from ..live_run import LiveOptions, run_source

    if out is not None and not source.recordable:
        raise StrideSyncError(f"source {source.spec.text!r} cannot be recorded: a session records live sensors' "
                              f"packets (virtual: or ble:); replay and csv sources are files already")
    outputs = [p for p in (events, steps, health) if p]
    if truth_dir:
        if source.spec.kind != "virtual":
            raise StrideSyncError("--truth-dir needs --virtual: only simulated sensors have a ground truth")
        make_truth_dir(truth_dir)
        outputs += [truth_dir / "events.csv", truth_dir / "steps.csv"]
    from ..io import check_writable
    check_writable(outputs)
    printer = SessionPrinter()

    def on_start(analyzer) -> None:  # once the source is up: a source that cannot start prints its error alone
        print(title)
        print(STEP_LEGEND)
        print(STEP_HEADER, flush=True)
    record = {} if out is None else _record_options(out, athlete=athlete, notes=notes, tags=tags,
                                                    lap_every_s=lap_every_s)

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
            pass
        return await run_source(source, LiveOptions(seconds=seconds, config=DetectorConfig(), on_start=on_start,
                                                    on_update=printer.update, stop=stop, **record))

    try:
        res = asyncio.run(main())
    except StrideSyncError:
        raise
    except (OSError, RuntimeError) as exc:  # bleak without an adapter, BlueZ absent, permission denied
        raise bluetooth_error(exc) from None
    a = res.analyzer
    SessionPrinter.end(a, a.core.steps_, a.core.summary())
    if outputs:
        _write_live_outputs(res, outputs, events=events, steps=steps, health=health, truth_dir=truth_dir)
    return _report_recording(res)


def _record_options(out: Path, *, athlete: str, notes: str, tags: tuple[str, ...], lap_every_s: float | None) -> dict:
    """LiveOptions fields that record the session to ``out``."""

    def on_error(msg: str) -> None:
        print(f"stridesync record: {msg}; the live session goes on", file=sys.stderr, flush=True)

    return {"record_to": out, "athlete": athlete, "notes": notes, "tags": tags, "lap_every_s": lap_every_s,
            "on_record_error": on_error}


def _write_live_outputs(res, outputs: list[Path], *, events: Path | None, steps: Path | None,
                        health: Path | None, truth_dir: Path | None) -> None:
    """The files a live session writes at its end, all or none (AtomicOutputs)."""
    import json

    from ..io import AtomicOutputs, write_events_csv, write_steps_csv
    core = res.analyzer.core
    sorted_events = sorted(core.events_, key=lambda e: e.order)
    with AtomicOutputs(outputs) as out:
        if events:
            write_events_csv(out.temp_path(events), sorted_events)
        if steps:
            write_steps_csv(out.temp_path(steps), core.steps_)
        if health:
            with out.open(health) as f:
                json.dump({"sensors": [h.as_dict() for h in res.analyzer.health()],
                           "state_log": [{"time_s": t, "sensor": k, "state": s} for t, k, s in res.analyzer.state_log]},
                          f, indent=1, sort_keys=True)
        if truth_dir:  # only the span that was streamed
            t_events, t_steps = sim_truth(res.sim, until_s=core.now_s)
            write_events_csv(out.temp_path(truth_dir / "events.csv"), t_events)
            write_steps_csv(out.temp_path(truth_dir / "steps.csv"), t_steps)
    print("wrote " + ", ".join(str(p) for p in outputs))


def _report_recording(res) -> int:
    """Say what was recorded; the exit code: 1 when the recording stopped early (the file is incomplete:
    the live session went on, but the session file does not hold all of it), else 0."""
    rec = res.recorder
    if rec is None:
        return 0
    if rec.error:
        print(f"recording stopped early: {rec.error}")
        print(f"stridesync record: {rec.path} is incomplete: it holds the session up to the error", file=sys.stderr)
        return 1
    print(f"recorded {rec.written} inputs to {rec.path}")
    return 0
