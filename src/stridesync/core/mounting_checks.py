"""Mounting checks in words: how a sensor sits against its roster mounting, and the sensors against each other.

The estimate is :mod:`stridesync.core.mounting`; this module says what it means (docs/measurement.md §1,
Mounting: the thresholds and the figures behind them).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..model import Recording, Role
from .mounting import MountingConfig, MountingEstimate, lowpass, segment_kind

_SEGMENT = {"shin": "shin", "wrist": "forearm"}


def _label(role: Role) -> str:
    side, limb = role.value.split("_")
    return f"{side} {limb}"


#: a turn about the segment is named from this many degrees (shin: the knee's axis lies 0-13° off the standing
#: anterior on 17 real runners; wrist: the carried forearm's pronation, 0-35° on 5)
TWIST_WORDS_DEG = {"shin": 25.0, "wrist": 45.0}


def describe_rotation(role: Role, R: np.ndarray) -> tuple[str, bool]:
    """One sentence on how a sensor sits against its given mounting, and whether that is as given.

    ``R`` maps the given (input) frame to the body frame: its column j is the given axis j in body coordinates.
    """
    seg = _SEGMENT[segment_kind(role)]
    tilt = math.degrees(math.acos(max(-1.0, min(1.0, float(R[0, 0])))))
    twist = math.degrees(math.atan2(float(R[2, 1]), float(R[1, 1])))  # given y turned toward z, about x
    who = f"{_label(role).capitalize()} sensor"
    if tilt > 135:
        twist_up = math.degrees(math.atan2(-float(R[2, 1]), -float(R[1, 1])))
        extra = f" and turned {abs(twist_up):.0f}° around the {seg}" if abs(twist_up) >= 20 else ""
        return f"{who} is upside down{extra}", False
    parts = []
    # a forearm carried while running is pronated by a runner's own 0-35° against its standing frame (5 real
    # runners): its swing axis alone cannot tell a watch turned by less than that
    if abs(twist) >= (TWIST_WORDS_DEG["wrist"] if seg == "forearm" else TWIST_WORDS_DEG["shin"]):
        parts.append(f"rotated {abs(twist):.0f}° around the {seg}")
    if tilt >= 20:
        parts.append(f"tilted {tilt:.0f}° from the {seg}'s axis")
    if parts:
        return f"{who} is {' and '.join(parts)}", False
    return f"{who} sits as given (within {max(tilt, abs(twist)):.0f}°)", True


@dataclass(frozen=True)
class Verdict:
    """A sentence about one sensor (``role``) or several (``role`` None); ``ok`` False asks for attention."""

    role: Role | None
    text: str
    ok: bool

    def as_dict(self) -> dict:
        return {"role": self.role.value if self.role else None, "text": self.text, "ok": self.ok}


def _wz_stride(rec: Recording, role: Role) -> tuple[np.ndarray, np.ndarray] | None:
    rs = rec.get(role)
    if rs is None or rs.gyro_dps is None or len(rs.time_s) < 100:
        return None
    fs = float(1.0 / np.median(np.diff(rs.time_s)))
    return rs.time_s, lowpass(rs.gyro_dps[:, 2], 2.5, fs)


def _grid(sig: dict) -> tuple[np.ndarray, dict] | None:
    t0 = max(s[0][0] for s in sig.values())
    t1 = min(s[0][-1] for s in sig.values())
    if t1 - t0 < 3.0:
        return None
    t = np.arange(t0, t1, 0.01)
    return t, {r: np.interp(t, *s) for r, s in sig.items()}


def _fundamental(t: np.ndarray, x: np.ndarray) -> float | None:
    """Stride frequency (Hz): the strongest spectral peak of a shin's ω_z between 0.5 and 2.2 Hz."""
    f = np.fft.rfftfreq(8 * len(x), t[1] - t[0])
    p = np.abs(np.fft.rfft(x - x.mean(), 8 * len(x)))
    band = (f >= 0.5) & (f <= 2.2)
    return float(f[band][np.argmax(p[band])]) if band.any() else None


def _phase(t: np.ndarray, x: np.ndarray, f0: float) -> complex:
    return complex(np.sum((x - x.mean()) * np.exp(-2j * np.pi * f0 * t)))


def _corr(a, b) -> float | None:
    g = _grid({0: a, 1: b})
    if g is None:
        return None
    x, y = g[1][0], g[1][1]
    if x.std() == 0 or y.std() == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def check(estimates: dict[Role, MountingEstimate], aligned: Recording | None = None, *,
          config: MountingConfig | None = None) -> list[Verdict]:
    """Sentences about every sensor's mounting and about the sensors together.

    ``aligned`` is the recording after the estimated rotations (body frame): the arm-leg phase check uses it.
    In running the right arm swings forward with the left leg: at the stride frequency each wrist's ω_z is in
    phase with the other side's shin (measured in ``bench/mounting.py`` on 5 real runners). When the wrists
    are half a stride off instead, one pair is swapped; the rotation against the roster names which.
    """
    cfg = config or MountingConfig()
    out: list[Verdict] = []
    turned: dict[Role, bool] = {}
    for role, e in sorted(estimates.items(), key=lambda kv: kv[0].value):
        if not e.ok:
            out.append(Verdict(role, f"{_label(role).capitalize()} sensor: {e.message}", False))
            continue
        text, fine = describe_rotation(role, e.rotation)
        turned[role] = abs(math.degrees(math.atan2(float(e.rotation[2, 1]), float(e.rotation[1, 1])))) > 135 \
            or float(e.rotation[0, 0]) < -0.7
        out.append(Verdict(role, text, fine))
        if e.posture_deg is not None:
            if segment_kind(role) == "wrist" and e.posture_deg < cfg.wrist_posture_deg:
                out.append(Verdict(role, f"this {_label(role)} sensor seems to be on a shin: it runs only "
                                         f"{e.posture_deg:.0f}° from its standing posture (a bent forearm "
                                         f"turns {cfg.wrist_posture_deg:.0f}° or more)", False))
            if segment_kind(role) == "shin" and e.posture_deg >= cfg.wrist_posture_deg:
                out.append(Verdict(role, f"this {_label(role)} sensor seems to be on a wrist: it runs "
                                         f"{e.posture_deg:.0f}° from its standing posture (a shin stays under "
                                         f"{cfg.wrist_posture_deg:.0f}°)", False))
    phase = _phase_checks(estimates, aligned, turned, cfg) if aligned is not None else []
    out += phase
    if not any("look swapped" in v.text for v in phase):
        out += side_swap_by_mounting(estimates)
    return out


def _phase_checks(estimates, aligned: Recording, turned: dict, cfg: MountingConfig) -> list[Verdict]:
    sig = {r: _wz_stride(aligned, r) for r in Role if estimates.get(r) is not None and estimates[r].ok}
    sig = {r: s for r, s in sig.items() if s is not None}
    LS, RS, LW, RW = Role.LEFT_SHIN, Role.RIGHT_SHIN, Role.LEFT_WRIST, Role.RIGHT_WRIST
    out: list[Verdict] = []
    # a wrist sensor that moves like a shin
    for w in (LW, RW):
        for s in (LS, RS):
            if w in sig and s in sig:
                c = _corr(sig[w], sig[s])
                if c is not None and c > 0.95:
                    out.append(Verdict(w, f"the {_label(w)} sensor moves with the {_label(s)} (correlation "
                                          f"{c:.2f}): it seems to be on a shin", False))
    if not (LS in sig and RS in sig) or not (LW in sig or RW in sig):
        return out
    # the stride-frequency phase of each wrist against the other side's shin: it leads by about arm_phase_deg
    # (50-88° in 20 runs of 5 real runners, 66-94° in the simulator); a swapped pair is half a stride further (cos near −1)
    g = _grid({r: sig[r] for r in (LS, RS, LW, RW) if r in sig})
    if g is None:
        return out
    t, x = g
    f0 = _fundamental(t, x[LS])
    if f0 is None:
        return out
    ph = {r: _phase(t, v, f0) for r, v in x.items()}
    lead = math.radians(cfg.arm_phase_deg)
    cos = [math.cos(np.angle(ph[w] / ph[contra]) - lead) for w, contra in ((LW, RS), (RW, LS)) if w in ph]
    d = float(np.mean(cos))
    if d <= -cfg.swap_margin:
        shins = turned.get(LS, False) and turned.get(RS, False)
        wrists = turned.get(LW, False) and turned.get(RW, False)
        if wrists and not shins:
            out.append(Verdict(None, "left and right wrists look swapped: each arm swings with the leg on its "
                                     "own side, and both wrist sensors sit turned round", False))
        elif shins and not wrists:
            out.append(Verdict(None, "left and right shins look swapped: each leg swings with the arm on its "
                                     "own side, and both shin sensors sit turned round", False))
        else:
            out.append(Verdict(None, "left and right look swapped on the shins or on the wrists: each leg "
                                     "swings with the arm on its own side", False))
    elif d >= cfg.swap_margin:
        out.append(Verdict(None, "arms and legs swing in opposition, as they should (sides not swapped)", True))
    else:
        out.append(Verdict(None, f"the arm-leg phase is unclear (cos {d:+.2f}): sides not checked", True))
    # shins only: both turned round against the roster is the sign of swapped pods
    return out


def side_swap_by_mounting(estimates: dict[Role, MountingEstimate]) -> list[Verdict]:
    """Both sensors of a pair turned 180° around their segment against the roster: the pods look swapped."""
    out = []
    for a, b, what in ((Role.LEFT_SHIN, Role.RIGHT_SHIN, "shins"), (Role.LEFT_WRIST, Role.RIGHT_WRIST, "wrists")):
        ea, eb = estimates.get(a), estimates.get(b)
        if ea is None or eb is None or not (ea.ok and eb.ok):
            continue
        tw = [abs(math.degrees(math.atan2(float(e.rotation[2, 1]), float(e.rotation[1, 1])))) for e in (ea, eb)]
        if all(t > 135 for t in tw) and all(float(e.rotation[0, 0]) > 0.7 for e in (ea, eb)):
            out.append(Verdict(None, f"left and right {what} look swapped (or both are worn on the inside): "
                                     f"both sensors sit turned 180° around the {what[:-1] if what == 'shins' else 'forearm'} "
                                     f"from their roster mounting", False))
    return out


