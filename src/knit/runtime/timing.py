"""Timing a procedure from C, without the cost of the call from Python.

A microkernel runs for a microsecond; a call from Python costs several. To measure
the kernel, `time_in_c` writes a small C driver that fills the arguments, calls the
procedure `reps` times between two clock readings, and prints the time per call.
"""

from __future__ import annotations

import os
import subprocess
import tempfile

from knit.ir import nodes as N

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
              cc: str = "cc", flags: list[str] | None = None) -> float:
    """Seconds per call of `procedure` (best of `trials` runs of `reps` calls), with its
    size arguments set from `sizes` and its buffers filled with small values."""
    from knit.backend.c import compile_procs

    ir: N.Proc = procedure._loopir_proc
    decls, args = _arguments(ir, sizes)
    flags = flags if flags is not None else ["-O3", "-march=native"]
    with tempfile.TemporaryDirectory() as d:
        compile_procs([procedure], d, "kernel.c", "kernel.h")
        with open(os.path.join(d, "main.c"), "w") as f:
            call = f"{ir.name}({', '.join(args)})"
            f.write(_DRIVER % {"decls": decls, "call": call, "reps": reps, "trials": trials})
        exe = os.path.join(d, "bench")
        cmd = [cc, *flags, "-o", exe, os.path.join(d, "main.c"), os.path.join(d, "kernel.c")]
        if any(isinstance(s, N.For) and s.mode == "par" for s in _walk(ir)):
            cmd.append("-fopenmp")
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    return float(out.split()[0])


def _walk(ir):
    from knit.ir.visit import walk_stmts

    return walk_stmts(ir.body)


def _arguments(ir: N.Proc, sizes: dict):
    from knit.runtime.args import eval_index

    values = {a.name: sizes[a.name.name] for a in ir.args if a.type.is_control()}
    lines, args = [], []
    for a in ir.args:
        name = a.name.name
        if a.type.is_control():
            args.append(str(sizes[name]))
            continue
        ctype = a.type.basetype().ctype
        n = 1
        for d in a.type.shape():
            n *= int(eval_index(d, values))
        lines.append(f"    {ctype} *{name} = malloc({n} * sizeof({ctype}));")
        lines.append(f"    for (long q = 0; q < {n}; q++) {name}[q] = ({ctype})((q % 7) * 0.125);")
        if a.type.is_win():
            raise ValueError("time_in_c: window arguments are not supported")
        args.append(name)
    return "\n".join(lines), args
