"""knit.check_instr: every instr of knit.platforms against its body, and wrong user
instrs caught with an input that really shows the difference.

x86 instrs run natively where this CPU has the instructions and always through SIMDe
(Debian's libsimde-dev), whose C differs for the masked forms; NEON instrs run under
qemu-aarch64 (Debian's gcc-aarch64-linux-gnu and qemu-user). Tests needing a missing
tool are skipped, saying which.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_x86_compiled import NATIVE_AVX2, NATIVE_AVX512  # what this CPU runs natively

from knit import DRAM, Procedure, check_instr, instr, proc
from knit.errors import KnitTypeError
from knit.instrcheck import InstrCheckError, harness as H, inexact
from knit.libs.memories import DRAM_STACK
from knit.platforms import neon, x86

# ================================================================ every platform instr


def _instrs(mod) -> list[Procedure]:
    return [getattr(mod, n) for n in mod.__all__ if isinstance(getattr(mod, n), Procedure)]


def _need(target: str) -> None:
    why = H.missing(target)
    if why:
        pytest.skip(why)


def _x86_targets(i: Procedure) -> list[str]:
    """SIMDe's portable C always (the masked forms have C of their own there); natively
    too where this CPU has the instructions."""
    # (mm256_mask*, mm_mask*: AVX-512VL, the masked forms on 256- and 128-bit registers;
    # avx2_*mask*: AVX2's own)
    native = NATIVE_AVX512 if i.name().startswith(("mm512_", "mm256_mask", "mm_mask")) \
        else NATIVE_AVX2
    return ["simde", *(["native"] if native else [])]


@pytest.mark.parametrize("i", _instrs(x86), ids=Procedure.name)
def test_x86_instr_matches_its_body(i):
    _need("simde")
    targets = _x86_targets(i)
    assert check_instr(i, targets=targets).targets == targets


@pytest.mark.parametrize("i", _instrs(neon), ids=Procedure.name)
def test_neon_instr_matches_its_body(i):
    _need("aarch64")
    assert check_instr(i, targets=["aarch64"]).targets == ["aarch64"]


def test_every_platform_instr_is_validated():
    assert len(_instrs(x86)) >= 60 and len(_instrs(neon)) >= 50


# ================================================================ control values


@pytest.mark.parametrize("i, values", [
    (x86.avx2_mask_loadu_ps, [{"N": n} for n in range(1, 9)]),
    (x86.mm512_mask_fmadd_ps, [{"N": n} for n in range(1, 17)]),  # assert N <= 16
    (x86.prefetch, [{"locality_hint": h} for h in range(8)]),
    (neon.neon_vfmla_4xf32_4xf32, [{"lane": k} for k in range(4)]),
    (x86.mm256_add_ps, [{}]),
])
def test_every_legal_control_value_is_tried(i, values):
    assert H.legal_controls(i._loopir_proc) == values


@instr("for (int i = 0; i < {n}; i++) (&{dst_data})[i] = (&{src_data})[i];")
def copy_n(n: size, dst: [f32][n] @ DRAM, src: [f32][n] @ DRAM):
    for i in seq(0, n):
        dst[i] = src[i]


@instr("for (int i = 0; i < {n}; i++) (&{dst_data})[i] = (&{src_data})[i];")
def copy_even(n: size, dst: [f32][8] @ DRAM, src: [f32][8] @ DRAM, flag: bool):
    assert n % 2 == 0
    assert n <= 8
    for i in seq(0, n):
        dst[i] = src[i]


def test_unbounded_sizes_and_bools_are_enumerated():
    assert [c["n"] for c in H.legal_controls(copy_n._loopir_proc)] == list(H.SIZES)
    assert H.legal_controls(copy_even._loopir_proc) == [
        {"n": n, "flag": f} for n in (2, 4, 6, 8) for f in (False, True)]
    report = check_instr(copy_even)
    assert len(report.controls) == 8


@instr("{dst_data} = 0;")
def impossible(n: size, dst: [f32][1] @ DRAM):
    assert n > 100
    assert n < 90
    dst[0] = 0.0


@instr("{dst_data} = 0;")
def only_huge(n: size, dst: [f32][1] @ DRAM):
    assert n > 100000
    dst[0] = 0.0


def test_asserts_no_call_satisfies_are_refused_at_first_use():
    with pytest.raises(KnitTypeError, match="the asserts of 'impossible' are always "
                                            "unsatisfiable"):
        check_instr(impossible)


def test_no_tried_control_value_is_an_error():
    with pytest.raises(InstrCheckError, match="no values of the control arguments of instr "
                                              "'only_huge' satisfy its asserts"):
        check_instr(only_huge)


# ================================================================ wrong user instrs


@instr("for (int i = 0; i < 8; i++) (&{dst_data})[i] = 0.0f - (&{src_data})[i];")
def neg_as_sub(dst: [f32][8] @ DRAM, src: [f32][8] @ DRAM):
    # the old avx2_sign_ps in scalar C: 0 - x is +0.0 where -x is -0.0
    for i in seq(0, 8):
        dst[i] = -src[i]


@proc
def run_neg_as_sub(dst: f32[8] @ DRAM, src: f32[8] @ DRAM):
    neg_as_sub(dst[0:8], src[0:8])


@instr("for (int i = 0; i <= {n} && i < 8; i++) (&{dst_data})[i] = (&{src_data})[i];")
def masked_copy_off_by_one(n: size, dst: [f32][8] @ DRAM, src: [f32][8] @ DRAM):
    assert n < 8
    for i in seq(0, 8):
        if i < n:
            dst[i] = src[i]


@proc
def run_masked_copy(dst: f32[8] @ DRAM, src: f32[8] @ DRAM):
    masked_copy_off_by_one(1, dst[0:8], src[0:8])


@instr("for (int i = 0; i < 4; i++) (&{dst_data})[i] = (&{src_data})[i] >> 1;")
def halve_by_shift(dst: [i32][4] @ DRAM, src: [i32][4] @ DRAM):
    # C's >> rounds down; the body's division truncates toward zero
    for i in seq(0, 4):
        dst[i] = src[i] / 2


@proc
def run_halve(dst: i32[4] @ DRAM, src: i32[4] @ DRAM):
    halve_by_shift(dst[0:4], src[0:4])


def _caught(i, **kw) -> dict:
    with pytest.raises(InstrCheckError) as info:
        check_instr(i, **kw)
    m = info.value.mismatch
    assert m is not None, str(info.value)
    assert f"instr '{i.name()}' does not do what its body says" in str(info.value)
    return m | {"message": str(info.value)}


def _rerun(p, m: dict) -> None:
    """The reported input, run again through an ordinary proc calling the instr,
    interpreted and compiled: the two differ where the report says, as reported."""
    runs = []
    for run in (p.interpret, p.compile()):
        args = {n: v.copy() for n, v in m["inputs"].items()}
        run(**args)
        runs.append(args)
    name, at = m["where"]
    body, c = runs[0][name][at], runs[1][name][at]
    assert body.tobytes() != c.tobytes() and not (np.isnan(body) and np.isnan(c))
    assert body.tobytes() == m["expected"][name][at].tobytes()
    assert c.tobytes() == m["actual"][name][at].tobytes()


def test_sign_of_zero_caught_and_reproduced():
    m = _caught(neg_as_sub)
    name, at = m["where"]
    assert name == "dst" and m["inputs"]["src"][at] == 0
    assert "the body gives -0.0 (0x80000000), the C gives 0.0 (0x00000000)" in m["message"]
    assert "src = [" in m["message"]  # every input is shown
    _rerun(run_neg_as_sub, m)


def test_wrong_mask_caught_with_its_control_value():
    m = _caught(masked_copy_off_by_one)
    assert m["controls"] == {"n": 1}  # the first legal value already shows it
    assert m["where"] == ("dst", (1,))
    assert "control arguments: n = 1" in m["message"]
    _rerun(run_masked_copy, m)  # with n = 1, as reported


def test_integer_rounding_caught_and_reproduced():
    m = _caught(halve_by_shift)
    name, at = m["where"]
    x = int(m["inputs"]["src"][at])
    assert x < 0 and x % 2 == 1  # only negative odd numbers tell >> from /
    _rerun(run_halve, m)


@instr("for (int i = 0; i < 5; i++) (&{dst_data})[i] = 1.0f;")
def writes_past_end(dst: [f32][4] @ DRAM):
    for i in seq(0, 4):
        dst[i] = 1.0


@instr("*(volatile int *) 0 = 0;")
def crashes(dst: [f32][4] @ DRAM):
    for i in seq(0, 4):
        dst[i] = 1.0


def test_write_past_the_end_is_caught():
    with pytest.raises(InstrCheckError, match=r"instr 'writes_past_end' writes past the end "
                                              r"of 'dst' \(float32\[4\]\)"):
        check_instr(writes_past_end)


def test_crash_is_reported_not_fatal():
    with pytest.raises(InstrCheckError, match=r"the C of instr 'crashes' failed \(signal 11"
                                              r"[\s\S]*dst = \["):
        check_instr(crashes)


@instr("{dst_data} = ;")
def no_c(dst: [f32][1] @ DRAM):
    dst[0] = 0.0


def test_c_that_does_not_compile_is_an_error():
    with pytest.raises(InstrCheckError, match="no target here builds the C of instr 'no_c'"):
        check_instr(no_c)
    with pytest.raises(InstrCheckError, match="does not build for target native"):
        check_instr(no_c, targets=["native"])


# ================================================================ tolerance


@instr("for (int i = 0; i < 4; i++) (&{d_data})[i] = fmaf((&{a_data})[i], (&{b_data})[i], "
       "(&{d_data})[i]);", "#include <math.h>")
def fma4(d: [f32][4] @ DRAM, a: [f32][4] @ DRAM, b: [f32][4] @ DRAM):
    for i in seq(0, 4):
        d[i] += a[i] * b[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("for (int i = 0; i < 4; i++) (&{d_data})[i] = fmaf((&{a_data})[i], (&{b_data})[i], "
       "(&{d_data})[i]);", "#include <math.h>")
def fma4_inexact(d: [f32][4] @ DRAM, a: [f32][4] @ DRAM, b: [f32][4] @ DRAM):
    for i in seq(0, 4):
        d[i] += a[i] * b[i]


def test_fused_rounding_needs_a_declared_tolerance():
    m = _caught(fma4)  # exact by default: the last bit differs
    assert m["target"] == "native"
    report = check_instr(fma4_inexact)
    assert report.ulps == 2
    assert check_instr(fma4, ulps=2).ulps == 2  # or a tolerance given at the call
    # a tolerance is not a licence: a wrong operation still fails
    with pytest.raises(InstrCheckError, match="tolerance 2 ulps"):
        check_instr(fma_wrong)


@inexact(2, "fused")
@instr("for (int i = 0; i < 4; i++) (&{d_data})[i] = fmaf((&{a_data})[i], (&{a_data})[i], "
       "(&{d_data})[i]);", "#include <math.h>")
def fma_wrong(d: [f32][4] @ DRAM, a: [f32][4] @ DRAM, b: [f32][4] @ DRAM):
    for i in seq(0, 4):
        d[i] += a[i] * b[i]


# ================================================================ the known-bad template


@instr("{dst_data} = _mm256_sub_ps(_mm256_setzero_ps(), {src_data});")
def old_avx2_sign_ps(dst: [f32][8] @ x86.AVX2, src: [f32][8] @ x86.AVX2):
    for i in seq(0, 8):
        dst[i] = -src[i]


def test_old_avx2_sign_template_is_caught_and_the_fix_passes():
    _need("simde")
    m = _caught(old_avx2_sign_ps, targets="all")
    assert "the body gives -0.0" in m["message"]
    for fixed in (x86.avx2_sign_ps, x86.avx2_sign_pd):
        targets = _x86_targets(fixed)
        assert check_instr(fixed, targets=targets).targets == targets


# ================================================================ misuse


def test_misuse_is_refused():
    with pytest.raises(TypeError, match="expected an @instr procedure"):
        check_instr(run_halve)
    with pytest.raises(ValueError, match="unknown target 'arm'"):
        check_instr(fma4_inexact, targets=["arm"])
    with pytest.raises(TypeError, match="put it above @instr"):
        inexact(2, "fused")(run_halve)


# ================================================================ harness: other memories


@instr("(&{dst_data})[0] = (&{src_data})[0]; (&{dst_data})[1] = (&{src_data})[1];")
def copy_two_registers(dst: [f32][2, 8] @ x86.AVX2, src: [f32][2, 8] @ x86.AVX2):
    for r in seq(0, 2):
        for i in seq(0, 8):
            dst[r, i] = src[r, i]


@instr("(&{dst_data})[0] = (&{src_data})[1]; (&{dst_data})[1] = (&{src_data})[0];")
def swap_two_registers(dst: [f32][2, 8] @ x86.AVX2, src: [f32][2, 8] @ x86.AVX2):
    for r in seq(0, 2):
        for i in seq(0, 8):
            dst[r, i] = src[r, i]


def test_arrays_of_registers_are_filled_register_by_register():
    assert check_instr(copy_two_registers).targets
    m = _caught(swap_two_registers)
    assert m["where"] == ("dst", (0, 0))


@instr("for (int i = 0; i < 4; i++) (&{dst_data})[i] = (&{src_data})[i] * 2.0f;")
def double_from_stack(dst: [f32][4] @ DRAM, src: [f32][4] @ DRAM_STACK):
    for i in seq(0, 4):
        dst[i] = src[i] * 2.0


@instr("for (int i = 0; i < 4; i++) (&{dst_data})[i] = (&{src_data})[i] + (&{src_data})[i];")
def double_by_adding(dst: [f32][4] @ DRAM, src: [f32][4] @ DRAM_STACK):
    for i in seq(0, 4):
        dst[i] = src[i] * 2.0


def test_readable_memories_are_filled_by_plain_copies():
    check_instr(double_from_stack)
    check_instr(double_by_adding)  # x * 2 and x + x are the same float, always


def test_default_and_all_targets():
    _need("simde")
    assert set(check_instr(x86.mm256_add_ps, targets="all").targets) == \
        set(_x86_targets(x86.mm256_add_ps))
    assert check_instr(x86.mm256_add_ps).targets == ["native" if NATIVE_AVX2 else "simde"]
    if H.missing("aarch64") is None:
        # native cannot build Arm C on this machine unless it is an Arm machine
        assert check_instr(neon.neon_vadd_4xf32, targets="all").targets[-1] == "aarch64"


@instr("for (int i = 0; i < 4; i++) (&{q_data})[i] = (&{a_data})[i] / (&{b_data})[i];")
def int_div(q: [i32][4] @ DRAM, a: [i32][4] @ DRAM, b: [i32][4] @ DRAM):
    for i in seq(0, 4):
        q[i] = a[i] / b[i]


def test_inputs_outside_the_meaning_are_left_out():
    # a zero divisor (an edge value) has no meaning in the body (the interpreter refuses
    # it) and traps in C: such inputs are not run, the others are
    report = check_instr(int_div)
    assert 0 < report.runs < report.trials
    assert check_instr(double_from_stack).runs == 24  # without division: every input


def test_harness_programs_go_through_the_verified_cache(tmp_path, monkeypatch):
    """check_instr's programs are cache entries like libraries: keyed by the compiler's
    identity, and a damaged one is rebuilt (with a CacheWarning), never run."""
    import os

    from knit import cache
    from knit.runtime import cc as knit_cc

    monkeypatch.setenv("KNIT_CACHE_DIR", str(tmp_path))
    t = H.target("native")
    src = "#include <stdio.h>\nint main(void) { puts(\"ok\"); return 0; }\n"
    exe = H.build(t, src, "a test program")
    assert cache.verified(exe) is None
    assert os.path.basename(exe)[:-3] == cache.key(src, list(t.cc), list(t.flags),
                                                   knit_cc.host_id())
    assert H.run(t, exe, []) == b"ok\n"
    with open(exe, "r+b") as f:  # damage it: flip a byte in the middle
        f.seek(100)
        b = f.read(1)
        f.seek(100)
        f.write(bytes([b[0] ^ 0xFF]))
    with pytest.warns(cache.CacheWarning, match="checksum"):
        again = H.build(t, src, "a test program")
    assert again == exe and cache.verified(exe) is None
    assert H.run(t, exe, []) == b"ok\n"
