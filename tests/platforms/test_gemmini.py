"""knit.platforms.gemmini: misuse gives knit's errors (statically where knit can tell,
from the simulator where only running can), the memories' C, Exo's names, and the
example schedules (checked against NumPy, check_equiv and the cost model)."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import numpy as np
import pytest

import knit
from knit import DRAM, KnitError, proc
from knit.errors import ArgumentError, MemoryAccessError, PreconditionError
from knit.libs import memories
from knit.libs.externs import relu
from knit.platforms.gemmini import (
    GEMM_ACCUM,
    GEMM_SCRATCH,
    GemminiError,
    acc_scale,
    clamp,
    config_ld_i8,
    config_st_acc_i8,
    do_ld_acc_i32,
    do_ld_i8,
    do_ld_i8_block_id1,
    do_matmul_acc_i8,
    do_st_acc_i8,
    ld_i8,
    ld_i8_prototype,
    make_instr,
    simulate,
    st_acc_i8_configured,
    st_i8,
)

ROOT = Path(__file__).parents[2]


def _example(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------ misuse: static


def test_instr_on_dram_data_is_refused():
    with pytest.raises(KnitError) as info:
        @proc
        def bad(A: i8[16, 16] @ DRAM, B: i8[16, 16] @ DRAM):
            ld_i8(16, 16, A, B)
    msg = str(info.value)
    assert "ld_i8" in msg and "GEMM_SCRATCH" in msg and "DRAM" in msg, msg


def test_scratchpad_window_out_of_range_is_refused():
    with pytest.raises(KnitError) as info:
        @proc
        def bad(A: i8[16, 16] @ DRAM):
            a: i8[16, 16] @ GEMM_SCRATCH
            ld_i8(16, 16, A, a[8:24, :])
    assert "out of bounds" in str(info.value), str(info.value)


def test_plain_code_cannot_touch_the_scratchpad():
    @proc  # accepted as a definition (as in Exo); refused where C is generated
    def bad(A: i8[16, 16] @ DRAM):
        a: i8[16, 16] @ GEMM_SCRATCH
        a[0, 0] = A[0, 0]
    with pytest.raises(MemoryAccessError, match="GEMM_SCRATCH, which only instructions"):
        bad.c_code_str()


def test_rows_must_be_16_wide():
    @proc
    def narrow(A: i8[16, 8] @ DRAM):
        a: i8[16, 8] @ GEMM_SCRATCH
        pass

    with pytest.raises(KnitError, match="a GEMM_SCRATCH row holds exactly 16 values"):
        narrow.compile()


def test_store_needs_its_strides():
    with pytest.raises(PreconditionError, match="stride"):
        @proc
        def bad(C: i8[16, 16] @ DRAM):
            a: i8[16, 32] @ GEMM_SCRATCH  # rows of 32: not the scratchpad's rows of 16
            st_i8(16, 16, a[:, 0:16], C)


# ------------------------------------------------------------------ misuse: simulator


def test_missing_configuration_is_a_knit_error():
    @proc
    def unconfigured(A: i8[16, 64] @ DRAM):
        a: i8[4, 16, 16] @ GEMM_SCRATCH
        do_ld_i8_block_id1(16, 4, A, a)

    run = simulate(unconfigured)
    run.reset()
    A = np.ones((16, 64), np.int8)
    with pytest.raises(GemminiError, match="mvin2 before its configuration"):
        run(A)
    assert issubclass(GemminiError, KnitError)


def test_a_fault_raises_from_the_compiled_proc_itself():
    """No helper needed: the memories give knit's JIT a check it runs after each call
    (Memory.call_check). The fault is cleared once raised, so the next call runs."""
    @proc
    def unconfigured(A: i8[16, 64] @ DRAM):
        a: i8[4, 16, 16] @ GEMM_SCRATCH
        do_ld_i8_block_id1(16, 4, A, a)

    @proc
    def configured(A: i8[16, 64] @ DRAM, C: i8[16, 16] @ DRAM):
        a: i8[16, 16] @ GEMM_SCRATCH
        ld_i8(16, 16, A[:, 0:16], a)
        st_i8(16, 16, a, C)

    f = unconfigured.compile()
    simulate(unconfigured).reset()  # no load configuration left by an earlier test
    A = np.arange(16 * 64).astype(np.int8).reshape(16, 64)
    with pytest.raises(GemminiError, match="mvin2 before its configuration"):
        f(A)
    with pytest.raises(GemminiError, match="mvin2 before its configuration"):
        f(A)  # the fault was cleared and is found again, not left standing
    C = np.zeros((16, 16), np.int8)
    configured.compile()(A, C)
    assert (C == A[:, :16]).all()


def test_generated_c_is_optimized_and_not_unrolled_over_accelerator_memories():
    """The scratchpad and accumulator are addressed storage, not registers: the C
    backend does not unroll loops over them (Memory.is_registers), and the simulator
    needs no pragma lowering the optimization of the code after it."""
    from knit.platforms.gemmini.memories import simulator_source

    assert "optimize" not in simulator_source()
    c = _example("gemmini_matmul").matmul_64x64x64.c_code_str()
    assert "O0" not in c and "optimize off" not in c
    assert "#pragma GCC unroll" not in c
    assert not GEMM_SCRATCH.is_registers() and not GEMM_ACCUM.is_registers()


def test_missing_execute_configuration():
    @proc
    def unconfigured(C: i8[16, 16] @ DRAM):
        a: i8[16, 16] @ GEMM_SCRATCH
        r: i32[16, 16] @ GEMM_ACCUM
        do_matmul_acc_i8(16, 16, 16, a, a, r)

    run = simulate(unconfigured)
    run.reset()
    with pytest.raises(GemminiError, match="preload before its configuration"):
        run(np.zeros((16, 16), np.int8))


def test_configuration_for_another_buffer_is_a_fault_not_corruption():
    @proc
    def wrong(src: i32[16, 16] @ DRAM, out: i32[16, 16] @ DRAM):
        r: i32[16, 16] @ GEMM_ACCUM
        config_ld_i8(stride(src, 0))  # elements; an i32 source needs bytes
        do_ld_acc_i32(16, 16, src, r)

    out = np.zeros((16, 16), np.int32)
    with pytest.raises(GemminiError, match="configured for a DRAM stride of 16 bytes, but "
                                           "its buffer's rows are 64 bytes apart"):
        simulate(wrong)(np.ones((16, 16), np.int32), out)
    assert (out == 0).all()


def test_store_configured_with_another_scale_is_a_fault():
    @proc
    def wrong(scale: f32, C: i8[16, 16] @ DRAM):
        r: i32[16, 16] @ GEMM_ACCUM
        config_st_acc_i8(scale, stride(C, 0), False)
        st_acc_i8_configured(16, 16, scale, True, r, C)

    with pytest.raises(GemminiError, match="ReLU off, but the store means .* ReLU on"):
        simulate(wrong)(np.float32(1), np.zeros((16, 16), np.int8))


def test_full_scratchpad_is_a_fault():
    @proc
    def huge(A: i8[16, 16] @ DRAM):
        a: i8[17000, 16] @ GEMM_SCRATCH  # 17000 rows; the scratchpad has 16384
        ld_i8(16, 16, A, a[0:16, :])

    with pytest.raises(GemminiError, match="the scratchpad is full: a buffer of 17000 rows"):
        simulate(huge)(np.zeros((16, 16), np.int8))


def test_address_outside_every_buffer_is_a_fault():
    """A wrong instruction template (one row past its window) cannot corrupt the
    scratchpad silently: the simulator checks every address against the buffers."""
    off_by_16 = make_instr(ld_i8_prototype, "gemmini_extended3_config_ld({src}.strides[0], "
                           "1.0f, 0, 0);\ngemmini_extended_mvin(&{src_data}, "
                           "(uint64_t) &{dst_data} + 1, {m}, {n});")

    @proc
    def bad(A: i8[16, 16] @ DRAM, C: i8[16, 16] @ DRAM):
        a: i8[16, 16] @ GEMM_SCRATCH
        off_by_16(16, 16, A, a)
        st_i8(16, 16, a, C)

    C = np.zeros((16, 16), np.int8)
    with pytest.raises(GemminiError, match=r"mvin: scratchpad rows \d+\.\.\d+ are outside "
                                           "every allocated buffer"):
        simulate(bad)(np.ones((16, 16), np.int8), C)
    assert (C == 0).all()  # nothing moves after a fault


def test_nan_scale_has_no_int8_value():
    @proc
    def st(scale: f32, C: i8[16, 16] @ DRAM):
        r: i32[16, 16] @ GEMM_ACCUM
        config_st_acc_i8(scale, stride(C, 0), False)
        do_st_acc_i8(16, 16, r, C)

    with pytest.raises(GemminiError, match="not a number"):
        simulate(st)(np.float32("nan"), np.zeros((16, 16), np.int8))
    with pytest.raises(ArgumentError, match="undefined"):
        st.interpret(np.float32("nan"), np.zeros((16, 16), np.int8))


def test_simulation_of_a_proc_without_the_accelerator_is_refused():
    @proc
    def plain(x: f32[4] @ DRAM):
        x[0] = 1.0

    with pytest.raises(KnitError, match="does not use the Gemmini simulator"):
        simulate(plain)


# ------------------------------------------------------------------ memories, names


def test_memories_are_reexported_from_libs():
    assert memories.GEMM_SCRATCH is GEMM_SCRATCH
    assert memories.GEMM_ACCUM is GEMM_ACCUM
    assert "GEMM_SCRATCH" in memories.__all__


def test_row_addresses_in_c():
    @proc
    def moves(A: i8[16, 16] @ DRAM):
        a: i8[4, 16, 16] @ GEMM_SCRATCH
        for j in seq(0, 4):
            ld_i8(16, 16, A, a[j, :, :])

    c = moves.c_code_str()
    assert "gemm_malloc(4 * 16 * 16 * sizeof(int8_t))" in c
    assert "gemm_free((uint64_t) (uintptr_t) a);" in c
    assert "(j) * (256)) / 16)" in c  # element offsets become row addresses


def test_generated_c_is_warning_free(mm):
    p = mm.scheduled_matmul(64, 64, 64)
    for cc in ("gcc", "clang"):
        import shutil

        if shutil.which(cc) is None:
            continue
        run = simulate(p, cc=cc, flags=["-O2", "-Wall", "-Wextra", "-Werror"])
        rng = np.random.default_rng(0)
        A = rng.integers(-128, 128, (64, 64), dtype=np.int8)
        C = np.zeros((64, 64), np.int8)
        run(np.float32(0.01), False, A, A, C)
        assert (C == mm.reference(A, A, 0.01, False)).all(), cc


# Names and parameter lists of Exo 1.0's exo.platforms.gemmini instructions.
EXO_SIGNATURES = {
    "ld_i8": ["n", "m", "src", "dst"], "ld_i8_block_id1": ["n", "m", "src", "dst"],
    "ld_i8_block_id2": ["n", "m", "src", "dst"], "ld_acc_i32": ["n", "m", "src", "dst"],
    "ld_acc_i32_vector": ["n", "src", "dst"], "zero_acc_i32": ["n", "m", "dst"],
    "zero_i8": ["n", "m", "dst"], "st_i8": ["n", "m", "src", "dst"],
    "st_acc_i8": ["n", "m", "scale", "act", "src", "dst"],
    "st_acc_i32": ["n", "m", "src", "dst"], "config_st_acc_i8": ["scale", "dst_stride", "act"],
    "matmul_acc_i8": ["N", "M", "K", "A", "B", "C"], "matmul_i8": ["N", "M", "K", "A", "B", "C"],
    "config_ld_i8_id1": ["src_stride"], "config_matmul": [], "config_zero": [],
    "do_ld_i8_block_id1": ["n", "m", "src", "dst"], "do_st_acc_i8": ["n", "m", "src", "dst"],
    "acc_scale": ["src", "dst", "scale"], "clamp": ["src", "dst"],
}


def test_exo_names_and_signatures():
    import knit.platforms.gemmini as g

    for name, params in EXO_SIGNATURES.items():
        p = getattr(g, name)
        assert [a.name() for a in p.args()] == params, name
    for helper in ("old_split", "old_reorder", "old_unroll", "old_fission_after",
                   "old_lift_alloc", "lift_config", "tile_outer_loops", "fission_outer_blocks",
                   "fission_inner_blocks", "replace_gemmini_calls", "inline_lift_config",
                   "matmul_tile", "split_fission_dim", "replace_div_part", "replace_mod_part",
                   "inline_div_part", "inline_mod_part", "set_gemm_memories", "set_prec_mem"):
        assert callable(getattr(g, helper)), helper
    assert inspect.ismodule(g)


# ------------------------------------------------------------------ the example schedules


@pytest.fixture(scope="module")
def mm():
    return _example("gemmini_matmul")


def test_scheduled_matmul_matches_numpy_and_beats_naive(mm):
    rng = np.random.default_rng(3)
    N, M, K = 64, 128, 64
    A = rng.integers(-128, 128, (N, K), dtype=np.int8)
    B = rng.integers(-128, 128, (K, M), dtype=np.int8)
    cycles = {}
    for name, p in (("naive", mm.naive_matmul(N, M, K)), ("fast", mm.scheduled_matmul(N, M, K))):
        for act in (False, True):
            C = np.zeros((N, M), np.int8)
            stats = simulate(p)(np.float32(1 / 300), act, A, B, C)
            assert (C == mm.reference(A, B, 1 / 300, act)).all(), name
        cycles[name] = stats.cycles
        assert stats.macs == N * M * K
    assert cycles["fast"] * 2 <= cycles["naive"], cycles


def test_scheduled_matmul_is_checked_equal(mm):
    fast = mm.scheduled_matmul(64, 64, 32)
    knit.check_equiv(mm.matmul_cpu.partial_eval(64, 64, 32), fast, trials=2)


def test_naive_matmul_is_checked_equal(mm):
    naive = mm.naive_matmul(32, 32, 32)
    knit.check_equiv(mm.matmul_cpu.partial_eval(32, 32, 32), naive, trials=2)


@pytest.fixture(scope="module")
def cv():
    return _example("gemmini_conv")


def test_scheduled_conv_matches_numpy_and_beats_naive(cv):
    batch, od, oc, ic = 1, 14, 32, 32
    inp, w, bias = cv.inputs(batch, od, oc, ic, seed=5)
    cycles = {}
    for name, make in (("naive", cv.naive_conv), ("fast", cv.scheduled_conv)):
        p = make(batch, od, oc, ic)
        for act in (False, True):
            out = np.zeros((batch, od, od, oc), np.int8)
            stats = simulate(p)(np.float32(1 / 700), act, inp, w, bias, out)
            assert (out == cv.reference(inp, w, bias, 1 / 700, act)).all(), name
        cycles[name] = stats.cycles
    assert cycles["fast"] * 2 <= cycles["naive"], cycles


def test_scheduled_conv_is_checked_equal(cv):
    knit.check_equiv(cv.conv_cpu.partial_eval(1, 7, 16, 3, 16), cv.scheduled_conv(1, 7, 16, 16),
                     trials=1)


# ------------------------------------------------------------------ Exo's helpers


@proc
def exo_style_matmul(N: size, M: size, K: size, A: i8[N, K] @ DRAM, B: i8[K, M] @ DRAM,
                     C: i32[N, M] @ DRAM):
    # the shape of Exo's matmul_on_cpu, with staging variables a and b
    for i in seq(0, N):
        for j in seq(0, M):
            res: i32 @ DRAM
            res = 0.0
            for k in seq(0, K):
                a: i8 @ DRAM
                a = A[i, k]
                b: i8 @ DRAM
                b = B[k, j]
                res += a * b
            C[i, j] = res


def test_exo_helpers_tile_and_fission_soundly():
    from knit.platforms.gemmini import (
        fission_inner_blocks,
        fission_outer_blocks,
        old_lift_alloc,
        tile_outer_loops,
    )

    cpu = exo_style_matmul.partial_eval(16, 64, 64)
    p = tile_outer_loops(cpu)
    p = old_lift_alloc(p, "res : _ #0", n_lifts=2)
    p = old_lift_alloc(p, "res : _ #0", n_lifts=1, mode="col", size=16)
    p = fission_outer_blocks(p)
    p = fission_inner_blocks(p)
    assert "for ko in seq(0, 1)" in str(p) or "for ko in seq(0, 64 / 64)" in str(p)
    assert p.is_eq(cpu)
    knit.check_equiv(cpu, p, trials=2)


def test_lift_config_moves_a_configuration_out_of_loops():
    from knit.platforms.gemmini import lift_config

    @proc
    def loads(A: i8[64, 16] @ DRAM, C: i8[64, 16] @ DRAM):
        for i in seq(0, 4):
            a: i8[16, 16] @ GEMM_SCRATCH
            config_ld_i8(stride(A, 0))
            do_ld_i8(16, 16, A[16 * i:16 * i + 16, :], a)
            st_i8(16, 16, a, C[16 * i:16 * i + 16, :])

    p = lift_config(loads, "config_ld_i8(_)")
    assert str(p).splitlines()[1].strip() == "config_ld_i8(stride(A, 0))", str(p)
    A = np.arange(64 * 16, dtype=np.int8).reshape(64, 16)
    C = np.zeros_like(A)
    simulate(p)(A, C)
    assert (C == A).all()


def test_scheduled_conv_reaches_80_percent_on_a_large_layer(cv):
    """ResNet-50's 28x28 layer (128 -> 128): products over 16 pixels across output rows,
    and the bias moves spread over the reduction, keep the array busy; the result is
    still NumPy's."""
    od, ic, oc = 28, 128, 128
    inp, w, bias = cv.inputs(1, od, oc, ic, seed=2)
    out = np.zeros((1, od, od, oc), np.int8)
    stats = simulate(cv.scheduled_conv(1, od, oc, ic))(np.float32(1 / 4096), True, inp, w,
                                                         bias, out)
    assert (out == cv.reference(inp, w, bias, 1 / 4096, True)).all()
    assert stats.macs == od * od * oc * ic * 9
    assert stats.utilization >= 0.80, stats
    # tiles of 14 rows x 14 pixels: 196 pixels in 13 products of 16 rows, each with a
    # preload cycle: the model's bound is 196/208 x 16/17; the array is busy nearly always
    assert stats.ex_busy / stats.cycles > 0.97, stats
    assert stats.utilization <= 196 / 208 * 16 / 17


def test_conv_tiles_fill_16_row_products():
    cv = _example("gemmini_conv")
    assert cv.rows_per_tile(56, 14, 4, 36) == 8  # 8 x 14 = 7 x 16 pixels
    assert cv.rows_per_tile(7, 7, 4, 288) == 7  # 49 pixels: 3 x 16 + 1
    assert cv.rows_per_tile(28, 14, 4, 72) == 14  # 28 rows would overflow the accumulator
    # 1, 2, 4 or 7 rows of 14 fill products alike: the most rows, so that each weight
    # move serves the most products (28 bias moves < 36 positions)
    assert cv.rows_per_tile(28, 14, 4, 36) == 7


def test_scheduled_conv_needs_positions_for_its_bias_moves(cv):
    # a 1x1 kernel over 16 channels: one position, and every tile needs 4 bias moves
    with pytest.raises(ValueError, match="4 accumulator blocks per output row need more "
                                         "than 1 kernel positions"):
        cv.scheduled_conv(1, 7, 64, 16, kernel_dim=1)


@proc
def exo_style_conv(batch_size: size, out_dim: size, out_channel: size, kernel_dim: size,
                   in_channel: size, in_dim: size,
                   output: i8[batch_size, out_dim, out_dim, out_channel],
                   bias: i32[1, out_channel],
                   inp: i8[batch_size, in_dim, in_dim, in_channel],
                   weights: i8[kernel_dim, kernel_dim, in_channel, out_channel],
                   act: bool, scale: f32):
    # the shape of Exo's conv_on_cpu_stride_1 (its names are what the helpers find)
    assert out_dim == in_dim - kernel_dim + 1
    for b in seq(0, batch_size):
        for orow in seq(0, out_dim):
            for ocol in seq(0, out_dim):
                for och in seq(0, out_channel):
                    res: i32
                    res = bias[0, och]
                    for krow in seq(0, kernel_dim):
                        for kcol in seq(0, kernel_dim):
                            for kch in seq(0, in_channel):
                                w_s: i8 @ DRAM
                                w_s = weights[krow, kcol, kch, och]
                                i_s: i8 @ DRAM
                                i_s = inp[b, orow + krow, ocol + kcol, kch]
                                a2: i32
                                b2: i32
                                a2 = i_s
                                b2 = w_s
                                res += a2 * b2
                    src_tmp: i32
                    src_tmp = res
                    tmp_res1: f32
                    acc_scale(src_tmp, tmp_res1, scale)
                    tmp_res2: i8
                    clamp(tmp_res1, tmp_res2)
                    if act == True:
                        tmp_res2 = relu(tmp_res2)
                    output[b, orow, ocol, och] = tmp_res2


def test_exo_conv_helpers_full_tiles_and_remainder_run(cv):
    """Exo's conv schedules begin with split_fission_dim, replace_div_part,
    replace_mod_part, set_gemm_memories, inline_div_part, inline_mod_part: the full
    tiles get their configurations lifted, and the remainder (20 = 16 + 4 columns) runs
    its moves on those configurations (the simulator would fault on a missing one)."""
    from knit.platforms.gemmini import (
        inline_div_part,
        inline_mod_part,
        replace_div_part,
        replace_mod_part,
        set_gemm_memories,
        split_fission_dim,
    )

    od, ch = 20, 32
    conv = exo_style_conv.partial_eval(1, od, ch, 3, ch, od + 2)
    for step in (split_fission_dim, replace_div_part, replace_mod_part, set_gemm_memories,
                 inline_div_part, inline_mod_part):
        conv = step(conv)
    text = str(conv)
    assert text.count("config_st_acc_i8(") == 1 and text.count("config_matmul(") == 1, text
    assert "st_acc_i8_configured(4, " in text and "do_matmul_acc_i8(4, " in text, text
    inp, w, bias = cv.inputs(1, od, ch, ch, seed=4)
    scale = np.float32(1 / 2048)
    for act in (False, True):
        out = np.zeros((1, od, od, ch), np.int8)
        simulate(conv)(out, bias, inp, w, act, scale)
        assert (out == cv.reference(inp, w, bias, scale, act)).all()
