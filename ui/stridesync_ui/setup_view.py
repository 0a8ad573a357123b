"""The setup panel: the minute before a run, each sensor's mounting from "stand still" to its verdict.

It renders a snapshot's :class:`~.setup_state.SetupState` (built on the worker thread) and nothing else: per
sensor the phase in big coloured words, the full sentence, the progress (standing seconds, strides of those
needed) and, next to a wrong verdict, an Identify button that blinks that sensor's LED. Below: the sentences
about sensors together (left and right swapped), or why they are not there yet.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from stridesync.model import LinkState, Role

from . import theme
from .plots import ROLE_ORDER
from .snapshot import ROLE_WORDS, DashSnapshot

LEVEL_COLOUR = {"ok": theme.OK, "warn": theme.WARN, "bad": theme.BAD, "idle": theme.MUTED}

HOW_TO = ("1. Stand still for 2 s, arms hanging.   2. Jog a few strides.   Each sensor turns green when it sits as "
          "the roster says; a red one is corrected in the analysis, but check its strap (Identify blinks it).")


def _set(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)


def _label(text: str = "", name: str | None = None) -> QLabel:
    w = QLabel(text)
    if name:
        w.setObjectName(name)
    return w


class SetupPanel(QWidget):
    """Per sensor: phase, sentence, progress and Identify (next to a wrong verdict); the pair sentences below."""

    sigIdentify = Signal(object)  # Role

    def __init__(self, parent=None):
        super().__init__(parent)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(6)
        head = QFrame()
        head.setObjectName("panel")
        hv = QVBoxLayout(head)
        hv.setContentsMargins(8, 4, 8, 4)
        hv.addWidget(_label("SENSOR SETUP · how each sensor sits on its limb", "caption"))
        self.how = _label(HOW_TO)
        self.how.setWordWrap(True)
        self.how.setStyleSheet("font-weight: 700;")
        hv.addWidget(self.how)
        v.addWidget(head)

        self.rows: dict[Role, dict[str, QLabel]] = {}
        self.identify: dict[Role, QPushButton] = {}
        for role in ROLE_ORDER:
            box = QFrame()
            box.setObjectName("panel")
            g = QGridLayout(box)
            g.setContentsMargins(8, 3, 8, 3)
            g.setVerticalSpacing(0)
            name = _label(ROLE_WORDS[role].upper())
            name.setStyleSheet(f"color: {theme.LIMB_COLOUR[role]}; font-weight: 900;")
            g.addWidget(name, 0, 0)
            words = _label("—")
            words.setStyleSheet(f"font-size: {theme.MID_PT - 1}pt; font-weight: 800; color: {theme.MUTED};")
            g.addWidget(words, 1, 0, 1, 2)
            progress = _label("", "caption")
            g.addWidget(progress, 0, 1)
            sentence = _label("")
            sentence.setWordWrap(True)
            g.addWidget(sentence, 2, 0, 1, 3)
            b = QPushButton("Identify")
            b.setToolTip(f"blink the {ROLE_WORDS[role].lower()} sensor's LED for 5 s: the one to check")
            b.setStyleSheet(f"padding: 0px 8px; border-color: {theme.BAD};")
            b.clicked.connect(lambda _=False, role=role: self.sigIdentify.emit(role))
            b.setVisible(False)
            g.addWidget(b, 0, 2, 2, 1)
            g.setColumnStretch(1, 1)
            self.rows[role] = {"name": name, "words": words, "progress": progress, "sentence": sentence}
            self.identify[role] = b
            v.addWidget(box)

        foot = QFrame()
        foot.setObjectName("panel")
        fv = QVBoxLayout(foot)
        fv.setContentsMargins(8, 4, 8, 4)
        fv.addWidget(_label("LEFT / RIGHT", "caption"))
        self.notes = _label("—")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("font-weight: 700;")
        fv.addWidget(self.notes)
        v.addWidget(foot)
        v.addStretch(1)
        self._seq = -1
        self._styles: dict[Role, str] = {}
        self.state = None  # the SetupState shown

    def render(self, snap: DashSnapshot) -> None:
        if snap.seq == self._seq:
            return
        self._seq = snap.seq
        st = snap.setup
        self.state = st
        streaming = {r.role for r in snap.sensors if r.state in (LinkState.STREAMING, LinkState.STALLED)}
        live = snap.mode == "live" and snap.state not in ("stopped", "finished")
        if st is None:
            for role, cells in self.rows.items():
                _set(cells["words"], "as given")
                _set(cells["progress"], "")
                _set(cells["sentence"], "")
                self.identify[role].setVisible(False)
            _set(self.notes, "This session does not estimate the mountings: the roster's are used as given."
                 if snap.mode == "live" else "This recording was analysed with its mountings as given.")
            return
        for role, cells in self.rows.items():
            row = st.rows.get(role)
            if row is None:
                _set(cells["words"], "not worn")
                _set(cells["progress"], "")
                _set(cells["sentence"], "")
                self.identify[role].setVisible(False)
                continue
            _set(cells["words"], row.words)
            colour = LEVEL_COLOUR[row.level]
            if self._styles.get(role) != colour:
                self._styles[role] = colour
                cells["words"].setStyleSheet(f"font-size: {theme.MID_PT - 1}pt; font-weight: 800; color: {colour};")
            parts = []
            if row.standing_s is not None:
                parts.append(f"standing {row.standing_s:.1f} s")
            if row.strides is not None:
                parts.append(f"strides {row.strides}" + (f" of {row.strides_needed}" if row.phase in
                                                         ("standing", "strides", "deciding") else ""))
            _set(cells["progress"], " · ".join(parts))
            _set(cells["sentence"], row.sentence)
            b = self.identify[role]
            if b.isVisible() != row.wrong:
                b.setVisible(row.wrong)
            can = live and role in streaming
            if b.isEnabled() != can:
                b.setEnabled(can)
        if st.notes:
            text = "\n".join(("✓ " if ok else "✗ ") + t for t, ok in st.notes)
            colour = theme.OK if all(ok for _, ok in st.notes) else theme.BAD
        elif st.done:
            text, colour = "sides not checked yet: the arm-leg phase needs a few more strides of all four sensors", \
                theme.MUTED
        else:
            text, colour = "checked once every sensor has its verdict", theme.MUTED
        _set(self.notes, text)
        self.notes.setStyleSheet(f"font-weight: 700; color: {colour};")

    def texts(self) -> dict[Role, str]:
        """role → the verdict words shown (for tests and logs)."""
        return {r: c["words"].text() for r, c in self.rows.items()}
