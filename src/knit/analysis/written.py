"""What a procedure writes: which of its buffer arguments, which config fields.

Both follow calls transitively and are memoised per Proc (procs are immutable
and compare by identity). Used by the call-site alias check and to know which
config fields change while a proc runs.
"""

from __future__ import annotations

from knit.ir import nodes as N

_written_args: dict = {}
_written_cfgs: dict = {}


def written_args(proc: N.Proc) -> frozenset[int]:
    """Positions of the arguments `proc` assigns or reduces into, directly, through a
    window, or by passing them to a callee that writes them."""
    out = _written_args.get(proc)
    if out is None:
        params = {a.name: k for k, a in enumerate(proc.args)}
        hit: set = set()
        _walk_writes(proc.body, params, {}, hit)
        out = _written_args[proc] = frozenset(hit)
    return out


def block_writes(stmts, buf) -> bool:
    """Whether a block writes `buf`: directly, through a window of it, or by passing it
    (or a window of it) to a callee that writes that argument."""
    hit: set = set()
    _walk_writes(stmts, {buf: 0}, {}, hit)
    return bool(hit)


def _walk_writes(stmts, params: dict, roots: dict, hit: set) -> None:
    """`roots` maps a window's name to the argument or allocation it views."""
    for s in stmts:
        match s:
            case N.Assign(name) | N.Reduce(name):
                _mark(roots.get(name, name), params, hit)
            case N.WindowStmt(name, rhs):
                roots[name] = roots.get(rhs.name, rhs.name)
            case N.If(_, body, orelse):
                _walk_writes(body, params, roots, hit)
                _walk_writes(orelse, params, roots, hit)
            case N.For(body=body):
                _walk_writes(body, params, roots, hit)
            case N.Call(f, args):
                for k in written_args(f):
                    name = getattr(args[k], "name", None)
                    if name is not None:
                        _mark(roots.get(name, name), params, hit)


def _mark(name, params: dict, hit: set) -> None:
    if name in params:
        hit.add(params[name])


def written_configs(proc: N.Proc) -> frozenset:
    """The (config, field) pairs `proc` or its callees write."""
    out = _written_cfgs.get(proc)
    if out is None:
        out = _written_cfgs[proc] = configs_written_in(proc.body)
    return out


def configs_written_in(stmts) -> frozenset:
    """The (config, field) pairs a block (or one statement, as a 1-tuple) writes."""
    found: set = set()
    _walk_cfgs(stmts, found)
    return frozenset(found)


def _walk_cfgs(stmts, found: set) -> None:
    for s in stmts:
        match s:
            case N.WriteConfig(cfg, fld):
                found.add((cfg, fld))
            case N.If(_, body, orelse):
                _walk_cfgs(body, found)
                _walk_cfgs(orelse, found)
            case N.For(body=body):
                _walk_cfgs(body, found)
            case N.Call(f):
                found |= written_configs(f)
