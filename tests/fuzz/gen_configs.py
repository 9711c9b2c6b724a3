"""The generator's config and call statements (a mixin of gen.Gen): index config fields
read in every expression position, written before, after and inside the code that
reads them; calls whose callee branches on `stride(x, 0)`, or takes an element or an
index argument.

The index fields `FuzzCfg.k` (index) and `FuzzCfg.n` (size) are modelled: `env.state`
holds, in program order, the affine value each one holds (None: unknown here), and an
index may read a field whose value it knows (`A[FuzzCfg.k + 1]`), checked in bounds
with that value. The program means what it says where each expression is evaluated
(a window's origin when the window statement runs, an allocation's shape when it is
allocated, a loop's bounds once on entry, arguments at the call), so a later write does
not change what was evaluated; code that re-reads the field instead (issue 8, class 1)
reads the new value, and the fuzzer sees a difference or an interpreter error.
"""

from __future__ import annotations

from .forms import Buf, Env, Lin, fits, lin, mentions, subst

K, N = "FuzzCfg.k", "FuzzCfg.n"


class ConfigGen:
    """Mixin: needs self.rng, self.index, self.window, self.access, self.rhs."""

    cfg_frozen = 0  # > 0 while generating a loop body that must not write configs

    def cfg_init(self, env: Env) -> list[str]:
        """The first writes of the index fields (a program with index configs)."""
        env.state.update({K: None, N: None})
        self.cfg_writes = {K: 0, N: 0}
        out = []
        for f in (K, N):
            if self.rng.random() < 0.8:
                out += self.cfg_write(env, f, "    ")
        return out

    def has_cfg(self, env: Env) -> bool:
        return K in env.state

    def known(self, env: Env) -> list[str]:
        return [f for f in (K, N) if env.state.get(f) is not None]

    def cfg_term(self, env: Env) -> Lin | None:
        """A read of a field with a known value, plus a small constant."""
        fields = self.known(env)
        if not fields:
            return None
        return lin(self.rng.choice(fields), self.rng.choice([0, 0, 1, -1, 2]))

    # ------------------------------------------------------------ writes

    def cfg_write(self, env: Env, field: str, ind: str) -> list[str]:
        r = self.rng
        if field == K:
            state, env.state = env.state, {}  # `k = k + 1`: the checks lose k's value
            e = self.index(env, lin(None, 3))  # 0 <= k <= 2
            env.state = state
            if e is None:
                return []
            value = subst(env, e)
        else:
            cands = [lin(None, r.choice([1, 2, 3, 4]))] + \
                [lin(s) for s in env.sizes] + \
                [lin(s, -1) for s in env.sizes if env.sizes[s] >= 2]
            e = value = r.choice(cands)
        env.state[field] = value
        self.cfg_writes[field] += 1
        return [f"{ind}{field} = {e.code()}"]

    def s_cfg_write(self, env: Env, depth: int, ind: str):
        if not self.has_cfg(env) or self.cfg_frozen:
            return None
        if env.cfg and self.rng.random() < 0.3:  # a data field, read in data expressions
            elem = self.rng.choice(["f32", "i32"])
            return [f"{ind}FuzzCfg.{'x' if elem == 'f32' else 'y'} = {self.rhs(env, elem, 1)}"]
        return self.cfg_write(env, self.rng.choice([K, N]), ind) or None

    # ------------------------------------------------------------ scopes

    def cfg_enter_loop(self, env: Env):
        """Before a loop body: whether it may write configs. If it may, a read at the
        top of the body sees what the previous iteration wrote: unknown."""
        if not self.has_cfg(env):
            return None
        writes = self.rng.random() < 0.35
        before = (dict(env.state), dict(self.cfg_writes), writes)
        if writes:
            for f in (K, N):
                env.state[f] = None
        else:
            self.cfg_frozen += 1
        return before

    def cfg_leave_loop(self, env: Env, token, var: str) -> None:
        """After a loop: a field the body wrote is unknown (zero or more iterations),
        and so is a value that names the loop's variable."""
        if token is None:
            return
        state, writes, may_write = token
        if not may_write:
            self.cfg_frozen -= 1
        for f in (K, N):
            changed = self.cfg_writes[f] != writes[f]
            env.state[f] = None if changed or mentions(state[f], [var]) else state[f]

    def cfg_branches(self, env: Env, before: dict, writes: dict) -> None:
        """After an if: a field either branch wrote is unknown."""
        for f in (K, N):
            if f not in env.state:
                continue
            changed = self.cfg_writes[f] != writes[f]
            env.state[f] = None if changed else before[f]

    # ------------------------------------------------------------ reads

    def cfg_loop_bounds(self, env: Env):
        """(lo code, lo value, hi code, hi value) of a loop over config fields, or None."""
        r = self.rng
        if not self.known(env) or r.random() < 0.7:
            return None
        n, k = env.state.get(N), env.state.get(K)
        if n is not None and (k is None or r.random() < 0.6):
            c = r.choice([0, 0, 1])
            return lin(None, 0), lin(None, 0), lin(N, c), n + c
        size = r.choice(list(env.sizes))
        return lin(K), k, lin(size, 2), lin(size, 2)

    def cfg_dims(self, env: Env) -> tuple[Lin, Lin] | None:
        """(code, value) of an allocation dimension read from FuzzCfg.n."""
        n = env.state.get(N)
        if n is None:
            return None
        c = self.rng.choice([0, 1])
        return lin(N, c), n + c

    def cfg_cond(self, env: Env) -> str | None:
        r = self.rng
        fields = self.known(env) if self.has_cfg(env) else []
        if not fields:
            return None
        f = r.choice(fields)
        if env.vars and r.random() < 0.5:
            return f"{r.choice(env.vars).name} {r.choice(['<', '>=', '=='])} {f}"
        return f"{f} {r.choice(['<', '>', '=='])} {r.choice([0, 1, 2, 3])}"

    # ------------------------------------------------------------ calls

    def s_call_cfg(self, env: Env, depth: int, ind: str):
        """A call of helper_s (branches on its window's stride, a row or a column window),
        helper_e (an element argument) or helper_k (an index argument)."""
        r = self.rng
        cands = [b for b in env.bufs if b.dims and b.elem in ("f32", "i32")]
        if not cands:
            return None
        buf = r.choice(cands)
        width = buf.dims[0].k if buf.kind == "window" else r.choice([1, 2, 3, 4])
        kind = r.choice(["s", "s", "e", "k"]) if buf.elem == "f32" else "s"
        w = buf.name if buf.kind == "window" else \
            self.window(env, buf, width, r.randrange(len(buf.dims)))
        if w is None:
            return None
        if kind == "s":
            return [f"{ind}helper_s_{buf.elem}({width}, {w})"]
        if kind == "k":
            k = self.index(env, lin(None, width))
            return None if k is None else [f"{ind}helper_k({width}, {k.code()}, {w})"]
        others = [b for b in env.bufs if b.elem == "f32" and b.root != buf.root]
        a = self.access(env, r.choice(others)) if others else None
        return None if a is None else [f"{ind}helper_e({width}, {a}, {w})"]

    def observe(self, env: Env) -> list[str]:
        """Final statements copying config values into an argument, so that a rewrite
        that changes the config state at the end shows in the results."""
        out, r = [], self.rng
        bufs = [b for b in env.bufs if b.kind == "arg" and b.elem in ("f32", "i32")]
        if not bufs:
            return out
        if env.cfg and r.random() < 0.5:
            b = r.choice(bufs)
            zero = ", ".join("0" for _ in b.dims)
            out.append(f"    {b.name}[{zero}] = FuzzCfg.{'x' if b.elem == 'f32' else 'y'}")
        if self.known(env) and r.random() < 0.5:
            b = r.choice(bufs)
            e = self.index(env, b.dims[-1]) if b.dims else None
            if e is not None and any(f in e.c for f in (K, N)) or (
                    e is not None and r.random() < 0.3):
                pre = ["0"] * (len(b.dims) - 1)
                out.append(f"    {b.name}[{', '.join(pre + [e.code()])}] = "
                           f"{self.rhs(env, b.elem, 2)}")
        return out



class Scenarios:
    """Mixin: short statement sequences shaped like issue 8's examples, so that the
    rewrites that broke on them (reorder_stmts, inline_window, stage_mem, inline,
    extract_subproc, parallelize_loop) meet them often."""

    def s_cfg_window(self, env: Env, depth: int, ind: str):
        """`w = A[.., FuzzCfg.k:FuzzCfg.k + 2]; FuzzCfg.k = e; w[0] = ..`: a window
        whose origin reads a field written again before the window is used."""
        r = self.rng
        if not self.has_cfg(env) or self.cfg_frozen:
            return None
        cands = [b for b in env.bufs if b.kind != "window" and b.dims]
        if not cands:
            return None
        saved = (dict(env.state), dict(self.cfg_writes))
        first = self.cfg_write(env, K, ind) if env.state.get(K) is None or \
            r.random() < 0.3 else []
        buf, width = r.choice(cands), r.choice([1, 2, 2, 3])
        lo = lin(K)
        pre = [self.index(env, d) for d in buf.dims[:-1]]
        if not fits(env, lo, buf.dims[-1], width) or None in pre or env.state[K] is None:
            env.state.update(saved[0])  # nothing written after all
            self.cfg_writes.update(saved[1])
            return None
        w = f"{buf.name}[{', '.join([e.code() for e in pre] + [f'{lo.code()}:{(lo + width).code()}'])}]"
        name = self.fresh("w")
        win = Buf(name, buf.elem, [lin(None, width)], "window", buf.root)
        out = first + [f"{ind}{name} = {w}"] + self.cfg_write(env, K, ind)
        env.bufs.append(win)
        out.append(f"{ind}{name}[{r.randrange(width)}] = {self.rhs(env, buf.elem, 1)}")
        if r.random() < 0.5:  # the base written directly too (stage_mem of the window)
            acc = self.access(env, next(b for b in env.bufs if b.name == buf.root))
            if acc is not None:
                out.append(f"{ind}{acc} += {self.rhs(env, buf.elem, 2)}")
        return out

    def s_cfg_alloc(self, env: Env, depth: int, ind: str):
        """`FuzzCfg.n = c; t: f32[FuzzCfg.n]; ..; FuzzCfg.n = c2; t[..] = ..`: an
        allocation sized by a field written again while the buffer lives."""
        r = self.rng
        if not self.has_cfg(env) or self.cfg_frozen:
            return None
        if r.random() < 0.1:
            return self.cfg_overrun(env, ind)
        out = [f"{ind}{N} = {r.choice([2, 3])}"]
        env.state[N] = lin(None, int(out[0].split()[-1]))
        self.cfg_writes[N] += 1
        out += self.s_alloc(env, depth, ind, force_cfg=True)
        out += [f"{ind}{N} = {r.choice([1, 4, 8])}"]
        env.state[N] = lin(None, int(out[-1].split()[-1]))
        self.cfg_writes[N] += 1
        t = env.bufs[-1]
        acc = self.access(env, t) if t.dims else t.name
        if acc is not None:
            out.append(f"{ind}{acc} += {self.rhs(env, t.elem, 1)}")
            src = [b for b in env.bufs if b.kind == "arg" and b.elem == t.elem]
            dst = self.access(env, r.choice(src)) if src else None
            if dst is not None:
                out.append(f"{ind}{dst} = {acc}")
        return out

    def s_stride_pair(self, env: Env, depth: int, ind: str):
        """Two calls of helper_s on a row and a column of one buffer (overlapping or
        not): the callee's `stride(x, 0)` is 1 at one call and not at the other."""
        r = self.rng
        cands = [b for b in env.bufs if len(b.dims) == 2 and b.elem in ("f32", "i32")
                 and b.kind != "window"]
        if not cands:
            return None
        buf, width = r.choice(cands), r.choice([1, 2, 3])
        a, b = self.window(env, buf, width, 1), self.window(env, buf, width, 0)
        if a is None or b is None:
            return None
        calls = [f"{ind}helper_s_{buf.elem}({width}, {a})", f"{ind}helper_s_{buf.elem}({width}, {b})"]
        r.shuffle(calls)
        return calls

    def cfg_overrun(self, env: Env, ind: str) -> list[str]:
        """A program that is wrong on purpose (now and then): `FuzzCfg.n = 1;
        t: f32[FuzzCfg.n]; FuzzCfg.n = 3; for j in seq(0, FuzzCfg.n): t[j] = ..` writes
        past t. The checks must refuse it; if they accept it, the interpreter stops at
        the first out-of-range index (an `interp-error`)."""
        t, v = self.fresh("t"), self.loop_name()
        self.cfg_writes[N] += 2
        env.state[N] = lin(None, 3)
        return [f"{ind}{N} = 1", f"{ind}{t}: f32[{N}] @ DRAM", f"{ind}{N} = 3",
                f"{ind}for {v} in seq(0, {N}):", f"{ind}    {t}[{v}] = 1.0"]
