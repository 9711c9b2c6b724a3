"""The fast call path (knit.runtime.fastcall): a call it runs is one the Python binder
accepts, with the same result; everything else goes to the binder, which raises the
same knit errors as before. Checked on good and bad calls of every kind."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from knit import proc
from knit.errors import KnitError
from knit.runtime import fastcall
from knit.runtime.args import bind_args

pytestmark = pytest.mark.skipif(fastcall.extension() is None,
                                reason="no Python headers: every call takes the Python path")


@proc
def axpy(N: size, a: f32, x: f32[N], y: f32[N]):
    for i in seq(0, N):
        y[i] += a * x[i]


@proc
def win2(N: size, M: size, x: [f64][N, M], out: [f64][N, M], flag: bool, k: index):
    assert k >= -3 and k < 3
    assert stride(out, 1) == 1
    for i in seq(0, N):
        for j in seq(0, M):
            if flag and k > 0:
                out[i, j] = x[i, j] + 1.0


@proc
def padded(N: size, x: i32[N + 2, 2 * N], s: f64):
    assert N % 2 == 0
    for i in seq(0, N + 2):
        for j in seq(0, 2 * N):
            x[i, j] = x[i, j] + 1
    s = s + 1.0


def f32(*shape):
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape) / 7


def f64(*shape):
    return np.arange(np.prod(shape), dtype=np.float64).reshape(shape) / 3


def ro(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def axpy_calls():
    x, y = f32(5), f32(5)
    yield (5, np.array(2.0, np.float32), x, y)
    yield (np.array(2.0, np.float32), x, y)
    yield (5, 2.0, x, y)
    yield (2.0, x, y)
    yield (5, 1e300, x, y)
    yield (5, float("nan"), x, y)
    yield (5, 2, x, y)
    yield (np.int64(5), 2.0, x, y)
    yield (True, 2.0, x, y)
    yield (4, 2.0, x, y)
    yield (0, 2.0, f32(0), f32(0))
    yield (5, 2.0, x.astype(np.float64), y)
    yield (5, 2.0, x.astype(">f4"), y)
    yield (5, 2.0, ro(x), y)
    yield (5, 2.0, x, ro(y))
    yield (5, 2.0, x, x)
    yield (4, 2.0, y[:4], y[1:])
    yield (5, 2.0, f32(10)[::2], y)
    yield (5, 2.0, x.reshape(1, 5), y)
    yield (5, np.array([2.0], np.float32), x, y)
    yield (5, np.array(2.0, np.float64), x, y)
    yield (5, 2.0, x, y[:, None][:, 0])
    yield (5, 2.0, x.tolist(), y)
    yield (5, 2.0, x, np.frombuffer(bytearray(24), np.float32, 5, offset=2))
    yield (2**31, 2.0, x, y)


def win2_calls():
    base = f64(6, 8)
    out = np.zeros((6, 8))
    yield (6, 8, base, out, True, 1)
    yield (base, out, True, 1)
    yield (base[1:4, 2:7], out[:3, :5], True, -3)
    yield (base[::2, ::3], out[:3, :3], False, 2)
    yield (base, out, True, 3)
    yield (base, out, 1, 0)
    yield (base, out[:, ::-1], True, 0)
    yield (base, np.asfortranarray(out), True, 0)
    yield (base, out.T.copy().T, True, 0)
    yield (base, base, True, 0)
    yield (base[:, :7], base[:, 1:], True, 0)
    yield (base[::2], base[1::2], True, 0)
    yield (base, np.lib.stride_tricks.as_strided(out, (6, 8), (8, 8)), True, 0)
    yield (np.lib.stride_tricks.as_strided(base, (6, 8), (0, 8)), out, True, 0)
    yield (base.astype(np.float32), out, True, 0)
    yield (6, 8, base, out, True, 2**40)


def padded_calls():
    x = np.zeros((6, 8), np.int32)
    yield (4, x, 1.5)
    yield (x, 1.5)
    yield (4, x, np.array(1.5))
    yield (3, np.zeros((5, 6), np.int32), 1.5)
    yield (4, np.zeros((6, 9), np.int32), 1.5)
    yield (4, x.astype(np.int64), 1.5)
    yield (4, x, 10**400)


CASES = [(axpy, c) for c in axpy_calls()] + [(win2, c) for c in win2_calls()] + \
    [(padded, c) for c in padded_calls()]


def copies(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) and a.flags.writeable and
                 a.base is None else a for a in args)


@pytest.mark.parametrize("p,args", CASES, ids=[f"{p.name()}-{i}" for i, (p, _) in
                                                enumerate(CASES)])
def test_the_plan_runs_only_what_the_binder_accepts_and_agrees(p, args):
    f = p.compile()
    assert f.plan is not None
    try:
        bind_args(p._loopir_proc, args, {})
        accepted = True
    except KnitError:
        accepted = False
    before = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    ran = f.plan(args) is None
    assert not (ran and not accepted), "the plan ran a call the binder refuses"
    if not ran:  # nothing was touched
        for a, b in zip(args, before):
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, b)
    if accepted:
        # the same call through the Python path, on fresh copies of the inputs
        slow_args = [b.copy() if isinstance(b, np.ndarray) else b for b in before]
        if ran:
            for a, b in zip(args, before):  # undo, then rerun everything the slow way
                if isinstance(a, np.ndarray) and a.flags.writeable:
                    a[...] = b
        fast_args = args
        f(*fast_args) if not ran else f.plan(fast_args)
        env = bind_args(p._loopir_proc, tuple(slow_args), {})
        _slow_call(f, env)
        for a, b in zip(fast_args, slow_args):
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, b)
    else:
        with pytest.raises(KnitError):
            f(*args)


def _slow_call(f, env):
    """Run through ctypes exactly as the Python path does after binding."""
    import ctypes

    from knit.runtime.jit import _ptr

    cf = ctypes.CDLL(f.library).knit_entry
    from knit.runtime.jit import _argtypes

    cf.argtypes, cf.restype = _argtypes(f.proc), None
    vals = []
    for a in f.proc.args:
        v, t = env[a.name], a.type
        if t.is_control():
            vals.append(v)
        elif t.is_tensor() and t.is_win():
            vals.append(_ptr(v))
            vals += [s // v.itemsize for s in v.strides]
        else:
            vals.append(_ptr(v))
    cf(*vals)


def test_fast_calls_give_the_same_results_as_numpy():
    f = axpy.compile()
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 64, 1000):
        x, y = rng.standard_normal((2, n)).astype(np.float32)
        want = y + np.float32(1.5) * x
        f(1.5, x, y)
        np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-6)  # FMA or not


def test_keyword_calls_take_the_python_path_with_the_same_result():
    f = axpy.compile()
    y1, y2 = f32(4), f32(4)
    f(4, 2.0, f32(4), y1)
    f(N=4, a=2.0, x=f32(4), y=y2)
    np.testing.assert_array_equal(y1, y2)


def test_the_fast_path_refuses_nothing_by_itself():
    """Each bad call raises the binder's error (the plan never raises)."""
    f = axpy.compile()
    for args in itertools.islice(axpy_calls(), 0, None):
        try:
            bind_args(axpy._loopir_proc, args, {})
        except KnitError as err:
            with pytest.raises(type(err)) as info:
                f(*args)
            assert str(info.value) == str(err)


def test_ordinary_calls_run_in_c():
    """The plan is not a no-op: every usual form of a good call runs on it."""
    x, y = f32(5), f32(5)
    base, out = f64(6, 8), np.zeros((6, 8))
    good = [(axpy, (5, np.array(2.0, np.float32), x, y)), (axpy, (2.0, x, y)),
            (axpy, (5, float("inf"), x, y)), (axpy, (4, 2.0, y[:4], x[1:])),
            (win2, (6, 8, base, out, True, 1)), (win2, (base[::2, ::3], out[:3, :3], False,
                                                       -3)),
            (padded, (4, np.zeros((6, 8), np.int32), 1.5)),
            (padded, (4, np.zeros((6, 8), np.int32), np.array(1.5)))]
    for p, args in good:
        assert p.compile().plan(args) is None, (p.name(), args)


def test_calls_leak_no_references():
    import sys

    f = axpy.compile()
    x, y, a = f32(8), f32(8), np.array(1.0, np.float32)
    bad = ro(f32(8))
    f(8, a, x, y)
    before = [sys.getrefcount(v) for v in (x, y, a, bad, NotImplemented)]
    for _ in range(20000):
        f.plan((8, a, x, y))
        f.plan((8, a, x, bad))  # declined: NotImplemented
    after = [sys.getrefcount(v) for v in (x, y, a, bad, NotImplemented)]
    assert before == after


def test_without_the_extension_calls_take_the_python_path(tmp_path):
    """KNIT_NO_FASTCALL (or no Python.h): no plan, same results, same errors; the
    reason is reported by fastcall.unavailable()."""
    import os
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        from __future__ import annotations
        import numpy as np
        from knit import proc
        from knit.errors import ArgumentError
        from knit.runtime import fastcall

        @proc
        def axpy(N: size, a: f32, x: f32[N], y: f32[N]):
            for i in seq(0, N):
                y[i] += a * x[i]

        f = axpy.compile()
        assert f.plan is None
        y = np.ones(3, np.float32)
        f(2.0, np.ones(3, np.float32), y)
        assert y.tolist() == [3.0, 3.0, 3.0]
        try:
            f(2.0, y, y)
        except ArgumentError as err:
            assert "overlap in memory" in str(err)
        print(list(fastcall.unavailable().values()))
    """)
    script = tmp_path / "no_fastcall.py"
    script.write_text(code)
    env = {**os.environ, "KNIT_NO_FASTCALL": "1", "KNIT_CACHE_DIR": str(tmp_path / "c")}
    r = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "KNIT_NO_FASTCALL is set" in r.stdout
