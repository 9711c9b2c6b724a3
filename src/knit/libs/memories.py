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
recursive or concurrent calls and by the iterations of a loop it is allocated in
(`one_per_program`: the analyses see it so, and refuse it in a `par` loop's body),
so do not use one in a procedure that threads call at once.
"""

from __future__ import annotations

from knit import DRAM, Memory

# DRAM_STACK is defined with DRAM (the C backend puts small buffers there); MemGenError
# is the error memory hooks raise: both re-exported from here
from knit.memory import DRAM_STACK, MemGenError

# GEMM_* and AVX* are served by __getattr__ (loaded on first use), hence the noqa
__all__ = ["DRAM_ALIGNED32", "DRAM_ALIGNED64", "DRAM_STACK", "DRAM_STATIC",  # noqa: F822
           "GEMM_ACCUM",
           "GEMM_SCRATCH", "MemGenError"]  # noqa: F822


def _product(shape: list[str]) -> str:
    return " * ".join(s if s.isidentifier() or s.isdigit() else f"({s})" for s in shape)


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

    @classmethod
    def one_per_program(cls) -> bool:
        return True


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


# ---------------------------------------------------------------- Exo 1.0's memories
# The other memories `exo.libs.memories` defines, under the same names.

__all__ += ["AMX_TILE", "AVX2", "AVX512", "DRAM", "MDRAM", "Memory",  # noqa: F822
            "StaticMemory"]


class MDRAM(DRAM):
    """Heap buffers from a custom allocator, as Exo's MDRAM: `malloc_dram(bytes)` and
    `free_dram(p)`, declared by a `custom_malloc.h` the program supplies."""

    @classmethod
    def global_(cls):
        return '#include "custom_malloc.h"'

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        if not shape:
            return f"{prim_type} {new_name};"
        return (f"{prim_type} *{new_name} = ({prim_type}*) "
                f"malloc_dram({_product(shape)} * sizeof({prim_type}));")

    @classmethod
    def free(cls, new_name, prim_type, shape, srcinfo):
        return f"free_dram({new_name});" if shape else ""


class StaticMemory(Memory):
    """A memory of a fixed number of chunks (hardware tiles, registers) handed out by a
    free list while C is generated, as Exo's StaticMemory. A subclass calls
    `init_state(n)` once, then `find_free_chunk()`/`mark(i)` in alloc and `unmark(i)`
    in free; running out is a MemGenError at code generation."""

    is_chunk_allocated: list = []

    @classmethod
    def init_state(cls, size):
        cls.is_chunk_allocated = [False] * size

    @classmethod
    def find_free_chunk(cls):
        for i, used in enumerate(cls.is_chunk_allocated):
            if not used:
                return i
        raise MemGenError(f"{cls.name()}: cannot allocate more than "
                          f"{len(cls.is_chunk_allocated)} chunks at a time")

    @classmethod
    def mark(cls, idx):
        cls.is_chunk_allocated[idx] = True

    @classmethod
    def unmark(cls, idx):
        cls.is_chunk_allocated[idx] = False


class AMX_TILE(StaticMemory):
    """The 8 tile registers of Intel AMX, as Exo's AMX_TILE: a buffer becomes a tile
    number (`#define name k`) for the AMX instructions; at most 16 rows of at most 64
    bytes, and only instructions touch it."""

    NUM_AMX_TILES = 8
    tile_dict: dict = {}
    _BYTES = {"float": 4, "double": 8, "int8_t": 1, "uint8_t": 1, "int32_t": 4,
              "int_fast32_t": 4}

    @classmethod
    def reset_allocations(cls):
        cls.init_state(cls.NUM_AMX_TILES)
        cls.tile_dict = {}

    @classmethod
    def global_(cls):
        return "#include <immintrin.h>"

    @classmethod
    def can_read(cls):
        return False

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        if len(shape) != 2 or not shape[0].isdigit() or int(shape[0]) > 16:
            raise MemGenError(f"AMX tile '{new_name}' needs a constant number of rows, "
                              f"at most 16, and two dimensions; its shape is {shape}")
        width = cls._BYTES.get(prim_type)
        if width is None or not shape[1].isdigit() or int(shape[1]) * width > 64:
            raise MemGenError(f"AMX tile '{new_name}' needs a constant row of at most 64 "
                              f"bytes; its rows are {shape[1]} {prim_type} values")
        k = cls.find_free_chunk()
        cls.mark(k)
        cls.tile_dict[new_name] = k
        return f"#define {new_name} {k}"

    @classmethod
    def free(cls, new_name, prim_type, shape, srcinfo):
        cls.unmark(cls.tile_dict.pop(new_name))
        return f"#undef {new_name}"


AMX_TILE.reset_allocations()

# Memories whose instructions live in a platform library: loaded on first use, so that
# importing this module stays cheap.
_LAZY_MEMORIES = {"AVX2": "knit.platforms.x86.memories",
                  "AVX512": "knit.platforms.x86.memories",
                  "GEMM_SCRATCH": "knit.platforms.gemmini.memories",
                  "GEMM_ACCUM": "knit.platforms.gemmini.memories"}


def __getattr__(name: str):
    if name in _LAZY_MEMORIES:
        import importlib

        return getattr(importlib.import_module(_LAZY_MEMORIES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_KNIT_TYPES = {"float": "f32", "double": "f64", "_Float16": "f16", "int8_t": "i8",
               "uint8_t": "ui8", "uint16_t": "ui16", "int32_t": "i32"}


class VectorRegisters(Memory):
    """Base class for a register file of SIMD vectors (x86 AVX2/AVX-512, ARM NEON, ...):
    a buffer's last dimension is one register of exactly `lanes` values; the dimensions
    before it, constants, make a C array of registers.

    A subclass sets `types` (C element type -> (lanes, C vector type)) and `global_()`.
    `t: f32[8] @ AVX2` becomes `__m256 t;`, `t: f32[2, 3, 8] @ AVX2` becomes
    `__m256 t[2][3];`, as in Exo, or `__m256 t[2][3] = {0};` (`alloc_zeroed`) where an
    instruction's C could read it before the program wrote it all (one merging into
    old lanes; the C backend decides, knit.backend.c.registers; compilers drop the
    zeroing when a write comes first). The C backend unrolls small constant loops over
    register arrays, so C compilers keep them in registers. Only instructions may
    touch registers."""

    types: dict = {}  # C element type -> (lanes, C vector type)

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        return cls._declaration(new_name, prim_type, shape) + ";"

    @classmethod
    def alloc_zeroed(cls, new_name, prim_type, shape, srcinfo):
        return cls._declaration(new_name, prim_type, shape) + " = {0};"

    @classmethod
    def _declaration(cls, new_name, prim_type, shape) -> str:
        """`vtype name[d0][d1]...` after checking the shape."""
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
        return f"{vtype} {new_name}{dims}"

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
