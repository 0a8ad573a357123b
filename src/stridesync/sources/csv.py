"""``csv:run.csv[,speed=S]``: a wide samples CSV (docs/formats.md) fed to the real-time core as a source.

The file is read and checked as ``analyze`` reads it (plausible units and rates), each sensor's mounting is
estimated as live does (``align=given`` skips it), and its samples go to the core in 20 ms blocks, as fast as
possible or at ``speed`` × real time. The steps are those of ``analyze`` on the same file (tested).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from ..core.config import DetectorConfig
from ..core.mounting import MountingTracker
from ..core.realtime import RealtimeCore
from ..errors import InputFormatError
from ..io import read_wide_csv
from ..io.plausible import check_recording
from ..live import SamplesAnalyzer
from ..pipeline import blocks

BLOCK_S = 0.02


class CsvSource:
    recordable = False

    def __init__(self, spec):
        spec.check_keys({"speed", "align"})
        if not spec.target:
            raise InputFormatError(f"source {spec.text!r}: csv needs a file (csv:run.csv)")
        self.spec, self.path = spec, Path(spec.target)
        self.speed = spec.number("speed", None)
        if self.speed is not None and not self.speed > 0:
            raise InputFormatError(f"source {spec.text!r}: speed must be positive")
        self.align = spec.params.get("align", "auto")
        if self.align not in ("auto", "given"):
            raise InputFormatError(f"source {spec.text!r}: align must be auto or given")

    async def run(self, opts):
        from ..live import LiveResult

        rec = read_wide_csv(self.path)
        check_recording(rec, str(self.path))
        rates = {r: s.sample_rate_hz for r, s in rec.items() if len(s) >= 2}
        if not rates:
            raise InputFormatError(f"{self.path}: no sensor has samples to analyse")
        mounting = ({r: MountingTracker(r, rates[r], has_gyro=rec[r].gyro_dps is not None) for r in rates}
                    if self.align == "auto" else {})
        core = RealtimeCore(rates, config=opts.config or DetectorConfig(), mounting=mounting,
                            gyro_roles=[r for r in rates if rec[r].gyro_dps is not None])
        a = SamplesAnalyzer(core)
        if opts.on_start is not None:
            opts.on_start(a)
        t0_wall = time.monotonic()
        t0_data = None
        for group in blocks({r: rec[r] for r in rates}, BLOCK_S):
            if opts.stop is not None and opts.stop.is_set():
                break
            t = max(float(b[1][-1]) for b in group)
            if t0_data is None:
                t0_data = t
            if self.speed is not None:
                ahead = (t - t0_data) / self.speed - (time.monotonic() - t0_wall)
                if ahead > 0:
                    await asyncio.sleep(ahead)
            a.now_s = t
            ev, st = core.push_many(group)
            if opts.on_update is not None and (ev or st):
                opts.on_update(ev, st, a)
        ev, st = core.finish()
        if opts.on_update is not None and (ev or st):
            opts.on_update(ev, st, a)
        return LiveResult(a, wall_s=time.monotonic() - t0_wall)
