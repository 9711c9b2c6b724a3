"""The C compiler: which one runs (`$CC`), the flags knit builds with, and building and
loading a library through knit's verified on-disk cache (knit.cache). The JIT
(knit.runtime.jit), the call extension (knit.runtime.fastcall), timing, tuning and the
instruction checker all build C through here.

A library is keyed by the SHA-256 of its source, the compiler's identity, the flags
and the host CPU (`host_id`: `-march=native` means different code on different CPUs);
a later build of the same code -- in this process or another -- loads it without
running the compiler.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shlex

from knit import cache
from knit.errors import CompileError

OPT_FLAGS = ("-O3", "-march=native")  # the default; flags= replaces, extra_flags= adds
# The flags that give knit's C its meaning (docs/semantics.md#c-build), added after the
# optimisation flags for gcc and clang; gcc also gets its own, and then no longer
# needs the `optimize` pragma knit's C carries for users who build it themselves.
MEANING_FLAGS = ("-ffp-contract=off", "-fwrapv")
# (gcc 12.2 miscompiles plain code with its tree loop distribution and with its loop
# vectorizer, even at -O2: docs/semantics.md#c-build; its SLP vectorizer stays on)
GCC_MEANING_FLAGS = ("-fno-tree-loop-distribution", "-fno-tree-loop-vectorize",
                     "-DKNIT_NO_GCC_OPTIMIZE_PRAGMA")
DEFAULT_FLAGS = (*OPT_FLAGS, *MEANING_FLAGS)  # for a compiler knit does not recognise
# gcc 12 with -march=native on a CPU with AVX512-FP16 (Intel Sapphire Rapids and later)
# writes f16 code the assembler rejects ("unsupported masking for `vmovsh'": a masked,
# zeroing store, for `h[i] = h[i] > 0 ? h[i] : 0`, measured on a Xeon with binutils
# 2.40); without those instructions gcc computes f16 in float, which knit's C rounds back
# to f16 after each operation (docs/semantics.md#f16) -- the same values. So knit's
# default flags leave them out for gcc 12 on such CPUs (`default_opt_flags`); flags=
# given by the user are theirs.
GCC12_OPT_FLAGS = (*OPT_FLAGS, "-mno-avx512fp16")
LIBRARY_FLAGS = ("-fPIC", "-shared")  # always added: the output must be a loadable library
ENTRY = "knit_entry"  # the JIT's entry point (jit.entry_point): load_library checks for it

_loaded: dict[str, ctypes.CDLL] = {}  # library path -> library: a process loads each once


def cache_dir() -> str:
    """The directory holding compiled libraries (created on first use); see knit.cache."""
    return cache.directory()


def compiler_command(cc: str | None = None) -> list[str]:
    """`cc`, else `$CC`, else `cc`, split like a shell would ("ccache gcc" works)."""
    return shlex.split(cc or os.environ.get("CC") or "cc")


def compiler_kind(command: list[str]) -> str:
    """'gcc', 'clang' or 'other', from the compiler's `--version` output (cached with
    its identity by knit.cache): `cc` may be either."""
    version = cache.compiler_identity(command)[-1]
    if "clang" in version.lower():
        return "clang"
    if "Free Software Foundation" in version or "gcc" in version.lower():
        return "gcc"
    return "other"


def gcc_major(command: list[str]) -> int | None:
    """gcc's major version from its `--version` line ("gcc (Debian 12.2.0-14) 12.2.0"),
    None when it does not say."""
    import re

    lines = cache.compiler_identity(command)[-1].splitlines()
    m = re.search(r"\)\s+(\d+)\.\d+", lines[1]) if len(lines) > 1 else None
    return int(m.group(1)) if m else None


def default_opt_flags(command: list[str]) -> tuple[str, ...]:
    """The optimisation flags knit uses when flags= is not given: OPT_FLAGS, and
    GCC12_OPT_FLAGS for gcc 12 on a CPU with AVX512-FP16: the only case where
    -march=native turns those instructions on (the option is x86's: on another CPU it is
    not given; a cross compiler for another machine rejects -march=native anyway)."""
    if _cpu_has_avx512fp16() and compiler_kind(command) == "gcc" \
            and gcc_major(command) == 12:
        return GCC12_OPT_FLAGS
    return OPT_FLAGS


@functools.cache
def _cpu_has_avx512fp16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether Linux lists this CPU with AVX512-FP16; False where it cannot be read."""
    from knit.runtime.cpuinfo import flags

    return "avx512_fp16" in flags(cpuinfo)  # (Linux's name for the CPUID bit)


def build_flags(command: list[str], flags=None, extra_flags=None) -> list[str]:
    """The flags knit builds C with (besides `-fPIC -shared`): `flags` (a list or a
    shell-like string; default `default_opt_flags`), then `extra_flags` (the same
    forms), then the ones fixing the C's meaning (docs/semantics.md#c-build) for gcc
    and clang, last, so they hold whatever the others say. For another compiler, `flags` replaces
    DEFAULT_FLAGS whole."""
    flags, extra = _flag_list(flags), _flag_list(extra_flags) or []
    kind = compiler_kind(command)
    if kind == "other":
        return [*(DEFAULT_FLAGS if flags is None else flags), *extra]
    out = [*(default_opt_flags(command) if flags is None else flags), *extra, *MEANING_FLAGS]
    if kind == "gcc":
        out += GCC_MEANING_FLAGS
    return out


def _flag_list(flags) -> list[str] | None:
    if flags is None:
        return None
    return shlex.split(flags) if isinstance(flags, str) else list(flags)


def load_library(source: str, command: list[str], flags: list[str], what: str,
                 entry: str = ENTRY, prefix: str = ""):
    """The library built from `source`, from the cache when it is there and intact.

    A damaged entry (see knit.cache) is rebuilt once, with a CacheWarning; a library
    without the entry point is removed and reported, so a fixed compiler rebuilds it."""
    d = cache.directory()
    so = cached_build(source, command, flags, what, prefix)
    lib = _loaded.get(so)
    if lib is not None:
        return lib
    with cache.lock(so):
        lib = _loaded.get(so)
        if lib is not None:
            return lib
        try:
            lib = ctypes.CDLL(so)
        except OSError as err:
            cache.discard(so, d)
            raise CompileError(f"the library the C compiler '{command[0]}' built for {what}"
                               f" cannot be loaded: {err}\ncommand: {shlex.join(command)}"
                               f"\nlibrary: {so} (removed)") from None
        if not hasattr(lib, entry):
            cache.discard(so, d)
            raise CompileError(f"the library the C compiler '{command[0]}' built for {what} "
                               f"has no '{entry}' function (was it compiled from knit's "
                               f"source?)\ncommand: {shlex.join(command)}\nlibrary: {so} "
                               "(removed, so the next compile rebuilds it)")
        _loaded[so] = lib
        return lib


def cached_build(source: str, command: list[str], flags: list[str], what: str,
                 prefix: str = "") -> str:
    """The path of the file (a library, or a program when `flags` say so) built from
    `source` by `command flags`, keyed by the compiler's identity (knit.cache.key) and
    verified before it is returned: a missing entry is built, a damaged one rebuilt
    once with a CacheWarning. Safe from several threads and processes."""
    d = cache.directory()
    key = prefix + cache.key(source, command, flags, host_id())
    so = os.path.join(d, f"{key}.so")
    if so in _loaded:
        return so
    with cache.lock(so):
        problem = cache.verified(so)
        if problem is not None:
            if problem != "missing":
                cache.warn_damaged(so, problem)
                cache.discard(so, d)
            build(source, command, flags, d, key, what)
            problem = cache.verified(so)
            if problem is not None:
                raise cache.CacheError(f"the file just built for {what} in the knit "
                                       f"cache directory {d} is unusable: {problem}")
    return so


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
    written under temporary names, checked, sealed, and renamed into place."""
    cache.clean_stale(d)
    c_path = os.path.join(d, f"{key}.c")
    tmp_c = cache.temp_path(d, f".{key[:24]}.", ".c")
    tmp_so = cache.temp_path(d, f".{key[:24]}.", ".so")
    try:
        try:
            with open(tmp_c, "w") as f:
                f.write(source)
        except OSError as err:
            raise cache.dir_error(d, "cannot write to", err) from None
        cmd = [*command, *flags, "-o", tmp_so, tmp_c]
        out = _run_compiler(cmd, what, c_path, tmp_c, d, command)
        problem = cache.library_problem(tmp_so)
        if problem is not None:
            _publish_source(tmp_c, c_path, d)
            raise CompileError(f"the C compiler '{command[0]}' exited with status 0 but did "
                               f"not write a usable library for {what}: {problem}\ncommand: "
                               f"{shlex.join(cmd)}\nsource: {c_path}"
                               + (f"\n{_clip(out)}" if out else ""))
        try:
            cache.seal(tmp_so)
            _publish_source(tmp_c, c_path, d)
            cache.publish(tmp_so, os.path.join(d, f"{key}.so"), d, executable=True)
        except OSError as err:
            raise cache.dir_error(d, "cannot write to", err) from None
    finally:
        for t in (tmp_c, tmp_so):
            if os.path.lexists(t):
                os.unlink(t)


def _publish_source(tmp_c: str, c_path: str, d: str) -> None:
    """Keep the source beside the library (for people reading it; never loaded)."""
    try:
        cache.publish(tmp_c, c_path, d, executable=False)
    except (OSError, cache.CacheError):
        pass  # only the library matters; a write error there is reported


def _clip(msg: str) -> str:
    msg = msg.strip()
    return msg if len(msg) <= 4000 else msg[:4000] + "\n... (truncated)"


def _run_compiler(cmd: list[str], what: str, c_path: str, tmp_c: str, d: str,
                  command: list[str] | None = None) -> str:
    """Run the compiler; its output (warnings) when it succeeds, else a CompileError
    with its stderr. The source is kept at `c_path` when it fails."""
    import subprocess

    try:
        r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                           errors="replace")
    except OSError as err:
        raise CompileError(f"cannot run the C compiler '{cmd[0]}' to build {what}: "
                           f"{err.strerror or err}\nset $CC (or pass cc=...) to a working "
                           "C compiler such as gcc or clang") from None
    if r.returncode != 0:
        _publish_source(tmp_c, c_path, d)
        msg = _clip(r.stderr or r.stdout)
        if _no_float16(msg):
            raise CompileError(f"the C compiler '{cmd[0]}' ({_version_line(command or cmd[:1])})"
                               f" has no _Float16 on this target, which {what} needs for its "
                               "f16 data: f16 needs gcc >= 12 or clang >= 15 (on x86), or "
                               "clang 14 with F16C (-march=native or -mf16c); set "
                               "$CC (or pass cc=...) to such a compiler (docs/semantics.md"
                               f"#f16-compilers)\ncommand: {shlex.join(cmd)}\nsource: {c_path}"
                               f"\n{msg}")
        hint = _flags_hint(cmd, msg)
        if "-fopenmp" in cmd and _openmp_missing(msg):
            hint = ("\nthe proc has a par loop, so it is built with -fopenmp, and this "
                    "compiler's OpenMP support seems missing (e.g. install libomp-dev for "
                    "clang, or use gcc)")
        if "No space left" in msg:
            hint += f"\nthe disk holding the knit cache directory {d} may be full"
        raise CompileError(f"the C compiler '{cmd[0]}' failed on the code generated for "
                           f"{what} (exit status {r.returncode})\ncommand: {shlex.join(cmd)}\n"
                           f"source: {c_path}\n{msg}{hint}")
    return (r.stderr or "") + (r.stdout or "")


def _openmp_missing(msg: str) -> bool:
    """Whether the compiler's errors are about OpenMP itself (not any word with 'omp' in
    it, such as 'compilation')."""
    low = msg.lower()
    return any(w in low for w in ("omp.h", "fopenmp", "libgomp", "libomp", "-lomp",
                                  "openmp"))


def _flags_hint(cmd: list[str], msg: str) -> str:
    """A hint when the build failed because flags= replaced -march=native."""
    isa_error = any(s in msg for s in ("target specific option mismatch",
                                       "requires target feature", "needs target feature"))
    if isa_error and not any(f.startswith(("-march", "-mavx", "-mfma", "-mcpu")) for f in cmd):
        return ("\nthe code calls vector instructions, but no -march flag was given: "
                "compile(flags=...) replaces the default -O3 -march=native; use "
                "extra_flags=... to add flags and keep the defaults")
    if isa_error and "-mno-avx512fp16" in cmd:
        return ("\nknit's defaults for gcc 12 leave out AVX512-FP16 (-mno-avx512fp16: gcc 12 "
                "writes f16 code the assembler rejects on such CPUs); code calling its "
                "intrinsics needs extra_flags=['-mavx512fp16']")
    if isa_error and "-march=native" in cmd:
        return ("\nthe code calls vector instructions this CPU does not have (-march=native "
                "builds for this CPU: AVX-512 intrinsics, say, on a CPU with AVX2 only): "
                "schedule for this CPU's instructions (knit.stdlib.gemm's target 'host' "
                "picks them), or build for the machine that has them with "
                "extra_flags=['-mavx512f', '-mavx512vl', ...] (the library will not run "
                "here)")
    return ""


def _no_float16(msg: str) -> bool:
    """Whether the compiler's errors say it lacks _Float16 (clang < 15 and gcc < 12 on
    x86: "_Float16 is not supported on this target", or an unknown type name)."""
    return any("_Float16" in line and ("not supported" in line or "unknown type" in line)
               for line in msg.splitlines())


def _version_line(command: list[str]) -> str:
    """The first line of the compiler's `--version` output, as knit.cache recorded it."""
    try:
        lines = cache.compiler_identity(command)[-1].splitlines()
    except CompileError:
        return "version unknown"
    return lines[1].strip() if len(lines) > 1 else "version unknown"  # after "exit N"
