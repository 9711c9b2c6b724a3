"""The layers of docs/architecture.md, enforced: which part of knit may import which.

Every import of a knit module in src/knit is read with `ast` -- at module level and
inside functions alike (a lazy import is still a dependency) -- and checked against
LAYERS: a module may import its own unit and any unit on a lower layer, nothing on its
own layer or above, except for the pairs in EXCEPTIONS, each with its reason. A
second test asserts that no import cycle goes through procedure.py.
"""

from __future__ import annotations

import ast
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
_EXO_STDLIB = ("knit.stdlib.stdlib", "knit.stdlib.inspection", "knit.stdlib.vectorizing",
               "knit.stdlib.loop_schedules", "knit.stdlib.halide_scheduling_ops")

# (importer prefix, imported module) -> why this arrow against the layers is allowed
EXCEPTIONS = {
    ("knit.rewrite", "knit.procedure"):
        "temporary: rewrites still derive Procedures themselves; issue 14 item 1 makes "
        "them return IR and one wrapper derive the Procedure, which removes this arrow",
    ("knit.rewrite.memory", "knit.libs.externs"):
        "temporary: Extern and ExternTypeError now live in knit.extern (libs.externs "
        "re-exports them); rewrite/ is being refactored and switches with it",
    ("knit.errors", "knit.ir.srcinfo"):
        "user_call builds the SrcInfo an error points at; srcinfo.py imports nothing of "
        "knit at module level, so the import (kept inside the function) makes no cycle",
    ("knit.instrcheck.harness", "knit.libs.memories"):
        "the C harness that checks an instruction against its semantics allocates its "
        "buffers in DRAM_STATIC; instrcheck is a tool above the core, not under libs",
}


def unit_of(mod: str) -> str:
    parts = mod.split(".")
    if len(parts) == 1:
        return "knit"
    if mod.startswith(_EXO_STDLIB):
        return "stdlib.exo"
    if mod.startswith("knit.stdlib.gemm"):
        return "stdlib.gemm"
    if parts[1] == "main":  # `python -m knit` and `knitc` are one tool (they call each other)
        return "cli"
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


def imports_of(mod: str) -> list[tuple[int, str]]:
    """(line, imported knit module) for every import in `mod`, module- and
    function-level."""
    path = MODULES[mod]
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
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


# rewrite/ -> procedure.py is the one arrow allowed to close a cycle for now (see
# EXCEPTIONS); every other way back to procedure.py is a defect
_TEMPORARY = [("knit.rewrite", "knit.procedure")]


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
