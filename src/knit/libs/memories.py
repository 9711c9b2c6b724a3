"""Memories beyond DRAM: where a buffer lives and how C allocates it.

| memory           | C for `t: f32[N, 8] @ MEM`                              | sizes      |
|------------------|---------------------------------------------------------|------------|
| `DRAM`           | `float *t = (float*) malloc(...)` ... `free(t)`         | any        |
| `DRAM_STACK`     | `float t[N * 8];` (a variable-length array if N varies) | any        |
| `DRAM_STATIC`    | `static float t[64];`                                   | constants  |
| `DRAM_ALIGNED32` | `aligned_alloc(32, ...)` ... `free(t)`: AVX2 alignment   | any        |
| `DRAM_ALIGNED64` | `aligned_alloc(64, ...)` ... `free(t)`: AVX-512, lines   | any        |

All are ordinary memory, readable by plain code. Stack buffers are private to each
call (and to each iteration of a `par` loop they are allocated in), but a large one
can overflow the stack. A `DRAM_STATIC` buffer is one per program: it is shared by
recursive or concurrent calls, so do not allocate one inside a `par` loop or in a
procedure that threads call at once.
"""

from __future__ import annotations

from knit import DRAM
from knit.memory import MemGenError  # re-exported: the error memory hooks raise

__all__ = ["DRAM_ALIGNED32", "DRAM_ALIGNED64", "DRAM_STACK", "DRAM_STATIC", "MemGenError"]


def _product(shape: list[str]) -> str:
    return " * ".join(s if s.isidentifier() or s.isdigit() else f"({s})" for s in shape)


class DRAM_STACK(DRAM):
    """Automatic (stack) arrays: no allocation cost, freed at the end of the block."""

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        if not shape:
            return f"{prim_type} {new_name};"
        return f"{prim_type} {new_name}[{_product(shape)}];"

    @classmethod
    def free(cls, new_name, prim_type, shape, srcinfo):
        return ""


class DRAM_STATIC(DRAM):
    """File-level storage (`static`): sizes must be constants; see the module docstring
    for when sharing one buffer between calls is wrong."""

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        for extent in shape:
            if not extent.isdigit():
                raise MemGenError(f"DRAM_STATIC needs constant sizes, but '{new_name}' has "
                                  f"the extent '{extent}'; use DRAM_STACK or DRAM for "
                                  "buffers whose size varies")
        if not shape:
            return f"static {prim_type} {new_name};"
        return f"static {prim_type} {new_name}[{_product(shape)}];"

    @classmethod
    def free(cls, new_name, prim_type, shape, srcinfo):
        return ""


class _AlignedDRAM(DRAM):
    """Heap buffers aligned to `alignment` bytes (C11 aligned_alloc, which wants the size
    rounded up to a multiple of the alignment)."""

    alignment = 64

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        if not shape:
            return f"{prim_type} {new_name};"
        a = cls.alignment
        nbytes = f"{_product(shape)} * sizeof({prim_type})"
        return (f"{prim_type} *{new_name} = ({prim_type}*) "
                f"aligned_alloc({a}, ({nbytes} + {a - 1}) / {a} * {a});")


class DRAM_ALIGNED32(_AlignedDRAM):
    """Heap buffers aligned to 32 bytes (aligned AVX2 loads and stores)."""

    alignment = 32


class DRAM_ALIGNED64(_AlignedDRAM):
    """Heap buffers aligned to 64 bytes (AVX-512, and whole cache lines)."""

    alignment = 64
