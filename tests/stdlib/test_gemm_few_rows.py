"""One thread on rows of one MC block (schedule.rows_in_one_block): `if M <= MC` calls a
twin with a narrower NC (B's packed panel in L2), else the kernel of the usual blocks;
both sides checked against NumPy and the plain proc, and where the twin is not made."""

import re

import pytest
from test_gemm import dgemm, needs, run_against_numpy, sgemm, small_blocks

from knit.stdlib import gemm as G
from knit.stdlib.gemm.variants import few_rows_twin_blocking
from tests.helpers.gemm_text import kernel_of
from tests.helpers.targets import check_equiv_here

_FEW: dict = {}


def few_rows_kernel():
    """Small blocks (MC = 16, KC = 16, NC = 128), the few rows' NC = 64: sizes up to 200
    cross every boundary of both twins."""
    if not _FEW:
        blk = G.Blocking(16, 16, 128)
        few = G.Blocking(16, 16, 64)
        _FEW["q"] = G.rows_in_one_block(sgemm, "avx512", blk, few, None)
    return _FEW["q"]


def test_rows_of_one_block_call_the_narrow_twin():
    text = str(few_rows_kernel())
    assert "if M <= 16:\n        sgemm_few(M, N, K, A, B, C)\n    else:\n" \
           "        sgemm_many(M, N, K, A, B, C)" in text
    few, many = (str(few_rows_kernel().find(f"{n}(_)").subproc())
                 for n in ("sgemm_few", "sgemm_many"))
    assert "for jc in seq(0, (32 + N) / 64)" in few and "Bs: f32[2, 16, 32]" in few
    assert "for jc in seq(0, (96 + N) / 128)" in many and "Bs: f32[4, 16, 32]" in many
    assert " in par(" not in few + many


@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
def test_both_twins_match_numpy(strided):
    needs("avx512")
    f = few_rows_kernel().compile()
    # M at, below and above MC = 16; N across NC = 64 and 128; K across KC = 16
    sizes = [(16, 200, 40), (15, 65, 17), (17, 129, 16), (1, 63, 1), (8, 128, 33),
             (40, 197, 50), (16, 64, 15), (100, 7, 70), (3, 257, 100), (9, 300, 31)]
    run_against_numpy(f, "f32", sizes, strided=strided, seed=5)


def test_twins_are_equivalent_to_the_plain_proc():
    report = check_equiv_here(sgemm, few_rows_kernel(), "avx512", trials=3,
                              sizes={"M": [1, 16, 17, 40], "N": [1, 70, 150], "K": [1, 17, 40]})
    assert report.trials == 3


def test_default_one_thread_schedule_takes_the_twin_given_blocks_do_not():
    # (the problems past the small ones': small_in_place, test_gemm_small.py)
    for plain, dt, e in ((sgemm, "f32", 4), (dgemm, "f64", 8)):
        isa = G.target("avx512").isa(dt)
        blk = G.choose_blocking(isa, e)
        few = few_rows_twin_blocking(isa, blk, e)
        kernel = kernel_of(G.schedule_gemm(plain, "avx512", threads=1))
        name = kernel.name()
        q = str(kernel.find(f"{name}_big(_)").subproc())
        if few != blk and few.mc > G.PASS_ROWS_MR[dt] * isa.mr:
            assert f"if M <= {few.mc}:\n        {name}_big_few(" in q
        else:  # (L2 holds a KC x NC panel already: nothing to cut; or the twin's rows
            # are those small_in_place takes: it would never run)
            assert f"{name}_big_few" not in q


def test_no_twin_for_rows_the_small_problems_take():
    """AVX-512 f64 on AMD Zen 3's caches (32 KB L1, 512 KB L2: session 19's machine)
    gave the few-rows twin one MC block of 32 rows, 4 MR: every M <= 32 takes the small
    kernel first, the twin never ran, and schedule_gemm refused its own schedule ("this
    code never runs")."""
    from knit.stdlib.gemm.targets import _target

    isa = _target("avx512", True).isa("f64")
    zen3 = (32 << 10, 512 << 10, 32 << 20)
    blk = G.choose_blocking(isa, 8, zen3)
    few = few_rows_twin_blocking(isa, blk, 8, zen3)
    assert few != blk and few.mc == G.PASS_ROWS_MR["f64"] * isa.mr
    q = G.variants.one_thread_variants(dgemm, "avx512", blk, few, None)
    assert "_few(" not in str(q) and "_big(" in str(q)


def test_few_rows_blocks_on_both_kinds_of_avx512():
    from knit.stdlib.gemm.targets import _target

    caches = (48 << 10, 2 << 20, 32 << 20)  # this session's Xeon
    for split in (False, True):  # Intel's full-width multiply-adds; Zen 4's halves
        for dt, e in (("f32", 4), ("f64", 8)):
            isa = _target("avx512", split).isa(dt)
            blk = G.choose_blocking(isa, e, caches)
            few = few_rows_twin_blocking(isa, blk, e, caches)
            assert few.nc < blk.nc  # the panel cut to L2
            if isa.few_rows_same_a:  # A's block as large as blk's; f64 half the KC
                assert not split and few.mc * few.kc == blk.mc * blk.kc
                assert few.kc == (blk.kc // 2 if dt == "f64" else blk.kc)
            else:  # one block twice blk's, blk's KC
                assert split and (few.mc, few.kc) == (2 * blk.mc, blk.kc)
    # blocks given: exactly those, no twin
    assert "_few" not in str(kernel_of(G.schedule_gemm(sgemm, "avx512",
                                                       small_blocks("avx512", "f32"), threads=1)))


def test_few_rows_nc_fills_l2():
    isa = G.target("avx512").isa("f32")
    blk = G.Blocking(128, 1024, 1024)
    # KC x NC x 4 bytes in a 1 MB L2: NC = 256 (a multiple of 2 NR)
    assert G.few_rows_blocking(blk, isa.nr, 4, caches=(32 << 10, 1 << 20, 16 << 20)) \
        == G.Blocking(128, 1024, 256)
    # never wider than the blocks', never below 2 NR
    assert G.few_rows_blocking(blk, isa.nr, 4, caches=(32 << 10, 8 << 20, 16 << 20)) == blk
    assert G.few_rows_blocking(blk, isa.nr, 8, caches=(32 << 10, 64 << 10, 16 << 20)).nc \
        == 2 * isa.nr
    assert re.fullmatch(r"\d+", str(G.few_rows_blocking(blk, isa.nr, 4).nc))
