"""A live session end to end: sensors (real or virtual) → BLE → LiveAnalyzer, on one asyncio loop.

The CLI's ``live``, ``record``, ``demo`` and ``hub`` and the dashboard's worker thread all call :func:`run_live`
with a source (``opts.source``): :class:`VirtualSource` (``virtual:seed=N``) starts a
:class:`~.sources.bumble_backend.VirtualRadio`, simulates a run, puts one virtual sensor per role on the radio
and reaches them through the real bleak API with the bumble backend; :class:`BleSource` (``ble:roster.json``)
reaches the roster's sensors with bleak's own backend. Each brings its radio (:meth:`VirtualSource.radio`) and
its scan (:meth:`VirtualSource.scan`); nothing else branches on which it is.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .core.config import DetectorConfig
from .live import LiveAnalyzer, LiveResult
from .model import Event, Step
from .roster import Roster

log = logging.getLogger(__name__)


@dataclass
class LiveOptions:
    """What to run: ``seconds`` of streaming from ``source``.

    ``source`` is a source spec (``virtual:seed=1``, ``ble:roster.json``) or an opened :class:`VirtualSource` /
    :class:`BleSource`. With a virtual source, ``roster`` (optional) picks which simulated sensors to connect and
    their mountings, and ``sim_params``, ``links`` and ``on_fleet`` shape the simulation.
    """

    seconds: float = 30.0
    source: object = "virtual:seed=1"
    roster: Roster | None = None
    config: DetectorConfig = field(default_factory=DetectorConfig)
    sim_params: object | None = None  # stridesync.sim.SimParams for virtual mode
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


@dataclass
class Radio:
    """What a live source brings up for a session: the sensors to connect (``roster``) and the bleak backends
    that reach them (``None``: bleak's own, a real adapter); a virtual source adds its simulation and fleet."""

    roster: Roster
    backend: type | None = None
    scanner_backend: type | None = None
    sim: object | None = None
    fleet: object | None = None
    seed: int | None = None


async def run_live(opts: LiveOptions) -> LiveResult:
    """Run a live session from ``opts.source`` until ``opts.seconds`` pass or ``opts.stop`` is set; everything is
    stopped cleanly (the radio last)."""
    from .sources import open_source

    t0 = time.monotonic() if opts.clock_origin_s is None else float(opts.clock_origin_s)
    clock = lambda: time.monotonic() - t0  # noqa: E731 - the session clock, shared with virtual sensors
    cpu0 = time.process_time()
    src = open_source(opts.source) if isinstance(opts.source, str) else opts.source
    if not hasattr(src, "radio"):
        from .errors import InputFormatError
        raise InputFormatError(f"source {src.spec.text!r} has no sensors to connect live (virtual: or ble:)")
    async with src.radio(opts, clock) as radio:
        return await _acquire(opts, radio, clock, t0, cpu0)


async def _acquire(opts: LiveOptions, radio: Radio, clock: Callable[[], float], t0: float, cpu0: float) -> LiveResult:
    """The session on a radio that is up: connect the roster's sensors, analyse, record, until the end."""
    from .sources.ble import Acquisition

    recorder = None
    roster, sim = radio.roster, radio.sim
    try:
        rates = {}
        if sim is not None:
            rates = {e.serial: (e.role, sim.recording[e.role].sample_rate_hz, sim.recording[e.role].gyro_dps is not None)
                     for e in roster.sensors if e.role in sim.recording}
        else:
            rates = {e.serial: (e.role, opts.sample_rate_hz, e.gyro) for e in roster.sensors}
        if opts.record_to is not None:
            recorder = _start_recorder(opts, roster, rates, radio)
        analyzer = LiveAnalyzer(rates, config=opts.config, sink=recorder, align=opts.align,
                                pinned=[e.serial for e in roster.sensors if e.pin])
        if recorder is not None:
            recorder.bind(analyzer)
        if opts.on_start is not None:
            opts.on_start(analyzer)

        def on_state(serial, state, battery):
            analyzer.set_state(serial, state, battery_pct=battery)

        stop = opts.stop or asyncio.Event()
        acq = Acquisition(roster, backend=radio.backend, scanner_backend=radio.scanner_backend, clock=clock,
                          on_state=on_state, settings=opts.link_settings)
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
        return LiveResult(analyzer, sim, radio.fleet, time.monotonic() - t0, time.process_time() - cpu0, recorder)
    finally:
        if recorder is not None:
            recorder.close()  # after an error: keep what was recorded (no-op after a clean close)


def _start_recorder(opts: LiveOptions, roster: Roster, rates: dict, radio: Radio) -> object:
    """The session recorder: sensors from the roster, settings and metadata from the options."""
    from dataclasses import asdict

    from .session.recorder import Recorder
    from .session.store import SensorInfo

    sensors = [SensorInfo(e.serial, e.role, rates[e.serial][1] if e.serial in rates else None,
                          tuple(e.mounting.describe()),
                          gyro_range_dps=(2000 if len(rates.get(e.serial, ())) > 2 and rates[e.serial][2] else 0))
               for e in roster.sensors]
    meta = {"athlete": opts.athlete or roster.athlete, "notes": opts.notes, "tags": list(opts.tags),
            "virtual": radio.sim is not None,
            # replay and export --recompute estimate the mounting exactly as live did
            "mounting": {"align": opts.align, "pinned": [e.serial for e in roster.sensors if e.pin]}}
    if radio.sim is not None:
        try:
            meta["simulation"] = {"seed": radio.seed,
                                  "params": json.loads(json.dumps(asdict(radio.sim.params), default=str))}
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
    """``virtual:seed=N[,loss=P]``: four simulated sensors on a virtual BLE radio, reached through the real bleak
    API; ``loss`` is the probability that a data packet never arrives (default 0.005)."""

    recordable = True

    def __init__(self, spec):
        from .errors import InputFormatError

        spec.check_keys({"seed", "loss"})
        if spec.target:
            raise InputFormatError(f"source {spec.text!r}: virtual takes options only (virtual:seed=1)")
        self.spec = spec
        self.seed = int(spec.number("seed", 1))
        self.loss = spec.number("loss", 0.005)
        if not 0.0 <= self.loss < 1.0:
            raise InputFormatError(f"source {spec.text!r}: loss is a probability below 1")

    async def run(self, opts: LiveOptions) -> LiveResult:
        from dataclasses import replace
        return await run_live(replace(opts, source=self))

    @asynccontextmanager
    async def radio(self, opts: LiveOptions, clock: Callable[[], float]):
        """A virtual radio with the simulated runner's sensors on it (a realistic link unless ``opts.links``)."""
        from .sim import SimParams, simulate
        from .sources.bumble_backend import BumbleClient, BumbleScanner, VirtualRadio
        from .sources.virtual import LinkModel, start_fleet

        params = opts.sim_params or SimParams(duration_s=opts.seconds + 20.0, standing_start_s=3.5, standing_end_s=5.0,
                                              swing_lag_ms=30.0, ipsi_arm_lag_ms=-15.0, contra_arm_lag_ms=10.0)
        sim = simulate(params, seed=self.seed)
        links = opts.links
        if links is None:  # a realistic link: 15–30 ms intervals, a few ms of stack jitter, rare loss
            links = {r: LinkModel(interval_s=(0.015, 0.03, 0.0225, 0.0075)[k % 4], jitter_s=0.005, loss=self.loss,
                                  seed=self.seed * 10 + k) for k, r in enumerate(sim.recording)}
        radio = await VirtualRadio().start()
        fleet = None
        try:
            fleet = await start_fleet(radio, sim, clock=clock, links=links)
            if opts.on_fleet is not None:
                opts.on_fleet(fleet)
            roster = opts.roster or Roster.from_dict(fleet.roster_dict)
            yield Radio(roster, BumbleClient, BumbleScanner, sim, fleet, self.seed)
        finally:
            if fleet is not None:
                await fleet.close()
            await radio.close()

    async def scan(self, seconds: float, *, sim_params=None) -> list:
        """The simulated sensors as a scan finds them, through the same bleak API (and the same serials)."""
        from .sim import SimParams, simulate
        from .sources.ble import scan
        from .sources.bumble_backend import BumbleScanner, VirtualRadio
        from .sources.virtual import start_fleet

        from dataclasses import replace

        params = (replace(sim_params, duration_s=6.0) if sim_params is not None
                  else SimParams(duration_s=6.0, standing_start_s=1.0, standing_end_s=1.0))
        t0 = time.monotonic()
        async with VirtualRadio() as radio:
            fleet = await start_fleet(radio, simulate(params, seed=self.seed), clock=lambda: time.monotonic() - t0)
            try:
                return await scan(seconds, backend=BumbleScanner)
            finally:
                await fleet.close()


class BleSource:
    """``ble:roster.json``: the roster's sensors over Bluetooth, with bleak's own backend (``ble:`` alone scans)."""

    recordable = True

    def __init__(self, spec):
        spec.check_keys(set())
        self.spec = spec
        self.roster = Roster.load(Path(spec.target)) if spec.target else None

    async def run(self, opts: LiveOptions) -> LiveResult:
        from dataclasses import replace
        return await run_live(replace(opts, source=self))

    @asynccontextmanager
    async def radio(self, opts: LiveOptions, clock: Callable[[], float]):
        roster = self.roster or opts.roster
        if roster is None or not roster.sensors:
            from .errors import InputFormatError
            raise InputFormatError(f"source {self.spec.text!r}: no sensors to connect: give a roster (ble:roster.json)")
        yield Radio(roster)

    async def scan(self, seconds: float, **_) -> list:
        from .sources.ble import scan
        return await scan(seconds)


async def run_source(source, opts: LiveOptions) -> LiveResult:
    """Run ``source`` (a spec such as ``virtual:seed=1`` or an opened source) with ``opts``."""
    from .errors import InputFormatError
    from .sources import open_source

    src = open_source(source) if isinstance(source, str) else source
    if opts.record_to is not None and not src.recordable:
        raise InputFormatError(f"source {src.spec.text!r} cannot be recorded: a session records live sensors' "
                               f"packets (virtual: or ble:); replay and csv sources are files already")
    return await src.run(opts)
