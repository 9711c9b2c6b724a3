"""Rewrites work on internal sites, not on the user's cursors (issue 14 item 1): the
locate step turns a cursor or pattern into a common.Site once (a statement, a block, a
gap, an expression), the rewrite works on IR and paths, and one wrapper derives the new
Procedure. These tests pin what a Site means, that the primitives converted to Sites
still rewrite, stay equal and refuse naming the primitive called (item 4), and that the
converted families keep no cursor internals and no import of knit.procedure."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest
from scheduling_checks import assert_body, equiv, refused

from knit import proc
from knit.ir import nodes as N
from knit.rewrite import common as K
from knit.stdlib.scheduling import (
    autofission,
    commute_expr,
    fission,
    inline,
    insert_pass,
    rewrite_expr,
    write_config,
)


@proc
def two_loops(N: size, x: f32[N], y: f32[N]):
    for i in seq(0, N):
        x[i] = 1.0
        y[i] = x[i] + 2.0


# ---------------------------------------------------------------- what a Site is


def test_a_statement_site_is_the_statement_and_its_path():
    site = K.stmt_site(two_loops, "y[_] = _", "t")
    assert isinstance(site.node(), N.Assign) and site.node().name.name == "y"
    assert site.path == (("body", 0), ("body", 1))
    assert (site.index, site.field, site.parent_path) == (1, "body", (("body", 0),))
    assert site.stmts() == (site.node(),)
    assert site.item(-1).node().name.name == "x"
    assert site.prim == "t"


def test_a_block_site_spans_its_statements():
    site = K.block_site(two_loops, two_loops.find("x[_] = _").expand(0, 1), "t")
    assert [s.name.name for s in site.stmts()] == ["x", "y"]
    assert site.hi == 2 and site.item(1).node() is site.stmts()[1]
    new = site.replaced((N.Pass(),))
    loop = new.body[0]
    assert len(loop.body) == 1 and isinstance(loop.body[0], N.Pass)


def test_a_gap_site_is_an_empty_span_showing_its_anchor():
    site = K.gap_site(two_loops, two_loops.find("x[_] = _").after(), "t")
    assert site.stmts() == () and site.hi == site.index == 1
    assert site.shown().name.name == "x"  # the statement the gap was made from
    new = site.replaced((N.Pass(),))
    assert [type(s) for s in new.body[0].body] == [N.Assign, N.Pass, N.Assign]


def test_an_expression_site_is_the_expression_in_its_statement():
    site = K.expr_site(two_loops, "x[_] + 2.0", "t")
    e = site.expr()
    assert isinstance(e, N.BinOp) and e.op == "+"
    assert site.stmt().epath is None and site.stmt().node() is site.node()
    swapped = site.with_expr(e.with_(lhs=e.rhs, rhs=e.lhs))
    assert isinstance(swapped, N.Assign) and swapped.rhs.lhs == e.rhs


def test_the_site_of_a_cursor_taken_on_an_older_procedure_is_forwarded():
    newer = insert_pass(two_loops, two_loops.find("x[_] = _").before())
    site = K.stmt_site(newer, two_loops.find("y[_] = _"), "t")
    assert site.proc is newer and site.path == (("body", 0), ("body", 2))


def test_refuse_at_a_site_shows_its_statement():
    site = K.gap_site(two_loops, two_loops.find("x[_] = _").after(), "prim_name")
    msg = str(K.refuse(site.prim, site, "a condition"))
    assert re.match(r"^\S+\.py:\d+:\d+: prim_name: a condition", msg), msg
    assert "x[i] = 1.0" in msg


# ---------------------------------------------------------------- primitives on Sites


def test_primitives_on_sites_rewrite_and_stay_equal():
    p = commute_expr(two_loops, "x[_] + 2.0")
    assert_body(p, """
        for i in seq(0, N):
            x[i] = 1.0
            y[i] = 2.0 + x[i]""")
    equiv(two_loops, p)
    q = fission(p, p.find("x[_] = _").after())
    assert_body(q, """
        for i in seq(0, N):
            x[i] = 1.0
        for i in seq(0, N):
            y[i] = 2.0 + x[i]""")
    equiv(two_loops, q)


@proc
def carried(N: size, x: f32[N + 1], y: f32[N]):
    for i in seq(0, N):
        y[i] = x[i]
        x[i + 1] = y[i] * 0.5


def test_autofission_refuses_in_its_own_name():
    # autofission does its work through fission's check; the user called autofission
    msg = refused(lambda: autofission(carried, carried.find("y[_] = _").after()),
                  "would reorder a dependence", prim="autofission")
    refused(lambda: fission(carried, carried.find("y[_] = _").after()),
            "would reorder a dependence", prim="fission")
    assert "fission:" not in msg.replace("autofission:", "")


def test_expression_and_call_primitives_refuse_in_their_name():
    refused(lambda: rewrite_expr(two_loops, "x[_] + 2.0", "3"),
            "rewrite_expr proves equalities of index and bool expressions only",
            prim="rewrite_expr")
    refused(lambda: commute_expr(two_loops, "x[_]"), "only '+' and '*' can be reordered",
            prim="commute_expr")
    refused(lambda: inline(two_loops, "x[_] = _"), "expected a call", prim="inline")


def test_a_gap_refusal_points_at_the_gap_anchor():
    from knit import config

    @config
    class Cfg:
        f: f32

    @proc
    def reads_cfg(x: f32[4]):
        for i in seq(0, 4):
            x[i] = 1.0
            x[i] = Cfg.f

    msg = refused(lambda: write_config(reads_cfg, reads_cfg.find("x[_] = 1.0").after(),
                                       Cfg, "f", "2.0"),
                  "a later statement reads", prim="write_config")
    lines = pathlib.Path(__file__).read_text().splitlines()
    start = next(k for k, ln in enumerate(lines) if "def reads_cfg" in ln)
    anchor = next(k for k, ln in enumerate(lines, 1) if k > start and ln.strip() == "x[i] = 1.0")
    assert msg.split(": ")[0].endswith(f"test_sites.py:{anchor}:13"), msg


# ---------------------------------------------------------------- no cursor internals

_REWRITE = pathlib.Path(K.__file__).parent
_CONVERTED = ["checks", "configs", "exprs", "loops", "procs", "scopes", "stmts", "subprocs",
              "witness"]
_CURSOR_INTERNALS = re.compile(r"_loopir_proc|\._node\(\)|\._path\b|\._stmts\(\)|"
                               r"\._block\(\)|\._epath\b|\._proc\b")


def _imports(source: str) -> set:
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


@pytest.mark.parametrize("name", _CONVERTED)
def test_converted_rewrites_use_no_cursor_internals(name):
    source = (_REWRITE / f"{name}.py").read_text()
    hits = [ln.strip() for ln in source.splitlines() if _CURSOR_INTERNALS.search(ln)]
    assert not hits, f"rewrite/{name}.py reaches into cursors or procedures: {hits}"
    assert "knit.procedure" not in _imports(source)


def test_the_internals_guard_can_fail():
    assert _CURSOR_INTERNALS.search("s = cur._node()")
    assert _CURSOR_INTERNALS.search("ir = proc._loopir_proc")
    assert "knit.procedure" in _imports("def f():\n    from knit.procedure import Procedure\n")
