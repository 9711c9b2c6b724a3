"""check_equiv: the empirical counterpart of the scheduling proofs.

Runs two procedures with the same signature on the same random inputs that satisfy
their asserts, and compares every buffer and every config field they use afterwards.
Config state is process-wide (docs/semantics.md#config-read), so before each run every
such field is set to the same starting value (random for data and bool fields, zero for
index-like ones, which may shape memory accesses). It is a test, not a proof: it
can find a difference, never rule one out. (`p.is_eq(q)` is the proof-based notion:
q was derived from p by checked rewrites.)
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from knit.errors import ProcedureTypeError, UserError
from knit.ir import nodes as N, types as T
from knit.ir.handles import expect_procedure, ir_of
from knit.ir.visit import stmt_exprs, walk_expr, walk_stmts
from knit.procedure import Procedure
from knit.rewrite.configs import configs_that_may_differ
from knit.runtime import interp, jit
from knit.runtime.args import eval_index

# relative tolerance per element type for comparing floating-point results
RTOL = {"f16": 1e-2, "f32": 1e-4, "f64": 1e-10, "R": 1e-4}


class EquivalenceError(UserError, AssertionError):
    """Two procedures gave different results on the same inputs."""


@dataclass
class EquivReport:
    trials: int = 0
    sizes: list = field(default_factory=list)


def check_equiv(p, q, trials: int = 5, sizes: dict | None = None, *, seed: int = 0,
                interpret: bool | None = None, compiled: bool = True,
                max_size: int = 12, modulo_configs=None) -> EquivReport:
    """Run `p` and `q` on `trials` random inputs satisfying their asserts and compare.

    Every config field either proc uses starts each run from the same value, and the
    final values are compared too, except fields in `modulo_configs` (Configs, or
    (Config, field) pairs): `bind_config`, `write_config` and `delete_config` give
    procs equivalent only modulo the field they change (as in Exo), so by default
    (None) those fields, between q and p and their nearest common ancestor, are left
    out; pass () to compare every field.

    sizes: fixes some size arguments (name -> int, or name -> list of ints to choose
    from); the others are drawn, trial by trial, as whole blocks of 16 and a tail
    (17..47), multiples of 4, 8 or 16, small ones (1..max_size), blocks of 8 and a tail,
    then a multiple or a small one (SIZE_KINDS; only those where only the interpreter
    runs); index arguments from -max_size..max_size. Floats compare with a relative
    tolerance per type (RTOL; NaN equals NaN, infinities must match exactly), integers
    exactly. Runs compiled C (compiled=True) and, for small inputs, the interpreter
    too (interpret=None decides by size). On a difference, shrinks the sizes and
    raises EquivalenceError naming the smallest failing sizes, the buffer, the
    indices and the two values."""
    if not (isinstance(p, Procedure) and isinstance(q, Procedure)):
        raise ProcedureTypeError(f"check_equiv: expected two procedures, got {type(p).__name__} and "
                        f"{type(q).__name__}")
    if not isinstance(trials, int) or trials < 1:
        raise ValueError(f"check_equiv: trials must be a positive int, got {trials!r}")
    _check_signatures(ir_of(p), ir_of(q))
    if modulo_configs is None:
        modulo_configs = configs_that_may_differ(p, q)
    rng = random.Random(seed)
    report = EquivReport()
    for trial in range(trials):
        kind = SIZE_KINDS[trial % len(SIZE_KINDS)] if compiled else "any"
        size_env = _draw_sizes(ir_of(p), ir_of(q), sizes or {}, rng, max_size, kind)
        diff = _compare_once(p, q, size_env, rng.randrange(2**31), interpret, compiled,
                             modulo_configs)
        report.trials += 1
        report.sizes.append(size_env)
        if diff is not None:
            size_env, diff = _shrink(p, q, size_env, diff, interpret, compiled,
                                     modulo_configs)
            raise EquivalenceError(_describe(p, q, size_env, diff))
    return report


def check_backends(p, trials: int = 3, sizes: dict | None = None, *, seed: int = 0,
                   max_size: int = 8) -> EquivReport:
    """Run one procedure compiled and interpreted on the same random inputs and compare
    every buffer: the C backend against the reference semantics."""
    expect_procedure("check_backends", p)
    rng = random.Random(seed)
    report = EquivReport()
    for _ in range(trials):
        size_env = _draw_sizes(ir_of(p), ir_of(p), sizes or {}, rng, max_size, "any")
        runners = [("compiled vs interpreted", p.compile(), p.interpret, "compiled", "interp")]
        diff = _compare_runs(p, size_env, rng.randrange(2**31), runners)
        report.trials += 1
        report.sizes.append(size_env)
        if diff is not None:
            raise EquivalenceError(_describe(p, p, size_env, diff))
    return report


# ---------------------------------------------------------------- inputs


def _check_signatures(a: N.Proc, b: N.Proc) -> None:
    if len(a.args) != len(b.args):
        raise ValueError(f"check_equiv: {a.name} takes {len(a.args)} arguments but {b.name} "
                         f"takes {len(b.args)}")
    for x, y in zip(a.args, b.args):
        same = x.name.name == y.name.name and x.type.basetype() == y.type.basetype() and \
            x.type.is_tensor() == y.type.is_tensor() and \
            len(x.type.shape()) == len(y.type.shape())
        if not same:
            raise ValueError(f"check_equiv: argument '{x.name.name}' of {a.name} does not match "
                             f"argument '{y.name.name}' of {b.name}")


# What the sizes of each trial of check_equiv are drawn as, in turn (`_draw_size`):
# whole blocks of 16 and a tail (17..47: a loop divided by 16 runs both its whole
# chunks and its rest, which neither a multiple nor a size below 16 tests), multiples
# of 4, 8 or 16 (asserts like N % 8 == 0), small ones (1..max_size), whole blocks of 8
# and a tail, then "any": a multiple or a small one. Where only the interpreter runs
# (compiled=False, and check_backends) every trial is "any": the tails' sizes would
# cost a deep nest minutes there.
SIZE_KINDS = ("tail16", "multiple", "small", "tail8", "any")


def _draw_sizes(a: N.Proc, b: N.Proc, fixed: dict, rng, max_size: int,
                kind: str = "any") -> dict:
    """Sizes for the control arguments that satisfy both procedures' asserts, of the
    `kind` of SIZE_KINDS ("any" once that kind proves hard to satisfy)."""
    names = [x.name for x in a.args if x.type.is_control()]
    for attempt in range(2000):
        env = {}
        for sym in names:
            env[sym.name] = _draw_control(sym.name, _type_of(a, sym), fixed, rng, max_size,
                                          kind if attempt < 200 else "any")
        values = {x.name: env[x.name.name] for x in a.args if x.type.is_control()}
        values_b = {x.name: env[x.name.name] for x in b.args if x.type.is_control()}
        if _preds_hold(a, values) and _preds_hold(b, values_b):
            return env
    raise ValueError("check_equiv: could not draw sizes that satisfy the procedures' asserts; "
                     "pass sizes={...} explicitly")


def _type_of(p: N.Proc, sym):
    return next(x.type for x in p.args if x.name is sym)


def _draw_control(name: str, typ, fixed: dict, rng, max_size: int, kind: str = "any"):
    if name in fixed:
        v = fixed[name]
        return rng.choice(v) if isinstance(v, (list, tuple, range)) else v
    if typ == T.BOOL:
        return rng.random() < 0.5
    if typ == T.SIZE:
        return _draw_size(rng, max_size, kind)
    return rng.randint(-max_size, max_size)  # an index may be negative (its asserts say)


def _draw_size(rng, max_size: int, kind: str) -> int:
    if kind == "any":
        kind = rng.choice(["small", "multiple"])
    if kind == "tail16":
        return 16 * rng.randint(1, 2) + rng.randint(1, 15)
    if kind == "tail8":
        return 8 * rng.randint(1, 3) + rng.randint(1, 7)
    if kind == "multiple":  # (multiples of common vector widths: asserts like N % 8 == 0)
        return rng.choice([4 * rng.randint(1, 4), 8 * rng.randint(1, 3), 16 * rng.randint(1, 2)])
    return rng.randint(1, max_size)  # small


def _preds_hold(p: N.Proc, values: dict) -> bool:
    try:
        return all(eval_index(e, values) for e in p.preds if not _has_stride(e))
    except (KeyError, ZeroDivisionError):
        return False


def _has_stride(e) -> bool:
    return any(isinstance(x, N.StrideExpr) for x in walk_expr(e))


def _make_inputs(p: N.Proc, size_env: dict, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    values = {x.name: size_env[x.name.name] for x in p.args if x.type.is_control()}
    out = {}
    for a in p.args:
        if a.type.is_control():
            out[a.name.name] = size_env[a.name.name]
            continue
        shape = tuple(int(eval_index(d, values)) for d in a.type.shape())
        out[a.name.name] = _random_array(rng, shape, a.type.basetype())
    return out


def _random_array(rng, shape, elem):
    dtype = elem.np_dtype or "float32"
    if elem.is_float():
        return rng.uniform(-1, 1, size=shape).astype(dtype)
    info = np.iinfo(dtype)
    lo, hi = max(info.min, -8), min(info.max, 8)
    return rng.integers(lo, hi, size=shape, endpoint=True).astype(dtype)


# ---------------------------------------------------------------- running and comparing


def _runners(p, q, size_env, interpret, compiled):
    small = sum(v for v in size_env.values() if isinstance(v, int)) <= 64
    use_interp = small if interpret is None else interpret
    out = []
    if compiled:
        out.append(("compiled", p.compile(), q.compile(), "compiled", "compiled"))
    if use_interp or not compiled:
        out.append(("interpreted", p.interpret, q.interpret, "interp", "interp"))
    return out


def _compare_once(p, q, size_env, seed, interpret, compiled, modulo_configs=None):
    return _compare_runs(p, size_env, seed, _runners(p, q, size_env, interpret, compiled), q,
                         modulo_configs)


def _compare_runs(p, size_env, seed, runners, q=None, modulo_configs=None):
    base = _make_inputs(ir_of(p), size_env, seed)
    q = q if q is not None else p
    fields = _config_fields(ir_of(p), ir_of(q))
    start = _config_start(fields, seed)
    compared = _compared(fields, modulo_configs)
    for mode, run_p, run_q, backend_p, backend_q in runners:
        xs = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in base.items()}
        ys = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in base.items()}
        _set_configs(start, backend_p)
        run_p(**xs)
        end_p = _get_configs(fields, backend_p)
        _set_configs(start, backend_q)
        run_q(**ys)
        end_q = _get_configs(fields, backend_q)
        for a in ir_of(p).args:
            if a.type.is_control():
                continue
            d = _diff(xs[a.name.name], ys[a.name.name], a.type.basetype())
            if d is not None:
                return (mode, a.name.name, *d)
        for (cfg, f), x, y in zip(fields, end_p, end_q):
            if (cfg, f) not in compared:
                continue
            d = _diff(np.asarray(x), np.asarray(y), cfg.lookup_type(f))
            if d is not None:
                return (mode, f"config {cfg.name()}.{f} (final value)", *d)
    return None


# ---------------------------------------------------------------- config state


def _compared(fields, modulo) -> set:
    """The fields whose final values are compared (see check_equiv's modulo_configs)."""
    skip = set(modulo or ())
    return {(cfg, f) for cfg, f in fields if cfg not in skip and (cfg, f) not in skip}


def _config_fields(*procs) -> list:
    """(config, field) for every field of every config the procs (and their callees)
    read or write, in a fixed order."""
    configs = {}
    for proc in procs:
        for cfg, _, _ in _config_uses(proc):
            configs[cfg] = None
    return [(cfg, f) for cfg in configs for f in cfg.fields()]


def _config_uses(proc: N.Proc) -> list:
    """(config, field, written) for every config read and write in proc and its
    callees (check_equiv needs only the configs; which is kept for readers)."""
    out, seen = [], set()

    def visit(proc):
        if id(proc) in seen:
            return
        seen.add(id(proc))
        exprs = [*proc.preds]
        for s in walk_stmts(proc.body):
            if isinstance(s, N.WriteConfig):
                out.append((s.config, s.field, True))
            elif isinstance(s, N.Call):
                visit(s.f)
            exprs += stmt_exprs(s)
        for e in exprs:
            for x in walk_expr(e):
                if isinstance(x, N.ReadConfig):
                    out.append((x.config, x.field, False))
    visit(proc)
    return out


def _config_start(fields, seed) -> list:
    """The value every run starts from: random for data and bool fields, zero for index
    fields (a random one could make a correct program's accesses go out of bounds)."""
    rng = np.random.default_rng(seed + 1)
    out = []
    for cfg, f in fields:
        typ = cfg.lookup_type(f)
        if typ.is_real():
            v = _random_array(rng, (), typ)[()]
        elif typ.kind == "bool":
            v = bool(rng.integers(0, 2))
        else:
            v = 0
        out.append((cfg, f, v))
    return out


def _set_configs(start, backend: str) -> None:
    setter = jit.set_config_value if backend == "compiled" else interp.set_config_value
    for cfg, f, v in start:
        setter(cfg, f, v)


def _get_configs(fields, backend: str) -> list:
    getter = jit.config_value if backend == "compiled" else interp.config_value
    return [getter(cfg, f) for cfg, f in fields]


def _diff(x, y, elem):
    """(indices, x value, y value, count) of the differing elements, or None."""
    if elem.is_float():
        rtol = RTOL.get(elem.name, 1e-4)
        xf, yf = x.astype("float64"), y.astype("float64")
        scale = max(1.0, float(np.nanmax(np.abs(np.where(np.isinf(xf), 0, xf)), initial=0)))
        close = np.isclose(xf, yf, rtol=rtol, atol=rtol * scale, equal_nan=True)
        close &= np.isinf(xf) == np.isinf(yf)
        close |= (xf == yf)  # equal infinities
    else:
        close = x == y
    # at least 1-d: argwhere of a 0-d array (a scalar argument) is empty even when False
    bad = np.argwhere(~np.atleast_1d(np.asarray(close)))
    if bad.size == 0:
        return None
    idx = tuple(int(i) for i in bad[0]) if np.ndim(x) else ()
    return idx, x[idx] if idx else x[()], y[idx] if idx else y[()], len(bad)


def _shrink(p, q, size_env, diff, interpret, compiled, modulo_configs=None):
    """Decrease sizes one at a time while the procedures still differ."""
    changed = True
    while changed:
        changed = False
        for name, v in list(size_env.items()):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 1:
                continue
            for smaller in (1, v // 2, v - 1):
                if smaller >= v or smaller < 1:
                    continue
                trial = {**size_env, name: smaller}
                values = {x.name: trial[x.name.name] for x in ir_of(p).args
                          if x.type.is_control()}
                if not _preds_hold(ir_of(p), values):
                    continue
                d = _compare_once(p, q, trial, 0, interpret, compiled, modulo_configs)
                if d is not None:
                    size_env, diff, changed = trial, d, True
                    break
    return size_env, diff


def _describe(p, q, size_env, diff) -> str:
    mode, buf, idx, xv, yv, count = diff
    sizes = ", ".join(f"{k}={v}" for k, v in size_env.items())
    where = f"{buf}[{', '.join(map(str, idx))}]" if idx else buf
    return (f"{p.name()} and {q.name()} differ ({mode}) for {sizes or 'the inputs'}: "
            f"{where} is {_show(xv)} vs {_show(yv)} ({count} element(s) differ)")


def _show(v) -> str:
    """A value as Python writes it (2.0, not np.float32(2.0))."""
    return repr(v.item() if hasattr(v, "item") else v)
