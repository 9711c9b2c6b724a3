"""The open bugs the fuzzer keeps finding, so that its test fails only on new ones.

Each entry matches a bug by kind, primitive (None: any), exception name and a pattern
of its message, and names the xfail(strict=True) regression test(s) in
test_regressions.py that hold it. When such a test starts passing (XPASS), the bug is
fixed: delete the entry and the test's open_bug marker.
"""

from __future__ import annotations

import re

# (kind, primitive or None for any, exception name or None, message pattern): the
# regression test that holds each one
KNOWN: list = []


def known(bug) -> str | None:
    """The regression test holding this bug, if it is a known one."""
    for kind, prim, exc, pattern, test in KNOWN:
        if bug.kind == kind and prim in (None, bug.prim) and exc in (None, bug.exc) and \
                re.search(pattern, bug.message):
            return test
    return None
