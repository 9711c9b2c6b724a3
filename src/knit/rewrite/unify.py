"""Unification: find the arguments that make a procedure's body equal to a block.

`replace(p, block, instr)` needs arguments such that `instr(args)` does exactly what
`block` does. The instr body and the block are walked together: loops pair their
variables, statements and data expressions must have the same shape, control
parameters are solved from loop bounds and indices, and every access of a tensor
parameter `x[e]` paired with a block access `B[f]` constrains x to be a window of B
whose offset `f - e` does not vary with the paired loops. Index equalities that
remain are proven with the solver under the block's facts.

A local allocation of the body pairs with an allocation of the block of the same element
type and (once parameters are substituted) shape; the two names then stand for each other
and every access of one must face the same access of the other. A call in the body pairs
with a call of the same procedure in the block, argument by argument: a window of a
parameter passed on constrains that parameter like an access at the window's corner, and
once the arguments are solved, the window it composes to must be the block's window.
(`replace` refuses a block whose allocation is used after it.)
"""

from __future__ import annotations

from itertools import combinations

from knit.analysis import effects as E
from knit.analysis.exprs import add, const, sub
from knit.analysis.simplify import simplify_expr
from knit.analysis.smt import prove
from knit.ir import nodes as N, types as T
from knit.ir.printer import expr_str
from knit.ir.sym import Sym
from knit.ir.visit import free_syms, map_expr, stmt_exprs, subst, walk_stmts


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
        self.locals: dict[Sym, Sym] = {}  # callee allocation -> the block's allocation
        # windows of data parameters passed to inner calls:
        # (param, callee window accesses, block window, ranges there)
        self.passed: list = []

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
            case N.Assign() | N.Reduce() if x.name in self.locals:
                self.local_access(x.name, x.idx, y.name, y.idx)
                self.data(x.rhs, y.rhs)
            case N.Assign() | N.Reduce():
                self.data_access(x.name, x.idx, y.name, y.idx, x.type, y.type)
                self.data(x.rhs, y.rhs)
            case N.Alloc():
                self.alloc(x, y)
            case N.Call():
                self.call(x, y)
            case N.Pass():
                pass
            case N.WriteConfig():
                if (x.config, x.field) != (y.config, y.field):
                    raise UnifyError("different config fields are written")
                self.data(x.rhs, y.rhs)
            case _:
                raise UnifyError(f"cannot match a body statement like `{_head(x)}`")

    def alloc(self, x: N.Alloc, y: N.Alloc):
        """The block allocates what the body does: same element type and rank, and the
        dimensions unify (solving sizes); from now on y's name stands for x's."""
        ex, ey = x.type.basetype(), y.type.basetype()
        if not T.holds(ex, ey):
            raise UnifyError(f"the body's '{x.name.name}' holds {ex} but the block's "
                             f"'{y.name.name}' holds {ey}")
        dx, dy = x.type.shape(), y.type.shape()
        if len(dx) != len(dy):
            raise UnifyError(f"the body's '{x.name.name}' has {len(dx)} dimension(s), the "
                             f"block's '{y.name.name}' {len(dy)}")
        for a, b in zip(dx, dy):
            self.index(a, b)
        self.locals[x.name] = y.name

    def local_access(self, xname, xidx, yname, yidx):
        if yname is not self.locals[xname]:
            raise UnifyError(f"the body's '{xname.name}' faces '{yname.name}', not "
                             f"'{self.locals[xname].name}', which the block allocates in "
                             "its place")
        if len(xidx) != len(yidx):
            raise UnifyError(f"'{xname.name}' and '{yname.name}' are indexed differently")
        for a, b in zip(xidx, yidx):
            self.index(a, b)

    def call(self, x: N.Call, y: N.Call):
        """The same procedure, called with arguments that unify."""
        if x.f is not y.f and x.f != y.f:
            raise UnifyError(f"the body calls {x.f.name} where the block calls {y.f.name}")
        for p, a, b in zip(x.f.args, x.args, y.args):
            if p.type.is_control():
                self.index(a, b)
            elif p.type.is_tensor():
                self.window_pair(a, b)
            else:
                self.data(a, b)

    def window_pair(self, a, b):
        """A tensor argument of an inner call: a window (or whole buffer) of a parameter
        or of a local of the body, facing the block's."""
        if not isinstance(b, (N.Read, N.WindowExpr)) or not b.type.is_tensor():
            raise UnifyError(f"{expr_str(a)} faces {expr_str(b)}")
        wa, wb = _as_window(a), _as_window(b)
        if a.name in self.locals:
            if b.name is not self.locals[a.name] or len(wa) != len(wb):
                raise UnifyError(f"{expr_str(a)} faces {expr_str(b)}")
            for u, v in zip(wa, wb):
                if type(u) is not type(v):
                    raise UnifyError(f"{expr_str(a)} faces {expr_str(b)}")
                for e, f in zip(_bounds(u), _bounds(v)):
                    self.index(e, f)
            return
        if a.name not in self.params:
            raise UnifyError(f"the body passes its own window '{a.name.name}'")
        self.data_access(a.name, _corner(wa), b.name, _corner(wb), a.type, b.type.basetype())
        self.passed.append((a.name, wa, b, tuple(self.ranges)))

    # ------------------------------------------------------------ expressions

    def data(self, x, y):  # noqa: C901
        match x:
            case N.Read() if x.name in self.locals:
                if not isinstance(y, N.Read) or y.type.is_control():
                    raise UnifyError(f"{expr_str(x)} faces {expr_str(y)}")
                self.local_access(x.name, x.idx, y.name, y.idx)
                return
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
        if not self.solve_comparison(x, y):
            self.solve_inside(x, y)
        self.obligations.append((x, y, tuple(self.ranges)))

    def solve_comparison(self, x, y) -> bool:
        """Two integer comparisons whose shapes differ (`i < N` facing `ji + 16 < n`):
        write each as `d > 0` (d = rhs - lhs, `<=` read as `< rhs + 1`), and when the
        body's d holds one unsolved control parameter P with coefficient +-1, solve
        P so the two d are equal (`N = n - 16`). The comparison is still proven equal
        afterwards, so a wrong guess is refused, never accepted."""
        dx, dy = _positive_part(x), _positive_part(y)
        if dx is None or dy is None:
            return False
        unknown = [v for v in free_syms(dx) if v in self.params and v not in self.control
                   and self.params[v].type.is_control()]
        if len(unknown) != 1:
            return False
        pv = unknown[0]
        dx = self.to_block(dx)
        at0 = simplify_expr(subst(dx, {pv: const(0)}))
        coeff = simplify_expr(sub(subst(dx, {pv: const(1)}), at0))
        if not (isinstance(coeff, N.Const) and coeff.val in (1, -1)):
            return False
        val = sub(dy, at0) if coeff.val == 1 else sub(at0, dy)
        val = simplify_expr(val)
        if self.uses_inner(val):
            return False
        self.control[pv] = val
        return True

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
        if bname in self.locals.values():
            raise UnifyError(f"'{pname.name}' would stand for '{bname.name}', which the "
                             "block allocates: the call, outside the block, cannot see it")
        param = self.params[pname]
        elem = param.type.basetype()
        if not T.holds(elem, btype):
            raise UnifyError(f"the body's parameter '{pname.name}' holds {elem} but the block's "
                             f"'{bname.name}' holds {btype}")
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
                    unused = _unused_value(self.callee, p)
                    if unused is None:
                        raise UnifyError(f"cannot determine the argument '{p.name.name}'")
                    self.control[p.name] = unused
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
        self.check_passed(dict(zip((p.name for p in self.callee.args), args)), facts)
        return tuple(args)

    def check_passed(self, args: dict, facts) -> None:
        """Each window a body call passes, composed with the solved argument, is the
        block's window: same buffer, points at the same points, same intervals."""
        for pname, wa, b, ranges in self.passed:
            arg = args[pname]
            composed = _compose(arg, [_map_bounds(u, self.to_block) for u in wa])
            wb = _as_window(b)
            here = facts + list(ranges)
            same = arg.name is b.name and len(composed) == len(wb) and all(
                type(u) is type(v) and all(_prove_same(here, e, f) for e, f in
                                           zip(_bounds(u), _bounds(v)))
                for u, v in zip(composed, wb))
            if not same:
                shown = N.WindowExpr(arg.name, tuple(composed), b.type) \
                    if isinstance(arg, N.WindowExpr) else arg
                raise UnifyError(f"the body's call would pass {expr_str(shown)} where the "
                                 f"block passes {expr_str(b)}")

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
                    return self.whole_buffer(p, buf, btype, w, facts)
                return N.WindowExpr(buf, w, typ)
        raise UnifyError(f"no window of '{buf.name}' gives the accesses of '{p.name.name}'")

    def whole_buffer(self, p, buf, btype, w, facts):
        """A dense-tensor parameter takes a whole dense buffer (Exo's `bar(5, y, x)`):
        the window must start at 0 and end at the buffer's size in every dimension. A
        part of a buffer would have the buffer's strides, not the parameter's."""
        whole = not btype.is_win() and all(
            isinstance(a, N.Interval) and _prove_same(facts, a.lo, N.const(0))
            and _prove_same(facts, a.hi, d) for a, d in zip(w, btype.shape()))
        if not whole:
            raise UnifyError(f"'{p.name.name}' is a dense tensor: it takes a whole dense "
                             f"buffer, not part of '{buf.name}' or a window (a window "
                             "parameter, [f32][...], would take it)")
        return N.Read(buf, (), btype)

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


def _as_window(e) -> tuple:
    """The accesses of a window argument; a whole buffer as the window of all of it."""
    if isinstance(e, N.WindowExpr):
        return e.idx
    return tuple(N.Interval(E.int_(0), d) for d in e.type.shape())


def _corner(w) -> tuple:
    return tuple(a.pt if isinstance(a, N.Point) else a.lo for a in w)


def _bounds(a) -> tuple:
    return (a.pt,) if isinstance(a, N.Point) else (a.lo, a.hi)


def _map_bounds(a, f):
    return N.Point(f(a.pt)) if isinstance(a, N.Point) else N.Interval(f(a.lo), f(a.hi))


def _compose(arg, inner) -> list:
    """The accesses of window `inner` of the window `arg`, as accesses of arg's buffer."""
    if not isinstance(arg, N.WindowExpr):
        return list(inner)
    it, out = iter(inner), []
    for a in arg.idx:
        if isinstance(a, N.Point):
            out.append(a)
            continue
        b = next(it)
        out.append(N.Point(simplify_expr(add(a.lo, b.pt))) if isinstance(b, N.Point) else
                   N.Interval(simplify_expr(add(a.lo, b.lo)), simplify_expr(add(a.lo, b.hi))))
    return out


def _positive_part(c):
    """d such that the integer comparison c holds iff d > 0, or None if c is not one."""
    if not (isinstance(c, N.BinOp) and c.op in ("<", "<=", ">", ">=")
            and c.lhs.type.is_control() and c.lhs.type != T.BOOL):
        return None
    lo, hi = (c.lhs, c.rhs) if c.op in ("<", "<=") else (c.rhs, c.lhs)
    d = sub(hi, lo)
    return add(d, const(1)) if c.op in ("<=", ">=") else d


def _unused_value(callee: N.Proc, p: N.FnArg):
    """A value for a control parameter the callee never reads (not in its body, its
    asserts or another parameter's shape): any value does the same; Exo's choice
    (False, 0; a size is 1, its least value). None if the parameter is read."""
    used = set()
    for q in callee.args:
        if q.type.is_tensor():
            for d in q.type.shape():
                used |= free_syms(d)
    for e in callee.preds:
        used |= free_syms(e)
    for s in walk_stmts(callee.body):
        for e in stmt_exprs(s):
            used |= free_syms(e)
    if p.name in used:
        return None
    if p.type == T.BOOL:
        return N.Const(False, T.BOOL)
    if p.type == T.SIZE:
        return N.Const(1, T.INT)
    if p.type in (T.INDEX, T.INT):
        return N.Const(0, T.INT)
    return None


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


def _linear(e):
    """e as ({atom: coefficient} in order of appearance, constant), where an atom is an
    integer variable or a `/` or `%` expression; None if e is not of that form."""
    terms: dict = {}

    def go(x, c) -> int | None:
        match x:
            case N.Const(v) if type(v) is int:
                return c * v
            case N.Read(_, ()) if x.type.is_control() and x.type not in (T.BOOL, T.STRIDE):
                terms[x] = terms.get(x, 0) + c
                return 0
            case N.BinOp("/" | "%"):
                terms[x] = terms.get(x, 0) + c
                return 0
            case N.USub(arg):
                return go(arg, -c)
            case N.BinOp("+" | "-", lhs, rhs):
                a = go(lhs, c)
                b = None if a is None else go(rhs, c if x.op == "+" else -c)
                return None if b is None else a + b
            case N.BinOp("*", N.Const(k), rhs) if type(k) is int:
                return go(rhs, c * k)
            case N.BinOp("*", lhs, N.Const(k)) if type(k) is int:
                return go(lhs, c * k)
        return None

    off = go(e, 1)
    return None if off is None else (terms, off)


def exo_form(e):
    """A solved index written as Exo's unification writes it: the terms (`/` and `%`
    first), each `c * x` (`x` for c = 1), then `+ constant`, kept when it is 0 (Exo's
    `n + 0`, `4 * i + 0`); a bare literal when nothing varies. The same value; an
    expression of another form is returned as it is."""
    lin = _linear(e)
    if lin is None:
        return e
    terms, off = lin
    ordered = [a for a in terms if isinstance(a, N.BinOp)] + \
        [a for a in terms if not isinstance(a, N.BinOp)]
    out = None
    for a in ordered:
        c = terms[a]
        if c == 0:
            continue
        t = a if c == 1 else N.BinOp("*", const(c), a, T.INDEX)
        out = t if out is None else N.BinOp("+", out, t, T.INDEX)
    if out is None:
        return const(off)
    return N.BinOp("+", out, const(off), e.type if e.type.is_control() else T.INDEX)


def _exo_arg(a):
    """A call argument with its indices in Exo's form (exo_form); buffers, bools and
    strides as they are."""
    if isinstance(a, N.WindowExpr):
        return a.with_(idx=tuple(_map_bounds(w, exo_form) for w in a.idx))
    if isinstance(a, N.Read) and a.idx:
        return a.with_(idx=tuple(exo_form(i) for i in a.idx))
    if a.type.is_control() and a.type not in (T.BOOL, T.STRIDE):
        return exo_form(a)
    return a


def unify(callee: N.Proc, stmts, facts, buf_types: dict) -> tuple:
    """The call arguments making `callee`'s body do what `stmts` do, or UnifyError.
    Indices are written as Exo writes them (exo_form), so a program scheduled under Exo
    prints as itself."""
    u = _Unifier(callee, {})
    u.block(callee.body, tuple(stmts))
    return tuple(_exo_arg(a) for a in u.solve_args(facts, buf_types))
