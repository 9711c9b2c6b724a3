"""Every refusal names the primitive the user called (issue 14 item 4): a primitive that
does its work through another's rewrite (lift_scope on a loop nest reorders the loops)
says its own name, and the post-check every checked rewrite runs (no par loop races)
names the primitive whose result it checks, not "the rewrite"."""

from __future__ import annotations

from scheduling_checks import equiv, refused

from knit import proc
from knit.stdlib.scheduling import lift_alloc, lift_scope, reorder_loops


@proc
def skewed(x: f32[8, 8]):
    for i in seq(0, 7):
        for j in seq(0, 7):
            x[i + 1, j] = x[i, j + 1]


@proc
def swappable(x: f32[8, 8], y: f32[8, 8]):
    for i in seq(0, 8):
        for j in seq(0, 8):
            y[j, i] = x[i, j]


def test_lift_scope_of_a_nest_reorders_and_says_lift_scope():
    p = lift_scope(swappable, "for j in _: _")
    assert [c.name() for c in p.find_all("for _ in _: _")] == ["j", "i"]
    equiv(swappable, p)
    refused(lambda: lift_scope(skewed, "for j in _: _"),
            "a dependence between iterations would be reversed", prim="lift_scope")
    refused(lambda: reorder_loops(skewed, "for i in _: _"),
            "a dependence between iterations would be reversed", prim="reorder_loops")


@proc
def private_tmp(x: f32[8], y: f32[8]):
    for i in par(0, 8):
        t: f32
        t = x[i] * 2.0
        y[i] = t


def test_the_par_loop_post_check_names_the_primitive():
    msg = refused(lambda: lift_alloc(private_tmp, "t : _"),
                  "iterations of the par loop over 'i' would race", prim="lift_alloc")
    assert "the rewrite:" not in msg
