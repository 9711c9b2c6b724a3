"""C names for knit symbols: valid, distinct from every visible name, never a keyword.

Object code may name variables `int`, `free` or `i` twice (after a rewrite, two
different loop variables can both be called `i`); C needs each visible name to mean
one thing, so a clash is resolved by a numeric suffix (`i_1`).
"""

from __future__ import annotations

import re

from knit.ir.sym import Sym

C_KEYWORDS = frozenset("""
    auto break case char const continue default do double else enum extern float for goto
    if inline int long register restrict return short signed sizeof static struct switch
    typedef union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex
    _Generic _Imaginary _Noreturn _Static_assert _Thread_local _Float16 asm typeof
""".split())

# identifiers the generated code or its headers may use as functions, types or macros
C_LIBRARY_NAMES = frozenset("""
    bool true false NULL int8_t uint8_t int16_t uint16_t int32_t uint32_t int64_t uint64_t
    int_fast32_t size_t intptr_t uintptr_t malloc calloc realloc free aligned_alloc
    posix_memalign memset memcpy printf fprintf abort exit assert main
    sqrt sqrtf sin sinf cos cosf tan tanf exp expf log logf pow powf fabs fabsf fmax fmaxf
    fmin fminf floor floorf ceil ceilf round roundf tanh tanhf INFINITY NAN
    knit_floor_div knit_floor_mod knit_entry knit_fmaxf knit_fmax signbit knit_f32_odd KNIT_F16
""".split())

RESERVED = C_KEYWORDS | C_LIBRARY_NAMES

# the functions Exo's text of an extern call defines (libs/externs.py exo_globl): no
# variable may hide them; a function or config of the file named so keeps knit's text
EXO_HELPERS = frozenset({"sigmoid"} | {
    f"_{fn}_{t}" for fn in ("relu", "select")
    for t in ("float", "double", "int8_t", "uint8_t", "uint16_t", "int32_t")})


def c_identifier(name: str) -> str:
    """`name` with every character C does not allow in identifiers replaced by `_`."""
    s = re.sub(r"\W", "_", name, flags=re.ASCII)
    return s if s and not s[0].isdigit() else f"_{s}"


def is_usable(name: str) -> bool:
    """Whether `name` can be used unchanged as a file-level C identifier."""
    return name == c_identifier(name) and name not in RESERVED


class CNames:
    """Scoped naming: a Sym gets a C name not visible in any enclosing scope, so names
    can be reused by sibling blocks (two loops over `i`) but never shadow one in use."""

    def __init__(self, reserved: frozenset[str] | set[str] = RESERVED):
        self._of: dict[Sym, str] = {}
        self._scopes: list[set[str]] = [set()]
        self._reserved = reserved

    def push(self) -> None:
        self._scopes.append(set())

    def pop(self) -> None:
        self._scopes.pop()

    def _visible(self, name: str) -> bool:
        return name in self._reserved or any(name in s for s in self._scopes)

    def declare(self, sym: Sym) -> str:
        """Give `sym` a fresh C name in the innermost scope and return it."""
        base = c_identifier(sym.name)
        name, k = base, 0
        while self._visible(name):
            k += 1
            name = f"{base}_{k}"
        self._scopes[-1].add(name)
        self._of[sym] = name
        return name

    def __getitem__(self, sym: Sym) -> str:
        return self._of[sym]

    def __contains__(self, sym: Sym) -> bool:
        return sym in self._of
