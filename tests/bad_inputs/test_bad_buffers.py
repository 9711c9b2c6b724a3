"""Misusing the buffer and memory primitives: bad arguments are refused naming the
argument; rewrites that cannot be proven are refused at the line of the allocation or
statement they concern (marked `# <-`)."""

from __future__ import annotations

from refusals import expect_error, marked_line

from knit import DRAM, proc
from knit.errors import ParseFragmentError, SchedulingError
from knit.stdlib.scheduling import (
    bind_expr,
    delete_buffer,
    divide_dim,
    expand_dim,
    inline_window,
    lift_alloc,
    rearrange_dim,
    resize_dim,
    reuse_buffer,
    set_memory,
    set_precision,
    set_window,
    sink_alloc,
    stage_mem,
    unroll_buffer,
)


def define_staged():
    @proc
    def f(N: size, A: f32[N, 8], B: f32[N]):
        t: f32[8]  # <- alloc t
        for i in seq(0, N):  # <- loop i
            for j in seq(0, 8):  # <- loop j0
                t[j] = A[i, j]
            for j in seq(0, 8):
                A[i, j] = t[j] * 2.0
        for i in seq(0, N):
            B[i] = A[i, 0] + 1.0
    return f


staged = define_staged()
ALLOC_T = marked_line(define_staged, "alloc t")
LOOP_I = marked_line(define_staged, "loop i")
LOOP_J0 = marked_line(define_staged, "loop j0")


# ---------------------------------------------------------------- reshaping


def test_expand_dim_of_an_argument():
    def define():
        @proc
        def f(N: size, A: f32[N]):  # <-
            for i in seq(0, N):
                A[i] = 0.0
        return f
    f = define()
    expect_error(lambda: expand_dim(f, "A", 4, 0), SchedulingError,
                 "expand_dim: expected an allocation", line=marked_line(define), file=__file__)


def test_expand_dim_index_outside_the_new_dimension():
    expect_error(lambda: expand_dim(staged, "t", 4, 4), SchedulingError,
                 "expand_dim: cannot prove the index 4 lies in [0, 4)", line=ALLOC_T, file=__file__)


def test_divide_dim_out_of_range_dimension():
    err = expect_error(lambda: divide_dim(staged, "t", 3, 4), SchedulingError,
                       "divide_dim: dimension 3 is out of range", line=ALLOC_T, file=__file__)
    assert "'t'" in str(err)


def test_divide_dim_not_a_multiple():
    expect_error(lambda: divide_dim(staged, "t", 0, 3), SchedulingError,
                 "divide_dim: cannot prove dimension 0 (8) is a multiple of 3", line=ALLOC_T,
                 file=__file__)


def test_rearrange_dim_not_a_permutation():
    expect_error(lambda: rearrange_dim(staged, "t", [1]), SchedulingError,
                 "rearrange_dim: [1] is not a permutation of the dimensions 0..0")


def test_rearrange_dim_permutation_not_a_list():
    err = expect_error(lambda: rearrange_dim(staged, "t", 5), Exception, "5", exact=False)
    assert str(err).startswith("rearrange_dim: "), str(err)


def test_resize_dim_too_small_for_the_accesses():
    expect_error(lambda: resize_dim(staged, "t", 0, 4, 0), SchedulingError,
                 "resize_dim: the access t[j] may fall outside the new shape", line=ALLOC_T,
                 file=__file__)


def test_unroll_buffer_indexed_by_a_loop_variable():
    expect_error(lambda: unroll_buffer(staged, "t", 0), SchedulingError,
                 "every access must use a literal index in dimension 0; found j", line=ALLOC_T,
                 file=__file__)


# ---------------------------------------------------------------- moving and deleting


def test_lift_alloc_already_at_the_top():
    expect_error(lambda: lift_alloc(staged, "t"), SchedulingError,
                 "lift_alloc: the allocation is already at the top level", line=ALLOC_T,
                 file=__file__)


def test_sink_alloc_of_a_buffer_carried_across_iterations():
    def define():
        @proc
        def prefix_sums(N: size, A: f32[N], B: f32[N]):
            acc: f32  # <-
            for i in seq(0, N):
                if i == 0:
                    acc = 0.0
                acc += A[i]
                B[i] = acc
        return prefix_sums
    f = define()
    expect_error(lambda: sink_alloc(f, "acc"), SchedulingError,
                 "a value written to 'acc' in one iteration may be read in a later one",
                 line=marked_line(define), file=__file__)


def test_delete_a_used_buffer():
    expect_error(lambda: delete_buffer(staged, "t"), SchedulingError,
                 "delete_buffer: 't' is still used", line=ALLOC_T, file=__file__)


def test_reuse_a_buffer_for_itself():
    expect_error(lambda: reuse_buffer(staged, "t", "t"), SchedulingError, "reuse_buffer:",
                 line=ALLOC_T, file=__file__)


def test_inline_window_of_an_allocation():
    expect_error(lambda: inline_window(staged, staged.find("t : _")), SchedulingError,
                 "expected a window statement", line=ALLOC_T, file=__file__)


# ---------------------------------------------------------------- stage_mem


def test_stage_mem_of_a_whole_tensor_name():
    expect_error(lambda: stage_mem(staged, "for i in _: _", "A", "A_st"), ParseFragmentError,
                 "stage_mem: cannot use 'A' here: 'A' is a tensor")


def test_stage_mem_of_an_arithmetic_expression():
    expect_error(lambda: stage_mem(staged, "for j in _: _", "A[i, 0] + 1.0", "A_st"),
                 SchedulingError, "stage_mem: 'A[i, 0] + 1.0' is not a window")


def test_stage_mem_of_a_point_the_block_reads_around():
    expect_error(lambda: stage_mem(staged, "for j in _: _", "A[i, 0]", "A_st"), SchedulingError,
                 "stage_mem: the block accesses A[i, j] outside the window A[i, 0]", line=LOOP_J0,
                 file=__file__)


def test_stage_mem_window_not_a_string():
    expect_error(lambda: stage_mem(staged, "for i in _: _", 5, "A_st"), SchedulingError,
                 "stage_mem: expected a window string")


def test_stage_mem_of_an_unknown_buffer():
    expect_error(lambda: stage_mem(staged, "for j in _: _", "Q[i, 0:4]", "Q_st"),
                 ParseFragmentError, "name 'Q' is not defined")


def test_stage_mem_window_smaller_than_the_accesses():
    def define():
        @proc
        def f(N: size, A: f32[N, 8]):
            for i in seq(0, N):
                for j in seq(0, 8):  # <-
                    A[i, j] = 0.0
        return f
    f = define()
    expect_error(lambda: stage_mem(f, "for j in _: _", "A[i, 0:4]", "A_st"), SchedulingError,
                 "outside the window A[i, 0:4]", line=marked_line(define), file=__file__)


# ---------------------------------------------------------------- annotations


class NotAMemory:
    pass


def test_set_memory_to_a_class_that_is_not_a_memory():
    expect_error(lambda: set_memory(staged, "t", NotAMemory), SchedulingError,
                 "set_memory: expected a Memory subclass")


def test_set_memory_to_a_string():
    expect_error(lambda: set_memory(staged, "t", "DRAM"), SchedulingError,
                 "set_memory: expected a Memory subclass, got 'DRAM'")


def test_set_precision_f99():
    expect_error(lambda: set_precision(staged, "t", "f99"), SchedulingError,
                 "set_precision: unknown precision 'f99'")


def test_set_window_on_an_allocation():
    expect_error(lambda: set_window(staged, "t"), SchedulingError,
                 "set_window: only arguments can be windows")


def test_bind_expr_given_a_loop():
    expect_error(lambda: bind_expr(staged, staged.find_loop("i"), "x"), SchedulingError,
                 "bind_expr: expected an expression", line=LOOP_I, file=__file__)


def test_bind_expr_to_an_invalid_name():
    expect_error(lambda: bind_expr(staged, "A[i, j]", "1x"), SchedulingError,
                 "bind_expr: '1x' is not a valid name")


def test_set_memory_keeps_dram_allowed():
    """The refusals above are not refusals of everything: DRAM itself is accepted."""
    assert set_memory(staged, "t", DRAM) is not staged
