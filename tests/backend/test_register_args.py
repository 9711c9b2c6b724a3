"""Registers have no address: passing one to a compiled (non-instr) procedure is a
clear error at C generation, not C that fails to compile."""

from __future__ import annotations

import pytest
from refusals import marked_line

from knit import proc
from knit.errors import KnitTypeError
from knit.platforms.x86 import AVX2, mm256_loadu_ps


@proc
def load_into(r: f32[8] @ AVX2, x: f32[8] @ DRAM):
    mm256_loadu_ps(r, x[0:8])


@proc
def caller(x: f32[8] @ DRAM):
    a: f32[8] @ AVX2
    load_into(a, x)  # <- the call


def test_register_buffer_passed_to_a_compiled_proc_is_refused():
    with pytest.raises(KnitTypeError) as e:
        caller.c_code_str()
    msg = str(e.value)
    assert "cannot pass 'a' (AVX2) to the procedure load_into" in msg
    line = marked_line(__file__, "the call")
    assert f"test_register_args.py:{line}:" in msg
