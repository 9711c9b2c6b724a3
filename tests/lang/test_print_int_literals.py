"""The printer writes a data literal as it was written, as Exo does (`A[1] = 0` and
`B[0] = 1` stay integers, `A[2] = 2.0` stays a float even into i32), and the text still
parses back to an equal proc."""

from __future__ import annotations

from knit import config, proc
from knit.ir.visit import alpha_eq
from knit.procedure import parse_proc_string


@config
class IntCfg:
    v: i32


@proc
def ints(A: i32[4] @ DRAM, B: f32[4] @ DRAM, x: i8[2] @ DRAM):
    A[1] = 0
    A[2] = A[0] + 3
    A[3] = 2.5
    A[2] = 2.0
    A[0] = 3.0 / 2.0 * 2.0
    A[1] = -A[2] * 4
    B[0] = 1
    B[1] = B[0] * 2
    x[0] = x[1] * 2 - 1
    IntCfg.v = 7
    for i in seq(0, 2):
        A[i] += 1


def test_data_literals_print_as_written():
    text = str(ints)
    assert "A[1] = 0\n" in text
    assert "A[2] = A[0] + 3\n" in text
    assert "A[3] = 2.5\n" in text
    assert "A[2] = 2.0\n" in text  # an integer value written as a float
    assert "A[0] = 3.0 / 2.0 * 2.0\n" in text  # literals only: computed in f64
    assert "A[1] = -A[2] * 4\n" in text
    assert "B[0] = 1\n" in text and "B[1] = B[0] * 2\n" in text  # float context too
    assert "x[0] = x[1] * 2 - 1\n" in text
    assert "IntCfg.v = 7\n" in text
    assert text.endswith("A[i] += 1")


def test_and_parse_back_to_an_equal_proc():
    again = parse_proc_string(str(ints), ints._scope)
    assert alpha_eq(ints._loopir_proc, again._loopir_proc)
    assert str(again) == str(ints)
