"""An instruction prints as Exo prints it (its C template as `# @instr` comments after
the `def` line, one per template line), and autofission of an instruction's body makes
a plain procedure, as Exo's autofission does: the rewrite, equivalence (interpreter and
C), and autofission's refusals unchanged."""

from __future__ import annotations

import numpy as np
from scheduling_checks import assert_body, refused

from knit import instr, proc
from knit.stdlib.scheduling import autofission, call_eqv, fission


@instr("for (int_fast32_t knit_i = 0; knit_i < {n}; knit_i++) {{\n"
       "    (&{y_data})[knit_i] = 2.0f * (&{x_data})[knit_i] + 1.0f;\n"
       "}}")
def scale_shift(n: size, x: [f32][n], y: [f32][n]):
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, n):
        y[i] = 2.0 * x[i]
        y[i] = y[i] + 1.0


def test_instr_prints_its_template_as_comments_line_by_line():
    lines = str(scale_shift).splitlines()
    assert lines[0] == "def scale_shift(n: size, x: [f32][n] @ DRAM, y: [f32][n] @ DRAM):"
    assert lines[1:4] == [
        "    # @instr for (int_fast32_t knit_i = 0; knit_i < {n}; knit_i++) {{",
        "    #            (&{y_data})[knit_i] = 2.0f * (&{x_data})[knit_i] + 1.0f;",
        "    #        }}"]  # the template as written (Exo prints it so too)
    assert lines[4] == "    assert stride(x, 0) == 1"


def test_autofission_of_an_instr_makes_a_plain_procedure():
    p = autofission(scale_shift, scale_shift.find("y[i] = 2.0 * _").after())
    assert not p.is_instr() and scale_shift.is_instr()
    assert "@instr" not in str(p)
    assert_body(p, """\
        assert stride(x, 0) == 1
        assert stride(y, 0) == 1
        for i in seq(0, n):
            y[i] = 2.0 * x[i]
        for i in seq(0, n):
            y[i] = y[i] + 1.0""")
    assert p.is_eq(scale_shift)
    x = np.random.default_rng(0).standard_normal(5).astype(np.float32)
    y1, y2 = np.zeros(5, np.float32), np.zeros(5, np.float32)
    scale_shift.interpret(n=5, x=x, y=y1)
    p.interpret(n=5, x=x, y=y2)
    assert np.array_equal(y1, y2)


@proc
def caller(x: f32[6], y: f32[6]):
    scale_shift(6, x, y)


def test_a_call_of_the_fissioned_procedure_compiles_to_its_body():
    p = autofission(scale_shift, scale_shift.find("y[i] = 2.0 * _").after())
    c2 = call_eqv(caller, "scale_shift(_)", p)
    c = c2.c_code_str()
    assert "knit_i" not in c  # not the template: the body's loops
    x = np.arange(6, dtype=np.float32)
    y1, y2 = np.zeros(6, np.float32), np.zeros(6, np.float32)
    caller.compile()(x=x, y=y1)
    c2.compile()(x=x, y=y2)
    assert np.array_equal(y1, 2 * x + 1) and np.array_equal(y1, y2)
    y3 = np.zeros(6, np.float32)
    c2.interpret(x=x, y=y3)
    assert np.array_equal(y1, y3)


def test_fission_keeps_the_instr_and_autofission_refuses_as_before():
    gap = scale_shift.find("y[i] = 2.0 * _").after()
    assert fission(scale_shift, gap).is_instr()  # only autofission drops it (as Exo)
    refused(lambda: autofission(scale_shift, scale_shift.find_loop("i").before()),
            "autofission")
