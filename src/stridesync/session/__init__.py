"""Sessions: crash-safe recording, faithful replay, import and export (one SQLite file per session).

``store`` (the file and its reader), ``recorder`` (the live sink), ``replay`` (the replay source),
``importer`` (CSV → session), ``export`` (session → contract files), ``synth`` (synthetic packet
streams for tests and benchmarks). Import the submodule you need; this package imports nothing heavy.
"""
