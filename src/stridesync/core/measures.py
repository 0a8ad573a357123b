"""Per-step sync measures and session statistics (MEASUREMENT.md §3).

These are pure functions of the events, so the offline reference, the
real-time core and the reports compute them with one definition.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

from ..model import LAG_NAMES, Event, EventKind, Role, Side, Step
from .config import DetectorConfig

#: which limb each lag belongs to, given the stance side
LIMB_OF_LAG = {
    "swing_lag": lambda s: s.other.shin,
    "ipsi_arm_lag": lambda s: s.wrist,
    "contra_arm_lag": lambda s: s.other.wrist,
}
LIMB_WORDS = {Role.LEFT_SHIN: "left swing", Role.RIGHT_SHIN: "right swing",
              Role.LEFT_WRIST: "left arm", Role.RIGHT_WRIST: "right arm"}


def nearest(times: list[float], t: float, max_dist: float) -> float | None:
    """The element of sorted ``times`` nearest to t within ``max_dist`` (earlier wins a tie)."""
    k = bisect_left(times, t)
    best = None
    for j in (k - 1, k):
        if 0 <= j < len(times):
            d = abs(times[j] - t)
            if d <= max_dist and (best is None or d < abs(best - t)):
                best = times[j]
    return best


@dataclass(frozen=True)
class RawStep:
    """A step's lags before a target model is applied."""

    time_s: float
    stance_side: Side
    stride_time_s: float
    contact_time_s: float | None
    lags_ms: tuple[float | None, float | None, float | None]


def raw_step(push: Event, stride_start_s: float, stride_end_s: float, swings_other: list[float],
             arm_fwd_same: list[float], arm_back_other: list[float], cfg: DetectorConfig) -> RawStep:
    """Lags of one step. The event lists are the sorted times of the other leg's ``swing``,
    the stance-side wrist's ``arm_fwd`` and the other wrist's ``arm_back``."""
    t_p = push.time_s
    stride = stride_end_s - stride_start_s
    win = cfg.pairing_window_frac * stride
    lags = []
    for times in (swings_other, arm_fwd_same, arm_back_other):
        t = nearest(times, t_p, win)
        lags.append(None if t is None else (t - t_p) * 1000.0)
    return RawStep(t_p, push.role.side, stride, t_p - stride_start_s, tuple(lags))


def score_step(raw: RawStep, targets_ms: dict[str, float | None]) -> Step:
    """Apply the target model: percentages and the 0–100 sync score."""
    stride_ms = raw.stride_time_s * 1000.0
    pct = [None if v is None else 100.0 * v / stride_ms for v in raw.lags_ms]
    devs = [v - (targets_ms.get(n) or 0.0) for n, v in zip(LAG_NAMES, raw.lags_ms) if v is not None]
    score = None
    if devs:
        rms = math.sqrt(sum(d * d for d in devs) / len(devs))
        score = 100.0 * max(0.0, 1.0 - rms / (0.10 * stride_ms))
    return Step(
        time_s=raw.time_s, stance_side=raw.stance_side, stride_time_s=raw.stride_time_s,
        cadence_spm=120.0 / raw.stride_time_s, contact_time_s=raw.contact_time_s,
        swing_lag_ms=raw.lags_ms[0], ipsi_arm_lag_ms=raw.lags_ms[1], contra_arm_lag_ms=raw.lags_ms[2],
        swing_lag_pct=pct[0], ipsi_arm_lag_pct=pct[1], contra_arm_lag_pct=pct[2], sync_score=score,
    )


def baseline_targets(raws: list[RawStep], n: int) -> dict[str, float | None]:
    """Median of each lag over the first n steps (in time order) where it exists."""
    out: dict[str, float | None] = {}
    for k, name in enumerate(LAG_NAMES):
        vals = [r.lags_ms[k] for r in raws if r.lags_ms[k] is not None][:n]
        out[name] = float(np.median(vals)) if vals else None
    return out


def zero_targets() -> dict[str, float | None]:
    return {name: 0.0 for name in LAG_NAMES}


def index_events(events: list[Event]) -> dict[tuple[Role, EventKind], list[Event]]:
    out: dict[tuple[Role, EventKind], list[Event]] = {}
    for e in sorted(events, key=lambda e: e.time_s):
        out.setdefault((e.role, e.kind), []).append(e)
    return out


def counted_strides(idx: dict[tuple[Role, EventKind], list[Event]], shin: Role) -> list[tuple[float, float]]:
    """(start, end) of the shin's counted strides: those with a push (only counted strides have one),
    from the contact that opens them (index k) to the next (index k + 1)."""
    contacts = {e.stride_index: e.time_s for e in idx.get((shin, EventKind.CONTACT), [])}
    out = []
    for push in idx.get((shin, EventKind.PUSH), []):
        k = push.stride_index
        if k in contacts and k + 1 in contacts:
            out.append((contacts[k], contacts[k + 1]))
    return sorted(out)


def build_raw_steps(events: list[Event], cfg: DetectorConfig) -> list[RawStep]:
    """Every push with its stride (from the contacts that open and close it) and its paired lags."""
    idx = index_events(events)
    times = {k: [e.time_s for e in v] for k, v in idx.items()}
    raws = []
    for side in Side:
        contacts = {e.stride_index: e.time_s for e in idx.get((side.shin, EventKind.CONTACT), [])}
        for push in idx.get((side.shin, EventKind.PUSH), []):
            k = push.stride_index
            if k not in contacts or k + 1 not in contacts:
                continue
            raws.append(raw_step(push, contacts[k], contacts[k + 1],
                                 times.get((side.other.shin, EventKind.SWING), []),
                                 times.get((side.wrist, EventKind.ARM_FWD), []),
                                 times.get((side.other.wrist, EventKind.ARM_BACK), []), cfg))
    raws.sort(key=lambda r: r.time_s)
    return raws


def targets_for(raws: list[RawStep], cfg: DetectorConfig) -> dict[str, float | None]:
    return baseline_targets(raws, cfg.baseline_n) if cfg.target_model == "baseline" else zero_targets()


def build_steps(events: list[Event], cfg: DetectorConfig) -> tuple[list[Step], dict[str, float | None]]:
    """All steps of a session and the targets used."""
    raws = build_raw_steps(events, cfg)
    targets = targets_for(raws, cfg)
    return [score_step(r, targets) for r in raws], targets


# ---------------------------------------------------------------- statistics

def _cv_pct(x: list[float]) -> float | None:
    if len(x) < 2:
        return None
    m = float(np.mean(x))
    return float(np.std(x, ddof=1) / m * 100.0) if m else None


def _mean(x: list[float]) -> float | None:
    return float(np.mean(x)) if len(x) else None


def symmetry_angle_pct(left: float | None, right: float | None) -> float | None:
    """(45° − arctan(X_L / X_R)) / 90° × 100 %: 0 is perfect symmetry, positive means right larger."""
    if left is None or right is None or right == 0:
        return None
    return (45.0 - math.degrees(math.atan(left / right))) / 90.0 * 100.0


def limb_deviations(steps, targets) -> dict[Role, np.ndarray]:
    """Per limb, rows of (lag − target in ms, the same in % of the stride): a leg's swing lags, an arm's
    forward-turn lags (its stance steps) and back-turn lags (the others), as the weak link pools them."""
    per: dict[Role, list[tuple[float, float]]] = {}
    for s in steps:
        stride_ms = s.stride_time_s * 1000.0
        for name in LAG_NAMES:
            v = s.lag_ms(name)
            if v is None:
                continue
            d = v - (targets.get(name) or 0.0)
            per.setdefault(LIMB_OF_LAG[name](s.stance_side), []).append((d, 100.0 * d / stride_ms))
    return {r: np.array(v, float).reshape(-1, 2) for r, v in per.items()}


def weak_link(steps: list[Step], targets: dict[str, float | None]) -> dict | None:
    """The limb whose mean |lag − target| is largest over these steps, with sign, size and share."""
    per = limb_deviations(steps, targets)
    if not per:
        return None
    limbs = {}
    for role, d in per.items():
        limbs[role] = {"mean_abs_dev_ms": float(np.mean(np.abs(d[:, 0]))), "mean_dev_ms": float(np.mean(d[:, 0])),
                       "mean_dev_pct": float(np.mean(d[:, 1])), "n": len(d)}
    total = sum(v["mean_abs_dev_ms"] for v in limbs.values())
    role = max(limbs, key=lambda r: limbs[r]["mean_abs_dev_ms"])
    w = limbs[role]
    direction = "late" if w["mean_dev_ms"] > 0 else "early"
    return {
        "limb": role.value,
        "direction": direction,
        "mean_abs_dev_ms": w["mean_abs_dev_ms"],
        "mean_dev_ms": w["mean_dev_ms"],
        "mean_dev_pct": w["mean_dev_pct"],
        "share_pct": 100.0 * w["mean_abs_dev_ms"] / total if total else None,
        "text": f"{LIMB_WORDS[role]} {direction} by {abs(w['mean_dev_ms']):.0f} ms, {abs(w['mean_dev_pct']):.0f} % of stride",
        "limbs": {r.value: v for r, v in limbs.items()},
    }


def other_leg_contacts(steps: list[Step], events: list[Event]) -> list[tuple[Step, float]]:
    """Each step with the other leg's contact inside the stance leg's stride (steps without one are left out)."""
    idx = index_events(events)
    contacts = {side: [e.time_s for e in idx.get((side.shin, EventKind.CONTACT), [])] for side in Side}
    out = []
    for s in steps:
        if s.contact_time_s is None:
            continue
        c_s = s.time_s - s.contact_time_s
        others = contacts[s.stance_side.other]
        k = bisect_left(others, c_s)
        if k < len(others) and others[k] < c_s + s.stride_time_s:
            out.append((s, others[k]))
    return out


def flight_times_s(steps: list[Step], events: list[Event]) -> list[float]:
    """Per step, the flight: from the stance leg's toe-off (the push) to the other leg's next initial contact,
    when that contact comes within the stance leg's stride (s; negative would mean double support)."""
    idx = index_events(events)
    contacts = {side: [e.time_s for e in idx.get((side.shin, EventKind.CONTACT), [])] for side in Side}
    out = []
    for s in steps:
        others = contacts[s.stance_side.other]
        k = bisect_left(others, s.time_s)
        if k < len(others) and others[k] - s.time_s < s.stride_time_s:
            out.append(others[k] - s.time_s)
    return out


def pci(steps: list[Step], events: list[Event]) -> float | None:
    """Phase Coordination Index (Plotnik 2007) over these steps, in %.

    φ = 360° × (t_contact_O − t_contact_S) / stride_S, with t_contact_O the other leg's
    contact inside the stance leg's stride.
    """
    phis = [360.0 * (t_o - (s.time_s - s.contact_time_s)) / s.stride_time_s for s, t_o in other_leg_contacts(steps, events)]
    if len(phis) < 2:
        return None
    phis = np.array(phis)
    return float(np.std(phis, ddof=1) / np.mean(phis) * 100.0 + 100.0 * np.mean(np.abs(phis - 180.0)) / 180.0)


def plv(events: list[Event], t_from: float = -math.inf, t_to: float = math.inf) -> dict[str, float]:
    """Phase-locking value of each arm–leg pair: the arm's ``arm_fwd`` instants as phases of the leg's stride."""
    idx = index_events(events)
    out = {}
    for wrist in (Role.LEFT_WRIST, Role.RIGHT_WRIST):
        arms = [e.time_s for e in idx.get((wrist, EventKind.ARM_FWD), []) if t_from <= e.time_s <= t_to]
        for shin in (Role.LEFT_SHIN, Role.RIGHT_SHIN):
            strides = counted_strides(idx, shin)
            if not strides or not arms:
                continue
            t0s = [a for a, _ in strides]
            ph = []
            for t in arms:
                j = bisect_left(t0s, t) - 1
                if j >= 0 and strides[j][0] <= t <= strides[j][1]:
                    a, b = strides[j]
                    ph.append(2 * math.pi * (t - a) / (b - a))
            if len(ph) >= 2:
                out[f"{wrist.value}~{shin.value}"] = float(abs(np.mean(np.exp(1j * np.array(ph)))))
    return out


def summarize(events: list[Event], steps: list[Step], targets: dict[str, float | None], cfg: DetectorConfig) -> dict:
    """Session statistics of MEASUREMENT.md §3 over the given events and steps."""
    idx = index_events(events)
    stride_t = [s.stride_time_s for s in steps]
    contact_t = [s.contact_time_s for s in steps if s.contact_time_s is not None]
    scores = [s.sync_score for s in steps if s.sync_score is not None]
    balance: dict[str, float | None] = {}
    amp = {}
    for kind in EventKind:
        for side in Side:
            role = side.shin if kind in (EventKind.CONTACT, EventKind.PUSH, EventKind.SWING) else side.wrist
            amp[(kind, side)] = _mean([e.amplitude for e in idx.get((role, kind), [])])
        balance[f"{kind.value}_amplitude_sa_pct"] = symmetry_angle_pct(amp[(kind, Side.LEFT)], amp[(kind, Side.RIGHT)])
    by_side = {side: [s for s in steps if s.stance_side is side] for side in Side}
    balance["stride_time_sa_pct"] = symmetry_angle_pct(_mean([s.stride_time_s for s in by_side[Side.LEFT]]),
                                                       _mean([s.stride_time_s for s in by_side[Side.RIGHT]]))
    balance["contact_time_sa_pct"] = symmetry_angle_pct(
        _mean([s.contact_time_s for s in by_side[Side.LEFT] if s.contact_time_s is not None]),
        _mean([s.contact_time_s for s in by_side[Side.RIGHT] if s.contact_time_s is not None]))
    for side in Side:
        sw, pu = amp[(EventKind.SWING, side)], amp[(EventKind.PUSH, side)]
        balance[f"{side.value}_swing_push_ratio"] = sw / pu if sw is not None and pu else None
    lags = {}
    for name in LAG_NAMES:
        v = [s.lag_ms(name) for s in steps if s.lag_ms(name) is not None]
        lags[name] = {"mean_ms": _mean(v), "median_ms": float(np.median(v)) if v else None,
                      "sd_ms": float(np.std(v, ddof=1)) if len(v) > 1 else None, "n": len(v),
                      "target_ms": targets.get(name)}
    flight = flight_times_s(steps, events)
    return {
        "target_model": cfg.target_model,
        "targets_ms": dict(targets),
        "n_steps": len(steps),
        "n_events": {k.value: sum(1 for e in events if e.kind is k) for k in EventKind},
        "cadence_spm": 120.0 / float(np.mean(stride_t)) if stride_t else None,
        "stride_time_s": _mean(stride_t),
        "stride_time_cv_pct": _cv_pct(stride_t),
        "contact_time_s": _mean(contact_t),
        "contact_time_cv_pct": _cv_pct(contact_t),
        "flight_time_s": _mean(flight),
        "flight_time_cv_pct": _cv_pct(flight),
        "sync_score": _mean(scores),
        "lags": lags,
        "weak_link": weak_link(steps, targets),
        "balance": balance,
        "pci_pct": pci(steps, events),
        "plv": plv(events),
    }
