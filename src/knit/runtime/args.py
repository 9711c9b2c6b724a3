"""Binding a call from Python: match the values to a proc's parameters and validate them.

The interpreter and the JIT both bind through here before anything runs, so a bad call
fails with a knit error that names the proc, the argument, what was expected and what
was given -- never with a crash, a NumPy IndexError, or silently wrong results.

    env = bind_args(proc, (A, B, C), {})       # {Sym: value}
    bind = binder(proc).bind                   # the cached per-proc Binder, for hot paths
    env = bind((A, B, C), {})

Values in the result: Python int for size/index/stride, Python bool for bool, the caller's
ndarray for tensors and windows, and a 0-d ndarray for real scalars (`s: f32`), so writes
to it are visible to the caller when the caller passed an array.
"""

from __future__ import annotations

import functools
import math
import operator

import numpy as np

from knit.errors import ArgumentError, ArgumentTypeError, InternalError, KnitTypeError
from knit.ir import nodes as N
from knit.ir.printer import expr_str
from knit.ir.sym import Sym

# ---------------------------------------------------------------- index expressions


def _floordiv(a: int, b: int) -> int:
    if b == 0:
        raise InternalError("index division by zero (the type checker admits only positive "
                            "literal divisors); this is a bug in knit")
    return a // b


def _mod(a: int, b: int) -> int:
    if b == 0:
        raise InternalError("index modulo by zero; this is a bug in knit")
    return a % b


# Index arithmetic is exact, with floor division and modulo (the C backend emits the same).
INDEX_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": _floordiv,
             "%": _mod, "<": operator.lt, ">": operator.gt, "<=": operator.le,
             ">=": operator.ge, "==": operator.eq}


def element_stride(arr, dim: int) -> int:
    """The stride of `arr` along `dim`, in elements (what `stride(x, d)` means)."""
    return arr.strides[dim] // arr.itemsize


def eval_index(e: N.Expr, env: dict, read_config=None):
    """The value of a control expression (index, size, stride or bool) in `env`.

    `env` maps Syms to ints, bools and (for `stride(x, d)`) ndarrays; `read_config(cfg,
    field)` supplies config fields when the expression reads one.
    """
    match e:
        case N.Const(val):
            return val
        case N.Read(name, ()):
            return _lookup(env, name)
        case N.BinOp("and", lhs, rhs):
            return eval_index(lhs, env, read_config) and eval_index(rhs, env, read_config)
        case N.BinOp("or", lhs, rhs):
            return eval_index(lhs, env, read_config) or eval_index(rhs, env, read_config)
        case N.BinOp(op, lhs, rhs):
            return INDEX_OPS[op](eval_index(lhs, env, read_config),
                                 eval_index(rhs, env, read_config))
        case N.USub(arg):
            return -eval_index(arg, env, read_config)
        case N.StrideExpr(name, dim):
            return element_stride(_lookup(env, name), dim)
        case N.ReadConfig(cfg, field) if read_config is not None:
            return read_config(cfg, field)
    raise InternalError(f"cannot evaluate '{expr_str(e)}' as a control expression; "
                        "this is a bug in knit")


def _lookup(env: dict, sym: Sym):
    try:
        return env[sym]
    except KeyError:
        raise InternalError(f"'{sym.name}' is used before it is bound; this is a bug in "
                            "knit") from None


def compile_index(e: N.Expr):
    """A closure computing `e` from an env, for the hot path (same semantics as eval_index)."""
    match e:
        case N.Const(val):
            return lambda env: val
        case N.Read(name, ()):
            return lambda env: env[name]
        case N.BinOp("and", lhs, rhs):
            fl, fr = compile_index(lhs), compile_index(rhs)
            return lambda env: fl(env) and fr(env)
        case N.BinOp("or", lhs, rhs):
            fl, fr = compile_index(lhs), compile_index(rhs)
            return lambda env: fl(env) or fr(env)
        case N.BinOp(op, lhs, rhs):
            f, fl, fr = INDEX_OPS[op], compile_index(lhs), compile_index(rhs)
            return lambda env: f(fl(env), fr(env))
        case N.USub(arg):
            fa = compile_index(arg)
            return lambda env: -fa(env)
        case N.StrideExpr(name, dim):
            return lambda env: element_stride(env[name], dim)
    raise KnitTypeError(e.srcinfo, f"'{expr_str(e)}' cannot be evaluated when a proc is "
                        "called from Python", "shapes and asserts of a proc's arguments may "
                        "use only sizes, indices, strides and constants")


def _syms_read(e: N.Expr) -> list[Sym]:
    """The control variables `e` reads, in order of first appearance."""
    out: list[Sym] = []

    def walk(x):
        if isinstance(x, N.Read) and x.name not in out:
            out.append(x.name)
        for f in N.child_fields(x):
            v = getattr(x, f)
            for c in v if isinstance(v, tuple) else (v,):
                walk(c)

    walk(e)
    return out


# ---------------------------------------------------------------- which buffers a proc writes


@functools.lru_cache(maxsize=1024)
def written_args(proc: N.Proc) -> frozenset[Sym]:
    """The argument buffers `proc` may write, directly, through windows, or through calls."""
    alias: dict[Sym, Sym] = {}
    out: set[Sym] = set()

    def walk(stmts):
        for s in stmts:
            match s:
                case N.Assign(name) | N.Reduce(name):
                    out.add(alias.get(name, name))
                case N.WindowStmt(name, rhs):
                    alias[name] = alias.get(rhs.name, rhs.name)
                case N.For(body=body):
                    walk(body)
                case N.If(body=body, orelse=orelse):
                    walk(body)
                    walk(orelse)
                case N.Call(f, args):
                    callee_writes = written_args(f)
                    for param, a in zip(f.args, args):
                        if param.name in callee_writes and isinstance(a, (N.Read, N.WindowExpr)):
                            out.add(alias.get(a.name, a.name))

    walk(proc.body)
    return frozenset(a.name for a in proc.args if a.name in out)


# ---------------------------------------------------------------- parameters

_MISSING = object()
_INT_LIMIT = 2**31  # control values are int_fast32_t in C
_DATA_DTYPES = frozenset(np.dtype(t) for t in
                         ("float16", "float32", "float64", "int8", "uint8", "uint16", "int32"))


class _Param:
    """What the binder needs to know about one parameter, computed once per proc."""

    __slots__ = ("sym", "name", "kind", "elem", "dtype", "dims", "dim_syms", "window",
                 "written")

    def __init__(self, arg: N.FnArg, written: bool, instr: bool = False):
        typ = arg.type
        self.sym, self.name, self.written = arg.name, arg.name.name, written
        self.dtype = self.dims = None
        self.dim_syms: list[Sym] = []
        self.window = False
        self.elem = typ.basetype().name
        if typ.is_tensor():
            self.kind = "tensor"
            self.dims = tuple(compile_index(d) for d in typ.dims)
            self.dim_syms = [s for d in typ.dims for s in _syms_read(d)]
            self.window = typ.is_win()
        else:
            self.kind = "scalar" if typ.is_real() else typ.kind
        if typ.basetype().np_dtype is not None:
            self.dtype = np.dtype(typ.basetype().np_dtype)
        elif typ.basetype().name == "R" and not instr:
            # generic R data is float, as C compiles a procedure; an instruction's R
            # parameter is a template hole and takes any data
            self.dtype = np.dtype("float32")

    def expects(self) -> str:
        if self.kind in ("tensor", "scalar"):
            what = f"a {self.dtype} " if self.dtype is not None else "an "
            kind = "window (a strided array)" if self.window else "array"
            return f"{what}{kind}" if self.kind == "tensor" else \
                f"a number or a 0-d {self.dtype or 'data'} array"
        return {"size": "a size (a positive int)", "index": "an int", "stride": "an int",
                "bool": "a bool"}[self.kind]


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def describe(v) -> str:
    """A short description of a Python value for error messages."""
    if isinstance(v, np.ndarray):
        return f"a {v.dtype} array of shape {v.shape}"
    text = repr(v)
    text = text if len(text) <= 40 else text[:37] + "..."
    return f"{type(v).__name__} {text}"


def _shares_memory(a, b) -> bool:
    if not np.may_share_memory(a, b):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=100_000))
    except _TooHardError:  # too costly to decide exactly, so assume they overlap
        return True


_TooHardError = getattr(np, "exceptions", np).TooHardError  # np.exceptions since NumPy 1.25


# ---------------------------------------------------------------- the binder


class Binder:
    """Binds calls of one proc; build it once (see `binder`) and call `.bind` per call."""

    def __init__(self, proc: N.Proc):
        self.proc = proc
        self.fn = f"{proc.name}()"
        written = written_args(proc)
        self.params = tuple(_Param(a, a.name in written, proc.instr is not None)
                            for a in proc.args)
        self.index = {p.name: i for i, p in enumerate(self.params)}
        self.sources = self._size_sources()
        self.order_all = tuple(range(len(self.params)))
        self.order_data = tuple(i for i in self.order_all if i not in self.sources)
        self.controls = tuple(i for i, p in enumerate(self.params)
                              if p.kind not in ("tensor", "scalar"))
        self.buffers = tuple(i for i, p in enumerate(self.params)
                             if p.kind in ("tensor", "scalar"))
        self.tensors = tuple(i for i in self.buffers if self.params[i].kind == "tensor")
        self.written = tuple(i for i in self.buffers if self.params[i].written)
        self.pairs = tuple((i, j) for i in self.buffers for j in self.buffers
                           if i < j and (self.params[i].written or self.params[j].written))
        self.preds = tuple((compile_index(e), e, _syms_read(e)) for e in proc.preds)

    def _size_sources(self) -> dict[int, list[tuple[int, int]]]:
        """For each size parameter, the (tensor parameter, dimension) pairs whose extent
        is exactly that size, so the size may be left out of a call."""
        pos = {p.sym: i for i, p in enumerate(self.params) if p.kind == "size"}
        sources: dict[int, list[tuple[int, int]]] = {}
        for j, a in enumerate(self.proc.args):
            if a.type.is_tensor():
                for d, dim in enumerate(a.type.dims):
                    if isinstance(dim, N.Read) and dim.name in pos:
                        sources.setdefault(pos[dim.name], []).append((j, d))
        return sources

    def bind(self, args: tuple, kwargs: dict | None = None) -> dict[Sym, object]:
        """Validate one call and return {Sym: value} for every parameter."""
        vals = self._match(args, kwargs)
        env: dict[Sym, object] = {}
        for i in self.controls:
            if vals[i] is not _MISSING:
                env[self.params[i].sym] = self._control(self.params[i], vals[i])
        for i in self.buffers:
            p = self.params[i]
            env[p.sym] = self._tensor(p, vals[i]) if p.kind == "tensor" \
                else self._scalar(p, vals[i])
        for i in self.sources:
            if vals[i] is _MISSING:
                env[self.params[i].sym] = self._infer(i, env)
        for i in self.tensors:
            self._check_layout(self.params[i], env[self.params[i].sym], env)
        for i in self.written:
            self._check_writable(self.params[i], env[self.params[i].sym])
        for i, j in self.pairs:
            self._check_overlap(self.params[i], self.params[j], env)
        for fn, e, syms in self.preds:
            if not fn(env):
                self._failed_pred(e, syms, env)
        return env

    # ------------------------------------------------------------ matching values to params

    def _match(self, args: tuple, kwargs: dict | None) -> list:
        """Python's rules (positional first, then by name), except that sizes which shapes
        determine may be left out of the positional list: `gemm(A, B, C)`."""
        if not kwargs:  # the fast paths: every argument, or every one but the sizes
            if len(args) == len(self.params):
                return list(args)
            if len(args) == len(self.order_data) and self._plausible(args):
                vals = [_MISSING] * len(self.params)
                for i, v in zip(self.order_data, args):
                    vals[i] = v
                return vals
        kwargs = kwargs or {}
        for k in kwargs:
            if k not in self.index:
                names = ", ".join(p.name for p in self.params)
                raise ArgumentTypeError(f"{self.fn} has no argument '{k}'; its arguments are "
                                        f"{names}")
        order = self.order_all
        vals, problem = self._assign(args, kwargs, order)
        if problem and self.sources and len(args) <= len(self.order_data):
            vals2, problem2 = self._assign(args, kwargs, self.order_data)
            if not problem2 and (kwargs or self._plausible(args)):
                return vals2
            # a non-integer where a size goes says the caller meant to leave the sizes out
            if any(i < len(args) and not _is_int(args[i]) for i in self.sources):
                order, problem = self.order_data, problem2
        if problem:
            raise self._match_error(problem, order, len(args))
        return vals

    def _plausible(self, args: tuple) -> bool:
        """Whether args fit the parameters without sizes at least in kind (an array where
        a tensor goes): `axpy(8, 2.0, x)` forgot `y`, it did not leave out `N`."""
        for i, v in zip(self.order_data, args):
            kind = self.params[i].kind
            if kind == "tensor" and not isinstance(v, np.ndarray):
                return False
            if kind not in ("tensor", "scalar") and isinstance(v, np.ndarray):
                return False
        return True

    def _assign(self, args: tuple, kwargs: dict, order: tuple):
        """The values in parameter order, and what is wrong with them (None if nothing).
        Problems are cheap tuples: a failed first try is the common `gemm(A, B, C)`."""
        vals = [_MISSING] * len(self.params)
        if len(args) > len(order):
            return vals, ("many",)
        for i, v in zip(order, args):
            vals[i] = v
        for k, v in kwargs.items():
            i = self.index[k]
            if vals[i] is not _MISSING:
                return vals, ("twice", k)
            vals[i] = v
        for i, v in enumerate(vals):
            if v is _MISSING and i not in self.sources:
                return vals, ("missing", i)
        return vals, None

    def _match_error(self, problem: tuple, order: tuple, nargs: int) -> ArgumentTypeError:
        if problem[0] == "many":
            n = len(self.params)
            takes = f"{n} argument(s)" if order is self.order_all else \
                f"{len(order)} argument(s) when sizes are left out ({n} in all)"
            return ArgumentTypeError(f"{self.fn} takes {takes}, got {nargs} positional")
        if problem[0] == "twice":
            return ArgumentTypeError(f"{self.fn} got two values for argument '{problem[1]}' "
                                     "(positionally and by name)")
        p = self.params[problem[1]]
        hint = (" (no array argument has it as a whole dimension, so it cannot be "
                "inferred)") if p.kind == "size" else ""
        return ArgumentTypeError(f"{self.fn} missing argument '{p.name}': expected "
                                 f"{p.expects()}{hint}")

    def _infer(self, i: int, env: dict) -> int:
        j, d = self.sources[i][0]
        p, arr = self.params[i], env[self.params[j].sym]
        return self._in_range(p, arr.shape[d], f"{self.params[j].name}.shape[{d}]")

    # ------------------------------------------------------------ kinds and dtypes

    def _wrong(self, p: _Param, v, what: str = "") -> ArgumentTypeError:
        return ArgumentTypeError(f"{self.fn} argument '{p.name}' expects {what or p.expects()}"
                                 f", got {describe(v)}")

    def _control(self, p: _Param, v):
        if p.kind == "bool":
            if isinstance(v, (bool, np.bool_)):
                return bool(v)
            raise self._wrong(p, v)
        if not _is_int(v):
            raise self._wrong(p, v)
        return self._in_range(p, int(v))

    def _in_range(self, p: _Param, v: int, source: str = "") -> int:
        """The one range check of a control value, passed or inferred from a shape:
        a size is >= 1, and every value fits C's int_fast32_t."""
        if p.kind == "size" and v < 1:
            given = f"but {source} is {v}" if source else f"got {v}"
            raise ArgumentError(f"{self.fn} argument '{p.name}' is a size, so must be >= 1, "
                                f"{given}")
        if not -_INT_LIMIT < v < _INT_LIMIT:
            given = f" (it is {source})" if source else ""
            raise ArgumentError(f"{self.fn} argument '{p.name}' = {v} does not fit in 32 "
                                f"bits{given}")
        return v

    def _check_dtype(self, p: _Param, v: np.ndarray) -> None:
        ok = v.dtype == p.dtype if p.dtype is not None else v.dtype in _DATA_DTYPES
        if not ok:
            want = f"{p.dtype}" if p.dtype is not None else "a knit data type's"
            raise ArgumentTypeError(f"{self.fn} argument '{p.name}' expects {want} elements, "
                                    f"got {describe(v)} (knit does not cast; convert with "
                                    f".astype())")

    def _tensor(self, p: _Param, v) -> np.ndarray:
        if not isinstance(v, np.ndarray):
            raise self._wrong(p, v)
        self._check_dtype(p, v)
        if v.ndim != len(p.dims):
            raise ArgumentTypeError(f"{self.fn} argument '{p.name}' expects {len(p.dims)} "
                                    f"dimension(s), got {describe(v)}")
        return v

    def _scalar(self, p: _Param, v) -> np.ndarray:
        if isinstance(v, np.ndarray):
            self._check_dtype(p, v)
            if v.shape == ():
                return v
            if v.shape == (1,):
                return v[0, ...]  # a 0-d view, so the proc's writes reach the caller
            raise self._wrong(p, v, f"a number or a 0-d or 1-element {p.dtype} array")
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
            raise self._wrong(p, v)
        dtype = p.dtype if p.dtype is not None else np.dtype("float64")
        if dtype.kind == "f":
            try:
                f = float(v)  # an int too large for any float raises OverflowError
            except OverflowError:
                f = math.inf
            if (math.isinf(f) and not (isinstance(v, float) or isinstance(v, np.floating))) \
                    or (math.isfinite(f) and abs(f) > float(np.finfo(dtype).max)):
                raise ArgumentError(f"{self.fn} argument '{p.name}' = {describe(v)} is out "
                                    f"of range for {dtype} (it would become infinite)")
        if dtype.kind in "iu":
            if not float(v).is_integer():
                raise self._wrong(p, v, f"an integer for {dtype}")
            info = np.iinfo(dtype)
            if not info.min <= int(v) <= info.max:
                raise ArgumentError(f"{self.fn} argument '{p.name}' = {v} is out of range "
                                    f"for {dtype} ({info.min}..{info.max})")
            v = int(v)
        return np.array(v, dtype=dtype)

    # ------------------------------------------------------------ shapes and layouts

    def _check_layout(self, p: _Param, v: np.ndarray, env: dict) -> None:
        want = tuple(f(env) for f in p.dims)
        if v.shape != want:
            sizes = ", ".join(f"{s.name} = {env[s]}" for s in dict.fromkeys(p.dim_syms)
                              if s in env)
            where = f" ({sizes})" if sizes else ""
            raise ArgumentError(f"{self.fn} argument '{p.name}' expects shape {want}{where}, "
                                f"got shape {v.shape}")
        flags = v.flags
        if not p.window and not flags.c_contiguous:
            raise ArgumentError(f"{self.fn} argument '{p.name}' must be a C-contiguous "
                                "(dense, row-major) array, got a strided view; pass "
                                f"np.ascontiguousarray({p.name}) or declare the argument "
                                f"as a window [{p.elem}][...]")
        if p.window:
            self._check_strides(p, v)
        if not flags.aligned:
            raise ArgumentError(f"{self.fn} argument '{p.name}' is not aligned to its "
                                "element size; copy it into a fresh array")

    def _check_strides(self, p: _Param, v: np.ndarray) -> None:
        for d, s in enumerate(v.strides):
            if s < 0 or s % v.itemsize:
                raise ArgumentError(f"{self.fn} window argument '{p.name}' has stride {s} "
                                    f"bytes in dimension {d}; knit windows need non-negative "
                                    f"strides that are multiples of the element size "
                                    f"({v.itemsize} bytes)")
            if s == 0 and v.shape[d] > 1 and p.written:
                raise ArgumentError(f"{self.fn} window argument '{p.name}' has stride 0 in "
                                    f"dimension {d}, so its elements overlap, and "
                                    f"{self.fn} writes it")
        if p.written and not _distinct_elements(v):
            raise ArgumentError(f"{self.fn} window argument '{p.name}' may have overlapping "
                                f"elements (shape {v.shape}, strides {v.strides} bytes: some "
                                f"stride is smaller than the extent of the dimensions with "
                                f"smaller strides), and {self.fn} writes it, so the result "
                                "would depend on the order of the writes; pass an array "
                                "whose elements are distinct (e.g. a .copy())")

    def _check_writable(self, p: _Param, v: np.ndarray) -> None:
        if not v.flags.writeable:
            raise ArgumentError(f"{self.fn} writes argument '{p.name}', but the array passed "
                                "is read-only")

    def _check_overlap(self, p: _Param, q: _Param, env: dict) -> None:
        if _shares_memory(env[p.sym], env[q.sym]):
            w = p if p.written else q
            raise ArgumentError(f"{self.fn} arguments '{p.name}' and '{q.name}' overlap in "
                                f"memory, and {self.fn} writes '{w.name}'; pass separate "
                                "arrays (e.g. a .copy())")

    def _failed_pred(self, e: N.Expr, syms: list[Sym], env: dict):
        vals = ", ".join(f"{s.name} = {env[s]}" for s in syms
                         if s in env and not isinstance(env[s], np.ndarray))
        strides = [f"stride({x.name.name}, {x.dim}) = {element_stride(env[x.name], x.dim)}"
                   for x in _strides_in(e)]
        shown = ", ".join(filter(None, [vals, *strides]))
        lines = [f"{e.srcinfo}: {self.fn} precondition `assert {expr_str(e)}` does not hold"
                 + (f" ({shown})" if shown else "")]
        excerpt = e.srcinfo.excerpt()
        if excerpt:
            lines.append(excerpt)
        raise ArgumentError("\n".join(lines))


def _distinct_elements(v: np.ndarray) -> bool:
    """A cheap sufficient check that no two elements of `v` share memory: with the
    dimensions sorted by stride, each stride exceeds the span of all smaller ones
    (strides are non-negative here). It accepts every C/F-ordered array and every
    window of one; it may reject an exotic interleaving that does not overlap."""
    if v.size <= 1:
        return True
    span = v.itemsize  # bytes covered by the dimensions considered so far
    for stride, n in sorted((s, n) for s, n in zip(v.strides, v.shape) if n > 1):
        if stride < span:
            return False
        span = stride * (n - 1) + span
    return True


def _strides_in(e: N.Expr) -> list[N.StrideExpr]:
    if isinstance(e, N.StrideExpr):
        return [e]
    out = []
    for f in N.child_fields(e):
        v = getattr(e, f)
        for c in v if isinstance(v, tuple) else (v,):
            out += _strides_in(c)
    return out


@functools.lru_cache(maxsize=512)
def binder(proc: N.Proc) -> Binder:
    """The cached Binder of `proc` (procs hash by identity)."""
    return Binder(proc)


def bind_args(proc: N.Proc, args: tuple, kwargs: dict | None = None) -> dict[Sym, object]:
    """Match a Python call's values to `proc`'s parameters, validate them, and return
    {Sym: value}. Raises ArgumentTypeError / ArgumentError naming the argument."""
    return binder(proc).bind(args, kwargs)
