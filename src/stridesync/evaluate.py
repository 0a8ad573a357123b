"""Compare two event/step sets: the figures behind the accuracy acceptance (recall, precision, timing
and lag errors). Used by the tests and by ``bench/accuracy_grid.py``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .model import Event, EventKind, Step


@dataclass
class Comparison:
    """How well ``test`` events reproduce ``truth`` events (matched per role and kind, nearest in time)."""

    n_truth: int
    n_test: int
    n_matched: int
    errors_ms: dict[EventKind, np.ndarray] = field(default_factory=dict)
    lag_errors_ms: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def recall(self) -> float:
        return self.n_matched / self.n_truth if self.n_truth else float("nan")

    @property
    def precision(self) -> float:
        return self.n_matched / self.n_test if self.n_test else float("nan")

    def all_errors(self, kinds=None) -> np.ndarray:
        sel = [v for k, v in self.errors_ms.items() if kinds is None or k in kinds]
        return np.concatenate(sel) if sel else np.empty(0)


def match_events(truth: list[Event], test: list[Event], tol_s: float = 0.05) -> tuple[list[tuple[Event, Event]], int]:
    """Greedy one-to-one matching of events of equal role and kind within ``tol_s``, nearest first."""
    pairs = []
    groups_t, groups_x = defaultdict(list), defaultdict(list)
    for e in truth:
        groups_t[(e.role, e.kind)].append(e)
    for e in test:
        groups_x[(e.role, e.kind)].append(e)
    for key, tr in groups_t.items():
        tx = sorted(groups_x.get(key, []), key=lambda e: e.time_s)
        times = np.array([e.time_s for e in tx])
        used = np.zeros(len(tx), dtype=bool)
        for e in sorted(tr, key=lambda e: e.time_s):
            if not len(times):
                break
            k = int(np.searchsorted(times, e.time_s))
            best, bd = -1, tol_s
            for j in (k - 2, k - 1, k, k + 1):
                if 0 <= j < len(tx) and not used[j] and abs(times[j] - e.time_s) <= bd:
                    best, bd = j, abs(times[j] - e.time_s)
            if best >= 0:
                used[best] = True
                pairs.append((e, tx[best]))
    return pairs, len(pairs)


def compare(truth_events: list[Event], test_events: list[Event], truth_steps: list[Step] | None = None,
            test_steps: list[Step] | None = None, tol_s: float = 0.05) -> Comparison:
    pairs, n = match_events(truth_events, test_events, tol_s)
    errs: dict[EventKind, list[float]] = defaultdict(list)
    for a, b in pairs:
        errs[a.kind].append((b.time_s - a.time_s) * 1000.0)
    lag_err = []
    if truth_steps is not None and test_steps is not None:
        ts = np.array([s.time_s for s in test_steps])
        for s in truth_steps:
            if not len(ts):
                break
            k = int(np.argmin(np.abs(ts - s.time_s)))
            o = test_steps[k]
            if abs(o.time_s - s.time_s) > tol_s or o.stance_side is not s.stance_side:
                continue
            for name in ("swing_lag_ms", "ipsi_arm_lag_ms", "contra_arm_lag_ms"):
                a, b = getattr(s, name), getattr(o, name)
                if a is not None and b is not None:
                    lag_err.append(b - a)
    return Comparison(len(truth_events), len(test_events), n, {k: np.array(v) for k, v in errs.items()}, np.array(lag_err))


def clock_alignment_errors_ms(sim, analyzer, *, settle_s: float = 10.0, step_s: float = 0.5,
                              naive: bool = False) -> np.ndarray:
    """Inter-sensor alignment error of a live session's clock maps against the simulator's truth, ms.

    For every packet mapped, the error of its last sample's session time (mapped − true); the errors of
    each pair of sensors are compared at common instants (every ``step_s``) once each has streamed for
    ``settle_s``. ``naive`` replaces the clock maps by "offset = first arrival − first sensor time".
    """
    series = []
    for key, log in analyzer.mapping_log.items():
        if len(log) < 2:
            continue
        role = analyzer.sensors[key].role
        t_us = np.array([x[0] for x in log], dtype=float)
        mapped = np.array([x[1] for x in log])
        if naive:
            arrival = np.array([x[2] for x in log])
            mapped = arrival[0] + (t_us - t_us[0]) / 1e6
        true = np.interp(t_us / 1e6, sim.sensor_time_s[role], sim.recording[role].time_s)
        keep = true > true[0] + settle_s
        if keep.sum() >= 2:
            series.append((true[keep], (mapped - true)[keep]))
    if len(series) < 2:
        return np.empty(0)
    lo = max(s[0][0] for s in series)
    hi = min(s[0][-1] for s in series)
    grid = np.arange(lo, hi, step_s)
    e = np.array([np.interp(grid, t, v) for t, v in series])
    return np.concatenate([np.abs(e[i] - e[j]) for i in range(len(e)) for j in range(i + 1, len(e))]) * 1000.0
