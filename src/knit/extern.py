"""Extern: the hook for scalar functions that object code may call.

It sits with Memory in the core (not in libs/) because the parser, the type checker
and the backends recognise Externs; the functions themselves (select, relu, ...) are
a library in knit.libs.externs, which re-exports these two names.
"""

from __future__ import annotations

from knit.ir import types as T


class ExternTypeError(Exception):
    """Raised by Extern.typecheck with a message for the user."""


class Extern:
    """A scalar function callable from object code as `name(args...)`."""

    arity: int = 1

    def __init__(self, name: str):
        self._name = name

    def name(self) -> str:
        return self._name

    def typecheck(self, arg_types: list[T.ScalarT]) -> T.ScalarT:
        """The result type for these argument types; raise ExternTypeError to refuse."""
        if len(arg_types) != self.arity:
            raise ExternTypeError(f"{self._name} takes {self.arity} argument(s), "
                                  f"got {len(arg_types)}")
        result = arg_types[0]
        for t in arg_types:
            if not t.is_real():
                raise ExternTypeError(f"{self._name} takes data values, got a {t} value")
            result = T.join_real(result, t)
        return result

    def globl(self, prim_type: str) -> str:
        """C code needed once per file (includes, helper functions) for this type."""
        return ""

    def compile(self, args: list[str], prim_type: str) -> str:
        raise NotImplementedError

    # Exo's C text for a call (knit's built-ins, knit.libs.externs): the backend writes
    # it instead of `compile`'s where it computes what the interpreter computes
    # (backend/c/cexpr.py, ExprCompiler.exo_extern). None: only knit's text.
    exo_cast = "whole"  # how exo_compile converts an argument: `(T)(a)`; "leading": `(T)a`
    exo_returns = "type"  # its C value: of the extern's type T, or "double" (libm's)
    wraps_args = False  # narrow integer arguments wrap to T, as a C function of T takes them
    exo_literals_in_type = False  # literals-only calls too (computed in T, not double)

    def exo_compile(self, args: list[str], prim_type: str) -> str | None:
        return None

    def exo_globl(self, prim_type: str) -> str:
        return self.globl(prim_type)

    def interpret(self, args: list):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<extern {self._name}>"

    __hash__ = object.__hash__
