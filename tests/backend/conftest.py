"""The C backend tests: this directory on sys.path (programs.py, vec4.py, backend_cc.py),
and a fresh JIT cache per test module (the root conftest's `fresh_knit_cache`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="module", autouse=True)
def knit_cache(fresh_knit_cache):
    return fresh_knit_cache
