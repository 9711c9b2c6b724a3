"""The layers of docs/architecture.md, enforced: which part of knit may import which.

Every import of a knit module in src/knit is read with `ast` -- at module level and
inside functions alike (a lazy import is still a dependency) -- and checked against
LAYERS: a module may import its own unit and any unit on a lower layer, nothing on its
own layer or above, except for the pairs in EXCEPTIONS, each with its reason. A
second test asserts that no import cycle goes through procedure.py.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Lowest first. A unit is a module or package directly under knit/ (`knit` is the
# package's own __init__, the public API), except where unit_of says otherwise.
LAYERS = [
    ["errors"],
    ["ir"],
    ["memory", "config", "extern", "cache", "analysis"],
    ["frontend"],
    ["cursors", "backend"],
    ["runtime", "trace"],
    ["rewrite"],
    ["procedure"],
    ["equiv"],
    ["instrcheck", "tuning", "API_types", "API_cursors"],
    ["stdlib"],  # the scheduling primitives (stdlib/scheduling.py and its parts)
    ["knit", "API_scheduling"],  # the public API
    # written against the public API, as user code is
    ["API", "stdlib.exo", "libs"],
    ["platforms", "core"],
    ["stdlib.gemm", "cli"],
]

# Exo's standard library (stdlib/stdlib.py and the modules it re-exports) is user-level
# code built from the public API and the primitives; stdlib/gemm/ builds kernels for
# platforms/.
_EXO_STDLIB = ("knit.stdlib.stdlib", "knit.stdlib.passes", "knit.stdlib.inspection",
               "knit.stdlib.vectorizing",
               "knit.stdlib.loop_schedules", "knit.stdlib.halide_scheduling_ops")

# (importer prefix, imported module) -> why this arrow against the layers is allowed
EXCEPTIONS = {
    ("knit.instrcheck.harness", "knit.libs.memories"):
        "the C harness that checks an instruction against its semantics fills register "
        "buffers by recognising VectorRegisters memories (a libs class); instrcheck is a "
        "tool above the core, not under libs",
    ("knit.stdlib.stdlib", "knit.libs.externs"):
        "Exo's stdlib passes on the relu and select externs (its inspection module "
        "star-imports exo.platforms.x86, which imports them); Exo programs call relu "
        "with only `from exo.stdlib.stdlib import *` in scope",
}


def unit_of(mod: str) -> str:
    parts = mod.split(".")
    if len(parts) == 1:
        return "knit"
    if mod.startswith(_EXO_STDLIB):
        return "stdlib.exo"
    if mod.startswith("knit.stdlib.gemm"):
        return "stdlib.gemm"
    if parts[1] in ("main", "usercode"):  # the command-line unit: exocc (knit.main) and
        return "cli"  # knitc (knit.cli), and what both run first (knit.usercode)
    return parts[1]


RANK = {u: i for i, layer in enumerate(LAYERS) for u in layer}


def _modules() -> dict[str, Path]:
    mods = {}
    for f in (SRC / "knit").rglob("*.py"):
        parts = list(f.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = f
    return mods


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The knit module `name` denotes (a name inside a module: that module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


@functools.cache
def _parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def _tree(mod: str) -> ast.Module:
    return _parsed(MODULES[mod])


def imports_of(mod: str) -> list[tuple[int, str]]:
    """(line, imported knit module) for every import in `mod`, module- and
    function-level."""
    path = MODULES[mod]
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(_tree(mod)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = package.split(".")
                pkg = pkg[:len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([node.module] if node.module else []))
            # `from knit import cache` imports a module; `from knit import DRAM` a name
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                     for a in node.names]
        else:
            continue
        for name in names:
            if name == "knit" or name.startswith("knit."):
                target = _resolve(name)
                if target is not None:
                    out.append((node.lineno, target))
    return out


def _excused(mod: str, target: str) -> bool:
    return any((mod == a or mod.startswith(a + ".")) and
               (target == b or target.startswith(b + ".")) for a, b in EXCEPTIONS)


def test_every_unit_has_a_layer():
    units = {unit_of(m) for m in MODULES}
    assert units - set(RANK) == set(), "place new parts of knit in LAYERS"


def test_imports_follow_the_layers():
    wrong = []
    for mod in sorted(MODULES):
        u = unit_of(mod)
        for line, target in imports_of(mod):
            t = unit_of(target)
            if t == u or RANK[t] < RANK[u] or _excused(mod, target):
                continue
            wrong.append(f"{MODULES[mod].relative_to(SRC)}:{line}: {mod} ({u}, layer "
                         f"{RANK[u]}) imports {target} ({t}, layer {RANK[t]})")
    assert wrong == [], "imports against docs/architecture.md's layers:\n" + "\n".join(wrong)


def test_every_exception_is_still_needed():
    used = {(a, b) for a, b in EXCEPTIONS
            for mod in MODULES if mod == a or mod.startswith(a + ".")
            for _, target in imports_of(mod) if target == b or target.startswith(b + ".")}
    assert set(EXCEPTIONS) - used == set(), "remove exceptions nothing needs any more"


def _graph(skip=()) -> dict[str, set[str]]:
    return {m: {t for _, t in imports_of(m) if t != m and not
                any(m.startswith(a) and t == b for a, b in skip)} for m in MODULES}


def _reaches(graph, start: str, goal: str) -> list[str] | None:
    """A path start -> ... -> goal, or None."""
    seen, stack = {start}, [(start, [start])]
    while stack:
        m, path = stack.pop()
        for t in sorted(graph[m]):
            if t == goal:
                return path + [t]
            if t not in seen:
                seen.add(t)
                stack.append((t, path + [t]))
    return None


# no arrow is allowed to close a cycle through procedure.py (rewrite/ -> procedure.py
# was, until the rewrites derived Procedures through common.derive): any is a defect
_TEMPORARY: list = []


def test_no_import_cycle_goes_through_procedure():
    cycle = _reaches(_graph(_TEMPORARY), "knit.procedure", "knit.procedure")
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_check_can_fail():
    # a back arrow into procedure.py from a lower layer is found
    graph = _graph(_TEMPORARY)
    graph["knit.cursors.cursor"] = graph["knit.cursors.cursor"] | {"knit.procedure"}
    assert _reaches(graph, "knit.procedure", "knit.procedure") is not None


@pytest.mark.parametrize("source, expected", [
    ("from knit import cache\n", "knit.cache"),
    ("from knit import DRAM\n", "knit"),
    ("def f():\n    from knit.procedure import Procedure\n", "knit.procedure"),
    ("import knit.ir.nodes as N\n", "knit.ir.nodes"),
    ("from .paths import stmt_at\n", "knit.cursors.paths"),
])
def test_imports_are_read_at_every_level(tmp_path, monkeypatch, source, expected):
    f = tmp_path / "probe.py"
    f.write_text(source)
    monkeypatch.setitem(MODULES, "knit.cursors.probe", f)
    assert [t for _, t in imports_of("knit.cursors.probe")] == [expected]


# ---------------------------------------------------------------- private attributes
#
# Outside rewrite/ and cursors/, no module touches another's underscored attributes:
# a Procedure is read through knit.ir.handles (ir_of, scope_of, check), a cursor
# through knit.cursors.internal (proc_of, node_of, path_of, ...), and what a layer
# remembers about a Procedure is kept beside it (handles.Notes), not set on it.

# The parts that still work on cursors' and Procedures' internals (issue 14 item 1
# moves rewrite/ onto internal sites; cursors/ owns the cursor classes).
_INSIDERS = ("rewrite", "cursors")

# (module prefix, attribute) -> why that module may use that underscored attribute of an
# object it did not define
PRIVATE_EXCEPTIONS = {
    ("knit.runtime", "_name"):
        "ctypes.CDLL._name, the path a library was loaded from, is documented by ctypes",
    ("knit.platforms.gemmini.memories", "_name"):
        "ctypes.CDLL._name (as above): a fault check is kept per loaded library",
}

_REFLECTION = ("getattr", "setattr", "hasattr", "delattr")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _own_attributes(tree: ast.Module) -> set[str]:
    """The underscored names the module's own classes define: `self._x = ...`, methods
    and class attributes, `__slots__` entries. Reading them on another instance of the
    class (`other._x` in `__eq__`) is the class's own business."""
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and \
                isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            own.add(node.attr)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    own.add(item.name)
                targets = item.targets if isinstance(item, ast.Assign) else \
                    [item.target] if isinstance(item, ast.AnnAssign) else []
                for t in targets:
                    if isinstance(t, ast.Name):
                        own.add(t.id)
                    if isinstance(t, ast.Name) and t.id == "__slots__":
                        own |= {c.value for c in ast.walk(item.value)
                                if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return own


def _absolute(mod: str, node: ast.ImportFrom) -> str:
    """The module an ImportFrom imports from, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = mod if MODULES[mod].name == "__init__.py" else mod.rpartition(".")[0]
    pkg = package.split(".")
    pkg = pkg[:len(pkg) - (node.level - 1)]
    return ".".join(pkg + ([node.module] if node.module else []))


def _is_knit(name: str) -> bool:
    return name == "knit" or name.startswith("knit.")


def _bound_modules(mod: str, tree: ast.Module) -> dict[str, str]:
    """Local name -> the module (or, for names imported from outside knit, the library)
    it is bound to by an import."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.partition(".")[0]] = a.name if a.asname else \
                    a.name.partition(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(mod, node)
            for a in node.names:
                full = f"{base}.{a.name}"
                if not _is_knit(base) or full in MODULES:
                    names[a.asname or a.name] = full
    return names


def private_uses(mod: str, excused=PRIVATE_EXCEPTIONS) -> list[tuple[int, str, str]]:
    """(line, code, name) of every use in `mod` of an underscored attribute of an
    object, or an underscored name of a module, that is not `mod`'s own, unless
    `excused`."""
    tree = _tree(mod)
    own, bound, out = _own_attributes(tree), _bound_modules(mod, tree), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = _absolute(mod, node)
            out += [(node.lineno, f"from {base} import {a.name}", a.name) for a in node.names
                    if _private(a.name) and _is_knit(base)
                    and unit_of(_resolve(base) or base) != unit_of(mod)]
            continue
        if isinstance(node, ast.Attribute):
            obj, attr = node.value, node.attr
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in _REFLECTION and len(node.args) >= 2 and \
                isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
            obj, attr = node.args[0], node.args[1].value
        else:
            continue
        if not _private(attr) or isinstance(obj, ast.Name) and obj.id in ("self", "cls"):
            continue
        if isinstance(obj, ast.Name) and obj.id in bound:
            target = bound[obj.id]
            if not _is_knit(target) or unit_of(target) == unit_of(mod):
                continue  # another library's name (sys._getframe), or one of its own unit's
        elif attr in own or any(_within(mod, a) and attr == b for a, b in excused):
            continue
        out.append((node.lineno, ast.unparse(node).splitlines()[0][:70], attr))
    return out


def _within(mod: str, prefix: str) -> bool:
    return mod == prefix or mod.startswith(prefix + ".")


def _checked_modules() -> list[str]:
    return [m for m in sorted(MODULES) if unit_of(m) not in _INSIDERS]


def test_no_module_outside_rewrite_and_cursors_touches_private_attributes():
    wrong = [f"{MODULES[m].relative_to(SRC)}:{line}: {code}"
             for m in _checked_modules() for line, code, _ in private_uses(m)]
    assert wrong == [], ("underscored attributes of another module's objects (read a "
                         "Procedure through knit.ir.handles, a cursor through "
                         "knit.cursors.internal):\n" + "\n".join(wrong))


def test_every_private_exception_is_still_needed():
    used = {(a, b) for a, b in PRIVATE_EXCEPTIONS for m in _checked_modules() if _within(m, a)
            for _, _, name in private_uses(m, excused={}) if name == b}
    assert set(PRIVATE_EXCEPTIONS) - used == set(), \
        "remove private-attribute exceptions nothing needs any more"


@pytest.mark.parametrize("source, flagged", [
    ("def f(c):\n    return c._node()\n", ["c._node"]),
    ("def f(p):\n    return p._loopir_proc.body\n", ["p._loopir_proc"]),
    ("def f(p, s):\n    p._trace_step = s\n", ["p._trace_step"]),
    ("def f(p):\n    return getattr(p, '_replacements', None)\n",
     ["getattr(p, '_replacements', None)"]),
    ("from knit.rewrite import common as K\nK._own\n", ["K._own"]),
    ("from knit.rewrite.common import _own\n", ["from knit.rewrite.common import _own"]),
    # the class's own attributes, on another instance of it
    ("class A:\n    def __init__(self):\n        self._x = 1\n"
     "    def __eq__(self, o):\n        return o._x == self._x\n", []),
    ("class S:\n    _fields_ = []\n\n\nnames = [f for f, _ in S._fields_]\n", []),
    # other libraries' names, dunders, the module's own unit
    ("import sys\nsys._getframe(0)\n", []),
    ("import sys as _s\n_s._getframe(0)\n", []),
    ("def f(x):\n    return x.__class__\n", []),
    ("from knit.cursors import paths as P\nP._go\n", []),
])
def test_private_uses_are_found(tmp_path, monkeypatch, source, flagged):
    f = tmp_path / "probe.py"
    f.write_text(source)
    monkeypatch.setitem(MODULES, "knit.cursors.probe", f)
    assert [code for _, code, _ in private_uses("knit.cursors.probe")] == flagged
