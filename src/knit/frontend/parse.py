"""Python source -> typed knit IR.

The parser reads the decorated function's source with `ast`, resolves every
non-local name (memories, procs, configs, externs, Python constants) once, in
the scope where the function was defined, and builds typed IR, checking types
as it goes (`typecheck.py` holds the rules).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass, field

from knit.config import Config
from knit.errors import KnitSyntaxError, KnitTypeError
from knit.extern import Extern, ExternTypeError
from knit.frontend import typecheck as tc
from knit.ir import nodes as N, types as T
from knit.ir.build import window_dim
from knit.ir.handles import ir_of, is_procedure
from knit.ir.printer import expr_str
from knit.ir.srcinfo import SrcInfo
from knit.ir.sym import Sym
from knit.memory import DRAM, Memory

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "/",
           ast.Mod: "%"}
_CMPOPS = {ast.Lt: "<", ast.Gt: ">", ast.LtE: "<=", ast.GtE: ">=", ast.Eq: "=="}
_KEYWORDS = {"seq", "par", "stride", "size", "index", "bool"}


@dataclass
class Source:
    """Where object code came from: its text, file, and the scope its names live in."""

    text: str
    filename: str
    line0: int  # line number of the text's first line in the file
    col0: int  # indentation removed from every line
    scope: dict = field(default_factory=dict)


def source_of_function(f, scope: dict) -> Source:
    try:
        lines, line0 = inspect.getsourcelines(f)
        filename = inspect.getsourcefile(f) or "<unknown>"
    except (OSError, TypeError) as e:
        raise KnitSyntaxError(None, f"cannot read the source of '{f.__name__}': knit "
                              "parses object code from a file",
                              "define procs in a .py file, or use knit.frontend.parse."
                              "parse_source for strings") from e
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    col0 = _indent(text) - _indent(dedented)
    return Source(dedented, filename, line0, col0, scope)


def _indent(text: str) -> int:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return len(first) - len(first.lstrip())


def scope_of_function(f, caller_locals: dict | None) -> dict:
    """The names a proc's body may use: globals, then the caller's locals, then closures."""
    scope = dict(f.__globals__)
    if caller_locals:
        scope.update(caller_locals)
    if f.__closure__:
        for name, cell in zip(f.__code__.co_freevars, f.__closure__):
            try:
                scope[name] = cell.cell_contents
            except ValueError:  # an empty cell: the name was not bound yet
                pass
    return scope


def parse_source(src: Source, instr: N.InstrInfo | None = None) -> N.Proc:
    """Parse the single function definition in `src` into a typed Proc."""
    try:
        module = ast.parse(src.text)
    except SyntaxError as e:
        where = SrcInfo(src.filename, src.line0 + (e.lineno or 1) - 1, (e.offset or 1) - 1)
        raise KnitSyntaxError(where, f"not valid Python: {e.msg}") from None
    defs = [n for n in module.body if isinstance(n, ast.FunctionDef)]
    if len(defs) != 1:
        raise KnitSyntaxError(None, "expected exactly one function definition")
    return Parser(src).parse_proc(defs[0], instr)


class Parser:
    def __init__(self, src: Source):
        self.src = src
        self.scopes: list[dict[str, Sym]] = [{}]
        self.types: dict[Sym, T.Type] = {}
        self.mems: dict[Sym, type] = {}

    # ------------------------------------------------------------ helpers

    def at(self, node) -> SrcInfo:
        line = self.src.line0 + node.lineno - 1
        end_line = self.src.line0 + node.end_lineno - 1 if node.end_lineno else None
        end_col = node.end_col_offset + self.src.col0 if node.end_col_offset else None
        return SrcInfo(self.src.filename, line, node.col_offset + self.src.col0,
                       end_line, end_col)

    def err(self, node, what: str, hint: str = "") -> KnitSyntaxError:
        return KnitSyntaxError(self.at(node), what, hint)

    def lookup(self, name: str) -> Sym | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def declare(self, name: str, typ: T.Type, mem, node) -> Sym:
        if name in _KEYWORDS:
            raise self.err(node, f"'{name}' is a knit keyword and cannot name a variable")
        sym = Sym(name)
        self.scopes[-1][name] = sym
        self.types[sym] = typ
        if mem is not None:
            self.mems[sym] = mem
        return sym

    def resolve_global(self, node: ast.expr):
        """The Python object a Name or dotted Attribute denotes in the defining scope."""
        if isinstance(node, ast.Name):
            if node.id not in self.src.scope:
                raise self.err(node, f"name '{node.id}' is not defined",
                               "define or import it in the module that defines the proc")
            return self.src.scope[node.id]
        if isinstance(node, ast.Attribute):
            base = self.resolve_global(node.value)
            if not hasattr(base, node.attr):
                raise self.err(node, f"'{node.attr}' is not an attribute of "
                               f"{ast.unparse(node.value)}")
            return getattr(base, node.attr)
        raise self.err(node, f"expected a name, got '{ast.unparse(node)}'")

    # ------------------------------------------------------------ procedure

    def parse_proc(self, fdef: ast.FunctionDef, instr) -> N.Proc:
        a = fdef.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.defaults or a.posonlyargs:
            raise self.err(fdef, "a proc takes plain positional arguments only")
        # declare every argument first, so shapes may name sizes declared later
        syms = []
        for arg in a.args:
            if arg.annotation is None:
                raise self.err(arg, f"argument '{arg.arg}' needs a type annotation",
                               "e.g. N: size, or A: f32[N] @ DRAM")
            if self.lookup(arg.arg):
                raise self.err(arg, f"argument '{arg.arg}' is declared twice")
            syms.append(self.declare(arg.arg, T.INDEX, None, arg))
        args = []
        for arg, sym in zip(a.args, syms):
            typ, mem = self.parse_type(arg.annotation, allow_window=True, where=arg.arg)
            self.types[sym] = typ
            if mem is not None:
                self.mems[sym] = mem
            args.append(N.FnArg(sym, typ, mem, self.at(arg)))
        body = list(fdef.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]  # a docstring
        preds = []
        while body and isinstance(body[0], ast.Assert):
            preds.append(self.parse_pred(body.pop(0)))
        stmts = self.parse_block(body, fdef) if body else ()
        return N.Proc(fdef.name, tuple(args), tuple(preds), stmts, instr, self.at(fdef))

    def parse_pred(self, node: ast.Assert) -> N.Expr:
        if node.msg is not None:
            raise self.err(node, "a proc's assert takes no message")
        return tc.check_bool(self.parse_expr(node.test), "an assert")

    # ------------------------------------------------------------ types

    def parse_type(self, node, *, allow_window: bool, where: str):
        """An annotation `T`, `T[dims]`, `[T][dims]`, optionally `@ MEM`."""
        mem = None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            is_dram = isinstance(node.right, ast.Name) and node.right.id == "DRAM"
            # DRAM is the one memory every program may name without importing it
            mem = DRAM if is_dram and "DRAM" not in self.src.scope else \
                self.resolve_global(node.right)
            if not (isinstance(mem, type) and issubclass(mem, Memory)):
                raise self.err(node.right, f"'{ast.unparse(node.right)}' is not a Memory",
                               "a memory is a subclass of knit.Memory, e.g. DRAM")
            node = node.left
        typ = self.parse_bare_type(node, allow_window, where)
        if typ.is_control():
            if mem is DRAM and typ.name in ("stride", "bool"):
                mem = None  # Exo writes (and knit prints) `s: stride @ DRAM`: no memory
            elif mem is not None:
                raise self.err(node, f"{tc.an(typ)} value lives in no memory; drop '@ ...'")
        elif mem is None:
            mem = DRAM
        return typ, mem

    def parse_bare_type(self, node, allow_window: bool, where: str) -> T.Type:
        if isinstance(node, ast.Name):
            return self.scalar_type(node)
        if isinstance(node, ast.Subscript):
            dims = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            base, is_win = node.value, False
            if isinstance(base, ast.List) and len(base.elts) == 1:
                if not allow_window:
                    raise self.err(node, "a window type is only allowed for arguments",
                                   "allocate a tensor, then bind a window to it")
                base, is_win = base.elts[0], True
            elem = self.scalar_type(base)
            if not elem.is_real():
                raise self.err(base, f"tensors hold data, not {elem} values")
            shape = tuple(self.parse_dim(d) for d in dims)
            return T.TensorT(shape, is_win, elem)
        raise self.err(node, f"'{ast.unparse(node)}' is not a knit type",
                       "write e.g. size, f32, f32[N, 8] @ DRAM or [f32][8] @ DRAM")

    def scalar_type(self, node) -> T.ScalarT:
        if isinstance(node, ast.Name):
            typ = T.DATA_TYPES.get(node.id) or T.CONTROL_TYPES.get(node.id)
            if typ is not None:
                return typ
        raise self.err(node, f"unknown type '{ast.unparse(node)}'",
                       "types are f16 f32 f64 i8 ui8 ui16 i32 R size index bool stride")

    def parse_dim(self, node) -> N.Expr:
        if isinstance(node, ast.Slice):
            raise self.err(node, "a tensor dimension is a size, not a slice")
        e = self.parse_expr(node)
        if not e.type.is_indexable():
            raise KnitTypeError(e.srcinfo, f"a tensor dimension must be a size expression, "
                                f"got {tc.an(e.type)} value")
        return e

    # ------------------------------------------------------------ statements

    def parse_block(self, stmts: list, parent) -> tuple[N.Stmt, ...]:
        if not stmts:
            raise self.err(parent, "empty block")
        self.scopes.append({})
        try:
            return tuple(self.parse_stmt(s) for s in stmts)
        finally:
            self.scopes.pop()

    def parse_stmt(self, s) -> N.Stmt:
        match s:
            case ast.For():
                return self.parse_for(s)
            case ast.If():
                return self.parse_if(s)
            case ast.Assign():
                return self.parse_assign(s)
            case ast.AugAssign():
                return self.parse_reduce(s)
            case ast.AnnAssign():
                return self.parse_alloc(s)
            case ast.Pass():
                return N.Pass(self.at(s))
            case ast.Expr(value=ast.Call()):
                return self.parse_call(s.value)
            case ast.Assert():
                raise self.err(s, "asserts must come first in a proc's body",
                               "move the assert to the top, before any other statement")
            case ast.While():
                raise self.err(s, "'while' loops are not part of knit",
                               "use `for i in seq(lo, hi):`")
        kind = type(s).__name__.lower()
        raise self.err(s, f"'{kind}' statements are not part of knit",
                       "knit has for/if/else, assignment, +=, allocation, calls and pass")

    def parse_for(self, s: ast.For) -> N.For:
        if not isinstance(s.target, ast.Name):
            raise self.err(s.target, "a loop variable must be a single name")
        it = s.iter
        ok = (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
              and it.func.id in ("seq", "par") and len(it.args) == 2 and not it.keywords)
        if not ok:
            raise self.err(it, "a loop ranges over seq(lo, hi) or par(lo, hi)",
                           "write `for i in seq(0, N):`")
        if s.orelse:
            raise self.err(s, "for/else is not part of knit")
        lo = tc.check_index(self.parse_expr(it.args[0]), "a loop bound")
        hi = tc.check_index(self.parse_expr(it.args[1]), "a loop bound")
        self.scopes.append({})
        try:
            sym = self.declare(s.target.id, T.INDEX, None, s.target)
            body = self.parse_block(s.body, s)
        finally:
            self.scopes.pop()
        return N.For(sym, lo, hi, body, it.func.id, self.at(s))

    def parse_if(self, s: ast.If) -> N.If:
        cond = tc.check_bool(self.parse_expr(s.test), "an if condition")
        body = self.parse_block(s.body, s)
        orelse = self.parse_block(s.orelse, s) if s.orelse else ()
        return N.If(cond, body, orelse, self.at(s))

    def parse_alloc(self, s: ast.AnnAssign) -> N.Alloc:
        if not isinstance(s.target, ast.Name):
            raise self.err(s.target, "allocate a plain name, e.g. `t: f32[8]`")
        if s.value is not None:
            raise self.err(s, "an allocation takes no initial value",
                           "allocate, then assign: `t: f32` then `t = 0.0`")
        typ, mem = self.parse_type(s.annotation, allow_window=False, where=s.target.id)
        if typ.is_control():
            raise self.err(s.annotation, f"cannot allocate {tc.an(typ)} variable",
                           "only data buffers (f32, f32[N], ...) are allocated")
        sym = self.declare(s.target.id, typ, mem, s.target)
        return N.Alloc(sym, typ, mem, self.at(s))

    def parse_assign(self, s: ast.Assign) -> N.Stmt:
        if len(s.targets) != 1:
            raise self.err(s, "assign one target at a time")
        tgt = s.targets[0]
        if isinstance(tgt, ast.Attribute):
            return self.parse_write_config(tgt, s)
        if isinstance(tgt, ast.Name) and self.lookup(tgt.id) is None:
            return self.parse_window_stmt(tgt, s)
        sym, typ, idx = self.parse_lhs(tgt)
        rhs = tc.check_data(self.parse_expr(s.value), "the right-hand side")
        return N.Assign(sym, typ, idx, rhs, self.at(s))

    def parse_reduce(self, s: ast.AugAssign) -> N.Reduce:
        if not isinstance(s.op, ast.Add):
            raise self.err(s, "only '+=' reductions are part of knit",
                           f"write x = x {ast.unparse(s.op)[0:1] or '?'} e instead")
        sym, typ, idx = self.parse_lhs(s.target)
        rhs = tc.check_data(self.parse_expr(s.value), "the right-hand side")
        return N.Reduce(sym, typ, idx, rhs, self.at(s))

    def parse_lhs(self, tgt):
        if isinstance(tgt, ast.Name):
            name, idx_nodes = tgt.id, []
        elif isinstance(tgt, ast.Subscript) and isinstance(tgt.value, ast.Name):
            name = tgt.value.id
            sl = tgt.slice
            idx_nodes = sl.elts if isinstance(sl, ast.Tuple) else [sl]
        else:
            raise self.err(tgt, f"cannot assign to '{ast.unparse(tgt)}'")
        sym = self.lookup(name)
        if sym is None:
            raise self.err(tgt, f"'{name}' is not defined", "allocate it first: `x: f32[...]`")
        typ = self.types[sym]
        if typ.is_control():
            raise self.err(tgt, f"cannot assign to the {typ} variable '{name}'",
                           "sizes, indices and loop variables are read-only")
        for n in idx_nodes:
            if isinstance(n, ast.Slice):
                raise self.err(n, "cannot assign to a slice; write one element at a time")
        idx = tuple(tc.check_index(self.parse_expr(n), "an index") for n in idx_nodes)
        self.check_rank(tgt, name, typ, len(idx))
        return sym, typ.basetype(), idx

    def check_rank(self, node, name: str, typ, nidx: int):
        rank = len(typ.shape())
        if nidx != rank:
            raise KnitTypeError(self.at(node), f"'{name}' has {rank} dimension(s) but is "
                                f"indexed with {nidx}",
                                "index every dimension, e.g. A[i, j]" if rank else "")

    def parse_window_stmt(self, tgt: ast.Name, s: ast.Assign) -> N.WindowStmt:
        rhs = self.parse_expr(s.value)
        if not isinstance(rhs, N.WindowExpr):
            raise self.err(tgt, f"'{tgt.id}' is not defined",
                           "allocate a buffer first (`x: f32`), or bind a window: "
                           "`w = A[i, 0:8]`")
        sym = self.declare(tgt.id, rhs.type, self.mems[rhs.name], tgt)
        return N.WindowStmt(sym, rhs, self.at(s))

    def parse_write_config(self, tgt: ast.Attribute, s: ast.Assign) -> N.WriteConfig:
        cfg = self.config_of(tgt)
        rhs = self.parse_expr(s.value)
        ftyp = cfg.lookup_type(tgt.attr)
        rhs = tc.check_data(rhs, "a config value") if ftyp.is_real() else rhs
        if ftyp.is_real() != rhs.type.is_real() or (ftyp == T.BOOL) != (rhs.type == T.BOOL):
            raise KnitTypeError(self.at(s.value), f"{cfg.name()}.{tgt.attr} is {tc.an(ftyp)} "
                                f"field, not {tc.an(rhs.type)} value")
        return N.WriteConfig(cfg, tgt.attr, rhs, self.at(s))

    def config_of(self, node: ast.Attribute) -> Config:
        cfg = self.resolve_global(node.value)
        if not isinstance(cfg, Config):
            raise self.err(node.value, f"'{ast.unparse(node.value)}' is not a config",
                           "define configs with @config")
        if not cfg.has_field(node.attr):
            raise self.err(node, f"config {cfg.name()} has no field '{node.attr}'")
        return cfg

    # ------------------------------------------------------------ calls

    def parse_call(self, c: ast.Call) -> N.Call:
        if c.keywords:
            raise self.err(c, "calls take positional arguments only")
        f = self.resolve_global(c.func)
        if not is_procedure(f):
            raise self.err(c.func, f"'{ast.unparse(c.func)}' is not a proc or instr",
                           "only @proc and @instr procedures can be called as statements")
        callee = ir_of(f)
        if len(c.args) != len(callee.args):
            raise KnitTypeError(self.at(c), f"{callee.name} takes {len(callee.args)} "
                                f"argument(s), got {len(c.args)}")
        args = tuple(self.parse_call_arg(a, p, callee) for a, p in zip(c.args, callee.args))
        return N.Call(callee, args, self.at(c))

    def parse_call_arg(self, node, param: N.FnArg, callee: N.Proc) -> N.Expr:
        e = self.parse_expr(node, as_call_arg=True)
        ptyp, pname = param.type, param.name.name
        where = f"argument '{pname}' of {callee.name}"
        if ptyp.is_control():
            ok = e.type == ptyp or (ptyp.is_indexable() and e.type.is_indexable()) or \
                (ptyp == T.STRIDE and e.type.kind in ("stride", "int", "index", "size"))
            if not ok:
                raise KnitTypeError(e.srcinfo, f"{where} is {tc.an(ptyp)}, got "
                                    f"{tc.an(e.type)} value")
            return e
        if ptyp.is_tensor():
            if ptyp.is_win() and isinstance(e, N.Read) and e.type.is_tensor():
                e = self.full_window(e)
            if not e.type.is_tensor():
                raise KnitTypeError(e.srcinfo, f"{where} is a tensor {ptyp}, got a "
                                    f"{e.type} value")
            # a window slice must be contiguous by its form; a window *name* (a window
            # parameter or statement) is checked at the call, where its strides are
            # proven row-major from the caller's facts (frontend/callcheck.py)
            if not ptyp.is_win() and isinstance(e, N.WindowExpr) and not self.contiguous(e):
                raise KnitTypeError(e.srcinfo, f"{where} is a dense tensor; cannot pass a "
                                    "window that is not one contiguous block of a dense "
                                    "buffer", f"declare the parameter as a window "
                                    f"[{ptyp.elem}][...]")
            if len(e.type.shape()) != len(ptyp.shape()):
                raise KnitTypeError(e.srcinfo, f"{where} has {len(ptyp.shape())} "
                                    f"dimension(s), got {len(e.type.shape())}")
        elif not (isinstance(e, N.Read) and e.type.is_real()):
            raise KnitTypeError(e.srcinfo, f"{where} is {tc.an(ptyp)} scalar; pass an element "
                                "such as x[i] or a scalar buffer")
        self.check_elem_and_mem(e, param, where)
        return e

    def check_elem_and_mem(self, e, param, where):
        # the element types: checked with the call (frontend/checks.py), where a
        # mismatch is refused when the program would run, as Exo refuses it at compile
        mem = self.mems.get(e.name, DRAM)
        # a buffer in a memory derived from the parameter's (DRAM_STACK for DRAM) fits
        if param.mem is not None and not issubclass(mem, param.mem):
            raise KnitTypeError(e.srcinfo, f"{where} lives in {param.mem.name()}, but "
                                f"'{e.name.name}' lives in {mem.name()}",
                                "move the buffer with set_memory or stage it with stage_mem")

    def contiguous(self, e) -> bool:
        """Whether a window expression is one row-major block of a dense buffer, so a
        dense-tensor parameter (which assumes row-major strides of its own shape) may
        take it, as Exo allows: after its first interval, every dimension is taken
        whole (`A[i, 2:4, 0:N]` of `A: f32[M, K, N]`). Windows of windows are not."""
        root = self.types.get(e.name) if isinstance(e, N.WindowExpr) else None
        if root is None or not root.is_tensor() or root.is_win():
            return False
        first = next((k for k, a in enumerate(e.idx) if isinstance(a, N.Interval)), None)
        if first is None:
            return False
        for a, d in list(zip(e.idx, root.shape()))[first + 1:]:
            if not (isinstance(a, N.Interval) and expr_str(a.lo) == "0"
                    and expr_str(a.hi) == expr_str(d)):
                return False
        return True

    def full_window(self, e: N.Read) -> N.WindowExpr:
        """`f(x)` for a window parameter: the window of all of x, remembered as written
        by name (it prints back as `x`, as Exo prints it)."""
        zero = N.Const(0, T.INT, e.srcinfo)
        idx = tuple(N.Interval(zero, d, e.srcinfo) for d in e.type.shape())
        typ = T.TensorT(e.type.shape(), True, e.type.basetype())
        return N.WindowExpr(e.name, idx, typ, e.srcinfo, whole=True)

    # ------------------------------------------------------------ expressions

    def parse_expr(self, e, as_call_arg: bool = False) -> N.Expr:
        match e:
            case ast.Name():
                return self.parse_name(e, as_call_arg)
            case ast.Constant():
                return self.parse_const(e)
            case ast.UnaryOp(op=ast.USub()):
                arg = self.parse_expr(e.operand)
                if isinstance(arg, N.Const) and not isinstance(arg.val, bool):
                    return N.Const(-arg.val, arg.type, self.at(e))
                return tc.usub(arg, self.at(e))
            case ast.UnaryOp(op=ast.UAdd()):
                return self.parse_expr(e.operand)
            case ast.BinOp():
                return self.parse_binop(e)
            case ast.Compare():
                return self.parse_compare(e)
            case ast.BoolOp():
                op = "and" if isinstance(e.op, ast.And) else "or"
                out = self.parse_expr(e.values[0])
                for v in e.values[1:]:
                    out = tc.binop(op, out, self.parse_expr(v), self.at(e))
                return out
            case ast.Subscript():
                return self.parse_subscript(e, as_call_arg)
            case ast.Call():
                return self.parse_call_expr(e)
            case ast.Lambda():
                raise self.err(e, "lambda expressions are not part of knit")
            case ast.Attribute():
                cfg = self.config_of(e)
                return N.ReadConfig(cfg, e.attr, cfg.lookup_type(e.attr), self.at(e))
        raise self.err(e, f"'{ast.unparse(e)}' is not a knit expression")

    def parse_name(self, e: ast.Name, as_call_arg: bool) -> N.Expr:
        sym = self.lookup(e.id)
        if sym is None:
            val = self.src.scope.get(e.id)
            if isinstance(val, (bool, int, float)) and e.id not in ("True", "False"):
                return self.make_const(val, e)  # a Python constant from the defining scope
            if e.id in ("True", "False"):
                return N.Const(e.id == "True", T.BOOL, self.at(e))
            raise self.err(e, f"name '{e.id}' is not defined")
        typ = self.types[sym]
        if typ.is_tensor() and not as_call_arg:
            raise KnitTypeError(self.at(e), f"'{e.id}' is a tensor; index it, e.g. "
                                f"{e.id}[{', '.join('i' * 0 or '_' for _ in typ.shape())}]")
        return N.Read(sym, (), typ, self.at(e))

    def parse_const(self, e: ast.Constant) -> N.Const:
        if not isinstance(e.value, (bool, int, float)):
            raise self.err(e, f"{e.value!r} is not a knit constant")
        return self.make_const(e.value, e)

    def make_const(self, val, node) -> N.Const:
        if isinstance(val, bool):
            return N.Const(val, T.BOOL, self.at(node))
        if isinstance(val, int):
            return N.Const(val, T.INT, self.at(node))
        return N.Const(float(val), T.R, self.at(node))

    def parse_binop(self, e: ast.BinOp) -> N.Expr:
        op = _BINOPS.get(type(e.op))
        if op is None:
            raise self.err(e, f"operator '{ast.unparse(e)}' is not part of knit",
                           "knit has + - * / %")
        lhs, rhs = self.parse_expr(e.left), self.parse_expr(e.right)
        if isinstance(e.op, ast.FloorDiv) and not (lhs.type.is_indexable()
                                                   and rhs.type.is_indexable()):
            raise self.err(e, "'//' is only for index values; use '/' for data")
        return tc.binop(op, lhs, rhs, self.at(e))

    def parse_compare(self, e: ast.Compare) -> N.Expr:
        if len(e.ops) != 1:
            raise self.err(e, "chained comparisons are not part of knit",
                           "write `a < b and b < c`")
        op = _CMPOPS.get(type(e.ops[0]))
        if op is None:
            raise self.err(e, f"comparison '{ast.unparse(e)}' is not part of knit",
                           "knit compares with < > <= >= ==")
        lhs, rhs = self.parse_expr(e.left), self.parse_expr(e.comparators[0])
        return tc.binop(op, lhs, rhs, self.at(e))

    def parse_subscript(self, e: ast.Subscript, as_call_arg: bool) -> N.Expr:
        if not isinstance(e.value, ast.Name):
            raise self.err(e, f"cannot index '{ast.unparse(e.value)}'")
        sym = self.lookup(e.value.id)
        if sym is None:
            raise self.err(e.value, f"name '{e.value.id}' is not defined")
        typ = self.types[sym]
        sl = e.slice
        idx_nodes = sl.elts if isinstance(sl, ast.Tuple) else [sl]
        if not typ.is_tensor():
            raise KnitTypeError(self.at(e), f"'{e.value.id}' is {tc.an(typ)} value and cannot be "
                                "indexed")
        self.check_rank(e, e.value.id, typ, len(idx_nodes))
        if any(isinstance(n, ast.Slice) for n in idx_nodes):
            return self.parse_window(e, sym, typ, idx_nodes)
        idx = tuple(tc.check_index(self.parse_expr(n), "an index") for n in idx_nodes)
        return N.Read(sym, idx, typ.basetype(), self.at(e))

    def parse_window(self, e, sym: Sym, typ, idx_nodes) -> N.WindowExpr:
        accs, dims = [], []
        for n, dim in zip(idx_nodes, typ.shape()):
            if isinstance(n, ast.Slice):
                if n.step is not None:
                    raise self.err(n, "window slices take no step")
                lo = self.parse_expr(n.lower) if n.lower else N.Const(0, T.INT, self.at(n))
                hi = self.parse_expr(n.upper) if n.upper else dim
                tc.check_index(lo, "a slice bound")
                tc.check_index(hi, "a slice bound")
                accs.append(N.Interval(lo, hi, self.at(n)))
                dims.append(window_dim(lo, hi, self.at(n)))
            else:
                accs.append(N.Point(tc.check_index(self.parse_expr(n), "an index"),
                                    self.at(n)))
        wtyp = T.TensorT(tuple(dims), True, typ.basetype())
        return N.WindowExpr(sym, tuple(accs), wtyp, self.at(e))

    def parse_call_expr(self, e: ast.Call) -> N.Expr:
        if isinstance(e.func, ast.Name) and e.func.id == "stride" and self.lookup("stride") \
                is None:
            return self.parse_stride(e)
        if isinstance(e.func, ast.Lambda):
            raise self.err(e.func, "lambda expressions are not part of knit",
                           "for a scalar function, define an Extern (see knit.libs.externs)")
        f = self.resolve_global(e.func)
        if not isinstance(f, Extern):
            raise self.err(e.func, f"'{ast.unparse(e.func)}' is not an extern function",
                           "procs are called as statements; scalar functions are Externs "
                           "(knit.libs.externs)")
        args = tuple(tc.as_data(self.parse_expr(a)) for a in e.args)
        try:
            typ = f.typecheck([a.type for a in args])
        except ExternTypeError as err:
            raise KnitTypeError(self.at(e), str(err)) from None
        return N.Extern(f, args, typ, self.at(e))

    def parse_stride(self, e: ast.Call) -> N.StrideExpr:
        ok = len(e.args) == 2 and isinstance(e.args[0], ast.Name) and \
            isinstance(e.args[1], ast.Constant) and type(e.args[1].value) is int
        if not ok:
            raise self.err(e, "write stride(buffer, dimension) with a literal dimension")
        sym = self.lookup(e.args[0].id)
        if sym is None or not self.types[sym].is_tensor():
            raise self.err(e.args[0], f"'{e.args[0].id}' is not a tensor or window")
        dim = e.args[1].value
        if not 0 <= dim < len(self.types[sym].shape()):
            raise KnitTypeError(self.at(e), f"'{sym.name}' has no dimension {dim}")
        return N.StrideExpr(sym, dim, T.STRIDE, self.at(e))
