"""Python code blocks of the Markdown docs, and how each is to be run.

A block is a fenced ```python block. The blocks of one file run in order in one
namespace, as a reader pastes them into one session. The line just before a fence
may say otherwise, in an HTML comment (invisible on the rendered page):

    <!-- docs: skip (why) -->                 a deliberately partial block: not run
    <!-- docs: raises SchedulingError: text --> the block must raise that error
                                                (a knit.errors class, or a builtin),
                                                its message containing `text`
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
_MARK = re.compile(r"^\s*<!--\s*docs:\s*(skip|raises)\b\s*(.*?)\s*-->\s*$")


@dataclass
class Block:
    path: Path
    line: int          # 1-based line of the first code line
    code: str
    mode: str          # "run", "skip" or "raises"
    error: str = ""    # for "raises": the class name
    phrase: str = ""   # for "raises": a phrase of the message

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """Every ```python block of the Markdown file `path`, with its marker."""
    lines = path.read_text().splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m or not m.group(2):
            if m:  # a fence of another language: skip to its end
                i = _end(lines, i + 1, m.group(1)) + 1
                continue
            i += 1
            continue
        indent, lang = m.group(1), m.group(2)
        end = _end(lines, i + 1, indent)
        if lang == "python":
            code = "\n".join(ln[len(indent):] for ln in lines[i + 1:end])
            out.append(_marked(path, i + 2, code, lines[i - 1] if i else ""))
        i = end + 1
    return out


def _end(lines: list[str], i: int, indent: str) -> int:
    while i < len(lines) and lines[i].rstrip() != f"{indent}```":
        i += 1
    return i


def _marked(path: Path, line: int, code: str, before: str) -> Block:
    m = _MARK.match(before)
    if not m:
        return Block(path, line, code, "run")
    if m.group(1) == "skip":
        return Block(path, line, code, "skip")
    err, _, phrase = m.group(2).partition(":")
    return Block(path, line, code, "raises", err.strip(), phrase.strip())
