"""fuse across a dependence whose reordering keeps every value (analysis/byvalue.py
`invariant_stores`): a first loop whose iterations all store the same values, from
locations nobody writes, fused with a loop that reads them. This is the private panel
of B of a two-thread GEMM: each thread's iteration packs the whole panel, then
multiplies its rows. The rewrite, equivalence (interpreter and C), and the refusal of
the near misses, where some value differs."""

from __future__ import annotations

from scheduling_checks import assert_body, differs, equiv, refused

from knit import proc
from knit.stdlib.sched_buffers import sink_alloc
from knit.stdlib.scheduling import fuse, parallelize_loop

REORDERS = "fusing would reorder a dependence"


@proc
def packed(K: size, C: f32[2, 8], A: f32[2, K], B: f32[K, 8]):
    Bs: f32[K, 8]
    for t in seq(0, 2):
        for k in seq(0, K):
            for j in seq(0, 8):
                Bs[k, j] = B[k, j]
    for t in seq(0, 2):
        for k in seq(0, K):
            for j in seq(0, 8):
                C[t, j] += A[t, k] * Bs[k, j]


def _loops(p):
    return p.find("for t in _: _ #0"), p.find("for t in _: _ #1")


def test_fuse_a_copy_every_iteration_repeats():
    # iteration 1 of the copy stores what iteration 0 stored (B is written by no one),
    # so it may run after iteration 0 of the product, which read those same values
    p = fuse(packed, *_loops(packed))
    assert_body(p, """
        Bs: f32[K, 8] @ DRAM
        for t in seq(0, 2):
            for k in seq(0, K):
                for j in seq(0, 8):
                    Bs[k, j] = B[k, j]
            for k in seq(0, K):
                for j in seq(0, 8):
                    C[t, j] += A[t, k] * Bs[k, j]
    """)
    equiv(packed, p, sizes={"K": [1, 2, 5]})


@proc
def packed_par(K: size, C: f32[2, 8], A: f32[2, K], B: f32[K, 8]):
    Bs: f32[K, 8]
    for t in seq(0, 2):
        for k in seq(0, K):
            for j in seq(0, 8):
                Bs[k, j] = B[k, j]
    for t in par(0, 2):
        for k in seq(0, K):
            for j in seq(0, 8):
                C[t, j] += A[t, k] * Bs[k, j]


def test_a_fused_panel_is_made_private_before_the_loop_runs_in_parallel():
    # fused, the loop takes the first loop's mode: sequential. Parallel, the threads
    # would all write the one panel; allocated in the loop's body, each has its own
    q = fuse(packed_par, *_loops(packed_par))
    refused(lambda: parallelize_loop(q, q.find("for t in _: _")),
            "iterations of the parallel loop 't' would race", "writes Bs[k, j]",
            prim="parallelize_loop")
    q = sink_alloc(q, q.find("Bs : _"))
    q = parallelize_loop(q, q.find("for t in _: _"))
    assert_body(q, """
        for t in par(0, 2):
            Bs: f32[K, 8] @ DRAM
            for k in seq(0, K):
                for j in seq(0, 8):
                    Bs[k, j] = B[k, j]
            for k in seq(0, K):
                for j in seq(0, 8):
                    C[t, j] += A[t, k] * Bs[k, j]
    """)
    equiv(packed_par, q, sizes={"K": [1, 2, 5]})


# ---------------------------------------------------------------- near misses, refused


@proc
def per_thread_rows(K: size, C: f32[2, 8], A: f32[2, K], B: f32[2, 8]):
    Bs: f32[8]
    for t in seq(0, 2):
        for j in seq(0, 8):
            Bs[j] = B[t, j]
    for t in seq(0, 2):
        for j in seq(0, 8):
            C[t, j] += Bs[j]


def test_refuses_a_first_loop_whose_iterations_store_different_values():
    # iteration 1 stores row 1 of B: run after iteration 0 of the second loop, it would
    # no longer be what that iteration reads (the last one, row 1, in the original)
    msg = refused(lambda: fuse(per_thread_rows, *_loops(per_thread_rows)), REORDERS,
                  "writes Bs", prim="fuse")
    assert "later iteration of the first loop" in msg
    differs(per_thread_rows,
            fuse(per_thread_rows, *_loops(per_thread_rows), unsafe_disable_check=True))


@proc
def source_consumed(K: size, C: f32[2, 8], B: f32[K, 8]):
    Bs: f32[K, 8]
    for t in seq(0, 2):
        for k in seq(0, K):
            for j in seq(0, 8):
                Bs[k, j] = B[k, j]
    for t in seq(0, 2):
        for k in seq(0, K):
            for j in seq(0, 8):
                C[t, j] += Bs[k, j]
                B[k, j] = 2.0 * B[k, j]


def test_refuses_when_the_second_loop_writes_the_copy_source():
    # fused, iteration 1's copy would read the B iteration 0 doubled
    refused(lambda: fuse(source_consumed, *_loops(source_consumed)), REORDERS,
            prim="fuse")
    differs(source_consumed,
            fuse(source_consumed, *_loops(source_consumed), unsafe_disable_check=True),
            sizes={"K": [1, 2, 3]})


@proc
def panel_overwritten(K: size, C: f32[2, 8], B: f32[K, 8]):
    Bs: f32[K, 8]
    for t in seq(0, 2):
        for k in seq(0, K):
            for j in seq(0, 8):
                Bs[k, j] = B[k, j]
    for t in seq(0, 2):
        for k in seq(0, K):
            for j in seq(0, 8):
                C[t, j] += Bs[k, j]
                Bs[k, j] = 0.0


def test_refuses_when_the_second_loop_writes_the_panel():
    # the original's iteration 1 reads the zeros iteration 0 left; fused, a fresh copy
    refused(lambda: fuse(panel_overwritten, *_loops(panel_overwritten)), REORDERS,
            prim="fuse")
    differs(panel_overwritten,
            fuse(panel_overwritten, *_loops(panel_overwritten), unsafe_disable_check=True),
            sizes={"K": [1, 2, 3]})


@proc
def accumulated(K: size, C: f32[2, 8], B: f32[K, 8]):
    Bs: f32[K, 8]
    for k in seq(0, K):
        for j in seq(0, 8):
            Bs[k, j] = 0.0
    for t in seq(0, 2):
        for k in seq(0, K):
            for j in seq(0, 8):
                Bs[k, j] += B[k, j]
    for t in seq(0, 2):
        for k in seq(0, K):
            for j in seq(0, 8):
                C[t, j] += Bs[k, j]


def test_refuses_a_first_loop_that_accumulates():
    # every iteration adds B once more: not the same values each time
    s1, s2 = accumulated.find("for t in _: _ #0"), accumulated.find("for t in _: _ #1")
    refused(lambda: fuse(accumulated, s1, s2), REORDERS, prim="fuse")
    differs(accumulated, fuse(accumulated, s1, s2, unsafe_disable_check=True),
            sizes={"K": [1, 2, 3]})
