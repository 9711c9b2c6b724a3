"""Exo 1.0's higher-level scheduling library (`exo.stdlib.stdlib`) at the same path,
written anew on knit's public primitives. This module gathers it, with everything Exo's
module passes on (`from exo.stdlib.stdlib import *` alone runs an Exo schedule):

- knit.stdlib.passes: the combinators (attempt, apply, predicate, make_pass, repeate),
  dce, round_loop, fma_rule, hoist_stmt, hoist_from_loop, cleanup, unroll_loops,
  reorder_stmt_forward and _backwards, divide_loop_, interleave_outer_loop_with_inner_loop,
  tile_loops, auto_stage_mem, stage_mem_, lift_rc, abs_rule, inline_copies, cse,
  ordered_stage_expr, bind_and_set_expr, parallelize_and_lift_alloc, expr_to_string;
- knit.stdlib.vectorizing: vectorize and its parts (parallelize_reduction, stage_compute,
  fission_into_singles, replace_all_stmts, ...);
- knit.stdlib.loop_schedules: tile_loops_bottom_up, interleave_loop, unroll_and_jam,
  jam_stmt, divide_loop_recursive, binary_specialize, cut_loop_and_unroll,
  unroll_buffers and the cursor-returning wrappers;
- the primitives, cursor classes, inspection helpers, `knit`'s names, the syntax
  placeholders and the `relu`/`select` externs.
"""

from __future__ import annotations

import importlib
import types


def _reexport(*module_names: str) -> None:
    """Exo's `exo.stdlib.stdlib` exposes everything it imports (`from exo import *`, the
    syntax placeholders, the primitives, inspection, ...), and Exo programs rely on
    `from exo.stdlib.stdlib import *` alone; so this module takes in the public names
    of the modules listed (the first module's win)."""
    g = globals()
    for module_name in module_names:
        mod = importlib.import_module(module_name)
        names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
        for n in names:
            value = getattr(mod, n)
            if not isinstance(value, types.ModuleType):
                g.setdefault(n, value)


# Exo's stdlib also passes on the `relu` and `select` externs (its inspection module
# star-imports `exo.platforms.x86`, which imports them): Exo's Gemmini schedules call
# `relu` with only `from exo.stdlib.stdlib import *` in scope.
from knit.libs.externs import relu, select  # noqa: E402,F401

_reexport("knit.stdlib.passes", "knit", "knit.frontend.syntax", "knit.API_cursors", "knit.stdlib.scheduling",
          "knit.stdlib.inspection", "knit.stdlib.vectorizing", "knit.stdlib.loop_schedules")
