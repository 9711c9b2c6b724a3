"""The whole suite runs with its caches in a scratch directory, never the user's.

`pytest_configure` (before any test module is imported) points $KNIT_CACHE_DIR (knit's JIT
and tuning caches), $XDG_CACHE_HOME (ccache and other tools) and $MPLCONFIGDIR
(matplotlib) at a fresh directory per process (each xdist worker has its own), removed at
the end; subprocesses inherit them.

That is a convention; the audit hook below makes it a check. It records every file this
process opens for writing, creates, moves or removes under the user's cache directory,
and every subprocess given a path there; the test during which it happened fails at
teardown with the path (writes made while modules were imported are reported by the
next test). tests/test_user_cache.py checks the check. The code: tests/user_cache_guard.py.
"""

import sys
from pathlib import Path

# the shared checks (refusals.py, scheduling_checks.py) for every test directory
sys.path.insert(0, str(Path(__file__).parent / "helpers"))


# pytest finds hooks and fixtures by their names in this module
from user_cache_guard import (  # noqa: E402, F401
    _leaves_user_cache_alone,
    fresh_knit_cache,
    pytest_configure,
    pytest_unconfigure,
)
