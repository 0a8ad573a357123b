"""One exception root for everything StrideSync raises on purpose.

Each subclass also inherits the builtin that fits, so callers that only know
``ValueError`` or ``OSError`` still catch it. The CLI turns any
:class:`StrideSyncError` into a one-line message and exit code 2.
"""

from __future__ import annotations


class StrideSyncError(Exception):
    """Root of all StrideSync errors."""


class InputFormatError(StrideSyncError, ValueError):
    """A file or argument does not follow the documented format."""


class OutputError(StrideSyncError, OSError):
    """An output could not be written (nothing partial is left behind)."""


class ConfigError(StrideSyncError, ValueError):
    """A configuration or parameter value is out of range."""
