"""The harness check_instr runs: the legal values of an instr's control arguments, one
small wrapper proc per such value, and those wrappers compiled into one C program.

A wrapper takes every data argument of the instr as a dense DRAM buffer, copies the
ones that live in another memory into a local buffer of that memory, calls the instr
with the control values as literals (NEON's lane arguments must be C constants), and
copies them back. Memories that only instructions may touch (vector registers) are
filled and emptied with `memcpy` of one register: trusted C that is not the instr under
test. The same wrapper runs in the interpreter (the instr's body) and as C (its
template), on the same bytes.

The C program reads batches from stdin -- (wrapper, records, record size) and the
records, each holding every data argument at a 64-byte aligned offset -- runs the
wrapper on each record in place and writes the records back. One process runs every
input of every wrapper, natively or under an emulator (`qemu-aarch64`).
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

from knit.backend.c import compile_procs_to_strings
from knit.instrcheck import InstrCheckError
from knit.ir import nodes as N
from knit.ir.handles import ir_of
from knit.ir.types import F32, R, ScalarT
from knit.libs.memories import VectorRegisters
from knit.memory import DRAM
from knit.procedure import Procedure, parse_proc_string
from knit.runtime.args import eval_index
from knit.runtime.cc import cached_build, compiler_command
from knit.runtime.interp import config_value

# ---------------------------------------------------------------- control values

SIZES = range(1, 65)  # sizes tried when no assert bounds them
INDICES = range(-8, 65)
BOOLS = (False, True)
MAX_CONTROLS = 256  # more legal combinations than this: an evenly spaced sample


def _candidates(t) -> tuple:
    if t.kind == "bool":
        return BOOLS
    return tuple(SIZES if t.kind == "size" else INDICES)


def legal_controls(ir: N.Proc) -> list[dict]:
    """Every assignment of the instr's control arguments (by name) that makes its
    shapes positive and its asserts true, on dense buffers; a sample of them if there
    are more than MAX_CONTROLS."""
    ctrl = [a for a in ir.args if a.type.is_control()]
    cands = [_candidates(a.type) for a in ctrl]
    # several unbounded arguments: fewer values of each
    while math.prod(map(len, cands)) > 20_000 and any(len(c) > 2 for c in cands):
        cands = [c[: max(2, len(c) // 2)] for c in cands]
    legal = []
    for values in itertools.product(*cands):
        env = {a.name: v for a, v in zip(ctrl, values)}
        if _shapes(ir, env) is not None and _asserts_hold(ir, env):
            legal.append({a.name.name: v for a, v in zip(ctrl, values)})
    if len(legal) > MAX_CONTROLS:
        picks = np.linspace(0, len(legal) - 1, MAX_CONTROLS).round().astype(int)
        legal = [legal[i] for i in dict.fromkeys(picks)]
    return legal


def _shapes(ir: N.Proc, env: dict) -> dict | None:
    """{data arg Sym: shape} under the control values in `env`, None if one is empty."""
    out = {}
    for a in ir.args:
        if a.type.is_control():
            continue
        shape = tuple(eval_index(d, env, config_value) for d in a.type.shape())
        if any(d < 1 for d in shape):
            return None
        out[a.name] = shape
    return out


def _asserts_hold(ir: N.Proc, env: dict) -> bool:
    env = dict(env)
    for sym, shape in _shapes(ir, env).items():
        env[sym] = np.empty(shape, np.int8)  # dense: what `stride(x, d)` reads
    return all(eval_index(p, env, config_value) for p in ir.preds)


# ---------------------------------------------------------------- wrappers


@dataclass(frozen=True)
class Buf:
    """A data argument of the instr as the harness holds it."""

    name: str
    dtype: np.dtype
    ctype: str
    shape: tuple[int, ...]


def _elem(t) -> ScalarT:
    return F32 if t.basetype() == R else t.basetype()  # R (any real type): tried as f32


def wrapper(instr: Procedure, k: int, controls: dict) -> tuple[Procedure, list[Buf]]:
    """The k-th wrapper proc (see the module docstring) and its data arguments."""
    ir = ir_of(instr)
    env = {a.name: controls[a.name.name] for a in ir.args if a.type.is_control()}
    shapes = _shapes(ir, env)
    scope = {"DRAM": DRAM, ir.name: instr}
    params, pre, post, call, bufs = [], [], [], [], []
    for j, a in enumerate(ir.args):
        name, t = a.name.name, a.type
        if t.is_control():
            call.append(str(controls[name]))  # True, False, 3, -1: object code as printed
            continue
        elem, shape = _elem(t), shapes[a.name]
        T = elem.name
        typ = f"{T}[{', '.join(map(str, shape))}]" if shape else T
        params.append(f"{name}: {typ} @ DRAM" if shape else f"{name}: {T}")
        bufs.append(Buf(name, np.dtype(elem.np_dtype), elem.ctype, shape))
        mem = a.mem or DRAM
        arg = name
        if mem is not DRAM:
            arg = f"knit_r{j}"
            scope[f"knit_mem{j}"] = mem
            pre.append(f"{arg}: {typ} @ knit_mem{j}")
            copy_in, copy_out = _copies(mem, T, shape, j, scope, name, arg)
            pre += copy_in
            post += copy_out
        if t.is_tensor() and t.is_win():
            arg += "[" + ", ".join(f"0:{d}" for d in shape) + "]"
        call.append(arg)
    lines = [f"def knit_check_{k}({', '.join(params)}):", *pre,
             f"{ir.name}({', '.join(call)})", *post]
    text = "\n    ".join(lines) + "\n"
    return parse_proc_string(text, scope, f"<check_instr wrapper {k} of {ir.name}>"), bufs


def _copies(mem, T: str, shape: tuple, j: int, scope: dict, dram: str, local: str):
    """Statements copying the DRAM buffer `dram` into `local` (in `mem`) and back."""
    if mem.can_read():
        idx = ", ".join(f"i{d}" for d in range(len(shape)))
        loops = [f"{'    ' * d}for i{d} in seq(0, {n}):" for d, n in enumerate(shape)]
        pad = "    " * len(shape)
        sub = f"[{idx}]" if shape else ""
        return ([*loops, f"{pad}{local}{sub} = {dram}{sub}"],
                [*loops, f"{pad}{dram}{sub} = {local}{sub}"])
    if not (issubclass(mem, VectorRegisters) and shape):
        raise InstrCheckError(f"check_instr cannot fill a {T} buffer in {mem.name()}: only "
                              "instructions touch it, and the harness knows how to fill "
                              "vector registers (VectorRegisters memories) only")
    *lead, lanes = shape
    scope[f"knit_in{j}"] = _bit_copy(mem, T, lanes, to_mem=True)
    scope[f"knit_out{j}"] = _bit_copy(mem, T, lanes, to_mem=False)
    idx = "".join(f"i{d}, " for d in range(len(lead)))
    loops = [f"{'    ' * d}for i{d} in seq(0, {n}):" for d, n in enumerate(lead)]
    pad = "    " * len(lead)
    return ([*loops, f"{pad}knit_in{j}({local}[{idx}0:{lanes}], {dram}[{idx}0:{lanes}])"],
            [*loops, f"{pad}knit_out{j}({dram}[{idx}0:{lanes}], {local}[{idx}0:{lanes}])"])


@functools.cache
def _bit_copy(mem, T: str, lanes: int, to_mem: bool) -> Procedure:
    """An instr copying one register's bits between DRAM and `mem`."""
    reg, dram = f"[{T}][{lanes}] @ M", f"[{T}][{lanes}] @ DRAM"
    dst, src = (reg, dram) if to_mem else (dram, reg)
    size_of = "dst" if to_mem else "src"  # the register: one C vector object
    text = (f'@instr("memcpy(&{{dst_data}}, &{{src_data}}, sizeof({{{size_of}_data}}));", '
            f'"#include <string.h>")\n'
            f"def knit_bits_{'in' if to_mem else 'out'}(dst: {dst}, src: {src}):\n"
            f"    for i in seq(0, {lanes}):\n"
            f"        dst[i] = src[i]\n")
    return parse_proc_string(text, {"M": mem, "DRAM": DRAM}, "<check_instr register copy>")


# ---------------------------------------------------------------- the C program


GUARD = 0xA5  # the byte filling a record around the buffers: the C must leave it alone


def layout(bufs: list[Buf]) -> tuple[list[int], int]:
    """Each buffer's byte offset in a record (64-byte aligned, at least 64 guard bytes
    after each) and the record size."""
    offsets, at = [], 0
    for b in bufs:
        offsets.append(at)
        at += -(-(b.dtype.itemsize * math.prod(b.shape) + 64) // 64) * 64
    return offsets, max(at, 64)


_DRIVER = """
#include <stdio.h>
#include <stdlib.h>

// check_instr's driver: batches of (wrapper, records, record size) and the records on
// stdin; each record is run in place and written back to stdout
static void knit_check_call(int64_t which, unsigned char *b) {
    switch (which) {
%s
    }
}

int main(void) {
    int64_t head[3];
    while (fread(head, sizeof head, 1, stdin) == 1) {
        size_t n = (size_t) head[1] * (size_t) head[2];
        unsigned char *buf = malloc(n);
        if (buf == NULL || fread(buf, 1, n, stdin) != n) return 2;
        for (int64_t r = 0; r < head[1]; r++) knit_check_call(head[0], buf + r * head[2]);
        if (fwrite(buf, 1, n, stdout) != n) return 3;
        free(buf);
    }
    return 0;
}
"""


def program(wrappers: list[Procedure], bufs: list[list[Buf]]) -> str:
    """The C program: every wrapper, a dispatcher and the stdin/stdout loop."""
    c, h = compile_procs_to_strings(wrappers, "knit_check.h", ctxt=False)
    cases = []
    for k, bs in enumerate(bufs):
        offsets, _ = layout(bs)
        args = ", ".join(f"({b.ctype}*) (b + {o})" for b, o in zip(bs, offsets))
        cases.append(f"    case {k}: knit_check_{k}({args}); break;")
    return c.replace('#include "knit_check.h"\n', h, 1) + _DRIVER % "\n".join(cases)


# ---------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """Where the C runs: a compiler and flags, and a command prefix to run the program
    (an emulator). `needs`: text the program must contain for the target to apply."""

    name: str
    cc: tuple[str, ...]
    flags: tuple[str, ...]
    runner: tuple[str, ...] = ()
    needs: str = ""


# -ffp-contract=off: the C must not fuse what the template keeps apart (an FMA
# intrinsic stays fused); -O2: the templates are not about the optimiser; -w: a user's
# template may warn, and warnings are not what this checks
_COMMON = ("-O2", "-ffp-contract=off", "-w")


def target(name: str, cc: str | None = None) -> Target:
    """The named target: 'native' (this CPU, -march=native), 'simde' (x86 intrinsics
    through SIMDe's portable C: the C must support -DKNIT_USE_SIMDE), 'aarch64' (a
    cross compiler and qemu-user unless this machine is AArch64)."""
    host = tuple(compiler_command(cc))
    if name == "native":
        return Target("native", host, ("-march=native", *_COMMON))
    if name == "simde":
        return Target("simde", host, ("-DKNIT_USE_SIMDE", *_COMMON), needs="KNIT_USE_SIMDE")
    if name == "aarch64":
        flags = ("-march=armv8.2-a+fp16", "-static", *_COMMON)  # +fp16: NEON f16 arithmetic
        if platform.machine() in ("aarch64", "arm64"):
            return Target("aarch64", host, flags)
        cross = tuple((os.environ.get("KNIT_AARCH64_CC") or "aarch64-linux-gnu-gcc").split())
        qemu = os.environ.get("KNIT_QEMU_AARCH64") or shutil.which("qemu-aarch64") or \
            shutil.which("qemu-aarch64-static") or "qemu-aarch64"
        # emulated: worth it for Arm code only (other C runs natively)
        return Target("aarch64", cross, flags, (qemu, "-L", "/usr/aarch64-linux-gnu"),
                      needs="arm_neon.h")
    raise ValueError(f"check_instr: unknown target {name!r}; use 'native', 'simde' or "
                     "'aarch64'")


TARGETS = ("native", "simde", "aarch64")


@functools.cache
def missing(name: str) -> str | None:
    """Why target `name` cannot run here (tools or headers missing), or None."""
    t = target(name)
    for tool in (t.cc[0], *t.runner[:1]):
        if shutil.which(tool) is None:
            return f"target {name} needs '{tool}', which is not installed"
    probe = {"simde": "#include <simde/x86/avx512.h>\n", "aarch64": "#include <arm_neon.h>\n"}
    if name in probe:
        r = subprocess.run([*t.cc, *t.flags, "-fsyntax-only", "-x", "c", "-"],
                           input=probe[name] + "int main(void) { return 0; }\n",
                           capture_output=True, text=True, check=False)
        if r.returncode != 0:
            return f"target {name}: the compiler cannot build a test file:\n{r.stderr.strip()}"
    return None


def build(t: Target, source: str, what: str) -> str:
    """The program built from `source` for `t`, kept in knit's compile cache like a
    library: keyed by the compiler's identity, verified before each use and rebuilt
    if damaged (knit.cache). The file is named `<key>.so` but is a program."""
    return cached_build(source, list(t.cc), list(t.flags), what)


def run(t: Target, exe: str, batches: list[tuple[int, bytes, int, int]]) -> bytes:
    """Run `exe` on the batches (wrapper, records' bytes, count, record size); the
    records afterwards. Raises RuntimeError with the exit status if the program fails."""
    data = b"".join(np.array([k, n, size], np.int64).tobytes() + recs
                    for k, recs, n, size in batches)
    r = subprocess.run([*t.runner, exe], input=data, capture_output=True, timeout=600,
                       check=False)
    if r.returncode != 0:
        how = f"signal {-r.returncode}" if r.returncode < 0 else f"exit status {r.returncode}"
        raise RuntimeError(f"{how}{': ' + r.stderr.decode(errors='replace') if r.stderr else ''}")
    return r.stdout


