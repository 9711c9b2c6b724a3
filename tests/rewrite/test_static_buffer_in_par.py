"""A `DRAM_STATIC` buffer is one storage for the program (C `static`), not one per
iteration: allocated in a `par` loop's body, every thread would use the same elements
(review of session 9: set_memory and parallelize_loop accepted it, in either order,
and the C raced). The analyses see such a buffer as the procedure's, so the race check
refuses it; a sequential loop keeps it, and DRAM_STACK stays private to each iteration."""

from __future__ import annotations

from scheduling_checks import equiv, refused

from knit import proc
from knit.libs.memories import DRAM_STACK, DRAM_STATIC
from knit.stdlib.sched_buffers import set_memory
from knit.stdlib.scheduling import parallelize_loop


@proc
def per_row(C: f32[2, 8], B: f32[2, 8]):
    for t in seq(0, 2):
        Bs: f32[8]
        for j in seq(0, 8):
            Bs[j] = B[t, j] * 2.0
        for j in seq(0, 8):
            C[t, j] = Bs[j]


def _par(p):
    return parallelize_loop(p, p.find("for t in _: _"))


def test_a_static_buffer_in_a_par_loop_is_refused_in_either_order():
    got = refused(lambda: _par(set_memory(per_row, "Bs : _", DRAM_STATIC)),
                  prim="parallelize_loop")
    assert "race" in got
    got = refused(lambda: set_memory(_par(per_row), "Bs : _", DRAM_STATIC), prim="set_memory")
    assert "would race" in got and "Bs[j]" in got


def test_a_static_buffer_in_a_sequential_loop_is_kept():
    q = set_memory(per_row, "Bs : _", DRAM_STATIC)
    assert "static float Bs[8];" in q.c_code_str()
    equiv(per_row, q)


def test_a_stack_buffer_stays_private_to_each_iteration():
    q = set_memory(_par(per_row), "Bs : _", DRAM_STACK)
    assert "#pragma omp parallel for" in q.c_code_str()
    equiv(per_row, q)
