"""`young_only()`: while the outermost scheduling primitive runs, Python's cyclic
garbage collector looks only at the objects made since it started; the objects that
outlive primitives are looked at in full collections that take at most a fiftieth of
the primitives' time.

Why: a schedule keeps every procedure it derived (the trace, cursor forwarding) and the
analyses' memories: a heap of a million or more objects that live as long as the
schedule. CPython walks all of them in a full collection each time the objects that
outlived two younger collections grow by a quarter, to find almost nothing: the whole
GEMM schedule of knit.stdlib.gemm made 12 full collections, 3.8 s of its 17 s of CPU,
that freed 1,758 objects. A primitive's own garbage is collected as usual.

How: on entry, a collection of the young generations (the garbage of the primitive
before and of the code between, such as a refusal's cycles), then `gc.freeze()`, which
moves every tracked object into the permanent generation that collections skip;
`gc.unfreeze()` on exit puts them back into the oldest one. A cycle among those that
became garbage waits for the next full collection, made on exit once the primitives
have run 50 times as long (CPU time) as the last full collection took: its cost grows
with the heap, so the walks take a fiftieth of the time at most, and the garbage
waiting is what that time left among old objects (the GEMM schedule: a few hundred). (Counting the heap instead,
`sys.getallocatedblocks`, walks the allocator's arenas: 0.4 ms a call.) Only when the
collector is on and nothing else froze objects: a program that froze its own before a
fork keeps them frozen, and knit leaves the collector alone."""

from __future__ import annotations

import gc
import time

_SHARE = 50  # primitives' CPU time per unit of full collection time


class young_only:
    """`with young_only():` -- see the module doc. For the outermost primitive call."""

    __slots__ = ("frozen", "start")

    def __enter__(self) -> None:
        self.frozen = gc.isenabled() and gc.get_freeze_count() == 0
        if self.frozen:
            self.start = time.process_time()
            # the young objects first (those of the primitive before and of the code
            # between): their garbage (the cycles of a refusal caught between two
            # primitives) is collected where it is cheap, not frozen into the oldest
            gc.collect(1)
            gc.freeze()

    def __exit__(self, *exc) -> None:
        if not self.frozen:
            return
        gc.unfreeze()
        now = time.process_time()
        _state[0] += now - self.start
        if _state[0] >= _SHARE * _state[1]:
            gc.collect()
            _state[:] = [0.0, max(time.process_time() - now, 0.001)]


# [primitives' CPU seconds since the last full collection, how long that one took]
_state = [0.0, 0.01]
