"""GEMM scheduling: from three plain loops to a BLIS-style kernel, with the public API.

    from knit.stdlib.gemm import schedule_gemm, AVX512_TARGET
    fast = schedule_gemm(gemm, AVX512_TARGET)

`gemm` is any procedure of the shape

    for i in seq(0, M):
        for j in seq(0, N):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]

(any names; A, B, C tensors or windows with unit stride along their rows, f32 or f64).
The result computes the same thing, proven step by step like any schedule, organised as
BLIS organises it (Van Zee and van de Geijn, "BLIS: A Framework for Rapidly
Instantiating BLAS Functionality", 2015):

    for jc: NC columns of C at a time              (B's panel stays in L3)
      for pc: KC of the k range                    (a packed KC x NC panel of B)
        pack B[pc, jc] into Bp[NC / NR][KC][NR]
        for ic: MC rows                            (a packed MC x KC block of A, in L2)
          pack A[ic, pc] into Ap[MC / MR][KC][MR]
          for jr: NR columns   (the `par` loop)
            for ir: MR rows
              microkernel: C[MR, NR] += Ap[ir] * Bp[jr]   (MR x NR in registers)

The edges are cut off before blocking and kept as their own loop nests: K % KC in a
second pass of the same kernel, M % MR rows and N % NR columns in two edge nests whose
inner loop runs along a row of C (vectorised by the C compiler); cache blocks that run
past the matrix are guarded (their copies too), so no user array is ever padded.

Everything here is an ordinary function over procedures; hardware knowledge (registers,
instructions) comes from knit.platforms through a `Target`.
"""

from knit.stdlib.gemm.kernels import (
    masked_kernel,
    microkernel,
    microkernel_ref,
    pad_loop,
    schedule_masked_kernel,
    schedule_microkernel,
)
from knit.stdlib.gemm.schedule import (
    GemmParts,
    block_for_caches,
    call_microkernel,
    cut_edges,
    edge_columns,
    edge_rows,
    gemm_parts,
    pack_panels,
    parallelize,
    parallelize_edges,
    schedule_gemm,
)
from knit.stdlib.gemm.targets import Blocking, Isa, Target, cache_sizes, choose_blocking, target

__all__ = ["Blocking", "GemmParts", "Isa", "Target", "block_for_caches", "cache_sizes",
           "call_microkernel", "choose_blocking", "cut_edges", "edge_columns",
           "edge_rows", "gemm_parts", "masked_kernel", "microkernel", "microkernel_ref",
           "pack_panels", "pad_loop", "parallelize", "parallelize_edges",
           "schedule_gemm", "schedule_masked_kernel", "schedule_microkernel", "target"]
