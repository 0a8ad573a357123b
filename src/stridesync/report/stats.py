"""Numbers a report derives from the steps: per-limb series, trends, phases, laps, and why a value is missing.

Session statistics come from :func:`stridesync.core.measures.summarize` and are shown as they are.
This module only adds what the summary does not hold: how the lags spread and drift over time, the
phase of each limb within the stride, and per-lap figures (computed with the same
:func:`~stridesync.core.measures.weak_link` definition as the session's). Qt-free.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from stridesync.core.measures import LIMB_OF_LAG, other_leg_contacts
from stridesync.model import LAG_NAMES, Role, Side, Step

from .data import ReportData
from .weak import WeakLink, weak_link_verdict

#: Limbs in display order (weak-link sense: a leg's swing, an arm's turnarounds).
LIMBS = (Role.LEFT_SHIN, Role.RIGHT_SHIN, Role.LEFT_WRIST, Role.RIGHT_WRIST)
LIMB_NAME = {Role.LEFT_SHIN: "left leg", Role.RIGHT_SHIN: "right leg", Role.LEFT_WRIST: "left arm",
             Role.RIGHT_WRIST: "right arm"}
SENSOR_NAME = {Role.LEFT_SHIN: "left shin", Role.RIGHT_SHIN: "right shin", Role.LEFT_WRIST: "left wrist",
               Role.RIGHT_WRIST: "right wrist"}
#: What each lag measures on the limb it belongs to.
LAG_EVENT = {"swing_lag": "swing", "ipsi_arm_lag": "forward turn", "contra_arm_lag": "back turn"}


@dataclass(frozen=True)
class Series:
    """One limb's peaks of one kind (e.g. the left leg's swing), measured against the push of the stance leg
    ``stance``: the other leg's push for a leg's swing and an arm's back turn, the same side's push for an
    arm's forward turn (docs/measurement.md §5)."""

    role: Role
    lag: str
    stance: Side

    @property
    def label(self) -> str:
        return f"{LIMB_NAME[self.role].capitalize()} {LAG_EVENT[self.lag]}"

    @property
    def words(self) -> str:
        """The series in a sentence: 'the right arm's back turn'."""
        return f"the {LIMB_NAME[self.role]}'s {LAG_EVENT[self.lag]}"

    @property
    def push_words(self) -> str:
        """Whose push the lag is measured from: 'from the left push' (the stance leg's)."""
        return f"from the {self.stance.value} push"

    @property
    def needs(self) -> tuple[Role, ...]:
        """Sensors this series needs: the stance shin and the limb's own sensor."""
        return tuple(dict.fromkeys((self.stance.shin, self.role)))


def all_series() -> list[Series]:
    """The six limb series: each leg's swing, each arm's forward and back turnaround."""
    out = []
    for lag in LAG_NAMES:
        for stance in (Side.RIGHT, Side.LEFT):
            out.append(Series(LIMB_OF_LAG[lag](stance), lag, stance))
    return sorted(out, key=lambda s: (LAG_NAMES.index(s.lag), LIMBS.index(s.role)))


def missing_reason(needed: Iterable[Role], worn: Iterable[Role], fallback: str = "too few steps to compute it") -> str:
    """Why a value is empty: the sensors it needs that were not worn, else ``fallback``."""
    worn = set(worn)
    absent = [SENSOR_NAME[r] for r in needed if r not in worn]
    if absent:
        return "no " + " or ".join(absent) + (" sensor" if len(absent) == 1 else " sensors")
    return fallback


# -------------------------------------------------------------------- per-step arrays
@dataclass(frozen=True)
class SeriesData:
    series: Series
    time_s: np.ndarray
    lag_ms: np.ndarray
    lag_pct: np.ndarray
    target_ms: float | None

    @property
    def dev_ms(self) -> np.ndarray:
        return self.lag_ms - (self.target_ms or 0.0)

    @property
    def n(self) -> int:
        return len(self.lag_ms)


def series_data(steps: Sequence[Step], targets: dict) -> dict[Series, SeriesData]:
    out = {}
    for se in all_series():
        rows = [(s.time_s, s.lag_ms(se.lag), getattr(s, f"{se.lag}_pct")) for s in steps
                if s.stance_side is se.stance and s.lag_ms(se.lag) is not None]
        a = np.array(rows, float).reshape(-1, 3)
        out[se] = SeriesData(se, a[:, 0], a[:, 1], a[:, 2], targets.get(se.lag))
    return out


# -------------------------------------------------------------------- trends
def trend_bin_s(span_s: float) -> float:
    """Bin width of the trend plots: 60 s for runs of 8 min or more, else 30 s or 15 s (at least ~8 bins)."""
    for b in (60.0, 30.0):
        if span_s >= 8 * b:
            return b
    return 15.0


@dataclass(frozen=True)
class Trends:
    bin_s: float
    t_min: np.ndarray                       # bin centres, minutes from the session start
    series_dev_ms: dict[Series, np.ndarray]  # median lag − target per bin, per limb series (NaN where empty)
    score: np.ndarray                       # median sync score per bin
    score_q: tuple[np.ndarray, np.ndarray]  # its 25th and 75th percentiles
    cadence_spm: np.ndarray                 # 120 / mean stride time per bin
    n_steps: np.ndarray


def _binned(t: np.ndarray, v: np.ndarray, edges: np.ndarray, fn) -> np.ndarray:
    out = np.full(len(edges) - 1, np.nan)
    if len(t) == 0:
        return out
    k = np.searchsorted(edges, t, side="right") - 1
    for i in range(len(out)):
        sel = v[k == i]
        sel = sel[np.isfinite(sel)]
        if len(sel):
            out[i] = fn(sel)
    return out


def trends(data: ReportData, min_steps_per_bin: int = 5) -> Trends | None:
    steps = list(data.steps)
    if len(steps) < 2:
        return None
    t = np.array([s.time_s for s in steps])
    t0 = 0.0
    bin_s = trend_bin_s(t[-1] - t[0])
    edges = np.arange(math.floor((t[0] - t0) / bin_s) * bin_s, t[-1] + bin_s, bin_s)
    k = np.searchsorted(edges, t, side="right") - 1
    n = np.bincount(k, minlength=len(edges) - 1)[: len(edges) - 1]
    ok = n >= min_steps_per_bin
    score = np.array([np.nan if s.sync_score is None else s.sync_score for s in steps])
    stride = np.array([s.stride_time_s for s in steps])
    targets = dict(data.summary.get("targets_ms") or {})
    limb = {}
    for se, sd in series_data(steps, targets).items():
        m = _binned(sd.time_s, sd.dev_ms, edges, np.median)
        m[~ok] = np.nan
        limb[se] = m
    med = _binned(t, score, edges, np.median)
    q1 = _binned(t, score, edges, lambda x: np.percentile(x, 25))
    q3 = _binned(t, score, edges, lambda x: np.percentile(x, 75))
    cad = 120.0 / _binned(t, stride, edges, np.mean)
    for a in (med, q1, q3, cad):
        a[~ok] = np.nan
    return Trends(bin_s, (edges[:-1] + bin_s / 2 - t0) / 60.0, limb, med, (q1, q3), cad, n)


@dataclass(frozen=True)
class Fatigue:
    """First versus last stretch of the run: medians of each lag series' lag − target (one per limb and
    event, keyed ``"<role>:<lag>"`` as :func:`series_key`), sync score and cadence.

    The weak link pools an arm's forward and back turns; a trend does not: each arm's two turns can drift
    apart (one steady, one climbing), and one median of the mix would hide that.
    """

    window_s: float
    first: dict[str, float | None]
    last: dict[str, float | None]
    n_first: int
    n_last: int


def series_key(se: Series) -> str:
    """'right_wrist:contra_arm_lag': the key of a limb series in :class:`Fatigue` and :func:`phases`."""
    return f"{se.role.value}:{se.lag}"


#: a series needs this many steps in a stretch for its median to be compared
FATIGUE_MIN_STEPS = 5


def fatigue(data: ReportData) -> Fatigue | None:
    """Compare the first and last ``window_s`` of steps: 5 min, or a quarter of the running time if shorter."""
    steps = list(data.steps)
    if len(steps) < 20:
        return None
    t = np.array([s.time_s for s in steps])
    span = t[-1] - t[0]
    window_s = min(300.0, span / 4.0)
    targets = dict(data.summary.get("targets_ms") or {})

    def stats(sel: list[Step]) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        sc = [s.sync_score for s in sel if s.sync_score is not None]
        out["sync_score"] = float(np.median(sc)) if sc else None
        out["cadence_spm"] = 120.0 / float(np.mean([s.stride_time_s for s in sel])) if sel else None
        for se, sd in series_data(sel, targets).items():
            out[series_key(se)] = float(np.median(sd.dev_ms)) if sd.n >= FATIGUE_MIN_STEPS else None
        return out

    first = [s for s in steps if s.time_s <= t[0] + window_s]
    last = [s for s in steps if s.time_s >= t[-1] - window_s]
    return Fatigue(window_s, stats(first), stats(last), len(first), len(last))


# -------------------------------------------------------------------- phases within the stride
@dataclass(frozen=True)
class Phase:
    """Circular statistics of a limb's peaks, as a phase of the stance leg's stride from its push (0 %).

    ``mean_pct`` is the circular mean, ``spread_pct`` the circular SD (sqrt(−2 ln R)), both in % of the
    stride; ``r`` is the mean resultant length (1 = the same phase every stride).
    """

    mean_pct: float
    spread_pct: float
    r: float
    n: int
    target_pct: float | None = None


def circular(pct: np.ndarray) -> tuple[float, float, float]:
    th = np.asarray(pct, float) * 2 * np.pi / 100.0
    c, s = float(np.mean(np.cos(th))), float(np.mean(np.sin(th)))
    r = math.hypot(c, s)
    mean = math.degrees(math.atan2(s, c)) / 3.6
    spread = math.degrees(math.sqrt(-2.0 * math.log(r))) / 3.6 if r > 1e-12 else 50.0
    return mean, spread, r


def phases(data: ReportData) -> dict[str, Phase]:
    """Phase of each limb series, of the stance foot's strike, and of the other foot's strike."""
    steps = list(data.steps)
    targets = dict(data.summary.get("targets_ms") or {})
    out: dict[str, Phase] = {}
    mean_stride_ms = 1000.0 * float(np.mean([s.stride_time_s for s in steps])) if steps else None
    for se, sd in series_data(steps, targets).items():
        if sd.n >= 2:
            m, sp, r = circular(sd.lag_pct)
            tgt = None if sd.target_ms is None or not mean_stride_ms else 100.0 * sd.target_ms / mean_stride_ms
            out[series_key(se)] = Phase(m, sp, r, sd.n, tgt)
    own = [-100.0 * s.contact_time_s / s.stride_time_s for s in steps if s.contact_time_s is not None]
    if len(own) >= 2:
        out["own_contact"] = Phase(*circular(np.array(own)), len(own))
    other = [100.0 * (t_o - s.time_s) / s.stride_time_s for s, t_o in other_leg_contacts(steps, data.events)]
    if len(other) >= 2:
        out["other_contact"] = Phase(*circular(np.array(other)), len(other))
    return out


# -------------------------------------------------------------------- laps
@dataclass(frozen=True)
class LapRow:
    label: str
    start_s: float
    end_s: float
    n_steps: int
    cadence_spm: float | None
    sync_score: float | None
    weak_link: WeakLink | None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def lap_rows(data: ReportData) -> list[LapRow]:
    """One row per lap (a marker starts a lap; it ends at the next marker or the session's end).

    Steps before the first marker form a row labelled "before the first lap" when there are any.
    Per lap: steps (pushes inside it), cadence (120 / mean stride time), mean sync score, and the
    weak link over its steps (same definition and targets as the session's).
    """
    if not data.laps:
        return []
    steps = list(data.steps)
    targets = dict(data.summary.get("targets_ms") or {})
    marks = sorted((float(t), str(lbl)) for t, lbl in data.laps)
    t_start = min([0.0] + [s.time_s for s in steps[:1]])
    t_end = max([data.duration_s] + [s.time_s for s in steps[-1:]] + [marks[-1][0]])
    bounds = [(marks[i][1], marks[i][0], marks[i + 1][0] if i + 1 < len(marks) else t_end) for i in range(len(marks))]
    if any(s.time_s < marks[0][0] for s in steps):
        bounds.insert(0, ("before the first lap", t_start, marks[0][0]))
    rows = []
    for label, a, b in bounds:
        sel = [s for s in steps if a <= s.time_s < b or (b == t_end and s.time_s == b)]
        sc = [s.sync_score for s in sel if s.sync_score is not None]
        rows.append(LapRow(label, a, b, len(sel),
                           120.0 / float(np.mean([s.stride_time_s for s in sel])) if sel else None,
                           float(np.mean(sc)) if sc else None,
                           weak_link_verdict(sel, targets) if sel else None))
    return rows
