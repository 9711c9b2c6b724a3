"""`exo.API` at the same path: the procedure API (see `knit` and `knit.procedure`)."""

from knit import compile_procs, compile_procs_to_strings, config, instr, proc
from knit.API_types import ExoType, ProcedureBase
from knit.errors import SchedulingError
from knit.procedure import Procedure

__all__ = ["Procedure", "compile_procs", "compile_procs_to_strings", "proc", "instr",
           "config", "ExoType", "ProcedureBase", "SchedulingError"]
