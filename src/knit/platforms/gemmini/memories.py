"""The scratchpad (GEMM_SCRATCH) and accumulator (GEMM_ACCUM) of the accelerator.

A buffer in either lives in the simulator's memories (gemmini_sim.c), not in DRAM: its C
pointer holds a row address, not a host address. `a: i8[4, 16, 16] @ GEMM_SCRATCH`
becomes

    int8_t *a = (int8_t*) gemm_malloc(4 * 16 * 16 * sizeof(int8_t));   // row number
    ...
    gemm_free((uint64_t) a);

and the element `a[j, i, 0]` the row `a + (j * 256 + i * 16) / 16`, written as an lvalue
`*(int8_t*)(...)` so that an instruction template's `&{a_data}` is that row address.
Scratchpad rows hold 16 int8, accumulator rows 16 int32; so the last dimension of
a buffer is exactly 16, and a window into it starts at column 0 (instructions move and
compute whole rows). Plain code cannot read or write these memories: only the
instructions of knit.platforms.gemmini can.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

from knit import Memory
from knit.libs.memories import MemGenError
from knit.platforms.gemmini.sim import GemminiError

SIMULATOR = Path(__file__).with_name("gemmini_sim.c")


def simulator_source() -> str:
    """The C simulator, pasted into each C file that uses the accelerator (its text is
    part of the JIT's cache key, so a changed simulator rebuilds every kernel)."""
    return SIMULATOR.read_text()


_checks: dict[str, object] = {}  # library path -> its fault check (one per library)


def fault_check(library):
    """After each call of a compiled proc that uses the accelerator (knit's JIT runs
    this, see Memory.call_check): raise GemminiError if the simulator recorded a fault
    during the call, and clear it, so that the next call runs its instructions."""
    if library._name in _checks:
        return _checks[library._name]
    error, clear = library.knit_gemmini_error, library.knit_gemmini_clear_error
    error.restype = ctypes.c_char_p
    clear.restype = None

    def check():
        msg = error()
        if msg:
            clear()
            raise GemminiError(f"the Gemmini simulator faulted: {msg.decode()}")

    return _checks.setdefault(library._name, check)


def _row_address(prim_type: str, baseptr: str, indices, strides, mem: str) -> str:
    if strides[-1] != "1" or indices[-1] != "0":
        raise MemGenError(f"a window into {mem} buffer '{baseptr}' must start at column 0 "
                          f"of a row with contiguous columns (it starts at column "
                          f"{indices[-1]}, stride {strides[-1]}): instructions address "
                          "whole rows")
    offset = " + ".join(f"({i}) * ({s})" for i, s in zip(indices, strides)
                        if i != "0" and s != "0") or "0"
    return f"*({prim_type}*)(uintptr_t)((uint32_t)(uintptr_t){baseptr} + ({offset}) / 16)"


class _Rows(Memory):
    """A memory of 16-element rows in the simulator, allocated by `malloc_fn`."""

    malloc_fn = free_fn = ""
    addr_type = "uint64_t"  # what the allocator returns
    elem_types: tuple = ()

    @classmethod
    def global_(cls) -> str:
        return simulator_source()

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        if prim_type not in cls.elem_types:
            raise MemGenError(f"{srcinfo}: '{new_name}' holds {prim_type}, but {cls.name()} "
                              f"holds {' or '.join(cls.elem_types)}")
        if not shape:
            raise MemGenError(f"{srcinfo}: '{new_name}' is a scalar, but {cls.name()} holds "
                              "rows of 16 values; allocate [..., 16]")
        if shape[-1] != "16":
            raise MemGenError(f"{srcinfo}: the last dimension of '{new_name}' is {shape[-1]}, "
                              f"but a {cls.name()} row holds exactly 16 values")
        size = " * ".join(s if s.isidentifier() or s.isdigit() else f"({s})" for s in shape)
        return (f"{prim_type} *{new_name} = ({prim_type}*) (uintptr_t) "
                f"{cls.malloc_fn}({size} * sizeof({prim_type}));")

    @classmethod
    def free(cls, new_name, prim_type, shape, srcinfo):
        return f"{cls.free_fn}(({cls.addr_type}) (uintptr_t) {new_name});"

    @classmethod
    def window(cls, basetyp, baseptr, indices, strides, srcinfo):
        return _row_address(basetyp.basetype().ctype, baseptr, indices, strides, cls.name())

    @classmethod
    def can_read(cls) -> bool:
        return False  # only the accelerator's instructions touch its memories

    @classmethod
    def is_registers(cls) -> bool:
        return False  # addressed rows: no reason to unroll the loops over them in C

    @classmethod
    def call_check(cls, library):
        return fault_check(library)


class GEMM_SCRATCH(_Rows):
    """The scratchpad: 16384 rows of 16 int8 (256 KiB)."""

    malloc_fn, free_fn = "gemm_malloc", "gemm_free"
    elem_types = ("int8_t",)


class GEMM_ACCUM(_Rows):
    """The accumulator: 1024 rows of 16 int32 (64 KiB). Its addresses have bit 31 set."""

    malloc_fn, free_fn = "gemm_acc_malloc", "gemm_acc_free"
    addr_type = "uint32_t"
    elem_types = ("int32_t",)
