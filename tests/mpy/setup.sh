#!/usr/bin/env bash
# Install the MicroPython WebAssembly runtime used by tests/test_firmware.py into tests/mpy/node_modules.
# Idempotent: does nothing when it is already there. Needs node (>= 18) and npm; uses the lock file.
set -euo pipefail
cd "$(dirname "$0")"
if [ -f node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
