"""Running a user's Python file and finding the procedures it exports: what both
command-line compilers do first (`knitc`, knit.cli; `exocc`, knit.main, which also
hands `load_user_code` and `get_procs_from_module` on under Exo's `exo.main` names)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import traceback
from pathlib import Path

from knit.errors import KnitError
from knit.procedure import Procedure


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
        if isinstance(value, Procedure) and not value.is_instr() and \
                not any(value is p for p in out):
            out.append(value)
    return out


class UserCodeError(Exception):
    """An exception raised by the user's file itself (its traceback is for them)."""


def run_file(path: Path):
    """Import `path` as a fresh module (`load_user_code`), its directory first on
    sys.path as `python file.py` would have it; an error the file raises becomes a
    UserCodeError carrying the user's part of the traceback."""
    sys.path.insert(0, str(path.resolve().parent))
    try:
        module = load_user_code(path)
    except KnitError:
        raise
    except BaseException as err:
        if isinstance(err, KeyboardInterrupt):
            raise
        raise UserCodeError(_user_traceback(err)) from None
    return module


def _user_traceback(err: BaseException) -> str:
    """The traceback without knit's loading frames (this module's) and importlib's."""
    ours = (__file__,)
    tb = err.__traceback__
    while tb is not None and (tb.tb_frame.f_code.co_filename in ours
                              or tb.tb_frame.f_code.co_filename.startswith("<frozen")):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(err), err, tb)).rstrip()
