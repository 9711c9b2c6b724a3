"""`import knit` (with its platform libraries and stdlib) stays light: NumPy, z3 and the
C backend load on first use, so a schedule script starts fast (issue 9, item 4)."""

import subprocess
import sys

HEAVY = ("numpy", "z3", "tqdm", "knit.backend.c", "knit.runtime.jit")


def test_import_knit_loads_no_heavy_module():
    code = ("import sys, knit, knit.stdlib.scheduling, knit.platforms.x86\n"
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", f"imported at `import knit`: {out}"
