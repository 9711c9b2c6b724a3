"""The C backend: knit procedures -> one readable C file and its header.

    compile_procs([gemm], "out", "gemm.c", "gemm.h")
    c_text, h_text = compile_procs_to_strings([gemm], "gemm.h")

Every procedure reachable through calls is emitted once, callees first; the ones
passed in are public (declared in the header), the others are `static`.
"""

from __future__ import annotations

from pathlib import Path

from knit.backend.c.header import generate


def compile_procs_to_strings(procs, h_file_name: str) -> tuple[str, str]:
    """The C source and header text of `procs` (Procedures), as a (c, h) pair; the
    source includes the header as `h_file_name`."""
    c, h, _ = generate(list(procs), h_file_name)
    return c, h


def compile_procs(procs, directory, c_file: str, h_file: str) -> None:
    """Write the C code of `procs` to directory/c_file and directory/h_file."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    c, h = compile_procs_to_strings(procs, Path(h_file).name)
    (out / c_file).write_text(c)
    (out / h_file).write_text(h)


__all__ = ["compile_procs", "compile_procs_to_strings"]
