"""Measurement v2 against the body (MEASUREMENT.md §6.1): 12 RBDS runners × 3 speeds and 5 Hamner runners ×
4 speeds, virtual shank and wrist sensors from the marker clusters, truth from the force plates and the markers
(:mod:`tests.bodies`, :mod:`tests.body_accuracy`). Skipped when ``../shared`` is absent.

Each target of the issue is a test. Where a rule set misses a target, the test is a strict xfail whose reason
gives the measured figures and what limits them; ``bench/realdata_accuracy.py`` prints every figure, split by
speed and foot strike.
"""

from __future__ import annotations

import numpy as np
import pytest

from stridesync.core.config import DetectorConfig
from stridesync.evaluate import compare
from stridesync.model import EventKind

from . import body_accuracy as BA
from . import bodies
from .conftest import feed

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(scope="module")
def trials():
    pytest.importorskip("ezc3d")
    return list(bodies.all_trials())  # each loader skips the test when its data set is absent


@pytest.fixture(scope="module")
def results(trials):
    out = {}
    for rules in ("gyro", "accel"):
        cfg = DetectorConfig(rules=rules)
        out[rules] = [BA.evaluate(tr, BA.analyse(tr, cfg=cfg), cfg) for tr in trials]
    return out


def pooled(results, rules: str, kind: EventKind) -> dict:
    return BA.pool(results[rules])[("all", kind)].row()


def check(row: dict, bias_ms: float, sd_ms: float, found_pct: float) -> None:
    assert abs(row["bias_ms"]) <= bias_ms and row["sd_ms"] <= sd_ms and row["found_pct"] >= found_pct, row


def test_all_56_trials_are_analysed(trials, results):
    assert len(trials) == 56
    assert sum(1 for tr in trials if tr.dataset == "hamner") == 20
    n = pooled(results, "gyro", EventKind.CONTACT)["n"]
    assert n > 3000  # not vacuous: every trial contributes strides


# ------------------------------------------------------------------ gyroscope rules
@pytest.mark.parametrize("kind, bias_ms, sd_ms", [(EventKind.CONTACT, 10.0, 15.0), (EventKind.PUSH, 10.0, 20.0),
                                                   (EventKind.SWING, 3.0, 5.0)])
def test_gyro_shin_events_meet_their_targets(results, kind, bias_ms, sd_ms):
    check(pooled(results, "gyro", kind), bias_ms, sd_ms, 98.0)


def test_gyro_rules_hold_within_each_data_set(results):
    """Not only pooled: each laboratory's runners on their own (RBDS 150 Hz, Hamner 100-120 Hz)."""
    by = BA.pool(results["gyro"], lambda r, role: r.trial_id.split("/")[0])
    for ds in ("rbds", "hamner"):
        check(by[(ds, EventKind.CONTACT)].row(), 10.0, 15.0, 98.0)
        check(by[(ds, EventKind.SWING)].row(), 3.0, 5.0, 98.0)
    check(by[("rbds", EventKind.PUSH)].row(), 10.0, 20.0, 98.0)


GYRO_PUSH_SLOW = (
    "Toe-off at the slowest jog: Hamner 2 m/s -46 ms (SD 19). At 2 m/s the shank starts its early-swing "
    "rotation while the toe still carries 30 N (a long, gradual push-off), so the onset of the fall of -omega_z "
    "precedes the force's end; 3-5 m/s: -9..-14 ms, RBDS 2.5-4.5 m/s: -5..+8 ms.")


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=GYRO_PUSH_SLOW)
def test_gyro_push_at_the_slowest_jog(results):
    by = BA.pool(results["gyro"], lambda r, role: f"{r.trial_id.split('/')[0]}{r.speed_ms}")
    check(by[("hamner2.0", EventKind.PUSH)].row(), 10.0, 20.0, 98.0)


ARMS = (
    "Wrist turnarounds from the forearm's rate (Hamner, 5 runners): arm_fwd +69 ms (SD 22), arm_back -30 ms "
    "(SD 33). Truth is the wrist's turnaround relative to the pelvis. From the markers, the wrist turns in the "
    "lab +25 +/- 19 ms (forward) and -11 +/- 9 ms (backward) away from its pelvis-relative turn, and the forearm "
    "keeps rotating forward after the wrist stops (the elbow still flexes). A strapdown of the wrist's own "
    "velocity gives arm_fwd +57 +/- 34, arm_back -11 +/- 28 ms. A wrist sensor alone does not see the trunk.")


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=ARMS)
@pytest.mark.parametrize("kind", [EventKind.ARM_FWD, EventKind.ARM_BACK])
def test_gyro_arm_events_meet_their_targets(results, kind):
    check(pooled(results, "gyro", kind), 20.0, 30.0, 98.0)


def test_swing_lag_per_step_against_the_body(results):
    """Each step's swing lag against the same step's truth lag (Hamner and RBDS): median |error| <= 10 ms."""
    err = np.concatenate([r.lag_errors_ms["swing_lag"] for r in results["gyro"]])
    assert len(err) > 2000 and np.median(np.abs(err)) <= 10.0, (len(err), np.median(np.abs(err)))


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "Swing lag per step on Hamner alone: median |error| 12.7 ms (2 m/s 40.1, 3 m/s 14.4, 4 m/s 8.9, 5 m/s 9.2). "
    "The lag is swing minus toe-off, and Hamner's toe-off reads 9-14 ms early at 3-5 m/s and 46 ms at 2 m/s "
    "(" + GYRO_PUSH_SLOW.split(":")[0] + "); on RBDS the same rule gives 5 ms."))
def test_swing_lag_per_step_on_hamner(results):
    err = np.concatenate([r.lag_errors_ms["swing_lag"] for r in results["gyro"] if r.trial_id.startswith("hamner")])
    assert len(err) > 150 and np.median(np.abs(err)) <= 10.0, np.median(np.abs(err))


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=ARMS)
def test_arm_lags_per_step_against_the_body(results):
    for name in ("ipsi_arm_lag", "contra_arm_lag"):
        err = np.concatenate([r.lag_errors_ms[name] for r in results["gyro"] if r.trial_id.startswith("hamner")])
        assert len(err) > 150 and np.median(np.abs(err)) <= 10.0, (name, np.median(np.abs(err)))


# ------------------------------------------------------------------ accelerometer rules
@pytest.mark.parametrize("kind, bias_ms, sd_ms", [(EventKind.CONTACT, 15.0, 25.0), (EventKind.PUSH, 20.0, 30.0)])
def test_accel_shin_timing_meets_its_targets(results, kind, bias_ms, sd_ms):
    row = pooled(results, "accel", kind)
    assert abs(row["bias_ms"]) <= bias_ms and row["sd_ms"] <= sd_ms, row
    assert row["found_pct"] >= 90.0, row


ACCEL_SWING = (
    "No accelerometer-only rule found tracks the shank's peak angular velocity within SD 30 ms: tangential "
    "acceleration vanishes there, but a_y also carries the knee's own acceleration and gravity, which differ "
    "between runners (per-trial bias -57..+75 ms). Best found: the onset of the terminal-swing deceleration, "
    "+4 ms (SD 32) pooled; found 93-96 % of strides (target 95 %).")


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=ACCEL_SWING)
def test_accel_swing_and_coverage_meet_their_targets(results):
    check(pooled(results, "accel", EventKind.SWING), 20.0, 30.0, 95.0)
    check(pooled(results, "accel", EventKind.CONTACT), 15.0, 25.0, 95.0)


# ------------------------------------------------------------------ real time against reference
@pytest.mark.parametrize("rules", ["gyro", "accel"])
def test_realtime_reproduces_the_reference_on_every_real_trial(trials, rules):
    """MEASUREMENT.md §6.2 on every one of the 56 trials, 20 ms blocks and random blocks."""
    cfg = DetectorConfig(rules=rules)
    rng = np.random.default_rng(5)
    n_ref = n_rt = n_match = 0
    errs, lags = [], []
    for k, tr in enumerate(trials):
        ref = BA.ReferenceAnalyzer(config=cfg).analyze(tr.recording)
        core = feed(tr.recording, 0.02, cfg, rng=rng if k % 2 else None)
        c = compare(ref.events_, core.events_, ref.steps_, core.steps_)
        n_ref, n_rt, n_match = n_ref + c.n_truth, n_rt + c.n_test, n_match + c.n_matched
        errs.append(np.abs(c.all_errors()))
        lags.append(np.abs(c.lag_errors_ms))
    e, lag = np.concatenate(errs), np.concatenate(lags)
    assert n_match / n_ref >= 0.995 and n_match / n_rt >= 0.995, (n_ref, n_rt, n_match)
    assert np.median(e) <= 1.0 and np.percentile(e, 95) <= 5.0
    assert np.median(lag) <= 2.0
