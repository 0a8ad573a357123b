"""Virtual IMUs on real running bodies, with physical truth events (test and bench helper, not a test module).

Every trial of two public motion-capture + force data sets becomes a :class:`BodyTrial`: virtual sensors in the
contract's body frame (MEASUREMENT.md §1; specific force in g, angular rate in deg/s), built by rigid-body fitting
of marker clusters, and the physical instants of MEASUREMENT.md §2 as truth. Tests import it as
``from . import bodies``; bench scripts put the repository root on ``sys.path`` and ``from tests import bodies``.

Data (read-only, beside the repository; the loaders skip the calling test through ``realdata.require`` when files
are absent; see each ``PROVENANCE.md``):

``rbds``  Fukuchi, Fukuchi & Duarte 2017 (RBDS): 12 treadmill runners × 2.5 / 3.5 / 4.5 m/s, 30 s each, markers
    at 150 Hz, one force plate under both belts at 300 Hz. RBDS001 lives in ``fukuchi2017_rbds001``, the other 11 in
    ``rbds2017_running``. Roles: ``left_shin``, ``right_shin``.
``hamner`` Hamner & Delp 2013: 5 treadmill runners × 2 / 3 / 4 / 5 m/s, 4-6 s each, markers at 100 Hz (subject02:
    120 Hz), split-belt force per foot (960-2000 Hz). Roles: both shins and both wrists.

Virtual IMU (:func:`_imu_from_pose`)
    The cluster markers are low-passed (zero-phase 4th-order Butterworth, :data:`RBDS_MARKER_LP_HZ` = 20 Hz at
    150 Hz, :data:`HAMNER_MARKER_LP_HZ` = 15 Hz at 100/120 Hz), fitted per frame to a reference shape (Kabsch/SVD,
    ``realdata._kabsch``), giving R(t), p(t). A body frame A (columns x, y, z in cluster coordinates) and a sensor
    point s are fixed in the cluster. Specific force f = Aᵀ(t) (s̈(t) − g) / 9.80665 with g = (0, −9.80665, 0) m/s²
    (lab +Y up; second central difference of s(t)); angular rate = vee(Aᵀ dA/dt) (np.gradient), deg/s. This is the
    arithmetic of ``realdata._virtual_shank``: RBDS001 here reproduces ``realdata.load_fukuchi`` to the bit (tested).
    RBDS c3d gaps (stored as (0, 0, 0): RBDS03 T35, RBDS010 T45, RBDS011 T45, RBDS013 T35/T45, 1-22 frames) are
    filled from the rigid cluster before filtering; unfilled, one frame of them made a −6500 deg/s "swing".
    Running shanks do not read +1 g on x on average: the swing's centripetal acceleration points to the knee, so
    the trial mean of x is 1.2-2.8 g (``realdata`` pins 1.1-2.5 for RBDS001). The static trials read +1 g
    (:func:`rbds_static_recording`).

Body frames (contract §1: x toward the proximal joint, y anterior in standing, z = x × y to the runner's left)
    RBDS shank: from the runner's static trial, as ``realdata._static_reference``: x = ankle centre → knee centre
        (midpoints of the malleoli and of the femoral epicondyles), y = lab forward (+X) made perpendicular to x,
        z = x × y. Sensor: the static position of ``Shank.Bottom.Lateral`` (lateral, 16-21 % of the ankle-knee
        distance above the ankle centre, 4-5 cm lateral in the 12 static trials).
    Hamner shank (no static trial; no knee landmarks, malleoli on one leg only): the knee centre and the ankle
        centre are *functional* joint centres (SCoRE, Ehrig et al. 2006: the point that moves least between two
        segments' clusters; thigh TH1-3 → shank TB1-3, shank → foot CAL/TOE/MT5), pooled over the runner's four
        runs, from the frames where both clusters keep their shape (:data:`RIGID_TOL_M`). z = the runner's left (lab
        −Z) averaged over the runs in the shank's cluster frame; x = knee − ankle made perpendicular to z; y = z × x.
        The projection removes the SCoRE centres' known uncertainty along the (mediolateral) hinge axes. Checked on
        RBDS, where both exist (5 runners × 2 legs at 3.5 m/s): the functional x lies within 0.1-2.4° of the
        anatomical x in the sagittal plane. On subject03's right leg (the one with malleoli) the SCoRE ankle lies
        23 mm below, 2 mm behind and 21 mm medial of the malleoli midpoint (``info``). Sensor:
        :data:`HAMNER_SHANK_SENSOR_UP` of the way from the ankle centre to the knee centre, moved
        :data:`HAMNER_SHANK_SENSOR_LATERAL_M` laterally (the RBDS placement). One cluster is not rigid: subject02's
        right TB3 moves 6-11 cm against the ankle; it is replaced by the ankle centre (see ``_hamner_anatomy``).
    Hamner wrist: forearm cluster FAsuperior / FAradius / FAulna (FAradius and FAulna sit on the styloids, ≈25 cm
        from the elbow, 7 cm apart). Elbow centre = midpoint of the epicondyle markers LEL/MEL, carried into the
        forearm cluster's frame and averaged over the runs (the elbow centre lies on the flexion axis, so it is
        fixed in both arm segments); wrist centre = midpoint of the two styloid markers. x = wrist → elbow;
        y = ulnar → radial styloid made perpendicular to x (anterior in the standing posture with the palms facing
        the thighs: the thumb points forward); z = x × y. The frame is the distal forearm's: it turns with the
        runner's pronation, as a watch would (in running its z points to the runner's left within 18-45°).
        Sensor: :data:`HAMNER_WATCH_PROXIMAL_M` proximal of the wrist centre, :data:`HAMNER_WATCH_DORSAL_M` toward
        the back of the wrist (lateral in the standing posture: +z on the left arm, −z on the right). FAsuperior
        moves up to ≈1 cm against the styloid markers (forearm rotation): fit residuals are in ``info``.

Truth (``BodyTrial.truth``, keys (Role, EventKind), sorted seconds on the recording's clock; every key of the
trial's roles is present)
    ``contact`` / ``push``: the vertical force rising / falling through :data:`FORCE_EDGE_N` (30 N; the contract
        allows 20-50 N), linear-interpolated between samples, for every force interval above it that exceeds
        :data:`FORCE_ON_N` (50 N) and, when complete, lasts at least :data:`MIN_CONTACT_S`. A stance cut by the
        trial's start still gives its toe-off, one cut by the end its initial contact.
        RBDS has one plate under both belts: the side of each stance comes from the shipped derived events
        (matched by contact time; ``derived_events/*.csv`` use on 50 N / off 30 N on samples and agree within one
        force sample, 3.3 ms; RBDS001's ``derived_fp_events_raw_c3d.csv`` uses 50 N both ways, so its contacts are
        5-8 ms later than ours), and for a cut stance from the L/R alternation. Hamner's force is per belt: the
        side of a stance is the foot whose lowest marker is lower at mid-stance (it matches the belt everywhere
        else), and two belts' stances that overlap by more than half are one foot across both belts (merged: two
        cross-over steps in subject03 Run_2). The shipped per-belt events (on 50 N / off 20 N) agree within
        −10…+6 ms.
    ``swing``: the most negative ω_z of the shank's virtual gyro between each toe-off and the next initial contact of
        the same leg, parabola-refined (MEASUREMENT.md §2).
    ``arm_fwd`` / ``arm_back`` (Hamner): the turnarounds of the wrist centre's forward position relative to the pelvis
        centre (mean of RASI/LASI/RPSI/LPSI), forward = the treadmill's +X: alternating extremes with a hysteresis of
        :data:`ARM_HYSTERESIS_FRAC` of the signal's 5-95 % range, parabola-refined, none within
        :data:`EDGE_GUARD_S` of the trial's ends. An arm may skip a swing (subject01 Run_2, left, 2.8-4.7 s: the hand
        stays forward for a stride): ``info["left_arm_gaps"]`` lists such stretches.
    ``truth_span``: from the latest first event to the earliest last event over every (role, kind). Inside it every
        shin series is complete (checked on build: no interval over 1.6 × the median) and the arm series are
        complete up to the listed arm gaps.

Foot strike (``BodyTrial.foot_strike``)
    RBDS: the authors' labels (``RFSI25`` … ``LFSI45`` in participantInfo.csv, RBDSinfo.csv for RBDS001).
    Hamner: 'rearfoot' or 'unknown' from the kinematics, :func:`classify_foot_strike` (the foot-strike angle of
    Altman & Davis 2012: heel → MT5 pitch at initial contact minus the same at mid-stance). The classifier's result on
    RBDS is kept in ``info["kinematic_foot_strike"]``, so its agreement with the authors' labels is tested.

Loading is cached on disk (:data:`CACHE_DIR`, one npz per trial, keyed by the source files' paths, sizes and mtimes,
:data:`CACHE_VERSION`, the constants and the source of this module and of ``realdata``); an unwritable cache only
costs time. ``info`` holds JSON-able diagnostics of each trial (fit residuals, derived-file agreement, anatomy).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np

from stridesync.model import EventKind, Recording, Role, RoleSamples, Side

from . import realdata as rd

# ---------------------------------------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------------------------------------

CACHE_VERSION = 1
#: Disk cache; ``STRIDESYNC_BODIES_CACHE`` overrides it, and ``STRIDESYNC_BODIES_CACHE=off`` disables it.
CACHE_DIR = Path(os.environ.get("STRIDESYNC_BODIES_CACHE") or Path.home() / ".cache" / "stridesync_bodies")

G = rd.G
RBDS = "rbds2017_running"
FUKUCHI = rd.FUKUCHI
HAMNER = "hamner2013_running"

RBDS_SUBJECTS = ("RBDS001", "RBDS002", "RBDS03", "RBDS04", "RBDS05", "RBDS08", "RBDS09",
                 "RBDS010", "RBDS011", "RBDS012", "RBDS013", "RBDS014")
RBDS_SPEEDS = (2.5, 3.5, 4.5)
HAMNER_SUBJECTS = ("subject01", "subject02", "subject03", "subject04", "subject08")
HAMNER_SPEEDS = (2.0, 3.0, 4.0, 5.0)

#: Marker low-pass before differentiation (zero-phase 4th-order Butterworth). RBDS: 150 Hz markers, the
#: value of ``realdata.FUKUCHI_MARKER_LP_HZ`` (its docstring gives the reasons), so RBDS001 is the same signal.
RBDS_MARKER_LP_HZ = rd.FUKUCHI_MARKER_LP_HZ
#: Hamner: 100/120 Hz markers. 15 Hz keeps the stride content and stays well below the Nyquist rate.
HAMNER_MARKER_LP_HZ = 15.0

FORCE_ON_N = 50.0  # a stance must exceed this
FORCE_EDGE_N = 30.0  # contact / toe-off: crossings of this level (linear interpolation)
MIN_CONTACT_S = 0.08
#: A truth stance and a shipped derived_events stance are the same one when their contacts are this close.
DERIVED_MATCH_S = 0.02

#: Hamner virtual shank sensor: fraction of the ankle → knee distance above the ankle centre, lateral offset.
#: RBDS's Shank.Bottom.Lateral sits at 16-21 % and 39-54 mm lateral in the 12 static trials.
HAMNER_SHANK_SENSOR_UP = 0.18
HAMNER_SHANK_SENSOR_LATERAL_M = 0.045
#: Hamner virtual watch: proximal of the wrist centre along the forearm, and toward the back of the wrist.
HAMNER_WATCH_PROXIMAL_M = 0.03
HAMNER_WATCH_DORSAL_M = 0.015

#: Frames whose cluster marker distances all stay within this of the reference shape: used for joint centres.
RIGID_TOL_M = 0.005
#: A Hamner shank marker whose distance to the ankle centre spans more than this is replaced (see
#: ``_hamner_anatomy``); the markers that follow the bone span 9-20 mm.
HAMNER_LOOSE_MARKER_M = 0.04

#: Arm turnarounds: hysteresis of the zig-zag on the wrist's forward position, as a share of its 5-95 % range.
ARM_HYSTERESIS_FRAC = 0.3
#: Extremes this close to either end of a trial are dropped (filter edge effects, unconfirmed turnarounds).
EDGE_GUARD_S = 0.05

#: Foot-strike angle above which a leg is called a rearfoot striker (deg; Altman & Davis 2012, Gait Posture 35:298).
FSA_REARFOOT_DEG = 8.0

_LAB_FORWARD = np.array([1.0, 0.0, 0.0])
_LAB_LEFT = np.array([0.0, 0.0, -1.0])
_LAB_G = np.array([0.0, -G, 0.0])
_SIDE_PREFIX = {Side.LEFT: "L", Side.RIGHT: "R"}

SHIN_KINDS = (EventKind.CONTACT, EventKind.PUSH, EventKind.SWING)
WRIST_KINDS = (EventKind.ARM_FWD, EventKind.ARM_BACK)


# ---------------------------------------------------------------------------------------------------------
# the trial
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BodyTrial:
    """One treadmill trial: virtual IMUs (body frame, g and deg/s) and truth instants.

    ``info`` holds JSON-able diagnostics (fit residuals, frame checks, derived-file agreement, foot-strike angles).
    """

    dataset: str  # "rbds" or "hamner"
    subject: str  # e.g. "RBDS001", "subject01"
    speed_ms: float
    foot_strike: dict  # Side -> "rearfoot" | "midfoot" | "forefoot" | "unknown"
    recording: Recording  # Role -> RoleSamples in the body frame
    truth: dict  # (Role, EventKind) -> sorted np.ndarray of instants (s, recording clock)
    truth_span: tuple[float, float]  # every truth series is complete inside it
    info: dict = field(default_factory=dict, compare=False)

    @property
    def id(self) -> str:
        if self.dataset == "rbds":
            return f"rbds/{self.subject}/T{int(round(self.speed_ms * 10))}"
        return f"hamner/{self.subject}/Run_{int(round(self.speed_ms))}"

    def events(self, role: Role, kind: EventKind) -> np.ndarray:
        """Truth instants of one role and kind (empty when there are none)."""
        return self.truth.get((role, kind), np.array([]))


def rbds_trial_ids() -> list[tuple[str, float]]:
    return [(s, v) for s in RBDS_SUBJECTS for v in RBDS_SPEEDS]


def hamner_trial_ids() -> list[tuple[str, float]]:
    return [(s, v) for s in HAMNER_SUBJECTS for v in HAMNER_SPEEDS]


def all_trials() -> Iterator[BodyTrial]:
    """All 56 trials (36 RBDS, then 20 Hamner), built or read from the cache one at a time."""
    for s, v in rbds_trial_ids():
        yield load_rbds(s, v)
    for s, v in hamner_trial_ids():
        yield load_hamner(s, v)


# ---------------------------------------------------------------------------------------------------------
# generic pieces: pose fitting, virtual IMU, force events, extremes, span
# ---------------------------------------------------------------------------------------------------------


def _procrustes_reference(cur: np.ndarray, iters: int = 3) -> np.ndarray:
    """Mean shape (m, 3), centred, of a cluster seen in frames ``cur`` (n, m, 3): generalised Procrustes."""
    ref = cur[0] - cur[0].mean(axis=0)
    for _ in range(iters):
        R, t = rd._kabsch(ref, cur)
        local = np.einsum("nji,nmj->nmi", R, cur - t[:, None, :])
        ref = local.mean(axis=0)
        ref = ref - ref.mean(axis=0)
    return ref


def _fit(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pose (R, t) of the cluster per frame and the RMS fit residual per frame (m)."""
    R, t = rd._kabsch(ref, cur)
    fitted = np.einsum("nij,mj->nmi", R, ref) + t[:, None, :]
    resid = np.sqrt(((fitted - cur) ** 2).sum(axis=2).mean(axis=1))
    return R, t, resid


def _to_lab(R: np.ndarray, t: np.ndarray, p_local: np.ndarray) -> np.ndarray:
    return np.einsum("nij,j->ni", R, p_local) + t


def _imu_from_pose(R: np.ndarray, t: np.ndarray, axes: np.ndarray, sensor: np.ndarray,
                   rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Specific force (g) and angular rate (deg/s) in the body frame ``axes`` (columns, cluster coordinates) at
    the point ``sensor`` (cluster coordinates); the arithmetic of ``realdata._virtual_shank``."""
    A = np.einsum("nij,jk->nik", R, axes)
    p = _to_lab(R, t, sensor)
    h = 1.0 / rate
    acc_lab = np.empty_like(p)
    acc_lab[1:-1] = (p[2:] - 2 * p[1:-1] + p[:-2]) / h**2
    acc_lab[0], acc_lab[-1] = acc_lab[1], acc_lab[-2]
    acc_g = np.einsum("nji,nj->ni", A, acc_lab - _LAB_G) / G
    dA = np.gradient(A, h, axis=0)
    W = np.einsum("nji,njk->nik", A, dA)
    W = 0.5 * (W - np.transpose(W, (0, 2, 1)))
    gyro = np.degrees(np.column_stack([W[:, 2, 1], W[:, 0, 2], W[:, 1, 0]]))
    return acc_g, gyro


def _score(R1: np.ndarray, t1: np.ndarray, o1: np.ndarray, R2: np.ndarray, t2: np.ndarray,
           o2: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """SCoRE joint centre (Ehrig et al. 2006): c1 in segment 1's and c2 in segment 2's cluster coordinates with
    R1 c1 + t1 ≈ R2 c2 + t2 over all frames (least squares). The minimum-norm solution about the cluster centroids
    ``o1``/``o2`` fixes the free position along a hinge axis (nearest the clusters). Also the RMS residual (m)."""
    n = len(R1)
    t1c = _to_lab(R1, t1, o1)
    t2c = _to_lab(R2, t2, o2)
    A = np.concatenate([R1, -R2], axis=2).reshape(3 * n, 6)
    b = (t2c - t1c).reshape(3 * n)
    sol, *_ = np.linalg.lstsq(A, b, rcond=None)
    res = (A @ sol - b).reshape(n, 3)
    return sol[:3] + o1, sol[3:] + o2, float(np.sqrt((res**2).sum(axis=1).mean()))


def _crossing(t: np.ndarray, f: np.ndarray, i: int, level: float) -> float:
    """Time where ``f`` crosses ``level`` between samples i-1 and i (linear interpolation)."""
    f0, f1 = f[i - 1], f[i]
    if f1 == f0:
        return float(t[i])
    return float(t[i - 1] + (level - f0) / (f1 - f0) * (t[i] - t[i - 1]))


def force_stances(t: np.ndarray, fy: np.ndarray, on_n: float = FORCE_ON_N, edge_n: float = FORCE_EDGE_N,
                  min_contact_s: float = MIN_CONTACT_S) -> list[tuple[float, float]]:
    """Stances of a vertical-force series: (contact, toe-off) in s, NaN where the trial's start or end cuts the
    stance. A stance is a run of samples above ``edge_n`` that exceeds ``on_n``; its contact and toe-off are the
    crossings of ``edge_n``, linear-interpolated; complete stances shorter than ``min_contact_s`` are dropped."""
    above = fy > edge_n
    n = len(fy)
    d = np.diff(above.astype(np.int8))
    starts = list(np.flatnonzero(d == 1) + 1)
    ends = list(np.flatnonzero(d == -1) + 1)
    if above[0]:
        starts.insert(0, 0)
    if above[-1]:
        ends.append(n)
    out = []
    for s, e in zip(starts, ends):
        if fy[s:e].max() <= on_n:
            continue
        ic = _crossing(t, fy, s, edge_n) if s > 0 else np.nan
        to = _crossing(t, fy, e, edge_n) if e < n else np.nan
        if np.isfinite(ic) and np.isfinite(to) and to - ic < min_contact_s:
            continue
        out.append((ic, to))
    return out


def _clip_stances(stances: list[tuple[float, float]], time_s: np.ndarray) -> list[tuple[float, float]]:
    """Stances on the marker clock: events outside the marker span become NaN (cut), stances wholly outside go."""
    out = []
    for ic, to in stances:
        ic = ic if np.isfinite(ic) and time_s[0] <= ic <= time_s[-1] else np.nan
        to = to if np.isfinite(to) and time_s[0] <= to <= time_s[-1] else np.nan
        if np.isfinite(ic) or np.isfinite(to):
            out.append((ic, to))
    return out


def _parabolic_time(t: np.ndarray, y: np.ndarray, i: int) -> tuple[float, float]:
    d, v = rd._parabolic(y, i)
    dt = t[i + 1] - t[i] if i + 1 < len(t) else t[i] - t[i - 1]
    return float(t[i] + d * dt), v


def swing_peaks(t: np.ndarray, wz: np.ndarray, stances: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Most negative ω_z between each toe-off and the next contact of the same leg (parabola-refined): times, values."""
    times, values = [], []
    for (_, to), (ic, _) in zip(stances[:-1], stances[1:]):
        if not (np.isfinite(to) and np.isfinite(ic)):
            continue
        sel = np.flatnonzero((t > to) & (t < ic))
        if len(sel) < 3:
            continue
        i = int(sel[np.argmin(wz[sel])])
        tt, v = _parabolic_time(t, wz, i)
        times.append(tt)
        values.append(v)
    return np.array(times), np.array(values)


def zigzag_extremes(t: np.ndarray, y: np.ndarray, hysteresis: float,
                    guard_s: float = EDGE_GUARD_S) -> tuple[np.ndarray, np.ndarray]:
    """Alternating maxima and minima of ``y``: a turnaround counts once ``y`` has come back from it by more than
    ``hysteresis``. Parabola-refined times of the maxima and of the minima; extremes within ``guard_s`` of either
    end are dropped (the first and last candidates are not confirmed turnarounds)."""
    maxima, minima = [], []
    i_ext = 0
    direction = 0  # +1 looking for a maximum, -1 for a minimum, 0 undecided
    lo_i = hi_i = 0
    for i in range(1, len(y)):
        if direction == 0:
            if y[i] > y[hi_i]:
                hi_i = i
            if y[i] < y[lo_i]:
                lo_i = i
            if y[hi_i] - y[i] > hysteresis:  # came down from a maximum
                maxima.append(hi_i)
                direction, i_ext = -1, i
            elif y[i] - y[lo_i] > hysteresis:
                minima.append(lo_i)
                direction, i_ext = +1, i
        elif direction > 0:
            if y[i] > y[i_ext]:
                i_ext = i
            elif y[i_ext] - y[i] > hysteresis:
                maxima.append(i_ext)
                direction, i_ext = -1, i
        else:
            if y[i] < y[i_ext]:
                i_ext = i
            elif y[i] - y[i_ext] > hysteresis:
                minima.append(i_ext)
                direction, i_ext = +1, i
    lo, hi = t[0] + guard_s, t[-1] - guard_s

    def refine(idx: list[int]) -> np.ndarray:
        out = [_parabolic_time(t, y, i)[0] for i in idx if 0 < i < len(y) - 1]
        return np.array([x for x in out if lo <= x <= hi])

    return refine(maxima), refine(minima)


def truth_span_of(truth: dict) -> tuple[float, float]:
    """From the latest first event to the earliest last event over every non-empty truth series."""
    firsts = [v[0] for v in truth.values() if len(v)]
    lasts = [v[-1] for v in truth.values() if len(v)]
    if not firsts:
        return (float("nan"), float("nan"))
    return (float(max(firsts)), float(min(lasts)))


def foot_pitch_deg(heel: np.ndarray, fore: np.ndarray) -> np.ndarray:
    """Sagittal pitch of the heel → forefoot line (deg, positive = toes up), lab +Y up."""
    d = fore - heel
    return np.degrees(np.arctan2(d[:, 1], np.hypot(d[:, 0], d[:, 2])))


def foot_strike_angles(t: np.ndarray, pitch_deg: np.ndarray, stances: list[tuple[float, float]]) -> np.ndarray:
    """Foot-strike angle of every complete stance: pitch at initial contact minus pitch at mid-stance (deg).

    Mid-stance (half-way from contact to toe-off) stands in for the standing reference of Altman & Davis 2012: the
    foot is flat on the belt there for every strike type."""
    out = []
    for ic, to in stances:
        if np.isfinite(ic) and np.isfinite(to):
            out.append(float(np.interp(ic, t, pitch_deg) - np.interp(0.5 * (ic + to), t, pitch_deg)))
    return np.array(out)


def classify_foot_strike(fsa_deg: np.ndarray) -> str:
    """'rearfoot' when the median foot-strike angle exceeds :data:`FSA_REARFOOT_DEG` (8°, Altman & Davis 2012),
    else 'unknown'.

    Checked against the RBDS authors' labels (72 legs × speeds, heel → MT5 pitch): of the 39 above 8°, 37 are
    labelled rearfoot (the other two: RBDS002 at 2.5 m/s, labelled midfoot at 13.8°/14.0°); the 3 below −1.6° are
    all labelled forefoot, but the 30 in between are labelled forefoot (13), midfoot (11) and rearfoot (6) with no
    angle separating them. So this classifier names rearfoot strikers and nothing else. On Hamner it calls 25 of
    40 legs × speeds rearfoot (subjects 01, 02, 04; 03 at 2 m/s); subject08 and subject03 at 3-5 m/s land at
    −1.9…+4°: 'unknown' (midfoot or forefoot by Altman & Davis's bands, which RBDS does not support)."""
    if len(fsa_deg) and float(np.median(fsa_deg)) > FSA_REARFOOT_DEG:
        return "rearfoot"
    return "unknown"


def _check_complete(truth: dict, span: tuple[float, float], where: str) -> None:
    """Every shin series is regular inside the span: no interval over 1.6 × its median (a missed stance)."""
    for (role, kind), v in truth.items():
        if not role.is_shin:
            continue  # an arm may really skip a swing (subject01 Run_2, left, ≈2.6 s): see info["*_arm_gaps"]
        v = v[(v >= span[0] - 1e-9) & (v <= span[1] + 1e-9)]
        if len(v) >= 3:
            d = np.diff(v)
            if d.max() > 1.6 * np.median(d) or d.min() <= 0:
                raise ValueError(f"{where}: {role}/{kind} truth has a gap or disorder: {np.round(d, 3)}")


# ---------------------------------------------------------------------------------------------------------
# disk cache
# ---------------------------------------------------------------------------------------------------------


def _cache_key(trial_id: str, sources: list[Path]) -> str:
    h = hashlib.sha256()
    consts = [CACHE_VERSION, RBDS_MARKER_LP_HZ, HAMNER_MARKER_LP_HZ, FORCE_ON_N, FORCE_EDGE_N, MIN_CONTACT_S,
              HAMNER_SHANK_SENSOR_UP, HAMNER_SHANK_SENSOR_LATERAL_M, HAMNER_WATCH_PROXIMAL_M, HAMNER_WATCH_DORSAL_M,
              ARM_HYSTERESIS_FRAC, EDGE_GUARD_S, RIGID_TOL_M, HAMNER_LOOSE_MARKER_M, FSA_REARFOOT_DEG]
    h.update(json.dumps([trial_id, consts]).encode())
    for p in sources:
        st = p.stat()
        h.update(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    for mod in (__file__, rd.__file__):  # the code that builds a trial
        h.update(Path(mod).read_bytes())
    return h.hexdigest()[:20]


def _cache_enabled() -> bool:
    return str(CACHE_DIR).strip().lower() not in ("", "0", "off", "none", "false")


def _cache_path(trial_id: str, sources: list[Path]) -> Path:
    return CACHE_DIR / f"{trial_id.replace('/', '_')}_{_cache_key(trial_id, sources)}.npz"


def _save(path: Path, trial: BodyTrial) -> None:
    arrays = {}
    for role, s in trial.recording.items():
        arrays[f"rec__{role.value}__time"] = s.time_s
        arrays[f"rec__{role.value}__acc"] = s.acc_g
        if s.gyro_dps is not None:
            arrays[f"rec__{role.value}__gyro"] = s.gyro_dps
    for (role, kind), v in trial.truth.items():
        arrays[f"truth__{role.value}__{kind.value}"] = np.asarray(v, float)
    meta = {"dataset": trial.dataset, "subject": trial.subject, "speed_ms": trial.speed_ms,
            "foot_strike": {s.value: v for s, v in trial.foot_strike.items()},
            "truth_span": list(trial.truth_span), "info": trial.info}
    arrays["meta"] = np.array(json.dumps(meta))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        for old in path.parent.glob(f"{path.name.rsplit('_', 1)[0]}_*.npz"):  # builds of older code or data
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # read-only home, full disk...: the next load builds again


def _load(path: Path) -> BodyTrial | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            rec: Recording = {}
            truth: dict = {}
            for key in z.files:
                parts = key.split("__")
                if parts[0] == "rec" and parts[2] == "time":
                    role = Role(parts[1])
                    gyro = f"rec__{role.value}__gyro"
                    rec[role] = RoleSamples(role=role, time_s=z[key], acc_g=z[f"rec__{role.value}__acc"],
                                            gyro_dps=z[gyro] if gyro in z.files else None)
                elif parts[0] == "truth":
                    truth[(Role(parts[1]), EventKind(parts[2]))] = z[key]
    except Exception:  # a damaged or foreign file: build again
        return None
    rec = {r: rec[r] for r in Role if r in rec}
    return BodyTrial(meta["dataset"], meta["subject"], float(meta["speed_ms"]),
                     {Side(k): v for k, v in meta["foot_strike"].items()}, rec, truth,
                     tuple(meta["truth_span"]), meta["info"])


def _cached(trial_id: str, sources: list[Path], build) -> BodyTrial:
    if not _cache_enabled():
        return build()
    path = _cache_path(trial_id, sources)
    if path.exists():
        trial = _load(path)
        if trial is not None:
            return trial
    trial = build()
    _save(path, trial)
    return trial


# ---------------------------------------------------------------------------------------------------------
# RBDS (Fukuchi 2017): 12 runners × 3 speeds, shanks
# ---------------------------------------------------------------------------------------------------------

_RBDS_CLUSTER = rd._CLUSTER  # Shank.{Top,Bottom}.{Lateral,Medial}
_RBDS_SENSOR = rd.FUKUCHI_SENSOR_MARKER


def _rbds_dir(subject: str) -> str:
    if subject not in RBDS_SUBJECTS:
        raise ValueError(f"unknown RBDS subject {subject!r}; known: {RBDS_SUBJECTS}")
    return FUKUCHI if subject == "RBDS001" else RBDS


def _rbds_code(speed_ms: float) -> str:
    code = {2.5: "T25", 3.5: "T35", 4.5: "T45"}.get(round(float(speed_ms), 1))
    if code is None:
        raise ValueError(f"RBDS speeds are {RBDS_SPEEDS} m/s, not {speed_ms}")
    return code


def _rbds_sources(subject: str, speed_ms: float) -> dict[str, Path]:
    ds, code = _rbds_dir(subject), _rbds_code(speed_ms)
    out = {"run": rd.require(f"{ds}/c3d/{subject}run{code}.c3d"),
           "static": rd.require(f"{ds}/c3d/{subject}static.c3d")}
    if subject == "RBDS001":
        out["events"] = rd.require(f"{ds}/derived_fp_events_raw_c3d.csv")
        out["info"] = rd.require(f"{ds}/RBDSinfo.csv")
    else:
        out["events"] = rd.require(f"{ds}/derived_events/{subject}run{code}_events.csv")
        out["info"] = rd.require(f"{ds}/participantInfo.csv")
    return out


def _rbds_static(path: Path) -> dict[Side, dict]:
    """Cluster reference, sensor point and anatomical axes per side from a runner's static trial."""
    return rd.static_reference(path)


def rbds_static_recording(subject: str) -> Recording:
    """Virtual shank IMUs over a runner's static standing trial (150 Hz, about 1 s): a frame check, x ≈ +1 g."""
    path = rd.require(f"{_rbds_dir(subject)}/c3d/{subject}static.c3d")
    pts, rate = rd._read_points(path)
    ref = _rbds_static(path)
    rec: Recording = {}
    for side, p in _SIDE_PREFIX.items():
        cur = np.stack([pts[f"{p}.{m}"] for m in _RBDS_CLUSTER], axis=1)
        cur = rd._lowpass(cur, RBDS_MARKER_LP_HZ, rate, axis=0)
        R, t, _ = _fit(ref[side]["cluster"], cur)
        acc, gyro = _imu_from_pose(R, t, ref[side]["axes"], ref[side]["sensor"], rate)
        rec[side.shin] = RoleSamples(role=side.shin, time_s=np.arange(len(acc)) / rate, acc_g=acc, gyro_dps=gyro)
    return rec


def _read_c3d_run(path: Path) -> tuple[dict[str, np.ndarray], float, np.ndarray, float]:
    """Markers (m; NaN in gaps), marker rate, vertical force (N, lab +Y, calibrated) and force rate of an RBDS run."""
    import ezc3d  # optional test dependency

    c = ezc3d.c3d(str(path), extract_forceplat_data=True)
    par = c["parameters"]
    labels = par["POINT"]["LABELS"]["value"]
    rate = float(par["POINT"]["RATE"]["value"][0])
    scale = {"mm": 1e-3, "m": 1.0}[par["POINT"]["UNITS"]["value"][0]]
    pts = c["data"]["points"][:3] * scale
    pts[:, np.all(pts == 0.0, axis=0)] = np.nan  # gaps are stored as (0, 0, 0) (e.g. RBDS013 T45, R.Shank)
    markers = {lab: pts[:, i, :].T.copy() for i, lab in enumerate(labels)}
    fy = np.asarray(c["data"]["platform"][0]["force"][1], float)
    return markers, rate, fy, float(par["ANALOG"]["RATE"]["value"][0])


def _interp_gaps(x: np.ndarray) -> np.ndarray:
    """A marker trajectory (n, 3) with NaN gaps filled by linear interpolation (held at the ends)."""
    bad = np.isnan(x).any(axis=1)
    if not bad.any():
        return x
    if bad.all():
        raise ValueError("a marker is missing in every frame")
    out = x.copy()
    i = np.arange(len(x))
    for k in range(3):
        out[bad, k] = np.interp(i[bad], i[~bad], x[~bad, k])
    return out


def _fill_cluster(cur: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, int]:
    """Cluster markers (n, m, 3) with gaps filled: a marker missing in a frame where at least three others are
    present is put where the rigid cluster (``ref``, fitted to those) has it; the rest is interpolated. Also the
    number of frames with a gap."""
    miss = np.isnan(cur).any(axis=2)
    frames = np.flatnonzero(miss.any(axis=1))
    out = cur.copy()
    for f in frames:
        ok = ~miss[f]
        if ok.sum() >= 3:
            R, t = rd._kabsch(ref[ok], cur[f][ok][None])
            out[f, ~ok] = ref[~ok] @ R[0].T + t[0]
    for j in range(cur.shape[1]):
        out[:, j] = _interp_gaps(out[:, j])
    return out, len(frames)


def _rbds_derived_sides(path: Path, subject: str, code: str) -> list[tuple[Side, float, float]]:
    """(side, ic, to) of the shipped derived events (RBDS001: only its uncut stances)."""
    rows = []
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            if subject == "RBDS001":
                if r["file"] != f"RBDS001run{code}.c3d" or r["starts_at_trial_start"] == "1":
                    continue
                rows.append((r["side"], float(r["IC_s"]), float(r["TO_s"])))
            else:
                rows.append((r["side"], float(r["ic_s"]), float(r["to_s"])))
    return [(Side.LEFT if s == "L" else Side.RIGHT, ic, to) for s, ic, to in rows]


def _rbds_labels(path: Path, subject: str, speed_ms: float) -> dict[Side, str]:
    number = int(re.sub(r"\D", "", subject))
    col = f"{int(round(speed_ms * 10))}"
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            if int(r["Subject"]) == number:
                return {Side.RIGHT: r[f"RFSI{col}"].strip().lower(), Side.LEFT: r[f"LFSI{col}"].strip().lower()}
    raise ValueError(f"{subject} not in {path}")


def _assign_sides(stances: list[tuple[float, float]], derived: list[tuple[Side, float, float]], t_end: float,
                  where: str) -> tuple[dict[Side, list[tuple[float, float]]], dict]:
    """Side of every stance of a single plate: from the derived file (nearest contact within DERIVED_MATCH_S),
    else (a stance cut by the trial's edge) the opposite of its neighbour's."""
    d_ic = np.array([d[1] for d in derived])
    sides: list[Side | None] = []
    dic, dto, used = [], [], set()
    for ic, to in stances:
        if np.isfinite(ic):
            k = int(np.argmin(np.abs(d_ic - ic)))
            if abs(d_ic[k] - ic) <= DERIVED_MATCH_S:
                sides.append(derived[k][0])
                used.add(k)
                dic.append(ic - derived[k][1])
                if np.isfinite(to):
                    dto.append(to - derived[k][2])
                continue
            if np.isfinite(to):
                raise ValueError(f"{where}: the stance at {ic:.3f} s is not in the derived file")
        sides.append(None)
    if len(used) != sum(1 for d in derived if d[1] <= t_end):
        raise ValueError(f"{where}: {len(derived) - len(used)} derived stances not found in the force")
    for _ in range(2):  # fill the cut ones from their neighbours
        for i, s in enumerate(sides):
            if s is None:
                nb = sides[i + 1] if i + 1 < len(sides) else None
                nb = nb if nb is not None else (sides[i - 1] if i > 0 else None)
                if nb is not None:
                    sides[i] = nb.other
    if any(s is None for s in sides) or any(a is b for a, b in zip(sides[:-1], sides[1:])):
        raise ValueError(f"{where}: stance sides do not alternate")
    out = {Side.LEFT: [], Side.RIGHT: []}
    for s, st in zip(sides, stances):
        out[s].append(st)
    agree = {"derived_max_abs_dic_ms": round(1e3 * float(np.max(np.abs(dic))), 2) if dic else None,
             "derived_max_abs_dto_ms": round(1e3 * float(np.max(np.abs(dto))), 2) if dto else None}
    return out, agree


def _shin_truth(side: Side, samples: RoleSamples, stances: list[tuple[float, float]]) -> tuple[dict, np.ndarray]:
    ics = np.array([ic for ic, _ in stances if np.isfinite(ic)])
    tos = np.array([to for _, to in stances if np.isfinite(to)])
    sw_t, sw_v = swing_peaks(samples.time_s, samples.gyro_dps[:, 2], stances)
    return {(side.shin, EventKind.CONTACT): np.sort(ics), (side.shin, EventKind.PUSH): np.sort(tos),
            (side.shin, EventKind.SWING): sw_t}, sw_v


def load_rbds(subject: str, speed_ms: float) -> BodyTrial:
    """One RBDS trial: virtual left/right shank IMUs (150 Hz) and contact/push/swing truth. See the module doc."""
    src = _rbds_sources(subject, speed_ms)
    tid = f"rbds/{subject}/{_rbds_code(speed_ms)}"
    return _cached(tid, list(src.values()), lambda: _build_rbds(subject, float(speed_ms), src))


def _build_rbds(subject: str, speed_ms: float, src: dict[str, Path]) -> BodyTrial:
    code = _rbds_code(speed_ms)
    where = f"rbds/{subject}/{code}"
    markers, rate, fy, frate = _read_c3d_run(src["run"])
    static = _rbds_static(src["static"])
    n = len(next(iter(markers.values())))
    time_s = np.arange(n) / rate
    recording: Recording = {}
    info: dict = {"marker_lp_hz": RBDS_MARKER_LP_HZ, "rate_hz": rate}
    for side, p in _SIDE_PREFIX.items():
        ref = static[side]
        cur, gaps = _fill_cluster(np.stack([markers[f"{p}.{m}"] for m in _RBDS_CLUSTER], axis=1), ref["cluster"])
        info[f"{side.value}_cluster_gap_frames"] = gaps
        cur = rd._lowpass(cur, RBDS_MARKER_LP_HZ, rate, axis=0)
        R, t, resid = _fit(ref["cluster"], cur)
        acc, gyro = _imu_from_pose(R, t, ref["axes"], ref["sensor"], rate)
        recording[side.shin] = RoleSamples(role=side.shin, time_s=time_s, acc_g=acc, gyro_dps=gyro)
        info[f"{side.value}_fit_resid_mm_median"] = round(1e3 * float(np.median(resid)), 3)
        info[f"{side.value}_fit_resid_mm_max"] = round(1e3 * float(resid.max()), 3)

    t_force = np.arange(len(fy)) / frate
    stances = _clip_stances(force_stances(t_force, fy), time_s)  # the force runs ≈ 3 ms past the last marker frame
    derived = _rbds_derived_sides(src["events"], subject, code)
    by_side, agree = _assign_sides(stances, derived, float(time_s[-1]), where)
    info.update(agree)

    truth: dict = {}
    for side in Side:
        tr, sw_v = _shin_truth(side, recording[side.shin], by_side[side])
        truth.update(tr)
        info[f"{side.value}_swing_peak_dps"] = [round(float(v), 1) for v in sw_v]

    # kinematic foot strike (the classifier used for Hamner), kept to measure it against the authors' labels
    kin = {}
    for side, p in _SIDE_PREFIX.items():
        fore = f"{p}.MT5" if f"{p}.MT5" in markers else f"{p}.MT1"
        heel = rd._lowpass(_interp_gaps(markers[f"{p}.Heel.Bottom"]), RBDS_MARKER_LP_HZ, rate, axis=0)
        toe = rd._lowpass(_interp_gaps(markers[fore]), RBDS_MARKER_LP_HZ, rate, axis=0)
        fsa = foot_strike_angles(time_s, foot_pitch_deg(heel, toe), by_side[side])
        kin[side.value] = {"class": classify_foot_strike(fsa), "fsa_median_deg": round(float(np.median(fsa)), 2),
                           "fsa_iqr_deg": [round(float(q), 2) for q in np.percentile(fsa, [25, 75])],
                           "forefoot_marker": fore}
    info["kinematic_foot_strike"] = kin

    span = truth_span_of(truth)
    _check_complete(truth, span, where)
    labels = _rbds_labels(src["info"], subject, speed_ms)
    return BodyTrial("rbds", subject, speed_ms, labels, recording, truth, span, info)


# ---------------------------------------------------------------------------------------------------------
# Hamner & Delp 2013: 5 runners × 4 speeds, shanks and wrists
# ---------------------------------------------------------------------------------------------------------

_HAMNER_SHANK = ("TB1", "TB2", "TB3")
_HAMNER_THIGH = ("TH1", "TH2", "TH3")
_HAMNER_FOOT = ("CAL", "TOE", "MT5")
_HAMNER_FOREARM = ("FAsuperior", "FAradius", "FAulna")
_HAMNER_PELVIS = ("RASI", "LASI", "RPSI", "LPSI")


def _hamner_run(speed_ms: float) -> str:
    k = int(round(float(speed_ms)))
    if float(k) not in HAMNER_SPEEDS or abs(speed_ms - k) > 1e-6:
        raise ValueError(f"Hamner speeds are {HAMNER_SPEEDS} m/s, not {speed_ms}")
    return f"Run_{k}"


def _hamner_sources(subject: str, speed_ms: float) -> dict[str, Path]:
    if subject not in HAMNER_SUBJECTS:
        raise ValueError(f"unknown Hamner subject {subject!r}; known: {HAMNER_SUBJECTS}")
    run = _hamner_run(speed_ms)
    return {"trc": rd.require(f"{HAMNER}/{subject}/{run}.trc"),
            "grf": rd.require(f"{HAMNER}/{subject}/{run}_grf.mot"),
            "events": rd.require(f"{HAMNER}/derived_events/{subject}_{run}_events.csv")}


@lru_cache(maxsize=24)
def _read_trc(path: Path) -> tuple[dict[str, np.ndarray], float, np.ndarray]:
    """Markers (m, lab frame; NaN where missing), rate and time (s) of a trc file."""
    lines = path.read_text().split("\n")
    meta = dict(zip(lines[1].split("\t"), lines[2].split("\t")))
    rate = float(meta["DataRate"])
    scale = {"mm": 1e-3, "m": 1.0}[meta["Units"].strip()]
    names = [s.strip() for s in lines[3].split("\t")[2:] if s.strip()]
    rows = [ln.split("\t") for ln in lines[5:] if ln.strip()]
    width = 2 + 3 * len(names)
    arr = np.array([[float(v) if v.strip() else np.nan for v in (r + [""] * width)[:width]] for r in rows])
    frame, time_col = arr[:, 0], arr[:, 1]
    time_s = frame / rate  # exact; the file's Time column is rounded to 6 decimals
    if np.max(np.abs(time_s - time_col)) > 1e-5:
        time_s = time_col
    xyz = arr[:, 2:].reshape(len(rows), len(names), 3) * scale
    return {nm: xyz[:, i, :] for i, nm in enumerate(names)}, rate, time_s


def _read_grf(path: Path) -> tuple[np.ndarray, dict[Side, np.ndarray]]:
    lines = path.read_text().split("\n")
    k = next(i for i, ln in enumerate(lines) if ln.strip() == "endheader")
    cols = lines[k + 1].split("\t")
    data = np.loadtxt(lines[k + 2:], delimiter="\t", ndmin=2)
    t = data[:, cols.index("time")]
    return t, {side: data[:, cols.index(f"{p}_ground_force_vy")] for side, p in _SIDE_PREFIX.items()}


def _hamner_derived(path: Path) -> dict[Side, list[tuple[float, float]]]:
    out = {Side.LEFT: [], Side.RIGHT: []}
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            out[Side.LEFT if r["side"] == "L" else Side.RIGHT].append((float(r["ic_s"]), float(r["to_s"])))
    return out


def _lp(x: np.ndarray, rate: float) -> np.ndarray:
    return rd._lowpass(x, HAMNER_MARKER_LP_HZ, rate, axis=0)


def _cluster(markers: dict[str, np.ndarray], prefix: str, names: tuple[str, ...], rate: float) -> np.ndarray | None:
    keys = [f"{prefix}{m}" for m in names]
    if not all(k in markers for k in keys):
        return None
    cur = np.stack([markers[k] for k in keys], axis=1)
    if np.isnan(cur).any():
        raise ValueError(f"gaps in {keys}: not handled (none in the shipped files)")
    return _lp(cur, rate)


def _pairwise(x: np.ndarray) -> np.ndarray:
    """Pairwise marker distances of a cluster: (..., m, 3) → (..., m(m-1)/2)."""
    i, j = np.triu_indices(x.shape[-2], 1)
    return np.linalg.norm(x[..., i, :] - x[..., j, :], axis=-1)


def _rigid(cur: np.ndarray, ref: np.ndarray, tol_m: float = RIGID_TOL_M) -> np.ndarray:
    """Frames where every marker distance of the cluster is within ``tol_m`` of the reference shape's."""
    return np.all(np.abs(_pairwise(cur) - _pairwise(ref)) < tol_m, axis=1)


class _Segment:
    """One cluster over the subject's runs: reference shape, per-run marker arrays and poses, rigid-frame masks."""

    def __init__(self, curs: list[np.ndarray | None]):
        self.curs = curs
        pooled = np.concatenate([c for c in curs if c is not None], axis=0)
        # the shape from the frames whose marker distances are near their medians (robust to a loose marker)
        d = _pairwise(pooled)
        keep = np.all(np.abs(d - np.median(d, axis=0)) < RIGID_TOL_M, axis=1)
        self.ref = _procrustes_reference(pooled[keep] if keep.mean() > 0.2 else pooled)
        self.fits = [None if c is None else _fit(self.ref, c) for c in curs]
        self.rigid = [None if c is None else _rigid(c, self.ref) for c in curs]

    @property
    def origin(self) -> np.ndarray:
        return self.ref.mean(axis=0)

    def resid(self) -> np.ndarray:
        return np.concatenate([f[2] for f in self.fits if f is not None])


def _pooled_score(a: _Segment, b: _Segment) -> tuple[np.ndarray, np.ndarray, float]:
    """SCoRE between two segments over the frames where both are present and rigid."""
    Ra, ta, Rb, tb = [], [], [], []
    for fa, fb, ma, mb in zip(a.fits, b.fits, a.rigid, b.rigid):
        if fa is None or fb is None:
            continue
        m = ma & mb
        Ra.append(fa[0][m]), ta.append(fa[1][m]), Rb.append(fb[0][m]), tb.append(fb[1][m])
    return _score(np.concatenate(Ra), np.concatenate(ta), a.origin, np.concatenate(Rb), np.concatenate(tb),
                  b.origin)


def _shank_points(markers: dict[str, np.ndarray], p: str, rate: float, spec: dict) -> np.ndarray:
    """The shank's fitting points of one run: its cluster markers, with a loose one replaced by the ankle centre
    carried by the foot cluster (``spec`` from :func:`_hamner_anatomy`)."""
    cur = _cluster(markers, p, spec["names"], rate)
    if spec.get("ankle_in_foot") is None:
        return cur
    foot = _cluster(markers, p, _HAMNER_FOOT, rate)
    if foot is None:
        raise ValueError(f"{p} shank: a loose marker is replaced by the ankle centre, but the foot cluster is absent")
    R, t, _ = _fit(spec["foot_ref"], foot)
    return np.concatenate([cur, _to_lab(R, t, spec["ankle_in_foot"])[:, None, :]], axis=1)


@lru_cache(maxsize=5)
def _hamner_anatomy(subject: str) -> dict:
    """Per side: reference shapes, body axes and sensor points of the shank and the forearm, in cluster
    coordinates, pooled over the subject's four runs (see the module doc). Plus diagnostics.

    Joint centres (SCoRE) use only the frames where both clusters keep their shape (:data:`RIGID_TOL_M`): the foot
    cluster bends with the toes and has labelling glitches in some runs. A shank marker whose distance to the ankle
    centre (carried by the foot) spans more than :data:`HAMNER_LOOSE_MARKER_M` (1st-99th percentile) is not moving
    with the bone: it is replaced in the shank fit by that ankle centre. This happens on one leg, subject02 right:
    TB3 moves 6-11 cm against the ankle (the other markers of all legs: ≤ 2 cm) and bends the fitted shank in every
    swing (ω_z flattens to −250 deg/s mid-swing at 5 m/s, where the left shank holds −740)."""
    runs = []
    for v in HAMNER_SPEEDS:
        markers, rate, _ = _read_trc(rd.require(f"{HAMNER}/{subject}/{_hamner_run(v)}.trc"))
        runs.append((markers, rate))
    out: dict = {}
    for side, p in _SIDE_PREFIX.items():
        thigh = _Segment([_cluster(m, p, _HAMNER_THIGH, r) for m, r in runs])
        foot = _Segment([_cluster(m, p, _HAMNER_FOOT, r) for m, r in runs])
        forearm = _Segment([_cluster(m, p, _HAMNER_FOREARM, r) for m, r in runs])
        spec: dict = {"names": _HAMNER_SHANK, "ankle_in_foot": None, "foot_ref": foot.ref}
        shank = _Segment([_shank_points(m, p, r, spec) for m, r in runs])
        # which shank markers follow the bone: their distance to the ankle centre carried by the foot
        _, ankle_ft, _ = _pooled_score(shank, foot)
        spans = []
        for i in range(len(_HAMNER_SHANK)):
            d = [np.linalg.norm(c[fr, i] - _to_lab(f[0], f[1], ankle_ft)[fr], axis=1)
                 for c, f, fr in zip(shank.curs, foot.fits, foot.rigid) if f is not None]
            spans.append(float(np.ptp(np.percentile(np.concatenate(d), [1, 99]))))
        loose = None
        if max(spans) > HAMNER_LOOSE_MARKER_M:
            loose = _HAMNER_SHANK[int(np.argmax(spans))]
            spec = {"names": tuple(m for m in _HAMNER_SHANK if m != loose), "ankle_in_foot": ankle_ft,
                    "foot_ref": foot.ref}
            shank = _Segment([_shank_points(m, p, r, spec) for m, r in runs])
        _, knee, knee_res = _pooled_score(thigh, shank)
        ankle, _, ankle_res = _pooled_score(shank, foot)
        if loose is not None:
            ankle = shank.ref[-1]  # the substituted point is the ankle centre
        Rs = np.concatenate([f[0] for f in shank.fits])
        z = np.einsum("nji,j->ni", Rs, _LAB_LEFT).mean(axis=0)
        z /= np.linalg.norm(z)
        x = knee - ankle
        x = x - (x @ z) * z
        x /= np.linalg.norm(x)
        y = np.cross(z, x)
        lateral = z if side is Side.LEFT else -z
        shank_sensor = ankle + HAMNER_SHANK_SENSOR_UP * (knee - ankle) + HAMNER_SHANK_SENSOR_LATERAL_M * lateral

        i_rad, i_uln = _HAMNER_FOREARM.index("FAradius"), _HAMNER_FOREARM.index("FAulna")
        wrist = 0.5 * (forearm.ref[i_rad] + forearm.ref[i_uln])
        elbows = []
        for (markers, rate), f in zip(runs, forearm.fits):
            e = _lp(0.5 * (markers[f"{p}LEL"] + markers[f"{p}MEL"]), rate)
            elbows.append(np.einsum("nji,nj->ni", f[0], e - f[1]))
        elbows = np.concatenate(elbows)
        elbow = elbows.mean(axis=0)
        xf = elbow - wrist
        forearm_len = float(np.linalg.norm(xf))
        xf /= forearm_len
        yf = forearm.ref[i_rad] - forearm.ref[i_uln]
        yf = yf - (yf @ xf) * xf
        yf /= np.linalg.norm(yf)
        zf = np.cross(xf, yf)
        dorsal = zf if side is Side.LEFT else -zf
        watch = wrist + HAMNER_WATCH_PROXIMAL_M * xf + HAMNER_WATCH_DORSAL_M * dorsal

        diag = {"knee_score_resid_mm": round(1e3 * knee_res, 2), "ankle_score_resid_mm": round(1e3 * ankle_res, 2),
                "shank_len_m": round(float(np.linalg.norm(knee - ankle)), 4),
                "shank_marker_to_ankle_span_mm": {m: round(1e3 * v, 1) for m, v in zip(_HAMNER_SHANK, spans)},
                "shank_loose_marker_replaced_by_ankle": loose,
                "forearm_len_m": round(forearm_len, 4),
                "elbow_in_forearm_sd_mm": round(1e3 * float(np.sqrt(elbows.var(axis=0).sum())), 2)}
        for name, seg in (("shank", shank), ("thigh", thigh), ("foot", foot), ("forearm", forearm)):
            res = seg.resid()
            diag[f"{name}_fit_resid_mm_median"] = round(1e3 * float(np.median(res)), 3)
            diag[f"{name}_fit_resid_mm_p99"] = round(1e3 * float(np.percentile(res, 99)), 3)
            rigid = np.concatenate([m for m in seg.rigid if m is not None])
            diag[f"{name}_rigid_share"] = round(float(rigid.mean()), 3)
        # the one leg with malleoli (subject03 right): the SCoRE ankle against their midpoint, in body x, y, z
        mal = [f"{p}LMAL", f"{p}MMAL"]
        d = []
        for (markers, rate), f in zip(runs, shank.fits):
            if all(m in markers for m in mal):
                mid = _lp(0.5 * (markers[mal[0]] + markers[mal[1]]), rate)
                d.append(np.einsum("nji,nj->ni", f[0], mid - f[1]).mean(axis=0))
        if d:
            diag["ankle_minus_malleoli_mm"] = [round(1e3 * float(v), 1) for v in
                                               np.array([x, y, z]) @ (ankle - np.mean(d, axis=0))]
        out[side] = {
            "shank": {"ref": shank.ref, "axes": np.column_stack([x, y, z]), "sensor": shank_sensor,
                      "knee": knee, "ankle": ankle, "spec": spec},
            "forearm": {"ref": forearm.ref, "axes": np.column_stack([xf, yf, zf]), "sensor": watch,
                        "wrist": wrist, "elbow": elbow},
            "diag": diag,
        }
    return out


def _hamner_stances(t_grf: np.ndarray, fy: dict[Side, np.ndarray], markers: dict[str, np.ndarray], rate: float,
                    time_s: np.ndarray, where: str) -> tuple[dict[Side, list[tuple[float, float]]], dict]:
    """Stances per foot from the split-belt force, with cross-over steps resolved.

    Each belt's force gives stances (:func:`force_stances`). Running has no double support, so stances of the two
    belts that overlap by more than half of the shorter one are one foot landing across both belts (a cross-over
    step; seen twice in subject03 Run_2; the filtered force of consecutive feet overlaps by a few ms at 2 m/s):
    they are merged (the earlier contact, the later toe-off). The side of every stance is then the foot whose lowest
    marker (CAL/TOE/MT5) is lower at mid-stance, as for RBDS; it must agree with the belt for the other stances and
    the sides must alternate. Stances are clipped to the marker span (both files share one clock).
    """
    items = [[ic, to, {side}] for side in Side for ic, to in _clip_stances(force_stances(t_grf, fy[side]), time_s)]
    key = lambda it: it[0] if np.isfinite(it[0]) else (it[1] - 10.0)
    items.sort(key=key)
    merged: list[list] = []
    for it in items:
        if merged:
            prev = merged[-1]
            a0 = prev[0] if np.isfinite(prev[0]) else time_s[0]
            a1 = prev[1] if np.isfinite(prev[1]) else time_s[-1]
            b0 = it[0] if np.isfinite(it[0]) else time_s[0]
            b1 = it[1] if np.isfinite(it[1]) else time_s[-1]
            overlap = min(a1, b1) - max(a0, b0)
            if overlap > 0.5 * min(a1 - a0, b1 - b0):  # one foot across both belts (a few ms is smearing)
                prev[0] = np.fmin(prev[0], it[0]) if np.isfinite(prev[0]) and np.isfinite(it[0]) else np.nan
                prev[1] = np.fmax(prev[1], it[1]) if np.isfinite(prev[1]) and np.isfinite(it[1]) else np.nan
                prev[2] = prev[2] | it[2]
                continue
        merged.append(it)
    low = {}
    for side, p in _SIDE_PREFIX.items():
        feet = [markers[f"{p}{m}"][:, 1] for m in _HAMNER_FOOT if f"{p}{m}" in markers]
        low[side] = _lp(np.min(feet, axis=0), rate)
    out: dict[Side, list[tuple[float, float]]] = {Side.LEFT: [], Side.RIGHT: []}
    sides, crossovers, belt_disagree = [], 0, 0
    for ic, to, belts in merged:
        a = ic if np.isfinite(ic) else time_s[0]
        b = to if np.isfinite(to) else time_s[-1]
        mid = 0.5 * (a + b)
        side = Side.LEFT if np.interp(mid, time_s, low[Side.LEFT]) < np.interp(mid, time_s, low[Side.RIGHT]) \
            else Side.RIGHT
        if len(belts) > 1:
            crossovers += 1
        elif side not in belts:
            belt_disagree += 1
        sides.append(side)
        out[side].append((float(ic), float(to)))
    if any(s1 is s2 for s1, s2 in zip(sides[:-1], sides[1:])):
        raise ValueError(f"{where}: stance sides do not alternate: {[s.value for s in sides]}")
    if belt_disagree:
        raise ValueError(f"{where}: {belt_disagree} stances on one belt but under the other foot")
    return out, {"crossover_steps": crossovers}


def load_hamner(subject: str, speed_ms: float) -> BodyTrial:
    """One Hamner trial: virtual shank and wrist IMUs (100 or 120 Hz) and their truth. See the module doc."""
    src = _hamner_sources(subject, speed_ms)
    all_trc = [rd.require(f"{HAMNER}/{subject}/{_hamner_run(v)}.trc") for v in HAMNER_SPEEDS]  # the anatomy
    tid = f"hamner/{subject}/{_hamner_run(speed_ms)}"
    return _cached(tid, list(src.values()) + all_trc, lambda: _build_hamner(subject, float(speed_ms), src))


def _build_hamner(subject: str, speed_ms: float, src: dict[str, Path]) -> BodyTrial:
    where = f"hamner/{subject}/{_hamner_run(speed_ms)}"
    markers, rate, time_s = _read_trc(src["trc"])
    anat = _hamner_anatomy(subject)
    recording: Recording = {}
    truth: dict = {}
    info: dict = {"marker_lp_hz": HAMNER_MARKER_LP_HZ, "rate_hz": rate}
    t_grf, fy = _read_grf(src["grf"])
    derived = _hamner_derived(src["events"])
    pelvis = _lp(np.mean([markers[m] for m in _HAMNER_PELVIS], axis=0), rate)
    by_side, sides_info = _hamner_stances(t_grf, fy, markers, rate, time_s, where)
    info.update(sides_info)
    for side, p in _SIDE_PREFIX.items():
        a = anat[side]
        info[f"{side.value}_anatomy"] = a["diag"]
        # shank
        sh = a["shank"]
        R, t, resid = _fit(sh["ref"], _shank_points(markers, p, rate, sh["spec"]))
        acc, gyro = _imu_from_pose(R, t, sh["axes"], sh["sensor"], rate)
        recording[side.shin] = RoleSamples(role=side.shin, time_s=time_s, acc_g=acc, gyro_dps=gyro)
        info[f"{side.value}_shin_fit_resid_mm_median"] = round(1e3 * float(np.median(resid)), 3)
        stances = by_side[side]
        tr, sw_v = _shin_truth(side, recording[side.shin], stances)
        truth.update(tr)
        info[f"{side.value}_swing_peak_dps"] = [round(float(v), 1) for v in sw_v]
        # against the shipped per-belt events (on 50 N, off 20 N, on samples; cross-overs not resolved there)
        ics, tos = tr[(side.shin, EventKind.CONTACT)], tr[(side.shin, EventKind.PUSH)]
        dic, dto = [], []
        for ic, to in derived[side]:
            k = int(np.argmin(np.abs(ics - ic))) if len(ics) else -1
            if k >= 0 and abs(ics[k] - ic) <= DERIVED_MATCH_S:
                dic.append(ics[k] - ic)
                j = int(np.argmin(np.abs(tos - to)))
                dto.append(tos[j] - to)
        if len(dic) < len(derived[side]) - 2 * info["crossover_steps"] or not dic:
            raise ValueError(f"{where}: {side.value}: {len(dic)} of {len(derived[side])} derived stances matched")
        if np.max(np.abs(dto)) > DERIVED_MATCH_S:
            raise ValueError(f"{where}: {side.value}: toe-offs disagree with the derived file")
        info[f"{side.value}_derived_matched"] = [len(dic), len(derived[side])]
        info[f"{side.value}_derived_dic_ms"] = [round(1e3 * float(np.min(dic)), 2), round(1e3 * float(np.max(dic)), 2)]
        info[f"{side.value}_derived_dto_ms"] = [round(1e3 * float(np.min(dto)), 2), round(1e3 * float(np.max(dto)), 2)]
        info[f"{side.value}_stances"] = [[None if not np.isfinite(v) else round(float(v), 5) for v in s]
                                         for s in stances]
        # wrist
        fa = a["forearm"]
        R, t, resid = _fit(fa["ref"], _cluster(markers, p, _HAMNER_FOREARM, rate))
        acc, gyro = _imu_from_pose(R, t, fa["axes"], fa["sensor"], rate)
        recording[side.wrist] = RoleSamples(role=side.wrist, time_s=time_s, acc_g=acc, gyro_dps=gyro)
        info[f"{side.value}_wrist_fit_resid_mm_median"] = round(1e3 * float(np.median(resid)), 3)
        fwd = (_to_lab(R, t, fa["wrist"]) - pelvis) @ _LAB_FORWARD
        h = ARM_HYSTERESIS_FRAC * float(np.subtract(*np.percentile(fwd, [95, 5])))
        t_fwd, t_back = zigzag_extremes(time_s, fwd, h)
        truth[(side.wrist, EventKind.ARM_FWD)] = t_fwd
        truth[(side.wrist, EventKind.ARM_BACK)] = t_back
        info[f"{side.value}_wrist_fwd_range_m"] = round(float(np.ptp(fwd)), 4)
        gaps = []
        for kind_t in (t_fwd, t_back):
            d = np.diff(kind_t)
            gaps += [[round(float(kind_t[i]), 3), round(float(kind_t[i + 1]), 3)]
                     for i in np.flatnonzero(d > 1.6 * np.median(d))] if len(d) >= 2 else []
        info[f"{side.value}_arm_gaps"] = gaps  # stretches where the arm did not swing through a turnaround

    # foot strike from the kinematics (classifier checked on RBDS)
    foot_strike = {}
    kin = {}
    for side, p in _SIDE_PREFIX.items():
        fore = f"{p}MT5" if f"{p}MT5" in markers else f"{p}TOE"
        heel, toe = _lp(markers[f"{p}CAL"], rate), _lp(markers[fore], rate)
        fsa = foot_strike_angles(time_s, foot_pitch_deg(heel, toe), by_side[side])
        foot_strike[side] = classify_foot_strike(fsa)
        kin[side.value] = {"class": foot_strike[side], "fsa_median_deg": round(float(np.median(fsa)), 2),
                           "fsa_iqr_deg": [round(float(q), 2) for q in np.percentile(fsa, [25, 75])],
                           "n": int(len(fsa)), "forefoot_marker": fore}
    info["kinematic_foot_strike"] = kin
    span = truth_span_of(truth)
    _check_complete(truth, span, where)
    return BodyTrial("hamner", subject, speed_ms, foot_strike, recording, truth, span, info)
