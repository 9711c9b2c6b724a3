"""Errors Exo reports only when it compiles (a racing `par` loop) or never (an access
through a window statement out of bounds): knit accepts the definition, warns, and
refuses every use that gives the program a meaning -- C text, compiled code, the
interpreter, check_equiv -- of the procedure, of what scheduling makes from it, and of
its callers (frontend/checks.py, raise_deferred)."""

from __future__ import annotations

import numpy as np
import pytest

from knit import check_equiv, proc
from knit.API_scheduling import inline, rename, simplify
from knit.backend.c import compile_procs, compile_procs_to_strings
from knit.errors import BoundsError, KnitTypeError, RaceError, RefusedLaterWarning
from knit.frontend.checks import check_proc

_RACE = r"test_refused_later.py:\d+:\d+: iterations of the par loop over 'i' may race: " \
        r"one reduces into total and another reduces into total"


def _racy():
    with pytest.warns(RefusedLaterWarning, match="racy is defined, but will not be compiled"):
        @proc
        def racy(A: i8[10], out: i8[1]):
            total: i8
            total = 0.0
            for i in par(0, 10):
                total += A[i]
            out[0] = total
    return racy


def _uses(p):
    """Every way to give `p` a meaning, as (name, thunk)."""
    a, out = np.arange(10, dtype=np.int8), np.zeros(1, dtype=np.int8)
    return [
        ("compile_procs_to_strings", lambda: compile_procs_to_strings([p], "p.h")),
        ("c_code_str", p.c_code_str),
        ("compile", p.compile),
        ("interpret", lambda: p.interpret(a, out)),
        ("check_equiv", lambda: check_equiv(p, p)),
    ]


def test_a_racing_par_loop_is_defined_and_refused_at_every_use(tmp_path):
    racy = _racy()
    for name, use in _uses(racy):
        with pytest.raises(RaceError, match=_RACE):
            use()
    with pytest.raises(RaceError, match=_RACE):
        compile_procs([racy], tmp_path, "p.c", "p.h")
    assert not (tmp_path / "p.c").exists()


def test_a_caller_of_a_racing_proc_is_refused():
    racy = _racy()

    @proc
    def caller(A: i8[10], out: i8[1]):
        racy(A, out)

    with pytest.raises(RaceError, match=_RACE):
        caller.c_code_str()
    with pytest.raises(RaceError, match=_RACE):
        caller.interpret(np.zeros(10, np.int8), np.zeros(1, np.int8))
    # inlined, the racing loop is the caller's own: still refused
    flat = inline(caller, "racy(_)")
    assert "for i in par(0, 10):" in str(flat)
    with pytest.raises(RaceError, match=_RACE):
        flat.compile()


def test_scheduling_a_racing_proc_cannot_launder_the_race():
    with pytest.warns(RefusedLaterWarning):
        @proc
        def racy(b: bool, A: f32[10], x: f32[10]):
            for i in par(0, 10):
                if b:
                    x[0] = A[i]
                else:
                    x[i] = A[i]

    # specialised to b = False, the code no longer races; but it was made by rewrites
    # whose checks assumed a program with a meaning: it keeps the error
    g = simplify(rename(racy.partial_eval(b=False), "g"))
    assert "x[0]" not in str(g)
    check_proc(g.INTERNAL_proc())  # the rewritten code alone passes the checks
    for name, use in [("c", g.c_code_str), ("compile", g.compile),
                      ("interpret", lambda: g.interpret(np.ones(10, np.float32),
                                                        np.zeros(10, np.float32)))]:
        with pytest.raises(RaceError, match="may race: one writes x\\[0\\]"):
            use()


def test_a_race_free_par_loop_still_runs_and_agrees():
    @proc
    def ok(A: i8[10], x: i8[10]):
        for i in par(0, 10):
            x[i] = A[i] + A[i]

    a = np.arange(10, dtype=np.int8)
    x_c, x_i = np.zeros(10, np.int8), np.zeros(10, np.int8)
    ok.compile()(a, x_c)
    ok.interpret(a, x_i)
    assert (x_c == 2 * a).all() and (x_i == x_c).all()


def test_an_access_through_a_window_statement_out_of_bounds_is_refused_where_it_runs():
    with pytest.warns(RefusedLaterWarning, match=r"z\[i \+ 1, 1\] may be out of bounds"):
        @proc
        def bar(x: f32[3, 3], y: f32):
            z = x[0:2, 0:2]
            for i in seq(0, 2):
                z[i, 1] = y
                z[i + 1, 1] += y

    msg = r"test_refused_later.py:\d+:\d+: z\[i \+ 1, 1\] may be out of bounds: dimension 0 " \
          r"has size 2; for i = 1 the index is 2"
    for name, use in [("c", bar.c_code_str), ("compile", bar.compile),
                      ("interpret", lambda: bar.interpret(np.zeros((3, 3), np.float32),
                                                          np.float32(1)))]:
        with pytest.raises(BoundsError, match=msg):
            use()


def test_a_window_statement_outside_its_buffer_is_refused_where_it_runs():
    with pytest.warns(RefusedLaterWarning, match=r"the window A\[i:i \+ 4, j\] may be out"):
        @proc
        def foo(N: size, A: i8[N, N]):
            for i in seq(0, N):
                for j in seq(0, N):
                    A[i, j] = 0.0
                    y = A[i:i + 4, j]

    with pytest.raises(BoundsError, match="ends past the size N"):
        compile_procs_to_strings([foo], "foo.h")


def test_a_plain_access_out_of_bounds_is_still_refused_at_the_definition():
    with pytest.raises(BoundsError, match=r"x\[i \+ 1\] may be out of bounds"):
        @proc
        def bad(x: f32[4]):
            for i in seq(0, 4):
                x[i + 1] = 0.0


def test_a_call_passing_data_of_another_precision_is_refused_where_it_runs():
    @proc
    def dot(m: size, x: f32[m], y: f32[m], r: f32):
        r = 0.0
        for i in seq(0, m):
            r += x[i] * y[i]

    with pytest.warns(RefusedLaterWarning, match="argument 'x' of dot holds f32, got i8 data"):
        @proc
        def mixed(n: size, x: i8[n], y: i8[n]):
            xy: f32
            dot(n, x, y, xy)  # the call

    line = next(i for i, text in enumerate(open(__file__).read().splitlines(), 1)
                if text.endswith("# the call"))
    n, x = 4, np.ones(4, np.int8)
    for use in (mixed.c_code_str, mixed.compile, lambda: mixed.interpret(n, x, x)):
        with pytest.raises(KnitTypeError, match=rf"test_refused_later.py:{line}:\d+: argument 'x' "
                           "of dot holds f32, got i8 data"):
            use()

    @proc
    def same(n: size, x: f32[n], y: f32[n]):  # the same call at the parameters' precision
        xy: f32
        dot(n, x, y, xy)

    assert "dot(ctxt, n, x, y, &xy);" in same.c_code_str()
