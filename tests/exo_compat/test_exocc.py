"""The exocc-compatible entry (knit.main) and knitc honouring __all__."""

from __future__ import annotations

import textwrap

import pytest

from knit.cli import main as knitc
from knit.main import main as exocc

LIB = textwrap.dedent('''
    from __future__ import annotations
    from knit import proc, instr

    __all__ = ["pub", "helper_alias"]

    @proc
    def pub(x: f32[8]):
        for i in seq(0, 8):
            x[i] = 0.0

    @proc
    def hidden(x: f32[8]):
        for i in seq(0, 8):
            x[i] = 1.0

    @instr("{x_data}[0] = 0;")
    def zero_one(x: [f32][1]):
        x[0] = 0.0

    helper_alias = hidden
''')


def test_exocc_defaults_and_all(tmp_path, monkeypatch):
    src = tmp_path / "lib1.py"
    src.write_text(LIB)
    monkeypatch.chdir(tmp_path)
    assert exocc([str(src)]) == 0
    c = (tmp_path / "lib1" / "lib1.c").read_text()
    h = (tmp_path / "lib1" / "lib1.h").read_text()
    assert "pub(" in h and "hidden(" in h  # __all__ names pub and (an alias of) hidden
    assert "void pub(" in c
    dep = (tmp_path / "lib1" / "lib1.d").read_text()
    assert dep.startswith("lib1/lib1.c lib1/lib1.h : ")  # relative, as Exo writes it
    assert str(src) in dep


def test_exocc_needs_o_and_stem_for_several_sources(tmp_path, capsys):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text(LIB)
    b.write_text(LIB.replace("pub", "pub2").replace("hidden", "hidden2"))
    with pytest.raises(SystemExit):
        exocc([str(a), str(b)])
    assert "Must provide -o" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        exocc([str(a), str(b), "-o", str(tmp_path / "out")])
    assert "Must provide --stem" in capsys.readouterr().err
    assert exocc([str(a), str(b), "-o", str(tmp_path / "out"), "--stem", "both"]) == 0
    h = (tmp_path / "out" / "both.h").read_text()
    assert "pub(" in h and "pub2(" in h


def test_exocc_version(capsys):
    with pytest.raises(SystemExit) as e:
        exocc(["--version"])
    assert e.value.code == 0
    assert "1.0.0" in capsys.readouterr().out


def test_knitc_honours_all(tmp_path):
    src = tmp_path / "lib2.py"
    src.write_text(LIB.replace('__all__ = ["pub", "helper_alias"]', '__all__ = ["pub"]'))
    assert knitc([str(src), "-o", str(tmp_path / "o")]) == 0
    h = (tmp_path / "o" / "lib2.h").read_text()
    assert "pub(" in h and "hidden(" not in h
