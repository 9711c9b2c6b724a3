"""The machine's single-core fp32 FMA peak, measured: 12 independent FMA chains (enough
to cover FMA latency on two pipes), timed in C, on the widest vectors the CPU has.

    python benchmarks/fma_peak.py            # prints GFLOP/s for gcc (and clang if present)

Widest: AVX-512 where the compiler targets it (-march=native defines __AVX512F__), else
AVX2. The two differ by the CPU: Zen 4 runs a 512-bit FMA as two 256-bit halves (the
same peak either way), Intel's server cores with two 512-bit FMA ports twice the AVX2
peak (a Xeon here: AVX2 129, AVX-512 240 GFLOP/s). A GEMM on AVX-512 is judged against
the AVX-512 peak; `width=256` gives the AVX2 peak, for the AVX2 microkernels.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

# FMA_LOOP(n): the body shared with benchmarks/sgemm.py's two-thread peak; defines
# `peak_flops(n)`, the flops of n iterations of 12 chains, on VEC (set by PEAK_VEC_WIDTH)
PEAK_FN = r"""
#include <immintrin.h>
#if PEAK_VEC_WIDTH == 512 && defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define STORE _mm512_storeu_ps
#define ADD _mm512_add_ps
#else
typedef __m256 vec;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define STORE _mm256_storeu_ps
#define ADD _mm256_add_ps
#endif
static int peak_lanes(void) { return LANES; }
static double peak_flops(long n) {
    vec a = SET1(1.0000001f), b = SET1(0.9999999f);
    vec c0 = SET1(0.f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0,
        c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
    for (long i = 0; i < n; i++) {
        c0 = FMA(a, b, c0); c1 = FMA(a, b, c1); c2 = FMA(a, b, c2); c3 = FMA(a, b, c3);
        c4 = FMA(a, b, c4); c5 = FMA(a, b, c5); c6 = FMA(a, b, c6); c7 = FMA(a, b, c7);
        c8 = FMA(a, b, c8); c9 = FMA(a, b, c9); c10 = FMA(a, b, c10); c11 = FMA(a, b, c11);
        __asm__ volatile("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5),
                              "+v"(c6), "+v"(c7), "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11));
    }
    float out[LANES];
    STORE(out, ADD(c0, c11));
    return 2.0 * LANES * 12 * n + (out[0] == 12345.f);  /* (keeps the chains live) */
}
"""

PEAK_MAIN = r"""
#include <stdio.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
                          return t.tv_sec + t.tv_nsec * 1e-9; }
int main(void) {
    const long n = 100000000 / (peak_lanes() / 8);
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t = now(), gf = peak_flops(n);
        t = now() - t;
        if (gf / t / 1e9 > best) best = gf / t / 1e9;
    }
    printf("%.2f %d\n", best, peak_lanes() * 32);
    return 0;
}
"""


def compilers() -> list[str]:
    return [cc for cc in ("gcc", "clang") if shutil.which(cc)]


def peak_source(width: int = 512) -> str:
    """The peak loop's C (`peak_flops`, `peak_lanes`) on `width`-bit vectors where the
    compiler targets them, else on AVX2's 256."""
    return f"#define PEAK_VEC_WIDTH {width}\n" + PEAK_FN


def measure_peak_width(cc: str = "gcc", width: int = 512) -> tuple[float, int]:
    """(best-of-3 GFLOP/s, vector bits used) of the 12-chain FMA loop compiled by
    `cc -O2 -march=native` on the widest vectors up to `width` bits."""
    with tempfile.TemporaryDirectory() as d:
        src, exe = os.path.join(d, "peak.c"), os.path.join(d, "peak")
        with open(src, "w") as f:
            f.write(peak_source(width) + PEAK_MAIN)
        subprocess.run([cc, "-O2", "-march=native", "-o", exe, src], check=True)
        out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    gf, bits = out.split()
    return float(gf), int(bits)


def measure_peak(cc: str = "gcc", width: int = 512) -> float:
    """Best-of-3 GFLOP/s of the FMA loop on the widest vectors up to `width` bits (256:
    AVX2's peak, for an AVX2 kernel)."""
    return measure_peak_width(cc, width)[0]


if __name__ == "__main__":
    for cc in compilers():
        for width in (256, 512):
            gf, bits = measure_peak_width(cc, width)
            if bits == width:
                print(f"{cc}: fp32 FMA peak {gf:.1f} GFLOP/s (one core, {bits}-bit vectors)")
