"""knit.stdlib.gemm.parts: the threads each run the one-thread kernel on a part of C.

`in_parts` (a loop as `parts` par iterations of consecutive ranges), `threads_take_parts`
(each range a call of a GEMM kernel), and where they are refused; against NumPy, the
interpreter and check_equiv, on dense and strided operands and 2 or 3 parts."""

from __future__ import annotations

import numpy as np
import pytest
from test_gemm import needs, run_against_numpy, sgemm

import knit
from knit import proc
from knit.errors import SchedulingError
from knit.stdlib import gemm as G
from knit.stdlib.gemm.parts import in_parts, part_bounds, threads_take_parts
from tests.helpers.gemm_text import kernel_of
from tests.helpers.targets import build_flags


@proc
def scale_rows(M: size, N: size, x: f32[M, N] @ DRAM, y: f32[M, N] @ DRAM):
    for i in seq(0, M):
        for j in seq(0, N):
            y[i, j] = 2.0 * x[i, j]


@proc
def prefix(N: size, x: f32[N] @ DRAM):
    for i in seq(0, N - 1):
        x[i + 1] += x[i]


def test_part_bounds_cover_the_range_once_in_order():
    # lo(t), hi(t) as Python: consecutive, the first at 0, the last at size, each part
    # a multiple of the unit long but the last, w the unit multiple nearest size / parts
    for parts, unit in ((2, 8), (3, 4), (2, 32)):
        w, lo, hi = part_bounds("S", parts, unit, "t")
        for size in range(parts * unit, 400, 7):
            env = {"S": size}
            ww = eval(w.replace("/", "//"), env)
            fits = unit <= ww and (parts - 1) * ww < size
            if not fits:
                continue
            spans = [(eval(lo.replace("/", "//"), {**env, "t": t}),
                      eval(hi.replace("/", "//"), {**env, "t": t})) for t in range(parts)]
            assert spans[0][0] == 0 and spans[-1][1] == size
            assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
            assert all(b - a == ww and ww % unit == 0 for a, b in spans[:-1])
            assert abs(ww - size / parts) <= unit / 2
    w = part_bounds("S", 2, 32, "t")[0]
    assert eval(w.replace("/", "//"), {"S": 300}) == 160  # (rounded down: 128)


@pytest.mark.parametrize("parts", [2, 3])
def test_in_parts_makes_one_par_loop_of_consecutive_ranges(parts):
    q = knit.stdlib.scheduling.specialize(scale_rows, scale_rows.body()[0],
                                          [f"{parts * 4} <= M"])
    q = in_parts(q, q.body()[0].body()[0], "M", parts, 4, "t")
    text = str(q)
    w, lo, hi = part_bounds("M", parts, 4, "t")
    assert f"for t in par(0, {parts}):" in text
    assert text.count(" in par(") == 1
    assert q.is_eq(scale_rows)
    f = q.compile()
    rng = np.random.default_rng(parts)
    for m, n in ((1, 3), (parts * 4, 5), (parts * 4 + 1, 2), (37, 9), (100, 1)):
        x = rng.standard_normal((m, n), dtype=np.float32)
        y = np.zeros_like(x)
        f(M=m, N=n, x=x, y=y)
        assert np.array_equal(y, 2 * x), (m, n)
    report = knit.check_equiv(scale_rows, q, trials=4, sizes={"M": [3, 8, 13, 40],
                                                              "N": [1, 2, 5]},
                              interpret=True)
    assert report.trials == 4


def test_in_parts_is_refused_where_the_iterations_depend_on_each_other():
    # x[i + 1] += x[i]: each iteration reads what the one before wrote; two parts at
    # once would race (the last element of one part, the first of the next)
    q = knit.stdlib.scheduling.specialize(prefix, prefix.body()[0], ["9 <= N"])
    with pytest.raises(SchedulingError, match="race"):
        in_parts(q, q.body()[0].body()[0], "N - 1", 2, 4, "t")


def test_in_parts_with_empty_parts_runs_the_same_iterations():
    # without `parts_fit` around it a part may be empty (M = 1: w = 0, the first part
    # runs nothing): still the same iterations in the same order (the calls of
    # threads_take_parts need the condition: a size argument is at least 1)
    q = in_parts(scale_rows, scale_rows.body()[0], "M", 2, 4, "t")
    assert q.is_eq(scale_rows)
    report = knit.check_equiv(scale_rows, q, trials=4, sizes={"M": [1, 2, 3, 4],
                                                              "N": [1, 3]}, interpret=True)
    assert report.trials == 4


def test_in_parts_is_refused_where_the_parts_are_not_the_loop():
    # parts of seq(0, M + 1) for a loop over seq(0, M): the last part's end cannot be
    # proven equal to the loop's
    with pytest.raises(SchedulingError, match="rewrite_expr|cut_loop"):
        in_parts(scale_rows, scale_rows.body()[0], "M + 1", 2, 4, "t")


def test_threads_take_parts_refuses_another_direction():
    kernel = G.one_thread_kernel("f32", "avx512", None, None)
    with pytest.raises(ValueError, match="along must be 'rows' or 'cols'"):
        threads_take_parts(sgemm, "k", 2, 8, kernel)


@pytest.mark.parametrize("along", ["rows", "cols"])
@pytest.mark.parametrize("parts", [2, 3])
def test_threads_take_parts_match_numpy(along, parts):
    needs("avx512")
    isa = G.target("avx512").isa("f32")
    unit = isa.mr if along == "rows" else isa.nr
    blk = G.Blocking(mc=2 * isa.mr, kc=16, nc=2 * isa.nr)  # small: sizes cross them
    kernel = G.one_thread_kernel("f32", "avx512", blk, None)
    q = threads_take_parts(sgemm, along, parts, unit, kernel)
    assert q.is_eq(sgemm)
    text = str(q)
    assert f"for t in par(0, {parts}):" in text and text.count(f"{kernel[1].name()}(") == 2
    f = q.compile()
    s = parts * unit  # the parts fit from about here on; below, one call on all of C
    sizes = [(1, 1, 1), (s - 1, s - 1, 3), (s, s, 17), (s + 1, s + 1, 16), (s + 5, 2 * s + 3, 33),
             (3 * s + 7, s + 2, 40), (2 * s, 3 * s + 1, 5), (13, 300, 20), (300, 13, 20)]
    run_against_numpy(f, "f32", sizes, seed=parts)
    run_against_numpy(f, "f32", sizes[2::2], strided=True, seed=parts + 10)
    report = knit.check_equiv(sgemm, q, trials=3, sizes={"M": [5, s + 3, 2 * s + 1],
                                                        "N": [7, s + 5, 2 * s + 9],
                                                        "K": [1, 17, 33]})
    assert report.trials == 3


def test_the_parts_call_one_kernel_per_blocks_and_shape():
    kernel = G.one_thread_kernel("f64", "avx2", None, None)
    assert G.one_thread_kernel("f64", "avx2", None, None) is kernel
    plain, fast = G.one_thread_kernel("f64", "avx2", None, None)
    assert plain.name() == fast.name() == "gemm_f64_avx2"
    assert fast.is_eq(plain) and " in par(" not in str(fast)
    blk = G.Blocking(mc=12, kc=16, nc=16)
    assert G.one_thread_kernel("f64", "avx2", blk, None)[1].name() == "gemm_f64_avx2_12x16x16"


def test_a_par_loop_over_calls_of_a_large_kernel_is_checked_by_windows_when_compiled():
    # the compile-time race check bounds each call of a large callee by the windows it
    # is passed (as parallelize_loop does): the parts' kernel has ~100,000 accesses; a
    # call writing a window both iterations share is still refused
    q = threads_take_parts(sgemm, "rows", 2, 8, G.one_thread_kernel("f32", "avx512", None, None))
    # (seconds before the windows bounded the calls: minutes; built, not run)
    q.compile(extra_flags=build_flags("avx512"))
    with pytest.warns(knit.errors.RefusedLaterWarning):  # (refused when compiled)
        @proc
        def racy(M: size, N: size, K: size, A: [f32][M, K] @ DRAM, B: [f32][K, N] @ DRAM,
                 C: [f32][M, N] @ DRAM):
            assert stride(A, 1) == 1
            assert stride(B, 1) == 1
            assert stride(C, 1) == 1
            for t in par(0, 2):
                sgemm(M, N, K, A, B, C)

    with pytest.raises(knit.errors.KnitError, match="race"):
        racy.compile()


def test_three_threads_take_three_parts_with_the_machines_blocks():
    # split="auto" never shares a block's slivers out, so the blocks need not split in
    # three; the blocked kernel's threads do: the blocks chosen for them do (MC and NC
    # multiples of 3 MR and 3 NR), blocks given that do not are refused
    needs("avx512")
    q = G.schedule_gemm(sgemm, "avx512", threads=3)
    k = kernel_of(q)
    assert "for t in par(0, 3):" in str(k.find(f"{k.name()}_par(_)").subproc()
                                        .find(f"{k.name()}_par_tiles(_)").subproc()
                                        .find(f"{k.name()}_par_tiles_rows(_)").subproc())
    run_against_numpy(q.compile(), "f32", [(3 * 8 + 1, 40, 30), (200, 130, 77), (100, 300, 5),
                                           (23, 23, 300)], seed=3)
    for split in ("rows", "cols"):
        q = G.schedule_gemm(sgemm, "avx512", threads=3, split=split)
        assert " in par(0, 3):" in str(kernel_of(q).find(f"{kernel_of(q).name()}_par(_)")
                                       .subproc())
        run_against_numpy(q.compile(), "f32", [(300, 200, 100), (37, 500, 41)], seed=4)
    with pytest.raises(ValueError, match="multiple of MR x threads"):
        G.schedule_gemm(sgemm, "avx512", G.Blocking(16, 16, 64), threads=3, split="rows")
