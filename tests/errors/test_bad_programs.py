"""Bad programs: each must fail at definition with the right error class, a message
naming the problem, and the line marked `# <-` in its source."""

from __future__ import annotations

import re

import pytest
from refusals import expect_error, marked_line

from knit import DRAM, Memory, config, instr, proc
from knit.errors import (
    AliasError,
    BoundsError,
    KnitError,
    KnitSyntaxError,
    KnitTypeError,
    MemoryAccessError,
    PreconditionError,
    RefusedLaterWarning,
)


class REGS(Memory):
    """A register file: only instructions may touch it."""

    @classmethod
    def can_read(cls) -> bool:
        return False

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        return f"{prim_type} {new_name}[{' * '.join(shape) or 1}];"

    @classmethod
    def free(cls, new_name, prim_type, shape, srcinfo):
        return ""


@config
class Cfg:
    scale: f32
    n: size


def expect(define, cls, phrase: str) -> KnitError:
    """define() fails with `cls` (exactly), `phrase` in the message, at the line marked
    `# <-` in define's source (both the message's position and the error's srcinfo)."""
    line = marked_line(define)
    err = expect_error(define, cls, phrase, line=line, file=__file__)
    assert err.srcinfo is not None, str(err)
    assert err.srcinfo.filename == __file__
    assert err.srcinfo.line == line, str(err)
    return err


# The bad programs that need no more than `expect`: each is a function defining one, under
# @bad(error class, phrase), and test_bad_program runs them all.
BAD: list[tuple] = []  # (define, error class, phrase)


def bad(cls, phrase: str):
    def register(define):
        BAD.append((define, cls, phrase))
        return define
    return register


# Errors Exo reports only when it compiles, or never (window statements): the definition
# warns, and the first use that gives the program a meaning refuses (frontend/checks.py,
# raise_deferred). Each `define` returns its procedure.
LATER: list[tuple] = []  # (define, error class, phrase)


def later(cls, phrase: str):
    def register(define):
        LATER.append((define, cls, phrase))
        return define
    return register


# ---------------------------------------------------------------- outside the language


@bad(KnitSyntaxError, "'while' loops are not part of knit")
def while_loop():
    @proc
    def f(N: size, A: f32[N]):
        while N > 0:  # <-
            pass


@bad(KnitSyntaxError, "'break' statements are not part of knit")
def break_stmt():
    @proc
    def f(N: size, A: f32[N]):
        for i in seq(0, N):
            break  # <-


@bad(KnitSyntaxError, "'return' statements are not part of knit")
def return_stmt():
    @proc
    def f(N: size, A: f32[N]):
        return A  # <-


@bad(KnitSyntaxError, "lambda expressions are not part of knit")
def lambda_expr():
    @proc
    def f(A: f32[4]):
        A[0] = (lambda x: x)(1.0)  # <-


@bad(KnitSyntaxError, "chained comparisons are not part of knit")
def chained_comparison():
    @proc
    def f(N: size, A: f32[N]):
        for i in seq(0, N):
            if 0 < i < 4:  # <-
                A[i] = 0.0


@bad(KnitSyntaxError, "cannot assign to a slice")
def slice_assignment():
    @proc
    def f(A: f32[8]):
        A[0:4] = 0.0  # <-


@bad(KnitSyntaxError, "unknown type 'f33'")
def unknown_type():
    @proc
    def f(N: size, A: f33[N]):  # <-
        pass


@bad(KnitSyntaxError, "argument 'A' needs a type annotation")
def missing_annotation():
    @proc
    def f(N: size, A):  # <-
        pass


@bad(KnitSyntaxError, "asserts must come first")
def assert_in_the_middle():
    @proc
    def f(N: size, A: f32[N]):
        A[0] = 1.0
        assert N > 2  # <-


@bad(KnitSyntaxError, "a loop ranges over seq(lo, hi)")
def range_instead_of_seq():
    @proc
    def f(N: size, A: f32[N]):
        for i in range(N):  # <-
            A[i] = 0.0


@bad(KnitSyntaxError, "a loop ranges over seq(lo, hi)")
def seq_with_one_bound():
    @proc
    def f(N: size, A: f32[N]):
        for i in seq(N):  # <-
            A[i] = 0.0


@bad(KnitSyntaxError, "nested inside another par loop")
def nested_par():
    @proc
    def f(N: size, A: f32[N, N]):
        for i in par(0, N):
            for j in par(0, N):  # <-
                A[i, j] = 0.0


# ---------------------------------------------------------------- types


@bad(KnitTypeError, "cannot mix an index value with data")
def index_mixed_with_data():
    @proc
    def f(N: size, A: f32[N]):
        for i in seq(0, N):
            A[i] = A[i] + i  # <-


@bad(KnitTypeError, "must be a data value, got an index value")
def index_stored_as_data():
    @proc
    def f(N: size, A: f32[N]):
        for i in seq(0, N):
            A[i] = i  # <-


@bad(KnitTypeError, "comparisons of data values cannot steer control flow")
def data_comparison_in_if():
    @proc
    def f(N: size, A: f32[N]):
        for i in seq(0, N):
            if A[i] < 0.0:  # <-
                A[i] = 0.0


# a product of two variables is accepted, and proven like any index: here it is not
@bad(BoundsError, "A[i * j, 0] may be out of bounds: dimension 0 has size N")
def non_affine_index():
    @proc
    def f(N: size, A: f32[N, N]):
        for i in seq(0, N):
            for j in seq(0, N):
                A[i * j, 0] = 0.0  # <-


@bad(KnitTypeError, "needs index or size operands, got a bool value")
def bool_arithmetic():
    @proc
    def f(N: size, b: bool, A: f32[N]):
        for i in seq(0, N):
            A[b + i] = 0.0  # <-


@bad(KnitTypeError, "'A' has 2 dimension(s) but is indexed with 1")
def wrong_rank():
    @proc
    def f(N: size, A: f32[N, N]):
        for i in seq(0, N):
            A[i] = 0.0  # <-


@bad(KnitTypeError, "g takes 2 argument(s), got 1")
def wrong_arity_call():
    @proc
    def g(N: size, x: f32[N]):
        pass

    @proc
    def f(N: size, A: f32[N]):
        g(A)  # <-


@later(KnitTypeError, "argument 'x' of g holds f32, got f64 data")
def wrong_element_type_at_call():
    @proc
    def g(N: size, x: f32[N]):
        pass

    @proc
    def f(N: size, A: f64[N]):
        g(N, A)  # <-
    return f


@bad(KnitTypeError, "lives in REGS, but 'A' lives in DRAM")
def wrong_memory_at_call():
    @proc
    def g(x: [f32][8] @ REGS):
        pass

    @proc
    def f(A: f32[8] @ DRAM):
        g(A)  # <-


@bad(KnitTypeError, "is a dense tensor; cannot pass a window that is not one "
                    "contiguous block of a dense buffer")
def window_passed_to_dense_param():
    @proc
    def g(x: f32[4]):
        pass

    @proc
    def f(A: f32[8, 8]):
        g(A[0:4, 0])  # <- a column: not contiguous


@bad(KnitTypeError, "Cfg.n is a size field")
def config_field_of_wrong_type():
    @proc
    def f(N: size):
        Cfg.n = 2.0  # <-


# ---------------------------------------------------------------- shapes at calls


def test_window_shape_mismatch():
    def define():
        @proc
        def g(M: size, x: [f32][M, 4]):
            pass

        @proc
        def f(N: size, A: f32[N, 8]):
            g(N, A[1:, 0:4])  # <-
    err = expect(define, KnitTypeError, "dimension 0 must have size N, but A[1:N, 0:4] "
                 "has size N - 1")
    assert "argument 'x' of g" in str(err)


@bad(KnitTypeError, "dimension 1 must have size 4, but A has size 8")
def dense_shape_mismatch():
    @proc
    def g(M: size, x: f32[M, 4]):
        pass

    @proc
    def f(N: size, A: f32[N, 8]):
        g(N, A)  # <-


@bad(KnitTypeError, "argument 'M' of g is a size and must be at least 1")
def size_argument_not_positive():
    @proc
    def g(M: size, x: [f32][M]):
        pass

    @proc
    def f(N: size, A: f32[N]):
        g(N - 1, A[1:])  # <-


# ---------------------------------------------------------------- bounds


def test_off_by_one():
    def define():
        @proc
        def f(N: size, A: f32[N]):
            for i in seq(0, N):
                A[i + 1] = 0.0  # <-
    err = expect(define, BoundsError, "A[i + 1] may be out of bounds: dimension 0 has size "
                 "N; for N = ")
    # the values shown must really break the access: i in range, i + 1 not
    n, i, idx = map(int, re.search(r"for N = (-?\d+), i = (-?\d+) the index is (-?\d+)",
                                   str(err)).groups())
    assert 0 <= i < n and idx == i + 1 and idx >= n


def test_negative_index():
    def define():
        @proc
        def f(N: size, A: f32[N]):
            for i in seq(0, N):
                A[i] = A[i - 1]  # <-
    err = expect(define, BoundsError, "A[i - 1] may be out of bounds")
    assert "the index is -1" in str(err)  # i - 1 is below 0 only at i = 0


def test_loop_past_the_end():
    def define():
        @proc
        def f(N: size, A: f32[N]):
            for i in seq(0, N + 1):
                A[i] = 0.0  # <-
    err = expect(define, BoundsError, "A[i] may be out of bounds: dimension 0 has size N")
    n, i, idx = map(int, re.search(r"for N = (-?\d+), i = (-?\d+) the index is (-?\d+)",
                                   str(err)).groups())
    assert 0 <= i < n + 1 and idx == i and idx >= n


@bad(BoundsError, "A[7] may be out of bounds: dimension 0 has size N")
def missing_assert():
    @proc
    def f(N: size, A: f32[N]):
        A[7] = 0.0  # <-


@bad(BoundsError, "A[4 * i + 3] may be out of bounds")
def missing_divisibility_assert():
    @proc
    def f(N: size, A: f32[N]):
        assert N >= 4
        for i in seq(0, (N + 3) / 4):
            A[4 * i + 3] = 0.0  # <-


@bad(BoundsError, "the index is")
def else_branch_out_of_bounds():
    @proc
    def f(N: size, A: f32[N]):
        for i in seq(0, N):
            if i < N - 1:
                A[i + 1] = 0.0
            else:
                A[i + 1] = 1.0  # <-


@later(BoundsError, "its slice 2:10 in dimension 1 ends past the size 8")
def window_slice_out_of_range():
    @proc
    def f(N: size, A: f32[N, 8]):
        for i in seq(0, N):
            w = A[i, 2:10]  # <-
    return f


@bad(BoundsError, "ends before it starts")
def backwards_slice():
    @proc
    def g(M: size, x: [f32][M]):
        pass

    @proc
    def f(N: size, A: f32[N]):
        for i in seq(0, N):
            g(1, A[i + 1:i])  # <-


@later(BoundsError, "the window A[N, 0:8] may be out of bounds: dimension 0")
def window_point_out_of_range():
    @proc
    def f(N: size, A: f32[N, 8]):
        w = A[N, 0:8]  # <-
    return f


@later(BoundsError, "w[4] is out of bounds: dimension 0 has size 4")
def access_past_a_window():
    @proc
    def f(N: size, A: f32[N, 8]):
        for i in seq(0, N):
            w = A[i, 0:4]
            w[4] = 0.0  # <-
    return f


@later(BoundsError, "ends past the size 4")
def window_of_window_out_of_range():
    @proc
    def f(N: size, A: f32[N, 8]):
        for i in seq(0, N):
            w = A[i, 2:6]
            v = w[1:5]  # <-
    return f


@bad(BoundsError, "x[i, j + 1] may be out of bounds: dimension 1 has size 4")
def access_through_window_argument():
    @proc
    def f(M: size, x: [f32][M, 4]):
        for i in seq(0, M):
            for j in seq(0, 4):
                x[i, j + 1] = 0.0  # <-


@bad(BoundsError, "dimension 0 of 't' may not be positive: its size is N - 1")
def nonpositive_allocation():
    @proc
    def f(N: size):
        t: f32[N - 1]  # <-


def test_nonpositive_argument_dimension():
    def define():
        @proc
        def f(N: size, A: f32[N - 2]):  # <-
            pass
    err = expect(define, BoundsError, "dimension 0 of 'A' may not be positive: its size is "
                 "N - 2, which is ")
    size, n = map(int, re.search(r"which is (-?\d+) for N = (-?\d+)", str(err)).groups())
    assert n >= 1 and size == n - 2 and size < 1


@bad(BoundsError, "A[i + 1] may be out of bounds")
def scalar_argument_out_of_bounds():
    @proc
    def g(x: f32):
        x = 0.0

    @proc
    def f(N: size, A: f32[N]):
        for i in seq(0, N):
            g(A[i + 1])  # <-


# ---------------------------------------------------------------- aliasing, memory, asserts


@bad(AliasError, "'A' is passed to both 'dst' and 'src' of copy, which "
                 "writes 'dst'")
def same_buffer_twice():
    @proc
    def copy(N: size, dst: f32[N], src: f32[N]):
        for i in seq(0, N):
            dst[i] = src[i]

    @proc
    def f(N: size, A: f32[N]):
        copy(N, A, A)  # <-


@bad(AliasError, "may overlap")
def overlapping_windows():
    @proc
    def copy(N: size, dst: [f32][N], src: [f32][N]):
        for i in seq(0, N):
            dst[i] = src[i]

    @proc
    def f(A: f32[16]):
        copy(8, A[0:8], A[7:15])  # <-


@bad(AliasError, "which writes 'a'")
def alias_written_by_a_nested_call():
    @proc
    def zero(N: size, x: [f32][N]):
        for i in seq(0, N):
            x[i] = 0.0

    @proc
    def wrap(N: size, a: [f32][N], b: [f32][N]):
        zero(N, a)

    @proc
    def f(A: f32[8, 8]):
        for i in seq(0, 8):
            wrap(8, A[i, :], A[:, i])  # <-


@bad(MemoryAccessError, "'r' lives in REGS, which only instructions may read "
                        "or write")
def register_read_in_plain_code():
    @proc
    def f(A: f32[8] @ DRAM, r: f32[8] @ REGS):
        for i in seq(0, 8):
            A[i] = r[i]  # <-
    f.c_code_str()  # refused where C is generated, as in Exo


@bad(MemoryAccessError, "'acc' lives in REGS, which only instructions")
def register_reduce_in_plain_code():
    @proc
    def f(A: f32[8] @ DRAM):
        acc: f32[8] @ REGS
        for i in seq(0, 8):
            acc[i] += A[i]  # <-
    f.c_code_str()


@bad(MemoryAccessError, "'w' lives in REGS, which only instructions")
def register_write_through_window():
    @proc
    def f(A: f32[8] @ DRAM):
        acc: f32[2, 8] @ REGS
        w = acc[1, 0:8]
        w[0] = 0.0  # <-
    f.c_code_str()


@bad(PreconditionError, "g requires `M % 4 == 0`, which could not be proven "
                        "at this call (with these arguments: `N % 4 == 0`); it fails for N = ")
def unproven_precondition():
    @proc
    def g(M: size, x: [f32][M]):
        assert M % 4 == 0
        for i in seq(0, M):
            x[i] = 0.0

    @proc
    def f(N: size, A: f32[N]):
        g(N, A)  # <-


@bad(PreconditionError, "g requires `stride(x, 0) == 1`")
def unit_stride_precondition():
    @proc
    def g(x: [f32][4]):
        assert stride(x, 0) == 1
        x[0] = 0.0

    @proc
    def f(A: f32[4, 4]):
        g(A[:, 0])  # <-


@bad(BoundsError, "dst[i + 1] may be out of bounds")
def instr_body_checked_at_first_call():
    @instr("{dst_data} = 0;")
    def zero4(dst: [f32][4] @ DRAM):
        for i in seq(0, 4):
            dst[i + 1] = 0.0  # <-

    @proc
    def f(A: f32[8]):
        zero4(A[0:4])


def test_expect_checks_the_reported_line():
    """The harness itself: a wrong marker line must fail the check."""
    def define():
        @proc
        def f(N: size, A: f32[N]):  # <-
            A[N] = 0.0
    with pytest.raises(AssertionError):
        expect(define, BoundsError, "A[N] may be out of bounds")


@bad(KnitTypeError, "the asserts of 'f' are always unsatisfiable")
def assert_of_a_stride_the_tensor_does_not_have():
    @proc
    def f(x: i8[30, 10] @ DRAM):
        assert stride(x, 0) == 9  # <-
        pass


@bad(KnitTypeError, "the asserts of 'f' are always unsatisfiable")
def asserts_that_contradict_each_other():
    @proc
    def f(n: size, x: f32[n]):
        assert n % 4 == 0  # <-
        assert n < 4
        x[0] = 1.0


def test_asserts_that_can_hold_are_accepted():
    @proc
    def f(n: size, x: i8[n, 10] @ DRAM):
        assert stride(x, 0) == 10
        assert n % 4 == 0
        x[0, 0] = 1
    f.c_code_str()


# the cases one parameter (not three): tests/docs/corpus.py runs each case again
@pytest.mark.parametrize("case", BAD, ids=[define.__name__ for define, _, _ in BAD])
def test_bad_program(case):
    expect(*case)


@pytest.mark.parametrize("case", LATER, ids=[define.__name__ for define, _, _ in LATER])
def test_refused_where_it_runs(case):
    define, cls, phrase = case
    with pytest.warns(RefusedLaterWarning, match=re.escape(phrase)):
        p = define()
    line = marked_line(define)
    err = expect_error(p.c_code_str, cls, phrase, line=line, file=__file__)
    assert err.srcinfo.filename == __file__ and err.srcinfo.line == line, str(err)

