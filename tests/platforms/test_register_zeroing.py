"""Register declarations are zeroed only where an instruction's C could read a lane the
program has not written (knit.backend.c.registers): `__m256 v;` as in Exo when the
first use writes the whole register and every use is whole, `__m256 v = {0};` when a
masked instruction merges into old lanes, or the first write might not run. Either
way the compiled C agrees with the interpreter and compiles warning-free (-Wall
-Wextra -Werror)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from test_x86_compiled import NATIVE_AVX2, compiled

import knit.platforms.neon as neon
import knit.platforms.rvv as rvv
import knit.platforms.x86 as x86
from knit import proc
from knit.backend.c.registers import PARTIAL, WHOLE, WHOLE_WRITE, instr_access
from knit.libs.memories import VectorRegisters
from knit.platforms.x86 import (
    AVX2,
    avx2_mask_loadu_ps,
    avx2_mask_storeu_ps,
    mm256_add_ps,
    mm256_fmadd_ps,
    mm256_loadu_ps,
    mm256_prefix_add_ps,
    mm256_storeu_ps,
    mm512_mask_storeu_ps,
    mm512_maskz_loadu_ps,
)

native = pytest.mark.skipif(not NATIVE_AVX2, reason="this CPU has no AVX2 and FMA")


def _access(instr) -> dict:
    ir = instr._loopir_proc
    return {a.name.name: k for a, k in
            ((a, instr_access(ir).get(a.name)) for a in ir.args) if k}


def test_instr_bodies_classified():
    assert _access(mm256_loadu_ps) == {"dst": WHOLE_WRITE, "src": WHOLE}
    assert _access(mm256_storeu_ps) == {"dst": WHOLE_WRITE, "src": WHOLE}
    assert _access(mm256_fmadd_ps) == {"dst": WHOLE, "src1": WHOLE, "src2": WHOLE}
    # lanes i < N only: the C merges into (or reads) the others
    assert _access(avx2_mask_loadu_ps)["dst"] == PARTIAL
    assert _access(avx2_mask_storeu_ps)["src"] == PARTIAL
    assert _access(mm512_maskz_loadu_ps)["dst"] == PARTIAL
    assert _access(mm512_mask_storeu_ps)["src"] == PARTIAL
    assert set(_access(mm256_prefix_add_ps).values()) == {PARTIAL}


def _register_params():
    for lib in (x86, neon, rvv):
        for name in sorted(getattr(lib, "__all__", dir(lib))):
            p = getattr(lib, name, None)
            ir = getattr(p, "_loopir_proc", None)
            if ir is None or ir.instr is None:
                continue
            for a in ir.args:
                if (isinstance(a.mem, type) and issubclass(a.mem, VectorRegisters)
                        and instr_access(ir).get(a.name) == WHOLE_WRITE):
                    yield pytest.param(ir, a.name.name, id=f"{ir.name}-{a.name.name}")


@pytest.mark.parametrize("ir, param", list(_register_params()))
def test_a_register_the_body_only_writes_is_only_assigned_in_the_c(ir, param):
    """What leaving out the zeroing relies on: a register an instruction's body writes
    whole and never reads is, in its C, the target of one assignment and nothing else
    (Exo's `avx2_set0_ps` reads it: `_mm256_xor_ps(out, out)`; knit's sets zero)."""
    c = ir.instr.c_instr
    uses = re.findall(r"\{%s(?:_data)?\}" % re.escape(param), c)
    assert len(uses) == 1 and re.match(r"\s*\{%s_data\}\s*=[^=]" % re.escape(param), c), c


# ---------------------------------------------------------------- the C declarations


@proc
def whole_first(N: size, x: f32[N, 8], y: f32[N, 8]):
    assert N >= 1
    acc: f32[2, 8] @ AVX2                  # written whole by a constant loop first
    for j in seq(0, 2):
        mm256_loadu_ps(acc[j, :], x[0, :])
    for i in seq(0, N):
        v: f32[8] @ AVX2                   # written whole first
        mm256_loadu_ps(v, x[i, :])
        mm256_fmadd_ps(acc[0, :], v, acc[1, :])
        w: f32[8] @ AVX2                   # written whole first
        mm256_add_ps(w, v, acc[0, :])
        mm256_storeu_ps(y[i, :], w)


@proc
def merged(N: size, x: f32[N], y: f32[N]):
    assert N <= 8
    v: f32[8] @ AVX2                       # a masked load merges into the old lanes
    avx2_mask_loadu_ps(N, v, x)
    avx2_mask_storeu_ps(N, y, v)


@proc
def guarded(N: size, x: f32[8], y: f32[8]):
    v: f32[8] @ AVX2                       # the first write may not run
    if N > 2:
        mm256_loadu_ps(v, x)
    if N > 2:
        mm256_storeu_ps(y, v)


@proc
def loop_may_not_run(N: size, x: f32[N, 8], y: f32[8]):
    assert N >= 1
    v: f32[8] @ AVX2                       # written in a loop of N trips
    for i in seq(0, N):
        mm256_loadu_ps(v, x[i, :])
    mm256_storeu_ps(y, v)


def test_registers_written_whole_first_are_not_zeroed():
    c = whole_first.c_code_str()
    assert "__m256 acc[2];" in c and "__m256 v;" in c and "__m256 w;" in c
    assert "{0}" not in c


@pytest.mark.parametrize("p, decl", [(merged, "__m256 v = {0};"),
                                     (guarded, "__m256 v = {0};"),
                                     (loop_may_not_run, "__m256 v = {0};")])
def test_registers_an_instruction_could_read_unwritten_are_zeroed(p, decl):
    assert decl in p.c_code_str()


@native
def test_whole_first_runs_like_the_interpreter():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 8)).astype(np.float32)
    want, got = np.zeros_like(x), np.zeros_like(x)
    whole_first.interpret(N=5, x=x, y=want)
    compiled(whole_first, "native")(N=5, x=x, y=got)  # -Wall -Wextra -Werror
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)  # the fma rounds once


@native
@pytest.mark.parametrize("n", [1, 5, 8])
def test_merged_runs_like_the_interpreter(n):
    x = np.arange(1, n + 1, dtype=np.float32)
    want, got = np.full(n, -1, np.float32), np.full(n, -1, np.float32)
    merged.interpret(N=n, x=x, y=want)
    compiled(merged, "native")(N=n, x=x, y=got)
    np.testing.assert_array_equal(got, want)


@native
@pytest.mark.parametrize("p, n", [(guarded, 1), (guarded, 3), (loop_may_not_run, 2)])
def test_zeroed_ones_compile_warning_free_and_agree(p, n):
    x = np.arange(16, dtype=np.float32).reshape(2, 8)
    args = {"guarded": dict(N=n, x=x[0]), "loop_may_not_run": dict(N=n, x=x)}[p.name()]
    want, got = np.zeros(8, np.float32), np.zeros(8, np.float32)
    p.interpret(**args, y=want)
    compiled(p, "native")(**args, y=got)
    np.testing.assert_array_equal(got, want)
