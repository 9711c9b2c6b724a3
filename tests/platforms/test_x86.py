"""knit.platforms.x86: the memories' C, every instruction's meaning (interpreted, against
NumPy), refusals of bad uses, and the library's own rules (public imports, lazy checks).
Compiled C is tested in test_x86_compiled.py."""

from __future__ import annotations

import numpy as np
import pytest
from x86_cases import CASES, FAMILIES, instruction_names, run_case

from knit import DRAM, proc
from knit.errors import MemoryAccessError, PreconditionError
from knit.libs.memories import MemGenError
from knit.platforms.x86 import (
    AVX2,
    AVX512,
    avx2_mask_loadu_ps,
    mm256_add_ps,
    mm256_loadu_ps,
    mm256_setzero_ps,
    mm256_storeu_ps,
    prefetch,
)

# ---------------------------------------------------------------- every instruction's meaning


def test_every_instruction_has_a_case():
    assert instruction_names() == {c.instr for c in CASES}
    assert len(CASES) >= 60


def _interp_params():
    for case in CASES:
        for n in case.shape.ns(FAMILIES[case.family].W):
            yield pytest.param(case, n, id=case.instr if n is None else f"{case.instr}-n{n}")


@pytest.mark.parametrize("case, n", list(_interp_params()))
def test_interpreted_meaning_matches_numpy(case, n):
    run_case(case, lambda k, **args: k.interpret(**args), n)


def test_instruction_bodies_run_directly():
    x, y = np.arange(8, dtype=np.float32), np.full(8, 0.5, np.float32)
    out = np.zeros(8, np.float32)
    mm256_add_ps.interpret(out, x, y)
    np.testing.assert_array_equal(out, x + y)
    dst = np.full(8, -1.0, np.float32)
    avx2_mask_loadu_ps.interpret(3, dst, x[:3])
    np.testing.assert_array_equal(dst, [0, 1, 2, -1, -1, -1, -1, -1])


def test_prefetch_means_nothing_and_passes_the_checks():
    prefetch._check()  # its body is `pass`
    x = np.arange(4, dtype=np.float64)
    prefetch.interpret(x[:1], 0)
    np.testing.assert_array_equal(x, np.arange(4))


# ---------------------------------------------------------------- memories


def test_avx2_alloc_maps_the_last_dimension_onto_registers():
    assert AVX2.alloc("v", "float", ["8"], None) == "__m256 v;"
    assert AVX2.alloc("v", "double", ["4"], None) == "__m256d v;"
    assert AVX2.alloc("c", "float", ["6", "2", "8"], None) == "__m256 c[6][2];"
    assert AVX512.alloc("v", "float", ["16"], None) == "__m512 v;"
    assert AVX512.alloc("v", "double", ["3", "8"], None) == "__m512d v[3];"
    # where an instruction could read it unwritten (knit.backend.c.registers)
    assert AVX2.alloc_zeroed("c", "float", ["6", "2", "8"], None) == "__m256 c[6][2] = {0};"
    assert AVX512.alloc_zeroed("v", "float", ["16"], None) == "__m512 v = {0};"
    assert AVX2.free("v", "float", ["8"], None) == ""


@pytest.mark.parametrize("mem, ctype, shape, phrase", [
    (AVX2, "float", ["4"], "holds exactly 8 f32 values"),
    (AVX2, "float", ["16"], "holds exactly 8 f32 values"),
    (AVX2, "double", ["8"], "holds exactly 4 f64 values"),
    (AVX2, "float", ["N"], "the last dimension of 'v' is N"),
    (AVX512, "float", ["8"], "holds exactly 16 f32 values"),
    (AVX512, "double", ["16"], "holds exactly 8 f64 values"),
    (AVX2, "float", [], "is a scalar"),
    (AVX2, "int32_t", ["8"], "holds i32 data, but AVX2 registers hold f32 or f64"),
    (AVX512, "uint16_t", ["32"], "holds ui16 data"),
    (AVX2, "float", ["N", "8"], "the extent 'N'"),
])
def test_alloc_refuses_what_registers_cannot_hold(mem, ctype, shape, phrase):
    with pytest.raises(MemGenError, match=phrase):
        mem.alloc("v", ctype, shape, None)


def test_window_is_the_register_holding_the_first_lane():
    assert AVX2.window(None, "v", ["0"], ["1"], None) == "v"
    assert AVX2.window(None, "c", ["i", "jo", "0"], ["16", "8", "1"], None) == "c[i][jo]"
    assert AVX512.window(None, "c", ["i + 1", "0"], ["16", "1"], None) == "c[i + 1]"


def test_window_refuses_lanes_inside_a_register():
    with pytest.raises(MemGenError, match="must start at lane 0, but starts at lane 4"):
        AVX2.window(None, "v", ["4"], ["1"], None)
    with pytest.raises(MemGenError, match="contiguous"):
        AVX2.window(None, "v", ["0"], ["2"], None)


def test_registers_are_for_instructions_only():
    assert not AVX2.can_read() and not AVX512.can_read()
    for mem in (AVX2, AVX512):
        text = mem.global_()
        assert "#include <immintrin.h>" in text and "#include <simde/x86/avx512.h>" in text
        assert "#ifdef KNIT_USE_SIMDE" in text


# ---------------------------------------------------------------- bad uses


@proc
def narrow_register(x: f32[4] @ DRAM):
    v: f32[4] @ AVX2  # noqa: F842
    pass  # noqa: PIE790


def test_register_of_the_wrong_width_is_refused_when_compiling():
    with pytest.raises(MemGenError) as info:
        narrow_register.c_code_str()
    msg = str(info.value)
    assert "test_x86.py" in msg and "AVX2.alloc" in msg
    assert "the last dimension of 'v' is 4, but one AVX2 register holds exactly 8" in msg


def test_plain_code_cannot_read_a_register():
    @proc  # accepted as a definition (as in Exo); refused where C is generated
    def reads_register(x: f32[8] @ DRAM):
        v: f32[8] @ AVX2
        mm256_setzero_ps(v)
        for i in seq(0, 8):
            x[i] = v[i]
    with pytest.raises(MemoryAccessError, match="'v' lives in AVX2, which only instructions"):
        reads_register.c_code_str()


def test_plain_code_cannot_write_a_register():
    @proc  # accepted as a definition (as in Exo); refused where C is generated
    def writes_register(x: f32[16] @ DRAM):
        v: f32[16] @ AVX512
        for i in seq(0, 16):
            v[i] = x[i]
    with pytest.raises(MemoryAccessError, match="'v' lives in AVX512, which only "
                       "instructions"):
        writes_register.c_code_str()


def test_unit_stride_is_required():
    with pytest.raises(PreconditionError, match="stride"):
        @proc
        def load_column(A: f32[8, 8] @ DRAM):
            v: f32[8] @ AVX2
            mm256_loadu_ps(v, A[0:8, 0])
            mm256_storeu_ps(A[0, 0:8], v)


def test_masked_length_must_fit_a_register():
    with pytest.raises(PreconditionError, match="N <= 8"):
        @proc
        def load_edge(n: size, x: f32[n] @ DRAM):
            v: f32[8] @ AVX2
            avx2_mask_loadu_ps(n, v, x[0:n])


def test_prefetch_hint_is_checked():
    with pytest.raises(PreconditionError, match="locality_hint < 8"):
        @proc
        def bad_hint(x: f32[8] @ DRAM):
            prefetch(x[0:1], 9)
