"""Sinks at the end of the data path: LSL outlets (the recorder lives in stridesync.session)."""
