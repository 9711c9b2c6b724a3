"""The bad-input corpus, run in-process for checks that look at every error it raises:
each case of tests/bad_inputs (a parametrized case with each of its parameters, a
fixture with each of its params) and of tests/errors/test_bad_programs.py, with
`expect_error` (tests/helpers/refusals.py, as each module and refusals.py itself call it)
wrapped to collect the error the case caught. Cases marked skip or
xfail are left to pytest."""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
BAD = TESTS / "bad_inputs"
PROGRAMS = TESTS / "errors" / "test_bad_programs.py"


def _modules():
    sys.path.insert(0, str(BAD))
    mods = [importlib.import_module(p.stem) for p in sorted(BAD.glob("test_*.py"))]
    spec = importlib.util.spec_from_file_location("corpus_bad_programs", PROGRAMS)
    programs = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = programs  # inspect finds the source of its classes
    spec.loader.exec_module(programs)
    return importlib.import_module("refusals"), [*mods, programs]


def _calls(mod, fn):
    """The keyword arguments of each run of a test function, or None if pytest must run
    it (a skip or xfail mark, or a fixture without params)."""
    options = {}
    for mark in getattr(fn, "pytestmark", []):
        if mark.name != "parametrize":
            return None
        names = [n.strip() for n in mark.args[0].split(",")] if isinstance(mark.args[0], str) \
            else list(mark.args[0])
        if len(names) != 1:
            return None
        options[names[0]] = list(mark.args[1])
    for name in inspect.signature(fn).parameters:
        if name not in options:
            marker = getattr(getattr(mod, name, None), "_fixture_function_marker", None)
            if marker is None or not marker.params:
                return None
            options[name] = list(marker.params)
    keys = list(options)
    return [dict(zip(keys, values)) for values in itertools.product(*options.values())]


def raised_in_primitive(err: BaseException) -> bool:
    """Whether `err` came out of a public scheduling primitive (its traceback, as raised,
    passes through the wrapper every primitive has, knit.trace.recorded)."""
    from knit import trace

    tb = err.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "wrapper" and code.co_filename == trace.__file__:
            return True
        tb = tb.tb_next
    return False


@functools.cache
def corpus_errors() -> tuple[tuple[str, BaseException, bool], ...]:
    """(case name, the error it raised, whether a primitive raised it) for every case
    of the corpus run here."""
    checks, mods = _modules()
    seen: list = []
    current = [""]

    def wrap(original):
        def expect_error(*args, **kwargs):
            err = original(*args, **kwargs)
            seen.append((current[0], err, raised_in_primitive(err)))
            return err
        return expect_error

    saved = [(m, m.expect_error) for m in (checks, *mods) if hasattr(m, "expect_error")]
    try:
        for m, original in saved:
            m.expect_error = wrap(original)
        for mod in mods:
            for name, fn in list(vars(mod).items()):
                if not name.startswith("test_") or not inspect.isfunction(fn):
                    continue
                for kwargs in _calls(mod, fn) or []:
                    current[0] = f"{mod.__name__}::{name}{kwargs or ''}"
                    fn(**kwargs)
    finally:
        for m, original in saved:
            m.expect_error = original
    return tuple(seen)
