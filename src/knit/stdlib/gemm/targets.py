"""GEMM targets: the register file and instructions of a machine (from knit.platforms),
and the cache blocks chosen from its cache sizes."""

from __future__ import annotations

import functools
import numbers
import os
from dataclasses import dataclass, field, replace
from fractions import Fraction

from knit.procedure import Procedure


@dataclass(frozen=True)
class Isa:
    """One vector register file and its four GEMM instructions for one element type."""

    memory: type  # the register memory (e.g. knit.platforms.x86.AVX512)
    lanes: int  # elements per register
    load: Procedure  # reg[0:lanes] = mem[0:lanes]
    store: Procedure  # mem[0:lanes] = reg[0:lanes]
    broadcast: Procedure  # reg[0:lanes] = mem[0] (a window of one element)
    fmadd: Procedure  # reg_c += reg_a * reg_b
    mr: int  # microkernel rows (one broadcast each)
    nr: int  # microkernel columns (a multiple of lanes)
    # lanes i < n only (AVX-512's masks; AVX2's masked loads and stores and blends):
    # load, store, broadcast, multiply-add; None elsewhere (NEON)
    masked: tuple | None = None
    # the same on registers of half the width (AVX-512VL's 256-bit masked forms; AVX2's
    # 128-bit ones), for the
    # last columns: a whole half vector, then a masked one (a masked 512-bit
    # multiply-add costs Zen 4 1.4 cycles, a masked 256-bit one 0.8); None: none
    half: Isa | None = None
    # and on registers of a quarter of the width (128 bits), after the half: a whole
    # quarter vector unmasked, the rest masked; None: none
    quarter: Isa | None = None
    # the KC x NR sliver of B spans this many L1 caches (`choose_blocking`): 1 is BLIS's
    # model (the sliver stays in L1); more makes KC deeper, so fewer microkernel calls
    # load and store their C tile (AVX-512 below: `avx512_kc_l1s`)
    kc_l1s: int | Fraction = 1
    # all of k in one pass (K < KC, the blocked kernel's third tile nest) as the other
    # nests: A's MC x K block packed, not MR rows of A read in place, and B's panel
    # copied row by row where an NC block is inside N, not down each sliver (AVX-512
    # f64 below); small problems, where packing A did not pay, take `schedule_small`
    all_k_like_blocks: bool = False
    # `load` for the kernels' row of B, kept in a register where the compiler would fold
    # it into every multiply-add that reads it (AVX-512: `mm512_loadu_ps_kept`); None:
    # `load`
    load_kept: Procedure | None = None
    # the register kernels' k loop (`microkernel`: packed, and on rows of A in place) in
    # chunks of this many (the C compiler unrolls each chunk), then the K % k_unroll
    # left: AVX-512 at full width, `avx512_k_unroll`
    k_unroll: int = 1
    # copies an MR x T block of A to T x MR, its transpose (`dst[T, MR] = src[MR, T]`),
    # for packing A's slivers (`pack_panels`); None: element by element
    pack_a: Procedure | None = None
    # the one-thread twin for rows of one MC block (`few_rows_twin_blocking`): True, A's
    # block the size of the blocked kernel's and, for f64, half its KC (measured on an
    # Intel Xeon, full-width 512-bit multiply-adds); False, one block twice the blocked
    # kernel's MC where A's block takes a quarter of L2 (Zen 4's rule, and the others')
    few_rows_same_a: bool = False
    # the last columns' rest of more than half the lanes (after the whole vectors) as one
    # masked full vector (`masked`), not a whole half and a masked one: one multiply-add
    # per row and k where the half scheme takes two. True where a masked full-width one
    # costs as much as a half-width one (AVX-512 with two full-width multiply-add ports:
    # Intel Xeon; not Zen 4, `half`'s note)
    masked_wide_rest: bool = False
    # reg[0:lanes] = 0, and scalar += the sum of reg's lanes (in a tree): the dot
    # products of a GEMV by rows (N = 1, `knit.stdlib.gemm.gemv`); None: no such kernel
    zero: Procedure | None = None
    reduce_add: Procedure | None = None


@dataclass(frozen=True)
class Target:
    """A machine for `schedule_gemm`: an `Isa` per element type ("f32", "f64")."""

    name: str
    isas: dict = field(default_factory=dict)
    # prefetch(m, n, x[m, n] window, locality hint), a cache line at a time from the start
    # of each row: the next C tile is prefetched where one exists, and rows of B ahead of
    # their copy (one call per block: a call per cache line was 8-9% of the whole GEMM
    # schedule's time, its calls to insert and check)
    prefetch: Procedure | None = None

    def isa(self, dtype: str) -> Isa:
        if dtype not in self.isas:
            raise ValueError(f"target {self.name} has no {dtype} kernel "
                             f"(it has {', '.join(sorted(self.isas))})")
        return self.isas[dtype]


def splits_512bit_fma(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU runs a 512-bit multiply-add as two 256-bit halves (AMD Zen 4,
    family 0x19: "double-pumped", AVX-512's peak is AVX2's) rather than on full-width
    units (Intel's AVX-512 cores, two per cycle on the Xeons: twice AVX2's peak; AMD
    Zen 5's desktop and server parts, family 0x1a). `cpuinfo`: the file to read
    (Linux's format); False where it cannot be read."""
    from knit.runtime.cpuinfo import fields

    info = fields(cpuinfo)
    return info.get("vendor_id") == "AuthenticAMD" and info.get("cpu family") == "25"


def avx512_kc_l1s(split_fma: bool) -> int | Fraction:
    """`Isa.kc_l1s` of AVX-512: how many L1 caches the KC x NR sliver of B spans.

    Where 512-bit multiply-adds are split in halves (Zen 4: one per cycle), 4: the
    sliver streams from L2 fast enough for the kernel, and a deeper KC loads and stores
    each C tile less often (docs/performance.md, *Cache blocks*; KC = 1024 on 32 KB).
    Where they run at full width, two per cycle (Intel Xeon, 48 KB L1, 2 MB L2), KC 384
    to 768 ran within the noise of each other, and 4/3 (KC 512, a 64 KB sliver) is the
    middle: one thread, f32, knit / OpenBLAS, KC 512 listed twice in one interleaved
    run (benchmarks/gemm_ab.py --sizes 1024,2048,777,512 --rounds 4, 0.1 s loops, load
    ~1.5): KC 512 1.02x, 0.97x, 0.90x, 1.02x; KC 384 1.01x, 0.96x, 0.91x, 1.04x; KC 768
    1.03x, 0.95x, 0.94x, 1.02x; KC 512 again 1.02x, 0.98x, 0.96x, 1.01x. Zen 4's 4 L1s
    (KC 1536 here) ran 0.55-0.66x, 0.73-0.82x, 0.71-0.75x in other runs: every K < KC
    took the all-of-k nest, reading A's rows in place."""
    return 4 if split_fma else Fraction(4, 3)


def avx512_k_unroll(split_fma: bool) -> int:
    """`Isa.k_unroll` of AVX-512: 4 where 512-bit multiply-adds run at full width, two
    a cycle (Intel Xeon): the 8 x 32 kernel's loop is 16 multiply-adds, 10 loads and 4
    µops of loop control a k, 8 cycles at the peak; in chunks of 4 k the control is a
    quarter. One thread, knit / OpenBLAS, the dumped C with and without `#pragma GCC
    unroll 4` on the packed kernel's k loop, each listed twice (benchmarks/gemm_ab.py
    --rounds 5 base=@... u4=@..., load ~0.8-1.0): f32 1024^3 0.95 / 0.98x -> 1.01 /
    1.03x, 2048^3 0.92 / 0.95x -> 0.98 / 1.00x, 777^3 0.92 / 0.93x -> 1.00 / 1.00x;
    f64 1024^3 0.98 / 1.00x -> 1.05 / 1.11x, 2048^3 0.94 / 0.94x -> 1.04 / 1.08x,
    777^3 0.93 / 0.94x -> 1.00 / 1.04x, 333^3 0.98 / 0.98x -> 1.08 / 1.09x. The
    kernels on rows of A in place too (small problems, the last rows, f32's all of k),
    against the packed kernel's alone (4 rounds, load ~1.0-1.3): f32 256^3 0.98 /
    1.00x -> 1.03 / 1.05x, 333^3 1.02 / 1.04x -> 1.11 / 1.12x, 100^3 1.01 / 1.02x ->
    1.03 / 1.04x; f64 256^3 1.06 / 1.09x -> 1.15 / 1.16x, 100^3 0.93 / 0.94x -> 0.96x.
    Split (Zen 4, one multiply-add a cycle, 16 cycles a k): 1, the code sessions 5-9
    measured there (the chunks were not measured on Zen 4)."""
    return 1 if split_fma else 4


def _x86_target(name: str, width: int, split_fma: bool) -> Target:
    from knit.platforms import x86

    def masked_forms(prefix: str, bits: str, load: str = "maskz_loadu") -> tuple:
        """`Isa.masked`: the instructions `{prefix}_{op}_{bits}` of knit.platforms.x86."""
        return tuple(getattr(x86, f"{prefix}_{op}_{bits}")
                     for op in (load, "mask_storeu", "mask_set1", "mask_fmadd"))

    def isa(t: str, mr: int, nr_regs: int) -> Isa:
        bits = {"f32": "ps", "f64": "pd"}[t]
        if width == 512:
            masked = masked_forms("mm512", bits)
            half = replace(isa_of(256, t, mr, 1), masked=masked_forms("mm256", bits),
                           quarter=replace(isa_of(128, t, mr, 1),
                                           masked=masked_forms("mm", bits)))
        else:
            # AVX2's masked forms (knit.platforms.x86.avx2_masked: masked loads and
            # stores, blends for the rest) on 256-bit registers, and a whole or masked
            # 128-bit vector where the rest is at most half the lanes: the last N % NR
            # columns, scalar loops before (f32 100^3 0.41x OpenBLAS on AMD Zen 3)
            masked = masked_forms("avx2", bits, "mask_loadu")
            half = replace(isa_of(128, t, mr, 1), masked=masked_forms("avx2_mm", bits,
                                                                      "mask_loadu"))
        # f64 on AVX-512 packs A where K < KC: 512^3 1.01x -> 1.07x OpenBLAS (best of
        # 15 interleaved rounds, median 38.7 -> 44.1 GFLOP/s; 520^3, 400^3, 512 x 512 x
        # 700 +1%, 2048 x 2048 x 64 +1-3%, 777^3 and 333^3 within the noise;
        # benchmarks/gemm_ab.py --dtype f64, thread CPU time, load 6-7): in place, each
        # tile reads A's 8 rows, K apart, from L2 while a B sliver as large passes. B's
        # panel row by row there too: 333^3 1.02x -> 1.08x, 512^3 1.09x -> 1.11x, 777^3
        # 1.00x -> 1.02x (9 rounds, load ~10). (f32, same runs: A packed 512^3 1.06x ->
        # 1.08x, 600 x 777 x 777 1.02x -> 1.05x; B by rows +1% or within the noise)
        kept = getattr(x86.avx512, f"mm512_loadu_{bits}_kept") if width == 512 else None
        # A's slivers packed through registers, 8 rows (AVX-512's MR; AVX2's 6 rows go
        # element by element), f32 only: f64 through mm256_transpose8x4_pd ran
        # 2048 x 64 x 2048 2-4% slower (80.0 / 80.2 GFLOP/s against 81.5 / 83.7, one
        # thread, benchmarks/gemm_ab.py, each listed twice, load 1.3), 777^3, 1024^3,
        # 333^3, 512^3 within the noise: the 8 elements of a row of the sliver are one
        # 512-bit store, which the element copy already makes
        pack_a = x86.mm256_transpose8x8_ps if mr == 8 and t == "f32" else None
        pre, reduce = (("mm512", f"mm512_reduce_add_{bits}") if width == 512
                       else ("mm256", f"avx2_assoc_reduce_add_{bits}"))
        return replace(isa_of(width, t, mr, nr_regs), masked=masked, half=half, pack_a=pack_a,
                       zero=getattr(x86, f"{pre}_setzero_{bits}"),
                       reduce_add=getattr(x86, reduce),
                       few_rows_same_a=width == 512 and not split_fma,
                       masked_wide_rest=width == 256 or not split_fma,
                       kc_l1s=avx512_kc_l1s(split_fma) if width == 512 else 1,
                       all_k_like_blocks=width == 512 and t == "f64", load_kept=kept,
                       k_unroll=avx512_k_unroll(split_fma) if width == 512 else 1)

    def isa_of(bits_wide: int, t: str, mr: int, nr_regs: int) -> Isa:
        bits = {"f32": "ps", "f64": "pd"}[t]
        lanes = bits_wide // (32 if t == "f32" else 64)
        if bits_wide == 128:  # (SSE/FMA forms, in knit.platforms.x86.avx512's 128-bit section)
            v = x86.avx512
            return Isa(v.XMM, lanes, getattr(v, f"mm_loadu_{bits}"),
                       getattr(v, f"mm_storeu_{bits}"), getattr(v, f"mm_set1_{bits}"),
                       getattr(v, f"mm_fmadd_{bits}"), mr, nr_regs * lanes)
        pre = "mm512" if bits_wide == 512 else "mm256"
        bc = (f"mm512_set1_{bits}" if bits_wide == 512
              else f"mm256_broadcast_{'ss' if t == 'f32' else 'sd'}")
        return Isa(getattr(x86, "AVX512" if bits_wide == 512 else "AVX2"), lanes,
                   getattr(x86, f"{pre}_loadu_{bits}"), getattr(x86, f"{pre}_storeu_{bits}"),
                   getattr(x86, bc), getattr(x86, f"{pre}_fmadd_{bits}"), mr, nr_regs * lanes)

    if width == 512:
        # 8 x 2 accumulators, 2 of B, 1 broadcast (of 32 registers). 14 x 2 would fill
        # the file, but 8 x 2 ran faster in interleaved runs (Zen 4, f32 and f64: 64^3
        # 0.92x OpenBLAS against 0.69x, 128^3 1.10x against 0.93x): M = 2^k and most
        # sizes leave no edge rows, and 16 chains already hide the multiply-add latency.
        # f64 too: 12 x 16, 14 x 16, 8 x 24 and 6 x 32 (as OpenBLAS's SkylakeX DGEMM,
        # 16 rows by 12 columns transposed) each run at the one-core peak on packed
        # slivers in L2, as 8 x 16 does, but slower in the GEMM (Zen 4, interleaved, MC
        # 96, 56, 64 and 48: 1024^3 0.94x, 0.91x, 0.98x, 0.98x OpenBLAS against 8 x 16's
        # 1.01x; 64 x 2048 x 2048 0.62x and 0.48x against 0.92x with the machine's
        # blocks, MR = 12 and 14 leaving edge rows of M = 64). 8 x 24 again in session 9
        # (six interleaved runs, load 4-12): 512^3 +4-8% (as much as packing A there,
        # `all_k_like_blocks`), 2048^3 +1-4%, but 2048 x 64 x 2048 -8-10% (N = 2 x 24 +
        # 16), 64^3 -1-4%, 64 x 2048 x 2048 -1-3% (docs/performance.md)
        return Target(name, {"f32": isa("f32", 8, 2), "f64": isa("f64", 8, 2)}, x86.prefetch_block)
    # 16 registers: 6 x 2 accumulators, 2 of B, 1 broadcast
    return Target(name, {"f32": isa("f32", 6, 2), "f64": isa("f64", 6, 2)}, x86.prefetch_block)


def _neon_target() -> Target:
    from knit.platforms import neon

    # 32 registers: 8 x 3 accumulators, 3 of B, 1 broadcast
    return Target("neon", {
        "f32": Isa(neon.Neon, 4, neon.neon_vld_4xf32, neon.neon_vst_4xf32,
                   neon.neon_broadcast_4xf32, neon.neon_vfmadd_4xf32_4xf32, 8, 12,
                   zero=neon.neon_zero_4xf32,
                   reduce_add=neon.neon_assoc_reduce_add_instr_4xf32),
        "f64": Isa(neon.Neon, 2, neon.neon_vld_2xf64, neon.neon_vst_2xf64,
                   neon.neon_broadcast_2xf64, neon.neon_vfmadd_2xf64_2xf64, 8, 6,
                   zero=neon.neon_zero_2xf64,
                   reduce_add=neon.neon_assoc_reduce_add_instr_2xf64),
    })


TARGETS = ("avx512", "avx2", "neon")


def host_target(cpuinfo: str | None = None) -> str:
    """The fastest GEMM target this CPU runs: "avx512" where Linux lists AVX-512F and
    AVX-512VL (the edges' 256- and 128-bit masked forms), "avx2" where AVX2 and FMA,
    "neon" on 64-bit Arm (Advanced SIMD is part of AArch64); a ValueError elsewhere.
    `cpuinfo`: another machine's /proc/cpuinfo (a file in Linux's format)."""
    import platform

    from knit.runtime.cpuinfo import CPUINFO, fields, flags

    path = cpuinfo or CPUINFO
    if not fields(path):
        raise ValueError(f"host_target: cannot read {path} to tell this CPU's instructions; "
                         f"name the GEMM target instead: one of {', '.join(TARGETS)}")
    have = flags(path)
    if {"avx512f", "avx512vl"} <= have:
        return "avx512"
    if {"avx2", "fma"} <= have:
        return "avx2"
    arm = "asimd" in have if cpuinfo else platform.machine() in ("aarch64", "arm64")
    if arm:
        return "neon"
    cpu = fields(path).get("model name") or platform.machine() or "this CPU"
    raise ValueError(f"no GEMM target for {cpu}: knit.stdlib.gemm has AVX-512 and AVX2 (with "
                     "FMA) kernels for x86 and NEON kernels for AArch64; name one of "
                     f"{', '.join(TARGETS)} to generate code for another machine")


def target(name: str, split_fma: bool | None = None) -> Target:
    """The target called `name`: "avx512", "avx2" or "neon", or "host": this CPU's
    (`host_target`). x86's cache blocks depend on whether the CPU splits 512-bit
    multiply-adds in halves (`avx512_kc_l1s`): `split_fma` says it for another machine;
    None: this one (`splits_512bit_fma`)."""
    return _target(resolve(name), _this_cpu_splits_fma() if split_fma is None else split_fma)


def resolve(name: str) -> str:
    """A target's name as kernels are named: "host" is this CPU's (`host_target`)."""
    return host_target() if name == "host" else name


@functools.cache
def _this_cpu_splits_fma() -> bool:
    return splits_512bit_fma()


@functools.cache
def _target(name: str, split_fma: bool) -> Target:
    makers = {"avx512": lambda: _x86_target("avx512", 512, split_fma),
              "avx2": lambda: _x86_target("avx2", 256, split_fma), "neon": _neon_target}
    if name not in makers:
        raise ValueError(f"unknown GEMM target {name!r}; expected one of "
                         f"{', '.join(TARGETS)} or 'host' (this CPU's)")
    return makers[name]()


# ---------------------------------------------------------------- cache blocking


@dataclass(frozen=True)
class Blocking:
    """Cache blocks: KC x NR of B stays in L1, MC x KC of A in L2, KC x NC of B in L3."""

    mc: int
    kc: int
    nc: int


def cache_sizes(base: str = "/sys/devices/system/cpu/cpu0/cache") -> tuple[int, int, int]:
    """(L1d, L2, L3) bytes of this machine as the OS lists them for one CPU (`base`:
    its sysfs cache directory); typical values for what it does not list."""
    sizes = {1: 32 << 10, 2: 1 << 20, 3: 16 << 20}
    try:
        entries = sorted(os.listdir(base))
    except OSError:
        entries = []
    # each cache on its own: the directory also holds files (`uevent`), and one entry
    # that cannot be read must not lose the others (it lost L3, listed after `uevent`)
    for d in entries:
        found = _cache_entry(os.path.join(base, d))
        if found is not None:
            sizes[found[0]] = found[1]
    return sizes[1], sizes[2], sizes[3]


def _cache_entry(path: str) -> tuple[int, int] | None:
    """(level, bytes) of the data or unified cache described in the sysfs directory
    `path`; None for an instruction cache or what is not such a directory."""
    try:
        with open(os.path.join(path, "type")) as f:
            if f.read().strip() == "Instruction":
                return None
        with open(os.path.join(path, "level")) as f:
            level = int(f.read())
        with open(os.path.join(path, "size")) as f:
            text = f.read().strip()
        size = int(text[:-1]) << (10 if text[-1] == "K" else 20) \
            if text[-1] in "KM" else int(text)
    except (OSError, ValueError, IndexError):
        return None
    return level, size


# The panel of B takes an eighth of L3: the L3 a core sees is shared with the other cores
# of its cluster (Zen 4: 32 MB for 8 cores), and other processes use it too. (Until
# cache_sizes read L3 -- it stopped at sysfs's `uevent` file -- these blocks came from a
# 16 MB default and a quarter of it, the same 4 MB. A quarter of the 32 MB, Zen 4,
# interleaved, one thread, best-of 5, load 5-9 (benchmarks/gemm_ab.py --rounds 5, KC =
# 1024): f64 NC 1024 against 512: 1024^3 0.98x against 1.01x OpenBLAS, 2048^3 1.03x
# both, 64 x 2048 x 2048 0.85x against 0.89x, 2048 x 2048 x 64 1.55x against 1.47x; f32
# NC 2048 against 1024: 1024^3 1.05x against 1.07x, 64 x 2048 x 2048 1.05x both.)
L3_SHARE = 8
# ... and at most this many L2 caches: Zen 4's eighth of L3 (32 MB for 8 cores) is 4 of
# its 1 MB L2s, one core's share. An L3 as sysfs lists it is not what one core can use:
# a VM lists the host's (this session's Xeon: "480 MB", which made NC 10240 f32 and the
# panel 60 MB, far past the ~2 MB of L3 per core of such Xeons), and with many cores on
# one L3 an eighth of it is more than each core's share. Intel Xeon, f32, one thread,
# KC 512, MC 256 (interleaved, listed in this order, load 2-3): NC 4096 (8 MB, this
# bound) 0.93x and 0.92x OpenBLAS at 1024^3 and 2048^3, NC 2048 0.93x / 0.95x, NC 1024
# 0.99x / 0.94x: within the noise (benchmarks/gemm_ab.py's list-order bias is up to
# ~7%), so the bound is Zen 4's measured panel per MB of L2.
PANEL_L2S = 4


def choose_blocking(isa: Isa, elem_bytes: int, caches=None, threads: int = 1) -> Blocking:
    """Blocks from the cache sizes, as BLIS's analytical model (Low et al., 2016) does
    roughly: a KC x NR sliver of B fills `isa.kc_l1s` L1 caches (deeper: fewer C tiles
    loaded and stored), an MC x KC block of A half or a quarter of L2 (`a_l2_share`), a
    KC x NC panel of B an eighth of L3 (`L3_SHARE`), at most 4 L2 caches (`PANEL_L2S`).
    Threads take the same KC and NC: sharing rows, they pack each panel of B once for
    all MC blocks; sharing columns (split="cols"), no sliver of B is packed twice
    where the rows are one MC block. With KC x NR in one L1 (MC x KC = 512 x
    256 f32) instead, two threads spent 9-13% more CPU time than one thread on 1024^3
    and 2048^3 f32 (6-13% f64), 0-3% with these blocks (benchmarks/gemm_ab.py
    --threads 2 --thread-cpu, on a loaded machine)."""
    l1, l2, l3 = caches or cache_sizes()
    kc = max(16, int(isa.kc_l1s * l1) // (isa.nr * elem_bytes) // 16 * 16)
    # (MC and NC multiples of 2 MR and 2 NR, or of `threads` of them: the threads share
    # out a block's slivers)
    share = max(2, threads)
    mc = max(share * isa.mr, (l2 // a_l2_share(isa, threads)) // (kc * elem_bytes)
             // (share * isa.mr) * (share * isa.mr))
    panel = min(l3 // L3_SHARE, PANEL_L2S * l2)
    nc = max(share * isa.nr, panel // (kc * elem_bytes) // (share * isa.nr) * (share * isa.nr))
    return Blocking(mc, kc, nc)


def a_l2_share(isa: Isa, threads: int) -> int:
    """The MC x KC block of A takes 1 / this of L2 (`choose_blocking`): half, BLIS's
    model, where the KC x NR sliver of B stays in L1; a quarter on one thread where the
    sliver spans more than one L1 cache (`Isa.kc_l1s`), as it then streams from L2 beside
    A's block. (Zen 4, one thread, MC = 64 against 128, f32, KC = 1024: the microkernel
    over 8 against 16 packed slivers of A and 32 of B ran at 99% against 94% of the
    peak; the GEMM's phases, timed one by one and their minima summed, 1024^3 94.6%
    against 92.4%, 2048^3 93.7% against 90.9%; f64 MC = 32 against 64: 2048^3 91% against
    87.5%.) Threads sharing rows each multiply their own slivers of the block, so each
    core's L2 already holds about half of it: they keep a half."""
    return 4 if isa.kc_l1s > 1 and threads == 1 else 2


def _isa(target_name: str, dtype: str, shape: tuple[int, int] | None) -> Isa:
    isa = target(target_name).isa(dtype)
    if shape is None:
        return isa
    mr, nr = shape
    if mr < 1 or nr < 1 or nr % isa.lanes:
        raise ValueError(f"schedule_gemm: kernel shape {shape}: NR must be a multiple of "
                         f"{isa.lanes}")
    # (A's transposing copy is the target's for its own MR)
    return replace(isa, mr=mr, nr=nr, pack_a=isa.pack_a if mr == isa.mr else None)


def check_shape(shape, target_name: str, dtype: str) -> tuple[int, int] | None:
    """schedule_gemm's `shape`: None, or (MR, NR) as two ints (a list or NumPy's integers
    are taken as such), MR at least 2 and NR a multiple of the lanes of a register, at
    least two registers, before a kernel is named or built from it; None for the
    target's own. (MR = 1 leaves
    nothing to the edges' 4-row steps, NR of one register nothing to the whole vectors
    of the last columns: the steps would make loops that never run.)"""
    if shape is None:
        return None
    try:
        mr, nr = shape
    except (TypeError, ValueError):
        mr = nr = None
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in (mr, nr)):
        raise ValueError(f"schedule_gemm: shape must be None or (MR, NR), two ints; got "
                         f"{shape!r}")
    mr, nr = int(mr), int(nr)
    isa = target(target_name).isa(dtype)
    lanes = isa.lanes
    if mr < 2:
        raise ValueError(f"schedule_gemm: kernel shape {(mr, nr)}: MR must be at least 2")
    if nr % lanes or nr < 2 * lanes:
        raise ValueError(f"schedule_gemm: kernel shape {(mr, nr)}: NR must be a multiple of "
                         f"{lanes} (the {dtype} lanes of one {target_name} register), at "
                         f"least two registers ({2 * lanes})")
    # (the target's own register block: the same kernel as no shape, under one name)
    return None if (mr, nr) == (isa.mr, isa.nr) else (mr, nr)


def check_arguments(blocking, threads) -> None:
    """schedule_gemm's `blocking` (None or a Blocking of ints) and `threads` (an int >= 1),
    before anything is computed from them."""
    if type(threads) is not int or threads < 1:
        raise ValueError(f"schedule_gemm: threads must be an int >= 1; got {threads!r}")
    if blocking is not None and not (isinstance(blocking, Blocking) and all(
            type(v) is int for v in (blocking.mc, blocking.kc, blocking.nc))):
        raise ValueError(f"schedule_gemm: blocking must be None or a Blocking(mc, kc, nc) of "
                         f"ints; got {blocking!r}")


def check_blocking(blk: Blocking, mr: int, nr: int, threads: int) -> None:
    if blk.mc % (mr * threads) or blk.nc % (nr * threads) or min(blk.mc, blk.kc, blk.nc) < 1:
        x = " x threads" if threads > 1 else ""  # (threads sharing a block's slivers)
        raise ValueError(f"schedule_gemm: blocks must be positive, MC a multiple of MR{x} = "
                         f"{mr * threads} and NC of NR{x} = {nr * threads}; got {blk}")
    if blk.mc < 2 * mr or blk.nc < 2 * nr or blk.kc < 2:  # (the packing steps cut a
        # block's slivers, and the k loop into blocks: one per block leaves no loop)
        raise ValueError(f"schedule_gemm: MC must be at least 2 x MR = {2 * mr}, NC at "
                         f"least 2 x NR = {2 * nr} and KC at least 2; got {blk}")
