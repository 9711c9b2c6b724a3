"""How knit's C is built (docs/semantics.md#c-build): the JIT passes the flags that fix
the C's meaning (gcc's own only to gcc), and the C written for users carries them in a
comment and, for gcc, in an `optimize` pragma they can turn off."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from semcheck import COMPILERS, mismatches, run
from semcorpus import CORPUS

from knit.backend.c import compile_procs_to_strings
from knit.runtime import cc as knit_cc


@pytest.mark.parametrize("cc", COMPILERS)
def test_the_jit_adds_the_meaning_flags_for_the_compiler(cc):
    # pins semantics.md#c-build
    flags = knit_cc.build_flags([cc])
    assert flags[:2] == ["-O3", "-march=native"]
    assert "-ffp-contract=off" in flags and "-fwrapv" in flags
    # clang rejects -fno-tree-loop-distribution; gcc gets it and then needs no pragma
    assert ("-fno-tree-loop-distribution" in flags) == (cc == "gcc")
    assert ("-DKNIT_NO_GCC_OPTIMIZE_PRAGMA" in flags) == (cc == "gcc")
    # flags given by the user replace the optimisation flags, never the meaning
    mine = knit_cc.build_flags([cc], "-O1 -ffp-contract=fast")
    assert mine[:2] == ["-O1", "-ffp-contract=fast"] and mine[2] == "-ffp-contract=off"


def test_cc_is_recognised_by_its_version():
    assert knit_cc.compiler_kind(["gcc"]) == "gcc"
    assert knit_cc.compiler_kind(["clang"]) == "clang"


@pytest.mark.parametrize("cc", COMPILERS)
@pytest.mark.parametrize("seed", [0, 1])
def test_the_gcc_miscompile_of_issue_8_is_gone_at_the_defaults(cc, seed):
    # pins semantics.md#c-build (issue 8 class 7: gcc 12 -O3 tree loop distribution)
    p, make_args, _ = CORPUS["distributed_cut"]
    args = make_args(np.random.default_rng(seed))
    assert not mismatches(run(p, args, "interp"), run(p, args, cc))


@pytest.mark.parametrize("cc", COMPILERS)
def test_the_gcc_loop_vectorizer_miscompile_is_gone_at_the_defaults(cc):
    # pins semantics.md#c-build (fuzz case 3943: gcc 12.2's loop vectorizer)
    p, make_args, _ = CORPUS["vectorized_dependence"]
    args = make_args(np.random.default_rng(0))
    assert not mismatches(run(p, args, "interp"), run(p, args, cc))


def _standalone(tmp_path, cc, flags):
    """distributed_cut's standalone C, built by `cc flags` into a program printing A."""
    p, make_args, _ = CORPUS["distributed_cut"]
    N, M, A, B = make_args(np.random.default_rng(0))
    c, h = compile_procs_to_strings([p], "k.h", ctxt=False)
    (tmp_path / "k.h").write_text(h)
    (tmp_path / "k.c").write_text(c)
    def fill(name, x):
        return f"int32_t {name}[] = {{{', '.join(map(str, x.ravel()))}}};"
    (tmp_path / "main.c").write_text(
        '#include <stdio.h>\n#include "k.h"\n'
        f"{fill('A', A)}\n{fill('B', B)}\n"
        "int main(void) {\n"
        f"  distributed_cut({N}, {M}, A, B);\n"
        "  for (unsigned k = 0; k < sizeof A / sizeof A[0]; k++) printf(\"%d \", A[k]);\n"
        "  return 0;\n}\n")
    exe = tmp_path / "prog"
    subprocess.run([cc, *flags, "-o", str(exe), str(tmp_path / "main.c"),
                    str(tmp_path / "k.c")], check=True, capture_output=True, text=True)
    got = np.array(subprocess.run([str(exe)], check=True, capture_output=True,
                                  text=True).stdout.split(), dtype=np.int32)
    want = run(p, [N, M, A, B], "interp")[2]
    return got, want.ravel()


def test_the_standalone_c_states_its_flags():
    c, _ = compile_procs_to_strings([CORPUS["distributed_cut"][0]], "k.h", ctxt=False)
    head = c.split("#include")[0]
    assert "-ffp-contract=off -fwrapv -fno-tree-loop-distribution" in head
    assert "#pragma STDC FP_CONTRACT OFF" in head
    assert "KNIT_NO_GCC_OPTIMIZE_PRAGMA" in head


@pytest.mark.parametrize("cc", COMPILERS)
def test_the_standalone_c_is_right_built_with_plain_O3(cc, tmp_path):
    # pins semantics.md#c-build: a user who builds with `cc -O3` and nothing else gets
    # the meaning anyway (gcc: from the optimize pragma)
    got, want = _standalone(tmp_path, cc, ["-O3"])
    assert np.array_equal(got, want)


@pytest.mark.skipif("gcc" not in COMPILERS, reason="needs gcc")
def test_the_standalone_c_with_the_stated_gcc_flags_and_no_pragma_is_right(tmp_path):
    # pins semantics.md#c-build: the flags in the comment replace the pragma
    flags = ["-O3", "-ffp-contract=off", "-fwrapv", "-fno-tree-loop-distribution",
             "-fno-tree-loop-vectorize", "-DKNIT_NO_GCC_OPTIMIZE_PRAGMA"]
    got, want = _standalone(tmp_path, "gcc", flags)
    assert np.array_equal(got, want)


def _gcc_major() -> int:
    r = subprocess.run(["gcc", "-dumpversion"], capture_output=True, text=True)
    return int(r.stdout.split(".")[0]) if r.returncode == 0 else 0


@pytest.mark.skipif(_gcc_major() != 12, reason="the miscompile was seen on gcc 12.2")
def test_gcc_12_vectorizes_the_dependence_wrongly_without_the_flag(tmp_path):
    # why the flag is there (semantics.md#c-build): the same C built with knit's other
    # gcc flags and not -fno-tree-loop-vectorize computes another B on gcc 12 (-O3;
    # -O2 miscompiles such a loop where its trip count is a constant)
    p, make_args, _ = CORPUS["vectorized_dependence"]
    M, B = make_args(np.random.default_rng(0))
    c, h = compile_procs_to_strings([p], "k.h", ctxt=False)
    (tmp_path / "k.h").write_text(h)
    (tmp_path / "k.c").write_text(c)
    values = ", ".join(f"{float(x)!r}f" for x in B)
    (tmp_path / "main.c").write_text(
        '#include <stdio.h>\n#include "k.h"\n'
        f"float B[] = {{{values}}};\n"
        "int main(void) {\n"
        f"  vectorized_dependence({M}, B);\n"
        '  for (unsigned k = 0; k < sizeof B / sizeof B[0]; k++) printf("%.9g ", B[k]);\n'
        "  return 0;\n}\n")
    want = run(p, [M, B], "interp")[1]

    def built(flags):
        exe = tmp_path / "prog"
        subprocess.run(["gcc", *flags, "-o", str(exe), str(tmp_path / "main.c"),
                        str(tmp_path / "k.c")], check=True, capture_output=True, text=True)
        out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
        return np.array(out.split(), dtype=np.float32)

    others = ["-O3", "-ffp-contract=off", "-fwrapv", "-fno-tree-loop-distribution",
              "-DKNIT_NO_GCC_OPTIMIZE_PRAGMA"]
    assert not np.array_equal(built(others), want)
    assert np.array_equal(built([*others, "-fno-tree-loop-vectorize"]), want)
    assert np.array_equal(built(["-O3"]), want)  # the pragma alone


@pytest.mark.skipif(_gcc_major() != 12, reason="the miscompile is gcc 12's")
def test_without_pragma_or_flags_gcc_12_miscompiles_it(tmp_path):
    # why the pragma stays on by default: this is what a plain `gcc -O3` build did
    got, want = _standalone(tmp_path, "gcc", ["-O3", "-DKNIT_NO_GCC_OPTIMIZE_PRAGMA"])
    assert not np.array_equal(got, want)


def _clang_has_float16() -> bool:
    r = subprocess.run(["clang", "-x", "c", "-fsyntax-only", "-"], input="_Float16 h;\n",
                       capture_output=True, text=True)
    return r.returncode == 0


@pytest.mark.skipif("clang" not in COMPILERS or _clang_has_float16(),
                    reason="needs a clang without _Float16 (clang < 15 on x86)")
def test_f16_under_a_compiler_without_float16_or_f16c_is_a_clear_compile_error():
    # pins semantics.md#f16-compilers: clang 14 builds f16 with __fp16 when it has F16C
    # (the default -march=native here; test_f16_mixed.py and the corpus check its
    # results), and without F16C says what it needs
    from knit import proc
    from knit.errors import CompileError

    @proc
    def halfsq(N: size, x: f16[N] @ DRAM, y: f16[N] @ DRAM):
        for i in seq(0, N):
            y[i] += x[i] * x[i]

    with pytest.raises(CompileError) as e:
        halfsq.compile(cc="clang", flags=["-O2", "-mno-f16c"])
    first = str(e.value).splitlines()[0]
    assert first.startswith("the C compiler 'clang' (")
    assert "clang version" in first and "has no _Float16" in first
    assert "f16 needs gcc >= 12 or clang >= 15 (on x86), or clang 14 with F16C" in first


def test_the_float16_error_is_recognised_in_both_compilers_words():
    assert knit_cc._no_float16("k.c:3:1: error: _Float16 is not supported on this target")
    assert knit_cc._no_float16("k.c:3:1: error: unknown type name '_Float16'")
    assert not knit_cc._no_float16("k.c:3:1: error: expected ';' before '_Float16'")
