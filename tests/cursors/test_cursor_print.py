"""What printing a cursor shows (the whole procedure with the place marked, as Exo 1.0
prints a cursor), Exo's `cursor._impl` view, `get_lca`, and expression cursors made
invalid when a rewrite replaced the expression."""

from __future__ import annotations

import textwrap

import pytest
from scheduling_checks import equiv

from knit import proc
from knit.cursors.internal import text_of
from knit.stdlib.inspection import CursorNavigationError, get_distance, get_lca
from knit.stdlib.scheduling import (
    InvalidCursorError,
    divide_loop,
    simplify,
    split_write,
)


@proc
def nest(n: size, x: f32[n], y: f32[n]):
    assert n > 2
    for i in seq(0, n):
        if i < n - 1:
            x[i] = 1.0
        else:
            x[i] = 2.0
            y[i] = 3.0
    for j in seq(0, n):
        y[j] = x[j]


def _shown(text: str) -> str:
    """A procedure body written at any indentation, indented as a body is printed."""
    return textwrap.indent(textwrap.dedent(text).strip("\n"), "    ")


# as in Exo, a cursor's print leaves out the procedure's assertions
HEAD = "def nest(n: size, x: f32[n] @ DRAM, y: f32[n] @ DRAM):\n"


def test_a_statement_prints_as_the_procedure_with_its_line_marked():
    assert str(nest.find("y[_] = 3.0")) == HEAD + _shown("""
            for i in seq(0, n):
                if i < n - 1:
                    x[i] = 1.0
                else:
                    x[i] = 2.0
                    y[i] = 3.0  # <-- NODE
            for j in seq(0, n):
                y[j] = x[j]
        """)
    loop = str(nest.find_loop("j")).splitlines()
    assert loop[-2:] == ["    for j in seq(0, n):  # <-- NODE", "        y[j] = x[j]"]
    # an if with an else: the else branch's lines are counted past `else:`
    assert "        if i < n - 1:  # <-- NODE" in str(nest.find("if _: _")).splitlines()


def test_blocks_and_gaps_print_with_marker_lines():
    lines = str(nest.find("x[_] = 2.0").expand(0, 1)).splitlines()
    at = lines.index("            # BLOCK START")
    assert lines[at + 1:at + 4] == ["            x[i] = 2.0", "            y[i] = 3.0",
                                    "            # BLOCK END"]
    assert lines[at - 1] == "        else:"
    after = str(nest.find_loop("i").after()).splitlines()
    assert after[after.index("    [GAP - After]") + 1] == "    for j in seq(0, n):"
    before = str(nest.find("x[_] = 1.0").before()).splitlines()
    assert before[before.index("            [GAP - Before]") + 1] == "            x[i] = 1.0"
    # the text without markers is the procedure's
    for c in (nest.find("y[_] = 3.0"), nest.body(), nest.find_loop("j").before()):
        unmarked = [ln.split("  # <-- NODE")[0] for ln in str(c).splitlines()
                    if ln.strip() not in ("# BLOCK START", "# BLOCK END", "[GAP - Before]",
                                          "[GAP - After]")]
        assert "\n".join(unmarked) == str(nest).replace("    assert n > 2\n", "")


def test_text_of_gives_what_the_cursor_points_at_alone():
    assert text_of(nest.find("y[_] = 3.0")) == "y[i] = 3.0"
    assert text_of(nest.find_loop("j")) == "for j in seq(0, n):\n    y[j] = x[j]"
    assert text_of(nest.find("x[_] = 2.0").expand(0, 1)) == "x[i] = 2.0\ny[i] = 3.0"
    assert str(nest.find("x[_] = 2.0").rhs()) == "2.0"  # expressions print alone


def test_printing_an_invalid_cursor_is_refused():
    with pytest.raises(InvalidCursorError, match="cannot print an invalid cursor"):
        str(nest.find_loop("i").parent())


def test_exos_impl_view_prints_nodes_and_the_procedure():
    dim = nest.args()[1].shape()[0]
    assert str(dim._impl._node) == "n" and dim._impl._node.name.name == "n"
    assert str(nest.find("y[_] = 3.0")._impl._node) == "y[i] = 3.0"
    assert str(nest.find_loop("j")._impl.get_root()) == str(nest)


def test_get_lca_is_the_innermost_statement_holding_both():
    three, one = nest.find("y[_] = 3.0"), nest.find("x[_] = 1.0")
    assert get_lca(nest, three, one) == nest.find("if _: _")
    assert get_lca(nest, one, three) == nest.find("if _: _")
    assert get_lca(nest, nest.find_loop("i"), three) == nest.find_loop("i")
    assert get_distance(nest, three, one) == 2  # up to the if, down into the other branch
    with pytest.raises(CursorNavigationError, match="do not have a common ancestor"):
        get_lca(nest, three, nest.find_loop("j"))


def test_an_expression_split_write_replaced_is_invalid_and_so_is_its_statement():
    @proc
    def sums(x: f32, a: f32, b: f32):
        x = a + b

    s = sums.body()[0]
    p = split_write(sums, s)
    with pytest.raises(InvalidCursorError, match="taken apart"):  # as in Exo
        p.forward(s)
    assert text_of(p.forward(s.as_block())[0]) == "x = a"  # its block has both parts
    with pytest.raises(InvalidCursorError, match="expression the cursor pointed at was"):
        p.forward(s.rhs())
    with pytest.raises(InvalidCursorError, match="expression the cursor pointed at was"):
        p.forward(s.rhs().lhs())
    equiv(sums, p)


def test_expressions_of_the_same_kind_still_forward():
    @proc
    def scaled(n: size, x: f32[n]):
        for i in seq(0, n):
            x[i] = 2.0 * x[i]

    idx = scaled.find("x[_] = _").idx()[0]
    p = divide_loop(scaled, "i", 4, ["io", "ii"], tail="cut")
    assert str(p.forward(idx)) == "4 * io + ii"
    p2 = simplify(p)
    assert str(p2.forward(scaled.find("x[_] = _").rhs())) == "2.0 * x[ii + 4 * io]"


def test_an_instrs_statement_prints_without_its_instr_line():
    from knit.platforms.x86 import mm256_loadu_ps

    lines = str(mm256_loadu_ps.find_loop("i")).splitlines()
    assert lines[0].startswith("def mm256_loadu_ps(")
    assert lines[1:] == ["    for i in seq(0, 8):  # <-- NODE", "        dst[i] = src[i]"]
