"""Whole-procedure transformations behind Procedure methods: partial_eval,
transpose, add_assertion. Each takes the Procedure and returns a new one through
common.derive; none is proven equal to the original (each changes what the procedure
takes), so the results are derived unchecked; a refusal names the method."""

from __future__ import annotations

from knit.errors import SchedulingError
from knit.ir import nodes as N, types as T
from knit.ir.visit import map_type, subst, subst_stmts
from knit.rewrite.common import arg_index, derive, ir_of


def partial_eval(proc, args: tuple, kwargs: dict, prim: str = "partial_eval"):
    """Fix control arguments (sizes, indices, bools) to constants and drop them.
    Checks: each value names a control argument and is valid for its type; the result
    passes the front end's checks (memories aside)."""
    ir = ir_of(proc)
    control = [a for a in ir.args if a.type.is_control()]
    if len(args) > len(control):
        raise SchedulingError(f"{prim}: {ir.name} has {len(control)} control "
                              f"argument(s), got {len(args)} values")
    values = {a.name.name: v for a, v in zip(control, args)}
    for k, v in kwargs.items():
        if not any(a.name.name == k for a in control):
            raise SchedulingError(f"{prim}: {ir.name} has no size/index/bool "
                                  f"argument '{k}'")
        values[k] = v
    env = {}
    for a in control:
        if a.name.name in values:
            v = values[a.name.name]
            ok = isinstance(v, bool) if a.type == T.BOOL else \
                isinstance(v, int) and not isinstance(v, bool)
            if not ok or (a.type == T.SIZE and v < 1):
                raise SchedulingError(f"{prim}: {v!r} is not a valid {a.type} for "
                                      f"'{a.name.name}'")
            env[a.name] = N.Const(v, T.BOOL if a.type == T.BOOL else T.INT)
    new_args = tuple(N.FnArg(a.name, map_type(a.type, lambda e: subst(e, env)), a.mem,
                             a.srcinfo) for a in ir.args if a.name not in env)
    preds = tuple(subst(p, env) for p in ir.preds)
    new_ir = ir.with_(args=new_args, preds=preds, body=subst_stmts(ir.body, env))
    return _checked(proc, new_ir, prim)


def _checked(proc, new_ir, prim):
    from knit.errors import KnitError
    from knit.frontend.checks import check_proc

    try:
        check_proc(new_ir, memories=False)
    except KnitError as e:
        raise SchedulingError(f"{prim}: the result is not valid: "
                              f"{str(e).splitlines()[0]}") from e
    return derive(proc, new_ir, unsafe=True, prim=prim)


def transpose(proc, arg_cursor):
    """Swap the two dimensions of a 2-D tensor argument (a located argument cursor)
    and every access to it. Checks: a 2-D tensor, accessed only element by element
    (not windowed, not passed to a call)."""
    prim = "transpose"
    ir = ir_of(proc)
    a = ir.args[arg_index(arg_cursor)]
    if not a.type.is_tensor() or len(a.type.shape()) != 2:
        raise SchedulingError(f"{prim}: '{a.name.name}' is not a 2-D tensor argument")
    from knit.rewrite.bufaccess import map_accesses, uses

    if any(k in ("window", "whole", "stride") for k, _ in uses(ir.body, a.name)):
        raise SchedulingError(f"{prim}: '{a.name.name}' is passed to a call or windowed; "
                              "only element accesses can be transposed")
    d0, d1 = a.type.shape()
    typ = T.TensorT((d1, d0), a.type.is_window, a.type.elem)
    args = tuple(N.FnArg(x.name, typ, x.mem, x.srcinfo) if x is a else x for x in ir.args)
    body = map_accesses(ir.body, a.name, lambda idx: (idx[1], idx[0]))
    # a transposed argument is a different procedure: it is not proven equal
    return derive(proc, ir.with_(args=args, body=body), unsafe=True, prim=prim)


def add_assertion(proc, text: str):
    """A new precondition (an `assert` at the top): narrows the inputs, so the result is
    not proven equal to the original. Checks: `text` is a condition over the
    procedure's arguments."""
    prim = "add_assertion"
    from knit.frontend.fragment import parse_expr_fragment

    e = parse_expr_fragment(proc, text, (("body", 0),), prim)
    if e.type != T.BOOL:
        raise SchedulingError(f"{prim}: {text!r} is not a condition")
    ir = ir_of(proc)
    return derive(proc, ir.with_(preds=ir.preds + (e,)), unsafe=True, prim=prim)
