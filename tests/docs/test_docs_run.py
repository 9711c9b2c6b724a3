"""Docs that run (issue 13): every Python block of README.md and docs/*.md is executed,
so no example can rot. See mdblocks.py for the markers of partial blocks and of blocks
that show an error. Each file's blocks run in order in one namespace, in a scratch
directory, from a file whose line numbers are the Markdown's (errors point there)."""

from __future__ import annotations
import __future__

import builtins
import os
import sys
import types
from pathlib import Path

import pytest
from mdblocks import Block, blocks

import knit.errors

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Blocks of pages other people own that are partial on purpose but carry no marker yet
# (the page's owner may add `<!-- docs: skip -->` and remove the line here).
UNMARKED_PARTIAL = {
    ("verification.md", "report = check_instr(my_instr)"),
    ("gemmini.md", "run = simulate(p)"),
    ("traces.md", "t = q.trace()"),
    ("traces.md", "knit schedule trace: 6 step(s)"),
    ("tuning.md", "def blocked(p, bi, bj, bk)"),
}


def _partial(b: Block) -> bool:
    return any(b.path.name == f and text in b.code for f, text in UNMARKED_PARTIAL)


def _error_class(name: str) -> type:
    cls = getattr(knit.errors, name, None) or getattr(builtins, name, None)
    assert isinstance(cls, type) and issubclass(cls, BaseException), name
    return cls


def _run(b: Block, ns: dict, tmp: Path) -> None:
    # padded so that the line numbers of tracebacks and knit errors are the Markdown's
    src = tmp / f"block{b.line}" / f"{b.path.name}.py"
    src.parent.mkdir()
    ns["__file__"] = str(src)
    src.write_text("\n" * (b.line - 1) + b.code + "\n")
    # a future import stays in force for the blocks after it, as in a Python session
    future = __future__.annotations
    flags = future.compiler_flag if ns.get("annotations") is future else 0
    code = compile(src.read_text(), str(src), "exec", flags=flags, dont_inherit=True)
    if b.mode == "raises":
        with pytest.raises(_error_class(b.error)) as info:
            exec(code, ns)
        assert b.phrase in str(info.value), f"{b.where}: {info.value}"
    else:
        exec(code, ns)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_python_blocks_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    # one module for the page, so that inspect finds the source of its classes (@config)
    module = types.ModuleType(f"docs_{path.stem}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    ns = module.__dict__
    for b in blocks(path):
        if b.mode == "skip" or _partial(b):
            continue
        try:
            _run(b, ns, tmp_path)
        except Exception as e:
            raise AssertionError(f"{b.where}: the block fails: {type(e).__name__}: {e}") from e


def test_every_marker_is_understood():
    for path in DOCS:
        for b in blocks(path):
            if b.mode == "raises":
                _error_class(b.error)
                assert b.phrase, f"{b.where}: a raises marker needs ': phrase'"


def test_blocks_are_found():
    found = {p.name: len(blocks(p)) for p in DOCS}
    assert found["README.md"] >= 1 and found["tutorial.md"] >= 4, found
    assert os.path.exists(ROOT / "docs" / "language.md")


def test_star_import_of_scheduling_binds_only_the_api():
    ns: dict = {}
    exec("from knit.stdlib.scheduling import *", ns)
    assert not {"K", "N", "T", "S", "L"} & set(ns)
