"""int8 matrix multiply with scale, clamp and ReLU, scheduled onto the Gemmini-style
accelerator of knit.platforms.gemmini, step by step, and run in its simulator.

    C = relu(clamp(scale * (A @ B)))      A: i8[N, K], B: i8[K, M], C: i8[N, M]

Two schedules of the same procedure:

- `naive_matmul`: what a vendor library does one tile at a time -- for each 16x16 output
  tile: zero it, then for each 16-deep slice of K load a 16x16 tile of A and of B (each
  load configures itself) and multiply, then store. One buffer per operand, reused.
- `scheduled_matmul`: output tiles of up to 128x64 held in the accumulator (up to 32
  blocks), B loaded up to four blocks per move, separate scratchpad buffers per K slice
  (so loads run ahead of the array), and every configuration lifted out of the loops.

Run: PYTHONPATH=src python examples/gemmini_matmul.py
"""

from __future__ import annotations

import time

import numpy as np

from knit import DRAM, check_equiv, proc
from knit.libs.externs import relu
from knit.platforms.gemmini import (
    GEMM_ACCUM,
    GEMM_SCRATCH,
    ConfigLoad,
    ConfigLoad_id1,
    ConfigLoad_id2,
    ConfigMatmul,
    ConfigStore,
    acc_scale,
    clamp,
    config_ld_i8_id1,
    config_ld_i8_id2,
    config_matmul,
    config_st_acc_i8,
    config_zero,
    configure_apart,
    do_ld_i8_block_id1,
    do_ld_i8_id2,
    do_matmul_acc_i8,
    do_zero_acc_i32,
    ld_i8,
    ld_i8_block_id1,
    ld_i8_id2,
    matmul_acc_i8,
    simulate,
    st_acc_i8,
    st_acc_i8_configured,
    zero_acc_i32,
)
from knit.stdlib.scheduling import (
    autolift_alloc,
    divide_dim,
    divide_loop,
    expand_dim,
    fission,
    lift_alloc,
    rearrange_dim,
    rename,
    reorder_loops,
    replace,
    set_memory,
    simplify,
    stage_mem,
)


@proc
def matmul_cpu(N: size, M: size, K: size, scale: f32, act: bool,
               A: i8[N, K] @ DRAM, B: i8[K, M] @ DRAM, C: i8[N, M] @ DRAM):
    for i in seq(0, N):
        for j in seq(0, M):
            res: i32
            res = 0.0
            for k in seq(0, K):
                a: i32
                b: i32
                a = A[i, k]
                b = B[k, j]
                res += a * b
            src_tmp: i32
            src_tmp = res
            scaled: f32
            acc_scale(src_tmp, scaled, scale)
            out: i8
            clamp(scaled, out)
            if act == True:
                out = relu(out)
            C[i, j] = out


def _accumulate_in(p, n_lifts: int):
    """`res` into the accumulator as a tile, with zeroing, products and store split."""
    p = autolift_alloc(p, "res : _", n_lifts=n_lifts, keep_dims=True)
    p = set_memory(p, "res", GEMM_ACCUM)
    p = fission(p, p.find("res[_] = 0.0").after(), n_lifts=n_lifts)
    return fission(p, p.find("for k in _:_").after(), n_lifts=n_lifts)


def naive_matmul(N: int, M: int, K: int):
    """One 16x16 output tile at a time; every instruction configures itself."""
    p = rename(matmul_cpu, f"matmul_naive_{N}x{M}x{K}").partial_eval(N, M, K)
    p = divide_loop(p, "i", 16, ["io", "ii"], perfect=True)
    p = divide_loop(p, "j", 16, ["jo", "ji"], perfect=True)
    p = reorder_loops(p, "ii jo")
    p = _accumulate_in(p, 2)  # res: i32[16, 16] @ GEMM_ACCUM per tile
    p = divide_loop(p, "k", 16, ["ko", "ki"], perfect=True)
    p = reorder_loops(p, "ji ko")
    p = reorder_loops(p, "ii ko")
    ko = p.find_loop("ko")
    p = stage_mem(p, ko.body(), "A[16 * io : 16 * io + 16, 16 * ko : 16 * ko + 16]", "a")
    p = stage_mem(p, p.forward(ko).body(), "B[16 * ko : 16 * ko + 16, 16 * jo : 16 * jo + 16]",
                  "b")
    p = set_memory(simplify(p), "a", GEMM_SCRATCH)
    p = set_memory(p, "b", GEMM_SCRATCH)
    p = replace(p, "for ii in _:_ #0", zero_acc_i32)
    p = replace(p, "for i0 in _:_ #0", ld_i8)
    p = replace(p, "for i0 in _:_ #0", ld_i8)
    p = replace(p, "for ii in _:_ #0", matmul_acc_i8)
    return replace(p, "for ii in _:_ #0", st_acc_i8)


def _blocks(n16: int, most: int) -> int:
    """The largest divisor of n16 that is at most `most` (blocks per tile side)."""
    return max(b for b in range(1, most + 1) if n16 % b == 0)


def scheduled_matmul(N: int, M: int, K: int):
    """Output tiles of up to 8x4 blocks (128x64), block loads, loads ahead of compute,
    configurations lifted."""
    RB, CB = _blocks(N // 16, 8), _blocks(M // 16, 4)
    p = rename(matmul_cpu, f"matmul_{N}x{M}x{K}").partial_eval(N, M, K)
    # 1. tiles: (16 RB) x (16 CB) of output (io, jo), made of 16x16 blocks (ib, jb)
    p = divide_loop(p, "i", 16 * RB, ["io", "i"], perfect=True)
    p = divide_loop(p, "i", 16, ["ib", "ii"], perfect=True)
    p = divide_loop(p, "j", 16 * CB, ["jo", "j"], perfect=True)
    p = divide_loop(p, "j", 16, ["jb", "ji"], perfect=True)
    p = reorder_loops(p, "ii jo")
    p = reorder_loops(p, "ib jo")
    p = reorder_loops(p, "ii jb")
    # 2. the tile of sums in the accumulator: res: i32[RB, CB, 16, 16]
    p = _accumulate_in(p, 4)
    # 3. K in slices of 16, outside the blocks
    p = divide_loop(p, "k", 16, ["ko", "ki"], perfect=True)
    for outer in ("ji", "ii", "jb", "ib"):
        p = reorder_loops(p, f"{outer} ko")
    # 4. stage a (16 RB)x16 slice of A and a 16x(16 CB) slice of B, as 16x16 blocks
    ko = p.find_loop("ko")
    ti, tj = 16 * RB, 16 * CB
    p = stage_mem(p, ko.body(), f"A[{ti} * io : {ti} * io + {ti}, 16 * ko : 16 * ko + 16]",
                  "a")
    p = stage_mem(p, p.forward(ko).body(),
                  f"B[16 * ko : 16 * ko + 16, {tj} * jo : {tj} * jo + {tj}]", "b")
    p = simplify(p)
    p = divide_dim(p, "b", 1, 16)
    p = rearrange_dim(p, "b", [1, 0, 2])  # b: [CB blocks, 16 rows, 16 columns]
    p = divide_dim(p, "a", 0, 16)  # a: [RB blocks, 16 rows, 16 columns]
    p = divide_loop(p, p.find_loop("i1"), 16, ["i1o", "i1i"], perfect=True)
    p = divide_loop(p, p.find_loop("i0 #1"), 16, ["i0o", "i0i"], perfect=True)
    # 5. one buffer per K slice, so the loads of slice ko+1 need not wait for slice ko
    p = expand_dim(p, "a", K // 16, "ko")
    p = lift_alloc(p, "a")
    p = expand_dim(p, "b", K // 16, "ko")
    p = lift_alloc(p, "b")
    p = set_memory(simplify(p), "a", GEMM_SCRATCH)
    p = set_memory(p, "b", GEMM_SCRATCH)
    # 6. instructions
    p = replace(p, "for ii in _:_ #0", zero_acc_i32)
    p = replace(p, "for i0 in _:_ #0", ld_i8_block_id1)  # CB blocks of B in one move
    p = replace(p, "for i0i in _:_ #0", ld_i8_id2)
    p = replace(p, "for ii in _:_ #0", matmul_acc_i8)
    p = replace(p, "for ii in _:_ #0", st_acc_i8)
    # 7. configurations apart from the moves, and out of the loops
    p = configure_apart(p, "zero_acc_i32(_)", do_zero_acc_i32, config_zero,
                        [(ConfigLoad, "src_stride", "0")])
    p = configure_apart(p, "ld_i8_block_id1(_)", do_ld_i8_block_id1, config_ld_i8_id1,
                        [(ConfigLoad_id1, "src_stride", "stride(B, 0)")])
    p = configure_apart(p, "ld_i8_id2(_)", do_ld_i8_id2, config_ld_i8_id2,
                        [(ConfigLoad_id2, "src_stride", "stride(A, 0)")])
    p = configure_apart(p, "matmul_acc_i8(_)", do_matmul_acc_i8, config_matmul,
                        [(ConfigMatmul, "done", "True")])
    p = configure_apart(p, "st_acc_i8(_)", st_acc_i8_configured, config_st_acc_i8,
                        [(ConfigStore, "scale", "scale"),
                         (ConfigStore, "dst_stride", "stride(C, 0)"),
                         (ConfigStore, "act", "act")])
    return simplify(p)


# A scheduled kernel at module level: the sanitizer tests run every example's procedures,
# and this one brings the simulator with it.
matmul_64x64x64 = scheduled_matmul(64, 64, 64)


def reference(A, B, scale, act):
    """What the procedure computes, in NumPy: f32 scale, clamp, C's conversion, ReLU."""
    acc = A.astype(np.int32) @ B.astype(np.int32)
    out = np.clip(np.float32(scale) * acc.astype(np.float32), -128, 127).astype(np.int8)
    return np.maximum(out, 0) if act else out


def main(N=128, M=128, K=128):
    rng = np.random.default_rng(0)
    A = rng.integers(-128, 128, (N, K), dtype=np.int8)
    B = rng.integers(-128, 128, (K, M), dtype=np.int8)
    scale = np.float32(1 / 256)
    t = time.perf_counter()
    fast = scheduled_matmul(N, M, K)
    print(f"scheduling took {time.perf_counter() - t:.2f} s")
    print(fast)
    for name, p in (("naive", naive_matmul(N, M, K)), ("scheduled", fast)):
        for act in (False, True):
            C = np.zeros((N, M), np.int8)
            stats = simulate(p)(scale, act, A, B, C)
            assert (C == reference(A, B, scale, act)).all(), f"{name} differs from NumPy"
        print(f"{name:9s}: {stats.cycles:9.0f} cycles, utilization {stats.utilization:.0%}, "
              f"{stats.n_config_switch} configuration switches")
    # every step above was checked; check_equiv also runs both against the CPU procedure
    cpu = matmul_cpu.partial_eval(32, 64, 64)
    for p in (naive_matmul(32, 64, 64), scheduled_matmul(32, 64, 64)):
        check_equiv(cpu, p, trials=2)
    print("check_equiv: naive and scheduled 32x64x64 agree with the CPU procedure")


if __name__ == "__main__":
    main()
