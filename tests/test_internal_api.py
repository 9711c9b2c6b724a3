"""The internal interfaces other layers read Procedures and cursors through (issue 14):
knit.ir.handles (ir_of, scope_of, check, expect_procedure, Notes) and
knit.cursors.internal; and one error class for a non-Procedure argument at the entry
points outside the scheduling primitives (check_backends, time_in_c, c_arguments,
check_instr)."""

from __future__ import annotations

import gc

import pytest

from knit import proc
from knit.cursors import internal as I
from knit.equiv import check_backends
from knit.errors import KnitTypeError, ProcedureTypeError, SchedulingError
from knit.instrcheck import check_instr
from knit.ir import handles, nodes as N
from knit.ir.handles import Notes
from knit.runtime.timing import c_arguments, time_in_c
from knit.stdlib.scheduling import divide_loop, rename
from knit.trace import at, path_of

SCALE = 2.0


@proc
def f(N: size, A: f32[N], B: f32[N]):
    for i in seq(0, N):
        A[i] = B[i] * SCALE
    for j in seq(0, N):
        B[j] = 0.0


# ------------------------------------------------------------ handles


def test_the_ir_and_the_scope_of_a_procedure():
    ir = handles.ir_of(f)
    assert isinstance(ir, N.Proc) and ir.name == "f"
    assert handles.procedure_of(ir) is f
    assert handles.scope_of(f)["SCALE"] == 2.0  # the names the definition saw


def test_check_runs_deferred_checks():
    g = rename(f, "g")  # derived: checked when compiled or run, or when asked
    handles.check(g)
    handles.check(g)  # once is enough; again is harmless


def test_notes_are_per_procedure_object():
    notes = Notes()
    g = rename(f, "g")
    h = rename(f, "g")  # equal to g (same code), but another procedure
    assert g == h and g is not h
    notes.put(g, "step")
    assert notes.get(g) == "step"
    assert notes.get(h) is None and notes.get(h, "none") == "none"
    notes.put(g, "again")
    assert notes.get(g) == "again"


def test_a_note_goes_with_its_procedure():
    notes = Notes()
    g = rename(f, "g")
    notes.put(g, "step")
    assert len(notes._entries) == 1
    del g
    gc.collect()
    assert notes._entries == {}


# ------------------------------------------------------------ cursors.internal


def test_cursor_accessors_agree_with_the_cursor():
    loop = f.find_loop("i")
    assert I.proc_of(loop) is f
    assert I.node_of(loop) is handles.ir_of(f).body[0]
    assert I.path_of(loop) == (("body", 0),)
    rhs = f.find("B[_] * _")
    assert I.path_of(rhs) == (("body", 0), ("body", 0))  # the statement it is in
    assert isinstance(I.node_of(rhs), N.BinOp)
    assert I.expr_path_of(rhs) == (("rhs", None),)
    assert I.arg_index_of(f.args()[2]) == 2
    assert I.span_of(f.body()) == I.Span((), "body", 0, 2)
    gap = f.find_loop("j").before()
    assert I.gap_of(gap) == I.Gap((), "body", 1, False)
    assert I.gap_of(f.find_loop("i").after()).anchored_after


@pytest.mark.parametrize("cursor", [
    lambda: f.find_loop("i"),
    lambda: f.find("B[_] * _"),
    lambda: f.args()[1],
    lambda: f.body(),
    lambda: f.find_loop("j").before(),
    lambda: f.find_loop("i").after(),
])
def test_trace_paths_round_trip(cursor):
    c = cursor()
    assert at(f, path_of(c)) == c


# ------------------------------------------------------------ a Procedure expected


@pytest.mark.parametrize("call, entry", [
    (lambda: check_backends("f"), "check_backends"),
    (lambda: time_in_c(handles.ir_of(f), {"N": 4}), "time_in_c"),
    (lambda: c_arguments(f.name, {"N": 4}), "c_arguments"),
    (lambda: check_instr("mm256_loadu_ps"), "check_instr"),
    (lambda: divide_loop(None, "i", 2, ["io", "ii"]), "divide_loop"),
])
def test_a_non_procedure_is_a_procedure_type_error(call, entry):
    with pytest.raises(ProcedureTypeError) as info:
        call()
    assert str(info.value).startswith(f"{entry}: expected a Procedure")
    assert isinstance(info.value, TypeError) and isinstance(info.value, SchedulingError)


def test_c_arguments_still_takes_ir():
    decls, args, frees = c_arguments(handles.ir_of(f), {"N": 4})
    assert args and decls


def test_check_instr_of_a_plain_proc_is_a_knit_type_error():
    with pytest.raises(KnitTypeError, match="check_instr: expected an @instr procedure, got "
                                            "the proc 'f'"):
        check_instr(f)
