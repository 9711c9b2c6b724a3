"""Sub-procedure primitives: replace (unification), replace_all, call_eqv, inline,
extract_subproc, insert_noop_call, make_instr.

Each has the three kinds of test: the rewritten code, equivalence on random inputs
(compiled C and interpreter) with the proof-based is_eq, and refusal of the unsafe uses
with the reason. The instructions here are small `@instr`s whose C does what their body
says, so the compiled and the interpreted runs check each other."""

from __future__ import annotations

import pytest
from refusals import expect_error, marked_line
from scheduling_checks import assert_body, body, differs, equiv, refused

from knit import DRAM, instr, proc
from knit.errors import MemoryAccessError
from knit.libs.memories import DRAM_STATIC
from knit.platforms.x86 import (
    AVX2,
    avx2_mask_loadu_ps,
    avx2_mask_storeu_ps,
    mm256_add_ps,
    mm256_loadu_ps,
    mm256_storeu_ps,
    prefetch,
)
from knit.stdlib.scheduling import (
    call_eqv,
    call_site_mem_aware_replace,
    divide_loop,
    extract_subproc,
    inline,
    insert_noop_call,
    make_instr,
    replace,
    replace_all,
    set_memory,
    set_precision,
    set_window,
)


def checked(p):
    """p passes the definition-time checks (types, shapes, bounds) after a rewrite."""
    p._check()
    return p


# ---------------------------------------------------------------- instructions for the tests


@instr("for (int k_ = 0; k_ < {N}; k_++) "
       "{dst}.data[k_ * {dst}.strides[0]] = {src}.data[k_];")
def copy_n(N: size, dst: [f32][N] @ DRAM, src: [f32][N] @ DRAM):
    assert N <= 16
    assert stride(src, 0) == 1
    for i in seq(0, N):
        dst[i] = src[i]


@instr("for (int k_ = 0; k_ < 2; k_++) {x}.data[k_ * {x}.strides[0]] *= *{a_data};")
def scale2(x: [f32][2] @ DRAM, a: f32 @ DRAM):
    for i in seq(0, 2):
        x[i] = x[i] * a


@instr("for (int r_ = 0; r_ < {M}; r_++) for (int c_ = 0; c_ < {N}; c_++) "
       "{dst}.data[r_ * {dst}.strides[0] + c_] = "
       "{src}.data[r_ * {src}.strides[0] + c_] * *{a_data};")
def tile_scale(M: size, N: size, dst: [f32][M, N] @ DRAM, src: [f32][M, N] @ DRAM,  # noqa: RUF016
               a: f32 @ DRAM):
    assert stride(dst, 1) == 1
    assert stride(src, 1) == 1
    for r in seq(0, M):
        for c in seq(0, N):
            dst[r, c] = src[r, c] * a


@instr("{x}.data[0] = 1.0f; {x}.data[{x}.strides[0]] = 2.0f;")
def one_two(x: [f32][2] @ DRAM):
    x[0] = 1.0
    x[1] = 2.0


# ---------------------------------------------------------------- replace


@proc
def rows(n: size, A: f32[n, 32], B: f32[n, 32], s: f32[4]):
    assert n >= 20
    assert n <= 32
    for i in seq(0, 12):  # <- the 12 loop
        B[1, i + 3] = A[2, i + 4]
    for j in seq(0, 20):
        B[j, 0] = A[j, 1]
    for i in seq(0, n):
        B[1, i] = A[2, i]
    for i in seq(0, 2):
        B[2, i + 1] = B[2, i + 1] * s[2]


ROWS = {"n": [20, 27, 32]}


def test_replace_solves_windows_and_sizes_from_loop_bounds():
    p = replace(rows, "for i in _: _", copy_n)
    assert "copy_n(12, B[1, 3:15], A[2, 4:16])" in body(p)
    equiv(rows, checked(p), sizes=ROWS)


def test_replace_solves_an_element_for_a_scalar_parameter():
    p = replace(rows, "for i in _: _ #2", scale2)
    assert "scale2(B[2, 1:3], s[2])" in body(p)
    equiv(rows, checked(p), sizes=ROWS)


def test_replace_a_two_dimensional_tile():
    @proc
    def tiles(n: size, A: f32[n, 8, 8], B: f32[8, 8], s: f32):
        assert n >= 3
        for i in seq(0, 3):
            for j in seq(0, 5):
                B[i + 2, j + 1] = A[2, i + 1, j] * s
        for i in seq(0, 3):
            for j in seq(0, 5):
                B[i, j] = A[1, i, j] * B[7, 7]

    p = replace_all(tiles, tile_scale)
    assert_body(p, """
        assert n >= 3
        tile_scale(3, 5, B[2:5, 1:6], A[2, 1:4, 0:5], s)
        tile_scale(3, 5, B[0:3, 0:5], A[1, 0:3, 0:5], B[7, 7])
    """)
    equiv(tiles, checked(p), sizes={"n": [3, 4]})


def test_replace_a_block_of_several_statements():
    @proc
    def pairs(A: f32[8]):
        A[4] = 1.0
        A[5] = 2.0
        A[6] = 1.0
        A[0] = 2.0

    p = replace(pairs, pairs.body()[0:2], one_two)
    assert_body(p, """
        one_two(A[4:6])
        A[6] = 1.0
        A[0] = 2.0
    """)
    equiv(pairs, checked(p))
    refused(lambda: replace(pairs, pairs.body()[2:4], one_two),
            "the block does not match the body of one_two: no window of 'A' gives the "
            "accesses of 'x'", prim="replace")
    refused(lambda: replace(pairs, pairs.body()[0:1], one_two),
            "the body has 2 statement(s), the block 1")


def test_replace_checks_the_instructions_asserts_at_the_call():
    refused(lambda: replace(rows, "for j in _: _", copy_n),
            "copy_n requires `N <= 16`, which could not be proven at this call "
            "(with these arguments: `20 <= 16`)", prim="replace")
    refused(lambda: replace(rows, "for i in _: _ #1", copy_n),
            "copy_n requires `N <= 16`", "it fails for n = 20")

    @proc
    def column(A: f32[8, 8], B: f32[8]):
        for i in seq(0, 8):
            B[i] = A[i, 0]

    refused(lambda: replace(column, "for i in _: _", copy_n),
            "copy_n requires `stride(src, 0) == 1`", "(with these arguments: `8 == 1`)")


def test_replace_refuses_a_block_that_does_not_match_and_says_where():
    msg = refused(lambda: replace(rows, "for i in _: _", scale2),
                  "the block does not match the body of scale2", prim="replace")
    assert msg.startswith(f"{__file__}:{marked_line(__file__, 'the 12 loop')}:5: replace: ")
    assert "    for i in seq(0, 12):" in msg.splitlines()
    refused(lambda: replace(rows, "for i in _: _ #2", copy_n),
            "the block does not match the body of copy_n")

    @proc
    def transposed(B: f32[8, 8], A: f32[8, 8], s: f32):
        for i in seq(0, 2):
            for j in seq(0, 2):
                B[j, i] = A[i, j] * s

    refused(lambda: replace(transposed, "for i in _: _", tile_scale),
            "no window of 'B' gives the accesses of 'dst'")

    @proc
    def varying(B: f32[8, 8], A: f32[8, 8]):
        for i in seq(0, 2):
            for j in seq(0, 2):
                B[i, j] = A[i, j] * A[i, 7]

    refused(lambda: replace(varying, "for i in _: _", tile_scale),
            "'a' would vary with the block's loops")

    @proc
    def adds(B: f32[8, 8], A: f32[8, 8], s: f32):
        for i in seq(0, 2):
            for j in seq(0, 2):
                B[i, j] = A[i, j] + s

    refused(lambda: replace(adds, "for i in _: _", tile_scale), "'*' faces '+'")


def test_replace_does_not_prove_bounds_with_the_facts_of_an_empty_loop():
    @proc
    def empty_first(A: f32[16]):
        for k in seq(2, 2):
            A[k] = 1.0
        for k in seq(0, 5):
            A[k] = A[k + 8]

    refused(lambda: replace(empty_first, "for k in _: _", copy_n),
            "the block does not match the body of copy_n", prim="replace")
    p = replace(empty_first, "for k in _: _ #1", copy_n)  # the non-empty one matches
    assert "copy_n(5, A[0:5], A[8:13])" in body(p)
    equiv(empty_first, checked(p))

    @instr("{dst}.data[0] = 1.0f; for (int k_ = 0; k_ < 8; k_++) "
           "{dst}.data[k_ * {dst}.strides[0]] = 2.0f;")
    def two_loops(dst: [f32][8]):
        for i in seq(0, 0):
            dst[i] = 1.0
        for i in seq(0, 8):
            dst[i] = 2.0

    @proc
    def shorter(A: f32[8]):
        for k in seq(0, 0):
            A[k] = 1.0
        for k in seq(0, 5):
            A[k] = 2.0

    # the empty first loop's range (0 <= k < 0) must not prove 8 == 5 for the second
    refused(lambda: replace(shorter, shorter.body(), two_loops), "cannot prove 8 equals 5")


def test_replace_refuses_arguments_that_may_overlap():
    @instr("for (int k_ = 0; k_ < 4; k_++) "
           "{x}.data[k_ * {x}.strides[0]] += {y}.data[k_ * {y}.strides[0]];")
    def vadd4(x: [f32][4], y: [f32][4]):
        for i in seq(0, 4):
            x[i] += y[i]

    @proc
    def disjoint(B: f32[8]):
        for i in seq(0, 4):
            B[i] += B[i + 4]

    @proc
    def overlapping(B: f32[8]):
        for i in seq(0, 4):
            B[i + 1] += B[i]

    p = replace(disjoint, "for i in _: _", vadd4)
    assert "vadd4(B[0:4], B[4:8])" in body(p)
    equiv(disjoint, checked(p))
    refused(lambda: replace(overlapping, "for i in _: _", vadd4),
            "'B' is passed to both 'x' and 'y' of vadd4, which writes 'x', and the two may "
            "overlap", prim="replace")


@proc
def copy8(src: f32[8], dst: f32[8]):
    r: f32[8]
    for i in seq(0, 8):
        r[i] = src[i]
    for i in seq(0, 8):
        dst[i] = r[i]


def test_replace_with_avx2_instructions_and_memories():
    regs = set_memory(copy8, "r : _", AVX2)
    p = replace(regs, "for i in _: _", mm256_loadu_ps)
    p = replace(p, "for i in _: _", mm256_storeu_ps)
    assert_body(p, """
        r: f32[8] @ AVX2
        mm256_loadu_ps(r[0:8], src[0:8])
        mm256_storeu_ps(dst[0:8], r[0:8])
    """)
    equiv(copy8, p)


def test_call_site_mem_aware_replace_refuses_a_buffer_in_the_wrong_memory():
    regs = set_memory(copy8, "r : _", AVX2)
    err = refused(lambda: call_site_mem_aware_replace(regs, "for i in _: _", mm256_storeu_ps),
                  "failed due to memory type mismatch", "argument 'dst' of mm256_storeu_ps "
                  "must live in DRAM, but 'r' lives in AVX2", "set_memory(p, 'r', DRAM) first",
                  prim="call_site_mem_aware_replace")
    refused(lambda: call_site_mem_aware_replace(copy8, "for i in _: _", mm256_loadu_ps),
            "argument 'dst' of mm256_loadu_ps must live in AVX2, but 'r' lives in DRAM")
    with pytest.raises(MemoryError):  # as Exo's
        call_site_mem_aware_replace(copy8, "for i in _: _", mm256_loadu_ps)
    assert err


def test_replace_leaves_the_memories_to_code_generation():
    """As Exo: replace makes a call whose buffer is in another memory than its
    parameter names (a later set_memory may move it there); generating C refuses it
    while it is so. The interpreter gives it its meaning (memories do not change it)."""
    p = replace(copy8, "for i in _: _", mm256_loadu_ps)
    assert "mm256_loadu_ps(r[0:8], src[0:8])" in body(p)
    expect_error(lambda: p.c_code_str(), MemoryAccessError,
                 "argument 'dst' of mm256_loadu_ps lives in AVX2, but 'r' lives in DRAM",
                 "set_memory(p, 'r', AVX2)")
    q = replace(set_memory(p, "r : _", AVX2), "for i in _: _", mm256_storeu_ps)
    assert_body(q, """
        r: f32[8] @ AVX2
        mm256_loadu_ps(r[0:8], src[0:8])
        mm256_storeu_ps(dst[0:8], r[0:8])
    """)
    equiv(copy8, q)


@proc
def prefix(n: size, A: f32[n], B: f32[n]):
    assert n <= 8
    r: f32[8]
    for i in seq(0, 8):
        if i < n:
            r[i] = A[i]
    for i in seq(0, 8):
        if i < n:
            B[i] = r[i]


def test_replace_solves_a_size_inside_a_condition():
    regs = set_memory(prefix, "r : _", AVX2)
    p = replace_all(regs, [avx2_mask_loadu_ps, avx2_mask_storeu_ps])
    assert_body(p, """
        assert n <= 8
        r: f32[8] @ AVX2
        avx2_mask_loadu_ps(n + 0, r[0:8], A[0:n + 0])
        avx2_mask_storeu_ps(n + 0, B[0:n + 0], r[0:8])
    """)
    equiv(prefix, p, sizes={"n": [1, 5, 8]})


# ---------------------------------------------------------------- replace_all


def test_replace_all_replaces_every_match_and_leaves_the_rest():
    regs = set_memory(copy8, "r : _", AVX2)
    p = replace_all(regs, [mm256_storeu_ps, mm256_add_ps, mm256_loadu_ps])
    assert "mm256_loadu_ps(r[0:8], src[0:8])" in body(p)
    assert "mm256_storeu_ps(dst[0:8], r[0:8])" in body(p)
    equiv(copy8, p)
    q = replace_all(rows, [copy_n, scale2])
    assert_body(q, """
        assert n >= 20
        assert n <= 32
        copy_n(12, B[1, 3:15], A[2, 4:16])
        for j in seq(0, 20):
            B[j, 0] = A[j, 1]
        for i in seq(0, n):
            B[1, i] = A[2, i]
        scale2(B[2, 1:3], s[2])
    """)
    equiv(rows, checked(q), sizes=ROWS)
    assert replace_all(rows, mm256_add_ps) is rows  # nothing matches: unchanged


# ---------------------------------------------------------------- call_eqv


@proc
def add_to(n: size, x: [f32][n], a: f32):
    for i in seq(0, n):
        x[i] += a


@proc
def caller(m: size, A: f32[m, 16], b: f32[4]):
    for j in seq(0, m):
        add_to(16, A[j, 0:16], b[2])  # <- the call


def test_call_eqv_swaps_in_a_scheduled_version():
    tiled = divide_loop(add_to, "i", 4, ["io", "ii"], tail="cut")
    p = call_eqv(caller, "add_to(_)", tiled)
    assert p.find("add_to(_)")._node().f is tiled._loopir_proc
    assert "for io in seq(0, n / 4):" in str(tiled)
    equiv(caller, checked(p))


@proc
def add_twice(n: size, x: [f32][n], a: f32):
    for i in seq(0, n):
        x[i] += a
        x[i] += a


def test_call_eqv_refuses_an_unrelated_procedure():
    msg = refused(lambda: call_eqv(caller, "add_to(_)", add_twice),
                  "add_twice is not known to be equivalent to add_to",
                  "unsafe_assert_eq", prim="call_eqv")
    assert f":{marked_line(__file__, 'the call')}:9:" in msg.splitlines()[0]

    @proc
    def calls_twice(m: size, A: f32[m, 16], b: f32[4]):  # what the swap would compute
        for j in seq(0, m):
            add_twice(16, A[j, 0:16], b[2])

    differs(caller, calls_twice)


def test_call_eqv_refuses_a_version_whose_parameters_changed():
    refused(lambda: call_eqv(caller, "add_to(_)", set_precision(add_to, "x", "f64")),
            "parameter 'x' of add_to is declared `[f64][n] @ DRAM`, but `[f32][n] @ DRAM` in "
            "add_to", prim="call_eqv")
    refused(lambda: call_eqv(caller, "add_to(_)", set_window(add_to, "x", False)),
            "is declared `f32[n] @ DRAM`")
    refused(lambda: call_eqv(caller, "add_to(_)", set_memory(add_to, "x", DRAM_STATIC)),
            "@ DRAM_STATIC")
    refused(lambda: call_eqv(caller, "for j in _: _", add_to), "expected a call",
            prim="call_eqv")


# ---------------------------------------------------------------- inline


def test_inline_a_window_parameter_read_and_written():
    @proc
    def twice_into(n: size, y: [f32][n], x: [f32][n]):
        for i in seq(0, n):
            y[i] = x[i] * 2.0

    @proc
    def uses(A: f32[4, 8], B: f32[4, 8]):
        for j in seq(0, 4):
            twice_into(8, B[j, 0:8], A[j, 0:8])

    p = inline(uses, "twice_into(_)")
    assert_body(p, """
        for j in seq(0, 4):
            for i in seq(0, 8):
                B[j, i] = A[j, i] * 2.0
    """)
    equiv(uses, checked(p))


def test_inline_windows_and_elements():
    p = inline(caller, "add_to(_)")
    assert_body(p, """
        for j in seq(0, m):
            for i in seq(0, 16):
                A[j, i] += b[2]
    """)
    equiv(caller, checked(p))


def test_inline_scalars_and_whole_buffers():
    @proc
    def add(x: f32, y: f32, z: f32):
        z = x + y  # noqa: F841

    @proc
    def scalars(n: size, src: f32[n], dst: f32[n]):
        for i in seq(0, n):
            t: f32
            t = src[i]
            add(t, src[i], dst[i])

    p = inline(scalars, "add(_)")
    assert "dst[i] = t + src[i]" in body(p)
    equiv(scalars, checked(p))

    @proc
    def ones(n: size, x: f32[n]):
        for i in seq(0, n):
            x[i] = 1.0

    @proc
    def whole(m: size, A: f32[m]):
        ones(m, A)

    q = inline(whole, "ones(_)")
    assert_body(q, """
        for i in seq(0, m):
            A[i] = 1.0
    """)
    equiv(whole, checked(q))


def test_inline_renames_the_callees_own_buffers_and_keeps_their_types():
    @proc
    def via_tmp(x: f32, y: f32):
        t: f32
        t = x * 2.0
        y = t + 1.0  # noqa: F841

    @proc
    def two_calls(A: f32[4], B: f32[4]):
        via_tmp(A[0], B[0])
        via_tmp(A[1], B[1])

    p = inline(inline(two_calls, "via_tmp(_)"), "via_tmp(_)")
    allocs = [s for s in p._loopir_proc.body if type(s).__name__ == "Alloc"]
    assert len(allocs) == 2 and allocs[0].name is not allocs[1].name
    reads = [s.rhs.lhs for s in p._loopir_proc.body if hasattr(s, "rhs") and
             hasattr(s.rhs, "lhs") and getattr(s.rhs.lhs, "name", None) in
             {a.name for a in allocs}]
    assert reads and all(r.type.is_real() for r in reads)  # data reads, not index reads
    equiv(two_calls, checked(p))


def test_inline_refusals():
    @proc
    def uses_instr(A: f32[8]):
        one_two(A[0:2])  # <- instr call

    refused(lambda: inline(uses_instr, "one_two(_)"),
            "one_two is an instruction; inlining would lose its C code", prim="inline")
    refused(lambda: inline(caller, "for j in _: _"), "expected a call", prim="inline")


# ---------------------------------------------------------------- extract_subproc


@proc
def per_column(y: f32[8], z: f32):
    x: f32
    for j in seq(0, 8):
        x = 0.0
        for i in seq(0, 8):  # <- extracted loop
            x += y[j] * 2.0
        z += x


def test_extract_subproc_with_the_asserts_that_held():
    p, sub = extract_subproc(per_column, "for i in _: _", "accumulate")
    assert_body(p, """
        x: f32 @ DRAM
        for j in seq(0, 8):
            x = 0.0
            accumulate(y, x, j)
            z += x
    """)
    assert str(sub).splitlines() == [
        "def accumulate(y: f32[8] @ DRAM, x: f32 @ DRAM, j: index):",
        "    assert 0 <= j",
        "    assert j < 8",
        "    for i in seq(0, 8):",
        "        x += y[j] * 2.0"]
    equiv(per_column, checked(p))
    sub.compile()  # the new procedure stands on its own


def test_extract_subproc_takes_the_sizes_its_buffers_need():
    @proc
    def wide(N: size, M: size, K: size, x: f32[N, K + M]):
        assert N >= 8
        for i in seq(0, 8):
            x[i, 0] += 2.0

    p, sub = extract_subproc(wide, "for i in _: _", "first_col")
    assert "first_col(N, M, K, x)" in body(p)
    assert str(sub).splitlines()[:2] == [
        "def first_col(N: size, M: size, K: size, x: f32[N, K + M] @ DRAM):",
        "    assert N >= 8"]
    equiv(wide, checked(p))


def test_extract_subproc_of_a_branch_keeps_its_condition():
    @proc
    def branchy(N: size, M: size, x: f32[N, M]):
        assert N >= 8
        if N < 10 and M < 4:
            for i in seq(0, 8):
                x[i, 0] += 2.0
        else:
            for i in seq(0, 8):
                x[i, 0] += 1.0

    p, sub = extract_subproc(branchy, "for i in _: _", "small")
    assert "    assert (N < 10 and M < 4) == True" in str(sub).splitlines()
    equiv(branchy, checked(p), sizes={"N": [8, 9, 12], "M": [2, 5]})


def test_extract_subproc_refuses_a_block_whose_buffer_is_used_after_it():
    @proc
    def used_later(N: size, A: f32[N]):
        t: f32[N]
        for i in seq(0, N):
            t[i] = A[i]
        for i in seq(0, N):
            A[i] = t[i] + 1.0

    refused(lambda: extract_subproc(used_later, used_later.body()[0:2], "sub"),
            "the block defines 't', which is used after it", prim="extract_subproc")
    p, _ = extract_subproc(used_later, used_later.body(), "sub")  # all of it: fine
    equiv(used_later, checked(p))


def test_extract_subproc_passes_buffers_not_windows_defined_before_the_block():
    @proc
    def via_window(N: size, A: f32[N, 4]):
        for i in seq(0, N):
            w = A[i, 0:2]
            w[0] = 1.0
            A[i, 3] = w[1]

    p, sub = extract_subproc(via_window, via_window.find("w[_] = _").expand(0, 1), "sub")
    assert "sub(N, A, i)" in body(p)
    assert "    A[i, 0] = 1.0\n    A[i, 3] = A[i, 1]" in str(sub)
    equiv(via_window, checked(p))


def test_extract_subproc_passes_a_window_argument_as_a_window():
    @proc
    def on_window(N: size, A: [f32][N]):
        for i in seq(0, N):
            A[i] = 1.0

    p, sub = extract_subproc(on_window, on_window.body(), "sub")
    call = p.find("sub(_)")._node()
    assert type(call.args[1]).__name__ == "WindowExpr"  # what `sub(N, A)` parses to
    assert "A: [f32][N] @ DRAM" in str(sub)
    equiv(on_window, checked(p))


def test_extract_subproc_without_asserts_is_refused_when_its_accesses_need_them():
    refused(lambda: extract_subproc(per_column, "for i in _: _", "acc", include_asserts=False),
            "the extracted procedure does not check", "y[j] may be out of bounds",
            prim="extract_subproc")
    refused(lambda: extract_subproc(per_column, "for i in _: _", "a b"),
            "'a b' is not a valid name")


# ---------------------------------------------------------------- insert_noop_call


@proc
def with_pass(n: size, x: f32[n]):
    pass


def test_insert_noop_call():
    p = insert_noop_call(with_pass, with_pass.find("pass").before(), prefetch, ["x[0:1]", 3])
    assert_body(p, """
        prefetch(x[0:1], 3)
        pass
    """)
    assert p.is_eq(with_pass)
    p.compile()


def test_insert_noop_call_refusals():
    gap = with_pass.find("pass").before()
    refused(lambda: insert_noop_call(with_pass, gap, mm256_loadu_ps, ["x[0:8]", "x[0:8]"]),
            "mm256_loadu_ps is not a no-op: its body does more than `pass`")
    refused(lambda: insert_noop_call(with_pass, gap, prefetch, []),
            "prefetch takes 2 arguments, got 0")
    refused(lambda: insert_noop_call(with_pass, gap, prefetch, ["n", 0]),
            "argument 'A' of prefetch must be a 1-dimensional window, got n")
    refused(lambda: insert_noop_call(with_pass, gap, prefetch, ["x[0:1]", 9]),
            "prefetch requires `locality_hint < 8`", "`9 < 8`", prim="insert_noop_call")
    # x[1:2] may start at the end of x (n = 1), which prefetch does not access: passed
    # (tests/backend/test_window_past_end.py); x[2:3] may start past it
    refused(lambda: insert_noop_call(with_pass, gap, prefetch, ["x[2:3]", 0]),
            "the window x[2:3] may be out of bounds")
    refused(lambda: insert_noop_call(with_pass, gap, prefetch, ["x[0:1]", 2.5]),
            "an argument must be an expression string or an integer, got 2.5")


# ---------------------------------------------------------------- make_instr


@proc
def zero4(x: [f32][4]):
    for i in seq(0, 4):
        x[i] = 0.0


def test_make_instr_and_replace_with_it():
    z = make_instr(zero4, "for (int k_ = 0; k_ < 4; k_++) {x}.data[k_ * {x}.strides[0]] = 0;")
    assert z.is_instr() and not zero4.is_instr()
    assert z.get_instr().startswith("for (int k_")
    assert z.is_eq(zero4)

    @proc
    def clear(A: f32[8]):
        for i in seq(0, 4):
            A[i + 2] = 0.0

    p = replace(clear, "for i in _: _", z)
    assert_body(p, "zero4(A[2:6])")
    assert "A.data" not in p.c_code_str() and "k_ < 4" in p.c_code_str()
    equiv(clear, checked(p))


def test_make_instr_refuses_a_non_string():
    refused(lambda: make_instr(zero4, 3), "c_instr must be a string")
