"""The focused re-check after a rewrite that makes a call (rewrite/subprocs.py
check_call_sites with `before`): only the statements the rewrite made are checked, under
the facts the whole definition-time check gives them. It must refuse every bad call the
whole check refuses (window bounds, a callee's assert, kinds and shapes), with the same
message, and accept the good ones under the facts of the loops and ifs around them."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, refused

from knit import proc
from knit.errors import KnitError
from knit.frontend.checks import check_proc
from knit.ir import nodes as N
from knit.ir.handles import ir_of
from knit.ir.visit import walk_stmts
from knit.platforms.x86 import prefetch
from knit.stdlib.scheduling import insert_noop_call


@proc
def nest(n: size, x: f32[n, 8], y: f32[n]):
    y[0] = 0.0
    for i in seq(0, n):
        for j in seq(0, 8):
            if j < 4:
                x[i, j] = 1.0
            pass
    y[0] = 1.0


def _gap():
    return nest.find("pass").before()


@pytest.mark.parametrize("args, phrases", [
    (["x[i, j + 1:j + 2]", 0], ["the window x[i, j + 1:j + 2] may be out of bounds"]),
    (["x[i + 1, j:j + 1]", 0], ["the window x[i + 1, j:j + 1] may be out of bounds"]),
    (["x[i, j:j + 1]", "j + 1"], ["prefetch requires `locality_hint < 8`"]),
    (["y[i:i + 1]", "n"], ["prefetch requires `locality_hint < 8`"]),
])
def test_the_focused_check_refuses_what_the_whole_check_refuses(args, phrases):
    refused(lambda: insert_noop_call(nest, _gap(), prefetch, args),
            "the new call would not be valid", *phrases, prim="insert_noop_call")


def test_both_checks_give_the_same_message_for_a_bad_call():
    # the IR with the bad call, built without any check, checked both ways
    good = insert_noop_call(nest, _gap(), prefetch, ["x[i, j:j + 1]", "j"])
    ir = ir_of(good)
    call = next(s for s in walk_stmts(ir.body) if isinstance(s, N.Call))
    for bad_args in [
        (N.WindowExpr(call.args[0].name, (N.Point(N.Read(call.args[0].idx[0].pt.name, (),
                                                           call.args[0].idx[0].pt.type)),
                                           # j + 1:j + 2: it may start past the row
                                           N.Interval(N.BinOp("+", call.args[0].idx[1].lo,
                                                              N.Const(1, call.args[1].type),
                                                              call.args[1].type),
                                                      N.BinOp("+", call.args[0].idx[1].hi,
                                                              N.Const(1, call.args[1].type),
                                                              call.args[1].type))),
                      call.args[0].type), call.args[1]),
        (call.args[0], N.BinOp("+", call.args[1], N.Const(1, call.args[1].type),
                               call.args[1].type)),
    ]:
        bad_call = call.with_(args=bad_args)
        bad = _swap(ir, call, bad_call)
        with pytest.raises(KnitError) as whole:
            check_proc(bad, memories=False)
        with pytest.raises(KnitError) as focused:
            check_proc(bad, memories=False, only=_made(ir, bad))
        assert str(focused.value) == str(whole.value)
        check_proc(bad, memories=False, only=set())  # nothing else in it is wrong


def _made(before, after) -> set[int]:
    """What check_call_sites passes: the statement objects of `after` not in `before`."""
    old = {id(s) for s in walk_stmts(before.body)}
    return {id(s) for s in walk_stmts(after.body) if id(s) not in old}


def _swap(ir, old, new):
    def block(stmts):
        out = []
        for s in stmts:
            if s is old:
                out.append(new)
            elif isinstance(s, (N.For, N.If)):
                changes = {"body": block(s.body)}
                if isinstance(s, N.If):
                    changes["orelse"] = block(s.orelse)
                out.append(s.with_(**changes))
            else:
                out.append(s)
        return tuple(out)

    return ir.with_(body=block(ir.body))


def test_the_focused_check_sees_the_facts_around_the_call():
    # j < 8 from the loop, i < n from the other: the window and the hint are fine
    p = insert_noop_call(nest, _gap(), prefetch, ["x[i, j:j + 1]", "7 - j"])
    assert_body(p, """
        y[0] = 0.0
        for i in seq(0, n):
            for j in seq(0, 8):
                if j < 4:
                    x[i, j] = 1.0
                prefetch(x[i, j:j + 1], 7 - j)
                pass
        y[0] = 1.0
    """)
    assert p.is_eq(nest)
    p.compile()
