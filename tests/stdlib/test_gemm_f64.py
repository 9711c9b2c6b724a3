"""knit.stdlib.gemm in f64 (DGEMM): the blocks chosen for this machine's caches (the
other GEMM tests use small blocks), on one thread and two, against NumPy at sizes that
cross every tile, vector and cache block of the AVX-512 kernel; the register blocks a
caller may choose instead of 8 x 16; and the cache sizes those blocks come from."""

from __future__ import annotations

import os

import pytest
from test_gemm import callee, dgemm, needs, run_against_numpy

import knit
from knit.stdlib import gemm as G
from tests.helpers.gemm_text import kernel_of

_DONE: dict = {}


def scheduled(threads: int, shape=None, blocks=None, upto=G.SEQUENTIAL_UPTO):
    key = (threads, shape, blocks, upto)
    if key not in _DONE:
        _DONE[key] = G.schedule_gemm(dgemm, "avx512", blocks, threads=threads, shape=shape,
                                     sequential_upto=upto)
    return _DONE[key]


def machine_sizes() -> list[tuple[int, int, int]]:
    """(M, N, K) around the blocks chosen for this machine: M past MR and MC, N past the
    vectors, NR and NC, K below, at and past KC and 2 KC (the last block of k, KC + K %
    KC deep, and the KC blocks before it)."""
    isa = G.target("avx512").isa("f64")
    blk = G.choose_blocking(isa, 8)
    few = G.variants.few_rows_twin_blocking(isa, blk, 8)  # (M <= its MC: KC halved)
    return [(2 * isa.mr + 1, isa.nr + 3, few.kc - 1), (few.mc, 33, few.kc),
            (40, 70, few.kc + 1), (1, 1, 1), (isa.mr + 3, isa.nr + isa.lanes // 2 + 1, blk.kc - 1),
            (blk.mc + 1, isa.nr - 1, blk.kc), (2 * isa.mr - 1, blk.nc + 5, blk.kc + 7),
            (blk.mc + isa.mr + 5, 2 * isa.nr + 3, 2 * blk.kc + 1), (3, blk.nc + isa.nr, 5),
            (2 * blk.mc + 3, 67, 33)]


@pytest.mark.parametrize("threads", [1, 2])
def test_machine_blocks_match_numpy(threads):
    needs("avx512")
    f = scheduled(threads).compile()
    run_against_numpy(f, "f64", machine_sizes(), seed=11 + threads)


@pytest.mark.parametrize("threads", [1, 2])
def test_machine_blocks_on_windows_of_larger_matrices(threads):
    needs("avx512")
    f = scheduled(threads).compile()
    run_against_numpy(f, "f64", machine_sizes()[1::2], strided=True, seed=21 + threads)


# the register blocks measured against 8 x 16 (targets.py): still a caller's choice
SHAPES = [(12, 16), (8, 24)]


def shape_blocks(shape) -> G.Blocking:
    mr, nr = shape
    return G.Blocking(mc=2 * mr, kc=16, nc=2 * nr)  # small: the sizes below cross them


def shape_sizes(shape) -> list[tuple[int, int, int]]:
    mr, nr = shape
    return [(1, 1, 1), (mr - 1, nr + 1, 15), (mr + 1, nr - 1, 17), (2 * mr + 5, 4 * nr + 3, 33),
            (4 * mr + mr // 2, 2 * nr + 4, 50), (7, 3 * nr + 5, 2), (61, 93, 41)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("threads", [1, 2])
def test_other_register_blocks_match_numpy(shape, threads):
    needs("avx512")
    # (two threads: the threaded kernels themselves, small problems included)
    q = scheduled(threads, shape, shape_blocks(shape), upto=0)
    # (two threads: each calls the one-thread kernel of that block on its part of C)
    k = kernel_of(q)  # (dgemm's nest a call of it)
    kernels = [k] if threads == 1 else [
        callee(k, f"{k.name()}_tiles", f"{k.name()}_tiles_{s}",
               G.one_thread_kernel("f64", "avx512", shape_blocks(shape), shape)[1].name())
        for s in ("cols", "rows")]
    for k in kernels:
        assert f"gemm_ukernel_f64_{shape[0]}x{shape[1]}_avx512(" in str(k)
    f = q.compile()
    run_against_numpy(f, "f64", shape_sizes(shape), seed=31 + threads)
    run_against_numpy(f, "f64", shape_sizes(shape)[1::2], strided=True, seed=41 + threads)


def test_other_register_block_is_equivalent_to_the_plain_proc():
    needs("avx512")
    q = scheduled(1, (12, 16), shape_blocks((12, 16)), upto=0)
    assert q.is_eq(dgemm)
    sizes = {"M": [1, 11, 13, 25], "N": [1, 10, 21, 33], "K": [1, 15, 17, 33]}
    assert knit.check_equiv(dgemm, q, trials=4, sizes=sizes).trials == 4


def test_register_block_columns_must_be_whole_vectors():
    with pytest.raises(ValueError, match=r"kernel shape \(8, 12\): NR must be a multiple of 8 "
                       r"\(the f64 lanes of one avx512 register\), at least two registers "
                       r"\(16\)"):
        G.schedule_gemm(dgemm, "avx512", threads=1, shape=(8, 12))
    # one register of columns, one row: the steps would make loops that never run; a
    # shape that is not two ints: refused before a kernel is named from it
    with pytest.raises(ValueError, match=r"kernel shape \(8, 8\): NR must be a multiple"):
        G.schedule_gemm(dgemm, "avx512", threads=2, shape=(8, 8))
    for bad in ((1, 16), (0, 16)):
        with pytest.raises(ValueError, match=rf"kernel shape \({bad[0]}, 16\): MR must be at "
                           "least 2$"):
            G.schedule_gemm(dgemm, "avx512", threads=2, shape=bad)
    for bad in ((8.0, 16), (8, 16, 1), "8x16", (True, 16)):
        with pytest.raises(ValueError, match="shape must be None or \\(MR, NR\\), two ints"):
            G.schedule_gemm(dgemm, "avx512", threads=1, shape=bad)
    # a list, NumPy's integers: as the tuple of ints (one kernel for both); the target's
    # own block: the kernel of no shape
    import numpy as np
    one = G.schedule_gemm(dgemm, "avx512", threads=1, shape=[12, np.int64(16)])
    assert kernel_of(one) is G.one_thread_kernel("f64", "avx512", None, (12, 16))[1]
    own = G.target("avx512").isa("f64")
    one = G.schedule_gemm(dgemm, "avx512", threads=1, shape=(own.mr, own.nr))
    assert kernel_of(one) is G.one_thread_kernel("f64", "avx512", None, None)[1]


# ---------------------------------------------------------------- the cache sizes


def _cache(base, name, level, kind, size):
    d = base / name
    d.mkdir()
    for field, value in (("level", level), ("type", kind), ("size", size)):
        (d / field).write_text(f"{value}\n")


def test_cache_sizes_read_every_cache_past_other_entries(tmp_path):
    # sysfs's cache directory also holds a file (`uevent`): reading it as a cache once
    # ended the loop, and L3 kept its 16 MB default wherever it was listed after it
    (tmp_path / "aaa").write_text("")  # a file, listed first
    (tmp_path / "uevent").write_text("")
    _cache(tmp_path, "index0", 1, "Data", "48K")
    _cache(tmp_path, "index1", 1, "Instruction", "64K")  # not the data cache
    _cache(tmp_path, "index2", 2, "Unified", "2048K")
    _cache(tmp_path, "index3", 3, "Unified", "96M")
    (tmp_path / "index4").mkdir()  # no files in it: skipped, the others still read
    assert G.cache_sizes(str(tmp_path)) == (48 << 10, 2 << 20, 96 << 20)
    assert G.cache_sizes(str(tmp_path / "missing")) == (32 << 10, 1 << 20, 16 << 20)


def test_cache_sizes_of_this_machine_are_listed_ones():
    base = "/sys/devices/system/cpu/cpu0/cache"
    if not os.path.isdir(base):
        pytest.skip("no sysfs cache directory")
    listed = set()
    for d in os.listdir(base):
        try:
            with open(os.path.join(base, d, "size")) as f:
                text = f.read().strip()
        except OSError:
            continue
        listed.add(int(text[:-1]) << (10 if text[-1] == "K" else 20) if text[-1] in "KM"
                   else int(text))
    assert set(G.cache_sizes(base)) <= listed | {32 << 10, 1 << 20, 16 << 20}
    if len(listed) >= 3:
        assert max(G.cache_sizes(base)) == max(listed)  # L3 read, not the default


def test_panel_of_b_takes_an_eighth_of_l3():
    caches = (32 << 10, 1 << 20, 32 << 20)  # Zen 4, as sysfs lists them there
    zen4 = G.target("avx512", split_fma=True)
    f64 = G.choose_blocking(zen4.isa("f64"), 8, caches)
    f32 = G.choose_blocking(zen4.isa("f32"), 4, caches)
    # measured: targets.L3_SHARE (and MC: targets.a_l2_share)
    assert f64 == G.Blocking(mc=32, kc=1024, nc=512)
    assert f32 == G.Blocking(mc=64, kc=1024, nc=1024)
    for blk, size in ((f64, 8), (f32, 4)):
        assert blk.kc * blk.nc * size == (32 << 20) // 8
    # half the L3, half the panel
    assert G.choose_blocking(zen4.isa("f64"), 8, caches[:2] + (16 << 20,)).nc == 256


def test_panel_of_b_is_at_most_four_l2_caches():
    # a VM lists its host's L3 (this session's Xeon: "480 MB"): the panel takes an
    # eighth of L3 only up to 4 L2 caches (targets.PANEL_L2S), one core's share
    xeon = G.target("avx512", split_fma=False)
    for l3 in (480 << 20, 64 << 20):
        blk = G.choose_blocking(xeon.isa("f32"), 4, (48 << 10, 2 << 20, l3))
        assert blk.kc * blk.nc * 4 == 4 * (2 << 20)
    zen4 = G.target("avx512", split_fma=True)  # (Zen 4: an eighth of 32 MB is 4 L2s)
    assert G.choose_blocking(zen4.isa("f64"), 8, (32 << 10, 1 << 20, 480 << 20)).nc == 512
