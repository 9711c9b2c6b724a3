"""Procedure._repr_html_: notebooks show the object code, escaped, highlighted when
pygments is there."""

from __future__ import annotations

import builtins
import html
import re

from knit import proc


@proc
def scale(N: size, x: f32[N], y: f32[N]):
    assert N < 1000
    for i in seq(0, N):
        if i < 3:
            y[i] = x[i] * 2.0


def _text(h: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", h))


def test_repr_html_is_the_object_code():
    h = scale._repr_html_()
    assert h.lstrip().startswith(("<div", "<pre"))
    assert _text(h).strip() == str(scale).strip()
    assert "N < 1000" not in h  # '<' is escaped


def test_repr_html_without_pygments(monkeypatch):
    real = builtins.__import__

    def no_pygments(name, *a, **k):
        if name.startswith("pygments"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_pygments)
    h = scale._repr_html_()
    assert h == f"<pre>{html.escape(str(scale))}</pre>"
