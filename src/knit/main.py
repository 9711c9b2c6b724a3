"""`exocc` compatibility: the command-line compiler of Exo 1.0 (`exo.main`), same
options and outputs, on knit.

    python -m knit.main kernels.py                 # writes kernels/kernels.{c,h,d}
    python -m knit.main a.py b.py -o build --stem lib

As in Exo: every source file is run (`load_user_code`); its `__all__` (when it has
one) lists what to compile, else every public top-level name is considered; each
non-instruction Procedure among them is compiled into one C file and header
(`get_procs_from_module`). `-o` defaults to the source's stem
(one source only), `--stem` likewise; a make-style dependency file `<stem>.d` lists the
Python files the compilation read. (`knitc` is knit's own command: it compiles only the
procedures a file itself defines; it also honours `__all__`.)
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

import knit
from knit.usercode import get_procs_from_module, load_user_code, run_file

__all__ = ["main", "load_user_code", "get_procs_from_module", "write_depfile"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="exocc", description="Compile an Exo library "
                                     "(with knit).")
    parser.add_argument("-o", "--outdir", metavar="OUTDIR",
                        help="output directory for build artifacts")
    parser.add_argument("--stem", help="base name for .c and .h files")
    parser.add_argument("source", type=str, nargs="+", help="source file to compile")
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s version {knit.__version__} (knit)",
                        help="print the version and exit")
    args = parser.parse_args(argv)
    srcname = Path(args.source[0]).stem
    if args.outdir:
        outdir = Path(args.outdir)
    elif len(args.source) == 1:
        outdir = Path(srcname)
    else:
        parser.error("Must provide -o when processing multiple source files.")
    if args.stem:
        stem = args.stem
    elif len(args.source) == 1:
        stem = srcname
    else:
        parser.error("Must provide --stem when processing multiple source files.")
    outdir.mkdir(parents=True, exist_ok=True)

    library = [p for src in args.source
               for p in get_procs_from_module(run_file(Path(src)))]
    knit.compile_procs(library, outdir, f"{stem}.c", f"{stem}.h")
    write_depfile(outdir, stem)
    return 0


def write_depfile(outdir: Path, stem: str) -> None:
    """`<stem>.d`: the C file and header depend on every Python file loaded."""
    files = set()
    for mod in list(sys.modules.values()):
        try:
            files.add(inspect.getfile(mod))
        except (TypeError, OSError):
            pass  # built-in modules have no file
    deps = " \\\n  ".join(sorted(files))
    (outdir / f"{stem}.d").write_text(f"{outdir / (stem + '.c')} {outdir / (stem + '.h')} : "
                                      f"{deps}")


if __name__ == "__main__":
    sys.exit(main())
