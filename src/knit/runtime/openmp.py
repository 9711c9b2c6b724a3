"""How long OpenMP's idle threads spin before they sleep, for knit's `par` loops.

A `par` loop runs on OpenMP's threads (GCC's libgomp with gcc). Between parallel
regions and calls, libgomp's idle threads spin, by default 300,000 times (the loop
waits with `pause`, 25-60 ns each here: 8-18 ms), then sleep. A spinning thread holds
its core, and the thread it waits for may be queued on that very core: the two threads
of one team (after a wake-up placed them together, or while another process holds the
other core), or another library's pool (OpenBLAS's). Then each call waits for the
scheduler's tick: measured here (2-core Zen 4, 128^3 f32 two-thread GEMM, both threads
moved to one core after the team started, 300 calls, load ~7), 24 ms a call at the
default against 0.55 ms with 10,000 spins and 0.1 ms with 1,000; and knit's and
OpenBLAS's two-thread calls alternated back to back ran at 0.1-0.7 GFLOP/s.

So, when knit loads the first library built with `-fopenmp` of the process and
neither `OMP_WAIT_POLICY` nor `GOMP_SPINCOUNT` is set, it initialises libgomp with
`GOMP_SPINCOUNT=SPIN_COUNT`: 0.25-0.6 ms of spinning, longer than the gap between
back-to-back calls (a few us), so a loop of calls still finds its threads awake, and
short enough that a thread queued behind a spinner waits a fraction of a tick. The
variable is set only while libgomp starts (it reads its environment once, then) and
removed afterwards: nothing else in the process or its children sees it. A setting of
the user's is left alone, and so is a libgomp some other library already started.
"""

from __future__ import annotations

import ctypes
import os
import threading
from contextlib import contextmanager

SPIN_COUNT = 10000
# the user's own choice of a wait policy: then knit sets nothing
USER_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
_LIBGOMP = "libgomp.so.1"

_lock = threading.Lock()
_setting: str | None = None  # what libgomp was started with, once known


def libgomp_loaded() -> bool:
    """Whether this process has GCC's OpenMP runtime loaded (it then has read its
    environment): dlopen with RTLD_NOLOAD finds a loaded library and loads nothing."""
    try:
        ctypes.CDLL(_LIBGOMP, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
    except OSError:
        return False
    return True


@contextmanager
def spin_count_default():
    """Around the loading of a library built with `-fopenmp`: if libgomp is not loaded
    yet and the user set neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT, GOMP_SPINCOUNT is
    SPIN_COUNT while the library (and with it libgomp) loads, and removed afterwards."""
    global _setting
    with _lock:
        user = {v: os.environ[v] for v in USER_SETTINGS if v in os.environ}
        if libgomp_loaded():
            if _setting is None:
                _setting = "started before knit's first parallel library"
            yield
            return
        if user:
            try:
                yield
            finally:
                _setting = ", ".join(f"{k}={v}" for k, v in user.items()) + " (the user's)"
            return
        os.environ["GOMP_SPINCOUNT"] = str(SPIN_COUNT)
        try:
            yield
        finally:
            del os.environ["GOMP_SPINCOUNT"]
            _setting = f"GOMP_SPINCOUNT={SPIN_COUNT} (knit's default)"


def setting() -> str:
    """How libgomp was started, as knit saw it: "GOMP_SPINCOUNT=10000 (knit's
    default)", the user's variables, or that it was started before knit's first parallel
    library; "not started" before any."""
    return _setting or "not started"
