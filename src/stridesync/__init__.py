"""StrideSync: a wearable IMU stride-sync monitor for runners and coaches.

The headless core (this package) never imports Qt; the dashboard lives in ``ui/``.
"""

from .errors import StrideSyncError
from .model import Event, EventKind, Recording, Role, RoleSamples, Side, Step

__version__ = "0.1.0"
__all__ = ["Event", "EventKind", "Recording", "Role", "RoleSamples", "Side", "Step", "StrideSyncError", "__version__"]
