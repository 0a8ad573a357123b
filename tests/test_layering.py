"""The house's shape: no module reads another module's private attributes (issue #13).

A private attribute (``_name``, not ``__dunder__`` nor an Enum ``_sunder_``) may be read through ``self`` or
``cls`` anywhere, and through any other object only in the module that defines it; no module imports another's
private names (assigns ``self._name``,
declares ``def _name`` / ``class _Name``, or binds ``_name`` at module level). Everything else is a reach into
another module's insides: it goes through a public property, method or listener instead.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = [ROOT / "src" / "stridesync", ROOT / "ui" / "stridesync_ui"]
SUNDER = re.compile(r"^_[A-Za-z0-9]+(_[A-Za-z0-9]+)*_$")


def _defined_here(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def private_reads(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    mine = _defined_here(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):  # from other_module import _private
            if node.level == 0 and not (node.module or "").startswith("stridesync"):
                continue  # third-party: see THIRD_PARTY_PRIVATE
            if node.level and node.module is None:
                continue  # ``from . import _submodule``: a package's own private modules
            out += [f"{path.relative_to(ROOT)}:{node.lineno}: from {'.' * node.level}{node.module or ''} import {a.name}"
                    for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
            continue
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or name.startswith("__") or SUNDER.match(name):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        if name in mine:
            continue
        out.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return out


def test_no_module_reads_another_modules_private_attributes():
    found = [hit for pkg in PACKAGES for f in sorted(pkg.rglob("*.py")) for hit in private_reads(f)]
    assert not found, "private attributes read across modules:\n" + "\n".join(found)


#: third-party private names we rely on, each with its reason (checked to still exist)
THIRD_PARTY_PRIVATE = {
    # the per-hop filtering of the real-time core calls SciPy's compiled sosfilt kernel directly: 3x faster
    # than scipy.signal.sosfilt's argument checks on short blocks (bench/core_throughput.py)
    ("scipy.signal._sosfilt", "_sosfilt"),
}


def test_third_party_private_names_we_use_still_exist():
    import importlib

    for module, name in THIRD_PARTY_PRIVATE:
        assert hasattr(importlib.import_module(module), name), f"{module}.{name} is gone: see its reason above"


def test_nothing_wraps_or_patches_the_core():
    """Watchers use ``core.add_listener`` and public properties: no ``__getattr__`` stand-ins, no methods
    replaced on a live object."""
    found = []
    for pkg in PACKAGES:
        for f in sorted(pkg.rglob("*.py")):
            tree = ast.parse(f.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "__getattr__":
                    found.append(f"{f.relative_to(ROOT)}:{node.lineno}: def __getattr__")
                if isinstance(node, ast.Assign):
                    for tgt in node.targets:
                        if (isinstance(tgt, ast.Attribute) and tgt.attr in ("push_many", "push", "finish", "declare_gap")
                                and not (isinstance(tgt.value, ast.Name) and tgt.value.id == "self")):
                            found.append(f"{f.relative_to(ROOT)}:{node.lineno}: {ast.unparse(tgt)} = …")
    assert not found, "\n".join(found)


def test_the_check_sees_a_reach_into_another_module(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(analyzer):\n    return analyzer.core._now\n")
    good = tmp_path / "good.py"
    good.write_text("class A:\n    def __init__(self):\n        self._x = 1\n\ndef f(a):\n    return a._x\n")
    global ROOT
    old, ROOT = ROOT, tmp_path
    try:
        assert private_reads(bad) == ["bad.py:2: analyzer.core._now"]
        assert private_reads(good) == []
    finally:
        ROOT = old


# ----------------------------------------------------------------------------------------- the import graph
#: the layers, lowest first: a module imports only from its own layer or below (at module level or inside a
#: function). The longest matching prefix decides; every module must match one (a new package gets a layer).
LAYERS = {
    0: ("stridesync", "stridesync.errors", "stridesync.model", "stridesync.ringlog"),
    1: ("stridesync.pacing", "stridesync.protocol", "stridesync.clock", "stridesync.roster", "stridesync.lsl_streams",
        "stridesync.evaluate", "stridesync.core", "stridesync.io", "stridesync.sim"),
    2: ("stridesync.live", "stridesync.live_bulk"),
    3: ("stridesync.session", "stridesync.pipeline", "stridesync.sources", "stridesync.sinks"),
    4: ("stridesync.live_run", "stridesync.team", "stridesync.report"),
    5: ("stridesync_ui",),  # the dashboard: Qt, only here
    6: ("stridesync.cli",),  # the entry points: the commands open the dashboard too
}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg, top in ((ROOT / "src" / "stridesync", ROOT / "src"), (ROOT / "ui" / "stridesync_ui", ROOT / "ui")):
        for f in pkg.rglob("*.py"):
            name = ".".join(f.relative_to(top).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = f
    return out


def _layer(module: str) -> int | None:
    best = None
    for layer, prefixes in LAYERS.items():
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) > best[0]):
                best = (len(p), layer)
    return None if best is None else best[1]


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Module → our modules it imports at module level (outside ``if TYPE_CHECKING``), and inside functions."""
    mods = _modules()
    top: dict[str, set[str]] = {}
    inner: dict[str, set[str]] = {}
    for name, f in mods.items():
        tree = ast.parse(f.read_text(encoding="utf-8"))
        is_pkg = f.name == "__init__.py"
        top[name], inner[name] = set(), set()

        def targets(node) -> list[str]:
            if isinstance(node, ast.Import):
                return [a.name for a in node.names]
            base = name.split(".") if is_pkg else name.split(".")[:-1]
            if node.level:
                base = base[:len(base) - (node.level - 1)]
                m = ".".join(base + ([node.module] if node.module else []))
            else:
                m = node.module or ""
            return [f"{m}.{a.name}" if f"{m}.{a.name}" in mods else m for a in node.names]

        def walk(body, level_set: set[str]) -> None:
            for node in body:
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    level_set.update(t for t in targets(node) if t in mods and t != name)
                elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                    continue
                elif isinstance(node, (ast.If, ast.Try, ast.With)):
                    walk(node.body, level_set)
                    for h in getattr(node, "handlers", []):
                        walk(h.body, level_set)
                    walk(getattr(node, "orelse", []), level_set)
                    walk(getattr(node, "finalbody", []), level_set)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    for sub in ast.walk(node):
                        if isinstance(sub, (ast.Import, ast.ImportFrom)):
                            inner[name].update(t for t in targets(sub) if t in mods and t != name)

        walk(tree.body, top[name])
    return top, inner


def test_the_import_graph_has_no_circles_and_nothing_imports_upward():
    top, inner = import_graph()
    unplaced = sorted(m for m in top if _layer(m) is None)
    assert not unplaced, f"modules in no layer (add them to LAYERS): {unplaced}"
    upward = [f"{m} (layer {_layer(m)}) imports {d} (layer {_layer(d)})"
              for m in sorted(top) for d in sorted(top[m] | inner[m]) if _layer(d) > _layer(m)]
    assert not upward, "imports going upward:\n" + "\n".join(upward)
    # circles among module-level imports (Tarjan's strongly connected components)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in top[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    for v in sorted(top):
        if v not in index:
            visit(v)
    assert not circles, f"import circles: {circles}"
    assert len(top) > 80  # the walk found the house
