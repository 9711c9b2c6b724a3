"""Expressions -> C: index arithmetic (with floor division), data arithmetic, accesses.

Data arithmetic means what docs/semantics.md says, whatever C would do by default:
types come from the operands (#mixed-precision), literals are written as exactly the
value of their type (#literal-type), every f16 operation is cast back to `_Float16`
(#f16), and libm's f16 and integer results are converted once (#externs).

Index values follow knit's semantics: `/` and `%` round towards minus infinity. C's
round towards zero, which agrees when the numerator is non-negative; that is proven
from a lower bound computed on the syntax (sizes are >= 1, loop variables start at
their lower bound, then constants, +, - of a constant, *, / and % by a positive
constant), and otherwise a small helper does the floor division. A division is
written as Exo writes it: `((n + 7) / (8))`, and `(n / 4)` inside an array access.
"""

from __future__ import annotations

import math
import re

import numpy as np

from knit.errors import InternalError, KnitTypeError, MemoryAccessError
from knit.ir import nodes as N, types as T
from knit.ir.printer import WrittenInt
from knit.ir.sym import Sym
from knit.memory import MemGenError, element_offset

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
_INT_RANGES = {"i8": (-(2**7), 2**7 - 1), "ui8": (0, 2**8 - 1), "ui16": (0, 2**16 - 1),
               "i32": (-(2**31), 2**31 - 1)}


def literal_value(val, typ: T.ScalarT):
    """An untyped literal converted to data type `typ`, as docs/semantics.md#literal-type
    says: rounded once to a float type; truncated toward zero for integer data (which C
    computes as `int`). None when the truncated value does not fit i32 (#float-to-int)."""
    v = float(val)
    if typ.is_float():
        if typ.np_dtype is None:
            return v
        with np.errstate(over="ignore"):  # too large for f32/f16 rounds to inf, as in C
            return float(np.dtype(typ.np_dtype).type(v))
    if not math.isfinite(v) or not -(2**31) <= math.trunc(v) < 2**31:
        return None
    return math.trunc(v)


def _join(a, b, ctx):
    """The type of an operation on values of types a and b (None: untyped)."""
    if a is None and b is None:
        return ctx
    return T.join_real(a or b, b or a)


def paren(s: str) -> str:
    """`s` wrapped in parentheses unless it is a name, number or element access."""
    return s if _ATOM.match(s) else f"({s})"


def hook_error(srcinfo, what: str, err: Exception) -> MemGenError:
    """A memory hook's failure as a MemGenError that points at the statement."""
    located = f"{srcinfo}: {what}: {err}"
    excerpt = srcinfo.excerpt() if srcinfo is not None else ""
    return MemGenError(located + (f"\n{excerpt}" if excerpt else ""))


def real_literal(val, typ: T.ScalarT, srcinfo=None) -> str:
    """A C literal of data type `typ` holding exactly `literal_value(val, typ)`: the
    compiler then has no rounding of its own to do (f32 -> `0.1f`). Integer and f16
    data is written as Exo writes it, the value cast to its type (`((int8_t) 3)`),
    when in range of that type (C computes integer data in int: #literal-type)."""
    v = literal_value(val, typ)
    if v is None:
        raise KnitTypeError(srcinfo, f"the literal {float(val)!r} does not fit {typ.name} "
                            "data once truncated", "see docs/semantics.md#float-to-int")
    if isinstance(v, int):
        lo, hi = _INT_RANGES.get(typ.name, (0, -1))
        if lo <= v <= hi:  # Exo's form, cast to the type; in range nothing wraps
            return f"(({typ.ctype}) {_written(val, v)})"
        return str(v)
    if math.isinf(v) or math.isnan(v):
        s = ("-INFINITY" if v < 0 else "INFINITY") if math.isinf(v) else "NAN"
        return f"(({typ.ctype or 'double'}) {s})"
    if typ.name == "f32":
        return f"{str(np.float32(v))}f"  # the shortest text that reads back as this float
    s = repr(v)
    if typ.name == "f16":  # exact: v is already an f16 value (an integer as one)
        return f"((_Float16) {int(v) if v.is_integer() else s})"
    return s


def _written(val, v: int) -> str:
    """An integer literal as written (Exo prints `((int8_t) 1.0)` for `1.0`, `((int8_t) 1)`
    for `1`: frontend WrittenInt): C converts the double to the type by truncation, which
    is `v`, in range. A value of another kind (a rewrite's) prints as `v`."""
    if type(val) in (int, float, WrittenInt) and math.isfinite(val):
        return str(val)
    return str(v)


def convert(s: str, typ: T.ScalarT) -> str:
    """The C value `s` converted to data type `typ`. To f16 through KNIT_F16 (header.py:
    `(_Float16)`, or, where f16 is clang 14's __fp16, a correctly rounded conversion
    that does not call the runtime library's double -> half routine)."""
    if typ == T.F16:
        return f"KNIT_F16({s})"
    return f"({typ.ctype})({s})"


class ExprCompiler:
    """Compiles the expressions of one C function. Holds what expressions need to know
    about names: their C names, tensor views, scalar buffers, non-negative symbols."""

    def __init__(self, names, unit):
        self.names = names
        self.unit = unit
        self.views: dict[Sym, object] = {}  # tensor name -> windows.View
        self.scalars: dict[Sym, tuple[str, type]] = {}  # scalar buffer -> ("ptr"|"val", mem)
        self.lows: dict[Sym, int] = {}  # index name -> a lower bound of its value
        self._in_access = False  # compiling the indices of an array access
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
                if op == "%":
                    return self._infix(op, lhs, rhs, prec, self.index)
                if self._in_access:
                    return f"({self._infix(op, lhs, rhs, 0, self.index)})"
                return f"(({self.index(lhs)}) / ({self.index(rhs)}))"
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
        low = self.lower_bound(e)
        return low is not None and low >= 0

    def lower_bound(self, e) -> int | None:
        """A lower bound of the index expression e, from its syntax (None: unknown)."""
        match e:
            case N.Const(val) if not isinstance(val, bool):
                return int(val)
            case N.Read(name):
                return self.lows.get(name)
            case N.BinOp(op, lhs, rhs) if op in ("+", "-", "*", "/", "%"):
                a = self.lower_bound(lhs)
                c = rhs.val if isinstance(rhs, N.Const) and not isinstance(rhs.val, bool) \
                    else None
                if op == "%":  # floor modulo by c > 0 lies in [0, c)
                    return 0 if c is not None and c > 0 else None
                if a is None:
                    return None
                if op == "-":  # minus a constant only: other subtrahends need upper bounds
                    return a - c if c is not None else None
                if op == "/":  # floor(x / c) grows with x
                    return a // c if c is not None and c > 0 else None
                b = self.lower_bound(rhs)
                if b is None:
                    return None
                if op == "+":
                    return a + b
                return a * b if a >= 0 and b >= 0 else None  # both bounds >= 0
        return None

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
        """A data expression as C (docs/semantics.md#literal-type, #mixed-precision, #f16).
        `ctx` is the type the value is used as: what an untyped (literals only) expression
        is converted to. Types come from the operands, as the interpreter computes them."""
        typ = self.result_type(e, None)
        if typ is None:  # literals only: computed in double, converted once to ctx
            typ = ctx if ctx.ctype is not None else T.F64
            if isinstance(e, N.Extern) and e.f.exo_literals_in_type:
                s = self.exo_extern(e, typ, stored=False)
                if s is not None:
                    return s
            if isinstance(e, N.Const):
                s = real_literal(e.val, typ, e.srcinfo)
                if "INFINITY" in s or "NAN" in s:
                    self.unit.add_global("#include <math.h>")
                return f"({s})" if s.startswith("-") and prec > _UNARY else s
            s = self._data(e, T.F64, prec if typ == T.F64 else 0)
            return s if typ == T.F64 else convert(s, typ)
        return self._data(e, typ, prec)

    def stored(self, e, typ: T.ScalarT, *, plain: bool = False) -> str:
        """e, of type `typ`, as the right side of an assignment to `typ`: the assignment
        rounds an f16 operation's float value to f16 as the cast in `data` would
        (casts and assignments both remove excess precision, C11 6.3.1.8), so it is
        not written twice; and converts a libm call's double result once (`plain`: the
        assignment is C's `=`, not a memory's hook)."""
        if plain and isinstance(e, N.Extern) and self.result_type(e, None) is not None:
            return self.extern(e, typ, stored=True)
        if typ == T.F16 and isinstance(e, N.BinOp) and self.result_type(e, typ) == typ:
            return self._infix(e.op, e.lhs, e.rhs, 0, lambda x, p: self.operand(x, typ, p))
        return self.data(e, typ)

    def _data(self, e, typ: T.ScalarT, prec: int) -> str:
        """e (of type typ, or untyped and computed in typ) as C."""
        match e:
            case N.Const(val):  # a typed literal (rewrites make them)
                return self.data(N.Const(val, T.R, e.srcinfo), typ, prec)
            case N.Read(name, idx):
                return self.element(name, idx, e.srcinfo)
            case N.USub(arg):
                return self._neg(self.data(arg, typ, _UNARY), prec)
            case N.BinOp(op, lhs, rhs):
                if typ == T.F16:  # every f16 operation rounds to f16 (#f16)
                    s = self._infix(op, lhs, rhs, 0, lambda x, p: self.operand(x, typ, p))
                    return f"(_Float16)({s})"
                return self._infix(op, lhs, rhs, prec, lambda x, p: self.data(x, typ, p))
            case N.Extern():
                return self.extern(e, typ)
            case N.ReadConfig():
                return self.config_field(e)
        raise InternalError(f"not a data expression: {type(e).__name__}")

    # ------------------------------------------------------------ externs

    def extern(self, e: N.Extern, typ: T.ScalarT, *, stored: bool = False) -> str:
        """A call computed in `typ` (`stored`: its value is assigned to a `typ` element
        with C's `=`): Exo's text where it means the same (exo_extern), else knit's."""
        s = self.exo_extern(e, typ, stored=stored)
        if s is not None:
            return s
        f = e.f
        self.unit.add_extern(f, typ.ctype)
        s = f.compile([self.operand(a, typ) for a in e.args], typ.ctype)
        # libm has no f16 or integer variants: the result converts back once, an
        # integer one to C's `int`, where integer data is computed (#externs)
        if typ == T.F16:
            return convert(s, typ)
        return s if typ.is_float() else f"(int32_t)({s})"

    def exo_extern(self, e: N.Extern, typ: T.ScalarT, *, stored: bool) -> str | None:
        """Exo's text of the call (Extern.exo_compile), where it computes exactly what
        the interpreter computes (docs/exo-compatibility.md); else None:
        - every cast Exo writes keeps the argument's value, or converts it as the
          interpreter does (exo_cast_keeps);
        - a libm result (a double) is converted to `typ` only where it is stored, and
          C's `=` does that (an operation would compute with the double first);
        - not f16 (knit converts through KNIT_F16), nor a helper whose name is taken by
          a function or config of the file."""
        f = e.f
        if typ.ctype is None or typ == T.F16:
            return None
        if f.exo_returns == "double" and typ != T.F64 and not stored:
            return None
        if not all(self.exo_cast_keeps(a, typ, f) for a in e.args):
            return None
        s = f.exo_compile([self.operand(a, typ) for a in e.args], typ.ctype)
        if s is None or s.split("(", 1)[0] in self.unit.file_names():
            return None
        self.unit.add_extern(f, typ.ctype, exo=True)
        return s

    def exo_cast_keeps(self, a, typ: T.ScalarT, f) -> bool:
        """Whether Exo's cast of argument `a` to `typ` computes what the interpreter does.
        `(T)(a)` converts the value of a: the interpreter converts a float argument to
        T, an integer one stays an int (i32: the same), or wraps to T (f.wraps_args).
        `(T)a` converts the first operand of a's text only (cast binds tighter than
        `*`): a float operation on it converts it anyway; with wrapping, a first
        operand inside + - * wraps the same (arithmetic modulo 2^8 or 2^16); else its
        value must be of T already."""
        if typ.is_float() or typ == T.I32:
            if f.exo_cast == "whole" or typ == T.I32:
                return True
            first, spine = self._first_operand(a)
            return all(self.result_type(op, None) in (typ, None) for op in spine)
        if f.exo_cast == "whole":
            return f.wraps_args or self._of_type(a, typ)
        first, spine = self._first_operand(a)
        if self._of_type(first, typ):
            return True
        if self.result_type(first, None) is None:
            return False  # literals out of range: the interpreter converts their double
        return f.wraps_args and all(op.op in ("+", "-", "*") for op in spine)

    def _first_operand(self, e):
        """The operand of e's C text that a cast written before it converts, and the
        operations above it (they are written without parentheses: `_infix`)."""
        spine = []
        while isinstance(e, N.BinOp) and self.result_type(e, None) is not None:
            spine.append(e)
            lhs = e.lhs
            if isinstance(lhs, N.BinOp) and _PREC[lhs.op] < _PREC[e.op]:
                return lhs, spine  # written in parentheses
            e = lhs
        return e, spine

    def _of_type(self, e, typ: T.ScalarT) -> bool:
        """Whether e's value is certainly one of integer type `typ`: an element of it,
        or a literal in its range."""
        if isinstance(e, (N.Read, N.ReadConfig)):
            return e.type == typ
        if isinstance(e, N.Const) and not isinstance(e.val, bool):
            v = literal_value(e.val, typ)
            lo, hi = _INT_RANGES[typ.name]
            return v is not None and lo <= v <= hi
        return False

    def operand(self, e, typ: T.ScalarT, prec: int = 0) -> str:
        """e as an operand of an operation computed in `typ`, converted to `typ` first
        (#mixed-precision). C converts implicitly, except that gcc and clang evaluate
        `_Float16` operations in float (FLT_EVAL_METHOD 16): an integer operand of an
        f16 operation would be converted to float, not rounded to f16 (2049 stays 2049,
        70000 stays finite), so it is cast to `_Float16` explicitly."""
        if typ == T.F16 and self.result_type(e, None) not in (T.F16, None):
            return f"(_Float16){self.data(e, typ, _UNARY)}"
        return self.data(e, typ, prec)

    def result_type(self, e, ctx: T.ScalarT | None) -> T.ScalarT | None:
        """The type C computes a data expression in, from its operands (C's usual
        arithmetic conversions, docs/semantics.md#mixed-precision); an expression of
        literals only has type `ctx` (None: untyped)."""
        match e:
            case N.Const():
                return ctx if e.type == T.R else e.type
            case N.USub(arg):
                return self.result_type(arg, ctx)
            case N.BinOp(_, lhs, rhs):
                return _join(self.result_type(lhs, None), self.result_type(rhs, None), ctx)
            case N.Extern(_, args):
                typ = None
                for a in args:
                    typ = _join(typ, self.result_type(a, None), None)
                return typ if typ is not None else ctx
        return e.type

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

    def mem_window(self, view, root_idx, srcinfo, *, origin: bool = False) -> str:
        """The root memory's `window` hook applied to root indices (index expressions).
        An element access (not a window's `origin`) through the default hook is
        written as Exo writes element accesses (memory.element_offset)."""
        self._in_access = True
        try:
            idx = [self.index(i) for i in root_idx]
        finally:
            self._in_access = False
        if not origin and getattr(view.mem, "has_default_window", lambda: False)():
            return f"{view.base}[{element_offset(idx, list(view.strides))}]"
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
