"""Sensor setup in words: each sensor's mounting as the coach follows it in the minute before a run.

The real-time core estimates every sensor's mounting (:mod:`stridesync.core.mounting`): it holds a sensor's
samples until it has seen standing (gravity gives the segment's axis) and the first strides (the swing axis),
then rotates them into the body frame and keeps checking for slips. Its trackers only log decisions, so
"how far along is it" is not in them. :class:`MountingWatch` answers that on the worker thread: it keeps the
input-frame samples the core received and, while a tracker still waits, runs the same public
:func:`~stridesync.core.mounting.estimate` on them (a few ms) at most :data:`ESTIMATE_EVERY_S` apart per
sensor, so the setup view can say "stand still" → "jog: 2 of 4 strides" → the verdict. Once every sensor is
estimated it runs :func:`~stridesync.core.mounting.check` on the last :data:`SWAP_WINDOW_S` of samples, turned
into the body frame, to say whether left and right look swapped.

Nothing here imports Qt (STYLE.md §2, §7): the worker builds an immutable :class:`SetupState` per snapshot
and the GUI only renders it. :func:`mounting_report_words` says the same in the session report.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from stridesync.core.mounting import MountingConfig, MountingEstimate, estimate
from stridesync.core.mounting_checks import check, describe_rotation
from stridesync.model import Role, RoleSamples

from stridesync.report.words import ROLE_NAME

#: a waiting sensor's progress is re-estimated at most this often (wall-clock s), per sensor
ESTIMATE_EVERY_S = 0.5
#: the left/right swap check runs at most this often (wall-clock s), once every sensor is estimated
SWAP_EVERY_S = 3.0
#: the swap check looks at this much of the newest data (s)
SWAP_WINDOW_S = 20.0

#: phases of one sensor's setup, in the order a sensor goes through them
PHASES = ("no data", "standing", "strides", "deciding", "verdict", "kept", "given")


@dataclass(frozen=True)
class MountingRow:
    """One sensor's setup, already in words.

    ``phase`` is one of :data:`PHASES`; ``words`` the short text for the sensor panel, ``sentence`` the full one;
    ``level`` 'ok' (green), 'warn' (amber), 'bad' (red) or 'idle' (grey). ``wrong``: the sensor should be looked
    at (its Identify button is offered). ``standing_s``/``strides``/``strides_needed``: the progress.
    """

    role: Role
    phase: str
    words: str
    sentence: str
    level: str
    wrong: bool = False
    standing_s: float | None = None
    standing_needed_s: float | None = None
    strides: int | None = None
    strides_needed: int | None = None
    slip: str | None = None  # the newest slip flagged on this sensor, in words
    short: str = ""  # at most ~14 characters, for the sensor panel's mounting column


@dataclass(frozen=True)
class SetupState:
    """Every sensor's setup row plus the sentences about sensors together (left/right swaps)."""

    rows: Mapping[Role, MountingRow]
    notes: tuple[tuple[str, bool], ...] = ()  # (sentence, ok)
    swap_checked: bool = False

    @property
    def done(self) -> bool:
        """Every estimated sensor has its verdict (or was kept as given)."""
        return bool(self.rows) and all(r.phase in ("verdict", "kept", "given") for r in self.rows.values())

    @property
    def all_ok(self) -> bool:
        return self.done and not any(r.wrong for r in self.rows.values()) and all(ok for _, ok in self.notes)


def _mmss(t_s: float) -> str:
    return f"{int(t_s // 60)}:{int(t_s % 60):02d}"


class _RawBuffer:
    """A role's newest input-frame samples: time, acceleration and (optionally) angular rate."""

    def __init__(self, keep_s: float, rate_hz: float, has_gyro: bool):
        self.cap = int(keep_s * rate_hz * 1.3) + 64
        self.data = np.zeros((self.cap, 7 if has_gyro else 4))
        self.n = 0
        self.has_gyro = has_gyro

    def extend(self, t, acc, gyro) -> None:
        m = len(t)
        if not m:
            return
        block = np.empty((m, self.data.shape[1]))
        block[:, 0] = t
        block[:, 1:4] = np.asarray(acc, float).reshape(m, 3)
        if self.has_gyro:
            if gyro is None:
                return
            block[:, 4:7] = np.asarray(gyro, float).reshape(m, 3)
        if m >= self.cap:
            block, m = block[-self.cap:], self.cap
        if self.n + m > self.cap:
            keep = self.cap - m
            self.data[:keep] = self.data[self.n - keep:self.n]
            self.n = keep
        self.data[self.n:self.n + m] = block
        self.n += m

    def since(self, t0_s: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        d = self.data[:self.n]
        if t0_s is not None:
            d = d[int(np.searchsorted(d[:, 0], t0_s)):]
        return d[:, 0], d[:, 1:4], (d[:, 4:7] if self.has_gyro else None)


class MountingWatch:
    """Worker-side: the setup state of every sensor the core estimates (see the module docstring).

    ``feed(blocks)`` with every block the core receives (before the core rotates it); ``state(core)`` for a
    snapshot. Both on the thread that owns the core. Re-estimates are throttled by the wall clock, so a fast
    replay costs no more than a live run.
    """

    def __init__(self, core, *, clock=time.monotonic):
        self.core = core
        #: the clock the throttles read (s); a test feeding data faster than real time can pass the data clock
        self.clock = clock
        self.trackers = dict(getattr(core, "mounting", None) or {})
        self.config: MountingConfig = next((t.config for t in self.trackers.values()), MountingConfig())
        keep_s = self.config.max_hold_s + 5.0
        self.buffers = {r: _RawBuffer(keep_s, tr.rate_hz, tr.has_gyro) for r, tr in self.trackers.items()}
        self._progress: dict[Role, MountingEstimate] = {}
        self._progress_at: dict[Role, float] = {}
        self._swap: tuple[tuple[tuple[str, bool], ...], bool] = ((), False)
        self._swap_at = -1e9
        self._verdicts: dict[tuple, tuple] = {}
        self._state: SetupState | None = None
        self._state_key: tuple | None = None

    @property
    def active(self) -> bool:
        """The core estimates at least one sensor's mounting (align="auto")."""
        return bool(self.trackers)

    def feed(self, blocks) -> None:
        for role, t, acc, *gyro in blocks:
            buf = self.buffers.get(Role(role))
            if buf is not None:
                buf.extend(np.asarray(t, float), acc, gyro[0] if gyro else None)

    # ------------------------------------------------------------------ per snapshot
    def state(self, roles) -> SetupState | None:
        """The setup of every role in ``roles`` (the sensors in the session); None without estimation."""
        if not self.trackers:
            return None
        now = self.clock()
        for role, tr in self.trackers.items():
            if tr.rotation is None and now - self._progress_at.get(role, -1e9) >= ESTIMATE_EVERY_S:
                self._progress_at[role] = now
                t, a, g = self.buffers[role].since()
                if len(t) >= 20:
                    self._progress[role] = estimate(role, t, a, g, config=tr.config, from_s=float(t[0]))
        if now - self._swap_at >= SWAP_EVERY_S and all(tr.rotation is not None for tr in self.trackers.values()):
            self._swap_at = now
            self._swap = self._swap_check()
        key = (tuple((r, len(tr.log), tr.rotation is None, id(self._progress.get(r)))
                     for r, tr in self.trackers.items()), self._swap, tuple(roles))
        if key != self._state_key:
            self._state_key = key
            rows = {}
            for role in roles:
                role = Role(role)
                tr = self.trackers.get(role)
                rows[role] = _with_short(self._row(role, tr)) if tr is not None else MountingRow(
                    role, "given", "as given (pinned)", f"{ROLE_NAME[role].capitalize()} sensor: the roster pins its mounting; "
                    "it is used as given, not estimated", "idle", short="pinned")
            self._state = SetupState(rows=MappingProxyType(rows), notes=self._swap[0], swap_checked=self._swap[1])
        return self._state

    def _row(self, role: Role, tr) -> MountingRow:
        cfg = tr.config
        who = f"{ROLE_NAME[role].capitalize()} sensor"
        if tr.rotation is None:
            e = self._progress.get(role)
            if e is None:
                return MountingRow(role, "no data", "waiting for data", f"{who}: no samples yet", "idle")
            standing_ok = e.standing_s >= cfg.min_standing_s
            need = cfg.min_strides if standing_ok else cfg.min_strides_no_standing
            common = dict(standing_s=e.standing_s, standing_needed_s=cfg.min_standing_s, strides=e.strides,
                          strides_needed=need)
            if e.ok:
                return MountingRow(role, "deciding", f"{min(e.strides, need)} of {need} strides: deciding…",
                                   f"{who}: enough standing and strides; the estimate is being decided", "idle",
                                   **common)
            if not standing_ok and e.strides == 0:
                return MountingRow(role, "standing", f"stand still ({e.standing_s:.1f} of {cfg.min_standing_s:g} s)",
                                   f"{who}: waiting for standing — stand still, arms hanging, for 2 s", "idle",
                                   **common)
            extra = "" if standing_ok else " (no standing seen: stand still 2 s for fewer)"
            return MountingRow(role, "strides", f"jog: {e.strides} of {need} strides",
                               f"{who}: waiting for strides — jog a few strides ({e.strides} of {need}){extra}", "idle",
                               **common)
        log = tr.log
        cur = tr.current
        if cur is None:  # the tracker released the samples without any entry: nothing to say
            return MountingRow(role, "given", "as given", f"{who}: used as given", "idle")
        first = next((lg for lg in log if lg.kind in ("estimated", "kept")), log[0])
        if first.kind == "kept":
            reason = first.estimate.message or "no estimate"
            return MountingRow(role, "kept", "kept as given", f"{who}: kept as given — {reason}", "warn", wrong=True,
                               standing_s=first.estimate.standing_s, strides=first.estimate.strides)
        text, fine = self._verdict(role, cur)
        slips = [lg for lg in log if lg.kind == "slipped"]
        slip = None
        if slips:
            s = slips[-1]
            slip = f"moved {s.angle_deg:.0f}° on the {'shin' if role.is_shin else 'forearm'} at {_mmss(s.time_s)}"
        est = first.estimate
        note = est.message if est.message else None
        if slip is not None:
            words = f"⚠ slipped {slips[-1].angle_deg:.0f}°: corrected"
            sentence = f"{who} {slip}: corrected from then on; {text[len(who) + 1:] if text.startswith(who) else text}"
            return MountingRow(role, "verdict", words, sentence, "warn", wrong=True, standing_s=est.standing_s,
                               strides=est.strides, slip=slip)
        if fine and not note:
            return MountingRow(role, "verdict", "✓ sits as given", text, "ok", standing_s=est.standing_s,
                               strides=est.strides)
        if fine:  # estimated without standing: the turn about the swing axis is uncertain
            return MountingRow(role, "verdict", "✓ as given (no standing)", f"{text}; {note}", "warn",
                               standing_s=est.standing_s, strides=est.strides)
        short = text[len(who) + 4:] if text.startswith(f"{who} is ") else text
        return MountingRow(role, "verdict", f"✗ {short.split(' and ')[0]}", f"{text} (corrected in the analysis: "
                           "fix the strap, or leave it)", "bad", wrong=True, standing_s=est.standing_s,
                           strides=est.strides)

    def _verdict(self, role: Role, e: MountingEstimate) -> tuple[str, bool]:
        """The sensor's own sentences (how it sits; a wrist on a shin); cached per estimate."""
        key = (role, id(e))
        if key not in self._verdicts:
            vs = [v for v in check({role: e}, None, config=self.config) if v.role is role]
            bad = [v.text for v in vs if not v.ok]
            if bad:
                self._verdicts[key] = ("; ".join(bad), False)
            else:
                self._verdicts[key] = (vs[0].text if vs else describe_rotation(role, e.rotation)[0], True)
        return self._verdicts[key]

    def _swap_check(self) -> tuple[tuple[tuple[str, bool], ...], bool]:
        """Pair sentences from check() on the newest SWAP_WINDOW_S, rotated into the body frame."""
        est = {r: tr.current for r, tr in self.trackers.items() if tr.current is not None and tr.current.ok}
        aligned = {}
        for role, tr in self.trackers.items():
            buf = self.buffers[role]
            if not buf.n or not buf.has_gyro:
                continue
            t_end = float(buf.data[buf.n - 1, 0])
            t, a, g = buf.since(t_end - SWAP_WINDOW_S)
            R = tr.rotation
            aligned[role] = RoleSamples(role=role, time_s=t, acc_g=a @ R.T, gyro_dps=g @ R.T)
        if len(est) < 2:
            return (), False
        verdicts = check(est, aligned if len(aligned) == 4 else None, config=self.config)
        notes = tuple((v.text, v.ok) for v in verdicts if v.role is None)
        return notes, len(aligned) == 4 and any("swap" in t or "sides" in t for t, _ in notes)


def _with_short(row: MountingRow) -> MountingRow:
    """The row with its few words (≤ 100 px) for the sensor panel's narrow mounting column."""
    if row.phase == "no data":
        short = "waiting"
    elif row.phase == "standing":
        short = "stand still"
    elif row.phase == "strides":
        short = f"jog {row.strides}/{row.strides_needed}"
    elif row.phase == "deciding":
        short = "deciding…"
    elif row.phase == "kept":
        short = "⚠ kept"
    elif row.slip is not None:
        short = "⚠ slipped"
    elif row.level == "bad":
        s = row.sentence
        if "seems to be on a shin" in s:
            short = "✗ on shin?"
        elif "seems to be on a wrist" in s:
            short = "✗ on wrist?"
        elif "upside down" in s:
            short = "✗ flipped"
        elif "rotated" in s:
            short = "✗ " + s.split("rotated ")[1].split("°")[0] + "° turn"
        elif "tilted" in s:
            short = "✗ tilted"
        else:
            short = "✗ check"
    elif row.phase == "verdict":
        short = "✓ as given"
    else:
        short = row.words
    return replace(row, short=short)


# ---------------------------------------------------------------------------- the report
def mounting_report_words(entries: list[Mapping[str, Any]] | None, role: Role) -> str | None:
    """A sensor's mounting as the report says it, from ``summary["mounting"][role]`` (the tracker's log):

    "estimated at 12.8 s: as given", "estimated at 12.8 s: upside down (corrected)", "kept as given: too few
    strides …", plus "slipped 45° at 1:10 (corrected)". None when the summary holds no estimate for ``role``.
    """
    if not entries:
        return None
    first = next((d for d in entries if d.get("event") in ("estimated", "kept")), entries[0])
    msg = (first.get("message") or "").strip()
    if first.get("event") == "kept" or not first.get("ok"):
        reason = msg.split("; the given mounting is kept")[0] if msg else "no estimate"
        text = f"kept as given: {reason}"
    else:
        R = np.asarray(first.get("rotation"), float)
        sentence, fine = describe_rotation(role, R)
        who = f"{ROLE_NAME[role].capitalize()} sensor "
        what = sentence[len(who):] if sentence.startswith(who) else sentence
        what = what[3:] if what.startswith("is ") else what
        if fine:
            what = "as given"
        else:
            what += " (corrected)"
        at = first.get("decided_s")
        text = f"estimated at {at:.1f} s: {what}" if isinstance(at, (int, float)) and math.isfinite(at) else \
            f"estimated: {what}"
        if first.get("x_from") != "standing":
            text += " (no standing: turn about the swing axis less sure)"
    for d in entries:
        if d.get("event") == "slipped":
            msg = d.get("message") or ""
            ang = msg.split("moved ")[-1].split("°")[0] if "moved " in msg else "?"
            at = d.get("decided_s")
            text += f"; slipped {ang}° at {_mmss(at) if isinstance(at, (int, float)) else '?'} (corrected)"
    return text
