"""compile(flags=...) replaces the default optimisation flags, extra_flags= adds to
them (issue 13); a build that fails because flags= dropped -march=native says so, and
the OpenMP hint is given only for OpenMP errors."""

from __future__ import annotations

import numpy as np
import pytest

from knit import proc
from knit.errors import CompileError
from knit.platforms.x86 import (
    AVX2,
    AVX512,
    mm256_loadu_ps,
    mm256_storeu_ps,
    mm512_loadu_ps,
    mm512_storeu_ps,
)
from knit.runtime import cc as knit_cc, jit
from knit.runtime.cc import (
    MEANING_FLAGS,
    OPT_FLAGS,
    build_flags,
    compiler_command,
    default_opt_flags,
)
from knit.runtime.cpuinfo import flags as cpu_flags
from knit.runtime.timing import time_in_c


@proc
def scale(N: size, x: f32[N]):
    for i in seq(0, N):
        x[i] = x[i] * 2.0


def test_extra_flags_keep_the_defaults():
    cmd = compiler_command()
    out = build_flags(cmd, extra_flags=["-funroll-loops"])
    assert out[:len(OPT_FLAGS)] == list(OPT_FLAGS)
    assert out.index("-funroll-loops") < out.index(MEANING_FLAGS[0])  # meaning flags last
    n = len(default_opt_flags(cmd))
    assert build_flags(cmd, extra_flags="-DA=1 -DB=2")[n:n + 2] == ["-DA=1", "-DB=2"]
    replaced = build_flags(cmd, flags=["-O1"])
    assert "-march=native" not in replaced and replaced[0] == "-O1"
    assert build_flags(cmd, ("-O2",), ("-g",))[:2] == ["-O2", "-g"]  # tuples work too


def test_gcc_12_leaves_out_avx512fp16_by_default_only(monkeypatch):
    # gcc 12's AVX512-FP16 code for an f16 select fails to assemble (masked vmovsh) on a
    # CPU that has the extension; knit's defaults leave it out for gcc 12, not user flags
    monkeypatch.setattr(knit_cc, "compiler_kind", lambda c: "gcc")
    for major, fp16, has in ((12, True, True), (13, True, False), (None, True, False),
                             (12, False, False)):  # (e.g. an arm64 machine's gcc 12)
        monkeypatch.setattr(knit_cc, "gcc_major", lambda c, m=major: m)
        monkeypatch.setattr(knit_cc, "_cpu_has_avx512fp16", lambda f=fp16: f)
        assert ("-mno-avx512fp16" in build_flags(["gcc"])) is has
        assert "-mno-avx512fp16" not in build_flags(["gcc"], flags=["-O2", "-march=native"])
    monkeypatch.setattr(knit_cc, "compiler_kind", lambda c: "clang")
    assert "-mno-avx512fp16" not in build_flags(["clang"])


def test_the_cpu_and_target_checks_read_what_they_say(tmp_path):
    f = tmp_path / "cpuinfo"
    f.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_fp16 avx512bw\n")
    assert knit_cc._cpu_has_avx512fp16.__wrapped__(str(f)) is True
    f.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512bw\n")
    assert knit_cc._cpu_has_avx512fp16.__wrapped__(str(f)) is False
    assert knit_cc._cpu_has_avx512fp16.__wrapped__(str(tmp_path / "missing")) is False


def test_gcc_major_reads_the_version_line(monkeypatch):
    for text, major in (("exit 0\ngcc (Debian 12.2.0-14+deb12u1) 12.2.0\n", 12),
                        ("exit 0\ngcc (GCC) 13.1.1 20230614\n", 13),
                        ("exit 0\nsome compiler\n", None), ("exit 1\n", None)):
        monkeypatch.setattr(knit_cc.cache, "compiler_identity", lambda c, t=text: ("x", t))
        assert knit_cc.gcc_major(["gcc"]) == major


def test_compile_with_extra_flags_runs_and_sees_them(monkeypatch):
    seen = []
    real = jit.load_library
    monkeypatch.setattr(jit, "load_library",
                        lambda src, cmd, flags, *a, **k: seen.append(flags) or
                        real(src, cmd, flags, *a, **k))
    f = scale.compile(extra_flags=["-DKNIT_TEST_EXTRA=1"])
    x = np.arange(4, dtype="f4")
    f(x=x)
    assert x.tolist() == [0.0, 2.0, 4.0, 6.0]
    assert any("-march=native" in fl and "-DKNIT_TEST_EXTRA=1" in fl for fl in seen), seen


def test_a_build_failing_for_lack_of_march_says_flags_replaced_it():
    msg = ("immintrin.h: error: inlining failed in call to 'always_inline' "
           "'_mm256_fmadd_ps': target specific option mismatch\ncompilation terminated.")
    hint = knit_cc._flags_hint(["cc", "-O2", "-fopenmp", "x.c"], msg)
    assert "flags=...) replaces the default -O3 -march=native" in hint
    assert "extra_flags=" in hint
    # with -march=native, the CPU lacks the instructions (AVX-512 code on an AVX2 CPU)
    native = knit_cc._flags_hint(["cc", "-O3", "-march=native", "x.c"], msg)
    assert "vector instructions this CPU does not have" in native and "'host'" in native
    assert knit_cc._flags_hint(["cc", "-O3", "-march=native", "x.c"], "x.c:1: error") == ""
    # 'compilation' has 'omp' in it: that is not an OpenMP error
    assert not knit_cc._openmp_missing(msg)
    assert knit_cc._openmp_missing("fatal error: omp.h: No such file or directory")


@proc
def vcopy(A: f32[8], B: f32[8]):
    r: f32[8] @ AVX2
    mm256_loadu_ps(r[0:8], A[0:8])
    mm256_storeu_ps(B[0:8], r[0:8])


def test_compile_of_avx2_code_with_replaced_flags_hints_at_extra_flags():
    """The trap of issue 13: flags=["-fopenmp"] dropped -march=native, gcc failed on the
    intrinsics, and the hint blamed OpenMP."""
    with pytest.raises(CompileError) as info:
        vcopy.compile(flags=["-O2", "-fopenmp"])
    msg = str(info.value)
    assert "compile(flags=...) replaces the default -O3 -march=native" in msg
    assert "OpenMP support seems missing" not in msg
    A, B = np.arange(8, dtype="f4"), np.zeros(8, "f4")
    f = vcopy.compile(extra_flags=["-fopenmp"])  # the defaults kept: it builds
    if "avx2" not in cpu_flags():
        pytest.skip("built; this CPU has no AVX2 to run it")
    f(A=A, B=B)
    assert B.tolist() == A.tolist()


@proc
def vcopy512(A: f32[16], B: f32[16]):
    r: f32[16] @ AVX512
    mm512_loadu_ps(r[0:16], A[0:16])
    mm512_storeu_ps(B[0:16], r[0:16])


def test_avx512_code_on_a_cpu_without_it_says_so():
    """The C of an AVX-512 schedule on an AVX2 machine (session 19's AMD Zen 3): gcc's
    wall of 'target specific option mismatch' ends in what to do. (-mno-avx512f after
    -march=native makes any x86 CPU one without AVX-512.)"""
    with pytest.raises(CompileError, match="(?s)this CPU does not have.*target 'host'"):
        vcopy512.compile(extra_flags=["-mno-avx512f"])


def test_time_in_c_takes_extra_flags():
    t = time_in_c(scale, {"N": 64}, reps=10, trials=1, extra_flags=["-DKNIT_TEST_EXTRA=1"])
    assert t > 0
