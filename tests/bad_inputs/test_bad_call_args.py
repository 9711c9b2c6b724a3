"""Wrong NumPy arguments to interpreted and compiled procedures. Every case runs both
ways; each must be refused before anything runs (the outputs stay untouched), with the
error class and a message naming the argument; a violated `assert` points at its line."""

from __future__ import annotations

import numpy as np
import pytest
from refusals import expect_error, marked_line

from knit import proc
from knit.errors import ArgumentError, ArgumentTypeError


@proc
def axpy(N: size, a: f32, x: f32[N], y: f32[N]):
    for i in seq(0, N):
        y[i] += a * x[i]


def define_asserting():
    @proc
    def pairs(N: size, A: f32[N, 4]):
        assert N % 2 == 0  # <- assert N
        for i in seq(0, N):
            for j in seq(0, 4):
                A[i, j] = A[i, j] * 2.0

    @proc
    def unit_stride(N: size, x: [f32][N], y: f32[N]):
        assert stride(x, 0) == 1  # <- assert stride
        for i in seq(0, N):
            y[i] = x[i]
    return pairs, unit_stride


pairs, unit_stride = define_asserting()
ASSERT_N = marked_line(define_asserting, "assert N")
ASSERT_STRIDE = marked_line(define_asserting, "assert stride")


@proc
def flagged(b: bool, k: index, x: f32[4]):
    if b:
        x[0] = 1.0


@proc
def windowed(N: size, x: [f32][N], y: f32[N]):
    for i in seq(0, N):
        y[i] = x[i]


def f32(*shape):
    return np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)


def same_array_twice():
    y = f32(8)
    return (8, 2.0, y, y), {}


def overlapping_views():
    b = f32(16)
    return (8, 2.0, b[0:8], b[4:12]), {}


def read_only(a):
    a.flags.writeable = False
    return a


# id -> (proc, build the call: () -> (args, kwargs), error class, phrase, expected line)
# Each builder returns fresh arrays; the outputs are the arrays the proc writes.
CASES = {
    "dtype": (axpy, lambda: ((8, 2.0, f32(8).astype(np.float64), f32(8)), {}),
              ArgumentTypeError, "argument 'x' expects float32 elements, got a float64 array",
              None),
    "integer_dtype": (axpy, lambda: ((8, 2.0, f32(8), f32(8).astype(np.int32)), {}),
                      ArgumentTypeError, "argument 'y' expects float32 elements", None),
    "shape": (axpy, lambda: ((8, 2.0, f32(7), f32(8)), {}),
              ArgumentError, "argument 'x' expects shape (8,) (N = 8), got shape (7,)", None),
    "rank": (axpy, lambda: ((8, 2.0, f32(8, 1), f32(8)), {}),
             ArgumentTypeError, "argument 'x' expects 1 dimension(s)", None),
    "non_contiguous": (axpy, lambda: ((8, 2.0, f32(16)[::2], f32(8)), {}),
                       ArgumentError, "argument 'x' must be a C-contiguous", None),
    "fortran_order": (pairs, lambda: ((4, np.asfortranarray(f32(4, 4))), {}),
                      ArgumentError, "argument 'A' must be a C-contiguous", None),
    "missing": (axpy, lambda: ((), {"N": 8, "a": 2.0, "x": f32(8)}),
                ArgumentTypeError, "missing argument 'y': expected a float32 array", None),
    "extra": (axpy, lambda: ((8, 2.0, f32(8), f32(8), f32(8)), {}),
              ArgumentTypeError, "axpy() takes 4 argument(s), got 5 positional", None),
    "wrong_name": (axpy, lambda: ((), {"N": 8, "a": 2.0, "x": f32(8), "yy": f32(8)}),
                   ArgumentTypeError, "has no argument 'yy'; its arguments are N, a, x, y",
                   None),
    "given_twice": (axpy, lambda: ((8, 2.0, f32(8), f32(8)), {"x": f32(8)}),
                    ArgumentTypeError, "got two values for argument 'x'", None),
    "read_only_output": (axpy, lambda: ((8, 2.0, f32(8), read_only(f32(8))), {}),
                         ArgumentError, "writes argument 'y', but the array passed is read-only",
                         None),
    "same_buffer_twice": (axpy, same_array_twice,
                          ArgumentError, "arguments 'x' and 'y' overlap in memory", None),
    "overlapping_views": (axpy, overlapping_views,
                          ArgumentError, "arguments 'x' and 'y' overlap in memory", None),
    "violated_assert": (pairs, lambda: ((3, f32(3, 4)), {}),
                        ArgumentError,
                        "pairs() precondition `assert N % 2 == 0` does not hold (N = 3)",
                        ASSERT_N),
    "violated_stride_assert": (unit_stride, lambda: ((4, f32(8)[::2], f32(4)), {}),
                               ArgumentError,
                               "precondition `assert stride(x, 0) == 1` does not hold",
                               ASSERT_STRIDE),
    "size_0": (axpy, lambda: ((0, 2.0, f32(0), f32(0)), {}),
               ArgumentError, "argument 'N' is a size, so must be >= 1, got 0", None),
    "size_0_from_shape": (axpy, lambda: ((2.0, f32(0), f32(0)), {}),
                          ArgumentError,
                          "argument 'N' is a size, so must be >= 1, but x.shape[0] is 0", None),
    "float_for_a_size": (axpy, lambda: ((8.0, 2.0, f32(8), f32(8)), {}),
                         ArgumentTypeError,
                         "argument 'N' expects a size (a positive int), got float 8.0", None),
    "size_too_large": (axpy, lambda: ((2**40, 2.0, f32(8), f32(8)), {}),
                       ArgumentError, "argument 'N' = 1099511627776 does not fit in 32 bits",
                       None),
    "list_for_an_array": (axpy, lambda: ((8, 2.0, [1.0] * 8, f32(8)), {}),
                          ArgumentTypeError, "argument 'x' expects a float32 array, got list",
                          None),
    "int_for_a_bool": (flagged, lambda: ((1, 0, f32(4)), {}),
                       ArgumentTypeError, "argument 'b' expects a bool, got int 1", None),
    "float_for_an_index": (flagged, lambda: ((True, 0.5, f32(4)), {}),
                           ArgumentTypeError, "argument 'k' expects an int, got float 0.5",
                           None),
    "negative_window_stride": (windowed, lambda: ((8, f32(8)[::-1], f32(8)), {}),
                               ArgumentError, "window argument 'x' has stride -4 bytes", None),
    "vector_for_a_scalar": (axpy, lambda: ((8, f32(2), f32(8), f32(8)), {}),
                            ArgumentTypeError,
                            "argument 'a' expects a number or a 0-d or 1-element float32 array",
                            None),
}


@pytest.fixture(params=["interpreted", "compiled"])
def mode(request):
    return request.param


def runner(p, mode: str):
    return p.interpret if mode == "interpreted" else p.compile()


@pytest.mark.parametrize("case", list(CASES))
def test_bad_call(case, mode):
    p, build, cls, phrase, line = CASES[case]
    args, kwargs = build()
    arrays = [v for v in [*args, *kwargs.values()] if isinstance(v, np.ndarray)]
    before = [a.copy() for a in arrays]
    run = runner(p, mode)
    expect_error(lambda: run(*args, **kwargs), cls, phrase, line=line,
                 file=__file__ if line else None)
    for a, b in zip(arrays, before):  # refused before running: nothing was written
        np.testing.assert_array_equal(a, b)


def test_missing_last_array_positionally(mode):
    run = runner(axpy, mode)
    expect_error(lambda: run(8, 2.0, f32(8)), ArgumentTypeError, "missing argument 'y'")


def test_scalar_out_of_range_for_f32(mode):
    run = runner(axpy, mode)
    y = f32(8)
    with np.errstate(over="ignore"):
        expect_error(lambda: run(8, 1e40, f32(8), y), ArgumentError, "out of range")


def test_good_call_still_runs(mode):
    """The refusals above are not refusals of everything: a good call runs and writes."""
    x, y = f32(8), np.zeros(8, np.float32)
    runner(axpy, mode)(8, 2.0, x, y)
    np.testing.assert_allclose(y, 2.0 * x)
