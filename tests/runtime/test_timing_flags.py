"""time_in_c builds the way compile() does (one definition of the default flags)."""

from __future__ import annotations

import shutil

import pytest

from knit import proc
from knit.runtime import cc as knit_cc
from knit.runtime.timing import time_in_c


@proc
def scale(N: size, x: f32[N] @ DRAM):
    for i in seq(0, N):
        x[i] = x[i] * 2.0


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_time_in_c_uses_compiles_flags(tmp_path):
    log, script = tmp_path / "cc.log", tmp_path / "cc.sh"
    script.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec gcc "$@"\n')
    script.chmod(0o755)
    assert time_in_c(scale, {"N": 16}, reps=1, trials=1, cc=str(script)) > 0
    runs = [ln for ln in log.read_text().splitlines() if ln != "--version"]
    assert len(runs) == 1
    assert " ".join(knit_cc.build_flags([str(script)])) in runs[0]
    assert "-O3 -march=native" in runs[0] and "-fno-tree-loop-distribution" in runs[0]
