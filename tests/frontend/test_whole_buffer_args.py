"""A buffer passed whole to a window parameter, `f(x)`, is kept as written: it prints
back as `f(x)` (as Exo prints it), while every consumer (checks, analyses, C, the
interpreter, the rewrites) reads it as the window of all of x, `x[0:n]`."""

from __future__ import annotations

from refusals import expect_error
from scheduling_checks import assert_body, body, equiv, well_formed

import knit
from knit import proc
from knit.errors import KnitTypeError
from knit.ir import nodes as N
from knit.procedure import parse_proc_string
from knit.stdlib.scheduling import extract_subproc, inline, inline_window, rename, resize_dim


@proc
def scale2(n: size, dst: [f32][n], src: [f32][n]):
    for i in seq(0, n):
        dst[i] = 2.0 * src[i]


@proc
def by_name(n: size, x: f32[n], y: [f32][n]):
    scale2(n, x, y)


@proc
def by_window(n: size, x: f32[n], y: [f32][n]):
    scale2(n, x[0:n], y[0:n])


def _call(p) -> N.Call:
    return p.find("scale2(_)")._node()


def test_a_whole_buffer_prints_as_written():
    assert body(by_name) == "scale2(n, x, y)"
    assert body(by_window) == "scale2(n, x[0:n], y[0:n])"


def test_a_whole_buffer_is_the_window_of_all_of_it():
    @proc
    def both(n: size, x: f32[n], y: [f32][n]):
        scale2(n, x, y)
        scale2(n, x[0:n], y[0:n])

    named, windowed = (s._node() for s in both.find("scale2(_)", many=True))
    for a, b in zip(named.args[1:], windowed.args[1:]):
        assert isinstance(a, N.WindowExpr) and a.whole and not b.whole
        assert a.idx == b.idx and a.type == b.type
        assert a == b  # the same meaning: `whole` is how it was written, not what it is


def test_print_parse_round_trip():
    for p in (by_name, by_window):
        again = parse_proc_string(str(p), p._scope)
        assert str(again) == str(p)
        assert [a.whole for a in _call(again).args[1:]] == \
            [a.whole for a in _call(p).args[1:]]


def test_interpreter_and_c_agree_whichever_way_it_is_written():
    knit.check_equiv(by_name, rename(by_window, "by_name"), trials=3, interpret=True)


def test_a_window_statement_passed_whole():
    @proc
    def on_alias(a: f32[4, 8], b: f32[8]):
        w = a[1, 0:8]
        scale2(8, w, b)

    assert_body(on_alias, """
        w = a[1, 0:8]
        scale2(8, w, b)""")
    well_formed(on_alias)
    # inlining the window composes it with the statement's window: no longer whole
    p = inline_window(on_alias, "w = _")
    assert body(p) == "scale2(8, a[1, 0:8], b)"
    equiv(on_alias, p)


def test_call_checks_read_the_whole_window():
    @proc
    def wants8(dst: [f32][8]):
        dst[0] = 0.0

    def short():
        @proc
        def passes4(x: f32[4]):
            wants8(x)

    expect_error(short, KnitTypeError, "argument 'dst' of wants8: dimension 0 must have "
                 "size 8, but x has size 4 there", line=short.__code__.co_firstlineno + 3)


def test_extract_subproc_passes_window_parameters_by_name():
    @proc
    def outer(n: size, x: [f32][n], y: [f32][n]):
        for i in seq(0, n):
            y[i] = x[i]

    p, sub = extract_subproc(outer, outer.body(), "sub")
    assert body(p) == "sub(n, x, y)"
    assert str(parse_proc_string(str(p), p._scope)) == str(p)
    equiv(outer, p)


def test_inline_a_call_made_by_name():
    p = inline(by_name, "scale2(_)")
    assert_body(p, """
        for i in seq(0, n):
            x[i] = 2.0 * y[i]""")
    equiv(by_name, p)


def test_inline_keeps_a_nested_whole_argument_whole():
    @proc
    def twice(n: size, dst: [f32][n], src: [f32][n]):
        scale2(n, dst, src)

    @proc
    def top(m: size, a: f32[m], b: f32[m]):
        twice(m, a, b)

    p = inline(top, "twice(_)")
    assert body(p) == "scale2(m, a, b)"  # all of all of a is a
    equiv(top, p)


def test_a_resized_buffer_is_no_longer_passed_whole():
    @proc
    def fill(x: [f32][8]):
        for i in seq(0, 8):
            x[i] = 1.0

    @proc
    def top(y: f32[8]):
        x: f32[8]
        fill(x)
        for i in seq(0, 8):
            y[i] = x[i]

    p = resize_dim(top, "x: _", 0, 10, 0)
    # the call still passes x[0:8], which is no longer all of x: printed as a window
    assert_body(p, """
        x: f32[10] @ DRAM
        fill(x[0:8])
        for i in seq(0, 8):
            y[i] = x[i]""")
    well_formed(p)
    equiv(top, p)
