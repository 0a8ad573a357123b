"""What a session report is made of: one plain, frozen input, independent of the session-file format.

A report is rendered from :class:`ReportData`, never from a session file directly, so the renderer can
be tested on a simulated run today and fed from the session store once it exists. The adapters at the
bottom build it:

- :func:`report_data_from_analysis` from any recording plus its analysis (events, steps, summary);
- :func:`report_data_from_simulation` from a :class:`~stridesync.sim.SimResult` (tests, benchmarks);
- :func:`report_data_from_session` is the one place where the session store plugs in (the lead wires it).

This module is Qt-free: it only shapes data.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stridesync import __version__
from stridesync.core.config import DetectorConfig
from stridesync.model import Event, Recording, Role, Step

from .words import local_date_words

__all__ = [
    "SENSOR_FIELDS",
    "ReportData",
    "estimate_loss_pct",
    "report_data_from_analysis",
    "report_data_from_session",
    "report_data_from_simulation",
]

#: Keys of one sensor entry in ``provenance["sensors"]``. A missing key or ``None`` reads "not recorded".
SENSOR_FIELDS = ("role", "serial", "firmware", "rate_hz", "range_g", "gyro_range_dps", "loss_pct", "clock_residual_ms",
                 "mounting", "malformed")


@dataclass(frozen=True)
class ReportData:
    """Everything a session report shows. Units are in the names.

    Attributes
    ----------
    athlete, notes : str
        Free user text; every renderer escapes it.
    date : str
        The session date as the user should read it (ISO ``YYYY-MM-DD`` or with a time).
    duration_s : float
        Length of the session (s), standing time included.
    events, steps : list
        The analyser's output (session clock, s).
    summary : dict
        :func:`stridesync.core.measures.summarize` over the whole session. The report shows these
        numbers as they are; it never recomputes a session statistic.
    laps : list of (t_s, label)
        Lap markers on the session clock. Each marker **starts** a lap that runs to the next marker
        or to the end of the session; steps before the first marker are listed as "before the first lap".
    provenance : dict
        ``sensors``: list of dicts with the keys of :data:`SENSOR_FIELDS`; ``detector_settings``: the
        :meth:`DetectorConfig.to_dict` used; ``software_version``; ``target_model``; optionally
        ``analyser`` (e.g. "reference" or "real-time") and ``source`` (where the data came from).
    """

    athlete: str
    date: str
    duration_s: float
    notes: str = ""
    events: Sequence[Event] = field(default_factory=list)
    steps: Sequence[Step] = field(default_factory=list)
    summary: Mapping[str, Any] = field(default_factory=dict)
    laps: Sequence[tuple[float, str]] = field(default_factory=list)
    provenance: Mapping[str, Any] = field(default_factory=dict)

    @property
    def roles_worn(self) -> tuple[Role, ...]:
        """The sensors worn: from the provenance if it lists them, else the roles that produced events."""
        listed = [s.get("role") for s in self.provenance.get("sensors", []) or []]
        roles = {Role(r) for r in listed if r}
        if not roles:
            roles = {e.role for e in self.events}
        return tuple(r for r in Role if r in roles)

    @property
    def target_model(self) -> str:
        return str(self.summary.get("target_model") or self.provenance.get("target_model") or "together")

    @property
    def rule_sets(self) -> dict[Role, str]:
        """The rule set ('gyro' or 'accel', MEASUREMENT.md §2) each analysed sensor's events were found with:
        the summary's ``rule_sets``; for results without it, the ``source`` of each role's events."""
        listed = self.summary.get("rule_sets") or {}
        if listed:
            return {Role(r): str(v) for r, v in listed.items()}
        out: dict[Role, str] = {}
        for e in self.events:
            out.setdefault(e.role, e.source)
        return out

    @property
    def clipped_swing_peaks(self) -> dict[Role, int]:
        """Per shin, the counted strides whose swing peak reached the gyroscope's full scale (only those > 0)."""
        got = self.summary.get("clipped_swing_peaks") or {}
        return {Role(r): int(n) for r, n in got.items() if n}


def estimate_loss_pct(time_s: np.ndarray, rate_hz: float) -> float | None:
    """Samples missing from a sensor's stream, in %, estimated from its time stamps.

    Without packet sequence numbers (a CSV, a simulation), the expected count is the span × rate + 1.
    """
    if len(time_s) < 2 or not rate_hz or not np.isfinite(rate_hz):
        return None
    expected = (float(time_s[-1]) - float(time_s[0])) * rate_hz + 1.0
    return max(0.0, 100.0 * (1.0 - len(time_s) / expected))


def _recording_sensors(recording: Recording, *, range_g: Mapping[Role, float] | None = None,
                       gyro_range_dps: float | None = None, serial_prefix: str | None = None,
                       firmware: str | None = None) -> list[dict]:
    out = []
    for role in Role:
        s = recording.get(role)
        if s is None:
            continue
        rate = s.sample_rate_hz
        out.append({
            "role": role.value,
            "serial": f"{serial_prefix}-{role.value}" if serial_prefix else None,
            "firmware": firmware,
            "rate_hz": rate,
            "range_g": (range_g or {}).get(role),
            "gyro_range_dps": gyro_range_dps if s.gyro_dps is not None else None,
            "loss_pct": estimate_loss_pct(s.time_s, rate),
            "clock_residual_ms": None,
            "mounting": None,
        })
    return out


def report_data_from_analysis(recording: Recording | None, events: Sequence[Event], steps: Sequence[Step],
                              summary: Mapping[str, Any], *, config: DetectorConfig | None = None,
                              athlete: str = "", date: str | None = None, notes: str = "",
                              laps: Sequence[tuple[float, str]] = (), sensors: Sequence[Mapping] | None = None,
                              analyser: str = "reference", source: str = "", duration_s: float | None = None) -> ReportData:
    """A :class:`ReportData` from an analysed recording.

    ``sensors`` overrides the sensor list that is otherwise derived from ``recording`` (rates, and loss
    estimated from the time stamps; serial, firmware and clock residual are then "not recorded").
    """
    cfg = config or DetectorConfig(target_model=str(summary.get("target_model", "together")))
    if duration_s is None:
        if recording:
            duration_s = max(s.time_s[-1] for s in recording.values()) - min(s.time_s[0] for s in recording.values())
        elif events:
            duration_s = max(e.time_s for e in events) - min(e.time_s for e in events)
        else:
            duration_s = 0.0
    sensor_list = [dict(s) for s in sensors] if sensors is not None else (_recording_sensors(recording) if recording else [])
    return ReportData(
        athlete=athlete, date=date or _dt.date.today().isoformat(), duration_s=float(duration_s), notes=notes,
        events=list(events), steps=list(steps), summary=dict(summary), laps=sorted(laps),
        provenance={"sensors": sensor_list, "detector_settings": cfg.to_dict(), "software_version": __version__,
                    "target_model": cfg.target_model, "analyser": analyser, "source": source},
    )


def report_data_from_simulation(sim, *, config: DetectorConfig | None = None, athlete: str = "Simulated runner",
                                date: str | None = None, notes: str = "", laps: Sequence[tuple[float, str]] | None = None,
                                lap_s: float | None = None) -> ReportData:
    """Analyse a simulated run with the reference analyser and wrap it for a report.

    ``lap_s`` adds a lap marker every ``lap_s`` seconds from the first step ("Lap 1", "Lap 2", …) when
    ``laps`` is not given. Sensors get simulated serials ("SIM-<role>"), firmware "simulated", the
    simulator's ranges, and no clock residual (the simulator's clocks are exact).
    """
    from stridesync.core.reference import analyze

    cfg = config or DetectorConfig()
    res = analyze(sim.recording, cfg)
    p = sim.params
    ranges = {r: (p.shin_range_g if r.is_shin else p.wrist_range_g) for r in sim.recording}
    sensors = _recording_sensors(sim.recording, range_g=ranges, gyro_range_dps=getattr(p, "gyro_range_dps", None),
                                 serial_prefix="SIM", firmware="simulated")
    if laps is None:
        laps = []
        if lap_s and res.steps:
            t0, t1 = res.steps[0].time_s, res.steps[-1].time_s
            k, t = 1, t0 - 0.5
            while t < t1:
                laps.append((round(t, 3), f"Lap {k}"))
                k, t = k + 1, t + lap_s
    return report_data_from_analysis(sim.recording, res.events, res.steps, res.summary, config=cfg, athlete=athlete,
                                     date=date, notes=notes, laps=laps, sensors=sensors, analyser="reference",
                                     source="simulated run (stridesync.sim)", duration_s=p.duration_s)


def report_data_from_session(session, source: str = "live", on_progress=None) -> ReportData:
    """**Adapter for the session store** (``stridesync.session.store.Session``; the lead confirms the wiring).

    Reads the metadata (athlete, date, notes), the duration, the cached events, steps and summary of
    ``source`` ("live" as computed while recording, or a recompute), the stored detector settings, laps
    (``Mark`` with ``kind == "lap"``) and per sensor its serial, role, mounting, firmware, rate and range.
    Packet loss and the clock residual come from the sensor health the recorder stores at the end of a
    live session (``meta["health"]``).

    A recording that did not end cleanly (a crash, ``kill -9``) holds its raw inputs but no cached results:
    they are recomputed by a deterministic replay (``on_progress(data_time_s)`` as it goes), its sensor
    health gives the loss and clock figures, and the provenance says the results were recomputed.

    Raises
    ------
    InputFormatError
        The session holds no analysed results for ``source`` and none can be recomputed.
    """
    from stridesync.errors import InputFormatError

    summary = session.summary(source)
    events = steps = None
    health_rows = session.meta.get("health") or []
    analyser = "real-time core, as computed live" if source == "live" else source
    if summary is None and source == "live" and hasattr(session, "columns"):
        # a recording that did not end cleanly (a crash, kill -9) has its raw inputs but no cached results:
        # recompute them through the same path (a deterministic replay), and say so in the provenance
        from stridesync.session.export import session_results
        res = session_results(session, on_progress=on_progress)
        events, steps, summary = res.events, res.steps, res.summary
        health_rows = res.health or health_rows  # the replay's own loss and clock figures
        from stridesync.session.export import recompute_reason
        analyser = f"real-time core, recomputed from the recorded inputs ({recompute_reason(session)})"
    if summary is None:
        raise InputFormatError(f"{getattr(session, 'path', 'session')}: no analysed results ({source}) in this session")
    residual: dict[str, float] = {}
    for _, serial, model in getattr(session, "clock_estimates", lambda: [])():
        v = (model or {}).get("residual_s")
        if v is not None and v == v:
            residual[serial] = 1000.0 * float(v)
    health = {h.get("key"): h for h in health_rows if isinstance(h, dict)}
    sensors = []
    for s in session.sensors:
        h = health.get(s.serial, {})
        sensors.append({"role": s.role.value if s.role else None, "serial": s.serial, "firmware": s.firmware,
                        "rate_hz": s.rate_hz, "range_g": getattr(s, "acc_range_g", None),
                        "gyro_range_dps": getattr(s, "gyro_range_dps", None) or None,
                        "loss_pct": h.get("loss_pct"),
                        "malformed": h.get("malformed"),  # packets left out as malformed (stridesync.live)
                        "clock_residual_ms": h.get("clock_residual_ms", residual.get(s.serial)),
                        "mounting": list(s.mounting) if getattr(s, "mounting", None) else None})
    cfg = session.detector_config
    laps = [(m.t_s, m.label or f"Lap {i + 1}") for i, m in enumerate(session.laps())]
    return ReportData(
        athlete=session.athlete, date=local_date_words(session.date), duration_s=float(session.duration_s),
        notes=session.notes, events=session.events(source) if events is None else events,
        steps=session.steps(source) if steps is None else steps, summary=summary, laps=laps,
        provenance={"sensors": sensors, "detector_settings": cfg.to_dict(),
                    "software_version": session.software_version or __version__,
                    "target_model": summary.get("target_model", cfg.target_model),
                    "analyser": analyser,
                    "source": str(getattr(session, "path", "") or "session file")},
    )
