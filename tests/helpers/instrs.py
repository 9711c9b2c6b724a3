"""Small instructions shared by tests of replace and replace_all."""

from __future__ import annotations

from knit import instr


@instr("for (int k_ = 0; k_ < 4; k_++) {dst}.data[k_] = 2.0f * {src}.data[k_];")
def double4(dst: [f32][4] @ DRAM, src: [f32][4] @ DRAM):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[i] * 2.0
