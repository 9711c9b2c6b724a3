"""Memory.call_check: a memory whose C keeps state of its own (a simulator's) gives the
JIT a check to run after every call of a compiled proc that uses the memory; what it
raises comes out of the call. (knit.platforms.gemmini reports simulator faults so.)"""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from knit import DRAM, KnitError, proc
from knit.memory import Memory


class _Fault(KnitError):
    pass


class COUNTED(DRAM):
    """DRAM whose buffers count their allocations in C; an allocation of 3 or more
    elements is a 'fault' the check reports."""

    @classmethod
    def global_(cls):
        return (DRAM.global_() + "\nint knit_test_faults;\n"
                "static void *knit_test_alloc(long n) { if (n >= 3) knit_test_faults++; "
                "return malloc(n * 4); }")

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        return f"{prim_type} *{new_name} = knit_test_alloc({' * '.join(shape)});"

    @classmethod
    def call_check(cls, library):
        faults = ctypes.c_int.in_dll(library, "knit_test_faults")

        def check():
            if faults.value:
                faults.value = 0
                raise _Fault("an allocation of 3 or more elements")

        return check


def test_the_check_runs_after_each_call_and_raises_from_it():
    @proc
    def f(n: size, x: f32[4] @ DRAM):
        assert n <= 4
        t: f32[n] @ COUNTED
        for i in seq(0, n):
            t[i] = x[i]
        for i in seq(0, n):
            x[i] = t[i] + 1.0

    g = f.compile()
    x = np.zeros(4, np.float32)
    g(2, x)
    assert (x == [1, 1, 0, 0]).all()
    with pytest.raises(_Fault, match="3 or more"):
        g(3, x)
    assert (x == [2, 2, 1, 0]).all()  # the call ran; the check came after it
    g(1, x)  # the check cleared its state: no fault left standing
    assert g.proc.name == "f" and g.library  # the caller's attributes are kept


def test_no_check_no_wrapper():
    assert Memory.call_check(None) is None

    @proc
    def h(x: f32[4] @ DRAM):
        x[0] = 1.0

    assert not hasattr(h.compile(), "__wrapped__")
