"""Public sub-procedure primitives (re-exported by knit.stdlib.scheduling)."""

from __future__ import annotations

from knit.errors import ProcedureTypeError, SchedulingError
from knit.ir import handles, nodes as N
from knit.ir.handles import Notes
from knit.rewrite import common as K, subprocs as SP

_reports = Notes()  # what each replace_all call replaced, on the procedure it returned


def _procedure(prim, x):
    from knit.procedure import Procedure

    if not isinstance(x, Procedure):
        raise ProcedureTypeError(f"{prim}: expected a procedure, got {type(x).__name__}")
    return x


def replace(proc, block_cursor, subproc, quiet=False):
    """Replace a block by a call to `subproc` (typically an instruction) whose body
    does the same thing. The arguments (including windows, strides and sizes) are
    found by unifying the block with subproc's body (a size parameter is found from a
    loop bound or a condition such as `i < N`; never an expression of the block's own
    loop variables, which the call cannot see); subproc's asserts must be proven at the
    call, and its arguments may not overlap where it writes. Refused with the first
    mismatch otherwise. Each buffer must live in the memory its parameter names: as in
    Exo, checked where C is generated, not here (a later set_memory may move the
    buffer there); call_site_mem_aware_replace checks it at once."""
    prim = "replace"
    K.check_proc_arg(proc, prim)
    blk = K.block_site(proc, block_cursor, prim)
    return SP.replace(blk, _procedure(prim, subproc))


def call_site_mem_aware_replace(proc, block_cursor, subproc, quiet=False):
    """replace, also refused unless each buffer the call passes already lives in the
    memory its parameter names (SP.MemoryMismatchError, a MemoryError too, as in Exo)."""
    prim = "call_site_mem_aware_replace"
    K.check_proc_arg(proc, prim)
    blk = K.block_site(proc, block_cursor, prim)
    return SP.replace(blk, _procedure(prim, subproc), mem_aware=True)


def replace_all(proc, subprocs, mem_aware=True, quiet=False):
    """Replace every block that matches the body of one of `subprocs` (a procedure or a
    list), in program order; blocks that do not match are left alone.

    Says what it did: unless `quiet`, one line on stderr per call (`replace_all: 2
    blocks replaced in f: mm256_loadu_ps at line 9, ...`), and the list is kept on the
    result (`Replacements.of(p)`). When nothing matched, warns with
    knit.errors.NothingReplacedWarning (`quiet` or not): a schedule usually has a step
    missing then (e.g. the loop was not divided to the instruction's width, or the
    buffer is not in the instruction's memory). Calls from inside knit stay silent.
    `mem_aware` (as in Exo): when True, a block matches only where each buffer lives in
    the memory the instruction's parameter names; False skips that check (the memories
    are still checked when the procedure is compiled)."""
    prim = "replace_all"
    K.check_proc_arg(proc, prim)
    subs = subprocs if isinstance(subprocs, (list, tuple)) else [subprocs]
    subs = [_procedure(prim, s) for s in subs]
    done: list = []
    if not isinstance(mem_aware, bool):
        raise SchedulingError(f"{prim}: mem_aware must be True or False, got {mem_aware!r}")
    out = SP.replace_all(proc, subs, done, mem_aware=mem_aware)
    report = Replacements((sub.name(), stmt.srcinfo) for sub, stmt in done)
    if out is not proc:
        _reports.put(out, report)
    if _called_by_user():
        _tell(prim, proc, subs, report, quiet)
    return out


class Replacements(tuple):
    """What one `replace_all` call replaced: (instruction name, SrcInfo of the first
    statement of the block it replaced) pairs, in the order they were replaced."""

    @staticmethod
    def of(proc) -> Replacements:
        """The replacements of the replace_all call that returned `proc` (empty for a
        procedure that replace_all did not return)."""
        return _reports.get(proc, Replacements())

    def __str__(self) -> str:
        by_name: dict = {}
        for name, src in self:
            by_name.setdefault(name, []).append(str(src.line))
        return "; ".join(f"{name} at line{'s' if len(lines) > 1 else ''} {', '.join(lines)}"
                         for name, lines in by_name.items())


def _tell(prim, proc, subs, report, quiet) -> None:
    import sys
    import warnings

    from knit.errors import NothingReplacedWarning

    if not report:
        names = ", ".join(s.name() for s in subs)
        warnings.warn(f"{prim}: nothing in {proc.name()} matches the body of {names}; the "
                      "procedure is returned unchanged (print it, and the instruction's body,"
                      " to compare them: loop extents, memories and operand order must "
                      "match)", NothingReplacedWarning, stacklevel=4)
    elif not quiet:
        n = len(report)
        print(f"{prim}: {n} block{'s' if n > 1 else ''} replaced in {proc.name()}: {report}",
              file=sys.stderr)


def _called_by_user() -> bool:
    """Whether the caller (past the trace wrapper) is outside the knit package."""
    import sys

    from knit import trace
    from knit.errors import is_internal_frame

    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename == trace.__file__:
        frame = frame.f_back
    return frame is not None and not is_internal_frame(frame)


def call_eqv(proc, call_cursor, eqv_proc):
    """Call `eqv_proc` instead of the procedure a call names; refused unless the two are
    known equivalent (one was scheduled from the other, see Procedure.is_eq) and declare
    their parameters alike (set_precision, set_window or set_memory on a parameter
    keep equivalence but change what a call may pass)."""
    prim = "call_eqv"
    K.check_proc_arg(proc, prim)
    if handles.is_procedure(call_cursor):  # Exo's short-hand: the first call of it
        call_cursor = f"{call_cursor.name()}(_)"
    site = K.stmt_site(proc, call_cursor, prim)
    if not isinstance(site.node(), N.Call):
        raise K.refuse(prim, site, "expected a call")
    return SP.call_eqv(site, _procedure(prim, eqv_proc))


def inline(proc, call_cursor):
    """Replace a call by the callee's body, with its parameters replaced by the
    arguments. Always safe. A Procedure stands for its first call (as in Exo)."""
    prim = "inline"
    K.check_proc_arg(proc, prim)
    if handles.is_procedure(call_cursor):  # Exo's short-hand: the first call of it
        call_cursor = f"{call_cursor.name()}(_)"
    site = K.stmt_site(proc, call_cursor, prim)
    if not isinstance(site.node(), N.Call):
        raise K.refuse(prim, site, "expected a call")
    return SP.inline(site)


def extract_subproc(proc, block, subproc_name, include_asserts=True):
    """Move a block into a new procedure named `subproc_name` and call it there.
    Returns (new proc, subproc). The subproc takes the block's free variables and the
    sizes their shapes name, in the order they were declared; with include_asserts it
    asserts what held at the block (the procedure's asserts, loop ranges, conditions).
    Refused when the subproc would not pass the checks on its own (e.g. without the
    asserts its accesses need)."""
    prim = "extract_subproc"
    K.check_proc_arg(proc, prim)
    blk = K.block_site(proc, block, prim)
    return SP.extract_subproc(blk, K.check_name(prim, subproc_name), bool(include_asserts))


def insert_noop_call(proc, gap_cursor, instr, args):
    """Insert a call to an instruction whose body is `pass` (e.g. a prefetch): it
    cannot change the program's meaning. `args` are expression strings ("x[0:1]") or
    integers; the call must pass the checks of a call (kinds, bounds, the asserts)."""
    prim = "insert_noop_call"
    K.check_proc_arg(proc, prim)
    gap = K.gap_site(proc, gap_cursor, prim)
    if not isinstance(args, (list, tuple)):
        raise SchedulingError(f"{prim}: args must be a list of argument expressions")
    parsed = [_arg_expr(proc, prim, a, gap.path) for a in args]
    return SP.insert_noop_call(gap, _procedure(prim, instr), parsed)


def _arg_expr(proc, prim, a, path):
    from knit.frontend.fragment import parse_expr_fragment
    from knit.ir import types as T

    if isinstance(a, bool) or not isinstance(a, (int, str)):
        raise SchedulingError(f"{prim}: an argument must be an expression string or an "
                              f"integer, got {a!r}")
    return N.Const(a, T.INT) if isinstance(a, int) else parse_expr_fragment(proc, a, path, prim)


def make_instr(proc, c_instr, c_global=""):
    """Turn a procedure into an instruction that emits `c_instr` in C."""
    K.check_proc_arg(proc, "make_instr")
    if not isinstance(c_instr, str):
        raise SchedulingError("make_instr: c_instr must be a string")
    return SP.make_instr(proc, c_instr, c_global)


__all__ = [
    "call_eqv",
    "extract_subproc",
    "inline",
    "insert_noop_call",
    "make_instr",
    "replace",
    "replace_all",
]
