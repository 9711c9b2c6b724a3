"""Running Gemmini code here: the simulator compiled into a proc's C, read from Python.

    run = simulate(matmul)          # compiles (p.compile()) and wraps the callable
    stats = run(A, B, C, scale, act)
    stats.cycles, stats.utilization

`p.compile()` alone runs the simulator too, and raises `GemminiError` from a call in
which the simulator recorded a fault (nothing is written after a fault): the memories
give knit's JIT a check to run after each call (`Memory.call_check`). `simulate` also
resets the statistics before each call and returns the call's modelled cost.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

from knit import UserError

PES = 16 * 16  # processing elements of the array


class GemminiError(UserError):
    """The simulated accelerator faulted: an address outside every allocated buffer, an
    instruction before its configuration, a full scratchpad, a bad size."""


class _CStats(ctypes.Structure):
    _fields_ = [(f, ctypes.c_double) for f in
                ("cycles", "load_busy", "ex_busy", "store_busy", "macs", "bytes_in",
                 "bytes_out")] + \
               [(f, ctypes.c_int64) for f in
                ("n_mvin", "n_mvout", "n_preload", "n_compute", "n_config",
                 "n_config_switch")]


class _CParams(ctypes.Structure):
    _fields_ = [("bandwidth", ctypes.c_double), ("dma_latency", ctypes.c_double),
                ("config_cycles", ctypes.c_double), ("rob_size", ctypes.c_int)]


@dataclass(frozen=True)
class Stats:
    """The modelled cost of one call."""

    cycles: float
    macs: float
    load_busy: float
    ex_busy: float
    store_busy: float
    bytes_in: float
    bytes_out: float
    n_mvin: int
    n_mvout: int
    n_preload: int
    n_compute: int
    n_config: int
    n_config_switch: int

    @property
    def utilization(self) -> float:
        """Useful multiply-accumulates over what the 16x16 array could do in `cycles`."""
        return self.macs / (self.cycles * PES) if self.cycles else 0.0


class Simulation:
    """A compiled Gemmini proc and its simulator's state (see the module docstring)."""

    def __init__(self, proc, *, bandwidth=16.0, dma_latency=80.0, config_cycles=20.0,
                 rob_size=32, **compile_kwargs):
        self.kernel = proc.compile(**compile_kwargs)
        self._lib = ctypes.CDLL(self.kernel.library)  # the same handle: dlopen counts
        if not hasattr(self._lib, "knit_gemmini_begin"):
            raise GemminiError(f"{proc.name()} does not use the Gemmini simulator (it calls "
                            "no Gemmini instruction)")
        self._lib.knit_gemmini_begin.restype = None
        self.set_params(bandwidth=bandwidth, dma_latency=dma_latency,
                        config_cycles=config_cycles, rob_size=rob_size)

    def set_params(self, *, bandwidth: float, dma_latency: float, config_cycles: float,
                   rob_size: int) -> None:
        """The cost model: DMA bytes per cycle, DMA latency in cycles, cycles per
        configuration switch, instructions in flight."""
        if not bandwidth > 0 or dma_latency < 0 or config_cycles < 0 or not 1 <= rob_size <= 64:
            raise ValueError("need bandwidth > 0, dma_latency >= 0, config_cycles >= 0 and "
                             "1 <= rob_size <= 64")
        p = _CParams(float(bandwidth), float(dma_latency), float(config_cycles), int(rob_size))
        self._lib.knit_gemmini_set_params(ctypes.byref(p))

    def reset(self) -> None:
        """Power-on state: no configuration, no buffers, zeroed memories."""
        self._lib.knit_gemmini_reset()

    def __call__(self, *args, **kwargs) -> Stats:
        self._lib.knit_gemmini_begin()
        self.kernel(*args, **kwargs)  # raises GemminiError on a fault
        return self.stats()

    def stats(self) -> Stats:
        """The cost of the last call."""
        s = _CStats()
        self._lib.knit_gemmini_stats(ctypes.byref(s))
        return Stats(**{f: getattr(s, f) for f, _ in _CStats._fields_})


def simulate(proc, **kwargs) -> Simulation:
    """`proc` compiled with the simulator, as a callable returning each call's Stats."""
    return Simulation(proc, **kwargs)
