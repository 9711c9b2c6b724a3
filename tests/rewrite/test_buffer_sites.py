"""Buffer and memory primitives act on a Site (issue 14 item 1): an allocation's path,
or an argument's `(("args", i),)`. These pin what that path must keep doing: an
argument's declaration is rewritten in the signature, several lifts derive one
procedure per level whose post-checks name the primitive the user called, and
bind_expr's expression sites replace every occurrence."""

from __future__ import annotations

from refusals import refused
from scheduling_checks import assert_body, equiv

from knit import proc
from knit.stdlib.scheduling import (
    autolift_alloc,
    bind_expr,
    lift_alloc,
    set_memory,
    set_precision,
    set_window,
)


@proc
def scale(n: size, x: f32[n], y: f32[n]):
    for i in seq(0, n):
        y[i] = x[i] * 2.0


@proc
def shared_tmp(x: f32[8], y: f32[8]):
    for i in par(0, 8):
        for j in seq(0, 2):
            t: f32
            t = x[i] * 2.0
            y[i] = t


def test_set_window_rewrites_the_argument_in_the_signature():
    p = set_window(scale, "x")
    assert "x: [f32][n]" in str(p)
    equiv(scale, p)
    msg = refused(lambda: set_window(bind_expr(scale, "x[i] * 2.0", "t"), "t"),
                  "only arguments can be windows")
    assert msg.startswith("set_window: "), msg


def test_set_memory_and_precision_of_an_argument_and_of_an_allocation():
    from knit.memory import DRAM_STACK

    p = set_precision(scale, "y", "f64")
    assert "y: f64[n]" in str(p)
    p = bind_expr(p, "x[i] * 2.0", "t")
    p = set_memory(p, "t", DRAM_STACK)
    assert "t: f32 @ DRAM_STACK" in str(p)
    assert p.is_eq(scale)


def test_every_level_of_a_lift_is_checked_and_names_the_primitive():
    # out of the seq loop: private to each iteration of i still; out of the par loop:
    # shared by its iterations, which the post-check of the second level refuses
    p = lift_alloc(shared_tmp, "t : _")
    assert_body(p, """
        for i in par(0, 8):
            t: f32 @ DRAM
            for j in seq(0, 2):
                t = x[i] * 2.0
                y[i] = t""")
    equiv(shared_tmp, p)
    refused(lambda: lift_alloc(shared_tmp, "t : _", n_lifts=2),
            "iterations of the par loop over 'i' would race", prim="lift_alloc")
    refused(lambda: autolift_alloc(shared_tmp, "t : _", n_lifts=2),
            "iterations of the par loop over 'i' would race", prim="autolift_alloc")


def test_autolift_expands_then_lifts_out_of_the_par_loop():
    p = autolift_alloc(shared_tmp, "t : _", n_lifts=2, keep_dims=True)
    assert "t: f32[8] @ DRAM" in str(p) and "t[i] = x[i] * 2.0" in str(p)
    equiv(shared_tmp, p)


def test_bind_expr_binds_every_occurrence_it_is_given():
    @proc
    def twice(x: f32[8], y: f32[8]):
        for i in seq(0, 8):
            y[i] = x[i] * 2.0 + x[i] * 2.0

    p = bind_expr(twice, "x[i] * 2.0", "t")
    assert_body(p, """
        for i in seq(0, 8):
            t: f32 @ DRAM
            t = x[i] * 2.0
            y[i] = t + t""")
    equiv(twice, p)
    msg = refused(lambda: bind_expr(twice, [twice.find("x[i] * 2.0"), twice.find("x[i]")],
                                    "t"), "the expressions differ")
    assert msg.startswith("bind_expr: "), msg
