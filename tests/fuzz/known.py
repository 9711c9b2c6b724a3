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

_FLOAT_BACKEND = "test_no_float_contraction, test_f16_plus_f64_rounds_once"
_INT_BACKEND = "test_int_plus_equal_float, test_float_to_int_out_of_range"

# (kind, primitive or None for any, exception or flavour or None, message pattern): the
# regression test(s) that hold each one
KNOWN: list = [
    # sem: float results of compiled code differ from the interpreter's (FMA
    # contraction at the default flags; mixed-precision operands cast down in C)
    ("backend-mismatch:.*", None, r"float-value in (f16|f32|f64)", "", _FLOAT_BACKEND),
    ("backend-mismatch:.*", None, r"(zero-sign|nan|inf) in (f16|f32|f64)", "",
     _FLOAT_BACKEND),
    # sem: i32 data from float arithmetic (i32 += f32; out-of-range float -> int)
    ("backend-mismatch:.*", None, r"int-value in i32", "", _INT_BACKEND),
    # sem: sqrt/sin/expf raise in the interpreter where C gives NaN or inf
    ("interp-error", None, "ArgumentError", r"extern \w+ failed on",
     "test_externs_follow_ieee"),
    ("invalid-result", None, "ArgumentError", r"extern \w+ failed on",
     "test_externs_follow_ieee"),
    # sem: knit emits _Float16, which Debian's clang 14 rejects on x86
    ("backend-error:clang", None, None, "_Float16 is not supported",
     "test_f16_compiles_with_clang"),
    # core: a rewrite hides a config write from the bounds check (add_loop with a
    # guard, fission, specialize): the result fails the definition-time checks
    ("invalid-result", None, "BoundsError", r"FuzzCfg\.[kn]",
     "test_add_loop_over_a_config_write_gives_a_valid_program, "
     "test_fission_after_a_config_write_gives_a_valid_program, "
     "test_specialize_over_config_reads_gives_a_valid_program"),
    # core: the bounds check reads an allocation's size from the config's value at the
    # access: a buffer allocated with FuzzCfg.n = 1 is written at 0..2
    ("interp-error", None, "InternalError", r"out of bounds .* static checks should have",
     "test_allocation_sized_by_a_config_keeps_its_size"),
    # core: inline_window moves a window's origin past a write of the config it reads
    ("(mismatch|edge-mismatch)", "inline_window", None, "",
     "test_inline_window_keeps_the_origin_it_was_evaluated_with"),
    # core: reorder_stmts swaps a window statement and a write of the config its origin
    # reads
    ("(mismatch|edge-mismatch)", "reorder_stmts", None, "",
     "test_reorder_stmts_keeps_a_window_origin_before_its_config_write"),
]


def known(bug) -> str | None:
    """The regression test holding this bug, if it is a known one."""
    for kind, prim, exc, pattern, test in KNOWN:
        if re.fullmatch(kind, bug.kind) and prim in (None, bug.prim) and \
                (exc is None or re.fullmatch(exc, bug.exc)) and re.search(pattern, bug.message):
            return test
    return None
