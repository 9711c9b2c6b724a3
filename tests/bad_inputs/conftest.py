"""Bad inputs: this directory on sys.path for bad_input_checks (the JIT cache:
tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
