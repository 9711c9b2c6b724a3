"""The accelerator's configuration state, as knit configs, and the scalar helpers of
the store path (`acc_scale`, `clamp`).

A configuration instruction writes these fields in its body (its meaning) and emits the
`gemmini_*config*` call that sets the simulator's registers (its C). The data moves that
need a configuration (`do_*`) read nothing from these configs in their bodies, as in
Exo; the simulator checks at run time that their configuration was set.
"""

from __future__ import annotations

import hashlib

from knit import config, instr, proc
from knit.libs.externs import select
from knit.platforms.gemmini.memories import SIMULATOR, simulator_source

# What each instruction puts at the top of the C file: the simulator, by path. (The
# memories paste the text itself; the include guard keeps one copy.) The hash makes a
# changed simulator a changed C file, so the JIT's cache never serves a stale build.
SIM = (f"// gemmini_sim.c sha256 {hashlib.sha256(simulator_source().encode()).hexdigest()}\n"
       f'#include "{SIMULATOR}"')


@config
class ConfigLoad:
    """Load id 0 (mvin): the DRAM row stride of the source."""

    src_stride: stride


@config
class ConfigLoad_id1:
    """Load id 1 (mvin2): the DRAM row stride of the source."""

    src_stride: stride


@config
class ConfigLoad_id2:
    """Load id 2 (mvin3): the DRAM row stride of the source."""

    src_stride: stride


@config
class ConfigLoadAcc:
    """Whether the accumulator's broadcast load (stride 0) is configured."""

    stride_set: bool


@config
class ConfigStore:
    """mvout: the scale applied to accumulators, the DRAM row stride, ReLU or not."""

    scale: f32
    dst_stride: stride
    act: bool


@config
class ConfigMatmul:
    """Whether the execute unit is configured (weight-stationary dataflow)."""

    done: bool


# The meaning of one accumulator on its way out: an f32 product (ACC_SCALE in the
# simulator computes the same product)...
@instr("*{dst} = ACC_SCALE(*{src}, *{scale});", c_global=SIM)
def acc_scale(src: i32, dst: f32, scale: f32):
    dst = scale * src


# ... clamped to the int8 range; the store converts it as C does (toward zero).
@proc
def clamp(src: f32, dst: i8):
    lo: f32
    hi: f32
    lo = -128.0
    hi = 127.0
    tmp: f32
    tmp = select(hi, src, hi, src)
    tmp = select(src, lo, lo, tmp)
    dst = tmp


def set_prec_mem(p, bufname, precision, memory):
    """A buffer's element type and memory at once (as Exo's helper of this name)."""
    from knit.stdlib.scheduling import set_memory, set_precision

    return set_precision(set_memory(p, bufname, memory), bufname, precision)


def on_accelerator(p, **memories):
    """A prototype written over DRAM with parameters moved into the accelerator's
    memories (`on_accelerator(p, dst=GEMM_SCRATCH)`): knit checks a `@proc` that touches
    GEMM memories at definition, so instruction bodies are written this way."""
    from knit.stdlib.scheduling import set_memory

    for name, mem in memories.items():
        p = set_memory(p, name, mem)
    return p
