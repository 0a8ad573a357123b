"""Build the simulator's limb templates from real runners and print the calibration figures.

    .venv/bin/python docs/simulator_templates.py            # rewrites src/stridesync/sim/_templates.py

Needs the shared data sets (``../shared/datasets``) and ``ezc3d``; the truth instants come from
``tests/bodies.py`` (force-plate contact/toe-off at 30 N, swing = most negative virtual ω_z, wrist turnarounds
relative to the pelvis), the positions from the markers:

Shank (RBDS, 12 runners × 2.5 / 3.5 / 4.5 m/s, both legs)
    The shank cluster is fitted per frame (Kabsch) to its static-trial shape, after a 20 Hz low-pass of the
    markers (``realdata.FUKUCHI_MARKER_LP_HZ``). From the fitted pose: the sagittal shank angle θ (the knee → ankle
    direction from the downward vertical, positive with the foot forward, so θ̇ = −ω_z) and the ankle-joint centre
    (midpoint of the malleoli of the static trial, carried by the cluster) in the treadmill's frame.
Arm (Hamner, 5 runners × 2 / 3 / 4 / 5 m/s, both arms)
    Forearm angle θ_f: its mean is the posture of the elbow centre → wrist centre line (from the downward
    vertical, positive with the hand forward), its swing the integral of the virtual watch's −ω_z (``bodies``),
    so that the simulated ω_z is a watch's; and the wrist centre relative to the pelvis centre (fore-aft X,
    vertical Y), markers low-passed at 15 Hz (``bodies.HAMNER_MARKER_LP_HZ``).

Every stride is time-normalised with the simulator's own warp (``stridesync.sim._warp``) through its truth
instants: shank knots initial contact (ψ = k), toe-off (k + w₀) and swing peak (k + w₀ + w₁); arm knots forward
turnaround (k) and backward turnaround (k + b). The canonical widths are the population means. Curves are averaged
per runner, then over runners (each runner counts once), and kept as Fourier series (the stride is periodic).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from stridesync.model import EventKind, Side  # noqa: E402
from stridesync.sim._warp import make_warp  # noqa: E402
from tests import bodies, realdata as rd  # noqa: E402

N = 1024  # samples per stride for the averages and the FFT
H_SHANK = 24  # harmonics kept (the markers were low-passed at 20 Hz: harmonic ~14 at 0.7 s strides)
H_ARM = 16
OUT = ROOT / "src" / "stridesync" / "sim" / "_templates.py"
_CLUSTER = ("Shank.Top.Lateral", "Shank.Top.Medial", "Shank.Bottom.Lateral", "Shank.Bottom.Medial")


# --------------------------------------------------------------------------------------------------
# shank (RBDS)


def _rbds_paths(subject: str, speed: float) -> tuple[Path, Path]:
    code = f"T{int(round(speed * 10))}"
    if subject == "RBDS001":
        base = rd.require(rd.FUKUCHI) / "c3d"
    else:
        base = rd.require(bodies.RBDS) / "c3d"
    return base / f"{subject}static.c3d", base / f"{subject}run{code}.c3d"


def _static(path: Path) -> dict[str, dict]:
    pts, _ = rd._read_points(path)
    mean = {k: v.mean(axis=0) for k, v in pts.items()}
    out = {}
    for p in "LR":
        knee = 0.5 * (mean[f"{p}.Knee"] + mean[f"{p}.Knee.Medial"])
        ankle = 0.5 * (mean[f"{p}.Ankle"] + mean[f"{p}.Ankle.Medial"])
        out[p] = {"cluster": np.array([mean[f"{p}.{m}"] for m in _CLUSTER]), "knee": knee, "ankle": ankle}
    return out


def shank_curves(subject: str, speed: float) -> dict[Side, dict]:
    """Per side: t, θ (rad), ankle (fwd, up) in m, and the truth instants."""
    static_path, run_path = _rbds_paths(subject, speed)
    ref = _static(static_path)
    pts, rate = rd._read_points(run_path)
    trial = bodies.load_rbds(subject, speed)
    out = {}
    for side, p in ((Side.LEFT, "L"), (Side.RIGHT, "R")):
        cur = np.stack([pts[f"{p}.{m}"] for m in _CLUSTER], axis=1)
        cur = rd._lowpass(cur, rd.FUKUCHI_MARKER_LP_HZ, rate, axis=0)
        R, tr = rd._kabsch(ref[p]["cluster"], cur)
        knee = np.einsum("nij,j->ni", R, ref[p]["knee"]) + tr
        ankle = np.einsum("nij,j->ni", R, ref[p]["ankle"]) + tr
        d = ankle - knee  # lab: +X forward, +Y up
        theta = np.arctan2(d[:, 0], -d[:, 1])
        t = np.arange(len(theta)) / rate
        ev = {k: trial.events(side.shin, k) for k in (EventKind.CONTACT, EventKind.PUSH, EventKind.SWING)}
        out[side] = {"t": t, "theta": theta, "ankle": ankle[:, :2], "ev": ev, "rate": rate,
                     "omega_z": trial.recording[side.shin].gyro_dps[:, 2]}
    return out


def shank_strides(ev: dict) -> np.ndarray:
    """(IC, TO, PK, next IC) rows of complete strides 0.5-1.0 s long."""
    c, p, s = ev[EventKind.CONTACT], ev[EventKind.PUSH], ev[EventKind.SWING]
    rows = []
    for c0, c1 in zip(c[:-1], c[1:]):
        if not 0.5 <= c1 - c0 <= 1.0:
            continue
        pp = p[(p > c0) & (p < c1)]
        ss = s[(s > c0) & (s < c1)]
        if len(pp) == 1 and len(ss) == 1 and pp[0] < ss[0]:
            rows.append((c0, pp[0], ss[0], c1))
    return np.array(rows).reshape(-1, 4)


def runs_of(rows: np.ndarray) -> list[np.ndarray]:
    """Split stride rows (first column: opening instant, last column: closing instant) into runs of
    consecutive strides (a stride's closing instant opens the next)."""
    out, cur = [], []
    for r in rows:
        if cur and abs(cur[-1][-1] - r[0]) > 1e-9:
            out.append(np.array(cur))
            cur = []
        cur.append(r)
    if cur:
        out.append(np.array(cur))
    return out


def normalised(curves: list[tuple[np.ndarray, bool]], t: np.ndarray, rows: np.ndarray,
               psi_of_knot: np.ndarray) -> list[np.ndarray]:
    """Every curve sampled at ψ ∈ [k, k+1] (N + 1 points) of every stride.

    ``rows``: one stride per row, its knots (opening instant first, at ψ = k; the others at k + psi_of_knot[1:])
    and, last, the closing instant (ψ = k + 1). Curves flagged True have their stride mean removed.

    The plain warp is used, not the simulator's shank warp with its constant-rate plateau around the swing
    peak: the plateau shifts the early-swing minimum of the average 20-30 ms toward toe-off (strides far
    from the mean proportions are normalised unevenly), the plain warp keeps it where the time-domain
    averages have it. The simulator then takes the template's swing peak where the average has its maximum.
    """
    grid = np.linspace(0.0, 1.0, N + 1)
    splines = [(CubicSpline(t, y), centre) for y, centre in curves]
    out = []
    for run in runs_of(rows):
        n = len(run)
        k = np.arange(n, dtype=float)
        kt = np.concatenate([run[:, :-1].ravel(), [run[-1, -1]]])
        kp = np.concatenate([(k[:, None] + psi_of_knot[None, :]).ravel(), [n]])
        warp = make_warp(kt, kp)
        for k in range(n):
            tt = warp.time(k + grid)
            ys = []
            for sp, centre in splines:
                y = sp(tt)
                ys.append(y - y.mean() if centre else y)
            out.append(np.array(ys))
    return out


def fourier(y: np.ndarray, harmonics: int) -> np.ndarray:
    """Complex Fourier coefficients c_0..c_H of a periodic curve sampled on [0, 1] (N + 1 points, drift removed)."""
    grid = np.linspace(0.0, 1.0, N + 1)
    y = y - (y[-1] - y[0]) * grid
    return np.fft.rfft(y[:-1])[: harmonics + 1] / N


def build_shank() -> dict:
    per_speed = {}
    for speed in bodies.RBDS_SPEEDS:
        data = {s: shank_curves(s, speed) for s in bodies.RBDS_SUBJECTS}
        fr, ct, strides_s = [], [], []
        for subj, sides in data.items():
            for side, d in sides.items():
                st = shank_strides(d["ev"])
                d["strides"] = st
                T = st[:, 3] - st[:, 0]
                fr.append(np.median(np.column_stack([st[:, 1] - st[:, 0], st[:, 2] - st[:, 1]]) / T[:, None], axis=0))
                ct.append(np.median(st[:, 1] - st[:, 0]))
                strides_s.append(np.median(T))
        w = np.mean(fr, axis=0)
        psi_k = np.array([0.0, w[0], w[0] + w[1]])
        runner_means = []
        for subj, sides in data.items():
            acc = []
            for side, d in sides.items():
                curves = [(d["theta"], False), (d["ankle"][:, 0], True), (d["ankle"][:, 1], True)]
                acc += normalised(curves, d["t"], d["strides"], psi_k)
            runner_means.append(np.mean(acc, axis=0))
        mean = np.mean(runner_means, axis=0)
        # the population's peak forward angular velocity: per runner the median over strides of both legs
        peaks = [np.median(np.concatenate([-np.interp(d["ev"][EventKind.SWING], d["t"], d["omega_z"])
                                           for d in sides.values()])) for sides in data.values()]
        per_speed[speed] = {
            "widths": (float(w[0]), float(w[1])),
            "swing_peak_dps": float(np.median(peaks)),
            "stride_s": float(np.mean(strides_s)),
            "contact_s": float(np.mean(ct)),
            "theta": fourier(mean[0], H_SHANK),
            "ankle_fwd": fourier(mean[1], H_SHANK),
            "ankle_up": fourier(mean[2], H_SHANK),
            "data": data,
        }
        print(f"shank {speed} m/s: widths {np.round(w, 4)}, stride {np.mean(strides_s):.3f} s, "
              f"contact {np.mean(ct):.3f} s, swing peak {np.median(peaks):.0f} deg/s, {len(runner_means)} runners")
    return per_speed


# --------------------------------------------------------------------------------------------------
# arm (Hamner)


def arm_curves(subject: str, speed: float) -> dict[Side, dict]:
    trial = bodies.load_hamner(subject, speed)
    sys.path.insert(0, str(rd.require(bodies.HAMNER)))
    from read_hamner import read_trc  # the data set's own reader

    trc = read_trc(str(rd.require(f"{bodies.HAMNER}/{subject}/Run_{int(round(speed))}.trc")))
    rate, t = trc["rate"], trc["time"]
    scale = {"mm": 1e-3, "m": 1.0}[trc["units"]]
    markers = {nm: scale * trc["xyz"][:, i, :] for i, nm in enumerate(trc["names"])}
    lp = lambda x: rd._lowpass(x, bodies.HAMNER_MARKER_LP_HZ, rate, axis=0)  # noqa: E731
    pelvis = lp(0.25 * (markers["RASI"] + markers["LASI"] + markers["RPSI"] + markers["LPSI"]))
    out = {}
    for side, p in ((Side.LEFT, "L"), (Side.RIGHT, "R")):
        elbow = lp(0.5 * (markers[f"{p}LEL"] + markers[f"{p}MEL"]))
        wrist = lp(0.5 * (markers[f"{p}FAradius"] + markers[f"{p}FAulna"]))
        d = wrist - elbow
        theta = np.arctan2(d[:, 0], -d[:, 1])
        rel = wrist - pelvis
        ev = {k: trial.events(side.wrist, k) for k in (EventKind.ARM_FWD, EventKind.ARM_BACK)}
        watch = trial.recording[side.wrist]
        wz = np.interp(t, watch.time_s, watch.gyro_dps[:, 2])
        # the angle a watch's gyro sees: θ_w = −∫ω_z, its linear drift over the trial removed
        theta_w = np.concatenate([[0.0], np.cumsum(0.5 * (wz[1:] + wz[:-1]) * np.diff(t))])
        theta_w = -np.radians(theta_w - np.polyval(np.polyfit(t, theta_w, 1), t))
        out[side] = {"t": t, "theta": theta, "theta_w": theta_w, "rel": rel[:, :2], "ev": ev, "rate": rate,
                     "omega_z": wz,
                     "push_same": trial.events(side.shin, EventKind.PUSH),
                     "push_other": trial.events(side.other.shin, EventKind.PUSH)}
    return out


def arm_cycles(ev: dict) -> np.ndarray:
    f, b = ev[EventKind.ARM_FWD], ev[EventKind.ARM_BACK]
    rows = []
    for f0, f1 in zip(f[:-1], f[1:]):
        bb = b[(b > f0) & (b < f1)]
        if 0.45 <= f1 - f0 <= 1.0 and len(bb) == 1:
            rows.append((f0, bb[0], f1))
    return np.array(rows).reshape(-1, 3)


def build_arm() -> dict:
    per_speed = {}
    for speed in bodies.HAMNER_SPEEDS:
        data = {s: arm_curves(s, speed) for s in bodies.HAMNER_SUBJECTS}
        fr, per = [], []
        for sides in data.values():
            for d in sides.values():
                cy = arm_cycles(d["ev"])
                d["cycles"] = cy
                fr.append(np.median((cy[:, 1] - cy[:, 0]) / (cy[:, 2] - cy[:, 0])))
                per.append(np.median(cy[:, 2] - cy[:, 0]))
        b = float(np.mean(fr))
        psi_k = np.array([0.0, b])
        runner_means = []
        for sides in data.values():
            acc = []
            for d in sides.values():
                curves = [(d["theta"], False), (d["rel"][:, 0], True), (d["rel"][:, 1], True), (d["theta_w"], True)]
                acc += normalised(curves, d["t"], d["cycles"], psi_k)
            runner_means.append(np.mean(acc, axis=0))
        mean = np.mean(runner_means, axis=0)
        # the forearm's angle: its mean posture from the markers, its swing from the watch's gyro (−∫ω_z), so
        # that the simulated ω_z is the population's (the watch's z is not exactly the lateral axis: the
        # forearm is half pronated)
        mean[0] = mean[0].mean() + mean[3]
        per_speed[speed] = {"back_phase": b, "stride_s": float(np.mean(per)),
                            "theta": fourier(mean[0], H_ARM), "wrist_fwd": fourier(mean[1], H_ARM),
                            "wrist_up": fourier(mean[2], H_ARM), "data": data}
        print(f"arm {speed} m/s: back turnaround at {b:.4f} of the cycle, cycle {np.mean(per):.3f} s")
    return per_speed


# --------------------------------------------------------------------------------------------------
# output


def _fmt(c: np.ndarray) -> str:
    re_ = ", ".join(f"{v:.7g}" for v in c.real)
    im_ = ", ".join(f"{v:.7g}" for v in c.imag)
    return f"(\n        ({re_}),\n        ({im_}),\n    )"


def write(shank: dict, arm: dict) -> None:
    lines = [
        '"""Limb templates of the simulator, measured on real runners. GENERATED by docs/simulator_templates.py: do not edit.',
        "",
        "Each curve is a Fourier series of template phase ψ (period 1): (real parts, imaginary parts) of the",
        "coefficients c_0..c_H of y(ψ) = c_0 + 2 Re Σ c_h exp(2πihψ). Angles in rad, positions in m.",
        "",
        "SHANK: RBDS (Fukuchi 2017), 12 runners, both legs. ψ = 0 initial contact, ``widths[0]`` toe-off,",
        "``widths[0] + widths[1]`` the swing peak (most negative ω_z); ``stride_s``, ``contact_s``: the runners' mean",
        "stride and contact times; ``swing_peak_dps``: their median peak forward angular velocity (per runner the",
        "median over strides). ``theta``: shank angle from the downward",
        "vertical, positive with the foot forward (θ̇ = −ω_z). ``ankle_fwd``/``ankle_up``: ankle-joint centre in the",
        "treadmill frame, stride mean removed.",
        "",
        "ARM: Hamner & Delp 2013, 5 runners, both arms. ψ = 0 forward turnaround of the wrist relative to the",
        "pelvis, ``back_phase`` the backward one. ``theta``: forearm angle (elbow → wrist) from the downward",
        "vertical, positive with the hand forward. ``wrist_fwd``/``wrist_up``: wrist centre relative to the pelvis",
        "centre, stride mean removed.",
        '"""',
        "",
        "# fmt: off",
        "SHANK = {",
    ]
    for speed, d in shank.items():
        lines.append(f"    {speed}: {{")
        lines.append(f"        'widths': ({d['widths'][0]:.5f}, {d['widths'][1]:.5f}),")
        lines.append(f"        'stride_s': {d['stride_s']:.4f},")
        lines.append(f"        'contact_s': {d['contact_s']:.4f},")
        lines.append(f"        'swing_peak_dps': {d['swing_peak_dps']:.1f},")
        for key in ("theta", "ankle_fwd", "ankle_up"):
            lines.append(f"        '{key}': {_fmt(d[key])},")
        lines.append("    },")
    lines.append("}")
    lines.append("ARM = {")
    for speed, d in arm.items():
        lines.append(f"    {speed}: {{")
        lines.append(f"        'back_phase': {d['back_phase']:.5f},")
        lines.append(f"        'stride_s': {d['stride_s']:.4f},")
        for key in ("theta", "wrist_fwd", "wrist_up"):
            lines.append(f"        '{key}': {_fmt(d[key])},")
        lines.append("    },")
    lines.append("}")
    lines.append("# fmt: on")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    write(build_shank(), build_arm())
