"""Binding Python calls: every accepted form, and every refusal with its message."""

from __future__ import annotations

import numpy as np
import pytest

from knit import DRAM, proc
from knit.errors import ArgumentError, ArgumentTypeError
from knit.runtime.args import Binder, bind_args, binder, eval_index, written_args

rng = np.random.default_rng(1)


def rand(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


@proc
def axpy(N: size, a: f32, x: f32[N] @ DRAM, y: f32[N] @ DRAM):
    for i in seq(0, N):
        y[i] += a * x[i]


@proc
def win_copy(N: size, x: [f32][N], y: [f32][N]):
    for i in seq(0, N):
        y[i] = x[i]


@proc
def read_two(N: size, x: f32[N], y: f32[N], out: f32[1]):
    out[0] = x[0] + y[N - 1]


@proc
def fill(N: size, y: [f32][N]):
    for i in seq(0, N):
        y[i] = 0.0


@proc
def fill_through_call(N: size, x: f32[N], y: f32[N]):
    w = y[0:N]
    fill(N, w)


@proc
def guarded(N: size, M: size, x: [f32][N, M], flag: bool, k: index):
    assert N % 4 == 0 and N >= 4
    assert stride(x, 1) == 1
    if flag:
        x[0, 0] = 1.0


@proc
def padded(N: size, x: f32[N + 1]):
    x[N] = 1.0


@proc
def set_i8(a: i8, y: i8[1]):
    y[0] = a


def bind(p, *args, **kwargs):
    env = bind_args(p._loopir_proc, args, kwargs)
    return {s.name: v for s, v in env.items()}


# ---------------------------------------------------------------- accepted forms


def test_positional_binding_returns_python_values_and_the_same_arrays():
    x, y = rand(5), rand(5)
    env = bind(axpy, np.int64(5), 2.5, x, y)
    assert env["N"] == 5 and type(env["N"]) is int
    assert env["x"] is x and env["y"] is y
    assert env["a"].shape == () and env["a"].dtype == np.float32 and env["a"] == 2.5


def test_keyword_binding_and_size_inference():
    x, y = rand(7), rand(7)
    assert bind(axpy, a=1.0, x=x, y=y)["N"] == 7
    assert bind(axpy, 1.0, x, y)["N"] == 7  # sizes left out of a positional call
    assert bind(axpy, 1.0, x, y=y)["N"] == 7
    assert bind(axpy, 7, 1.0, x, y=y)["N"] == 7


def test_scalar_arrays_are_bound_as_views():
    x, y = rand(3), rand(3)
    a0 = np.array(3.0, np.float32)
    assert bind(axpy, a0, x, y)["a"] is a0
    a1 = np.array([3.0], np.float32)
    view = bind(axpy, a1, x, y)["a"]
    view[()] = 9.0
    assert view.shape == () and a1[0] == 9.0


def test_python_number_for_scalar_is_copied():
    x, y = rand(3), rand(3)
    env = bind(axpy, 2, x, y)
    assert env["a"].dtype == np.float32 and env["a"] == 2.0
    assert bind(set_i8, -5, np.zeros(1, np.int8))["a"].dtype == np.int8


def test_window_accepts_strided_views_and_interpret_writes_through_them():
    buf = np.zeros((4, 6), np.float32)
    x = rand(8)
    win_copy.interpret(x[::2], buf[:, 1])
    np.testing.assert_array_equal(buf[:, 1], x[::2])
    assert (buf[:, [0, 2, 3, 4, 5]] == 0).all()


def test_binder_is_cached_per_proc():
    ir = axpy._loopir_proc
    assert binder(ir) is binder(ir)
    assert isinstance(binder(ir), Binder)
    x, y = rand(2), rand(2)
    assert Binder(ir).bind((1.0, x, y), {})[ir.args[0].name] == 2


def test_written_args_follow_windows_and_calls():
    ir = fill_through_call._loopir_proc
    assert {s.name for s in written_args(ir)} == {"y"}
    assert {s.name for s in written_args(axpy._loopir_proc)} == {"y"}


def test_eval_index_uses_floor_semantics():
    ir = guarded._loopir_proc
    n_sym = ir.args[0].name
    pred = ir.preds[0]  # N % 4 == 0 and N >= 4
    assert eval_index(pred, {n_sym: 8}) is True
    assert eval_index(pred.lhs.lhs, {n_sym: -3}) == 1  # -3 % 4 in floor semantics


# ---------------------------------------------------------------- matching errors


def test_missing_argument():
    with pytest.raises(ArgumentTypeError, match="axpy\\(\\) missing argument 'y'"):
        bind(axpy, 1.0, rand(3))


def test_size_that_cannot_be_inferred_is_missing():
    with pytest.raises(ArgumentTypeError, match="missing argument 'N'.*cannot be inferred"):
        bind(padded, x=rand(4))
    assert bind(padded, 3, rand(4))["N"] == 3


def test_unknown_keyword():
    with pytest.raises(ArgumentTypeError, match="has no argument 'z'; its arguments are N, "
                                                "a, x, y"):
        bind(axpy, 1.0, rand(3), rand(3), z=1)


def test_duplicate_argument():
    with pytest.raises(ArgumentTypeError, match="got two values for argument 'a'"):
        bind(axpy, 3, 1.0, rand(3), rand(3), a=2.0)


def test_too_many_positional():
    with pytest.raises(ArgumentTypeError, match="takes 4 argument\\(s\\), got 5"):
        bind(axpy, 3, 1.0, rand(3), rand(3), rand(3))


# ---------------------------------------------------------------- kinds, dtypes, ranks


def test_wrong_kind_list_for_array():
    with pytest.raises(ArgumentTypeError, match="argument 'x' expects a float32 array, got "
                                                "list"):
        bind(axpy, 3, 1.0, [1.0, 2.0, 3.0], rand(3))


def test_wrong_kind_array_for_size():
    with pytest.raises(ArgumentTypeError, match="argument 'N' expects a size .* got a "
                                                "float32 array"):
        bind(axpy, rand(3), 1.0, rand(3), rand(3))


def test_wrong_kind_for_bool_and_scalar():
    x = rand(4, 2)
    with pytest.raises(ArgumentTypeError, match="argument 'flag' expects a bool, got int 1"):
        bind(guarded, x, 1, 0)
    with pytest.raises(ArgumentTypeError, match="argument 'a' expects a number"):
        bind(axpy, "2", rand(3), rand(3))
    with pytest.raises(ArgumentTypeError, match="argument 'a' expects a number or a 0-d or "
                                                "1-element"):
        bind(axpy, np.zeros(2, np.float32), rand(2), rand(2))


def test_wrong_dtype_is_not_cast():
    with pytest.raises(ArgumentTypeError, match="argument 'y' expects float32 elements, got "
                                                "a float64 array"):
        bind(axpy, 1.0, rand(3), rand(3, dtype=np.float64))
    with pytest.raises(ArgumentTypeError, match="argument 'a' expects float32 elements"):
        bind(axpy, np.array(1.0), rand(3), rand(3))
    with pytest.raises(ArgumentTypeError, match="expects float32 elements"):
        bind(axpy, 1.0, rand(3), rand(3).astype(">f4"))  # non-native byte order


def test_wrong_rank():
    with pytest.raises(ArgumentTypeError, match="argument 'x' expects 1 dimension\\(s\\), "
                                                "got a float32 array of shape \\(3, 1\\)"):
        bind(axpy, 1.0, rand(3, 1), rand(3))


def test_integer_scalar_values():
    with pytest.raises(ArgumentTypeError, match="argument 'a' expects an integer for int8"):
        bind(set_i8, 2.5, np.zeros(1, np.int8))
    with pytest.raises(ArgumentError, match="argument 'a' = 300 is out of range for int8"):
        bind(set_i8, 300, np.zeros(1, np.int8))


# ---------------------------------------------------------------- sizes and shapes


def test_wrong_shape_names_the_sizes():
    with pytest.raises(ArgumentError, match="argument 'y' expects shape \\(4,\\) \\(N = 4\\), "
                                            "got shape \\(5,\\)"):
        bind(axpy, 1.0, rand(4), rand(5))


def test_explicit_size_must_agree_with_shapes():
    with pytest.raises(ArgumentError, match="argument 'x' expects shape \\(3,\\) \\(N = 3\\)"):
        bind(axpy, 3, 1.0, rand(4), rand(4))


def test_sizes_must_be_positive_integers():
    with pytest.raises(ArgumentError, match="'N' is a size, so must be >= 1, got 0"):
        bind(padded, 0, rand(1))
    with pytest.raises(ArgumentError, match="'N' is a size, so must be >= 1, but x.shape"):
        bind(axpy, 1.0, rand(0), rand(0))
    with pytest.raises(ArgumentTypeError, match="'N' expects a size \\(a positive int\\), "
                                                "got float 2.0"):
        bind(padded, 2.0, rand(3))
    with pytest.raises(ArgumentTypeError, match="'N' expects a size"):
        bind(padded, True, rand(2))
    with pytest.raises(ArgumentError, match="does not fit in 32 bits"):
        bind(padded, 2**40, rand(3))


def test_dense_argument_must_be_c_contiguous():
    with pytest.raises(ArgumentError, match="argument 'x' must be a C-contiguous"):
        bind(axpy, 1.0, rand(8)[::2], rand(4))


def test_window_strides_must_be_nonnegative_multiples_of_the_element_size():
    with pytest.raises(ArgumentError, match="window argument 'x' has stride -4 bytes"):
        bind(win_copy, rand(4)[::-1], rand(4))
    base = np.zeros(16, np.float32)
    odd = np.lib.stride_tricks.as_strided(base, shape=(4,), strides=(6,))
    with pytest.raises(ArgumentError, match="has stride 6 bytes .* multiples of the element "
                                            "size \\(4 bytes\\)"):
        bind(win_copy, odd, rand(4))


def test_written_window_may_not_overlap_itself():
    base = np.zeros(4, np.float32)
    zero = np.lib.stride_tricks.as_strided(base, shape=(4,), strides=(0,))
    with pytest.raises(ArgumentError, match="'y' has stride 0 in dimension 0"):
        bind(win_copy, rand(4), zero)
    assert bind(win_copy, zero, rand(4))["N"] == 4  # reading a broadcast is fine


def test_misaligned_array_is_refused():
    raw = np.zeros(4 * 5 + 1, np.uint8)
    misaligned = raw[1:].view(np.float32)
    assert not misaligned.flags.aligned
    with pytest.raises(ArgumentError, match="'x' is not aligned"):
        bind(axpy, 1.0, misaligned, rand(5))


# ---------------------------------------------------------------- writes and aliasing


def test_read_only_array_for_written_argument():
    x, y = rand(3), rand(3)
    y.setflags(write=False)
    with pytest.raises(ArgumentError, match="axpy\\(\\) writes argument 'y', but the array "
                                            "passed is read-only"):
        bind(axpy, 1.0, x, y)
    x.setflags(write=False)
    assert bind(axpy, 1.0, x, rand(3))["x"] is x  # x is only read


def test_read_only_detected_through_calls_and_windows():
    y = rand(3)
    y.setflags(write=False)
    with pytest.raises(ArgumentError, match="writes argument 'y'"):
        bind(fill_through_call, rand(3), y)


def test_read_only_scalar_array_when_written():
    a = np.zeros(1, np.int8)
    a.setflags(write=False)
    assert bind(set_i8, a, np.zeros(1, np.int8))["a"][()] == 0  # a is only read
    y = np.zeros(1, np.int8)
    y.setflags(write=False)
    with pytest.raises(ArgumentError, match="writes argument 'y'"):
        bind(set_i8, 1, y)


def test_overlapping_arguments_when_one_is_written():
    x = rand(6)
    before = x.copy()
    with pytest.raises(ArgumentError, match="arguments 'x' and 'y' overlap in memory, and "
                                            "axpy\\(\\) writes 'y'"):
        axpy.interpret(1.0, x, x)
    np.testing.assert_array_equal(x, before)  # refused before anything ran
    buf = rand(12)
    with pytest.raises(ArgumentError, match="overlap in memory"):
        bind(win_copy, buf[0:8], buf[4:12])


def test_disjoint_views_of_one_array_are_accepted():
    buf = rand(12)
    env = bind(win_copy, buf[0::2], buf[1::2])  # interleaved, never the same element
    assert env["N"] == 6
    assert bind(read_two, buf[:6].copy(), buf[:6].copy(), np.zeros(1, np.float32))
    x = rand(4)
    assert bind(read_two, x, x, np.zeros(1, np.float32))["x"] is x  # both only read


# ---------------------------------------------------------------- preconditions


def test_violated_assert_reports_source_and_values():
    with pytest.raises(ArgumentError) as info:
        bind(guarded, rand(6, 2), True, 0)
    msg = str(info.value)
    assert "test_args.py:" in msg and "guarded() precondition" in msg
    assert "`assert N % 4 == 0 and N >= 4` does not hold (N = 6)" in msg


def test_violated_stride_assert_reports_the_stride_in_elements():
    base = rand(8, 6)
    with pytest.raises(ArgumentError, match="`assert stride\\(x, 1\\) == 1` does not hold "
                                            "\\(stride\\(x, 1\\) = 2\\)"):
        bind(guarded, base[:, ::2], False, 0)
    assert bind(guarded, base[:, 0:3], False, -7)["k"] == -7  # strided rows are fine


# ---------------------------------------------------------------- issue 15: overlap, ranges


def test_a_written_window_with_overlapping_elements_is_refused():
    x = np.arange(10, dtype=np.float32)
    sliding = np.lib.stride_tricks.sliding_window_view(x, 4, writeable=True)[:, 0]
    assert sliding.strides == (4,)  # distinct elements: accepted
    bind(fill, sliding)
    windows = np.lib.stride_tricks.sliding_window_view(x, 4, writeable=True)  # (7, 4)
    diag = np.lib.stride_tricks.as_strided(x, shape=(4,), strides=(4,))
    bind(fill, diag)
    overlapping = np.lib.stride_tricks.as_strided(x, shape=(2, 4), strides=(4, 4))
    with pytest.raises(ArgumentError, match="window argument 'y' may have overlapping "
                       "elements \\(shape \\(2, 4\\), strides \\(4, 4\\) bytes"):
        bind(fill2d, overlapping)
    with pytest.raises(ArgumentError, match="may have overlapping elements"):
        bind(fill2d, windows)
    bind(read2d, windows, np.zeros(1, np.float32))  # only read: the same elements twice is fine
    for ok in (np.zeros((3, 5), np.float32), np.zeros((5, 3), np.float32).T,
               np.zeros((6, 8), np.float32)[::2, 1::3]):
        bind(fill2d, ok)


def test_both_runs_refuse_the_overlapping_window_that_made_schedules_disagree():
    from knit.stdlib.scheduling import reorder_loops

    x = np.arange(10, dtype=np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(x, 4, writeable=True)
    swapped = reorder_loops(fill2d, "for i in _:_")
    for p in (fill2d, swapped):
        with pytest.raises(ArgumentError, match="may have overlapping elements"):
            p.interpret(windows)
        with pytest.raises(ArgumentError, match="may have overlapping elements"):
            p.compile()(windows)


def test_a_size_inferred_from_a_shape_gets_the_same_range_check():
    huge = np.lib.stride_tricks.as_strided(np.zeros(1, np.float32), shape=(2**31,),
                                           strides=(0,))
    with pytest.raises(ArgumentError, match="argument 'N' = 2147483648 does not fit in "
                       "32 bits \\(it is x.shape\\[0\\]\\)"):
        bind(win_copy, huge, huge)
    with pytest.raises(ArgumentError, match="argument 'N' = 2147483648 does not fit in "
                       "32 bits$"):
        bind(win_copy, 2**31, huge, huge)


@pytest.mark.parametrize("value", [10**400, -10**400, 10**39, 1e300])
def test_a_number_out_of_range_for_f32_is_a_knit_error(value):
    with pytest.raises(ArgumentError, match="argument 'a' = .* is out of range for "
                       "float32 \\(it would become infinite\\)"):
        bind(axpy, value, rand(2), rand(2))
    with pytest.raises(ArgumentError, match="out of range for float32"):
        axpy.compile()(value, rand(2), rand(2))


def test_infinite_and_nan_floats_are_still_accepted_for_f32():
    for v in (float("inf"), -float("inf"), float("nan"), np.float64("inf")):
        bind(axpy, v, rand(2), rand(2))


@proc
def fill2d(N: size, M: size, y: [f32][N, M]):
    for i in seq(0, N):
        for j in seq(0, M):
            y[i, j] = y[i, j] + 1.0


@proc
def read2d(N: size, M: size, y: [f32][N, M], out: f32[1]):
    for i in seq(0, N):
        for j in seq(0, M):
            out[0] += y[i, j]
