"""The reference interpreter: what a knit procedure means, run on NumPy arrays.

Obviously right rather than fast. docs/semantics.md is the definition it follows (and
the C backend too); the rule names below are its anchors.

- Index, size, stride and bool values are exact Python ints/bools; `/` and `%` on them
  are floor division and modulo.
- Data values carry their C type at run time: a NumPy scalar (np.float16/32/64) for a
  float, a Python int for integer data (i8, ui8, ui16, i32 promote to C `int`, 32-bit
  wrapping, truncating division: #int-arith), and a plain Python `float` for an untyped
  `R` value (a literal, or arithmetic on literals only, computed in double). An operation
  converts its operands as C's usual arithmetic conversions do (#mixed-precision); an
  untyped value adopts the other operand's type (#literal-type). A store converts to the
  destination's element type once (#round-at-store); a float stored to integer data
  truncates toward zero and must fit (#float-to-int). f16 arithmetic rounds after every
  operation (NumPy's float16; #f16).
- Float division by zero follows IEEE (inf/nan); integer data division by zero (or
  -2^31 / -1) raises ArgumentError. An out-of-range index raises InternalError (the
  static bounds check should have refused it), never NumPy's IndexError or a silent
  negative wrap-around.
- Allocations are filled with poison -- NaN for floats, the largest value for integers --
  so that reading memory the program never wrote shows up in results instead of
  passing by luck as zeros would. (C leaves such memory undefined.)
- `seq` and `par` loops both run in order; loop bounds are evaluated once, on entry
  (#bounds-once).
- Configs live in a module-level store kept across calls (C keeps them in static
  structs); a field never written reads as zero, as a static C struct would.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from knit.errors import ArgumentError, InternalError
from knit.ir import nodes as N, types as T
from knit.ir.printer import expr_str
from knit.runtime.args import bind_args, eval_index

_BUG = "the static checks should have refused this program; this is a bug in knit"

# ---------------------------------------------------------------- configs

_CONFIGS: dict = {}  # Config -> {field: value}


def config_value(cfg, field: str):
    """The interpreter's current value of `cfg.field` (zero if never written)."""
    state = _CONFIGS.get(cfg)
    if state is not None and field in state:
        return state[field]
    return config_zero(cfg, field)


def config_zero(cfg, field: str):
    """The value of `cfg.field` before any write: zero of its type."""
    typ = cfg.lookup_type(field)
    if typ.is_real():
        return np.dtype(typ.np_dtype).type(0)
    return False if typ.kind == "bool" else 0


def set_config_value(cfg, field: str, value) -> None:
    """Set the interpreter's `cfg.field` (converted to the field's type)."""
    typ = cfg.lookup_type(field)
    if typ.is_real():
        value = np.dtype(typ.np_dtype).type(value)
    else:
        value = bool(value) if typ.kind == "bool" else int(value)
    _CONFIGS.setdefault(cfg, {})[field] = value


def reset_configs() -> None:
    """Forget every config value the interpreter has stored (they read as zero again)."""
    _CONFIGS.clear()


def _index(e: N.Expr, env: dict):
    return eval_index(e, env, config_value)


# ---------------------------------------------------------------- entry point


def interpret(proc: N.Proc, args: tuple = (), kwargs: dict | None = None) -> None:
    """Run `proc` on Python values (see knit.runtime.args for what each argument takes),
    writing results into the caller's arrays in place."""
    env = bind_args(proc, tuple(args), kwargs)
    with np.errstate(all="ignore"):  # IEEE semantics for float data, as in C
        _exec_block(proc.body, env)


# ---------------------------------------------------------------- statements


def _exec_block(stmts, env: dict) -> None:
    for s in stmts:
        _exec(s, env)


def _exec(s: N.Stmt, env: dict) -> None:
    match s:
        case N.Assign(name, _, idx, rhs):
            arr = _buffer(env, name)
            _store(arr, _key(arr, name, idx, env, s), _data(rhs, env), s)
        case N.Reduce(name, _, idx, rhs):
            arr = _buffer(env, name)
            key = _key(arr, name, idx, env, s)
            _store(arr, key, _arith("+", _load(arr[key]), _data(rhs, env), s), s)
        case N.WriteConfig(cfg, field, rhs):
            _write_config(cfg, field, rhs, env, s)
        case N.Pass():
            pass
        case N.If(cond, body, orelse):
            _exec_block(body if _index(cond, env) else orelse, env)
        case N.For(it, lo, hi, body, _):
            for i in range(_index(lo, env), _index(hi, env)):
                env[it] = i
                _exec_block(body, env)
        case N.Alloc(name, typ, _):
            env[name] = _alloc(typ, env)
        case N.Call():
            _call(s, env)
        case N.WindowStmt(name, rhs):
            env[name] = _window(rhs, env)
        case _:
            raise InternalError(f"the interpreter has no rule for {type(s).__name__}")


def _alloc(typ, env: dict) -> np.ndarray:
    shape = tuple(_index(d, env) for d in typ.shape())
    # generic R data is float, as the C backend compiles it (backend/c/generic.py)
    dtype = np.dtype(typ.basetype().np_dtype or "float32")
    poison = np.nan if dtype.kind == "f" else np.iinfo(dtype).max
    return np.full(shape, poison, dtype=dtype)


def _write_config(cfg, field: str, rhs: N.Expr, env: dict, s) -> None:
    typ = cfg.lookup_type(field)
    if typ.is_real():
        cell = np.empty((), dtype=np.dtype(typ.np_dtype))
        _store(cell, (), _data(rhs, env), s)
        value = cell[()]
    else:
        value = _index(rhs, env)
    _CONFIGS.setdefault(cfg, {})[field] = value


# ---------------------------------------------------------------- calls


def _call(s: N.Call, env: dict) -> None:
    """Run the callee's body (an instr's body is its meaning) on views of the caller's
    buffers, so its writes land in them."""
    f = s.f
    callee_env = {}
    for param, a in zip(f.args, s.args):
        if param.type.is_tensor():
            value = _window(a, env) if isinstance(a, N.WindowExpr) else _buffer(env, a.name)
        elif param.type.is_real():
            arr = _buffer(env, a.name)
            # a 0-d view of the element, so writes to the scalar parameter reach it
            value = arr[_key(arr, a.name, a.idx, env, a) + (Ellipsis,)]
        else:
            value = _index(a, env)
        callee_env[param.name] = value
    _check_call(s, callee_env)
    _exec_block(f.body, callee_env)


def _check_call(s: N.Call, env: dict) -> None:
    for param, arg in zip(s.f.args, s.args):
        if param.type.is_tensor():
            want = tuple(_index(d, env) for d in param.type.dims)
            got = env[param.name].shape
            cut = isinstance(arg, N.WindowExpr) and len(got) == len(want) and \
                all(g <= w for g, w in zip(got, want))  # ends with its buffer (_window)
            if got != want and not cut:
                raise InternalError(f"{s.srcinfo}: the call passes '{param.name.name}' of "
                                    f"{s.f.name} with shape {got}, but it expects {want}; "
                                    f"{_BUG}")
    for pred in s.f.preds:
        if not _index(pred, env):
            raise InternalError(f"{s.srcinfo}: the call violates {s.f.name}'s precondition "
                                f"`{expr_str(pred)}`; {_BUG}")


# ---------------------------------------------------------------- buffers and indices


def _buffer(env: dict, name) -> np.ndarray:
    arr = env.get(name)
    if not isinstance(arr, np.ndarray):
        raise InternalError(f"'{name.name}' is not a bound buffer; this is a bug in knit")
    return arr


def _key(arr: np.ndarray, name, idx, env: dict, node) -> tuple:
    """The checked NumPy index of the element `name[idx]`."""
    if len(idx) != arr.ndim:
        raise InternalError(f"{node.srcinfo}: '{name.name}' has {arr.ndim} dimension(s) but "
                            f"is indexed with {len(idx)}; this is a bug in knit")
    key = tuple(_index(i, env) for i in idx)
    for d, (i, n) in enumerate(zip(key, arr.shape)):
        if not 0 <= i < n:
            raise _out_of_bounds(node, name, d, f"index {i}", n)
    return key


def _out_of_bounds(node, name, dim: int, what: str, extent: int) -> InternalError:
    return InternalError(f"{node.srcinfo}: {what} is out of bounds for dimension {dim} of "
                         f"'{name.name}' (extent {extent}); {_BUG}")


def _window(e: N.WindowExpr, env: dict) -> np.ndarray:
    """A NumPy view of the window: an interval keeps a dimension, a point drops it."""
    arr = _buffer(env, e.name)
    if len(e.idx) != arr.ndim:
        raise InternalError(f"{e.srcinfo}: a window of '{e.name.name}' gives {len(e.idx)} "
                            f"of its {arr.ndim} dimension(s); this is a bug in knit")
    key = []
    for d, (w, n) in enumerate(zip(e.idx, arr.shape)):
        if isinstance(w, N.Interval):
            lo, hi = _index(w.lo, env), _index(w.hi, env)
            if not 0 <= lo <= hi or lo > n:
                raise _out_of_bounds(w, e.name, d, f"slice {lo}:{hi}", n)
            # a call's window may reach past the buffer when the callee's accesses stay
            # inside (frontend/checks.py, reaches_only_inside): the view ends with the
            # buffer, and an access past it is out of bounds of the view
            key.append(slice(lo, min(hi, n)))
        else:
            pt = _index(w.pt, env)
            if not 0 <= pt < n:
                raise _out_of_bounds(w, e.name, d, f"index {pt}", n)
            key.append(pt)
    return arr[tuple(key) + (Ellipsis,)]  # the Ellipsis keeps even 0-d results views


# ---------------------------------------------------------------- data values


def _load(v):
    """A value read from an array, as a C value: integer data promotes to int."""
    return int(v) if isinstance(v, np.integer) else v


def _store(arr: np.ndarray, key: tuple, v, node) -> None:
    """Store as C converts on assignment: floats round, integers truncate then wrap."""
    if arr.dtype.kind in "iu":
        v = _to_int(v, arr.dtype, node)
    arr[key] = v


def _to_int(v, dtype: np.dtype, node) -> int:
    """C's conversion to integer data (docs/semantics.md#float-to-int): a float truncates
    toward zero and must fit the destination (C leaves the rest undefined); an int wraps
    (C's conversion to a narrower integer, modulo 2^bits in gcc and clang)."""
    bits = 8 * dtype.itemsize
    if not isinstance(v, int):
        v = _truncate(v, node)
        lo = -(1 << (bits - 1)) if dtype.kind == "i" else 0
        if not lo <= v < lo + (1 << bits):
            raise ArgumentError(f"{node.srcinfo}: converting {v} to {dtype} is undefined in C "
                                "(out of range); see docs/semantics.md#float-to-int")
        return v
    v %= 1 << bits
    return v - (1 << bits) if dtype.kind == "i" and v >= 1 << (bits - 1) else v


def _truncate(v, node) -> int:
    f = float(v)
    if not math.isfinite(f):
        where = f"{node.srcinfo}: " if node is not None else ""
        raise ArgumentError(f"{where}converting {f} to an integer is undefined in C; the data "
                            "produced a non-finite value (docs/semantics.md#float-to-int)")
    return int(f)  # toward zero, like C's float -> int conversion


def _wrap32(v: int) -> int:
    return (v + 2**31) % 2**32 - 2**31


def _data(e: N.Expr, env: dict):
    match e:
        case N.Read(name, idx):
            arr = _buffer(env, name)
            return _load(arr[_key(arr, name, idx, env, e)])
        case N.Const(val, typ):
            if typ.np_dtype is None or not typ.is_real():
                return float(val)  # an untyped literal
            dtype = np.dtype(typ.np_dtype)
            return int(val) if dtype.kind in "iu" else dtype.type(val)
        case N.USub(arg):
            v = _data(arg, env)
            return _wrap32(-v) if type(v) is int else -v
        case N.BinOp(op, lhs, rhs):
            return _arith(op, _data(lhs, env), _data(rhs, env), e)
        case N.Extern():
            return _extern(e, env)
        case N.ReadConfig(cfg, field):
            return _load(config_value(cfg, field))
    raise InternalError(f"'{expr_str(e)}' is not a data expression; this is a bug in knit")


def _unify(a, b, node=None):
    """Both operands converted to their common C type (docs/semantics.md#mixed-precision);
    an untyped float adopts the other's (#literal-type)."""
    ta, tb = type(a), type(b)
    if ta is tb:
        return a, b
    if ta is float:
        return _convert(a, tb, node), b
    if tb is float:
        return a, _convert(b, ta, node)
    if ta is int:
        return tb(a), b
    if tb is int:
        return a, ta(b)
    wide = ta if np.dtype(ta).itemsize > np.dtype(tb).itemsize else tb
    return wide(a), wide(b)


def _convert(v, t, node=None):
    """`v` converted to the C value type `t` (int, a NumPy float type, or float)."""
    if t is int:
        if type(v) is int:
            return v
        n = _truncate(v, node)
        if not -(2**31) <= n < 2**31:
            where = f"{node.srcinfo}: " if node is not None else ""
            raise ArgumentError(f"{where}converting {float(v)} to integer data is undefined "
                                "in C (out of range); see docs/semantics.md#float-to-int")
        return n
    return t(v)


_FLOAT_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _arith(op: str, a, b, node):
    a, b = _unify(a, b, node)
    if type(a) is int:
        return _int_arith(op, a, b, node)
    if type(a) is float:  # untyped on both sides: compute in double with IEEE semantics
        return float(_FLOAT_OPS[op](np.float64(a), np.float64(b)))
    return _FLOAT_OPS[op](a, b)


def _int_arith(op: str, a: int, b: int, node) -> int:
    if op == "/":
        if b == 0:
            raise ArgumentError(f"{node.srcinfo}: integer division by zero in "
                                f"`{expr_str(node)}`")
        if a == -(2**31) and b == -1:
            raise ArgumentError(f"{node.srcinfo}: integer division overflows in "
                                f"`{expr_str(node)}` (-2147483648 / -1); see "
                                "docs/semantics.md#int-arith")
        q = abs(a) // abs(b)
        return q if (a < 0) == (b < 0) else -q  # C truncates toward zero
    if op not in _FLOAT_OPS:
        raise InternalError(f"'{op}' is not a data operation; this is a bug in knit")
    return _wrap32(_FLOAT_OPS[op](a, b))


def _extern(e: N.Extern, env: dict):
    """Call the extern's interpreter on arguments converted to their common C type, and
    convert its result back to that type."""
    vals = [_data(a, env) for a in e.args]
    typed = [v for v in vals if type(v) is not float]
    common = float
    for v in typed:
        common = type(v) if common is float else type(_unify(common(0), v)[0])
    vals = [_convert(v, common, e) for v in vals]
    if common is int and e.f.wraps_args:  # a C function of a narrow integer type
        vals = [_wrap_to(v, _arg_type(e)) for v in vals]
    try:
        result = e.f.interpret(vals)
    except (ArithmeticError, ValueError) as err:
        raise ArgumentError(f"{e.srcinfo}: extern {e.f.name()} failed on {vals}: "
                            f"{err}") from err
    return _convert(result, common, e)


def _arg_type(e: N.Extern):
    """The common type of an extern's typed arguments (T.join_real, as the C backend's)."""
    typ = None
    for a in e.args:
        if a.type != T.R:
            typ = a.type if typ is None else T.join_real(typ, a.type)
    return typ


def _wrap_to(v: int, typ) -> int:
    """v converted to integer data type `typ` as C converts it (modulo 2^bits; i32 and
    untyped: unchanged)."""
    if typ is None or typ.np_dtype is None or np.dtype(typ.np_dtype).itemsize >= 4:
        return v
    dt = np.dtype(typ.np_dtype)
    bits = 8 * dt.itemsize
    v %= 2**bits
    return v - 2**bits if dt.kind == "i" and v >= 2**(bits - 1) else v
