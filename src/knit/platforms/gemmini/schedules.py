"""Scheduling helpers that Exo's gemmini module exports and its applications
(`apps/gemmini/src/exo/matmul.py`, `conv.py`) call, with the same names and behaviour:
each is a short sequence of knit's checked primitives (so each step is proven), except
where it says otherwise.

`old_split`, `old_reorder`, `old_unroll` apply a primitive until it no longer applies;
`old_fission_after` and `old_lift_alloc` apply one at every match of a pattern, in
order, finding the matches again after each rewrite.
"""

from __future__ import annotations

from knit import SchedulingError
from knit.platforms.gemmini.compute import do_matmul_acc_i8, matmul_acc_i8, matmul_acc_i8_v2
from knit.platforms.gemmini.loads import (
    do_ld_acc_i32_vector,
    do_ld_i8_block_id1,
    ld_acc_i32_vector,
    ld_acc_i32_vector_v2,
    ld_i8_block_id1,
    ld_i8_block_id1_s2_v2,
    ld_i8_block_id1_v2,
    ld_i8_block_id2,
    ld_i8_block_id2_v2,
    zero_acc_i32,
    zero_acc_i32_v2,
)
from knit.platforms.gemmini.memories import GEMM_ACCUM, GEMM_SCRATCH
from knit.platforms.gemmini.stores import (
    st_acc_i8,
    st_acc_i8_configured,
    st_acc_i8_s2_v2,
    st_acc_i8_v2,
)
from knit.stdlib.scheduling import (
    autofission,
    autolift_alloc,
    call_eqv,
    divide_loop,
    eliminate_dead_code,
    fission,
    inline,
    inline_window,
    remove_loop,
    reorder_loops,
    reorder_stmts,
    repeat,
    replace,
    set_memory,
    simplify,
    unroll_loop,
    write_config,
)

old_split = repeat(divide_loop)
old_reorder = repeat(reorder_loops)
old_unroll = repeat(unroll_loop)


def _at_each(op, find):
    """op applied at each cursor `find(p)` returns, the k-th one found in the k-th
    rewritten procedure (so cursors never go stale)."""

    def apply(p, *args, **kwargs):
        for k in range(len(find(p))):
            p = op(p, find(p)[k], *args, **kwargs)
        return p

    return apply


def old_fission_after(proc, stmt_pattern, n_lifts=1):
    """Fission `n_lifts` loops after every statement matching the pattern."""
    gaps = _at_each(autofission, lambda p: [c.after() for c in p.find_all(stmt_pattern)])
    return gaps(proc, n_lifts)


def old_lift_alloc(proc, stmt_pat, n_lifts=1, mode="row", size=None, keep_dims=True):
    """Lift every allocation matching the pattern `n_lifts` scopes up."""
    allocs = _at_each(autolift_alloc, lambda p: p.find_all(stmt_pat))
    return allocs(proc, n_lifts, mode, size, keep_dims)


def lift_config(p, config_str):
    """Move a configuration call (a pattern or a cursor) to the top of its block and out
    of the loops around it, as far as the checks allow (each step is a checked
    reorder_stmts, fission and remove_loop; the first refusal ends the lifting)."""
    config = p.find(config_str) if isinstance(config_str, str) else config_str
    while True:
        try:
            while True:
                try:
                    p = reorder_stmts(p, p.forward(config).expand(1, 0))
                except SchedulingError:
                    break
            p = fission(p, p.forward(config).after())
            p = remove_loop(p, p.forward(config).parent())
        except SchedulingError:
            return p


def set_gemm_memories(conv):
    """The convolution's buffers into the accelerator: `res` into the accumulator,
    `i_s` and `w_s` into the scratchpad (and their second copies, where there are)."""
    for name, mem in (("res", GEMM_ACCUM), ("i_s", GEMM_SCRATCH), ("w_s", GEMM_SCRATCH)):
        conv = set_memory(conv, name, mem)
    try:
        for name, mem in (("res #1", GEMM_ACCUM), ("i_s #1", GEMM_SCRATCH),
                          ("w_s #1", GEMM_SCRATCH)):
            conv = set_memory(conv, name, mem)
    except SchedulingError:
        pass  # only the remainder part of a split convolution has them
    return conv


# ------------------------------------------------------------------ matmul


def tile_outer_loops(gemmini):
    """i by 16, j by 64 then 16: blocks of the 16x16 array."""
    gemmini = divide_loop(gemmini, "i", 16, ["i", "i_in"], perfect=True)
    gemmini = old_reorder(gemmini, "i_in j")
    gemmini = divide_loop(gemmini, "j", 64, ["j", "j_in"], perfect=True)
    gemmini = divide_loop(gemmini, "j_in", 16, ["j_in_o", "j_in_i"], perfect=True)
    return old_reorder(gemmini, "j_in_o j_in_i")


def fission_outer_blocks(gemmini):
    """Separate zeroing, accumulation and store, with k outermost in the middle part."""
    gemmini = old_fission_after(gemmini, "res[_] = 0.0 #0", n_lifts=3)
    gemmini = old_fission_after(gemmini, "for k in _:_ #0", n_lifts=3)
    for pair in ("j_in_i j_in_o", "i_in k", "j_in_i k", "j_in_o k"):
        gemmini = old_reorder(gemmini, pair)
    return gemmini


def fission_inner_blocks(gemmini):
    """k by 64 then 16; stage a and b in 16x16 blocks; split loads from compute."""
    gemmini = divide_loop(gemmini, "k", 64, ["ko", "k"], perfect=True)
    gemmini = divide_loop(gemmini, "k", 16, ["k", "ki"], perfect=True)
    gemmini = old_lift_alloc(gemmini, "a : i8", n_lifts=3)
    gemmini = old_lift_alloc(gemmini, "a : _ #0", n_lifts=1, mode="col")
    gemmini = old_lift_alloc(gemmini, "a : _", n_lifts=2)
    gemmini = old_reorder(gemmini, "ki j_in_o")
    gemmini = old_reorder(gemmini, "ki j_in_i")
    gemmini = old_lift_alloc(gemmini, "b : i8", n_lifts=2)
    gemmini = old_lift_alloc(gemmini, "b : i8", n_lifts=1, mode="col")
    gemmini = old_lift_alloc(gemmini, "b : _", n_lifts=3)
    gemmini = old_fission_after(gemmini, "a[_] = _", n_lifts=5)
    gemmini = old_fission_after(gemmini, "b[_] = _", n_lifts=5)
    for pair in ("j_in_i i_in", "ki i_in", "k i_in", "j_in_i ki", "j_in_o ki", "j_in_i i_in"):
        gemmini = old_reorder(gemmini, pair)
    return gemmini


def replace_gemmini_calls(gemmini):
    """The five loop nests become zero, load A, load B, matmul and store instructions."""
    for loop, instr in (("i_in", zero_acc_i32), ("i_in", ld_i8_block_id1),
                        ("ki", ld_i8_block_id2), ("i_in", matmul_acc_i8),
                        ("i_in", st_acc_i8)):
        gemmini = replace(gemmini, f"for {loop} in _:_ #0", instr)
    return gemmini


def matmul_tile(gemmini):
    """j by 4 and i by 8 then 2, for reuse of loaded blocks."""
    gemmini = divide_loop(gemmini, "j", 4, ["jo", "ji"], perfect=True)
    gemmini = divide_loop(gemmini, "i", 8, ["io", "i"], perfect=True)
    gemmini = divide_loop(gemmini, "io", 2, ["ioo", "io"], perfect=True)
    gemmini = old_reorder(gemmini, "i jo")
    return old_reorder(gemmini, "io jo")


def _expose(p, call: str, v2, windows: list[str], config: str | None):
    """Swap a call for its `_v2` form, inline it and its windows, lift its config.
    (Exo's inline leaves `dst = res[...]` window statements for inline_window; knit's
    substitutes window arguments itself, so there may be none left to inline.)"""
    p = call_eqv(p, call, v2)
    p = inline(p, f"{v2.name()}(_)")
    for w in windows:
        if _matches(p, w):
            p = inline_window(p, w)
    return lift_config(p, config) if config else p


def _matches(p, pattern: str) -> bool:
    try:
        return bool(p.find_all(pattern))
    except SchedulingError:  # a PatternError: nothing matches
        return False


def inline_lift_config(gemmini):
    """Every instruction split into its configuration and its move or compute, with the
    configurations lifted out of the loops."""
    steps = [
        ("zero_acc_i32(_)", zero_acc_i32_v2, ["dst = res[_]"], "config_zero()"),
        ("ld_i8_block_id1(_)", ld_i8_block_id1_v2, ["src = A[_]", "dst = a[_]"],
         "config_ld_i8_id1(_)"),
        ("ld_i8_block_id2(_)", ld_i8_block_id2_v2, ["src = B[_]", "dst = b[_]"],
         "config_ld_i8_id2(_)"),
        ("matmul_acc_i8(_)", matmul_acc_i8_v2, ["A = a[_]", "B = b[_]", "C = res[_]"],
         "config_matmul()"),
        ("st_acc_i8(_)", st_acc_i8_v2, ["src = res[_]", "dst = C[_]"],
         "config_st_acc_i8(_)"),
    ]
    for call, v2, windows, config in steps:
        gemmini = _expose(gemmini, call, v2, windows, config)
    return gemmini


# ------------------------------------------------------------------ convolution


def split_fission_dim(conv):
    """Tile output columns, channels and input channels by 16 and separate bias load,
    accumulation and store."""
    conv = old_split(conv, "ocol", 16, ["ocol_o", "ocol_i"], tail="cut_and_guard")
    conv = _drop_dead(conv, "for ocol_o in _:_")  # none, for an output under 16 wide
    conv = old_split(conv, "och", 16, ["och_o", "och_i"], perfect=True)
    conv = old_split(conv, "kch", 16, ["kch_o", "kch_i"], perfect=True)
    conv = old_reorder(conv, "ocol_i och_o")
    conv = old_lift_alloc(conv, "res : _", n_lifts=3)
    conv = old_fission_after(conv, "res[_] = _", n_lifts=3)
    conv = old_fission_after(conv, "for krow in _:_", n_lifts=3)
    for pair in ("och_i krow", "och_i kcol", "och_i kch_o", "ocol_i krow", "ocol_i kcol",
                 "ocol_i kch_o", "och_o krow"):
        conv = old_reorder(conv, pair)
    conv = simplify(conv)
    conv = old_lift_alloc(conv, "i_s : _", n_lifts=6)
    conv = old_lift_alloc(conv, "w_s : _", n_lifts=1)
    conv = old_lift_alloc(conv, "w_s : _", n_lifts=1, mode="col")
    conv = old_reorder(conv, "och_o kcol")
    conv = old_reorder(conv, "och_o kch_o")
    conv = old_lift_alloc(conv, "w_s : _", n_lifts=3)
    conv = old_fission_after(conv, "w_s = _", n_lifts=5)
    return old_fission_after(conv, "i_s = _", n_lifts=5)


def _drop_dead(p, loop: str):
    """Delete the first loop matching `loop` if it never runs. (Exo leaves a dead part
    in place and its later steps lift allocations out of it; knit's checks refuse to
    reason about code that never runs, so it goes first.)"""
    if _matches(p, loop):
        try:
            p = eliminate_dead_code(p, p.find(loop))
        except SchedulingError:
            pass  # it runs: it stays
    return p


def _replace_part(conv, reorders_before_id1: list[str], reorder_before_id2: list[str]):
    # Exo's replace does not compare memories, and Exo's conv schedules move the
    # buffers into the accelerator after replacing; knit's replace checks that an
    # instruction's arguments live where it needs them, so they move first.
    conv = set_gemm_memories(conv)
    conv = replace(conv, "for ocol_i in _:_ #0", ld_acc_i32_vector)
    for pair in reorders_before_id1:
        conv = old_reorder(conv, pair)
    conv = replace(conv, "for kch_i in _:_ #0", ld_i8_block_id1)
    for pair in reorder_before_id2:
        conv = old_reorder(conv, pair)
    conv = replace(conv, "for ocol_i in _:_ #0", ld_i8_block_id2)
    conv = old_reorder(conv, "kch_i och_i")
    conv = replace(conv, "for ocol_i in _:_ #0", matmul_acc_i8)
    return replace(conv, "for ocol_i in _:_ #0", st_acc_i8)


def replace_div_part(conv):
    """Instructions for the full 16-column tiles of the output."""
    return _replace_part(conv, ["och_i kch_i", "och_o kch_i"], ["kch_o ocol_i"])


def replace_mod_part(conv):
    """Instructions for the remainder columns (the guarded tail)."""
    return _replace_part(conv, ["och_i kch_i"], [])


def inline_vector(conv):
    return _expose(conv, "ld_acc_i32_vector(_)", ld_acc_i32_vector_v2,
                   ["src = bias[_]", "dst = res[_]"], None)


def inline_ld_id1(conv):
    return _expose(conv, "ld_i8_block_id1(_)", ld_i8_block_id1_s2_v2,
                   ["src = weights[_]", "dst = w_s[_]"], None)


def inline_matmul(conv):
    return _expose(conv, "matmul_acc_i8(_)", matmul_acc_i8_v2,
                   ["A = i_s[_]", "B = w_s[_]", "C = res[_]"], None)


def inline_st(conv):
    return _expose(conv, "st_acc_i8(_)", st_acc_i8_s2_v2, ["src = res[_]", "dst = output[_]"],
                   None)


def inline_div_part(conv):
    """Split the full tiles' instructions and lift their configurations."""
    for expose, config in ((inline_vector, "config_ld_acc_i32_vector(_)"),
                           (inline_ld_id1, "config_ld_i8_id1(_)"),
                           (inline_matmul, "config_matmul(_)"),
                           (inline_st, "config_st_acc_i8(_)")):
        conv = lift_config(expose(conv), config)
    return conv


def inline_mod_part(conv):
    """The remainder's instructions without their configurations: Exo exposes them
    (`config_*; do_*`) and deletes the configuration calls with `delete_config`, since
    they repeat what the full tiles' lifted configurations set. knit's delete_config
    deletes a config *write*, not a call of a configuration instruction, so each call is
    swapped for its move-only form instead (`call_eqv`: the same body, configurations are
    not part of it) -- the same code. The simulator checks at run time that the move
    finds its configuration (the stride of each `do_*` load, the store's scale, ReLU and
    stride), so a missing one is a fault, not silent corruption."""
    for call, do in (("ld_acc_i32_vector(_)", do_ld_acc_i32_vector),
                     ("ld_i8_block_id1(_)", do_ld_i8_block_id1),
                     ("matmul_acc_i8(_)", do_matmul_acc_i8),
                     ("st_acc_i8(_)", st_acc_i8_configured)):
        while _matches(conv, call):
            conv = call_eqv(conv, call, do)
    return simplify(conv)


# ------------------------------------------------------------------ configuration apart


def configure_apart(p, call, do_instr, config_instr, writes):
    """A self-configuring instruction call split into its configuration and its move:
    `ld_i8_id2(16, 16, A[..], a)` -> `config_ld_i8_id2(stride(A, 0)); do_ld_i8_id2(..)`.

    Every step is checked: `call_eqv` to `do_instr` (the same meaning: configurations
    are not part of a move's body), `write_config` of `writes` -- (config, field, value)
    triples, values as expression strings at the call -- just before it (refused if
    anything reads those fields after), then `replace` of the writes by `config_instr`.
    Then `lift_config` moves the configuration out of the loops."""
    cur = p.find(call) if isinstance(call, str) else call
    p = call_eqv(p, cur, do_instr)
    for cfg, field, value in writes:
        p = write_config(p, p.forward(cur).before(), cfg, field, value)
    fields = " ; ".join(f"{cfg.name()}.{field} = _" for cfg, field, _ in writes)
    p = replace(p, fields, config_instr)
    return lift_config(p, p.forward(cur).prev())
