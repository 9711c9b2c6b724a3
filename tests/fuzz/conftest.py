"""The fuzz tests compile into a fresh JIT cache, not ~/.cache/knit (as tests/rewrite)."""

from __future__ import annotations

import os

import pytest


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
