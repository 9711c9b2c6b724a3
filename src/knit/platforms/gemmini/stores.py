"""Moves out of the accelerator (mvout): scratchpad rows as int8, accumulator rows
scaled, clamped and optionally ReLU'd to int8 (`st_acc_i8`), or as int32 (`st_acc_i32`).

The bodies are Exo's: per value, `acc_scale` (an f32 product) and `clamp` (to [-128,
127] with `select`, then converted to int8 as C converts, toward zero) on temporaries,
then ReLU if `act`. `st_acc_i8_v2` is `config_st_acc_i8(...); do_st_acc_i8(...)`.
"""

from __future__ import annotations

from knit import DRAM, instr, proc
from knit.libs.externs import relu
from knit.platforms.gemmini.configs import SIM, ConfigStore, acc_scale, clamp
from knit.platforms.gemmini.memories import GEMM_ACCUM, GEMM_SCRATCH
from knit.stdlib.scheduling import make_instr, rename

_MVOUT = "gemmini_extended_mvout(&{dst_data}, (uint64_t) &{src_data}, {m}, {n});"
_MVOUT_FULL = ("gemmini_extended_mvout(&{dst_data}, (uint64_t) &{src_data} | "
               "GEMMINI_FULL_BIT, {m}, {n});")
_CONFIG_ST = "gemmini_extended_config_st({stride}, {act}, {scale});\n"


@instr(_CONFIG_ST.format(stride="{dst}.strides[0]", act=0, scale="1.0f") + _MVOUT,
       c_global=SIM)
def st_i8(n: size, m: size, src: [i8][n, 16] @ GEMM_SCRATCH, dst: [i8][n, m] @ DRAM):
    assert n <= 16
    assert m <= 16
    assert stride(dst, 1) == 1
    assert stride(src, 0) == 16
    assert stride(src, 1) == 1
    for i in seq(0, n):
        for j in seq(0, m):
            dst[i, j] = src[i, j]


@instr(_CONFIG_ST.format(stride="{dst}.strides[0]", act="{act}", scale="*{scale}") + _MVOUT,
       c_global=SIM)
def st_acc_i8(n: size, m: size, scale: f32, act: bool, src: [i32][n, 16] @ GEMM_ACCUM,
              dst: [i8][n, m] @ DRAM):
    assert n <= 16
    assert m <= 16
    assert stride(dst, 1) == 1
    assert stride(src, 0) == 16
    assert stride(src, 1) == 1
    for i in seq(0, n):
        for j in seq(0, m):
            src_tmp: i32
            src_tmp = src[i, j]
            tmp: f32
            acc_scale(src_tmp, tmp, scale)
            tmp2: i8
            clamp(tmp, tmp2)
            if act == True:
                tmp2 = relu(tmp2)
            dst[i, j] = tmp2


@instr(_CONFIG_ST.format(stride="{dst_stride}", act="{act}", scale="*{scale}"), c_global=SIM)
def config_st_acc_i8(scale: f32, dst_stride: stride, act: bool):
    ConfigStore.scale = scale
    ConfigStore.dst_stride = dst_stride
    ConfigStore.act = act


@instr("gemmini_expect_stride(3, {dst}.strides[0]);\n" + _MVOUT, c_global=SIM)
def do_st_acc_i8(n: size, m: size, src: [i32][n, 16] @ GEMM_ACCUM, dst: [i8][n, m] @ DRAM):
    assert n <= 16
    assert m <= 16
    assert stride(dst, 1) == 1
    assert stride(src, 0) == 16
    assert stride(src, 1) == 1
    for i in seq(0, n):
        for j in seq(0, m):
            src_tmp: i32
            src_tmp = src[i, j]
            tmp: f32
            cfg_scale: f32  # Exo passes ConfigStore.scale itself; knit's calls take buffers
            cfg_scale = ConfigStore.scale
            acc_scale(src_tmp, tmp, cfg_scale)
            tmp2: i8
            clamp(tmp, tmp2)
            if ConfigStore.act == True:
                tmp2 = relu(tmp2)
            dst[i, j] = tmp2


# st_acc_i8 as configuration + move (a plain proc, for inline). Exo derives it from
# st_acc_i8 with bind_config; here that would pass `ConfigStore.scale` to acc_scale, and
# knit's calls take buffers, not config fields. So it is written out and *declared*
# equal to st_acc_i8 (unsafe_assert_eq); the tests check that declaration on random and
# edge inputs (tests/platforms/test_gemmini_instrs.py).
@proc
def st_acc_i8_v2(n: size, m: size, scale: f32, act: bool, src: [i32][n, 16] @ GEMM_ACCUM,
                 dst: [i8][n, m] @ DRAM):
    assert n <= 16
    assert m <= 16
    assert stride(dst, 1) == 1
    assert stride(src, 0) == 16
    assert stride(src, 1) == 1
    config_st_acc_i8(scale, stride(dst, 0), act)
    do_st_acc_i8(n, m, src, dst)


st_acc_i8_s2_v2 = rename(st_acc_i8_v2, "st_acc_i8_s2_v2")

# Not in Exo: st_acc_i8 without its configuration. Its body is st_acc_i8's (so it is
# proven equal, and call_eqv can swap it in); its C only moves, after asking the
# simulator to fault unless the store was configured with this scale, ReLU and stride.
# With configure_apart, it splits a store from its configuration without inline.
st_acc_i8_configured = rename(make_instr(st_acc_i8, "gemmini_expect_store({dst}.strides[0], "
                                         "{act}, *{scale});\n" + _MVOUT, SIM),
                              "st_acc_i8_configured")
st_acc_i8.unsafe_assert_eq(st_acc_i8_v2)


@instr(_MVOUT_FULL, c_global=SIM)
def _st_acc_i32(n: size, m: size, src: [i32][n, 16] @ GEMM_ACCUM, dst: [i32][n, m] @ DRAM):
    assert n <= 16
    assert m <= 16
    assert stride(dst, 1) == 1
    assert stride(src, 0) == 16
    assert stride(src, 1) == 1
    for i in seq(0, n):
        for j in seq(0, m):
            dst[i, j] = src[i, j]


st_acc_i32 = rename(make_instr(_st_acc_i32, _CONFIG_ST.format(
    stride="{dst}.strides[0] * 4", act=0, scale="1.0f") + _MVOUT_FULL, SIM), "st_acc_i32")
