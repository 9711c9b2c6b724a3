"""`exo.frontend.pyparser`'s exception at the same path: Exo raises `ParseError` for
procedure source it cannot read; knit's equivalent is KnitSyntaxError (also a Python
SyntaxError), so `except ParseError` written for Exo catches knit's errors."""

from knit.errors import KnitSyntaxError as ParseError

__all__ = ["ParseError"]
