"""File formats and safe outputs: the wide samples, events and steps CSVs, summary JSON (MEASUREMENT.md §4).

Readers raise :class:`~stridesync.errors.InputFormatError` with one-line messages; writers are atomic
and raise :class:`~stridesync.errors.OutputError`.
"""

from .atomic import AtomicOutputs, atomic_write, check_writable
from .csvio import (
    EVENTS_HEADER,
    STEPS_HEADER,
    read_events_csv,
    read_steps_csv,
    read_summary_json,
    read_wide_csv,
    wide_csv_columns,
    write_events_csv,
    write_steps_csv,
    write_summary_json,
    write_wide_csv,
)

__all__ = [
    "EVENTS_HEADER",
    "STEPS_HEADER",
    "AtomicOutputs",
    "atomic_write",
    "check_writable",
    "read_events_csv",
    "read_steps_csv",
    "read_summary_json",
    "read_wide_csv",
    "wide_csv_columns",
    "write_events_csv",
    "write_steps_csv",
    "write_summary_json",
    "write_wide_csv",
]
