"""Sensor-clock → session-clock alignment from BLE arrival times and TIME_SYNC exchanges.

Every data packet carries the sensor-clock time of its samples; the host only knows when the
packet *arrived*. Arrival is late by a delay that is never below a floor and often far above it:
the packet waits for the next BLE connection event (0 … one connection interval, 7.5–50 ms),
then for the host stack (a fraction of a millisecond to tens of milliseconds, rarely more when
the host stalls). Averaging such delays (least squares, mean offset) gives a biased, noisy
offset; their *minimum* is stable. This module fits the lower envelope of
``arrival − sensor time`` against sensor time (the minimum-delay line of Moon, Skelly &
Towsley 1999, and of NTP's minimum-delay filter). TIME_SYNC exchanges add points to the same
floor that wait for no connection event (the answer leaves exactly one interval after the
request arrived), which is what keeps the floor true when a sensor's packets are phase-locked to
its connection events; their uplink ``t1 → t2`` bounds the map from below.

Contents
--------
ClockModel
    A frozen linear map sensor µs → session s, with its uncertainty.
ClockSyncConfig
    Frozen settings of the estimator.
ClockSync
    The causal streaming estimator, one per sensor.
simulate_arrivals
    A pure-numpy BLE link-timing model used by the tests and the bench.

Time bases: *session* seconds are the host's ``time.monotonic()`` (or any clock all sensors'
arrivals are stamped with); *sensor* microseconds are the integers of the protocol (µs since
sensor boot). Internally, sensor time is taken relative to a reference µs fixed at the first
observation, so float64 keeps sub-nanosecond resolution over days.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .errors import ConfigError

log = logging.getLogger(__name__)

__all__ = ["ClockModel", "ClockSync", "ClockSyncConfig", "simulate_arrivals"]


# ----------------------------------------------------------------------------------------------
# the model


@dataclass(frozen=True, kw_only=True)
class ClockModel:
    """A linear map from one sensor's clock to the session clock.

    ``session_s = offset_s + (1 + drift) × (sensor_us − ref_sensor_us) × 1e-6``

    Attributes
    ----------
    ref_sensor_us : int
        Sensor time (µs since sensor boot) at which ``offset_s`` is given.
    offset_s : float
        Session time (s) of the sensor instant ``ref_sensor_us``.
    drift : float
        Rate error of the sensor clock against the session clock (dimensionless; 1e-6 = 1 ppm).
        Positive when the sensor clock runs slow.
    uncertainty_s : float
        Width (s) of the band between the fitted floor and the lower bound from the exchanges'
        uplinks: the offset error is below it. It includes the host's round-trip latency floor
        (typically 1–3 ms), so it is conservative; ``inf`` until TIME_SYNC exchanges are fed.
    residual_s : float
        Median height of the per-bin minimum delays above the fitted floor (s): a health figure.
        It grows with host jitter and batching, and jumps when the link misbehaves.
    fitted_at_s : float
        Session time (arrival of the last observation used) when this model was fitted.
    n_bins : int
        Number of occupied time bins the fit used.
    """

    ref_sensor_us: int
    offset_s: float
    drift: float
    uncertainty_s: float = math.inf
    residual_s: float = math.nan
    fitted_at_s: float = math.nan
    n_bins: int = 0

    def to_session(self, sensor_us: Any) -> Any:
        """Session time (s) of sensor time(s) ``sensor_us`` (µs since sensor boot).

        Parameters
        ----------
        sensor_us : int, float or array_like
            Sensor-clock instants in µs. Integer input is differenced in int64 before any
            conversion to float, so values far beyond 2**53 ns stay exact.

        Returns
        -------
        float or numpy.ndarray
            Session seconds (float64), the shape of the input.
        """
        a = np.asarray(sensor_us)
        if a.dtype == np.int64:  # the usual case (packet sample times): no conversion copy
            dx = (a - np.int64(self.ref_sensor_us)).astype(np.float64) * 1e-6
        elif a.dtype.kind in "iu":
            dx = (a.astype(np.int64) - np.int64(self.ref_sensor_us)).astype(np.float64) * 1e-6
        else:
            dx = (a.astype(np.float64) - float(self.ref_sensor_us)) * 1e-6
        out = self.offset_s + dx + self.drift * dx
        return float(out) if out.ndim == 0 else out

    def to_sensor_us(self, session_s: Any) -> Any:
        """Inverse of :meth:`to_session`: sensor µs (float) of session time(s) ``session_s``."""
        t = np.asarray(session_s, dtype=np.float64)
        out = self.ref_sensor_us + (t - self.offset_s) / (1.0 + self.drift) * 1e6
        return float(out) if out.ndim == 0 else out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (for recordings: store the model next to the data it aligned)."""
        return asdict(self)


# ----------------------------------------------------------------------------------------------
# the estimator


@dataclass(frozen=True, kw_only=True)
class ClockSyncConfig:
    """Settings of :class:`ClockSync`. Defaults suit 5–100 packets/s and 7.5–50 ms intervals.

    Attributes
    ----------
    window_s : float
        Length of sensor time the envelope fits look back over. Longer averages the drift
        better; shorter follows temperature-driven rate changes faster (a crystal wanders by
        well under 1 ppm per minute, so 120 s costs < 0.1 ms).
    bin_s : float
        Width of the time bins: each bin keeps only its minimum-delay packet (and its
        maximum-bound exchange), so the fit costs O(window_s / bin_s) once per bin, i.e.
        O(1) amortised per packet. The model is refitted when a bin closes.
    min_span_s : float
        Sensor time a first model needs between the oldest and newest closed bin.
    max_drift_ppm : float
        The fitted rate is clipped to ± this (the sensor's crystal tolerance with margin).
    min_slope_span_s : float
        Below this fitted span the rate is not fitted but held at ``prior_drift_ppm`` (a short
        lower envelope's slope is noise: 1 ms over 2 s is 500 ppm).
    prior_drift_ppm : float
        Rate assumed before ``min_slope_span_s`` of data.
    downlink_floor_s, uplink_floor_s : float
        The host's minimum one-way latencies (notification → arrival stamp; write call →
        sensor receive) if known; subtracted / added to pin the absolute offset. Unknown
        values (0) shift every sensor's map alike and cancel in inter-sensor lags.
    low_outlier_s : float
        A packet this far *below* the current floor (impossibly early) is rejected, unless
        such packets persist for ``relock_s``, in which case the estimator restarts (the
        clocks jumped).
    relock_s : float
        See ``low_outlier_s``.
    reconnect_gap_s : float
        A silence this long (s of arrival time) is taken as a reconnection: the connection
        interval is identified again.
    max_conn_interval_s : float
        Largest connection interval considered when identifying it from exchanges.
    min_exchanges_for_interval : int
        Exchanges of one connection needed before the interval is identified.
    interval_tol_s : float
        How far (s) an exchange spacing may sit from a whole number of intervals (sensor
        stamping jitter), plus ``max_drift_ppm`` of the spacing.
    interval_fit_frac : float
        Fraction of the spacings that must fit an interval for it to be accepted.
    """

    window_s: float = 120.0
    bin_s: float = 0.5
    min_span_s: float = 1.0
    max_drift_ppm: float = 200.0
    min_slope_span_s: float = 20.0
    prior_drift_ppm: float = 0.0
    downlink_floor_s: float = 0.0
    uplink_floor_s: float = 0.0
    low_outlier_s: float = 0.025
    relock_s: float = 3.0
    reconnect_gap_s: float = 1.0
    max_conn_interval_s: float = 0.1
    min_exchanges_for_interval: int = 12
    interval_tol_s: float = 2.5e-4
    interval_fit_frac: float = 0.95

    def __post_init__(self) -> None:
        if not (self.bin_s > 0 and self.window_s >= 4 * self.bin_s):
            raise ConfigError("bin_s must be positive and window_s at least 4 bins")
        if self.min_span_s < self.bin_s or self.min_slope_span_s < self.min_span_s:
            raise ConfigError("need bin_s <= min_span_s <= min_slope_span_s")
        if not (0 < self.max_drift_ppm < 1e4) or abs(self.prior_drift_ppm) > self.max_drift_ppm:
            raise ConfigError("max_drift_ppm must be in (0, 1e4) and bound prior_drift_ppm")
        if self.low_outlier_s <= 0 or self.relock_s <= 0 or self.reconnect_gap_s <= 0:
            raise ConfigError("low_outlier_s, relock_s and reconnect_gap_s must be positive")
        if not (0.0075 <= self.max_conn_interval_s <= 4.0) or self.min_exchanges_for_interval < 3:
            raise ConfigError("max_conn_interval_s must be within BLE's 7.5 ms … 4 s and "
                              "min_exchanges_for_interval at least 3")
        if not (0 < self.interval_tol_s < 6.25e-4) or not (0.5 <= self.interval_fit_frac <= 1):
            raise ConfigError("interval_tol_s must be in (0, 0.625 ms) and interval_fit_frac in [0.5, 1]")


class _Ring:
    """Two float64 columns appended at the back and dropped from the front, without copying
    on every read (a deque of tuples costs an array conversion per fit)."""

    def __init__(self, cap: int = 256) -> None:
        self.a = np.empty((cap, 2))
        self.i = 0  # first live row
        self.n = 0  # one past the last live row

    def __len__(self) -> int:
        return self.n - self.i

    def append(self, x: float, z: float) -> None:
        if self.n == len(self.a):
            live = self.a[self.i:self.n]
            if len(live) > len(self.a) // 2:
                self.a = np.concatenate([live, np.empty((len(self.a), 2))])
            else:
                self.a[: len(live)] = live
            self.i, self.n = 0, len(live)
        self.a[self.n] = (x, z)
        self.n += 1

    def drop_before(self, x: float) -> None:
        """Drop the rows whose first column is below ``x`` (rows are in increasing order)."""
        self.i += int(self.a[self.i:self.n, 0].searchsorted(x))

    def view(self) -> np.ndarray:
        return self.a[self.i:self.n]


class ClockSync:
    """Causal, streaming estimate of one sensor's clock map; feed it in arrival order.

    Notes
    -----
    Work in ``z = host time − sensor time`` against ``x = sensor time`` (both s). The true map
    is ``z_true(x) = offset + drift·x``. Two kinds of observation lie on or *above* the line
    ``z_true + L_down`` (``L_down`` = the host's minimum latency from the radio to the arrival
    stamp), because every delay on the way is one-sided:

    * a data packet: (sensor time of its last sample, arrival); it waits 0 … one connection
      interval for its connection event, then for the host;
    * the response of a TIME_SYNC exchange: the sensor stamps ``t2`` when the request arrives,
      i.e. at a connection event, and its answer leaves at the *next* event, exactly one
      connection interval ``c`` later. So ``(t2, t4 − k·c)`` (``k = 1`` unless the sensor took
      longer than ``c`` to answer) waits for nothing but the host.

    Each ``bin_s`` of sensor time keeps its lowest point of either kind (detrended by the current
    drift), so a refit costs O(window_s / bin_s), once per bin: O(1) amortised per packet. When a
    bin closes, the window's floor is refitted, the minimum-delay line of Moon, Skelly & Towsley
    (1999) made robust for streaming: the drift is the slope of the chord between the lowest
    (detrended) points of the oldest and newest thirds of the window — a baseline of at least a
    third of the window, where a lower-hull edge can be a few seconds long and its slope noise —
    and the offset is the floor of the newest third under that slope, at the newest bin. Below
    ``min_slope_span_s`` of data the drift stays at ``prior_drift_ppm``.

    **Why the exchanges matter.** when the packet period is (nearly) a whole multiple of the
    connection interval on the host clock (6 samples at 200 Hz on a 30 ms interval; 10 on
    50 ms), every packet waits the *same* time for its event, and the packet floor lies up to one
    interval above the truth — and drifts with it — for as long as the phase stays locked
    (minutes to hours). The exchange responses do not wait, so they pin the floor there. They
    need ``c``: it is identified from the exchanges themselves (the ``t2`` stamps are connection
    events, so their spacings are multiples of ``c``, which BLE quantises to 1.25 ms), or given
    by the client. Under-estimating ``c`` only lifts those points (harmless for a lower
    envelope); the largest interval that fits every spacing and is no longer than the shortest
    round trip is chosen, and an exchange whose round trip is shorter than ``k·c`` is skipped.

    The uplink (``t1 → t2``) bounds the map from *below*; the gap between it and the floor is
    reported as ``uncertainty_s`` (it includes the host's round-trip floor, so it is an upper
    bound of the offset error). NTP's midpoint of an exchange is *not* used: on BLE it is biased
    by about half a connection interval, different for each sensor.

    Robustness: a stall (the host not reading for 0.5 s) only delays arrivals: no effect on the
    floor. Points more than ``low_outlier_s`` *below* the current floor are rejected; if they
    persist for ``relock_s`` the estimator restarts (a clock jump), as it does when the sensor
    clock runs backwards (reboot). A reconnection changes the event phase and possibly ``c``:
    call :meth:`new_connection` (a silence longer than ``reconnect_gap_s`` implies one); the
    floor of the sensor's own clock does not move, so the fit keeps its history.

    Parameters
    ----------
    config : ClockSyncConfig, optional
        Estimator settings.
    """

    def __init__(self, config: ClockSyncConfig | None = None) -> None:
        self.config = config or ClockSyncConfig()
        self.n_resets = 0
        self.reset()

    # -- state ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything about the sensor clock (counters other than ``n_resets`` too)."""
        c = self.config
        self.ref_us: int | None = None
        self._drift = c.prior_drift_ppm * 1e-6
        self._bins = _Ring()  # closed bins' floor points (x, z)
        self._up = _Ring()  # uplink bounds (x2, t1 − x2)
        self._k: int | None = None  # open bin index
        self._open = (0.0, 0.0, math.inf)  # (x, z, detrended key)
        self._last_x = -math.inf
        self._last_arrival_s = -math.inf
        self._reject_since_x: float | None = None
        self._model: ClockModel | None = None
        self._line: tuple[float, float] | None = None  # (z at x = 0, drift) of the current model
        self._t2: deque[int] = deque(maxlen=48)  # recent t2 stamps of this connection (µs)
        self._rtt: deque[float] = deque(maxlen=48)  # their round trips (s)
        # the spacings between consecutive t2 (s, drift-corrected when added), whether each is usable
        # (0 < d < 5 s) and whether it fits the interval ``_ok_for`` (kept incrementally: O(1) per exchange)
        self._sp: deque[float] = deque(maxlen=47)
        self._sp_valid: deque[bool] = deque(maxlen=47)
        self._sp_ok: deque[bool] = deque(maxlen=47)
        self._ok_for: float | None = None
        self._pending: deque[tuple[float, int, int, float]] = deque(maxlen=64)  # exchanges before c is known
        self._conn_given_s: float | None = None
        self.conn_interval_s: float | None = None
        self.n_packets = 0
        self.n_rejected = 0
        self.n_exchanges = 0

    def new_connection(self, conn_interval_s: float | None = None) -> "ClockSync":
        """Tell the estimator that the link was re-established (new event phase, maybe a new
        interval). ``conn_interval_s``: the interval, if the platform reports it."""
        self._clear_t2()
        self._pending.clear()
        self._conn_given_s = conn_interval_s
        self.conn_interval_s = conn_interval_s
        return self

    @property
    def model(self) -> ClockModel | None:
        """The current :class:`ClockModel`, or ``None`` until ``min_span_s`` of data."""
        return self._model

    @property
    def residual_ms(self) -> float:
        """Health figure: median height of the bins' minimum delays above the floor, in ms
        (``nan`` before the first model)."""
        return self._model.residual_s * 1e3 if self._model is not None else math.nan

    # -- feeding ------------------------------------------------------------------------------

    def _x(self, sensor_us: int) -> float:
        if self.ref_us is None:
            self.ref_us = int(sensor_us)
        return (int(sensor_us) - self.ref_us) * 1e-6

    def _restart(self, why: str) -> None:
        log.warning("clock estimate restarted: %s", why)
        self.reset()
        self.n_resets += 1

    def _arrive(self, sensor_us: int, arrival_s: float) -> bool:
        """Common checks of anything stamped by the sensor; False when the clock restarted."""
        if self.ref_us is not None and (int(sensor_us) - self.ref_us) * 1e-6 < self._last_x - 1.0:
            self._restart("the sensor clock went back by more than 1 s")
            return False
        if arrival_s - self._last_arrival_s > self.config.reconnect_gap_s and self._conn_given_s is None:
            self._clear_t2()
            self._pending.clear()
            self.conn_interval_s = None
        self._last_arrival_s = max(self._last_arrival_s, float(arrival_s))
        return True

    def add_packet(self, sensor_t_last_us: int, arrival_s: float) -> "ClockSync":
        """Add one data packet.

        Parameters
        ----------
        sensor_t_last_us : int
            Sensor time of the packet's *last* sample, ``t0_us + (n − 1) × period_us`` (µs): the
            packet cannot leave the sensor before it.
        arrival_s : float
            Host arrival time of the notification on the session clock (s), stamped as early as
            possible (in the bleak callback, before queueing).

        Returns
        -------
        ClockSync
            ``self``.
        """
        self.n_packets += 1
        self._arrive(sensor_t_last_us, arrival_s)
        x = self._x(sensor_t_last_us)
        self._put(x, float(arrival_s) - x, sensor_t_last_us, arrival_s)
        return self

    def add_packets(self, sensor_t_last_us: list[int], arrival_s: list[float]) -> list[ClockModel | None]:
        """Add many packets in order; the model after each. Exactly ``add_packet`` per packet (a replay's
        bulk path): the common case — same bin, not below the floor, no restart — runs inline, anything
        else through :meth:`add_packet`."""
        out: list[ClockModel | None] = []
        append = out.append
        c = self.config
        gap_s, low, bin_s = c.reconnect_gap_s, -c.low_outlier_s, c.bin_s
        for us, arr in zip(sensor_t_last_us, arrival_s):
            ref, line, k0 = self.ref_us, self._line, self._k
            if ref is not None and line is not None and k0 is not None:
                x = (us - ref) * 1e-6
                z = float(arr) - x
                if (x >= self._last_x - 1.0 and (arr - self._last_arrival_s <= gap_s or self._conn_given_s is not None)
                        and z - (line[0] + line[1] * x) >= low and math.floor(x / bin_s) == k0):
                    self.n_packets += 1
                    if arr > self._last_arrival_s:
                        self._last_arrival_s = float(arr)
                    self._reject_since_x = None
                    if x > self._last_x:
                        self._last_x = x
                    key = z - self._drift * x
                    if key < self._open[2]:
                        self._open = (x, z, key)
                    append(self._model)
                    continue
            self.add_packet(us, arr)
            append(self._model)
        return out

    def _put(self, x: float, z: float, sensor_us: int, arrival_s: float, trusted: bool = False) -> None:
        c = self.config
        if self._line is not None and not trusted:
            r = z - (self._line[0] + self._line[1] * x)
            if r < -c.low_outlier_s:
                self.n_rejected += 1
                if self._reject_since_x is None:
                    self._reject_since_x = x
                elif x - self._reject_since_x > c.relock_s:
                    self._restart(f"points stayed {-r * 1e3:.1f} ms below the floor for {c.relock_s} s")
                    self.n_packets += 1
                    x = self._x(sensor_us)
                    self._put(x, float(arrival_s) - x, sensor_us, arrival_s)
                return
            self._reject_since_x = None
        self._last_x = max(self._last_x, x)
        k = math.floor(x / c.bin_s)
        if self._k is None:
            self._k = k
        if k > self._k:
            if math.isfinite(self._open[2]):
                self._bins.append(self._open[0], self._open[1])
            self._k = k
            self._open = (0.0, 0.0, math.inf)
            self._fit()
        elif k < self._k:  # a late point of a closed bin: the next bin's floor will do
            return
        key = z - self._drift * x
        if key < self._open[2]:
            self._open = (x, z, key)

    def add_exchange(self, t1_s: float, t2_us: int, t3_us: int, t4_s: float) -> "ClockSync":
        """Add one TIME_SYNC exchange.

        Parameters
        ----------
        t1_s : float
            Session time just before the command was written (s).
        t2_us, t3_us : int
            Sensor receive and send times from the response (µs).
        t4_s : float
            Session time the response arrived (s), stamped like packet arrivals.

        Returns
        -------
        ClockSync
            ``self``. Exchanges with a negative or > 1 s round trip are ignored.
        """
        t2_us, t3_us = int(t2_us), int(t3_us)
        rtt = (t4_s - t1_s) - (t3_us - t2_us) * 1e-6
        if not (0.0 <= rtt <= 1.0) or t3_us < t2_us:
            return self
        self.n_exchanges += 1
        if not self._arrive(t2_us, t4_s):
            return self
        x2 = self._x(t2_us)
        if len(self._up) == 0 or x2 > self._up.view()[-1, 0]:
            self._up.append(x2, float(t1_s) - x2)
        self._push_t2(t2_us, rtt)
        self._pending.append((float(t1_s), t2_us, t3_us, float(t4_s)))
        if self._conn_given_s is None:
            self.conn_interval_s = self._identify_interval()
        if self.conn_interval_s is not None:
            cs = self.conn_interval_s
            while self._pending:
                a1, a2, a3, a4 = self._pending.popleft()
                k = math.floor((a3 - a2) * 1e-6 / cs) + 1
                # self-check: the round trip holds k whole intervals, else c is wrong for it
                if (a4 - a1) - (a3 - a2) * 1e-6 < k * cs:
                    continue
                x = self._x(a2)
                self._put(x, a4 - k * cs - x, a2, a4, trusted=True)
        else:
            # the response alone is still a packet-like bound, with a full interval of wait
            x3 = self._x(t3_us)
            self._put(x3, float(t4_s) - x3, t3_us, t4_s)
        return self

    def _clear_t2(self) -> None:
        for q in (self._t2, self._rtt, self._sp, self._sp_valid, self._sp_ok):
            q.clear()

    def _fits(self, d: float, cand: float) -> bool:
        """Whether spacing ``d`` (s) is a whole number of intervals ``cand`` within the tolerance."""
        c = self.config
        q = d / cand
        return abs(q - round(q)) * cand <= c.interval_tol_s + c.max_drift_ppm * 1e-6 * d

    def _push_t2(self, t2_us: int, rtt: float) -> None:
        if self._t2:
            d = (t2_us - self._t2[-1]) * 1e-6 * (1.0 + self._drift)
            valid = 0.0 < d < 5.0
            self._sp.append(d)
            self._sp_valid.append(valid)
            self._sp_ok.append(valid and self._ok_for is not None and self._fits(d, self._ok_for))
        self._t2.append(t2_us)
        self._rtt.append(rtt)

    def _identify_interval(self) -> float | None:
        """The connection interval: the largest multiple of 1.25 ms (BLE's unit) that the
        spacings of the recent ``t2`` stamps are whole multiples of (all of them, within
        ``interval_tol_s``: the sensor only ever receives at connection events) and that no
        round trip is shorter than (the answer waits one interval). A confirmed interval is kept
        while it still fits; None while nothing is clear.

        Checking the confirmed interval costs O(1): each spacing's fit to it is kept as it arrives.
        A full search (all candidates against all spacings) runs only when no interval is confirmed
        or the confirmed one stops fitting."""
        c = self.config
        if len(self._t2) < c.min_exchanges_for_interval:
            return None
        n_valid = sum(self._sp_valid)
        if n_valid < c.min_exchanges_for_interval - 1:
            return None
        rtt_min = min(self._rtt)
        cur = self.conn_interval_s
        if cur is not None and cur <= rtt_min:
            if self._ok_for != cur:
                self._ok_for = cur
                self._sp_ok = deque((v and self._fits(d, cur) for d, v in zip(self._sp, self._sp_valid)), maxlen=47)
            if sum(self._sp_ok) / n_valid >= c.interval_fit_frac:
                return cur
        units = np.arange(int(round(min(c.max_conn_interval_s, rtt_min) / 1.25e-3)), 5, -1)  # largest first
        if len(units) == 0:
            return None
        d = np.array(self._sp)[np.array(self._sp_valid, dtype=bool)]
        cands = units * 1.25e-3
        q = d[None, :] / cands[:, None]
        err = np.abs(q - np.round(q)) * cands[:, None]
        tol = c.interval_tol_s + c.max_drift_ppm * 1e-6 * d[None, :]
        ok = np.flatnonzero((err <= tol).mean(axis=1) >= c.interval_fit_frac)
        return float(cands[ok[0]]) if len(ok) else None

    # -- fitting ------------------------------------------------------------------------------

    def _fit(self) -> None:
        # The bins are in increasing x, so the oldest and newest thirds are a prefix and a suffix:
        # slices instead of masks (the same arithmetic on the same elements, fewer array passes).
        c = self.config
        bins = self._bins
        if len(bins) == 0:
            return
        x_end = float(bins.a[bins.n - 1, 0])
        bins.drop_before(x_end - c.window_s)
        self._up.drop_before(x_end - c.window_s)
        b = bins.view()
        xs, zs = b[:, 0], b[:, 1]
        span = x_end - float(xs[0])
        if span < c.min_span_s and self._model is None:
            return
        max_d = c.max_drift_ppm * 1e-6
        drift = self._drift
        third = span / 3.0
        if span >= c.min_slope_span_s:
            # the chord between the floors of the oldest and newest thirds: a baseline of at
            # least a third of the window, so the slope is not that of a short hull edge
            n0 = int(xs.searchsorted(float(xs[0]) + third, "right"))
            n1 = int(xs.searchsorted(x_end - third, "left"))
            x_lo, z_lo_, x_hi, z_hi = xs[:n0], zs[:n0], xs[n1:], zs[n1:]
            for _ in range(2):  # the floor point of a third depends on the detrend
                i0 = int((z_lo_ - drift * x_lo).argmin())
                i1 = int((z_hi - drift * x_hi).argmin())
                drift = min(max((float(z_hi[i1]) - float(z_lo_[i0])) / (float(x_hi[i1]) - float(x_lo[i0])), -max_d), max_d)
        # the floor at the newest bin, from the points of the newest third (or ``min_span_s``)
        x_t = x_end
        nr = int(xs.searchsorted(x_end - max(third, c.min_span_s), "left"))
        h = zs + drift * (x_t - xs)  # every bin's floor point carried to x_t along the drift
        z_fl = float(h[nr:].min())
        z0 = z_fl - c.downlink_floor_s
        unc = math.inf
        if len(self._up):
            u = self._up.view()
            z_lo = float((u[:, 1] + drift * (x_t - u[:, 0])).max()) + c.uplink_floor_s
            unc = max(z0 - z_lo, 0.0)
        h -= z_fl
        m = len(h) // 2
        h.partition(m)
        resid = float(h[m])
        self._drift = drift
        self._line = (z0 - drift * x_t, drift)
        assert self.ref_us is not None
        ref = self.ref_us + int(round(x_t * 1e6))
        xr = (ref - self.ref_us) * 1e-6
        self._model = ClockModel(
            ref_sensor_us=ref,
            offset_s=z0 + drift * (xr - x_t) + xr,
            drift=drift,
            uncertainty_s=unc,
            residual_s=resid,
            fitted_at_s=self._last_arrival_s,
            n_bins=len(xs),
        )


# ----------------------------------------------------------------------------------------------
# link-timing model


def _next_event(h: np.ndarray, phase_s: np.ndarray, conn_s: float) -> np.ndarray:
    """First connection event at or after host time ``h`` (events at ``phase + m × conn_s``)."""
    m = np.ceil((h - phase_s) / conn_s)
    return phase_s + np.maximum(m, 0.0) * conn_s


def _jitter(rng: np.random.Generator, n: int, kind: str, scale_s: float, max_s: float) -> np.ndarray:
    if kind == "none" or n == 0:
        return np.zeros(n)
    if kind == "uniform":
        return rng.uniform(0.0, max_s, n)
    if kind == "exp":  # mostly small, a 5 % heavy tail spread up to max_s
        j = rng.exponential(scale_s, n)
        tail = rng.random(n) < 0.05
        j[tail] = rng.uniform(0.0, max_s, int(tail.sum()))
        return np.minimum(j, max_s)
    raise ValueError(f"unknown jitter kind {kind!r}")


def simulate_arrivals(
    duration_s: float,
    *,
    offset_s: float = -100.0,
    drift_ppm: float = 0.0,
    period_us: int = 5000,
    samples_per_packet: int = 8,
    conn_interval_s: float = 0.030,
    min_latency_s: float = 0.001,
    jitter: str = "exp",
    jitter_scale_s: float = 0.002,
    jitter_max_s: float = 0.020,
    loss: float = 0.02,
    drops: tuple[tuple[float, float], ...] = (),
    stalls: tuple[tuple[float, float], ...] = (),
    exchange_rate_hz: float = 0.0,
    exchange_burst: tuple[float, float] = (0.0, 0.0),
    rng: np.random.Generator | int | None = None,
) -> dict[str, Any]:
    """Arrival times of one sensor's packets (and TIME_SYNC exchanges) over a BLE link.

    The truth is ``session_s = offset_s + (1 + drift_ppm·1e-6) × sensor_us·1e-6``; streaming
    starts at session time 0. A packet of ``samples_per_packet`` samples is complete when its
    last sample is taken (+0.2 ms of firmware); it leaves at the first connection event after
    that (events every ``conn_interval_s`` from a random phase, redrawn at every reconnection),
    and is stamped on the host ``min_latency_s`` + jitter later. Packets of one connection event
    share the event's host jitter (+0.05 ms per packet), and the host queue is FIFO: a late
    packet delays the ones behind it. ``loss`` of packets never arrive; during a drop
    ``(start_s, length_s)`` nothing arrives; during a stall ``(start_s, length_s)`` arrivals are
    held until its end. Exchanges are sent at jittered times (mean rate ``exchange_rate_hz``):
    the write leaves at the next connection event after ``min_latency_s`` + jitter, the sensor
    stamps t2 there, t3 150 µs later, and the response waits for the *next* connection event.

    Parameters
    ----------
    duration_s : float
        Session length (s).
    jitter : {'exp', 'uniform', 'none'}
        Host extra delay: exponential of mean ``jitter_scale_s`` with a 5 % tail uniform up to
        ``jitter_max_s`` (capped there), or uniform on [0, ``jitter_max_s``].
    exchange_burst : (rate_hz, length_s)
        Extra exchanges at this mean rate for this long after the start and each reconnection.
    rng : numpy.random.Generator or int, optional
        Randomness (or a seed).

    Returns
    -------
    dict
        ``sensor_t_last_us`` (int64), ``arrival_s`` (float64), the exchanges ``t1_s``, ``t2_us``,
        ``t3_us``, ``t4_s``, and the truth ``offset_s``, ``drift``.
    """
    rng = np.random.default_rng(rng)
    d = drift_ppm * 1e-6
    scale = 1.0 + d

    def sensor_us(h):
        return (h - offset_s) / scale * 1e6

    def host(us):
        return offset_s + scale * np.asarray(us, dtype=np.float64) * 1e-6

    # segments of connection, each with its own event phase
    seg = [0.0]
    for start, length in sorted(drops):
        seg += [start, start + length]
    seg.append(math.inf)
    seg_start = np.array(seg[0::2])
    seg_end = np.array(seg[1::2])
    phase = seg_start + rng.uniform(0.0, conn_interval_s, len(seg_start))

    def in_link(h):
        i = np.searchsorted(seg_start, h, side="right") - 1
        return i, (i >= 0) & (h < seg_end[np.maximum(i, 0)])

    first_us = int(math.ceil(sensor_us(0.0)))
    pkt_us = period_us * samples_per_packet
    n_pk = int(duration_s * 1e6 / scale / pkt_us) + 1
    last_us = first_us + np.arange(n_pk, dtype=np.int64) * pkt_us + (samples_per_packet - 1) * period_us
    done = host(last_us) + 2e-4
    seg_i, ok = in_link(done)
    ok &= rng.random(n_pk) >= loss
    last_us, done, seg_i = last_us[ok], done[ok], seg_i[ok]
    ev = _next_event(done, phase[seg_i], conn_interval_s)
    uev, first_idx, inv = np.unique(ev, return_index=True, return_inverse=True)
    rank = np.arange(len(ev)) - first_idx[inv]
    arr = ev + min_latency_s + _jitter(rng, len(uev), jitter, jitter_scale_s, jitter_max_s)[inv] + 5e-5 * rank
    for start, length in stalls:
        arr = np.where((arr >= start) & (arr < start + length), start + length, arr)
    arr = np.maximum.accumulate(arr)
    keep = arr < duration_s
    out: dict[str, Any] = {"sensor_t_last_us": last_us[keep], "arrival_s": arr[keep],
                           "offset_s": offset_s, "drift": d}

    t1 = np.zeros(0)
    if exchange_rate_hz > 0:
        n_ex = int(duration_s * exchange_rate_hz) + 1
        t1 = np.cumsum(rng.uniform(0.5, 1.5, n_ex) / exchange_rate_hz)
    burst_hz, burst_s = exchange_burst
    if burst_hz > 0 and burst_s > 0:  # a burst after each (re)connection, like NTP's iburst
        for s0 in seg_start:
            n_b = int(burst_s * burst_hz) + 1
            tb = s0 + 0.2 + np.cumsum(rng.uniform(0.5, 1.5, n_b) / burst_hz)
            t1 = np.concatenate([t1, tb[tb < s0 + 0.2 + burst_s]])
        t1 = np.sort(t1)
    sent = t1 + min_latency_s + _jitter(rng, len(t1), jitter, jitter_scale_s, jitter_max_s)
    si, ok = in_link(sent)
    ok &= rng.random(len(t1)) >= loss
    t1, sent, si = t1[ok], sent[ok], si[ok]
    e2 = _next_event(sent, phase[si], conn_interval_s)
    t2 = np.floor(sensor_us(e2 + 3e-4)).astype(np.int64)
    t3 = t2 + 150
    e3 = _next_event(host(t3) + 1e-5, phase[si], conn_interval_s)
    t4 = e3 + min_latency_s + _jitter(rng, len(t1), jitter, jitter_scale_s, jitter_max_s)
    ok = (t4 < duration_s) & (e2 < seg_end[si]) & (e3 < seg_end[si])
    out.update(t1_s=t1[ok], t2_us=t2[ok], t3_us=t3[ok], t4_s=t4[ok])
    return out
