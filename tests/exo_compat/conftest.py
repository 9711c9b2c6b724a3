"""The Exo example replays reuse the platform tests' helpers (the CPU's flags, so a
kernel runs natively only where this CPU has the instructions)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "platforms"))
