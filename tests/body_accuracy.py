"""Accuracy against the body (MEASUREMENT.md §6.1): detected events and lags against force-plate and
marker truth on the virtual sensors of :mod:`tests.bodies`. Shared by the tests and ``bench/``.

What is counted
    A truth event is *expected* when it lies in an analysable truth stride of its leg: from a truth initial
    contact that follows a truth swing peak of the same leg (the detector anchors each stride on the swing
    before it, so the first stride of a recording cannot count) to the next truth initial contact, which must
    lie at least ``END_MARGIN_S`` before the end of the recording (the contact is confirmed by the samples
    after it). Wrist events are expected inside an analysable stride of either leg. An expected truth event
    is *found* when a detected event of the same role and kind lies within ``TOL_S`` of it (one-to-one,
    nearest first); bias and SD are those of (detected − truth) over the found ones. A detected event that
    matches no truth event (within the truth span) is *extra*.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stridesync.core.config import DetectorConfig
from stridesync.core.measures import build_raw_steps
from stridesync.core.reference import ReferenceAnalyzer
from stridesync.model import LAG_NAMES, Event, EventKind, Side

TOL_S = 0.1
END_MARGIN_S = 0.35
SHIN_KINDS = (EventKind.CONTACT, EventKind.PUSH, EventKind.SWING)
WRIST_KINDS = (EventKind.ARM_FWD, EventKind.ARM_BACK)


@dataclass
class TrialAccuracy:
    """Per (role, kind): errors of found events (s), expected count, extra count; per lag: step errors (ms)."""

    trial_id: str
    speed_ms: float
    foot_strike: dict
    errors: dict = field(default_factory=dict)  # (Role, EventKind) -> np.ndarray of detected − truth (s)
    expected: dict = field(default_factory=dict)  # (Role, EventKind) -> int
    extra: dict = field(default_factory=dict)  # (Role, EventKind) -> int
    lag_errors_ms: dict = field(default_factory=dict)  # lag name -> np.ndarray (detected − truth lag)
    n_steps: int = 0
    n_truth_steps: int = 0


def analysable_strides(trial, side: Side) -> list[tuple[float, float]]:
    t_end = float(trial.recording[side.shin].time_s[-1])
    ics = np.asarray(trial.truth.get((side.shin, EventKind.CONTACT), []))
    swings = np.asarray(trial.truth.get((side.shin, EventKind.SWING), []))
    out = []
    for a, b in zip(ics[:-1], ics[1:]):
        if len(swings) and swings[0] < a and b <= t_end - END_MARGIN_S and b - a <= 1.0:
            out.append((float(a), float(b)))
    return out


def _match(det: np.ndarray, truth: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one nearest-first matching; returns (matched truth mask, errors of the matches)."""
    pairs = []
    for i, t in enumerate(truth):
        if len(det):
            j = int(np.argmin(np.abs(det - t)))
            if abs(det[j] - t) <= tol:
                pairs.append((abs(det[j] - t), i, j))
    pairs.sort()
    used_t, used_d, err = set(), set(), {}
    for _, i, j in pairs:
        if i in used_t or j in used_d:
            continue
        used_t.add(i)
        used_d.add(j)
        err[i] = det[j] - truth[i]
    mask = np.array([i in err for i in range(len(truth))], bool)
    return mask, np.array([err[i] for i in sorted(err)])


def _inside(t: float, strides: list[tuple[float, float]]) -> bool:
    return any(a <= t <= b for a, b in strides)


def truth_events(trial) -> list[Event]:
    """The truth instants as events with stride indices (contacts numbered per leg; push and swing carry the
    index of the contact that opens their stride), so that truth steps follow the same code as detected ones."""
    out = []
    for side in Side:
        ics = np.asarray(trial.truth.get((side.shin, EventKind.CONTACT), []))
        for k, t in enumerate(ics):
            out.append(Event(side.shin, EventKind.CONTACT, float(t), 0.0, k, "gyro"))
        for kind in (EventKind.PUSH, EventKind.SWING):
            for t in trial.truth.get((side.shin, kind), []):
                k = int(np.searchsorted(ics, t)) - 1
                if k >= 0:
                    out.append(Event(side.shin, kind, float(t), 0.0, k, "gyro"))
        for kind in WRIST_KINDS:
            for t in trial.truth.get((side.wrist, kind), []):
                out.append(Event(side.wrist, kind, float(t), 0.0, 0, "gyro"))
    return sorted(out, key=lambda e: e.time_s)


def evaluate(trial, events: list[Event], cfg: DetectorConfig | None = None) -> TrialAccuracy:
    cfg = cfg or DetectorConfig()
    acc = TrialAccuracy(trial.id, trial.speed_ms, trial.foot_strike)
    strides = {side: analysable_strides(trial, side) for side in Side}
    both = strides[Side.LEFT] + strides[Side.RIGHT]
    span = trial.truth_span
    for role in trial.recording:
        kinds = SHIN_KINDS if role.is_shin else WRIST_KINDS
        where = strides[role.side] if role.is_shin else both
        for kind in kinds:
            truth = np.asarray(trial.truth.get((role, kind), []), dtype=float)
            det = np.array(sorted(e.time_s for e in events if e.role is role and e.kind is kind))
            exp = np.array([_inside(t, where) for t in truth], bool)
            mask, _ = _match(det, truth, TOL_S)
            m2, err = _match(det, truth[exp], TOL_S)
            acc.errors[(role, kind)] = err
            acc.expected[(role, kind)] = int(exp.sum())
            in_span = det[(det >= span[0]) & (det <= span[1])]
            mt, _ = _match(truth, in_span, TOL_S)
            acc.extra[(role, kind)] = int((~mt).sum())
    # per step: each detected step's lags against the truth step of the same push
    truth_raw = build_raw_steps(truth_events(trial), cfg)
    det_raw = build_raw_steps(events, cfg)
    acc.n_steps, acc.n_truth_steps = len(det_raw), len(truth_raw)
    tt = np.array([r.time_s for r in truth_raw])
    for name in LAG_NAMES:
        acc.lag_errors_ms[name] = []
    for r in det_raw:
        if not len(tt):
            break
        j = int(np.argmin(np.abs(tt - r.time_s)))
        if abs(tt[j] - r.time_s) > TOL_S:
            continue
        for k, name in enumerate(LAG_NAMES):
            a, b = r.lags_ms[k], truth_raw[j].lags_ms[k]
            if a is not None and b is not None:
                acc.lag_errors_ms[name].append(a - b)
    acc.lag_errors_ms = {k: np.array(v) for k, v in acc.lag_errors_ms.items()}
    return acc


def analyse(trial, rules: str = "gyro", cfg: DetectorConfig | None = None) -> list[Event]:
    cfg = cfg or DetectorConfig(rules=rules)
    return ReferenceAnalyzer(config=cfg).analyze(trial.recording).events_


@dataclass
class Pooled:
    """Errors pooled over trials, per event kind."""

    errors: list = field(default_factory=list)
    expected: int = 0
    found: int = 0
    extra: int = 0

    def add(self, err: np.ndarray, expected: int, extra: int) -> None:
        self.errors.append(err)
        self.expected += expected
        self.found += len(err)
        self.extra += extra

    @property
    def all(self) -> np.ndarray:
        return np.concatenate(self.errors) if self.errors else np.zeros(0)

    def row(self) -> dict:
        e = self.all * 1000.0
        return {"n": int(len(e)), "bias_ms": float(np.mean(e)) if len(e) else None,
                "sd_ms": float(np.std(e, ddof=1)) if len(e) > 1 else None,
                "found_pct": 100.0 * self.found / self.expected if self.expected else None,
                "extra": self.extra}


def pool(results: list[TrialAccuracy], key=lambda r, role: "all") -> dict:
    """{(group, kind): Pooled} with ``key(result, role)`` naming the group of each trial side."""
    out: dict = {}
    for r in results:
        for (role, kind), err in r.errors.items():
            g = key(r, role)
            out.setdefault((g, kind), Pooled()).add(err, r.expected[(role, kind)], r.extra[(role, kind)])
    return out
