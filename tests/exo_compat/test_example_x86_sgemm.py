"""A whole SGEMM scheduled onto AVX-512 the way Exo's `apps/x86/sgemm/sgemm.py` builds
it, written here in knit's words and scaled down so odd sizes cross every tile edge
in a small test: register tiles of ROWS x (LANES_PER_TILE x 16), cache tiles of
CACHE_M x CACHE_N x CACHE_K.

Layers, from the inside out:
- register kernels: the C tile staged in AVX-512 registers around the k loop, the j
  loop rounded up to 16 lanes and vectorized with FMAs, one kernel per row count
  1..ROWS (`partial_eval`);
- the right edge (fewer than a tile of columns): one case per number of vectors,
  `specialize`d on it, where the last vector is partial and the masked instructions
  (`mm512_maskz_loadu_ps`, `mm512_mask_fmadd_ps`, `mm512_mask_storeu_ps`,
  `mm512_mask_set1_ps`) do the work;
- the bottom edge (fewer than ROWS rows): `specialize`d on the row count, each case
  replaced by a plain kernel and swapped for its scheduled twin (`call_eqv`);
- a macro kernel over one cache tile: `tile_loops_bottom_up` into register tiles, the
  main part, the right edge and the bottom edge each become calls (the corner stays
  plain, as in the app);
- the top: `tile_loops_bottom_up` into cache tiles, every B tile staged in a
  `DRAM_STATIC` buffer of a full tile's size (`auto_stage_mem`, `resize_dim`), the A
  tile of the main part too, and each tile's loops replaced by a call of the macro
  kernel.

Every layer is checked for shape (the instructions and buffers it should have) and
for equivalence with its plain form on odd sizes: interpreted always; the masked edge
kernels and the whole SGEMM (which holds every kernel) also compiled and run natively
where this CPU has AVX-512F."""

from __future__ import annotations

import pytest
from test_x86_compiled import NATIVE_AVX512

import knit
from knit import proc
from knit.errors import SchedulingError
from knit.libs.memories import DRAM_STATIC
from knit.platforms.x86 import (
    AVX512,
    mm512_fmadd_ps,
    mm512_loadu_ps,
    mm512_mask_fmadd_ps,
    mm512_mask_set1_ps,
    mm512_mask_storeu_ps,
    mm512_maskz_loadu_ps,
    mm512_set1_ps,
    mm512_storeu_ps,
)
from knit.stdlib.scheduling import (
    call_eqv,
    divide_dim,
    fission,
    rename,
    repeat,
    replace,
    replace_all,
    resize_dim,
    set_memory,
    set_window,
    simplify,
    specialize,
    unroll_loop,
)
from knit.stdlib.stdlib import (
    auto_stage_mem,
    dce,
    fma_rule,
    hoist_from_loop,
    round_loop,
    tile_loops_bottom_up,
    vectorize,
)

LANES = 16  # f32 lanes of an AVX-512 register
ROWS = 3
LANES_PER_TILE = 2
COLS = LANES * LANES_PER_TILE
CACHE_M, CACHE_N, CACHE_K = 2 * ROWS, COLS, 8

AVX512_F32 = [mm512_loadu_ps, mm512_storeu_ps, mm512_fmadd_ps, mm512_set1_ps,
              mm512_maskz_loadu_ps, mm512_mask_storeu_ps, mm512_mask_fmadd_ps,
              mm512_mask_set1_ps]
MASKED = ("mm512_maskz_loadu_ps", "mm512_mask_fmadd_ps", "mm512_mask_storeu_ps",
          "mm512_mask_set1_ps")


@proc
def gemm(M: size, N: size, K: size, A: f32[M, K], B: f32[K, N], C: f32[M, N]):
    assert M >= 1
    assert N >= 1
    assert K >= 1
    assert stride(A, 1) == 1
    assert stride(B, 1) == 1
    assert stride(C, 1) == 1
    for k in seq(0, K):
        for i in seq(0, M):
            for j in seq(0, N):
                C[i, j] += A[i, k] * B[k, j]


def windowed(p):
    """The same update on windows, so tiles of bigger matrices can be passed."""
    p = rename(p, "gemm_win")
    for buf in "ABC":
        p = set_window(p, buf, True)
    return p


GEMM_WIN = windowed(gemm)


def in_registers(p, cond: str):
    """(the proc with `cond` asserted, its register-tile schedule)."""
    plain = p.add_assertion(cond)
    p = round_loop(plain, plain.find_loop("j"), LANES)
    p = dce(simplify(specialize(p, p.find_loop("k"), cond)))
    p = simplify(auto_stage_mem(p, p.find_loop("k"), "C", "Ctile"))
    p = set_memory(simplify(divide_dim(p, "Ctile", 1, LANES)), "Ctile", AVX512)
    for loop in ("i1", "j", "i1"):  # the load, the update, the store
        p = vectorize(p, p.find_loop(loop), LANES, "f32", AVX512, rules=[fma_rule],
                      tail="perfect")
    p = hoist_from_loop(p, p.find_loop("jo"))  # the broadcast of A out of the vectors
    for loop in ("i1o", "jo", "i1o"):
        p = unroll_loop(p, loop)
    p = simplify(replace_all(simplify(dce(p)), AVX512_F32))
    return plain, p


def full_tile(rows: int):
    p = rename(GEMM_WIN, f"tile_{rows}x{COLS}")
    return in_registers(simplify(p.partial_eval(rows, COLS)), "0 == 0")


@pytest.fixture(scope="module")
def tiles():
    """rows -> (plain kernel, scheduled kernel) for full-width register tiles."""
    return {rows: full_tile(rows) for rows in range(1, ROWS + 1)}


@pytest.fixture(scope="module")
def right_edge():
    """(plain, scheduled, its case kernels): N < COLS columns, one case per number of
    vectors the columns need."""
    plain = simplify(rename(GEMM_WIN, "right_edge").partial_eval(M=ROWS)
                     .add_assertion(f"N < {COLS}"))
    vectors = [f"(N + {LANES - 1}) / {LANES} == {n}" for n in range(1, LANES_PER_TILE + 1)]
    p = dce(specialize(plain, plain.body()[0], vectors))
    cases = []
    for n, cond in enumerate(vectors, 1):
        case, fast = in_registers(plain, cond)
        p = replace(p, p.find_loop("k"), case)
        fast = rename(fast, f"right_edge_{n}v")
        p = call_eqv(p, case, fast)
        cases.append(fast)
    return plain, rename(p, "right_edge_avx512"), cases


@pytest.fixture(scope="module")
def bottom_edge(tiles):
    """(plain, scheduled): M < ROWS rows, each row count a register kernel."""
    plain = simplify(rename(GEMM_WIN, "bottom_edge").partial_eval(N=COLS)
                     .add_assertion(f"M < {ROWS}"))
    p = specialize(plain, plain.find_loop("k"), [f"M == {r}" for r in range(1, ROWS)])
    p = dce(simplify(p))
    for rows in range(1, ROWS):
        slow, fast = tiles[rows]
        p = call_eqv(replace_all(p, slow), f"{slow.name()}(_)", fast)
    return plain, rename(simplify(p), "bottom_edge_avx512")


@pytest.fixture(scope="module")
def macro(tiles, right_edge, bottom_edge):
    """One cache tile: register tiles, then the right and the bottom edge, as calls."""
    p = rename(GEMM_WIN, "macro_kernel")
    p = tile_loops_bottom_up(p, p.body()[0], (None, ROWS, COLS))
    p = fission(p, p.find_loop("jo").after())
    for slow, fast in (tiles[ROWS], right_edge[:2], bottom_edge):
        p = call_eqv(replace_all(p, slow), slow, fast)
    return simplify(p)


@pytest.fixture(scope="module")
def sgemm(macro):
    p = rename(gemm, "sgemm_avx512")
    p = tile_loops_bottom_up(p, p.body()[0], (CACHE_K, CACHE_M, CACHE_N))
    k_tiles = 2 ** 3  # each of the three loops gave a main part and a tail
    for n in range(k_tiles):
        p, (alloc, _, _, _) = auto_stage_mem(p, p.find_loop(f"ki #{n}"), "B", "Btile",
                                             rc=True)
        p = resize_dim(resize_dim(p, alloc, 0, CACHE_K, 0), alloc, 1, CACHE_N, 0)
        p = set_memory(p, alloc, DRAM_STATIC)
    p, (alloc, _, _, _) = auto_stage_mem(p, p.find_loop("jo"), "A", "Atile", rc=True)
    p = resize_dim(resize_dim(p, alloc, 0, CACHE_M, 0), alloc, 1, CACHE_K, 0)
    p = set_memory(p, alloc, DRAM_STATIC)
    p = fission(p, p.find_loop("jo").after(), n_lifts=2)
    p = repeat(call_eqv)(replace_all(p, GEMM_WIN), GEMM_WIN, macro)
    return simplify(p)


# sizes that leave a partial register tile, a partial vector and a partial cache tile
ODD = {"M": [1, 2, 5, 7, 8], "N": [1, 15, 17, 33, 47], "K": [1, 3, 9, 17]}


def agrees(plain, fast, sizes, trials=3, compiled=True):
    """Equivalence on random inputs: interpreted, and compiled where this CPU runs
    AVX-512 (the inner layers are compiled as part of the whole, so they are only
    interpreted on their own: each compilation costs a second or two)."""
    knit.check_equiv(plain, fast, trials=trials, sizes=sizes, interpret=True,
                     compiled=compiled and NATIVE_AVX512)


def test_a_register_tile_is_avx512_instructions_only(tiles):
    _, fast = tiles[ROWS]
    text = str(fast)
    assert f"Ctile: f32[{ROWS}, {LANES_PER_TILE}, {LANES}] @ AVX512" in text
    # per row and k step: one broadcast of A, a vector load of B and an FMA per vector
    assert f"for i in seq(0, {ROWS}):" in text
    assert text.count("mm512_set1_ps(") == 1
    assert text.count("mm512_fmadd_ps(") == LANES_PER_TILE
    # C's tile loaded before the k loop and stored after it, vector by vector
    assert text.count("mm512_loadu_ps(") == 2 * LANES_PER_TILE
    assert text.count("mm512_storeu_ps(") == LANES_PER_TILE
    assert "+=" not in text and not any(m in text for m in MASKED)


def test_register_tiles_are_proven_and_agree_with_the_plain_tiles(tiles):
    for slow, fast in tiles.values():
        assert fast.is_eq(slow)
    agrees(*tiles[ROWS], {"K": [1, 4, 9]}, trials=2, compiled=False)


def test_the_right_edge_masks_only_its_partial_vector(right_edge):
    plain, fast, cases = right_edge
    assert [c.name() for c in cases] == [f"right_edge_{n}v" for n in
                                         range(1, LANES_PER_TILE + 1)]
    text = str(fast)
    assert all(f"{c.name()}(" in text for c in cases)
    for n, case in enumerate(cases, 1):
        body = str(case)
        # the full vectors before the last one are unmasked, the last one is masked
        assert body.count("mm512_mask_fmadd_ps(") == 1
        assert body.count("mm512_fmadd_ps(") == n - 1
        assert all(m in body for m in MASKED)
        first = LANES * (n - 1)  # the partial vector's first column; N - first lanes
        lanes = "N" if n == 1 else f"-{first} + N"
        assert f"mm512_mask_storeu_ps({lanes}, C[i0, {first}:N], " in body
    c = fast.c_code_str()
    for intrinsic in ("_mm512_mask_loadu_ps(", "_mm512_mask_storeu_ps(", "_mm512_mask_mov_ps(",
                      "_mm512_fmadd_ps(", "(uint16_t) ((1u << (-16 + N)) - 1u)"):
        assert intrinsic in c
    agrees(plain, fast, {"N": [1, 7, 15, 16, 17, 31], "K": [1, 5]})


def test_the_bottom_edge_calls_a_register_kernel_per_row_count(bottom_edge, tiles):
    plain, fast = bottom_edge
    text = str(fast)
    for rows in range(1, ROWS):
        assert f"{tiles[rows][1].name()}(" in text
    agrees(plain, fast, {"M": list(range(1, ROWS)), "K": [1, 6]}, trials=2, compiled=False)


def test_the_macro_kernel_calls_main_right_and_bottom_kernels(macro, tiles):
    text = str(macro)
    for kernel in (tiles[ROWS][1].name(), "right_edge_avx512", "bottom_edge_avx512"):
        assert f"{kernel}(" in text
    # the corner (a partial tile both ways) stays plain code, as in the app
    assert text.count("+=") == 1
    assert f"for ii in seq(0, M % {ROWS}):" in text and f"for ji in seq(0, N % {COLS}):" in text
    agrees(GEMM_WIN, macro, ODD, trials=2, compiled=False)


def test_the_whole_gemm_stages_cache_tiles_and_agrees_on_odd_sizes(sgemm):
    text = str(sgemm)
    assert f"Atile: f32[{CACHE_M}, {CACHE_K}] @ DRAM_STATIC" in text
    assert text.count(f"Btile: f32[{CACHE_K}, {CACHE_N}] @ DRAM_STATIC") == 8
    assert text.count("macro_kernel(") == 8
    assert sgemm.is_eq(gemm)
    agrees(gemm, sgemm, ODD, trials=3)


def test_a_kernel_not_derived_from_the_tile_is_refused_in_its_place(tiles):
    p = rename(GEMM_WIN, "wrong_swap")
    p = tile_loops_bottom_up(p, p.body()[0], (None, ROWS, COLS))
    p = replace_all(p, tiles[ROWS][0])
    smaller = tiles[ROWS - 1][1]
    with pytest.raises(SchedulingError, match=f"call_eqv: {smaller.name()} is not known to be "
                       f"equivalent to {tiles[ROWS][0].name()}"):
        call_eqv(p, tiles[ROWS][0], smaller)
