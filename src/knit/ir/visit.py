"""Generic traversals of the IR: walking, mapping, substitution, alpha-equivalence."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from knit.ir import nodes as N, types as T
from knit.ir.sym import Sym

# ---------------------------------------------------------------- expressions


def expr_children(e) -> tuple:
    """The direct sub-expressions of e, in order (by the type of e: a table lookup, as
    every analysis walks every expression)."""
    get = _CHILDREN.get(type(e))
    if get is None:
        get = _CHILDREN[type(e)] = _children_of(type(e))
    return get(e)


def _children_of(t: type) -> Callable:
    if issubclass(t, N.Read | N.WindowExpr):
        return (lambda e: e.idx) if issubclass(t, N.Read) else \
            (lambda e: tuple(x for w in e.idx for x in _waccess_exprs(w)))
    if issubclass(t, N.USub):
        return lambda e: (e.arg,)
    if issubclass(t, N.BinOp):
        return lambda e: (e.lhs, e.rhs)
    if issubclass(t, N.Extern):
        return lambda e: e.args
    return lambda e: ()


_CHILDREN: dict[type, Callable] = {}  # type -> the function giving its children


def _waccess_exprs(w) -> tuple:
    return (w.lo, w.hi) if isinstance(w, N.Interval) else (w.pt,)


def walk_expr(e) -> Iterator:
    """Every sub-expression of e, pre-order, e included (a stack, not nested
    generators: each node is yielded once, not through every generator above it)."""
    stack = [e]
    get = _CHILDREN.get  # (expr_children inlined: a walk visits every node)
    while stack:
        x = stack.pop()
        yield x
        children = get(type(x))
        children = children(x) if children is not None else expr_children(x)
        if children:
            stack.extend(reversed(children))


def node_kinds(e) -> frozenset:
    """The classes of the nodes walk_expr(e) yields, remembered by expression object
    (immutable): an analysis that looks for one kind of node (a config read, the
    left-hand side of a fact) skips, without walking it again, an expression met
    before that has none."""
    hit = _KINDS.get(id(e))
    if hit is not None and hit[0] is e:
        return hit[1]
    out = frozenset(type(x) for x in walk_expr(e))
    if len(_KINDS) >= 50_000:  # a bound: each entry keeps its expression alive
        _KINDS.clear()
    _KINDS[id(e)] = (e, out)
    return out


_KINDS: dict = {}  # id(expr) -> (expr, node_kinds of it)


def map_expr(e, f: Callable) -> N.Expr:
    """Rebuild e bottom-up, applying f to every node (f returns a node). A node none of
    whose children changed is passed to f as it is, not rebuilt: the analyses remember
    their answers per expression object, and a substitution that leaves a subtree alone
    keeps it (with its position in the source)."""
    t = type(e)  # the common nodes first, by their exact class (a schedule maps
    if t is _BINOP:  # hundreds of thousands); any other node as `_map_children` says
        lhs, rhs = e.lhs, e.rhs
        a, b = map_expr(lhs, f), map_expr(rhs, f)
        if a is not lhs or b is not rhs:
            e = e.with_(lhs=a, rhs=b)
        return f(e)
    if t is _READ:
        idx = e.idx
        if idx:
            new = tuple([map_expr(i, f) for i in idx])
            if _changed(new, idx):
                e = e.with_(idx=new)
        return f(e)
    if t in _LEAVES:
        return f(e)
    return f(_map_children(e, f))


_BINOP, _READ = N.BinOp, N.Read
_LEAVES = frozenset({N.Const, N.StrideExpr, N.ReadConfig})  # (no sub-expressions)


def _map_children(e, f):
    """e with map_expr(., f) applied to its children; e itself if none changed."""
    match e:
        case N.Read(idx=idx) if idx:
            new = tuple(map_expr(i, f) for i in idx)
            if _changed(new, idx):
                e = e.with_(idx=new)
        case N.USub(arg=arg):
            new = map_expr(arg, f)
            if new is not arg:
                e = e.with_(arg=new)
        case N.BinOp(lhs=lhs, rhs=rhs):
            a, b = map_expr(lhs, f), map_expr(rhs, f)
            if a is not lhs or b is not rhs:
                e = e.with_(lhs=a, rhs=b)
        case N.Extern(args=args):
            new = tuple(map_expr(a, f) for a in args)
            if _changed(new, args):
                e = e.with_(args=new)
        case N.WindowExpr(idx=idx):
            new = tuple(map_waccess(w, f) for w in idx)
            if _changed(new, idx):
                e = e.with_(idx=new)
    return e


def _changed(new: tuple, old: tuple) -> bool:
    for a, b in zip(new, old):
        if a is not b:
            return True
    return False


def map_waccess(w, f):
    if isinstance(w, N.Interval):
        lo, hi = map_expr(w.lo, f), map_expr(w.hi, f)
        return w if lo is w.lo and hi is w.hi else N.Interval(lo, hi, w.srcinfo)
    pt = map_expr(w.pt, f)
    return w if pt is w.pt else N.Point(pt, w.srcinfo)


def map_type(t, f):
    if t.is_tensor():
        return T.TensorT(tuple(map_expr(d, f) for d in t.dims), t.is_window, t.elem)
    return t


def subst(e, env: dict[Sym, N.Expr]) -> N.Expr:
    """Replace Reads of control variables in env by expressions (index substitution).

    Tensor names in env must map to Reads of other tensors (renaming a buffer)."""
    if not env:
        return e

    return map_expr(e, lambda x: _subst_node(x, env))


def _subst_node(x, env):
    """subst applied to one node whose children are already substituted."""
    if isinstance(x, N.Read) and x.name in env:
        new = env[x.name]
        # a buffer (indexed, whole, or a scalar data buffer) is renamed, keeping its type;
        # a control variable is replaced by the expression
        if x.idx or x.type.is_tensor() or x.type.is_real():
            return x.with_(name=new.name)
        return new
    if isinstance(x, (N.WindowExpr, N.StrideExpr)) and x.name in env:
        return x.with_(name=env[x.name].name)
    if isinstance(x, N.USub) and isinstance(x.arg, N.Const) and not isinstance(x.arg.val, bool):
        # `-i` with a literal for i is the literal -c, as the parser reads `-c`: the
        # printed procedure then parses back to the same one
        return N.Const(-x.arg.val, x.arg.type, x.srcinfo)
    return x


def free_syms(e) -> set[Sym]:
    return {x.name for x in walk_expr(e) if isinstance(x, (N.Read, N.WindowExpr, N.StrideExpr))}


# ---------------------------------------------------------------- statements


def stmt_exprs(s) -> tuple:
    """The expressions directly held by statement s (not those of nested statements)."""
    match s:
        case N.Assign(idx=idx, rhs=rhs) | N.Reduce(idx=idx, rhs=rhs):
            return (*idx, rhs)
        case N.WriteConfig(rhs=rhs):
            return (rhs,)
        case N.If(cond=cond):
            return (cond,)
        case N.For(lo=lo, hi=hi):
            return (lo, hi)
        case N.Alloc(type=typ):
            return tuple(typ.shape())
        case N.Call(args=args):
            return args
        case N.WindowStmt(rhs=rhs):
            return (rhs,)
    return ()


def walk_stmts(stmts) -> Iterator:
    """Every statement in the block, pre-order, descending into loops and ifs (a stack
    of the blocks being walked, not nested generators)."""
    stack = [iter(stmts)]
    while stack:
        for s in stack[-1]:
            yield s
            if isinstance(s, N.For):
                stack.append(iter(s.body))
                break
            if isinstance(s, N.If):
                stack.append(iter(s.orelse))
                stack.append(iter(s.body))
                break
        else:
            stack.pop()


def map_stmt_exprs(s, f: Callable) -> N.Stmt:
    """Rebuild s (and nested statements) applying map_expr(., f) to every expression."""
    def m(e):
        return map_expr(e, f)
    match s:
        case N.Assign() | N.Reduce():
            return s.with_(idx=tuple(map(m, s.idx)), rhs=m(s.rhs))
        case N.WriteConfig():
            return s.with_(rhs=m(s.rhs))
        case N.If():
            return s.with_(cond=m(s.cond), body=map_block_exprs(s.body, f),
                           orelse=map_block_exprs(s.orelse, f))
        case N.For():
            return s.with_(lo=m(s.lo), hi=m(s.hi), body=map_block_exprs(s.body, f))
        case N.Alloc():
            return s.with_(type=map_type(s.type, f))
        case N.Call():
            return s.with_(args=tuple(map(m, s.args)))
        case N.WindowStmt():
            return s.with_(rhs=m(s.rhs))
    return s


def map_block_exprs(stmts, f) -> tuple:
    return tuple(map_stmt_exprs(s, f) for s in stmts)


def subst_stmts(stmts, env: dict[Sym, N.Expr]) -> tuple:
    """Substitute in every expression of a block; also renames assigned buffers."""
    if not env:
        return tuple(stmts)
    out = []
    for s in map_block_exprs(stmts, lambda x: _subst_node(x, env)):
        out.append(_rename_targets(s, env))
    return tuple(out)


def _rename_targets(s, env):
    if isinstance(s, (N.Assign, N.Reduce)) and s.name in env:
        return s.with_(name=env[s.name].name)
    if isinstance(s, (N.For, N.If)):
        s = s.with_(body=tuple(_rename_targets(b, env) for b in s.body))
        if isinstance(s, N.If):
            s = s.with_(orelse=tuple(_rename_targets(b, env) for b in s.orelse))
    return s


def stmt_syms(stmts) -> tuple[set[Sym], set[Sym]]:
    """(bound, used) symbols of a block: bound by loops/allocs/windows, used anywhere."""
    bound, used = set(), set()
    for s in walk_stmts(stmts):
        if isinstance(s, N.For):
            bound.add(s.iter)
        elif isinstance(s, (N.Alloc, N.WindowStmt)):
            bound.add(s.name)
        if isinstance(s, (N.Assign, N.Reduce)):
            used.add(s.name)
        for e in stmt_exprs(s):
            used |= free_syms(e)
    return bound, used


# ---------------------------------------------------------------- alpha-equivalence


def alpha_eq(p: N.Proc, q: N.Proc) -> bool:
    """Whether two procedures are equal up to a consistent renaming of their symbols."""
    return _AlphaEq().procs(p, q)


class _AlphaEq:
    def __init__(self):
        self.fwd: dict[Sym, Sym] = {}
        self.bwd: dict[Sym, Sym] = {}

    def bind(self, a: Sym, b: Sym) -> bool:
        if self.fwd.get(a, b) is not b or self.bwd.get(b, a) is not a:
            return False
        self.fwd[a], self.bwd[b] = b, a
        return True

    def procs(self, p, q) -> bool:
        if (p.name, p.instr, len(p.args)) != (q.name, q.instr, len(q.args)):
            return False
        if not all(self.bind(a.name, b.name) for a, b in zip(p.args, q.args)):
            return False
        ok = all(a.mem is b.mem and self.types(a.type, b.type) for a, b in zip(p.args, q.args))
        return ok and self.seq(p.preds, q.preds, self.expr) and self.block(p.body, q.body)

    def seq(self, xs, ys, f) -> bool:
        return len(xs) == len(ys) and all(f(x, y) for x, y in zip(xs, ys))

    def types(self, a, b) -> bool:
        if a.is_tensor() != b.is_tensor():
            return False
        if not a.is_tensor():
            return a == b
        return (a.is_window, a.elem) == (b.is_window, b.elem) and \
            self.seq(a.dims, b.dims, self.expr)

    def block(self, xs, ys) -> bool:
        return self.seq(xs, ys, self.stmt)

    def stmt(self, s, t) -> bool:
        if type(s) is not type(t):
            return False
        match s:
            case N.Assign() | N.Reduce():
                return self.bind(s.name, t.name) and s.type == t.type and \
                    self.seq(s.idx, t.idx, self.expr) and self.expr(s.rhs, t.rhs)
            case N.WriteConfig():
                return (s.config, s.field) == (t.config, t.field) and self.expr(s.rhs, t.rhs)
            case N.Pass():
                return True
            case N.If():
                return self.expr(s.cond, t.cond) and self.block(s.body, t.body) and \
                    self.block(s.orelse, t.orelse)
            case N.For():
                return s.mode == t.mode and self.expr(s.lo, t.lo) and self.expr(s.hi, t.hi) \
                    and self.bind(s.iter, t.iter) and self.block(s.body, t.body)
            case N.Alloc():
                return s.mem is t.mem and self.types(s.type, t.type) and \
                    self.bind(s.name, t.name)
            case N.Call():
                return (s.f is t.f or alpha_eq(s.f, t.f)) and self.seq(s.args, t.args, self.expr)
            case N.WindowStmt():
                return self.expr(s.rhs, t.rhs) and self.bind(s.name, t.name)
        return False

    def expr(self, a, b) -> bool:
        if type(a) is not type(b):
            return False
        match a:
            case N.Read():
                return self.bind(a.name, b.name) and self.seq(a.idx, b.idx, self.expr) and \
                    self.types(a.type, b.type)
            case N.Const():
                return a.type == b.type and a.val == b.val and type(a.val) is type(b.val)
            case N.USub():
                return a.type == b.type and self.expr(a.arg, b.arg)
            case N.BinOp():
                return (a.op, a.type) == (b.op, b.type) and self.expr(a.lhs, b.lhs) and \
                    self.expr(a.rhs, b.rhs)
            case N.Extern():
                return a.f is b.f and a.type == b.type and self.seq(a.args, b.args, self.expr)
            case N.WindowExpr():
                return self.bind(a.name, b.name) and self.types(a.type, b.type) and \
                    self.seq(a.idx, b.idx, self.waccess)
            case N.StrideExpr():
                return a.dim == b.dim and self.bind(a.name, b.name)
            case N.ReadConfig():
                return (a.config, a.field, a.type) == (b.config, b.field, b.type)
        return False

    def waccess(self, a, b) -> bool:
        if type(a) is not type(b):
            return False
        if isinstance(a, N.Interval):
            return self.expr(a.lo, b.lo) and self.expr(a.hi, b.hi)
        return self.expr(a.pt, b.pt)
