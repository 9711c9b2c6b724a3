"""Exo's precision rule (docs/semantics.md#precision-rule): a data operation's operands,
and an extern's typed arguments, have one precision. A procedure breaking it loads (as
in Exo) and is refused where it would get a meaning: C, compiling, the interpreter."""

from __future__ import annotations

import numpy as np
from refusals import expect_error, marked_line

from knit import compile_procs_to_strings, config, proc
from knit.equiv import check_backends
from knit.errors import KnitTypeError
from knit.libs.externs import relu, select
from knit.stdlib.scheduling import set_precision


def _mixed():
    @proc
    def mixed(n: size, m: size, x: f32[n, m], y: i8[n, m], res: f64[n, m]):
        for i in seq(0, n):
            for j in seq(0, m):
                res[i, j] = x[i, j] + y[i, j]  # <- mixed

    return mixed


def _refused_everywhere(p, where, *phrases):
    line = marked_line(where)
    n, m = 2, 3
    args = (n, m, np.ones((n, m), np.float32), np.ones((n, m), np.int8),
            np.zeros((n, m), np.float64))
    for use in (p.c_code_str, lambda: compile_procs_to_strings([p], "t.h"),
                p.compile, lambda: p.interpret(*args)):
        err = expect_error(use, KnitTypeError, "Errors occurred during precision checking",
                           *phrases, line=line)
        assert isinstance(err, TypeError)  # Exo raises a TypeError


def test_operands_of_two_precisions_are_refused_where_code_gets_a_meaning():
    p = _mixed()  # the definition is accepted, as in Exo
    _refused_everywhere(p, _mixed, "cannot compute operation '+'",
                        "inconsistent precision types: f32 and i8", "set_precision")


def test_a_callee_of_mixed_precision_refuses_its_caller():
    mixed = _mixed()

    @proc
    def caller(n: size, m: size, x: f32[n, m], y: i8[n, m], res: f64[n, m]):
        mixed(n, m, x, y, res)

    _refused_everywhere(caller, _mixed, "f32 and i8")


def test_set_precision_making_the_operands_agree_gives_a_meaning():
    p = set_precision(_mixed(), "y", "f32")
    check_backends(p, trials=3)


def test_a_generic_R_buffer_is_f32_for_the_rule():
    def define():
        @proc
        def r_f64(n: size, x: R[n], y: f64[n]):
            for i in seq(0, n):
                y[i] = x[i] * y[i]  # <-

        return r_f64

    p = define()
    err = expect_error(p.c_code_str, KnitTypeError, "f32 and f64", line=marked_line(define))
    assert "'*'" in str(err)


def test_a_config_field_has_its_declared_precision():
    @config
    class Scale:
        a: f32

    def define():
        @proc
        def scaled(n: size, y: f64[n]):
            for i in seq(0, n):
                y[i] = Scale.a * y[i]  # <-

        return scaled

    expect_error(define().c_code_str, KnitTypeError, "f32 and f64",
                 line=marked_line(define))


def test_two_unsigned_and_signed_integer_types_are_refused():
    def define():
        @proc
        def ints(n: size, x: ui8[n], y: i8[n]):
            for i in seq(0, n):
                y[i] = x[i] + y[i]  # <-

        return ints

    expect_error(define().c_code_str, KnitTypeError, "ui8 and i8", line=marked_line(define))


def test_extern_arguments_of_two_precisions_are_refused():
    def define():
        @proc
        def sel(x: i8[16], y: f32[16], z: f64[16]):
            for i in seq(0, 16):
                z[i] = select(x[i] * 2, y[i], z[i], -x[i])  # <-

        return sel

    p = define()
    for use in (p.c_code_str, lambda: p.interpret(np.ones(16, np.int8),
                                                  np.ones(16, np.float32),
                                                  np.zeros(16))):
        expect_error(use, KnitTypeError, "all extern arguments must have a same type",
                     "select", line=marked_line(define))


def test_what_the_rule_allows_runs_alike_in_c_and_the_interpreter():
    # stores convert; literals adopt the other operand's precision; i8 * i8 is i8
    # arithmetic stored into i32 (Gemmini's accumulation); externs of one precision
    @proc
    def allowed(n: size, x: f32[n], y: f32[n], a: i8[n], b: i8[n], res: f64[n],
                acc: i32[n], r: R[n], out: f32[n]):
        for i in seq(0, n):
            res[i] = x[i] + y[i]
            res[i] += x[i] * 2.0 + 1
            res[i] = res[i] * 0.5
            acc[i] = a[i] * b[i]
            acc[i] += -a[i]
            out[i] = r[i] * x[i] + relu(x[i] - 3.0)
            out[i] = select(x[i], 0.0, y[i], r[i])

    check_backends(allowed, trials=3)
    compile_procs_to_strings([allowed], "allowed.h")
