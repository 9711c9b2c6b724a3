"""Schedule traces: recording, replay on another kernel, refusals, diffs, the script."""

from __future__ import annotations

import numpy as np
import pytest

import knit
from knit import proc
from knit.ir.visit import alpha_eq
from knit.stdlib.scheduling import (
    divide_loop,
    reorder_loops,
    repeat,
    simplify,
    stage_mem,
    unroll_loop,
)
from knit.trace import Path, ReplayError, Trace, at, path_of, replay


@proc
def k32(K: size, A: f32[6, K] @ DRAM, B: f32[K, 16] @ DRAM, C: f32[6, 16] @ DRAM):
    for i in seq(0, 6):
        for j in seq(0, 16):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


@proc
def k64(K: size, A: f64[6, K] @ DRAM, B: f64[K, 16] @ DRAM, C: f64[6, 16] @ DRAM):
    for i in seq(0, 6):
        for j in seq(0, 16):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


@proc
def k64_12(K: size, A: f64[6, K] @ DRAM, B: f64[K, 12] @ DRAM, C: f64[6, 12] @ DRAM):
    for i in seq(0, 6):
        for j in seq(0, 12):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


def microkernel(p):
    """A GEMM microkernel schedule: k outermost, a row of C staged, j in vectors of 8."""
    p = reorder_loops(p, "j k")
    p = reorder_loops(p, "i k")
    p = divide_loop(p, p.find_loop("j"), 8, ["jo", "ji"], perfect=True)
    p = stage_mem(p, p.find_loop("i").body(), "C[i, 0:16]", "Creg")
    p = simplify(p)
    return unroll_loop(p, "jo")


def test_trace_records_each_call_as_written():
    t = microkernel(k32).trace()
    assert t.root is k32
    assert [s.prim for s in t] == ["reorder_loops", "reorder_loops", "divide_loop",
                                   "stage_mem", "simplify", "unroll_loop"]
    assert t[0].args == ("j k",)  # a pattern stays a string
    assert t[2].args == (Path("body[0].body[0].body[0]"), 8, ["jo", "ji"])  # a cursor: path
    assert t[2].kwargs == {"perfect": True}
    assert t[3].args == (Path("body[0].body[0].body[0:1]"), "C[i, 0:16]", "Creg")
    # the location is the user's call in microkernel(), not knit's code
    assert all(s.loc.split(":")[0].endswith("trace/test_traces.py") for s in t), \
        [s.loc for s in t]
    assert t[0].loc.split(":")[1] == str(microkernel.__code__.co_firstlineno + 2)


def test_replay_on_the_f64_twin():
    """The 6x16 f32 schedule replays on the f64 kernel: the same rewrite, proven (is_eq),
    and equal to the original on random inputs, compiled and interpreted."""
    q = replay(microkernel(k32).trace(), k64)
    assert alpha_eq(q._loopir_proc, microkernel(k64)._loopir_proc)
    assert "Creg: f64[16]" in str(q)
    assert q.is_eq(k64)
    knit.check_equiv(k64, q, trials=3, interpret=True)
    assert [s.prim for s in q.trace()] == [s.prim for s in microkernel(k32).trace()]


def test_replay_refuses_a_step_that_no_longer_applies():
    t = microkernel(k32).trace()
    with pytest.raises(ReplayError) as e:
        replay(t, k64_12)  # 12 is not a multiple of 8: divide_loop(perfect=True) refuses
    msg = str(e.value)
    assert "replay: step 3 of 6, divide_loop(p, at(p, 'body[0].body[0].body[0]'), 8" in msg
    assert "does not apply to k64_12" in msg
    assert "12 % 8 == 0" in msg or "perfect" in msg, msg
    assert msg.split(":")[0].endswith("trace/test_traces.py")
    # the steps before it still replay
    assert [s.prim for s in replay(t[:2], k64_12).trace()] == ["reorder_loops"] * 2


def test_replay_refuses_a_path_that_is_not_there():
    @proc
    def flat(n: size, x: f32[n] @ DRAM):
        for i in seq(0, n):
            x[i] = 0.0

    t = microkernel(k32).trace()
    with pytest.raises(ReplayError, match=r"step 1 of 6, reorder_loops\(p, 'j k'\)"):
        replay(t, flat)
    with pytest.raises(ReplayError, match=r"no statement at 'body\[0\].body\[0\].body\[0\]'"):
        replay(t[2:], flat)


def test_paths_of_each_cursor_kind_resolve_back():
    p = microkernel(k32)
    loop = p.find_loop("ji")
    cursors = [loop, loop.body(), loop.after(), loop.before(), p.args()[2],
               p.find("Creg[_] += _").rhs(), p.find("Creg[_] += _").rhs().lhs()]
    for c in cursors:
        assert at(p, path_of(c)) == c, path_of(c)
    assert str(path_of(p.find("Creg[_] += _").rhs().lhs())).endswith(":rhs.lhs")
    with pytest.raises(knit.stdlib.scheduling.InvalidCursorError, match="no statement"):
        at(p, "body[7]")


def test_repeat_records_one_step_per_call_and_inner_calls_none():
    @proc
    def loops(n: size, x: f32[n] @ DRAM):
        for i in seq(0, n):
            x[i] = 0.0

    p = repeat(divide_loop, 2)(loops, "i", 2, ["i", "ii"])
    assert [s.prim for s in p.trace()] == ["divide_loop", "divide_loop"]
    # reorder_loops is built on other rewrites: one step all the same
    assert len(reorder_loops(k32, "j k").trace()) == 1


def test_refused_calls_leave_no_step():
    with pytest.raises(knit.SchedulingError):
        divide_loop(k64_12, "j", 8, ["jo", "ji"], perfect=True)
    assert len(k64_12.trace()) == 0


def test_show_and_diff_print_each_change(capsys):
    p = microkernel(k32)
    t = p.trace()
    t.show()
    out = capsys.readouterr().out
    assert out.count("# step ") == 6
    assert "-        for j in seq(0, 16):\n" in out and "+        for k in seq(0, K):\n" in out
    assert "+            Creg: f32[16] @ DRAM\n" in out
    d = knit.diff(k32, p)
    assert d.startswith("--- k32 (before)\n+++ k32 (after)\n")
    assert "+                Creg[ji + 8 * 1] += A[i, k] * B[k, ji + 8 * 1]\n" in d
    assert "(no change" in knit.diff(p, p)
    h = t._repr_html_()
    assert h.count("<table") == 6 and "stage_mem" in h


def test_script_runs_and_reads_back():
    t = microkernel(k32).trace()
    text = t.script()
    assert "    p = stage_mem(p, at(p, 'body[0].body[0].body[0:1]'), 'C[i, 0:16]', 'Creg')" \
        in text
    ns: dict = {}
    exec(compile(text, "<script>", "exec"), ns)
    assert alpha_eq(ns["schedule"](k64)._loopir_proc, microkernel(k64)._loopir_proc)
    back = Trace.from_script(text)
    assert back.steps == t.steps
    assert back[0].loc == "<script>:7"
    # a script is also accepted directly
    assert alpha_eq(replay(text, k64)._loopir_proc, microkernel(k64)._loopir_proc)


def test_replayed_kernel_runs_like_numpy():
    q = replay(microkernel(k32).trace(), k64)
    rng = np.random.default_rng(0)
    A, B = rng.random((6, 5)), rng.random((5, 16))
    C = np.zeros((6, 16))
    q.compile()(K=5, A=A, B=B, C=C)
    np.testing.assert_allclose(C, A @ B, rtol=1e-12)
