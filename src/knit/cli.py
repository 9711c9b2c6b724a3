"""knitc: compile the procedures a Python file defines to a C file and header.

    knitc kernels.py -o build/            # writes build/kernels.c and build/kernels.h
    knitc kernels.py -o build/ --stem k   # writes build/k.c and build/k.h
    knitc cache size                      # the JIT cache: where, how many, how big
    knitc cache clear                     # delete every cached library

The file is run as a module (its directory first on sys.path, as `python file.py`
would have it); every procedure bound at its top level is compiled, except
instructions and procedures it imported from other modules.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from knit import cache
from knit.backend.c import compile_procs
from knit.errors import KnitError
from knit.ir.handles import ir_of
from knit.procedure import Procedure
from knit.usercode import UserCodeError, get_procs_from_module, run_file


def main(argv: list[str] | None = None) -> int:
    """The knitc command; returns the exit status (0 on success, 1 on any error)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["cache"]:
        return _cache_command(argv[1:])
    args = _parser().parse_args(argv)
    path = Path(args.source)
    if not path.is_file():
        return _fail(f"no such file: {path}")
    stem = args.stem or path.stem
    try:
        module = run_file(path)
        procs = _defined_procs(module, path)
        if not procs:
            return _fail(f"{path} defines no procedures (functions decorated with @proc)")
        compile_procs(procs, args.outdir, f"{stem}.c", f"{stem}.h")
    except KnitError as err:
        return _fail(str(err))
    except UserCodeError as err:
        return _fail(f"running {path} failed:\n{err}")
    out = Path(args.outdir)
    names = ", ".join(p.name() for p in procs)
    print(f"knitc: wrote {out / (stem + '.c')} and {out / (stem + '.h')} ({names})")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="knitc", description="Compile the knit procedures "
                                "a Python file defines to C (NAME.c and NAME.h).")
    p.add_argument("source", help="a Python file defining @proc procedures")
    p.add_argument("-o", "--outdir", required=True, help="directory for the C files "
                   "(created if missing)")
    p.add_argument("--stem", help="base name of the output files (default: the source "
                   "file's name without .py)")
    return p


def _cache_command(argv: list[str]) -> int:
    """`knitc cache size|clear|dir`: the JIT's cache of compiled libraries."""
    p = argparse.ArgumentParser(prog="knitc cache", description="The cache of libraries "
                                "compiled by Procedure.compile() ($KNIT_CACHE_DIR, else "
                                "~/.cache/knit).")
    p.add_argument("action", choices=["size", "clear", "dir"], help="size: how many "
                   "libraries and bytes; clear: delete them all; dir: print the directory")
    args = p.parse_args(argv)
    try:
        d = cache.directory(create=False)
        if args.action == "dir":
            print(d)
        elif args.action == "size":
            libs, nbytes = cache.size()
            print(f"{d}: {libs} librar{'y' if libs == 1 else 'ies'}, "
                  f"{nbytes / 1e6:.1f} MB")
        else:
            n = cache.clear()
            print(f"knitc: removed {n} file(s) from {d}")
    except KnitError as err:
        return _fail(str(err))
    return 0


def _fail(message: str) -> int:
    print(f"knitc: error: {message}", file=sys.stderr)
    return 1


def _defined_procs(module, path: Path) -> list:
    """The non-instr Procedures bound at the module's top level, each once, in order,
    leaving out those imported from another module."""
    if "__all__" in vars(module):  # as exocc: __all__ lists what to compile
        return get_procs_from_module(module)
    others = [m for n, m in list(sys.modules.items()) if m is not module and n != "__main__"]
    out: list = []
    for value in vars(module).values():
        if not isinstance(value, Procedure) or value.is_instr():
            continue
        if any(value is p for p in out) or _imported(value, others, path):
            continue
        out.append(value)
    return out


def _imported(p, modules, path: Path) -> bool:
    """Whether p comes from another module: defined in another file and bound there."""
    src = ir_of(p).srcinfo.filename
    if Path(src).resolve() == path.resolve():
        return False
    return any(any(v is p for v in vars(m).values()) for m in modules
               if hasattr(m, "__dict__"))


if __name__ == "__main__":
    sys.exit(main())
