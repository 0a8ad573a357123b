"""Shared vocabulary: roles, events, and the immutable records that flow down the data path.

Units are in the names: seconds (``_s``), milliseconds (``_ms``), g (``_g``),
degrees per second (``_dps``), percent (``_pct``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum

import numpy as np


class Role(str, Enum):
    """Where a sensor is worn (MEASUREMENT.md §1)."""

    LEFT_SHIN = "left_shin"
    RIGHT_SHIN = "right_shin"
    LEFT_WRIST = "left_wrist"
    RIGHT_WRIST = "right_wrist"

    @property
    def is_shin(self) -> bool:
        return self in (Role.LEFT_SHIN, Role.RIGHT_SHIN)

    @property
    def side(self) -> "Side":
        return Side.LEFT if self in (Role.LEFT_SHIN, Role.LEFT_WRIST) else Side.RIGHT

    def __str__(self) -> str:  # CSV and log output use the public name
        return self.value


class Side(str, Enum):
    LEFT = "left"
    RIGHT = "right"

    @property
    def other(self) -> "Side":
        return Side.RIGHT if self is Side.LEFT else Side.LEFT

    @property
    def shin(self) -> Role:
        return Role.LEFT_SHIN if self is Side.LEFT else Role.RIGHT_SHIN

    @property
    def wrist(self) -> Role:
        return Role.LEFT_WRIST if self is Side.LEFT else Role.RIGHT_WRIST

    def __str__(self) -> str:
        return self.value


class LinkState(str, Enum):
    """A sensor link's state, as the acquisition reports it and a session records it (``inputs.state``)."""

    IDLE = "idle"  # known, not connected yet
    CONNECTING = "connecting"
    STREAMING = "streaming"
    STALLED = "stalled"  # connected, its stream silent: being restarted
    LOST = "lost"  # the link dropped: reconnecting
    RECONNECTING = "reconnecting"
    OFF = "off"  # taken out by the user (no alarm)
    STOPPED = "stopped"  # the session ended

    def __str__(self) -> str:
        return self.value


class InputKind(IntEnum):
    """What a session's recorded input is (``inputs.kind`` in the session file: these numbers are stored)."""

    PACKET = 0
    EXCHANGE = 1
    STATE = 2
    TICK = 3
    FINISH = 4
    SAMPLES = 5

    @property
    def word(self) -> str:
        return self.name.lower()


class TargetModel(str, Enum):
    """What a lag is scored against (MEASUREMENT.md §4): zero, or the athlete's own baseline."""

    TOGETHER = "together"
    BASELINE = "baseline"

    def __str__(self) -> str:
        return self.value


#: the target models' public names (CLI choices, settings)
TARGET_MODELS = tuple(m.value for m in TargetModel)


class EventKind(str, Enum):
    """Event names of MEASUREMENT.md §2."""

    CONTACT = "contact"
    PUSH = "push"
    SWING = "swing"
    ARM_FWD = "arm_fwd"
    ARM_BACK = "arm_back"

    def __str__(self) -> str:
        return self.value


SHIN_EVENTS = (EventKind.CONTACT, EventKind.PUSH, EventKind.SWING)
WRIST_EVENTS = (EventKind.ARM_FWD, EventKind.ARM_BACK)
ROLES = tuple(Role)
AXES = ("x", "y", "z")

#: The three per-step lag measures, in the order of the steps CSV.
LAG_NAMES = ("swing_lag", "ipsi_arm_lag", "contra_arm_lag")


#: rule sets (MEASUREMENT.md §2): the ``source`` of an event
SOURCES = ("gyro", "accel")


def event_unit(source: str, kind: "EventKind") -> str:
    """Unit of an event's amplitude: the gyroscope rules give angular velocities (deg/s), except the
    contact's peak tibial acceleration (g); the accelerometer rules give g."""
    return "deg/s" if source == "gyro" and kind is not EventKind.CONTACT else "g"


@dataclass(frozen=True, slots=True)
class Event:
    """One detected limb event on the session clock.

    ``stride_index`` numbers, from 0 and per sensor, every anchor (docs/measurement.md §3) in time order,
    reported or not: a stride of a shin runs from the contact of anchor k to the contact of anchor k + 1
    and its ``push`` and ``swing`` carry k; a wrist's ``arm_fwd`` carries its anchor's number and its
    ``arm_back`` the number before. Indices skip where strides were not counted.
    ``amplitude`` is in :attr:`unit`; ``source`` names the rule set that found the event.
    """

    role: Role
    kind: EventKind
    time_s: float
    amplitude: float
    stride_index: int
    source: str = "accel"

    @property
    def unit(self) -> str:
        return event_unit(self.source, self.kind)

    @property
    def order(self) -> tuple[float, str, str]:
        """The contract's order of events (events CSV, summaries): by time, then role, then kind."""
        return (self.time_s, self.role.value, self.kind.value)


@dataclass(frozen=True, slots=True)
class Step:
    """The sync measures of one step, referenced to the stance leg's push (MEASUREMENT.md §3).

    A value that cannot be computed is ``None``, never 0.
    """

    time_s: float
    stance_side: Side
    stride_time_s: float
    cadence_spm: float
    contact_time_s: float | None
    swing_lag_ms: float | None
    ipsi_arm_lag_ms: float | None
    contra_arm_lag_ms: float | None
    swing_lag_pct: float | None
    ipsi_arm_lag_pct: float | None
    contra_arm_lag_pct: float | None
    sync_score: float | None

    def lag_ms(self, name: str) -> float | None:
        return getattr(self, f"{name}_ms")


@dataclass(frozen=True)
class RoleSamples:
    """All samples of one sensor on the session clock.

    Attributes
    ----------
    time_s : (n,) float64, strictly increasing
    acc_g : (n, 3) float64, specific force in the body frame of MEASUREMENT.md §1
    gyro_dps : (n, 3) float64 or None
    """

    role: Role
    time_s: np.ndarray
    acc_g: np.ndarray
    gyro_dps: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.acc_g.shape != (len(self.time_s), 3):
            raise ValueError(f"{self.role}: acc_g shape {self.acc_g.shape} does not match {len(self.time_s)} times")

    def __len__(self) -> int:
        return len(self.time_s)

    @property
    def sample_rate_hz(self) -> float:
        """Nominal rate: the median sample interval's inverse."""
        if len(self.time_s) < 2:
            return float("nan")
        rate = 1.0 / float(np.median(np.diff(self.time_s)))
        return float(f"{rate:.6g}")  # 200.00000000000426 from float times is 200


#: A recording: the samples of each role present. Missing roles are simply absent.
Recording = dict[Role, RoleSamples]


@dataclass(frozen=True)
class AnalysisResult:
    """What an analyser produces: events, steps and session statistics."""

    events: list[Event]
    steps: list[Step]
    summary: dict = field(default_factory=dict)
