"""Compiled code (default flags; gcc and clang) against the interpreter over a corpus of
programs on awkward inputs (NaN, -0.0, inf, subnormals, integer extremes): they must
agree bit for bit (docs/semantics.md#c-build; issue 8 class 7)."""

from __future__ import annotations

import platform

import numpy as np
import pytest
from semcheck import COMPILERS, compilers_for, mismatches, run
from semcorpus import CORPUS, INEXACT

CASES = [(name, cc) for name, (p, _, _) in CORPUS.items() for cc in compilers_for(p)]


@pytest.mark.parametrize("name, cc", CASES, ids=[f"{n}-{c}" for n, c in CASES])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_agrees_with_the_interpreter(name, cc, seed):
    # pins semantics.md#c-build (and every arithmetic rule the corpus exercises)
    p, make_args, signed_zeros = CORPUS[name]
    args = make_args(np.random.default_rng(seed))
    want = run(p, args, "interp")
    got = run(p, args, cc)
    bad = mismatches(want, got, signed_zeros)
    assert not bad, f"{name} compiled by {cc} disagrees with the interpreter:\n" + "\n".join(bad)


@pytest.mark.parametrize("cc", COMPILERS)
def test_libm_functions_agree_to_the_last_place(cc):
    # pins semantics.md#externs (exp, sin: libm's; NaN and infinities exactly)
    p, make_args = INEXACT["transcendental"]
    args = make_args(np.random.default_rng(3))
    want, got = run(p, args, "interp")[-1], run(p, args, cc)[-1]
    assert np.array_equal(np.isnan(want), np.isnan(got))
    assert np.array_equal(want[np.isinf(want)], got[np.isinf(want)])
    np.testing.assert_allclose(got, want, rtol=4e-16, atol=0)


STRICT = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-c"]


@pytest.mark.parametrize("cc", COMPILERS)
def test_the_corpus_compiles_warning_free(cc, tmp_path):
    """The casts, literals and pragmas the rules need are clean C for both compilers."""
    import subprocess

    from knit.backend.c import compile_procs_to_strings

    procs = [p for p, *_ in [*CORPUS.values(), *INEXACT.values()] if cc in compilers_for(p)]
    c, h = compile_procs_to_strings(procs, "corpus.h")
    (tmp_path / "corpus.h").write_text(h)
    (tmp_path / "corpus.c").write_text(c)
    # clang 14 builds f16 with __fp16 and F16C (semantics.md#f16-compilers)
    f16c = ["-mf16c"] if cc == "clang" and platform.machine() in ("x86_64", "AMD64") else []
    r = subprocess.run([cc, *STRICT, *f16c, str(tmp_path / "corpus.c"),
                        "-o", str(tmp_path / "c.o")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
