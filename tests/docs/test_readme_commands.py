"""The README's commands work as written in a fresh shell (issue 13: `python
benchmarks/...` failed there with `No module named 'knit'`): every Python or pip
command it gives runs the project's environment, every script it names exists, every
`make` target it names is in the Makefile."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
# inline code spans and the lines of shell blocks: the commands a reader copies
SPANS = re.findall(r"`([^`\n]+)`", README) + [
    ln for block in re.findall(r"```(?:sh|bash|console)?\n(.*?)```", README, re.S)
    for ln in block.splitlines()]


def commands(pattern: str) -> list[str]:
    return [s.strip() for s in SPANS if re.search(pattern, s)]


def test_python_commands_use_the_projects_environment():
    runs = commands(r"(^|\s)(\S*python3?)\s+(\S+\.py|-m)")
    assert runs, "the README runs no Python script?"
    for cmd in runs:
        exe = re.search(r"(^|\s)(\S*python3?)\s", cmd)[2]
        assert exe == ".venv/bin/python", f"{cmd!r}: a fresh shell's {exe} has no knit"


def test_pip_installs_go_into_the_projects_environment():
    """`pip` alone, in a fresh shell, installs into another Python than `.venv`'s
    (allowed only where the README says it is for your own environment)."""
    found = list(re.finditer(r"([\w./]+ -m )?pip install[^`]*`(.{0,20})", README))
    assert found
    for m in found:
        assert m[1] == ".venv/bin/python -m " or "in your own" in m[2], m[0]


def test_named_scripts_exist():
    paths = set(re.findall(r"\b((?:benchmarks|examples)/\w+\.py)\b", README))
    assert paths
    for p in paths:
        assert (ROOT / p).is_file(), p


def test_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
    for cmd in commands(r"^make\s+\w"):
        target = cmd.split()[1]
        assert target in targets, f"{cmd!r}: no target {target!r} in the Makefile"
