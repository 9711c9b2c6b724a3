"""Calls -> C: calls of compiled procedures, and instructions expanded from templates.

An instruction's C template names its arguments in braces (`str.format` syntax):
`{x}` is the argument's C value in parentheses (for a window, the window struct),
`{x_data}` the C lvalue of a window's first element (for dense tensors and scalars: a
pointer to the data, in parentheses), and `{x_int}` the C name of the buffer the
argument points into: Exo's forms.
"""

from __future__ import annotations

import textwrap

from knit.backend.c.cexpr import ExprCompiler
from knit.errors import CompileError, KnitTypeError
from knit.ir import nodes as N


class CallEmitter(ExprCompiler):
    """Expressions plus calls and windows; the statement emitter builds on it."""

    def view_of(self, e):
        """The view of a window expression, or of a whole tensor name."""
        if isinstance(e, N.WindowExpr):
            return self.views[e.name].window(e.idx)
        return self.views[e.name]

    def call(self, s: N.Call) -> None:
        f = s.f
        if f.instr is not None:
            self.instr_call(s)
            return
        written = self.unit.written(f)
        for e, p in zip(s.args, f.args):
            self.check_passable(e, p, s)
        args = [self.call_arg(e, p, written, s) for e, p in zip(s.args, f.args)]
        if self.unit.ctxt:
            args.insert(0, "ctxt")
        self.line(f"{self.unit.fn_name(f)}({', '.join(args)});")

    def check_passable(self, e, p: N.FnArg, s: N.Call) -> None:
        """A compiled procedure takes its buffers by pointer; registers have no address."""
        if p.type.is_control() or not hasattr(e, "name") or e.name not in self.views:
            return
        mem = self.views[e.name].mem
        if mem is not None and not mem.can_read():
            raise KnitTypeError(s.srcinfo, f"cannot pass '{e.name.name}' ({mem.name()}) to "
                                f"the procedure {s.f.name}: compiled procedures take memory "
                                "by pointer, and only instructions take registers",
                                f"inline the call (inline(p, '{s.f.name}(_)')) or pass a "
                                "buffer in DRAM")

    def call_arg(self, e, p: N.FnArg, written, s) -> str:
        t = p.type
        if t.is_control():
            return self.index(e)
        if t.is_tensor() and t.is_win():
            return self.window_value(e, p.name not in written, s)
        if t.is_tensor():
            return self.data_ptr(e, s)
        return self.scalar_ptr(e, s)

    def window_value(self, e, const: bool, s) -> str:
        """A window struct literal: `(struct exo_win_1f32){ &x[i], { 1 } }`."""
        view = self.view_of(e)
        ndims = len(view.free_dims())
        tag = self.unit.structs.name(view.basetyp.basetype(), ndims, const)
        data = self.mem_window(view, view.origin(), s.srcinfo, origin=True)
        strides = ", ".join(view.stride(d) for d in range(ndims))
        self.read.add(view.root)
        return f"(struct {tag}){{ &{data}, {{ {strides} }} }}"

    def data_ptr(self, e, s) -> str:
        """A pointer to the first element of a dense tensor argument."""
        view = self.view_of(e)
        self.read.add(view.root)
        if view.is_whole():
            return view.base
        return f"&{self.mem_window(view, view.origin(), s.srcinfo, origin=True)}"

    def scalar_ptr(self, e: N.Read, s) -> str:
        """A pointer to a scalar: a scalar buffer, or an element such as x[i]."""
        if e.name in self.scalars and self.scalars[e.name][0] == "ptr":
            return self.use(e.name)
        return f"&{self.element(e.name, e.idx, s.srcinfo)}"

    # ------------------------------------------------------------ instructions

    def instr_call(self, s: N.Call) -> None:
        f = s.f
        args = _TemplateArgs(self, s, self.unit.written(f))
        try:
            text = f.instr.c_instr.format_map(args)
        except KeyError as err:
            raise _template_error(s, f"names {{{err.args[0]}}}, which is not one of its "
                                  "arguments", args.names()) from None
        except (ValueError, IndexError, AttributeError) as err:
            raise _template_error(s, f"is not a valid template ({err})",
                                  args.names()) from None
        if f.instr.c_global:
            self.unit.add_global(f.instr.c_global)
        self.line(textwrap.dedent(text).strip("\n"))


class _TemplateArgs(dict):
    """The values an instr template may name, computed when first named (so unused
    forms never add struct definitions to the file)."""

    def __init__(self, em: CallEmitter, s: N.Call, written):
        super().__init__()
        self._em, self._s, self._written = em, s, written
        self._params = {p.name.name: (p, e) for p, e in zip(s.f.args, s.args)}

    def names(self) -> list[str]:
        out = []
        for name, (p, _) in self._params.items():
            out.append(name)
            if p.type.is_numeric():
                out += [f"{name}_data", f"{name}_int"]
        return out

    def __missing__(self, key: str) -> str:
        value = self._value(key)
        self[key] = value
        return value

    def _value(self, key: str) -> str:
        em, s = self._em, self._s
        # as in Exo, `{x}` and (but for a window) `{x_data}` come in parentheses, so a
        # template may apply any operator to them
        if key in self._params:
            p, e = self._params[key]
            if p.type.is_control():
                return f"({em.index(e)})"
            return f"({em.call_arg(e, p, self._written, s)})"
        base, _, form = key.rpartition("_")
        if base not in self._params or form not in ("data", "int"):
            raise KeyError(key)
        p, e = self._params[base]
        if p.type.is_control():
            raise KeyError(key)
        if form == "int":
            return em.use(e.name) if e.name in em.scalars else em.view_of(e).root_name
        if p.type.is_tensor() and p.type.is_win():
            view = em.view_of(e)
            em.read.add(view.root)
            return em.mem_window(view, view.origin(), s.srcinfo, origin=True)
        return f"({em.call_arg(e, p, self._written, s)})"


def _template_error(s: N.Call, what: str, names: list[str]) -> CompileError:
    where = f"{s.srcinfo}: " if s.srcinfo is not None else ""
    known = ", ".join("{" + n + "}" for n in names) or "none"
    return CompileError(f"{where}the C template of instr '{s.f.name}' {what}\n"
                        f"    template: {s.f.instr.c_instr!r}\n"
                        f"    it may use: {known}")
