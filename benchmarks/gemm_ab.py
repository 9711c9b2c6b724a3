"""A/B timing of knit.stdlib.gemm variants: each variant is scheduled by its own knit
source tree (a checkout of another commit, or this one with other arguments), and all of
them run in the same interleaved rounds, one thread, timed by thread CPU time, beside
OpenBLAS on one thread and the FMA peak (benchmarks/sgemm.py's `measure`).

    .venv/bin/python benchmarks/gemm_ab.py [--dtype f32|f64] [--sizes 1024,64x2048x2048]
        [--rounds 5] NAME=SRC[:KWARGS] ...

SRC is a directory holding the `knit` package (e.g. `src`, or `/tmp/base/src` made by
`git archive <commit> src | tar -x -C /tmp/base`); KWARGS a Python dict literal of
schedule_gemm's keyword arguments, where `Blocking` is knit.stdlib.gemm.Blocking:

    benchmarks/gemm_ab.py base=/tmp/base/src new=src \
        kc512="src:{'blocking': Blocking(256, 512, 4096)}"

The table gives GFLOP/s best / median per variant, its ratio to OpenBLAS (best) and its
share of the peak; compare the variants of one run, on a shared machine with the load
printed beside them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from contextlib import nullcontext

HERE = os.path.dirname(os.path.abspath(__file__))


def dump(dtype: str, out: str, kwargs: str) -> None:
    """Schedule the benchmark GEMM with the knit on sys.path; write its C to `out`."""
    import time

    sys.path.insert(0, HERE)
    from sgemm import PLAIN

    from knit.runtime.jit import jit_source
    from knit.stdlib.gemm import Blocking, schedule_gemm

    kw = eval(kwargs, {"Blocking": Blocking}) if kwargs else {}
    t = time.process_time()
    p = schedule_gemm(PLAIN[dtype], kw.pop("target", "avx512"), threads=1, **kw)
    print(f"scheduled in {time.process_time() - t:.2f} s CPU")
    with open(out, "w") as f:
        f.write(jit_source(p._loopir_proc)[0])


def time_shape(S, calls: dict, peak, shape, dtype: str, rounds: int, rng) -> dict:
    """Every variant, OpenBLAS (one thread) and the FMA peak in interleaved rounds on one
    shape, after checking each variant against NumPy."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    m, n, k = shape
    t = S.NP[dtype]
    A, B = rng.standard_normal((m, k)).astype(t), rng.standard_normal((k, n)).astype(t)
    want = A.astype(np.float64) @ B.astype(np.float64)
    C = np.zeros((m, n), t)
    flops, fns = 2.0 * m * n * k, {}
    for name, f in calls.items():  # checked against NumPy in this run
        C[:] = 0
        f(m, n, k, A, B, C)
        err = np.abs(C - want).max() / max(1.0, np.abs(want).max())
        if err > (1e-4 if dtype == "f32" else 1e-12):
            raise SystemExit(f"{name} disagrees with NumPy at {m}x{n}x{k}: {err:.2e}")
        fns[name + " 1"] = (flops, nullcontext, lambda f=f: f(m, n, k, A, B, C))
    fns["blas 1"] = (flops, lambda: threadpool_limits(1, "blas"), lambda: np.matmul(A, B))
    fns["peak 1"] = (192.0 * 200000, nullcontext, lambda: peak(200000, 1))
    return S.measure(fns, rounds, cpu_time=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtype", default="f32", choices=["f32", "f64"])
    ap.add_argument("--sizes", default="1024")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dump", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("variants", nargs="*")
    a = ap.parse_args()
    if a.dump:
        return dump(*a.dump)
    os.environ["OMP_NUM_THREADS"] = "1"
    sys.path.insert(0, HERE)
    import tempfile

    import numpy as np
    import sgemm as S

    from knit.runtime import jit

    print(f"load average at start: {S.load()}")
    calls, tmp = {}, tempfile.mkdtemp()
    for v in a.variants:
        name, spec = v.split("=", 1)
        src, _, kw = spec.partition(":")
        out = os.path.join(tmp, f"{name}.c")
        env = dict(os.environ, PYTHONPATH=os.path.abspath(src))
        r = subprocess.run(
            [sys.executable, __file__, "--dump", a.dtype, out, kw],
            env=env,
            capture_output=True,
            text=True,
        )
        if r.returncode:
            raise SystemExit(f"{name}: scheduling failed\n{r.stderr}")
        print(f"{name}: {r.stdout.strip()}")
        cmd = jit.compiler_command()
        lib = jit.load_library(
            open(out).read(), cmd, [*jit.LIBRARY_FLAGS, *jit.build_flags(cmd)], name
        )
        calls[name] = jit.make_caller(S.PLAIN[a.dtype]._loopir_proc, lib, lib._name, cmd)
    peak = S.peak_kernel()
    scale = 1.0 if a.dtype == "f32" else 0.5  # f64: half the lanes
    rng = np.random.default_rng(0)
    for s in a.sizes.split(","):
        r = time_shape(S, calls, peak, S.parse_shape(s), a.dtype, a.rounds, rng)
        blas, pk = r["blas 1"][0], r["peak 1"][0] * scale
        line = f"{s:>14} | BLAS {blas:6.1f} |"
        for name in calls:
            best, med = r[name + " 1"]
            line += f" {name} {best:6.1f}/{med:6.1f} {best / blas:4.2f}x {100 * best / pk:3.0f}% |"
        print(line, flush=True)
    print(f"load average at end: {S.load()}")


if __name__ == "__main__":
    main()
