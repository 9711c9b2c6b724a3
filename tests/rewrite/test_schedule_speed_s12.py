"""Session 12's scheduling-speed changes (docs/performance.md, "Scheduling speed (session
12)"): each does the same work with less overhead, and must not change a result."""
# ruff: noqa: F821 - object code names (size, f32, seq, par, DRAM) are knit's, not Python's

from __future__ import annotations

from knit import proc
from knit.cursors import paths as P
from knit.ir import nodes as N
from knit.rewrite import common


@proc
def par_loops(n: size, x: f32[n], y: f32[n], z: f32[n]):
    for i in par(0, n):
        x[i] = 1.0
    for j in seq(0, n):
        z[j] = 0.0
    if n > 2:
        for j in seq(0, n):
            for k in par(0, n):
                y[k] = 2.0
    else:
        for m in seq(0, n):
            for q in par(0, n):
                z[q] = 3.0
        for r in par(0, n):
            y[r] = 4.0


def test_the_par_loops_are_those_of_a_walk_of_every_statement_in_its_order():
    """check_par_loops looks only into statements that hold a par loop: it finds every
    one, inside loops and those in either branch of an if, in the order a walk of every
    statement meets them (the first race reported stays the first)."""
    ir = par_loops.INTERNAL_proc()
    every = [(path, s) for path, s in P.stmt_paths(ir)
             if isinstance(s, N.For) and s.mode == "par"]
    assert [s.iter.name for _, s in every] == ["i", "k", "q", "r"]
    assert list(common._par_loops(ir.body, (), "body")) == every
