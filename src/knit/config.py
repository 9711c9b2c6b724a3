"""Configs: named accelerator or library state, read and written by object code.

    @config
    class ConfigLoad:
        src_stride: stride

In C a config is a file-level struct variable; in the interpreter, a dict.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

from knit.errors import KnitSyntaxError
from knit.ir import types as T
from knit.ir.srcinfo import SrcInfo


class Config:
    """A config: an ordered set of typed fields. Create it with `@config`."""

    def __init__(self, name: str, fields: dict[str, T.ScalarT], disable_rw: bool = False):
        self._name = name
        self._fields = dict(fields)
        self.disable_rw = disable_rw

    def name(self) -> str:
        return self._name

    def fields(self) -> dict[str, T.ScalarT]:
        return dict(self._fields)

    def has_field(self, f: str) -> bool:
        return f in self._fields

    def lookup_type(self, f: str) -> T.ScalarT:
        return self._fields[f]

    def c_struct(self) -> str:
        members = " ".join(f"{_ctype(t)} {f};" for f, t in self._fields.items())
        return f"static struct {{ {members} }} {self._name};"

    def __repr__(self) -> str:
        return f"<config {self._name}>"

    __hash__ = object.__hash__


def _ctype(t: T.ScalarT) -> str:
    return "int_fast32_t" if t.kind in ("index", "size", "stride", "int") else t.ctype


def config(_cls=None, *, disable_rw: bool = False):
    """Decorator: turn a class of annotated fields into a `Config`."""

    def make(cls) -> Config:
        src = textwrap.dedent(inspect.getsource(cls))
        filename = inspect.getsourcefile(cls) or "<config>"
        line0 = inspect.getsourcelines(cls)[1]
        cdef = next(n for n in ast.parse(src).body if isinstance(n, ast.ClassDef))
        fields = {}
        for stmt in cdef.body:
            where = SrcInfo(filename, line0 + stmt.lineno - 1, stmt.col_offset)
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue  # docstring
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                    and isinstance(stmt.annotation, ast.Name)):
                raise KnitSyntaxError(where, "a config holds only fields like `name: f32`")
            tname = stmt.annotation.id
            typ = T.DATA_TYPES.get(tname) or T.CONTROL_TYPES.get(tname)
            if typ is None or typ is T.R:
                raise KnitSyntaxError(where, f"unknown config field type '{tname}'",
                                      "use one of f16 f32 f64 i8 ui8 ui16 i32 bool index "
                                      "size stride")
            fields[stmt.target.id] = typ
        return Config(cdef.name, fields, disable_rw)

    return make(_cls) if _cls is not None else make
