"""Acceptance of the core on simulated runs: real-time vs reference on the same noisy input; real-time vs the
reference on the noise-free signal (the measurement's own noise sensitivity); and real-time vs the simulator's
physical truth (its initial contacts, toe-offs, peak shank rates and wrist turnarounds, rendered from real
runners' limb motion).

A small grid runs here; ``bench/accuracy_grid.py`` runs the full one (54 runs per rule set) and prints the figures.
"""

from __future__ import annotations

import numpy as np
import pytest

from stridesync.core.reference import analyze
from stridesync.evaluate import compare
from stridesync.model import EventKind, Role
from stridesync.pipeline import run_realtime
from stridesync.sim import SimParams, simulate
from stridesync.sim._gait import RAMP_S

SHIN = (EventKind.CONTACT, EventKind.PUSH, EventKind.SWING)
WRIST = (EventKind.ARM_FWD, EventKind.ARM_BACK)
GRID = [  # rate, cadence, (swing, ipsi, contra) as fractions of the stride, noise
    (100.0, 150.0, (-0.12, 0.12, -0.10), 0.08),
    (200.0, 175.0, (0.07, -0.12, 0.12), 0.05),
    (400.0, 200.0, (0.0, 0.0, 0.0), 0.02),
]


@pytest.fixture(scope="module")
def runs():
    out = []
    for k, (rate, cad, fr, noise) in enumerate(GRID):
        T = 120.0 / cad * 1000.0
        p = SimParams(duration_s=60.0, cadence_spm=cad, swing_lag_ms=fr[0] * T, ipsi_arm_lag_ms=fr[1] * T,
                      contra_arm_lag_ms=fr[2] * T, noise_g=noise, sample_rate_hz={r: rate for r in Role},
                      standing_start_s=8.0, standing_end_s=8.0)
        sim = simulate(p, seed=40 + k)
        rt, _ = run_realtime(sim.recording)
        out.append((p, sim, analyze(sim.recording), analyze(sim.clean), rt))
    return out


def test_realtime_vs_reference_same_input(runs):
    for p, sim, ref, truth, rt in runs:
        c = compare(ref.events, rt.events, ref.steps, rt.steps)
        assert c.recall >= 0.995 and c.precision >= 0.995, (p.sample_rate_hz, c.recall, c.precision)
        err = np.abs(c.all_errors())
        assert np.median(err) <= 1.0 and np.percentile(err, 95) <= 5.0
        assert np.median(np.abs(c.lag_errors_ms)) <= 2.0


def test_realtime_vs_noise_free_truth_per_event(runs):
    pooled = {k: [] for k in EventKind}
    for p, sim, ref, truth, rt in runs:
        c = compare(truth.events, rt.events)
        assert c.recall >= 0.98
        for k, v in c.errors_ms.items():
            pooled[k].append(np.abs(v))
    for k in EventKind:
        e = np.concatenate(pooled[k])
        assert len(e) > 100
        med, p95 = np.median(e), np.percentile(e, 95)
        if k in SHIN:
            assert med <= 2.0 and p95 <= 10.0, (k, med, p95)
        else:
            assert med <= 5.0 and p95 <= 20.0, (k, med, p95)


def test_no_events_while_standing(runs):
    for p, sim, ref, truth, rt in runs:
        still_to = p.standing_start_s - RAMP_S
        still_from = p.duration_s - p.standing_end_s + RAMP_S
        assert not [e for e in rt.events if e.time_s < still_to or e.time_s > still_from]
        assert sum(1 for e in rt.events if e.kind is EventKind.CONTACT) > 100


def test_shin_events_against_the_physical_truth(runs):
    """On the simulator's runner (real runners' shank motion), the gyroscope rules find the physical instants
    within the issue's targets: contact and toe-off |bias| <= 10 ms, swing <= 3 ms, each SD within its target."""
    pooled = {k: [] for k in SHIN}
    for p, sim, ref, truth, rt in runs:
        c = compare(sim.design_events, rt.events)
        for k in SHIN:
            pooled[k].append(c.errors_ms[k])
    for k, (bias, sd) in {EventKind.CONTACT: (10.0, 15.0), EventKind.PUSH: (10.0, 20.0),
                          EventKind.SWING: (3.0, 5.0)}.items():
        e = np.concatenate(pooled[k])
        assert len(e) > 200 and abs(np.mean(e)) <= bias and np.std(e) <= sd, (k, np.mean(e), np.std(e))


def test_design_swing_lag_is_recovered(runs):
    for p, sim, ref, truth, rt in runs:
        got = np.median([s.swing_lag_ms for s in rt.steps if s.swing_lag_ms is not None])
        assert abs(got - p.swing_lag_ms) < 10.0, (p.swing_lag_ms, got)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "The gyroscope arm rule reads the forearm's turns; on real runners (and on the simulator, whose forearm "
    "motion is theirs) the forward turn comes ~70 ms after the wrist's turn relative to the trunk and the "
    "backward turn ~25 ms before it (tests/test_body_accuracy.py, docs/measurement.md §9)."))
def test_design_arm_lags_are_recovered(runs):
    for p, sim, ref, truth, rt in runs:
        for name, design in (("ipsi_arm_lag_ms", p.ipsi_arm_lag_ms), ("contra_arm_lag_ms", p.contra_arm_lag_ms)):
            got = np.median([getattr(s, name) for s in rt.steps if getattr(s, name) is not None])
            assert abs(got - design) < 15.0, (name, design, got)
