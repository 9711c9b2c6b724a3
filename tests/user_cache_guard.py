"""A pytest plugin: the caches in a scratch directory, and a check that nothing is written
under the user's cache directory (tests/conftest.py loads it; see its docstring)."""


from __future__ import annotations

import os
import shutil
import sys
import tempfile

import pytest

# The user's cache directory, as it was before this conftest changed the environment.
USER_CACHE = os.path.realpath(os.environ.get("XDG_CACHE_HOME")
                              or os.path.join(os.path.expanduser("~"), ".cache"))

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_PATH_EVENTS = {  # audit event -> the positions of its path arguments
    "os.mkdir": (0,), "os.remove": (0,), "os.rmdir": (0,), "os.rename": (0, 1),
    "os.replace": (0, 1), "os.symlink": (0, 1), "os.link": (0, 1), "os.truncate": (0,),
    "os.chmod": (0,), "os.utime": (0,), "shutil.copyfile": (1,), "shutil.copytree": (1,),
    "shutil.rmtree": (0,), "shutil.move": (0, 1)}

user_cache_writes: list[str] = []  # "event path", in the order they happened
_reported = 0  # how many of them a test has already failed for


def _in_user_cache(path) -> bool:
    if isinstance(path, int) or path is None:  # a file descriptor: its open was checked
        return False
    try:
        p = os.fsdecode(os.fspath(path))
    except TypeError:
        return False
    p = os.path.abspath(p)
    return p == USER_CACHE or p.startswith(USER_CACHE + os.sep)


def write_under_user_cache(event: str, args: tuple) -> str | None:
    """The path under the user's cache that this audit event writes, else None."""
    if event == "open":
        path, mode, flags = args
        writes = (any(c in mode for c in "wax+") if isinstance(mode, str)
                  else bool(flags & _WRITE_FLAGS))
        return os.fsdecode(os.fspath(path)) if writes and _in_user_cache(path) else None
    if event in _PATH_EVENTS:
        for i in _PATH_EVENTS[event]:
            if i < len(args) and _in_user_cache(args[i]):
                return os.fsdecode(os.fspath(args[i]))
        return None
    if event == "subprocess.Popen":
        _exe, argv, cwd, _env = args
        argv = [argv] if isinstance(argv, (str, bytes, os.PathLike)) else list(argv or ())
        for a in [*argv, cwd]:
            if a is not None and not isinstance(a, int) and USER_CACHE in os.fsdecode(a):
                return os.fsdecode(a)
    return None


def _audit(event: str, args: tuple) -> None:
    if event == "open" or event in _PATH_EVENTS or event == "subprocess.Popen":
        path = write_under_user_cache(event, args)
        if path is not None:
            user_cache_writes.append(f"{event} {path}")


_scratch: str | None = None


def pytest_configure(config):
    global _scratch
    _scratch = tempfile.mkdtemp(prefix="knit-tests-")
    for var, sub in (("KNIT_CACHE_DIR", "knit"), ("XDG_CACHE_HOME", "xdg-cache"),
                     ("MPLCONFIGDIR", "matplotlib")):
        os.environ[var] = os.path.join(_scratch, sub)
        os.makedirs(os.environ[var], exist_ok=True)
    sys.addaudithook(_audit)  # stays for the process: audit hooks cannot be removed


def pytest_unconfigure(config):
    if _scratch is not None:
        shutil.rmtree(_scratch, ignore_errors=True)


@pytest.fixture(autouse=True)
def _leaves_user_cache_alone():
    """Fails the test that wrote under the user's cache directory."""
    global _reported
    yield
    new = user_cache_writes[_reported:]
    _reported = len(user_cache_writes)
    if new:
        pytest.fail(f"wrote under the user's cache {USER_CACHE} (tests/conftest.py "
                    "points the caches at a scratch directory; use it):\n  "
                    + "\n  ".join(new), pytrace=False)


@pytest.fixture(scope="module")
def fresh_knit_cache(tmp_path_factory):
    """An empty JIT cache for one test module (the session's is shared by all tests)."""
    d = tmp_path_factory.mktemp("knit-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KNIT_CACHE_DIR", str(d))
        yield d
