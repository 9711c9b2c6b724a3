"""The C backend: every construct compiles warning-free and computes what NumPy does."""

from __future__ import annotations

import re

import numpy as np
import programs as P
import pytest
from conftest import clang_supports_float16, have, strict_compile

from knit import Procedure
from knit.backend.c import compile_procs, compile_procs_to_strings

rng = np.random.default_rng(7)

ALL = [v for v in vars(P).values() if isinstance(v, Procedure) and not v.is_instr()]


def rand(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def c_of(*procs) -> str:
    c, _ = compile_procs_to_strings(list(procs), "t.h")
    return c


def body_of(p) -> str:
    """The C definition of p (from its signature comment to the closing brace)."""
    c = c_of(p)
    start = c.index(f"// {p.name()}(")
    return c[start:c.index("\n}\n", start) + 3]


# ---------------------------------------------------------------- warnings


@pytest.mark.parametrize("extra", [(), ("-fopenmp",)], ids=["plain", "openmp"])
def test_all_programs_compile_warning_free_with_gcc(extra, tmp_path):
    c, h = compile_procs_to_strings(ALL, "all.h")
    r = strict_compile("gcc", c, h, "all.h", tmp_path, extra)
    assert r.returncode == 0, r.stderr


@pytest.mark.skipif(not have("clang"), reason="clang is not installed (gcc is checked above)")
def test_all_programs_compile_warning_free_with_clang(tmp_path):
    procs = ALL if clang_supports_float16(tmp_path) else [p for p in ALL if p is not P.halves]
    c, h = compile_procs_to_strings(procs, "all.h")
    r = strict_compile("clang", c, h, "all.h", tmp_path)
    assert r.returncode == 0, r.stderr


def test_every_program_compiles_alone(tmp_path):
    """Alone, a proc's file must still hold everything it needs (structs, helpers)."""
    for p in ALL:
        c, h = compile_procs_to_strings([p], f"{p.name()}.h")
        r = strict_compile("gcc", c, h, f"{p.name()}.h", tmp_path / p.name())
        assert r.returncode == 0, f"{p.name()}:\n{r.stderr}"


# ---------------------------------------------------------------- file layout


def test_header_and_source_layout(tmp_path):
    compile_procs([P.calls, P.gemm], tmp_path / "out", "k.c", "k.h")
    c = (tmp_path / "out" / "k.c").read_text()
    h = (tmp_path / "out" / "k.h").read_text()
    assert c.startswith('#include "k.h"\n')
    assert "#include <stdint.h>" in h and "#include <stdbool.h>" in h
    assert "#ifndef KNIT_K_H" in h and 'extern "C"' in h
    # public procs are declared in the header; callees are static and come first
    assert re.search(r"^void calls\(", h, re.MULTILINE) and re.search(r"^void gemm\(", h, re.MULTILINE)
    assert "axpy_win" not in h.split("struct knit_win_1f32 {")[-1]
    assert re.search(r"^static void scal\(", c, re.MULTILINE)
    assert c.index("void scal(") < c.index("void axpy_win(") < c.index("void calls(")
    assert c.count("void scal(") == 1  # called twice, emitted once
    # each window struct is defined once, guarded, in the header
    assert h.count("struct knit_win_1f32 {") == 1 and "#ifndef KNIT_WIN_1F32\n" in h
    assert h.count("struct knit_win_1f32c {") == 1


def test_public_entry_points(tmp_path):
    import knit

    P.gemm.compile_c(tmp_path, "g")
    assert "void gemm(" in (tmp_path / "g.h").read_text()
    assert (tmp_path / "g.c").read_text().startswith('#include "g.h"')
    c, h = knit.compile_procs_to_strings([P.gemm], "x.h")
    assert c == (tmp_path / "g.c").read_text().replace('"g.h"', '"x.h"')
    assert h == (tmp_path / "g.h").read_text().replace("KNIT_G_H", "KNIT_X_H")
    text = P.gemm.c_code_str()
    assert "#include <stdint.h>" in text and "C[i * M + j] += A[i * K + k] * B[k * M + j];" in text


def test_public_callee_is_not_static():
    c = c_of(P.calls, P.scal)
    assert re.search(r"^void scal\(", c, re.MULTILINE) and "static void scal" not in c


def test_argument_types():
    sig = body_of(P.windows).split("{")[0]
    assert "int_fast32_t N" in sig and "int_fast32_t M" in sig
    assert "struct knit_win_2f32c A" in sig  # a window the proc only reads: const data
    assert "float* restrict B" in sig and "const float* restrict c" in sig
    assert "bool b" in body_of(P.bools)
    assert "const _Float16* restrict c" in body_of(P.halves)


def test_struct_definition_text():
    _, h = compile_procs_to_strings([P.axpy_win], "t.h")
    assert "struct knit_win_1f32 {\n    float * const data;\n" \
           "    const int_fast32_t strides[1];\n};" in h
    assert "struct knit_win_1f32c {\n    const float * const data;" in h


# ---------------------------------------------------------------- expressions


def test_floor_division_only_when_needed():
    text = body_of(P.divmod_)
    assert "knit_floor_mod(i - 5, 8)" in text and "knit_floor_mod(i + k, 8)" in text
    assert "knit_floor_div(i - 4, 2)" in text
    assert "i < N / 2" in text and "x[(2 * i + 1) / 2]" in text  # provably non-negative
    assert "static inline int_fast32_t knit_floor_div" in c_of(P.divmod_)
    assert "knit_floor" not in c_of(P.gemm)


def test_literals_follow_the_data_type():
    assert "t[0] * 3.0f" in body_of(P.par_loop)
    # a double product: its literal is a double (semantics.md#literal-type)
    assert "(float)(a[i] * b[i] + 0.5)" in body_of(P.mixed)
    text = body_of(P.ints)
    assert "o8[i] = (int8_t)(d[i] + d[i]);" in text and "oi[i] = g[i] * 3 + 1;" in text
    assert "((_Float16) 0.25)" in body_of(P.halves)


def test_windows_index_their_root_buffer():
    text = body_of(P.windows)
    assert "// w2 = w[1:N, 0]" in text and "B[(1 + j) * M] += 1.0f;" in text
    assert "(struct knit_win_1f32c){ &A.data[i * A.strides[0]], { A.strides[1] } }" in text
    # a precondition stride(A, 1) == 1 turns the stride into a constant
    assert "A.data[i * A.strides[0] + 3]" in body_of(P.window_strides)


def test_names_are_c_safe_and_distinct():
    text = body_of(P.names)
    assert "const float* restrict int_1" in text and "float* restrict free_1" in text
    assert "float double_1;" in text
    assert "for (int_fast32_t i_1 = 0; i_1 < 1; i_1++)" in text  # shadowed Sym renamed


def test_par_loop_pragma():
    assert "#pragma omp parallel for\n#endif\n    for (int_fast32_t i" in body_of(P.par_loop)


def test_unused_arguments_and_buffers_are_marked():
    assert "(void) N;" in body_of(P.unused_args) and "(void) s;" in body_of(P.unused_args)
    text = body_of(P.allocs)
    assert "(void) dead;" in text and "(void) N;" not in text


def test_frees_in_reverse_order_at_block_end():
    text = body_of(P.allocs)
    assert text.index("free(e);") < text.index("free(d);") < text.index("free(a);")
    inner = body_of(P.nested_allocs)
    assert "        free(t);\n    }\n}" in inner  # at the end of the loop body


def test_instr_templates_expand():
    text = body_of(P.instrs)
    assert "B.data[0] = A[0] * 2.0f;" in text
    assert "knit_test_scale(4, &B.data[(N - 1) * B.strides[0]], (struct knit_win_1f32)" in text
    assert "/* t is the buffer */" in text and "= *c + t[2];" in text
    assert c_of(P.instrs).count("static void knit_test_scale") == 1


# ---------------------------------------------------------------- running it


def run(p, *args, **kwargs):
    return p.compile()(*args, **kwargs)


def test_gemm():
    A, B, C = rand(5, 7), rand(7, 3), rand(5, 3)
    want = C + A @ B
    run(P.gemm, A, B, C)
    np.testing.assert_allclose(C, want, rtol=1e-5, atol=1e-5)


def test_tensor3():
    x, y = rand(6, 3, 4, dtype=np.float64), np.zeros((4, 6))
    run(P.tensor3, x, y)
    np.testing.assert_array_equal(y, (x[:, 2, :] - x[:, 0, ::-1]).T)


def test_windows():
    big = rand(6, 9)
    A, B, c = big[:, ::2], rand(6, 5), np.array(0.5, np.float32)  # A is a strided view
    want = B + 0.5 * A + A * A[:, :1]
    want[1:, 0] += 1
    run(P.windows, A, B, c)
    np.testing.assert_allclose(B, want, rtol=1e-5, atol=1e-6)


def test_window_strides():
    A, out = rand(5, 4), np.zeros(5, np.float32)
    run(P.window_strides, A, out)
    want = A[:, 3] + A[:, 0]
    want[0] = A[1, 2]
    np.testing.assert_array_equal(out, want)


def test_stride_expr():
    base = rand(5, 4, dtype=np.float64)
    out = np.zeros(5)
    run(P.stride_expr, base[:, 1:3], out)  # element strides (4, 1): the else branch
    np.testing.assert_array_equal(out, -1.0)
    run(P.stride_expr, np.ascontiguousarray(base[:, 1:3]), out)
    np.testing.assert_array_equal(out, base[:, 2])


@pytest.mark.parametrize("k", [-13, -1, 0, 5])
def test_divmod_has_floor_semantics(k):
    x, y = rand(12), np.zeros(12, np.float32)
    run(P.divmod_, k, x, y)
    i = np.arange(12)
    want = x[(i - 5) % 8] + x[(i + k) % 8]
    want[:8][(np.arange(8) - 4) // 2 < 0] = 0
    want[0::2] += x[(2 * np.arange(6) + 1) // 2]
    np.testing.assert_allclose(y, want, rtol=1e-6)


@pytest.mark.parametrize("b", [True, False])
def test_bools(b):
    x = rand(8)
    want = x.copy()
    i = np.arange(8)
    neg = (b & (i < 4)) | ((i == 3) == b)
    want[neg], want[~neg] = -x[neg], x[~neg] + 1
    run(P.bools, b, 4, x)
    np.testing.assert_allclose(x, want)


def test_allocs():
    x, out = rand(7), np.zeros(7, np.float32)
    run(P.allocs, x, out)
    np.testing.assert_allclose(out, (x + 1) * 2.5, rtol=1e-6)


def test_nested_allocs():
    x, out = rand(5, dtype=np.float64), np.zeros(5)
    run(P.nested_allocs, x, out)
    np.testing.assert_allclose(out, x * np.array([3, 3, 1, 1, 1]))


def test_mixed_precision():
    a, b = rand(6, dtype=np.float64), rand(6)
    o32, o64 = np.zeros(6, np.float32), np.zeros(6)
    run(P.mixed, a, b, o32, o64)
    np.testing.assert_allclose(o32, (a * b + 0.5).astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(o64, b.astype(np.float64) * 2 + a, rtol=1e-12)


def test_integer_types_wrap_like_c():
    d = rng.integers(-128, 128, 9).astype(np.int8)
    e = rng.integers(0, 256, 9).astype(np.uint8)
    f = rng.integers(0, 65536, 9).astype(np.uint16)
    g = rng.integers(-1000, 1000, 9).astype(np.int32)
    outs = [np.zeros(9, t) for t in (np.int8, np.uint8, np.uint16, np.int32)]
    run(P.ints, d, e, f, g, *outs)
    wide = d.astype(np.int64)
    wrap8 = lambda v: (v + 128) % 256 - 128
    np.testing.assert_array_equal(outs[0], wrap8(wrap8(2 * wide) + wide))
    np.testing.assert_array_equal(outs[1], (e.astype(np.int64) * 2) % 256)
    np.testing.assert_array_equal(outs[2], (f.astype(np.int64) * 2) % 65536)
    np.testing.assert_array_equal(outs[3], g * 3 + 1)


def test_half_precision():
    c = rand(8, dtype=np.float16)
    o16, o32 = np.zeros(8, np.float16), np.zeros(8, np.float32)
    run(P.halves, c, o16, o32)
    np.testing.assert_allclose(o16, c * np.float16(1.25), rtol=2e-3)
    np.testing.assert_array_equal(o32, c.astype(np.float32))


def test_externs():
    x, y = rand(16), rand(16, dtype=np.float64)
    o, p = np.zeros(16, np.float32), np.zeros(16)
    run(P.externs, x, y, o, p)
    want = np.where(x < 0, np.maximum(x, 0), np.abs(x)) + np.sin(x) + np.exp(x) \
        + np.maximum(x, 0.5) + 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(o, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p, np.abs(y) + np.exp(-y), rtol=1e-12)


def test_infinite_literals():
    assert "((double) -INFINITY)" in body_of(P.infinities)
    assert "#include <math.h>" in c_of(P.infinities)
    x, o = rand(9, dtype=np.float64), np.zeros(9, np.float32)
    run(P.infinities, x, o)
    np.testing.assert_array_equal(o, np.where(x < 0, -np.inf, x).astype(np.float32))


def test_configs_and_pinned_window_offset():
    x, y = rand(6), np.zeros(6, np.float32)
    run(P.configs, x, y)
    # the window was bound while Cfg.off was 1; setting it to 0 later must not move it
    np.testing.assert_allclose(y[:5], x[1:] * 2)
    assert y[5] == 0


def test_names():
    a, b = rand(5), np.zeros(5, np.float32)
    run(P.names, a, b)
    want = a.copy()
    want[0] += a[-1]
    np.testing.assert_allclose(b, want)


def test_par_loop():
    x, y = rand(1000), np.zeros(1000, np.float32)
    run(P.par_loop, x, y)
    np.testing.assert_allclose(y, x * 3, rtol=1e-6)


def test_calls():
    x, y, s = rand(6), rand(4, 6), np.array(1.5, np.float32)
    wx = x * 1.5
    wy = y + wx[:4, None] * wx[None, :]
    wy[1, 1:] += 1.5 * wy[0, :5]
    wx = wx * wy[2, 0]
    run(P.calls, x, y, s)
    np.testing.assert_allclose(y, wy, rtol=1e-5)
    np.testing.assert_allclose(x, wx, rtol=1e-5)


def test_instrs():
    A, B, c = rand(3, 4), rand(3, 7)[:, :4], np.array(3.0, np.float32)
    want = B.copy()
    want[0, 0] = A[0, 0] * 2
    want[2, :] *= 3
    want[1, 3] = 3 + A[1, 2]
    run(P.instrs, A, B, c)
    np.testing.assert_allclose(B, want, rtol=1e-6)


def test_config_state_is_shared_between_compiled_procs():
    s = np.array(0.0, np.float32)
    run(P.configs, rand(3), np.zeros(3, np.float32))  # sets Cfg.scale = 2
    run(P.read_config, s)  # another library, the same config state
    assert s == 3.0


def test_config_field_in_c():
    c = c_of(P.configs)
    assert "static struct { float scale; int_fast32_t off; bool flag; } Cfg;" in c
    assert "Cfg.off = 1;" in c and "const int_fast32_t win_offset = Cfg.off;" in c


# ---------------------------------------------------------------- against the interpreter


def random_args(p, seed: int, n: int = 8) -> list:
    """Arguments for p: every size n, index 2, bool True; windows are strided views
    (every other row), so strides other than the dense ones reach the C code."""
    from knit.runtime.args import eval_index

    gen = np.random.default_rng(seed)
    env, args = {}, []
    for a in p._loopir_proc.args:
        t = a.type
        if t.is_control():
            v = {"size": n, "index": 2, "bool": True, "stride": 1}[t.kind]
            env[a.name] = v
            args.append(v)
            continue
        dtype = np.dtype(t.basetype().np_dtype)
        shape = tuple(eval_index(d, env) for d in t.shape())
        if t.is_tensor() and t.is_win():
            base = values(gen, (2 * shape[0], *shape[1:]), dtype)
            args.append(base[::2])
        else:
            args.append(values(gen, shape, dtype))
    return args


def values(gen, shape, dtype):
    if dtype.kind in "iu":
        return gen.integers(0, 100, shape).astype(dtype)
    return np.asarray(gen.uniform(-2, 2, shape)).astype(dtype)


@pytest.mark.parametrize("p", ALL, ids=[p.name() for p in ALL])
def test_compiled_code_agrees_with_the_interpreter(p):
    args, mine = random_args(p, seed=11), random_args(p, seed=11)  # equal, same strides
    for prepare in (P.configs.interpret, run.__get__(P.configs)):  # same config state
        prepare(rand(8), np.zeros(8, np.float32))
    p.interpret(*args)
    run(p, *mine)
    for want, got in zip(args, mine):
        if isinstance(want, np.ndarray):
            tol = 1e-2 if want.dtype == np.float16 else 1e-5
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
