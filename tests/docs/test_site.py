"""`make docs` builds the site in strict mode: a broken link, anchor or docstring
reference fails (skipped where the `docs` extra is not installed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_mkdocs_strict_build(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                          "--site-dir", str(tmp_path / "site")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "WARNING" not in out.stderr, out.stderr
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    assert 'id="knit.Procedure.compile"' in api  # the API reference was generated
