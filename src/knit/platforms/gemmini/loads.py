"""Moves into the accelerator (mvin): int8 rows into the scratchpad, int32 (or int8)
rows into the accumulator, and zero fills.

Naming, as in Exo: `ld_*` configures and moves (two C calls), `do_ld_*` only moves (its
configuration must be set before: `config_ld_*`), and `ld_*_v2` is `ld_*` rewritten into
`config_ld_*(...); do_ld_*(...)` by checked scheduling, so that `call_eqv` can swap it
in and `inline` can expose the configuration, which a schedule then lifts out of loops
(a `_v2` is a plain proc, as `inline` keeps an instruction whole).

The prototypes are written over DRAM and moved to the accelerator with `set_memory`: a
plain `@proc` may not touch GEMM_SCRATCH/GEMM_ACCUM, but a prototype only ever becomes
an instruction or a `_v2`.
`_id1`/`_id2` use load ids 1 and 2 (mvin2/mvin3), which keep their own strides.

Block loads move `m` blocks of 16 columns at once; blocks land 16 rows apart (id 1), or
`n` rows apart (id 2, configured with the block stride).
"""

from __future__ import annotations

from knit import DRAM, instr, proc
from knit.platforms.gemmini.configs import (
    SIM,
    ConfigLoad,
    ConfigLoad_id1,
    ConfigLoad_id2,
    ConfigLoadAcc,
    on_accelerator,
    set_prec_mem,
)
from knit.platforms.gemmini.memories import GEMM_ACCUM, GEMM_SCRATCH
from knit.stdlib.scheduling import (
    make_instr,
    rename,
    replace,
    write_config,
)

# ------------------------------------------------------------------ C templates

_CFG = "gemmini_extended3_config_ld({stride}, 1.0f, {shrunk}, {id});\n"
_MVIN = ("gemmini_extended_mvin", "gemmini_extended_mvin2", "gemmini_extended_mvin3")


def _config_c(stride: str, ld_id: int, shrunk: int = 0) -> str:
    return _CFG.format(stride=stride, shrunk=shrunk, id=ld_id)


def _mvin_c(ld_id: int, cols: str = "{m}", rows: str = "{n}", src="&{src_data}",
            dst="(uint64_t) &{dst_data}") -> str:
    return f"{_MVIN[ld_id]}({src}, {dst}, {cols}, {rows});"


def _do_mvin_c(ld_id: int, cols: str = "{m}", esize: int = 1, stride_factor: str = "") -> str:
    """A move without its configuration: the simulator checks that the configured
    stride is this source's."""
    return (f"gemmini_expect_stride({ld_id}, {{src}}.strides[0] * {esize}{stride_factor});\n"
            + _mvin_c(ld_id, cols))


_LD_STRIDE = ("{src}.strides[0]", "{src}.strides[0]", "{src}.strides[0]")

# ------------------------------------------------------------------ configuration


@instr(_config_c("{src_stride}", 0), c_global=SIM)
def config_ld_i8(src_stride: stride):
    ConfigLoad.src_stride = src_stride


@instr(_config_c("{src_stride}", 1), c_global=SIM)
def config_ld_i8_id1(src_stride: stride):
    ConfigLoad_id1.src_stride = src_stride


@instr(_config_c("{src_stride}", 2), c_global=SIM)
def config_ld_i8_id2(src_stride: stride):
    ConfigLoad_id2.src_stride = src_stride


@instr(_config_c("{src_stride} * 2", 1), c_global=SIM)
def config_ld_i8_s2_id1(src_stride: stride):
    ConfigLoad_id1.src_stride = src_stride


@instr(_config_c("0", 0), c_global=SIM)
def config_zero():
    ConfigLoad.src_stride = 0


@instr(_config_c("0", 0), c_global=SIM)
def config_ld_acc_i32_vector(stride_set: bool):
    ConfigLoadAcc.stride_set = stride_set


# ------------------------------------------------------------------ int8 rows


@proc
def ld_i8_prototype(n: size, m: size, src: [i8][n, m] @ DRAM,
                    dst: [i8][n, 16] @ DRAM):
    assert n <= 16
    assert m <= 16
    assert stride(src, 1) == 1
    assert stride(dst, 0) == 16
    assert stride(dst, 1) == 1
    for i in seq(0, n):
        for j in seq(0, m):
            dst[i, j] = src[i, j]


ld_i8_prototype = on_accelerator(ld_i8_prototype, dst=GEMM_SCRATCH)


do_ld_i8 = rename(make_instr(ld_i8_prototype, _do_mvin_c(0), SIM), "do_ld_i8")
do_ld_i8_id1 = rename(make_instr(ld_i8_prototype, _do_mvin_c(1), SIM), "do_ld_i8_id1")
do_ld_i8_id2 = rename(make_instr(ld_i8_prototype, _do_mvin_c(2), SIM), "do_ld_i8_id2")

_DO_LD = (do_ld_i8, do_ld_i8_id1, do_ld_i8_id2)
_CONFIG_LD = (config_ld_i8, config_ld_i8_id1, config_ld_i8_id2)
_CONFIGS = (ConfigLoad, ConfigLoad_id1, ConfigLoad_id2)


def _configured(p, ld_id: int, do_load, stride: str = "stride(src, 0)"):
    """`p` (a move) as `config_ld(stride); do_load(...)`, by checked rewrites."""
    cfg = _CONFIGS[ld_id]
    p = write_config(p, p.body()[0].before(), cfg, "src_stride", stride)
    p = replace(p, "for i in _:_", do_load)
    return replace(p, f"{cfg.name()}.src_stride = _", _CONFIG_LD[ld_id])


def _make_ld_i8(name: str, ld_id: int, v2: bool):
    p = rename(ld_i8_prototype, name)
    if v2:  # a plain proc calling two instrs, which inline() exposes
        return _configured(p, ld_id, _DO_LD[ld_id])
    return make_instr(p, _config_c(_LD_STRIDE[ld_id], ld_id) + _mvin_c(ld_id), SIM)


ld_i8 = _make_ld_i8("ld_i8", 0, False)
ld_i8_v2 = _make_ld_i8("ld_i8_v2", 0, True)
ld_i8_id1 = _make_ld_i8("ld_i8_id1", 1, False)
ld_i8_id1_v2 = _make_ld_i8("ld_i8_id1_v2", 1, True)
ld_i8_id1_s2_v2 = _make_ld_i8("ld_i8_id1_s2_v2", 1, True)
ld_i8_id2 = _make_ld_i8("ld_i8_id2", 2, False)
ld_i8_id2_v2 = _make_ld_i8("ld_i8_id2_v2", 2, True)
ld_i8_id2_s2_v2 = _make_ld_i8("ld_i8_id2_s2_v2", 2, True)


# Every other row of the source (a stride-2 convolution's input rows), load id 1.
@instr(_config_c("{src}.strides[0] * 2", 1) + _mvin_c(1), c_global=SIM)
def ld_i8_s2(n: size, m: size, src: [i8][n * 2 - 1, m] @ DRAM,
             dst: [i8][n, 16] @ GEMM_SCRATCH):
    assert n <= 16
    assert m <= 16
    assert stride(src, 1) == 1
    assert stride(dst, 0) == 16
    assert stride(dst, 1) == 1
    for i in seq(0, n):
        for j in seq(0, m):
            dst[i, j] = src[i * 2, j]


@instr(_do_mvin_c(1, stride_factor=" * 2"), c_global=SIM)
def do_ld_i8_s2_id1(n: size, m: size, src: [i8][n * 2 - 1, m] @ DRAM,
                    dst: [i8][n, 16] @ GEMM_SCRATCH):
    assert n <= 16
    assert m <= 16
    assert stride(src, 1) == 1
    assert stride(dst, 0) == 16
    assert stride(dst, 1) == 1
    for i in seq(0, n):
        for j in seq(0, m):
            dst[i, j] = src[i * 2, j]


@instr(_config_c("1", 0) + _mvin_c(0, "16", "1"), c_global=SIM)
def ld_i8_vector(src: [i8][16] @ DRAM, dst: [i8][16] @ GEMM_SCRATCH):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 16):
        dst[i] = src[i]


@instr(_mvin_c(0, "16", "1"), c_global=SIM)
def do_ld_i8_vector(src: [i8][16] @ DRAM, dst: [i8][16] @ GEMM_SCRATCH):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 16):
        dst[i] = src[i]


# ------------------------------------------------------------------ blocks of 16 columns


@proc
def ld_i8_block(n: size, m: size, src: [i8][n, 16 * m] @ DRAM,
                dst: [i8][m, n, 16] @ DRAM):
    assert n <= 16
    assert m <= 4
    assert stride(src, 1) == 1
    assert stride(dst, 0) == 256  # blocks land 16 rows apart
    assert stride(dst, 1) == 16
    assert stride(dst, 2) == 1
    for i in seq(0, n):
        for j in seq(0, m):
            for k in seq(0, 16):
                dst[j, i, k] = src[i, 16 * j + k]


ld_i8_block = on_accelerator(ld_i8_block, dst=GEMM_SCRATCH)


@proc
def _ld_i8_block_n(n: size, m: size, src: [i8][n, 16 * m] @ DRAM,
                   dst: [i8][m, n, 16] @ DRAM):
    assert n <= 16
    assert m <= 4
    assert stride(src, 1) == 1
    assert stride(dst, 0) == 16 * n  # blocks land n rows apart (configured)
    assert stride(dst, 1) == 16
    assert stride(dst, 2) == 1
    for i in seq(0, n):
        for j in seq(0, m):
            for k in seq(0, 16):
                dst[j, i, k] = src[i, 16 * j + k]


_ld_i8_block_n = on_accelerator(_ld_i8_block_n, dst=GEMM_SCRATCH)


_CFG_BLOCK_N = "gemmini_extended4_config_ld({stride}, 1.0f, 0, {{n}}, 2);\n"
_ld_i8_block = ld_i8_block
ld_i8_block = make_instr(_ld_i8_block, _config_c("{src}.strides[0]", 0) +
                         _mvin_c(0, "16 * {m}"), SIM)
do_ld_i8_block_id1 = rename(make_instr(_ld_i8_block, _do_mvin_c(1, "16 * {m}"), SIM),
                            "do_ld_i8_block_id1")
do_ld_i8_block_id2 = rename(make_instr(_ld_i8_block_n, _do_mvin_c(2, "16 * {m}"), SIM),
                            "do_ld_i8_block_id2")


def _make_ld_i8_block(name: str, ld_id: int, v2: bool):
    if ld_id == 1:
        base, do, cfg_c = _ld_i8_block, do_ld_i8_block_id1, _config_c("{src}.strides[0]", 1)
    else:
        base, do = _ld_i8_block_n, do_ld_i8_block_id2
        cfg_c = _CFG_BLOCK_N.format(stride="{src}.strides[0]")
    p = rename(base, name)
    if v2:
        return _configured(p, ld_id, do)
    return make_instr(p, cfg_c + _mvin_c(ld_id, "16 * {m}"), SIM)


ld_i8_block_id1 = _make_ld_i8_block("ld_i8_block_id1", 1, False)
ld_i8_block_id1_v2 = _make_ld_i8_block("ld_i8_block_id1_v2", 1, True)
ld_i8_block_id1_s2_v2 = _make_ld_i8_block("ld_i8_block_id1_s2_v2", 1, True)
ld_i8_block_id2 = _make_ld_i8_block("ld_i8_block_id2", 2, False)
ld_i8_block_id2_v2 = _make_ld_i8_block("ld_i8_block_id2_v2", 2, True)
ld_i8_block_id2_s2_v2 = _make_ld_i8_block("ld_i8_block_id2_s2_v2", 2, True)


@instr(_CFG_BLOCK_N.format(stride="0") + _mvin_c(2, "16 * {m}", src="0"), c_global=SIM)
def zero_block_id2(n: size, m: size, dst: [i8][m, n, 16] @ GEMM_SCRATCH):
    assert n <= 16
    assert m <= 4
    assert stride(dst, 0) == 16 * n
    assert stride(dst, 1) == 16
    assert stride(dst, 2) == 1
    for i in seq(0, n):
        for j in seq(0, m):
            for k in seq(0, 16):
                dst[j, i, k] = 0.0


# ------------------------------------------------------------------ into the accumulator

# int8 rows widened into int32 accumulators (`shrunk` = the DRAM side holds int8)
ld_acc_i8 = set_prec_mem(rename(ld_i8_prototype, "ld_acc_i8"), "dst", "i32", GEMM_ACCUM)
ld_acc_i8 = make_instr(ld_acc_i8, _config_c("{src}.strides[0]", 0, shrunk=1) + _mvin_c(0),
                       SIM)


@proc
def _ld_acc_i32(n: size, m: size, src: [i32][n, m] @ DRAM, dst: [i32][n, 16] @ DRAM):
    assert n <= 16
    assert m <= 16
    assert stride(src, 1) == 1
    assert stride(dst, 0) == 16
    assert stride(dst, 1) == 1
    for i in seq(0, n):
        for j in seq(0, m):
            dst[i, j] = src[i, j]


_ld_acc_i32 = on_accelerator(_ld_acc_i32, dst=GEMM_ACCUM)


ld_acc_i32 = rename(make_instr(_ld_acc_i32, _config_c("{src}.strides[0] * 4", 0) +
                               _mvin_c(0), SIM), "ld_acc_i32")
do_ld_acc_i32 = rename(make_instr(_ld_acc_i32, _do_mvin_c(0, esize=4), SIM), "do_ld_acc_i32")


# One row of 16 int32 (a bias) copied into n accumulator rows: a DRAM stride of 0.
@proc
def _ld_acc_i32_vector(n: size, src: [i32][1, 16] @ DRAM, dst: [i32][n, 16] @ DRAM):
    assert n <= 16
    assert stride(src, 1) == 1
    assert stride(dst, 0) == 16
    assert stride(dst, 1) == 1
    for i in seq(0, n):
        for j in seq(0, 16):
            dst[i, j] = src[0, j]


_ld_acc_i32_vector = on_accelerator(_ld_acc_i32_vector, dst=GEMM_ACCUM)


_MVIN_VEC = _mvin_c(0, "16", "{n}")
ld_acc_i32_vector = rename(make_instr(_ld_acc_i32_vector, _config_c("0", 0) + _MVIN_VEC, SIM),
                           "ld_acc_i32_vector")
do_ld_acc_i32_vector = rename(make_instr(_ld_acc_i32_vector, _MVIN_VEC, SIM),
                              "do_ld_acc_i32_vector")


def _make_ld_acc_i32_vector_v2():
    p = rename(_ld_acc_i32_vector, "ld_acc_i32_vector_v2")
    p = write_config(p, p.body()[0].before(), ConfigLoadAcc, "stride_set", "True")
    p = replace(p, "for i in _:_", do_ld_acc_i32_vector)
    return replace(p, "ConfigLoadAcc.stride_set = _", config_ld_acc_i32_vector)


ld_acc_i32_vector_v2 = _make_ld_acc_i32_vector_v2()


# The same move with the accumulator's accumulate bit (Gemmini's mvin into an
# accumulator address with bit 30 set adds to the rows instead of overwriting them):
# `dst += bias`. Not in Exo. A schedule can then add a bias after the first products
# (which overwrite the accumulator) and spread the bias moves over the reduction,
# instead of loading every bias before the tile's first operand load.
@proc
def _ld_acc_add_i32_vector(n: size, src: [i32][1, 16] @ DRAM, dst: [i32][n, 16] @ DRAM):
    assert n <= 16
    assert stride(src, 1) == 1
    assert stride(dst, 0) == 16
    assert stride(dst, 1) == 1
    for i in seq(0, n):
        for j in seq(0, 16):
            dst[i, j] += src[0, j]


_ld_acc_add_i32_vector = on_accelerator(_ld_acc_add_i32_vector, dst=GEMM_ACCUM)

_MVIN_VEC_ADD = _mvin_c(0, "16", "{n}", dst="(uint64_t) &{dst_data} | GEMMINI_ACCUMULATE_BIT")
ld_acc_add_i32_vector = rename(make_instr(_ld_acc_add_i32_vector,
                                          _config_c("0", 0) + _MVIN_VEC_ADD, SIM),
                               "ld_acc_add_i32_vector")
do_ld_acc_add_i32_vector = rename(make_instr(_ld_acc_add_i32_vector, _MVIN_VEC_ADD, SIM),
                                  "do_ld_acc_add_i32_vector")

# ------------------------------------------------------------------ zero fills


@proc
def _zero_i8(n: size, m: size, dst: [i8][n, 16] @ DRAM):
    assert n <= 16
    assert m <= 16
    assert stride(dst, 0) == 16
    assert stride(dst, 1) == 1
    for i in seq(0, n):
        for j in seq(0, m):
            dst[i, j] = 0.0


_zero_i8 = on_accelerator(_zero_i8, dst=GEMM_SCRATCH)


_ZERO = _mvin_c(0, src="0")
do_zero_i8 = rename(make_instr(_zero_i8, _ZERO, SIM), "do_zero_i8")
zero_i8 = rename(make_instr(_zero_i8, _config_c("0", 0) + _ZERO, SIM), "zero_i8")
do_zero_acc_i32 = make_instr(set_prec_mem(rename(_zero_i8, "do_zero_acc_i32"), "dst", "i32",
                                          GEMM_ACCUM), _ZERO, SIM)
zero_acc_i32 = make_instr(set_prec_mem(rename(_zero_i8, "zero_acc_i32"), "dst", "i32",
                                       GEMM_ACCUM), _config_c("0", 0) + _ZERO, SIM)


def _zero_v2(p, name: str, do_zero):
    p = rename(p, name)
    p = write_config(p, p.body()[0].before(), ConfigLoad, "src_stride", "0")
    p = replace(p, "for i in _:_", do_zero)
    return replace(p, "ConfigLoad.src_stride = _", config_zero)


_zero_acc_i32 = set_prec_mem(_zero_i8, "dst", "i32", GEMM_ACCUM)
zero_i8_v2 = _zero_v2(_zero_i8, "zero_i8_v2", do_zero_i8)
zero_acc_i32_v2 = _zero_v2(_zero_acc_i32, "zero_acc_i32_v2", do_zero_acc_i32)


@proc
def _zero_i8_vector(dst: [i8][16] @ DRAM):
    assert stride(dst, 0) == 1
    for i in seq(0, 16):
        dst[i] = 0.0


_zero_i8_vector = on_accelerator(_zero_i8_vector, dst=GEMM_SCRATCH)


_ZERO_VEC = _mvin_c(0, "16", "1", src="0")
zero_i8_vector = rename(make_instr(_zero_i8_vector, _config_c("0", 0) + _ZERO_VEC, SIM),
                        "zero_i8_vector")
do_zero_i8_vector = rename(make_instr(_zero_i8_vector, _ZERO_VEC, SIM), "do_zero_i8_vector")
zero_i8_vector_v2 = _zero_v2(_zero_i8_vector, "zero_i8_vector_v2", do_zero_i8_vector)
