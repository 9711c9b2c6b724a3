"""Where Exo 1.0 refuses and knit does not (or refuses differently), pinned in knit's
words: the programs knit accepts mean one thing, the same compiled and interpreted."""

from __future__ import annotations

from refusals import refused
from scheduling_checks import equiv

from knit import config, proc
from knit.equiv import check_backends
from knit.libs.externs import select
from knit.procedure import parse_proc_string
from knit.stdlib.scheduling import fission, specialize


def test_mixed_precision_arithmetic_means_the_same_in_c_and_the_interpreter():
    # Exo's code generator refuses f32 + i8 (its "precision checking"); knit joins the
    # types of the operands, in C as in the interpreter
    @proc
    def mixed(n: size, x: f32[n], y: i8[n], res: f64[n]):
        for i in seq(0, n):
            res[i] = x[i] + y[i]

    check_backends(mixed, trials=4)


def test_select_of_mixed_types_means_the_same_in_c_and_the_interpreter():
    @proc
    def sel(x: i8[16], y: f32[16], z: f64[16]):
        for i in seq(0, 16):
            z[i] = select(x[i] * 2, y[i], z[i], -x[i])

    check_backends(sel, trials=4)


@config
class Last:
    a: f32


# Exo's rule refuses this at @proc (tests/exo_compat/test_config_writes_loop_invariant.py);
# from text (and from rewrites) such a program still exists, and means one thing...
varying = parse_proc_string("""def varying(n: size, A: f32[n] @ DRAM, B: f32[n] @ DRAM):
    for i in seq(0, n):
        Last.a = A[i]
        B[i] = Last.a
""", {"Last": Last}, __file__)


def test_a_config_written_with_a_loop_varying_value():
    # ...in C and in the interpreter alike: a config field is a global the analyses
    # track like any location...
    check_backends(varying, trials=4)


def test_a_config_written_with_a_loop_varying_value_is_not_reordered():
    # ...and a rewrite that would reorder its writes and reads is refused
    refused(lambda: fission(varying, varying.find("Last.a = _").after()),
            "splitting the loop would reorder a dependence", "Last.a", prim="fission")


def test_specialize_on_a_data_comparison_is_a_scheduling_error():
    @proc
    def scale(n: size, C: f32[n], alpha: f32):
        for i in seq(0, n):
            C[i] = alpha * C[i]

    refused(lambda: specialize(scale, "for i in _: _", ["alpha == 0.0"]),
            "invalid condition 'alpha == 0.0': comparisons of data values cannot steer "
            "control flow", prim="specialize")
    p = specialize(scale, "for i in _: _", ["n > 4"])
    assert "if n > 4:" in str(p)
    equiv(scale, p)
