"""How long scheduling takes: a realistic 38-step SGEMM schedule (blocking the loops of
a GEMM, then the 6x16 AVX2 register microkernel), timed under knit and, when
exo-lang 1.0 is available, under Exo in the same run.

    .venv/bin/python benchmarks/schedule_speed.py [--exo-python PATH] [--repeat N]
    .venv/bin/python benchmarks/schedule_speed.py --gemm [--gemm-parts]
    .venv/bin/python benchmarks/schedule_speed.py --growth [--kinds body,depth,nests,steps]
        [--sizes 10,30,100] [--exo-python PATH]

Each run also prints the whole GEMM schedule of knit.stdlib.gemm (issue 9, item 4):
every kernel `schedule_gemm` builds -- AVX-512, AVX2 and NEON, f32 and f64, one thread
and par -- in a fresh process (`--gemm` prints that line alone; `--gemm-parts` adds
where its CPU time goes: the blocked kernels' nests, the edges, the register kernels...).

`--growth` times how scheduling grows (issue 9, item 5): the dependence checks of
`reorder_loops` and `fission` against the statements of a loop body (10-1,000), the
depth of a nest (2-8) and the nests of a procedure (1-100), and a schedule against its
length (10-300 steps, then forwarding a cursor through all of them); `GROWTH` below
says what each table builds. They should grow near-linearly; Exo's columns beside,
when it is installed.

The same file runs under either system (`--impl knit|exo`); the driver runs Exo in
a subprocess with a Python that has exo-lang installed (default: $EXO_PYTHON, or
this Python if it can `import exo`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

IMPL = "knit"
if "--impl" in sys.argv:
    IMPL = sys.argv[sys.argv.index("--impl") + 1]

if IMPL == "exo":
    from exo import proc  # noqa: F401
    from exo.platforms.x86 import *  # noqa: F403
    from exo.stdlib.scheduling import *  # noqa: F403
else:
    from knit import proc  # noqa: F401
    from knit.platforms.x86 import *  # noqa: F403
    from knit.stdlib.scheduling import *  # noqa: F403


def define():
    @proc
    def sgemm(N: size, M: size, K: size, A: f32[N, K] @ DRAM, B: f32[K, M] @ DRAM,
              C: f32[N, M] @ DRAM):
        assert N % 6 == 0
        assert M % 16 == 0
        for i in seq(0, N):
            for j in seq(0, M):
                for k in seq(0, K):
                    C[i, j] += A[i, k] * B[k, j]

    @proc
    def rank_k_reduce_6x16(K: size, A: f32[6, K] @ DRAM, B: f32[K, 16] @ DRAM,
                           C: f32[6, 16] @ DRAM):
        for i in seq(0, 6):
            for j in seq(0, 16):
                for k in seq(0, K):
                    C[i, j] += A[i, k] * B[k, j]

    return sgemm, rank_k_reduce_6x16


def schedule_blocking(p):
    """13 steps: 6x16 register blocks of C, k innermost per block, then k outside."""
    p = rename(p, "sgemm_blocked")
    p = divide_loop(p, "i", 6, ["io", "ii"], perfect=True)
    p = divide_loop(p, "j", 16, ["jo", "ji"], perfect=True)
    p = reorder_loops(p, "ii jo")
    p = simplify(p)
    p = reorder_loops(p, "ji k")
    p = reorder_loops(p, "ii k")
    p = simplify(p)
    p = divide_loop(p, "ji", 8, ["jv", "jl"], perfect=True)
    p = simplify(p)
    p = reorder_loops(p, "jo k")
    p = reorder_loops(p, "io k")
    p = simplify(p)
    return p


def schedule_microkernel(p):
    """25 steps: Exo's AVX2 example schedule."""
    p = rename(p, "rank_k_reduce_6x16_scheduled")
    p = reorder_loops(p, "j k")
    p = reorder_loops(p, "i k")
    p = divide_loop(p, "for j in _: _", 8, ["jo", "ji"], perfect=True)
    p = stage_mem(p, "for k in _:_", "C[0:6, 0:16]", "C_reg")
    p = simplify(p)
    p = divide_dim(p, "C_reg:_", 1, 8)
    p = repeat(divide_loop)(p, "for i1 in _: _", 8, ["i2", "i3"], perfect=True)
    p = simplify(p)
    p = set_memory(p, "C_reg:_", AVX2)
    p = replace_all(p, mm256_loadu_ps)
    p = replace_all(p, mm256_storeu_ps)
    p = simplify(p)
    p = stage_mem(p, "for i in _:_", "B[k, 0:16]", "B_reg")
    p = simplify(p)
    p = divide_loop(p, "for i0 in _: _ #1", 8, ["io", "ii"], perfect=True)
    p = divide_dim(p, "B_reg:_", 0, 8)
    p = set_memory(p, "B_reg:_", AVX2)
    p = simplify(p)
    p = replace_all(p, mm256_loadu_ps)
    p = simplify(p)
    p = bind_expr(p, "A[i, k]", "A_reg")
    p = expand_dim(p, "A_reg", 8, "ji")
    p = lift_alloc(p, "A_reg", n_lifts=2)
    p = fission(p, p.find("A_reg[ji] = _").after(), n_lifts=2)
    p = remove_loop(p, "for jo in _: _")
    p = set_memory(p, "A_reg:_", AVX2)
    p = replace_all(p, mm256_broadcast_ss)
    p = replace_all(p, mm256_fmadd_ps)
    p = simplify(p)
    return p


STEPS = 13 + 29


def run_once() -> tuple[float, float, str]:
    """(seconds to define the procs, seconds to schedule, the final code)."""
    t0 = time.perf_counter()
    sgemm, kernel = define()
    t1 = time.perf_counter()
    blocked = schedule_blocking(sgemm)
    micro = schedule_microkernel(kernel)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, str(blocked) + "\n" + str(micro)


GEMM_TARGETS = ("avx512", "avx2", "neon")


def gemm_child(parts: bool = False) -> None:
    """Build every GEMM kernel of knit.stdlib.gemm from the plain proc, once. With
    `parts`, also print where the CPU time went (`_gemm_parts`)."""
    import textwrap

    from knit.stdlib.gemm import schedule_gemm

    spent = _gemm_parts() if parts else None

    plain = {}
    for dt in ("f32", "f64"):  # parsed from a file, like any proc
        plain[dt] = _module_proc(textwrap.dedent(f"""\
            from __future__ import annotations
            from knit import proc


            @proc
            def gemm_{dt}(M: size, N: size, K: size, A: [{dt}][M, K] @ DRAM,
                          B: [{dt}][K, N] @ DRAM, C: [{dt}][M, N] @ DRAM):
                assert stride(A, 1) == 1
                assert stride(B, 1) == 1
                assert stride(C, 1) == 1
                for i in seq(0, M):
                    for j in seq(0, N):
                        for k in seq(0, K):
                            C[i, j] += A[i, k] * B[k, j]
            """), f"gemm_{dt}")
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    for target in GEMM_TARGETS:
        for dt in ("f32", "f64"):
            for threads in (1, 2):
                schedule_gemm(plain[dt], target, threads=threads)
                n += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    from knit.analysis import smt

    print(f"RESULT {n} {wall:.6f} {cpu:.6f} {smt.stats()['z3']}")
    if spent is not None:
        for what, t in sorted(spent.items(), key=lambda kv: -kv[1]):
            print(f"PART {t:6.2f} s CPU  {what}")
        print(f"PART {cpu - sum(spent.values()):6.2f} s CPU  the rest (the variants' "
              "branches and calls: variants._twins)")


# where `--gemm-parts` counts the CPU time: (module, function, part), the innermost
# running part takes it (a part's time excludes the parts it calls)
_PARTS = (
    ("schedule", "blocked_kernel", "the blocked kernels' tile nests (schedule.blocked_kernel: "
     "blocks, packing, kernel calls, prefetches, threads)"),
    ("variants", "schedule_small", "the small kernels (variants.schedule_small)"),
    ("kernels", "schedule_microkernel", "the register kernels (kernels.microkernel)"),
    ("kernels", "schedule_masked_kernel", "the masked kernels (kernels.masked_kernel)"),
    ("schedule", "on_statements", "the edges, once per content (edge_rows, "
     "edge_columns, parallelize_edges through rewrite.isolate)"),
)


def _gemm_parts() -> dict:
    """Wrap the parts of the GEMM schedule (`_PARTS`) to count their CPU time; the
    dict filled as they run."""
    import importlib

    spent: dict = {}
    stack: list = []

    def timed(f, what):
        def run(*args, **kw):
            t0 = time.process_time()
            stack.append(0.0)
            try:
                return f(*args, **kw)
            finally:
                dt = time.process_time() - t0
                inner = stack.pop()
                spent[what] = spent.get(what, 0.0) + dt - inner
                if stack:
                    stack[-1] += dt
        return run

    for mod, name, what in _PARTS:
        m = importlib.import_module(f"knit.stdlib.gemm.{mod}")
        setattr(m, name, timed(getattr(m, name), what))
    return spent


def _module_proc(src: str, name: str):
    import importlib.util
    import tempfile

    path = os.path.join(tempfile.mkdtemp(), f"{name}.py")
    with open(path, "w") as f:
        f.write(src)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, name)


def gemm_line(parts: bool = False) -> None:
    cmd = [sys.executable, os.path.abspath(__file__), "--gemm-child"] + \
        (["--gemm-parts"] if parts else [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        print(f"GEMM build failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}", file=sys.stderr)
        return
    n, wall, cpu, z3 = line.split()[1:]
    load = os.getloadavg()[0]
    print(f"whole GEMM schedule (knit.stdlib.gemm: {', '.join(GEMM_TARGETS)} x f32, f64 x "
          f"1 thread, par): {n} kernels in {float(wall):.2f} s ({float(cpu):.2f} s CPU, "
          f"{z3} solver queries; load average {load:.1f}; issue 9 target 0.5 s)")
    for ln in r.stdout.splitlines():
        if ln.startswith("PART "):
            print("  " + ln[5:])


def child(repeat: int) -> None:
    times = [run_once() for _ in range(repeat)]
    best = min(times, key=lambda t: t[1])
    print(f"RESULT {best[0]:.6f} {best[1]:.6f}")


def measure(python: str, impl: str, repeat: int) -> tuple[float, float] | None:
    cmd = [python, os.path.abspath(__file__), "--impl", impl, "--child", str(repeat)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        print(f"{impl} failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}", file=sys.stderr)
        return None
    _, d, s = line.split()
    return float(d), float(s)


GROWTH_PATTERNS = ["A[i, j] = B[i, j] * 2.0", "C[i, j] += A[i, j]",
                   "B[i, j] = C[i, j] + D[j, i]"]

# The growth tables (issue 9, item 5): how the cost of a scheduling step grows with the
# program and with the schedule. Each kind builds a program from one number n and times
# the same steps on it, in a fresh process per (kind, n), under knit and under Exo.
#   body:   a 2-deep nest of n statements; reorder_loops of the nest, then fission in
#           the middle of its body out of both loops
#   depth:  an n-deep nest of 3 statements over n-dimensional buffers; reorder_loops of
#           the two outermost loops, then fission in the middle out of all n loops
#   nests:  n 2-deep nests of 3 statements one after the other; reorder_loops of the
#           middle nest, then fission in its body out of both loops
#   steps:  one 2-deep nest of 3 statements and a schedule of n steps, a cycle of five
#           that gives the program back (reorder_loops twice, fission out of both loops,
#           fuse the two outer loops, then the two inner ones); the columns: the whole
#           schedule, then forwarding a cursor of the first procedure to the last
GROWTH = {
    "body": ("statements in the loop body", (10, 30, 100, 300, 1000),
             ("reorder_loops", "fission")),
    "depth": ("nest depth", (2, 3, 4, 6, 8), ("reorder_loops", "fission")),
    "nests": ("loop nests in the proc", (1, 3, 10, 30, 100), ("reorder_loops", "fission")),
    "steps": ("schedule length (steps)", (10, 30, 100, 300), ("schedule", "forward")),
}
_CYCLE = 5  # the steps kind's cycle


def _nest(idx: list[str], body: list[str], indent: int = 4) -> str:
    """A nest of loops over `idx` (each 0..N) around the statements `body`."""
    lines = []
    for d, v in enumerate(idx):
        lines.append(" " * (indent + 4 * d) + f"for {v} in seq(0, N):")
    pad = " " * (indent + 4 * len(idx))
    return "\n".join(lines + [pad + b for b in body])


def growth_source(kind: str, n: int) -> str:
    """The body of the proc `grow` for the growth kind `kind` at size n, and its buffers."""
    if kind == "body":
        return _nest(["i", "j"], [GROWTH_PATTERNS[k % 3] for k in range(n)])
    if kind == "nests":
        return "\n".join(_nest(["i", "j"], GROWTH_PATTERNS) for _ in range(n))
    if kind == "steps":
        return _nest(["i", "j"], GROWTH_PATTERNS)
    idx = [f"i{d}" for d in range(n)]  # depth: the patterns over n dimensions
    at = ", ".join(idx)
    rev = ", ".join(idx[-2:][::-1] + idx[:-2][::-1]) if n > 1 else at
    return _nest(idx, [f"A[{at}] = B[{at}] * 2.0", f"C[{at}] += A[{at}]",
                       f"B[{at}] = C[{at}] + D[{rev}]"])


def growth_proc(kind: str, n: int):
    """The proc of growth kind `kind` at size n, written to a module so that either
    system parses it from its source."""
    import importlib.util
    import tempfile

    dims = ", ".join(["N"] * (n if kind == "depth" else 2))
    bufs = ", ".join(f"{b}: f32[{dims}] @ DRAM" for b in "ABCD")
    src = (f"from __future__ import annotations\nfrom {IMPL} import proc, DRAM\n\n\n@proc\n"
           f"def grow(N: size, {bufs}):\n" + growth_source(kind, n) + "\n")
    path = os.path.join(tempfile.mkdtemp(), f"grow_{kind}_{n}.py")
    with open(path, "w") as f:
        f.write(src)
    spec = importlib.util.spec_from_file_location(f"grow_{kind}_{n}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.grow


def growth_steps(kind: str, n: int, p):
    """The two timed parts of kind `kind` at size n on its proc p: a function of no
    argument, and one of its result (the steps kind forwards a cursor to it; the others
    split p itself)."""
    if kind == "steps":
        def schedule():
            q = p
            for k in range(n):
                step = k % _CYCLE
                if step == 0:
                    q = reorder_loops(q, q.find_loop("i"))  # noqa: F405
                elif step == 1:
                    q = reorder_loops(q, q.find_loop("j"))  # noqa: F405
                elif step == 2:
                    q = fission(q, q.find_loop("j").body()[1].before(), n_lifts=2)  # noqa: F405
                elif step == 3:
                    loops = q.find_loop("i", many=True)
                    q = fuse(q, loops[0], loops[1])  # noqa: F405
                else:
                    loops = q.find_loop("j", many=True)
                    q = fuse(q, loops[0], loops[1])  # noqa: F405
            return q

        first = p.find_loop("i")
        return schedule, lambda q: q.forward(first)
    if kind == "depth":
        outer, inner, lifts, mid = "i0", f"i{n - 1}", n, 1
    else:
        outer, inner, lifts, mid = "i", "j", 2, (n // 2 if kind == "body" else 1)

    def nest(q, name):
        loops = q.find_loop(name, many=True)
        return loops[len(loops) // 2] if kind == "nests" else loops[0]

    def split(q):
        return fission(q, nest(q, inner).body()[mid].before(), n_lifts=lifts)  # noqa: F405

    return (lambda: reorder_loops(p, nest(p, outer))), lambda q: split(p)  # noqa: F405


def growth_child(kind: str, n: int) -> None:
    sys.setrecursionlimit(20000)  # Exo's parser recurses once per statement of a block
    p = growth_proc(kind, n)
    if IMPL == "knit":  # start z3 first: a one-time cost per process, not a growth
        from knit.analysis import smt

        smt._z3()
    first, second = growth_steps(kind, n, p)
    t0, c0 = time.perf_counter(), time.process_time()
    q = first()
    t1, c1 = time.perf_counter(), time.process_time()
    second(q)
    t2, c2 = time.perf_counter(), time.process_time()
    print(f"RESULT {t1 - t0:.6f} {t2 - t1:.6f} {c1 - c0:.6f} {c2 - c1:.6f}")


def growth(kinds, sizes, exo_py) -> None:
    print("how scheduling grows: seconds for each step (wall, and CPU: the machine may be "
          "shared), one run each in a fresh process per size and system; load average "
          f"{os.getloadavg()[0]:.1f}")
    for kind in kinds:
        what, default, (a, b) = GROWTH[kind]
        print(f"\n{what} ({kind}: see GROWTH in this file)")
        print(f"{'n':>6} {a:>14} {'(CPU)':>8} {b:>10} {'(CPU)':>8} "
              f"{'exo ' + a:>18} {'exo ' + b:>12}")
        for n in sizes or default:
            row = []
            for py, impl in ((sys.executable, "knit"), (exo_py, "exo")):
                if py is None:
                    row += [None] * 4
                    continue
                cmd = [py, os.path.abspath(__file__), "--impl", impl, "--growth-child",
                       kind, str(n)]
                r = subprocess.run(cmd, capture_output=True, text=True)
                line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT")),
                            None)
                if line is None:
                    err = (r.stderr.strip().splitlines() or ["no output"])[-1]
                    print(f"  {impl} {kind} {n} failed: {err[:150]}", file=sys.stderr)
                row += [float(x) for x in line.split()[1:]] if line else [None] * 4
            c = [f"{x:.3f}" if x is not None else "-" for x in row]
            print(f"{n:>6} {c[0]:>14} {c[2]:>8} {c[1]:>10} {c[3]:>8} {c[4]:>18} {c[5]:>12}")


def find_exo_python(arg: str | None) -> str | None:
    for py in (arg, os.environ.get("EXO_PYTHON"), sys.executable):
        if py and subprocess.run([py, "-c", "import exo"], capture_output=True).returncode == 0:
            return py
    return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--exo-python")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--impl", default="knit")
    ap.add_argument("--child", type=int)
    ap.add_argument("--growth", action="store_true")
    ap.add_argument("--growth-child", nargs=2, metavar=("KIND", "N"))
    ap.add_argument("--kinds", default=",".join(GROWTH),
                    help="with --growth: which tables (body, depth, nests, steps)")
    ap.add_argument("--sizes", help="with --growth: the sizes n (default: each table's)")
    ap.add_argument("--gemm", action="store_true")
    ap.add_argument("--gemm-child", action="store_true")
    ap.add_argument("--gemm-parts", action="store_true",
                    help="with --gemm: also where the CPU time goes (kernels, edges, ...)")
    args = ap.parse_args()
    if args.gemm_child:
        gemm_child(args.gemm_parts)
        return
    if args.gemm:
        gemm_line(args.gemm_parts)
        return
    if args.child:
        child(args.child)
        return
    if args.growth_child:
        growth_child(args.growth_child[0], int(args.growth_child[1]))
        return
    if args.growth:
        sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else None
        growth(args.kinds.split(","), sizes, find_exo_python(args.exo_python))
        return
    print(f"schedule: {STEPS} primitive calls (SGEMM blocking + AVX2 6x16 microkernel); "
          f"best of {args.repeat}, each system in a fresh process")
    knit_t = measure(sys.executable, "knit", args.repeat)
    exo_py = find_exo_python(args.exo_python)
    exo_t = measure(exo_py, "exo", args.repeat) if exo_py else None
    print(f"{'system':<8} {'define procs':>14} {'schedule':>10} {'per step':>10}")
    for name, t in (("knit", knit_t), ("exo", exo_t)):
        if t is not None:
            print(f"{name:<8} {t[0] * 1e3:>12.1f}ms {t[1]:>9.3f}s {t[1] / STEPS * 1e3:>8.1f}ms")
    if knit_t and exo_t:
        print(f"knit schedules {exo_t[1] / knit_t[1]:.1f}x faster than Exo on this schedule")
    elif exo_py is None:
        print("exo-lang is not installed here: pass --exo-python or set EXO_PYTHON to compare")
    gemm_line()


if __name__ == "__main__":
    main()
