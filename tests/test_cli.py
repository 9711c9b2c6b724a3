"""knitc: from a Python file to C that a C program links and runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from knit.cli import main

KERNELS = """
from __future__ import annotations
from knit import proc, instr, config, DRAM
from helpers import twice

@config
class Scale:
    k: f32

@instr("{dst_data} = {src_data};")
def copy1(dst: [f32][1] @ DRAM, src: [f32][1] @ DRAM):
    dst[0] = src[0]

@proc
def set_scale(k: f32):
    Scale.k = k

@proc
def scaled_sum(N: size, x: f32[N], out: f32):
    assert N >= 2
    out = 0.0
    for i in seq(0, N):
        out += x[i] * Scale.k
    copy1(x[0:1], x[N - 1:N])

@proc
def doubled(N: size, x: f32[N]):
    twice(N, x)
"""

HELPERS = """
from __future__ import annotations
from knit import proc

@proc
def twice(N: size, x: f32[N]):
    for i in seq(0, N):
        x[i] = x[i] * 2.0
"""

MAIN_C = """
#include <stdio.h>
#include "k.h"

int main(void) {
    float x[4] = {1, 2, 3, 4};
    float k = 0.5f, out = -1;
    set_scale(NULL, &k);  /* Exo's ABI: a context first */
    scaled_sum(NULL, 4, x, &out);
    doubled(NULL, 4, x);
    printf("%g %g %g %g %g\\n", out, x[0], x[1], x[2], x[3]);
    return 0;
}
"""


def knitc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the installed console script (or the module, if the script is not on disk)."""
    script = Path(sys.executable).parent / "knitc"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "knit.cli"]
    return subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "kernels.py").write_text(KERNELS)
    (tmp_path / "helpers.py").write_text(HELPERS)
    return tmp_path


def test_end_to_end(project):
    r = knitc("kernels.py", "-o", "build", "--stem", "k", cwd=project)
    assert r.returncode == 0, r.stderr
    build = project / "build"
    c, h = (build / "k.c").read_text(), (build / "k.h").read_text()
    # every proc the file defines is public; instrs and imported procs are not
    for name in ("set_scale", "scaled_sum", "doubled"):
        assert f"void {name}(" in h
    assert "twice" not in h and "static void twice(" in c and "copy1" not in h
    (build / "main.c").write_text(MAIN_C)
    exe = build / "main"
    cc = subprocess.run(["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O2",
                         str(build / "main.c"), str(build / "k.c"), "-o", str(exe)],
                        capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["5", "8", "4", "6", "8"]


def test_stem_defaults_to_the_file_name(project):
    r = knitc(str(project / "kernels.py"), "-o", str(project / "out"), cwd=project.parent)
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout and "scaled_sum" in r.stdout
    assert (project / "out" / "kernels.c").exists() and (project / "out" / "kernels.h").exists()


def test_missing_file(tmp_path, capsys):
    assert main([str(tmp_path / "nope.py"), "-o", str(tmp_path)]) == 1
    assert "no such file" in capsys.readouterr().err


def test_file_without_procs(tmp_path, capsys):
    (tmp_path / "empty.py").write_text("from knit import proc\nX = 1\n")
    assert main([str(tmp_path / "empty.py"), "-o", str(tmp_path / "o")]) == 1
    assert "defines no procedures" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_knit_error_is_reported_without_traceback(tmp_path):
    (tmp_path / "bad.py").write_text(textwrap.dedent("""
        from __future__ import annotations
        from knit import proc

        @proc
        def oob(N: size, x: f32[N]):
            x[N] = 1.0
    """))
    r = knitc("bad.py", "-o", "out", cwd=tmp_path)
    assert r.returncode == 1
    assert "bad.py:7:" in r.stderr and "out of bounds" in r.stderr
    assert "Traceback" not in r.stderr


def test_error_in_the_users_code_shows_their_traceback_only(tmp_path):
    (tmp_path / "boom.py").write_text("def f():\n    raise ValueError('boom')\nf()\n")
    r = knitc("boom.py", "-o", "out", cwd=tmp_path)
    assert r.returncode == 1
    assert "ValueError: boom" in r.stderr and 'boom.py", line 3' in r.stderr
    assert "cli.py" not in r.stderr


def test_missing_output_argument_is_a_usage_error(tmp_path):
    r = knitc("kernels.py", cwd=tmp_path)
    assert r.returncode == 2 and "-o" in r.stderr
