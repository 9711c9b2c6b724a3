"""The cursor tests share the checks in tests/helpers/ (the JIT cache: tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "helpers"))
