"""Bugs of issue 8's classes that the fuzzer's generators find on knit (FINDINGS.md),
each as a few lines: a program must run the same interpreted and compiled (gcc and
clang, default flags) on inputs with edge values, and an accepted rewrite must give a
valid program that agrees with the original.

Each open bug's test is marked `open_bug(...)` (xfail, strict): when it starts passing
(XPASS), the bug is fixed -- replace the marker by a `# Found by the fuzzer (fixed)`
comment and delete the bug's entry in known.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import knit
import knit.stdlib.scheduling as S
from knit.errors import SchedulingError

from .backends import backend_diff, compilers, run, same_bits
from .test_regressions import parse


def agree(p, ccs=None, **args) -> None:
    """p interpreted and compiled by every compiler, on these arguments, bit for bit."""
    want = run(p, "interpreter", args)
    for cc in ccs or compilers():
        got = run(p, cc, args)
        for name, x in want.items():
            if isinstance(x, np.ndarray):
                assert same_bits(x, got[name]).all(), (cc, name, x, got[name])


def valid_and_equal(p, rewrite, sizes):
    """rewrite(p) is refused, or valid (it compiles and runs) and equal to p."""
    try:
        q = rewrite(p)
    except SchedulingError:
        return
    knit.check_equiv(p, q, trials=3, sizes=sizes, compiled=False, interpret=True)


# ---------------------------------------------------------------- sem: arithmetic


# Found by the fuzzer (fixed on main, merged at a99dd76): C contracts a*b + c into an FMA at
# -O3 -march=native (issue 8, 6)
def test_no_float_contraction():
    p = parse("""def f(A: f32[3] @ DRAM):
    A[0] = A[1] * A[2] + A[0]
""")
    # a*b = 1 + 2**-11 + 2**-24 rounds to 1 + 2**-11: 0 unfused, 2**-24 fused
    a = np.float32(1 + 2**-12)
    agree(p, A=np.float32([-(1 + 2**-11), a, a]))


# Found by the fuzzer (fixed on main, merged at a99dd76): f16 += f64: C casts the f64 operand
# to _Float16 before adding, the interpreter adds in double (issue 8, 5)
def test_f16_plus_f64_rounds_once():
    p = parse("""def f(A: f16[1] @ DRAM, B: f64[1] @ DRAM):
    A[0] += B[0]
""")
    a = np.float16([11.44])  # + B in double is -3.48776..: -3.488 in f16 (interpreted)
    b = np.float64([-14.92526159022514])  # as f16 first: -14.92, and the sum -3.484 (C)
    agree(p, ccs=("gcc",), A=a, B=b)


# Found by the fuzzer (fixed on main, merged at a99dd76): i32 += f32: C truncates e first, the
# interpreter the sum (issue 8, 6)
def test_int_plus_equal_float():
    p = parse("""def f(A: i32[1] @ DRAM, B: f32[1] @ DRAM):
    A[0] += B[0]
""")
    agree(p, A=np.int32([7]), B=np.float32([-0.5]))


# Found by the fuzzer (fixed on main, merged at a99dd76): sqrt/sin/expf raise in the
# interpreter where C gives NaN/inf (issue 8, 6)
@pytest.mark.parametrize("ext, x", [("sqrt", -1.0), ("sin", np.inf), ("expf", 1000.0)])
def test_externs_follow_ieee(ext, x):
    p = parse(f"""def f(A: f32[1] @ DRAM, B: f32[1] @ DRAM):
    A[0] = {ext}(B[0])
""")
    agree(p, A=np.float32([0.0]), B=np.float32([x]))


# fixed: clang 14 (no _Float16 on x86) builds f16 as __fp16 with F16C (header.py,
# docs/semantics.md#f16-compilers); the result agrees with the interpreter
def test_f16_compiles_with_clang():
    if "clang" not in compilers():
        pytest.skip("no clang")
    p = parse("""def f(A: f16[3] @ DRAM, B: f64[3] @ DRAM):
    A[0] = B[0]
    A[1] = B[1] * A[2] + 0.1
    A[2] += B[2]
""")
    p.compile(cc="clang")
    # 1 + 2**-11 + 2**-40 is just above an f16 midpoint: rounded to float first it would
    # be the midpoint, and round to even (1.0); correctly rounded it is 1 + 2**-10
    a = np.float16([0, 2, 3])
    agree(p, A=a, B=np.float64([1 + 2**-11 + 2**-40, -0.1, 1 + 2**-12 + 2**-40]))
    want = run(p, "interpreter", {"A": a, "B": np.float64([1 + 2**-11 + 2**-40, 0, 0])})
    assert want["A"][0] == 1 + 2**-10


# Found by the fuzzer (fixed on main, merged at a99dd76): an out-of-range float -> i32 wraps
# interpreted, is INT_MIN in C
def test_float_to_int_out_of_range():
    # now undefined (docs/semantics.md#float-to-int): the interpreter refuses the input,
    # and the fuzzer treats such inputs as outside the program's domain
    from knit.errors import ArgumentError

    p = parse("""def f(A: i32[1] @ DRAM, B: f32[1] @ DRAM):
    A[0] = B[0]
""")
    with pytest.raises(ArgumentError, match="undefined in C"):
        p.interpret(A=np.int32([0]), B=np.float32([3e9]))


# ---------------------------------------------------------------- core: configs


# Found by the fuzzer (fixed: the definition-time check learns, by induction over the
# loop, what the first iteration sets and every iteration keeps): add_loop(guard) over a
# config write gave a result that failed the bounds check
def test_add_loop_over_a_config_write_gives_a_valid_program():
    p = parse("""def f(N: size, B: i32[N, N + 1] @ DRAM):
    assert N >= 2
    FuzzCfg.k = 2
    B[0, FuzzCfg.k - 1] = B[0, 0]
""")
    valid_and_equal(p, lambda p: S.add_loop(p, p.body()[0], "a", "N", guard=True),
                    {"N": [2, 3]})


# Found by the fuzzer (fixed on main, merged at a99dd76): fission of a loop that writes a
# config read later: result fails the bounds check
def test_fission_after_a_config_write_gives_a_valid_program():
    p = parse("""def f(N: size, B: f64[4, N + 1] @ DRAM):
    FuzzCfg.k = 2
    for i in seq(FuzzCfg.k, N + 2):
        FuzzCfg.n = N
        B[0, FuzzCfg.n] += 1.5
""")
    valid_and_equal(p, lambda p: S.fission(p, p.body()[1].body()[0].after()), {"N": [1, 3]})


# Found by the fuzzer (fixed on main, merged at a99dd76): specialize over code reading configs:
# the result fails the bounds check
def test_specialize_over_config_reads_gives_a_valid_program():
    p = parse("""def f(N: size, A: i32[N + 2] @ DRAM):
    assert N >= 3
    FuzzCfg.n = 1
    A[1] = 0
    A[0] += A[FuzzCfg.n]
""")
    valid_and_equal(p, lambda p: S.specialize(p, p.body()[0].expand(0, 1), "N > 2"),
                    {"N": [3, 4]})


# Found by the fuzzer (fixed on main, merged at a99dd76): the bounds check reads an
# allocation's size from the config's current value, not the one it was allocated with (issue
# 8, 1)
def test_allocation_sized_by_a_config_keeps_its_size():
    from knit.errors import BoundsError

    with pytest.raises(BoundsError):  # t has 1 element; the loop writes 3
        parse("""def f(A: i32[4] @ DRAM):
    FuzzCfg.n = 1
    t: i32[FuzzCfg.n] @ DRAM
    FuzzCfg.n = 3
    for j in seq(0, FuzzCfg.n):
        t[j] = A[j]
    A[0] = t[0]
""")


# Found by the fuzzer (fixed on main, merged at a99dd76): the bounds check re-reads a config
# field for an allocation's size and a loop's bound: it refuses valid programs (issue 8, 1)
@pytest.mark.parametrize("src", ["""def f(A: i32[4] @ DRAM):
    FuzzCfg.n = 3
    t: i32[FuzzCfg.n] @ DRAM
    for j in seq(0, 3):
        t[j] = A[j]
    FuzzCfg.n = 1
    A[0] = t[2]
""", """def f(A: i32[4] @ DRAM):
    FuzzCfg.n = 2
    for i in seq(0, FuzzCfg.n):
        FuzzCfg.n = 4
        A[i] = 7
"""])
def test_config_values_are_read_where_evaluated(src):
    parse(src)


# Found by the fuzzer (fixed on main, merged at a99dd76): inline_window substitutes a window's
# origin that reads a config field written again before the window is used (issue 8, 1)
def test_inline_window_keeps_the_origin_it_was_evaluated_with():
    p = parse("""def f(N: size, A: f32[N + 8] @ DRAM):
    FuzzCfg.k = 1
    w = A[FuzzCfg.k:FuzzCfg.k + 4]
    FuzzCfg.k = 3
    w[0] = 3.0
""")
    valid_and_equal(p, lambda p: S.inline_window(p, p.body()[1]), {"N": [1, 2]})


# Found by the fuzzer (fixed on main, merged at a99dd76): reorder_stmts moves a config write
# before a window statement whose origin reads it (issue 8, 1; fuzzer case 5084)
def test_reorder_stmts_keeps_a_window_origin_before_its_config_write():
    p = parse("""def f(A: f32[4] @ DRAM):
    FuzzCfg.k = 0
    w = A[FuzzCfg.k:FuzzCfg.k + 2]
    FuzzCfg.k = 2
    w[0] = w[1] + w[0]
""")
    valid_and_equal(p, lambda p: S.reorder_stmts(p, p.body()[1].expand(0, 1)), {})


def test_backend_diff_of_a_correct_mixed_program():
    # the harness must not call every mixed program wrong: a copy is exact everywhere
    p = parse("""def f(N: size, A: f32[N] @ DRAM, B: f64[N] @ DRAM):
    for i in seq(0, N):
        B[i] = A[i]
""")
    assert backend_diff(p, {"N": 8}, seed=3) is None
