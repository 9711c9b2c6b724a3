"""Memory primitives: stage_mem, bind_expr, set_memory, set_precision, set_window.

Each has the three kinds of test: the rewritten code, equivalence on random inputs
(compiled C and interpreter) with the proof-based is_eq, and refusal of the unsafe uses
with the reason. Where a refusal guards a real trap, the would-be result is written out
by hand and shown to compute something else."""

from __future__ import annotations

from refusals import marked_line
from scheduling_checks import assert_body, body, differs, equiv, refused

from knit import DRAM, Memory, config, proc
from knit.ir import types as T
from knit.libs.externs import select
from knit.libs.memories import DRAM_STATIC
from knit.stdlib.scheduling import (
    bind_expr,
    divide_loop,
    set_memory,
    set_precision,
    set_window,
    simplify,
    stage_mem,
)


def checked(p):
    """p passes the definition-time checks (types, shapes, bounds) after a rewrite."""
    p._check()
    return p


# ---------------------------------------------------------------- stage_mem


@proc
def sqmat(n: size, A: f32[n, n], B: f32[n, n]):
    assert n % 4 == 0
    for i in seq(0, n / 4):
        for j in seq(0, n / 4):
            for k in seq(0, n / 4):  # <- k loop
                for ii in seq(0, 4):
                    for jj in seq(0, 4):
                        for kk in seq(0, 4):
                            A[4 * i + ii, 4 * j + jj] += (B[4 * i + ii, 4 * k + kk] *
                                                          B[4 * k + kk, 4 * j + jj])


SQ = {"n": [4, 8]}


def test_stage_mem_loads_and_stores_a_tile_that_is_reduced_into():
    p = stage_mem(sqmat, "for k in _: _", "A[4*i:4*i+4, 4*j:4*j+4]", "Atile")
    assert_body(simplify(p), """
        assert n % 4 == 0
        for i in seq(0, n / 4):
            for j in seq(0, n / 4):
                Atile: f32[4, 4] @ DRAM
                for i0 in seq(0, 4):
                    for i1 in seq(0, 4):
                        Atile[i0, i1] = A[i0 + 4 * i, i1 + 4 * j]
                for k in seq(0, n / 4):
                    for ii in seq(0, 4):
                        for jj in seq(0, 4):
                            for kk in seq(0, 4):
                                Atile[ii, jj] += B[ii + 4 * i, kk + 4 * k] * B[kk + 4 * k, jj + 4 * j]
                for i0 in seq(0, 4):
                    for i1 in seq(0, 4):
                        A[i0 + 4 * i, i1 + 4 * j] = Atile[i0, i1]
    """)
    equiv(sqmat, checked(p), sizes=SQ)


def test_stage_mem_accum_starts_from_zero_and_adds_back():
    p = stage_mem(sqmat, "for k in _: _", "A[4*i:4*i+4, 4*j:4*j+4]", "Atile", accum=True)
    b = body(p)
    assert "Atile[i0, i1] = 0.0" in b and "A[4 * i + i0, 4 * j + i1] += Atile[i0, i1]" in b
    assert "= A[" not in b  # no load
    equiv(sqmat, checked(p), sizes=SQ)


def test_stage_mem_of_a_block_that_only_reads_has_no_store():
    p = stage_mem(sqmat, "for ii in _: _", "B[0:n, 0:n]", "Bcopy")
    b = body(p)
    assert "Bcopy[i0, i1] = B[i0, i1]" in b and "B[i0, i1] = Bcopy" not in b
    assert "Bcopy[4 * i + ii, 4 * k + kk] * Bcopy[4 * k + kk, 4 * j + jj]" in b
    equiv(sqmat, checked(p), sizes=SQ)


def test_stage_mem_of_a_block_that_writes_stores_back():
    @proc
    def fill(n: size, x: f32[n, 8]):
        for i in seq(0, n):
            for j in seq(2, 6):
                x[i, j] = 1.0

    p = stage_mem(fill, "for j in _: _", "x[i, 0:8]", "row")
    assert_body(p, """
        for i in seq(0, n):
            row: f32[8] @ DRAM
            for i0 in seq(0, 8):
                row[i0] = x[i, i0]
            for j in seq(2, 6):
                row[j] = 1.0
            for i0 in seq(0, 8):
                x[i, i0] = row[i0]
    """)
    equiv(fill, checked(p))


def test_stage_mem_leaves_out_the_load_no_value_of_which_is_seen():
    """As Exo: no copy into the staging buffer when the block does not read the window
    (for a point: writes it first) -- knit also proves that the block writes every
    element the copy back reads, so no unloaded element goes back."""
    @proc
    def fill_all(n: size, x: f32[n, 8]):
        for i in seq(0, n):
            for j in seq(0, 8):
                x[i, j] = 1.0

    p = stage_mem(fill_all, "for j in _: _", "x[i, 0:8]", "row")
    assert_body(p, """
        for i in seq(0, n):
            row: f32[8] @ DRAM
            for j in seq(0, 8):
                row[j] = 1.0
            for i0 in seq(0, 8):
                x[i, i0] = row[i0]
    """)
    equiv(fill_all, checked(p))

    @proc
    def reset(x: f32[30], result: f32):
        result = 0.0
        for i in seq(0, 30):
            x[i] = result

    @proc
    def by_element(x: f32[4], y: f32[4]):
        y[0] = x[0]
        y[1] = x[1]
        y[2] = x[0] + x[1]
        y[3] = x[3]

    r = stage_mem(by_element, by_element.body(), "y[0:4]", "t")
    assert "t[i0] = y[i0]" not in body(r) and "y[i0] = t[i0]" in body(r)
    equiv(by_element, checked(r))
    s = stage_mem(by_element, by_element.body()[1:], "y[0:4]", "t")  # y[0] not written
    assert "t[i0] = y[i0]" in body(s)
    equiv(by_element, checked(s))

    q = stage_mem(reset, reset.body(), "result", "tmp")
    assert_body(q, """
        tmp: f32 @ DRAM
        tmp = 0.0
        for i in seq(0, 30):
            x[i] = tmp
        result = tmp
    """)
    equiv(reset, checked(q))


def test_stage_mem_keeps_the_load_where_a_loaded_value_may_be_seen():
    @proc
    def guarded(n: size, m: size, x: f32[n, 8]):
        for i in seq(0, n):
            for j in seq(0, 8):
                if j < m:  # the copy back also takes the elements j >= m
                    x[i, j] = 1.0

    p = stage_mem(guarded, "for j in _: _", "x[i, 0:8]", "row")
    assert "row[i0] = x[i, i0]" in body(p)
    equiv(guarded, checked(p), sizes={"n": [2], "m": [1, 3, 9]})
    # the window dropped its load would copy garbage back: shown by hand
    @proc
    def no_load(n: size, m: size, x: f32[n, 8]):
        for i in seq(0, n):
            row: f32[8]
            for j in seq(0, 8):
                if j < m:
                    row[j] = 1.0
            for i0 in seq(0, 8):
                x[i, i0] = row[i0]

    differs(guarded, no_load, sizes={"n": [2], "m": [3]})

    @proc
    def write_then_read(n: size, x: f32[n, 8], y: f32[n, 8]):
        for i in seq(0, n):
            for j in seq(0, 8):
                x[i, j] = 1.0
                y[i, j] = x[i, j]

    r = stage_mem(write_then_read, "for j in _: _", "x[i, 0:8]", "row")
    assert "row[i0] = x[i, i0]" in body(r)  # a tensor window read in the block: as Exo
    equiv(write_then_read, checked(r))


@proc
def matmul(n: size, A: f32[n, n], B: f32[n, n], C: f32[n, n]):
    for i in seq(0, n):
        for j in seq(0, n):
            for k in seq(0, n):
                C[i, j] += A[i, k] * B[k, j]


def test_stage_mem_of_a_point_gives_a_scalar():
    p = stage_mem(matmul, "for k in _: _", "C[i, j]", "res")
    assert_body(p, """
        for i in seq(0, n):
            for j in seq(0, n):
                res: f32 @ DRAM
                res = C[i, j]
                for k in seq(0, n):
                    res += A[i, k] * B[k, j]
                C[i, j] = res
    """)
    equiv(matmul, checked(p))
    q = stage_mem(matmul, "for k in _: _", "C[i, j]", "res", accum=True)
    assert "res = 0.0" in body(q) and "C[i, j] += res" in body(q)
    equiv(matmul, checked(q))


@proc
def asum(n: size, x: [f32][n], result: f32):
    result = 0.0
    for i in seq(0, n):
        result += select(0.0, x[i], x[i], -x[i])


def test_stage_mem_of_a_scalar_buffer_and_of_an_element_read_twice():
    p = stage_mem(asum, "for i in _: _", "result", "acc")
    assert_body(p, """
        result = 0.0
        acc: f32 @ DRAM
        acc = result
        for i in seq(0, n):
            acc += select(0.0, x[i], x[i], -x[i])
        result = acc
    """)
    equiv(asum, checked(p))
    q = stage_mem(asum, "result += _", "x[i]", "xi")
    assert "result += select(0.0, xi, xi, -xi)" in body(q)
    assert "x[i] = xi" not in body(q)  # only read: no store
    equiv(asum, checked(q))


@proc
def copy1d(n: size, x: f32[n], y: f32[n]):
    for i in seq(0, n):
        x[i] = y[i]


def test_stage_mem_guards_the_copies_of_a_window_that_may_leave_the_buffer():
    tiled = divide_loop(copy1d, "i", 4, ["io", "ii"], tail="guard")
    p = stage_mem(tiled, "for ii in _: _", "y[4 * io:4 * io + 4]", "yReg")
    assert_body(p, """
        for io in seq(0, (n + 3) / 4):
            yReg: f32[4] @ DRAM
            for i0 in seq(0, 4):
                if 4 * io + i0 < n:
                    yReg[i0] = y[4 * io + i0]
            for ii in seq(0, 4):
                if 4 * io + ii < n:
                    x[4 * io + ii] = yReg[4 * io + ii - 4 * io]
    """)
    equiv(copy1d, checked(p), sizes={"n": [1, 3, 4, 6]})
    q = stage_mem(tiled, "for ii in _: _", "x[4 * io:4 * io + 4]", "xReg")
    b = body(q)
    # no load: the block writes each element the guarded copy back reads
    assert b.count("if 4 * io + i0 < n:") == 1 and "x[4 * io + i0] = xReg[i0]" in b
    equiv(copy1d, checked(q), sizes={"n": [1, 3, 4, 6]})


def test_stage_mem_accum_of_a_window_that_may_leave_the_buffer():
    @proc
    def axpy(n: size, x: f32[n], y: f32[n]):
        for i in seq(0, n):
            y[i] += x[i]

    tiled = divide_loop(axpy, "i", 5, ["io", "ii"], tail="guard")
    p = stage_mem(tiled, "for ii in _: _", "y[5*io:5*io+5]", "yReg", accum=True)
    assert_body(p, """
        for io in seq(0, (n + 4) / 5):
            yReg: f32[5] @ DRAM
            for i0 in seq(0, 5):
                yReg[i0] = 0.0
            for ii in seq(0, 5):
                if 5 * io + ii < n:
                    yReg[5 * io + ii - 5 * io] += x[5 * io + ii]
            for i0 in seq(0, 5):
                if 5 * io + i0 < n:
                    y[5 * io + i0] += yReg[i0]
    """)
    equiv(axpy, checked(p), sizes={"n": [2, 5, 7]})


def test_stage_mem_guards_a_point_that_may_leave_the_buffer():
    @proc
    def under_if(n: size, m: size, x: f32[n], y: f32[n]):
        assert m >= n
        for i in seq(0, m):
            if i < n:
                y[i] = x[i]

    p = stage_mem(under_if, under_if.find_loop("i").body(), "x[i]", "tmp")
    assert_body(p, """
        assert m >= n
        for i in seq(0, m):
            tmp: f32 @ DRAM
            if i < n:
                tmp = x[i]
            if i < n:
                y[i] = tmp
    """)
    equiv(under_if, checked(p))


def test_stage_mem_rewrites_windows_the_block_passes_to_calls():
    @proc
    def add_one(x: [f32][4]):
        for i in seq(0, 4):
            x[i] += 1.0

    @proc
    def calls(n: size, A: f32[n, 8]):
        for i in seq(0, n):
            add_one(A[i, 4:8])
            add_one(A[i, 2:6])

    p = stage_mem(calls, calls.find_loop("i").body(), "A[i, 0:8]", "row")
    b = body(p)
    assert "add_one(row[4:8])" in b and "add_one(row[2:6])" in b
    assert "A[i, i0] = row[i0]" in b
    equiv(calls, checked(p))


def test_stage_mem_refuses_accesses_outside_the_window():
    msg = refused(lambda: stage_mem(sqmat, "for ii in _: _", "B[4*i:4*i+4, 4*k:4*k+4]", "Bt"),
                  "the block accesses B[4 * k + kk, 4 * j + jj] outside the window "
                  "B[4 * i:4 * i + 4, 4 * k:4 * k + 4]", "stage a larger window",
                  prim="stage_mem")
    assert msg.splitlines()[2].strip() == "for ii in seq(0, 4):"
    refused(lambda: stage_mem(matmul, "for k in _: _", "A[i, 0:n - 1]", "Ar"),
            "the block accesses A[i, k] outside the window A[i, 0:n - 1]")
    refused(lambda: stage_mem(matmul, "for k in _: _", "C[i, 0]", "c"),
            "the block accesses C[i, j] outside the window C[i, 0]")


def test_stage_mem_leaves_accesses_that_never_fall_in_the_window():
    """As Exo: an access of the buffer outside the window whenever it runs is not
    staged (it cannot see or change a staged element); one that may fall in or out is
    still refused."""
    @proc
    def running(n: size, y: f32[n], x: f32[n]):
        assert n > 2
        assert (n - 2) % 2 == 0
        for io in seq(0, (n - 2) / 2):
            y[2 + 2 * io] = y[1 + 2 * io] + x[2 * io]
            y[3 + 2 * io] = y[2 * io] + y[2 + 2 * io]

    p = stage_mem(running, running.find_loop("io").body(), "y[2 + 2 * io:4 + 2 * io]", "t")
    b = body(p)
    assert "= y[1 + 2 * io] + x[2 * io]" in b and "= y[2 * io] + t[" in b
    equiv(running, checked(p), sizes={"n": [4, 6, 8]})

    @proc
    def shifted(n: size, y: f32[n]):
        for i in seq(0, n - 1):
            y[i] = y[i + 1] * 2.0

    refused(lambda: stage_mem(shifted, "for i in _: _", "y[0:2]", "t"),
            "the block accesses y[i] outside the window y[0:2]", prim="stage_mem")


def test_stage_mem_accum_refuses_a_block_that_reads_the_buffer():
    @proc
    def reads_it(n: size, x: f32[n], y: f32[n]):
        for i in seq(0, n):
            y[i] += x[i]
            x[i] = y[i]

    refused(lambda: stage_mem(reads_it, "for i in _: _", "y[0:n]", "ys", accum=True),
            "accum=True needs a block that only reduces into 'y' (+=), but it also reads it",
            prim="stage_mem")

    @proc
    def zero_staged(n: size, x: f32[n], y: f32[n]):  # what accum=True would give
        ys: f32[n]
        for i0 in seq(0, n):
            ys[i0] = 0.0
        for i in seq(0, n):
            ys[i] += x[i]
            x[i] = ys[i]
        for i0 in seq(0, n):
            y[i0] += ys[i0]

    differs(reads_it, zero_staged)
    p = stage_mem(reads_it, "for i in _: _", "y[0:n]", "ys")  # without accum: fine
    equiv(reads_it, checked(p))


@proc
def via_alias(A: f32[8], B: f32[8]):
    y = A[0:4]
    for i in seq(0, 4):
        y[i] = B[i]
        B[i + 4] = A[i]


def test_stage_mem_refuses_a_block_that_reaches_the_buffer_through_a_window():
    refused(lambda: stage_mem(via_alias, "for i in _: _", "A[0:4]", "As"),
            "the block accesses 'A' through the window 'y', which would bypass the staging "
            "buffer", "inline_window it first", prim="stage_mem")

    @proc
    def staged(A: f32[8], B: f32[8]):  # what staging would give: reads stale copies
        y = A[0:4]
        As: f32[4]
        for i0 in seq(0, 4):
            As[i0] = A[i0]
        for i in seq(0, 4):
            y[i] = B[i]
            B[i + 4] = As[i]

    differs(via_alias, staged)


def test_stage_mem_other_refusals():
    @proc
    def whole_call(n: size, x: f32[n]):
        for i in seq(0, n):
            bump_all(n, x)

    refused(lambda: stage_mem(whole_call, "for i in _: _", "x[0:n]", "xs"),
            "'x' is passed whole to a call or its strides are read", prim="stage_mem")
    refused(lambda: stage_mem(whole_call, "for i in _: _", 5, "xs"),
            "expected a window string")
    refused(lambda: stage_mem(whole_call, "for i in _: _", "n", "xs"),
            "is not a window, point or scalar buffer")
    refused(lambda: stage_mem(whole_call, "for i in _: _", "x[0:n]", "2x"),
            "'2x' is not a valid name")


@proc
def bump_all(n: size, x: f32[n]):
    x[0] += 1.0


@config
class Cfg:
    k: index


@proc
def moving(A: f32[8]):
    Cfg.k = 1
    for i in seq(0, 2):
        A[Cfg.k % 4 + i] = 1.0
        Cfg.k = 3


@proc
def still(A: f32[8]):
    Cfg.k = 1
    for i in seq(0, 2):
        A[Cfg.k % 4 + i] = 1.0


def test_stage_mem_refuses_a_window_that_reads_a_configuration_the_block_writes():
    refused(lambda: stage_mem(moving, "for i in _: _", "A[Cfg.k % 4:Cfg.k % 4 + 2]", "As"),
            "the window reads Cfg.k, which the block writes", prim="stage_mem")
    p = stage_mem(still, "for i in _: _", "A[Cfg.k % 4:Cfg.k % 4 + 2]", "As")
    assert "As[Cfg.k % 4 + i - Cfg.k % 4] = 1.0" in body(p)
    equiv(still, checked(p))


def test_stage_mem_refuses_a_block_that_does_not_use_the_buffer():
    @proc
    def two(n: size, x: f32[n], y: f32[n]):
        for i in seq(0, n):
            x[i] = 0.0

    refused(lambda: stage_mem(two, "for i in _: _", "y[0:n]", "ys"),
            "the block does not access 'y'; there is nothing to stage", prim="stage_mem")


def test_stage_mem_of_a_point_refuses_windows_of_it():
    @proc
    def add_one1(x: [f32][1]):
        x[0] += 1.0

    @proc
    def windowed(n: size, x: f32[n]):
        for i in seq(0, n):
            add_one1(x[i:i + 1])

    refused(lambda: stage_mem(windowed, windowed.find_loop("i").body(), "x[i]", "xi"),
            "a scalar staging buffer cannot give; stage a slice such as x[i:i+1]")
    p = stage_mem(windowed, windowed.find_loop("i").body(), "x[i:i+1]", "xi")
    equiv(windowed, checked(p))


# ---------------------------------------------------------------- bind_expr


@proc
def vadd(n: size, x: f32[n], y: f32[n], z: f32[n]):
    for i in seq(0, n):
        z[i] = x[i] + y[i]


def test_bind_expr_one_expression():
    p = bind_expr(vadd, "x[_] + y[_]", "s")
    assert_body(p, """
        for i in seq(0, n):
            s: f32 @ DRAM
            s = x[i] + y[i]
            z[i] = s
    """)
    equiv(vadd, checked(p))


@proc
def out_inp(inp: i32[16], out: i32[16]):
    for k in seq(0, 16):
        out[k] += out[k] + inp[k]
        out[k] = out[k] * inp[k]


def test_bind_expr_several_cursors():
    p = bind_expr(out_inp, out_inp.find("inp[_]", many=True), "inp_r")
    assert_body(p, """
        for k in seq(0, 16):
            inp_r: i32 @ DRAM
            inp_r = inp[k]
            out[k] += out[k] + inp_r
            out[k] = out[k] * inp_r
    """)
    equiv(out_inp, checked(p))
    q = bind_expr(p, p.find("out[_]"), "out_r")  # only the first read of out: fine
    assert "out[k] += out_r + inp_r" in body(q) and "out[k] = out[k] * inp_r" in body(q)
    equiv(out_inp, checked(q))


def test_bind_expr_refuses_when_a_statement_between_writes_what_it_reads():
    refused(lambda: bind_expr(out_inp, out_inp.find("out[_]", many=True), "o"),
            "out[k] may change between its uses: a statement reduces into out[k]",
            prim="bind_expr")

    @proc
    def bound_both(inp: i32[16], out: i32[16]):  # what binding both reads would give
        for k in seq(0, 16):
            o: i32
            o = out[k]
            out[k] += o + inp[k]
            out[k] = o * inp[k]

    differs(out_inp, bound_both)


@proc
def cse(a: f32, b: f32, c: f32):
    b = 2.0 * a  # noqa: F841
    for i in seq(0, 5):
        c += 2.0 * a
        a = 2.0 * a


def test_bind_expr_refuses_a_loop_that_changes_the_expression_between_iterations():
    refused(lambda: bind_expr(cse, cse.find("2.0 * a", many=True), "t"),
            "2.0 * a may change between its uses: a statement writes a", prim="bind_expr")
    refused(lambda: bind_expr(cse, cse.find("2.0 * a", many=True)[:2], "t"),
            "2.0 * a may change between its uses")
    # both inside the loop: bound again in every iteration, before the write
    q = bind_expr(cse, cse.find("2.0 * a", many=True)[1:], "t")
    assert "    t = 2.0 * a\n    c += t\n    a = t" in body(q)
    equiv(cse, checked(q))
    p = bind_expr(cse, cse.find("2.0 * a"), "t")  # the first one alone is fine
    assert body(p).startswith("t: f32 @ DRAM\nt = 2.0 * a\nb = t\n")
    equiv(cse, checked(p))


def test_bind_expr_sees_writes_through_a_window():
    @proc
    def via_window(A: f32[8], B: f32[8]):
        w = A[0:4]
        B[0] = A[0] * 2.0
        w[0] = 5.0
        B[1] = A[0] * 2.0

    refused(lambda: bind_expr(via_window, via_window.find("A[0] * 2.0", many=True), "t"),
            "A[0] * 2.0 may change between its uses: a statement writes A[0 + 0]",
            prim="bind_expr")

    @proc
    def bound(A: f32[8], B: f32[8]):  # what binding both would give
        w = A[0:4]
        t: f32
        t = A[0] * 2.0
        B[0] = t
        w[0] = 5.0
        B[1] = t

    differs(via_window, bound)


def test_bind_expr_across_loops_binds_before_the_first():
    @proc
    def twos(x: f32[5], y: f32[5]):
        for i in seq(0, 5):
            x[i] = 2.0
        for i in seq(0, 5):
            y[i] = 2.0

    p = bind_expr(twos, twos.find("2.0", many=True), "two")
    assert_body(p, """
        two: R @ DRAM
        two = 2.0
        for i in seq(0, 5):
            x[i] = two
        for i in seq(0, 5):
            y[i] = two
    """)
    equiv(twos, checked(p))


def test_bind_expr_given_a_statement_among_the_expressions():
    @proc
    def same_i(x: f32[5], y: f32[5]):
        for i in seq(0, 5):
            x[i] = y[i] * 2.0
            y[i] = y[i] * 3.0

    p = bind_expr(same_i, same_i.find("y[i] * 2.0"), "t")
    equiv(same_i, checked(p))
    curs = [same_i.find("y[i] * 2.0"), same_i.find_loop("i")]
    refused(lambda: bind_expr(same_i, curs, "t"), "expected an expression, got a statement")


def test_bind_expr_before_a_loop_and_of_alike_expressions_in_two_loops():
    @proc
    def in_and_after(x: f32[5], y: f32[5], a: f32):
        for i in seq(0, 5):
            x[i] = a * 2.0
        y[0] = a * 2.0

    p = bind_expr(in_and_after, in_and_after.find("a * 2.0", many=True), "t")
    assert body(p).startswith("t: f32 @ DRAM\nt = a * 2.0\nfor i in seq(0, 5):")
    equiv(in_and_after, checked(p))

    @proc
    def uses_i(x: f32[5], y: f32[5]):
        for i in seq(0, 5):
            x[i] = y[i] * 2.0
        for i in seq(0, 5):
            x[i] = y[i] * 2.0

    # the two expressions name different loop variables: they are not the same expression
    refused(lambda: bind_expr(uses_i, uses_i.find("y[i] * 2.0", many=True), "t"),
            "the expressions differ", "they read variables of the same name")


def test_bind_expr_keeps_the_precision_a_literal_is_computed_in():
    @proc
    def tenth(x: f64[4]):
        for i in seq(0, 4):
            x[i] = 0.1 * 3.0

    p = bind_expr(tenth, "0.1", "c")
    assert "c: f64 @ DRAM" in body(p)
    equiv(tenth, checked(p))


def test_bind_expr_of_a_literal_takes_the_precision_of_the_operation_around_it():
    @proc
    def ints(A: i32[4]):
        A[0] = A[1] + 1

    p = bind_expr(ints, [ints.body()[0].rhs().rhs()], "one")
    assert "one: i32 @ DRAM" in body(p)
    equiv(ints, checked(p))

    @proc
    def narrow(x: f32[4], y: f64[4]):
        for i in seq(0, 4):
            y[i] = x[i] * 0.1

    q = bind_expr(narrow, "0.1", "c")
    assert "c: f32 @ DRAM" in body(q)  # x[i] * 0.1 is an f32 product
    equiv(narrow, checked(q))

    @proc
    def half(A: i32[4]):
        A[0] = A[1] * 2.5

    # the literal adopts i32 (semantics.md#literal-type): A[1] * 2, and so does the scalar
    r = bind_expr(half, "2.5", "h")
    assert "h: i32 @ DRAM" in body(r)
    assert r.find("A[0] = _")._node().rhs.type == T.I32
    equiv(half, checked(r))

    @proc
    def kept_exact(A: i32[4]):  # what binding it in f64 (as before) gave: A[1] * 2.5
        h: f64
        h = 2.5
        A[0] = A[1] * h

    differs(half, kept_exact)


def test_bind_expr_argument_errors():
    refused(lambda: bind_expr(vadd, "i", "t"),
            "only data expressions can be bound; i is a index value")
    refused(lambda: bind_expr(vadd, vadd.find("x[_]"), "1t"), "'1t' is not a valid name")
    refused(lambda: bind_expr(vadd, vadd.find_loop("i"), "t"),
            "expected an expression, got a statement", prim="bind_expr")


# ---------------------------------------------------------------- set_memory


class SCRATCH(DRAM):
    """DRAM under another name: a memory annotation that compiles like DRAM."""


def test_set_memory_of_an_argument_and_an_allocation():
    p = set_memory(vadd, "z", DRAM_STATIC)
    assert "z: f32[n] @ DRAM_STATIC" in str(p)
    assert p.is_eq(vadd)

    @proc
    def with_tmp(x: f32[8]):
        t: f32[8]
        for i in seq(0, 8):
            t[i] = x[i]
        for i in seq(0, 8):
            x[i] = t[i] * 2.0

    q = set_memory(with_tmp, "t : _", SCRATCH)
    assert "t: f32[8] @ SCRATCH" in body(q)
    equiv(with_tmp, checked(q))


def test_set_memory_refuses_what_is_not_a_memory():
    refused(lambda: set_memory(vadd, "z", 3), "expected a Memory subclass, got 3")
    refused(lambda: set_memory(vadd, "z", "DRAM"), "expected a Memory subclass, got 'DRAM'")
    assert issubclass(SCRATCH, Memory)


# ---------------------------------------------------------------- set_precision


@proc
def staged_sum(n: size, x: f32[n], y: f32[n]):
    t: f32[n]
    for i in seq(0, n):
        t[i] = x[i] * 0.5
    w = t[0:n]
    for i in seq(0, n):
        y[i] = w[i] + t[i]


def test_set_precision_of_an_allocation_retypes_its_uses_and_windows():
    p = set_precision(staged_sum, "t : _", "f64")
    assert "t: f64[n] @ DRAM" in body(p)
    ir = p._loopir_proc
    assert ir.body[1].body[0].type == T.F64  # the write
    assert ir.body[2].rhs.type.basetype() == T.F64  # the window w = t[0:n]
    read_w = ir.body[3].body[0].rhs.lhs
    assert read_w.type == T.F64  # a read through the window
    equiv(staged_sum, checked(p))


def test_set_precision_of_an_argument():
    p = set_precision(vadd, vadd.args()[3], "f64")
    assert "z: f64[n] @ DRAM" in str(p) and p.is_eq(vadd)
    assert p.find("z[_] = _")._node().type == T.F64
    q = set_precision(vadd, "z", "i32")
    assert "z: i32[n] @ DRAM" in str(q)


def test_set_precision_retypes_the_operations_that_read_it():
    @proc
    def mixed(A: f32[4]):
        t: f32
        t = 3.0
        A[0] = A[1] - t

    p = set_precision(mixed, "t : _", "f64")
    assert p.find("A[0] = _")._node().rhs.type == T.F64  # f32 - f64: as the parser types it
    equiv(mixed, checked(p))


@proc
def helper_f(n: size, x: [f32][n]):
    x[0] += 1.0


@proc
def passes_t(A: f32[4]):
    t: f32[4]
    for i in seq(0, 4):
        t[i] = A[i]
    helper_f(4, t[0:4])  # <- call of helper_f
    for i in seq(0, 4):
        A[i] = t[i]


def test_set_precision_refuses_a_buffer_a_call_takes_at_its_precision():
    msg = refused(lambda: set_precision(passes_t, "t : _", "f64"),
                  "'t' is passed to helper_f, whose parameter 'x' holds f32",
                  prim="set_precision")
    assert f":{marked_line(__file__, 'call of helper_f')}:" in msg.splitlines()[0]
    assert "f32" in str(set_precision(passes_t, "t : _", "f32"))  # the same precision: fine


def test_set_precision_refuses_unknown_precisions():
    refused(lambda: set_precision(vadd, "z", "f99"), "unknown precision 'f99'")
    refused(lambda: set_precision(vadd, "z", 32), "unknown precision 32")


# ---------------------------------------------------------------- set_window


def test_set_window():
    p = set_window(vadd, "x", True)
    assert "x: [f32][n] @ DRAM" in str(p) and p.is_eq(vadd)
    equiv(vadd, checked(p))
    q = set_window(p, "x", False)
    assert "x: f32[n] @ DRAM" in str(q)


def test_set_window_refuses_an_argument_a_call_takes_dense():
    @proc
    def dense4(x: f32[4]):
        x[0] = 1.0

    @proc
    def passes_a(A: f32[4]):
        dense4(A)

    refused(lambda: set_window(passes_a, "A", True),
            "'A' is passed to dense4, whose parameter 'x' is a dense tensor, not a window",
            prim="set_window")


def test_set_window_refusals():
    refused(lambda: set_window(staged_sum, "t : _"), "only arguments can be windows")
    refused(lambda: set_window(vadd, "n"), "'n' is a scalar, not a tensor")


def test_a_window_of_unknown_extent_partly_written_is_still_loaded():
    # fuzzer case 467 (seed 0): the block writes B[j] only, the copy back stores all of
    # B[0:N]; with an extent that is not a small literal nothing proves each element
    # written, so the load must stay (it was left out: the other elements came back as
    # whatever the staging buffer held)
    @proc
    def part(N: size, B: f32[N]):
        assert N >= 2  # the range seq(1, N - 1) must not be negative (loop-range)
        for j in seq(1, N - 1):
            B[j] = 2.0

    p = stage_mem(part, part.find("B[j] = _"), "B[0:N]", "s")
    assert "s[i0] = B[i0]" in str(p)
    equiv(part, p, sizes=[{"N": 2}, {"N": 5}])
