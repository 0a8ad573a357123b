"""Scan and assign roles: the sensors in range, each with a role and a mounting, become the next roster.

The scan itself runs in a :class:`~.jobs.ScanJob` (its own thread and event loop); this dialog only shows
what it found and builds a :class:`stridesync.roster.Roster` from the choices. An invalid choice (two
sensors on one limb, a bad mounting) is said in words and the dialog stays open.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout)

from stridesync.errors import StrideSyncError
from stridesync.model import Role
from stridesync.roster import Roster

from . import theme
from .plots import ROLE_ORDER
from .snapshot import ROLE_WORDS

NOT_USED = "— not used"
COLUMNS = ("name", "serial", "RSSI", "battery", "role", "mounting (body x y z ← device)")


def default_roles(found, previous: Roster | None) -> dict[str, Role | None]:
    """serial → the role to offer: the last roster's, else the one the sensor advertises, else the next free
    limb in serial order (left shin, right shin, left wrist, right wrist)."""
    out: dict[str, Role | None] = {}
    for f in found:
        e = previous.by_serial(f.serial) if previous is not None else None
        out[f.serial] = e.role if e is not None else f.role
    free = [r for r in ROLE_ORDER if r not in out.values()]
    for serial in sorted(s for s, r in out.items() if r is None):
        out[serial] = free.pop(0) if free else None
    return out


class ScanDialog(QDialog):
    """Found sensors with a role drop-down and a mounting field each; ``sigRoster`` on OK."""

    sigRoster = Signal(object)
    sigRescan = Signal()

    def __init__(self, parent=None, *, athlete: str = "", previous: Roster | None = None):
        super().__init__(parent)
        self.setWindowTitle("Scan and assign roles")
        self.setStyleSheet(theme.STYLESHEET)
        self.resize(980, 360)
        self.athlete, self.previous = athlete, previous
        self.found: list = []
        self.roster: Roster | None = None
        v = QVBoxLayout(self)
        self.status = QLabel("scanning…")
        self.status.setWordWrap(True)
        v.addWidget(self.status)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        v.addWidget(self.table, 1)
        self.error = QLabel("")
        self.error.setObjectName("message")
        self.error.setWordWrap(True)
        self.error.hide()
        v.addWidget(self.error)
        row = QHBoxLayout()
        self.rescan = QPushButton("Scan again")
        self.rescan.clicked.connect(self.sigRescan.emit)
        row.addWidget(self.rescan)
        row.addStretch(1)
        self.ok = QPushButton("Use for the next start")
        self.ok.setDefault(True)
        self.ok.clicked.connect(self.accept_roster)
        row.addWidget(self.ok)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        row.addWidget(cancel)
        v.addLayout(row)
        self.set_scanning(True)

    def set_scanning(self, scanning: bool, text: str = "scanning for sensors…") -> None:
        self.rescan.setEnabled(not scanning)
        self.ok.setEnabled(not scanning and bool(self.found))
        if scanning:
            self.status.setText(text)

    def show_error(self, text: str) -> None:
        self.error.setText(f"⚠ {text}")
        self.error.show()

    def set_found(self, found) -> None:
        """Fill the table from a scan (FoundSensor list); sensors without a serial cannot be assigned."""
        self.found = [f for f in found if f.serial]
        roles = default_roles(self.found, self.previous)
        self.table.setRowCount(len(self.found))
        for i, f in enumerate(self.found):
            for c, text in enumerate((f.name, f.serial, "—" if f.rssi is None else f"{f.rssi} dBm",
                                      "—" if f.battery_pct is None else f"{f.battery_pct} %")):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(i, c, item)
            combo = QComboBox()
            combo.addItem(NOT_USED, None)
            for r in ROLE_ORDER:
                combo.addItem(ROLE_WORDS[r], r.value)
            role = roles.get(f.serial)
            combo.setCurrentIndex(combo.findData(role.value) if role is not None else 0)
            self.table.setCellWidget(i, 4, combo)
            prev = self.previous.by_serial(f.serial) if self.previous is not None else None
            mounting = QLineEdit(" ".join(prev.mounting.describe()) if prev is not None else "+x +y +z")
            mounting.setToolTip("for the body axes x, y, z in turn: the device axis that carries it, with sign")
            self.table.setCellWidget(i, 5, mounting)
        self.status.setText(f"{len(self.found)} sensor{'s' if len(self.found) != 1 else ''} found. Give each "
                            "worn sensor its limb; the roster is used from the next start."
                            if self.found else "no StrideSync sensor found: are they switched on and near?")
        self.set_scanning(False)

    def role_combo(self, row: int) -> QComboBox:
        return self.table.cellWidget(row, 4)

    def mounting_edit(self, row: int) -> QLineEdit:
        return self.table.cellWidget(row, 5)

    def roster_dict(self) -> dict:
        sensors = []
        for i, f in enumerate(self.found):
            role = self.role_combo(i).currentData()
            if role is None:
                continue
            sensors.append({"serial": f.serial, "role": role, "mounting": self.mounting_edit(i).text()})
        return {"athlete": self.athlete, "sensors": sensors}

    def accept_roster(self) -> bool:
        try:
            roster = Roster.from_dict(self.roster_dict(), "the sensor assignment")
            if not roster.sensors:
                raise StrideSyncError("the sensor assignment: give at least one sensor a limb")
        except StrideSyncError as exc:
            self.show_error(" ".join(str(exc).split()))
            return False
        self.roster = roster
        self.sigRoster.emit(roster)
        self.accept()
        return True
