"""Statements -> C: one C function per knit procedure.

The emitter walks the body once, writing lines; each block gets a C scope, and a
buffer allocated in a block is freed right after the last statement of that block
that uses it (or a window of it), as Exo places frees, so a memory can give the next
allocation the same storage; buffers freed at one point go in reverse allocation
order. Memories, instructions and externs produce their own C through their hooks.
"""

from __future__ import annotations

import re

from knit.backend.c.calls import CallEmitter
from knit.backend.c.cexpr import convert, hook_error
from knit.backend.c.names import CNames
from knit.backend.c.registers import zeroed_registers
from knit.backend.c.windows import dense_strides, root_view
from knit.errors import InternalError, KnitTypeError
from knit.ir import nodes as N, types as T
from knit.ir.printer import Names, expr_str, type_str
from knit.ir.sym import Sym
from knit.ir.visit import stmt_exprs, walk_expr, walk_stmts
from knit.memory import DRAM, DRAM_STACK, MemGenError, Memory

MAX_C_UNROLL = 32  # longest constant loop unrolled in C for register allocation
# A DRAM buffer of constant shape up to this many bytes, allocated in a loop or in a
# subprocedure, is a C array on the stack, not a malloc/free pair: staging a few values
# inside a hot loop must not call the allocator on every iteration. A page is far below
# any thread's stack (OpenMP workers included).
SMALL_DRAM_BYTES = 4096


def small_dram(mem, elem: T.ScalarT, shape: list[str]) -> bool:
    """Whether a `mem` buffer of this element type and (C) shape becomes a stack array:
    plain DRAM (not a user's subclass, whose hooks are its own), constant extents, and
    at most SMALL_DRAM_BYTES."""
    if mem is not DRAM or not shape or not all(d.isdigit() for d in shape):
        return False
    digits = re.sub(r"\D", "", elem.np_dtype or "")
    nbytes = int(digits) // 8 if digits else 8
    for d in shape:
        nbytes *= int(d)
    return nbytes <= SMALL_DRAM_BYTES


class ProcEmitter(CallEmitter):
    """Compiles one non-instr procedure to a C prototype and definition."""

    def __init__(self, proc: N.Proc, unit, c_name: str, public: bool):
        super().__init__(CNames(unit.reserved), unit)
        self.proc = proc
        self.c_name = c_name
        self.public = public
        self.lines: list[str] = []
        self.depth = 1
        self._blocks: list[list[tuple]] = []  # allocations of each open block
        self._written = unit.written(proc)
        self._known = known_strides(proc.preds)
        self.params = [self.param(a) for a in proc.args]
        self._regs: set | None = None
        self._named: set | None = None  # names used anywhere (named())
        self._zeroed: set | None = None
        self._loops = 0  # loops around the statement being emitted

    # ------------------------------------------------------------ signature

    def prototype(self) -> str:
        static = "" if self.public else "static "
        each = ["void *ctxt", *self.params] if self.unit.ctxt else self.params
        params = ", ".join(each) if each else "void"
        head = f"{static}void {self.c_name}("
        if len(head) + len(params) + 1 > 100:
            params = "\n    " + ",\n    ".join(each) + "\n"
        return f"{head}{params})"

    def signature_comment(self) -> str:
        names = Names()
        args = ", ".join(f"{names(a.name)}: {type_str(a.type, names)}"
                         + (f" @ {a.mem.name()}" if a.mem is not None else "")
                         for a in self.proc.args)
        return f"// {self.proc.name}({args})"

    def param(self, a: N.FnArg) -> str:
        name = self.names.declare(a.name)
        t = a.type
        if t.is_control():
            if t.kind == "size":
                self.lows[a.name] = 1  # sizes are >= 1 (docs/language.md)
            return f"{t.ctype} {name}"
        elem = t.basetype()
        if elem.ctype is None:
            raise KnitTypeError(a.srcinfo, f"cannot compile '{a.name.name}' of the generic "
                                "type R to C", "give it a precision, e.g. f32")
        self._check_mem(a)
        const = a.name not in self._written
        if not t.is_tensor():
            self.scalars[a.name] = ("ptr", a.mem)
            return f"{'const ' if const else ''}{elem.ctype}* restrict {name}"
        if t.is_win():
            tag = self.unit.structs.name(elem, len(t.shape()), const)
            strides = [self._known.get((a.name, d), f"{name}.strides[{d}]")
                       for d in range(len(t.shape()))]
            self.views[a.name] = root_view(a.name, name, t, a.mem, f"{name}.data", strides)
            return f"struct {tag} {name}"
        self.views[a.name] = root_view(a.name, name, t, a.mem, name, self._dense(t))
        return f"{'const ' if const else ''}{elem.ctype}* restrict {name}"

    def _check_mem(self, a) -> None:
        if a.mem is not None:
            self.unit.add_memory(a.mem)

    def _dense(self, t) -> list[str]:
        return [self.index(s) for s in dense_strides(t.shape())]

    # ------------------------------------------------------------ body

    def definition(self) -> str:
        for p in self.proc.preds:
            for c in _conjuncts(p):
                self._bound_from(c)
        for p in self.proc.preds:
            for text in self.precondition(p):
                self.line(text)
        self._blocks.append([])  # the function body shares the parameters' C scope
        self.stmts(self.proc.body)
        self.close_allocs(self._blocks.pop())
        code = _strip_comments("\n".join(self.lines))
        unused = [n for n in (self.names[a.name] for a in self.proc.args)
                  if not re.search(rf"(?<![\w.>]){n}\b", code)]
        if self.unit.ctxt and not re.search(r"(?<![\w.>])ctxt\b", code):
            unused.insert(0, "ctxt")
        body = [f"    (void) {n};" for n in unused] + self.lines
        return "\n".join([self.signature_comment(), self.prototype() + " {", *body, "}"])

    def _bound_from(self, c) -> None:
        """A lower bound of an index argument that a precondition states (`k >= 0`,
        `k > 2`, `0 <= k`), for proving divisions non-negative."""
        if not (isinstance(c, N.BinOp) and c.op in (">=", ">", "<=", "<")):
            return
        a, op, b = c.lhs, c.op, c.rhs
        if op in ("<=", "<"):  # b >= a, b > a
            a, b, op = b, a, {"<=": ">=", "<": ">"}[op]
        if isinstance(a, N.Read) and a.type.is_control() and isinstance(b, N.Const) \
                and not isinstance(b.val, bool):
            low = int(b.val) + (op == ">")
            self.lows[a.name] = max(low, self.lows.get(a.name, low))

    def precondition(self, p) -> list[str]:
        """Exo's `EXO_ASSUME(n <= 16);` for each conjunct of an `assert`: the compiler
        may rely on what every caller promises (the JIT checks each precondition before
        the call; a C caller must keep them, as with Exo). A stride fact is already
        used as the stride itself (known_strides) and stays a comment, as in Exo; so
        does a condition that needs a floor-division helper: clang's __builtin_assume
        ignores calls, with a warning."""
        comment = f"// assert {expr_str(p)}"
        out = []
        for c in _conjuncts(p):
            constant = not any(isinstance(x, (N.Read, N.StrideExpr, N.ReadConfig))
                               for x in walk_expr(c))
            if constant or known_strides([c]):  # Exo drops constant ones (`True`)
                out[:0] = [] if comment in out else [comment]
                continue
            helpers = set(self.unit.helpers)
            text = self.index(c)
            if "knit_floor_" in text:
                self.unit.helpers = helpers
                out[:0] = [] if comment in out else [comment]
                continue
            out.append(f"EXO_ASSUME({text});")
        return out

    def line(self, text: str) -> None:
        pad = "    " * self.depth
        for ln in text.splitlines():
            # preprocessor lines stay at column 0, where C programmers look for them
            self.lines.append(ln if ln.startswith("#") else pad + ln if ln.strip() else "")

    def stmts(self, body) -> None:
        last = last_uses(body)
        for k, s in enumerate(body):
            self.stmt(s)
            if k in last:
                allocs = self._blocks[-1]
                done = [a for a in allocs if a[0].name in last[k]]
                self._blocks[-1] = [a for a in allocs if a[0].name not in last[k]]
                self.close_allocs(done)

    def block(self, body) -> None:
        """Statements in a new C scope; buffers allocated there are freed at its end."""
        self.names.push()
        self.depth += 1
        self._blocks.append([])
        self.stmts(body)
        self.close_allocs(self._blocks.pop())
        self.depth -= 1
        self.names.pop()

    def stmt(self, s) -> None:
        match s:
            case N.Assign() | N.Reduce():
                self.assign(s)
            case N.WriteConfig(config, field, rhs):
                self.write_config(s, config, field, rhs)
            case N.Pass():
                self.line("// pass")
            case N.If(cond, body, orelse):
                self.line(f"if ({self.index(cond)}) {{")
                self.block(body)
                if orelse:
                    self.line("} else {")
                    self.block(orelse)
                self.line("}")
            case N.For():
                self.loop(s)
            case N.Alloc():
                self.alloc(s)
            case N.Call():
                self.call(s)
            case N.WindowStmt(name, rhs):
                self.window_stmt(s, name, rhs)
            case _:
                raise InternalError(f"the C backend has no rule for {type(s).__name__}")

    def assign(self, s) -> None:
        lhs = self.element(s.name, s.idx, s.srcinfo, reading=False)
        # `x += e` is x = x + e in the type of x + e, then converted (#round-at-store): C's
        # compound assignment does exactly that, so e must not be converted first.
        # `x = e` converts e to the type of x, as a cast would (C11 6.5.16.1): a narrow
        # integer or f16 operation (computed in int, resp. float) is left to it, as Exo
        # writes it (`a = a + ((int8_t) 3);`); another type is converted explicitly
        mem = self._mem_of(s.name)
        if isinstance(s, N.Assign) and self.result_type(s.rhs, s.type) == s.type:
            plain = getattr(mem.write, "__func__", None) is Memory.write.__func__
            rhs = self.stored(s.rhs, s.type, plain=plain)
        else:
            rhs = self.data(s.rhs, s.type)
        if isinstance(s, N.Assign) and self.result_type(s.rhs, s.type) != s.type:
            rhs = convert(rhs, s.type)
        hook = mem.write if isinstance(s, N.Assign) else mem.reduce
        if isinstance(s, N.Reduce) and self._f16_sum_written_out(s):
            # `x += e` where x + e is an f16 operation on an integer and an f16 value:
            # C's compound assignment would add in float (see ExprCompiler.operand), so
            # the f16 sum is written out: x = (T)((_Float16)((_Float16)x + e)) (#f16);
            # and an f64 sum into f16 converts through KNIT_F16 (header.py)
            rtype = self.result_type(s.rhs, s.type)
            typ = T.join_real(s.type, rtype)
            total = N.BinOp("+", N.Read(s.name, s.idx, s.type, s.srcinfo), s.rhs, typ,
                            s.srcinfo)
            rhs = self.data(total, typ)
            if s.type != typ:
                rhs = convert(rhs, s.type)
            hook = mem.write
        try:
            self.line(hook(s, lhs, rhs))
        except MemGenError as err:
            raise hook_error(s.srcinfo, f"{mem.name()}.{hook.__name__}", err) from None

    def _f16_sum_written_out(self, s: N.Reduce) -> bool:
        """Whether `x += e` adds in f16 with one side not f16 (an integer), or adds an
        f64 value into f16."""
        rtype = self.result_type(s.rhs, s.type)
        if s.type == T.F16 and rtype == T.F64:
            return True
        return T.join_real(s.type, rtype) == T.F16 and (s.type, rtype) != (T.F16, T.F16)

    def _mem_of(self, sym):
        if sym in self.scalars:
            return self.scalars[sym][1]
        return self.views[sym].mem

    def write_config(self, s, config, field, rhs) -> None:
        ftyp = config.lookup_type(field)
        target = self.config_field(N.ReadConfig(config, field, ftyp, s.srcinfo))
        if ftyp.is_real():
            value = self.data(rhs, ftyp)
            rtype = self.result_type(rhs, ftyp)
            if rtype != ftyp:
                value = convert(value, ftyp)
        else:
            value = self.index(rhs)
        self.line(f"{target} = {value};")

    def loop(self, s: N.For) -> None:
        # bounds are evaluated once, on entry (#bounds-once): C's condition is evaluated
        # every iteration, so a bound the body may change (a config) is copied first
        lo, hi = self.index(s.lo), self.index(self._pin_expr(s.hi, s))
        self.names.push()
        it = self.names.declare(s.iter)
        low = self.lower_bound(s.lo)
        if low is not None:
            self.lows[s.iter] = low
        if s.mode == "par":
            self.unit.has_par = True
            self.line("#ifdef _OPENMP\n#pragma omp parallel for\n#endif")
        elif self.unroll_in_c(s):
            self.line(f"#pragma GCC unroll {s.hi.val - s.lo.val}")
        self.line(f"for (int_fast32_t {it} = {lo}; {it} < {hi}; {it}++) {{")
        self._loops += 1
        self.block(s.body)
        self._loops -= 1
        self.line("}")
        self.names.pop()

    def unroll_in_c(self, s: N.For) -> bool:
        """Small constant loops are unrolled in C where that helps the compiler: those
        that index register memories (constant indices let it keep register arrays in
        registers; gcc otherwise leaves arrays of vectors in memory), and innermost ones
        of assignments alone, whose copies gcc's SLP vectorizer then vectorizes (knit
        turns gcc's loop vectorizer off: docs/semantics.md#c-build; the GEMM's packing
        copies, f32 64 x 2048 x 2048: 124 GFLOP/s as loops, 144 unrolled)."""
        if not (isinstance(s.lo, N.Const) and isinstance(s.hi, N.Const)):
            return False
        if not 0 < s.hi.val - s.lo.val <= MAX_C_UNROLL:
            return False
        if all(isinstance(x, (N.Assign, N.Reduce)) for x in s.body):
            return True
        regs = self.register_buffers()
        for x in walk_stmts(s.body):
            names = [x.name] if isinstance(x, (N.Assign, N.Reduce)) else []
            for e in stmt_exprs(x):
                names += [y.name for y in walk_expr(e)
                          if isinstance(y, (N.Read, N.WindowExpr))]
            if any(n in regs for n in names):
                return True
        return False

    def named(self) -> set:
        """The names some statement or expression of the procedure uses (reads, writes,
        windows of them, strides, call arguments): a name bound but never in it is
        unused."""
        if self._named is None:
            self._named = set()
            for x in walk_stmts(self.proc.body):
                if isinstance(x, (N.Assign, N.Reduce)):
                    self._named.add(x.name)
                for e in stmt_exprs(x):
                    self._named.update(y.name for y in walk_expr(e)
                                       if isinstance(y, (N.Read, N.WindowExpr, N.StrideExpr)))
        return self._named

    def register_buffers(self) -> set:
        """Buffers (and windows of them) in register memories (Memory.is_registers)."""
        if self._regs is None:
            mems = {a.name: a.mem for a in self.proc.args if a.mem is not None}
            for x in walk_stmts(self.proc.body):
                if isinstance(x, N.Alloc):
                    mems[x.name] = x.mem
                elif isinstance(x, N.WindowStmt):
                    mems[x.name] = mems.get(x.rhs.name)
            self._regs = {n for n, m in mems.items() if m is not None and m.is_registers()}
        return self._regs

    def zeroed_registers(self) -> set:
        """Register buffers whose declaration zeroes them (backend/c/registers.py)."""
        if self._zeroed is None:
            self._zeroed = zeroed_registers(self.proc)
        return self._zeroed

    # ------------------------------------------------------------ buffers

    def alloc(self, s: N.Alloc) -> None:
        if s.type.is_tensor():  # the shape is the one at the allocation (#alloc-shape)
            dims = tuple(self._pin_expr(d, s) for d in s.type.dims)
            s = s.with_(type=T.TensorT(dims, s.type.is_window, s.type.elem))
        name = self.names.declare(s.name)
        elem = s.type.basetype()
        shape = [self.index(d) for d in s.type.shape()]
        # on the stack where the allocation may run many times per call: in a loop, or
        # in a subprocedure (its caller may call it in a loop); at the top level of an
        # exported procedure malloc runs once per call, and the C is Exo's
        if small_dram(s.mem, elem, shape) and (self._loops or not self.public):
            s = s.with_(mem=DRAM_STACK)
        self.unit.add_memory(s.mem)
        hook = s.mem.alloc_zeroed if s.name in self.zeroed_registers() else s.mem.alloc
        try:
            self.line(hook(name, elem.ctype, shape, s.srcinfo))
        except (MemGenError, NotImplementedError) as err:
            raise hook_error(s.srcinfo, f"{s.mem.name()}.alloc", err) from None
        if s.type.is_tensor():
            self.views[s.name] = root_view(s.name, name, s.type, s.mem, name,
                                           self._dense(s.type))
        else:
            self.scalars[s.name] = ("val", s.mem)
        self._blocks[-1].append((s, name, elem.ctype, shape))

    def close_allocs(self, allocs) -> None:
        """After the last use of these buffers: mark unread ones as used (dead code is
        legal object code, but -Wunused would reject the C), then free them in
        reverse allocation order."""
        frees = []
        for s, name, ctype, shape in reversed(allocs):
            try:
                frees.append(s.mem.free(name, ctype, shape, s.srcinfo))
            except (MemGenError, NotImplementedError) as err:
                raise hook_error(s.srcinfo, f"{s.mem.name()}.free", err) from None
        for s, name, _, _ in allocs:
            # a buffer its free hook names (`free(z);`) is used there, as in Exo's C
            if s.name not in self.read and not any(re.search(rf"\b{re.escape(name)}\b", f)
                                                   for f in frees):
                self.line(f"(void) {name};")
        for f in frees:
            self.line(f)

    def window_stmt(self, s: N.WindowStmt, name, rhs: N.WindowExpr) -> None:
        """`w = x[...]` binds a view, not a C variable. Index expressions that read a
        config are evaluated here, as the object code says, into constants
        (#window-once)."""
        rhs = rhs.with_(idx=tuple(self._pin(w, s) for w in rhs.idx))
        view = self.view_of(rhs)
        if getattr(view.mem, "has_default_window", lambda: False)():
            self.window_struct(s, name, rhs, view)
            return
        self.names.declare(name)  # reserve the name, so the comment reads true
        self.line(f"// {name.name} = {expr_str(rhs)}")
        self.views[name] = view

    def window_struct(self, s: N.WindowStmt, name, rhs: N.WindowExpr, view) -> None:
        """A window of memory whose `window` hook is the default (DRAM and its kin) is
        a C variable, as Exo writes it: `struct exo_win_1f32c y = (struct
        exo_win_1f32c){ &x[0], { m } };`, and `y[i]` reads `y.data[i * y.strides[0]]`.
        The data are const unless the procedure writes the root argument (Exo's rule)."""
        const = view.root in {a.name for a in self.proc.args} and \
            view.root not in self._written
        value = self.window_value(rhs, const, s)
        ndims = len(view.free_dims())
        tag = self.unit.structs.name(view.basetyp.basetype(), ndims, const)
        cname = self.names.declare(name)
        self.line(f"struct {tag} {cname} = {value};")
        if name not in self.named():  # an unused window: -Wunused would reject the C
            self.line(f"(void) {cname};")
        strides = [f"{cname}.strides[{d}]" for d in range(ndims)]
        # reads through the window count as reads of its root (free and (void) marks)
        self.views[name] = root_view(view.root, cname, rhs.type, view.mem,
                                     f"{cname}.data", strides)

    def _pin(self, w, s):
        if isinstance(w, N.Interval):
            # the end only bounds the window; the C never reads it, so it is not pinned
            return N.Interval(self._pin_expr(w.lo, s), w.hi, w.srcinfo)
        return N.Point(self._pin_expr(w.pt, s), w.srcinfo)

    def _pin_expr(self, e, s):
        if not any(isinstance(x, N.ReadConfig) for x in walk_expr(e)):
            return e
        sym = Sym("win_offset" if isinstance(s, N.WindowStmt) else "bound")
        self.line(f"const int_fast32_t {self.names.declare(sym)} = {self.index(e)};")
        return N.Read(sym, (), T.INDEX, s.srcinfo)


def last_uses(body) -> dict[int, set]:
    """Statement index -> the buffers allocated in `body` whose last use in `body` (the
    allocation counts as one; so does a use through a window of them made in `body`)
    is that statement."""
    roots: dict[Sym, Sym] = {}  # a name of body -> the buffer of body it stands for
    last: dict[Sym, int] = {}
    for k, s in enumerate(body):
        if isinstance(s, N.Alloc):
            roots[s.name] = s.name
        elif isinstance(s, N.WindowStmt) and s.rhs.name in roots:
            roots[s.name] = roots[s.rhs.name]
        for name in _names_used(s):
            if name in roots:
                last[roots[name]] = k
    out: dict[int, set] = {}
    for buf, k in last.items():
        out.setdefault(k, set()).add(buf)
    return out


def _names_used(s):
    """The buffer and window names statement s (with nested statements) mentions."""
    for x in walk_stmts([s]):
        if isinstance(x, (N.Assign, N.Reduce, N.Alloc, N.WindowStmt)):
            yield x.name
        for e in stmt_exprs(x):
            for y in walk_expr(e):
                if isinstance(y, (N.Read, N.WindowExpr, N.StrideExpr)):
                    yield y.name


def _conjuncts(p) -> list:
    if isinstance(p, N.BinOp) and p.op == "and":
        return _conjuncts(p.lhs) + _conjuncts(p.rhs)
    return [p]


def known_strides(preds) -> dict:
    """(window, dim) -> C stride, for preconditions `stride(w, d) == c`."""
    known = {}
    todo = list(preds)
    while todo:
        p = todo.pop()
        if isinstance(p, N.BinOp) and p.op == "and":
            todo += [p.lhs, p.rhs]
        elif isinstance(p, N.BinOp) and p.op == "==":
            for a, b in ((p.lhs, p.rhs), (p.rhs, p.lhs)):
                if isinstance(a, N.StrideExpr) and isinstance(b, N.Const):
                    known[(a.name, a.dim)] = str(b.val)
    return known


def _strip_comments(code: str) -> str:
    return re.sub(r"//[^\n]*|/\*.*?\*/", " ", code, flags=re.DOTALL)


