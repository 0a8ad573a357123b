"""A live session end to end: sensors (real or virtual) → BLE → LiveAnalyzer, on one asyncio loop.

The CLI's ``live`` and ``demo`` and the dashboard's worker thread all call :func:`run_live`. In virtual
mode it starts a :class:`~.sources.bumble_backend.VirtualRadio`, simulates a run, puts one virtual sensor
per role on the radio and reaches them through the real bleak API with the bumble backend.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .core.config import DetectorConfig
from .live import LiveAnalyzer, LiveResult
from .model import Event, Step
from .roster import Roster

log = logging.getLogger(__name__)


@dataclass
class LiveOptions:
    """What to run. ``seconds`` of streaming; ``virtual`` uses simulated sensors on a virtual radio."""

    seconds: float = 30.0
    virtual: bool = True
    roster: Roster | None = None
    config: DetectorConfig = field(default_factory=DetectorConfig)
    sim_params: object | None = None  # stridesync.sim.SimParams for virtual mode
    sim_seed: int = 1
    links: dict | None = None  # Role → LinkModel for virtual mode
    tick_s: float = 0.2
    on_update: Callable[[list[Event], list[Step], "LiveAnalyzer"], None] | None = None
    on_fleet: Callable[[object], None] | None = None  # virtual mode: called with the VirtualFleet once it is up
    on_start: Callable[["LiveAnalyzer"], None] | None = None  # called with the analyzer before any sensor connects
    on_acquisition: Callable[[object], None] | None = None  # called with the Acquisition once its links are up
    link_settings: object | None = None  # stridesync.sources.ble.LinkSettings
    stop: asyncio.Event | None = None
    sample_rate_hz: float = 200.0
    #: record the session to this new file (see :mod:`stridesync.session`); None records nothing
    record_to: Path | None = None
    athlete: str = ""
    notes: str = ""
    tags: tuple[str, ...] = ()
    #: when recording: mark a lap every this many seconds (None: no automatic laps)
    lap_every_s: float | None = None
    #: when recording: called once with a one-line message if recording stops (disk full); the session goes on
    on_record_error: Callable[[str], None] | None = None
    #: sensor mounting: "auto" estimates each sensor's rotation (unless the roster pins it), "given" trusts the roster
    align: str = "auto"
    #: the :func:`time.monotonic` instant that is session time 0 (None: now). Hubs that share one simulated
    #: runner pass the same origin, so their virtual sensors see the same instant at the same time
    clock_origin_s: float | None = None




async def run_live(opts: LiveOptions) -> LiveResult:
    """Run a live session until ``opts.seconds`` pass or ``opts.stop`` is set; everything is stopped cleanly."""
    from .sources.ble import Acquisition

    t0 = time.monotonic() if opts.clock_origin_s is None else float(opts.clock_origin_s)
    clock = lambda: time.monotonic() - t0  # noqa: E731 - the session clock, shared with virtual sensors
    cpu0 = time.process_time()
    radio = fleet = sim = recorder = None
    backend = scanner_backend = None
    roster = opts.roster
    try:
        if opts.virtual:
            from .sim import SimParams, simulate
            from .sources.bumble_backend import BumbleClient, BumbleScanner, VirtualRadio
            from .sources.virtual import start_fleet

            params = opts.sim_params or SimParams(duration_s=opts.seconds + 20.0, standing_start_s=3.5, standing_end_s=5.0,
                                                  swing_lag_ms=30.0, ipsi_arm_lag_ms=-15.0, contra_arm_lag_ms=10.0)
            sim = simulate(params, seed=opts.sim_seed)
            radio = await VirtualRadio().start()
            links = opts.links
            if links is None:  # a realistic link: 15–30 ms intervals, a few ms of stack jitter, rare loss
                from .sources.virtual import LinkModel
                links = {r: LinkModel(interval_s=(0.015, 0.03, 0.0225, 0.0075)[k % 4], jitter_s=0.005, loss=0.005,
                                      seed=opts.sim_seed * 10 + k) for k, r in enumerate(sim.recording)}
            fleet = await start_fleet(radio, sim, clock=clock, links=links)
            if opts.on_fleet is not None:
                opts.on_fleet(fleet)
            backend, scanner_backend = BumbleClient, BumbleScanner
            if roster is None:
                roster = Roster.from_dict(fleet.roster_dict)
        if roster is None or not roster.sensors:
            from .errors import InputFormatError
            raise InputFormatError("no sensors to connect: give a roster (--roster) or use --virtual")
        rates = {}
        if sim is not None:
            rates = {e.serial: (e.role, sim.recording[e.role].sample_rate_hz, sim.recording[e.role].gyro_dps is not None)
                     for e in roster.sensors if e.role in sim.recording}
        else:
            rates = {e.serial: (e.role, opts.sample_rate_hz, e.gyro) for e in roster.sensors}
        if opts.record_to is not None:
            recorder = _start_recorder(opts, roster, rates, sim)
        analyzer = LiveAnalyzer(rates, config=opts.config, sink=recorder, align=opts.align,
                                pinned=[e.serial for e in roster.sensors if e.pin])
        if recorder is not None:
            recorder.bind(analyzer)
        if opts.on_start is not None:
            opts.on_start(analyzer)

        def on_state(serial, state, battery):
            analyzer.set_state(serial, state, battery_pct=battery)

        stop = opts.stop or asyncio.Event()
        acq = Acquisition(roster, backend=backend, scanner_backend=scanner_backend, clock=clock, on_state=on_state,
                          settings=opts.link_settings)
        async with acq:
            if opts.on_acquisition is not None:
                opts.on_acquisition(acq)
            deadline = clock() + opts.seconds
            next_tick = clock()
            if recorder is not None:
                _record_links(recorder, acq, rates)
                next_lap, lap_n = clock() + (opts.lap_every_s or math.inf), 1
            while not stop.is_set() and clock() < deadline:
                try:
                    item = await asyncio.wait_for(acq.queue.get(), timeout=opts.tick_s)
                except asyncio.TimeoutError:
                    item = None
                ev, st = [], []
                while item is not None:
                    if isinstance(item[2], tuple):  # a time-sync exchange, in arrival order
                        analyzer.on_time_sync(item[1], *item[2])
                    else:
                        e, s = analyzer.on_packet(*item)
                        ev += e
                        st += s
                    item = acq.queue.get_nowait() if not acq.queue.empty() else None
                if clock() >= next_tick:
                    next_tick = clock() + opts.tick_s
                    e, s = analyzer.tick(clock())
                    ev += e
                    st += s
                if opts.on_update is not None and (ev or st):
                    opts.on_update(ev, st, analyzer)
                if recorder is not None and clock() >= next_lap:
                    # a lap starts at its mark: none in the last quarter lap (it would end empty, or after the session)
                    if deadline - next_lap >= 0.25 * opts.lap_every_s:
                        recorder.lap(next_lap, f"lap {lap_n}")
                        lap_n += 1
                    next_lap += opts.lap_every_s
        ev, st = analyzer.finish()
        if opts.on_update is not None and (ev or st):
            opts.on_update(ev, st, analyzer)
        if recorder is not None:
            recorder.close(events=analyzer.core.events_, steps=analyzer.core.steps_, summary=analyzer.core.summary(),
                           meta={"health": [h.as_dict() for h in analyzer.health()]})
        return LiveResult(analyzer, sim, fleet, time.monotonic() - t0, time.process_time() - cpu0, recorder)
    finally:
        if recorder is not None:
            recorder.close()  # after an error: keep what was recorded (no-op after a clean close)
        if fleet is not None:
            await fleet.close()
        if radio is not None:
            await radio.close()


def _start_recorder(opts: LiveOptions, roster: Roster, rates: dict, sim) -> object:
    """The session recorder: sensors from the roster, settings and metadata from the options."""
    from dataclasses import asdict

    from .session.recorder import Recorder
    from .session.store import SensorInfo

    sensors = [SensorInfo(e.serial, e.role, rates[e.serial][1] if e.serial in rates else None,
                          tuple(e.mounting.describe()),
                          gyro_range_dps=(2000 if len(rates.get(e.serial, ())) > 2 and rates[e.serial][2] else 0))
               for e in roster.sensors]
    meta = {"athlete": opts.athlete or roster.athlete, "notes": opts.notes, "tags": list(opts.tags),
            "virtual": opts.virtual,
            # replay and export --recompute estimate the mounting exactly as live did
            "mounting": {"align": opts.align, "pinned": [e.serial for e in roster.sensors if e.pin]}}
    if sim is not None:
        try:
            meta["simulation"] = {"seed": opts.sim_seed, "params": json.loads(json.dumps(asdict(sim.params), default=str))}
        except (TypeError, ValueError, AttributeError):
            pass
    return Recorder(opts.record_to, sensors=sensors, config=opts.config, meta=meta, on_error=opts.on_record_error)


def _record_links(recorder, acq, rates: dict) -> None:
    """What the links learnt on connecting: firmware, ranges, address."""
    from .session.store import SensorInfo

    for serial, link in acq.links.items():
        cfg = link.config
        client = link.client
        recorder.update_sensor(SensorInfo(
            serial, link.role, rates[serial][1] if serial in rates else None, tuple(link.mounting.describe()),
            firmware=link.firmware or (f"{cfg.fw_major}.{cfg.fw_minor}" if cfg else None),
            acc_range_g=cfg.acc_range_g if cfg else None, gyro_range_dps=cfg.gyro_range_dps if cfg else None,
            address=getattr(client, "address", None) if client is not None else None,
            name=f"StrideSync-{serial}"))


# ------------------------------------------------------------------------------------------------- named sources
class VirtualSource:
    """``virtual:seed=N``: four simulated sensors on a virtual BLE radio (:func:`run_live` in virtual mode)."""

    recordable = True

    def __init__(self, spec):
        spec.check_keys({"seed"})
        if spec.target:
            from .errors import InputFormatError
            raise InputFormatError(f"source {spec.text!r}: virtual takes options only (virtual:seed=1)")
        self.spec = spec
        self.seed = int(spec.number("seed", 1))

    async def run(self, opts: LiveOptions) -> LiveResult:
        from dataclasses import replace
        return await run_live(replace(opts, virtual=True, sim_seed=self.seed))


class BleSource:
    """``ble:roster.json``: the roster's sensors over Bluetooth (:func:`run_live`)."""

    recordable = True

    def __init__(self, spec):
        spec.check_keys(set())
        if not spec.target:
            from .errors import InputFormatError
            raise InputFormatError(f"source {spec.text!r}: ble needs a roster file (ble:roster.json)")
        self.spec = spec
        self.roster = Roster.load(Path(spec.target))

    async def run(self, opts: LiveOptions) -> LiveResult:
        from dataclasses import replace
        return await run_live(replace(opts, virtual=False, roster=self.roster))


async def run_source(source, opts: LiveOptions) -> LiveResult:
    """Run ``source`` (a spec such as ``virtual:seed=1`` or an opened source) with ``opts``."""
    from .errors import InputFormatError
    from .sources import open_source

    src = open_source(source) if isinstance(source, str) else source
    if opts.record_to is not None and not src.recordable:
        raise InputFormatError(f"source {src.spec.text!r} cannot be recorded: a session records live sensors' "
                               f"packets (virtual: or ble:); replay and csv sources are files already")
    return await src.run(opts)
