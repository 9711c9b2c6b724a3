"""C compiler helpers for the backend tests: strict compiles, compiler checks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

STRICT = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-c"]


def strict_compile(cc: str, c_text: str, h_text: str, h_name: str, tmp: Path,
                   extra=()) -> subprocess.CompletedProcess:
    """Compile generated C to an object file, every warning an error."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / h_name).write_text(h_text)
    (tmp / "out.c").write_text(c_text)
    return subprocess.run([cc, *STRICT, *extra, str(tmp / "out.c"), "-o", str(tmp / "out.o")],
                          capture_output=True, text=True)


def clang_supports_float16(tmp: Path) -> bool:
    """Clang before 15 has no _Float16 on x86."""
    probe = tmp / "probe.c"
    probe.write_text("_Float16 h(_Float16 x) { return x; }\n")
    r = subprocess.run(["clang", "-c", str(probe), "-o", str(tmp / "probe.o")],
                       capture_output=True)
    return r.returncode == 0


def have(cc: str) -> bool:
    return shutil.which(cc) is not None
