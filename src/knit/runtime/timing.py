"""Timing a procedure from C, without the cost of the call from Python.

A microkernel runs for a microsecond; a call from Python costs several. To measure
the kernel, `time_in_c` writes a small C driver that fills the arguments, calls the
procedure `reps` times between two clock readings, and prints the time per call.
"""

from __future__ import annotations

import os
import subprocess
import tempfile

from knit.backend.c import compile_procs
from knit.backend.c.generic import c_scalar
from knit.backend.c.header import Unit
from knit.ir import nodes as N
from knit.ir.handles import expect_procedure, ir_of, is_procedure
from knit.ir.visit import walk_stmts
from knit.runtime.args import eval_index
from knit.runtime.cc import build_flags, compiler_command

_DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "kernel.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
                          return t.tv_sec + t.tv_nsec * 1e-9; }
int main(void) {
%(decls)s
    %(call)s;  /* warm up */
    double best = 1e30;
    for (int trial = 0; trial < %(trials)d; trial++) {
        double t = now();
        for (long r = 0; r < %(reps)dL; r++) %(call)s;
        t = (now() - t) / %(reps)d;
        if (t < best) best = t;
    }
    printf("%%.9e\n", best);
    return 0;
}
"""


def time_in_c(procedure, sizes: dict, *, reps: int = 10000, trials: int = 5,
              cc: str | None = None, flags: list[str] | None = None,
              extra_flags: list[str] | None = None) -> float:
    """Seconds per call of `procedure` (best of `trials` runs of `reps` calls), with its
    size arguments set from `sizes` and its buffers filled with small values. Built as
    compile() builds: `cc` defaults to `$CC`, then `cc`; `flags` replaces the default
    `-O3 -march=native`, `extra_flags` adds to it; the flags fixing the C's meaning are
    added (knit.runtime.cc.build_flags). A procedure with a `par` loop is built with
    `-fopenmp` and runs on as many threads as `OMP_NUM_THREADS` says (default: one per
    core) in the timing process, which inherits this process's environment: set it
    in os.environ before calling to time a given thread count."""

    expect_procedure("time_in_c", procedure)
    ir: N.Proc = ir_of(procedure)
    decls, args = _arguments(ir, sizes)
    command = compiler_command(cc)
    flags = build_flags(command, flags, extra_flags)  # as compile() builds: its times
    with tempfile.TemporaryDirectory() as d:
        compile_procs([procedure], d, "kernel.c", "kernel.h", ctxt=False)
        with open(os.path.join(d, "main.c"), "w") as f:
            call = f"{ir.name}({', '.join(args)})"
            f.write(_DRIVER % {"decls": decls, "call": call, "reps": reps, "trials": trials})
        exe = os.path.join(d, "bench")
        cmd = [*command, *flags, "-o", exe, os.path.join(d, "main.c"),
               os.path.join(d, "kernel.c")]
        if any(isinstance(s, N.For) and s.mode == "par" for s in _walk(ir)):
            cmd.append("-fopenmp")
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    return float(out.split()[0])


def _walk(ir):
    return walk_stmts(ir.body)


def _arguments(ir: N.Proc, sizes: dict):
    if any(a.type.is_tensor() and a.type.is_win() for a in ir.args):
        raise ValueError("time_in_c: window arguments are not supported")
    decls, args, _ = c_arguments(ir, sizes, fill="small")
    return decls, args


def c_arguments(procedure, sizes: dict, *, fill: str = "small", seed: int = 0,
                indent: str = "    ") -> tuple[str, list[str], str]:
    """C code for one call of `procedure` from a C driver: (declarations that allocate
    and fill its buffers, the call's argument expressions, statements freeing them).

    sizes: the value of every size, index, stride and bool argument, by name. Each
    buffer (tensor, window or scalar) is malloc'ed with exactly its number of elements,
    so AddressSanitizer sees any access past either end; a window argument views a dense
    buffer with row-major strides. fill: "small" (`(q % 7) * 0.125`, what time_in_c
    uses) or "random" (a fixed pseudo-random sequence per `seed`: floats in [-1, 1],
    integers in [-8, 8], unsigned ones in [0, 8]). The kernel's header must be included
    before the declarations (it provides <stdint.h>, <stdbool.h> and window structs)."""

    if fill not in ("small", "random"):
        raise ValueError(f"c_arguments: fill must be 'small' or 'random', got {fill!r}")
    if not isinstance(procedure, N.Proc):
        expect_procedure("c_arguments", procedure)
    ir: N.Proc = ir_of(procedure) if is_procedure(procedure) else procedure
    values = {a.name: _control_value(a, sizes) for a in ir.args if a.type.is_control()}
    unit = Unit([ir])
    written = unit.written(ir)
    decls, args, frees = [], [], []
    for k, a in enumerate(ir.args):
        if a.type.is_control():
            v = values[a.name]
            args.append(("true" if v else "false") if isinstance(v, bool) else str(v))
            continue
        var, ctype = f"knit_arg{k}", c_scalar(a.type.basetype()).ctype
        shape = [int(eval_index(d, values)) for d in a.type.shape()]
        n = 1
        for extent in shape:
            n *= extent
        decls.append(f"{ctype} *{var} = malloc({n} * sizeof({ctype}));")
        decls += _fill(var, ctype, a.type.basetype(), n, fill, (seed * 2654435761 + k) % 2**32)
        frees.append(f"free({var});")
        if a.type.is_tensor() and a.type.is_win():
            tag = unit.structs.name(a.type.basetype(), len(shape), a.name not in written)
            strides = [1] * len(shape)
            for d in range(len(shape) - 2, -1, -1):
                strides[d] = strides[d + 1] * shape[d + 1]
            args.append(f"(struct {tag}){{ {var}, {{ {', '.join(map(str, strides))} }} }}")
        else:
            args.append(var)
    return ("\n".join(indent + line for line in decls), args,
            "\n".join(indent + line for line in frees))


def _control_value(a: N.FnArg, sizes: dict):
    name = a.name.name
    if name not in sizes:
        raise ValueError(f"no value given for the {a.type.kind} argument '{name}'")
    v = sizes[name]
    ok = isinstance(v, bool) if a.type.kind == "bool" else \
        isinstance(v, int) and not isinstance(v, bool)
    if not ok:
        raise ValueError(f"argument '{name}' is a {a.type.kind}, got {v!r}")
    return v


def _fill(var: str, ctype: str, elem, n: int, fill: str, seed: int) -> list[str]:
    if fill == "small":
        return [f"for (long q = 0; q < {n}; q++) {var}[q] = ({ctype})((q % 7) * 0.125);"]
    if elem.is_float():
        value = "((double)(s >> 8) / 16777215.0 * 2.0 - 1.0)"
    elif elem.np_dtype is not None and elem.np_dtype.startswith("u"):
        value = "((int)(s >> 24) % 9)"
    else:
        value = "((int)(s >> 24) % 17 - 8)"
    # a linear congruential generator: the same inputs on every run and machine
    return [f"for (uint32_t q = 0, s = {seed}u; q < {n}u; q++) {{",
            "    s = s * 1664525u + 1013904223u;",
            f"    {var}[q] = ({ctype}){value};",
            "}"]
