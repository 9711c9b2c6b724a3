"""Every x86 instruction as a test case: a small kernel that moves data from DRAM into
registers, applies the instruction and stores the result, plus the NumPy meaning.

A kernel is object code with placeholders (`{T}` element type, `{W}` lanes, `{M}`
memory, `{load}`/`{store}` the family's full-width moves, `{op}` the instruction),
so one template serves the AVX2 and AVX-512, f32 and f64 forms of an instruction.
Shared by test_x86.py (interpreter) and test_x86_compiled.py (C).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from knit import DRAM
from knit.platforms import x86
from knit.procedure import parse_proc_string


@dataclass(frozen=True)
class Family:
    T: str  # knit element type
    W: int  # lanes per register
    M: str  # memory
    load: str
    store: str

    @property
    def dtype(self):
        return np.dtype({"f32": "float32", "f64": "float64", "ui16": "uint16"}[self.T])


FAMILIES = {
    "avx2_f32": Family("f32", 8, "AVX2", "mm256_loadu_ps", "mm256_storeu_ps"),
    "avx2_f64": Family("f64", 4, "AVX2", "mm256_loadu_pd", "mm256_storeu_pd"),
    "avx512_f32": Family("f32", 16, "AVX512", "mm512_loadu_ps", "mm512_storeu_ps"),
    "avx512_f64": Family("f64", 8, "AVX512", "mm512_loadu_pd", "mm512_storeu_pd"),
    "avx2_ui16": Family("ui16", 16, "AVX2", "mm256_loadu_si256", "mm256_storeu_si256"),
    # AVX-512VL: the masked forms on 256-bit registers
    "avx512vl_f32": Family("f32", 8, "AVX2", "mm256_loadu_ps", "mm256_storeu_ps"),
    "avx512vl_f64": Family("f64", 4, "AVX2", "mm256_loadu_pd", "mm256_storeu_pd"),
    # 128-bit registers (the GEMM's last few columns): SSE/FMA, and AVX2's masked forms
    "xmm_f32": Family("f32", 4, "XMM", "mm_loadu_ps", "mm_storeu_ps"),
    "xmm_f64": Family("f64", 2, "XMM", "mm_loadu_pd", "mm_storeu_pd"),
    # AVX-512VL: the masked forms on 128-bit registers
    "avx512vl_xmm_f32": Family("f32", 4, "XMM", "mm_loadu_ps", "mm_storeu_ps"),
    "avx512vl_xmm_f64": Family("f64", 2, "XMM", "mm_loadu_pd", "mm_storeu_pd"),
}


@dataclass(frozen=True)
class Shape:
    """How a kind of instruction is called: the kernel around it, its inputs, and the
    expected outputs given the instruction's NumPy meaning `ref`."""

    src: str
    inputs: Callable  # (fam, n, rng) -> dict of kernel arguments
    expect: Callable  # (args, ref, n) -> dict of output name -> expected array
    ns: Callable = lambda W: [None]  # the values of the kernel's size argument n


def _random(f, size, rng):
    """Floats around 1, or integers over the whole range (sums that wrap)."""
    if f.dtype.kind == "u":
        return rng.integers(0, np.iinfo(f.dtype).max, size, endpoint=True).astype(f.dtype)
    return rng.standard_normal(size).astype(f.dtype)


def _vecs(*names):
    return lambda f, n, rng: {k: _random(f, f.W, rng) for k in names}


def _head(W):  # prefix lengths that exercise the edges of a masked instruction
    return [1, W // 2 + 1, W]


def _head_le(W):  # for instructions that require n <= W (n == W: every lane)
    return [1, W // 2 + 1, W - 1, W]


def _with_n(names, x_len_n=False):
    def make(f, n, rng):
        args = {"n": n}
        for k in names:
            size = n if (x_len_n and k == names[0]) else f.W
            args[k] = rng.standard_normal(size).astype(f.dtype)
        return args
    return make


def _merge(new, old, n):
    out = old.copy()
    out[:n] = new[:n]
    return out


_REGS = "    a: {T}[{W}] @ {M}\n    b: {T}[{W}] @ {M}\n    c: {T}[{W}] @ {M}\n"

NULLARY = Shape(
    "def k(y: {T}[{W}] @ DRAM):\n" + _REGS +
    "    {op}(b)\n    {store}(y[0:{W}], b)\n",
    _vecs("y"), lambda a, ref, n: {"y": ref(a["y"])})

ADD_TO_MEMORY = Shape(  # op(dst in memory, src register): dst += src
    "def k(x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM):\n" + _REGS +
    "    {load}(a, x[0:{W}])\n    {op}(y[0:{W}], a)\n",
    _vecs("x", "y"), lambda a, ref, n: {"y": ref(a["y"], a["x"])})

MOVE = Shape(  # a full load and store: the instruction is the family's load or store
    "def k(x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM):\n" + _REGS +
    "    {load}(a, x[0:{W}])\n    {store}(y[0:{W}], a)\n",
    _vecs("x", "y"), lambda a, ref, n: {"y": ref(a["x"])})

LOAD = Shape(  # a full load by the instruction, stored by the family's store
    "def k(x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM):\n" + _REGS +
    "    {op}(a, x[0:{W}])\n    {store}(y[0:{W}], a)\n",
    _vecs("x", "y"), lambda a, ref, n: {"y": ref(a["x"])})

UNARY = Shape(
    "def k(x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM):\n" + _REGS +
    "    {load}(a, x[0:{W}])\n    {op}(b, a)\n    {store}(y[0:{W}], b)\n",
    _vecs("x", "y"), lambda a, ref, n: {"y": ref(a["x"])})

ACCUMULATE = Shape(  # op(dst, src): dst += src
    "def k(x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM):\n" + _REGS +
    "    {load}(a, x[0:{W}])\n    {load}(b, y[0:{W}])\n    {op}(b, a)\n"
    "    {store}(y[0:{W}], b)\n",
    _vecs("x", "y"), lambda a, ref, n: {"y": ref(a["y"], a["x"])})

BINARY = Shape(
    "def k(x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM, z: {T}[{W}] @ DRAM):\n" + _REGS +
    "    {load}(a, x[0:{W}])\n    {load}(b, y[0:{W}])\n    {op}(c, a, b)\n"
    "    {store}(z[0:{W}], c)\n",
    _vecs("x", "y", "z"), lambda a, ref, n: {"z": ref(a["x"], a["y"])})

_FMA_SRC = ("def k(x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM, z: {T}[{W}] @ DRAM):\n" + _REGS +
            "    {load}(a, x[0:{W}])\n    {load}(b, y[0:{W}])\n    {load}(c, z[0:{W}])\n"
            "    CALL\n    {store}(z[0:{W}], c)\n")
FMA_DST_FIRST = Shape(_FMA_SRC.replace("CALL", "{op}(c, a, b)"), _vecs("x", "y", "z"),
                      lambda a, ref, n: {"z": ref(a["z"], a["x"], a["y"])})
FMA_DST_LAST = Shape(_FMA_SRC.replace("CALL", "{op}(a, b, c)"), _vecs("x", "y", "z"),
                     lambda a, ref, n: {"z": ref(a["z"], a["x"], a["y"])})

FMA_BROADCAST = Shape(
    "def k(x: {T}[{W}] @ DRAM, s: {T}[1] @ DRAM, z: {T}[{W}] @ DRAM):\n" + _REGS +
    "    {load}(a, x[0:{W}])\n    {load}(c, z[0:{W}])\n    {op}(c, a, s[0:1])\n"
    "    {store}(z[0:{W}], c)\n",
    lambda f, n, rng: {**_vecs("x", "z")(f, n, rng),
                       "s": rng.standard_normal(1).astype(f.dtype)},
    lambda a, ref, n: {"z": ref(a["z"], a["x"], a["s"][0])})

BROADCAST_MEM = Shape(
    "def k(s: {T}[1] @ DRAM, y: {T}[{W}] @ DRAM):\n" + _REGS +
    "    {op}(b, s[0:1])\n    {store}(y[0:{W}], b)\n",
    lambda f, n, rng: {"s": rng.standard_normal(1).astype(f.dtype),
                       "y": np.zeros(f.W, f.dtype)},
    lambda a, ref, n: {"y": ref(a["s"][0], a["y"])})

BROADCAST_SCALAR = Shape(
    "def k(s: {T}, y: {T}[{W}] @ DRAM):\n" + _REGS +
    "    {op}(b, s)\n    {store}(y[0:{W}], b)\n",
    lambda f, n, rng: {"s": f.dtype.type(rng.standard_normal()), "y": np.zeros(f.W, f.dtype)},
    lambda a, ref, n: {"y": ref(a["s"], a["y"])})

SELECT = Shape(
    "def k(x: {T}[{W}] @ DRAM, v: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM, z: {T}[{W}] @ DRAM,"
    " o: {T}[{W}] @ DRAM):\n" + _REGS +
    "    d: {T}[{W}] @ {M}\n    e: {T}[{W}] @ {M}\n"
    "    {load}(a, x[0:{W}])\n    {load}(b, v[0:{W}])\n    {load}(c, y[0:{W}])\n"
    "    {load}(d, z[0:{W}])\n    {op}(e, a, b, c, d)\n    {store}(o[0:{W}], e)\n",
    _vecs("x", "v", "y", "z", "o"), lambda a, ref, n: {"o": ref(a["x"], a["v"], a["y"], a["z"])})

HSUM = Shape(
    "def k(x: {T}[{W}] @ DRAM, r: {T}):\n" + _REGS +
    "    {load}(a, x[0:{W}])\n    {op}(a, r)\n",
    lambda f, n, rng: {"x": rng.standard_normal(f.W).astype(f.dtype),
                       "r": np.array(rng.standard_normal(), f.dtype)},
    lambda a, ref, n: {"r": ref(a["r"], a["x"])})

PREFIX_LOAD = Shape(  # Exo's form: src holds a whole register, bound comes last
    "def k(n: size, x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM, z: {T}[{W}] @ DRAM):\n"
    "    assert n <= {W}\n" + _REGS +
    "    {load}(a, y[0:{W}])\n    {op}(a, x[0:{W}], n)\n    {store}(z[0:{W}], a)\n",
    _with_n(["x", "y", "z"]), lambda a, ref, n: {"z": _merge(a["x"], a["y"], n)}, _head)

PREFIX_STORE = Shape(
    "def k(n: size, x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM):\n"
    "    assert n <= {W}\n" + _REGS +
    "    {load}(a, x[0:{W}])\n    {op}(y[0:{W}], a, n)\n",
    _with_n(["x", "y"]), lambda a, ref, n: {"y": _merge(a["x"], a["y"], n)}, _head)

PREFIX_BINARY = Shape(  # op(out, x, y, bound): lanes >= bound keep out's value
    "def k(n: size, x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM, z: {T}[{W}] @ DRAM):\n"
    "    assert n <= {W}\n" + _REGS +
    "    {load}(a, x[0:{W}])\n    {load}(b, y[0:{W}])\n    {load}(c, z[0:{W}])\n"
    "    {op}(c, a, b, n)\n    {store}(z[0:{W}], c)\n",
    _with_n(["x", "y", "z"]),
    lambda a, ref, n: {"z": _merge(ref(a["x"], a["y"]), a["z"], n)}, _head)

PREFIX_BROADCAST = Shape(
    "def k(n: size, s: {T}[1] @ DRAM, z: {T}[{W}] @ DRAM):\n"
    "    assert n <= {W}\n" + _REGS +
    "    {load}(c, z[0:{W}])\n    {op}(c, s[0:1], n)\n    {store}(z[0:{W}], c)\n",
    lambda f, n, rng: {"n": n, "s": rng.standard_normal(1).astype(f.dtype),
                       "z": rng.standard_normal(f.W).astype(f.dtype)},
    lambda a, ref, n: {"z": _merge(np.full_like(a["z"], a["s"][0]), a["z"], n)}, _head)

MASK_LOAD = Shape(  # src holds only n values: the edge of an array
    "def k(n: size, x: {T}[n] @ DRAM, y: {T}[{W}] @ DRAM, z: {T}[{W}] @ DRAM):\n"
    "    assert n <= {W}\n" + _REGS +
    "    {load}(a, y[0:{W}])\n    {op}(n, a, x[0:n])\n    {store}(z[0:{W}], a)\n",
    _with_n(["x", "y", "z"], x_len_n=True),
    lambda a, ref, n: {"z": np.concatenate([a["x"], a["y"][n:]])}, _head)


def _mask_store_inputs(f, n, rng):
    return {"n": n, "x": rng.standard_normal(f.W).astype(f.dtype),
            "y": rng.standard_normal(n).astype(f.dtype)}


MASK_STORE = Shape(
    "def k(n: size, x: {T}[{W}] @ DRAM, y: {T}[n] @ DRAM):\n"
    "    assert n <= {W}\n" + _REGS +
    "    {load}(a, x[0:{W}])\n    {op}(n, y[0:n], a)\n",
    _mask_store_inputs, lambda a, ref, n: {"y": a["x"][:n].copy()}, _head)

MASK_BINARY = Shape(  # op(n, out, x, y)
    "def k(n: size, x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM, z: {T}[{W}] @ DRAM):\n"
    "    assert n <= {W}\n" + _REGS +
    "    {load}(a, x[0:{W}])\n    {load}(b, y[0:{W}])\n    {load}(c, z[0:{W}])\n"
    "    {op}(n, c, a, b)\n    {store}(z[0:{W}], c)\n",
    _with_n(["x", "y", "z"]),
    lambda a, ref, n: {"z": _merge(ref(a["x"], a["y"]), a["z"], n)}, _head)

MASK_FMA = Shape(  # op(n, A, B, C): C += A * B on lanes < n
    "def k(n: size, x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM, z: {T}[{W}] @ DRAM):\n"
    "    assert n <= {W}\n" + _REGS +
    "    {load}(a, x[0:{W}])\n    {load}(b, y[0:{W}])\n    {load}(c, z[0:{W}])\n"
    "    {op}(n, a, b, c)\n    {store}(z[0:{W}], c)\n",
    _with_n(["x", "y", "z"]),
    lambda a, ref, n: {"z": _merge(ref(a["z"], a["x"], a["y"]), a["z"], n)}, _head_le)

MASK_SET1 = Shape(
    "def k(n: size, s: {T}[1] @ DRAM, z: {T}[{W}] @ DRAM):\n"
    "    assert n <= {W}\n" + _REGS +
    "    {load}(c, z[0:{W}])\n    {op}(n, c, s[0:1])\n    {store}(z[0:{W}], c)\n",
    lambda f, n, rng: {"n": n, "s": rng.standard_normal(1).astype(f.dtype),
                       "z": rng.standard_normal(f.W).astype(f.dtype)},
    lambda a, ref, n: {"z": _merge(np.full_like(a["z"], a["s"][0]), a["z"], n)}, _head_le)

WIDEN = Shape(  # op(dst, src): an f32 register's half widened; the family is dst's (f64)
    "def k(x: f32[8] @ DRAM, y: {T}[{W}] @ DRAM):\n    a: f32[8] @ AVX2\n"
    "    b: {T}[{W}] @ AVX2\n    mm256_loadu_ps(a, x[0:8])\n    {op}(b, a)\n"
    "    {store}(y[0:{W}], b)\n",
    lambda f, n, rng: {"x": rng.standard_normal(8).astype(np.float32),
                       "y": _random(f, f.W, rng)},
    lambda a, ref, n: {"y": ref(a["x"])})

PREFETCH = Shape(
    "def k(x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM):\n" + _REGS +
    "    {op}(x[0:1], 3)\n    {load}(a, x[0:{W}])\n    {store}(y[0:{W}], a)\n",
    _vecs("x", "y"), lambda a, ref, n: {"y": a["x"].copy()})

TRANSPOSE = Shape(  # op(dst, src): dst = src transposed; windows inside larger arrays
    "def k(x: {T}[10, 12] @ DRAM, y: {T}[9, 11] @ DRAM):\n"
    "    {op}(y[1:1 + {W}, 2:10], x[1:9, 3:3 + {W}])\n",
    lambda f, n, rng: {"x": _random(f, (10, 12), rng), "y": _random(f, (9, 11), rng)},
    lambda a, ref, n: {"y": ref(a["x"], a["y"])})

PREFETCH_BLOCK = Shape(  # changes nothing: the kernel's copy alone
    "def k(x: {T}[2, {W}] @ DRAM, y: {T}[{W}] @ DRAM):\n" + _REGS +
    "    {op}(2, {W}, x[0:2, 0:{W}], 3)\n    {load}(a, x[1, 0:{W}])\n"
    "    {store}(y[0:{W}], a)\n",
    lambda f, n, rng: {"x": _random(f, (2, f.W), rng), "y": _random(f, f.W, rng)},
    lambda a, ref, n: {"y": a["x"][1].copy()})


def _transpose_into(x, y):  # 8 rows of x, a register's width, into y's columns
    w = 8 if x.dtype == np.float32 else 4
    out = y.copy()
    out[1:1 + w, 2:10] = x[1:9, 3:3 + w].T
    return out


def _fma(z, x, y):
    return z + x * y


_same = np.copy
_add, _sub, _mul, _div = np.add, np.subtract, np.multiply, np.divide


def _max(x, y):  # maxps: x if x > y else y (so y when either is NaN)
    return np.where(x > y, x, y)


def _zeros(y):
    return np.zeros_like(y)


def _full(s, y):
    return np.full_like(y, s)


def _select(x, v, y, z):
    return np.where(x < v, y, z)


def _relu(x):
    return np.where(x > 0, x, np.zeros_like(x))


def _hsum(r, x):
    return np.array(r + x.sum(dtype=np.float64), r.dtype)


@dataclass(frozen=True)
class Case:
    instr: str
    family: str
    shape: Shape
    ref: Callable | None
    exact: bool = True  # False: equal up to rounding (FMA rounds once, sums reassociate)

    @property
    def id(self) -> str:
        return self.instr


def _cases():
    out = []

    def add(instr, fam, shape, ref=None, exact=True):
        out.append(Case(instr, fam, shape, ref, exact))

    add("prefetch", "avx2_f32", PREFETCH)
    add("prefetch_block", "avx2_f32", PREFETCH_BLOCK)
    add("mm256_transpose8x8_ps", "avx2_f32", TRANSPOSE, _transpose_into)
    add("mm256_transpose8x4_pd", "avx2_f64", TRANSPOSE, _transpose_into)
    for fam, w, p in (("avx2_f32", "mm256", "ps"), ("avx2_f64", "mm256", "pd"),
                      ("avx512_f32", "mm512", "ps"), ("avx512_f64", "mm512", "pd")):
        add(f"{w}_setzero_{p}", fam, NULLARY, _zeros)
        add(f"{w}_loadu_{p}", fam, MOVE, _same)
        add(f"{w}_storeu_{p}", fam, MOVE, _same)
        for op, ref in (("add", _add), ("sub", _sub), ("mul", _mul)):
            add(f"{w}_{op}_{p}", fam, BINARY, ref)
    for p, fam in (("ps", "avx2_f32"), ("pd", "avx2_f64")):
        s = "ss" if p == "ps" else "sd"
        add(f"mm256_div_{p}", fam, BINARY, _div)
        add(f"mm256_max_{p}", fam, BINARY, _max)
        add(f"mm256_fmadd_{p}", fam, FMA_DST_FIRST, _fma, exact=False)
        add(f"mm256_fmadd_{p}_broadcast", fam, FMA_BROADCAST, _fma, exact=False)
        add(f"mm256_broadcast_{s}", fam, BROADCAST_MEM, _full)
        add(f"mm256_broadcast_{s}_scalar", fam, BROADCAST_SCALAR, _full)
        add(f"mm256_set1_{p}", fam, BROADCAST_SCALAR, _full)
        add(f"avx2_select_{p}", fam, SELECT, _select)
        add(f"avx2_sign_{p}", fam, UNARY, np.negative)
        add(f"avx2_reg_copy_{p}", fam, UNARY, _same)
        add(f"avx2_reduce_add_wide_{p}", fam, ACCUMULATE, _add)
        add(f"avx2_assoc_reduce_add_{p}", fam, HSUM, _hsum, exact=False)
        add(f"avx2_mask_loadu_{p}", fam, MASK_LOAD)
        add(f"avx2_mask_storeu_{p}", fam, MASK_STORE)
        add(f"avx2_mask_fmadd_{p}", fam, MASK_FMA, _fma, exact=False)
        add(f"avx2_mask_set1_{p}", fam, MASK_SET1)
    add("avx2_set0_ps", "avx2_f32", NULLARY, _zeros)
    add("avx2_convert_f32_lower_to_f64", "avx2_f64", WIDEN, lambda x: x[:4].astype(np.float64))
    add("avx2_convert_f32_upper_to_f64", "avx2_f64", WIDEN, lambda x: x[4:].astype(np.float64))
    add("avx2_fmadd_memu_ps", "avx2_f32", ADD_TO_MEMORY, _add)
    add("mm256_prefix_load_ps", "avx2_f32", PREFIX_LOAD)
    add("mm256_prefix_store_ps", "avx2_f32", PREFIX_STORE)
    for op, ref in (("add", _add), ("sub", _sub), ("mul", _mul), ("div", _div)):
        add(f"mm256_prefix_{op}_ps", "avx2_f32", PREFIX_BINARY, ref)
    add("mm256_prefix_broadcast_ss", "avx2_f32", PREFIX_BROADCAST)
    add("mm256_loadu_si256", "avx2_ui16", MOVE, _same)
    add("mm256_storeu_si256", "avx2_ui16", MOVE, _same)
    add("mm256_add_epi16", "avx2_ui16", BINARY, _add)  # wraps, as NumPy's uint16 add
    add("avx2_ui16_divide_by_3", "avx2_ui16", UNARY, lambda x: x // 3)
    for p, fam in (("ps", "avx512_f32"), ("pd", "avx512_f64")):
        add(f"mm512_fmadd_{p}", fam, FMA_DST_LAST, _fma, exact=False)
        add(f"mm512_loadu_{p}_kept", fam, LOAD, _same)
        add(f"mm512_set1_{p}", fam, BROADCAST_MEM, _full)
        add(f"mm512_broadcast_{'ss' if p == 'ps' else 'sd'}_scalar", fam, BROADCAST_SCALAR,
            _full)
        add(f"mm512_maskz_loadu_{p}", fam, MASK_LOAD)
        add(f"mm512_mask_storeu_{p}", fam, MASK_STORE)
        add(f"mm512_mask_fmadd_{p}", fam, MASK_FMA, _fma, exact=False)
        add(f"mm512_mask_set1_{p}", fam, MASK_SET1)
        add(f"mm512_reduce_add_{p}", fam, HSUM, _hsum, exact=False)
    for p, fam in (("ps", "avx512vl_f32"), ("pd", "avx512vl_f64")):
        add(f"mm256_maskz_loadu_{p}", fam, MASK_LOAD)
        add(f"mm256_mask_storeu_{p}", fam, MASK_STORE)
        add(f"mm256_mask_fmadd_{p}", fam, MASK_FMA, _fma, exact=False)
        add(f"mm256_mask_set1_{p}", fam, MASK_SET1)
    for p, fam in (("ps", "xmm_f32"), ("pd", "xmm_f64")):
        add(f"mm_loadu_{p}", fam, MOVE, _same)
        add(f"mm_storeu_{p}", fam, MOVE, _same)
        add(f"mm_set1_{p}", fam, BROADCAST_MEM, _full)
        add(f"mm_fmadd_{p}", fam, FMA_DST_LAST, _fma, exact=False)
        # AVX2's masked forms on 128-bit registers (masked loads and stores, blends)
        add(f"avx2_mm_mask_loadu_{p}", fam, MASK_LOAD)
        add(f"avx2_mm_mask_storeu_{p}", fam, MASK_STORE)
        add(f"avx2_mm_mask_fmadd_{p}", fam, MASK_FMA, _fma, exact=False)
        add(f"avx2_mm_mask_set1_{p}", fam, MASK_SET1)
    for p, fam in (("ps", "avx512vl_xmm_f32"), ("pd", "avx512vl_xmm_f64")):
        add(f"mm_maskz_loadu_{p}", fam, MASK_LOAD)
        add(f"mm_mask_storeu_{p}", fam, MASK_STORE)
        add(f"mm_mask_fmadd_{p}", fam, MASK_FMA, _fma, exact=False)
        add(f"mm_mask_set1_{p}", fam, MASK_SET1)
    add("mm512_max_ps", "avx512_f32", BINARY, _max)
    add("mm512_relu_ps", "avx512_f32", UNARY, _relu)
    add("mm512_mask_add_ps", "avx512_f32", MASK_BINARY, _add)
    return out


CASES = _cases()


def instruction_names() -> set[str]:
    """Every instruction the library exports."""
    from knit import Procedure

    return {n for n in x86.__all__ if isinstance(getattr(x86, n), Procedure)}


@functools.cache
def kernel(case: Case):
    """The kernel calling `case.instr`, parsed and checked."""
    f = FAMILIES[case.family]
    text = case.shape.src.format(T=f.T, W=f.W, M=f.M, load=f.load, store=f.store,
                                 op=case.instr)
    text = text.replace("def k(", f"def k_{case.instr}(")
    scope = {n: getattr(x86, n) for n in x86.__all__}
    scope["DRAM"] = DRAM
    return parse_proc_string(text, scope, f"<kernel for {case.instr}>")


def run_case(case: Case, run: Callable, n, seed: int = 0) -> None:
    """Run the kernel of `case` with `run(kernel, **args)` on random inputs and compare
    the outputs with NumPy."""
    f = FAMILIES[case.family]
    rng = np.random.default_rng(seed)
    args = case.shape.inputs(f, n, rng)
    expected = case.shape.expect({k: np.copy(v) for k, v in args.items()}, case.ref, n)
    run(kernel(case), **args)
    for name, want in expected.items():
        got = args[name]
        assert got.dtype == f.dtype
        if case.exact:
            np.testing.assert_array_equal(got, want, err_msg=f"{case.instr}: '{name}'")
        else:
            tol = 1e-5 if f.T == "f32" else 1e-12
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol,
                                       err_msg=f"{case.instr}: '{name}'")
