"""x86 vector hardware as a knit library: the AVX2 and AVX-512 register memories and
the instructions that move data in and out of them and compute on them.

Written with knit's public API only, as a user would write it. Each instruction is an
`@instr`: its C template is what the compiler emits, its body the exact meaning, as
plain loops (so `replace` can find it, and `interpret` can run it). Names and argument
orders are Exo's where Exo has the instruction (`mm256_fmadd_ps(dst, src1, src2)` but
`mm512_fmadd_ps(A, B, C)`, both meaning `dst += src1 * src2`).

Where a body updates only lanes `i < N` (the prefix and masked instructions), the C
merges into the register's old value, so it does exactly what the body says; that is
why register allocations start zeroed (see `_Vectors.alloc`).

Compiling with `-DKNIT_USE_SIMDE` includes SIMDe (Debian package `libsimde-dev`)
instead of `<immintrin.h>`, so the same C runs on machines without AVX-512 (or
without x86). The masked instructions bring small C helpers that also work around
SIMDe 0.7's gaps (no AVX-512 masked loads and stores; AVX2 masked loads that read
every lane).

Exact up to rounding: the FMAs round once where the body rounds twice, and
`avx2_assoc_reduce_add_ps/pd` and `mm512_reduce_add_ps/pd` add in a tree where the body
adds in order.
"""

from knit import lazy_instrs
from knit.libs.externs import relu, select  # re-exported, as Exo's x86 module does

# The instruction sets' names are this module's API (listed in __all__ below). Their
# object code is parsed when an instr is first used (a schedule uses a few of ~70): the
# package is imported before either submodule, so they are always loaded here.
with lazy_instrs():
    from knit.platforms.x86.avx2 import *  # noqa: F403
    from knit.platforms.x86.avx2_masked import *  # noqa: F403
    from knit.platforms.x86.avx2_ui16_prefix import *  # noqa: F403
    from knit.platforms.x86.avx512 import *  # noqa: F403
from knit.platforms.x86.memories import AVX2, AVX512, XMM

__all__ = ["AVX2", "AVX512", "XMM", "relu", "select",
           "prefetch", "prefetch_block",  # noqa: F405 -- from avx2's star import
           ] + sorted(
    n for n in dir() if n.startswith(("mm_", "mm256_", "mm512_", "avx2_")))
