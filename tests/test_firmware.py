"""Pure firmware modules (firmware_proto/stridesync_fw) under CPython and under MicroPython.

The behaviour tests live in tests/mpy/run_fw_tests.py, plain asserts that MicroPython runs too; here
each of its ``test_*`` functions is one pytest case, and the whole file is also run under the
MicroPython WebAssembly port on node (tests/mpy/run_mpy.mjs), installed by tests/mpy/setup.sh.
"""

from __future__ import annotations

import functools
import importlib.util
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MPY = ROOT / "tests" / "mpy"
FW = ROOT / "firmware_proto"


def _load_shared():
    spec = importlib.util.spec_from_file_location("run_fw_tests", MPY / "run_fw_tests.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


shared = _load_shared()
SHARED_TESTS = sorted(n for n in dir(shared) if n.startswith("test_"))


@pytest.mark.parametrize("name", SHARED_TESTS)
def test_firmware_cpython(name):
    getattr(shared, name)()


def test_shared_suite_is_substantial():
    assert len(SHARED_TESTS) >= 25


# ---- MicroPython --------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _mpy_ready() -> str | None:
    """Install the runtime once (tests/mpy/setup.sh); return why not if it cannot run here."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are needed to run the firmware under MicroPython (WebAssembly port)"
    proc = subprocess.run(["bash", str(MPY / "setup.sh")], capture_output=True, text=True,
                          timeout=300)
    if proc.returncode != 0:
        pytest.fail(f"tests/mpy/setup.sh failed:\n{proc.stdout}\n{proc.stderr}")
    return None


def run_mpy(script: Path, *dirs: Path) -> subprocess.CompletedProcess:
    reason = _mpy_ready()
    if reason:
        pytest.skip(reason)
    return subprocess.run(["node", str(MPY / "run_mpy.mjs"), str(script), *map(str, dirs)],
                          capture_output=True, text=True, timeout=120, cwd=MPY)


def test_firmware_micropython():
    proc = run_mpy(MPY / "run_fw_tests.py", FW)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "micropython: all" in proc.stdout
    for name in SHARED_TESTS:
        assert f"ok {name}" in proc.stdout


def test_micropython_runner_fails_on_assertion():
    proc = run_mpy(MPY / "fail_on_purpose.py")
    assert proc.returncode != 0
    assert "deliberate failure" in proc.stderr


@pytest.mark.parametrize("body", [
    "print('no sentinel here')\n",
    "import sys\nprint('MPY-TESTS-OK')\nsys.exit(0)\n",
    "def f(:\n",  # a syntax error
    "import stridesync_fw_does_not_exist\nprint('MPY-TESTS-OK')\n",
])
def test_micropython_runner_fails_without_clean_finish(tmp_path, body):
    script = tmp_path / "case.py"
    script.write_text(body)
    assert run_mpy(script).returncode != 0


def test_micropython_runner_passes_clean_script(tmp_path):
    script = tmp_path / "ok.py"
    script.write_text("import sys\nassert sys.implementation.name == 'micropython'\n"
                      "print('MPY-TESTS-OK')\n")
    proc = run_mpy(script)
    assert proc.returncode == 0, proc.stderr


# ---- the board's main.py and the vector generator -------------------------------------------

def test_main_py_compiles(tmp_path):
    py_compile.compile(str(FW / "main.py"), cfile=str(tmp_path / "main.pyc"), doraise=True)


def test_main_py_uses_only_what_the_pure_modules_define():
    """main.py cannot run here; at least every firmware name it uses must exist."""
    import ast
    tree = ast.parse((FW / "main.py").read_text())
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("stridesync_fw"):
            for a in node.names:
                if node.module == "stridesync_fw":
                    aliases[a.asname or a.name] = importlib.import_module(f"stridesync_fw.{a.name}")
                else:
                    mod = importlib.import_module(node.module)
                    assert hasattr(mod, a.name), f"{node.module}.{a.name}"
    assert set(aliases) == {"A", "C", "P"}
    used = [(n.value.id, n.attr) for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in aliases]
    assert len(used) > 10
    for alias, attr in used:
        assert hasattr(aliases[alias], attr), f"{alias}.{attr}"


def test_golden_vectors_are_what_the_firmware_encodes():
    proc = subprocess.run([sys.executable, str(FW / "tools" / "gen_golden.py"), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_firmware_modules_avoid_cpython_only_features():
    """MicroPython has no dataclasses/typing/enum; the golden run above proves the rest."""
    for path in (FW / "stridesync_fw").glob("*.py"):
        text = path.read_text()
        for banned in ("import dataclasses", "from dataclasses", "import typing", "from typing",
                       "import enum", "from enum", "numpy", "from __future__"):
            assert banned not in text, f"{path.name}: {banned}"
