"""Shared helpers for the semantics tests: each test pins one rule of docs/semantics.md
and names it (`# pins semantics.md#<anchor>`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # so tests can import semcheck, corpus


@pytest.fixture(scope="module", autouse=True)
def knit_cache(fresh_knit_cache):
    """Compiled libraries go to a fresh directory per module (tests/conftest.py)."""
    return fresh_knit_cache


@pytest.fixture(autouse=True)
def fresh_configs():
    """Config values are process-wide in the interpreter; start each test from zero."""
    from knit.runtime.interp import reset_configs

    reset_configs()
    yield
    reset_configs()
