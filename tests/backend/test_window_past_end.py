"""A window passed to a call may reach past the end of its buffer when every access the
callee makes through it stays inside (frontend/checks.py, reaches_only_inside), as Exo
allows: the window is a view, and only the elements read or written must exist. Its
origin must be an element (or the end of a dense 1-D buffer), and the callee must use
it element by element; else the window's refusal stands, saying why."""

from __future__ import annotations

import numpy as np
import pytest

from knit import check_equiv, instr, proc
from knit.API_scheduling import insert_noop_call, replace, simplify
from knit.errors import BoundsError, SchedulingError


def _copy_below():
    @proc
    def copy_below(dst: [f32][8], src: [f32][8], bound: size):
        for i in seq(0, 8):
            if i < bound:
                dst[i] = src[i]
    return copy_below


def test_replace_passes_a_window_longer_than_the_buffer_when_accesses_stay_inside():
    copy_below = _copy_below()

    @proc
    def head(n: size, m: size, x: f32[n], y: f32[8]):
        assert n - m >= 1
        assert n - m <= 8
        for i in seq(0, 8):
            if i + m < n:
                y[i] = x[i]

    new = simplify(replace(head, head.find_loop("i"), copy_below))
    assert "copy_below(y[0:8], x[0:8], -m + n)" in str(new)
    # x may hold 2 elements only: the window x[0:8] reaches past it, no access does
    for n, m in [(2, 1), (3, 2), (9, 1), (8, 7)]:
        x = np.arange(1, n + 1, dtype=np.float32)
        want = np.zeros(8, np.float32)
        head.interpret(n, m, x, want)
        for run in (new.interpret, new.compile()):
            y = np.zeros(8, np.float32)
            run(n, m, x, y)
            assert (y == want).all(), (n, m, run)
        assert want[:n - m].tolist() == x[:n - m].tolist() and not want[n - m:].any()
    check_equiv(head, new, sizes={"n": [2, 3, 9], "m": [1, 2]})


def test_a_direct_call_with_such_a_window_is_accepted_and_runs():
    copy_below = _copy_below()

    @proc
    def shorter(n: size, x: f32[n], y: f32[8]):
        assert n <= 8
        copy_below(y[0:8], x[0:8], n)

    x = np.array([5, 6, 7], dtype=np.float32)
    for run in (shorter.interpret, shorter.compile()):
        y = np.zeros(8, np.float32)
        run(3, x, y)
        assert y.tolist() == [5, 6, 7, 0, 0, 0, 0, 0]


def test_an_access_through_it_past_the_end_is_refused_with_the_counterexample():
    copy_below = _copy_below()
    with pytest.raises(BoundsError, match=r"(?s)the window x\[0:8\] may be out of bounds: its "
                       r"slice 0:8 in dimension 0 ends past the size n \(for n = 1 the slice "
                       r"is 0:8\).*here copy_below reads x\[0 \+ i\], which may be outside"):
        @proc
        def one_too_far(n: size, x: f32[n], y: f32[8]):
            assert n <= 8
            copy_below(y[0:8], x[0:8], n + 1)


def test_a_callee_that_windows_the_parameter_again_is_refused():
    copy_below = _copy_below()

    @proc
    def forward(dst: [f32][8], src: [f32][8], bound: size):
        copy_below(dst[0:8], src[0:8], bound)

    with pytest.raises(BoundsError, match="forward makes a window of 'src' or passes it on whole"):
        @proc
        def shorter(n: size, x: f32[n], y: f32[8]):
            assert n <= 8
            forward(y[0:8], x[0:8], n)


@instr("/* touch {A_data} */")
def touch(A: [i8][1]):
    pass


def test_insert_noop_call_of_a_window_starting_at_the_end_of_a_dense_buffer():
    @proc
    def foo(n: size, x: i8[n]):
        pass

    new = insert_noop_call(foo, foo.find("pass").before(), touch, ["x[1:2]"])
    assert "touch(x[1:2])" in str(new)
    assert "/* touch x[1] */" in new.c_code_str()  # &x[1]: at most the end of x
    new.compile()(1, np.zeros(1, np.int8))
    new.interpret(1, np.zeros(1, np.int8))


def test_a_window_whose_origin_may_lie_past_the_end_is_refused():
    @proc
    def foo(n: size, x: i8[n], y: i8[n, 4]):
        pass

    with pytest.raises(SchedulingError, match=r"insert_noop_call: the new call would not be "
                       r"valid: the window x\[2:3\] may be out of bounds"):
        insert_noop_call(foo, foo.find("pass").before(), touch, ["x[2:3]"])
    with pytest.raises(BoundsError, match="here its origin may not be an element of 'x'"):
        @proc
        def past(n: size, x: i8[n]):
            touch(x[2:3])
    # in 2-D, a pointer to the row after the last is past the object: refused
    with pytest.raises(BoundsError, match="here its origin may not be an element of 'y'"):
        @proc
        def past_row(n: size, y: i8[n, 4]):
            touch(y[n, 0:1])


def test_a_window_of_a_window_statement_must_fit_it():
    copy_below = _copy_below()
    with pytest.raises(BoundsError, match="'z' is a window statement's view, not a buffer"):
        @proc
        def viewed(x: f32[16], y: f32[8]):
            z = x[0:4]
            copy_below(y[0:8], z[0:8], 4)


@instr("/* load8 {dst_data} {src_data} */")
def load8_below(dst: [f32][8], src: [f32][8], bound: size):
    for i in seq(0, 8):
        if i < bound:
            dst[i] = src[i]


def test_an_instruction_that_accesses_the_window_must_get_one_inside():
    # its C may load all 8 lanes whatever its semantics guard: the window must fit
    with pytest.raises(BoundsError, match="here load8_below is an instruction that accesses "
                       "'src'"):
        @proc
        def shorter(n: size, x: f32[n], y: f32[8]):
            assert n <= 8
            load8_below(y[0:8], x[0:8], n)
