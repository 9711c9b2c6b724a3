"""Which register buffers the C must zero where it declares them.

Only instructions touch a register (`Memory.can_read()` is false), and an instruction's
C works on whole registers: `_mm512_mask_loadu_ps(old, k, p)` reads the old value of
every lane although its body writes lanes `i < N` only. If that register was never
written, the C reads an uninitialised variable, which the body never does: the
program is correct and its C undefined. Zeroing the declaration (`__m512 v = {0};`,
`Memory.alloc_zeroed`) closes that gap; Exo declares without (`__m512 v;`).

A buffer is declared without zeroing only when that cannot happen:

1. every instruction argument that is (a window of) it covers whole registers (its
   last dimension from lane 0 to the last) and goes to a parameter the instruction's
   body accesses whole: each access, read or write, is `p[i, j, ...]` with every index
   the variable of an enclosing `for i in seq(0, extent)` over that whole dimension,
   and no `if` around it. Then the C reads only lanes the body reads, and a lane read
   before it is written is the program's own error (semantics.md#uninit);
2. the first statement after the allocation that mentions it is an instruction that
   only writes it whole (`mm512_loadu_ps(v, ...)`), possibly inside loops of constant
   trip counts (`for i in seq(0, 4)`): so C compilers see a write before any read,
   and `-Wall` has nothing to say.

Anything else (a window statement of it, a subprocedure taking it, a masked or prefix
instruction, a first write inside an `if` or a loop that may not run) zeroes it:
zeroing costs nothing once a write comes first, compilers drop it.
"""

from __future__ import annotations

from knit.ir import nodes as N
from knit.ir.visit import stmt_exprs, walk_expr, walk_stmts

WHOLE_WRITE, WHOLE, PARTIAL = "whole write", "whole", "partial"


def zeroed_registers(proc: N.Proc) -> set:
    """The allocations (Syms) of register buffers in `proc` whose C declaration must
    zero them (see the module docstring)."""
    regs = {s.name: s for s in walk_stmts(proc.body)
            if isinstance(s, N.Alloc) and s.mem is not None and s.mem.is_registers()}
    if not regs:
        return set()
    zeroed = set()
    for s in walk_stmts(proc.body):
        if isinstance(s, N.Call):
            for arg, param in zip(s.args, s.f.args):
                for name in _names(arg) & regs.keys():
                    if _use(s.f, param.name, arg, regs[name]) is PARTIAL:
                        zeroed.add(name)
        elif isinstance(s, N.WindowStmt | N.Alloc):
            zeroed |= _names(*stmt_exprs(s)) & regs.keys()
    _first_writes(proc.body, regs, zeroed)
    return zeroed


def _first_writes(block, regs: dict, zeroed: set) -> None:
    """Adds to `zeroed` the allocations in `block` (and blocks inside it) whose first
    mention is not a whole write (rule 2)."""
    for k, s in enumerate(block):
        if isinstance(s, N.Alloc) and s.name in regs and s.name not in zeroed:
            if not _written_first(block[k + 1:], s.name, regs[s.name]):
                zeroed.add(s.name)
        for sub in _blocks(s):
            _first_writes(sub, regs, zeroed)


def _blocks(s) -> tuple:
    if isinstance(s, N.For):
        return (s.body,)
    if isinstance(s, N.If):
        return (s.body, s.orelse)
    return ()


def _written_first(block, name, alloc: N.Alloc) -> bool:
    for s in block:
        if not _mentions(s, name):
            continue
        if isinstance(s, N.For):
            runs = (isinstance(s.lo, N.Const) and isinstance(s.hi, N.Const)
                    and s.hi.val > s.lo.val)
            return runs and _written_first(s.body, name, alloc)
        if isinstance(s, N.Call):
            uses = [(a, p) for a, p in zip(s.args, s.f.args) if name in _names(a)]
            return (len(uses) == 1
                    and _use(s.f, uses[0][1].name, uses[0][0], alloc) is WHOLE_WRITE)
        return False
    return False  # never used: keep the zeroing (the C marks it used)


def _mentions(s, name) -> bool:
    return any(name in _names(*stmt_exprs(x)) or getattr(x, "name", None) == name
               for x in walk_stmts((s,)))


def _names(*exprs) -> set:
    return {e.name for x in exprs for e in walk_expr(x)
            if isinstance(e, N.Read | N.WindowExpr)}


def _use(f: N.Proc, param, arg, alloc: N.Alloc) -> str:
    """How the call of `f` uses the register buffer `alloc` passed as `arg` to
    `param`: WHOLE_WRITE, WHOLE or PARTIAL."""
    if f.instr is None or not isinstance(arg, N.WindowExpr) or arg.name != alloc.name:
        return PARTIAL  # a subprocedure's own C, or the buffer in an index: assume the worst
    last, lanes = arg.idx[-1], alloc.type.shape()[-1]
    if not (isinstance(last, N.Interval) and _const(last.lo) == 0
            and _const(last.hi) is not None and _const(last.hi) == _const(lanes)):
        return PARTIAL  # part of a register: the C still takes all of it
    return instr_access(f).get(param, WHOLE)


def _const(e):
    return e.val if isinstance(e, N.Const) else None


def instr_access(f: N.Proc) -> dict:
    """For each tensor parameter of the instruction `f` its body accesses: WHOLE_WRITE
    (written whole, never read), WHOLE (every access whole) or PARTIAL; a parameter
    the body does not touch is left out."""
    dims = {a.name: a.type.shape() for a in f.args if a.type.is_tensor()}
    seen: dict = {}

    def note(name, kind):
        if name in dims:
            seen.setdefault(name, set()).add(kind)

    def whole(name, idx, loops) -> bool:
        shape = dims[name]
        if len(idx) != len(shape):
            return False
        iters = [i.name for i in idx if isinstance(i, N.Read) and not i.idx]
        return (len(iters) == len(idx) and len(set(iters)) == len(iters)
                and all(it in loops and loops[it] == _const(d)
                        for it, d in zip(iters, shape)))

    def exprs(es, loops, guarded):
        for e in es:
            for x in walk_expr(e):
                if isinstance(x, N.Read) and x.name in dims:
                    note(x.name, "read" if not guarded and whole(x.name, x.idx, loops)
                         else PARTIAL)
                elif isinstance(x, N.WindowExpr) and x.name in dims:
                    note(x.name, PARTIAL)  # passed on: assume the worst

    def block(stmts, loops, guarded):
        for s in stmts:
            match s:
                case N.Assign() | N.Reduce():
                    exprs((*s.idx, s.rhs), loops, guarded)
                    ok = not guarded and s.name in dims and whole(s.name, s.idx, loops)
                    note(s.name, ("write" if isinstance(s, N.Assign) else "reduce")
                         if ok else PARTIAL)
                case N.For():
                    exprs((s.lo, s.hi), loops, guarded)
                    inner = dict(loops)
                    if _const(s.lo) == 0 and _const(s.hi) is not None:
                        inner[s.iter] = _const(s.hi)
                    block(s.body, inner, guarded)
                case N.If():
                    exprs((s.cond,), loops, guarded)
                    block(s.body, loops, True)
                    block(s.orelse, loops, True)
                case _:
                    exprs(stmt_exprs(s), loops, guarded)

    block(f.body, {}, False)
    out = {}
    for name, kinds in seen.items():
        if PARTIAL in kinds:
            out[name] = PARTIAL
        elif kinds == {"write"}:
            out[name] = WHOLE_WRITE
        else:
            out[name] = WHOLE
    return out
