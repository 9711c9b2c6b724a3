"""`ruff check` with the project's rules ([tool.ruff.lint] in pyproject.toml) is clean.

A finding fails the suite, with ruff's report as the message: the linter is part of
`make test`, not a separate step that can be forgotten. ruff comes with the dev extra;
without it this test fails (it does not skip), since a skipped linter is no linter.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What the linter covers: all the Python of the project.
LINTED = ["src", "tests", "examples", "benchmarks"]


def test_ruff_is_clean():
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--config", str(ROOT / "pyproject.toml"),
         "--no-cache", "--output-format", "concise",
         *LINTED],
        cwd=ROOT, capture_output=True, text=True)
    assert "No module named ruff" not in out.stderr, \
        "ruff is missing: pip install -e '.[dev]' (or pip install ruff)"
    assert out.returncode == 0, f"ruff check {' '.join(LINTED)}:\n{out.stdout}{out.stderr}"
