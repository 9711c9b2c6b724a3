"""Memories: a Memory subclass tells the C backend how a buffer in it is
allocated, freed and indexed, and the checker whether plain code may touch it.

The hooks take and return C text; `shape`, `indices` and `strides` are lists of
C expressions as strings. This is the public API a hardware library uses.
"""

from __future__ import annotations

import re

from knit.errors import UserError


class MemGenError(UserError):
    """Raised by a memory's hooks when it cannot hold a buffer (wrong type, shape...)."""


def generate_offset(indices: list[str], strides: list[str]) -> str:
    """The C offset of `indices` as Exo writes it (`(i0) * s0 + (i1) * (s1) + ...`,
    zeros and unit strides left out): the default `window` hook gives a window's first
    element this way (`&x[(2) * m]`), so memories written for Exo that call it give
    the same text. Element accesses use `element_offset`."""
    return _offset(indices, strides,
                   lambda i, s: f"({i}) * {s}" if len(s) == 1 else f"({i}) * ({s})")


def element_offset(indices: list[str], strides: list[str]) -> str:
    """The C expression `i0 * s0 + i1 * s1 + ...`, leaving out zeros and unit strides:
    an element access through the default `window` hook (`x[i * m + j]`, as in Exo)."""
    return _offset(indices, strides, lambda i, s: f"{_factor(i)} * {_factor(s)}")


def _offset(indices: list[str], strides: list[str], product) -> str:
    """The sum of `product(index, stride)` over the dimensions, a zero index or stride
    left out and a unit one not multiplied."""
    terms = []
    for i, s in zip(indices, strides):
        if i == "0" or s == "0":
            continue
        if s == "1":
            terms.append(i)
        elif i == "1":
            terms.append(s)
        else:
            terms.append(product(i, s))
    return " + ".join(terms) if terms else "0"


def _factor(c: str) -> str:
    """`c` as an operand of `*`: names, numbers and element accesses need no parentheses."""
    return c if re.fullmatch(r"[\w.]+(\[[^\[\]]*\])*", c) else f"({c})"


class Memory:
    """Base class of memories. Override the hooks; every hook is a classmethod."""

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @classmethod
    def global_(cls) -> str:
        """C code placed once at the top of a file that uses this memory."""
        return ""

    @classmethod
    def alloc(cls, new_name: str, prim_type: str, shape: list[str], srcinfo) -> str:
        raise NotImplementedError(f"{cls.__name__} cannot allocate buffers")

    @classmethod
    def alloc_zeroed(cls, new_name: str, prim_type: str, shape: list[str], srcinfo) -> str:
        """`alloc` for a register buffer that an instruction's C may read before the
        program wrote all of it (a masked instruction merging into old lanes; see
        knit.backend.c.registers): the C declaration should give it a value. The
        default is `alloc`'s text (Exo's memories have no such hook)."""
        return cls.alloc(new_name, prim_type, shape, srcinfo)

    @classmethod
    def free(cls, new_name: str, prim_type: str, shape: list[str], srcinfo) -> str:
        raise NotImplementedError(f"{cls.__name__} cannot free buffers")

    @classmethod
    def window(cls, basetyp, baseptr: str, indices: list[str], strides: list[str], srcinfo) -> str:
        """A C lvalue for the element at `indices` of the buffer `baseptr`. The C
        backend asks it for every access; with this default hook, an element access
        reads `baseptr[element_offset(...)]` and a window's first element (a window
        struct's data, an instr's `{x_data}`) `baseptr[generate_offset(...)]`."""
        return f"{baseptr}[{generate_offset(indices, strides)}]"

    @classmethod
    def has_default_window(cls) -> bool:
        return getattr(cls.window, "__func__", None) is Memory.window.__func__

    @classmethod
    def one_per_program(cls) -> bool:
        """Whether a buffer in it is one storage for the whole program (C `static`),
        not one per allocation: every iteration of a loop it is allocated in, and every
        thread of a `par` loop, then use the same elements (the analyses see it as a
        buffer of the procedure, not of the loop's body)."""
        return False

    @classmethod
    def can_read(cls) -> bool:
        """Whether plain (non-instruction) code may read, write and reduce into it."""
        return True

    @classmethod
    def is_registers(cls) -> bool:
        """Whether buffers in it are registers that the C compiler should keep in
        registers: the C backend then unrolls small constant loops indexing them (so
        their indices are constants). By default, the memories plain code may not
        touch; a memory of addressed storage (an accelerator's scratchpad) says no."""
        return not cls.can_read()

    @classmethod
    def call_check(cls, library):
        """For a memory whose C keeps state of its own (a simulator's): a function of no
        arguments that knit's JIT runs after every call of a compiled proc using this
        memory, given the loaded library (a ctypes.CDLL). It raises to report an error
        the C recorded during the call. None (the default): nothing to check."""

    @classmethod
    def write(cls, s, lhs: str, rhs: str) -> str:
        return f"{lhs} = {rhs};"

    @classmethod
    def reduce(cls, s, lhs: str, rhs: str) -> str:
        return f"{lhs} += {rhs};"


def _flat_size(shape: list[str]) -> str:
    return " * ".join(f"({s})" if not s.isidentifier() and not s.isdigit() else s
                      for s in shape)


class DRAM(Memory):
    """Main memory: heap allocation with malloc/free."""

    @classmethod
    def global_(cls) -> str:
        return "#include <stdio.h>\n#include <stdlib.h>"

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        if not shape:
            return f"{prim_type} {new_name};"
        return (f"{prim_type} *{new_name} = ({prim_type}*) "
                f"malloc({_flat_size(shape)} * sizeof(*{new_name}));")

    @classmethod
    def free(cls, new_name, prim_type, shape, srcinfo):
        return "" if not shape else f"free({new_name});"


class DRAM_STACK(DRAM):
    """Automatic (stack) arrays: no allocation cost, freed at the end of the block."""

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        if not shape:
            return f"{prim_type} {new_name};"
        return f"{prim_type} {new_name}[{_flat_size(shape)}];"

    @classmethod
    def free(cls, new_name, prim_type, shape, srcinfo):
        return ""
