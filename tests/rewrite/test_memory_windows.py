"""Windows and staging (issue 8, class 3): stage_mem, set_precision and set_memory where
the staged or annotated buffer is reached through windows.

Causes pinned here: a window the staged block defines outlives the block; a window
variable is staged while the block reaches its memory under another name; a
one-element slice falls on a point of the staged window and would lose its dimension;
a window of a window is passed to a call. Each has the sound rewrite (accepted, with
equivalence under the interpreter and compiled C), and the unsafe one refused with its
reason (where it matters, the would-be result is written out and shown to differ)."""

from __future__ import annotations

from scheduling_checks import assert_body, body, differs, equiv, refused

from knit import proc
from knit.stdlib.scheduling import set_memory, set_precision, stage_mem


def checked(p):
    p._check()
    return p


# ---------------------------------------------------------------- a window the block defines


@proc
def win_after(x: f32[8], y: f32[8]):
    w = x[0:4]
    y[0] = w[0]
    w[1] = y[2]
    w[2] = y[3]


def test_stage_mem_refuses_a_window_it_defines_that_is_used_after_the_block():
    blk = win_after.find("w = _").expand(0, 1)
    msg = refused(lambda: stage_mem(win_after, blk, "x[0:4]", "xs"),
                  "the block defines the window 'w' of 'x', which is used after the block",
                  "end the block after the last use of 'w', or inline_window it first",
                  prim="stage_mem")
    assert msg.splitlines()[2].strip() == "w = x[0:4]"

    @proc
    def staged(x: f32[8], y: f32[8]):  # what was built before: w[1] lands in a dead copy
        xs: f32[4]
        for i0 in seq(0, 4):
            xs[i0] = x[i0]
        w = xs[0:4]
        y[0] = w[0]
        for i0 in seq(0, 4):
            x[i0] = xs[i0]
        w[1] = y[2]
        w[2] = y[3]

    differs(win_after, staged)


def test_stage_mem_of_a_block_holding_a_window_and_all_its_uses():
    p = stage_mem(win_after, win_after.body(), "x[0:4]", "xs")
    assert_body(p, """
        xs: f32[4] @ DRAM
        for i0 in seq(0, 4):
            xs[i0] = x[i0]
        w = xs[0:4]
        y[0] = w[0]
        w[1] = y[2]
        w[2] = y[3]
        for i0 in seq(0, 4):
            x[i0] = xs[i0]
    """)
    equiv(win_after, checked(p))


def test_stage_mem_refuses_a_window_of_a_window_it_defines_used_after_the_block():
    @proc
    def chain(x: f32[8], y: f32[8]):
        w = x[0:4]
        v = w[1:3]
        y[0] = v[0]
        v[1] = y[1]

    blk = chain.find("w = _").expand(0, 2)
    refused(lambda: stage_mem(chain, blk, "x[0:4]", "xs"),
            "the block defines the window 'v' of 'x', which is used after the block")


# ---------------------------------------------------------------- staging a window variable


@proc
def via_base(x: f32[8], y: f32[8]):
    w = x[0:8]
    for i in seq(0, 8):
        w[i] = y[i]
        x[i] = 2.0 * y[i]  # <- a write that bypasses w


def test_stage_mem_of_a_window_refuses_direct_writes_of_its_buffer():
    msg = refused(lambda: stage_mem(via_base, "for i in _: _", "w[0:8]", "ws"),
                  "the block accesses 'x' directly, not through the window 'w', which would "
                  "bypass the staging buffer: it writes x[i] at line",
                  "which may lie in the staged window w[0:8]",
                  "stage a window of 'x' instead (inline_window 'w' first)", prim="stage_mem")
    assert "for i in seq(0, 8):" in msg

    @proc
    def staged(x: f32[8], y: f32[8]):  # what was built before: the copy back undoes x[i]
        w = x[0:8]
        ws: f32[8]
        for i0 in seq(0, 8):
            ws[i0] = w[i0]
        for i in seq(0, 8):
            ws[i] = y[i]
            x[i] = 2.0 * y[i]
        for i0 in seq(0, 8):
            w[i0] = ws[i0]

    differs(via_base, staged)


def test_stage_mem_of_a_window_refuses_reads_of_its_buffer_the_block_overwrites():
    @proc
    def reads_base(x: f32[8], y: f32[8]):
        w = x[2:6]
        for i in seq(0, 4):
            w[i] = y[i]
            y[i + 4] = x[i + 2]

    refused(lambda: stage_mem(reads_base, "for i in _: _", "w[0:4]", "ws"),
            "the block accesses 'x' directly", "it reads x[i + 2]")


def test_stage_mem_of_a_window_refuses_another_window_of_its_buffer():
    @proc
    def two_windows(x: f32[8], y: f32[8]):
        w = x[0:4]
        v = x[2:6]
        for i in seq(0, 4):
            w[i] = y[i]
            v[i] = y[i + 4]

    refused(lambda: stage_mem(two_windows, "for i in _: _", "w[0:4]", "ws"),
            "the block accesses 'x' through the window 'v', which would bypass the staging "
            "buffer: it writes x[2 + i]", "inline_window it first", prim="stage_mem")


def test_stage_mem_of_a_window_when_the_block_touches_its_buffer_elsewhere():
    @proc
    def apart(x: f32[8], y: f32[8]):
        w = x[0:4]
        for i in seq(0, 4):
            w[i] = y[i]
            x[i + 4] = 2.0 * y[i]  # outside the staged window: unaffected

    p = stage_mem(apart, "for i in _: _", "w[0:4]", "ws")
    assert_body(p, """
        w = x[0:4]
        ws: f32[4] @ DRAM
        for i in seq(0, 4):
            ws[i] = y[i]
            x[i + 4] = 2.0 * y[i]
        for i0 in seq(0, 4):
            w[i0] = ws[i0]
    """)
    equiv(apart, checked(p))


def test_stage_mem_of_a_block_that_only_reads_a_buffer_and_a_window_of_it():
    @proc
    def both_read(x: f32[8], y: f32[8]):
        w = x[0:4]
        for i in seq(0, 4):
            y[i] = w[i] + x[i]

    p = stage_mem(both_read, "for i in _: _", "x[0:4]", "xs")  # nothing written: no bypass
    assert "y[i] = w[i] + xs[i]" in body(p)
    equiv(both_read, checked(p))


# ---------------------------------------------------------------- windows passed to callees


@proc
def sum_into(n: size, a: [f32][n], out: [f32][1]):
    for i in seq(0, n):
        out[0] += a[i]


@proc
def add_one(n: size, a: [f32][n]):
    for i in seq(0, n):
        a[i] = a[i] + 1.0


@proc
def via_callee(x: f32[4, 8], y: f32[4]):
    for r in seq(0, 4):
        sum_into(8, x[r, 0:8], y[r:r + 1])


def test_stage_mem_stores_nothing_back_when_callees_only_read_the_window():
    # sum_into only reads `a`: the staged copy of x is never written, so no copy back
    # (which would write the caller's input, a read-only array or one another thread reads)
    p = stage_mem(via_callee, via_callee.body(), "x[0:4, 0:8]", "xs")
    assert_body(p, """
        xs: f32[4, 8] @ DRAM
        for i0 in seq(0, 4):
            for i1 in seq(0, 8):
                xs[i0, i1] = x[i0, i1]
        for r in seq(0, 4):
            sum_into(8, xs[r, 0:8], y[r:r + 1])
    """)
    equiv(via_callee, checked(p))


def test_stage_mem_stores_back_what_a_callee_writes_through_the_window():
    @proc
    def bumps(x: f32[4, 8]):
        for r in seq(0, 4):
            add_one(8, x[r, 0:8])

    p = stage_mem(bumps, bumps.body(), "x[0:4, 0:8]", "xs")
    assert "x[i0, i1] = xs[i0, i1]" in body(p)  # add_one writes `a`: copied back
    equiv(bumps, checked(p))

    @proc
    def no_store(x: f32[4, 8]):  # what leaving out the copy back would compute
        xs: f32[4, 8] @ DRAM
        for i0 in seq(0, 4):
            for i1 in seq(0, 8):
                xs[i0, i1] = x[i0, i1]
        for r in seq(0, 4):
            add_one(8, xs[r, 0:8])

    differs(bumps, no_store)


def test_stage_mem_of_a_window_only_read_still_refuses_a_write_that_bypasses_it():
    @proc
    def write_then_read(x: f32[4, 8], y: f32[4]):
        w = x[0:4, 0:8]
        for r in seq(0, 4):
            x[3, r] = 0.0  # row 3, read through w at r = 3: a copy made before the loop
            sum_into(8, w[r, 0:8], y[r:r + 1])  # would miss these writes

    refused(lambda: stage_mem(write_then_read, "for r in _: _", "w[0:4, 0:8]", "ws"),
            "the block accesses 'x' directly, not through the window 'w'", prim="stage_mem")


# ---------------------------------------------------------------- one-element windows


@proc
def bump1(a: [f32][1]):
    a[0] = a[0] + 1.0


@proc
def bump_columns(A: f32[8, 8]):
    for i in seq(0, 8):
        for k in seq(0, 8):
            bump1(A[i:i + 1, k])


def test_stage_mem_refuses_a_slice_that_falls_on_a_staged_point():
    refused(lambda: stage_mem(bump_columns, "for k in _: _", "A[i, 0:8]", "row"),
            "the block takes the window A[i:i + 1, k], whose slice i:i + 1 falls on the point "
            "i of the staged window A[i, 0:8]: the staging buffer has no dimension there, and "
            "the window would lose one", "stage a slice there, e.g. A[i:i + 1, 0:8]",
            prim="stage_mem")


def test_stage_mem_of_a_slice_keeps_the_window_dimension():
    p = stage_mem(bump_columns, "for k in _: _", "A[i:i + 1, 0:8]", "row")
    assert "bump1(row[i - i:i + 1 - i, k])" in body(p)
    equiv(bump_columns, checked(p))
    assert p.c_code_str()


# ---------------------------------------------------------------- annotations through windows


@proc
def takes_f32(a: [f32][2]):
    a[0] = a[1] * 2.0


@proc
def window_chain(x: f32[8]):
    w = x[0:4]
    v = w[1:3]
    takes_f32(v)


def test_set_precision_refuses_a_window_of_a_window_passed_to_a_call():
    refused(lambda: set_precision(window_chain, "x", "f64"),
            "'x' is passed (as its window 'v') to takes_f32, whose parameter 'a' holds f32",
            prim="set_precision")
    p = set_precision(window_chain, "x", "f32")  # the same precision: fine
    equiv(window_chain, checked(p))


def test_set_memory_refuses_a_window_passed_to_a_call_in_another_memory():
    from knit import Memory

    class Elsewhere(Memory):
        """A memory that is not DRAM, where the callee's parameter lives."""

    refused(lambda: set_memory(window_chain, "x", Elsewhere), "'x' is passed (as its window "
            "'v') to takes_f32, whose argument 'a' lives in DRAM, not Elsewhere",
            prim="set_memory")


# ---------------------------------------------------------------- strides of staged windows


@proc
def by_stride(x: f32[4, 8]):
    for j in seq(0, 8):
        w = x[0:4, j]
        if stride(w, 0) == 8:
            w[0] = 1.0


def test_stage_mem_refuses_a_block_reading_the_strides_of_a_window_it_takes():
    refused(lambda: stage_mem(by_stride, by_stride.find_loop("j").body(), "x[0:4, j:j + 1]",
                              "xs"),
            "the block reads stride(w, 0) of a window of 'x', which would be a window of "
            "the staging buffer, with other strides", "inline_window it first",
            prim="stage_mem")

    @proc
    def staged(x: f32[4, 8]):  # what was built before: the staged column has stride 1
        for j in seq(0, 8):
            xs: f32[4, 1]
            for i0 in seq(0, 4):
                xs[i0, 0] = x[i0, j]
            w = xs[0:4, 0]
            if stride(w, 0) == 8:
                w[0] = 1.0
            for i0 in seq(0, 4):
                x[i0, j] = xs[i0, 0]

    differs(by_stride, staged)
    p = stage_mem(by_stride, by_stride.find_loop("j").body(), "x[0:4, 0:8]", "xs")
    equiv(by_stride, checked(p))  # whole rows: the strides are the same


@proc
def set_first_if_rows(a: [f32][4]):
    if stride(a, 0) == 8:
        a[0] = 1.0


@proc
def first_if_row_strides(a: [f32][4]):
    assert stride(a, 0) == 8
    a[0] = 1.0


def test_stage_mem_refuses_a_window_passed_to_a_callee_that_reads_its_strides():
    @proc
    def calls(x: f32[4, 8]):
        for j in seq(0, 8):
            set_first_if_rows(x[0:4, j])

    refused(lambda: stage_mem(calls, calls.find_loop("j").body(), "x[0:4, j:j + 1]", "xs"),
            "set_first_if_rows reads the strides of its parameter 'a', which would be a "
            "window of the staging buffer, with other strides than 'x'", prim="stage_mem")
    p = stage_mem(calls, "for j in _: _", "x[0:4, 0:8]", "xs")  # the same strides: fine
    equiv(calls, checked(p))

    @proc
    def asserts(x: f32[4, 8]):
        for j in seq(0, 8):
            first_if_row_strides(x[0:4, j])

    refused(lambda: stage_mem(asserts, asserts.find_loop("j").body(), "x[0:4, j:j + 1]",
                              "xs"),
            "the new call would not be valid", "stride", prim="stage_mem")
    p = stage_mem(asserts, asserts.find_loop("j").body(), "x[0:4, 0:8]", "xs")
    equiv(asserts, checked(p))  # whole rows: the assert still holds
