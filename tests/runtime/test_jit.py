"""The JIT: calling compiled procs, the on-disk cache, concurrency, and compiler errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from knit import DRAM, instr, proc
from knit.errors import ArgumentError, ArgumentTypeError, CompileError
from knit.runtime import jit

rng = np.random.default_rng(3)
LIBS = "[0-9a-f]*.so"  # procs' libraries (not the call extension, knitcall-*.so)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """A fresh cache directory per test, so each test sees its own compiles."""
    d = tmp_path / "cache"
    monkeypatch.setenv("KNIT_CACHE_DIR", str(d))
    monkeypatch.delenv("CC", raising=False)
    return d


def logging_cc(tmp_path: Path, fail: bool = False, delay: float = 0) -> tuple[Path, Path]:
    """A compiler script that records each invocation's arguments, then runs gcc (or
    fails, as a compiler that must not be invoked)."""
    log, script = tmp_path / "cc.log", tmp_path / "cc.sh"
    action = "echo 'this compiler must not run' >&2; exit 1" if fail else 'exec gcc "$@"'
    script.write_text(f'#!/bin/sh\necho "$@" >> {log}\nsleep {delay}\n{action}\n')
    script.chmod(0o755)
    return script, log


def invocations(log: Path) -> list[str]:
    """The compiler's runs on procs (not the `--version` probe of its identity, nor the
    one-time build of knit.runtime.fastcall's extension)."""
    lines = log.read_text().splitlines() if log.exists() else []
    return [ln for ln in lines if ln != "--version" and "knitcall-" not in ln]


@proc
def axpy(N: size, a: f32, x: f32[N] @ DRAM, y: f32[N] @ DRAM):
    for i in seq(0, N):
        y[i] += a * x[i]


@proc
def win_sum(N: size, M: size, x: [f64][N, M], out: f64[N], flag: bool):
    for i in seq(0, N):
        out[i] = 0.0
        for j in seq(0, M):
            if flag:
                out[i] += x[i, j]


@proc
def par_scale(N: size, x: f32[N]):
    for i in par(0, N):
        x[i] = x[i] * 2.0


# ---------------------------------------------------------------- calling


def test_call_positionally_by_name_and_without_sizes():
    f = jit.compile_proc(axpy._loopir_proc)
    x, y = rng.standard_normal(9).astype(np.float32), np.zeros(9, np.float32)
    f(9, np.array(2.0, np.float32), x, y)
    np.testing.assert_allclose(y, 2 * x)
    f(np.array(1.0, np.float32), x, y)  # N from x's shape
    np.testing.assert_allclose(y, 3 * x, rtol=1e-6)
    f(y=y, x=x, a=1.0, N=9)  # a plain number for a scalar argument
    np.testing.assert_allclose(y, 4 * x, rtol=1e-6)
    assert f.__name__ == "axpy" and f.proc is axpy._loopir_proc


def test_windows_bools_and_strided_arrays():
    f = win_sum.compile()
    big = rng.standard_normal((6, 10))
    x, out = big[1:5, ::3], np.zeros(4)
    f(x, out, True)
    np.testing.assert_allclose(out, x.sum(axis=1))
    f(x, out, False)
    np.testing.assert_array_equal(out, 0)


def test_real_scalar_is_written_back():
    @proc
    def store(s: f64, x: f64[3]):
        s = x[0] + x[2]

    s = np.array(0.0)
    store.compile()(s, np.array([1.0, 2.0, 3.0]))
    assert s == 4.0


def test_bad_arguments_are_refused_before_running():
    f = axpy.compile()
    x = np.zeros(4, np.float32)
    with pytest.raises(ArgumentTypeError, match="float32"):
        f(4, 1.0, x.astype(np.float64), x.copy())
    with pytest.raises(ArgumentError, match="shape"):
        f(5, 1.0, x, x.copy())
    with pytest.raises(ArgumentError, match="overlap"):
        f(4, 1.0, x, x)


def test_procedure_compile_is_cached_on_the_procedure():
    assert axpy.compile() is axpy.compile()


# ---------------------------------------------------------------- the cache


def test_second_compile_reuses_the_library(tmp_path, cache, monkeypatch):
    script, log = logging_cc(tmp_path)
    monkeypatch.setenv("CC", str(script))
    jit.compile_proc(win_sum._loopir_proc)
    assert len(invocations(log)) == 1
    assert len(list(cache.glob(LIBS))) == 1
    jit.compile_proc(win_sum._loopir_proc)
    assert len(invocations(log)) == 1
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no temp files


def test_another_process_uses_the_cache_without_compiling(tmp_path, cache):
    src = tmp_path / "kernels.py"
    src.write_text(textwrap.dedent("""
        from __future__ import annotations
        import numpy as np
        from knit import proc

        @proc
        def triple(N: size, x: f32[N]):
            for i in seq(0, N):
                x[i] = x[i] * 3.0

        if __name__ == "__main__":
            x = np.arange(4, dtype=np.float32)
            triple.compile()(x)
            print(x.tolist())
    """))
    script, log = logging_cc(tmp_path)
    env = {**os.environ, "KNIT_CACHE_DIR": str(cache), "CC": str(script)}
    first = subprocess.run([sys.executable, str(src)], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert len(invocations(log)) == 1
    second = subprocess.run([sys.executable, str(src)], env=env, capture_output=True,
                            text=True)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "[0.0, 3.0, 6.0, 9.0]"
    assert len(invocations(log)) == 1


def test_cache_key_includes_compiler_and_flags(tmp_path, cache, monkeypatch):
    script, log = logging_cc(tmp_path)
    monkeypatch.setenv("CC", str(script))
    jit.compile_proc(axpy._loopir_proc)
    jit.compile_proc(axpy._loopir_proc, flags=["-O1"])
    assert len(invocations(log)) == 2
    assert "-O3 -march=native" in invocations(log)[0]
    assert "-O1" in invocations(log)[1] and "-O3" not in invocations(log)[1]
    assert "-shared" in invocations(log)[1] and "-fPIC" in invocations(log)[1]
    assert len(list(cache.glob(LIBS))) == 2


def test_cache_dir_is_created(tmp_path, monkeypatch):
    d = tmp_path / "deep" / "er"
    monkeypatch.setenv("KNIT_CACHE_DIR", str(d))
    jit.compile_proc(axpy._loopir_proc)
    assert len(list(d.glob(LIBS))) == 1 and len(list(d.glob("[0-9a-f]*.c"))) == 1


def test_concurrent_compiles_from_two_processes(tmp_path, cache):
    src = tmp_path / "conc.py"
    src.write_text(textwrap.dedent("""
        from __future__ import annotations
        import numpy as np
        from knit import proc

        @proc
        def halve(N: size, x: f64[N]):
            for i in seq(0, N):
                x[i] = x[i] * 0.5

        x = np.full(5, 3.0)
        halve.compile()(x)
        assert (x == 1.5).all(), x
        print("ok")
    """))
    script, log = logging_cc(tmp_path, delay=1)  # both are inside the compiler at once
    env = {**os.environ, "KNIT_CACHE_DIR": str(cache), "CC": str(script)}
    procs = [subprocess.Popen([sys.executable, str(src)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    for out, err, rc in results:
        assert rc == 0 and out.strip() == "ok", err
    assert len(invocations(log)) == 2  # neither found the other's library yet
    assert len(list(cache.glob(LIBS))) == 1
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------- flags and the compiler


def test_openmp_only_when_there_is_a_par_loop(tmp_path, monkeypatch):
    script, log = logging_cc(tmp_path)
    monkeypatch.setenv("CC", str(script))
    f = jit.compile_proc(par_scale._loopir_proc)
    jit.compile_proc(axpy._loopir_proc)
    assert "-fopenmp" in invocations(log)[0] and "-fopenmp" not in invocations(log)[1]
    x = np.arange(1000, dtype=np.float32)
    f(x)
    np.testing.assert_array_equal(x, 2 * np.arange(1000))


def test_jit_source_is_warning_free():
    strict = ["-O2", "-std=c11", "-Wall", "-Wextra", "-Werror"]
    for p in (axpy, win_sum, par_scale):
        jit.compile_proc(p._loopir_proc, flags=strict)  # raises CompileError on a warning


def test_explicit_cc_argument(tmp_path):
    script, log = logging_cc(tmp_path)
    jit.compile_proc(axpy._loopir_proc, cc=str(script))
    assert len(invocations(log)) == 1


def test_missing_compiler_is_a_compile_error(tmp_path):
    with pytest.raises(CompileError, match="cannot run the C compiler"):
        jit.compile_proc(axpy._loopir_proc, cc=str(tmp_path / "no-such-cc"))


def test_compiler_failure_is_a_compile_error_with_its_message():
    @instr("{dst_data} = ;")
    def broken(dst: [f32][1] @ DRAM):
        dst[0] = 0.0

    @proc
    def uses_broken(x: f32[1]):
        broken(x[0:1])

    with pytest.raises(CompileError) as info:
        uses_broken.compile()
    msg = str(info.value)
    assert "uses_broken" in msg and "expected expression" in msg and "x[0] = ;" in msg


def test_unknown_template_name_is_a_compile_error():
    @instr("{dst_data} = {source};")
    def misnamed(dst: [f32][1] @ DRAM, src: [f32][1] @ DRAM):
        dst[0] = src[0]

    @proc
    def uses_misnamed(x: f32[2]):
        misnamed(x[0:1], x[1:2])

    with pytest.raises(CompileError, match=r"names \{source\}.*\n.*\n.*\{src_data\}"):
        uses_misnamed.compile()
