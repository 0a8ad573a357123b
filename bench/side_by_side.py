"""Run one bench on an earlier revision and on the work tree, alternately, and compare their figures.

    .venv/bin/python bench/side_by_side.py --rev 9b41425 --bench core_throughput [--rounds 2] [-- BENCH ARGS]

The earlier revision is checked out into a temporary git worktree and run with its own ``src/`` and ``ui/`` first
on ``sys.path`` (same interpreter, same packages); the rounds alternate (old, new, old, new, ...) so that a busy
machine weighs on both alike. Each run's last line is its JSON figures; numeric figures are compared by their
median over the rounds. The last line printed is one JSON object: ``{"bench", "rev", "old": {...}, "new": {...},
"new_over_old": {...}}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_bench(tree: Path, bench: str, args: list[str]) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
               PYTHONPATH=os.pathsep.join([str(tree / "src"), str(tree / "ui"), str(tree)]))
    out = subprocess.run([sys.executable, str(tree / "bench" / f"{bench}.py"), *args], cwd=tree, env=env,
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(f"{bench} failed in {tree}: {out.stderr.strip().splitlines()[-1] if out.stderr else out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flat(v, key + "."))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = float(v)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", required=True, help="the earlier revision (a commit)")
    ap.add_argument("--bench", required=True, help="bench module name, e.g. core_throughput")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("rest", nargs=argparse.REMAINDER, help="-- then the bench's own arguments")
    a = ap.parse_args()
    args = a.rest[1:] if a.rest[:1] == ["--"] else a.rest
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(old_tree), a.rev], cwd=ROOT, check=True)
        try:
            runs: dict[str, list[dict]] = {"old": [], "new": []}
            for k in range(a.rounds):
                for name, tree in (("old", old_tree), ("new", ROOT)):
                    fig = flat(run_bench(tree, a.bench, args))
                    runs[name].append(fig)
                    print(f"round {k + 1} {name}: {json.dumps(fig)}", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old_tree)], cwd=ROOT, check=False)
    med = {n: {key: statistics.median(r[key] for r in rs if key in r) for key in rs[0]} for n, rs in runs.items()}
    ratio = {key: round(med["new"][key] / med["old"][key], 3) for key in med["new"]
             if key in med["old"] and med["old"][key]}
    print(json.dumps({"bench": a.bench, "rev": a.rev, "old": med["old"], "new": med["new"], "new_over_old": ratio}))


if __name__ == "__main__":
    main()
