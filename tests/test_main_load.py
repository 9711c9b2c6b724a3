"""knit.main.load_user_code and get_procs_from_module: the library half of exocc, as
Exo's exo.main has them (Exo's tests/test_apps.py calls both)."""

from __future__ import annotations

import sys
import textwrap

import pytest

import knit
from knit.main import get_procs_from_module, load_user_code

SRC = textwrap.dedent('''
    from __future__ import annotations
    from knit import proc, instr, config

    @config
    class CFG:
        a: f32

    @proc
    def pub(x: f32[8]):
        for i in seq(0, 8):
            x[i] = 0.0

    @proc
    def _private(x: f32[8]):
        x[0] = 1.0

    @instr("{x_data}[0] = 0;")
    def zero_one(x: [f32][1]):
        x[0] = 0.0

    alias = pub
''')


def test_load_user_code_runs_the_file(tmp_path):
    path = tmp_path / "lib_a.py"
    path.write_text(SRC)
    before = list(sys.path)
    mod = load_user_code(path)
    assert isinstance(mod.pub, knit.Procedure)
    assert mod.CFG is not None  # the @config class was read back through inspect
    assert sys.path == before  # as Exo: sys.path untouched
    # public, non-instruction Procedures; pub bound twice is listed once
    assert [p.name() for p in get_procs_from_module(mod)] == ["pub"]
    c, h = knit.compile_procs_to_strings(get_procs_from_module(mod), "lib_a.h")
    assert "pub(" in h and "zero_one" not in h


def test_get_procs_from_module_follows_all(tmp_path):
    path = tmp_path / "lib_b.py"
    path.write_text(SRC + '\n__all__ = ["zero_one", "_private", "alias"]\n')
    mod = load_user_code(str(path))
    # __all__ decides; instructions and underscored names are left out, as in Exo
    assert [p.name() for p in get_procs_from_module(mod)] == ["pub"]


def test_load_user_code_missing_file_and_user_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_user_code(tmp_path / "nope.py")
    bad = tmp_path / "bad.py"
    bad.write_text("raise ValueError('from the user file')\n")
    with pytest.raises(ValueError, match="from the user file"):
        load_user_code(bad)  # the user's exception propagates unchanged
