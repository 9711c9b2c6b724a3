"""A config write in a procedure the user writes must not depend on loop iterations
(Exo's type-checker rule, docs/semantics.md#config-loop-invariant): through data (what
the value reads, and what those buffers were written from) and control (the ifs and
loop bounds around the write). Only @proc definitions are held to it: rewrites and
parsed text may hold such a write, and it means one thing (tests/frontend/
test_exo_refusals_judged.py pins that)."""

from __future__ import annotations

from refusals import expect_error, marked_line
from scheduling_checks import equiv

from knit import config, proc
from knit.equiv import check_backends
from knit.errors import KnitTypeError
from knit.procedure import parse_proc_string
from knit.stdlib.scheduling import bind_config


@config
class Cfg:
    a: f32
    k: index


def _refused_at(define, *phrases):
    err = expect_error(define, KnitTypeError, "does not depend on loop iterations",
                       *phrases, line=marked_line(define))
    assert isinstance(err, TypeError)  # Exo's tests match TypeError
    return err


def test_a_value_read_in_the_loop_is_refused():
    def define():
        @proc
        def varying(n: size, A: f32[n]):
            for i in seq(0, n):
                Cfg.a = A[i]  # <-

    _refused_at(define, "Cfg.a", "loop over 'i'", "write the config outside the loop")


def test_a_value_reaching_the_loop_through_a_buffer_is_refused():
    def define():
        @proc
        def indirect(n: size, A: f32[n]):
            for i in seq(0, n):
                a: f32
                a = A[i]
                Cfg.a = a  # <-

    _refused_at(define, "Cfg.a", "'i'")


def test_a_write_steered_by_the_loop_variable_is_refused():
    def define():
        @proc
        def steered(n: size):
            for i in seq(0, n):
                if i == 2:
                    Cfg.k = 0  # <-

    _refused_at(define, "Cfg.k")


def test_a_write_made_by_a_callee_with_loop_varying_arguments_is_refused():
    @proc
    def set_a(x: f32[1]):
        Cfg.a = x[0]

    def define():
        @proc
        def calls(n: size, A: f32[n, 1]):
            for i in seq(0, n):
                set_a(A[i, 0:1])  # <-

    _refused_at(define, "Cfg.a")


def test_a_callee_whose_write_reads_no_varying_argument_is_accepted():
    # as Exo: the loop-varying window reaches the callee, but its config write reads
    # none of it (review of session 9: knit made the write depend on every argument);
    # and a window's stride is the same wherever the window starts
    @proc
    def mark(v: [f32][4]):
        Cfg.a = 2.0
        v[0] = 1.0

    @proc
    def calls(n: size, A: f32[n, 4]):
        for i in seq(0, n):
            mark(A[i, :])
            w = A[i, :]
            if stride(w, 0) == 1:
                Cfg.k = 1

    check_backends(calls, trials=2)


def test_loop_invariant_writes_are_accepted_and_mean_the_same_compiled():
    @proc
    def invariant(n: size, x: f32[n], s: f32[1]):
        for i in seq(0, n):
            Cfg.a = s[0]  # the same value in every iteration
            Cfg.k = n - 1
            x[i] = x[i] * Cfg.a
        for j in seq(0, 4):
            Cfg.a = 2.0

    check_backends(invariant, trials=3)


def test_rewrites_and_parsed_text_are_not_held_to_it():
    @proc
    def scale(n: size, A: f32[n], B: f32[n]):
        for i in seq(0, n):
            a: f32
            a = A[i]
            B[i] = a * 2.0

    p = bind_config(scale, scale.find("a * 2.0").lhs(), Cfg, "a")  # Cfg.a = a, a = A[i]
    assert "Cfg.a = a\n" in str(p)
    check_backends(p, trials=3)  # it means one thing, compiled and interpreted
    q = parse_proc_string(str(p), {"Cfg": Cfg})  # the printed code parses back
    equiv(p, q, proven=False)  # parsed: equal by testing, not by a proof
