"""The machine's single-core fp32 FMA peak, measured: 12 independent AVX2 FMA chains
(enough to cover FMA latency on two pipes), timed in C.

    python benchmarks/fma_peak.py            # prints GFLOP/s for gcc (and clang if present)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

PEAK_C = r"""
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
                          return t.tv_sec + t.tv_nsec * 1e-9; }
int main(void) {
    __m256 a = _mm256_set1_ps(1.0000001f), b = _mm256_set1_ps(0.9999999f);
    __m256 c0 = _mm256_set1_ps(0.f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0,
           c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
    const long n = 100000000;
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t = now();
        for (long i = 0; i < n; i++) {
            c0 = _mm256_fmadd_ps(a, b, c0); c1 = _mm256_fmadd_ps(a, b, c1);
            c2 = _mm256_fmadd_ps(a, b, c2); c3 = _mm256_fmadd_ps(a, b, c3);
            c4 = _mm256_fmadd_ps(a, b, c4); c5 = _mm256_fmadd_ps(a, b, c5);
            c6 = _mm256_fmadd_ps(a, b, c6); c7 = _mm256_fmadd_ps(a, b, c7);
            c8 = _mm256_fmadd_ps(a, b, c8); c9 = _mm256_fmadd_ps(a, b, c9);
            c10 = _mm256_fmadd_ps(a, b, c10); c11 = _mm256_fmadd_ps(a, b, c11);
            __asm__ volatile("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5),
                                  "+x"(c6), "+x"(c7), "+x"(c8), "+x"(c9), "+x"(c10), "+x"(c11));
        }
        t = now() - t;
        double gf = 2.0 * 8 * 12 * n / t / 1e9;
        if (gf > best) best = gf;
    }
    float out[8]; _mm256_storeu_ps(out, _mm256_add_ps(c0, c11));
    printf("%.2f %g\n", best, out[0]);
    return 0;
}
"""


def compilers() -> list[str]:
    return [cc for cc in ("gcc", "clang") if shutil.which(cc)]


def measure_peak(cc: str = "gcc") -> float:
    """Best-of-3 GFLOP/s of the 12-chain FMA loop compiled by `cc -O2 -march=native`."""
    with tempfile.TemporaryDirectory() as d:
        src, exe = os.path.join(d, "peak.c"), os.path.join(d, "peak")
        with open(src, "w") as f:
            f.write(PEAK_C)
        subprocess.run([cc, "-O2", "-march=native", "-o", exe, src], check=True)
        out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    return float(out.split()[0])


if __name__ == "__main__":
    for cc in compilers():
        print(f"{cc}: fp32 FMA peak {measure_peak(cc):.1f} GFLOP/s (one core)")
