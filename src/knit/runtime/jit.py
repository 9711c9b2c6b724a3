"""The JIT: a procedure's C, compiled by the system C compiler, cached, called via ctypes.

    f = compile_proc(gemm._loopir_proc)   # or gemm.compile()
    f(A, B, C)                            # sizes may be left out when shapes give them

The shared library is cached under `$KNIT_CACHE_DIR` (default `~/.cache/knit`), named
by the SHA-256 of the C source, the compiler's identity, the flags and the host CPU
(for `-march=native`); a later compile of the same code -- in this process or another
-- loads it without running the compiler. knit.cache verifies an entry before it is
loaded and rebuilds a damaged one; `knitc cache clear` reclaims the space.

Each call is checked and run in C by the callable's plan (knit.runtime.fastcall)
when it can be; otherwise it binds and validates its arguments with
`knit.runtime.args` (shapes, dtypes, preconditions, aliasing), which raises knit's
errors, then calls a small C entry point whose parameters are all 64-bit integers,
booleans or pointers, so ctypes needs no knowledge of C's types. docs/runtime.md
says what is thread-safe.
"""

from __future__ import annotations

import ctypes
import functools
import threading

from knit.backend.c.header import generate
from knit.errors import InternalError
from knit.ir import nodes as N
from knit.runtime.args import binder
from knit.runtime.cc import ENTRY, LIBRARY_FLAGS, build_flags, compiler_command, load_library
from knit.runtime.interp import config_zero


def compile_proc(proc: N.Proc, cc: str | None = None, flags=None, extra_flags=None):
    """A Python callable running `proc`'s generated C.

    `cc` overrides the compiler (default `$CC`, then `cc`). `flags` (a list, or a string
    split like a shell would) *replaces* the optimisation flags (default `-O3
    -march=native`, and `-mno-avx512fp16` for gcc 12 where the CPU has AVX512-FP16:
    `default_opt_flags`; without `-march=native` or `-mavx2`, code calling AVX2 or AVX-512
    instructions does not compile); `extra_flags` *adds* flags after them, keeping the
    defaults (`extra_flags=["-funroll-loops"]`). `-fPIC -shared`, the flags that fix the
    C's meaning (`build_flags`) and, when the proc has a `par` loop, `-fopenmp` are
    always added: a `par` loop runs on OpenMP's threads, as many as `OMP_NUM_THREADS`
    says (default: one per core), read once, when OpenMP is first loaded. Raises
    CompileError if the compiler cannot be run, rejects the code or produces no usable
    library (or lacks _Float16 for an f16 proc), and its subclass
    knit.cache.CacheError if the cache directory cannot be used. Safe to call from several threads.
    """
    source, unit = jit_source(proc)
    command = compiler_command(cc)
    all_flags = [*LIBRARY_FLAGS, *build_flags(command, flags, extra_flags)]
    if unit.has_par:
        all_flags.append("-fopenmp")
    lib = load_library(source, command, all_flags, proc.name)
    with _config_lock:
        for cfg, c_name in unit.used_configs():
            _bind_config(lib, cfg, c_name)
    call = make_caller(proc, lib, lib._name, command)
    checks = dict.fromkeys(c for m in unit.used_memories()
                           if (c := m.call_check(lib)) is not None)
    return _checked(call, list(checks)) if checks else call


def _checked(call, checks):
    """`call`, then each memory's check of what the C recorded (Memory.call_check)."""

    def checked(*args, **kwargs):
        call(*args, **kwargs)
        for check in checks:
            check()

    return functools.update_wrapper(checked, call)  # with its proc, library and plan


def jit_source(proc: N.Proc):
    """The whole translation unit for `proc` (header, C, entry point), and the backend's
    Unit (which knows whether it needs OpenMP and which configs it uses)."""
    c, h, unit = generate([proc], "knit_jit.h", shared_configs=True)
    body = c.replace('#include "knit_jit.h"\n', "", 1)  # the header is pasted in instead
    layouts = "".join(_config_layout_fn(cfg, c_name) for cfg, c_name in unit.used_configs())
    return f"{h}{body}\n{entry_point(proc, unit)}{layouts}", unit


def _config_layout_fn(cfg, c_name: str) -> str:
    """A C function giving the offset and size of each field of the config's block, so
    Python can read and set compiled config state (knit.check_equiv) without guessing
    C's layout (int_fast32_t is 4 or 8 bytes depending on the C library)."""
    st = f"struct knit_config_{c_name}"
    parts = [f"offsetof({st}, {f}), sizeof((({st}*)0)->{f})" for f in cfg.fields()]
    return (f"size_t knit_config_layout_{c_name}(int k) {{\n"
            f"    static const size_t t[] = {{ {', '.join(parts) or '0'} }};\n"
            f"    return t[k];\n}}\n")


# Config state shared by every compiled proc of this process (as in one C file, and
# as in the interpreter): one zero-initialised block per Config, handed to each
# library that uses it.
_config_storage: dict = {}
_config_layout: dict = {}  # Config -> {field: (offset, size)}
_config_lock = threading.Lock()


def _bind_config(lib, cfg, c_name: str) -> None:
    size_fn = lib[f"knit_config_size_{c_name}"]
    size_fn.restype = ctypes.c_size_t
    size = size_fn()
    block = _config_storage.get(cfg)
    if block is None:
        block = _config_storage[cfg] = ctypes.create_string_buffer(size)
    if ctypes.sizeof(block) != size:
        raise InternalError(f"config {cfg.name()} has two C layouts; this is a bug in knit")
    if cfg not in _config_layout:
        layout = lib[f"knit_config_layout_{c_name}"]
        layout.argtypes, layout.restype = [ctypes.c_int], ctypes.c_size_t
        _config_layout[cfg] = {f: (layout(2 * k), layout(2 * k + 1))
                               for k, f in enumerate(cfg.fields())}
    bind = lib[f"knit_bind_config_{c_name}"]
    bind.argtypes, bind.restype = [ctypes.c_void_p], None
    bind(ctypes.addressof(block))


def _config_cell(cfg, field: str):
    """A NumPy view of the compiled code's `cfg.field`, or None if no compiled proc of
    this process uses cfg yet."""
    import numpy as np

    block, layout = _config_storage.get(cfg), _config_layout.get(cfg)
    if block is None or layout is None:
        return None
    offset, size = layout[field]
    typ = cfg.lookup_type(field)
    dtype = np.dtype(typ.np_dtype if typ.is_real() else bool if typ.kind == "bool"
                     else f"i{size}")
    return np.frombuffer(block, dtype=dtype, count=1, offset=offset).reshape(())


def config_value(cfg, field: str):
    """The compiled code's current value of `cfg.field` (shared by every compiled proc of
    this process; zero if never written)."""
    with _config_lock:
        cell = _config_cell(cfg, field)
        if cell is None:
            return config_zero(cfg, field)
        return cell[()].copy() if cfg.lookup_type(field).is_real() else cell[()].item()


def set_config_value(cfg, field: str, value) -> None:
    """Set the compiled code's `cfg.field` (nothing to do if no compiled proc uses cfg:
    it will start from zero, and it has not been compiled yet)."""
    with _config_lock:
        cell = _config_cell(cfg, field)
        if cell is not None:
            cell[()] = value


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
    # the same, taking its arguments as one int64 array (for knit.runtime.fastcall)
    unpack, k = [], 0
    for p in params:
        typ = p.rsplit(" ", 1)[0]
        cast = "(void*)(intptr_t)" if typ == "void*" else f"({typ})"
        unpack.append(f"{cast} a[{k}]")
        k += 1
    return (f"// the JIT's entry point: fixed-width arguments, so ctypes needs no C types\n"
            f"void {ENTRY}({', '.join(params) or 'void'}) {{\n"
            f"    {unit.fn_name(proc)}({', '.join(args)});\n}}\n"
            f"void {ENTRY}_v(const int64_t* a) {{\n"
            f"    {'(void) a; ' if not unpack else ''}{ENTRY}({', '.join(unpack)});\n}}\n")


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


def make_caller(proc: N.Proc, lib, library: str, command: list[str] | None = None):
    """The Python callable for a compiled proc: call it like the proc (positionally or by
    name; NumPy arrays for tensors and windows, 0-d arrays or numbers for real scalars).
    It writes outputs in place and returns None.

    A call runs through the proc's plan (knit.runtime.fastcall: checks and call in C)
    when it can; otherwise through generated Python that does only the conversions
    this proc's parameters need: bind and validate, then one ctypes call."""
    import numpy as np

    from knit.runtime.fastcall import make_plan  # here: fastcall imports this module

    cfunc = lib[ENTRY]
    cfunc.restype = None
    cfunc.argtypes = _argtypes(proc)
    b = binder(proc)
    plan = make_plan(b, lib, command)
    ns = {"bind": b.bind, "cfunc": cfunc, "ptr": _ptr, "plan": plan}
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
    # the plan runs the call in C when it can; otherwise (or for any doubt) Python
    # binds, validates (raising knit's errors) and calls through ctypes
    fast = "    if not kwargs and plan(args) is None:\n        return\n" if plan else ""
    src = ("def call(*args, **kwargs):\n"
           f"{fast}"
           "    env = bind(args, kwargs)\n"
           f"    cfunc({', '.join(cargs)})\n")
    exec(compile(src, f"<knit caller for {proc.name}>", "exec"), ns)
    call = ns["call"]
    call.__name__ = call.__qualname__ = proc.name
    call.__doc__ = f"Run the compiled C of knit proc {proc.name} (built as {library})."
    call.proc, call.library, call.plan = proc, library, plan
    return call
