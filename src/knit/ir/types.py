"""The types of knit values: scalar data types, control types, tensors and windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knit.ir.nodes import Expr


@dataclass(frozen=True, slots=True)
class ScalarT:
    """A scalar type. `kind` is 'real' (data), or a control kind: 'int' (an
    integer literal), 'index', 'size', 'stride', 'bool'."""

    name: str
    kind: str
    ctype: str | None = None
    np_dtype: str | None = None

    def __str__(self) -> str:
        return self.name

    def is_real(self) -> bool:
        return self.kind == "real"

    def is_numeric(self) -> bool:
        return self.kind == "real"

    def is_indexable(self) -> bool:
        return self.kind in ("int", "index", "size")

    def is_control(self) -> bool:
        return self.kind != "real"

    def is_float(self) -> bool:
        return self.name in ("R", "f16", "f32", "f64")

    def is_tensor(self) -> bool:
        return False

    def is_win(self) -> bool:
        return False

    def basetype(self) -> ScalarT:
        return self

    def shape(self) -> tuple:
        return ()


R = ScalarT("R", "real")
F16 = ScalarT("f16", "real", "_Float16", "float16")
F32 = ScalarT("f32", "real", "float", "float32")
F64 = ScalarT("f64", "real", "double", "float64")
I8 = ScalarT("i8", "real", "int8_t", "int8")
UI8 = ScalarT("ui8", "real", "uint8_t", "uint8")
UI16 = ScalarT("ui16", "real", "uint16_t", "uint16")
I32 = ScalarT("i32", "real", "int32_t", "int32")
BOOL = ScalarT("bool", "bool", "bool", "bool")
INT = ScalarT("int", "int", "int_fast32_t")
INDEX = ScalarT("index", "index", "int_fast32_t")
SIZE = ScalarT("size", "size", "int_fast32_t")
STRIDE = ScalarT("stride", "stride", "int_fast32_t")

def holds(param: ScalarT, data: ScalarT) -> bool:
    """Whether a parameter of element type `param` takes `data`: R (generic) takes any;
    f32 also takes R, which is compiled as float (backend/c/generic.py)."""
    return param == R or param == data or (param == F32 and data == R)


DATA_TYPES = {t.name: t for t in (R, F16, F32, F64, I8, UI8, UI16, I32)}
CONTROL_TYPES = {t.name: t for t in (BOOL, INDEX, SIZE, STRIDE)}


@dataclass(frozen=True, slots=True)
class TensorT:
    """A dense tensor (`f32[N, 8]`) or, with is_win, a strided window (`[f32][N, 8]`)."""

    dims: tuple[Expr, ...]
    is_window: bool
    elem: ScalarT

    def is_real(self) -> bool:
        return False

    def is_numeric(self) -> bool:
        return True

    def is_indexable(self) -> bool:
        return False

    def is_control(self) -> bool:
        return False

    def is_tensor(self) -> bool:
        return True

    def is_win(self) -> bool:
        return self.is_window

    def basetype(self) -> ScalarT:
        return self.elem

    def shape(self) -> tuple[Expr, ...]:
        return self.dims

    def __str__(self) -> str:
        from knit.ir.printer import expr_str  # here: the printer imports this module

        dims = ", ".join(expr_str(d) for d in self.dims)
        return f"[{self.elem}][{dims}]" if self.is_window else f"{self.elem}[{dims}]"


Type = ScalarT | TensorT


_FLOAT_RANK = {"f16": 1, "f32": 2, "f64": 3}


def join_real(a: ScalarT, b: ScalarT) -> ScalarT:
    """The type of a data operation on a and b (docs/semantics.md#mixed-precision), C's
    usual arithmetic conversions: equal types keep it, R (a literal) adopts the other, two
    floats give the wider, an integer with a float gives the float, two different integer
    types give i32 (C's `int`, where narrow integers are computed)."""
    if a == b or b == R:
        return a
    if a == R:
        return b
    ra, rb = _FLOAT_RANK.get(a.name, 0), _FLOAT_RANK.get(b.name, 0)
    if ra or rb:
        return a if ra >= rb else b
    return I32
