"""Windows in C: the struct types that carry them across calls, and views.

A *view* says where a tensor name's elements live: a root buffer (an argument or an
allocation), a point or the start of an interval in each of the root's dimensions,
and the root's strides. Window statements (`w = x[i, 0:8]`) and window expressions
compose views instead of creating C variables, so every element access goes through
the root memory's `window` hook and works for any memory, registers included.
"""

from __future__ import annotations

from dataclasses import dataclass

from knit.backend.c.generic import c_scalar
from knit.ir import build, nodes as N, types as T
from knit.ir.sym import Sym


class WindowStructs:
    """The window struct types a file needs, each defined once (and guarded, so two
    generated headers can be included together). The names, layout and guards are
    Exo's (`struct exo_win_1f32`, `EXO_WIN_1F32`): C harnesses written for Exo name
    them, and a knit header and an Exo header can share one definition."""

    def __init__(self):
        self.defs: dict[str, str] = {}

    def name(self, elem: T.ScalarT, ndims: int, const: bool) -> str:
        """The struct tag for an `ndims`-dimensional window of `elem`; defines it. Windows
        of `R` are windows of f32 (R is compiled as float), whoever asks: the runtime's
        entry points see the procedure before its retyping."""
        elem = c_scalar(elem)
        tag = f"exo_win_{ndims}{elem.name}{'c' if const else ''}"
        if tag not in self.defs:
            guard = tag.upper()
            qual = "const " if const else ""
            self.defs[tag] = (f"#ifndef {guard}\n#define {guard}\n"
                              f"struct {tag} {{\n"
                              f"    {qual}{elem.ctype} * const data;\n"
                              f"    const int_fast32_t strides[{ndims}];\n"
                              f"}};\n#endif")
        return tag

    def definitions(self) -> list[str]:
        return [self.defs[k] for k in sorted(self.defs)]


@dataclass(frozen=True)
class View:
    """Where the elements of a tensor name live (see the module docstring).

    `base` is the C pointer to the root's data (`A`, or `y.data` for a window argument);
    it is what memories receive as `baseptr`. `access[d]` is `(is_point, expr)` for root
    dimension d: a fixed index, or the offset where the view's next dimension starts.
    """

    root: Sym
    root_name: str
    mem: type
    base: str
    basetyp: T.Type
    strides: tuple[str, ...]
    access: tuple[tuple[bool, N.Expr], ...]

    def free_dims(self) -> list[int]:
        """The root dimensions the view still ranges over, in order."""
        return [d for d, (is_pt, _) in enumerate(self.access) if not is_pt]

    def stride(self, dim: int) -> str:
        """The C stride of the view's dimension `dim`."""
        return self.strides[self.free_dims()[dim]]

    def indices(self, idx) -> list[N.Expr]:
        """Root indices of the element `idx` (one index per view dimension)."""
        it = iter(idx)
        return [e if is_pt else add(e, next(it)) for is_pt, e in self.access]

    def origin(self) -> list[N.Expr]:
        """Root indices of the view's first element."""
        return [e for _, e in self.access]

    def window(self, waccess) -> View:
        """The view of `self[waccess]` (one access per view dimension)."""
        it = iter(waccess)
        access = []
        for is_pt, e in self.access:
            if is_pt:
                access.append((True, e))
                continue
            w = next(it)
            if isinstance(w, N.Point):
                access.append((True, add(e, w.pt)))
            else:
                access.append((False, add(e, w.lo)))
        return View(self.root, self.root_name, self.mem, self.base, self.basetyp,
                    self.strides, tuple(access))

    def is_whole(self) -> bool:
        """Whether the view starts at the root's first element and keeps every dim."""
        return all(not is_pt and _is_int(e, 0) for is_pt, e in self.access)


def root_view(sym: Sym, c_name: str, typ: T.TensorT, mem, base: str,
              strides: list[str]) -> View:
    zero = N.Const(0, T.INT)
    return View(sym, c_name, mem, base, typ, tuple(strides),
                tuple((False, zero) for _ in typ.shape()))


def _is_int(e, v: int) -> bool:
    return isinstance(e, N.Const) and e.type == T.INT and e.val == v


def _literals(a: N.Expr, b: N.Expr) -> bool:
    return isinstance(a, N.Const) and isinstance(b, N.Const) and a.type == b.type == T.INT


def add(a: N.Expr, b: N.Expr) -> N.Expr:
    """a + b (knit.ir.build's), two literals folded: the C reads `x[5]`, not `x[2 + 3]`."""
    return N.Const(a.val + b.val, T.INT) if _literals(a, b) else build.add(a, b)


def mul(a: N.Expr, b: N.Expr) -> N.Expr:
    """a * b (knit.ir.build's), two literals folded."""
    return N.Const(a.val * b.val, T.INT) if _literals(a, b) else build.mul(a, b)


def dense_strides(dims) -> list[N.Expr]:
    """Row-major strides of a dense tensor with these dimensions, as index expressions."""
    strides, acc = [], N.Const(1, T.INT)
    for d in reversed(dims):
        strides.append(acc)
        acc = mul(d, acc)
    return strides[::-1]
