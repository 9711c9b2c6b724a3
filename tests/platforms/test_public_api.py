"""Hardware libraries are user code: every file under knit/platforms imports only
knit's public API (knit, knit.libs.*, knit.stdlib.*, its own platform modules), and
importing a library parses its instructions without running the checker."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import knit
import knit.platforms

PLATFORMS = Path(knit.platforms.__file__).parent


def _knit_imports(tree: ast.Module):
    """(module, names) for every import of knit in `tree`; relative imports count."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((a.name, []) for a in node.names if a.name.split(".")[0] == "knit")
        elif isinstance(node, ast.ImportFrom):
            mod = "." * node.level + (node.module or "")
            if node.level or mod.split(".")[0] == "knit":
                yield mod, [a.name for a in node.names]


def _is_public(module: str, names: list[str]) -> bool:
    if module == "knit":
        return all(n in knit.__all__ or n in ("libs", "stdlib") for n in names)
    # a platform library may also import its own (public) modules
    return module.split(".")[:2] in (["knit", "libs"], ["knit", "stdlib"], ["knit", "platforms"])


def test_platforms_import_only_the_public_api():
    files = sorted(PLATFORMS.rglob("*.py"))
    assert PLATFORMS / "x86" / "avx2.py" in files and PLATFORMS / "neon.py" in files
    seen = 0
    for path in files:
        for module, names in _knit_imports(ast.parse(path.read_text())):
            seen += 1
            assert _is_public(module, names), f"{path.name} imports {module} {names}"
    assert seen >= 5  # the check saw the libraries' imports


@pytest.mark.parametrize("src", [
    "from knit.ir import nodes", "import knit.frontend.parse", "import knit.backend.c",
    "from knit import procedure", "from knit import ir", "from knit.procedure import instr",
    "from ..ir import nodes", "from ..frontend import parse", "from . import x86",
    "from knit.libsx import y"])
def test_the_purity_check_catches_private_imports(src):
    found = list(_knit_imports(ast.parse(src)))
    assert found and not all(_is_public(m, n) for m, n in found), src


@pytest.mark.parametrize("module, instr", [("knit.platforms.x86", "mm512_fmadd_ps"),
                                           ("knit.platforms.neon", "neon_vfmla_4xf32_4xf32")])
def test_import_parses_but_does_not_check(module, instr):
    # checking (bounds, preconditions) runs the z3-backed checker; importing must not
    code = (f"import sys, {module} as lib\n"
            f"assert lib.{instr}.is_instr()\n"
            "print('knit.frontend.checks' in sys.modules, 'z3' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]
