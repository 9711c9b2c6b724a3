"""autofission asked for more levels than there are scopes around the gap splits every
one of them (fission itself still refuses): the rewrite, equivalence, refusals."""

from __future__ import annotations

from scheduling_checks import assert_body, equiv, refused

from knit import proc
from knit.stdlib.scheduling import autofission, fission


@proc
def scale_then_shift(n: size, m: size, a: f32[n, m], b: f32[n, m]):
    for i in seq(0, n):
        for j in seq(0, m):
            a[i, j] = a[i, j] * 2.0
            b[i, j] = b[i, j] + 1.0


def test_autofission_with_more_levels_than_scopes_splits_them_all():
    gap = scale_then_shift.find("a[_] = _").after()
    p = autofission(scale_then_shift, gap, n_lifts=5)
    assert_body(p, """\
        for i in seq(0, n):
            for j in seq(0, m):
                a[i, j] = a[i, j] * 2.0
        for i in seq(0, n):
            for j in seq(0, m):
                b[i, j] = b[i, j] + 1.0""")
    assert str(p) == str(autofission(scale_then_shift, gap, n_lifts=2))
    equiv(scale_then_shift, p, sizes={"n": [1, 3], "m": [1, 4]})


def test_fission_with_more_levels_than_scopes_still_refuses():
    gap = scale_then_shift.find("a[_] = _").after()
    refused(lambda: fission(scale_then_shift, gap, n_lifts=5),
            "n_lifts=5, but the gap is inside only 2 loop(s) or if(s)", prim="fission")


@proc
def chained(n: size, x: f32[1], y: f32[n]):
    for i in seq(0, n):
        for k in seq(0, 1):
            y[i] = x[0]
            x[0] = y[i] + 1.0


def test_autofission_with_extra_levels_still_checks_each_level():
    # the inner split is sound (one iteration); the outer one would read x[0] in every
    # iteration before any iteration wrote it
    gap = chained.find("y[_] = _").after()
    refused(lambda: autofission(chained, gap, n_lifts=4),
            "splitting the loop would reorder a dependence", "writes x[0]",
            prim="autofission")


def test_autofission_at_the_top_level_still_refuses():
    @proc
    def two_writes(x: f32[2]):
        x[0] = 1.0
        x[1] = 2.0

    refused(lambda: autofission(two_writes, two_writes.find("x[0] = _").after(), n_lifts=3),
            "the gap is at the top level of the proc", prim="autofission")
