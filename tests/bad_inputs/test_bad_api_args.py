"""Wrong values given to the rest of the public API: compile_procs, check_equiv, and the
Procedure methods that take another procedure."""

from __future__ import annotations

import numpy as np
from refusals import expect_error

import knit
from knit import DRAM, instr, proc
from knit.equiv import EquivalenceError


@proc
def twice(N: size, A: f32[N]):
    for i in seq(0, N):
        A[i] = A[i] * 2.0


@proc
def thrice(N: size, A: f32[N]):
    for i in seq(0, N):
        A[i] = A[i] * 3.0


@proc
def total(N: size, A: f32[N], s: f32):
    for i in seq(0, N):
        s += A[i]


@instr("{dst_data} = {src_data};")
def copy1(dst: [f32][1] @ DRAM, src: [f32][1] @ DRAM):
    dst[0] = src[0]


# ---------------------------------------------------------------- compile_procs


def test_compile_procs_given_a_name(tmp_path):
    expect_error(lambda: knit.compile_procs(["twice"], tmp_path, "k.c", "k.h"), TypeError,
                 "compile_procs", exact=False)


def test_compile_procs_given_a_bare_procedure(tmp_path):
    expect_error(lambda: knit.compile_procs(twice, tmp_path, "k.c", "k.h"), TypeError,
                 "compile_procs", exact=False)


def test_compile_an_instr_on_its_own():
    dst, src = np.zeros(1, np.float32), np.ones(1, np.float32)
    expect_error(lambda: copy1.compile()(dst, src), knit.KnitError, "copy1", exact=False)


# ---------------------------------------------------------------- check_equiv


def test_check_equiv_of_names():
    expect_error(lambda: knit.check_equiv("twice", "thrice"), TypeError, "check_equiv",
                 exact=False)


def test_check_equiv_of_different_signatures():
    err = expect_error(lambda: knit.check_equiv(twice, total), ValueError,
                       "check_equiv: twice takes 2 arguments but total takes 3", exact=False)
    assert str(err).startswith("check_equiv: ")


def test_check_equiv_with_a_zero_size():
    expect_error(lambda: knit.check_equiv(twice, twice, sizes={"N": 0}),
                 knit.errors.ArgumentError, "argument 'N' is a size, so must be >= 1, got 0")


def test_check_equiv_finds_a_difference():
    """Not bad input, but the reason the checks above matter: unequal procs are caught."""
    expect_error(lambda: knit.check_equiv(twice, thrice, trials=2), EquivalenceError,
                 "twice and thrice differ")


def test_check_equiv_with_zero_trials():
    expect_error(lambda: knit.check_equiv(twice, thrice, trials=0), ValueError, "trials",
                 exact=False)


# ---------------------------------------------------------------- Procedure methods


def test_is_eq_of_a_non_procedure():
    expect_error(lambda: twice.is_eq(5), TypeError, "is_eq", exact=False)


def test_unsafe_assert_eq_of_a_name():
    expect_error(lambda: twice.unsafe_assert_eq("thrice"), TypeError, "unsafe_assert_eq",
                 exact=False)
