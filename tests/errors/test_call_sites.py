"""Errors name the primitive and the user's call of it (issue 13): every refusal has a
line `(from <primitive>, called at <file>:<line>:<col>)`, the line of the schedule call
in the user's script (before the hint, which stays last); and code a primitive generated says so (SrcInfo.generated_by)
instead of pointing at the user's statement it was made from."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest

from knit import config, proc
from knit.errors import KnitError, MemoryAccessError, SchedulingError
from knit.platforms.x86 import AVX2
from knit.stdlib import scheduling as S
from knit.trace import PRIMITIVES

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs"))
from corpus import corpus_errors


@config
class Cfg:
    n: size
    x: f32


@proc
def f(N: size, A: f32[N], B: f32[N]):
    assert N % 4 == 0
    for i in seq(0, N):
        A[i] = 0.0
    for k in seq(0, N):
        B[k] += A[k] * 2.0
    for k in seq(0, N):
        B[k] = B[k] + 1.0


@proc
def cond(N: size, A: f32[N]):
    for i in seq(0, N):
        if i < 3:
            A[i] = 1.0


@proc
def liftable(N: size, A: f32[N]):
    for i in seq(0, N):
        if N < 3:
            A[i] = 1.0


def _loc(fn) -> str:
    """file:line of the call inside the one-line lambda `fn`."""
    return f"{fn.__code__.co_filename}:{fn.__code__.co_firstlineno}:"


# One refusal per primitive that the bad-input corpus does not refuse (and a few it
# does): (primitive, the call as a one-line lambda, a phrase of the message).
REFUSALS = [
    ("add_unsafe_guard", lambda: S.add_unsafe_guard(f, "A[i] = _", "i <"), "not"),
    ("autofission", lambda: S.autofission(f, f.find_loop("i").before()), ""),
    ("autolift_alloc", lambda: S.autolift_alloc(f, "t : _"), "matches nothing"),
    ("bind_config", lambda: S.bind_config(f, f.find("A[_] * 2.0"), Cfg, "n"), ""),
    ("commute_expr", lambda: S.commute_expr(f, [f.find("A[_]")]), ""),
    ("delete_config", lambda: S.delete_config(f, f.find("A[i] = _")), ""),
    ("divide_with_recompute", lambda: S.divide_with_recompute(f, "i", "N", 3, ["a", "b"]), ""),
    ("fold_into_reduce", lambda: S.fold_into_reduce(f, "A[i] = _"), ""),
    ("inline_assign", lambda: S.inline_assign(f, "A[i] = _"), ""),
    ("left_reassociate_expr", lambda: S.left_reassociate_expr(f, "A[_] * 2.0"), ""),
    ("lift_if", lambda: S.lift_if(cond, "if _: _", n_lifts=3), "lift"),
    ("lift_reduce_constant", lambda: S.lift_reduce_constant(f, "A[i] = _"), ""),
    ("merge_writes", lambda: S.merge_writes(f, f.find_loop("i").expand(0, 1)), ""),
    ("mult_dim", lambda: S.mult_dim(f, "A", 0, 0), ""),
    ("rename", lambda: S.rename(f, "1f"), "not a valid name"),
    ("reorder_stmts", lambda: S.reorder_stmts(f, f.find_loop("k #1").expand(1, 0)),
     "do not commute"),
    ("rewrite_expr", lambda: S.rewrite_expr(f, "A[_] * 2.0", "A[k] * 3.0"), ""),
    ("specialize", lambda: S.specialize(f, "A[i] = _", "A"), ""),
    ("split_write", lambda: S.split_write(f, "A[i] = _"), ""),
    ("write_config", lambda: S.write_config(f, f.find_loop("i").before(), Cfg, "q", "1"),
     ""),
    ("divide_loop", lambda: S.divide_loop(f, "j", 4, ["jo", "ji"]), "matches nothing"),
    ("fission", lambda: S.fission(f, f.find("A[i] = _").after(), n_lifts=3), ""),
    ("stage_mem", lambda: S.stage_mem(f, "for k in _: _", "A[0:N]", "1x"), "valid name"),
    ("bind_expr", lambda: S.bind_expr(f, "_ * 2.0 + 1.0", "t"), "matches nothing"),
    ("set_memory", lambda: S.set_memory(f, "A", 3), ""),
    ("replace", lambda: S.replace(f, f.find_loop("i"), f), "does not match"),
    ("eliminate_dead_stores", lambda: S.eliminate_dead_stores(f, "A[i] = _"),
     "which the caller sees"),
]


@pytest.mark.parametrize("prim,call,phrase", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refusal_names_the_primitive_and_the_call(prim, call, phrase):
    with pytest.raises(KnitError) as info:
        call()
    err, msg = info.value, str(info.value)
    assert phrase in msg
    assert err.primitive == prim
    assert err.call_site.startswith(_loc(call)), (err.call_site, _loc(call))
    assert named_with_call(msg, prim, err.call_site), msg
    assert msg.count("called at") == 1, msg


def named_with_call(msg: str, prim: str, call: str) -> bool:
    """A line of msg names `prim` and the call site; the hint, if any, stays last."""
    lines = msg.splitlines()
    line = f"  (from {prim}, called at {call})"
    return line in lines and lines.index(line) >= len(lines) - 2


def test_the_refusal_list_and_the_corpus_cover_every_primitive():
    """Every primitive that can refuse is refused somewhere: here or in the corpus."""
    named = {e.primitive for _, e, _ in corpus_errors() if hasattr(e, "primitive")}
    # always safe, without arguments to get wrong (replace_once: unchanged if no match)
    never_refuse = {"simplify", "delete_pass", "loop_hack", "replace_once"}
    assert set(PRIMITIVES) - never_refuse <= named | {r[0] for r in REFUSALS}


def test_every_refusal_of_the_corpus_names_its_primitive_and_call_site():
    """Each error that came out of a primitive in the bad-input corpus names the
    primitive and a line of the corpus file that called it."""
    from_primitives = [(n, e) for n, e, in_prim in corpus_errors() if in_prim]
    assert len(from_primitives) > 60
    for name, err in from_primitives:
        if not isinstance(err, KnitError):
            continue  # a TypeError for an argument of the wrong Python type
        assert err.primitive in PRIMITIVES, name
        file, line = err.call_site.rsplit(":", 2)[:2]
        assert Path(file).name.startswith("test_bad_"), (name, err.call_site)
        assert int(line) > 0
        assert named_with_call(str(err), err.primitive, err.call_site), (name, str(err))


def test_a_primitive_called_by_a_library_function_names_both():
    """A primitive called from a knit function that is not a primitive (a stdlib
    schedule) names the primitive and the function the user called."""
    from knit.stdlib.stdlib import tile_loops

    with pytest.raises(SchedulingError) as info:
        tile_loops(f, [(f.find_loop("i"), 3)], perfect=True)  # user line
    line = inspect.currentframe().f_lineno - 1
    assert f"called at {__file__}:{line}:" in str(info.value)
    assert f"  (from divide_loop, in tile_loops, called at {__file__}:{line}:" in \
        str(info.value)


def test_each_error_names_the_call_once_through_nested_primitives():
    """lift_if calls lift_scope: the error names lift_if (the user's call) only."""
    with pytest.raises(SchedulingError) as info:
        S.lift_if(cond, "if _: _", n_lifts=3)
    assert info.value.primitive == "lift_if"
    assert str(info.value).count("called at") == 1


# ---------------------------------------------------------------- generated code


def _stmt(p, pattern):
    return p.find(pattern)._node()


def test_statements_a_primitive_creates_carry_its_call_site():
    p = S.divide_loop(f, "i", 4, ["io", "ii"], perfect=True)
    line = inspect.currentframe().f_lineno - 1
    inner = _stmt(p, "for ii in _: _").srcinfo
    assert inner.generated_by == "divide_loop"
    assert (inner.filename, inner.line) == (__file__, line)
    # the loop divide_loop transformed is the user's loop still; so is its body
    outer, body = _stmt(p, "for io in _: _").srcinfo, _stmt(p, "A[_] = _").srcinfo
    assert outer.generated_by is None and outer.line == _stmt(f, "for i in _: _").srcinfo.line
    assert body.generated_by is None and body == _stmt(f, "A[_] = _").srcinfo


def test_marks_survive_later_rewrites_and_name_the_first_primitive():
    p = S.stage_mem(f, "for k in _: _", "A[0:N]", "Ac")
    line = inspect.currentframe().f_lineno - 1
    p = S.simplify(S.divide_loop(p, "for i0 in _: _", 4, ["a", "b"], perfect=True))
    copy = _stmt(p, "for a in _: _").srcinfo
    assert copy.generated_by == "stage_mem" and copy.line == line
    assert _stmt(p, "for b in _: _").srcinfo.generated_by == "divide_loop"
    # what stage_mem only rewrote (the user's loop, reading Ac now) keeps its position
    assert _stmt(p, "for k in _: _ #0").srcinfo == _stmt(f, "for k in _: _ #0").srcinfo


def test_an_expression_a_primitive_moves_keeps_its_position():
    p = S.bind_expr(f, "A[_] * 2.0", "t")
    assign = _stmt(p, "t = _")
    assert assign.srcinfo.generated_by == "bind_expr"
    assert assign.rhs.srcinfo == f.find("A[_] * 2.0")._node().srcinfo  # the user's code


def vector_copy():
    """f's A staged into 8-lane vectors of AVX2 registers: the load is ready for an
    instruction."""
    @proc
    def g(A: f32[16], B: f32[16]):
        for k in seq(0, 16):
            B[k] = A[k] * 2.0

    p = S.stage_mem(g, "for k in _: _", "A[0:16]", "Ac")
    p = S.divide_dim(p, "Ac", 0, 8)
    p = S.divide_loop(p, "for i0 in _: _", 8, ["io", "ii"], perfect=True)
    return S.set_memory(S.simplify(p), "Ac", AVX2)


def test_nested_primitives_mark_with_the_users_call():
    """replace_once calls replace: the call it makes is marked as replace_once's."""
    from knit.platforms.x86 import mm256_loadu_ps

    p = S.replace_once(vector_copy(), [mm256_loadu_ps])
    line = inspect.currentframe().f_lineno - 1
    call = _stmt(p, "mm256_loadu_ps(_)").srcinfo
    assert (call.generated_by, call.filename, call.line) == ("replace_once", __file__, line)


def test_an_error_in_generated_code_names_the_primitive_that_generated_it():
    """A copy loop that stage_mem made, into a buffer then moved to AVX2 registers:
    compiling it is refused, and the error points at the stage_mem call, not at the
    user's loop the copy was made for."""
    p = S.divide_loop(f, "k", 8, ["ko", "ki"], tail="cut")
    p = S.stage_mem(p, "for ki in _: _", "A[8 * ko:8 * ko + 8]", "Ac")
    line = inspect.currentframe().f_lineno - 1
    p = S.set_memory(p, "Ac", AVX2)
    with pytest.raises(MemoryAccessError) as info:
        p.compile()
    msg = str(info.value)
    assert msg.startswith(f"{__file__}:{line}:")
    assert f"generated by stage_mem at {__file__}:{line}:" in msg
    assert 'S.stage_mem(p, "for ki in _: _", "A[8 * ko:8 * ko + 8]", "Ac")' in msg  # quoted
    user_loop = _stmt(f, "for k in _: _ #0").srcinfo.line
    assert f":{user_loop}:" not in msg.splitlines()[0]


def test_errors_about_the_users_own_code_are_unchanged():
    with pytest.raises(MemoryAccessError) as info:
        S.set_memory(f, "A", AVX2).compile()
    assert "generated by" not in str(info.value)
    assert str(info.value).startswith(f"{__file__}:{_stmt(f, 'A[_] = _').srcinfo.line}:")


def test_a_refusal_about_generated_code_says_which_primitive_made_it():
    p = S.divide_loop(f, "i", 4, ["io", "ii"], perfect=True)
    line = inspect.currentframe().f_lineno - 1
    with pytest.raises(SchedulingError) as info:
        S.divide_loop(p, "ii", 3, ["a", "b"], perfect=True)
    msg = str(info.value).splitlines()
    assert msg[0].startswith(f"{__file__}:{line}:") and "divide_loop: cannot prove" in msg[0]
    assert msg[-1].startswith("add an assert")  # the hint stays last
    assert msg[1] == (f"  (in code generated by divide_loop at {__file__}:{line}:9, not in "
                      "your source; print the procedure to see it)")
