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


class _MathFn(Extern):
    """A libm function with float (`sqrtf`) and double (`sqrt`) variants."""

    def __init__(self, name: str, py):
        super().__init__(name)
        self._py = py

    def globl(self, prim_type):
        return "#include <math.h>"

    def compile(self, args, prim_type):
        return _in_double(self._name, args[0], prim_type)

    def interpret(self, args):
        return _libm(self._py, args[0])


class _Select(Extern):
    """select(x, v, y, z) = y if x < v else z."""

    arity = 4

    def compile(self, args, prim_type):
        x, v, y, z = args
        return f"(({x}) < ({v}) ? ({y}) : ({z}))"

    def interpret(self, args):
        x, v, y, z = args
        return y if x < v else z


class _Relu(Extern):
    def compile(self, args, prim_type):
        return f"(({args[0]}) > 0 ? ({args[0]}) : 0)"

    def interpret(self, args):
        return args[0] if args[0] > 0 else type(args[0])(0)


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
    def globl(self, prim_type):
        return "#include <math.h>"

    def compile(self, args, prim_type):
        # negate in floating point: `-x` of the int INT_MIN overflows (semantics.md#externs)
        # exp in double, rounded once; then the float (or double) arithmetic the
        # interpreter does
        if prim_type == "float":
            return f"(1 / (1 + (float)exp(-(double)({args[0]}))))"
        return f"(1 / (1 + exp(-(double)({args[0]}))))"

    def interpret(self, args):
        # computed as the C is: in float for an f32 argument, else in double
        import numpy as np  # loaded on first use: `import knit` stays free of numpy

        x = args[0]
        t = type(x) if isinstance(x, (np.float32, np.float64)) else float
        return t(1) / (t(1) + t(_libm(math.exp, -x)))


select = _Select("select")
relu = _Relu("relu")
sqrt = _MathFn("sqrt", math.sqrt)
sin = _MathFn("sin", math.sin)
expf = _Expf("expf")
fmaxf = _Fmaxf("fmaxf")
sigmoid = _Sigmoid("sigmoid")

__all__ = ["Extern", "ExternTypeError", "select", "relu", "sqrt", "sin", "expf", "fmaxf",
           "sigmoid"]
