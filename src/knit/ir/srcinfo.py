"""Source positions: every IR node carries one so errors can point at user code."""

from __future__ import annotations

import linecache
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SrcInfo:
    filename: str
    line: int
    col: int = 0  # 0-based, like Python's ast
    end_line: int | None = None
    end_col: int | None = None

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.col + 1}"

    def excerpt(self) -> str:
        """The source line with a caret under the span, or '' if the file is unreadable."""
        text = linecache.getline(self.filename, self.line).rstrip("\n")
        if not text:
            return ""
        end = self.end_col if self.end_line == self.line and self.end_col else len(text)
        width = max(1, end - self.col)
        return f"    {text}\n    {' ' * self.col}{'^' * width}"


NO_SRC = SrcInfo("<generated>", 0)
