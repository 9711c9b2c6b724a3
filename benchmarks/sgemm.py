"""knit's GEMM (knit.stdlib.gemm) against OpenBLAS through NumPy, on one and two threads,
beside the machine's measured FMA peak: one run, one table, one plot.

    .venv/bin/python benchmarks/sgemm.py [--dtype f32|f64|both] [--json PATH] [--png PATH]
                                         [--quick] [--sizes 100,777,64x2048x2048]
                                         [--cpu-time] [--pin] [--target host]
                                         [--exo-python PATH --exo-app PATH]

knit's kernels are scheduled for this CPU's target (`--target host`, the default:
AVX-512 where the CPU has it, else AVX2 with FMA; knit.stdlib.gemm.host_target).

Every figure comes from this one process: for each shape the four contenders (knit 1
thread, knit 2 threads, OpenBLAS 1 and 2 threads) run in interleaved rounds, so that a
burst of load from elsewhere on the machine hits all of them alike; the table gives the
best round and the median round in GFLOP/s (2 M N K flops per call). Each result is
checked against NumPy's in the same run. knit is timed through its Python call (as
NumPy is through its own), so the smallest sizes include knit's per-call overhead.

Two threads: after a call, each library's idle worker spins on its core for a while
(OpenBLAS's ~0.13 s, OpenMP's 5-10 ms here) before it sleeps; called right after the
other library, a contender's worker waits for that core, and both libraries' calls ran
about 20 times slower (benchmarks/two_threads.py --mode interleaved). So every two-thread
contender is followed by a pause of SETTLE seconds, in the calibration as in the rounds,
and each one's rounds start with the other's threads asleep. --pin also keeps each
contender's threads on different cores (the main thread on one, every worker on the
other), which the kernel otherwise sometimes does not after a pause (docs/
performance.md, "Threads"); it is off by default: the table shows what a user's
program gets.

The FMA peak is measured, not assumed, in the same interleaved rounds: benchmarks/
fma_peak.py's loop on the widest vectors (AVX-512 where the CPU has it: on Intel's
server cores its peak is twice AVX2's) on one thread and on two (f64 peak = half the f32
peak: half the lanes).
With --exo-python (the Python of an environment where Exo 1.0 is installed: `pip
install exo-lang`) and --exo-app (Exo's apps/x86/sgemm/sgemm.py from its repository at
v1.0.0; the pip package has no apps), the f32 table gains Exo's SGEMM on one thread:
that Python runs Exo's `exocc` on the app script at benchmark time, and the C it writes
is compiled here with gcc -O3 -march=native. Nothing of Exo is part of knit.
Needs the `bench` extra (matplotlib, threadpoolctl): pip install -e '.[bench]'.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext

# OpenMP reads its thread count once, when the first parallel kernel is loaded
os.environ.setdefault("OMP_NUM_THREADS", "2")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from knit import proc  # noqa: E402
from knit.runtime.cpuinfo import flags as cpu_flags  # noqa: E402
from knit.stdlib.gemm import schedule_gemm  # noqa: E402
from knit.stdlib.gemm.targets import resolve  # noqa: E402

SQUARE = (64, 128, 256, 512, 1024, 2048)
ODD = (100, 333, 777)
SKINNY = ((2048, 64, 2048), (64, 2048, 2048), (2048, 2048, 64))
# a few rows against a large B, and a deep K under odd M and N (their last rows and
# columns, and a packed panel that serves few tiles)
FEW_ROWS_DEEP = ((20, 2048, 2048), (150, 150, 1500))
# a row times a matrix and a matrix times a column (GEMVs, bound by reading the matrix)
GEMV = ((1, 2048, 2048), (2048, 1, 2048))


@proc
def sgemm(M: size, N: size, K: size, A: [f32][M, K] @ DRAM, B: [f32][K, N] @ DRAM,
          C: [f32][M, N] @ DRAM):
    assert stride(A, 1) == 1
    assert stride(B, 1) == 1
    assert stride(C, 1) == 1
    for i in seq(0, M):
        for j in seq(0, N):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


@proc
def dgemm(M: size, N: size, K: size, A: [f64][M, K] @ DRAM, B: [f64][K, N] @ DRAM,
          C: [f64][M, N] @ DRAM):
    assert stride(A, 1) == 1
    assert stride(B, 1) == 1
    assert stride(C, 1) == 1
    for i in seq(0, M):
        for j in seq(0, N):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


PLAIN = {"f32": sgemm, "f64": dgemm}
NP = {"f32": np.float32, "f64": np.float64}


def load() -> str:
    return open("/proc/loadavg").read().split(" ", 3)[:3].__str__()


def _peak_lib() -> str:
    """benchmarks/fma_peak.py's loop (the widest vectors: the GEMMs run on AVX-512 where
    the CPU has it) on `threads` threads at once; returns the flops done."""
    from fma_peak import peak_source

    return peak_source(512) + r"""
double knit_fma_peak(long n, int threads) {
    double flops = 0;
    #pragma omp parallel num_threads(threads) reduction(+ : flops)
    flops += peak_flops(n);
    return flops;
}
int knit_peak_lanes(void) { return peak_lanes(); }
"""


def peak_kernel():
    """A callable running the FMA peak loop for (iterations, threads), built once: the
    peak is measured in the same interleaved rounds as the GEMMs, under the same load."""
    import ctypes
    import tempfile

    d = tempfile.mkdtemp()
    src, lib = os.path.join(d, "peak.c"), os.path.join(d, "peak.so")
    with open(src, "w") as f:
        f.write(_peak_lib())
    subprocess.run(["gcc", "-O2", "-march=native", "-fopenmp", "-fPIC", "-shared", "-o", lib,
                    src], check=True)
    so = ctypes.CDLL(lib)
    fn = so.knit_fma_peak
    fn.argtypes, fn.restype = [ctypes.c_long, ctypes.c_int], ctypes.c_double

    def run(iters: int, threads: int) -> float:
        return fn(iters, threads)
    run.flops_per_iter = 2.0 * 12 * so.knit_peak_lanes()  # 12 chains of FMAs
    return run


def exo_sgemm(exo_python: str, app: str):
    """Exo 1.0's SGEMM as a callable (M, N, K, A, B, C): the user's Exo generates the C
    from its app script (`exocc`), gcc compiles it, ctypes loads `sgemm_exo`."""
    import ctypes
    import tempfile

    if not os.path.isfile(app):
        raise SystemExit(f"--exo-app {app}: no such file (Exo's apps/x86/sgemm/sgemm.py)")
    d = tempfile.mkdtemp(prefix="knit-exo-sgemm-")
    t = time.perf_counter()
    subprocess.run([exo_python, "-c", "import sys; from exo.main import main; sys.exit(main())",
                    "-o", d, "--stem", "sgemm", app], check=True, cwd=os.path.dirname(app) or ".")
    gen = time.perf_counter() - t
    lib = os.path.join(d, "sgemm.so")
    subprocess.run(["gcc", "-O3", "-march=native", "-fPIC", "-shared", "-o", lib,
                    os.path.join(d, "sgemm.c")], check=True)
    fn = ctypes.CDLL(lib).sgemm_exo
    ptr = ctypes.POINTER(ctypes.c_float)
    fast32 = ctypes.c_long  # int_fast32_t: long on glibc's x86-64
    fn.argtypes = [ctypes.c_void_p, fast32, fast32, fast32, ptr, ptr, ptr]
    fn.restype = None
    print(f"Exo: {exo_python} generated apps/x86/sgemm's C in {gen:.1f} s ({d})")

    def call(m, n, k, A, B, C):
        for x in (A, B, C):  # Exo's SGEMM takes dense row-major f32 matrices
            assert x.dtype == np.float32 and x.flags.c_contiguous
        fn(None, m, n, k, A.ctypes.data_as(ptr), B.ctypes.data_as(ptr), C.ctypes.data_as(ptr))
    return call


def blas_core() -> str:
    for info in threadpool_info():
        if info.get("internal_api") == "openblas":
            return (f"OpenBLAS {info.get('version')} ({info.get('architecture')} kernels, "
                    f"{info.get('threading_layer')} threading)")
    return "no OpenBLAS found under NumPy: " + ", ".join(
        i.get("internal_api", "?") for i in threadpool_info())


def pin_threads() -> None:
    """Keep the two-thread contenders' threads on different cores: this (the calling)
    thread on the first CPU of the process's affinity mask, every other thread of the
    process (OpenBLAS's and OpenMP's workers alike) on the others. Unpinned, the kernel
    sometimes ran both threads of a contender on one core: while one works, the other
    spins at the barrier on the same core (OpenMP ~5-10 ms before it sleeps, OpenBLAS
    ~0.13 s), and calls took ~80 times longer (docs/performance.md, "Threads")."""
    import threading

    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return
    me = threading.get_native_id()
    others = sorted(int(t) for t in os.listdir("/proc/self/task") if int(t) != me)
    os.sched_setaffinity(me, {cpus[0]})
    for i, tid in enumerate(others):
        os.sched_setaffinity(tid, {cpus[1 + i % (len(cpus) - 1)]})


SETTLE = 0.3  # seconds after a two-thread contender (see measure)
LOOP = 0.02  # seconds of calls per timed loop


def calls_per_loop(clock, f) -> int:
    """How many calls of f fill a timed loop of LOOP seconds: one call first, untimed
    (the first call after a pause pays waking the threads), then calls for at least
    LOOP / 2 seconds. Timed from that one first call, a two-thread loop was one or two
    calls long and mostly the wake-up: 256^3 knit 2T 16.7/3.2 and OpenBLAS 2T 3.1/2.4
    GFLOP/s best/median (load 1.9), the 128^3 and 256^3 anomaly of the idle runs."""
    f()
    n, t = 0, clock()
    while True:
        f()
        n += 1
        spent = clock() - t
        if spent >= LOOP / 2:
            return max(1, round(LOOP * n / spent))


def measure(fns: dict, rounds: int, cpu_time: bool = False, pin: bool = False) -> dict:
    """Interleaved rounds of every contender {name: (flops per call, context, call)};
    {name: (best, median) GFLOP/s}. The context (the BLAS thread count) is entered
    outside the timed calls. With cpu_time, the one-thread contenders (names ending in
    " 1") are timed by this thread's CPU time, which does not count the time the thread
    waits for a core that other processes hold (the noise of a shared machine). With pin,
    the threads are kept apart (`pin_threads`) once every contender has made its threads."""
    def clock(name):
        return time.thread_time if cpu_time and name.endswith(" 1") else time.perf_counter

    reps = {}
    for name, (flops, ctx, f) in fns.items():
        with ctx():
            reps[name] = calls_per_loop(clock(name), f)
        if name.endswith(" 2"):
            time.sleep(SETTLE)  # as in the rounds below: the next contender starts alone
    if pin:
        pin_threads()
    times = {name: [] for name in fns}
    names = list(fns)
    for r in range(rounds):
        # each round starts with the next contender: in a fixed order the first ones ran
        # 3-7% slower than identical ones listed later (benchmarks/gemm_ab.py, session 10)
        for name in names[r % len(names):] + names[:r % len(names)]:
            flops, ctx, f = fns[name]
            tick = clock(name)
            with ctx():
                if name.endswith(" 2"):
                    # one untimed call wakes the contender's sleeping threads (they sleep
                    # after the last pause): waking a thread took up to ~10 ms here when
                    # the other core was busy, and the timed loop measures calls in a row
                    f()
                t = tick()
                for _ in range(reps[name]):
                    f()
                times[name].append((tick() - t) / reps[name])
            if name.endswith(" 2"):
                # OpenBLAS's idle threads spin for ~0.1-0.3 s after a call (and OpenMP's
                # for a while too), holding a core: without a pause, the contender after
                # a two-thread one ran at half speed (knit 2T 1024^3: 85-102 GFLOP/s
                # right after BLAS 2T, 183-197 alone or after a 0.3 s pause)
                time.sleep(SETTLE)
    return {n: (fns[n][0] / min(ts) / 1e9, fns[n][0] / statistics.median(ts) / 1e9)
            for n, ts in times.items()}


def bench_shape(m, n, k, dtype, kernels, peak, rounds, rng, cpu_time=False, exo=None,
                pin=False):
    t = NP[dtype]
    A, B = rng.standard_normal((m, k)).astype(t), rng.standard_normal((k, n)).astype(t)
    want = A.astype(np.float64) @ B.astype(np.float64)
    checked = dict(kernels, **({"exo 1": exo} if exo else {}))
    for name, f in checked.items():  # checked against NumPy in this run
        C = np.zeros((m, n), t)
        f(m, n, k, A, B, C)
        err = np.abs(C - want).max() / max(1.0, np.abs(want).max())
        if err > (1e-4 if dtype == "f32" else 1e-12):
            raise SystemExit(f"{name} disagrees with NumPy at {m}x{n}x{k} {dtype}: {err:.2e}")
    C = np.zeros((m, n), t)
    one, two = kernels["knit 1"], kernels["knit 2"]
    flops = 2.0 * m * n * k
    iters = 200000  # about 0.33 ms of FMA loop at the peak (384 flops an iteration)
    fns = {"knit 1": (flops, nullcontext, lambda: one(m, n, k, A, B, C)),
           "knit 2": (flops, nullcontext, lambda: two(m, n, k, A, B, C)),
           "blas 1": (flops, lambda: threadpool_limits(1, "blas"), lambda: np.matmul(A, B)),
           "blas 2": (flops, lambda: threadpool_limits(2, "blas"), lambda: np.matmul(A, B)),
           "peak 1": (peak.flops_per_iter * iters, nullcontext, lambda: peak(iters, 1)),
           "peak 2": (2 * peak.flops_per_iter * iters, nullcontext, lambda: peak(iters, 2))}
    if exo is not None:
        fns["exo 1"] = (flops, nullcontext, lambda: exo(m, n, k, A, B, C))
    return measure(fns, rounds, cpu_time, pin)


def parse_shape(text: str) -> tuple[int, int, int]:
    """"100" -> (100, 100, 100); "64x2048x2048" -> (64, 2048, 2048)."""
    dims = [int(d) for d in text.lower().split("x")]
    if len(dims) not in (1, 3) or min(dims) < 1:
        raise SystemExit(f"--sizes: {text!r} is not n or MxNxK")
    return (dims[0],) * 3 if len(dims) == 1 else tuple(dims)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtype", default="both", choices=["f32", "f64", "both"])
    ap.add_argument("--json", help="also write the best-of figures as JSON rows")
    ap.add_argument("--png", default=os.path.join(HERE, "sgemm.png"),
                    help="where the plot goes ('': no plot)")
    ap.add_argument("--target", default="host",
                    help="knit's GEMM target (default: this CPU's, knit.stdlib.gemm.host_target)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="sizes up to 512 only")
    ap.add_argument("--sizes", help="only these shapes, comma-separated: n (n x n x n) or "
                    "MxNxK, e.g. 100,777,64x2048x2048 (a quick look at a few sizes)")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time the one-thread runs by thread CPU time (a loaded machine)")
    ap.add_argument("--loop", type=float, default=LOOP,
                    help=f"seconds of calls per timed loop (default {LOOP})")
    ap.add_argument("--pin", action="store_true",
                    help="keep each two-thread contender's threads on different cores "
                    "(the main thread on one, the libraries' workers on the other)")
    ap.add_argument("--exo-python", help="a Python with Exo 1.0 (exo-lang) installed: "
                    "adds Exo's apps/x86/sgemm (f32, one thread) to the table")
    ap.add_argument("--exo-app", help="Exo's apps/x86/sgemm/sgemm.py (repository, v1.0.0)")
    args = ap.parse_args()
    globals()["LOOP"] = args.loop  # calls_per_loop's loop length
    args.target = resolve(args.target)
    if args.exo_python and "avx512f" not in cpu_flags():
        ap.error("--exo-python: Exo's apps/x86/sgemm is AVX-512 code, and this CPU has no "
                 "AVX-512 (it would not compile here)")
    if args.exo_python and not args.exo_app:
        ap.error("--exo-python needs --exo-app: Exo's apps/x86/sgemm/sgemm.py, from "
                 "github.com/exo-lang/exo at v1.0.0 (the pip package has no apps)")
    exo = exo_sgemm(args.exo_python, args.exo_app) if args.exo_python else None
    dtypes = ["f32", "f64"] if args.dtype == "both" else [args.dtype]
    shapes = [(s, s, s) for s in SQUARE] + [(s, s, s) for s in ODD] + list(SKINNY) + \
        list(FEW_ROWS_DEEP) + list(GEMV)
    if args.quick:
        shapes = [s for s in shapes if max(s) <= 512]
    if args.sizes:
        shapes = [parse_shape(s) for s in args.sizes.split(",")]

    print(f"load average at start: {load()} (the machine is shared: compare the ratios)")
    print(f"OpenBLAS: {blas_core()}")
    if args.pin:
        print("--pin: the main thread on one core, the libraries' worker threads on the other")
    peak = peak_kernel()
    rows, table = [], []
    rng = np.random.default_rng(0)
    for dtype in dtypes:
        t = time.perf_counter()
        k1 = schedule_gemm(PLAIN[dtype], args.target, threads=1)
        k2 = schedule_gemm(PLAIN[dtype], args.target, threads=2)
        sched = time.perf_counter() - t
        kernels = {"knit 1": k1.compile(), "knit 2": k2.compile()}
        print(f"\n{dtype}: both schedules ({args.target}, 1 thread and par) took {sched:.2f} s"
              f" to build; OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
        scale = 1.0 if dtype == "f32" else 0.5  # f64: half the lanes
        exo_here = exo if dtype == "f32" else None
        head = (f"{'M x N x K':>16} | {'knit 1T':>13} {'BLAS 1T':>13} {'ratio':>5} {'%pk':>4} | "
                f"{'knit 2T':>13} {'BLAS 2T':>13} {'ratio':>5} {'%pk':>4}"
                + (f" | {'Exo 1T':>13} {'knit/Exo':>8}" if exo_here else ""))
        print(("one-thread columns timed by thread CPU time; " if args.cpu_time else "") +
              f"GFLOP/s, best / median of {args.rounds} interleaved rounds; ratio = knit / "
              f"BLAS (best); %pk = knit best / the FMA peak measured in the same rounds"
              f"\n{head}\n{'-' * len(head)}")
        for m, n, k in shapes:
            r = bench_shape(m, n, k, dtype, kernels, peak, args.rounds, rng, args.cpu_time,
                            exo_here, args.pin)
            line = f"{f'{m}x{n}x{k}':>16} |"
            for th in (1, 2):
                pk = r[f"peak {th}"][0] * scale
                kb, km = r[f"knit {th}"]
                bb, bm = r[f"blas {th}"]
                line += (f" {kb:6.1f}/{km:6.1f} {bb:6.1f}/{bm:6.1f} {kb / bb:5.2f} "
                         f"{100 * kb / pk:3.0f}% |")
                rows.append({"m": m, "n": n, "k": k, "dtype": dtype, "threads": th,
                             "target": args.target,
                             "knit_gflops": round(kb, 2), "blas_gflops": round(bb, 2),
                             "peak_gflops": round(pk, 2)})
            if exo_here:
                eb, em = r["exo 1"]
                line += f" {eb:6.1f}/{em:6.1f} {r['knit 1'][0] / eb:8.2f}"
                rows[-2]["exo_gflops"] = round(eb, 2)
            print(line.rstrip("|"), flush=True)
            table.append((dtype, m, n, k, r))
    print(f"\nload average at end: {load()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
        print(f"wrote {args.json}")
    if args.png:
        plot(rows, args.png)


def plot(rows, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dtypes = sorted({r["dtype"] for r in rows}, key=["f32", "f64"].index)
    fig, axes = plt.subplots(1, len(dtypes), figsize=(6.5 * len(dtypes), 4.5), squeeze=False)
    for ax, dtype in zip(axes[0], dtypes):
        for th, style in ((1, "-"), (2, "--")):
            sq = sorted((r for r in rows if r["dtype"] == dtype and r["threads"] == th
                         and r["m"] == r["n"] == r["k"]), key=lambda r: r["n"])
            ns = [r["n"] for r in sq]
            ax.plot(ns, [r["knit_gflops"] for r in sq], "o" + style, color="C0",
                    label=f"knit, {th} thread{'s' * (th > 1)}")
            ax.plot(ns, [r["blas_gflops"] for r in sq], "s" + style, color="C1",
                    label=f"OpenBLAS, {th} thread{'s' * (th > 1)}")
            ax.plot(ns, [r["peak_gflops"] for r in sq], style, color="gray", lw=0.8,
                    label=f"measured FMA peak, {th} core{'s' * (th > 1)}")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("n (M = N = K)")
        ax.set_ylabel("GFLOP/s")
        ax.set_title(f"{'S' if dtype == 'f32' else 'D'}GEMM")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
