"""IR -> object code. The output parses back (with the proc's scope) to an equal proc."""

from __future__ import annotations

from knit.errors import InternalError
from knit.ir import nodes as N
from knit.ir.build import window_dim
from knit.ir.sym import Sym

# Python's precedence levels, lowest first
_PREC = {"or": 1, "and": 2, "<": 4, ">": 4, "<=": 4, ">=": 4, "==": 4,
         "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}
_UNARY_PREC = 7


class WrittenInt(float):
    """The value of a data literal written without a decimal point (`x[i] = 1`): a float
    like any other in every computation, printed as it was written (`1`), as Exo prints
    it. A literal written `1.0`, or made by a rewrite, prints `1.0`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(int(self))

    __str__ = __repr__

    def __neg__(self) -> WrittenInt:
        return WrittenInt(-int(self))  # -(0) is the integer 0, not -0.0


class Names:
    """Gives each Sym a printable name, distinct from every other Sym in scope.

    Names of symbols that went out of scope are reused (sibling loops print as `i`
    and `i`, not `i` and `i_1`)."""

    def __init__(self):
        self._of: dict[Sym, str] = {}
        self._owner: dict[str, Sym] = {}  # names in use -> the symbol using it
        # the shapes of the buffers in scope, when a whole procedure is printed: a
        # buffer passed whole prints by name only while it is still all of the buffer
        self.shapes: dict[Sym, tuple] | None = None

    def release(self, syms) -> None:
        for sym in syms:
            name = self._of.get(sym)
            if name is not None and self._owner.get(name) is sym:
                del self._owner[name]

    def __call__(self, sym: Sym) -> str:
        name = self._of.get(sym)
        if name is not None and self._owner.get(name, sym) is sym:
            self._owner[name] = sym
            return name
        name, k = sym.name, 0
        while name in self._owner:
            k += 1
            name = f"{sym.name}_{k}"
        self._of[sym] = name
        self._owner[name] = sym
        return name


def expr_str(e, names: Names | None = None, prec: int = 0) -> str:
    """`e` as knit source. A data literal prints as written (see WrittenInt): `1.0`
    stays `1.0` even when stored into integer data, as in Exo."""
    names = names or Names()
    match e:
        case N.Read(name, idx):
            return names(name) + (f"[{_list(idx, names)}]" if idx else "")
        case N.Const(val):
            return repr(val) if not isinstance(val, float) else _float(val)
        case N.USub(arg):
            s = f"-{expr_str(arg, names, _UNARY_PREC)}"
            return f"({s})" if prec > _UNARY_PREC else s
        case N.BinOp(op, lhs, rhs):
            p = _PREC[op]
            # left-associative: the right operand needs parens at equal precedence;
            # comparisons never chain in knit, so both sides bind tighter
            lp = p + 1 if p == 4 else p
            s = f"{expr_str(lhs, names, lp)} {op} {expr_str(rhs, names, p + 1)}"
            return f"({s})" if prec > p else s
        case N.Extern(f, args):
            return f"{f.name()}({', '.join(expr_str(a, names) for a in args)})"
        case N.WindowExpr(name, idx) if e.whole and _all_of(e, names.shapes):
            return names(name)  # passed whole, written by name (`f(x)`)
        case N.WindowExpr(name, idx):
            return f"{names(name)}[{', '.join(_waccess(w, names) for w in idx)}]"
        case N.StrideExpr(name, dim):
            return f"stride({names(name)}, {dim})"
        case N.ReadConfig(config, field):
            return f"{config.name()}.{field}"
    raise InternalError(f"expr_str: not an expression: {type(e).__name__}")


def _all_of(w: N.WindowExpr, shapes) -> bool:
    """Whether the window is still all of its buffer (a rewrite may have resized the
    buffer since `f(x)` was written); a lone expression prints as written."""
    if shapes is None:
        return True
    shape = shapes.get(w.name)
    return shape is not None and len(shape) == len(w.idx) and all(
        isinstance(a, N.Interval) and isinstance(a.lo, N.Const) and a.lo.val == 0
        and a.hi == d for a, d in zip(w.idx, shape))


def _float(v: float) -> str:
    s = repr(v)
    return s if s not in ("inf", "-inf", "nan") else f"float('{s}')"


def _list(es, names) -> str:
    return ", ".join(expr_str(e, names) for e in es)


def _waccess(w, names) -> str:
    if isinstance(w, N.Interval):
        return f"{expr_str(w.lo, names)}:{expr_str(w.hi, names)}"
    return expr_str(w.pt, names)


def type_str(t, names: Names) -> str:
    if t.is_tensor():
        dims = _list(t.dims, names)
        return f"[{t.elem}][{dims}]" if t.is_window else f"{t.elem}[{dims}]"
    return str(t)


def _mem(mem) -> str:
    return f" @ {mem.name()}" if mem is not None else ""


def stmt_lines(s, names: Names, indent: str) -> list[str]:
    match s:
        case N.Assign(name, typ, idx, rhs) | N.Reduce(name, typ, idx, rhs):
            op = "=" if isinstance(s, N.Assign) else "+="
            lhs = names(name) + (f"[{_list(idx, names)}]" if idx else "")
            return [f"{indent}{lhs} {op} {expr_str(rhs, names)}"]
        case N.WriteConfig(config, field, rhs):
            return [f"{indent}{config.name()}.{field} = {expr_str(rhs, names)}"]
        case N.Pass():
            return [f"{indent}pass"]
        case N.If(cond, body, orelse):
            lines = [f"{indent}if {expr_str(cond, names)}:", *block_lines(body, names, indent)]
            if orelse:
                lines += [f"{indent}else:", *block_lines(orelse, names, indent)]
            return lines
        case N.For(it, lo, hi, body, mode):
            head = f"{indent}for {names(it)} in {mode}({expr_str(lo, names)}, " \
                   f"{expr_str(hi, names)}):"
            lines = [head, *block_lines(body, names, indent)]
            names.release([it])  # siblings may reuse the name
            return lines
        case N.Alloc(name, typ, mem):
            if names.shapes is not None and typ.is_tensor():
                names.shapes[name] = typ.shape()
            return [f"{indent}{names(name)}: {type_str(typ, names)}{_mem(mem)}"]
        case N.Call(f, args):
            return [f"{indent}{f.name}({_list(args, names)})"]
        case N.WindowStmt(name, rhs):
            if names.shapes is not None:
                # a view's shape is not printed: the one parsing computes from its slices
                # (perhaps unlike a simplified one in the IR) says whether `f(w)` parses
                # back to this window
                names.shapes[name] = tuple(window_dim(a.lo, a.hi) for a in rhs.idx
                                           if isinstance(a, N.Interval))
            return [f"{indent}{names(name)} = {expr_str(rhs, names)}"]
    raise InternalError(f"stmt_str: not a statement: {type(s).__name__}")


def block_lines(stmts, names: Names, indent: str) -> list[str]:
    inner = indent + "    "
    lines = [line for s in stmts for line in stmt_lines(s, names, inner)]
    names.release(_bound_here(stmts))
    return lines


def _bound_here(stmts):
    for s in stmts:
        if isinstance(s, (N.Alloc, N.WindowStmt)):
            yield s.name


def _arg_mem(a: N.FnArg) -> str:
    # Exo prints `@ DRAM` on stride and bool parameters, which live in no memory in knit
    # (the parser accepts and ignores it there)
    if a.mem is None and a.type.name in ("stride", "bool"):
        return " @ DRAM"
    return _mem(a.mem)


def printed_names(p: N.Proc) -> dict:
    """Each Sym of `p` -> the name `proc_str(p)` prints for it (`t_1` for a second `t`
    in scope), so that messages about a statement name what the user sees."""
    names = Names()
    proc_str(p, names)
    return dict(names._of)


def proc_str(p: N.Proc, names: Names | None = None) -> str:
    names = names or Names()
    names.shapes = {a.name: a.type.shape() for a in p.args if a.type.is_tensor()}
    args = ", ".join(f"{names(a.name)}: {type_str(a.type, names)}{_arg_mem(a)}"
                     for a in p.args)
    lines = [f"def {p.name}({args}):"]
    if p.instr is not None:  # as Exo prints it: the C template as comments
        first, *rest = p.instr.c_instr.split("\n")
        lines += [f"    # @instr {first}".rstrip(), *(f"    #        {t}".rstrip() for t in rest)]
    lines += [f"    assert {expr_str(e, names)}" for e in p.preds]
    body = block_lines(p.body, names, "") if p.body else ["    pass"]
    return "\n".join(lines + body)


def stmt_str(s, printed: dict | None = None) -> str:
    """`s` as knit source; `printed` (from printed_names) names its Syms as the whole
    procedure prints them."""
    names = Names()
    if printed:
        names._of.update(printed)
    return "\n".join(stmt_lines(s, names, ""))
