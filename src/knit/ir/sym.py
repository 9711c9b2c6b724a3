"""Symbols: variables are unique objects, not strings, so renaming never captures."""

from __future__ import annotations

import itertools

_ids = itertools.count(1)


class Sym:
    __slots__ = ("id", "name")

    def __init__(self, name: str):
        self.name = name
        self.id = next(_ids)

    def copy(self) -> Sym:
        return Sym(self.name)

    def __repr__(self) -> str:
        return f"{self.name}_{self.id}"

    def __str__(self) -> str:
        return self.name

    # identity semantics: two Syms are equal only if they are the same object
    __hash__ = object.__hash__
