"""Expressions -> C: index arithmetic (with floor division), data arithmetic, accesses.

Index values follow knit's semantics: `/` and `%` round towards minus infinity. C's
round towards zero, which agrees when the numerator is non-negative; that is proven
syntactically (sizes, constants, loop variables counting up from a non-negative
bound, + and * of those), and otherwise a small helper does the floor division.
"""

from __future__ import annotations

import math
import re

from knit.errors import InternalError, KnitTypeError, MemoryAccessError
from knit.ir import nodes as N
from knit.ir import types as T
from knit.ir.sym import Sym
from knit.memory import MemGenError

# C precedence levels, lowest first (unary minus binds tightest)
_PREC = {"or": 1, "and": 2, "==": 3, "<": 4, ">": 4, "<=": 4, ">=": 4,
         "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}
_UNARY = 7
_C_OP = {"and": "&&", "or": "||"}
# operands that -Wparentheses wants wrapped even when precedence makes them unambiguous
_WRAP = {"or": {"and"}, "==": {"==", "<", ">", "<=", ">="}}

_ATOM = re.compile(r"^[\w.]+(\[[^\[\]]*\])*$")

HELPERS = {
    "knit_floor_div": (
        "static inline int_fast32_t knit_floor_div(int_fast32_t n, int_fast32_t d) {\n"
        "    int_fast32_t q = n / d;\n"
        "    return q - ((n % d != 0) && ((n < 0) != (d < 0)));\n"
        "}"),
    "knit_floor_mod": (
        "static inline int_fast32_t knit_floor_mod(int_fast32_t n, int_fast32_t d) {\n"
        "    int_fast32_t r = n % d;\n"
        "    return (r != 0 && ((r < 0) != (d < 0))) ? r + d : r;\n"
        "}"),
}

NARROW = ("i8", "ui8", "ui16", "f16")  # C computes these in a wider type
_FLOAT_RANK = {"f64": 3, "f32": 2, "f16": 1}


def _c_join(a: T.ScalarT, b: T.ScalarT) -> T.ScalarT:
    """The type of `a op b` in C: the wider float, else (integers) `int`."""
    if a == b:
        return a
    ra, rb = _FLOAT_RANK.get(a.name, 0), _FLOAT_RANK.get(b.name, 0)
    if ra or rb:
        return a if ra >= rb else b
    return T.I32


def paren(s: str) -> str:
    """`s` wrapped in parentheses unless it is a name, number or element access."""
    return s if _ATOM.match(s) else f"({s})"


def hook_error(srcinfo, what: str, err: Exception) -> MemGenError:
    """A memory hook's failure as a MemGenError that points at the statement."""
    located = f"{srcinfo}: {what}: {err}"
    excerpt = srcinfo.excerpt() if srcinfo is not None else ""
    return MemGenError(located + (f"\n{excerpt}" if excerpt else ""))


def real_literal(val, typ: T.ScalarT) -> str:
    """A C literal of data type `typ` (f32 -> `2.0f`)."""
    if typ.name in ("i8", "ui8", "ui16", "i32"):
        v = float(val)
        return str(int(v)) if v.is_integer() else f"(({typ.ctype}) {v!r})"
    v = float(val)
    if math.isinf(v) or math.isnan(v):
        s = ("-INFINITY" if v < 0 else "INFINITY") if math.isinf(v) else "NAN"
        return f"(({typ.ctype or 'double'}) {s})"
    s = repr(v)
    if typ.name == "f32":
        return s + "f"
    if typ.name == "f16":
        return f"((_Float16) {s})"
    return s


class ExprCompiler:
    """Compiles the expressions of one C function. Holds what expressions need to know
    about names: their C names, tensor views, scalar buffers, non-negative symbols."""

    def __init__(self, names, unit):
        self.names = names
        self.unit = unit
        self.views: dict[Sym, object] = {}  # tensor name -> windows.View
        self.scalars: dict[Sym, tuple[str, type]] = {}  # scalar buffer -> ("ptr"|"val", mem)
        self.nonneg: set[Sym] = set()
        self.read: set[Sym] = set()  # syms whose C name was used other than as a target

    def use(self, sym: Sym) -> str:
        self.read.add(sym)
        return self.names[sym]

    # ------------------------------------------------------------ index expressions

    def index(self, e, prec: int = 0) -> str:
        """A control expression (index, size, stride, bool) as C."""
        match e:
            case N.Const(val):
                if isinstance(val, bool):
                    return "true" if val else "false"
                return str(int(val))
            case N.Read(name):
                return self.use(name)
            case N.USub(arg):
                return self._neg(self.index(arg, _UNARY), prec)
            case N.BinOp(op, lhs, rhs):
                return self._index_binop(e, op, lhs, rhs, prec)
            case N.StrideExpr(name, dim):
                self.read.add(self.views[name].root)
                return self.views[name].stride(dim)
            case N.ReadConfig():
                return self.config_field(e)
        raise InternalError(f"not a control expression: {type(e).__name__}")

    def _index_binop(self, e, op, lhs, rhs, prec) -> str:
        if op in ("/", "%"):
            if self.is_nonneg(lhs) and isinstance(rhs, N.Const) and rhs.val > 0:
                return self._infix(op, lhs, rhs, prec, self.index)
            helper = "knit_floor_div" if op == "/" else "knit_floor_mod"
            self.unit.helpers.add(helper)
            return f"{helper}({self.index(lhs)}, {self.index(rhs)})"
        return self._infix(op, lhs, rhs, prec, self.index)

    def _infix(self, op, lhs, rhs, prec, compile_) -> str:
        p = _PREC[op]
        lp, rp = p, p + 1  # left-associative
        wrap = _WRAP.get(op, ())
        if isinstance(lhs, N.BinOp) and lhs.op in wrap:
            lp = _PREC[lhs.op] + 1
        if isinstance(rhs, N.BinOp) and rhs.op in wrap:
            rp = max(rp, _PREC[rhs.op] + 1)
        s = f"{compile_(lhs, lp)} {_C_OP.get(op, op)} {compile_(rhs, rp)}"
        return f"({s})" if prec > p else s

    @staticmethod
    def _neg(arg: str, prec: int) -> str:
        s = f"-({arg})" if arg.startswith("-") else f"-{arg}"
        return f"({s})" if prec > _UNARY else s

    def is_nonneg(self, e) -> bool:
        """Whether e >= 0 is evident from its syntax (see the module docstring)."""
        match e:
            case N.Const(val):
                return not isinstance(val, bool) and val >= 0
            case N.Read(name):
                return name in self.nonneg
            case N.BinOp(op, lhs, rhs) if op in ("+", "*", "/", "%"):
                return self.is_nonneg(lhs) and self.is_nonneg(rhs)
        return False

    def config_field(self, e) -> str:
        cfg = e.config
        if cfg.disable_rw:
            raise KnitTypeError(e.srcinfo, f"config {cfg.name()} is declared with "
                                "disable_rw=True, so compiled code cannot read or write it",
                                "only instructions' semantics may use it")
        self.unit.use_config(cfg)
        return self.unit.config_field(cfg, e.field)

    # ------------------------------------------------------------ data expressions

    def data(self, e, ctx: T.ScalarT, prec: int = 0) -> str:
        """A data expression as C; `ctx` is the precision that R literals adopt."""
        typ = e.type if e.type != T.R else ctx
        match e:
            case N.Const(val):
                s = real_literal(val, typ)
                if "INFINITY" in s or "NAN" in s:
                    self.unit.add_global("#include <math.h>")
                return f"({s})" if s.startswith("-") and prec > _UNARY else s
            case N.Read(name, idx):
                return self.element(name, idx, e.srcinfo)
            case N.USub(arg):
                return self._neg(self.data(arg, typ, _UNARY), prec)
            case N.BinOp(op, lhs, rhs):
                return self._infix(op, lhs, rhs, prec, lambda x, p: self.data(x, typ, p))
            case N.Extern(f, args):
                if typ.ctype is None:
                    typ = T.F64
                self.unit.add_extern(f, typ.ctype)
                return f.compile([self.data(a, typ) for a in args], typ.ctype)
            case N.ReadConfig():
                return self.config_field(e)
        raise InternalError(f"not a data expression: {type(e).__name__}")

    def result_type(self, e, ctx: T.ScalarT) -> T.ScalarT:
        """The type C computes a data expression in: R literals adopt `ctx`, and mixed
        operands follow C's usual arithmetic conversions."""
        match e:
            case N.BinOp(_, lhs, rhs) if e.type == T.R:
                return _c_join(self.result_type(lhs, ctx), self.result_type(rhs, ctx))
            case N.USub(arg) if e.type == T.R:
                return self.result_type(arg, ctx)
        return e.type if e.type != T.R else ctx

    # ------------------------------------------------------------ buffers

    def element(self, sym: Sym, idx, srcinfo, *, reading: bool = True) -> str:
        """The C lvalue of sym[idx] (or of the scalar buffer sym)."""
        if sym in self.scalars:
            kind, mem = self.scalars[sym]
            self._check_readable(sym, mem, srcinfo)
            name = self.use(sym) if reading else self.names[sym]
            return f"*{name}" if kind == "ptr" else name
        view = self.views[sym]
        self._check_readable(sym, view.mem, srcinfo)
        if reading:
            self.read.add(view.root)
        return self.mem_window(view, view.indices(idx), srcinfo)

    def mem_window(self, view, root_idx, srcinfo) -> str:
        """The root memory's `window` hook applied to root indices (index expressions)."""
        idx = [self.index(i) for i in root_idx]
        try:
            return view.mem.window(view.basetyp, view.base, idx, list(view.strides), srcinfo)
        except MemGenError as err:
            raise hook_error(srcinfo, f"{view.mem.name()}.window", err) from None

    def _check_readable(self, sym, mem, srcinfo) -> None:
        if mem is not None and not mem.can_read():
            raise MemoryAccessError(srcinfo, f"'{sym.name}' lives in {mem.name()}, which "
                                    "only instructions may read or write",
                                    "replace the access with an instr call, or move the "
                                    "buffer with set_memory")
