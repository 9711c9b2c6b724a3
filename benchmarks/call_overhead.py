"""How long it takes to reach compiled code from Python.

    python benchmarks/call_overhead.py

(a) a call into a compiled proc that does almost nothing: the whole call (through
    its plan, knit.runtime.fastcall: checks and call in C), the Python path every
    call took before plans and still takes when a plan declines (binding with
    knit.runtime.args, then ctypes), and a bare ctypes call with the pointers
    precomputed, for scale;
(b) getting a compiled callable from the on-disk cache in a fresh process (NumPy
    already imported, as it is by any caller passing arrays), with $CC a wrapper that
    fails the run if it is asked to compile, so a hit cannot cheat; and the cost of
    verifying a cache entry (size and SHA-256) before it is loaded;
(c) `import knit` in a fresh interpreter.

Medians of repeated runs, single thread. Uses a throw-away cache directory. Fresh
processes keep their bytecode in a temporary PYTHONPYCACHEPREFIX (warmed by a first
run), so the numbers are those of an installed package, even where the environment
sets PYTHONDONTWRITEBYTECODE.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

KERNELS = """
from __future__ import annotations
from knit import proc

@proc
def nothing(N: size):
    pass

@proc
def touch(x: f32[1]):
    x[0] = 1.0

@proc
def axpy(N: size, a: f32, x: f32[N], y: f32[N]):
    for i in seq(0, N):
        y[i] += a * x[i]
"""


def per_call_us(f, args, batch: int = 2000, batches: int = 100) -> float:
    """Median over batches of the mean time of one call, in microseconds."""
    for _ in range(batch):
        f(*args)
    times = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(batch):
            f(*args)
        times.append((time.perf_counter() - t0) / batch)
    return statistics.median(times) * 1e6


def call_overhead(kernels) -> list[tuple[str, float, float, float]]:
    import numpy as np

    from knit.runtime.args import binder
    from knit.runtime.jit import _ptr

    x, y = np.zeros(1, np.float32), np.zeros(16, np.float32)
    a, xs = np.array(2.0, np.float32), np.ones(16, np.float32)
    cases = [("nothing(N)", kernels.nothing, (4,), lambda: (4,)),
             ("touch(x)", kernels.touch, (x,), lambda: (_ptr(x),)),
             ("axpy(N, a, x, y)", kernels.axpy, (16, a, xs, y),
              lambda: (16, _ptr(a), _ptr(xs), _ptr(y)))]
    rows = []
    for name, p, args, raw_args in cases:
        f = p.compile()
        if f.plan is None:
            from knit.runtime import fastcall

            raise SystemExit(f"no call plan: {fastcall.unavailable() or 'unsupported proc'}")
        bind = binder(p._loopir_proc).bind
        cfunc = f.__globals__["cfunc"]
        env_args = [s.name for s in p._loopir_proc.args]

        def python_path(*a, bind=bind, cfunc=cfunc, names=env_args, proc=p._loopir_proc):
            env = bind(a, None)  # what the generated Python does when a plan declines
            cfunc(*[_ptr(env[s.name]) if isinstance(env[s.name], np.ndarray) else
                    env[s.name] for s in proc.args])

        total = per_call_us(f, args)
        slow = per_call_us(python_path, args)
        ptrs = raw_args()
        raw = per_call_us(lambda *_, c=cfunc, r=ptrs: c(*r), args)
        rows.append((name, total, slow, raw))
    return rows


def verify_us(kernels) -> float:
    """Median time to verify one cache entry (read, size and SHA-256 check)."""
    from knit import cache

    path = kernels.axpy.compile().library
    times = []
    for _ in range(200):
        t0 = time.perf_counter()
        assert cache.verified(path) is None
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6, os.path.getsize(path)


def fresh_process_cache_hit(tmp: Path, src: Path) -> float:
    """Warm the cache through a compiler wrapper, then make the wrapper fail on any
    compile (answering only `--version`), and time `compile()` in fresh processes
    (median of 5, milliseconds)."""
    real = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    wrapper = tmp / "cc-wrapper"

    def pad(text: str) -> str:  # the same size: knit's compiler identity includes it
        return text + "#" * (400 - len(text)) + "\n"

    wrapper.write_text(pad(f'#!/bin/sh\nexec {real} "$@"\n'))
    wrapper.chmod(0o755)
    env = {**fresh_env(tmp), "CC": str(wrapper), "KNIT_CACHE_DIR": str(tmp / "cache"),
           "PYTHONPATH": str(src.parent)}
    probe = textwrap.dedent("""
        import time, numpy, kernels
        t = time.perf_counter(); kernels.axpy.compile(); dt = time.perf_counter() - t
        print(dt * 1e3)
    """)
    for _ in range(2):  # build the library, then warm the bytecode of the hit path
        subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True)
    # the same file (inode, size, mtime), so the same compiler identity; but compiling
    # now fails
    st = wrapper.stat()
    wrapper.write_text(pad(f'#!/bin/sh\n[ "$1" = --version ] && exec {real} --version\n'
                           'echo "compiler invoked on a cache hit" >&2; exit 1\n'))
    os.utime(wrapper, ns=(st.st_atime_ns, st.st_mtime_ns))
    times = []
    for _ in range(5):
        r = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise SystemExit(f"cache hit failed (was the compiler invoked?):\n{r.stderr}")
        times.append(float(r.stdout))
    return statistics.median(times)


def fresh_env(tmp: Path) -> dict:
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(tmp / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def import_time_ms(tmp: Path, runs: int = 7) -> tuple[float, float]:
    """Median wall time of `import knit` in a fresh interpreter, and of `import numpy`
    for scale (milliseconds)."""
    def once(module: str) -> float:
        code = f"import time; t = time.perf_counter(); import {module}; " \
               "print((time.perf_counter() - t) * 1e3)"
        return float(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                    text=True, check=True, env=fresh_env(tmp)).stdout)
    once("knit"), once("numpy")  # write the bytecode
    return (statistics.median(once("knit") for _ in range(runs)),
            statistics.median(once("numpy") for _ in range(runs)))


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.environ["KNIT_CACHE_DIR"] = str(tmp / "cache")
        src = tmp / "kernels.py"
        src.write_text(KERNELS)
        sys.path.insert(0, str(tmp))
        import kernels

        rows = call_overhead(kernels)
        verify, lib_bytes = verify_us(kernels)
        hit_ms = fresh_process_cache_hit(tmp, src)
        knit_ms, numpy_ms = import_time_ms(tmp)

    print(f"knit call overhead -- Python {platform.python_version()}, "
          f"{platform.machine()}, {platform.processor() or platform.system()}")
    print(f"{'(a) call into a compiled proc':34s} {'call':>9s} {'Python':>9s} "
          f"{'ctypes':>9s}   (microseconds per call, median)")
    for name, total, slow, raw in rows:
        print(f"    {name:30s} {total:9.2f} {slow:9.2f} {raw:9.2f}")
    print("    (call: through the plan; Python: the binder + ctypes path a declined plan "
          "takes; ctypes: the bare C call, pointers precomputed)")
    print(f"{'(b) compiled callable from cache':34s} {hit_ms:9.2f} ms  "
          "(fresh process, compiling would fail)")
    print(f"    of which verifying the entry {verify:9.2f} us  ({lib_bytes} bytes; "
          "calls of a loaded library verify nothing)")
    print(f"{'(c) import knit':34s} {knit_ms:9.2f} ms  (import numpy alone: "
          f"{numpy_ms:.2f} ms)")


if __name__ == "__main__":
    main()
