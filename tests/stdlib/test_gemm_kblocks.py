"""The rest of K joined to the last KC block (schedule.cut_edges): K just below, at and
just above multiples of KC, and below KC, on one thread and two, plain and strided."""

import pytest
from test_gemm import needs, run_against_numpy, scheduled, small_blocks


def k_sizes(dtype: str) -> list[tuple[int, int, int]]:
    kc = small_blocks("avx512", dtype).kc
    ks = [1, kc - 1, kc, kc + 1, 2 * kc - 1, 2 * kc, 2 * kc + 1, 3 * kc - 1, 5 * kc + 7]
    mn = [(8, 32), (17, 45), (40, 70), (3, 5)]
    return [(m, n, k) for i, k in enumerate(ks) for m, n in mn[i % 2:i % 2 + 3]]


@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("parallel", [False, True], ids=["1-thread", "par"])
@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
def test_k_around_multiples_of_kc(dtype, parallel, strided):
    needs("avx512")
    f = scheduled("avx512", dtype, parallel).compile()
    run_against_numpy(f, dtype, k_sizes(dtype), strided=strided, seed=11)


def test_the_last_block_is_deeper_than_kc_not_a_pass_of_its_own():
    text = str(scheduled("avx512", "f32", False))
    assert "K % 16" not in text.split("if M % 8 > 0")[0]  # no pass over C for K % KC
    assert "if 16 <= K:" in text and "for pc in seq(0, -1 + K / 16):" in text
