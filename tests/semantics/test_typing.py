"""Typing of data expressions (docs/semantics.md#mixed-precision, #literal-type)."""

from __future__ import annotations

import pytest

from knit import proc
from knit.ir import nodes as N, types as T


def rhs_of(p) -> N.Expr:
    return p._loopir_proc.body[0].rhs


def test_f32_times_f64_plus_f32_is_f64():
    # pins semantics.md#mixed-precision
    @proc
    def f(x: f32[1], z: f64[1], o: f64[1]):
        o[0] = x[0] * z[0] + x[0]

    e = rhs_of(f)
    assert e.lhs.type == T.F64  # x * z
    assert e.type == T.F64  # (x * z) + x, not f32


@pytest.mark.parametrize("a, b, want", [
    ("f16", "f32", "f32"), ("f32", "f16", "f32"), ("f16", "f64", "f64"),
    ("i32", "f16", "f16"), ("f32", "i8", "f32"), ("i8", "ui8", "i32"), ("ui16", "i32", "i32"),
])
def test_binary_op_type_is_c_usual_arithmetic_conversion(a, b, want):
    # pins semantics.md#mixed-precision
    assert str(T.join_real(T.DATA_TYPES[a], T.DATA_TYPES[b])) == want


def test_literal_adopts_the_other_operand():
    # pins semantics.md#literal-type
    @proc
    def f(x: f32[1], z: f64[1]):
        z[0] = x[0] * 2.0 + z[0]

    e = rhs_of(f)
    assert e.lhs.type == T.F32 and e.lhs.rhs.type == T.R and e.type == T.F64
