"""StrideSync sensor firmware: pure modules that run unchanged under CPython and MicroPython."""
