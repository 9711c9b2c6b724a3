"""knit starts OpenMP with a short spin count (knit.runtime.openmp) unless the user
chose a wait policy: checked in fresh processes, by what libgomp itself reports having
read (OMP_DISPLAY_ENV=verbose), and the variable gone from the environment after."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from knit.runtime import openmp

CHILD = r"""from __future__ import annotations
import json, os, sys
import numpy as np
from knit import proc
from knit.runtime import openmp

@proc
def par_scale(N: size, x: f32[N]):
    for i in par(0, N):
        x[i] = x[i] * 2.0

before = sys.argv[1] == "before"
if before:  # another library started libgomp first
    import ctypes
    ctypes.CDLL("libgomp.so.1")
x = np.arange(8, dtype=np.float32)
par_scale.compile()(x)
print(json.dumps({"x": x.tolist(), "env": os.environ.get("GOMP_SPINCOUNT"),
                  "setting": openmp.setting()}))
"""


def run_child(tmp_path, env_extra: dict, order: str = "knit") -> tuple[dict, str]:
    script = tmp_path / "child.py"  # a file: @proc reads the procedure's source
    script.write_text(CHILD)
    env = {k: v for k, v in os.environ.items() if k not in openmp.USER_SETTINGS}
    env.update(env_extra, OMP_DISPLAY_ENV="verbose", OMP_NUM_THREADS="2")
    r = subprocess.run([sys.executable, str(script), order], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1]), r.stderr


def spin_count_read(stderr: str) -> str:
    """The GOMP_SPINCOUNT libgomp reports at its start (OMP_DISPLAY_ENV=verbose)."""
    lines = [ln for ln in stderr.splitlines() if ln.strip().startswith("GOMP_SPINCOUNT")]
    assert len(lines) == 1, stderr
    return lines[0].split("=", 1)[1].strip().strip("'")


@pytest.fixture(scope="module", autouse=True)
def gcc_openmp():
    if not openmp.libgomp_loaded():
        import ctypes

        try:
            ctypes.CDLL("libgomp.so.1")
        except OSError:
            pytest.skip("no libgomp.so.1 here (GCC's OpenMP runtime)")


def test_knit_starts_libgomp_with_its_spin_count_and_leaves_no_variable(tmp_path):
    out, err = run_child(tmp_path, {})
    assert spin_count_read(err) == str(openmp.SPIN_COUNT)
    assert out["env"] is None  # set only while libgomp started
    assert out["setting"] == f"GOMP_SPINCOUNT={openmp.SPIN_COUNT} (knit's default)"
    assert out["x"] == [2.0 * i for i in range(8)]


def test_the_users_spin_count_is_kept(tmp_path):
    out, err = run_child(tmp_path, {"GOMP_SPINCOUNT": "123"})
    assert spin_count_read(err) == "123"
    assert out["env"] == "123"
    assert out["setting"] == "GOMP_SPINCOUNT=123 (the user's)"


def test_the_users_wait_policy_is_kept(tmp_path):
    out, err = run_child(tmp_path, {"OMP_WAIT_POLICY": "passive"})
    assert spin_count_read(err) == "0"  # libgomp's own for passive
    assert out["env"] is None
    assert out["setting"] == "OMP_WAIT_POLICY=passive (the user's)"


def test_a_libgomp_started_by_another_library_is_left_alone(tmp_path):
    out, err = run_child(tmp_path, {}, order="before")
    assert spin_count_read(err) == "300000"  # libgomp's default, read before knit ran
    assert out["env"] is None
    assert out["setting"] == "started before knit's first parallel library"
    assert out["x"] == [2.0 * i for i in range(8)]
