"""pytest plugin that runs Exo 1.0's own tests against knit (`-p exo_alias`, see run.sh).

- Every module `exo`, `exo.X` is knit's `knit`, `knit.X` (a finder first on
  `sys.meta_path`, so Exo's own sources, if on the path, are never imported).
- A golden comparison that fails writes what knit printed to
  `$GOLDEN_DUMP/<test file>/<test>.txt`, beside Exo's `tests/golden/` layout.
- A failing test gets a junit property saying why, for table.py:
  `golden` (the golden file that differed), or `raises` = `wording` (knit raised the
  expected class, the message did not match), `class` (knit refused with another of
  its own error classes), `accepts` (knit raised nothing) or `other <Class>`.
"""

import importlib
import importlib.abc
import importlib.machinery
import os
import sys
from pathlib import Path

import pytest


class _ExoIsKnit(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self):
        self.knit_specs = {}

    def find_spec(self, name, path=None, target=None):
        if name != "exo" and not name.startswith("exo."):
            return None
        module = importlib.import_module("knit" + name[3:])
        self.knit_specs[name] = module.__spec__
        return importlib.machinery.ModuleSpec(name, self, is_package=hasattr(module, "__path__"))

    def create_module(self, spec):
        return importlib.import_module("knit" + spec.name[3:])

    def exec_module(self, module):
        # the import system set __spec__ to the alias's spec: give knit's back
        module.__spec__ = self.knit_specs[module.__spec__.name]


sys.meta_path.insert(0, _ExoIsKnit())

_item = None  # the test running now


def _note(name, value):
    if _item is not None:
        _item.user_properties.append((name, value))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    global _item
    _item = item


class _WatchedRaises:
    def __init__(self, context):
        self.context = context

    def __enter__(self):
        return self.context.__enter__()

    def __exit__(self, kind, value, traceback):
        __tracebackhide__ = True
        try:
            caught = self.context.__exit__(kind, value, traceback)
        except AssertionError:  # the class matched, the message did not
            _note("raises", "wording")
            raise
        except pytest.fail.Exception:
            _note("raises", "accepts")
            raise
        if not caught:
            own = kind.__module__.startswith("knit") and kind.__name__ != "InternalError"
            _note("raises", "class" if own else "other " + kind.__name__)
        return caught


_raises = pytest.raises


def _watched_raises(expected, *args, **kwargs):
    if args:  # the call form, raises(E, function, *arguments)
        return _raises(expected, *args, **kwargs)
    return _WatchedRaises(_raises(expected, **kwargs))


pytest.raises = _watched_raises


def _watch_golden(golden_class, golden_root):
    equal = golden_class.__eq__

    def __eq__(self, actual):
        same = equal(self, actual)
        if not same and not isinstance(actual, golden_class):
            rel = Path(self.path).relative_to(golden_root)
            _note("golden", str(rel))
            if os.environ.get("GOLDEN_DUMP"):
                out = Path(os.environ["GOLDEN_DUMP"]) / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(str(actual))
        return same

    golden_class.__eq__ = __eq__


def pytest_plugin_registered(plugin, manager):
    # Exo's tests/conftest.py defines GoldenOutput, the `golden` fixture's class
    golden_class = getattr(plugin, "GoldenOutput", None)
    if isinstance(golden_class, type) and getattr(plugin, "__file__", None):
        _watch_golden(golden_class, Path(plugin.__file__).parent / "golden")
