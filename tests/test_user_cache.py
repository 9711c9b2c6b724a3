"""The suite leaves the user's cache alone: tests/conftest.py points every cache at a
scratch directory, and its audit hook fails a test that writes under ~/.cache anyway.
These tests check both halves, without writing there."""

from __future__ import annotations

import os
import subprocess
import sys

from user_cache_guard import USER_CACHE, write_under_user_cache

import knit.cache

HERE = os.path.join(USER_CACHE, "knit", "lib.so")


def test_the_caches_point_at_a_scratch_directory():
    for d in (knit.cache.directory(), os.environ["XDG_CACHE_HOME"], os.environ["MPLCONFIGDIR"]):
        assert not os.path.realpath(d).startswith(USER_CACHE + os.sep), d
    assert not write_under_user_cache("open", (knit.cache.directory() + "/x.so", "wb", 0))


def test_a_subprocess_inherits_the_scratch_cache():
    out = subprocess.run([sys.executable, "-c", "import knit.cache; print(knit.cache.directory())"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == knit.cache.directory()


def test_writes_under_the_user_cache_are_caught():
    assert write_under_user_cache("open", (HERE, "wb", 0)) == HERE
    assert write_under_user_cache("open", (HERE, "r+", 0)) == HERE
    assert write_under_user_cache("open", (HERE, None, os.O_WRONLY | os.O_CREAT)) == HERE
    assert write_under_user_cache("os.mkdir", (os.path.dirname(HERE), 0o777, None))
    assert write_under_user_cache("os.replace", ("/tmp/x", HERE, None, None)) == HERE
    assert write_under_user_cache("subprocess.Popen",
                                  ("cc", ["cc", "-o", HERE, "k.c"], None, None)) == HERE


def test_reads_and_other_places_are_not():
    assert write_under_user_cache("open", (HERE, "rb", 0)) is None
    assert write_under_user_cache("open", (HERE, None, os.O_RDONLY)) is None
    assert write_under_user_cache("open", ("/tmp/x.so", "wb", 0)) is None
    assert write_under_user_cache("open", (3, "wb", 0)) is None  # a descriptor
    assert write_under_user_cache("open", (USER_CACHE + "-not/x", "wb", 0)) is None
    assert write_under_user_cache("subprocess.Popen", ("cc", ["cc", "k.c"], None, None)) is None


def test_a_test_that_writes_there_fails(tmp_path):
    """End to end: the guard as a plugin fails a test that wrote under the user's cache
    (recorded by hand here, so that nothing is written there)."""
    (tmp_path / "test_writes.py").write_text(
        "import user_cache_guard\n"
        "def test_writes():\n"
        "    user_cache_guard.user_cache_writes.append('open ' + user_cache_guard.USER_CACHE"
        " + '/knit/x.so')\n"
        "def test_clean():\n"
        "    pass\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "user_cache_guard",
                        "-p", "no:cacheprovider", "-p", "no:xdist", str(tmp_path)],
                       cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "2 passed, 1 error" in r.stdout, r.stdout  # the error: test_writes' teardown
    assert "ERROR test_writes.py::test_writes" in r.stdout, r.stdout
    assert "wrote under the user's cache" in r.stdout and "/knit/x.so" in r.stdout, r.stdout
