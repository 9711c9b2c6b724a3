"""Unification: find the arguments that make a procedure's body equal to a block.

`replace(p, block, instr)` needs arguments such that `instr(args)` does exactly what
`block` does. The instr body and the block are walked together: loops pair their
variables, statements and data expressions must have the same shape, control
parameters are solved from loop bounds and indices, and every access of a tensor
parameter `x[e]` paired with a block access `B[f]` constrains x to be a window of B
whose offset `f - e` does not vary with the paired loops. Index equalities that
remain are proven with the solver under the block's facts.
"""

from __future__ import annotations

from itertools import combinations

from knit.analysis import effects as E
from knit.analysis.exprs import add, sub
from knit.analysis.simplify import simplify_expr
from knit.analysis.smt import prove
from knit.ir import nodes as N
from knit.ir import types as T
from knit.ir.printer import expr_str
from knit.ir.sym import Sym
from knit.ir.visit import free_syms, map_expr, subst


class UnifyError(Exception):
    """The block does not have the shape of the procedure's body (message says where)."""


class _Unifier:
    def __init__(self, callee: N.Proc, windows: dict):
        self.callee = callee
        self.params = {a.name: a for a in callee.args}
        self.loops: dict[Sym, Sym] = {}  # callee loop var -> block loop var
        self.ranges: list = []  # ranges of the block's loops around the current point
        self.control: dict[Sym, N.Expr] = {}  # solved control parameters
        self.obligations: list = []  # (callee index expr, block index expr, ranges there)
        self.accesses: dict[Sym, list] = {}  # data param -> [(callee idx, buf, block idx)]
        self.access_ranges: dict[Sym, list] = {}  # data param -> [ranges at each access]
        self.windows = windows  # block window syms -> (base, accesses), to resolve nothing
        # control parameters that faced expressions of the block's own loop variables,
        # which no argument can be: param -> [(block expr, ranges there, or None where
        # nothing is to be proven once the parameter is found elsewhere)]
        self.inner_uses: dict[Sym, list] = {}

    # ------------------------------------------------------------ statements

    def block(self, xs, ys):
        if len(xs) != len(ys):
            raise UnifyError(f"the body has {len(xs)} statement(s), the block {len(ys)}")
        for x, y in zip(xs, ys):
            self.stmt(x, y)

    def stmt(self, x, y):  # noqa: C901 - one case per statement kind
        if type(x) is not type(y):
            raise UnifyError(f"the body's `{_head(x)}` faces `{_head(y)}` in the block")
        match x:
            case N.For():
                self.index(x.lo, y.lo)
                self.index(x.hi, y.hi)
                self.loops[x.iter] = y.iter
                v = E.var(y.iter)
                # a loop's range holds in its body only: in an empty loop it is false,
                # and would prove anything about the code after it
                outer = len(self.ranges)
                self.ranges += [E.le(y.lo, v), E.lt(v, y.hi)]
                self.block(x.body, y.body)
                del self.ranges[outer:]
            case N.If():
                self.index(x.cond, y.cond)
                self.block(x.body, y.body)
                self.block(x.orelse, y.orelse)
            case N.Assign() | N.Reduce():
                self.data_access(x.name, x.idx, y.name, y.idx, x.type, y.type)
                self.data(x.rhs, y.rhs)
            case N.Pass():
                pass
            case N.WriteConfig():
                if (x.config, x.field) != (y.config, y.field):
                    raise UnifyError("different config fields are written")
                self.data(x.rhs, y.rhs)
            case _:
                raise UnifyError(f"cannot match a body statement like `{_head(x)}`")

    # ------------------------------------------------------------ expressions

    def data(self, x, y):  # noqa: C901
        match x:
            case N.Read() if x.name in self.params and not self.params[x.name].type.is_control():
                if not isinstance(y, N.Read) or y.type.is_tensor():
                    raise UnifyError(f"{expr_str(x)} faces {expr_str(y)}")
                self.data_access(x.name, x.idx, y.name, y.idx, x.type, y.type)
                return
            case N.Read() if x.type.is_control():
                self.index(x, y)
                return
        if type(x) is not type(y):
            raise UnifyError(f"{expr_str(x)} faces {expr_str(y)}")
        match x:
            case N.Const():
                if x.val != y.val:
                    raise UnifyError(f"the constants {expr_str(x)} and {expr_str(y)} differ")
            case N.USub():
                self.data(x.arg, y.arg)
            case N.BinOp():
                if x.op != y.op:
                    raise UnifyError(f"'{x.op}' faces '{y.op}'")
                if x.type.is_control():
                    self.index(x, y)
                else:
                    self.data(x.lhs, y.lhs)
                    self.data(x.rhs, y.rhs)
            case N.Extern():
                if x.f is not y.f or len(x.args) != len(y.args):
                    raise UnifyError(f"{expr_str(x)} faces {expr_str(y)}")
                for a, b in zip(x.args, y.args):
                    self.data(a, b)
            case N.ReadConfig():
                if (x.config, x.field) != (y.config, y.field):
                    raise UnifyError(f"{expr_str(x)} faces {expr_str(y)}")
            case N.Read():  # a local buffer of the callee: not supported
                raise UnifyError(f"the body reads its own buffer '{x.name.name}'")
            case _:
                raise UnifyError(f"cannot unify {expr_str(x)}")

    def index(self, x, y):
        """An index/bool expression pair: solve a bare control parameter; otherwise
        solve the parameters it holds where the two have the same shape (`i < N`
        facing `i < n` gives N = n), and prove the pair equal later."""
        x, y = _bool_normal(x), _bool_normal(y)
        if self.unsolved(x):
            if self.uses_inner(y):  # maybe another place determines it; else refused
                self.inner_uses.setdefault(x.name, []).append((y, tuple(self.ranges)))
                return
            self.control[x.name] = y
            return
        self.solve_inside(x, y)
        self.obligations.append((x, y, tuple(self.ranges)))

    def unsolved(self, x) -> bool:
        return isinstance(x, N.Read) and x.name in self.params and \
            x.name not in self.control and self.params[x.name].type.is_control()

    def uses_inner(self, y) -> bool:
        """Whether y reads a variable bound inside the block (a call cannot see it)."""
        return bool(free_syms(y) & self.inner())

    def solve_inside(self, x, y):
        if self.unsolved(x):
            if not self.uses_inner(y):  # an argument cannot use the block's loops
                self.control[x.name] = y
        elif isinstance(x, N.BinOp) and isinstance(y, N.BinOp) and x.op == y.op:
            self.solve_inside(x.lhs, y.lhs)
            self.solve_inside(x.rhs, y.rhs)
        elif isinstance(x, N.USub) and isinstance(y, N.USub):
            self.solve_inside(x.arg, y.arg)

    def data_access(self, pname, pidx, bname, bidx, ptype, btype):
        if pname not in self.params:
            raise UnifyError(f"the body writes its own buffer '{pname.name}'")
        param = self.params[pname]
        elem = param.type.basetype()
        if elem != T.R and elem != btype:
            raise UnifyError(f"'{pname.name}' holds {elem} but '{bname.name}' holds {btype}")
        self.accesses.setdefault(pname, []).append((tuple(pidx), bname, tuple(bidx)))
        self.access_ranges.setdefault(pname, []).append(tuple(self.ranges))

    # ------------------------------------------------------------ solving

    def to_block(self, e):
        env = {k: E.var(v) for k, v in self.loops.items()}
        env.update(self.control)
        return subst(e, env)

    def inner(self) -> set:
        return set(self.loops.values())

    def solve_args(self, facts, buf_types: dict) -> tuple:
        facts = list(facts)
        self.solve_whole_dim_indices(facts, buf_types)
        for pname, faced in self.inner_uses.items():
            if pname not in self.control:
                raise UnifyError(self.inner_msg(pname, faced[0][0]))
            read = N.Read(pname, (), self.params[pname].type)
            # found elsewhere: it must still equal what it faced here
            self.obligations += [(read, y, ranges) for y, ranges in faced if ranges is not None]
        for x, y, ranges in self.obligations:
            if not _prove_same(facts + list(ranges), self.to_block(x), y):
                raise UnifyError(f"cannot prove {expr_str(self.to_block(x))} equals "
                                 f"{expr_str(y)}")
        args = []
        for p in self.callee.args:
            if p.type.is_control():
                if p.name not in self.control:
                    raise UnifyError(f"cannot determine the argument '{p.name.name}'")
                args.append(self.control[p.name])
            elif p.name not in self.accesses:
                raise UnifyError(f"the block never touches what '{p.name.name}' stands for")
            elif p.type.is_tensor():
                args.append(self.window_arg(p, facts, buf_types))
            else:
                args.append(self.scalar_arg(p, facts, buf_types))
        for p, a in zip(self.callee.args, args):  # the call stands outside the block
            if self.uses_inner(a):
                raise UnifyError(self.inner_msg(p.name, a))
        return tuple(args)

    def inner_msg(self, pname: Sym, y) -> str:
        v = min(x.name for x in free_syms(y) & self.inner())
        return (f"the argument '{pname.name}' would be {expr_str(y)}, which uses '{v}', a "
                "loop variable of the block: the call, outside the block, cannot see it")

    def solve_whole_dim_indices(self, facts, buf_types) -> None:
        """A control parameter used as an index (`rhs[lane]`) of a parameter window that
        spans a whole dimension of the buffer: the window starts at 0 there, so the
        parameter equals the block's index (`lane = 2` for `B_reg[2]`)."""
        for pname, accs in self.accesses.items():
            param = self.params[pname]
            for pidx, buf, bidx in accs:
                bdims = buf_types[buf].shape() if buf in buf_types else ()
                if len(pidx) != len(bdims):
                    continue
                for k, e in enumerate(pidx):
                    c = e.name if isinstance(e, N.Read) else None
                    if c not in self.params or c in self.control or \
                            not self.params[c].type.is_control():
                        continue
                    if _prove_same(facts, self.to_block(param.type.shape()[k]), bdims[k]):
                        if self.uses_inner(bidx[k]):
                            self.inner_uses.setdefault(c, []).append((bidx[k], None))
                        else:
                            self.control[c] = bidx[k]

    def scalar_arg(self, p, facts, buf_types):
        accs = self.accesses[p.name]
        _, buf, idx0 = accs[0]
        for (_, b, idx), ranges in zip(accs, self.access_ranges[p.name]):
            here = facts + list(ranges)
            if b is not buf or any(not _prove_same(here, a, c) for a, c in zip(idx, idx0)):
                raise UnifyError(f"'{p.name.name}' stands for different locations")
        if any(free_syms(i) & self.inner() for i in idx0):
            raise UnifyError(f"'{p.name.name}' would vary with the block's loops")
        return N.Read(buf, idx0, buf_types[buf].basetype())

    def window_arg(self, p, facts, buf_types):
        accs = self.accesses[p.name]
        buf = accs[0][1]
        if any(b is not buf for _, b, _ in accs):
            raise UnifyError(f"'{p.name.name}' stands for two different buffers")
        btype = buf_types[buf]
        rank, n = len(p.type.shape()), len(btype.shape())
        dims = [self.to_block(d) for d in p.type.shape()]
        for chosen in reversed(list(combinations(range(n), rank))):
            w = self.try_window(chosen, accs, self.access_ranges[p.name], dims, facts, n)
            if w is not None:
                typ = T.TensorT(tuple(dims), True, btype.basetype())
                if not p.type.is_win():
                    raise UnifyError(f"'{p.name.name}' is a dense tensor; only window "
                                     "parameters can take part of a buffer")
                return N.WindowExpr(buf, w, typ)
        raise UnifyError(f"no window of '{buf.name}' gives the accesses of '{p.name.name}'")

    def try_window(self, chosen, accs, ranges, dims, facts, n):
        offsets: list = [None] * n
        for (pidx, _, bidx), here in zip(accs, ranges):
            pidx = [self.to_block(e) for e in pidx]
            k = 0
            for d in range(n):
                if d in chosen:
                    off = simplify_expr(sub(bidx[d], pidx[k]))
                    k += 1
                else:
                    off = bidx[d]
                if free_syms(off) & self.inner():
                    return None
                if offsets[d] is None:
                    offsets[d] = off
                elif not _prove_same(facts + list(here), offsets[d], off):
                    return None
        out, k = [], 0
        for d in range(n):
            if d in chosen:
                lo = offsets[d]
                out.append(N.Interval(lo, simplify_expr(add(lo, dims[k]))))
                k += 1
            else:
                out.append(N.Point(offsets[d]))
        return tuple(out)


def _head(s) -> str:
    """The first line of a statement's object code, for messages."""
    from knit.ir.printer import stmt_str

    return stmt_str(s).splitlines()[0].strip()


def _bool_normal(e):
    """e with `c == True` written `c` and `False == c` written `c == False` (c a bool), as
    simplify writes them: a body and a block that differ only there still pair up."""
    def rule(x):
        if isinstance(x, N.BinOp) and x.op == "==" and x.lhs.type == T.BOOL:
            a, b = (x.rhs, x.lhs) if isinstance(x.lhs, N.Const) else (x.lhs, x.rhs)
            if isinstance(b, N.Const) and b.val is True:
                return a
            return x.with_(lhs=a, rhs=b)
        return x

    return map_expr(e, rule) if e.type == T.BOOL else e


def _prove_same(facts, a, b) -> bool:
    return a == b or prove(facts, E.eq(a, b))


def unify(callee: N.Proc, stmts, facts, buf_types: dict) -> tuple:
    """The call arguments making `callee`'s body do what `stmts` do, or UnifyError."""
    u = _Unifier(callee, {})
    u.block(callee.body, tuple(stmts))
    return u.solve_args(facts, buf_types)
