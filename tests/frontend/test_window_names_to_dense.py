"""A window passed by name (a window parameter or a window statement) to a dense-tensor
parameter: accepted when its strides are proven row-major at the call (the callee, and
its C, index it as a dense block), refused with the claim that could not be proven."""

from __future__ import annotations

from refusals import expect_error
from scheduling_checks import assert_body, equiv

from knit import proc
from knit.equiv import check_backends
from knit.errors import KnitTypeError
from knit.stdlib.scheduling import inline


@proc
def copy8(dst: [f32][8], src: f32[8]):
    for i in seq(0, 8):
        dst[i] = src[i]


@proc
def unit_stride(x: [f32][8], y: [f32][8]):
    assert stride(y, 0) == 1
    copy8(x, y)


def test_a_unit_stride_window_parameter_is_accepted():
    assert "copy8(x, y)" in str(unit_stride)
    assert "y.data" in unit_stride.c_code_str()  # its first element, as a dense block
    check_backends(unit_stride)


def test_a_row_of_a_dense_buffer_bound_to_a_name_is_accepted():
    @proc
    def rows(A: f32[4, 8], B: f32[4, 8]):
        for i in seq(0, 4):
            w = A[i, 0:8]
            copy8(B[i, 0:8], w)

    check_backends(rows)


def test_inline_of_the_call():
    p = inline(unit_stride, "copy8(_)")
    assert_body(p, """
        assert stride(y, 0) == 1
        for i in seq(0, 8):
            x[i] = y[i]""")
    equiv(unit_stride, p)


def test_a_window_parameter_of_unknown_stride_is_refused():
    def define():
        @proc
        def any_stride(x: [f32][8], y: [f32][8]):
            copy8(x, y)

    expect_error(define, KnitTypeError, "argument 'src' of copy8 is a dense tensor, so the "
                 "window 'y' must be one contiguous block: could not prove "
                 "stride(y, 0) == 1", line=define.__code__.co_firstlineno + 3)


def test_a_column_bound_to_a_name_is_refused():
    def define():
        @proc
        def column(A: f32[8, 4], x: [f32][8]):
            w = A[0:8, 1]
            copy8(x, w)

    expect_error(define, KnitTypeError, "the window 'w' must be one contiguous block: could "
                 "not prove stride(w, 0) == 1", line=define.__code__.co_firstlineno + 4)


def test_a_column_slice_is_still_refused_by_its_form():
    def define():
        @proc
        def column(A: f32[8, 4], x: [f32][8]):
            copy8(x, A[0:8, 1])

    expect_error(define, KnitTypeError, "cannot pass a window that is not one contiguous "
                 "block", line=define.__code__.co_firstlineno + 3)
