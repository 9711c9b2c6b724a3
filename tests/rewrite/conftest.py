"""Scheduling tests share the checks in tests/helpers/scheduling_checks.py and an isolated
JIT cache (compiled procedures go to a fresh directory, not ~/.cache/knit)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "helpers"))


@pytest.fixture(scope="session", autouse=True)
def knit_cache(tmp_path_factory):
    d = tmp_path_factory.mktemp("knit-cache")
    old = os.environ.get("KNIT_CACHE_DIR")
    os.environ["KNIT_CACHE_DIR"] = str(d)
    yield d
    if old is None:
        os.environ.pop("KNIT_CACHE_DIR", None)
    else:
        os.environ["KNIT_CACHE_DIR"] = old
