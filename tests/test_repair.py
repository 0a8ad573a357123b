"""``stridesync repair`` as a user runs it: a session recorded by ``stridesync record``, damaged in the
middle, salvaged through SQLite into a new file that replays; the damaged-file error is one short line that
points to the command (#11 item 17)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys

import pytest

from stridesync.session.store import Session, SessionError

EXE = [sys.executable, "-m", "stridesync.cli"]


def run(*args):
    return subprocess.run([*EXE, *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A 5 s session recorded by the CLI from four virtual sensors, and its number of inputs."""
    path = tmp_path_factory.mktemp("repair") / "run.stridesync"
    r = run("record", "--virtual", "--seconds", 5, "--out", path)
    assert r.returncode == 0, r.stderr
    con = sqlite3.connect(path)
    n = con.execute("SELECT count(*) FROM inputs").fetchone()[0]
    con.close()
    assert not os.path.exists(f"{path}-wal")  # closed cleanly: everything is in the file itself
    return path, n


def damaged_copy(src, dst, at: float = 0.5, nbytes: int = 3000):
    """``src`` with ``nbytes`` of garbage written over the middle of the file (inside the inputs' pages)."""
    data = bytearray(src.read_bytes())
    k = int(len(data) * at)
    data[k:k + nbytes] = bytes((i * 37 + 11) % 256 for i in range(nbytes))
    dst.write_bytes(bytes(data))
    return dst


def test_a_damaged_session_is_salvaged_into_a_new_file_that_replays(recorded, tmp_path):
    path, n_inputs = recorded
    broken = damaged_copy(path, tmp_path / "broken.stridesync")
    fixed = tmp_path / "fixed.stridesync"
    r = run("repair", broken, "--out", fixed)
    assert r.returncode == 0, r.stderr
    m = re.search(r"(\d+) inputs saved, (\d+) lost", r.stdout)
    assert m, r.stdout
    saved, lost = int(m[1]), int(m[2])
    assert lost > 0 and saved + lost == n_inputs  # every input is either saved or counted as lost
    assert saved > 0.8 * n_inputs
    for table in ("meta", "sensors", "inputs", "clock", "events", "steps"):
        assert re.search(rf"^\s+{table}\s+\d+ rows? saved", r.stdout, re.M), (table, r.stdout)
    assert re.search(r"packets?, \d+ exchanges?", r.stdout)
    assert "recompute" in r.stdout  # the cached results no longer match the inputs
    assert broken.read_bytes() == damaged_copy(path, tmp_path / "again.stridesync").read_bytes()  # untouched
    with Session.open(fixed) as s:
        assert s.n_inputs == saved and not s.complete and s.meta["repaired"]["tables"]["inputs"]["lost"] == lost
        assert not s.has_results()
    steps = tmp_path / "steps.csv"
    r = run("export", fixed, "--steps", steps)
    assert r.returncode == 0, r.stderr
    assert len(steps.read_text().splitlines()) > 5  # a header and the steps recomputed from the saved inputs


def test_the_error_for_a_damaged_file_is_one_short_line_that_points_to_repair(recorded, tmp_path):
    path, _ = recorded
    broken = damaged_copy(path, tmp_path / "broken.stridesync")
    with pytest.raises(SessionError):
        Session.open(broken).close()
    for args in (("export", broken, "--events", tmp_path / "e.csv"), ("replay", broken, "--fast")):
        r = run(*args)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert "corrupt" in r.stderr and f"stridesync repair {broken}" in r.stderr
        short = r.stderr.replace(str(broken), "FILE")  # the message, paths aside: not SQLite's diagnostics
        assert len(short) < 200 and "Traceback" not in short and "btree" not in short.lower(), short
    assert not (tmp_path / "e.csv").exists()


def test_repairing_an_intact_file_copies_every_row(recorded, tmp_path):
    path, n_inputs = recorded
    out = tmp_path / "copy.stridesync"
    r = run("repair", path, "--out", out)
    assert r.returncode == 0, r.stderr
    assert "reads in full" in r.stdout and "lost" not in r.stdout
    with Session.open(out) as a, Session.open(path) as b:
        assert a.n_inputs == b.n_inputs == n_inputs
        assert a.steps() == b.steps() and a.has_results()


def test_repair_refuses_bad_input_in_one_line_and_leaves_nothing(recorded, tmp_path):
    path, _ = recorded
    text = tmp_path / "notes.stridesync"
    text.write_text("time_s,left_shin_x\n1,2\n")
    existing = tmp_path / "exists.stridesync"
    existing.write_bytes(b"x")
    cases = [((text, "--out", tmp_path / "a.stridesync"), "not an SQLite database"),
             ((tmp_path / "missing.stridesync", "--out", tmp_path / "b.stridesync"), "no such session file"),
             ((path, "--out", existing), "already exists"),
             ((path, "--out", tmp_path / "no" / "c.stridesync"), "does not exist")]
    for args, words in cases:
        r = run("repair", *args)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and words in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exists.stridesync", "notes.stridesync"]
