"""Definition-time checks on good programs: everything here must be accepted,
including accesses whose bounds need asserts, if-conditions, windows of windows,
strides and calls. Bad programs live in tests/errors/."""

from __future__ import annotations

import itertools

import pytest

from knit import DRAM, Memory, config, instr, proc
from knit.analysis import smt
from knit.errors import BoundsError, PreconditionError, RefusedLaterWarning
from knit.frontend.checks import check_proc
from knit.libs.externs import relu, select
from knit.procedure import parse_proc_string


class VREG(Memory):
    """A vector register file: only instructions may touch it."""

    @classmethod
    def can_read(cls) -> bool:
        return False


@config
class Cfg:
    scale: f32
    n: size


@instr("{dst_data} = {src_data};")
def copy1(dst: [f32][1] @ DRAM, src: [f32][1] @ DRAM):
    dst[0] = src[0]


@instr("load4({dst_data}, {src_data});")
def load4(dst: [f32][4] @ VREG, src: [f32][4] @ DRAM):
    assert stride(src, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[i]


@instr("store4({dst_data}, {src_data});")
def store4(dst: [f32][4] @ DRAM, src: [f32][4] @ VREG):
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[i]


@instr("fma4({acc_data}, {a_data}, {b_data});")
def fma4(acc: [f32][4] @ VREG, a: [f32][4] @ VREG, b: [f32][4] @ VREG):
    for i in seq(0, 4):
        acc[i] += a[i] * b[i]


def test_gemm():
    @proc
    def gemm(N: size, M: size, K: size, A: f32[N, K] @ DRAM, B: f32[K, M] @ DRAM,
             C: f32[N, M] @ DRAM):
        for i in seq(0, N):
            for j in seq(0, M):
                for k in seq(0, K):
                    C[i, j] += A[i, k] * B[k, j]


def test_par_if_else_windows_configs_and_instrs():
    @proc
    def misc(N: size, x: f32[N], y: [f32][N], s: f32):
        assert N % 4 == 0 and N >= 8
        assert stride(y, 0) == 1
        for i in par(0, N / 4):
            t: f32[4] @ DRAM  # one per iteration: a shared one would race
            if i < 2:
                t[0] = relu(x[4 * i] * 2.0 - -s)
            else:
                t[1] = select(x[4 * i + 1], 0.0, 1.0, y[i])
            w = x[4 * i:4 * i + 4]
            copy1(w[0:1], t[0:1])
        Cfg.scale = 3.0
        s = Cfg.scale + 1


def test_assert_makes_the_last_block_index_safe():
    @proc
    def last(N: size, A: f32[N]):
        assert N % 4 == 0
        A[4 * (N / 4) - 1] = 0.0


def test_tail_loop_after_blocks():
    @proc
    def blocked(N: size, A: f32[N]):
        for io in seq(0, N / 4):
            for ii in seq(0, 4):
                A[4 * io + ii] = 0.0
        for i in seq(4 * (N / 4), N):
            A[i] = 0.0
        for i in seq(0, N % 4):
            A[N - 1 - i] = 0.0


def test_guarded_accesses_use_if_facts():
    @proc
    def shifts(N: size, A: f32[N], B: f32[N]):
        for i in seq(0, N):
            if i < N - 1:
                B[i] = A[i + 1]
            else:
                B[i] = A[i]
            if i == 0:
                B[i] = 0.0
            else:
                B[i] += A[i - 1]
            if i >= 2 and i + 2 < N:
                B[i] += A[i - 2] + A[i + 2]


def test_windows_of_windows():
    @proc
    def nested(N: size, A: f32[N, 16]):
        for i in seq(0, N):
            w = A[i, 2:14]
            v = w[1:9]
            u = v[4:8]
            for j in seq(0, 4):
                u[j] = v[j] + w[11]


def test_window_arguments_and_calls_with_windows():
    @proc
    def scale4(x: [f32][4, 4], y: [f32][4]):
        for i in seq(0, 4):
            for j in seq(0, 4):
                x[i, j] = x[i, j] * y[j]

    @proc
    def tiles(N: size, M: size, A: f32[N, M], v: [f32][M]):
        assert N % 4 == 0 and M % 4 == 0
        for io in seq(0, N / 4):
            for jo in seq(0, M / 4):
                scale4(A[4 * io:4 * io + 4, 4 * jo:4 * jo + 4], v[4 * jo:4 * jo + 4])


def test_sizes_flow_through_calls():
    @proc
    def fill(n: size, x: [f32][n]):
        for i in seq(0, n):
            x[i] = 0.0

    @proc
    def caller(N: size, A: f32[N, 8]):
        assert N >= 2
        fill(N - 1, A[1:, 3])
        fill(8, A[0, :])
        for i in seq(0, N):
            fill(N - i, A[i:, 0])


def test_callee_asserts_proven_from_caller_facts():
    @proc
    def kernel(K: size, x: [f32][K]):
        assert K % 8 == 0
        assert stride(x, 0) == 1
        for k in seq(0, K):
            x[k] = 0.0

    @proc
    def caller(N: size, A: f32[N, 16], W: [f32][N, 32]):
        assert N % 2 == 0
        assert stride(W, 1) == 1
        for i in seq(0, N):
            kernel(16, A[i, :])
            kernel(32, W[i, :])
            kernel(8, W[i, 8:16])
            kernel(8, W[i, 24:32])


def test_disjoint_windows_may_both_be_passed():
    @proc
    def copy(n: size, dst: [f32][n], src: [f32][n]):
        for i in seq(0, n):
            dst[i] = src[i]

    @proc
    def add2(n: size, out: [f32][n], a: [f32][n], b: [f32][n]):
        for i in seq(0, n):
            out[i] = a[i] + b[i]

    @proc
    def caller(N: size, A: f32[N, 8], B: f32[8]):
        copy(4, B[0:4], B[4:8])
        for i in seq(0, N - 1):
            copy(8, A[i, :], A[i + 1, :])
        add2(8, B, A[0, :], A[0, :])  # the same buffer read twice is fine


def test_register_memory_through_instructions():
    @proc
    def vec_fma(N: size, a: f32[N], b: f32[N], c: f32[N]):
        assert N % 4 == 0
        va: f32[4] @ VREG
        vb: f32[4] @ VREG
        vc: f32[4] @ VREG
        for io in seq(0, N / 4):
            load4(va, a[4 * io:4 * io + 4])
            load4(vb, b[4 * io:4 * io + 4])
            load4(vc, c[4 * io:4 * io + 4])
            fma4(vc, va, vb)
            store4(c[4 * io:4 * io + 4], vc)


def test_config_write_is_learned_and_forgotten():
    @proc
    def learned(N: size, A: f32[N]):
        Cfg.n = N
        A[Cfg.n - 1] = 0.0

    with pytest.raises(BoundsError, match="A\\[Cfg.n - 1\\] may be out of bounds"):
        @proc
        def forgotten(N: size, A: f32[N]):
            Cfg.n = N
            for i in seq(0, 4):
                A[Cfg.n - 1] = 0.0
                Cfg.n = N + 1


def test_unknown_config_needs_a_guard():
    """A config field is any integer (a size field is not assumed positive)."""
    @proc
    def guarded(N: size, A: f32[N]):
        if Cfg.n <= N and Cfg.n >= 1:
            A[Cfg.n - 1] = 0.0

    with pytest.raises(BoundsError, match="A\\[Cfg.n - 1\\] may be out of bounds.*Cfg.n = "):
        @proc
        def unguarded(N: size, A: f32[N]):
            if Cfg.n <= N:
                A[Cfg.n - 1] = 0.0


def test_instrs_are_checked_lazily():
    @instr("{dst_data}[4] = 0;")
    def bad(dst: [f32][4] @ DRAM):
        dst[4] = 0.0  # defining it does not check it

    with pytest.raises(BoundsError, match="dst\\[4\\] is out of bounds"):
        bad._check()


def test_call_checks_the_instr_first():
    @instr("{dst_data} = 0;")
    def bad_zero(dst: [f32][2] @ DRAM):
        dst[2] = 0.0

    with pytest.raises(BoundsError, match="dst\\[2\\]"):
        @proc
        def caller(A: f32[8]):
            bad_zero(A[0:2])


def test_dense_stride_known_in_asserts():
    @proc
    def f(N: size, A: f32[N, 8]):
        assert stride(A, 0) == 8
        assert stride(A, 1) == 1
        A[0, 7] = 1.0


def test_precondition_mentions_dense_stride():
    @proc
    def g(n: size, x: [f32][n, 4]):
        assert stride(x, 0) == 4
        x[0, 0] = 0.0

    @proc
    def ok(A: f32[3, 4]):
        g(3, A)

    with pytest.raises(PreconditionError, match="`stride\\(x, 0\\) == 4`"):
        @proc
        def wrong(A: f32[3, 8]):
            g(3, A[:, 0:4])


def test_checking_is_cached_per_proc():
    @proc
    def p(N: size, A: f32[N]):
        for i in seq(0, N):
            A[i] = 0.0

    smt.reset_stats()
    check_proc(p._loopir_proc)
    assert smt.stats()["queries"] == 0


def test_gemm_checks_without_z3():
    smt.reset_stats()

    @proc
    def blocked_gemm(N: size, M: size, K: size, A: f32[N, K], B: f32[K, M], C: f32[N, M]):
        assert N % 4 == 0 and M % 16 == 0
        for io in seq(0, N / 4):
            for jo in seq(0, M / 16):
                for k in seq(0, K):
                    for ii in seq(0, 4):
                        for ji in seq(0, 16):
                            C[4 * io + ii, 16 * jo + ji] += A[4 * io + ii, k] * \
                                B[k, 16 * jo + ji]

    st = smt.stats()
    assert st["queries"] > 0 and st["z3"] == 0, st


def test_loop_bound_on_a_config_the_body_changes_is_its_value_at_entry():
    # pins semantics.md#bounds-once
    # docs/semantics.md: a loop's bounds are evaluated once, when the loop starts, so
    # the facts about i use the bound's value at entry, whatever the body writes later
    @proc
    def changing(N: size, A: f32[N]):
        Cfg.n = N
        for i in seq(0, Cfg.n):
            A[i] = 0.0
            Cfg.n = N + 1

    with pytest.raises(BoundsError, match="A\\[i\\] may be out of bounds"):
        @proc
        def too_far_at_entry(N: size, A: f32[N]):
            Cfg.n = N + 1
            for i in seq(0, Cfg.n):
                Cfg.n = N
                A[i] = 0.0


def test_allocation_keeps_the_size_it_was_allocated_with():
    # pins semantics.md#alloc-shape
    # the shape of `t: f32[Cfg.n]` is evaluated at the allocation: a later write to
    # Cfg.n does not resize t, so t[7] is out of bounds for t of size 4
    with pytest.raises(BoundsError, match=r"t\[7\] may be out of bounds: dimension 0 has "
                       r"size Cfg.n \(line \d+\); for Cfg.n \(line \d+\) = 4"):
        @proc
        def resized(x: f32[8]):
            Cfg.n = 4
            t: f32[Cfg.n]
            Cfg.n = 8
            t[3] = 1.0
            t[7] = 1.0
            x[0] = t[3]

    @proc
    def kept(x: f32[8]):
        Cfg.n = 4
        t: f32[Cfg.n]
        Cfg.n = 8
        t[3] = 1.0
        x[0] = t[3]


def test_window_keeps_the_extent_it_was_made_with():
    # pins semantics.md#window-once; through a window statement, refused where the
    # proc would run (as Exo, which does not check it, accepts the definition)
    with pytest.warns(RefusedLaterWarning, match=r"w\[5\] may be out of bounds"):
        @proc
        def widened(x: f32[8]):
            Cfg.n = 4
            w = x[0:Cfg.n]
            Cfg.n = 8
            w[5] = 1.0
    with pytest.raises(BoundsError, match=r"w\[5\] may be out of bounds"):
        widened.c_code_str()


# ---------------------------------------------------------------- against brute force

_LOS = ["0", "1", "N / 4"]
_HIS = ["N", "N - 1", "N / 4", "N + 1", "4 * (N / 4)"]
_IDXS = ["i", "i + 1", "i - 1", "4 * i", "4 * i + 3", "N - 1 - i", "i / 2", "i % 4",
         "2 * i - N", "N / 4 + i"]
_ASSERTS = [None, "N % 4 == 0", "N >= 4", "N <= 8"]
_SMALL, _LARGE = range(1, 25), range(25, 200)


def _py(e: str) -> str:
    return e.replace("/", "//")  # knit's index division is floor division


def _bounds_ok(assert_, lo, hi, idx, sizes) -> bool:
    """Brute force: is A[idx] in bounds for every N in `sizes` and every i the loop runs?"""
    for n in sizes:
        if assert_ and not eval(_py(assert_), {}, {"N": n}):
            continue
        for i in range(eval(_py(lo), {}, {"N": n}), eval(_py(hi), {}, {"N": n})):
            if not 0 <= eval(_py(idx), {}, {"N": n, "i": i}) < n:
                return False
    return True


def test_bounds_check_agrees_with_brute_force():
    """Every combination of assert, loop range and index: the checker accepts exactly
    the programs that stay in bounds (checked by running the index arithmetic)."""
    for assert_, lo, hi, idx in itertools.product(_ASSERTS, _LOS, _HIS, _IDXS):
        lines = ["def f(N: size, A: f32[N]):"]
        if assert_:
            lines.append(f"    assert {assert_}")
        lines += [f"    for i in seq({lo}, {hi}):", f"        A[{idx}] = 0.0"]
        try:
            parse_proc_string("\n".join(lines), {})
            accepted = True
        except BoundsError:
            accepted = False
        program = "\n".join(lines)
        if accepted:
            assert _bounds_ok(assert_, lo, hi, idx, _SMALL), f"accepted:\n{program}"
        elif _bounds_ok(assert_, lo, hi, idx, _SMALL):
            # refused though in bounds for small N: some larger N must break it
            assert not _bounds_ok(assert_, lo, hi, idx, _LARGE), f"refused:\n{program}"


def test_par_loops_are_proven_race_free_at_definition():
    from knit.errors import RaceError

    # found at the definition (a warning); refused where it would run, as in Exo
    with pytest.warns(RefusedLaterWarning, match="may race: one reduces into s\\[0\\]"):
        @proc
        def total(N: size, A: f32[N] @ DRAM, s: f32[1] @ DRAM):
            for i in par(0, N):
                s[0] += A[i]
    with pytest.raises(RaceError, match="may race: one reduces into s\\[0\\]"):
        total.c_code_str()

    with pytest.warns(RefusedLaterWarning):
        @proc
        def shift(N: size, A: f32[N + 1] @ DRAM):
            for i in par(0, N):
                w = A[i:i + 2]
                w[1] = A[i]
    with pytest.raises(RaceError, match="writes A\\[i \\+ 1\\] and another reads A\\[i\\]"):
        shift.compile()

    @proc
    def rows(N: size, A: f32[N, 4] @ DRAM, s: f32[N] @ DRAM):
        for i in par(0, N):
            w = A[i, 0:4]
            for j in seq(0, 4):
                s[i] += w[j]


def test_config_value_after_an_if_is_what_both_branches_leave():
    @proc
    def both(N: size, A: f32[4]):
        if N > 2:
            Cfg.n = 1
        else:
            Cfg.n = 1
        A[Cfg.n] = 0.0

    with pytest.raises(BoundsError, match=r"A\[Cfg.n\] may be out of bounds"):
        @proc
        def one(N: size, A: f32[4]):
            Cfg.n = 9
            if N > 2:
                Cfg.n = 1
            A[Cfg.n] = 0.0


def test_config_value_after_a_loop_that_runs_is_what_its_iterations_leave():
    @proc
    def runs(N: size, A: f32[4]):
        for i in seq(0, N):
            Cfg.n = 3
        A[Cfg.n] = 0.0

    with pytest.raises(BoundsError, match=r"A\[Cfg.n\] may be out of bounds"):
        @proc
        def may_not_run(N: size, A: f32[4]):
            Cfg.n = 9
            for i in seq(1, N):
                Cfg.n = 3
            A[Cfg.n] = 0.0
