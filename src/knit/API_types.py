"""`ExoType`: the names Exo 1.0 gives to types, for comparing what cursors report.

A cursor's `type()` in knit returns knit's own type objects (`knit.ir.types`); each
compares equal to the ExoType member of the same name, so Exo code such as
`proc.find("x : _").type() == ExoType.F32` works unchanged. A tensor or window compares
as its element type, as Exo's cursors report a buffer's element type.
"""

from __future__ import annotations

from enum import Enum, auto

from knit.ir.types import ScalarT, TensorT

__all__ = ["ExoType", "ProcedureBase", "exotype_of"]


class ProcedureBase:
    """Exo's marker base of Procedure (kept so `isinstance` checks written for it run)."""


class ExoType(Enum):
    F16 = auto()
    F32 = auto()
    F64 = auto()
    UI8 = auto()
    I8 = auto()
    UI16 = auto()
    I32 = auto()
    R = auto()
    Index = auto()
    Bool = auto()
    Size = auto()
    Int = auto()
    Stride = auto()

    def is_indexable(self) -> bool:
        return self in (ExoType.Index, ExoType.Size, ExoType.Int, ExoType.Stride)

    def is_numeric(self) -> bool:
        return self in _NUMERIC

    def is_bool(self) -> bool:
        return self is ExoType.Bool

    def __eq__(self, other) -> bool:
        if isinstance(other, ExoType):
            return self is other
        mine = exotype_of(other)
        return NotImplemented if mine is None else mine is self

    def __hash__(self) -> int:
        return hash(self.name)


_NUMERIC = frozenset({ExoType.F16, ExoType.F32, ExoType.F64, ExoType.I8, ExoType.UI8,
                      ExoType.UI16, ExoType.I32, ExoType.R})

# knit type name -> ExoType
_BY_KNIT_NAME = {"R": ExoType.R, "f16": ExoType.F16, "f32": ExoType.F32,
                 "f64": ExoType.F64, "i8": ExoType.I8, "ui8": ExoType.UI8,
                 "ui16": ExoType.UI16, "i32": ExoType.I32, "bool": ExoType.Bool,
                 "int": ExoType.Int, "index": ExoType.Index, "size": ExoType.Size,
                 "stride": ExoType.Stride}


def knit_name_of(exotype) -> str | None:
    """The knit name of an ExoType (ExoType.F32 -> 'f32'), or None for anything else."""
    return next((name for name, t in _BY_KNIT_NAME.items() if exotype is t), None)


def exotype_of(typ) -> ExoType | None:
    """The ExoType of a knit type (a tensor's element type for tensors and windows), or
    None for anything that is not a knit type."""
    if isinstance(typ, TensorT):
        typ = typ.elem
    if isinstance(typ, ScalarT):
        return _BY_KNIT_NAME.get(typ.name)
    return None
