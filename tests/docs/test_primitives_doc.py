"""docs/primitives.md is generated from the primitives' docstrings: regenerating it
must give the committed file (run `python docs/gen_primitives.py` after changing a
docstring)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_primitives_md_is_up_to_date():
    spec = importlib.util.spec_from_file_location("gen_primitives", DOCS / "gen_primitives.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    committed = (DOCS / "primitives.md").read_text()
    assert gen.render() == committed, (
        "docs/primitives.md is stale: run `python docs/gen_primitives.py` and commit it")


def test_every_primitive_is_in_the_reference():
    import knit.stdlib.scheduling as S

    spec = importlib.util.spec_from_file_location("gen_primitives", DOCS / "gen_primitives.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    listed = {n for names in gen.FAMILIES.values() for n in names}
    missing = [n for n in listed if not callable(getattr(S, n, None))]
    assert not missing, f"FAMILIES names primitives that do not exist: {missing}"
