"""Detector settings: one frozen dataclass, stored verbatim with every result and recording."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from ..errors import ConfigError
from ..model import TARGET_MODELS, TargetModel
#: which rule set analyses a sensor: ``auto`` takes the gyroscope rules wherever angular rate is present
RULE_CHOICES = ("auto", "gyro", "accel")
#: settings of version 1's rules, found in sessions recorded under contract v1
RETIRED_V1_SETTINGS = frozenset({"contact_lp_hz", "push_lp_hz", "swing_lp_hz", "contact_min_g", "push_window",
                                 "swing_window", "contact_window_frac", "arm_spacing_frac", "period_median_n",
                                 "period_history_s", "dominant_half_window_s", "fallback_period_s"})


@dataclass(frozen=True, kw_only=True)
class DetectorConfig:
    """Every number the events and measures depend on.

    The stride range and the pairing follow MEASUREMENT.md (version 2); the detection rules are the project's,
    each documented and measured in ``docs/measurement.md`` (those marked *implementation* are choices the
    contract leaves open).
    """

    #: rule set: ``auto`` (gyro rules where a sensor has angular rate, accelerometer rules elsewhere),
    #: ``gyro`` (every sensor must have angular rate), ``accel`` (ignore angular rate)
    rules: str = "auto"

    filter_order: int = 4
    #: a cut-off above this fraction of the sample rate is capped to it
    max_cutoff_frac: float = 0.4
    arm_lp_hz: float = 4.0

    stride_min_s: float = 0.4
    stride_max_s: float = 1.0
    wrist_only_min_p2p_g: float = 0.3

    # ---- version 2: the accelerometer rules (docs/measurement.md §3)
    #: shank a_x and a_y, LP (g)
    acc_shin_lp_hz: float = 15.0
    #: the terminal-swing deceleration, a_y's lowest value of the stride just before contact, reaches at least
    #: this (g, as a negative a_y)
    acc_swing_decel_min_g: float = 1.5
    #: swing: where a_y falls through this fraction of the terminal-swing deceleration, last before it
    acc_swing_level_frac: float = 0.05
    #: the forward-swing hump of a_y is searched up to this fraction of the stride before the swing crossing …
    acc_hump_window_frac: float = 0.35
    #: … and the early-swing dip (and the toe-off crossing) up to this fraction before each
    acc_dip_window_frac: float = 0.2
    #: the impact, the sharpest rise of a_x, is searched from this long before the terminal-swing deceleration …
    acc_impact_before_s: float = 0.02
    #: … to this long after it (a tibial sensor sees the impact 40-60 ms after it, a shoe sensor with it)
    acc_impact_search_s: float = 0.1
    #: the rise is the gain of a_x over this long; contact is its onset, the lowest a_x before the rise
    acc_onset_window_s: float = 0.05

    # ---- version 2: anchors and the gyroscope rules (docs/measurement.md §3)
    #: an anchor (one per stride or arm cycle) is the largest value of its signal from this long before it …
    #: (*implementation*: less than the shortest running stride, 0.4 s, so consecutive strides keep their anchors,
    #: and wide enough to pass over the secondary peaks some shanks show 0.2-0.3 s after the mid-swing peak)
    anchor_before_s: float = 0.35
    #: … to this long after it (shorter: the anchor is confirmed sooner, and no secondary peak was seen before
    #: the main one)
    anchor_after_s: float = 0.15
    #: shank sagittal rate −ω_z, LP (deg/s): swing, toe-off and initial contact are found on it
    gyro_shin_lp_hz: float = 30.0
    #: a mid-swing peak is at least this fast (walking ≈ 250–400, running 450–900 deg/s; standing ≈ 0)
    gyro_swing_min_dps: float = 150.0
    #: the swing's instant is the peak of the measured −ω_z within this many samples of the filtered peak
    swing_refine_samples: int = 3
    #: toe-off: the onset of the early-swing fall of −ω_z, where it has fallen this fraction of the way from
    #: the late-stance maximum to the early-swing minimum
    gyro_push_drop_frac: float = 0.2
    #: initial contact is searched up to this long after the mid-swing peak
    gyro_contact_search_s: float = 0.3
    #: the loading-response minimum of −ω_z: the lowest value after the terminal-swing zero crossing until −ω_z
    #: has risen this much above it (deg/s) …
    gyro_contact_rise_dps: float = 50.0
    #: … or this long after the zero crossing
    gyro_contact_min_s: float = 0.15
    #: initial contact: this fraction of the way from the terminal-swing zero crossing of −ω_z to the
    #: loading-response minimum (measured on 17 runners: the crossing is 23 ± 13 ms before contact, the minimum
    #: 42 ± 9 ms after it; docs/measurement.md §3)
    gyro_contact_frac: float = 0.35
    #: wrist sagittal rate −ω_z, LP (deg/s): the turnarounds are its zero crossings
    gyro_arm_lp_hz: float = 10.0
    #: a forward arm swing peaks at least this fast (deg/s)
    gyro_arm_min_dps: float = 40.0
    #: the forward turnaround is searched up to this long after the forward swing's peak …
    gyro_arm_search_s: float = 0.3
    #: … and the backward turnaround up to this long after the forward one
    gyro_arm_back_search_s: float = 0.6

    #: holes up to this long are bridged by linear interpolation; longer ones are gaps (*implementation*)
    max_fill_gap_s: float = 0.1
    #: a lag is paired with the nearest limb event within ± this fraction of the stride (*implementation*)
    pairing_window_frac: float = 0.5

    target_model: TargetModel = TargetModel.TOGETHER
    baseline_n: int = 20
    window_steps: int = 20

    #: real-time core: a zero-phase value is final once the filter's impulse response has decayed
    #: below this fraction of its peak over the look-ahead (*implementation*; 1 % leaves instants
    #: within a fraction of a millisecond of the reference's; see docs/measurement.md)
    settle_tol: float = 0.01
    #: real-time core: backward passes run every this many seconds of data (*implementation*)
    hop_s: float = 0.025

    def __post_init__(self) -> None:
        if self.rules not in RULE_CHOICES:
            raise ConfigError(f"rules must be one of {', '.join(RULE_CHOICES)}, not {self.rules!r}")
        if self.target_model not in TARGET_MODELS:
            raise ConfigError(f"target model must be one of {', '.join(TARGET_MODELS)}, not {self.target_model!r}")
        object.__setattr__(self, "target_model", TargetModel(self.target_model))
        if not (0 < self.stride_min_s < self.stride_max_s):
            raise ConfigError("stride_min_s must be positive and below stride_max_s")
        if self.baseline_n < 1 or self.window_steps < 1:
            raise ConfigError("baseline_n and window_steps must be at least 1")
        if self.hop_s <= 0 or not (0 < self.settle_tol < 1):
            raise ConfigError("hop_s must be positive and settle_tol between 0 and 1")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (tuples become lists)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DetectorConfig":
        """Settings as stored; the settings of version 1's accelerometer-feature rules (sessions recorded under
        contract v1) are set aside: their results are recomputed with the current rules."""
        names = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k not in RETIRED_V1_SETTINGS}
        unknown = set(data) - names
        if unknown:
            raise ConfigError(f"unknown detector setting(s): {', '.join(sorted(unknown))}")
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items()})
