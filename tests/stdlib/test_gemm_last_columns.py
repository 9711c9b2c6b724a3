"""The last N % NR columns on AVX-512 (schedule.edge_columns): whole 512-bit vectors,
a whole 256-bit one, then up to a quarter of the lanes a whole 128-bit vector or a
masked one, more than that one masked 256-bit vector; where the target has two
full-width multiply-add ports (`Isa.masked_wide_rest`), a rest of more than half the
lanes one masked 512-bit vector instead. Each remainder class against
NumPy (one thread and two, plain and strided), the 128-bit kernels against their plain
loops, and the structure of the branch."""

import re

import pytest
from test_gemm import PLAIN, needs, run_against_numpy, scheduled, small_blocks

import knit
from knit.stdlib import gemm as G
from tests.helpers.gemm_text import kernel_of


def remainders(dtype: str) -> list[tuple[int, int, int]]:
    """N % NR in every class of the last columns: none; whole 512, 256, 128-bit
    vectors; a masked 128-bit vector (fewer than a quarter of the lanes); a masked
    256-bit one (more); a masked 512-bit one (more than half: 3q + 1, 7q - 1, NR - 1);
    and their sums; M with and without edge rows."""
    isa = G.target("avx512").isa(dtype)
    q = isa.lanes // 4
    rests = [0, q, q - 1, q + 1, 2 * q - 1, 2 * q, 3 * q, 3 * q + 1, 4 * q, 4 * q + q,
             4 * q + q + 1, 6 * q + q - 1, isa.nr - 1, 1]
    rests = sorted({r for r in rests if 0 <= r < isa.nr})
    ms = [isa.mr, isa.mr + 3, 2 * isa.mr + 1, 1]
    return [(ms[i % 4], isa.nr * (1 + i % 3) + r, 5 + 7 * i) for i, r in enumerate(rests)]


@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("parallel", [False, True], ids=["1-thread", "par"])
@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
def test_every_class_of_last_columns_matches_numpy(dtype, parallel, strided):
    needs("avx512")
    f = scheduled("avx512", dtype, parallel).compile()
    run_against_numpy(f, dtype, remainders(dtype), strided=strided, seed=13)


def test_quarter_kernels_are_equivalent_in_the_interpreter():
    for dtype, lanes in (("f32", 4), ("f64", 2)):
        for rows in (8, 1):
            ref, fast = G.microkernel("avx512", dtype, False, (rows, lanes), quarter=True)
            assert "@ XMM" in str(fast) and "+=" not in str(fast)
            knit.check_equiv(ref, fast, trials=2, compiled=False, interpret=True)
            ref, fast = G.masked_kernel("avx512", dtype, rows, quarter=True)
            assert f"assert n < {lanes}" in str(ref)
            knit.check_equiv(ref, fast, trials=3, compiled=False, interpret=True)


def test_quarter_kernels_compile_and_match_their_plain_loops():
    needs("avx512")
    for dtype in ("f32", "f64"):
        ref, fast = G.microkernel("avx512", dtype, False, (8, 4 if dtype == "f32" else 2),
                                  quarter=True)
        assert knit.check_equiv(ref, fast, trials=2).trials == 2
        ref, fast = G.masked_kernel("avx512", dtype, 8, quarter=True)
        assert knit.check_equiv(ref, fast, trials=3).trials == 3


def test_the_rest_takes_a_quarter_vector_up_to_a_quarter_of_the_lanes():
    text = str(scheduled("avx512", "f32", False))
    cols = text.split("if N % 32 > 0:")[1]
    # (inside `if N % 16 <= 8` where a wider rest is one masked 512-bit vector)
    pad = " " * (16 + 4 * G.target("avx512").isa("f32").masked_wide_rest)
    assert f"if N % 8 > 0:\n{pad}if N % 8 <= 4:\n" in cols
    then, orelse = cols.split("if N % 8 <= 4:")[1].split(f"\n{pad}else:\n")
    orelse = orelse.split("\n            else:\n")[0]  # (not the wider rest's branch)
    assert "gemm_ukernel_f32_8x4_rows_avx512(K" in then
    assert "gemm_ukernel_f32_1x4_rows_avx512(K" in then
    assert "gemm_ukernel_f32_8xn_masked_quarter_avx512(N % 4, K" in then
    assert "gemm_ukernel_f32_1xn_masked_quarter_avx512(N % 4, K" in then
    assert "_masked_half_" not in then and "_quarter_" not in orelse
    assert "gemm_ukernel_f32_8xn_masked_half_avx512(N % 8, K" in orelse
    assert "gemm_ukernel_f32_1xn_masked_half_avx512(N % 8, K" in orelse


def test_a_rest_past_half_the_lanes_is_one_masked_full_vector_where_the_target_says_so():
    isa = G.target("avx512").isa("f32")
    assert G.target("avx512", split_fma=False).isa("f32").masked_wide_rest
    assert not G.target("avx512", split_fma=True).isa("f64").masked_wide_rest  # Zen 4
    text = str(scheduled("avx512", "f32", False))
    cols = text.split("if N % 32 > 0:")[1]
    if not isa.masked_wide_rest:
        assert "if N % 16 <= 8:" not in cols and "_masked_avx512" not in cols
        return
    rest = cols.split("if N % 16 > 0:\n")[1]
    assert rest.startswith("            if N % 16 <= 8:\n")
    then, orelse = rest.split("\n            else:\n")
    assert "_masked_half_" in then and "_masked_avx512" not in then
    assert "gemm_ukernel_f32_8xn_masked_avx512(N % 16, K, A[8 * iw" in orelse
    assert "gemm_ukernel_f32_1xn_masked_avx512(N % 16, K" in orelse
    assert "_half_" not in orelse and "_quarter_" not in orelse


def test_avx2_and_neon_have_no_quarter_registers():
    # AVX2 (masked 256-bit vectors and 128-bit halves, whole or masked: the 128-bit
    # registers are its half) and NEON (plain loops) have no quarter kernels
    _, masked, half, quarter = G.edge_column_kernels("neon", "f32")
    assert quarter is None and half is None and masked is None
    _, masked, half, quarter = G.edge_column_kernels("avx2", "f32")
    assert quarter is None and half[0] == 4 and set(masked) == set(half[2])
    assert G.target("avx512").isa("f32").half.quarter.lanes == 4
    assert G.masked_kernel("avx2", "f32", 8, quarter=True) is None
    text = str(kernel_of(G.schedule_gemm(PLAIN["f32"], "avx2", threads=1)))
    assert "_quarter_" not in text


def test_b_last_columns_are_copied_once_before_their_kernels():
    # (read in place, each row of them is a line of its own, N apart; the copy, K x
    # N % NR, stays in L1 for every MR rows' call); correctness: the NumPy tests above,
    # strided B included
    for split in (None, "rows"):  # one thread; the blocked kernel's rows shared out
        q = scheduled("avx512", "f32", split is not None, split=split or "auto")
        cols = str(q).split("if N % 32 > 0:\n")[1]
        assert cols.startswith("        B_last: f32[K, N % 32] @ DRAM\n"
                               "        for i0 in seq(0, K):\n"
                               "            for i1 in seq(0, N % 32):\n"
                               "                B_last[i0, i1] = B[i0, N - N % 32 + i1]\n")
        assert ", B[" not in cols and "B_last[0:K, 16 * jv:16 + 16 * jv]" in cols
        # the kernels only read it: nothing is copied back into the caller's B
        assert not re.search(r"^ *B\[", str(q), re.M)
        assert not re.search(r"^ *B\[.*\] = ", q.c_code_str(), re.M)
    # AVX2 and NEON too (their last columns: whole vectors, then plain loops or masks)
    for name in ("avx2", "neon"):
        text = str(kernel_of(G.schedule_gemm(PLAIN["f32"], name, small_blocks(name, "f32"),
                                             threads=1)))
        assert "B_last[i0, i1] = B[i0, N - N % " in text
        assert not re.search(r"^ *B\[", text, re.M)


def test_the_small_kernel_reads_its_last_columns_in_place_four_rows_at_a_time():
    # (B is small there: its copy cost more than it saved; the last M % 8 rows of each
    # class of columns 4 at a time, then one by one); correctness: test_gemm_small's
    # sizes, M % 8 = 4 and 5 with every class of the last columns
    from knit.stdlib.gemm.variants import schedule_small

    text = str(schedule_small(PLAIN["f32"], "avx512"))
    cols = text.split("if N % 32 > 0:\n")[1]
    assert "B_last" not in text and "B[0:K, 32 * (N / 32) + 16 * jv:" in cols
    for kernel in ("16", "8", "4", "n_masked_half", "n_masked_quarter"):
        assert f"gemm_ukernel_f32_4x{kernel}_" not in text.split("if N % 32 > 0:")[0]
        eight, four, one = (cols.index(f"gemm_ukernel_f32_{r}x{kernel}_") for r in (8, 4, 1))
        assert eight < four < one
    assert "for iq in seq(0, M % 8 / 4):" in cols
    # the blocked kernel keeps its copy and its rows 8 at a time, then one by one
    big = str(scheduled("avx512", "f32", False))
    assert "B_last" in big and "gemm_ukernel_f32_4x4_" not in big

