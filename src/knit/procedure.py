"""Procedure: the user-facing handle on a checked IR procedure, and the decorators."""

from __future__ import annotations

import os
import sys
import threading

from knit.cursors.cursor import ArgCursor, BlockCursor
from knit.cursors.find import find as find_pattern, find_alloc_or_arg
from knit.cursors.forward import forward as forward_cursor, separate_copies
from knit.cursors.pattern import loop_nest_pattern
from knit.errors import UserError
from knit.frontend import parse
from knit.ir import handles, nodes as N
from knit.ir.handles import procedure_of  # noqa: F401 (re-exported: its old home)
from knit.ir.printer import proc_str
from knit.ir.srcinfo import mark_generated
from knit.trace import trace_of

# Imported where used, not above: knit.rewrite (it imports this module back; issue 14
# item 1 removes that), knit.backend and knit.runtime (they load numpy, which `import
# knit` does not; see knit/__init__.py).


class Procedure:
    """A knit procedure. Immutable: scheduling returns new Procedures."""

    def __init__(self, ir: N.Proc, scope: dict | None = None, *, check: bool = True,
                 written: bool = False):
        self._loopir_proc = ir
        handles.register(ir, self)
        self._scope = scope or {}
        self._checked = False
        self._compiled = None
        self._parent: Procedure | None = None  # the procedure this one was scheduled from
        self._eqv = _EqvClass()  # procedures proven equal by rewrites share a class
        self._sid_paths = None  # cache for cursor forwarding
        if check:  # written: a user's @proc (frontend/checks.check_proc)
            self._check(defer=True, written=written)

    @classmethod
    def _pending(cls, f, scope: dict, info: N.InstrInfo) -> Procedure:
        """An instr whose object code is parsed when first used (`lazy_instrs`): its
        name, and that it is an instr, are known without parsing."""
        self = cls.__new__(cls)
        self._scope, self._checked, self._compiled = scope, False, None
        self._parent, self._eqv, self._sid_paths = None, _EqvClass(), None
        self._source = (f, info)
        return self

    def __getattr__(self, name: str):
        # only reached when `name` is not set: a pending instr's IR, parsed now
        if name == "_loopir_proc" and "_source" in self.__dict__:
            return self._parse_pending()
        raise AttributeError(f"'Procedure' object has no attribute '{name}'")

    def _parse_pending(self) -> N.Proc:
        """Parse a pending instr; a KnitError (file:line:col of its source) is raised
        here, and again at every later use, as a proc's error at its definition."""
        f, info = self._source
        ir = parse.parse_source(parse.source_of_function(f, self._scope), info)
        self._loopir_proc = ir
        handles.register(ir, self)
        del self._source
        return ir

    def _check(self, *, defer: bool = False, written: bool = False) -> None:
        """The definition-time checks (once), then, unless `defer` (the definition), the
        errors Exo reports only when it compiles (a racing par loop: see
        frontend/checks.raise_deferred), of this procedure or a callee."""
        # here: the checks load the solver layer, which `import knit` does not
        from knit.frontend.checks import check_proc, raise_deferred

        if not self._checked:
            check_proc(self._loopir_proc, defer=True, written=written)
            self._checked = True
        if not defer:
            raise_deferred(self._loopir_proc)

    # ------------------------------------------------------------ inspection

    def name(self) -> str:
        pending = self.__dict__.get("_source")
        if pending is not None:  # the def's name, as the parser takes it
            return pending[0].__name__
        return self._loopir_proc.name

    def is_instr(self) -> bool:
        return "_source" in self.__dict__ or self._loopir_proc.instr is not None

    def get_instr(self) -> str | None:
        pending = self.__dict__.get("_source")
        instr = pending[1] if pending is not None else self._loopir_proc.instr
        return instr.c_instr if instr else None

    def __str__(self) -> str:
        return proc_str(self._loopir_proc)

    def __repr__(self) -> str:
        return f"<knit.Procedure {self.name()}>"

    def __eq__(self, other) -> bool:
        """Equal code, as Exo compares: the same name, parameters, assertions and body,
        variable for variable (variables are compared as objects, so two procedures
        written alike but defined separately differ; one rebuilt from another's IR, or
        scheduled from it by rewrites that changed nothing, is equal)."""
        if not isinstance(other, Procedure):
            return False
        a, b = self._loopir_proc, other._loopir_proc
        return a is b or (a.name == b.name and a.args == b.args and a.preds == b.preds
                          and a.body == b.body and a.instr == b.instr)

    def __hash__(self) -> int:
        return hash(self.name())  # equal procedures have equal names

    def INTERNAL_proc(self) -> N.Proc:
        """The IR procedure (Exo's name for it; `Procedure(p.INTERNAL_proc())` wraps the
        same code again)."""
        return self._loopir_proc

    def _repr_html_(self) -> str:
        """Jupyter shows a procedure as its object code, highlighted as Python when
        pygments is installed (it is optional), else as escaped preformatted text."""
        text = str(self)
        try:
            from pygments import highlight
            from pygments.formatters import HtmlFormatter
            from pygments.lexers import PythonLexer
        except ImportError:
            import html

            return f"<pre>{html.escape(text)}</pre>"
        return highlight(text, PythonLexer(), HtmlFormatter(noclasses=True))

    def _derive(self, ir: N.Proc, *, unsafe: bool = False,
                prim: str = "the rewrite") -> Procedure:
        """A procedure produced from this one by a rewrite; `unsafe` when unchecked;
        `prim`, the primitive a refusal of the post-checks names."""
        if not ir.body:  # a body is never empty: object code would say `pass`
            ir = ir.with_(body=(N.Pass(ir.srcinfo),))
        ir = mark_generated(self._loopir_proc, ir)  # what a primitive made says so
        ir = separate_copies(ir)  # each copy a rewrite made is a statement of its own
        from knit.frontend.checks import defer_like, deferred_error

        # a procedure defined with a deferred error (a racing par loop) is scheduled as
        # in Exo, and what is made from it keeps the error (defer_like)
        if not unsafe and deferred_error(self._loopir_proc) is None:
            from knit.rewrite.common import check_par_loops

            check_par_loops(ir, prim)
        # checked again (memories included) when it is compiled or run
        new = Procedure(ir, self._scope, check=False)
        defer_like(ir, self._loopir_proc)
        new._parent = self
        if not unsafe:
            new._eqv = self._eqv
        return new

    def is_eq(self, other: Procedure) -> bool:
        """Whether other was derived from this procedure (or both from a common one) by
        checked rewrites only, so the two are proven equivalent. See also check_equiv."""
        _expect_procedure("is_eq", other)
        return self._eqv.find() is other._eqv.find()

    def trace(self):
        """The scheduling primitive calls that produced this procedure from its root, as
        a knit.trace.Trace (replay, show, script)."""
        return trace_of(self)

    def unsafe_assert_eq(self, other: Procedure) -> None:
        """Declare, without proof, that two procedures are equivalent."""
        _expect_procedure("unsafe_assert_eq", other)
        a, b = self._eqv.find(), other._eqv.find()
        if a is not b:
            a.parent = b

    # ------------------------------------------------------------ cursors

    def args(self) -> list:
        return [ArgCursor(self, i) for i in range(len(self._loopir_proc.args))]

    def body(self):
        return BlockCursor(self, (), "body", 0, len(self._loopir_proc.body))

    def find(self, pattern: str, many: bool = False):
        """The first statement/block/expression matching `pattern` (all of them if many)."""
        return find_pattern(self, pattern, many)

    def find_loop(self, pattern: str, many: bool = False):
        """Like find, but a bare name `"i"` means `for i in _: _` and `"i j"` a loop nest."""

        return find_pattern(self, loop_nest_pattern(pattern), many)

    def find_all(self, pattern: str) -> list:
        return self.find(pattern, many=True)

    def find_alloc_or_arg(self, name: str):
        return find_alloc_or_arg(self, name)

    def forward(self, cursor):
        """Follow a cursor of an ancestor procedure to this procedure."""
        return forward_cursor(self, cursor)

    # ------------------------------------------------------------ whole-procedure edits

    def partial_eval(self, *args, **kwargs) -> Procedure:
        """Fix size/index/bool arguments to constants (positionally or by name)."""
        from knit.rewrite.procs import partial_eval

        return partial_eval(self, args, kwargs)

    def transpose(self, arg) -> Procedure:
        """Swap the dimensions of a 2-D tensor argument (a cursor or its name)."""
        from knit.rewrite.procs import transpose

        cur = arg if not isinstance(arg, str) else self.find_alloc_or_arg(arg)
        return transpose(self, cur)

    def add_assertion(self, expr: str) -> Procedure:
        """Add a precondition, e.g. p.add_assertion("N % 8 == 0")."""
        from knit.rewrite.procs import add_assertion

        return add_assertion(self, expr)

    # ------------------------------------------------------------ backends

    def c_code_str(self) -> str:
        from knit.backend.c import compile_procs_to_strings

        c, h = compile_procs_to_strings([self], "c_code_str.h")
        return h + "\n" + c

    def compile_c(self, directory, filename: str) -> None:
        from knit.backend.c import compile_procs

        compile_procs([self], directory, f"{filename}.c", f"{filename}.h")

    def interpret(self, *args, **kwargs):
        """Run on NumPy arrays with the reference interpreter (instrs by their semantics)."""
        self._check()
        from knit.runtime.interp import interpret

        return interpret(self._loopir_proc, args, kwargs)

    def compile(self, *, cc: str | None = None, flags: list[str] | None = None,
                extra_flags: list[str] | None = None):
        """A Python callable backed by this procedure's generated C.

        `cc`: the C compiler (default `$CC`, then `cc`). `flags` *replaces* the default
        optimisation flags `-O3 -march=native` (drop `-march=native` and code calling
        AVX2 instructions no longer compiles); `extra_flags` *adds* flags and keeps
        them, e.g. `compile(extra_flags=["-funroll-loops"])`. A procedure with a `par`
        loop is built with `-fopenmp` automatically; its threads are OpenMP's: set
        `OMP_NUM_THREADS` (before the first `par` procedure is loaded) to choose how many. See
        knit.runtime.jit.compile_proc and docs/performance.md."""
        if self.is_instr():
            raise UserError(f"{self.name()} is an instruction: it compiles to C only inside "
                            "a proc that calls it; use interpret() to run its semantics")
        self._check()
        from knit.runtime.jit import compile_proc

        if cc is None and flags is None and extra_flags is None:
            if self._compiled is None:
                self._compiled = compile_proc(self._loopir_proc)
            return self._compiled
        return compile_proc(self._loopir_proc, cc=cc, flags=flags, extra_flags=extra_flags)


# the lower layers read a Procedure through knit.ir.handles, never its attributes
handles.register_class(Procedure, ir=lambda p: p._loopir_proc, scope=lambda p: p._scope,
                       check=Procedure._check)


_expect_procedure = handles.expect_procedure


class _EqvClass:
    """Union-find node: procedures whose classes share a root are proven equivalent."""

    __slots__ = ("parent",)

    def __init__(self):
        self.parent = None

    def find(self) -> _EqvClass:
        node = self
        while node.parent is not None:
            node = node.parent
        return node


def _caller_locals(depth: int) -> dict:
    frame = sys._getframe(depth + 1)
    return frame.f_locals if frame.f_code.co_name != "<module>" else {}


def proc(f) -> Procedure:
    """Decorator: parse and check a Python function as a knit procedure."""
    scope = parse.scope_of_function(f, _caller_locals(1))
    ir = parse.parse_source(parse.source_of_function(f, scope))
    return Procedure(ir, scope, written=True)


def instr(c_instr: str, c_global: str = ""):
    """Decorator: a procedure whose body is the meaning of the C template `c_instr`.

    The template names arguments in braces: `{x}` is the argument's C value,
    `{x_data}` the C lvalue of a window's first element.
    """

    def make(f) -> Procedure:
        # the names the body may use: those bound where it is defined, now
        scope = parse.scope_of_function(f, _caller_locals(1))
        info = N.InstrInfo(c_instr, c_global)
        if getattr(_lazy, "on", False) and not os.environ.get("KNIT_EAGER_INSTRS"):
            return Procedure._pending(f, scope, info)
        ir = parse.parse_source(parse.source_of_function(f, scope), info)
        # checked when first used, so importing an instruction library stays fast
        return Procedure(ir, scope, check=False)

    return make


_lazy = threading.local()  # .on: inside `lazy_instrs()`


class lazy_instrs:
    """`with lazy_instrs(): import <an instr library>` -- the @instrs defined meanwhile are
    parsed when first used (a pattern, a call, printing, compiling), not at import:
    a platform library of ~70 instrs costs ~40 ms to parse, and a schedule uses a few.
    Their names are resolved in the scope they were defined in, as of the definition;
    an error in one is raised at its first use, with its file:line:col. For knit's own
    libraries, whose every instr the tests parse and check; KNIT_EAGER_INSTRS=1 (or
    `parse_all`) parses them at once."""

    def __enter__(self) -> None:
        self.outer = getattr(_lazy, "on", False)
        _lazy.on = True

    def __exit__(self, *exc) -> None:
        _lazy.on = self.outer


def parse_all(procs) -> None:
    """Parse every pending instr among `procs` now (raising the first one's error)."""
    for p in procs:
        if isinstance(p, Procedure) and "_source" in p.__dict__:
            p._parse_pending()


def parse_proc_string(text: str, scope: dict, filename: str = "<string>") -> Procedure:
    """Parse object code from a string, resolving names in `scope` (e.g. str(p) again)."""
    lines = text.splitlines()
    instr = None
    if lines and lines[0].startswith("@instr("):
        import ast

        call = ast.parse(lines[0][1:]).body[0].value
        vals = [ast.literal_eval(a) for a in call.args]
        kw = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        instr = N.InstrInfo(vals[0], kw.get("c_global", vals[1] if len(vals) > 1 else ""))
    src = parse.Source(text, filename, 1, 0, scope)
    return Procedure(parse.parse_source(src, instr), scope)
