"""What the C backend refuses, and how it names functions that would clash."""

from __future__ import annotations

import numpy as np
import pytest
from backend_cc import strict_compile

from knit import config, proc
from knit.backend.c import compile_procs_to_strings
from knit.errors import CompileError, KnitError, KnitTypeError


def _helper(c: float):
    @proc
    def helper(x: f32[1]):
        x[0] += c

    return helper


h1, h2 = _helper(1.0), _helper(2.0)


@proc
def both(x: f32[1]):
    h1(x)
    h2(x)


def test_static_callees_with_the_same_name_are_renamed(tmp_path):
    c, h = compile_procs_to_strings([both], "t.h")
    assert strict_compile("gcc", c, h, "t.h", tmp_path).returncode == 0
    assert "static void helper(void *ctxt, float* restrict x) {\n    (void) ctxt;\n" \
        "    x[0] += 1.0f;" in c
    assert "static void helper_1(void *ctxt, float* restrict x) {\n    (void) ctxt;\n" \
        "    x[0] += 2.0f;" in c
    assert "    helper(ctxt, x);\n    helper_1(ctxt, x);" in c
    x = np.zeros(1, np.float32)
    both.compile()(x)
    assert x[0] == 3.0


def test_public_procs_with_the_same_name_are_refused():
    with pytest.raises(KnitError, match="two different procedures are both named 'helper'"):
        compile_procs_to_strings([h1, h2], "t.h")


def test_public_proc_with_a_reserved_name_is_refused():
    @proc
    def free(x: f32[1]):
        x[0] = 1.0

    with pytest.raises(KnitError, match="'free' cannot be a C function name"):
        compile_procs_to_strings([free], "t.h")


def test_a_callee_named_like_a_c_keyword_is_renamed():
    @proc
    def double(x: f32[1]):
        x[0] = x[0] * 2.0

    @proc
    def caller(x: f32[1]):
        double(x)

    c, _ = compile_procs_to_strings([caller], "t.h")
    assert "static void double_1(" in c and "    double_1(ctxt, x);" in c


def test_generic_r_data_passed_as_f64_is_refused():
    """R is compiled as float: an R parameter cannot take f64 data in C."""
    @proc
    def generic(x: R[4]):
        x[0] = 1.0

    @proc
    def caller(y: f64[4]):
        generic(y)

    with pytest.raises(KnitTypeError, match="argument 'x' of generic has the generic type "
                       "R, compiled as float, but gets f64 data") as info:
        caller.c_code_str()
    assert "test_codegen_errors.py:" in str(info.value)


@config(disable_rw=True)
class Hidden:
    v: f32


def test_configs_without_rw_cannot_be_compiled():
    @proc
    def reads_hidden(x: f32[1]):
        x[0] = Hidden.v

    with pytest.raises(KnitTypeError, match="disable_rw=True") as info:
        reads_hidden.c_code_str()
    assert "x[0] = Hidden.v" in str(info.value)


def test_bad_template_field_is_a_compile_error():
    from knit import DRAM, instr

    @instr("{dst_data} = {src_data;")
    def indexed(dst: [f32][1] @ DRAM, src: [f32][1] @ DRAM):
        dst[0] = src[0]

    @proc
    def uses(x: f32[2]):
        indexed(x[0:1], x[1:2])

    with pytest.raises(CompileError, match="instr .indexed. is not a valid template") as info:
        uses.c_code_str()
    assert "test_codegen_errors.py:" in str(info.value)
