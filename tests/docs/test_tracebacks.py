"""Errors point at the user's code: a knit error's traceback, as shown, has no frame
inside the knit package (issue 13), unless KNIT_TRACEBACK=full.

The corpus is tests/bad_inputs and tests/errors/test_bad_programs.py: every case there
goes through `expect_error` (tests/helpers/refusals.py), which returns the error it
caught; tests/docs/corpus.py runs those cases again with `expect_error` wrapped so that
each error's formatted traceback is
checked too."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import knit
from knit.errors import InternalError, KnitError, format_exception

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import corpus_errors  # noqa: E402

KNIT_DIR = str(Path(knit.__file__).resolve().parent)


def _internal_frames(text: str) -> list[str]:
    return [ln for ln in text.splitlines()
            if ln.strip().startswith("File ") and KNIT_DIR in ln]


def test_bad_input_corpus_tracebacks_have_no_knit_frames(monkeypatch):
    """Every knit error of the corpus (tests/bad_inputs, parametrized cases included,
    and tests/errors/test_bad_programs.py; see tests/docs/corpus.py), formatted as it
    is shown, has no frame inside knit and says how to see them."""
    monkeypatch.delenv("KNIT_TRACEBACK", raising=False)
    seen = corpus_errors()
    assert len(seen) > 200, len(seen)
    knit_errors = [(name, e) for name, e, _ in seen if isinstance(e, KnitError)]
    assert len(knit_errors) > 150
    assert {name.split("::")[0] for name, _ in knit_errors} >= {
        "test_bad_api_args", "test_bad_buffers", "test_bad_call_args", "test_bad_cursors",
        "test_bad_loops", "test_bad_subprocs", "corpus_bad_programs"}
    assert any("test_bad_call[" in name or "'case':" in name for name, _ in knit_errors)
    for name, err in knit_errors:
        assert not isinstance(err, InternalError), (name, err)
        assert err.__traceback__ is not None, name  # as raised: knit's frames in it
        text = format_exception(err)
        assert not _internal_frames(text), (name, text)
        assert str(err).splitlines()[0] in text, name
        assert "KNIT_TRACEBACK=full" in text, name


SCRIPT = textwrap.dedent('''
    from __future__ import annotations
    from knit import proc
    from knit.stdlib.scheduling import divide_loop

    @proc
    def f(N: size, A: f32[N]):
        for i in seq(0, N):
            A[i] = 0.0

    divide_loop(f, "for j in _: _", 4, ["a", "b"])
''')


@pytest.mark.parametrize("mode", ["", "full"])
def test_uncaught_error_in_a_script(tmp_path, mode):
    script = tmp_path / "user.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, KNIT_TRACEBACK=mode, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 1
    assert "PatternError: pattern 'for j in _: _' matches nothing" in out.stderr
    assert f'File "{script}", line 11' in out.stderr
    if mode == "full":
        assert _internal_frames(out.stderr), out.stderr
    else:
        assert not _internal_frames(out.stderr), out.stderr
        assert "set KNIT_TRACEBACK=full" in out.stderr


def test_internal_error_keeps_every_frame():
    def boom():
        from knit.cursors import pattern  # any knit frame will do: raise from inside one

        raise InternalError(f"bug in {pattern.__name__}")

    try:
        exec(compile("boom()", os.path.join(KNIT_DIR, "fake.py"), "exec"), {"boom": boom})
    except InternalError as e:
        text = format_exception(e)
    assert _internal_frames(text) and "KNIT_TRACEBACK" not in text


def test_caught_error_keeps_its_traceback_until_shown():
    from knit.stdlib.scheduling import divide_loop

    @knit.proc
    def g(N: size, A: f32[N]):
        for i in seq(0, N):
            A[i] = 0.0

    with pytest.raises(KnitError) as info:
        divide_loop(g, "for j in _: _", 4, ["a", "b"])
    full = "".join(__import__("traceback").format_exception(info.value))
    assert _internal_frames(full)  # an `except` sees where it came from
    assert not _internal_frames(format_exception(info.value))


def test_ipython_shows_user_frames_only(monkeypatch):
    """In IPython/Jupyter the handler installed for KnitError filters the traceback
    before IPython formats it (a stand-in shell: IPython is not a dependency)."""
    import types

    from knit import errors

    shown = []

    class Shell:
        custom_exceptions = ()

        def set_custom_exc(self, classes, handler):
            self.custom_exceptions, self.handler = classes, handler

        def showtraceback(self, exc_tuple, tb_offset=None):
            shown.append(exc_tuple)

    shell = Shell()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    errors.install_traceback_filter()
    assert shell.custom_exceptions == (KnitError,)
    from knit.stdlib.scheduling import divide_loop

    @knit.proc
    def h(N: size, A: f32[N]):
        for i in seq(0, N):
            A[i] = 0.0

    try:
        divide_loop(h, "for j in _: _", 4, ["a", "b"])
    except KnitError as e:
        shell.handler(shell, type(e), e, e.__traceback__)
    etype, value, tb = shown[0]
    text = "".join(__import__("traceback").format_exception(etype, value, tb))
    assert not _internal_frames(text) and "matches nothing" in text
    # a handler someone else installed is left in place
    other = Shell()
    other.custom_exceptions = (ValueError,)
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: other))
    errors.install_traceback_filter()
    assert other.custom_exceptions == (ValueError,)


def test_user_call_site_is_the_line_calling_into_knit():
    from knit.errors import user_call_site

    here = user_call_site()  # called from this test: the test's own line
    line = inspect.currentframe().f_lineno - 1
    assert here == f"{__file__}:{line}"


def test_user_call_site_skips_knit_frames():
    from knit.errors import user_call_site

    ns = {"user_call_site": user_call_site}
    inside_knit = compile("site = user_call_site()", os.path.join(KNIT_DIR, "fake.py"), "exec")
    exec(inside_knit, ns)
    line = inspect.currentframe().f_lineno - 1
    assert ns["site"] == f"{__file__}:{line}"
