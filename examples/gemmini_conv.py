"""int8 3x3 convolution (stride 1, NHWC) with bias, scale, clamp and ReLU, scheduled onto
the Gemmini-style accelerator of knit.platforms.gemmini step by step, and run in its
simulator.

    out[b, r, c, o] = relu(clamp(scale * (bias[o] + sum inp[b, r+i, c+j, k] * w[i, j, k, o])))

The convolution is a matrix multiply per kernel position: T output pixels of a row (the
rows of A, at the input's pixel stride) times 16 input channels (K) times 16 output
channels (columns of B). T is the largest divisor of the output width up to 16 (14 for
ResNet-50's 56, 28 and 14), so every tile is full.

- `naive_conv`: a vendor library's loop -- per T x 16 output tile: load the bias, then
  per kernel position and 16 input channels load A and B (each load configuring itself)
  and multiply, then store.
- `scheduled_conv`: R output rows x 64 output channels per tile (4R blocks held in the
  accumulator), B loaded 4 blocks per move, separate scratchpad buffers per (kernel
  column, channel slice) so loads run ahead, configurations lifted out of all loops.

Run: PYTHONPATH=src python examples/gemmini_conv.py
"""

from __future__ import annotations

import time

import numpy as np

from knit import DRAM, check_equiv, proc
from knit.libs.externs import relu
from knit.platforms.gemmini import (
    GEMM_ACCUM,
    GEMM_SCRATCH,
    ConfigLoad_id1,
    ConfigLoad_id2,
    ConfigLoadAcc,
    ConfigMatmul,
    ConfigStore,
    acc_scale,
    clamp,
    config_ld_acc_i32_vector,
    config_ld_i8_id1,
    config_ld_i8_id2,
    config_matmul,
    config_st_acc_i8,
    configure_apart,
    do_ld_acc_i32_vector,
    do_ld_i8_block_id1,
    do_ld_i8_id2,
    do_matmul_acc_i8,
    ld_acc_i32_vector,
    ld_i8,
    ld_i8_block,
    ld_i8_block_id1,
    ld_i8_id2,
    matmul_acc_i8,
    simulate,
    st_acc_i8,
    st_acc_i8_configured,
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
def conv_cpu(batch: size, out_dim: size, out_channel: size, kernel_dim: size,
             in_channel: size, scale: f32, act: bool,
             inp: i8[batch, out_dim + kernel_dim - 1, out_dim + kernel_dim - 1,
                     in_channel] @ DRAM,
             weights: i8[kernel_dim, kernel_dim, in_channel, out_channel] @ DRAM,
             bias: i32[1, out_channel] @ DRAM,
             output: i8[batch, out_dim, out_dim, out_channel] @ DRAM):
    for b in seq(0, batch):
        for orow in seq(0, out_dim):
            for ocol in seq(0, out_dim):
                for och in seq(0, out_channel):
                    res: i32
                    res = bias[0, och]
                    for krow in seq(0, kernel_dim):
                        for kcol in seq(0, kernel_dim):
                            for kch in seq(0, in_channel):
                                xi: i32
                                wi: i32
                                xi = inp[b, orow + krow, ocol + kcol, kch]
                                wi = weights[krow, kcol, kch, och]
                                res += xi * wi
                    src_tmp: i32
                    src_tmp = res
                    scaled: f32
                    acc_scale(src_tmp, scaled, scale)
                    out: i8
                    clamp(scaled, out)
                    if act == True:
                        out = relu(out)
                    output[b, orow, ocol, och] = out


def pixel_tile(out_dim: int) -> int:
    """T: the largest divisor of the output width that is at most 16."""
    return max(t for t in range(1, 17) if out_dim % t == 0)


def _tile(p, R: int, T: int, OB: int):
    """Output tiles of R rows x T pixels x 16*OB channels; the 4 tile loops innermost."""
    p = divide_loop(p, "orow", R, ["or_o", "or_i"], perfect=True)
    p = divide_loop(p, "ocol", T, ["oc_o", "oc_i"], perfect=True)
    p = divide_loop(p, "och", 16 * OB, ["oh_o", "och"], perfect=True)
    p = divide_loop(p, "och", 16, ["ob", "oh_i"], perfect=True)
    for pair in ("or_i oc_o", "oc_i oh_o", "or_i oh_o", "oc_i ob"):
        p = reorder_loops(p, pair)
    # the tile's sums in the accumulator: res: i32[R, OB, T, 16]; bias, sums, store apart
    p = autolift_alloc(p, "res : _", n_lifts=4, keep_dims=True)
    p = set_memory(p, "res", GEMM_ACCUM)
    p = fission(p, p.find("res[_] = _").after(), n_lifts=4)
    p = fission(p, p.find("for krow in _:_").after(), n_lifts=4)
    # the reduction: kernel position and 16-channel slice outside the tile's loops
    p = divide_loop(p, "kch", 16, ["kc_o", "kc_i"], perfect=True)
    for loop in ("krow", "kcol", "kc_o"):
        for outer in ("oh_i", "oc_i", "ob", "or_i"):
            p = reorder_loops(p, f"{outer} {loop}")
    return p


def _stage(p, R: int, T: int, OB: int):
    """A: R x T pixels x 16 channels; B: 16 channels x 16*OB outputs as OB blocks."""
    kc = p.find_loop("kc_o")
    p = stage_mem(p, kc.body(), f"inp[b, {R} * or_o + krow : {R} * or_o + krow + {R}, "
                  f"{T} * oc_o + kcol : {T} * oc_o + kcol + {T}, 16 * kc_o : 16 * kc_o + 16]",
                  "a")
    p = stage_mem(p, p.forward(kc).body(), f"weights[krow, kcol, 16 * kc_o : 16 * kc_o + 16, "
                  f"{16 * OB} * oh_o : {16 * OB} * oh_o + {16 * OB}]", "w")
    p = simplify(p)
    p = divide_dim(p, "w", 1, 16)
    p = rearrange_dim(p, "w", [1, 0, 2])  # w: [OB blocks, 16, 16]
    p = divide_loop(p, p.find_loop("i1"), 16, ["i1o", "i1i"], perfect=True)
    return simplify(p)


def naive_conv(batch, out_dim, out_channel, in_channel, kernel_dim=3):
    """One T x 16 output tile at a time; every instruction configures itself."""
    T = pixel_tile(out_dim)
    p = rename(conv_cpu, f"conv_naive_{out_dim}_{in_channel}_{out_channel}")
    p = p.partial_eval(batch, out_dim, out_channel, kernel_dim, in_channel)
    p = _tile(p, 1, T, 1)
    p = _stage(p, 1, T, 1)
    p = set_memory(p, "a", GEMM_SCRATCH)
    p = set_memory(p, "w", GEMM_SCRATCH)
    p = replace(p, "for oc_i in _:_ #0", ld_acc_i32_vector)
    p = replace(p, "for i0 in _:_ #0", ld_i8_block)  # B: one 16x16 block, load id 0
    p = replace(p, "for i1 in _:_ #0", ld_i8)  # A: T x 16
    p = replace(p, "for oc_i in _:_ #0", matmul_acc_i8)
    return replace(p, "for oc_i in _:_ #0", st_acc_i8)


def scheduled_conv(batch, out_dim, out_channel, in_channel, kernel_dim=3, R=4):
    """R x T x 64 output tiles, block loads, loads ahead, configurations lifted."""
    T, OB = pixel_tile(out_dim), min(4, out_channel // 16)
    # R rows per tile; an image of at most 2R rows is one tile of all its rows (7x7:
    # its weights are loaded once per output block, not once per row)
    R = out_dim if out_dim <= 2 * R else max(r for r in range(1, R + 1) if out_dim % r == 0)
    p = rename(conv_cpu, f"conv_{out_dim}_{in_channel}_{out_channel}")
    p = p.partial_eval(batch, out_dim, out_channel, kernel_dim, in_channel)
    p = _tile(p, R, T, OB)
    p = _stage(p, R, T, OB)
    # one buffer per kernel column and channel slice: loads run ahead of the array
    for buf in ("a", "w"):
        p = expand_dim(p, buf, in_channel // 16, "kc_o")
        p = lift_alloc(p, buf)
        p = expand_dim(p, buf, kernel_dim, "kcol")
        p = lift_alloc(p, buf)
        p = set_memory(p, buf, GEMM_SCRATCH)
    p = replace(p, "for oc_i in _:_ #0", ld_acc_i32_vector)
    p = replace(p, "for i0 in _:_ #0", ld_i8_block_id1)
    p = replace(p, "for i1 in _:_ #0", ld_i8_id2)
    p = replace(p, "for oc_i in _:_ #0", matmul_acc_i8)
    p = replace(p, "for oc_i in _:_ #0", st_acc_i8)
    # every configuration apart from its instruction and out of the loops
    p = configure_apart(p, "ld_acc_i32_vector(_)", do_ld_acc_i32_vector,
                        config_ld_acc_i32_vector, [(ConfigLoadAcc, "stride_set", "True")])
    p = configure_apart(p, "ld_i8_block_id1(_)", do_ld_i8_block_id1, config_ld_i8_id1,
                        [(ConfigLoad_id1, "src_stride", "stride(weights, 2)")])
    p = configure_apart(p, "ld_i8_id2(_)", do_ld_i8_id2, config_ld_i8_id2,
                        [(ConfigLoad_id2, "src_stride", "stride(inp, 2)")])
    p = configure_apart(p, "matmul_acc_i8(_)", do_matmul_acc_i8, config_matmul,
                        [(ConfigMatmul, "done", "True")])
    p = configure_apart(p, "st_acc_i8(_)", st_acc_i8_configured, config_st_acc_i8,
                        [(ConfigStore, "scale", "scale"),
                         (ConfigStore, "dst_stride", "stride(output, 2)"),
                         (ConfigStore, "act", "act")])
    return simplify(p)


def reference(inp, w, bias, scale, act):
    """The convolution in NumPy (int32 sums, then the f32 store path)."""
    kd = w.shape[0]
    od = inp.shape[1] - kd + 1
    acc = np.broadcast_to(bias[0].astype(np.int32), inp.shape[:1] + (od, od, w.shape[3]))
    acc = acc.copy()
    for i in range(kd):
        for j in range(kd):
            acc += np.einsum("brck,ko->brco", inp[:, i:i + od, j:j + od, :].astype(np.int32),
                             w[i, j].astype(np.int32))
    out = np.clip(np.float32(scale) * acc.astype(np.float32), -128, 127).astype(np.int8)
    return np.maximum(out, 0) if act else out


def inputs(batch, out_dim, out_channel, in_channel, kernel_dim=3, seed=0):
    rng = np.random.default_rng(seed)
    d = out_dim + kernel_dim - 1
    inp = rng.integers(-128, 128, (batch, d, d, in_channel), dtype=np.int8)
    w = rng.integers(-128, 128, (kernel_dim, kernel_dim, in_channel, out_channel),
                     dtype=np.int8)
    bias = rng.integers(-20000, 20000, (1, out_channel), dtype=np.int32)
    return inp, w, bias


def main(batch=1, out_dim=28, out_channel=64, in_channel=64):
    inp, w, bias = inputs(batch, out_dim, out_channel, in_channel)
    scale = np.float32(1 / 1024)
    t = time.perf_counter()
    fast = scheduled_conv(batch, out_dim, out_channel, in_channel)
    print(f"scheduling took {time.perf_counter() - t:.2f} s")
    print(fast)
    for name, p in (("naive", naive_conv(batch, out_dim, out_channel, in_channel)),
                    ("scheduled", fast)):
        for act in (False, True):
            out = np.zeros((batch, out_dim, out_dim, out_channel), np.int8)
            stats = simulate(p)(scale, act, inp, w, bias, out)
            assert (out == reference(inp, w, bias, scale, act)).all(), f"{name} differs"
        print(f"{name:9s}: {stats.cycles:9.0f} cycles, utilization {stats.utilization:.0%}")
    small = conv_cpu.partial_eval(1, 14, 32, 3, 16)
    check_equiv(small, scheduled_conv(1, 14, 32, 16), trials=1)
    print("check_equiv: scheduled 14x14, 16 -> 32 channels agrees with the CPU procedure")


if __name__ == "__main__":
    main()
