"""Regenerate docs/primitives.md from the primitives' docstrings:

    .venv/bin/python docs/gen_primitives.py
"""

from __future__ import annotations

import inspect
import os

import knit.stdlib.scheduling as S

FAMILIES = {
    "Loops": ["divide_loop", "divide_with_recompute", "mult_loops", "join_loops", "cut_loop",
              "shift_loop", "reorder_loops", "unroll_loop", "remove_loop", "add_loop",
              "parallelize_loop"],
    "Scopes": ["fission", "autofission", "lift_scope", "fuse", "specialize",
               "eliminate_dead_code", "add_unsafe_guard"],
    "Statements": ["rename", "simplify", "insert_pass", "delete_pass", "reorder_stmts",
                   "eliminate_dead_stores"],
    "Buffers": ["expand_dim", "divide_dim", "mult_dim", "rearrange_dim", "resize_dim",
                "unroll_buffer", "lift_alloc", "autolift_alloc", "sink_alloc",
                "delete_buffer", "reuse_buffer", "inline_window"],
    "Memory": ["stage_mem", "bind_expr", "set_memory", "set_precision", "set_window"],
    "Sub-procedures": ["replace", "replace_all", "call_eqv", "inline", "extract_subproc",
                       "insert_noop_call", "make_instr"],
    "Expressions": ["commute_expr", "left_reassociate_expr", "rewrite_expr", "merge_writes",
                    "split_write", "fold_into_reduce", "inline_assign",
                    "lift_reduce_constant"],
    "Configs": ["bind_config", "delete_config", "write_config"],
    "Combinators": ["repeat", "sched_seq"],
}


def render() -> str:
    out = ["# Scheduling primitives", "",
           "Generated from the docstrings by `docs/gen_primitives.py`. Every primitive is in",
           "`knit.stdlib.scheduling`, returns a new procedure, and raises `SchedulingError`",
           "when it cannot prove the rewrite safe.", ""]
    for family, names in FAMILIES.items():
        out += [f"## {family}", ""]
        for name in names:
            f = getattr(S, name, None)
            if f is None:
                continue
            sig = str(inspect.signature(f))
            doc = inspect.cleandoc(f.__doc__ or "(undocumented)")
            out += [f"### `{name}{sig}`", "", "```", doc, "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    path = os.path.join(os.path.dirname(__file__), "primitives.md")
    with open(path, "w") as fh:
        fh.write(render())
    print(f"wrote {path}")
