"""The GEMM tests reuse the platform tests' helpers (the CPU's flags; building and
running C for AArch64 under qemu)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "platforms"))
