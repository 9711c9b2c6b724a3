"""knit: an exocompiler. Write loop nests in Python, schedule them, emit C.

Import cost is kept low: heavy modules (numpy, z3, the C backend) load on first use.
"""

from knit.API_types import ExoType  # Exo's names for types, compared with cursor types
from knit.config import Config, config
from knit.errors import KnitError, ParseFragmentError, SchedulingError, UserError
from knit.extern import Extern
from knit.instrcheck import check_instr, inexact
from knit.memory import DRAM, Memory
from knit.procedure import Procedure, instr, lazy_instrs, proc

__all__ = ["proc", "instr", "config", "Procedure", "Memory", "DRAM", "Config", "Extern",
           "SchedulingError", "ParseFragmentError", "KnitError", "UserError", "compile_procs",
           "compile_procs_to_strings", "check_equiv", "check_instr", "inexact", "lazy_instrs",
           "replay", "diff", "tune", "ExoType", "stdlib"]

__version__ = "1.0.0"  # the Exo release whose public surface knit provides



def __getattr__(name: str):
    # loaded on first use: check_equiv pulls in numpy and the runtimes
    if name == "check_equiv":
        from knit.equiv import check_equiv

        return check_equiv
    if name in ("replay", "diff"):  # schedule traces (knit/trace.py)
        from knit import trace

        return getattr(trace, name)
    if name == "tune":  # autotuning (knit/tuning/) loads the C toolchain helpers
        from knit.tuning import tune

        return tune
    if name == "stdlib":  # `knit.stdlib` as an attribute, as `exo.stdlib` is
        import knit.stdlib

        return knit.stdlib
    raise AttributeError(f"module 'knit' has no attribute {name!r}")


def compile_procs(procs, directory, c_file: str, h_file: str, *, ctxt: bool = True
                  ) -> None:
    """Write the C code of `procs` (and what they call) to directory/c_file and h_file;
    each function takes Exo's `void *ctxt` first unless `ctxt=False`."""
    from knit.backend.c import compile_procs as _impl

    _impl(procs, directory, c_file, h_file, ctxt=ctxt)


def compile_procs_to_strings(procs, h_file_name: str, *, ctxt: bool = True
                             ) -> tuple[str, str]:
    """The C source and header text of `procs`, as a (c, h) pair; each function takes
    Exo's `void *ctxt` first unless `ctxt=False`."""
    from knit.backend.c import compile_procs_to_strings as _impl

    return _impl(procs, h_file_name, ctxt=ctxt)
