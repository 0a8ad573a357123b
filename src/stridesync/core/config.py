"""Detector settings: one frozen dataclass, stored verbatim with every result and recording."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from ..errors import ConfigError

TARGET_MODELS = ("together", "baseline")
#: which rule set analyses a sensor: ``auto`` takes the gyroscope rules wherever angular rate is present
RULE_CHOICES = ("auto", "gyro", "accel")


@dataclass(frozen=True, kw_only=True)
class DetectorConfig:
    """Every number the event definitions of MEASUREMENT.md depend on.

    The defaults are the contract's values. Those marked *implementation* are
    choices the contract leaves open; ``docs/measurement.md`` explains each.
    """

    #: rule set: ``auto`` (gyro rules where a sensor has angular rate, accelerometer rules elsewhere),
    #: ``gyro`` (every sensor must have angular rate), ``accel`` (ignore angular rate)
    rules: str = "auto"

    filter_order: int = 4
    #: a cut-off above this fraction of the sample rate is capped to it
    max_cutoff_frac: float = 0.4
    contact_lp_hz: float = 50.0
    push_lp_hz: float = 15.0
    swing_lp_hz: float = 10.0
    arm_lp_hz: float = 4.0

    contact_min_g: float = 3.0
    stride_min_s: float = 0.4
    stride_max_s: float = 1.0
    push_window: tuple[float, float] = (0.10, 0.60)
    swing_window: tuple[float, float] = (0.35, 0.95)
    #: a contact is the largest ‖a‖ within ± this fraction of the stride period (*implementation*)
    contact_window_frac: float = 0.5
    arm_spacing_frac: float = 0.6
    period_median_n: int = 5
    #: strides older than this do not count toward the median period (*implementation*: bout start)
    period_history_s: float = 5.0
    #: half-width of the window of the dominant-period autocorrelation (*implementation*)
    dominant_half_window_s: float = 1.5
    #: period used when nothing else can be estimated (*implementation*)
    fallback_period_s: float = 0.7
    wrist_only_min_p2p_g: float = 0.3

    # ---- version 2: anchors and the gyroscope rules (docs/measurement.md §3)
    #: an anchor (one per stride or arm cycle) is the largest value of its signal within ± this (*implementation*:
    #: half the shortest running stride, so two anchors of one limb are at least one half-stride apart)
    anchor_half_s: float = 0.2
    #: shank sagittal rate −ω_z, LP (deg/s): swing, toe-off and initial contact are found on it
    gyro_shin_lp_hz: float = 20.0
    #: a mid-swing peak is at least this fast (walking ≈ 250–400, running 450–900 deg/s; standing ≈ 0)
    gyro_swing_min_dps: float = 150.0
    #: toe-off: the onset of the early-swing fall of −ω_z, where it has fallen this fraction of the way from
    #: the late-stance maximum to the early-swing minimum
    gyro_push_drop_frac: float = 0.1
    #: initial contact is searched up to this long after the mid-swing peak
    gyro_contact_search_s: float = 0.3
    #: the post-contact minimum of −ω_z is searched up to this long after its terminal-swing zero crossing
    gyro_contact_min_s: float = 0.1
    #: initial contact: this fraction of the way from the terminal-swing zero crossing of −ω_z to its
    #: post-contact minimum
    gyro_contact_frac: float = 0.5
    #: wrist sagittal rate −ω_z, LP (deg/s): the turnarounds are its zero crossings
    gyro_arm_lp_hz: float = 6.0
    #: a forward arm swing peaks at least this fast (deg/s)
    gyro_arm_min_dps: float = 40.0
    #: the forward turnaround is searched up to this long after the forward swing's peak
    gyro_arm_search_s: float = 0.3

    #: holes up to this long are bridged by linear interpolation; longer ones are gaps (*implementation*)
    max_fill_gap_s: float = 0.1
    #: a lag is paired with the nearest limb event within ± this fraction of the stride (*implementation*)
    pairing_window_frac: float = 0.5

    target_model: str = "together"
    baseline_n: int = 20
    window_steps: int = 20

    #: real-time core: a zero-phase value is final once the filter's impulse response has decayed
    #: below this fraction of its peak over the look-ahead (*implementation*; 1 % leaves instants
    #: within a fraction of a millisecond of the reference's; see docs/measurement.md)
    settle_tol: float = 0.01
    #: real-time core: backward passes run every this many seconds of data (*implementation*)
    hop_s: float = 0.05

    def __post_init__(self) -> None:
        if self.rules not in RULE_CHOICES:
            raise ConfigError(f"rules must be one of {', '.join(RULE_CHOICES)}, not {self.rules!r}")
        if self.target_model not in TARGET_MODELS:
            raise ConfigError(f"target model must be one of {', '.join(TARGET_MODELS)}, not {self.target_model!r}")
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
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ConfigError(f"unknown detector setting(s): {', '.join(sorted(unknown))}")
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items()})
