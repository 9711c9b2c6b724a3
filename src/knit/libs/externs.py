"""Externs: scalar functions that object code may call, defined as user-level objects.

Subclass `Extern` to add one: say its arity and how to type-check, interpret and
compile a call. Import the instance into the scope where the proc is defined.
"""

from __future__ import annotations

import math

from knit.extern import Extern, ExternTypeError  # their home; re-exported here


def _suffix(prim_type: str) -> str:
    return "f" if prim_type == "float" else ""


def _in_double(fn: str, arg: str, prim_type: str) -> str:
    """`fn` computed in double and rounded once to the argument's type: libm's float
    variants (`sinf`, `expf`) are not correctly rounded and may differ from the double
    result rounded by one ulp, which is what the interpreter computes
    (docs/semantics.md#externs)."""
    if prim_type == "float":
        return f"((float){fn}((double)({arg})))"
    return f"{fn}({arg})"


def _libm(fn, x) -> float:
    """fn(x) in double, with C's answer where Python's math raises
    (docs/semantics.md#externs): NaN for a domain error (sqrt(-1), sin(inf)), infinity for
    an overflow (exp(1000))."""
    try:
        return fn(float(x))
    except ValueError:
        return math.nan
    except OverflowError:
        return math.inf


# Exo's C for a call (Extern.exo_compile): the backend writes it where it computes what
# the interpreter computes (backend/c/cexpr.py, ExprCompiler.exo_extern says where).
# Exo's helper functions are global; knit declares each `static` first, so that its
# definition (Exo's text) has internal linkage and two generated files link together.
_NARROW_INTS = ("int8_t", "uint8_t", "uint16_t")


def _static_helper(prototype: str, body: str) -> str:
    return f"{prototype};  /* static: one per generated file */\n" \
        f"{prototype.removeprefix('static ')} {{\n{body}}}"


class _MathFn(Extern):
    """A libm function of a double (`sqrt`, `sin`); Exo casts the argument to the
    extern's type, `sqrt((float)(a))` but `sin((float)a)` (the cast binds the first
    operand only), and the double result is converted where it is stored."""

    exo_returns = "double"

    def __init__(self, name: str, py, exo_cast: str):
        super().__init__(name)
        self._py = py
        self.exo_cast = exo_cast

    def globl(self, prim_type):
        return "#include <math.h>"

    def compile(self, args, prim_type):
        return _in_double(self._name, args[0], prim_type)

    def interpret(self, args):
        return _libm(self._py, args[0])

    def exo_compile(self, args, prim_type):
        if self.exo_cast == "leading":
            return f"{self._name}(({prim_type}){args[0]})"
        return f"{self._name}(({prim_type})({args[0]}))"


def _in_type(args, prim_type):
    """The arguments converted to a narrow integer type, as a C function of that type
    takes them (Extern.wraps_args); other types need no conversion (the operands are
    computed in the extern's type)."""
    if prim_type in _NARROW_INTS:
        return [f"({prim_type})({a})" for a in args]
    return args


class _Select(Extern):
    """select(x, v, y, z) = y if x < v else z, a function of the arguments' type (narrow
    integer arguments wrap to it)."""

    arity = 4
    exo_cast = "leading"
    wraps_args = True

    def compile(self, args, prim_type):
        x, v, y, z = _in_type(args, prim_type)
        return f"(({x}) < ({v}) ? ({y}) : ({z}))"

    def interpret(self, args):
        x, v, y, z = args
        return y if x < v else z

    def exo_globl(self, prim_type):
        t = prim_type
        return _static_helper(f"static {t} _select_{t}({t} x,{t} v,{t} y,{t} z)",
                              "    if (x < v) return y;\n    else return z;\n")

    def exo_compile(self, args, prim_type):
        casts = ", ".join(f"({prim_type}){a}" for a in args)
        return f"_select_{prim_type}({casts})"


class _Relu(Extern):
    """relu(x) = x > 0 ? x : 0, a function of the argument's type (a narrow integer
    argument wraps to it)."""

    exo_cast = "leading"
    wraps_args = True
    # relu commutes with rounding (and truncation) to a type: relu of literals rounded
    # to T is the double result rounded to T, so Exo's text computes literals in T
    exo_literals_in_type = True

    def compile(self, args, prim_type):
        (x,) = _in_type(args, prim_type)
        return f"(({x}) > 0 ? ({x}) : 0)"

    def interpret(self, args):
        return args[0] if args[0] > 0 else type(args[0])(0)

    def exo_globl(self, prim_type):
        t = prim_type
        return _static_helper(f"static {t} _relu_{t}({t} x)",
                              "    if (x > 0.0) return x;\n    else return 0.0;\n")

    def exo_compile(self, args, prim_type):
        return f"_relu_{prim_type}(({prim_type}){args[0]})"


# fmax with every case defined (docs/semantics.md#externs): libm's fmax and the
# compilers' inlined vmaxss/maxsd differ on zeros of opposite signs (C leaves that sign
# unspecified), so knit emits its own. The condition picks b exactly when a is NaN, a < b,
# or a and b are equal zeros with a negative: +0 beats -0.
_FMAX_C = """#include <math.h>
static inline {t} {name}({t} a, {t} b) {{
    return (a != a || a < b || (a == b && signbit(a))) ? b : a;
}}"""


class _Fmaxf(Extern):
    """fmaxf(a, b): the larger; a NaN operand is ignored (both NaN: NaN); +0.0 is larger
    than -0.0 (IEEE 754-2019 maximumNumber)."""

    arity = 2

    def globl(self, prim_type):
        if prim_type == "float":
            return _FMAX_C.format(t="float", name="knit_fmaxf")
        return _FMAX_C.format(t="double", name="knit_fmax")

    def compile(self, args, prim_type):
        # f16 and integers are exact in double; the caller converts the result back
        fn = "knit_fmaxf" if prim_type == "float" else "knit_fmax"
        return f"{fn}({args[0]}, {args[1]})"

    def interpret(self, args):
        a, b = args
        if a != a or a < b or (a == b and math.copysign(1.0, a) < 0):
            return b
        return a


class _Expf(Extern):
    def globl(self, prim_type):
        return "#include <math.h>"

    def compile(self, args, prim_type):
        return _in_double("exp", args[0], prim_type)

    def interpret(self, args):
        return _libm(math.exp, args[0])


class _Sigmoid(Extern):
    """sigmoid(x) = 1 / (1 + exp(-x)) computed in double, rounded once to the argument's
    type (as Exo's C function `float sigmoid(float x)` computes it)."""

    def globl(self, prim_type):
        return "#include <math.h>"

    def compile(self, args, prim_type):
        # negate in floating point: `-x` of the int INT_MIN overflows (semantics.md#externs)
        s = f"(1 / (1 + exp(-(double)({args[0]}))))"
        return f"((float){s})" if prim_type == "float" else s

    def interpret(self, args):
        return 1.0 / (1.0 + _libm(math.exp, -float(args[0])))

    def exo_globl(self, prim_type):
        # only float's: Exo names the function `sigmoid` whatever the type
        return "#include <math.h>\n" + _static_helper(
            "static float sigmoid(float x)", "    return 1 / (1 + exp(-x));\n")

    def exo_compile(self, args, prim_type):
        return f"sigmoid((float)({args[0]}))" if prim_type == "float" else None


select = _Select("select")
relu = _Relu("relu")
sqrt = _MathFn("sqrt", math.sqrt, "whole")
sin = _MathFn("sin", math.sin, "leading")
expf = _Expf("expf")
fmaxf = _Fmaxf("fmaxf")
sigmoid = _Sigmoid("sigmoid")

__all__ = ["Extern", "ExternTypeError", "select", "relu", "sqrt", "sin", "expf", "fmaxf",
           "sigmoid"]
