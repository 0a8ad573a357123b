"""The two rule sets of MEASUREMENT.md v2, written once for both analysers.

Every limb is analysed in the same shape (docs/measurement.md §3):

1. **Anchors.** One signal per limb has one dominant peak per cycle: the shank's mid-swing rotation
   (gyroscope rules) or its terminal-swing deceleration (accelerometer rules), the arm's forward swing
   (gyroscope) or its forward turn (accelerometer). An anchor is a local maximum of ``sign × signal`` that reaches the rule's
   minimum and is the largest value from ``anchor_before_s`` before it to ``anchor_after_s`` after it, within
   its own segment (earlier samples must be strictly lower, later ones lower or equal).
2. **Records.** Each anchor, with the anchor before it when the two lie 0.4–1.0 s apart in one segment,
   gives a *record*: the events of the cycle that ends at this anchor and of the moments just after it.
   For a shin, a record holds the stride's ``push`` and ``swing`` and the ``contact`` that closes the stride;
   for a wrist, its ``arm_back`` and ``arm_fwd``.
3. **Strides, bouts, steps** are built from records by :mod:`stridesync.core.strides` and
   :mod:`stridesync.core.measures`, the same code for the reference and the real-time core.

A record reads only samples from the previous anchor to :func:`record_end_s` after its own anchor, so
the real-time core can compute it as soon as those values are final, with this very function.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from ..model import EventKind, Role
from . import dsp
from .config import DetectorConfig


class RuleSet(str, Enum):
    """Which rules found an event (the ``source`` column of the events CSV; ``model.event_unit`` gives the
    unit of its amplitude)."""

    GYRO = "gyro"
    ACCEL = "accel"

    def __str__(self) -> str:
        return self.value


def choose(cfg: DetectorConfig, has_gyro: bool) -> RuleSet:
    """The rule set for one sensor: ``auto`` takes the gyroscope rules wherever angular rate exists."""
    if cfg.rules == "accel":
        return RuleSet.ACCEL
    if cfg.rules == "gyro" or has_gyro:
        return RuleSet.GYRO
    return RuleSet.ACCEL


@dataclass(frozen=True)
class Spec:
    """What one limb's analysis needs: its filtered signals and its anchor."""

    rules: RuleSet
    is_shin: bool
    #: signal name → low-pass cut-off (Hz), or None for the unfiltered signal
    signals: dict[str, float | None]
    anchor: str
    anchor_sign: float
    anchor_min: float


def spec(role: Role, rules: RuleSet, cfg: DetectorConfig) -> Spec:
    if role.is_shin:
        if rules is RuleSet.GYRO:
            return Spec(rules, True, {"s": cfg.gyro_shin_lp_hz, "m": None, "r": None}, "s", 1.0, cfg.gyro_swing_min_dps)
        return Spec(rules, True, {"ay": cfg.acc_shin_lp_hz, "ax": cfg.acc_shin_lp_hz, "m": None}, "ay", -1.0,
                    cfg.acc_swing_decel_min_g)
    if rules is RuleSet.GYRO:
        return Spec(rules, False, {"s": cfg.gyro_arm_lp_hz}, "s", 1.0, cfg.gyro_arm_min_dps)
    return Spec(rules, False, {"ay": cfg.arm_lp_hz}, "ay", -1.0, -np.inf)


def raw_signals(sp: Spec, acc_g: np.ndarray, gyro_dps: np.ndarray | None) -> dict[str, np.ndarray]:
    """The unfiltered input of each signal of ``sp``."""
    out = {}
    for name in sp.signals:
        if name in ("s", "r"):  # −ω_z: filtered (s) and as measured (r, to see clipping)
            out[name] = -np.asarray(gyro_dps, dtype=float)[:, 2]
        elif name == "m":
            out[name] = np.sqrt(np.einsum("ij,ij->i", acc_g, acc_g))
        elif name == "ay":
            out[name] = acc_g[:, 1]
        elif name == "ax":
            out[name] = acc_g[:, 0]
    return out


def record_end_s(tr: "Track", sp: Spec, cfg: DetectorConfig, i: int, final_hi: int) -> float | None:
    """The time through which the record of anchor ``i`` reads (one sample past it is also read), given
    that values below global index ``final_hi`` are final; ``None`` while that is not known yet.

    The reach depends on the data (the contact is searched from the terminal-swing zero crossing, the
    forward turn ends at the first negative rate), so the real-time core asks as the data arrive.
    """
    ta = tr.time(i)
    if sp.rules is RuleSet.ACCEL:
        return ta + cfg.acc_impact_search_s if sp.is_shin else ta
    if not sp.is_shin:
        jd, ju = _wrist_turns(tr, cfg, i, final_hi)
        if isinstance(jd, str) or isinstance(ju, str):  # a search the final values do not cover yet
            return None
        last = ju if ju is not None else jd
        return ta if last is None else tr.time(last)
    search = cfg.gyro_contact_search_s
    lo, hi = tr.clip_seg(i, i, tr.index_after(ta + search))
    reach = min(hi, final_hi)
    neg = (tr.sig["s"][lo - tr.base:reach - tr.base] < 0.0).nonzero()[0]
    if len(neg):
        jz = lo + int(neg[0])
        j_end = _loading_min_end(tr, cfg, i, jz, final_hi)
        return None if j_end is None else tr.time(j_end)
    if hi <= final_hi and hi < tr.base + len(tr.t):
        return ta + search
    return None


def _loading_min_end(tr: "Track", cfg: DetectorConfig, i: int, jz: int, final_hi: int | None = None) -> int | None:
    """Global index of the last sample the loading-response minimum reads: the first sample after the zero
    crossing ``jz`` that rises ``gyro_contact_rise_dps`` above the running minimum, or the last sample within
    ``gyro_contact_min_s`` of the crossing (its segment permitting). ``None`` while the final values (below
    ``final_hi``) do not reach it yet."""
    lo, hi = tr.clip_seg(i, jz, tr.index_after(tr.time(jz) + cfg.gyro_contact_min_s))
    reach = min(hi, tr.final_end if final_hi is None else final_hi)
    x = tr.sig["s"][lo - tr.base:reach - tr.base]
    if len(x):
        run = np.minimum.accumulate(x)
        up = (x > run + cfg.gyro_contact_rise_dps).nonzero()[0]
        if len(up):
            return lo + int(up[0])
    if reach == hi and (final_hi is None or hi < final_hi or hi == tr.base + len(tr.t)):
        return hi - 1
    return None


class Track:
    """Index-addressed access to one limb's samples: times, segment ids and filtered signals.

    ``base`` is the global index of element 0 of the arrays (the real-time core keeps a trimmed buffer),
    so every index below is global. Windows never leave the segment of the sample they start from.
    """

    __slots__ = ("t", "seg", "sig", "base", "fs", "final_end")

    def __init__(self, t: np.ndarray, seg: np.ndarray, sig: dict[str, np.ndarray], base: int = 0, fs: float = 200.0,
                 final_end: int | None = None):
        self.t, self.seg, self.sig, self.base, self.fs = t, seg, sig, base, fs
        #: global index: the values before it are final (the real-time core's buffers hold later ones too)
        self.final_end = base + len(t) if final_end is None else final_end

    def time(self, i: int) -> float:
        return float(self.t[i - self.base])

    def index_after(self, t: float) -> int:
        """First global index with time > t."""
        return int(self.t.searchsorted(t, side="right")) + self.base

    def index_from(self, t: float) -> int:
        """First global index with time >= t."""
        return int(self.t.searchsorted(t, side="left")) + self.base

    def same_seg(self, i: int, j: int) -> bool:
        return self.seg[i - self.base] == self.seg[j - self.base]

    def clip_seg(self, i: int, lo: int, hi: int) -> tuple[int, int]:
        """[lo, hi) cut to i's segment (and to the arrays)."""
        b = self.base
        lo, hi = max(lo, b), min(hi, b + len(self.t))
        sid = self.seg[i - b]
        # segments are contiguous runs: walk the edges by search on the run
        sg = self.seg[lo - b:hi - b]
        if len(sg) and (sg[0] != sid or sg[-1] != sid):
            inside = (sg == sid).nonzero()[0]
            return lo + int(inside[0]), lo + int(inside[-1]) + 1
        return lo, hi

    def refined(self, name: str, i: int) -> tuple[float, float]:
        """(time, value) of the extreme at i, by the contract's parabola, within i's segment."""
        x = self.sig[name]
        b = self.base
        if i - 1 < b or i + 1 >= b + len(x) or not (self.same_seg(i - 1, i) and self.same_seg(i, i + 1)):
            return self.time(i), float(x[i - b])
        shift, val = dsp.refine_extremum(x[i - 1 - b:i + 2 - b], 1)
        return dsp.sample_time(self.t[i - 1 - b:i + 2 - b], 1, shift), val

    def crossing(self, name: str, j: int, level: float) -> float:
        """Time where the signal crosses ``level`` between samples j−1 and j (linear interpolation)."""
        x = self.sig[name]
        b = self.base
        x0, x1 = float(x[j - 1 - b]), float(x[j - b])
        t0, t1 = float(self.t[j - 1 - b]), float(self.t[j - b])
        if x1 == x0:
            return t1
        return t0 + (level - x0) / (x1 - x0) * (t1 - t0)


def candidates(x: np.ndarray, seg: np.ndarray, sign: float, vmin: float) -> np.ndarray:
    """Local indices k (1 … n−2) where sign × x has a local maximum (a plateau once, at its start) of at
    least ``vmin`` with both neighbours in its segment."""
    if len(x) < 3:
        return np.empty(0, dtype=np.int64)
    y = sign * x
    c = y[1:-1]
    ok = (c > y[:-2]) & (c >= y[2:]) & (c >= vmin) & (seg[1:-1] == seg[:-2]) & (seg[1:-1] == seg[2:])
    return ok.nonzero()[0] + 1


def cycle_prev(tr: Track, cfg: DetectorConfig, prev: int | None, i: int) -> int | None:
    """The previous anchor when the two form a valid cycle (one segment, 0.4–1.0 s apart)."""
    if prev is None or not tr.same_seg(prev, i):
        return None
    return prev if cfg.stride_min_s <= tr.time(i) - tr.time(prev) <= cfg.stride_max_s else None


def is_anchor(tr: Track, sp: Spec, i: int, cfg: DetectorConfig) -> bool:
    """Candidate i beats every earlier sample of its window strictly and every later one or ties it."""
    lo, hi = tr.clip_seg(i, tr.index_from(tr.time(i) - cfg.anchor_before_s), tr.index_after(tr.time(i) + cfg.anchor_after_s))
    b = tr.base
    y = sp.anchor_sign * tr.sig[sp.anchor][lo - b:hi - b]
    k = i - lo
    v = y[k]
    j = int(y.argmax())
    m = y[j]
    return not (m > v or (m == v and j < k))


@dataclass(frozen=True, slots=True)
class Found:
    """One event found by a record: its instant (s) and amplitude (in the rule set's unit). ``clipped``: the
    peak it stands on reached the sensor's full scale, so its instant is not known (it is not reported)."""

    kind: EventKind
    time_s: float
    amplitude: float
    clipped: bool = False


def record(tr: Track, sp: Spec, cfg: DetectorConfig, i_prev: int | None, i: int) -> list[Found]:
    """The events of the record of anchor ``i`` (``i_prev``: the previous anchor of a valid cycle, or None).

    Shin: ``push`` and ``swing`` of the stride that ends at this record's ``contact``, and that contact.
    Wrist: the ``arm_back`` of the cycle before the anchor and the ``arm_fwd`` after it (gyroscope), or the
    anchor's ``arm_fwd`` and the cycle's ``arm_back`` (accelerometer).
    """
    if sp.is_shin:
        return _shin_gyro(tr, cfg, i_prev, i) if sp.rules is RuleSet.GYRO else _shin_accel(tr, cfg, i_prev, i)
    return _wrist_gyro(tr, cfg, i_prev, i) if sp.rules is RuleSet.GYRO else _wrist_accel(tr, cfg, i_prev, i)


def _shin_gyro(tr: Track, cfg: DetectorConfig, i_prev: int | None, i: int) -> list[Found]:
    b = tr.base
    s = tr.sig["s"]
    out = []
    ta = tr.time(i)
    if i_prev is not None:
        T = ta - tr.time(i_prev)
        # toe-off: the early-swing minimum before the mid-swing peak, the late-stance maximum before it,
        # and the first fall past drop_frac of the way between them
        lo = tr.index_from(ta - 0.5 * T)
        j_min = lo + int(s[lo - b:i - b].argmin())
        lo2 = tr.index_from(ta - 0.6 * T)
        if j_min > lo2:
            j_max = lo2 + int(s[lo2 - b:j_min - b].argmax())
            hi_v, lo_v = float(s[j_max - b]), float(s[j_min - b])
            level = hi_v - cfg.gyro_push_drop_frac * (hi_v - lo_v)
            seg = s[j_max - b:j_min + 1 - b]
            k = int((seg < level).nonzero()[0][0])  # exists: the minimum itself is below the level
            out.append(Found(EventKind.PUSH, tr.crossing("s", j_max + k, level), abs(lo_v)))
    # the instant and size of the peak from the measured rate next to the filtered peak: a low-pass moves the
    # top of an asymmetric peak toward its broader side (by 4-5 ms at 30 Hz on the simulator's shanks)
    lo_r, hi_r = tr.clip_seg(i, i - cfg.swing_refine_samples, i + cfg.swing_refine_samples + 1)
    j_r = lo_r + int(tr.sig["r"][lo_r - b:hi_r - b].argmax())
    t_sw, v_sw = tr.refined("r", j_r)
    out.append(Found(EventKind.SWING, t_sw, v_sw, _clipped(tr, i)))
    # initial contact: the terminal-swing zero crossing of −ω_z, then the minimum that follows it
    lo, hi = tr.clip_seg(i, i, tr.index_after(ta + cfg.gyro_contact_search_s))
    neg = (s[lo - b:hi - b] < 0.0).nonzero()[0]
    if len(neg) and neg[0] > 0:
        jz = lo + int(neg[0])
        t_z = tr.crossing("s", jz, 0.0)
        j_end = _loading_min_end(tr, cfg, i, jz)
        hi2 = j_end + 1
        j_m = jz + int(s[jz - b:hi2 - b].argmin())
        if j_m < j_end:  # a true minimum, confirmed by the rise after it
            t_m, _ = tr.refined("s", j_m)
            tc = t_z + cfg.gyro_contact_frac * (t_m - t_z)
            # amplitude: the peak of the unfiltered ‖a‖ within 50 ms of contact (the impact)
            lo_a, hi_a = tr.clip_seg(i, tr.index_from(tc - 0.05), min(tr.index_after(tc + 0.05), hi2))
            m = tr.sig["m"][lo_a - b:hi_a - b]
            out.append(Found(EventKind.CONTACT, tc, float(m.max()) if len(m) else float("nan")))
    return out


def _last_down_crossing(tr: Track, name: str, lo: int, hi: int, level: float = 0.0) -> int | None:
    """Global index j (lo < j < hi) of the last sample where the signal falls below ``level`` (x[j−1] ≥ level
    > x[j]), or None."""
    x = tr.sig[name][lo - tr.base:hi - tr.base]
    k = ((x[:-1] >= level) & (x[1:] < level)).nonzero()[0]
    return None if len(k) == 0 else lo + int(k[-1]) + 1


def _clipped(tr: Track, i: int) -> bool:
    """The measured rate around the peak at i sits at one value for three samples or more at over
    ``CLIP_MIN_DPS``: the sensor's full scale. A natural peak can repeat one 16-bit value on two samples (the
    peak between them), not on three: at a swing peak's curvature the rate moves ~10 deg/s within ±5 ms."""
    lo, hi = tr.clip_seg(i, i - 4, i + 5)
    r = np.abs(tr.sig["r"][lo - tr.base:hi - tr.base])
    top = float(r.max())
    return top >= CLIP_MIN_DPS and int(np.count_nonzero(r == top)) >= 3


#: a flat-topped peak below this rate is not taken for clipping (the smallest shank range in use is 500 deg/s)
CLIP_MIN_DPS = 400.0


def _shin_accel(tr: Track, cfg: DetectorConfig, i_prev: int | None, i: int) -> list[Found]:
    """Accelerometer rules. The anchor is the terminal-swing deceleration (the lowest a_y of the stride, just
    before contact). Tangential acceleration vanishes at the shank's peak angular velocity, so ``swing`` is
    the last downward zero crossing of a_y before the anchor; toe-off starts the early-swing backward
    rotation, a dip of a_y before the forward-swing hump, so ``push`` is the last downward zero crossing of a_y
    before that dip; ``contact`` is the onset of the impact: the lowest a_x between the anchor and the impact's
    a_x peak."""
    b = tr.base
    ay, ax = tr.sig["ay"], tr.sig["ax"]
    out = []
    ta = tr.time(i)
    if i_prev is not None:
        T = ta - tr.time(i_prev)
        # the onset of the terminal-swing deceleration: the last fall of a_y through a small fraction of it
        level_sw = cfg.acc_swing_level_frac * float(ay[i - b])
        j_sw = _last_down_crossing(tr, "ay", tr.index_from(ta - 0.5 * T), i + 1, level_sw)
        if j_sw is not None:
            t_sw = tr.crossing("ay", j_sw, level_sw)
            # the forward-swing hump before it, the early-swing dip before that
            lo = tr.index_from(t_sw - cfg.acc_hump_window_frac * T)
            j_h = lo + int(ay[lo - b:j_sw - b].argmax()) if lo < j_sw else j_sw
            if lo < j_sw:
                lo2 = tr.index_from(tr.time(j_h) - cfg.acc_dip_window_frac * T)
                if lo2 < j_h:
                    j_d = lo2 + int(ay[lo2 - b:j_h - b].argmin())
                    # toe-off: a_y falls from the push-off bump before the dip; the crossing of their mid-level
                    lo3 = max(tr.index_from(tr.time(j_d) - cfg.acc_dip_window_frac * T), i_prev)
                    if lo3 < j_d:
                        j_b = lo3 + int(ay[lo3 - b:j_d - b].argmax())
                        level = 0.5 * float(ay[j_b - b] + ay[j_d - b])
                        below = (ay[j_b - b:j_d + 1 - b] < level).nonzero()[0]
                        if len(below) and below[0] > 0:
                            j_p = j_b + int(below[0])
                            out.append(Found(EventKind.PUSH, tr.crossing("ay", j_p, level),
                                             float(ay[j_b - b] - ay[j_d - b])))
            # amplitude: the forward-swing hump (g), the tangential acceleration that drives the swing
            out.append(Found(EventKind.SWING, t_sw, abs(float(ay[j_h - b]))))
    # the impact: the sharpest rise of a_x (largest gain over ``acc_onset_window_s``) near the deceleration;
    # contact is its onset, the lowest a_x before it within that window
    lo, hi = tr.clip_seg(i, tr.index_from(ta - cfg.acc_impact_before_s), tr.index_after(ta + cfg.acc_impact_search_s))
    w = max(1, int(round(cfg.acc_onset_window_s * tr.fs)))  # samples, from the nominal rate (the same in both analysers)
    lo_w, _ = tr.clip_seg(i, lo - w, lo + 1)
    x = ax[lo_w - b:hi - b]
    if hi - lo >= 3 and len(x) > w:
        wins = np.lib.stride_tricks.sliding_window_view(x, w + 1)  # row k ends at sample lo_w + k + w
        ends = np.arange(lo_w + w, hi)
        keep = ends >= lo
        wins, ends = wins[keep], ends[keep]
        gain = wins[:, -1] - wins.min(axis=1)
        k = int(gain.argmax())
        j_imp = int(ends[k])
        j_on = j_imp - w + int(wins[k].argmin())
        if j_on < j_imp:
            tc, _ = tr.refined("ax", j_on)
            m = tr.sig["m"][j_on - b:hi - b]
            out.append(Found(EventKind.CONTACT, tc, float(m.max())))
    return out


def _first(x: np.ndarray, negative: bool) -> int | None:
    """Index of the first value below zero (``negative``) or at or above it, or None."""
    k = (x < 0.0).nonzero()[0] if negative else (x >= 0.0).nonzero()[0]
    return int(k[0]) if len(k) else None


def _wrist_turns(tr: Track, cfg: DetectorConfig, i: int, final_hi: int | None = None):
    """The forward turn (first fall of −ω_z below zero after the forward swing's peak i) and the backward turn
    (its first return to zero or above after a backward swing of at least ``gyro_arm_min_dps``), as global indices; each None when absent. With
    ``final_hi`` (real time), ``"wait"`` stands for a search that the final values do not cover yet."""
    s = tr.sig["s"]
    b, end = tr.base, tr.base + len(tr.t)
    lo, hi = tr.clip_seg(i, i, tr.index_after(tr.time(i) + cfg.gyro_arm_search_s))
    reach = hi if final_hi is None else min(hi, final_hi)
    k = _first(s[lo - b:reach - b], True)
    if k is None or k == 0:
        done = final_hi is None or (hi <= final_hi and hi < end)
        return (None, None) if done else ("wait", None)
    jd = lo + k
    lo2, hi2 = tr.clip_seg(i, jd, tr.index_after(tr.time(jd) + cfg.gyro_arm_back_search_s))
    reach2 = hi2 if final_hi is None else min(hi2, final_hi)
    # the backward swing must have reached the rule's minimum rate before the turn counts (a wiggle of the
    # rate around zero at the forward turn is not a backward swing)
    x2 = s[lo2 - b:reach2 - b]
    ok = np.flatnonzero((x2 >= 0.0) & (np.minimum.accumulate(x2) <= -cfg.gyro_arm_min_dps)) if len(x2) else x2
    k2 = int(ok[0]) if len(ok) else None
    if k2 is None:
        done = final_hi is None or (hi2 <= final_hi and hi2 < end)
        return (jd, None) if done else (jd, "wait")
    return jd, lo2 + k2


def _wrist_gyro(tr: Track, cfg: DetectorConfig, i_prev: int | None, i: int) -> list[Found]:
    """Gyroscope rules for a wrist: the turnarounds are where the forearm's sagittal rate −ω_z changes sign,
    after the forward swing's peak (the anchor): first the forward turn, then the backward turn. Amplitudes:
    the peak rate of the swing that ends at each turn."""
    b = tr.base
    s = tr.sig["s"]
    out = []
    jd, ju = _wrist_turns(tr, cfg, i)
    if jd is not None:
        _, v_pk = tr.refined("s", i)
        out.append(Found(EventKind.ARM_FWD, tr.crossing("s", jd, 0.0), abs(v_pk)))
        if ju is not None:
            out.append(Found(EventKind.ARM_BACK, tr.crossing("s", ju, 0.0), abs(float(s[jd - b:ju - b].min()))))
    return out


def _wrist_accel(tr: Track, cfg: DetectorConfig, i_prev: int | None, i: int) -> list[Found]:
    b = tr.base
    out = []
    if i_prev is not None:
        ay = tr.sig["ay"][i_prev - b:i + 1 - b]
        j = i_prev + 1 + int(ay[1:-1].argmax())
        tb, v = tr.refined("ay", j)
        out.append(Found(EventKind.ARM_BACK, tb, abs(v)))
    tf, v = tr.refined("ay", i)
    out.append(Found(EventKind.ARM_FWD, tf, abs(v)))
    return out


def wrist_cycle_clear(tr: Track, sp: Spec, cfg: DetectorConfig, i_prev: int, i: int) -> bool:
    """Wrists only: the arm swings clearly over the cycle (gyroscope: its forward peak reaches the
    rule's minimum, already true of every anchor; accelerometer: a_y spans ``wrist_only_min_p2p_g``)."""
    if sp.rules is RuleSet.GYRO:
        return True
    ay = tr.sig["ay"][i_prev - tr.base:i + 1 - tr.base]
    return float(ay.max() - ay.min()) >= cfg.wrist_only_min_p2p_g
