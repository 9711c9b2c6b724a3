"""Misusing the sub-procedure primitives (replace, call_eqv, inline, ...) and patterns:
a block that does not match, an unrelated procedure, an instruction to inline, patterns
that match nothing, do not parse, or ask for a match past the last."""

from __future__ import annotations

import re

from refusals import expect_error, marked_line

from knit import DRAM, Memory, instr, proc
from knit.errors import PatternError, ProcedureTypeError, SchedulingError
from knit.stdlib.scheduling import (
    call_eqv,
    call_site_mem_aware_replace,
    divide_loop,
    extract_subproc,
    inline,
    insert_noop_call,
    make_instr,
    replace,
    replace_all,
)


class REGS(Memory):
    """Registers: only instructions touch them."""

    @classmethod
    def can_read(cls) -> bool:
        return False


@instr("{dst_data} = {src_data};")
def copy1(dst: [f32][1] @ DRAM, src: [f32][1] @ DRAM):
    dst[0] = src[0]


@instr("knit_zero8(&{dst_data});")
def zero8(dst: [f32][8] @ DRAM):
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        dst[i] = 0.0


@instr("knit_load8(&{dst_data}, &{src_data});")
def load8(dst: [f32][8] @ REGS, src: [f32][8] @ DRAM):
    for i in seq(0, 8):
        dst[i] = src[i]


@proc
def scale2(N: size, A: f32[N]):
    for i in seq(0, N):
        A[i] = A[i] * 2.0


@proc
def scale3(N: size, A: f32[N]):
    for i in seq(0, N):
        A[i] = A[i] * 3.0


def define_caller():
    @proc
    def caller(N: size, A: f32[N], B: f32[8]):
        scale2(N, A)  # <- call scale2
        copy1(B[0:1], B[1:2])  # <- call copy1
        for i in seq(0, 8):  # <- loop i
            B[i] = 1.0
    return caller


caller = define_caller()
CALL_SCALE2 = marked_line(define_caller, "call scale2")
CALL_COPY1 = marked_line(define_caller, "call copy1")
LOOP_I = marked_line(define_caller, "loop i")


# ---------------------------------------------------------------- replace


def test_replace_with_an_instr_of_another_shape():
    expect_error(lambda: replace(caller, caller.find_loop("i"), copy1), SchedulingError,
                 "replace: the block does not match the body of copy1", line=LOOP_I, file=__file__)


def test_replace_mismatch_is_described_in_object_code_terms():
    err = expect_error(lambda: replace(caller, caller.find_loop("i"), copy1), SchedulingError,
                       "does not match the body of copy1", line=LOOP_I, file=__file__)
    first_line = str(err).splitlines()[0]
    assert not re.search(r"\b(Assign|Reduce|For|If|Alloc|Call|WindowStmt)\b", first_line), \
        first_line


def test_replace_with_an_instr_computing_something_else():
    expect_error(lambda: replace(caller, caller.find_loop("i"), zero8), SchedulingError,
                 "the constants 0.0 and 1.0 differ", line=LOOP_I, file=__file__)


def test_replace_violating_the_instr_precondition():
    def define():
        @proc
        def f(M: size, B: f32[8, M]):
            for i in seq(0, 8):  # <-
                B[i, 0] = 0.0
        return f
    f = define()
    expect_error(lambda: replace(f, "for i in _: _", zero8), SchedulingError,
                 "zero8 requires `stride(dst, 0) == 1`, which could not be proven",
                 line=marked_line(define), file=__file__)


def test_replace_with_a_buffer_in_the_wrong_memory():
    def define():
        @proc
        def f(A: f32[8], B: f32[8]):
            for i in seq(0, 8):  # <-
                A[i] = B[i]
        return f
    f = define()
    expect_error(lambda: call_site_mem_aware_replace(f, "for i in _: _", load8),
                 SchedulingError,
                 "argument 'dst' of load8 must live in REGS, but 'A' lives in DRAM",
                 line=marked_line(define), file=__file__, exact=False)


def test_replace_with_a_name_instead_of_a_procedure():
    expect_error(lambda: replace(caller, caller.find_loop("i"), "zero8"),
                 ProcedureTypeError,
                 "replace: expected a procedure, got str")


def test_replace_all_with_a_non_procedure():
    expect_error(lambda: replace_all(caller, [zero8, 5]), ProcedureTypeError,
                 "replace_all: expected a procedure, got int")


# ---------------------------------------------------------------- call_eqv and inline


def test_call_eqv_with_an_unrelated_procedure():
    expect_error(lambda: call_eqv(caller, "scale2(_)", scale3), SchedulingError,
                 "call_eqv: scale3 is not known to be equivalent to scale2", line=CALL_SCALE2,
                 file=__file__)


def test_call_eqv_on_a_loop():
    expect_error(lambda: call_eqv(caller, caller.find_loop("i"), scale2), SchedulingError,
                 "call_eqv: expected a call", line=LOOP_I, file=__file__)


def test_inline_an_instr():
    expect_error(lambda: inline(caller, "copy1(_)"), SchedulingError,
                 "inline: copy1 is an instruction", line=CALL_COPY1, file=__file__)


def test_inline_a_loop():
    expect_error(lambda: inline(caller, caller.find_loop("i")), SchedulingError,
                 "inline: expected a call", line=LOOP_I, file=__file__)


def test_insert_noop_call_of_an_instr_that_does_something():
    expect_error(lambda: insert_noop_call(caller, caller.find_loop("i").before(), zero8,
                                    ["B[0:8]"]),
                 SchedulingError, "insert_noop_call: zero8 is not a no-op")


def test_extract_subproc_with_an_invalid_name():
    expect_error(lambda: extract_subproc(caller, caller.find_loop("i"), "a b"), SchedulingError,
                 "extract_subproc: 'a b' is not a valid name")


def test_make_instr_without_a_c_string():
    expect_error(lambda: make_instr(scale2, 5), SchedulingError,
                 "make_instr: c_instr must be a string")


# ---------------------------------------------------------------- patterns


def test_pattern_that_matches_nothing():
    err = expect_error(lambda: divide_loop(caller, "k", 4, ["ko", "ki"]), PatternError,
                       "matches nothing in caller")
    assert isinstance(err, SchedulingError)  # Exo scripts catch it as one


def test_malformed_pattern():
    expect_error(lambda: caller.find("for i in : _"), PatternError, "is not valid object code")


def test_malformed_block_pattern():
    expect_error(lambda: divide_loop(caller, "B[i] = _ ; ;", 2, ["a", "b"]), PatternError,
                 "is not valid object code")


def test_match_number_beyond_the_matches():
    expect_error(lambda: divide_loop(caller, "for _ in _: _ #5", 2, ["a", "b"]), PatternError,
                 "has fewer than 6 matches in caller")


def test_pattern_of_only_a_hole():
    expect_error(lambda: caller.find("_"), PatternError, "matches anything; name a statement")


def test_negative_match_number():
    expect_error(lambda: caller.find("for i in _: _ #-1"), PatternError, "#-1")


def test_unknown_allocation_or_argument():
    expect_error(lambda: caller.find_alloc_or_arg("zz"), PatternError,
                 "no allocation or argument named 'zz' in caller")
