"""Where a session's samples come from, opened by name, as bumble opens transports from a moniker.

    virtual:seed=1              four simulated sensors on a virtual BLE radio (``loss=0.02``: packets lost)
    ble:roster.json             the roster's real sensors over Bluetooth
    replay:run.stridesync       a recorded session, as live saw it (``speed=4``; default as fast as possible)
    csv:run.csv                 a wide samples CSV (docs/formats.md), fed to the real-time core
                                (``speed=1`` paces it; default as fast as possible)

A spec is ``kind:target`` with optional ``,key=value`` pairs (``virtual:seed=3``, ``replay:a.stridesync,speed=2``).
:data:`REGISTRY` maps each kind to ``module:Class``; the module is imported only when its kind is opened, and the
class is built with the parsed :class:`SourceSpec`. Adding a source is one module with one class that has an
``async run(opts) -> LiveResult`` (:class:`Source`), and one line here. Live sources (virtual:, ble:) also bring
their radio (``radio(opts, clock)``) and their ``scan(seconds)``; file sources play through the one replay engine.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import InputFormatError

#: kind → "module:Class" (imported lazily)
REGISTRY: dict[str, str] = {
    "virtual": "stridesync.live_run:VirtualSource",
    "ble": "stridesync.live_run:BleSource",
    "replay": "stridesync.session.replay:ReplaySource",
    "csv": "stridesync.sources.csv:CsvSource",
}


@dataclass(frozen=True)
class SourceSpec:
    """A parsed source name: ``kind``, ``target`` (a path or name; may be empty) and ``params``."""

    kind: str
    target: str = ""
    params: dict[str, str] = field(default_factory=dict)
    text: str = ""

    def number(self, key: str, default: float | None = None) -> float | None:
        """A numeric parameter, or one clear line naming it."""
        if key not in self.params:
            return default
        try:
            v = float(self.params[key])
        except ValueError:
            raise InputFormatError(f"source {self.text!r}: {key}={self.params[key]!r} is not a number") from None
        if v != v or v in (float("inf"), float("-inf")):
            raise InputFormatError(f"source {self.text!r}: {key} must be finite")
        return v

    def check_keys(self, allowed: set[str]) -> None:
        extra = sorted(set(self.params) - allowed)
        if extra:
            raise InputFormatError(f"source {self.text!r}: unknown option {extra[0]!r}"
                                   f" ({', '.join(sorted(allowed)) or 'none'} allowed for {self.kind}:)")


class Source(Protocol):
    """What an opened source does: run a session and hand its analysis to ``opts.on_update`` as it goes.

    ``run`` takes the live runner's :class:`~stridesync.live_run.LiveOptions` (seconds, config, on_update,
    stop, recording options) and returns its :class:`~stridesync.live_run.LiveResult` (``analyzer`` with
    ``core``, ``now_s`` and ``health()``).
    """

    spec: SourceSpec
    #: whether the source can be recorded to a session file (it delivers packets, as live sensors do)
    recordable: bool

    async def run(self, opts: Any) -> Any: ...


def parse_source(text: str) -> SourceSpec:
    """``kind:target,key=value,...`` → :class:`SourceSpec` (one clear line when it cannot be read)."""
    if not isinstance(text, str) or ":" not in text:
        raise InputFormatError(f"source {text!r}: expected KIND:TARGET, e.g. virtual:seed=1, ble:roster.json, "
                               f"replay:run.stridesync, csv:run.csv")
    kind, _, rest = text.partition(":")
    kind = kind.strip().lower()
    if kind not in REGISTRY:
        raise InputFormatError(f"source {text!r}: unknown kind {kind!r} (one of {', '.join(sorted(REGISTRY))})")
    target, params = "", {}
    for k, part in enumerate(p for p in rest.split(",") if p.strip()):
        key, eq, value = part.partition("=")
        if eq:
            key = key.strip()
            if not key or key in params:
                raise InputFormatError(f"source {text!r}: option {part!r} is empty or repeated")
            params[key] = value.strip()
        elif k == 0:
            target = part.strip()
        else:
            raise InputFormatError(f"source {text!r}: {part!r} is not key=value")
    return SourceSpec(kind, target, params, text)


def open_source(spec: str | SourceSpec) -> Source:
    """Parse ``spec`` and build its source (the kind's module is imported now, not before)."""
    s = spec if isinstance(spec, SourceSpec) else parse_source(spec)
    module, _, cls = REGISTRY[s.kind].partition(":")
    return getattr(importlib.import_module(module), cls)(s)
