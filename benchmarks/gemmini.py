"""Modelled cycles and array utilization on the Gemmini-style accelerator of
knit.platforms.gemmini: a naive vendor-style tiling (one 16-wide tile at a time, every
instruction configuring itself, one buffer per operand) against the scheduled kernels of
examples/gemmini_matmul.py and examples/gemmini_conv.py, at ResNet-50's 3x3 convolution
layers (batch 1) and some matmul shapes. Every result is checked against NumPy first.

    PYTHONPATH=src .venv/bin/python benchmarks/gemmini.py [--quick] [--plot PATH]

The cycles are the simulator's cost model (docs/gemmini.md), with its defaults: DMA at
16 bytes/cycle, 80 cycles of DMA latency, 20 cycles per configuration switch, 32
instructions in flight. Scheduling time is wall time of the schedule function (the
second of two runs; the first pays for imports and caches).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).parents[1]


def _example(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


mm = _example("gemmini_matmul")
cv = _example("gemmini_conv")
from knit.platforms.gemmini import simulate  # noqa: E402

MATMULS = [(128, 128, 128), (256, 256, 256), (512, 512, 512), (784, 1024, 256),
           (3136, 64, 256)]
# ResNet-50's 3x3 convolutions (conv2_x .. conv5_x), batch 1: (out_dim, in_ch, out_ch)
CONVS = [(56, 64, 64), (28, 128, 128), (14, 256, 256), (7, 512, 512)]


def _timed(f, *args):
    f(*args)
    t = time.perf_counter()
    p = f(*args)
    return p, time.perf_counter() - t


def run_matmul(N, M, K):
    rng = np.random.default_rng(0)
    A = rng.integers(-128, 128, (N, K), dtype=np.int8)
    B = rng.integers(-128, 128, (K, M), dtype=np.int8)
    scale, want = np.float32(1 / 2048), None
    want = mm.reference(A, B, scale, True)
    out = {}
    for name, make in (("naive", mm.naive_matmul), ("scheduled", mm.scheduled_matmul)):
        p, secs = _timed(make, N, M, K)
        C = np.zeros((N, M), np.int8)
        stats = simulate(p)(scale, True, A, B, C)
        assert (C == want).all(), f"{name} matmul {N}x{M}x{K} differs from NumPy"
        out[name] = (stats, secs)
    return out


def run_conv(od, ic, oc):
    inp, w, bias = cv.inputs(1, od, oc, ic)
    scale = np.float32(1 / 4096)
    want = cv.reference(inp, w, bias, scale, True)
    out = {}
    for name, make in (("naive", cv.naive_conv), ("scheduled", cv.scheduled_conv)):
        p, secs = _timed(make, 1, od, oc, ic)
        o = np.zeros((1, od, od, oc), np.int8)
        stats = simulate(p)(scale, True, inp, w, bias, o)
        assert (o == want).all(), f"{name} conv {od}x{od} {ic}->{oc} differs from NumPy"
        out[name] = (stats, secs)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the two smallest of each")
    ap.add_argument("--plot", default=str(ROOT / "benchmarks" / "gemmini.png"))
    args = ap.parse_args(argv)
    cases = [("matmul", f"{n}x{m}x{k}", run_matmul, (n, m, k)) for n, m, k in MATMULS]
    cases += [("conv3x3", f"{od}x{od} {ic}->{oc}", run_conv, (od, ic, oc))
              for od, ic, oc in CONVS]
    if args.quick:
        cases = cases[:2] + cases[len(MATMULS):len(MATMULS) + 2]
    head = (f"{'kernel':8s} {'shape':16s} {'naive cycles':>13s} {'sched cycles':>13s} "
            f"{'ratio':>6s} {'naive util':>10s} {'sched util':>10s} {'sched time':>10s}")
    print(head)
    print("-" * len(head))
    rows = []
    for kind, shape, run, a in cases:
        r = run(*a)
        (n, _), (s, secs) = r["naive"], r["scheduled"]
        rows.append((kind, shape, n, s))
        print(f"{kind:8s} {shape:16s} {n.cycles:13.0f} {s.cycles:13.0f} "
              f"{n.cycles / s.cycles:6.2f} {n.utilization:10.1%} {s.utilization:10.1%} "
              f"{secs:9.2f}s", flush=True)
    _plot(rows, args.plot)
    print(f"plot: {args.plot}")


def _plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{k}\n{s}" for k, s, _, _ in rows]
    x = np.arange(len(rows))
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    ax1.bar(x - 0.2, [n.cycles for _, _, n, _ in rows], 0.4, label="naive tiling")
    ax1.bar(x + 0.2, [s.cycles for _, _, _, s in rows], 0.4, label="scheduled")
    ax1.set_yscale("log")
    ax1.set_ylabel("modelled cycles")
    ax1.legend()
    ax2.bar(x - 0.2, [100 * n.utilization for _, _, n, _ in rows], 0.4, label="naive tiling")
    ax2.bar(x + 0.2, [100 * s.utilization for _, _, _, s in rows], 0.4, label="scheduled")
    ax2.axhline(80, color="grey", linestyle="--", linewidth=1)
    ax2.set_ylabel("16x16 array utilization (%)")
    ax2.set_ylim(0, 100)
    ax2.set_xticks(x, labels, fontsize=8)
    fig.suptitle("knit.platforms.gemmini: naive tiling vs scheduled (simulator's cost model)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
