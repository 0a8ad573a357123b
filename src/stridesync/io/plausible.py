"""Plausibility of a recording before it is analysed: rates, time units and acceleration units.

A wrong time unit or an acceleration in m/s² does not fail any format check, yet it turns every figure into
nonsense (or, at 1 Hz, into a crash deep in the filters). This says, in one line, what looks wrong and the
likely cause, the way a colleague glancing at the file would.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputFormatError
from ..model import Recording

#: the sample rates the rules are designed and validated for (MEASUREMENT.md §1)
MIN_RATE_HZ, MAX_RATE_HZ = 100.0, 400.0
#: a little slack for clocks and resampling
_SLACK = 0.05
G = 9.80665


def _in_range(fs: float) -> bool:
    return MIN_RATE_HZ * (1 - _SLACK) <= fs <= MAX_RATE_HZ * (1 + _SLACK)


def check_recording(recording: Recording, where: str = "input") -> None:
    """Raise :class:`InputFormatError` (one line) when a sensor's rate or units are implausible."""
    for role, s in recording.items():
        if len(s) < 2:
            continue
        fs = s.sample_rate_hz
        if not _in_range(fs):
            hint = ""
            for factor, unit, flag in ((1e3, "milliseconds", "--time-unit ms"), (1e6, "microseconds", "--time-unit us"),
                                       (1e-3, "seconds read as milliseconds", "--time-unit s")):
                if _in_range(fs * factor):
                    hint = f"; the times look like {unit} (that would be {fs * factor:.0f} Hz): use {flag}"
                    break
            if not hint:
                hint = (f"; StrideSync's rules need {MIN_RATE_HZ:.0f}-{MAX_RATE_HZ:.0f} Hz"
                        + (" (resample the data, or record at 100 Hz or more)" if fs < MIN_RATE_HZ else ""))
            raise InputFormatError(f"{where}: {role.value} is sampled at {fs:.4g} Hz{hint}")
        norm = np.sqrt(np.einsum("ij,ij->i", s.acc_g, s.acc_g))
        med = float(np.median(norm))
        if 0.8 * G <= med <= 1.25 * G:
            raise InputFormatError(f"{where}: {role.value}'s acceleration has a median magnitude of {med:.2f}: "
                                   f"that is gravity in m/s², and StrideSync reads g (divide by {G}, or import "
                                   f"with --units m/s2)")
