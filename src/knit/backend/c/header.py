"""A C file: the procedures it holds, the file-level code they need, and assembly.

`generate` compiles every procedure reachable from the requested ones, callees
first, once each; requested procedures are public (declared in the header), the
others `static`. File-level code is gathered as the bodies are compiled: memory
globals, extern globals, instruction globals, config structs, helpers and window
struct definitions, each emitted once.
"""

from __future__ import annotations

import re
from pathlib import Path

from knit.analysis.written import written_args
from knit.backend.c.cexpr import HELPERS
from knit.backend.c.emit import ProcEmitter
from knit.backend.c.generic import r_as_f32
from knit.backend.c.names import EXO_HELPERS, RESERVED, c_identifier, is_usable
from knit.backend.c.windows import WindowStructs
from knit.errors import UserError
from knit.ir import nodes as N
from knit.ir.handles import ir_of
from knit.ir.visit import stmt_exprs, walk_expr, walk_stmts


def as_ir(p) -> N.Proc:
    """The IR of a Procedure (or an IR Proc itself)."""
    return p if isinstance(p, N.Proc) else ir_of(p)


def dependency_order(procs: list[N.Proc]) -> list[N.Proc]:
    """Every proc reachable through calls (not through instructions' bodies), each
    once, callees before callers."""
    order: list[N.Proc] = []
    seen: set[N.Proc] = set()

    def visit(p: N.Proc) -> None:
        if p in seen:
            return
        seen.add(p)
        if p.instr is None:  # an instruction's body is its meaning, not code to emit
            for callee in _callees(p.body):
                visit(callee)
        order.append(p)

    for p in procs:
        visit(p)
    return order


def _callees(body):
    return (s.f for s in walk_stmts(body) if isinstance(s, N.Call))


def _configs(body):
    """The configs a block reads or writes, in order of appearance."""
    for s in walk_stmts(body):
        if isinstance(s, N.WriteConfig):
            yield s.config
        for e in stmt_exprs(s):
            yield from (r.config for r in walk_expr(e) if isinstance(r, N.ReadConfig))


class Unit:
    """One C file being generated; the emitters report what they use to it.

    With `shared_configs`, a config is not a static struct of this file but a pointer
    to storage the caller provides (`knit_bind_config_<name>`): the JIT uses this so
    that every compiled procedure of a process sees the same config state."""

    def __init__(self, procs, shared_configs: bool = False, ctxt: bool = False):
        self.shared_configs = shared_configs
        # Exo's C ABI: every function takes `void *ctxt` first and passes it on to the
        # procedures it calls (knit keeps configs in static structs, so it is unused)
        self.ctxt = ctxt
        # generic R data is compiled as float (backend/c/generic.py); _retyped maps a
        # procedure as given to the one compiled
        self._retyped: dict = {}
        procs = [r_as_f32(as_ir(p), self._retyped) for p in procs]
        self.public = [p for p in procs if p.instr is None]
        self.order = [p for p in dependency_order(procs) if p.instr is None]
        self.structs = WindowStructs()
        self.helpers: set[str] = set()
        self.has_par = False
        self._mem_code: dict[type, str] = {}
        self._extern_code: dict[tuple, str] = {}
        self._instr_code: list[str] = []
        self._used_configs: dict = {}
        self._fn_names = self._name_functions()
        configs = dict.fromkeys(c for p in self.order for c in _configs(p.body))
        self._config_names = self._name_configs(configs)
        self.reserved = RESERVED | EXO_HELPERS | set(self._fn_names.values()) | set(
            self._config_names.values()) | ({"ctxt"} if ctxt else set())

    # ------------------------------------------------------------ naming

    def _name_functions(self) -> dict[N.Proc, str]:
        names: dict[N.Proc, str] = {}
        taken: dict[str, N.Proc] = {}
        for p in self.public:
            if not is_usable(p.name):
                raise UserError(f"{p.srcinfo}: procedure '{p.name}' cannot be a C function "
                                "name (it is reserved in C or its library)\n"
                                "rename it, e.g. with rename(p, 'new_name')")
            if p.name in taken and taken[p.name] is not p:
                raise UserError(f"two different procedures are both named '{p.name}' "
                                f"(defined at {taken[p.name].srcinfo} and {p.srcinfo}); a "
                                "C file needs distinct names\nrename one of them, e.g. "
                                "with rename(p, 'new_name'), before compiling")
            taken[p.name] = p
            names[p] = p.name
        for p in self.order:
            if p not in names:
                names[p] = _fresh(c_identifier(p.name), taken)
                taken[names[p]] = p
        return names

    def _name_configs(self, configs) -> dict:
        taken = {n: None for n in self._fn_names.values()}
        out = {}
        for c in configs:
            out[c] = _fresh(c_identifier(c.name()), taken)
            taken[out[c]] = c
        return out

    def written(self, proc: N.Proc) -> frozenset:
        """The argument Syms of `proc` whose buffers it may write (the rest are const)."""
        return frozenset(proc.args[k].name for k in written_args(proc))

    def fn_name(self, proc: N.Proc) -> str:
        return self._fn_names[self._retyped.get(proc, proc)]

    def config_name(self, cfg) -> str:
        return self._config_names[cfg]

    def config_field(self, cfg, field: str) -> str:
        """The C lvalue of a config field."""
        sep = "->" if self.shared_configs else "."
        return f"{self._config_names[cfg]}{sep}{field}"

    def used_configs(self) -> list:
        """The configs the compiled code reads or writes, with their C names."""
        return [(c, self._config_names[c]) for c in self._used_configs]

    # ------------------------------------------------------------ file-level code

    def use_config(self, cfg) -> None:
        self._used_configs[cfg] = None

    def add_memory(self, mem) -> None:
        if mem not in self._mem_code:
            self._mem_code[mem] = mem.global_()

    def used_memories(self) -> list:
        """The memories the compiled code allocates in or takes buffers in."""
        return list(self._mem_code)

    def add_extern(self, f, ctype: str, exo: bool = False) -> None:
        """The file-level code a call of extern `f` in `ctype` needs (`exo`: written as
        Exo writes it, Extern.exo_compile)."""
        key = (f, ctype, exo)
        if key not in self._extern_code:
            self._extern_code[key] = f.exo_globl(ctype) if exo else f.globl(ctype)

    def file_names(self) -> set[str]:
        """The C names of the file's functions and configs."""
        return set(self._fn_names.values()) | set(self._config_names.values())

    def add_global(self, code: str) -> None:
        self._instr_code.append(code)

    def file_code(self) -> list[str]:
        """Memory, extern and instruction globals, config structs and helpers, in that
        order, each distinct text once."""
        code = [*self._mem_code.values(), *self._extern_code.values(), *self._instr_code]
        for cfg in self._used_configs:
            make = _shared_config if self.shared_configs else _config_struct
            code.append(make(cfg, self.config_name(cfg)))
        code += [HELPERS[h] for h in sorted(self.helpers)]
        return [c.strip("\n") for c in dict.fromkeys(code) if c.strip()]

    # ------------------------------------------------------------ compiling

    def compile(self) -> tuple[list[str], list[str]]:
        """(public prototypes, function definitions), callees first."""
        public = set(self.public)
        protos, defs = [], []
        for p in self.order:
            em = ProcEmitter(p, self, self._fn_names[p], p in public)
            definition = em.definition()
            defs.append(definition)
            if p in public:  # no `restrict` in the header: C++ has none, and a
                # declaration's parameter qualifiers do not change the function's type
                protos.append(f"{em.signature_comment()}\n"
                              f"{em.prototype().replace('* restrict ', '* ')};")
        return protos, defs


def _fresh(base: str, taken) -> str:
    name, k = base, 0
    while name in taken or name in RESERVED:
        k += 1
        name = f"{base}_{k}"
    return name


def _config_struct(cfg, c_name: str) -> str:
    text = cfg.c_struct()
    if c_name != cfg.name():
        text = text.replace(f"}} {cfg.name()};", f"}} {c_name};")
    return text


def _shared_config(cfg, c_name: str) -> str:
    members = re.search(r"struct \{(.*)\}", cfg.c_struct(), re.DOTALL).group(1).strip()
    return ("#include <stddef.h>\n"
            f"struct knit_config_{c_name} {{ {members} }};\n"
            f"static struct knit_config_{c_name} *{c_name};\n"
            f"size_t knit_config_size_{c_name}(void) {{ return sizeof(*{c_name}); }}\n"
            f"void knit_bind_config_{c_name}(void *p) {{ {c_name} = p; }}")


# What the C must mean (docs/semantics.md#c-build): no floating-point contraction
# (#no-contraction), wrapping integer data (#int-arith), and not gcc's tree loop
# distribution, which gcc 12 at -O3 gets wrong on knit's code. Flags say it best
# (knit.runtime.cc adds them); the comment tells users building the C themselves.
# `#pragma STDC FP_CONTRACT OFF` is standard C (gcc ignores it, with a warning, so it
# is not shown to gcc). gcc's `optimize` pragma is documented as a debugging aid (it
# also stops inlining between functions with different optimize attributes), but it
# is the only way the C itself can protect a user who builds with plain `gcc -O3`; so
# it stays on by default and -DKNIT_NO_GCC_OPTIMIZE_PRAGMA (which the JIT passes, with
# the flags) turns it off.
PRELUDE = """\
/* Generated by knit. Build with the flags that give this code its meaning
 * (docs/semantics.md#c-build):
 *   gcc:   -ffp-contract=off -fwrapv -fno-tree-loop-distribution -fno-tree-loop-vectorize
 *          -DKNIT_NO_GCC_OPTIMIZE_PRAGMA
 *   clang: -ffp-contract=off -fwrapv
 * plus your optimisation flags (knit's own builds use -O3 -march=native). Without
 * -DKNIT_NO_GCC_OPTIMIZE_PRAGMA, gcc gets all three from the pragma below. */
#if !defined(__GNUC__) || defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif !defined(KNIT_NO_GCC_OPTIMIZE_PRAGMA)
#pragma GCC optimize ("fp-contract=off", "wrapv", "no-tree-loop-distribution", \
                      "no-tree-loop-vectorize")
#endif
"""


# f16 is C's _Float16 (docs/semantics.md#f16-compilers). clang before 15 has none on x86
# (it does not define __FLT16_MAX__ there), but it has __fp16 on every target: a
# storage type whose values are promoted to float for arithmetic and rounded (directly,
# from float or double) when converted back. The backend writes every f16 operation's
# rounding and every integer's conversion to f16 as a cast (#f16), and passes f16
# scalars by pointer, so __fp16 computes exactly what _Float16 does: each f16 +, -, *, /
# is computed in float and rounded once to f16, which is the correctly rounded f16
# result (float has more than 2 * 11 + 1 bits).
# One exception: clang 14 converts double to __fp16 by calling __truncdfhf2, whose
# x86 calling convention changed in LLVM 15 (libgcc 12 returns the half in xmm0, clang
# 14 reads ax), so every conversion to f16 goes through KNIT_F16: there, the double is
# rounded to float "to odd" (truncated, the last bit set if inexact), and that float
# rounded once to f16 by F16C is the correctly rounded f16 of the double. Without F16C
# the float <-> half conversions are library calls too, so the fallback needs F16C
# (every x86 since 2012; -march=native has it).
F16_FALLBACK = """\
#if defined(__clang__) && !defined(__FLT16_MAX__) && defined(__F16C__)
#define _Float16 __fp16  /* clang < 15 on x86: see docs/semantics.md#f16-compilers */
static inline float knit_f32_odd(double d) {
    union { float f; uint32_t u; } v = { (float)d };
    if ((double)v.f == d || d != d) return v.f;
    if ((d > 0) == ((double)v.f > d)) v.u -= 1;  /* rounded away from zero: truncate */
    v.u |= 1;
    return v.f;
}
#define KNIT_F16(d) ((_Float16)knit_f32_odd(d))
#else
#define KNIT_F16(d) ((_Float16)(d))
#endif
"""


# Exo's hint that a precondition holds (emit.py, ProcEmitter.precondition), defined as
# Exo's header does, so that a file including both headers sees one definition
ASSUME = """\
#ifndef EXO_ASSUME
// Compiler feature macros adapted from Hedley (public domain)
// https://github.com/nemequ/hedley

#if defined(__has_builtin)
#  define EXO_HAS_BUILTIN(builtin) __has_builtin(builtin)
#else
#  define EXO_HAS_BUILTIN(builtin) (0)
#endif

#if EXO_HAS_BUILTIN(__builtin_assume)
#  define EXO_ASSUME(expr) __builtin_assume(expr)
#elif EXO_HAS_BUILTIN(__builtin_unreachable)
#  define EXO_ASSUME(expr) \\
      ((void)((expr) ? 1 : (__builtin_unreachable(), 1)))
#else
#  define EXO_ASSUME(expr) ((void)(expr))
#endif
#endif
"""


def generate(procs, h_file_name: str, shared_configs: bool = False,
             ctxt: bool = False) -> tuple[str, str, Unit]:
    """The C source and header text for `procs`, and the Unit that produced them; with
    `ctxt`, Exo's ABI (a `void *ctxt` first argument)."""
    unit = Unit(procs, shared_configs, ctxt)
    protos, defs = unit.compile()
    stem = c_identifier(Path(h_file_name).stem).upper()
    guard = f"KNIT_{stem}_H"
    file_code = unit.file_code()
    uses_f16 = any("_Float16" in t for t in (*protos, *defs, *file_code,
                                               *unit.structs.definitions()))
    header = "\n".join([
        f"#ifndef {guard}", f"#define {guard}", "",
        "#include <stdint.h>", "#include <stdbool.h>", "", ASSUME,
        *([F16_FALLBACK] if uses_f16 else []),
        "#ifdef __cplusplus", 'extern "C" {', "#endif", "",
        *[d + "\n" for d in unit.structs.definitions()],
        *[p + "\n" for p in protos],
        "#ifdef __cplusplus", "}", "#endif", "", f"#endif  // {guard}", ""])
    source = "\n".join([PRELUDE, f'#include "{h_file_name}"', "",
                        *[c + "\n" for c in file_code],
                        "\n\n".join(defs), ""])
    return source, header, unit
