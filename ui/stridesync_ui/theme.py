"""A high-contrast light theme for daylight: black on white, large bold numbers, colour-blind-safe limbs.

Dark text on a white ground stays readable in sunlight, where a dark theme turns into a mirror. Limb colours
are from the Okabe–Ito palette; the alert red and the recovery green are never used for limbs.
"""

from __future__ import annotations

from stridesync.model import EventKind, Role

BG = "#ffffff"
PANEL = "#f2f2f2"
FG = "#000000"
MUTED = "#404040"
GRID = "#c8c8c8"
BAD = "#c00000"
BAD_FG = "#ffffff"
OK = "#006400"
WARN = "#a05a00"
BAND = "#d7f0d7"   # the target band behind the lag bars

LIMB_COLOUR = {Role.LEFT_SHIN: "#0054a6", Role.RIGHT_SHIN: "#d55e00", Role.LEFT_WRIST: "#007a5a", Role.RIGHT_WRIST: "#a0307a"}
EVENT_SYMBOL = {EventKind.CONTACT: "t", EventKind.PUSH: "o", EventKind.SWING: "s",
                EventKind.ARM_FWD: "o", EventKind.ARM_BACK: "s"}
#: the markers' legend: each event by its physical instant (MEASUREMENT.md §2)
EVENT_WORDS = {EventKind.CONTACT: "▼ initial contact", EventKind.PUSH: "● toe-off", EventKind.SWING: "■ peak swing",
               EventKind.ARM_FWD: "● arm fwd turn", EventKind.ARM_BACK: "■ arm back turn"}

BIG_PT = 30      # the headline numbers
MID_PT = 17
BASE_PT = 12

STYLESHEET = f"""
QWidget {{ background: {BG}; color: {FG}; font-size: {BASE_PT}pt; }}
QMainWindow, QStatusBar {{ background: {BG}; }}
QFrame#panel {{ background: {PANEL}; border: 1px solid {GRID}; border-radius: 4px; }}
QFrame#panel QLabel {{ background: transparent; }}
QLabel#big {{ font-size: {BIG_PT}pt; font-weight: 800; }}
QLabel#mid {{ font-size: {MID_PT}pt; font-weight: 700; }}
QLabel#caption {{ color: {MUTED}; font-size: {BASE_PT - 1}pt; }}
QLabel#weak {{ font-size: {MID_PT}pt; font-weight: 800; color: {BAD}; }}
QLabel#alert {{ background: {BAD}; color: {BAD_FG}; font-size: {MID_PT + 1}pt; font-weight: 800; padding: 6px 10px; }}
QLabel#notice {{ background: {OK}; color: #ffffff; font-size: {MID_PT - 2}pt; font-weight: 700; padding: 4px 10px; }}
QLabel#message {{ background: #fff3c0; color: {FG}; font-weight: 700; padding: 4px 10px; border: 1px solid {WARN}; }}
QPushButton {{ background: #e6e6e6; border: 2px solid {FG}; border-radius: 4px; padding: 4px 12px; font-weight: 700; }}
QPushButton:checked {{ background: {BAD}; color: #ffffff; }}
QPushButton:disabled {{ color: #8a8a8a; border-color: #9a9a9a; }}
QLineEdit, QComboBox {{ background: #ffffff; border: 2px solid {FG}; padding: 2px 6px; font-weight: 700; }}
QTableWidget {{ gridline-color: {GRID}; font-size: {BASE_PT}pt; }}
QHeaderView::section {{ background: {PANEL}; font-weight: 700; border: 0; border-bottom: 1px solid {GRID}; padding: 2px; }}
QSlider::groove:horizontal {{ height: 8px; background: {GRID}; }}
QSlider::handle:horizontal {{ width: 18px; background: {FG}; margin: -6px 0; }}
"""
