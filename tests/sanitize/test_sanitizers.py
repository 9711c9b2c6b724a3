"""Generated C under AddressSanitizer and UndefinedBehaviorSanitizer.

For each kernel (every procedure the examples define, and the list in kernels.py), the
C that `knit.compile_procs` writes is compiled with a driver that allocates each buffer
with exactly its size, fills it with pseudo-random data and calls the kernel (several
sizes per kernel), with

    cc -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
       -fno-sanitize-recover=all [-march=native] [-fopenmp]

and run. Any sanitizer report (an access outside a buffer, a use after free, a leak,
undefined behaviour such as signed overflow or a misaligned access) fails the test.
The last tests feed the harness programs that are wrong on purpose, so it is known to
fail when it should.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import knit
from knit import DRAM, instr, proc
from knit.runtime.args import bind_args
from knit.runtime.cpuinfo import flags as cpu_flags
from knit.runtime.timing import c_arguments

HERE = Path(__file__).parent
EXAMPLES = HERE.parents[1] / "examples"
CC = os.environ.get("CC", "cc")
SANITIZE = ["-O1", "-g", "-fsanitize=address,undefined", "-fno-omit-frame-pointer",
            "-fno-sanitize-recover=all"]
ENV = {"ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:"
                       "strict_string_checks=1",
       "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}
OK = "knit-sanitize-ok"

_DRIVER = """\
#include <stdio.h>
#include <stdlib.h>
#include "kernel.h"

int main(void) {
%s
    puts("%s");
    return 0;
}
"""


def load_by_path(path: Path, name: str):
    """Import a file as a module (examples/ and this folder are not packages)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it runs
    spec.loader.exec_module(module)
    return module


kernels_module = load_by_path(HERE / "kernels.py", "knit_sanitize_kernels")


# ---------------------------------------------------------------- the harness


@dataclass
class Run:
    ok: bool
    returncode: int
    stdout: str
    stderr: str

    def report(self) -> str:
        return f"exit status {self.returncode}\n--- stderr:\n{self.stderr[-6000:]}"


def sanitized_run(workdir: Path, sources: dict[str, str], *, extra_flags=()) -> Run:
    """Write `sources` (file name -> text) to workdir, compile every .c file with the
    sanitizers, run the program, and say whether it ran clean to the end."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name, text in sources.items():
        (workdir / name).write_text(text)
    exe = workdir / "driver"
    c_files = [str(workdir / n) for n in sources if n.endswith(".c")]
    cmd = [CC, *SANITIZE, *extra_flags, "-o", str(exe), *c_files, "-lm"]
    build = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert build.returncode == 0, f"{' '.join(cmd)}\n{build.stderr}"
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120,
                       env={**os.environ, **ENV}, check=False)
    reported = any(s in r.stderr for s in ("runtime error", "AddressSanitizer",
                                           "LeakSanitizer"))
    ok = r.returncode == 0 and not reported and OK in r.stdout
    return Run(ok, r.returncode, r.stdout, r.stderr)


def driver_for(p, calls: list[dict], seed: int = 1) -> str:
    """A main() calling `p` once per dict of sizes, each time on fresh random buffers."""
    blocks = []
    for k, sizes in enumerate(calls):
        decls, args, frees = c_arguments(p, sizes, fill="random", seed=seed + k,
                                         indent="        ")
        shown = ", ".join(f"{n} = {v}" for n, v in sizes.items())
        blocks.append(f"    {{  /* {shown} */\n{decls}\n"
                      f"        {p.name()}(NULL, {', '.join(args)});\n{frees}\n    }}")
    return _DRIVER % ("\n".join(blocks), OK)


def check_calls_are_valid(p, calls: list[dict]) -> None:
    """The sizes satisfy the kernel's asserts (else a report would not be knit's fault):
    bind them, with arrays of the shapes the driver allocates, as a Python call would."""
    from knit.runtime.args import eval_index

    ir = p._loopir_proc
    for sizes in calls:
        values = {a.name: sizes[a.name.name] for a in ir.args if a.type.is_control()}
        args = []
        for a in ir.args:
            if a.type.is_control():
                args.append(sizes[a.name.name])
            else:
                shape = tuple(int(eval_index(d, values)) for d in a.type.shape())
                args.append(np.zeros(shape, a.type.basetype().np_dtype or "float32"))
        bind_args(ir, tuple(args))  # raises ArgumentError when an assert fails


def has_par_loop(p) -> bool:
    from knit.ir import nodes as N
    from knit.ir.visit import walk_stmts

    return any(isinstance(s, N.For) and s.mode == "par"
               for s in walk_stmts(p._loopir_proc.body))


def run_kernel(tmp_path: Path, p, calls: list[dict], *, avx2: bool) -> Run:
    check_calls_are_valid(p, calls)
    knit.compile_procs([p], tmp_path, "kernel.c", "kernel.h")
    flags = ["-march=native"] if avx2 else []
    if has_par_loop(p):
        flags.append("-fopenmp")
    sources = {"kernel.c": (tmp_path / "kernel.c").read_text(),
               "kernel.h": (tmp_path / "kernel.h").read_text(),
               "main.c": driver_for(p, calls)}
    return sanitized_run(tmp_path, sources, extra_flags=flags)


@pytest.fixture(scope="module", autouse=True)
def sanitizers_work(tmp_path_factory):
    """The toolchain must build sanitized programs: without it this target checks
    nothing, so that is a failure, not a skip."""
    assert shutil.which(CC), f"no C compiler '{CC}'"
    run = sanitized_run(tmp_path_factory.mktemp("probe"),
                        {"probe.c": f'#include <stdio.h>\nint main(void) {{ puts("{OK}"); '
                                    "return 0; }\n"})
    assert run.ok, "cannot build and run a sanitized program:\n" + run.report()


def avx2_or_skip(needed: bool) -> None:
    if needed and "avx2" not in cpu_flags():
        pytest.skip("this CPU has no AVX2")


# ---------------------------------------------------------------- the examples


def example_kernels():
    """Every procedure an example defines at module level (not the instructions it
    imports), plus the scheduled GEMM gemm_demo builds in its schedule() function."""
    out = []
    for path in sorted(EXAMPLES.glob("*.py")):
        module = load_by_path(path, f"knit_sanitize_example_{path.stem}")
        for name, v in vars(module).items():
            if isinstance(v, knit.Procedure) and not v.is_instr() and \
                    v._loopir_proc.srcinfo.filename == str(path):
                out.append((f"{path.stem}.{name}", v))
        if path.stem == "gemm_demo":
            out.append(("gemm_demo.schedule(gemm)", module.schedule(module.gemm)))
    return out


def sizes_for(p) -> list[dict]:
    """Two size assignments satisfying p's asserts: tails and edges (13, 1, 6) first
    (bool arguments, such as a ReLU switch, true first)."""
    ir = p._loopir_proc
    controls = [a for a in ir.args if a.type.is_control()]
    assert all(a.type.kind in ("size", "bool") for a in controls), \
        "examples take sizes and bools only"
    values = [(True, False) if a.type.kind == "bool" else (13, 1, 6, 16, 8, 64)
              for a in controls]
    found = []
    for combo in itertools.product(*values):
        sizes = {a.name.name: v for a, v in zip(controls, combo)}
        try:
            check_calls_are_valid(p, [sizes])
        except knit.KnitError:
            continue
        found.append(sizes)
        if len(found) == 2:
            break
    assert found, f"no sizes satisfy the asserts of {p.name()}"
    return found


EXAMPLE_KERNELS = example_kernels()


def test_examples_are_found():
    names = {n for n, _ in EXAMPLE_KERNELS}
    assert {"gemm_demo.gemm", "gemm_demo.schedule(gemm)", "avx2_microkernel.avx2_kernel",
            "avx2_microkernel.rank_k_reduce_6x16"} <= names, names


@pytest.mark.parametrize("name, p", EXAMPLE_KERNELS, ids=[n for n, _ in EXAMPLE_KERNELS])
def test_example_kernel_is_clean(tmp_path, name, p):
    uses_avx2 = "immintrin.h" in p.c_code_str()
    avx2_or_skip(uses_avx2)
    run = run_kernel(tmp_path, p, sizes_for(p), avx2=uses_avx2)
    assert run.ok, f"{name} under the sanitizers:\n{run.report()}"


# ---------------------------------------------------------------- the test kernels


TEST_KERNELS = kernels_module.kernels()


@pytest.mark.parametrize("k", TEST_KERNELS, ids=[k.name for k in TEST_KERNELS])
def test_kernel_is_clean(tmp_path, k):
    avx2_or_skip(k.avx2)
    run = run_kernel(tmp_path, k.proc, k.calls, avx2=k.avx2)
    assert run.ok, f"{k.name} under the sanitizers:\n{run.report()}"


# ---------------------------------------------------------------- the harness can fail


_OOB_C = """\
#include <stdio.h>
#include <stdlib.h>
static void zero(int n, float *x) { for (int i = 0; i <= n; i++) x[i] = 0.0f; }
int main(void) {
    float *x = malloc(8 * sizeof(float));
    zero(8, x);  /* writes x[8], one past the end */
    free(x);
    puts("OK");
    return 0;
}
""".replace("OK", OK)

_OVERFLOW_C = """\
#include <limits.h>
#include <stdio.h>
int main(int argc, char **argv) {
    (void) argv;
    int x = INT_MAX;
    x += argc;  /* signed overflow: undefined behaviour */
    printf("%d\\n", x);
    puts("OK");
    return 0;
}
""".replace("OK", OK)


def test_harness_detects_an_out_of_bounds_write(tmp_path):
    run = sanitized_run(tmp_path, {"oob.c": _OOB_C})
    assert not run.ok
    # ASan (heap-buffer-overflow) or UBSan's object-size check, whichever sees it first
    assert "heap-buffer-overflow" in run.stderr or "insufficient space" in run.stderr, \
        run.report()


def test_harness_detects_undefined_behaviour(tmp_path):
    run = sanitized_run(tmp_path, {"overflow.c": _OVERFLOW_C})
    assert not run.ok
    assert "runtime error: signed integer overflow" in run.stderr, run.report()


@instr("for (int q = 0; q < 5; q++) (&{dst_data})[q] = 0.0f;")
def zero4_writes_five(dst: [f32][4] @ DRAM):
    # the meaning says four elements; the C template (trusted, not checked) writes five
    for i in seq(0, 4):
        dst[i] = 0.0


@proc
def zero_tail(N: size, x: f32[N]):
    assert N >= 4
    zero4_writes_five(x[N - 4:N])


def test_harness_catches_a_wrong_instr_template_in_a_knit_kernel(tmp_path):
    """knit proves the kernel in bounds from the instr's meaning; its C template lies,
    and only the sanitizer run sees it."""
    run = run_kernel(tmp_path, zero_tail, [{"N": 6}], avx2=False)
    assert not run.ok
    assert "heap-buffer-overflow" in run.stderr and "zero_tail" in run.stderr, run.report()


class LEAKY(DRAM):
    """A memory whose free hook forgets the heap buffer DRAM's alloc hook made."""

    @classmethod
    def free(cls, new_name, prim_type, shape, srcinfo):
        return ""


@proc
def leaky_copy(N: size, x: f32[N], y: f32[N]):
    t: f32[N] @ LEAKY
    for i in seq(0, N):
        t[i] = x[i]
    for i in seq(0, N):
        y[i] = t[i]


def test_harness_catches_a_leak_from_a_memory_hook(tmp_path):
    run = run_kernel(tmp_path, leaky_copy, [{"N": 5}], avx2=False)
    assert not run.ok
    assert "LeakSanitizer: detected memory leaks" in run.stderr, run.report()
