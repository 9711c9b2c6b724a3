"""knit.stdlib.gemm.targets: the cache blocks of the two machines measured (AMD Zen 4,
512-bit multiply-adds split in halves; Intel Xeon, full width), and which one this CPU
is (/proc/cpuinfo)."""

from fractions import Fraction

import pytest

import knit.stdlib.gemm as G
from knit.stdlib.gemm import targets as T

ZEN4 = (32 << 10, 1 << 20, 32 << 20)  # L1d, L2, L3 as sysfs lists them
XEON = (48 << 10, 2 << 20, 480 << 20)  # this session's VM (its host's L3)


def blocks(split_fma: bool, caches, threads: int = 1) -> dict:
    t = G.target("avx512", split_fma=split_fma)
    return {d: G.choose_blocking(t.isa(d), b, caches, threads=threads)
            for d, b in (("f32", 4), ("f64", 8))}


def test_zen4_blocks_are_the_measured_ones():
    # docs/performance.md, GEMM, *Cache blocks* and *MC on one thread*
    assert blocks(True, ZEN4) == {"f32": G.Blocking(mc=64, kc=1024, nc=1024),
                                  "f64": G.Blocking(mc=32, kc=1024, nc=512)}
    assert blocks(True, ZEN4, threads=2) == {"f32": G.Blocking(mc=128, kc=1024, nc=1024),
                                             "f64": G.Blocking(mc=64, kc=1024, nc=512)}


def test_xeon_blocks_are_the_measured_ones():
    # full-width FMAs: the sliver of B spans 4/3 of the 48 KB L1 (KC 512, not 1536),
    # A's block a quarter of L2 on one thread, the panel 4 L2s (not an eighth of 480 MB)
    assert blocks(False, XEON) == {"f32": G.Blocking(mc=256, kc=512, nc=4096),
                                   "f64": G.Blocking(mc=128, kc=512, nc=2048)}
    assert blocks(False, XEON, threads=2) == {"f32": G.Blocking(mc=512, kc=512, nc=4096),
                                              "f64": G.Blocking(mc=256, kc=512, nc=2048)}


def test_kc_follows_l1_and_the_fma_width():
    assert T.avx512_kc_l1s(True) == 4 and T.avx512_kc_l1s(False) == Fraction(4, 3)
    # a Xeon with 32 KB of L1 (Skylake-SP): 4/3 of it, a multiple of 16
    skx = (32 << 10, 1 << 20, 22 << 20)
    assert {b.kc for b in blocks(False, skx).values()} == {336}
    # AVX2 keeps BLIS's model on both (the sliver fills L1)
    for split in (True, False):
        ymm = G.target("avx2", split_fma=split).isa("f32")
        assert ymm.kc_l1s == 1 and G.choose_blocking(ymm, 4, XEON).kc * ymm.nr * 4 == 48 << 10


CPUINFO = """processor\t: 0
vendor_id\t: {vendor}
cpu family\t: {family}
model\t\t: {model}
flags\t\t: fpu avx512f
"""


@pytest.mark.parametrize("vendor, family, model, split", [
    ("AuthenticAMD", 25, 97, True),  # Zen 4
    ("AuthenticAMD", 26, 68, False),  # Zen 5: full-width 512-bit units
    ("AuthenticAMD", 23, 49, False),  # Zen 2 (no AVX-512)
    ("GenuineIntel", 6, 167, False),  # this session's Xeon
])
def test_which_cpus_split_512_bit_fmas(tmp_path, vendor, family, model, split):
    f = tmp_path / "cpuinfo"
    f.write_text(CPUINFO.format(vendor=vendor, family=family, model=model))
    assert T.splits_512bit_fma(str(f)) is split


def test_unreadable_cpuinfo_is_full_width(tmp_path):
    assert T.splits_512bit_fma(str(tmp_path / "missing")) is False


def test_this_machines_target_is_the_one_its_cpu_names():
    assert G.target("avx512") is G.target("avx512", split_fma=T.splits_512bit_fma())


HOST = """processor\t: 0
vendor_id\t: {vendor}
model name\t: a test CPU
{key}\t\t: {flags}
"""


@pytest.mark.parametrize("vendor, key, flags, expected", [
    ("AuthenticAMD", "flags", "fpu sse2 avx avx2 fma avx512f avx512vl", "avx512"),  # Zen 4
    ("GenuineIntel", "flags", "fpu avx2 fma avx512f avx512cd avx512vl", "avx512"),
    ("AuthenticAMD", "flags", "fpu sse2 avx avx2 fma", "avx2"),  # Zen 3 (this session's)
    ("GenuineIntel", "flags", "fpu avx2 fma avx512f", "avx2"),  # (Xeon Phi: no VL)
    ("ARM", "Features", "fp asimd evtstrm aes", "neon"),
])
def test_host_target_is_the_fastest_this_cpu_runs(tmp_path, vendor, key, flags, expected):
    f = tmp_path / "cpuinfo"
    f.write_text(HOST.format(vendor=vendor, key=key, flags=flags))
    assert G.host_target(str(f)) == expected


def test_host_target_refuses_a_cpu_without_a_kernel(tmp_path):
    f = tmp_path / "cpuinfo"
    f.write_text(HOST.format(vendor="GenuineIntel", key="flags", flags="fpu sse2 avx"))
    with pytest.raises(ValueError, match="no GEMM target for a test CPU.*avx512, avx2, neon"):
        G.host_target(str(f))


def test_host_target_of_an_unreadable_file_says_so(tmp_path):
    with pytest.raises(ValueError, match="cannot read .*missing.*name the GEMM target"):
        G.host_target(str(tmp_path / "missing"))


def test_host_names_this_cpus_target():
    assert G.target("host") is G.target(G.host_target())
    assert G.host_target() in G.TARGETS
    # every kernel is named and kept under the target it is for, not under "host"
    host = G.host_target()
    names = [k.name() for k in G.microkernel("host", "f32") + G.masked_kernel("host", "f32", 8)]
    assert names == [k.name() for k in G.microkernel(host, "f32") + G.masked_kernel(host, "f32", 8)]
    assert names[1].endswith(f"_{host}") and names[3].endswith(f"_{host}")
    assert G.one_thread_kernel("f64", "host", None, None)[1].name() == f"gemm_f64_{host}"


def test_schedule_gemm_takes_host_and_names_the_kernel_after_the_target():
    from knit.stdlib.gemm.kernels import plain_gemm

    mm = plain_gemm("mm", "f32")
    q = G.schedule_gemm(mm, "host", threads=1)
    assert q.body()[0].subproc().name() == f"gemm_f32_{G.host_target()}"
    with pytest.raises(ValueError, match="unknown GEMM target 'sse'.*or 'host'"):
        G.schedule_gemm(mm, "sse", threads=1)


def test_small_problems_bounds_keep_their_share_of_l2():
    # N + K measured on Zen 4 (1 MB L2), the narrow columns' K on the Xeon (2 MB, AVX-512
    # NR = 32); a smaller L2 gets the same shares, a larger one the measured bounds: AMD
    # Zen 3 (512 KB, AVX2 NR = 16) (362, 1024)
    def bounds(nr, l2):
        return G.variants.small_bounds(nr, (32 << 10, l2, 32 << 20))

    assert bounds(32, 2 << 20) == (G.SMALL_UPTO, G.SMALL_NARROW_K) == (512, 2048)
    assert bounds(32, 1 << 20) == (512, 1024)
    assert bounds(16, 512 << 10) == (362, 1024)
    assert bounds(16, 8 << 20) == (512, 2048)  # (never past what was measured)
