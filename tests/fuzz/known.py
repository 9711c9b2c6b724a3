"""The open bugs the fuzzer keeps finding, so that its test fails only on new ones.

Each entry matches a bug by kind, primitive (None: any), exception name and a pattern
of its message, and names the xfail(strict=True) regression test(s) in
test_regressions.py that hold it. When such a test starts passing, the bug is fixed:
delete the entry and the test's xfail marker.
"""

from __future__ import annotations

import re

# (kind, primitive or None for any, exception name or None, message pattern): the
# regression test that holds each one
KNOWN = [
    ("invalid-result", "lift_alloc", "RaceError", r"may race",
     "test_lift_alloc_out_of_a_par_loop"),
    ("invalid-result", "autolift_alloc", "RaceError", r"may race",
     "test_autolift_alloc_out_of_a_par_loop"),
    ("invalid-result", "write_config", "RaceError", r"may race",
     "test_write_config_in_a_par_loop"),
    ("invalid-result", "stage_mem", "RaceError", r"may race",
     "test_stage_mem_in_a_par_loop"),
    ("invalid-result", "fuse", "BoundsError", r"may be out of bounds",
     "test_fuse_inside_an_empty_loop"),
    ("print-roundtrip", "set_memory", "KnitTypeError", r"lives in",
     "test_set_memory_of_a_buffer_passed_to_a_call"),
    ("print-roundtrip", None, "AssertionError", r"\.type: type \w+ vs \w+",
     "test_inline_assign_retypes_the_expression"),
    ("print-roundtrip", None, "KnitTypeError", r"but is indexed with 0",
     "test_reorder_window_statements_copied_by_cut_loop"),
    ("invalid-result", None, "InternalError", r"dimension\(s\) but is indexed",
     "test_expand_dim_of_an_allocation_copied_by_cut_loop"),
]


def known(bug) -> str | None:
    """The regression test holding this bug, if it is a known one."""
    for kind, prim, exc, pattern, test in KNOWN:
        if bug.kind == kind and prim in (None, bug.prim) and exc in (None, bug.exc) and \
                re.search(pattern, bug.message):
            return test
    return None
