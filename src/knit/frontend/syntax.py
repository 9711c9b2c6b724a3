"""`exo.frontend.syntax` at the same path: placeholder names for the words used inside
procedure source (`size`, `f32`, `stride`, `par`, and one-letter size names), so that
`from knit.frontend.syntax import *` quiets linters and IDEs. knit's parser reads the
source text and never evaluates these; calling or instantiating one is an error.
"""

from typing import TypeVar as _TypeVar


def _not_at_runtime(*_):
    raise SyntaxError("knit syntax placeholders exist for editors and linters; they are "
                      "read by the parser inside @proc source, never called")


class size(int):
    """A size parameter: a positive integer known when the procedure is called."""

    def __init__(self, *_):
        _not_at_runtime()


class f32(float):
    """A 32-bit floating point value."""

    def __init__(self, *_):
        _not_at_runtime()


def stride(tensor, dimension):
    """The stride of `tensor` along `dimension` (inside procedure source only)."""
    _not_at_runtime()


def par(lo, hi):
    """A parallel loop range `par(0, hi)` (inside procedure source only)."""
    _not_at_runtime()


# one-letter size names, as Exo provides them
D = _TypeVar("D", bound=size)
E = _TypeVar("E", bound=size)
F = _TypeVar("F", bound=size)
G = _TypeVar("G", bound=size)
H = _TypeVar("H", bound=size)
I = _TypeVar("I", bound=size)
J = _TypeVar("J", bound=size)
K = _TypeVar("K", bound=size)
L = _TypeVar("L", bound=size)
M = _TypeVar("M", bound=size)
N = _TypeVar("N", bound=size)
O = _TypeVar("O", bound=size)
P = _TypeVar("P", bound=size)
Q = _TypeVar("Q", bound=size)
R = _TypeVar("R", bound=size)
S = _TypeVar("S", bound=size)
T = _TypeVar("T", bound=size)
U = _TypeVar("U", bound=size)
V = _TypeVar("V", bound=size)
W = _TypeVar("W", bound=size)
X = _TypeVar("X", bound=size)
Y = _TypeVar("Y", bound=size)
Z = _TypeVar("Z", bound=size)
a = _TypeVar("a", bound=size)
b = _TypeVar("b", bound=size)
c = _TypeVar("c", bound=size)
d = _TypeVar("d", bound=size)
e = _TypeVar("e", bound=size)
f = _TypeVar("f", bound=size)
g = _TypeVar("g", bound=size)
h = _TypeVar("h", bound=size)
l = _TypeVar("l", bound=size)
m = _TypeVar("m", bound=size)
n = _TypeVar("n", bound=size)
o = _TypeVar("o", bound=size)
p = _TypeVar("p", bound=size)
q = _TypeVar("q", bound=size)
r = _TypeVar("r", bound=size)
s = _TypeVar("s", bound=size)
t = _TypeVar("t", bound=size)
u = _TypeVar("u", bound=size)
v = _TypeVar("v", bound=size)
w = _TypeVar("w", bound=size)
x = _TypeVar("x", bound=size)
y = _TypeVar("y", bound=size)
z = _TypeVar("z", bound=size)
