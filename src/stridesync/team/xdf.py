"""``stridesync import-xdf``: a LabRecorder XDF of StrideSync hub streams → one session file per athlete.

pyxdf reads the file (LabRecorder's clock offsets applied, time stamps not dejittered: each one is a
sample's instant through the hub's clock model). Per athlete, the sensor streams become imported samples
and the events and steps streams the session's results, on the hub's session clock (an LSL stamp minus
the hub's offset, from its health stream), so the results equal what the hub computed. Streams that are
not StrideSync's are left out; a stream of another protocol version, or samples that do not decode, are
left out with one warning each.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from ..errors import InputFormatError, StrideSyncError
from ..lsl_streams import EVENTS, HEALTH, IMU, PROTOCOL_VERSION, STEPS, WireError, decode_event, decode_health, decode_step
from ..model import Role

log = logging.getLogger(__name__)


def _first(d, key, default=""):
    """pyxdf's XML dicts hold lists: the first value of ``key``."""
    if not isinstance(d, dict):
        return default
    v = d.get(key)
    if isinstance(v, list) and v:
        return v[0]
    return default if v is None else v


class _Decl:
    def __init__(self, serial: str, role: Role, rate_hz: float, gyro: bool):
        self.serial, self.role, self.rate_hz, self.gyro = serial, role, rate_hz, gyro


def read_xdf_athletes(path: Path) -> tuple[dict, list[str]]:
    """Per athlete: ``{"imu": [(decl, data, stamps)], "events": [...], "steps": [...], "offset": float|None}``,
    and the warnings."""
    import pyxdf

    try:
        streams, _ = pyxdf.load_xdf(str(path), synchronize_clocks=True, dejitter_timestamps=False)
    except FileNotFoundError:
        raise InputFormatError(f"{path}: no such file") from None
    except Exception as exc:  # pyxdf raises plain exceptions for a file that is not XDF
        raise InputFormatError(f"{path}: not a readable XDF file ({exc.__class__.__name__}: {' '.join(str(exc).split())[:120]})") from None
    warnings: list[str] = []
    athletes: dict[str, dict] = {}
    for s in streams:
        info = s.get("info", {})
        name = _first(info, "name")
        ours = _first(_first(info, "desc", {}) or {}, "stridesync", None)
        if not isinstance(ours, dict):
            continue
        proto, athlete, kind = _first(ours, "protocol"), _first(ours, "athlete"), _first(ours, "kind")
        if proto != str(PROTOCOL_VERSION):
            warnings.append(f"{path}: stream {name!r} speaks StrideSync LSL protocol {proto or '?'}, not "
                            f"{PROTOCOL_VERSION}: left out")
            continue
        if not athlete:
            continue
        a = athletes.setdefault(athlete, {"imu": [], "events": [], "steps": [], "offset": None})
        stamps = np.asarray(s.get("time_stamps", []), dtype=np.float64)
        series = s.get("time_series", [])
        bad = 0
        if kind == IMU:
            try:
                role = Role(_first(ours, "role"))
            except ValueError:
                warnings.append(f"{path}: stream {name!r} has an unknown role: left out")
                continue
            data = np.asarray(series, dtype=np.float64).reshape(len(stamps), -1) if len(stamps) else np.zeros((0, 6))
            rate = float(_first(info, "nominal_srate", 200.0) or 200.0)
            decl = _Decl(_first(ours, "serial") or f"lsl:{role.value}", role, rate, data.shape[1] >= 6)
            a["imu"].append((decl, data, stamps))
        elif kind in (EVENTS, STEPS, HEALTH):
            for row in series:
                try:
                    if kind == EVENTS:
                        a["events"].append(decode_event(row)[0])
                    elif kind == STEPS:
                        a["steps"].append(decode_step(row)[0])
                    elif a["offset"] is None:
                        off = decode_health(row).get("lsl_offset_s")
                        if isinstance(off, (int, float)):
                            a["offset"] = float(off)
                except WireError:
                    bad += 1
        if bad:
            warnings.append(f"{path}: {bad} malformed samples in {name!r} left out")
    return athletes, warnings


def import_xdf(path: Path, out_dir: Path) -> list[dict]:
    """Write one session per athlete into ``out_dir``; returns what was written."""
    from .recording import TeamRecording

    athletes, warnings = read_xdf_athletes(path)
    for w in warnings:
        log.warning("%s", w)
    if not athletes:
        raise InputFormatError(f"{path}: no StrideSync streams in this XDF file")
    done = []
    for athlete, a in sorted(athletes.items()):
        if not a["imu"]:
            log.warning("%s: %s has no sensor streams: no session written", path, athlete)
            continue
        rec = TeamRecording(out_dir, athlete, [d for d, _, _ in a["imu"]], meta={"imported_from": Path(path).name})
        if a["offset"] is not None:
            rec.set_base(a["offset"])
        for decl, data, stamps in a["imu"]:
            order = np.argsort(stamps, kind="stable")
            for k in range(0, len(order), 1000):
                idx = order[k:k + 1000]
                rec.samples(decl.role, data[idx], stamps[idx])
        rec.results(a["events"], a["steps"], rec.base_s if a["offset"] is None else a["offset"])
        p = rec.close()
        if p is not None:
            done.append({"athlete": athlete, "path": p, "steps": len(a["steps"]), "events": len(a["events"]),
                         "sensors": len(a["imu"])})
    return done, warnings


def run_import_xdf(args: argparse.Namespace) -> int:
    from ..lsl_streams import need_lsl

    need_lsl("import-xdf")
    if not args.out_dir.is_dir():
        raise StrideSyncError(f"{args.out_dir}: no such folder")
    done, warnings = import_xdf(args.xdf, args.out_dir)
    for w in warnings:
        print(f"warning: {w}")
    for d in done:
        print(f"{d['athlete']}: {d['sensors']} sensors, {d['steps']} steps, {d['events']} events → {d['path']}")
    return 0


__all__ = ["import_xdf", "read_xdf_athletes", "run_import_xdf"]
