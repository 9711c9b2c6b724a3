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
import importlib.machinery
import importlib.util
import inspect
import sys
from pathlib import Path

import knit


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

    from knit.cli import _run_file  # here: cli imports this module

    library = [p for src in args.source
               for p in get_procs_from_module(_run_file(Path(src)))]
    knit.compile_procs(library, outdir, f"{stem}.c", f"{stem}.h")
    write_depfile(outdir, stem)
    return 0


def load_user_code(path):
    """Run the Python file `path` as a fresh module and return it (Exo's
    `exo.main.load_user_code`). A missing file raises FileNotFoundError; an exception the
    file raises propagates unchanged; sys.path is left as it is.

    Unlike Exo, the module is registered in sys.modules (as `knitc_<stem>`, its
    `__name__`) before it runs: `@config` classes are read back with inspect, which
    finds a class's file through its module there. A later file of the same stem
    replaces the entry; the modules already loaded keep working."""
    module_path = Path(path).resolve(strict=True)
    name = f"knitc_{module_path.stem}"
    loader = importlib.machinery.SourceFileLoader(name, str(module_path))  # any suffix
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def get_procs_from_module(module) -> list:
    """The non-instruction Procedures a module exports (Exo's
    `exo.main.get_procs_from_module`): those its `__all__` names when it has one, else
    those bound to its public (not underscored) names, in that order; a Procedure bound
    to two names is listed once."""
    names = module.__dict__["__all__"] if "__all__" in module.__dict__ else dir(module)
    out = []
    for name in names:
        if name.startswith("_"):
            continue
        value = getattr(module, name)
        if isinstance(value, knit.Procedure) and not value.is_instr() and \
                not any(value is p for p in out):
            out.append(value)
    return out


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
