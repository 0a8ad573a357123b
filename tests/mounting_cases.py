"""Mounting test cases built from real trials and simulated runs (test and bench helper, not a test module).

A real trial's virtual sensors are in the contract's body frame but start running at once; a user stands still
first. :func:`with_standing` puts standing in front of each sensor:

* RBDS: the runner's own static trial (virtual sensors from the same marker clusters, ~1 s at 150 Hz: real
  posture, the tibia 1-9° off vertical), then a 1 s linear blend into the running trial.
* Hamner (no static trial): 2 s of gravity on +x with 0.004 g and 0.5 deg/s white noise (a bare standing
  posture: the arm hanging, the shank vertical), then the same blend.

The running part is the trial itself, untouched, so events after alignment can be compared with events of the
unrotated recording sample by sample.

Sensors are rotated as straps rotate them: ``input = R @ body`` for a rotation R per sensor
(:func:`rotated`). The pods' nominal mountings (:data:`NOMINAL`) are side-specific, as a pod worn on the lateral
side with its face out is: the right one is turned 180° about the segment against the left one. A pod worn on the
other limb is then seen, through its roster mounting, turned 180° around the segment (:func:`swapped`).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from stridesync.model import Recording, Role, RoleSamples

#: 180° about x (the segment): the right side's pod against the left side's
FLIP_X = np.diag([1.0, -1.0, -1.0])
NOMINAL = {Role.LEFT_SHIN: np.eye(3), Role.RIGHT_SHIN: FLIP_X, Role.LEFT_WRIST: np.eye(3), Role.RIGHT_WRIST: FLIP_X}


def _standing(trial, role: Role, fs: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if trial.dataset == "rbds":
        from . import bodies

        s = bodies.rbds_static_recording(trial.subject)[role]
        return s.acc_g, s.gyro_dps
    n = int(2 * fs)
    return (np.tile([1.0, 0.0, 0.0], (n, 1)) + rng.normal(0, 0.004, (n, 3)), rng.normal(0, 0.5, (n, 3)))


def with_standing(trial, seed: int = 0) -> Recording:
    """The trial's sensors with standing in front (see the module notes)."""
    rng = np.random.default_rng(seed)
    out: Recording = {}
    for role, rs in trial.recording.items():
        fs = rs.sample_rate_hz
        a0, g0 = _standing(trial, role, fs, rng)
        nb = int(round(fs))
        t0 = rs.time_s[0] - (len(a0) + nb) / fs + np.arange(len(a0)) / fs
        tb = rs.time_s[0] - np.arange(nb, 0, -1) / fs
        w = np.linspace(0, 1, nb)[:, None]
        ab = (1 - w) * a0[-1] + w * rs.acc_g[0]
        gb = (1 - w) * g0[-1] + w * rs.gyro_dps[0]
        out[role] = RoleSamples(role, np.concatenate([t0, tb, rs.time_s]), np.vstack([a0, ab, rs.acc_g]),
                                np.vstack([g0, gb, rs.gyro_dps]))
    return out


def rotated(rec: Recording, rots: dict[Role, np.ndarray], *, gyro: bool = True) -> Recording:
    """Each sensor's samples as a sensor turned by ``rots[role]`` reads them (input = R @ body)."""
    out: Recording = {}
    for role, rs in rec.items():
        R = rots.get(role, np.eye(3))
        out[role] = RoleSamples(role, rs.time_s, rs.acc_g @ R.T,
                                None if (rs.gyro_dps is None or not gyro) else rs.gyro_dps @ R.T)
    return out


def accel_only(rec: Recording) -> Recording:
    return {r: RoleSamples(r, s.time_s, s.acc_g, None) for r, s in rec.items()}


def special_rotations() -> dict[str, np.ndarray]:
    """The named cases: exactly upside down (180° about z), 90° about the segment, 180° about y."""
    return {"upside_down": Rotation.from_euler("z", 180, degrees=True).as_matrix(),
            "x90": Rotation.from_euler("x", 90, degrees=True).as_matrix(),
            "y180": Rotation.from_euler("y", 180, degrees=True).as_matrix()}


def random_rotations(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Uniform on SO(3)."""
    return [Rotation.random(random_state=rng).as_matrix() for _ in range(n)]


def swapped(rec: Recording, a: Role, b: Role) -> Recording:
    """Pods ``a`` and ``b`` worn on each other's limb, each in its own nominal mounting, read through the
    roster's (a's data is b's limb seen by a pod turned as b's nominal pod, remapped by a's roster mounting)."""
    out = dict(rec)
    for x, y in ((a, b), (b, a)):
        R = NOMINAL[x] @ NOMINAL[y].T  # input = M_given(x) · M_nom(y)ᵀ · body(y)
        s = rec[y]
        out[x] = RoleSamples(x, s.time_s, s.acc_g @ R.T, None if s.gyro_dps is None else s.gyro_dps @ R.T)
    return out


def wrist_on_shin(rec: Recording, wrist: Role, shin: Role) -> Recording:
    """The wrist's pod strapped to a shin beside the shin's own pod (its roster mounting as for the wrist)."""
    out = dict(rec)
    s = rec[shin]
    R = NOMINAL[wrist] @ NOMINAL[shin].T
    out[wrist] = RoleSamples(wrist, s.time_s, s.acc_g @ R.T, None if s.gyro_dps is None else s.gyro_dps @ R.T)
    return out


def slipped(rec: Recording, role: Role, at_s: float, R: np.ndarray) -> Recording:
    """``role``'s sensor turns by R on its segment at ``at_s`` (samples from then on read R @ body)."""
    out = dict(rec)
    s = rec[role]
    k = s.time_s >= at_s
    acc, gyro = s.acc_g.copy(), None if s.gyro_dps is None else s.gyro_dps.copy()
    acc[k] = acc[k] @ R.T
    if gyro is not None:
        gyro[k] = gyro[k] @ R.T
    out[role] = RoleSamples(role, s.time_s, acc, gyro)
    return out


def event_errors(ref: list, got: list, tol_s: float = 0.05) -> tuple[np.ndarray, int]:
    """Per reference event, the nearest same-(role, kind) event's offset (s; inf when none within tol)."""
    by: dict = {}
    for e in got:
        by.setdefault((e.role, e.kind), []).append(e.time_s)
    arr = {k: np.sort(np.array(v)) for k, v in by.items()}
    out = []
    for e in ref:
        g = arr.get((e.role, e.kind))
        if g is None or not len(g):
            out.append(np.inf)
            continue
        i = np.searchsorted(g, e.time_s)
        c = [g[j] - e.time_s for j in (i - 1, i) if 0 <= j < len(g)]
        d = min(c, key=abs)
        out.append(d if abs(d) <= tol_s else np.inf)
    return np.array(out), len(got)
