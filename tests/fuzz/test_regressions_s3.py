"""The shapes of fuzzer findings 300051, 300262, 300062, 200183, 200132 and 201485
(issue 8), as the fuzzer generated them: each rewrite is refused, or gives a valid
program that agrees with the original (see test_regressions.py). The focused tests,
with the messages, are in tests/rewrite/test_fuzz_findings_s3.py."""

from __future__ import annotations

import knit.stdlib.scheduling as S

from .test_regressions import parse, sound


# Found by the fuzzer (fixed): add_loop over a call reducing into i32 data (`x[k] += 1`,
# an untyped literal) was taken for idempotent
def test_add_loop_over_an_integer_reducing_call():
    p = parse("""def f(N: size, A: i32[2 * N, N + 2] @ DRAM):
    FuzzCfg.y = 2
    for i in seq(0, N - 1):
        for j in seq(0, N):
            helper_i(1, A[i + j, i:i + 1])
""")
    sound(p, lambda p: S.add_loop(p, p.body()[1], "a", 2), {"N": [1, 2, 3]})


# Found by the fuzzer (fixed): remove_loop of an integer reduction indexed by a config
def test_remove_loop_of_an_integer_reduction():
    p = parse("""def f(N: size, M: size, C: i32[N, M - 1] @ DRAM):
    assert N >= 4
    assert M >= 4
    FuzzCfg.k = 1
    for i in seq(0, N + 1):
        C[FuzzCfg.k, 1] += 2
""")
    sound(p, lambda p: S.remove_loop(p, p.find_loop("i")), {"N": [4, 5], "M": [4, 5]})


# Found by the fuzzer (fixed): autofission split an integer count from its use
def test_autofission_of_an_integer_count():
    p = parse("""def f(N: size, A: i32[N + 1, 6] @ DRAM):
    for i in seq(0, 8):
        for j in seq(0, i):
            A[0, 0] += 1
            A[0, 1] += A[0, 0]
""")
    sound(p, lambda p: S.autofission(p, p.body()[0].body()[0].body()[0].after()),
          {"N": [1, 2]})


# Found by the fuzzer (fixed): add_loop(guard) over a config write read by a later loop
# bound gave a result that failed the bounds check
def test_add_loop_guard_over_a_config_write_read_by_a_bound():
    p = parse("""def f(N: size, A: i32[N - 1, N + 2] @ DRAM, B: f64[N] @ DRAM):
    assert N >= 2
    FuzzCfg.n = N
    for i in seq(0, FuzzCfg.n + 1):
        A[0, i] += B[FuzzCfg.n - 1]
""")
    sound(p, lambda p: S.add_loop(p, p.body()[0].as_block(), "a", 1, guard=True),
          {"N": [2, 3, 4]})


# Found by the fuzzer (fixed): divide_loop(cut_and_guard) of a loop writing the config
# a later loop's bound reads gave a result that failed the bounds check
def test_divide_loop_of_a_config_write_read_by_a_bound():
    p = parse("""def f(N: size, C: i32[2 * N, 2 * N] @ DRAM):
    assert N >= 3
    FuzzCfg.k = 0
    for i in seq(FuzzCfg.k, N + 2):
        C[i, i] += C[i, i]
""")

    def rewrite(p):
        p = S.add_loop(p, p.body()[0], "a", 1)
        return S.divide_loop(p, "a", 4, ["ao", "ai"], tail="cut_and_guard")

    sound(p, rewrite, {"N": [3, 4, 5]})


# Found by the fuzzer (fixed): specialize over a config write, after a buffer sized by
# the config, gave a result that failed the bounds check
def test_specialize_over_a_config_write_after_a_sized_buffer():
    p = parse("""def f(N: size, B: f32[4, 2 * N] @ DRAM, C: f32[4] @ DRAM):
    assert N >= 3
    FuzzCfg.k = 1
    FuzzCfg.n = 3
    t1: f32[FuzzCfg.n + 1, FuzzCfg.n + 1] @ DRAM
    for j in seq(0, FuzzCfg.n + 1):
        for k in seq(0, FuzzCfg.n + 1):
            t1[j, k] = C[0]
    FuzzCfg.n = 8
    t1[FuzzCfg.k + 2, 1] += C[FuzzCfg.k - 1] + B[1, 0]
    B[0, 1] = t1[FuzzCfg.k + 2, 1]
""")
    for cond in ("N <= 1", "N <= 4"):
        sound(p, lambda p, cond=cond: S.specialize(p, p.body()[4:6], cond), {"N": [3, 4, 5]})


# Found by the fuzzer in session 12 (case 3943; fixed in the C build, not in a rewrite):
# gcc 12.2's loop vectorizer ran the divided loop two iterations at a time, though each
# doubles the B[2 io + 2] the one before updated through the helper (inlined)
def test_divide_loop_of_a_helper_call_beside_a_doubling():
    p = parse("""def f(N: size, M: size, A: f32[M + 2, N] @ DRAM, B: f32[M + 2] @ DRAM):
    for i in seq(0, M - 1):
        helper_f(1, B[i + 2:i + 3])
        B[i] += B[i]
""")
    sound(p, lambda p: S.divide_loop(p, p.body()[0], 2, ["io", "ii"], tail="cut_and_guard"),
          {"N": [6], "M": [6, 9, 13]})
