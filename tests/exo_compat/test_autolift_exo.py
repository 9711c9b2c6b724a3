"""autolift_alloc without keep_dims, as Exo 1.0: no new dimension for a sequential loop,
even one whose variable indexes the buffer (the accesses keep their indices in the one
lifted buffer). Out of a par loop the iterations would share it: a dimension there."""

from __future__ import annotations

from refusals import refused
from scheduling_checks import assert_body, equiv

from knit import proc
from knit.stdlib.scheduling import autolift_alloc


@proc
def by_row(n: size, A: f32[n, 4], B: f32[n, 4]):
    for i in seq(0, n):
        t: f32[n, 4]
        for j in seq(0, 4):
            t[i, j] = A[i, j] * 2.0
        for j in seq(0, 4):
            B[i, j] = t[i, j] + 1.0


def test_lift_out_of_a_seq_loop_without_keep_dims_adds_no_dimension():
    p = autolift_alloc(by_row, "t : _")
    assert_body(p, """
        t: f32[n, 4] @ DRAM
        for i in seq(0, n):
            for j in seq(0, 4):
                t[i, j] = A[i, j] * 2.0
            for j in seq(0, 4):
                B[i, j] = t[i, j] + 1.0
    """)
    equiv(by_row, p, sizes={"n": 3})


def test_keep_dims_still_adds_the_loop_dimension():
    # Exo's extent: `hi + 1` for a bound `hi` that is not a literal, indexed by `i`
    p = autolift_alloc(by_row, "t : _", keep_dims=True)
    assert body_first_line(p) == "t: f32[n + 1, n, 4] @ DRAM"
    assert "t[i, i, j] = A[i, j] * 2.0" in str(p)
    equiv(by_row, p, sizes={"n": 3})


@proc
def par_scalar(n: size, A: f32[n], B: f32[n]):
    for i in par(0, n):
        t: f32[1]
        t[0] = A[i]
        B[i] = t[0] * 2.0


@proc
def par_indexed(n: size, A: f32[n], B: f32[n]):
    for i in par(0, n):
        t: f32[2]
        t[i % 2] = A[i]
        B[i] = t[i % 2] * 2.0


def test_out_of_a_par_loop_a_buffer_the_iterations_index_gets_a_dimension():
    # one shared t would race: iterations i and i + 2 both write t[i % 2]
    p = autolift_alloc(par_indexed, "t : _")
    assert body_first_line(p) == "t: f32[n, 2] @ DRAM"
    assert "t[i, i % 2] = A[i]" in str(p)
    equiv(par_indexed, p, sizes={"n": 5})


def test_out_of_a_par_loop_a_shared_buffer_is_refused():
    # Exo would lift t out unchanged, and every iteration would write t[0]: a race
    refused(lambda: autolift_alloc(par_scalar, "t : _"), "par loop", "race")


def body_first_line(p) -> str:
    lines = str(p).splitlines()
    return lines[1].strip()
