"""fission across a dependence whose reordering keeps every value (analysis/byvalue.py):
a register copy that the loop's body copies back with the same index map (the GEMM
micro-kernel's `C_reg` staging), and a copy-back that stores the same values in every
iteration. The rewrite, equivalence (interpreter and C), and the refusal of the near
misses, where some value differs."""

from __future__ import annotations

from scheduling_checks import assert_body, differs, equiv, refused

from knit import proc
from knit.stdlib.scheduling import autofission, fission

REORDERS = "splitting the loop would reorder a dependence"


@proc
def staged(K: size, C: f32[2, 8], A: f32[2, K], B: f32[K, 8]):
    C_reg: f32[2, 8]
    for k in seq(0, K):
        for i in seq(0, 2):
            for j in seq(0, 8):
                C_reg[i, j] = C[i, j]
        for i in seq(0, 2):
            for j in seq(0, 8):
                C_reg[i, j] += A[i, k] * B[k, j]
        for i in seq(0, 2):
            for j in seq(0, 8):
                C[i, j] = C_reg[i, j]


def test_fission_after_a_copy_the_body_restores():
    # iteration k > 0 of the copy-in stores what C_reg already holds (the copy-back of
    # iteration k - 1 left C == C_reg), so running all copy-ins first keeps every value
    p = fission(staged, staged.find("for i in _: _ #0").after())
    assert_body(p, """
        C_reg: f32[2, 8] @ DRAM
        for k in seq(0, K):
            for i in seq(0, 2):
                for j in seq(0, 8):
                    C_reg[i, j] = C[i, j]
        for k in seq(0, K):
            for i in seq(0, 2):
                for j in seq(0, 8):
                    C_reg[i, j] += A[i, k] * B[k, j]
            for i in seq(0, 2):
                for j in seq(0, 8):
                    C[i, j] = C_reg[i, j]
    """)
    equiv(staged, p, sizes={"K": [1, 2, 5]})


def test_fission_before_a_copy_back_that_repeats_the_same_values():
    # the copy-back does not depend on k and only the last one counts: it reads the
    # final C_reg in either order
    p = fission(staged, staged.find("for i in _: _ #0").after())
    p = fission(p, p.find("for i in _: _ #1").after())
    assert_body(p, """
        C_reg: f32[2, 8] @ DRAM
        for k in seq(0, K):
            for i in seq(0, 2):
                for j in seq(0, 8):
                    C_reg[i, j] = C[i, j]
        for k in seq(0, K):
            for i in seq(0, 2):
                for j in seq(0, 8):
                    C_reg[i, j] += A[i, k] * B[k, j]
        for k in seq(0, K):
            for i in seq(0, 2):
                for j in seq(0, 8):
                    C[i, j] = C_reg[i, j]
    """)
    equiv(staged, p, sizes={"K": [1, 2, 5]})


def test_autofission_stages_the_register_out_of_the_k_loop():
    # Exo's micro-kernel schedule: both splits, then the copy loops lose their k loop
    p = autofission(staged, staged.find("for i in _: _ #0").after())
    p = autofission(p, p.find("for i in _: _ #1").after())
    assert_body(p, """
        C_reg: f32[2, 8] @ DRAM
        for i in seq(0, 2):
            for j in seq(0, 8):
                C_reg[i, j] = C[i, j]
        for k in seq(0, K):
            for i in seq(0, 2):
                for j in seq(0, 8):
                    C_reg[i, j] += A[i, k] * B[k, j]
        for i in seq(0, 2):
            for j in seq(0, 8):
                C[i, j] = C_reg[i, j]
    """)
    equiv(staged, p, sizes={"K": [1, 2, 5]})


@proc
def fused_copy_back(K: size, C: f32[4, 4], A: f32[4, K], B: f32[K, 4]):
    C_reg: f32[4, 4]
    for k in seq(0, K):
        for i in seq(0, 4):
            for j in seq(0, 4):
                C_reg[i, j] = C[i, j]
        for i in seq(0, 4):
            for j in seq(0, 4):
                C_reg[i, j] += A[i, k] * B[k, j]
                C[i, j] = C_reg[i, j]


def test_fission_before_a_copy_back_fused_with_the_reduction():
    # the copy-back sits in the reduction's nest (Exo's aarch64 SGEMM after its first
    # autofission levels): each point restores its own element
    p = fission(fused_copy_back, fused_copy_back.find("for i in _: _ #0").after())
    assert_body(p, """
        C_reg: f32[4, 4] @ DRAM
        for k in seq(0, K):
            for i in seq(0, 4):
                for j in seq(0, 4):
                    C_reg[i, j] = C[i, j]
        for k in seq(0, K):
            for i in seq(0, 4):
                for j in seq(0, 4):
                    C_reg[i, j] += A[i, k] * B[k, j]
                    C[i, j] = C_reg[i, j]
    """)
    equiv(fused_copy_back, p, sizes={"K": [1, 3]})


# ---------------------------------------------------------------- near misses: refused


def refused_and_wrong(p, gap):
    """fission at `gap` is refused as reordering a dependence, and the split forced
    through (checks off) really computes something else: the refusal is needed."""
    refused(lambda: fission(p, gap), REORDERS, prim="fission")
    differs(p, fission(p, gap, unsafe_disable_checks=True), sizes={"K": [2, 3]})



@proc
def transposed_back(K: size, C: f32[4, 4], A: f32[4, K]):
    C_reg: f32[4, 4]
    for k in seq(0, K):
        for i in seq(0, 4):
            for j in seq(0, 4):
                C_reg[i, j] = C[i, j]
        for i in seq(0, 4):
            for j in seq(0, 4):
                C_reg[i, j] += A[i, k]
        for i in seq(0, 4):
            for j in seq(0, 4):
                C[j, i] = C_reg[i, j]


def test_fission_refuses_a_copy_back_with_another_index_map():
    # C[j, i] = C_reg[i, j] is not the inverse of C_reg[i, j] = C[i, j]: the next copy-in
    # reads the transpose, a value C_reg does not hold
    refused_and_wrong(transposed_back, transposed_back.find("for i in _: _ #0").after())


@proc
def partial_back(K: size, C: f32[4, 4], C_reg: f32[4, 4], A: f32[4, K]):
    for k in seq(0, K):
        for i in seq(0, 4):
            for j in seq(0, 4):
                C_reg[i, j] = C[i, j]
        for i in seq(0, 4):
            for j in seq(0, 4):
                C_reg[i, j] += A[i, k]
        for i in seq(0, 4):
            for j in seq(0, 3):
                C[i, j] = C_reg[i, j]


def test_fission_refuses_a_copy_back_of_part_of_the_copy():
    # column 3 is not copied back: the next copy-in resets C_reg[i, 3] to C[i, 3], which
    # the split (accumulating across k) does not; C_reg is an argument, so it shows
    refused_and_wrong(partial_back, partial_back.find("for i in _: _ #0").after())


@proc
def changed_after_back(K: size, C: f32[4], A: f32[4, K]):
    C_reg: f32[4]
    for k in seq(0, K):
        for i in seq(0, 4):
            C_reg[i] = C[i]
        for i in seq(0, 4):
            C_reg[i] += A[i, k]
        for i in seq(0, 4):
            C[i] = C_reg[i]
        C_reg[0] = 0.0


def test_fission_refuses_a_register_changed_after_the_copy_back():
    # C_reg[0] = 0.0 after the copy-back: the next copy-in is no longer redundant
    refused_and_wrong(changed_after_back, changed_after_back.find("for i in _: _ #0").after())


@proc
def accumulating_back(K: size, C: f32[4], A: f32[4, K]):
    C_reg: f32[4]
    for i in seq(0, 4):
        C_reg[i] = 0.0
    for k in seq(0, K):
        for i in seq(0, 4):
            C_reg[i] += A[i, k]
        for i in seq(0, 4):
            C[i] += C_reg[i]


def test_fission_refuses_a_store_that_depends_on_what_it_stored():
    # C[i] += C_reg[i] reads what it writes: every iteration's store counts, each with
    # the C_reg of its own iteration
    gap = accumulating_back.find("for i in _: _ #1").after()
    refused_and_wrong(accumulating_back, gap)


@proc
def store_varies(K: size, C: f32[4, K], C_reg: f32[4], A: f32[4, K]):
    for k in seq(0, K):
        for i in seq(0, 4):
            C_reg[i] += A[i, k]
        for i in seq(0, 4):
            C[i, k] = C_reg[i]


def test_fission_refuses_a_store_that_depends_on_the_iteration():
    # C[i, k] = C_reg[i] keeps every iteration's partial sum: the split stores the final
    # sum in every column
    refused_and_wrong(store_varies, store_varies.find("for i in _: _ #0").after())


@proc
def shared_acc(N: size, W: f32[4], x: f32[N, 4], out: f32[N]):
    acc: f32
    w_s: f32[4]
    for i in seq(0, N):
        acc = 0.0
        for k in seq(0, 4):
            w_s[k] = W[k]
        for k in seq(0, 4):
            acc += w_s[k] * x[i, k]
        out[i] = acc


def test_fission_names_the_accumulator_not_the_invariant_loads():
    # Exo's Gemmini conv (conv.py:100) in small: the w_s loads alone could be split off
    # (same values every iteration), the zeroing of the shared acc cannot; the refusal
    # names acc
    gap = shared_acc.find("for k in _: _ #0").after()
    msg = refused(lambda: fission(shared_acc, gap), REORDERS, prim="fission")
    assert "reduces into acc and a later iteration of the first part writes acc" in msg
    differs(shared_acc, fission(shared_acc, gap, unsafe_disable_checks=True),
            sizes={"N": [2, 3]})
