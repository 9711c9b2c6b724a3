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

from knit import DRAM, Memory
from knit.memory import MemGenError  # re-exported: the error memory hooks raise

__all__ = ["DRAM_ALIGNED32", "DRAM_ALIGNED64", "DRAM_STACK", "DRAM_STATIC", "GEMM_ACCUM",
           "GEMM_SCRATCH", "MemGenError"]


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


_KNIT_TYPES = {"float": "f32", "double": "f64", "_Float16": "f16", "int8_t": "i8",
               "uint8_t": "ui8", "uint16_t": "ui16", "int32_t": "i32"}


class VectorRegisters(Memory):
    """Base class for a register file of SIMD vectors (x86 AVX2/AVX-512, ARM NEON, ...):
    a buffer's last dimension is one register of exactly `lanes` values; the dimensions
    before it, constants, make a C array of registers.

    A subclass sets `types` (C element type -> (lanes, C vector type)) and `global_()`.
    `t: f32[8] @ AVX2` becomes `__m256 t = {0};`, `t: f32[2, 3, 8] @ AVX2` becomes
    `__m256 t[2][3] = {0};` (zeroed, so instructions that merge into old lanes never
    read an uninitialized register; compilers drop the zeroing when a write comes
    first). The C backend unrolls small constant loops over register arrays, so C
    compilers keep them in registers. Only instructions may touch registers."""

    types: dict = {}  # C element type -> (lanes, C vector type)

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        lanes, vtype = cls._vector_type(new_name, prim_type)
        knit_type = _KNIT_TYPES.get(prim_type, prim_type)
        if not shape:
            raise MemGenError(f"'{new_name}' is a scalar, but {cls.name()} holds whole "
                              f"vectors; allocate {knit_type}[{lanes}] instead")
        if shape[-1] != str(lanes):
            raise MemGenError(f"the last dimension of '{new_name}' is {shape[-1]}, but one "
                              f"{cls.name()} register holds exactly {lanes} {knit_type} "
                              f"values; make it {lanes} (e.g. with divide_dim)")
        for extent in shape[:-1]:
            if not extent.isdigit():
                raise MemGenError(f"'{new_name}' has the extent '{extent}', but registers "
                                  "are allocated in fixed numbers; use constant extents")
        dims = "".join(f"[{e}]" for e in shape[:-1])
        return f"{vtype} {new_name}{dims} = {{0}};"

    @classmethod
    def _vector_type(cls, new_name, prim_type) -> tuple[int, str]:
        if prim_type not in cls.types:
            kinds = " or ".join(_KNIT_TYPES[t] for t in cls.types)
            raise MemGenError(f"'{new_name}' holds {_KNIT_TYPES.get(prim_type, prim_type)} "
                              f"data, but {cls.name()} registers hold {kinds} values")
        return cls.types[prim_type]

    @classmethod
    def free(cls, new_name, prim_type, shape, srcinfo):
        return ""

    @classmethod
    def window(cls, basetyp, baseptr, indices, strides, srcinfo):
        """The register holding the window's first element: `t` or `t[i][j]`."""
        if strides[-1] != "1":
            raise MemGenError(f"the lanes of {cls.name()} register '{baseptr}' must be "
                              f"contiguous, but have stride {strides[-1]}")
        if indices[-1] != "0":
            raise MemGenError(f"a window into {cls.name()} register '{baseptr}' must start "
                              f"at lane 0, but starts at lane {indices[-1]}; instructions "
                              "take whole registers")
        return baseptr + "".join(f"[{i}]" for i in indices[:-1])

    @classmethod
    def can_read(cls) -> bool:
        return False  # only instructions touch registers

    @classmethod
    def write(cls, s, lhs, rhs):
        raise MemGenError(f"{cls.name()} registers are written by instructions only")

    @classmethod
    def reduce(cls, s, lhs, rhs):
        raise MemGenError(f"{cls.name()} registers are written by instructions only")


def __getattr__(name: str):
    # The accelerator's memories live with its platform library (knit.platforms.gemmini),
    # which is loaded on first use: importing this module stays cheap.
    if name in ("GEMM_SCRATCH", "GEMM_ACCUM"):
        from knit.platforms.gemmini import memories

        return getattr(memories, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
