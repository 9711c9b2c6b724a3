"""examples/sgemm.py (what `make demo` runs) spells out schedule_gemm step by step and
asserts the result is schedule_gemm's: that assert must hold, or the demo stops. (It
did not for a session: the library gained the row split and the example kept only the
column one.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from knit.stdlib import gemm as G

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sgemm.py"


@pytest.mark.parametrize("target", ["avx512", "avx2", "neon"])  # (main() takes this CPU's)
def test_the_example_steps_are_schedule_gemms_column_split(capsys, target):
    spec = importlib.util.spec_from_file_location("sgemm_example", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)  # defines the plain proc; main() is not run
    steps = example.schedule_step_by_step(target)
    assert "== 7. the par loops (parallelize) ==" in capsys.readouterr().out
    library = G.schedule_gemm(example.sgemm, target, sequential_upto=0, split="cols")
    # (schedule_gemm makes sgemm's nest a call of the kernel the steps make)
    assert example.same_code(steps, library.body()[0].subproc())
    assert not example.same_code(steps, example.sgemm)
