"""knit.platforms.neon: every instruction's meaning (interpreted, against NumPy), the
Neon memory's C, refusals of bad uses, the library's own rules, and EXECUTION on AArch64.

Execution needs no Arm machine: the generated C is cross-compiled with Debian's
`gcc-aarch64-linux-gnu` (statically linked) and run under `qemu-user`
(`qemu-aarch64`), with a C driver that fills the inputs with the exact values the test
chose, calls the kernels and prints every argument in hex (`%a`), so the comparison
with NumPy is bit for bit. On an AArch64 host the binary runs natively. Those tests
are skipped, naming the packages, when the tools are missing. Every build uses
-Wall -Wextra -Werror: the generated C must compile warning-free.
"""

from __future__ import annotations

import functools
import os
import platform
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import knit
from knit import DRAM, Procedure, proc
from knit.errors import AliasError, MemoryAccessError, PreconditionError
from knit.libs.memories import MemGenError
from knit.platforms import neon
from knit.platforms.neon import (
    Neon,
    Neon4f,
    neon_vfmadd_4xf32_1xf32,
    neon_vfmla_4xf32_4xf32,
    neon_vld_4xf32,
    neon_vmax_4xf32,
    neon_vst_4xf32,
    neon_zero_4xf32,
)
from knit.procedure import parse_proc_string
from knit.stdlib.scheduling import (
    divide_dim,
    divide_loop,
    rename,
    repeat,
    replace,
    replace_all,
    set_memory,
    simplify,
    stage_mem,
    unroll_loop,
)

# ================================================================ the cases


@dataclass(frozen=True)
class Family:
    T: str  # knit element type
    W: int  # lanes per register
    dtype: type

    @property
    def load(self):
        return f"neon_vld_{self.W}x{self.T}"

    @property
    def store(self):
        return f"neon_vst_{self.W}x{self.T}"


FAMILIES = {"f32": Family("f32", 4, np.float32), "f64": Family("f64", 2, np.float64),
            "f16": Family("f16", 8, np.float16)}


@dataclass(frozen=True)
class Shape:
    """How a kind of instruction is called: the kernel around it (placeholders `{T}`,
    `{W}`, `{load}`, `{store}`, `{op}`, `{lane}`), its inputs and the outputs it must
    produce given the instruction's NumPy meaning `ref`."""

    src: str
    inputs: tuple  # names of the register-sized inputs; "s" is a scalar or a [1] array
    expect: Callable  # (args, ref, lane) -> {output name: expected array}
    scalar_s: bool = False  # "s" is a scalar argument (not an f32[1] array)


_REGS = "{regs}"  # the registers a kernel uses (see `kernel`): unused ones would warn
_XYZ = "x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM, z: {T}[{W}] @ DRAM"
_LOAD3 = "    {load}(a, x[0:{W}])\n    {load}(b, y[0:{W}])\n    {load}(c, z[0:{W}])\n"

NULLARY = Shape("def k(y: {T}[{W}] @ DRAM):\n" + _REGS + "    {op}(b)\n    {store}(y[0:{W}], b)\n",
                ("y",), lambda a, ref, l: {"y": ref(a["y"])})
MOVE = Shape("def k(x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM):\n" + _REGS +
             "    {load}(a, x[0:{W}])\n    {store}(y[0:{W}], a)\n",
             ("x", "y"), lambda a, ref, l: {"y": ref(a["x"])})
UNARY = Shape("def k(x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM):\n" + _REGS +
              "    {load}(a, x[0:{W}])\n    {op}(b, a)\n    {store}(y[0:{W}], b)\n",
              ("x", "y"), lambda a, ref, l: {"y": ref(a["x"])})
ACCUMULATE = Shape("def k(x: {T}[{W}] @ DRAM, y: {T}[{W}] @ DRAM):\n" + _REGS +
                   "    {load}(a, x[0:{W}])\n    {load}(b, y[0:{W}])\n    {op}(b, a)\n"
                   "    {store}(y[0:{W}], b)\n",
                   ("x", "y"), lambda a, ref, l: {"y": ref(a["y"], a["x"])})
BINARY = Shape("def k(" + _XYZ + "):\n" + _REGS +
               "    {load}(a, x[0:{W}])\n    {load}(b, y[0:{W}])\n"
               "    {op}(d, a, b)\n    {store}(z[0:{W}], d)\n",
               ("x", "y", "z"), lambda a, ref, l: {"z": ref(a["x"], a["y"])})
FMA = Shape("def k(" + _XYZ + "):\n" + _REGS + _LOAD3 +
            "    {op}(c, a, b)\n    {store}(z[0:{W}], c)\n",
            ("x", "y", "z"), lambda a, ref, l: {"z": ref(a["z"], a["x"], a["y"])})
FMA_EX = Shape("def k(" + _XYZ + "):\n" + _REGS + _LOAD3 +
               "    {op}(d, c, a, b)\n    {store}(z[0:{W}], d)\n",
               ("x", "y", "z"), lambda a, ref, l: {"z": ref(a["z"], a["x"], a["y"])})
_XZS = "def k(x: {T}[{W}] @ DRAM, z: {T}[{W}] @ DRAM, s: {T}[1] @ DRAM):\n" + _REGS + \
    "    {load}(a, x[0:{W}])\n    {load}(c, z[0:{W}])\n"
FMA_N = Shape(_XZS + "    {op}(c, a, s[0:1])\n    {store}(z[0:{W}], c)\n",
              ("x", "z", "s"), lambda a, ref, l: {"z": ref(a["z"], a["x"], a["s"][0])})
FMA_N_FIRST = Shape(_XZS + "    {op}(c, s[0:1], a)\n    {store}(z[0:{W}], c)\n",
                    ("x", "z", "s"), lambda a, ref, l: {"z": ref(a["z"], a["s"][0], a["x"])})
LANE = Shape("def k(" + _XYZ + "):\n" + _REGS + _LOAD3 +
             "    {op}(c, a, b, {lane})\n    {store}(z[0:{W}], c)\n",
             ("x", "y", "z"), lambda a, ref, l: {"z": ref(a["z"], a["x"], a["y"][l])})
LANE_EX = Shape("def k(" + _XYZ + "):\n" + _REGS + _LOAD3 +
                "    {op}(d, c, a, b, {lane})\n    {store}(z[0:{W}], d)\n",
                ("x", "y", "z"), lambda a, ref, l: {"z": ref(a["z"], a["x"], a["y"][l])})
BROADCAST = Shape("def k(s: {T}[1] @ DRAM, y: {T}[{W}] @ DRAM):\n" + _REGS +
                  "    {op}(b, s[0:1])\n    {store}(y[0:{W}], b)\n",
                  ("s", "y"), lambda a, ref, l: {"y": ref(a["s"][0], a["y"])})
BROADCAST_SCALAR = Shape("def k(s: {T}, y: {T}[{W}] @ DRAM):\n" + _REGS +
                         "    {op}(b, s)\n    {store}(y[0:{W}], b)\n",
                         ("s", "y"), lambda a, ref, l: {"y": ref(a["s"], a["y"])}, True)
HSUM = Shape("def k(x: {T}[{W}] @ DRAM, s: {T}):\n" + _REGS +
             "    {load}(a, x[0:{W}])\n    {op}(s, a)\n",
             ("x", "s"), lambda a, ref, l: {"s": ref(a["s"], a["x"])}, True)
CONVERT = Shape("def k(x: f32[4] @ DRAM, y: f64[2] @ DRAM):\n"
                "    a: f32[4] @ Neon\n    b: f64[2] @ Neon\n"
                "    neon_vld_4xf32(a, x[0:4])\n    {op}(b, a)\n    neon_vst_2xf64(y[0:2], b)\n",
                ("x", "y"), lambda a, ref, l: {"y": ref(a["x"])})


# NumPy meanings, computed in the element type in the body's order: the interpreter
# must agree bit for bit; the C too, except where `inexact` (see Case).
def _fma(z, x, y):
    return z + x * y


def _max(x, y):  # lhs if lhs > rhs, else rhs (so rhs when either is NaN)
    return np.where(x > y, x, y)


def _hsum(r, x):
    for v in x:
        r = r + v
    return np.array(r, x.dtype)


def _zeros(y):
    return np.zeros_like(y)


def _full(s, y):
    return np.full_like(y, s)


@dataclass(frozen=True)
class Case:
    instr: str
    family: str
    shape: Shape
    ref: Callable
    inexact: bool = False  # the C rounds once (FMA) or adds pairwise: equal up to rounding
    lane: int | None = None

    @property
    def id(self) -> str:
        return self.instr if self.lane is None else f"{self.instr}-lane{self.lane}"


def _cases() -> list[Case]:
    out = []

    def add(instr, fam, shape, ref, inexact=False):
        if shape in (LANE, LANE_EX):
            out.extend(Case(instr, fam, shape, ref, inexact, lane)
                       for lane in range(FAMILIES[fam].W))
        else:
            out.append(Case(instr, fam, shape, ref, inexact))

    for t in ("f32", "f64", "f16"):
        v = f"{FAMILIES[t].W}x{t}"
        add(f"neon_vld_{v}", t, MOVE, np.copy)
        add(f"neon_vst_{v}", t, MOVE, np.copy)
        add(f"neon_broadcast_{v}", t, BROADCAST, _full)
        add(f"neon_zero_{v}", t, NULLARY, _zeros)
        add(f"neon_vadd_{v}", t, BINARY, np.add)
        add(f"neon_vmul_{v}", t, BINARY, np.multiply)
        add(f"neon_vfmadd_{v}_{v}", t, FMA, _fma, inexact=True)
        add(f"neon_vfmadd_{v}_1x{t}", t, FMA_N, _fma, inexact=True)
        add(f"neon_vfmadd_1x{t}_{v}", t, FMA_N_FIRST, _fma, inexact=True)
        add(f"neon_vfmla_{v}_{v}", t, LANE, _fma, inexact=True)
    for t in ("f32", "f64"):
        v = f"{FAMILIES[t].W}x{t}"
        add(f"neon_broadcast_{v}_scalar", t, BROADCAST_SCALAR, _full)
        add(f"neon_reg_copy_{v}", t, UNARY, np.copy)
        add(f"neon_reduce_vadd_{v}", t, ACCUMULATE, np.add)
        add(f"neon_vsub_{v}", t, BINARY, np.subtract)
        add(f"neon_vdiv_{v}", t, BINARY, np.divide)
        add(f"neon_vmax_{v}", t, BINARY, _max)
        add(f"neon_vneg_{v}", t, UNARY, np.negative)
        add(f"neon_assoc_reduce_add_instr_{v}", t, HSUM, _hsum, inexact=True)
    for t in ("f32", "f16"):
        v = f"{FAMILIES[t].W}x{t}"
        add(f"neon_vfmadd_ex_{v}_{v}", t, FMA_EX, _fma, inexact=True)
    add("neon_vfmla2_4xf32_4xf32", "f32", LANE_EX, _fma, inexact=True)
    add("neon_vmul2_4xf32", "f32", BINARY, np.multiply)  # Exo's second name for vmul
    add("neon_convert_f32_lower_to_f64", "f64", CONVERT, lambda x: x[:2].astype(np.float64))
    add("neon_convert_f32_upper_to_f64", "f64", CONVERT, lambda x: x[2:].astype(np.float64))
    return out


CASES = _cases()
SCOPE = {**{n: getattr(neon, n) for n in neon.__all__}, "DRAM": DRAM}


def instruction_names() -> set[str]:
    return {n for n in neon.__all__ if isinstance(getattr(neon, n), Procedure)}


@functools.cache
def kernel(case: Case) -> Procedure:
    """The kernel calling `case.instr`, parsed and checked."""
    f = FAMILIES[case.family]
    text = case.shape.src.format(T=f.T, W=f.W, load=f.load, store=f.store, op=case.instr,
                                 lane=case.lane, regs="{regs}")
    name = case.id.replace("-", "_")
    used = [r for r in "abcd" if re.search(rf"[(, ]{r}[,)]", text)]
    text = text.replace("{regs}", "".join(f"    {r}: {f.T}[{f.W}] @ Neon\n" for r in used))
    return parse_proc_string(text.replace("def k(", f"def k_{name}("), SCOPE, f"<{name}>")


def inputs(case: Case, seed: int = 0) -> dict:
    """Random inputs of `case`'s kernel (the inputs of CONVERT are f32)."""
    rng = np.random.default_rng(seed)
    dt = np.float32 if case.shape is CONVERT else FAMILIES[case.family].dtype
    W = 4 if case.shape is CONVERT else FAMILIES[case.family].W
    args = {}
    for name in case.shape.inputs:
        if name == "s":
            s = rng.standard_normal(1).astype(dt)
            args["s"] = (np.array(s[0]) if case.shape is HSUM else s[0]) \
                if case.shape.scalar_s else s
        else:
            args[name] = rng.standard_normal(W).astype(dt)
    if case.shape is CONVERT:
        args["y"] = np.zeros(2, np.float64)
    return args


def expected(case: Case, args: dict) -> dict:
    return case.shape.expect({k: np.copy(v) for k, v in args.items()}, case.ref, case.lane)


def compare(case: Case, got: dict, want: dict, *, exact: bool) -> None:
    for name, w in want.items():
        g = np.asarray(got[name])
        assert g.dtype == w.dtype, f"{case.id}: '{name}' is {g.dtype}, expected {w.dtype}"
        if exact:
            np.testing.assert_array_equal(g, w, err_msg=f"{case.id}: '{name}'")
        else:
            tol = {np.float16: 1e-2, np.float32: 1e-5, np.float64: 1e-12}[w.dtype.type]
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, err_msg=f"{case.id}: '{name}'")


# ================================================================ meaning (interpreter)


def test_every_instruction_has_a_case():
    assert instruction_names() == {c.instr for c in CASES}
    assert len(instruction_names()) >= 50


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_interpreted_meaning_matches_numpy(case):
    args = inputs(case)
    want = expected(case, args)
    kernel(case).interpret(**args)
    compare(case, args, want, exact=True)  # same operations in the same order


def test_max_picks_the_second_operand_on_nan_and_signed_zero():
    x, y = np.array([np.nan, 1.0, -0.0, 0.0], np.float32), \
        np.array([1.0, np.nan, 0.0, -0.0], np.float32)
    z = np.zeros(4, np.float32)
    kernel(_case("neon_vmax_4xf32")).interpret(x, y, z)
    np.testing.assert_array_equal(z.view(np.uint32), _max(x, y).view(np.uint32))


def _case(instr: str, lane=None) -> Case:
    return next(c for c in CASES if c.instr == instr and c.lane == lane)


# ================================================================ the memory


def test_alloc_maps_the_last_dimension_onto_q_registers():
    assert Neon.alloc("v", "float", ["4"], None) == "float32x4_t v;"
    assert Neon.alloc("v", "double", ["2"], None) == "float64x2_t v;"
    assert Neon.alloc("v", "_Float16", ["8"], None) == "float16x8_t v;"
    assert Neon.alloc("c", "float", ["4", "2", "4"], None) == "float32x4_t c[4][2];"
    # where an instruction could read it unwritten (knit.backend.c.registers)
    assert Neon.alloc_zeroed("v", "float", ["4"], None) == "float32x4_t v = {0};"
    assert Neon.alloc_zeroed("c", "float", ["4", "2", "4"], None) == "float32x4_t c[4][2] = {0};"
    assert Neon.free("v", "float", ["4"], None) == ""
    assert Neon4f is Neon  # Exo's older name


@pytest.mark.parametrize("ctype, shape, phrase", [
    ("float", ["8"], "holds exactly 4 f32 values"),
    ("double", ["4"], "holds exactly 2 f64 values"),
    ("_Float16", ["4"], "holds exactly 8 f16 values"),
    ("float", [], "is a scalar"),
    ("int32_t", ["4"], "holds i32 data, but Neon registers hold f32 or f64 or f16 values"),
    ("float", ["N", "4"], "the extent 'N'"),
])
def test_alloc_refuses_what_registers_cannot_hold(ctype, shape, phrase):
    with pytest.raises(MemGenError, match=phrase):
        Neon.alloc("v", ctype, shape, None)


def test_window_is_the_register_holding_the_first_lane():
    assert Neon.window(None, "v", ["0"], ["1"], None) == "v"
    assert Neon.window(None, "c", ["i", "jo", "0"], ["8", "4", "1"], None) == "c[i][jo]"
    with pytest.raises(MemGenError, match="must start at lane 0, but starts at lane 2"):
        Neon.window(None, "v", ["2"], ["1"], None)
    with pytest.raises(MemGenError, match="contiguous"):
        Neon.window(None, "v", ["0"], ["2"], None)


def test_registers_are_for_instructions_only():
    assert not Neon.can_read()
    assert Neon.global_() == "#include <arm_neon.h>"
    @proc  # accepted as a definition (as in Exo); refused where C is generated
    def reads_register(x: f32[4] @ DRAM):
        v: f32[4] @ Neon
        neon_zero_4xf32(v)
        for i in seq(0, 4):
            x[i] = v[i]
    with pytest.raises(MemoryAccessError, match="'v' lives in Neon, which only instructions"):
        reads_register.c_code_str()


@proc
def wide_register(x: f32[8] @ DRAM):
    v: f32[8] @ Neon  # noqa: F842
    pass  # noqa: PIE790


def test_register_of_the_wrong_width_is_refused_when_compiling():
    with pytest.raises(MemGenError) as info:
        wide_register.c_code_str()
    msg = str(info.value)
    assert "test_neon.py" in msg
    assert "the last dimension of 'v' is 8, but one Neon register holds exactly 4" in msg


def test_unit_stride_is_required():
    with pytest.raises(PreconditionError, match="stride"):
        @proc
        def load_column(A: f32[4, 4] @ DRAM):
            v: f32[4] @ Neon
            neon_vld_4xf32(v, A[0:4, 0])
            neon_vst_4xf32(A[0, 0:4], v)


def test_lane_must_name_a_lane():
    with pytest.raises(PreconditionError, match="lane < 4"):
        @proc
        def bad_lane(x: f32[4] @ DRAM):
            a: f32[4] @ Neon
            c: f32[4] @ Neon
            neon_vld_4xf32(a, x[0:4])
            neon_vfmla_4xf32_4xf32(c, a, a, 4)


def test_the_destination_may_not_alias_an_operand():
    with pytest.raises(AliasError, match="'a' is passed to both 'dst' and 'lhs'"):
        @proc
        def in_place(x: f32[4] @ DRAM):
            a: f32[4] @ Neon
            neon_vld_4xf32(a, x[0:4])
            neon_vmax_4xf32(a, a, a)


# ================================================================ execution on AArch64

FLAGS = ["-O2", "-march=armv8.2-a+fp16", "-static", "-Wall", "-Wextra", "-Werror"]
TOOLS_MISSING = ("needs an AArch64 C cross compiler and qemu-user: install Debian's "
                 "gcc-aarch64-linux-gnu and qemu-user (apt-get install gcc-aarch64-linux-gnu "
                 "qemu-user); missing: {}")


@functools.cache
def arm_tools() -> tuple[list[str], list[str]] | str:
    """(C compiler, runner prefix) for AArch64 binaries, or why there are none. The
    environment may name others: KNIT_AARCH64_CC, KNIT_QEMU_AARCH64."""
    if platform.machine() in ("aarch64", "arm64"):
        return (os.environ.get("CC") or "cc").split(), []
    cc = os.environ.get("KNIT_AARCH64_CC") or "aarch64-linux-gnu-gcc"
    qemu = os.environ.get("KNIT_QEMU_AARCH64") or shutil.which("qemu-aarch64") or \
        shutil.which("qemu-aarch64-static") or "qemu-aarch64"
    missing = [t for t in (cc.split()[0], qemu) if shutil.which(t) is None]
    if missing:
        return TOOLS_MISSING.format(", ".join(missing))
    return cc.split(), [qemu, "-L", "/usr/aarch64-linux-gnu"]


def needs_arm():
    tools = arm_tools()
    if isinstance(tools, str):
        pytest.skip(tools)
    return tools


_CTYPES = {np.float16: "_Float16", np.float32: "float", np.float64: "double"}


def _c_literal(v: float) -> str:
    if np.isnan(v):
        return "-__builtin_nan(\"\")" if np.signbit(v) else "__builtin_nan(\"\")"
    if np.isinf(v):
        return "-__builtin_inf()" if v < 0 else "__builtin_inf()"
    return float(v).hex()


def _c_run(k: int, p: Procedure, values: dict) -> list[str]:
    """C statements that declare the arguments of one call with exactly `values` (ints
    for sizes, arrays or NumPy scalars for data), call `p` and print every data argument
    as `k name v0 v1 ...` in hex."""
    decls, call, prints = [], [], []
    for a in p.args():
        v = values[a.name()]
        if isinstance(v, int):
            call.append(str(v))
            continue
        arr = np.atleast_1d(np.asarray(v))
        var = f"a_{a.name()}"
        items = ", ".join(_c_literal(x) for x in arr.ravel())
        decls.append(f"{_CTYPES[arr.dtype.type]} {var}[{arr.size}] = {{ {items} }};")
        prints += [f'printf("{k} {a.name()}");',
                   f'for (int q = 0; q < {arr.size}; q++) printf(" %a", (double) {var}[q]);',
                   'printf("\\n");']
        call.append(var)
    body = [*decls, f"{p.name()}(NULL, {', '.join(call)});", *prints]  # Exo ABI: ctxt first
    return ["{", *("    " + line for line in body), "}"]


def run_on_arm(runs: list[tuple[Procedure, dict]]) -> list[dict]:
    """Compile the procedures of `runs` for AArch64, run each call once in one program,
    and return each call's arguments afterwards (arrays of the input's dtype and shape)."""
    cc, runner = needs_arm()
    procs = list(dict.fromkeys(p for p, _ in runs))
    body = [line for k, (p, vals) in enumerate(runs) for line in _c_run(k, p, vals)]
    main = "\n".join(['#include <stdio.h>', '#include "kernels.h"', "int main(void) {",
                      *("    " + b for b in body), "    return 0;", "}", ""])
    with tempfile.TemporaryDirectory() as d:
        knit.compile_procs(procs, d, "kernels.c", "kernels.h")
        Path(d, "main.c").write_text(main)
        exe = str(Path(d, "run"))
        build = subprocess.run([*cc, *FLAGS, "-o", exe, str(Path(d, "main.c")),
                                str(Path(d, "kernels.c"))], capture_output=True, text=True,
                               check=False)
        assert build.returncode == 0, f"AArch64 build failed:\n{build.stderr}"
        out = subprocess.run([*runner, exe], capture_output=True, text=True, timeout=300,
                             check=False)
        assert out.returncode == 0, f"AArch64 run failed ({out.returncode}):\n{out.stderr}"
    results = [{} for _ in runs]
    for line in out.stdout.splitlines():
        k, name, *vals = line.split()
        like = np.asarray(runs[int(k)][1][name])
        got = np.array([float.fromhex(v) for v in vals]).astype(like.dtype).reshape(like.shape)
        results[int(k)][name] = got
    return results


@pytest.fixture(scope="module")
def arm_results():
    """Every case's kernel, compiled into one AArch64 program and run once."""
    runs = [(kernel(c), inputs(c, seed=1)) for c in CASES]
    return dict(zip(CASES, run_on_arm(runs)))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_instruction_runs_on_aarch64_as_numpy_says(case, arm_results):
    want = expected(case, inputs(case, seed=1))
    compare(case, arm_results[case], want, exact=not case.inexact)


def test_max_on_aarch64_keeps_the_bodys_nan_and_zero_rule():
    x = np.array([np.nan, 1.0, -0.0, 0.0], np.float32)
    y = np.array([1.0, np.nan, 0.0, -0.0], np.float32)
    x2, y2 = np.array([np.nan, -0.0]), np.array([2.0, 0.0])
    runs = [(kernel(_case("neon_vmax_4xf32")), {"x": x, "y": y, "z": np.zeros(4, "f4")}),
            (kernel(_case("neon_vmax_2xf64")), {"x": x2, "y": y2, "z": np.zeros(2)})]
    (r32, r64) = run_on_arm(runs)
    np.testing.assert_array_equal(r32["z"].view(np.uint32), _max(x, y).view(np.uint32))
    np.testing.assert_array_equal(r64["z"].view(np.uint64), _max(x2, y2).view(np.uint64))


# ================================================================ a scheduled kernel


@proc
def rank_k_4x8(K: size, A: f32[K, 4] @ DRAM, B: f32[K, 8] @ DRAM, C: f32[4, 8] @ DRAM):
    # C += A^T B with A packed by k (as BLAS packs it): the inner kernel of an SGEMM
    for k in seq(0, K):
        for i in seq(0, 4):
            for j in seq(0, 8):
                C[i, j] += B[k, j] * A[k, i]


def schedule_neon(p):
    """C in eight q registers for the whole k loop; per k, a row of B in two registers
    and one fused multiply-add by an element of A per register of C."""
    p = rename(p, "rank_k_4x8_neon")
    p = divide_loop(p, "for j in _: _", 4, ["jo", "ji"], perfect=True)
    p = stage_mem(p, "for k in _: _", "C[0:4, 0:8]", "C_reg")
    p = simplify(p)
    p = divide_dim(p, "C_reg : _", 1, 4)
    p = repeat(divide_loop)(p, "for i1 in _: _", 4, ["i2", "i3"], perfect=True)
    p = set_memory(simplify(p), "C_reg : _", Neon)
    p = replace_all(p, [neon_vld_4xf32, neon_vst_4xf32])
    p = stage_mem(p, "for i in _: _", "B[k, 0:8]", "B_reg")
    p = divide_loop(simplify(p), "for i0 in _: _ #1", 4, ["io", "ii"], perfect=True)
    p = divide_dim(p, "B_reg : _", 0, 4)
    p = set_memory(simplify(p), "B_reg : _", Neon)
    p = replace_all(p, neon_vld_4xf32)
    p = replace_all(p, neon_vfmadd_4xf32_1xf32)
    return simplify(p)


rank_k_4x8_neon = schedule_neon(rank_k_4x8)


def test_schedule_reaches_neon_instructions_only():
    text = str(rank_k_4x8_neon)
    assert "C_reg: f32[4, 2, 4] @ Neon" in text and "B_reg: f32[2, 4] @ Neon" in text
    assert "neon_vfmadd_4xf32_1xf32(C_reg[i, jo, 0:4], B_reg[jo, 0:4], A[k, i:1 + i])" in text
    assert "+=" not in text  # every multiply-add became an instruction
    code = rank_k_4x8_neon.c_code_str()
    # a window's first element in Exo's form: (k) * 4
    assert "C_reg[i][jo] = vfmaq_n_f32(C_reg[i][jo], B_reg[jo], A[(k) * 4 + i]);" in code


def test_schedule_is_equivalent_in_the_interpreter():
    knit.check_equiv(rank_k_4x8, rank_k_4x8_neon, trials=3, compiled=False, interpret=True)


def test_scheduled_kernel_runs_on_aarch64():
    rng = np.random.default_rng(5)
    runs, wants = [], []
    for K in (1, 3, 16, 67):
        A, B = rng.standard_normal((K, 4), "f4"), rng.standard_normal((K, 8), "f4")
        C = rng.standard_normal((4, 8), "f4")
        wants.append(C + A.T.astype(np.float64) @ B.astype(np.float64))
        for p in (rank_k_4x8, rank_k_4x8_neon):
            runs.append((p, {"K": K, "A": A, "B": B, "C": C}))
    results = run_on_arm(runs)
    for n, want in enumerate(wants):
        plain, scheduled = results[2 * n]["C"], results[2 * n + 1]["C"]
        np.testing.assert_allclose(scheduled, want, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(scheduled, plain, rtol=1e-5, atol=1e-5)


@proc
def lane_update(C: f32[4] @ DRAM, A: f32[4] @ DRAM, B: f32[4] @ DRAM):
    # Exo's test_gen_neon_vfmla after staging: C += A * B[lane] for each lane of B
    C_reg: f32[4] @ DRAM
    A_reg: f32[4] @ DRAM
    B_reg: f32[4] @ DRAM
    for i in seq(0, 4):
        C_reg[i] = C[i]
    for i in seq(0, 4):
        A_reg[i] = A[i]
    for i in seq(0, 4):
        B_reg[i] = B[i]
    for lane in seq(0, 4):
        for i in seq(0, 4):
            C_reg[i] += A_reg[i] * B_reg[lane]
    for i in seq(0, 4):
        C[i] = C_reg[i]


def test_replace_finds_the_lane_form():
    p = lane_update
    for buf in ("C_reg", "A_reg", "B_reg"):
        p = set_memory(p, buf, Neon)
    p = replace_all(p, [neon_vld_4xf32, neon_vst_4xf32])
    p = replace(p, "for i in _: _", neon_vfmla_4xf32_4xf32)
    assert "neon_vfmla_4xf32_4xf32(C_reg[0:4], A_reg[0:4], B_reg[0:4], lane + 0)" in str(p)
    p = unroll_loop(p, "for lane in _: _")  # the C intrinsic needs a constant lane
    rng = np.random.default_rng(7)
    C, A, B = (rng.standard_normal(4).astype("f4") for _ in range(3))
    (got,) = run_on_arm([(p, {"C": C, "A": A, "B": B})])
    want = C.copy()
    for lane in range(4):
        want = want + A * B[lane]
    np.testing.assert_allclose(got["C"], want, rtol=1e-5, atol=1e-5)
