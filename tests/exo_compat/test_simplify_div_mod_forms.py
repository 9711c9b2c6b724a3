"""The division and modulo forms `simplify` leaves, as Exo's: a division whose
remainder part cannot be bounded stays whole (no partial `... / 3 + 1`); a small
remainder under a common factor divides out (`(4*i + j) / 16 -> i / 4` for 0 <= j < 4);
a modulo drops only the terms (and constant) the divisor divides."""

from __future__ import annotations

from scheduling_checks import assert_body, equiv

from knit import proc
from knit.stdlib.scheduling import simplify


@proc
def forms(x: f32[40], y: f32[8]):
    for i in seq(0, 4):
        for j in seq(0, 5):
            x[(i * 4 + i * 4 + 2 * j + 3) / 3] = 1.0
            y[(i * 4 + i * 4 + 2 * j + 3) % 5] = 2.0
            y[(7 * i + 3) % 2] += 1.0
            y[(8 * i + 2 * j + 3) % 2] += 3.0
    for i in seq(0, 8):
        for j in seq(0, 4):
            if (i * 4 + j) / 16 > 0:
                x[0] = 4.0


def test_division_and_modulo_forms():
    p = simplify(forms)
    assert_body(p, """
        for i in seq(0, 4):
            for j in seq(0, 5):
                x[(3 + 2 * j + 8 * i) / 3] = 1.0
                y[(3 + 2 * j + 8 * i) % 5] = 2.0
                y[(3 + 7 * i) % 2] += 1.0
                y[1] += 3.0
        for i in seq(0, 8):
            for j in seq(0, 4):
                if i / 4 > 0:
                    x[0] = 4.0
    """)
    equiv(forms, p)


def test_a_remainder_past_the_common_factor_keeps_the_division():
    @proc
    def wide(n: size, x: f32[n + 1]):
        for i in seq(0, n):
            for j in seq(0, 5):  # j may reach 4: (4 * i + j) / 16 is not i / 4
                x[(i * 4 + j) / 16] = 1.0

    p = simplify(wide)
    assert "x[(j + 4 * i) / 16] = 1.0" in str(p)
    equiv(wide, p, sizes={"n": [3, 4, 8]})
