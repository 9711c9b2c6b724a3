"""int8 3x3 convolution (stride 1, NHWC) with bias, scale, clamp and ReLU, scheduled onto
the Gemmini-style accelerator of knit.platforms.gemmini step by step, and run in its
simulator.

    out[b, r, c, o] = relu(clamp(scale * (sum inp[b, r+i, c+j, k] * w[i, j, k, o] + bias[o])))

The convolution is a matrix multiply per kernel position: output pixels (the rows of A)
times 16 input channels (K) times 16 output channels (columns of B). Each input move
brings T pixels of one row (at the input's pixel stride); T is the largest divisor of
the output width up to 16 (14 for ResNet-50's 56, 28 and 14; 7 for its 7).

- `naive_conv`: a vendor library's loop -- per T x 16 output tile: load the bias, then
  per kernel position and 16 input channels load A and B (each load configuring itself)
  and multiply, then store. (The bias, added last in `conv_cpu`, is moved first by
  checked rewrites: the sums commute, and `res = 0; res += bias` merges to `res = bias`.)
- `scheduled_conv`: R output rows x 64 output channels per tile, the tile's R x T
  pixels one dimension of the accumulator and of A, so that each product takes 16
  pixels (across output rows; R chosen so that R x T fills 16-row products best: 8 x 14
  = 7 x 16 for the 56-wide layer); B loaded 4 blocks per move; the kernel positions and
  channel slices one loop of P positions whose operands rotate through 3 scratchpad
  buffers (loads run ahead of the array); configurations lifted out of all loops. The
  first position's products overwrite the accumulator (no zero fill, no bias load before
  them), and bias move q (a move that accumulates, T rows of one output row and block)
  comes at position q + 1, after that position's loads: the load unit, which runs its
  queue in order, never holds a burst of bias moves in front of the operands the array
  waits for.

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
    do_ld_acc_add_i32_vector,
    do_ld_i8_block_id1,
    do_ld_i8_id2,
    do_matmul_acc_i8,
    do_matmul_i8,
    ld_acc_add_i32_vector,
    ld_acc_i32_vector,
    ld_i8,
    ld_i8_block,
    ld_i8_block_id1,
    ld_i8_id2,
    matmul_acc_i8,
    matmul_i8,
    simulate,
    st_acc_i8,
    st_acc_i8_configured,
)
from knit.stdlib.scheduling import (
    autolift_alloc,
    call_eqv,
    cut_loop,
    divide_dim,
    divide_loop,
    expand_dim,
    fission,
    fuse,
    lift_alloc,
    merge_writes,
    mult_dim,
    mult_loops,
    rearrange_dim,
    rename,
    reorder_loops,
    reorder_stmts,
    replace,
    resize_dim,
    set_memory,
    shift_loop,
    simplify,
    stage_mem,
    unroll_loop,
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
                    res = 0
                    for krow in seq(0, kernel_dim):
                        for kcol in seq(0, kernel_dim):
                            for kch in seq(0, in_channel):
                                xi: i32
                                wi: i32
                                xi = inp[b, orow + krow, ocol + kcol, kch]
                                wi = weights[krow, kcol, kch, och]
                                res += xi * wi
                    res += bias[0, och]
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


def _tile(p, R: int, T: int, OB: int, bias_apart: bool):
    """Output tiles of R rows x T pixels x 16*OB channels; the 4 tile loops innermost."""
    p = divide_loop(p, "orow", R, ["or_o", "or_i"], perfect=True)
    p = divide_loop(p, "ocol", T, ["oc_o", "oc_i"], perfect=True)
    p = divide_loop(p, "och", 16 * OB, ["oh_o", "och"], perfect=True)
    p = divide_loop(p, "och", 16, ["ob", "oh_i"], perfect=True)
    for pair in ("or_i oc_o", "oc_i oh_o", "or_i oh_o", "oc_i ob"):
        p = reorder_loops(p, pair)
    # the tile's sums in the accumulator: res: i32[R, OB, T, 16]; each statement that
    # writes it (initial value, sums, bias if still apart) its own loop nest, then the store
    p = autolift_alloc(p, "res : _", n_lifts=4, keep_dims=True)
    p = set_memory(p, "res", GEMM_ACCUM)
    p = fission(p, p.find("res = _").after(), n_lifts=4)
    p = fission(p, p.find("for krow in _:_").after(), n_lifts=4)
    if bias_apart:
        p = fission(p, p.find("res += bias[_]").after(), n_lifts=4)
    # the reduction: kernel position and 16-channel slice outside the tile's loops
    p = divide_loop(p, "kch", 16, ["kc_o", "kc_i"], perfect=True)
    for loop in ("krow", "kcol", "kc_o"):
        for outer in ("oh_i", "oc_i", "ob", "or_i"):
            p = reorder_loops(p, f"{outer} {loop}")
    return simplify(p)


def naive_conv(batch, out_dim, out_channel, in_channel, kernel_dim=3):
    """One T x 16 output tile at a time; every instruction configures itself."""
    T = pixel_tile(out_dim)
    p = rename(conv_cpu, f"conv_naive_{out_dim}_{in_channel}_{out_channel}")
    p = p.partial_eval(batch, out_dim, out_channel, kernel_dim, in_channel)
    # a vendor library starts each tile from its bias: move the bias first (the sums
    # commute) and merge `res = 0; res += bias` into `res = bias`
    p = reorder_stmts(p, p.find("for krow in _:_").expand(0, 1))
    p = simplify(merge_writes(p, p.find("res = _").expand(0, 1)))
    p = _tile(p, 1, T, 1, bias_apart=False)
    p = _stage_naive(p, T)
    p = set_memory(p, "a", GEMM_SCRATCH)
    p = set_memory(p, "w", GEMM_SCRATCH)
    p = replace(p, "for oc_i in _:_ #0", ld_acc_i32_vector)
    p = replace(p, "for i0 in _:_ #0", ld_i8_block)  # B: one 16x16 block, load id 0
    p = replace(p, "for i1 in _:_ #0", ld_i8)  # A: T x 16
    p = replace(p, "for oc_i in _:_ #0", matmul_acc_i8)
    return replace(p, "for oc_i in _:_ #0", st_acc_i8)


def rows_per_tile(out_dim: int, T: int, OB: int, P: int) -> int:
    """R: the divisor of the output height whose R x T pixels fill 16-row products best
    (ties: more rows, each weight move then serving more products), with the tile's sums
    in the accumulator (OB x R x T of its 1024 rows) and fewer bias moves (R x OB) than
    positions to spread them over."""
    def fill(r):
        return r * T / (16 * -(-r * T // 16))

    fits = [r for r in range(1, out_dim + 1)
            if out_dim % r == 0 and OB * r * T <= 1024 and r * OB < P]
    if not fits:
        raise ValueError(f"{OB} accumulator blocks per output row need more than {P} kernel "
                         "positions x channel slices to spread their bias moves over")
    return max(fits, key=lambda r: (fill(r), r))


def scheduled_conv(batch, out_dim, out_channel, in_channel, kernel_dim=3, F=3):
    """R x T pixel tiles x 64 output channels, products over 16 pixels of the tile, block
    loads, operands in F rotating buffers, the bias added during the reduction,
    configurations lifted."""
    T, OB, KC = pixel_tile(out_dim), min(4, out_channel // 16), in_channel // 16
    P = kernel_dim * kernel_dim * KC
    R = rows_per_tile(out_dim, T, OB, P)
    Q = R * OB
    p = rename(conv_cpu, f"conv_{out_dim}_{in_channel}_{out_channel}")
    p = p.partial_eval(batch, out_dim, out_channel, kernel_dim, in_channel)
    p = _tile(p, R, T, OB, bias_apart=True)
    # the tile's pixels one dimension: res[ob, T * row + col], products over 16 of them
    p = rearrange_dim(p, "res", [1, 0, 2, 3])
    p = mult_dim(p, "res", 1, 2)
    for _ in range(2):  # the zero and the products' nests
        p = reorder_loops(p, "or_i ob")
        p = mult_loops(p, "or_i oc_i", "px")
    p = mult_loops(p, "krow kcol", "kk")
    p = mult_loops(p, "kk kc_o", "pos")
    p = mult_loops(p, "or_i ob", "q")  # the bias nest: one loop over the Q moves
    p = _stage(p, R, T, OB, KC, kernel_dim)
    p = simplify(mult_dim(p, "a", 0, 1))  # a[px]: R x T pixels, 16 channels
    # operands in F buffers used in turn: the loads of the next positions run ahead of
    # the array (F = 2 stalled the 14x14 layer; 3 and more model the same)
    for buf in ("a", "w"):
        p = expand_dim(p, buf, P, "pos")
        p = lift_alloc(p, buf)
        p = resize_dim(p, buf, 0, F, 0, fold=True)
        p = set_memory(p, buf, GEMM_SCRATCH)
    p = replace(p, "for i0 in _:_ #0", ld_i8_block_id1)
    p = replace(p, "for i1 in _:_ #0", ld_i8_id2)
    p = configure_apart(p, "ld_i8_block_id1(_)", do_ld_i8_block_id1, config_ld_i8_id1,
                        [(ConfigLoad_id1, "src_stride", "stride(weights, 2)")])
    p = configure_apart(p, "ld_i8_id2(_)", do_ld_i8_id2, config_ld_i8_id2,
                        [(ConfigLoad_id2, "src_stride", "stride(inp, 2)")])
    # positions 0 | 1 .. Q | Q + 1 .. P - 1
    p = cut_loop(p, "for pos in _:_", 1)
    if 1 + Q < P:
        p = cut_loop(p, "for pos in _:_ #1", 1 + Q)
    p = simplify(unroll_loop(p, "for pos in _:_ #0"))
    # position 0's products overwrite the accumulator: `res = 0` moves past the
    # allocations and loads, into the products' loops (res = 0; res += ...: matmul_i8)
    zero = p.find("for ob in _:_ #0")
    for _ in range(4):
        p = reorder_stmts(p, p.forward(zero).expand(0, 1))
    zero = p.forward(zero)
    for _ in range(3):
        p = fuse(p, zero, zero.next())
        zero = p.forward(zero).body()[0]
    # products of 16 pixels (and one of the rest): `for px` cut by 16
    n_nests = 3 if 1 + Q < P else 2
    full, tail = divmod(R * T, 16)
    loop = "for pxi in _:_ #0" if full else "for px in _:_ #0"
    if full:
        for _ in range(n_nests):
            p = divide_loop(p, "for px in _:_ #0", 16, ["pxo", "pxi"],
                            tail="cut" if tail else "guard", perfect=not tail)
    per = 2 if full and tail else 1  # products per position and block
    for _ in range(per):
        p = replace(p, loop, matmul_i8)
    for _ in range((n_nests - 1) * per):
        p = replace(p, loop, matmul_acc_i8)
    # bias move q (row q / OB, block q % OB) at position q + 1, after its loads (the
    # sums commute)
    p = shift_loop(p, "for q in _:_", 1)
    if 1 + Q < P:
        p = reorder_stmts(p, p.find("for q in _:_").expand(1, 0))
    p = fuse(p, p.find("for pos in _:_ #0"), p.find("for q in _:_"))
    p = reorder_stmts(p, p.find("for oc_i in _:_ #0").expand(1, 0))
    p = replace(p, "for oc_i in _:_ #0", ld_acc_add_i32_vector)
    p = replace(p, "for oc_i in _:_ #0", st_acc_i8)
    # every configuration apart from its instruction and out of the loops
    p = configure_apart(p, "matmul_i8(_)", do_matmul_i8, config_matmul,
                        [(ConfigMatmul, "done", "True")])
    for _ in range(per - 1):  # configured by the config_matmul above
        p = call_eqv(p, "matmul_i8(_)", do_matmul_i8)
    for _ in range((n_nests - 1) * per):
        p = call_eqv(p, "matmul_acc_i8(_)", do_matmul_acc_i8)
    p = configure_apart(p, "ld_acc_add_i32_vector(_)", do_ld_acc_add_i32_vector,
                        config_ld_acc_i32_vector, [(ConfigLoadAcc, "stride_set", "True")])
    p = configure_apart(p, "st_acc_i8(_)", st_acc_i8_configured, config_st_acc_i8,
                        [(ConfigStore, "scale", "scale"),
                         (ConfigStore, "dst_stride", "stride(output, 2)"),
                         (ConfigStore, "act", "act")])
    return simplify(p)


def _stage_naive(p, T: int):
    """A: T pixels x 16 channels; B: 16 x 16 (as one block), at each kernel position and
    channel slice."""
    kc = p.find_loop("kc_o")
    p = stage_mem(p, kc.body(), f"inp[b, or_o + krow : or_o + krow + 1, {T} * oc_o + kcol : "
                  f"{T} * oc_o + kcol + {T}, 16 * kc_o : 16 * kc_o + 16]", "a")
    p = stage_mem(p, p.forward(kc).body(), "weights[krow, kcol, 16 * kc_o : 16 * kc_o + 16, "
                  "16 * oh_o : 16 * oh_o + 16]", "w")
    p = simplify(p)
    p = divide_dim(p, "w", 1, 16)
    p = rearrange_dim(p, "w", [1, 0, 2])  # w: [1 block, 16, 16]
    p = divide_loop(p, p.find_loop("i1"), 16, ["i1o", "i1i"], perfect=True)
    return simplify(p)


def _stage(p, R: int, T: int, OB: int, KC: int, kernel_dim: int):
    """At each position: A, R x T pixels x 16 channels; B, 16 channels x 16*OB outputs
    as OB blocks of 16 x 16."""
    kd = kernel_dim
    kr, kc, ko = f"pos / {KC} / {kd}", f"pos / {KC} % {kd}", f"pos % {KC}"
    p = stage_mem(p, p.find_loop("pos").body(),
                  f"inp[b, {R} * or_o + {kr} : {R} * or_o + {kr} + {R}, {T} * oc_o + {kc} : "
                  f"{T} * oc_o + {kc} + {T}, 16 * ({ko}) : 16 * ({ko}) + 16]", "a")
    p = stage_mem(p, p.find_loop("pos").body(),
                  f"weights[{kr}, {kc}, 16 * ({ko}) : 16 * ({ko}) + 16, "
                  f"{16 * OB} * oh_o : {16 * OB} * oh_o + {16 * OB}]", "w")
    p = simplify(p)
    p = divide_dim(p, "w", 1, 16)
    p = rearrange_dim(p, "w", [1, 0, 2])  # w: [OB blocks, 16, 16]
    p = divide_loop(p, p.find_loop("i1"), 16, ["i1o", "i1i"], perfect=True)
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
