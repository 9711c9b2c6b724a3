"""The plain GEMM as text, parsed afresh on each call: for the GEMM library's tests that
need a new procedure object each time (what is built once, what is reused, what is
remembered), with another element type, memory of A, or assertions."""

from knit.procedure import parse_proc_string

GEMM_TEXT = """\
def gemm(M: size, N: size, K: size, A: [{t}][M, K] @ {mem}, B: [{t}][K, N] @ DRAM,
         C: [{t}][M, N] @ DRAM):
    assert stride(A, 1) == 1
    assert stride(B, 1) == 1
    assert stride(C, 1) == 1
{extra}    for i in seq(0, M):
        for j in seq(0, N):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]
"""


def plain_gemm(t: str = "f64", mem: str = "DRAM", extra: str = ""):
    """A new procedure object `gemm` (t: f32 or f64; mem: A's memory; extra: lines of
    assertions, each indented 4 spaces and ending in a newline)."""
    from knit import DRAM
    from knit.libs.memories import DRAM_ALIGNED64

    return parse_proc_string(GEMM_TEXT.format(t=t, mem=mem, extra=extra),
                             {"DRAM": DRAM, "DRAM_ALIGNED64": DRAM_ALIGNED64})


def kernel_of(q):
    """The one-thread kernel that `schedule_gemm(p, threads=1)`'s procedure calls (its
    body is that one call): the procedure whose structure a test reads."""
    (call,) = q.body()
    return call.subproc()
