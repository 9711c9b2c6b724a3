"""The generator's data expressions (a mixin of gen.Gen): mixed f16/f32/f64/i32
arithmetic and reductions (`i32 += f32`), untyped literals that do not round the same
in every type (`0.1`, `16777216.0`, `3.0 / 2.0`), every extern of knit.libs.externs,
and loops shaped like the bodies of the prelude's small instruction library (so that
`replace` finds them, triangular nests and broadcasts included).

Data values are whatever the inputs hold, NaN, infinities and integer extremes included
(backends.py): a program means the same on them in the interpreter and in C.
"""

from __future__ import annotations

from .forms import Env, lin

FLOATS = ("f16", "f32", "f64")
EXTERNS = {"relu": 1, "fmaxf": 2, "select": 4, "sqrt": 1, "sin": 1, "expf": 1,
           "sigmoid": 1}
LITERALS = ["0.5", "2.0", "1.0", "3.0", "-1.0", "0.1", "16777216.0", "1e-09", "3.0 / 2.0",
            "0.0"]


class DataGen:
    """Mixin: needs self.rng, self.access, self.index, self.mixed (a program-wide draw)."""

    def elem_choice(self) -> str:
        r = self.rng
        if self.mixed:
            return r.choice(["f32", "f32", "i32", "f64", "f16"])
        return r.choice(["f32", "f32", "i32"])

    def mixed_rhs(self, env: Env, elem: str, depth: int = 0) -> str:
        """A data expression of any types, read from any buffer: (text)."""
        r = self.rng
        x = r.random()
        bufs = env.bufs
        if bufs and (x < 0.45 or depth >= 2):
            acc = self.access(env, r.choice(bufs))
            if acc is not None:
                return acc
        if env.cfg and x < 0.5:
            return r.choice(["FuzzCfg.x", "FuzzCfg.y"])
        if x < 0.6 or depth >= 2:
            return r.choice(LITERALS if r.random() < 0.7 else ["1", "2", "-3"])
        if x < 0.72:
            f = r.choice(sorted(EXTERNS))
            args = ", ".join(self.mixed_rhs(env, elem, depth + 1) for _ in range(EXTERNS[f]))
            return f"{f}({args})"
        if x < 0.76:
            return f"-{self.mixed_rhs(env, elem, 2)}"
        op = r.choice(["+", "-", "*", "*", "/"])
        a, b = self.mixed_rhs(env, elem, depth + 1), self.mixed_rhs(env, elem, depth + 1)
        if op == "/" and not (self.is_float(env, b) and
                              (not _is_literal(b) or self.is_float(env, a))):
            # integer division by a zero input would trap; a float literal beside
            # integer data takes the integer type (semantics.md#literal-type), so
            # `x_i32 / 0.5` divides by 0 (fuzzer case 200152)
            op = "*"
        if not any(ch.isalpha() for ch in a + b) and "." not in a + b:
            return a  # `3 * 2` would be an index value, not data
        if " " in b or b.startswith("-"):
            b = f"({b})"
        if " " in a and op in "*/":
            a = f"({a})"
        return f"{a} {op} {b}"

    def is_float(self, env: Env, text: str) -> bool:
        """Whether an operand is float data for certain: a float literal, a float
        buffer's element, a float config field or an extern of such."""
        if text.replace(".", "", 1).replace("e-", "", 1).lstrip("-").isdigit():
            return "." in text or "e" in text
        if text.startswith("FuzzCfg."):
            return text == "FuzzCfg.x"
        name = text.split("[", 1)[0]
        elem = {b.name: b.elem for b in env.bufs}.get(name)
        return elem in FLOATS and "(" not in name

    # ------------------------------------------------------------ instruction shapes

    def s_instr_loop(self, env: Env, depth: int, ind: str):
        """A loop shaped like an instr of the prelude's library (add1_f, copy_f,
        addv_f, bcast_f over a row of an f32 buffer; tri_f over a square of one)."""
        r = self.rng
        if depth >= self.max_depth:
            return None
        f32 = [b for b in env.bufs if b.elem == "f32" and b.dims and b.kind != "window"]
        if not f32:
            return None
        kind = r.choice(["add1", "copy", "addv", "bcast", "tri", "tri"])
        if kind == "tri":
            return self.tri_loop(env, depth, ind, f32)
        width = r.choice([2, 3, 4])
        v = self.loop_name()
        dst = self.row(env, r.choice(f32), width, v)
        if dst is None:
            return None
        if kind == "add1":
            body = f"{dst} += 1.0"
        else:
            src_buf = r.choice(f32)
            src = self.row(env, src_buf, 1 if kind == "bcast" else width,
                           None if kind == "bcast" else v)
            if src is None:
                return None
            body = f"{dst} {'+=' if kind == 'addv' else '='} {src}"
        return [f"{ind}for {v} in seq(0, {width}):", f"{ind}    {body}"]

    def row(self, env: Env, buf, width: int, v: str | None) -> str | None:
        """`buf[e.., lo + v]` over a row of `width` elements (v None: `buf[e.., lo]`)."""
        parts = []
        for d in buf.dims[:-1]:
            e = self.index(env, d)
            if e is None:
                return None
            parts.append(e.code())
        lo = self.index(env, buf.dims[-1], width)
        if lo is None:
            return None
        parts.append((lo + lin(v)).code() if v else lo.code())
        return f"{buf.name}[{', '.join(parts)}]"

    def tri_loop(self, env: Env, depth: int, ind: str, f32):
        """`for a in seq(0, w): for b in seq(0, a): X[r + a, c + b] += 1.0`: tri_f's body
        (or, with a constant inner bound, a square that tri_f must not match)."""
        r = self.rng
        square = [b for b in f32 if len(b.dims) == 2]
        if not square or depth + 1 >= self.max_depth:
            return None
        buf = r.choice(square)
        width = r.choice([2, 3, 4])
        rlo, clo = self.index(env, buf.dims[0], width), self.index(env, buf.dims[1], width)
        if rlo is None or clo is None:
            return None
        a, b = self.loop_name(), self.loop_name()
        inner = a if r.random() < 0.8 else str(width)
        acc = f"{buf.name}[{(rlo + lin(a)).code()}, {(clo + lin(b)).code()}]"
        return [f"{ind}for {a} in seq(0, {width}):", f"{ind}    for {b} in seq(0, {inner}):",
                f"{ind}        {acc} += 1.0"]


def _is_literal(text: str) -> bool:
    """Whether an operand is a numeric literal (its type is the other operand's)."""
    return text.replace(".", "", 1).replace("e-", "", 1).lstrip("-").isdigit()
