"""The C backend: knit procedures -> one readable C file and its header.

    compile_procs([gemm], "out", "gemm.c", "gemm.h")
    c_text, h_text = compile_procs_to_strings([gemm], "gemm.h")

Every procedure reachable through calls is emitted once, callees first; the ones
passed in are public (declared in the header), the others are `static`. Functions
follow Exo 1.0's C ABI (`void *ctxt` first) unless `ctxt=False`; the JIT uses knit's.
"""

from __future__ import annotations

from pathlib import Path

from knit.backend.c.header import generate
from knit.errors import KnitTypeError, ProcedureTypeError
from knit.ir.handles import ir_of, is_procedure


def compile_procs_to_strings(procs, h_file_name: str, *, ctxt: bool = True
                             ) -> tuple[str, str]:
    """The C source and header text of `procs` (Procedures), as a (c, h) pair; the
    source includes the header as `h_file_name`. With `ctxt` (the default), Exo 1.0's
    C ABI: every function takes a `void *ctxt` first (unused: knit keeps configs in
    static structs; pass NULL); `ctxt=False` leaves it out."""
    c, h, _ = generate(_procedures(procs), h_file_name, ctxt=ctxt)
    return c, h


def _procedures(procs) -> list:
    if is_procedure(procs) or not isinstance(procs, (list, tuple)):
        raise KnitTypeError(None, "compile_procs: expected a list of procedures, e.g. [gemm], got "
                        f"{type(procs).__name__}")
    for p in procs:
        if not is_procedure(p):
            raise ProcedureTypeError(f"compile_procs: expected procedures, got {type(p).__name__} "
                            f"{p!r}")
        if p.is_instr():
            raise KnitTypeError(None, f"compile_procs: {p.name()} is an instruction; it has no C "
                            "function of its own (call it from a proc)")
    from knit.frontend.checks import raise_deferred

    for p in procs:  # a racing par loop, here or in a callee: no C for it (as in Exo)
        raise_deferred(ir_of(p))
    return list(procs)


def compile_procs(procs, directory, c_file: str, h_file: str, *, ctxt: bool = True
                  ) -> None:
    """Write the C code of `procs` to directory/c_file and directory/h_file (`ctxt`: as
    for compile_procs_to_strings)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    c, h = compile_procs_to_strings(procs, Path(h_file).name, ctxt=ctxt)
    (out / c_file).write_text(c)
    (out / h_file).write_text(h)


__all__ = ["compile_procs", "compile_procs_to_strings"]
