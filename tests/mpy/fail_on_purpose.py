"""Fails on purpose under MicroPython: tests/test_firmware.py checks that run_mpy.mjs exits non-zero.

The sentinel is printed before the failing assertion, so the runner must catch the exception itself.
"""
print("MPY-TESTS-OK")
assert 1 + 1 == 3, "deliberate failure"
