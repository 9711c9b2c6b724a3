"""knit's x86 instrs are parsed when first used (knit.procedure.lazy_instrs), so that
`import knit.platforms.x86` stays fast (issue 9, item 4); nothing else changes: an instr
with an error still raises it, with its file:line:col, at its first use at the latest,
and every shipped instr parses and checks (the eager check, parse_all)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest

import knit.platforms.x86 as X
from knit.errors import KnitError
from knit.procedure import Procedure, lazy_instrs, parse_all


def _module(tmp_path, name: str, src: str):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(src))
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    with lazy_instrs():
        spec.loader.exec_module(mod)
    return mod, str(path)


def test_import_leaves_x86_instrs_unparsed():
    code = ("import knit.platforms.x86 as X\nfrom knit.procedure import Procedure\n"
            "ps = [v for v in vars(X).values() if isinstance(v, Procedure)]\n"
            "print(len(ps), sum('_source' in vars(p) for p in ps))")
    n, pending = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split()
    assert int(n) > 60 and pending == n


def test_every_x86_instr_parses_and_checks():
    instrs = [v for v in vars(X).values() if isinstance(v, Procedure)]
    parse_all(instrs)  # the eager check
    for p in instrs:
        assert "_source" not in vars(p) and p.is_instr()
        p._check()


def test_pending_instr_answers_name_without_parsing_and_parses_on_use(tmp_path):
    mod, _ = _module(tmp_path, "lazy_ok", '''
        from __future__ import annotations
        from knit import instr, DRAM

        @instr("{dst_data} = {src_data};")
        def copy1(dst: [f32][1] @ DRAM, src: [f32][1] @ DRAM):
            for i in seq(0, 1):
                dst[i] = src[i]
        ''')
    p = mod.copy1
    assert "_source" in vars(p)
    assert p.name() == "copy1" and p.is_instr() and p.get_instr() == "{dst_data} = {src_data};"
    assert "_source" in vars(p)  # none of those parsed it
    text = str(p)  # a use: parsed now
    assert "_source" not in vars(p) and "dst[i] = src[i]" in text
    assert p.INTERNAL_proc().name == "copy1"


def test_pending_instr_error_is_raised_at_first_use_with_its_position(tmp_path):
    mod, path = _module(tmp_path, "lazy_bad", '''
        from __future__ import annotations
        from knit import instr, DRAM

        @instr("{dst_data} = {src_data};")
        def bad(dst: [f32][1] @ DRAM, src: [f32][1] @ DRAM):
            for i in seq(0, 1):
                dst[i] = undefined_name[i]
        ''')
    for _ in range(2):  # at every use, not only the first
        with pytest.raises(KnitError) as e:
            str(mod.bad)
        assert f"{path}:8:" in str(e.value) and "'undefined_name' is not defined" in str(e.value)


def test_instr_outside_lazy_instrs_is_parsed_at_definition(tmp_path):
    path = tmp_path / "eager_bad.py"
    path.write_text(textwrap.dedent('''
        from __future__ import annotations
        from knit import instr, DRAM

        @instr("{dst_data} = {src_data};")
        def bad(dst: [f32][1] @ DRAM, src: [f32][1] @ DRAM):
            for i in seq(0, 1):
                dst[i] = undefined_name[i]
        '''))
    spec = importlib.util.spec_from_file_location("eager_bad", path)
    with pytest.raises(KnitError, match="'undefined_name' is not defined"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_eager_environment_variable_parses_at_import():
    code = ("import knit.platforms.x86 as X\nfrom knit.procedure import Procedure\n"
            "print(sum('_source' in vars(v) for v in vars(X).values() "
            "if isinstance(v, Procedure)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**__import__("os").environ, "KNIT_EAGER_INSTRS": "1"})
    assert out.stdout.strip() == "0"
