"""Every word of a session report: number formats, key numbers, and the plain-language coaching text.

The coaching text follows the coaching model behind StrideSync (docs/measurement.md §5 and §9): speed
comes from all limbs peaking together at push-off, and the weakest link, often a lagging swing, limits
the system. That is a *coaching hypothesis*, not established science, and the text says so. Every
fragment returned here is HTML with user text already escaped. Qt-free.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

from stridesync.model import EventKind, Role, Side

from .data import ReportData
from .stats import LIMB_NAME, Fatigue, all_series, missing_reason, series_key
from .weak import WeakLink, weak_link_verdict
from .words import ROLE_NAME, TARGET_BAND_PCT, amplitude_label, clipped_sentences, pair_rules, rule_words

NOT_MEASURED = "not measured"
NBSP_PCT = "\u00a0%"  # a percent sign that stays with its number when a line wraps
NOT_RECORDED = "not recorded"
#: A symmetry angle beyond this (|SA| in %) is called out in the text and shaded in the balance plot.
SA_BAND_PCT = 5.0
#: Changes between the first and last stretch that the text calls a change, not noise.
TREND_LAG_MS = 10.0
TREND_SCORE = 5.0
TREND_CADENCE_SPM = 3.0


def esc(text: object) -> str:
    """HTML-escape user text (quotes too, so it is safe inside attributes)."""
    return html.escape(str(text), quote=True)


def num(v: float | None, spec: str = ".0f", unit: str = "") -> str:
    """A number with its unit, or "not measured"."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return NOT_MEASURED
    return f"{v:{spec}}" + (f"\u2009{unit}" if unit and not unit.startswith("\u00a0") else unit)


def signed_ms(v: float) -> str:
    return f"{v:+.0f}\u2009ms"


def mmss(t_s: float) -> str:
    t = int(round(t_s))
    return f"{t // 3600}:{t % 3600 // 60:02d}:{t % 60:02d}" if t >= 3600 else f"{t // 60}:{t % 60:02d}"


def duration_words(t_s: float) -> str:
    t = int(round(t_s))
    if t >= 3600:
        return f"{t // 3600} h {t % 3600 // 60:02d} min"
    if t >= 60:
        return f"{t // 60} min" + (f" {t % 60:02d} s" if t % 60 else "")
    return f"{t} s"


# ------------------------------------------------------------------------ key numbers
@dataclass(frozen=True)
class KeyNumber:
    """One large number. ``key`` names the summary field and ``value`` holds it unrounded, so a test (or a
    reader of the HTML) can check the shown figure against the analyser's summary."""

    key: str
    label: str
    value: float | None
    shown: str
    unit: str
    detail: str
    missing: str = ""


def key_numbers(data: ReportData) -> list[KeyNumber]:
    s = data.summary
    worn = data.roles_worn
    shins = (Role.LEFT_SHIN, Role.RIGHT_SHIN)
    no_shin = "no shin sensor" if not any(r in worn for r in shins) else "no counted strides"

    def kn(key, label, spec, unit, detail, scale=1.0, why=no_shin):
        v = s.get(key)
        if v is None:
            return KeyNumber(key, label, None, NOT_MEASURED, "", "", why)
        return KeyNumber(key, label, v, f"{v * scale:{spec}}", unit, detail)

    cv = s.get("stride_time_cv_pct")
    ccv = s.get("contact_time_cv_pct")
    fcv = s.get("flight_time_cv_pct")
    lag_why = ("needs a shin and at least one other sensor" if len(worn) < 2 else "no step had a paired limb peak")
    both_shins = missing_reason(shins, worn, "no step was followed by the other foot's contact")
    out = [
        kn("cadence_spm", "Cadence", ".0f", "steps/min", f"{s.get('n_steps', 0)} steps"),
        kn("stride_time_s", "Stride time", ".3f", "s", f"variation (CV) {num(cv, '.1f', '%')}"),
        kn("contact_time_s", "Ground contact", ".0f", "ms",
           f"initial contact to toe-off; CV\u00a0{num(ccv, '.1f', NBSP_PCT)}", 1000.0),
        kn("flight_time_s", "Flight time", ".0f", "ms", f"toe-off to the other foot's contact; CV\u00a0{num(fcv, '.1f', NBSP_PCT)}",
           1000.0, why=both_shins),
        kn("sync_score", "Sync score", ".0f", "/ 100", f"target model: {data.target_model}", why=lag_why),
    ]
    wl = session_weak_link(data)
    if wl:
        share = wl.share_pct
        out.append(KeyNumber("weak_link", "Weak link", wl.mean_dev_ms, wl.text, "",
                             (f"{num(share, '.0f', '%')} of all limbs' timing error"
                              + (" (left and right within their noise)" if wl.both else "")) if share is not None else ""))
    else:
        out.append(KeyNumber("weak_link", "Weak link", None, NOT_MEASURED, "", "", lag_why))
    return out


# ------------------------------------------------------------------------ coaching text
def _limb(role_value: str) -> str:
    return LIMB_NAME[Role(role_value)]


def session_weak_link(data: ReportData) -> WeakLink | None:
    """The session's weak link as every view says it: the summary's limb choice over all steps, with
    "both legs" / "both arms" when the two sides differ by less than their noise (:mod:`.weak`)."""
    return weak_link_verdict(data.steps, dict(data.summary.get("targets_ms") or {}))


def _is_leg(role_value: str) -> bool:
    return Role(role_value).is_shin


def model_text(data: ReportData) -> str:
    t = data.summary.get("targets_ms") or {}
    if data.target_model == "baseline":
        n = (data.provenance.get("detector_settings") or {}).get("baseline_n", 20)
        tg = ", ".join(f"{name.replace('_', ' ')} {num(v, '+.0f', 'ms')}" for name, v in t.items())
        return (f"<b>Target model: baseline.</b> Each limb is measured against this runner's own typical timing: "
                f"the median of each lag over the first {esc(n)} steps ({esc(tg)}). 'On target' here means "
                f"'as at the start of this session', so the report shows <i>change</i>, not distance from an ideal.")
    return ("<b>Target model: together.</b> Every target is 0&nbsp;ms: the coaching model says the push, the other "
            "leg's swing and both arms should peak together. Real runners' limbs do not peak at exactly the same "
            "instant, so a lag under 'together' is the distance from the coaching model, not a fault in itself; the "
            "'baseline' model (<code>--target baseline</code>) measures change from the runner's own pattern instead.")


def _cue(limb_value: str, direction: str) -> str:
    leg = _is_leg(limb_value)
    if leg and direction == "late":
        return ("The recovering leg reaches its fastest swing after the other foot has pushed off. A cue worth "
                "trying is a quicker knee drive ('knee through as you push'); check on the next run whether this "
                "lag and the sync score improve.")
    if leg:
        return ("The recovering leg peaks before the other foot finishes its push. A cue worth trying is to "
                "'finish the push' before driving the knee; check on the next run whether the lag moves toward its target.")
    if direction == "late":
        return ("The arm turns around after the push. A cue worth trying is a compact, relaxed arm swing driven from "
                "the shoulder ('elbow back with the push'); arm timing is naturally variable, so judge it over many steps.")
    return ("The arm turns around before the push: it leads the legs. A cue worth trying is to let the arms follow "
            "the legs' rhythm rather than set it; arm timing is naturally variable, so judge it over many steps.")


def weak_link_text(data: ReportData) -> str:
    wl = session_weak_link(data)
    if not wl:
        return (f"<b>Weak link: {NOT_MEASURED}</b> ({esc(missing_reason((), data.roles_worn, 'no step had a paired limb peak'))}"
                "; the weak link needs a shin and at least one other sensor).")
    mean_dev, mean_abs, pct = wl.mean_dev_ms, wl.mean_abs_dev_ms, abs(wl.mean_dev_pct)
    leg = wl.is_legs
    what = "swing" if leg else "arm turnarounds"
    if wl.both:
        pair = "legs" if leg else "arms"
        head = (f"<b>Weak link: both {pair}.</b> The left and right {pair} are equally far from their targets: they "
                f"differ by {abs(wl.gap_ms or 0.0):.0f}&nbsp;ms, less than their noise ({wl.noise_ms:.0f}&nbsp;ms; "
                f"docs/measurement.md §6), so neither side is named. ")
        if len(wl.side_dev_ms) == 2 and (wl.side_dev_ms[0] > 0) != (wl.side_dev_ms[1] > 0):
            a, b = wl.side_dev_ms
            parts = [head + f"On average the left {'swing' if leg else 'arm'} peaks <b>{abs(a):.0f}&nbsp;ms "
                     f"{'after' if a > 0 else 'before'}</b> its target and the right <b>{abs(b):.0f}&nbsp;ms "
                     f"{'after' if b > 0 else 'before'}</b>; together they carry "
                     f"{num(wl.share_pct, '.0f', '%')} of the limbs' total timing error."]
        else:
            parts = [head + f"Their {'swings' if leg else 'arm turnarounds'} peak on average <b>{abs(mean_dev):.0f}&nbsp;ms "
                     f"{'after' if wl.direction == 'late' else 'before'}</b> the target "
                     f"({pct:.1f}&nbsp;% of the stride), and together they carry "
                     f"{num(wl.share_pct, '.0f', '%')} of the limbs' total timing error."]
    else:
        limb = LIMB_NAME[wl.limbs[0]]
        parts = [f"<b>Weak link: the {esc(limb)}.</b> Its {what} peak on average <b>{abs(mean_dev):.0f}&nbsp;ms "
                 f"{'after' if wl.direction == 'late' else 'before'}</b> its target "
                 f"({pct:.1f}&nbsp;% of the stride), and it carries {num(wl.share_pct, '.0f', '%')} of the "
                 f"limbs' total timing error."]
    if mean_abs > 0 and abs(mean_dev) < 0.5 * mean_abs:
        parts.append(f"{'Their' if wl.both else 'Its'} <i>average</i> offset is small compared with "
                     f"{'their' if wl.both else 'its'} step-to-step scatter (mean |deviation| {mean_abs:.0f}&nbsp;ms): "
                     f"{'they are' if wl.both else 'it is'} the weak link mostly because "
                     f"{'their' if wl.both else 'its'} timing varies, not because "
                     f"{'they are' if wl.both else 'it is'} consistently {'late' if mean_dev > 0 else 'early'}.")
    elif pct < TARGET_BAND_PCT:
        parts.append(f"That is inside the ±{TARGET_BAND_PCT:.0f}&nbsp;% target band: on average even the weak link is "
                     "close to its target, so it is a small effect.")
    else:
        parts.append("In the coaching model the limb furthest from the push limits the whole system. "
                     + _cue(wl.limbs[0].value, wl.direction))
    worn = data.roles_worn
    unworn = [r for r in (Role.LEFT_SHIN, Role.RIGHT_SHIN, Role.LEFT_WRIST, Role.RIGHT_WRIST) if r not in worn]
    if unworn:
        parts.append(f"The {', '.join(LIMB_NAME[r] for r in unworn)} {'was' if len(unworn) == 1 else 'were'} "
                     f"{NOT_MEASURED} ({esc(missing_reason(unworn, worn))}), so the weak link is chosen among the "
                     "measured limbs only.")
    if not leg:
        parts.append("Arm timing scatters much more than leg timing in every runner, which by itself pushes arms "
                     "toward the top of this ranking.")
    return " ".join(parts)


#: the balance entries shown, in order; each event amplitude's label depends on the rules (see balance_labels)
BALANCE_KEYS = ("contact_amplitude_sa_pct", "push_amplitude_sa_pct", "swing_amplitude_sa_pct",
                "arm_fwd_amplitude_sa_pct", "arm_back_amplitude_sa_pct", "stride_time_sa_pct", "contact_time_sa_pct")
_AMPLITUDE_KIND = {f"{k.value}_amplitude_sa_pct": k for k in EventKind}


def balance_needs(key: str) -> tuple[Role, ...]:
    if key.startswith("arm_"):
        return (Role.LEFT_WRIST, Role.RIGHT_WRIST)
    if key.endswith("_swing_push_ratio"):
        return (Side(key.split("_")[0]).shin,)
    return (Role.LEFT_SHIN, Role.RIGHT_SHIN)


def balance_rules(data: ReportData, key: str) -> str | None:
    """The rule set behind a left/right amplitude pair, or None when the two sides used different rules."""
    return pair_rules(data.rule_sets, balance_needs(key))


def balance_labels(data: ReportData) -> dict[str, str]:
    """Each balance entry's label: an event amplitude names what it is and its unit under the rules that
    found it ("swing peak rate (deg/s)" under the gyroscope rules, never g)."""
    out = {}
    for key in BALANCE_KEYS:
        kind = _AMPLITUDE_KIND.get(key)
        out[key] = (amplitude_label(kind, balance_rules(data, key)) if kind is not None else
                    "stride time" if key == "stride_time_sa_pct" else "ground contact time")
    return out


def balance_value(data: ReportData, key: str) -> tuple[float | None, str]:
    """A balance entry and, when it is not shown, why: amplitudes of two sensors analysed with different
    rules are in different units and are not compared."""
    v = (data.summary.get("balance") or {}).get(key)
    if key in _AMPLITUDE_KIND and all(r in data.rule_sets for r in balance_needs(key)) and balance_rules(data, key) is None:
        a, b = balance_needs(key)
        return None, (f"not comparable: {LIMB_NAME[a].split()[0]} {rule_words(data.rule_sets[a])}, "
                      f"{LIMB_NAME[b].split()[0]} {rule_words(data.rule_sets[b])}")
    return v, ""


def balance_text(data: ReportData) -> str:
    b = data.summary.get("balance") or {}
    out_of_band, measured, missing, apart = [], 0, [], []
    for key, label in balance_labels(data).items():
        v, why = balance_value(data, key)
        if v is None:
            (apart if why else missing).append((label, why) if why else label)
            continue
        measured += 1
        if abs(v) > SA_BAND_PCT:
            out_of_band.append(f"{label} ({v:+.1f}&nbsp;%, {'right' if v > 0 else 'left'} larger)")
    if not measured:
        return f"<b>Balance: {NOT_MEASURED}</b> ({esc(missing_reason((Role.LEFT_SHIN, Role.RIGHT_SHIN), data.roles_worn))})."
    if out_of_band:
        txt = ("<b>Balance:</b> left and right differ by more than the ±5&nbsp;% band on " + ", ".join(out_of_band) +
               ". A difference of this size is worth a second look (sensor placement first, then the runner); "
               "on its own it is not a diagnosis.")
    else:
        txt = (f"<b>Balance:</b> left and right are within ±{SA_BAND_PCT:.0f}&nbsp;% on every measured quantity "
               "(symmetry angle; 0&nbsp;% is perfect symmetry).")
    ls, rs = b.get("left_swing_push_ratio"), b.get("right_swing_push_ratio")
    if ls is not None and rs is not None and balance_rules(data, "swing_amplitude_sa_pct") is not None:
        diff = 100.0 * (ls - rs) / ((ls + rs) / 2)
        txt += (f" Swing-to-push ratio ({esc(swing_push_words(balance_rules(data, 'swing_amplitude_sa_pct')))}): "
                f"left {ls:.2f}, right {rs:.2f}"
                + (f" — the {'left' if diff > 0 else 'right'} leg swings relatively harder for its push." if abs(diff) > 10 else
                   " — similar on both sides."))
    if missing:
        txt += f" Not measured: {', '.join(missing)} ({esc(missing_reason(_missing_needs(missing), data.roles_worn))})."
    if apart:
        txt += (f" Not compared: {', '.join(label for label, _ in apart)}; the two sides' amplitudes are in different "
                f"units ({esc('; '.join(dict.fromkeys(why.removeprefix('not comparable: ') for _, why in apart)))}).")
    return txt


def swing_push_words(rules: str | None) -> str:
    """What the swing-to-push ratio divides, in the rules' units."""
    if rules == "gyro":
        return "swing peak rate over push-off rate, deg/s over deg/s"
    if rules == "accel":
        return "swing a_y hump over push depth, g over g"
    return "swing over push"


def amplitude_units_text(data: ReportData) -> str:
    """Which unit the balance amplitudes are in, from the rules that found them."""
    used = set(data.rule_sets.values())
    parts = []
    if "gyro" in used:
        parts.append("the gyroscope rules give the impact in g and the shank's swing and push-off and the arms' "
                     "swings as rotation rates in deg/s")
    if "accel" in used:
        parts.append("the accelerometer rules give every amplitude in g")
    return ("Each amplitude is in its rules' unit: " + "; ".join(parts) + ".") if parts else ""


def clipped_text(data: ReportData) -> str:
    """The warning for swing peaks clipped at the gyroscope's full scale, or '' when there were none."""
    lines = clipped_sentences({r.value: n for r, n in data.clipped_swing_peaks.items()})
    if not lines:
        return ""
    return ("<b>Gyroscope range too small:</b> " + "; ".join(esc(x) for x in lines) + ". A clipped peak's instant "
            "is unknown, so it is flagged and not trusted: those steps have no swing lag, the leg's swing peak rate "
            "averages its unclipped strides only, and its other figures stand.")


def rules_text(data: ReportData) -> str:
    """Which rules found each sensor's events, in one sentence."""
    rs = data.rule_sets
    if not rs:
        return f"<b>Rules:</b> {NOT_RECORDED}."
    groups: dict[str, list[str]] = {}
    for r in (Role.LEFT_SHIN, Role.RIGHT_SHIN, Role.LEFT_WRIST, Role.RIGHT_WRIST):
        if r in rs:
            groups.setdefault(rs[r], []).append(ROLE_NAME[r])
    return ("<b>Rules:</b> " + "; ".join(f"{esc(rule_words(k))} for the {', '.join(v)}" for k, v in groups.items())
            + ". The gyroscope rules find each event from the sensor's angular rate; the accelerometer rules, used "
            "where no gyroscope is worn, from its acceleration.")


def _missing_needs(labels: list[str]) -> tuple[Role, ...]:
    arms = any(lbl.startswith("arm") for lbl in labels)
    legs = any(not lbl.startswith("arm") for lbl in labels)
    return (((Role.LEFT_SHIN, Role.RIGHT_SHIN) if legs else ()) + ((Role.LEFT_WRIST, Role.RIGHT_WRIST) if arms else ()))


def fatigue_text(data: ReportData, f: Fatigue | None) -> str:
    if f is None:
        return "<b>Over the session:</b> too few steps (fewer than 20) to compare the start with the end."
    win = duration_words(f.window_s)
    head = (f"<b>Over the session</b> (first {win} against last {win}, medians of {f.n_first} and {f.n_last} steps; "
            f"each lag on its own, as the weak link uses them):")
    clauses = []
    a, z = f.first.get("sync_score"), f.last.get("sync_score")
    if a is not None and z is not None:
        d = z - a
        clauses.append(f"sync score {a:.0f} → {z:.0f} "
                       + (f"({'improved' if d > 0 else 'fell'} by {abs(d):.0f} points)" if abs(d) >= TREND_SCORE else "(little change)"))
    a, z = f.first.get("cadence_spm"), f.last.get("cadence_spm")
    if a is not None and z is not None:
        d = z - a
        clauses.append(f"cadence {a:.0f} → {z:.0f} steps/min" + (f" ({d:+.0f})" if abs(d) >= TREND_CADENCE_SPM else " (steady)"))
    changes, steady = [], []
    for se in all_series():
        key = series_key(se)
        a, z = f.first.get(key), f.last.get(key)
        if a is None or z is None:
            continue
        if abs(z - a) >= TREND_LAG_MS:
            away = abs(z) > abs(a)
            changes.append(f"{se.words} went from {signed_ms(a)} to {signed_ms(z)} "
                           f"({'further from' if away else 'closer to'} its target)")
        else:
            steady.append(se.words.removeprefix("the "))
    parts = [head + " " + "; ".join(clauses + changes) + "."]
    if changes:
        if any("further from" in c for c in changes):
            parts.append("Timing that drifts away from target late in a run is consistent with fatigue; "
                         "confirm it on more than one session before acting on it.")
    if steady:
        parts.append(("Timing held steady (within ±%.0f&nbsp;ms) for the " % TREND_LAG_MS) + _and(steady) + ".")
    return " ".join(parts)


def _and(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def caveat_text() -> str:
    return ("<b>How to read this report.</b> That all limbs should peak together at push-off is a coaching "
            "hypothesis, not established science: research supports tight arm–leg coupling (each arm swings with "
            "the opposite leg) but not simultaneity, and there are no published norms for the sync score. Compare "
            "this runner with their own sessions, recorded with the sensors worn the same way (moving a sensor "
            "by 5&nbsp;cm shifts its timing by up to 10&nbsp;ms). Each event is the physical instant the shin or "
            "wrist sensor estimates: initial contact, toe-off, the shank's peak forward angular velocity in swing, "
            "the wrist's forward and backward turnarounds. Ground contact time runs from initial contact to toe-off "
            "and flight time from toe-off to the other foot's initial contact, as estimated from the sensors, not "
            "from a force plate; docs/measurement.md gives each rule's measured accuracy. <b>Arm timing is read "
            "from the forearm:</b> on real runners its forward turn reads about 70&nbsp;ms later, and its backward "
            "turn about 30&nbsp;ms earlier, than the wrist's turn relative to the trunk, so under the 'together' "
            "model the stance-side arm tends to read late and the other arm early; the 'baseline' model "
            "(--target baseline) cancels that constant offset.")


def coaching_paragraphs(data: ReportData, f: Fatigue | None) -> list[str]:
    clipped = clipped_text(data)
    return ([clipped] if clipped else []) + [weak_link_text(data), balance_text(data), fatigue_text(data, f),
                                             model_text(data), caveat_text()]
