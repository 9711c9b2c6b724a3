"""Narrow integer data is computed as C computes it: operands promoted to 32-bit int,
literals converted to int, the result wrapped only when stored
(docs/semantics.md#mixed-precision, #int-arith). Interpreter, gcc and clang agree on
extreme values, and so does bind_expr's temporary."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from semcheck import COMPILERS, mismatches, run

from knit import proc
from knit.stdlib.scheduling import bind_expr


@proc
def narrow(n: size, a: i8[n], b: i8[n], c: i8[n], u: ui8[n], w: ui16[n], d: i8[n],
           e: i32[n], f: i32[n], g: ui8[n], h: i32[n]):
    for i in seq(0, n):
        d[i] = (a[i] + b[i]) / c[i]  # 100 + 100 = 200, not -56, before the division
        e[i] = a[i] * b[i] + u[i] * u[i]
        f[i] = (w[i] * w[i]) / 3  # 65535 * 65535 wraps in 32 bits (-fwrapv), then / 3
        g[i] = -u[i] + a[i] + 300  # the literal is an int 300, not 300 wrapped to 8 bits
        h[i] = (-a[i]) / (b[i] - c[i] + 1)  # -(-128) is 128 in int


I8 = [-128, -127, -1, 0, 1, 2, 100, 126, 127]


def _args():
    triples = [t for t in itertools.product(I8, repeat=3) if t[1] - t[2] + 1 != 0 and
               t[2] != 0]
    a, b, c = (np.array(x, np.int8) for x in zip(*triples))
    n = len(a)
    rng = np.random.default_rng(0)
    u = rng.choice(np.array([0, 1, 127, 128, 254, 255], np.uint8), n)
    w = rng.choice(np.array([0, 1, 255, 32768, 65534, 65535], np.uint16), n)
    out = [np.zeros(n, t) for t in (np.int8, np.int32, np.int32, np.uint8, np.int32)]
    return [n, a, b, c, u, w, *out]


@pytest.mark.parametrize("cc", COMPILERS)
def test_narrow_integers_are_computed_in_int_everywhere(cc):
    # pins semantics.md#mixed-precision (integer promotion) and #int-arith
    args = _args()
    want = run(narrow, args, "interp")
    assert not mismatches(want, run(narrow, args, cc))
    # (100 + 100) / 2 is 100: the sum was not wrapped to -56 first
    sel = (args[1] == 100) & (args[2] == 100) & (args[3] == 2)
    assert sel.any() and (want[6][sel] == 100).all()


def test_bind_expr_of_a_narrow_sum_keeps_it_in_int():
    # pins semantics.md#mixed-precision: the temporary is i32, so 200 survives
    p = bind_expr(narrow, narrow.find("a[_] + b[_]"), "t")
    assert "t: i32" in str(p)
    args = _args()
    want = run(narrow, args, "interp")
    for backend in ["interp", *COMPILERS]:
        assert not mismatches(want, run(p, args, backend)), backend
