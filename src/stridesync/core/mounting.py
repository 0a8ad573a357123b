"""Mounting estimation: how each sensor sits on its limb, found from standing and the first strides.

MEASUREMENT.md §1 defines every sensor's body frame: ``x`` along the segment toward the proximal joint (reads
+1 g standing with the arms hanging), ``y`` anterior in that posture, ``z = x × y`` to the runner's left, and a
forward swing of the distal end gives a negative ω_z. A sensor strapped on in a hurry is rotated against that
frame; every lag would then be computed in the wrong frame. This module estimates the rotation from the data a
user produces anyway (gaitmap's gravity and PCA alignment are the idea; the signs are ours):

``x``  gravity while standing still (windows of ``still_window_s`` with no motion). Without standing the turn
       about the swing axis is not observable from running alone (a shank's mean specific force while running
       lies 10-28° behind its x on 17 real runners; a bent forearm's, 37-74°): the given x is kept, made
       perpendicular to z, unless the running posture puts it more than ``no_standing_keep_deg`` away; flagged.
``z``  with a gyroscope, the dominant rotation axis while running (first principal axis of the angular rate);
       accelerometer only, the normal of the plane the specific force moves in (last principal axis).
       ``z`` is made perpendicular to ``x``.
sign   from the running posture: a shank spends its swing tilted back, so its mean a_y while running is
       negative (−0.33…−1.01 g on 112 shins of 17 real runners, −0.6…−0.8 g simulated, −0.1 walking). Where
       that cannot tell (|mean a_y| < ``shin_posture_min_g``, or x itself came from the running posture), the
       motion decides: the forward swing is the fastest rotation, so the most negative ω_z outweighs the most
       positive (112 of 112 real shins; a simulated runner with a −60 ms swing lag inverts it, which is why it
       comes second); accelerometer only, the terminal-swing deceleration makes a_y's skew negative, and where
       a_y is nearly symmetric, a_y just before each impact is negative. A wrist's forearm is carried bent while running, so its mean a_y
       is positive (+0.8…+1.5 g on 5 real runners) whichever rules are used.

The estimate is a rotation ``R`` (3 × 3) with ``body = R @ input``: rows are the body axes in the input frame.
Quality figures say what it rests on: seconds of standing and how still, the share of rotation in one plane, the
strides used, the margin of the sign rule.

:class:`MountingTracker` is the streaming form used live, in replay and for files: it holds a sensor's samples
until its first estimate (then releases them rotated), re-checks the swing axis every ``recheck_every_s`` of
data and, when the sensor has slipped by more than ``slip_deg``, corrects the rotation from then on. Its
decisions fall on fixed sample counts, so any chunking of the input gives the same rotations.
:func:`stridesync.core.mounting_checks.check` turns estimates into sentences, and compares sensors with each
other (swapped sides, a wrist sensor on a shin).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt

from ..model import Recording, Role, RoleSamples

__all__ = ["MountingConfig", "MountingEstimate", "MountingTracker", "align_recording", "estimate", "lowpass",
           "rotate", "rotation_angle_deg", "segment_kind"]


@dataclass(frozen=True, kw_only=True)
class MountingConfig:
    """Every number of the mounting estimate (implementation choices, documented in docs/measurement.md)."""

    still_window_s: float = 0.5  #: standing is judged on windows this long
    still_acc_sd_g: float = 0.05  #: total SD (all axes) of specific force in a still window
    still_norm_tol_g: float = 0.08  #: | |mean| − 1 g | in a still window
    still_gyro_dps: float = 12.0  #: mean angular-rate magnitude in a still window (with a gyroscope)
    min_standing_s: float = 0.8  #: standing needed for x from gravity
    motion_acc_sd_g: float = 0.4  #: a window moves (running) above this total SD of specific force
    min_strides: int = 4  #: strides needed for the swing axis (with standing)
    min_strides_no_standing: int = 15  #: strides needed when nobody stood still
    recheck_every_s: float = 2.0  #: decision spacing (data time)
    recheck_window_s: float = 8.0  #: the slip check looks at this much recent data
    slip_deg: float = 12.0  #: a swing axis that moved more than this is a slip
    settle_long_x: int = 4  #: a slip is settled again from all the data since its flag, this many windows on
    #: an estimate this close to the given mounting leaves the given one in force: a turn this small moves no
    #: event, and the raw axes keep their exact values (a clipped gyroscope's plateaus stay plateaus)
    keep_given_deg: float = 1.0
    #: an accelerometer-only estimate corrects the given mounting only beyond this: its swing plane is found
    #: less precisely (axes p95 10° (shin) to 33° (wrist) from the marker frame; 10° off on a simulated wrist
    #: that sits as given), so it mends gross mistakes (upside down, turned) rather than fine ones
    keep_given_accel_deg: float = 15.0
    max_hold_s: float = 60.0  #: no estimate after this much data: the given mounting is kept
    no_standing_keep_deg: float = 45.0  #: without standing, the given x is kept when this close to the posture's
    wrist_posture_deg: float = 32.0  #: running posture vs standing: a shin stays under it, a bent forearm above
    shin_posture_min_g: float = 0.15  #: a shin's |mean a_y| while running below this: its sign from its motion
    accel_skew_min: float = 0.25  #: accelerometer only: |skew of a_y| below this falls back to the pre-impact a_y
    arm_phase_deg: float = 65.0  #: a wrist's stride-frequency ω_z leads the other side's shin's by this much
    swap_margin: float = 0.5  #: |cos| of the wrists' stride phase against the other leg needed to judge sides

    def to_dict(self) -> dict:
        return asdict(self)


def segment_kind(role: Role) -> str:
    return "shin" if role.value.endswith("shin") else "wrist"


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def _ortho(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    return _unit(v - float(v @ axis) * axis)


def rotation_angle_deg(R: np.ndarray) -> float:
    """Angle of a rotation matrix (degrees)."""
    return math.degrees(math.acos(max(-1.0, min(1.0, (float(np.trace(R)) - 1.0) / 2.0))))


def _min_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking unit vector ``a`` to ``b`` (Rodrigues)."""
    v = np.cross(a, b)
    c = float(a @ b)
    s = float(np.linalg.norm(v))
    if s < 1e-12:
        return np.eye(3)
    k = v / s
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * K + (1 - c) * (K @ K)


_IDENTITY = np.eye(3)


def rotate(v: np.ndarray, R: np.ndarray) -> np.ndarray:
    """``v @ R.T`` for (n, 3) samples, element by element: the same bits whatever the block size (a BLAS
    product may round differently for different n, and a replay must reproduce live exactly)."""
    out = np.empty_like(v, dtype=float)
    for i in range(3):
        out[:, i] = v[:, 0] * R[i, 0] + v[:, 1] * R[i, 1] + v[:, 2] * R[i, 2]
    return out


@dataclass(frozen=True)
class MountingEstimate:
    """One sensor's estimated rotation (``body = rotation @ input``) and what it rests on.

    ``ok`` is False when there was not enough standing or running to estimate: ``rotation`` is then the identity
    (the given mounting is kept) and ``message`` says what was missing.
    """

    role: Role
    rotation: np.ndarray
    ok: bool
    method: str  # "gyro" | "accel"
    from_s: float  # applies to samples from this time on
    standing_s: float
    standing_spread_deg: float | None  # largest angle between a still window's gravity and their mean
    planarity: float | None  # gyro: share of rotation about z; accel: 1 − share of motion along z
    strides: int
    sign_margin: float | None  # > 1: how decisively the sign rule chose
    posture_deg: float | None  # running mean specific force vs standing x (shin small, bent forearm large)
    x_from: str  # "standing" | "given" (no standing; kept) | "running" (no standing; from the posture)
    message: str | None = None

    def as_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("ok", "method", "from_s", "standing_s", "standing_spread_deg",
                                          "planarity", "strides", "sign_margin", "posture_deg", "x_from", "message")}
        d["role"] = self.role.value
        d["rotation"] = [[round(float(v), 6) for v in row] for row in self.rotation]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "MountingEstimate":
        return cls(role=Role(d["role"]), rotation=np.asarray(d["rotation"], float),
                   **{k: d.get(k) for k in ("ok", "method", "from_s", "standing_s", "standing_spread_deg",
                                            "planarity", "strides", "sign_margin", "posture_deg", "x_from",
                                            "message")})


def _windows(acc: np.ndarray, gyro: np.ndarray | None, n: int, cfg: MountingConfig):
    nw = len(acc) // n
    if nw == 0:
        return np.zeros(0, bool), np.zeros(0, bool), nw
    aw = acc[: nw * n].reshape(nw, n, 3)
    sd = np.sqrt(aw.var(axis=1).sum(axis=1))  # rotation-invariant: total SD of the three axes
    norm = np.linalg.norm(aw.mean(axis=1), axis=1)
    still = (sd < cfg.still_acc_sd_g) & (np.abs(norm - 1.0) < cfg.still_norm_tol_g)
    if gyro is not None:
        gw = np.linalg.norm(gyro[: nw * n].reshape(nw, n, 3), axis=2).mean(axis=1)
        still &= gw < cfg.still_gyro_dps
    moving = sd > cfg.motion_acc_sd_g
    return still, moving, nw


def lowpass(x: np.ndarray, fc: float, fs: float) -> np.ndarray:
    """Zero-phase 2nd-order Butterworth low-pass (no filtering for fewer than 30 samples)."""
    if len(x) < 30:
        return x
    return sosfiltfilt(butter(2, min(fc, 0.45 * fs), fs=fs, output="sos"), x, axis=0)


def _skew(s: np.ndarray) -> float:
    sd = float(s.std())
    return float(((s - s.mean()) ** 3).mean() / sd ** 3) if sd > 0 else 0.0


def _strides(s: np.ndarray, fs: float) -> int:
    """Stride count from the sign-fixed principal signal: its big negative peaks, at least 0.4 s apart."""
    if len(s) < 3:
        return 0
    lo = float(np.percentile(s, 1.0))
    if lo >= 0:
        return 0
    peaks, _ = find_peaks(-s, height=-0.5 * lo, distance=max(1, int(0.4 * fs)))
    return len(peaks)


def _pre_impact_ay(acc: np.ndarray, moving: np.ndarray, x: np.ndarray, y: np.ndarray, fs: float) -> float:
    """Median a_y over 150-30 ms before each impact (a_x peak above its 95th percentile, while running)."""
    a = lowpass(acc, 15.0, fs)
    ax, ay = a @ x, a @ y
    mv = np.zeros(len(acc), bool)
    mv[: len(moving)] = moving
    if not mv.any():
        return 0.0
    pk, _ = find_peaks(np.where(mv, ax, -np.inf), height=float(np.percentile(ax[mv], 95)),
                       distance=max(1, int(0.4 * fs)))
    i0, i1 = int(0.15 * fs), int(0.03 * fs)
    vals = [float(ay[p - i0:p - i1].mean()) for p in pk if p - i0 >= 0 and i0 > i1]
    return float(np.median(vals)) if vals else 0.0


def estimate(role: Role, time_s: np.ndarray, acc_g: np.ndarray, gyro_dps: np.ndarray | None = None, *,
             config: MountingConfig | None = None, from_s: float | None = None) -> MountingEstimate:
    """Estimate one sensor's rotation from its samples (any mix of standing and running, input frame)."""
    cfg = config or MountingConfig()
    time_s = np.asarray(time_s, float)
    acc = np.asarray(acc_g, float)
    gyro = None if gyro_dps is None else np.asarray(gyro_dps, float)
    method = "gyro" if gyro is not None else "accel"
    start = float(time_s[0]) if len(time_s) else 0.0
    start = start if from_s is None else from_s

    def fail(msg: str, **kw) -> MountingEstimate:
        base = dict(standing_s=0.0, standing_spread_deg=None, planarity=None, strides=0, sign_margin=None,
                    posture_deg=None, x_from="standing")
        base.update(kw)
        return MountingEstimate(role, np.eye(3), False, method, start, message=msg, **base)

    if len(time_s) < 20:
        return fail("too little data to estimate the mounting; the given mounting is kept")
    fs = float(1.0 / np.median(np.diff(time_s)))
    n = max(2, int(round(cfg.still_window_s * fs)))
    still, moving, nw = _windows(acc, gyro, n, cfg)
    standing_s = float(still.sum() * n / fs)
    g_dir, spread = None, None
    if standing_s >= cfg.min_standing_s:
        means = acc[: nw * n].reshape(nw, n, 3).mean(axis=1)[still]
        g_dir = _unit(means.mean(axis=0))
        spread = float(np.degrees(np.arccos(np.clip(np.array([_unit(m) @ g_dir for m in means]), -1, 1))).max())
    idx = np.flatnonzero(np.repeat(moving, n))
    if len(idx) < int(2 * fs):
        return fail(f"{'no' if not len(idx) else 'too little'} running to estimate the mounting "
                    f"({len(idx) / fs:.1f} s of motion; jog a few strides); the given mounting is kept",
                    standing_s=standing_s, standing_spread_deg=spread)
    acc_run = acc[idx]
    kind = segment_kind(role)
    if gyro is not None:
        g_run = gyro[idx]
        w, V = np.linalg.eigh(np.cov(g_run.T))
        z = V[:, -1]
        planarity = float(w[-1] / w.sum()) if w.sum() > 0 else 0.0
    else:
        a_lp = lowpass(acc_run - acc_run.mean(axis=0), 15.0, fs)
        w, V = np.linalg.eigh(np.cov(a_lp.T))
        z = V[:, 0]
        planarity = float(1.0 - w[0] / w.sum()) if w.sum() > 0 else 0.0
    mean_run = acc_run.mean(axis=0)
    z = _unit(z)
    if g_dir is not None:
        x = g_dir
        x_from = "standing"
    else:
        # Without standing the turn about the swing axis is not observable to better than ~20°: keep the given
        # x (made perpendicular to z) unless the running posture says it is far off (> no_standing_keep_deg).
        if kind == "shin":
            x_post = _ortho(mean_run, z)
        else:  # a bent forearm: the running posture gives y, x follows
            x_post = _ortho(np.cross(_ortho(mean_run, z), z), z)
        e_x = np.array([1.0, 0.0, 0.0])
        x_given = _ortho(e_x, z) if abs(float(e_x @ z)) < 0.95 else x_post
        ang = math.degrees(math.acos(max(-1.0, min(1.0, float(x_given @ x_post)))))
        x, x_from = (x_given, "given") if ang <= cfg.no_standing_keep_deg else (x_post, "running")
    z = _ortho(z, x)
    y = np.cross(z, x)
    # the sign of z (and y with it), from the running posture first: a forearm is carried bent (mean a_y > 0), a
    # shank spends its swing tilted back (mean a_y < 0: −0.33…−1.01 g on 112 real shins, −0.6…−0.8 g simulated);
    # a shin whose x came from that same posture, or a posture too upright to tell, falls back to its motion
    posture = float(mean_run @ y)
    if kind == "wrist":
        flip, margin = posture < 0, abs(posture)
    elif x_from != "running" and abs(posture) >= cfg.shin_posture_min_g:
        flip, margin = posture > 0, abs(posture)
    elif gyro is not None:
        s = g_run @ z
        lo, hi = np.percentile(s, [0.5, 99.5])
        flip = abs(lo) < abs(hi)
        margin = max(abs(lo), abs(hi)) / max(min(abs(lo), abs(hi)), 1e-9)
    else:
        sk = _skew(lowpass(acc_run @ y, 15.0, fs))
        if abs(sk) >= cfg.accel_skew_min:
            flip, margin = sk > 0, abs(sk)
        else:  # a symmetric a_y: the terminal-swing deceleration just before each impact decides
            pre = _pre_impact_ay(acc, np.repeat(moving, n), x, y, fs)
            flip, margin = pre > 0, abs(pre)
    if flip:
        z, y = -z, -y
    R = np.vstack([x, y, z])
    if gyro is not None:
        strides = _strides(lowpass(g_run @ z, 5.0, fs), fs)
    else:
        strides = _strides(lowpass(acc_run @ y, 5.0, fs), fs)
    posture = None
    if g_dir is not None:
        posture = float(np.degrees(np.arccos(np.clip(_unit(mean_run) @ x, -1, 1))))
    need = cfg.min_strides if g_dir is not None else cfg.min_strides_no_standing
    common = dict(standing_s=standing_s, standing_spread_deg=spread, planarity=planarity, strides=strides,
                  sign_margin=float(margin), posture_deg=posture, x_from=x_from)
    if strides < need:
        return fail(f"too few strides to estimate the mounting ({strides} of {need}"
                    f"{'' if g_dir is not None else ', no standing: stand still 2 s first for fewer'}); "
                    f"the given mounting is kept", **common)
    msg = None
    if g_dir is None:
        msg = ("no standing seen: the swing axis is estimated, the turn about it "
               + ("kept as given" if x_from == "given" else "taken from the running posture (±30°)")
               + "; stand still 2 s before running for a full estimate")
    return MountingEstimate(role, R, True, method, start, message=msg, **common)


# ----------------------------------------------------------------------------------------- streaming
@dataclass
class _Log:
    time_s: float
    kind: str  # "estimated" | "kept" | "slipped" | "settled"
    estimate: MountingEstimate
    angle_deg: float | None = None


class MountingTracker:
    """One sensor's mounting, streamed: hold until the first estimate, then rotate; re-check for slips.

    ``push(t, acc, gyro)`` returns the samples it can release, in the body frame, as a list of
    ``(t, acc, gyro)`` blocks; ``finish()`` releases the rest. Decisions fall every ``recheck_every_s`` of
    samples (counted from the first), so the rotations do not depend on how the input is chunked.
    ``pinned`` passes the samples through untouched (the roster pins the mounting).
    """

    def __init__(self, role: Role, rate_hz: float, *, has_gyro: bool, config: MountingConfig | None = None,
                 pinned: bool = False):
        self.role, self.rate_hz, self.has_gyro, self.pinned = role, float(rate_hz), has_gyro, pinned
        self.config = cfg = config or MountingConfig()
        self._k = max(1, int(round(cfg.recheck_every_s * self.rate_hz)))
        self._win = max(self._k, int(round(cfg.recheck_window_s * self.rate_hz)))
        self._n = 0  # samples seen
        self._held: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []
        self._recent: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []
        self._R: np.ndarray | None = None if not pinned else np.eye(3)
        self._settle_from: int | None = None  # sample index of a slip being settled
        self._settle_stage = 0
        self._since: list | None = None  # samples since a slip's flag, until it is settled for good
        self.log: list[_Log] = []

    # ---------------------------------------------------------------- public read-only state
    @property
    def rotation(self) -> np.ndarray | None:
        """The rotation in force (None while the first estimate is awaited; the identity when the estimate
        lies within ``keep_given_deg`` of the given mounting)."""
        return self._R

    @property
    def current(self) -> MountingEstimate | None:
        """The latest estimate (or the reason it failed)."""
        return self.log[-1].estimate if self.log else None

    # ---------------------------------------------------------------- stream
    def push(self, t: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None) -> list[tuple]:
        if self.pinned:
            return [(t, acc, gyro)] if len(t) else []
        out: list[tuple] = []
        i = 0
        while i < len(t):
            to_boundary = self._k - (self._n % self._k)
            j = min(len(t), i + to_boundary)
            part = (t[i:j], acc[i:j], None if gyro is None else gyro[i:j])
            self._n += j - i
            self._take(part, out)
            if self._n % self._k == 0:
                self._decide(out)
            i = j
        return out

    def finish(self) -> list[tuple]:
        out: list[tuple] = []
        if self._R is None and self._held:
            e = self._try_first(final=True)
            if e is None or not e.ok:
                self._R = np.eye(3)
            self._release_held(out)
        return out

    # ---------------------------------------------------------------- internals
    def _rot(self, part):
        t, a, g = part
        R = self._R
        if R is _IDENTITY or np.array_equal(R, _IDENTITY):
            return part
        return (t, rotate(a, R), None if g is None else rotate(g, R))

    def _take(self, part, out: list) -> None:
        self._recent.append(part)
        total = sum(len(p[0]) for p in self._recent)
        while self._recent and total - len(self._recent[0][0]) >= self._win:
            total -= len(self._recent.pop(0)[0])
        if self._since is not None:
            self._since.append(part)
        if self._R is None:
            self._held.append(part)
        else:
            out.append(self._rot(part))

    def _cat(self, parts):
        t = np.concatenate([p[0] for p in parts])
        a = np.concatenate([p[1] for p in parts])
        g = None if not self.has_gyro or parts[0][2] is None else np.concatenate([p[2] for p in parts])
        return t, a, g

    def _try_first(self, final: bool = False) -> MountingEstimate | None:
        t, a, g = self._cat(self._held)
        e = estimate(self.role, t, a, g, config=self.config, from_s=float(t[0]))
        if e.ok:
            # within keep_given_deg of the given mounting: keep it (the raw axes stay bit-exact, and a clipped
            # gyroscope's plateaus stay plateaus for the clipping check)
            keep = self.config.keep_given_deg if e.method == "gyro" else self.config.keep_given_accel_deg
            near = rotation_angle_deg(e.rotation) <= keep
            self._R = np.eye(3) if near else e.rotation
            self.log.append(_Log(float(t[-1]), "estimated", e))
        elif final:
            self.log.append(_Log(float(t[-1]), "kept", e))
        return e

    def _release_held(self, out: list) -> None:
        for part in self._held:
            out.append(self._rot(part))
        self._held = []

    def _decide(self, out: list) -> None:
        if self._R is None:
            e = self._try_first()
            if e.ok:
                self._release_held(out)
            elif sum(len(p[0]) for p in self._held) >= self.config.max_hold_s * self.rate_hz:
                # no estimate after max_hold_s: keep the given mounting rather than hold the data any longer
                self._R = np.eye(3)
                self.log.append(_Log(float(self._held[-1][0][-1]), "kept", e))
                self._release_held(out)
            return
        self._recheck()

    def _axis(self, a: np.ndarray, g: np.ndarray | None) -> np.ndarray | None:
        fs = self.rate_hz
        n = max(2, int(round(self.config.still_window_s * fs)))
        _, moving, _ = _windows(a, g, n, self.config)
        idx = np.flatnonzero(np.repeat(moving, n))
        if len(idx) < int(0.75 * len(a)):
            return None  # mostly not running: no judgement
        if g is not None:
            w, V = np.linalg.eigh(np.cov(g[idx].T))
            return V[:, -1] if w[-1] > 0.6 * w.sum() else None
        ar = lowpass(a[idx] - a[idx].mean(axis=0), 15.0, fs)
        w, V = np.linalg.eigh(np.cov(ar.T))
        return V[:, 0] if w[0] < 0.25 * w.sum() else None

    def _recheck(self) -> None:
        since = None
        if self._settle_from is not None:
            k = self._n - self._settle_from
            if self._settle_stage == 0 and k >= self._win:
                kind, self._settle_stage = "settled", 1  # the last recheck_window_s: all after the flag
            elif self._settle_stage == 1 and k >= self.config.settle_long_x * self._win:
                kind, since = "settled", self._since  # everything since the flag: a steadier axis
                self._settle_from, self._since, self._settle_stage = None, None, 0
            else:
                return
        else:
            kind = "slipped"
        t, a, g = self._cat(since if since else self._recent)
        if len(t) < self._win:
            return
        z_new = self._axis(a, g)
        if z_new is None:
            return
        z_old = self._R[2]
        if float(z_new @ z_old) < 0:
            z_new = -z_new
        ang = math.degrees(math.acos(min(1.0, abs(float(z_new @ z_old)))))
        if kind == "slipped" and ang <= self.config.slip_deg:
            return
        Q = _min_rotation(z_old, z_new)
        R = self._R @ Q.T
        prev = self.current
        e = MountingEstimate(self.role, R, True, prev.method if prev else ("gyro" if g is not None else "accel"),
                             float(t[-1]), standing_s=0.0, standing_spread_deg=None, planarity=None, strides=0,
                             sign_margin=None, posture_deg=None, x_from="slip correction",
                             message=(f"moved {ang:.0f}° on its segment: corrected" if kind == "slipped"
                                      else f"re-settled after the slip ({ang:.1f}° more)"))
        self._R = R
        self.log.append(_Log(float(t[-1]), kind, e, ang))
        if kind == "slipped":
            self._settle_from, self._settle_stage, self._since = self._n, 0, []


def align_recording(recording: Recording, *, config: MountingConfig | None = None,
                    pinned: frozenset[Role] = frozenset()) -> tuple[Recording, dict[Role, MountingTracker]]:
    """Every sensor of a recording through its tracker in one pass: the aligned recording and the trackers."""
    out: Recording = {}
    trackers: dict[Role, MountingTracker] = {}
    for role, rs in recording.items():
        fs = float(1.0 / np.median(np.diff(rs.time_s))) if len(rs.time_s) > 1 else 100.0
        tr = MountingTracker(role, fs, has_gyro=rs.gyro_dps is not None, config=config, pinned=role in pinned)
        blocks = tr.push(rs.time_s, rs.acc_g, rs.gyro_dps) + tr.finish()
        t = np.concatenate([b[0] for b in blocks]) if blocks else rs.time_s[:0]
        a = np.concatenate([b[1] for b in blocks]) if blocks else rs.acc_g[:0]
        g = None if rs.gyro_dps is None else (np.concatenate([b[2] for b in blocks]) if blocks else rs.gyro_dps[:0])
        out[role] = RoleSamples(role=role, time_s=t, acc_g=a, gyro_dps=g)
        trackers[role] = tr
    return out, trackers

