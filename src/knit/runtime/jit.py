"""The JIT: a procedure's C, compiled by the system C compiler, cached, called via ctypes.

    f = compile_proc(gemm._loopir_proc)   # or gemm.compile()
    f(A, B, C)                            # sizes may be left out when shapes give them

The shared library is cached under `$KNIT_CACHE_DIR` (default `~/.cache/knit`), named
by the SHA-256 of the C source, the compiler command, the flags and the host CPU (for
`-march=native`); a later compile of the same code -- in this process or another --
loads it without running the compiler. Nothing is ever evicted: delete the directory
to reclaim the space.
Builds write to a temporary name in the cache directory and `os.replace` it into
place, so processes compiling the same code at once never see a partial file.

Each call binds and validates its arguments with `knit.runtime.args` (shapes, dtypes,
preconditions, aliasing), then calls a small C entry point whose parameters are all
64-bit integers, booleans or pointers, so ctypes needs no knowledge of C's types.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shlex

from knit.errors import CompileError, InternalError
from knit.ir import nodes as N

DEFAULT_FLAGS = ("-O3", "-march=native", "-ffp-contract=off", "-fwrapv")  # docs/semantics.md
LIBRARY_FLAGS = ("-fPIC", "-shared")  # always added: the output must be a loadable library
ENTRY = "knit_entry"

_loaded: dict[str, ctypes.CDLL] = {}  # library path -> library: a process loads each once


def cache_dir() -> str:
    """The directory holding compiled libraries (created on first use)."""
    d = os.environ.get("KNIT_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache",
                                                          "knit")
    os.makedirs(d, exist_ok=True)
    return d


def compiler_command(cc: str | None = None) -> list[str]:
    """`cc`, else `$CC`, else `cc`, split like a shell would ("ccache gcc" works)."""
    return shlex.split(cc or os.environ.get("CC") or "cc")


def compile_proc(proc: N.Proc, cc: str | None = None, flags=None):
    """A Python callable running `proc`'s generated C.

    `cc` overrides the compiler (default `$CC`, then `cc`); `flags` (a list, or a string
    split like a shell would) replaces the optimisation flags (default `-O3
    -march=native`); `-fPIC -shared`, and `-fopenmp` when the proc has a `par` loop, are
    always added. Raises CompileError if the compiler cannot be run or rejects the code.
    """
    source, unit = jit_source(proc)
    command = compiler_command(cc)
    if isinstance(flags, str):
        flags = shlex.split(flags)
    all_flags = [*LIBRARY_FLAGS, *(DEFAULT_FLAGS if flags is None else flags)]
    if unit.has_par:
        all_flags.append("-fopenmp")
    lib = load_library(source, command, all_flags, proc.name)
    for cfg, c_name in unit.used_configs():
        _bind_config(lib, cfg, c_name)
    return make_caller(proc, lib[ENTRY], lib._name)


def jit_source(proc: N.Proc):
    """The whole translation unit for `proc` (header, C, entry point), and the backend's
    Unit (which knows whether it needs OpenMP and which configs it uses)."""
    from knit.backend.c.header import generate

    c, h, unit = generate([proc], "knit_jit.h", shared_configs=True)
    body = c.split("\n", 1)[1]  # the header is pasted in instead of #included
    return f"{h}{body}\n{entry_point(proc, unit)}", unit


# Config state shared by every compiled proc of this process (as in one C file, and
# as in the interpreter): one zero-initialised block per Config, handed to each
# library that uses it.
_config_storage: dict = {}


def _bind_config(lib, cfg, c_name: str) -> None:
    size_fn = lib[f"knit_config_size_{c_name}"]
    size_fn.restype = ctypes.c_size_t
    size = size_fn()
    block = _config_storage.get(cfg)
    if block is None:
        block = _config_storage[cfg] = ctypes.create_string_buffer(size)
    if ctypes.sizeof(block) != size:
        raise InternalError(f"config {cfg.name()} has two C layouts; this is a bug in knit")
    bind = lib[f"knit_bind_config_{c_name}"]
    bind.argtypes, bind.restype = [ctypes.c_void_p], None
    bind(ctypes.addressof(block))


def entry_point(proc: N.Proc, unit) -> str:
    """A C function `knit_entry` taking fixed-width arguments (windows flattened into a
    data pointer and one stride per dimension) and calling the proc."""
    params, args = [], []
    written = unit.written(proc)
    for k, a in enumerate(proc.args):
        v, t = f"knit_arg{k}", a.type
        if t.is_control():
            params.append(f"bool {v}" if t.kind == "bool" else f"int64_t {v}")
            args.append(v if t.kind == "bool" else f"(int_fast32_t) {v}")
        elif t.is_tensor() and t.is_win():
            n = len(t.shape())
            params += [f"void* {v}"] + [f"int64_t {v}_s{d}" for d in range(n)]
            tag = unit.structs.name(t.basetype(), n, a.name not in written)
            strides = ", ".join(f"(int_fast32_t) {v}_s{d}" for d in range(n))
            args.append(f"(struct {tag}){{ {v}, {{ {strides} }} }}")
        else:
            params.append(f"void* {v}")
            args.append(v)
    return (f"// the JIT's entry point: fixed-width arguments, so ctypes needs no C types\n"
            f"void {ENTRY}({', '.join(params) or 'void'}) {{\n"
            f"    {unit.fn_name(proc)}({', '.join(args)});\n}}\n")


# ---------------------------------------------------------------- building and caching


def load_library(source: str, command: list[str], flags: list[str], what: str):
    """The library built from `source`, from the cache when it is there."""
    h = hashlib.sha256()
    for part in (source, *command, "\0", *flags, "\0", host_id()):  # NUL-separated
        h.update(part.encode() + b"\0")
    key = h.hexdigest()
    d = cache_dir()
    so = os.path.join(d, f"{key}.so")
    if so in _loaded:
        return _loaded[so]
    if not os.path.exists(so):
        build(source, command, flags, d, key, what)
    try:
        lib = ctypes.CDLL(so)
    except OSError:  # a damaged file (e.g. a full disk): build it again, once
        build(source, command, flags, d, key, what)
        lib = ctypes.CDLL(so)
    _loaded[so] = lib
    return lib


@functools.cache
def host_id() -> str:
    """The machine code's target: `-march=native` means different code on different
    CPUs, and a cache directory may be shared between machines (a home on NFS)."""
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
        cpu += "".join(line for line in info.splitlines()
                       if line.startswith(("model name", "flags", "Features")))[:4096]
    except OSError:
        cpu += platform.processor()
    return hashlib.sha256(cpu.encode()).hexdigest()[:16]


def build(source: str, command: list[str], flags: list[str], d: str, key: str,
          what: str) -> None:
    """Compile `source` to d/key.so, keeping the source beside it as d/key.c. Both are
    written under temporary names and renamed into place (atomic on POSIX)."""
    import tempfile

    c_path = os.path.join(d, f"{key}.c")
    _write_atomic(c_path, source, key)
    fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".so", dir=d)
    os.close(fd)
    try:
        _run_compiler([*command, *flags, "-o", tmp, c_path], what, c_path)
        os.replace(tmp, os.path.join(d, f"{key}.so"))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_atomic(path: str, text: str, key: str) -> None:
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".c",
                               dir=os.path.dirname(path))
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _run_compiler(cmd: list[str], what: str, c_path: str) -> None:
    import subprocess

    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as err:
        raise CompileError(f"cannot run the C compiler '{cmd[0]}' to build {what}: "
                           f"{err.strerror or err}\nset $CC (or pass cc=...) to a working "
                           "C compiler such as gcc or clang") from None
    if r.returncode != 0:
        msg = (r.stderr or r.stdout).strip()
        if len(msg) > 4000:
            msg = msg[:4000] + "\n... (truncated)"
        hint = ""
        if "-fopenmp" in cmd and "omp" in msg.lower():
            hint = ("\nthe proc has a par loop, so it is built with -fopenmp, and this "
                    "compiler's OpenMP support seems missing (e.g. install libomp-dev for "
                    "clang, or use gcc)")
        raise CompileError(f"the C compiler failed on the code generated for {what} "
                           f"(exit status {r.returncode})\ncommand: {shlex.join(cmd)}\n"
                           f"source: {c_path}\n{msg}{hint}")


# ---------------------------------------------------------------- calling


def _argtypes(proc: N.Proc) -> list:
    out = []
    for a in proc.args:
        t = a.type
        if t.is_control():
            out.append(ctypes.c_bool if t.kind == "bool" else ctypes.c_int64)
        elif t.is_tensor() and t.is_win():
            out += [ctypes.c_void_p] + [ctypes.c_int64] * len(t.shape())
        else:
            out.append(ctypes.c_void_p)
    return out


def _ptr(a, _from_buffer=ctypes.c_char.from_buffer, _addressof=ctypes.addressof) -> int:
    """The address of an array's first element. The buffer protocol is ~5x faster than
    `a.ctypes.data`, but only takes writable contiguous arrays."""
    try:
        return _addressof(_from_buffer(a))
    except (TypeError, ValueError, BufferError):
        return a.ctypes.data


def make_caller(proc: N.Proc, cfunc, library: str):
    """The Python callable for a compiled proc: call it like the proc (positionally or by
    name; NumPy arrays for tensors and windows, 0-d arrays or numbers for real scalars).
    It writes outputs in place and returns None.

    Its source is generated so that each call does only the conversions this proc's
    parameters need: bind and validate, then one ctypes call."""
    import numpy as np

    from knit.runtime.args import binder

    cfunc.restype = None
    cfunc.argtypes = _argtypes(proc)
    ns = {"bind": binder(proc).bind, "cfunc": cfunc, "ptr": _ptr}
    cargs = []
    for k, a in enumerate(proc.args):
        ns[f"s{k}"] = a.name
        v, t = f"env[s{k}]", a.type
        if t.is_control():
            cargs.append(v)
        elif t.is_tensor() and t.is_win():
            item = np.dtype(t.basetype().np_dtype).itemsize
            cargs.append(f"ptr({v})")
            cargs += [f"{v}.strides[{d}] // {item}" for d in range(len(t.shape()))]
        else:
            cargs.append(f"ptr({v})")
    src = ("def call(*args, **kwargs):\n"
           "    env = bind(args, kwargs)\n"
           f"    cfunc({', '.join(cargs)})\n")
    exec(compile(src, f"<knit caller for {proc.name}>", "exec"), ns)
    call = ns["call"]
    call.__name__ = call.__qualname__ = proc.name
    call.__doc__ = f"Run the compiled C of knit proc {proc.name} (built as {library})."
    call.proc, call.library = proc, library
    return call
