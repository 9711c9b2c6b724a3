"""The register kernels' k loop in chunks (`Isa.k_unroll`, targets.avx512_k_unroll):
4 k at a time where 512-bit multiply-adds run at full width (Intel Xeon), then the K % 4
left; one k at a time where they are split (Zen 4) and on the other targets."""

import pytest
from test_gemm import PLAIN, cpu_flags, needs, run_against_numpy

import knit
import knit.stdlib.gemm as G
from knit.stdlib.gemm import kernels as Kn, targets as T


def test_only_full_width_avx512_unrolls_k():
    assert T.avx512_k_unroll(False) == 4 and T.avx512_k_unroll(True) == 1
    for dtype in ("f32", "f64"):
        assert G.target("avx512", split_fma=False).isa(dtype).k_unroll == 4
        assert G.target("avx512", split_fma=True).isa(dtype).k_unroll == 1
        for split in (True, False):
            assert G.target("avx2", split_fma=split).isa(dtype).k_unroll == 1
        assert G.target("neon").isa(dtype).k_unroll == 1


@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("unroll", [2, 4])
def test_the_unrolled_kernel_is_the_kernel(dtype, unroll):
    """Chunks of `unroll` k, then K % unroll: equivalent for every K (check_equiv's
    sampled sizes; interpreted everywhere, compiled where the CPU has AVX-512)."""
    isa = G.target("avx512", split_fma=False).isa(dtype)
    ref = G.microkernel_ref(dtype, isa.mr, isa.nr)
    fast = Kn.schedule_microkernel(ref, isa, "avx512", isa.mr, unroll=unroll)
    text = str(fast)
    assert f"for ku in seq(0, {unroll}):" in text and f"for ku in seq(0, K % {unroll}):" in text
    assert "+=" not in text  # every multiply-add an instruction on registers
    knit.check_equiv(ref, fast, trials=3, compiled=False, interpret=True)
    if "avx512f" in cpu_flags():
        knit.check_equiv(ref, fast, trials=4)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_this_machines_kernels_take_its_targets_unroll(dtype):
    """The packed kernel and the kernels on rows of A in place (the small kernel's, the
    last rows', f32's all of k); not the last columns' (half and quarter registers)."""
    isa = G.target("avx512").isa(dtype)
    for _, fast in (G.microkernel("avx512", dtype), G.microkernel("avx512", dtype, False),
                    G.microkernel("avx512", dtype, False, (4, isa.nr))):
        if isa.k_unroll > 1:
            assert f"for ku in seq(0, {isa.k_unroll}):" in str(fast)
        else:  # (a CPU splitting 512-bit multiply-adds: one k at a time)
            assert "for ku in" not in str(fast)
        assert "+=" not in str(fast)
    _, half = G.microkernel("avx512", dtype, False, (8, isa.half.lanes), half=True)
    assert "for ku in" not in str(half)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_gemm_with_k_not_a_multiple_of_4(dtype, threads):
    """The machine's own blocks (KC 512 on the Xeon): the blocked nests' last block of k
    (KC + K % KC deep), all of k (K < KC: f64 packs A there), K % 4 = 1, 2, 3."""
    needs("avx512")
    f = G.schedule_gemm(PLAIN[dtype], "avx512", threads=threads).compile()
    run_against_numpy(f, dtype, [(40, 70, 1029), (70, 100, 515), (33, 80, 301), (64, 96, 6)],
                      seed=5)
