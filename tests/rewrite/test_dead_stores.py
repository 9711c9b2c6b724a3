"""eliminate_dead_stores deletes a statement whose writes nothing reads (locations of
buffers the procedure allocates that no other statement in their scope reads): the
rewrite, equivalence (interpreter and C), and refusals."""

from __future__ import annotations

from scheduling_checks import assert_body, equiv, refused

from knit import proc
from knit.stdlib.scheduling import eliminate_dead_stores


@proc
def copy_unread(n: size, x: f32[n], y: f32[n]):
    t: f32[n]
    for i in seq(0, n):
        t[i] = x[i]
    for i in seq(0, n):
        y[i] = x[i] + 1.0


def test_a_copy_nothing_reads_is_deleted():
    p = eliminate_dead_stores(copy_unread, copy_unread.find_loop("i"))
    assert_body(p, """\
        t: f32[n] @ DRAM
        pass
        for i in seq(0, n):
            y[i] = x[i] + 1.0""")
    equiv(copy_unread, p, sizes={"n": [1, 3, 8]})


@proc
def packed_with_a_partial_sliver(n: size, x: f32[n], y: f32[n]):
    # a packed copy of whole slivers of 4 and of the last partial one, which the
    # kernel (here: a sum of each whole sliver) never reads
    t: f32[(n + 3) / 4, 4]
    for io in seq(0, (n + 3) / 4):
        if 4 + 4 * io <= n:
            for ii in seq(0, 4):
                t[io, ii] = x[4 * io + ii]
        else:
            for ii in seq(0, 4):
                if 4 * io + ii < n:
                    t[io, ii] = x[4 * io + ii]
    for io in seq(0, n / 4):
        for ii in seq(0, 4):
            y[4 * io] += t[io, ii]


def test_the_partial_sliver_no_kernel_reads_is_deleted():
    p = packed_with_a_partial_sliver
    q = eliminate_dead_stores(p, p.find("for ii in _: _ #1"))
    assert "if 4 * io + ii < n" not in str(q)
    assert "t[io, ii] = x[4 * io + ii]" in str(q)  # the whole slivers stay
    equiv(p, q, sizes={"n": [1, 3, 4, 7, 9, 12]})


def test_refused_where_a_later_read_may_see_the_write():
    @proc
    def read_later(n: size, x: f32[n], y: f32[n]):
        t: f32[n]
        for i in seq(0, n):
            t[i] = x[i]
        y[n - 1] = t[n - 1]

    refused(lambda: eliminate_dead_stores(read_later, read_later.find_loop("i")),
            "writes t[i]", "reads t[n - 1]", prim="eliminate_dead_stores")


def test_refused_where_an_earlier_iteration_reads_what_a_later_one_wrote():
    # t[i + 1], written in iteration i, is read by the other statement in iteration
    # i + 1: a read in another iteration of the loop around both keeps it
    @proc
    def carried(n: size, x: f32[n], y: f32[n]):
        t: f32[n + 1]
        t[0] = 0.0
        for i in seq(0, n):
            y[i] = t[i]
            t[i + 1] = x[i]

    refused(lambda: eliminate_dead_stores(carried, carried.find("t[i + 1] = _")),
            "writes t[i + 1]", "reads t[i]")


def test_refused_for_a_read_before_it_in_the_scope():
    # (the buffer is allocated outside the loop: the read of one iteration sees the
    # write of the one before)
    @proc
    def before(n: size, x: f32[n], y: f32[n]):
        t: f32[1]
        t[0] = 0.0
        for i in seq(0, n):
            y[i] = t[0]
            t[0] = x[i]

    refused(lambda: eliminate_dead_stores(before, before.find("t[0] = x[_]")),
            "writes t[0]", "reads t[0]")


def test_refused_for_an_argument_a_static_buffer_or_a_config():
    from knit import config
    from knit.libs.memories import DRAM_STATIC

    refused(lambda: eliminate_dead_stores(copy_unread, copy_unread.find("y[_] = _")),
            "writes y[i], which the caller sees")

    @proc
    def kept(n: size, x: f32[n]):
        t: f32[4] @ DRAM_STATIC
        t[0] = x[0]

    refused(lambda: eliminate_dead_stores(kept, kept.find("t[_] = _")), "'t' is static")

    @config
    class Cfg:
        v: f32

    @proc
    def sets(x: f32[1]):
        Cfg.v = x[0]

    refused(lambda: eliminate_dead_stores(sets, sets.find("Cfg.v = _")),
            "writes Cfg.v", "configs outlive the procedure")


def test_refused_for_a_declaration_or_a_pass():
    refused(lambda: eliminate_dead_stores(copy_unread, copy_unread.find("t : _")),
            "not a declaration")
    p = eliminate_dead_stores(copy_unread, copy_unread.find_loop("i"))
    refused(lambda: eliminate_dead_stores(p, p.find("pass")), "not `pass`", "delete_pass")


def test_a_statement_that_writes_only_its_own_buffers_is_deleted():
    # (the review: such a loop was refused as "writes nothing", with advice that did
    # not apply; nothing it does is seen outside it)
    @proc
    def own(n: size, x: f32[n], y: f32[n]):
        for i in seq(0, n):
            u: f32[2]
            u[0] = x[i]
        y[0] = x[0]

    q = eliminate_dead_stores(own, own.find_loop("i"))
    assert "u[0]" not in str(q)
    equiv(own, q, sizes={"n": [1, 3]})


def test_refused_for_a_static_buffer_of_a_callee():
    from knit.libs.memories import DRAM_STATIC

    @proc
    def remember(x: f32[1]):
        s: f32[1] @ DRAM_STATIC
        s[0] = x[0]

    @proc
    def caller(x: f32[1]):
        remember(x)

    refused(lambda: eliminate_dead_stores(caller, caller.find("remember(_)")),
            "writes s[0], a static buffer of a callee")


def test_a_buffer_of_the_loop_body_is_fresh_each_iteration():
    # t is allocated inside the loop: the write of iteration i is never read by any
    # iteration (the read of t[1] is of what the same iteration's first write left)
    @proc
    def fresh(n: size, x: f32[n], y: f32[n]):
        for i in seq(0, n):
            t: f32[2]
            t[1] = x[i]
            t[0] = x[i] * 2.0
            y[i] = t[1]

    q = eliminate_dead_stores(fresh, fresh.find("t[0] = _"))
    assert "t[0] =" not in str(q)
    equiv(fresh, q, sizes={"n": [1, 4]})
    refused(lambda: eliminate_dead_stores(fresh, fresh.find("t[1] = _")),
            "writes t[1]", "reads t[1]")


def test_writes_through_a_window_and_a_call_are_seen():
    @proc
    def fill4(x: [f32][4]):
        for i in seq(0, 4):
            x[i] = 0.0

    @proc
    def through(n: size, y: f32[8]):
        t: f32[8]
        fill4(t[4:8])
        y[0] = t[0]

    q = eliminate_dead_stores(through, through.find("fill4(_)"))
    assert "fill4" not in str(q)
    equiv(through, q)

    @proc
    def seen(n: size, y: f32[8]):
        t: f32[8]
        fill4(t[2:6])
        y[0] = t[5]

    refused(lambda: eliminate_dead_stores(seen, seen.find("fill4(_)")), "reads t[5]")
