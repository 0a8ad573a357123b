"""Signal primitives shared by the offline reference and the real-time core.

Each is the single written form of one clause of MEASUREMENT.md: the filter
design, the zero-phase initial conditions, the sub-sample refinement, the
dominant period, and the hole/gap rule. The two analysers differ in how they
walk the data, not in these definitions.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal

from .config import DetectorConfig


@lru_cache(maxsize=64)
def lowpass_sos(cutoff_hz: float, sample_rate_hz: float, order: int = 4, max_frac: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """Butterworth low-pass as SOS, with the contract's cap of the cut-off at ``max_frac × fs``.

    Returns ``(sos, zi_unit)``: ``zi_unit × x0`` is the filter's steady state for a constant input x0.
    The arrays are cached and shared: callers must not modify them.
    """
    fc = min(float(cutoff_hz), max_frac * float(sample_rate_hz))
    sos = signal.butter(order, fc, btype="low", fs=float(sample_rate_hz), output="sos")
    zi = signal.sosfilt_zi(sos)
    return sos, zi


def effective_cutoff_hz(cutoff_hz: float, sample_rate_hz: float, max_frac: float = 0.4) -> float:
    return min(float(cutoff_hz), max_frac * float(sample_rate_hz))


try:  # the compiled kernel behind scipy.signal.sosfilt, without its ~35 µs of argument handling
    from scipy.signal._sosfilt import _sosfilt as _sosfilt_kernel
except ImportError:  # pragma: no cover - other SciPy layouts
    _sosfilt_kernel = None


def sosfilt_rows(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Filter each row of 2-D ``x`` with initial states ``zi`` (rows, sections, 2).

    Bit-identical to :func:`scipy.signal.sosfilt` along axis 1 (same compiled loop); returns
    ``(y, zf)``. The real-time core calls it thousands of times a second of data, so it skips the
    public wrapper's validation.
    """
    if _sosfilt_kernel is None:
        return signal.sosfilt(sos, x, axis=1, zi=np.moveaxis(zi, 0, 1))[0], None  # type: ignore[return-value]
    y = np.array(x, dtype=np.float64, order="C", copy=True)
    z = np.array(zi, dtype=np.float64, order="C", copy=True)
    _sosfilt_kernel(sos, y, z)
    return y, z


def zero_phase(x: np.ndarray, sos: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """Forward-backward filtering of one contiguous segment.

    Each pass starts in the steady state of its first input value (no padding),
    so the forward pass can be reproduced sample by sample by a causal filter.
    """
    if len(x) == 0:
        return np.asarray(x, dtype=float)
    y, _ = signal.sosfilt(sos, x, zi=zi * x[0])
    z, _ = signal.sosfilt(sos, y[::-1], zi=zi * y[-1])
    return z[::-1]


def refine_extremum(values: np.ndarray, i: int) -> tuple[float, float]:
    """Parabola through samples i-1, i, i+1: (fractional index shift, vertex value).

    The shift is limited to ±½ sample. At a segment edge (no neighbour) the bare sample is returned.
    """
    if i <= 0 or i >= len(values) - 1:
        return 0.0, float(values[i])
    ym, y0, yp = float(values[i - 1]), float(values[i]), float(values[i + 1])
    den = ym - 2.0 * y0 + yp
    if den == 0.0:
        return 0.0, y0
    shift = 0.5 * (ym - yp) / den
    shift = min(0.5, max(-0.5, shift))
    return shift, y0 - 0.25 * (ym - yp) * shift


def sample_time(t: np.ndarray, i: int, shift: float) -> float:
    """Time at fractional index ``i + shift``, interpolating the sample times linearly."""
    if shift >= 0.0:
        j = min(i + 1, len(t) - 1)
    else:
        j = max(i - 1, 0)
    return float(t[i] + abs(shift) * (t[j] - t[i])) if j != i else float(t[i])




def fill_holes(t: np.ndarray, x: np.ndarray, nominal_dt: float, max_fill_gap_s: float,
               t_prev: float | None = None, x_prev: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bridge short holes by linear interpolation; mark long ones as gaps.

    ``t_prev``/``x_prev`` is the sample before ``t[0]`` (for streaming use). Returns
    ``(t_out, x_out, new_segment)`` where ``new_segment[k]`` is True when output sample k
    starts a new contiguous segment (it follows a gap longer than ``max_fill_gap_s``).
    A hole is an interval over 1.5 nominal periods; it is filled with
    ``round(dt / nominal_dt) - 1`` evenly spaced samples.
    """
    t = np.asarray(t, dtype=float)
    x = np.asarray(x, dtype=float)
    limit = 1.5 * nominal_dt
    if len(t) and (t_prev is None or t[0] - t_prev <= limit) and not np.any(np.diff(t) > limit):
        new = np.zeros(len(t), dtype=bool)  # the usual case: no hole, nothing to copy
        new[0] = t_prev is None
        return t, x, new
    if t_prev is None:
        tt, xx, first_new = t, x, True
    else:
        tt = np.concatenate(([t_prev], t))
        xx = np.concatenate((np.asarray(x_prev, dtype=float)[None, ...], x))
        first_new = False
    dt = np.diff(tt)
    holes = np.flatnonzero(dt > 1.5 * nominal_dt)
    if len(holes) == 0:
        new = np.zeros(len(t), dtype=bool)
        if t_prev is None and len(t):
            new[0] = first_new
        return t, x, new
    t_parts, x_parts, n_parts = [], [], []
    start = 0
    for h in holes:
        t_parts.append(tt[start:h + 1])
        x_parts.append(xx[start:h + 1])
        n_parts.append(np.zeros(h + 1 - start, dtype=bool))
        gap = dt[h]
        if gap <= max_fill_gap_s:
            m = int(round(gap / nominal_dt)) - 1
            if m > 0:
                frac = np.arange(1, m + 1) / (m + 1)
                t_parts.append(tt[h] + frac * gap)
                x_parts.append(xx[h] + frac[:, None] * (xx[h + 1] - xx[h]) if xx.ndim == 2 else xx[h] + frac * (xx[h + 1] - xx[h]))
                n_parts.append(np.zeros(m, dtype=bool))
        else:
            n_parts.append(None)  # marker: next sample starts a segment
        start = h + 1
    t_parts.append(tt[start:])
    x_parts.append(xx[start:])
    n_parts.append(np.zeros(len(tt) - start, dtype=bool))
    # resolve markers
    flags = []
    pending = False
    for p in n_parts:
        if p is None:
            pending = True
            continue
        if pending and len(p):
            p = p.copy()
            p[0] = True
            pending = False
        flags.append(p)
    t_out = np.concatenate(t_parts)
    x_out = np.concatenate(x_parts)
    new = np.concatenate(flags)
    if t_prev is None:
        if len(new):
            new[0] = True
    else:
        t_out, x_out, new = t_out[1:], x_out[1:], new[1:]
    return t_out, x_out, new


@lru_cache(maxsize=64)
def _tail_samples(cutoff_hz: float, sample_rate_hz: float, order: int, max_frac: float, tol: float) -> int:
    sos, _ = lowpass_sos(cutoff_hz, sample_rate_hz, order, max_frac)
    n = int(10 * sample_rate_hz)
    x = np.zeros(n)
    x[0] = 1.0
    h = np.abs(signal.sosfilt(sos, x))
    tail = np.maximum.accumulate(h[::-1])[::-1] / h.max()
    below = np.flatnonzero(tail < tol)
    return int(below[0]) if len(below) else n


def settle_samples(cutoff_hz: float, sample_rate_hz: float, cfg: DetectorConfig) -> int:
    """Look-ahead, in samples, after which the real-time core treats a zero-phase value as final.

    It is where the filter's impulse response has decayed below ``cfg.settle_tol`` of its peak: the
    backward pass's edge transient has faded by then. Measured on the digital filter, because near
    Nyquist (LP 50 Hz at 100 Hz becomes 40 Hz) the poles decay far slower than the cut-off suggests.
    """
    return _tail_samples(float(cutoff_hz), float(sample_rate_hz), cfg.filter_order, cfg.max_cutoff_frac, cfg.settle_tol)

