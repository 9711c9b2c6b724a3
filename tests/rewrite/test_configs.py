"""Config primitives: bind_config, delete_config, write_config.

Each has the three kinds of test: the rewritten code, equivalence on random inputs
(compiled C and interpreter; check_equiv compares buffers, and as in Exo a config
rewrite may change only what the procedure leaves in the field it touches), and
refusal of the unsafe uses with the reason. Where a refusal guards a real trap, the
would-be result is written out by hand and shown to compute something else."""

from __future__ import annotations

from refusals import marked_line
from scheduling_checks import assert_body, differs, equiv, refused

from knit import config, proc
from knit.stdlib.scheduling import bind_config, delete_config, write_config


@config
class Load:
    scale: f32
    src_stride: stride


@config
class Ctrl:
    i: index
    b: bool


@config(disable_rw=True)
class Hidden:
    v: f32


# ---------------------------------------------------------------- bind_config


@proc
def scaled(n: size, x: f32[n], scale: f32):
    for i in seq(0, n):
        tmp: f32
        tmp = x[i]
        tmp = tmp * scale
        x[i] = tmp


def test_bind_config():
    p = bind_config(scaled, "scale", Load, "scale")
    assert_body(p, """
        for i in seq(0, n):
            tmp: f32 @ DRAM
            tmp = x[i]
            Load.scale = scale
            tmp = tmp * Load.scale
            x[i] = tmp
    """)
    equiv(scaled, p)


def test_bind_config_of_a_bool_in_a_condition():
    @proc
    def flagged(n: size, x: f32[n], on: bool):
        for i in seq(0, n):
            if on:
                x[i] = 0.0

    p = bind_config(flagged, "on", Ctrl, "b")
    assert_body(p, """
        for i in seq(0, n):
            Ctrl.b = on
            if Ctrl.b:
                x[i] = 0.0
    """)
    equiv(flagged, p)


def test_bind_config_after_an_earlier_bind_of_the_same_field():
    @proc
    def twice(n: size, x: f32[n], s: f32):
        for i in seq(0, n):
            x[i] = x[i] * s
            x[i] = x[i] + s

    p = bind_config(twice, twice.find("x[i] * s").rhs(), Load, "scale")
    p = bind_config(p, p.find("x[i] + s").rhs(), Load, "scale")
    assert_body(p, """
        for i in seq(0, n):
            Load.scale = s
            x[i] = x[i] * Load.scale
            Load.scale = s
            x[i] = x[i] + Load.scale
    """)
    equiv(twice, p)


@proc
def reads_field(n: size, x: f32[n], s: f32):
    Load.scale = 2.0
    for i in seq(0, n):
        x[i] = x[i] * s  # <- reads_field
        x[i] = x[i] + Load.scale  # <- the later read


def test_bind_config_refuses_changing_a_field_read_later():
    msg = refused(lambda: bind_config(reads_field, "s", Load, "scale"),
                  "binding this write would change the value of Load.scale that a later "
                  "statement reads",
                  f"it is read by line {marked_line(__file__, 'the later read')}: "
                  "x[i] = x[i] + Load.scale", prim="bind_config")
    assert f":{marked_line(__file__, 'reads_field')}:" in msg.splitlines()[0]

    @proc
    def bound(n: size, x: f32[n], s: f32):  # what binding would give
        Load.scale = 2.0
        for i in seq(0, n):
            Load.scale = s
            x[i] = x[i] * Load.scale
            x[i] = x[i] + Load.scale

    differs(reads_field, bound)


def test_bind_config_refuses_other_values():
    @proc
    def values(A: f32[10], s: f64, b: bool):
        for i in seq(0, 10):
            tmp: f32
            tmp = A[i]
            A[i] = tmp * s
            if b:
                A[i] = 0.0

    @proc
    def callee(v: f32):
        v = 1.0

    @proc
    def calls(s: f32):
        callee(s)

    refused(lambda: bind_config(values, "A[i]", Load, "scale"),
            "'A[i]' is not a scalar data variable or a bool variable")
    refused(lambda: bind_config(values, "i", Ctrl, "i"), "'i' is not a scalar data variable")
    refused(lambda: bind_config(values, "tmp", Ctrl, "i"),
            "'tmp' is an f32 value but Ctrl.i is an index field")
    refused(lambda: bind_config(values, "s", Load, "scale"),
            "'s' is an f64 value but Load.scale is an f32 field")
    refused(lambda: bind_config(calls, "s", Load, "scale"),
            "'s' is a buffer passed to 'callee', not a value")
    refused(lambda: bind_config(values, "b", Hidden, "v"), "disable_rw=True")
    refused(lambda: bind_config(values, "tmp", Load, "nope"), "config Load has no field 'nope'")
    refused(lambda: bind_config(values, "tmp", object(), "nope"), "expected a config")


# ---------------------------------------------------------------- delete_config


@proc
def overwritten(n: size, x: f32[n], s: f32):
    for i in seq(0, n):
        Load.scale = s
        x[i] = 2.0
    for i in seq(0, n):
        Load.scale = 3.0
        x[i] = x[i] * Load.scale


def test_delete_config_overwritten_before_any_read():
    p = delete_config(overwritten, "Load.scale = s")
    assert_body(p, """
        for i in seq(0, n):
            x[i] = 2.0
        for i in seq(0, n):
            Load.scale = 3.0
            x[i] = x[i] * Load.scale
    """)
    equiv(overwritten, p)


def test_delete_config_of_a_repeated_write():
    @proc
    def repeated(n: size, x: f32[n], s: f32):
        Load.scale = s
        x[0] = 1.0
        Load.scale = s
        for i in seq(0, n):
            x[i] = x[i] * Load.scale

    p = delete_config(repeated, "Load.scale = _ #1")
    assert_body(p, """
        Load.scale = s
        x[0] = 1.0
        for i in seq(0, n):
            x[i] = x[i] * Load.scale
    """)
    equiv(repeated, p)


def test_delete_config_of_a_self_assignment_leaves_a_pass():
    @proc
    def self_copy(n: size, x: f32[n]):
        Load.scale = 2.0
        for i in seq(0, n):
            Load.scale = Load.scale
        for i in seq(0, n):
            x[i] = Load.scale

    p = delete_config(self_copy, "Load.scale = Load.scale")
    assert_body(p, """
        Load.scale = 2.0
        for i in seq(0, n):
            pass
        for i in seq(0, n):
            x[i] = Load.scale
    """)
    equiv(self_copy, p)


def test_delete_config_when_both_branches_overwrite():
    @proc
    def branches(n: size, x: f32[n], s: f32):
        Load.scale = s
        if n > 2:
            Load.scale = 3.0
        else:
            Load.scale = 4.0
        x[0] = Load.scale

    p = delete_config(branches, "Load.scale = s")
    assert_body(p, """
        if n > 2:
            Load.scale = 3.0
        else:
            Load.scale = 4.0
        x[0] = Load.scale
    """)
    equiv(branches, p)


@proc
def carried(n: size, x: f32[n], s: f32):
    Load.scale = 1.0
    for i in seq(0, n):
        x[i] = Load.scale  # <- read next iteration
        Load.scale = s  # <- carried


def test_delete_config_refuses_a_read_in_the_next_iteration():
    msg = refused(lambda: delete_config(carried, "Load.scale = s"),
                  "deleting this write would change the value of Load.scale",
                  f"read by line {marked_line(__file__, 'read next iteration')}",
                  prim="delete_config")
    assert f":{marked_line(__file__, 'carried')}:" in msg.splitlines()[0]

    @proc
    def deleted(n: size, x: f32[n], s: f32):  # what deleting would give
        Load.scale = 1.0
        for i in seq(0, n):
            x[i] = Load.scale

    differs(carried, deleted, sizes={"n": [2, 3]})


def test_delete_config_refuses_a_read_by_a_callee_or_its_precondition():
    @proc
    def fill(x: [f32][4]):
        for i in seq(0, 4):
            x[i] = Load.scale

    @proc
    def strided(n: size, x: [f32][n]):
        assert stride(x, 0) == Load.src_stride
        x[0] = 1.0

    @proc
    def calls(x: f32[4, 4], s: f32):
        Load.scale = s
        fill(x[0, :])
        Load.src_stride = 4
        strided(4, x[:, 0])

    refused(lambda: delete_config(calls, "Load.scale = _"), "read by line", "fill(x[0, 0:4])")
    refused(lambda: delete_config(calls, "Load.src_stride = _"), "strided(4, x[0:4, 0])")


def test_delete_config_refuses_when_an_overwrite_may_not_happen():
    @proc
    def maybe(n: size, x: f32[n], s: f32):
        Load.scale = s
        if n > 2:
            Load.scale = 3.0
        for i in seq(0, n - 1):
            Load.scale = 4.0
        x[0] = Load.scale

    refused(lambda: delete_config(maybe, "Load.scale = s"), "x[0] = Load.scale")
    refused(lambda: delete_config(maybe, "Load.scale = 3.0"), "x[0] = Load.scale")


def test_delete_config_refuses_other_statements():
    refused(lambda: delete_config(overwritten, "x[_] = 2.0"), "expected a config write")


# ---------------------------------------------------------------- write_config


def test_write_config_of_a_variable():
    @proc
    def foo(x: f32[1]):
        tmp: f32
        tmp = 0.0
        x[0] = tmp

    p = write_config(foo, foo.find("tmp = _").after(), Load, "scale", "tmp")
    assert_body(p, """
        tmp: f32 @ DRAM
        tmp = 0.0
        Load.scale = tmp
        x[0] = tmp
    """)
    equiv(foo, p)


@proc
def uses_field(n: size, x: f32[n], s: f32):
    Load.scale = s
    for i in seq(0, n):
        x[i] = x[i] * Load.scale
    x[0] = 1.0


def test_write_config_after_the_last_read_or_repeating_the_value():
    p = write_config(uses_field, uses_field.find_loop("i").after(), Load, "scale", "2.0")
    q = write_config(uses_field, uses_field.find("Load.scale = _").after(), Load, "scale", "s")
    r = write_config(uses_field, uses_field.find("x[_] = _").before(), Load, "src_stride",
                     "stride(x, 0)")
    assert_body(p, """
        Load.scale = s
        for i in seq(0, n):
            x[i] = x[i] * Load.scale
        Load.scale = 2.0
        x[0] = 1.0
    """)
    assert_body(q, """
        Load.scale = s
        Load.scale = s
        for i in seq(0, n):
            x[i] = x[i] * Load.scale
        x[0] = 1.0
    """)
    assert_body(r, """
        Load.scale = s
        for i in seq(0, n):
            Load.src_stride = stride(x, 0)
            x[i] = x[i] * Load.scale
        x[0] = 1.0
    """)
    for new in (p, q, r):
        equiv(uses_field, new)


def test_write_config_refuses_changing_a_field_read_later():
    refused(lambda: write_config(uses_field, uses_field.find_loop("i").before(), Load,
                                 "scale", 2.0),
            "inserting this write would change the value of Load.scale",
            "x[i] = x[i] * Load.scale", prim="write_config")

    @proc
    def written(n: size, x: f32[n], s: f32):  # what inserting would give
        Load.scale = s
        Load.scale = 2.0
        for i in seq(0, n):
            x[i] = x[i] * Load.scale
        x[0] = 1.0

    differs(uses_field, written)


def test_write_config_refuses_other_values():
    @proc
    def values(A: f32[10]):
        for i in seq(0, 10):
            a: f32
            a = A[i]

    gap = values.find("a = _").after()
    refused(lambda: write_config(values, gap, Load, "scale", "A[0]"),
            "cannot write 'A[0]' to Load.scale: only a literal, a stride, or a scalar data "
            "or bool variable")
    refused(lambda: write_config(values, gap, Ctrl, "i", "i"), "cannot write 'i' to Ctrl.i")
    refused(lambda: write_config(values, gap, Load, "scale", "A[0] * A[1]"),
            "expected a literal, a stride expression or a variable")
    refused(lambda: write_config(values, gap, Ctrl, "i", "a"),
            "Ctrl.i is an index field and cannot hold 'a' (an f32 value)")
    refused(lambda: write_config(values, gap, Ctrl, "b", "1.5"), "Ctrl.b is a bool field")
    refused(lambda: write_config(values, gap, Hidden, "v", "1.0"), "disable_rw=True")
    refused(lambda: write_config(values, values.find("a = _"), Load, "scale", "1.0"),
            "expected a gap")
