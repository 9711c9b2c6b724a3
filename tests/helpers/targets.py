"""Which GEMM targets this CPU runs, for the tests of knit.stdlib.gemm: a schedule for
another target is still checked, in the interpreter (its C runs on the machines with
the instructions; session 19's AMD Zen 3 had AVX2 and no AVX-512)."""

import knit
from knit.runtime.cpuinfo import flags

_NEEDS = {"avx512": {"avx512f", "avx512vl"}, "avx2": {"avx2", "fma"}}


def runs_here(target: str) -> bool:
    """Whether this CPU runs the C of `target`'s kernels natively."""
    return _NEEDS[target] <= flags()


def check_equiv_here(p, q, target: str, **kw):
    """knit.check_equiv(p, q, **kw), compiled (and interpreted at small sizes) where
    this CPU runs `target`'s C; else interpreted only (compiled=False): the rewrites'
    meaning is checked on every machine, the C on machines with the instructions (and
    each instruction's C through SIMDe, tests/platforms/test_check_instr.py). Interpreted
    only, the sizes not given are drawn small (check_equiv's `max_size`), so pass sizes
    that cross the register and cache blocks."""
    if not runs_here(target):
        kw = dict(kw, compiled=False, interpret=True)
    return knit.check_equiv(p, q, **kw)


def build_flags(target: str) -> list[str]:
    """extra_flags that let gcc build `target`'s C on any x86 CPU (to check what
    compiling checks; the library does not run here where the CPU lacks them)."""
    if runs_here(target):
        return []
    return {"avx512": ["-mavx512f", "-mavx512vl", "-mavx512dq"], "avx2": ["-mavx2", "-mfma"]}[target]
