"""``csv:run.csv[,speed=S][,align=given]``: a wide samples CSV (docs/formats.md) as a source.

The file is read and checked as ``analyze`` reads it (plausible units and rates) and played through the one
replay engine (:class:`stridesync.session.replay.Replay` with its pacer): each sensor's mounting estimated as
live does (``align=given`` skips it), samples to the core in 20 ms blocks, as fast as possible or at ``speed`` ×
real time. The steps are those of ``analyze`` on the same file (tested).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from ..core.config import DetectorConfig
from ..errors import InputFormatError
from ..io import read_wide_csv
from ..io.plausible import check_recording

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
        from ..session.replay import Replay, run_source_replay  # the engine only when the source runs

        rec = read_wide_csv(self.path)
        check_recording(rec, str(self.path))
        if not any(len(s) >= 2 for s in rec.values()):
            raise InputFormatError(f"{self.path}: no sensor has samples to analyse")

        @contextmanager
        def opened(hooks):
            yield Replay(recording=rec, align=self.align, speed=self.speed, config=opts.config or DetectorConfig(),
                         block_s=BLOCK_S, **hooks)

        return await run_source_replay(opened, opts)
