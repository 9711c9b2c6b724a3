"""`from knit.stdlib.stdlib import *` gives the `relu` and `select` externs, as Exo's
`exo.stdlib.stdlib` does (Exo's Gemmini matmul test calls `relu` with nothing else
imported)."""

from __future__ import annotations

import numpy as np

import knit.libs.externs as ext
import knit.stdlib.stdlib as stdlib_mod
from knit.main import load_user_code


def test_relu_and_select_reexported():
    assert stdlib_mod.relu is ext.relu and stdlib_mod.select is ext.select
    ns: dict = {}
    exec("from knit.stdlib.stdlib import *", ns)
    assert ns["relu"] is ext.relu and ns["select"] is ext.select


def test_relu_through_stdlib_runs(tmp_path):
    path = tmp_path / "clip_lib.py"
    path.write_text("from __future__ import annotations\nfrom knit.stdlib.stdlib import *\n"
                    "@proc\ndef clip(x: f32[4]):\n    for i in seq(0, 4):\n"
                    "        x[i] = relu(x[i])\n")
    mod = load_user_code(path)
    x = np.array([-1.0, 2.0, -3.0, 4.0], dtype=np.float32)
    a, b = x.copy(), x.copy()
    mod.clip.interpret(x=a)
    mod.clip.compile()(b)
    assert list(a) == list(b) == [0.0, 2.0, 0.0, 4.0]
