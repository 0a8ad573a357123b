"""Contract features on short, known strides: used to calibrate the simulator's templates.

The simulator places each kinematic feature by warping a stride template. Where a feature
actually lands after the contract's zero-phase filters (MEASUREMENT.md §2) depends a little on
cadence, sample rate and the other terms of the signal, so :mod:`stridesync.sim` renders a few
stationary strides, finds the features here, and puts its warp knots at the phases found.

This is deliberately *not* a detector: strides are known, so it only takes windowed extrema.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

#: Contract low-pass cut-offs, Hz (MEASUREMENT.md §2).
LP_CONTACT_HZ = 50.0
LP_PUSH_HZ = 15.0
LP_SWING_HZ = 10.0
LP_ARM_HZ = 4.0


def lowpass(x: np.ndarray, cutoff_hz: float, sample_rate_hz: float) -> np.ndarray:
    """Zero-phase 4th-order Butterworth low-pass along axis 0, as the contract defines "LP f Hz".

    The cut-off is capped at 0.4 × the sample rate (MEASUREMENT.md §2).
    """
    fc = min(cutoff_hz, 0.4 * sample_rate_hz)
    sos = signal.butter(4, fc, fs=sample_rate_hz, output="sos")
    return signal.sosfiltfilt(sos, x, axis=0)


def refine_peak(y: np.ndarray, i: int) -> tuple[float, float]:
    """Parabolic sub-sample refinement of an extremum at sample ``i``.

    Returns
    -------
    shift : float
        Offset from ``i`` in samples, limited to ±0.5.
    value : float
        The parabola's value at the refined position.
    """
    if i <= 0 or i >= len(y) - 1:
        return 0.0, float(y[i])
    ym, y0, yp = float(y[i - 1]), float(y[i]), float(y[i + 1])
    den = ym - 2.0 * y0 + yp
    if den == 0.0:
        return 0.0, y0
    shift = float(np.clip(0.5 * (ym - yp) / den, -0.5, 0.5))
    return shift, y0 - 0.25 * (ym - yp) * shift


def window_extremum(
    time_s: np.ndarray, y: np.ndarray, t0_s: float, t1_s: float, *, maximum: bool
) -> tuple[float, float] | None:
    """Refined time (s) and value of the max (or min) of ``y`` with ``t0_s <= t < t1_s``."""
    i0, i1 = np.searchsorted(time_s, [t0_s, t1_s])
    if i1 - i0 < 3:
        return None
    seg = y[i0:i1]
    i = int(i0 + (np.argmax(seg) if maximum else np.argmin(seg)))
    shift, value = refine_peak(y if maximum else -y, i)
    if not maximum:
        value = -value
    dt = float(np.median(np.diff(time_s[max(i - 2, 0) : i + 3])))
    return float(time_s[i] + shift * dt), value
