"""Offline reference analyser: MEASUREMENT.md v2 and docs/measurement.md applied to a whole recording.

This is the judge of the real-time core. It fills holes, cuts each sensor's data into segments, filters
each segment with zero-phase filters, finds every anchor, computes every record with
:func:`stridesync.core.rules.record`, counts strides with :mod:`stridesync.core.strides`, and builds
steps and session statistics. It favours plain, whole-array code over speed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..model import AnalysisResult, Event, Recording, Role, RoleSamples
from . import dsp, rules
from .config import DetectorConfig
from .measures import build_steps, summarize
from .rules import RuleSet, Spec, Track
from .strides import Coverage, Record, ShinStrides, WristGate

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """One role after hole filling, cut into segments, with zero-phase filtered signals."""

    role: Role
    spec: Spec
    fs: float
    track: Track


def prepare(samples: RoleSamples, sp: Spec, cfg: DetectorConfig, sample_rate_hz: float | None = None) -> Prepared:
    fs = float(sample_rate_hz or samples.sample_rate_hz)
    x = samples.acc_g if samples.gyro_dps is None else np.hstack([samples.acc_g, samples.gyro_dps])
    t, xf, new = dsp.fill_holes(samples.time_s, x, 1.0 / fs, cfg.max_fill_gap_s)
    acc, gyro = xf[:, :3], (xf[:, 3:6] if xf.shape[1] == 6 else None)
    seg = np.cumsum(new) - 1
    raw = rules.raw_signals(sp, acc, gyro)
    bounds = np.flatnonzero(np.diff(np.concatenate(([-1], seg, [seg[-1] + 1]))))
    sig = {}
    for name, fc in sp.signals.items():
        if fc is None:
            sig[name] = raw[name]
            continue
        sos, zi = dsp.lowpass_sos(fc, fs, cfg.filter_order, cfg.max_cutoff_frac)
        out = np.empty(len(t))
        for a, b in zip(bounds[:-1], bounds[1:]):
            out[a:b] = dsp.zero_phase(raw[name][a:b], sos, zi)
        sig[name] = out
    return Prepared(samples.role, sp, fs, Track(t, seg, sig, 0, fs))


def anchors(p: Prepared, cfg: DetectorConfig) -> list[int]:
    tr, sp = p.track, p.spec
    cands = rules.candidates(tr.sig[sp.anchor], tr.seg, sp.anchor_sign, sp.anchor_min)
    return [int(i) for i in cands if rules.is_anchor(tr, sp, int(i), cfg)]


def records(p: Prepared, cfg: DetectorConfig) -> list[tuple[Record, bool]]:
    """Every record of one sensor with, for wrists, whether its arm swings clearly."""
    out = []
    prev = None
    for k, i in enumerate(anchors(p, cfg)):
        ip = rules.cycle_prev(p.track, cfg, prev, i)
        found = rules.record(p.track, p.spec, cfg, ip, i)
        clear = ip is not None and not p.spec.is_shin and rules.wrist_cycle_clear(p.track, p.spec, cfg, ip, i)
        out.append((Record(k, p.track.time(i), ip is not None, tuple(found)), clear))
        prev = i
    return out


def rule_sets(recording: Recording, cfg: DetectorConfig) -> dict[Role, RuleSet]:
    """The rule set of each sensor (``cfg.rules``; ``auto`` follows the presence of angular rate)."""
    return {role: rules.choose(cfg, s.gyro_dps is not None) for role, s in recording.items()}


class ReferenceAnalyzer:
    """The contract, over a whole recording (gaitmap style: ``analyze`` returns self).

    Results: ``events_``, ``steps_``, ``targets_``, ``summary_``, ``rule_sets_``.
    """

    def __init__(self, *, config: DetectorConfig | None = None, sample_rates_hz: dict[Role, float] | None = None):
        self.config = config or DetectorConfig()
        self.sample_rates_hz = dict(sample_rates_hz or {})

    def analyze(self, recording: Recording) -> "ReferenceAnalyzer":
        cfg = self.config
        sets = rule_sets(recording, cfg)
        for role, rs in sets.items():
            if rs is RuleSet.GYRO and recording[role].gyro_dps is None:
                from ..errors import InputFormatError
                raise InputFormatError(f"{role}: the gyroscope rules need angular rate, and this sensor has none")
        prep = {role: prepare(s, rules.spec(role, sets[role], cfg), cfg, self.sample_rates_hz.get(role))
                for role, s in recording.items() if len(s) >= 3}
        shins = [r for r in (Role.LEFT_SHIN, Role.RIGHT_SHIN) if r in prep]
        events: list[Event] = []
        cover = Coverage()
        clipped = {}
        for role in shins:
            counter = ShinStrides(role, sets[role], cfg)
            for rec, _ in records(prep[role], cfg):
                events.extend(counter.add(rec))
            for a, b in counter.strides:
                cover.add(a, b)
            if counter.rules is RuleSet.GYRO:
                clipped[role.value] = counter.clipped
        for role in (Role.LEFT_WRIST, Role.RIGHT_WRIST):
            if role not in prep:
                continue
            gate = WristGate(role, sets[role], bool(shins))
            for rec, clear in records(prep[role], cfg):
                events.extend(gate.add(rec, clear))
            events.extend(gate.release(float("inf"), cover))
        events.sort(key=lambda e: e.order)
        self.events_ = events
        self.rule_sets_ = {r.value: sets[r].value for r in prep}
        self.steps_, self.targets_ = build_steps(events, cfg)
        self.summary_ = summarize(events, self.steps_, self.targets_, cfg)
        self.summary_["detector"] = "reference"
        self.summary_["rule_sets"] = self.rule_sets_
        self.summary_["clipped_swing_peaks"] = clipped
        return self

    def result(self) -> AnalysisResult:
        return AnalysisResult(self.events_, self.steps_, self.summary_)


def analyze(recording: Recording, config: DetectorConfig | None = None,
            sample_rates_hz: dict[Role, float] | None = None) -> AnalysisResult:
    """Run the reference analyser over a whole recording."""
    return ReferenceAnalyzer(config=config, sample_rates_hz=sample_rates_hz).analyze(recording).result()
