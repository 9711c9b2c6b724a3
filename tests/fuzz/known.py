"""The open bugs the fuzzer keeps finding, so that its test fails only on new ones.

Each entry matches a bug by kind (a regular expression: `backend-mismatch:gcc.*`),
primitive (None: any), exception name or backend flavour (a regular expression, None:
any) and a pattern of its message, and names the xfail(strict=True) regression test(s)
in test_regressions.py or test_findings.py that hold it. When such a test starts
passing (XPASS), the bug is fixed: delete the entry and the test's open_bug marker.
FINDINGS.md (the worktree's root, `fuzz/`) describes each one.
"""

from __future__ import annotations

import re

# (kind, primitive or None for any, exception or flavour or None, message pattern): the
# regression test(s) that hold each one
KNOWN: list = [
]


def known(bug) -> str | None:
    """The regression test holding this bug, if it is a known one."""
    for kind, prim, exc, pattern, test in KNOWN:
        if re.fullmatch(kind, bug.kind) and prim in (None, bug.prim) and \
                (exc is None or re.fullmatch(exc, bug.exc)) and re.search(pattern, bug.message):
            return test
    return None
