"""Exo 1.0's public module paths and names exist under knit and mean what Exo's do
(replayed in knit's words: the names Exo programs import, and how they behave)."""

from __future__ import annotations

import importlib

import pytest

from knit import ExoType, Procedure, proc
from knit.stdlib.scheduling import divide_loop, simplify

EXO_PRIMITIVES = (
    "simplify rename make_instr insert_pass insert_noop_call delete_pass reorder_stmts "
    "parallelize_loop commute_expr left_reassociate_expr rewrite_expr bind_expr "
    "extract_subproc inline replace call_eqv set_precision set_window set_memory "
    "bind_config delete_config write_config resize_dim expand_dim rearrange_dim divide_dim "
    "mult_dim unroll_buffer lift_alloc sink_alloc autolift_alloc delete_buffer "
    "reuse_buffer inline_window stage_mem divide_with_recompute divide_loop mult_loops "
    "join_loops cut_loop shift_loop reorder_loops merge_writes split_write "
    "fold_into_reduce inline_assign lift_reduce_constant fission autofission fuse "
    "remove_loop add_loop unroll_loop lift_scope eliminate_dead_code specialize "
    "add_unsafe_guard").split()

EXO_CURSORS = (
    "Cursor InvalidCursor ArgCursor StmtCursorPrototype StmtCursor BlockCursor GapCursor "
    "ExprCursorPrototype ExprCursor ExprListCursor AssignCursor ReduceCursor "
    "AssignConfigCursor PassCursor IfCursor ForCursor AllocCursor CallCursor "
    "WindowStmtCursor ReadCursor ReadConfigCursor LiteralCursor UnaryMinusCursor "
    "BinaryOpCursor ExternFunctionCursor WindowExprCursor StrideExprCursor "
    "InvalidCursorError").split()


@pytest.mark.parametrize("module,names", [
    ("knit.API_scheduling", EXO_PRIMITIVES),
    ("knit.stdlib.scheduling", EXO_PRIMITIVES + ["repeat", "sched_seq", "lift_if",
                                                 "replace_all", "replace_once",
                                                 "loop_hack"] + EXO_CURSORS),
    ("knit.API_cursors", EXO_CURSORS),
    ("knit.libs.memories", ["MDRAM", "DRAM_STATIC", "DRAM_STACK", "AVX2", "AVX512",
                            "AMX_TILE", "StaticMemory", "MemGenError"]),
    ("knit.core.memory", ["Memory", "DRAM", "StaticMemory", "MemGenError"]),
    ("knit.frontend.syntax", ["size", "f32", "stride", "par", "N", "M", "K"]),
    ("knit.libs.externs", ["select", "relu", "sin"]),
    ("knit", ["proc", "instr", "config", "Procedure", "Memory", "DRAM", "Config",
              "Extern", "SchedulingError", "ParseFragmentError", "compile_procs",
              "compile_procs_to_strings", "ExoType", "stdlib"]),
    ("knit.stdlib.stdlib", ["dce", "round_loop", "fma_rule", "hoist_stmt",
                            "hoist_from_loop", "tile_loops", "cleanup", "unroll_loops",
                            "attempt", "make_pass", "get_enclosing_loop"]),
])
def test_exo_names_exist(module, names):
    mod = importlib.import_module(module)
    missing = [n for n in names if not hasattr(mod, n)]
    assert not missing, f"{module} lacks {missing}"
    star = {}
    exec(f"from {module} import *", star)
    if hasattr(mod, "__all__"):
        assert not [n for n in names if n in mod.__all__ and n not in star]


def test_avx_memories_are_the_platform_classes():
    # one class per memory: instructions written against either path match buffers
    # declared with the other (a merge that drops the lazy names breaks this)
    from knit.libs.memories import AVX2, AVX512
    from knit.platforms import x86

    assert AVX2 is x86.AVX2 and AVX512 is x86.AVX512


def test_syntax_placeholders_are_not_callable():
    from knit.frontend.syntax import par, size

    with pytest.raises(SyntaxError, match="never called"):
        size(3)
    with pytest.raises(SyntaxError, match="never called"):
        par(0, 4)


def test_star_import_of_syntax_keeps_procs_parsing():
    # `from exo.frontend.syntax import *` binds R, N... to placeholders; the parser reads
    # the source, so annotations still mean knit's types
    from knit.procedure import parse_proc_string

    scope = {}
    exec("from knit.frontend.syntax import *", scope)
    assert scope["R"] is not None and scope["N"].__name__ == "N"
    foo = parse_proc_string("def foo(N: size, x: R[N], y: f32[N]):\n"
                            "    for i in seq(0, N):\n        x[i] = y[i]\n", scope)
    assert str(foo).startswith("def foo(N: size, x: R[N] @ DRAM, y: f32[N] @ DRAM)")


def _make_foo():
    @proc
    def foo(n: size, m: size):
        assert m == 1 and n == 1
        y: R[10]
        y[10 * m - 10 * n + 2 * n] = 2.0

    return foo


def test_procedure_equality_is_exos():
    foo = _make_foo()
    again = Procedure(foo.INTERNAL_proc())
    assert foo != 3
    assert foo == foo and foo == again and again == foo
    assert hash(foo) == hash(again)
    assert foo != _make_foo()  # written alike, but other variables


def test_procedure_equality_sees_a_change():
    @proc
    def foo(x: R[8]):
        for i in seq(0, 8):
            x[i] = 1.0

    assert simplify(foo) == foo  # nothing to simplify: the same code
    assert divide_loop(foo, "i", 4, ["io", "ii"], perfect=True) != foo


def test_exotype_compares_with_cursor_types():
    @proc
    def foo(n: size, i: index, b: bool, a: R[n], c: i8, d: f32, e: f64[n]):
        x: i32
        x = 0

    assert foo.find("x : _").type() == ExoType.I32
    assert foo.args()[3].type() == ExoType.R  # a tensor compares as its element type
    assert foo.args()[0].type() == ExoType.Size
    assert foo.args()[1].type() == ExoType.Index
    assert foo.args()[2].type() == ExoType.Bool
    assert ExoType.F64 == foo.args()[6].type()
    assert foo.args()[5].type() != ExoType.F64
    assert ExoType.I8.is_numeric() and ExoType.Size.is_indexable() and ExoType.Bool.is_bool()


def test_cursor_prototypes_classify_like_exo():
    from knit.API_cursors import ExprCursorPrototype, ExprListCursor, GapCursor, StmtCursorPrototype

    @proc
    def foo(x: R[8]):
        for i in seq(0, 8):
            x[i] = 1.0

    loop = foo.find_loop("i")
    assert isinstance(loop, StmtCursorPrototype)
    assert isinstance(loop.body(), StmtCursorPrototype)
    assert isinstance(loop.before(), (StmtCursorPrototype, GapCursor))
    assign = foo.find("x[_] = _")
    assert isinstance(assign.rhs(), ExprCursorPrototype)
    assert not isinstance(assign, ExprCursorPrototype)
    idx = ExprListCursor.of(assign.idx())
    assert len(idx) == 1 and str(idx[0]) == "i" and list(idx) == assign.idx()
    assert idx.proc() is foo
    with pytest.raises(TypeError, match="expression cursors"):
        ExprListCursor([loop])


def test_is_atomic_scheduling_op():
    from knit.API_scheduling import is_atomic_scheduling_op
    from knit.stdlib.stdlib import round_loop

    assert is_atomic_scheduling_op(divide_loop)
    assert not is_atomic_scheduling_op(round_loop)
