"""Words the dashboard and the report share about measurement contract v2 (MEASUREMENT.md §1–§2). Qt-free.

Version 2 defines every event by the physical instant it estimates (initial contact, toe-off, the shank's
peak forward angular velocity, the wrist's turnarounds) and finds it with one of two rule sets per sensor:
the gyroscope rules wherever angular rate is worn, the accelerometer rules otherwise. Each amplitude comes in
its own unit (``Event.unit``): g for an impact and for every accelerometer-rule event, deg/s for the other
gyroscope-rule events. Both views say which rules found a sensor's events, name events by their instants,
and flag a swing peak clipped at the gyroscope's full scale instead of trusting it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from stridesync.model import EventKind, Role, event_unit

#: how a rule set reads in a sentence or a report's sensor table
RULE_WORDS = {"gyro": "gyro rules", "accel": "accelerometer rules"}
#: ... and in the dashboard's narrow "rules" column
RULE_SHORT = {"gyro": "gyro", "accel": "accel"}
#: what a rule set finds its events from (tooltips, report provenance)
RULE_DETAIL = {"gyro": "events from the angular rate (gyroscope); impact size from the accelerometer",
               "accel": "events from the acceleration only (no gyroscope worn, or an imported file)"}

ROLE_NAME = {Role.LEFT_SHIN: "left shin", Role.RIGHT_SHIN: "right shin", Role.LEFT_WRIST: "left wrist",
             Role.RIGHT_WRIST: "right wrist"}

#: The target band, ± % of the stride around each lag's target, in every view (dashboard bars, report ridges,
#: trend plot and text; docs/measurement.md §6 "Target band"). One step's lag is measured to about ±2 % of
#: the stride (toe-off SD 12 ms at a 700 ms stride) and an arm's to about ±4 %, so ±5 % is the narrowest band
#: that a step on target stays inside; a step with every lag at its edge scores 50. A display choice, not a norm.
TARGET_BAND_PCT = 5.0


def band_words() -> str:
    """The band as a narrow caption says it: 'band ±5 %' (of the stride; the tooltip says so)."""
    return f"band ±{TARGET_BAND_PCT:.0f} %"


#: what the Phase Coordination Index is, wherever it is shown (docs/measurement.md §6, Plotnik 2007)
PCI_DETAIL = ("Phase Coordination Index (Plotnik 2007): how far the legs are from alternating exactly half a "
              "stride apart, step after step. 0 % = perfect alternation; it grows with uneven or variable timing. "
              "No running norms exist.")


def pci_words(pci_pct: float | None) -> str:
    """The PCI with what it means, short enough for one line of the dashboard: 'leg PCI: 2.7 % (0 = even)'
    (the legs' alternation; :data:`PCI_DETAIL` says the rest, e.g. in a tooltip)."""
    if pci_pct is None or not math.isfinite(pci_pct):
        return "leg PCI: — (0 = even)"
    return f"leg PCI: {pci_pct:.1f} % (0 = even)"


def local_date_words(stamp: str | None) -> str:
    """A stored date as the user reads it: sessions store UTC ISO 8601 ('2026-12-06T01:19:26+00:00'); shown
    in this computer's local time, to the minute ('2026-12-06 02:19'). A date without a time or a zone is
    shown as it is; an empty one reads 'undated'."""
    import datetime as _dt

    if not stamp:
        return "undated"
    try:
        t = _dt.datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    if t.tzinfo is None:
        return str(stamp)
    return t.astimezone().strftime("%Y-%m-%d %H:%M")


#: the gyroscope full scale a shin needs so that no swing peak clips (deg/s)
SHIN_GYRO_RANGE_DPS = 2000

#: what each event's amplitude is, per rule set ({unit} is filled in from ``event_unit``)
_AMPLITUDE = {
    "gyro": {EventKind.CONTACT: "tibial impact peak ({unit})",
             EventKind.PUSH: "push-off rate ({unit})",
             EventKind.SWING: "swing peak rate ({unit})",
             EventKind.ARM_FWD: "arm fwd swing ({unit})",
             EventKind.ARM_BACK: "arm back swing ({unit})"},
    "accel": {EventKind.CONTACT: "tibial impact peak ({unit})",
              EventKind.PUSH: "push depth, a_y ({unit})",
              EventKind.SWING: "swing hump, a_y ({unit})",
              EventKind.ARM_FWD: "arm fwd turn, a_y ({unit})",
              EventKind.ARM_BACK: "arm back turn, a_y ({unit})"},
}


def rule_words(rules: str | None, *, short: bool = False) -> str:
    """'gyro rules', 'accelerometer rules' ('gyro', 'accel' when ``short``), or an em dash when the rules
    are not known."""
    return (RULE_SHORT if short else RULE_WORDS).get(str(rules), "—") if rules else "—"


def amplitude_label(kind: EventKind, rules: str | None) -> str:
    """What an event's amplitude is, with its unit, under ``rules`` ('gyro' or 'accel').

    Without a known rule set (``None``: left and right differ, or nothing was measured) the label carries
    no unit, since none can be claimed."""
    if rules not in _AMPLITUDE:
        return {EventKind.CONTACT: "impact (contact peak)", EventKind.PUSH: "push-off", EventKind.SWING: "swing peak",
                EventKind.ARM_FWD: "arm forward turnaround", EventKind.ARM_BACK: "arm back turnaround"}[kind]
    return _AMPLITUDE[rules][kind].format(unit=event_unit(rules, kind))


def pair_rules(rule_sets: Mapping[Role, str], roles: tuple[Role, Role]) -> str | None:
    """The rule set shared by a left/right pair of sensors; None when one is missing or they differ
    (then their amplitudes are in different units and cannot be compared)."""
    got = {rule_sets.get(r) for r in roles}
    return got.pop() if len(got) == 1 and None not in got else None


def clipped_sentence(role: Role, n: int) -> str:
    """The warning for a shin whose swing peaks reached the gyroscope's full scale (MEASUREMENT.md §2: a
    clipped peak's instant is unknown, so that swing is not reported)."""
    what = "swing peak" if n == 1 else "swing peaks"
    return (f"{ROLE_NAME[role]}: {n} {what} clipped at the gyroscope's range (set it to {SHIN_GYRO_RANGE_DPS} deg/s "
            f"or more); {'its swing lag is' if n == 1 else 'their swing lags are'} left out")


def clipped_sentences(clipped: Mapping) -> list[str]:
    """One sentence per shin with clipped swing peaks, left before right; roles may be Role or its value."""
    counts = {Role(r): int(n or 0) for r, n in (clipped or {}).items()}
    return [clipped_sentence(r, counts[r]) for r in (Role.LEFT_SHIN, Role.RIGHT_SHIN) if counts.get(r, 0) > 0]


def trace_label(role: Role, rules: str | None) -> str:
    """The dashboard trace's name, in words and with its unit: the signal the role's rules read."""
    who = ROLE_NAME[role].capitalize()
    if rules == "gyro":
        return f"{who}, forward swing rate (deg/s)"
    return f"{who}, acceleration along the shin a_x (g)" if role.is_shin else f"{who}, forward acceleration a_y (g)"


__all__ = ["ROLE_NAME", "RULE_DETAIL", "RULE_SHORT", "RULE_WORDS", "SHIN_GYRO_RANGE_DPS", "TARGET_BAND_PCT",
           "PCI_DETAIL", "amplitude_label", "band_words", "local_date_words", "pci_words",
           "clipped_sentence", "clipped_sentences", "pair_rules", "rule_words", "trace_label"]
