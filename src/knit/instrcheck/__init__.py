"""Instruction validation: does an `@instr`'s C template do what its body says?

    from knit import check_instr
    report = check_instr(mm256_add_ps)          # raises InstrCheckError if not
    check_instr(my_instr, targets=["native", "simde"], trials=64)

An instr's body is its meaning: `replace` maps code onto it, and the interpreter runs
it. Its C template is what the compiled program does. Nothing else compares the two,
so `check_instr` does, by testing (it proves nothing):

- **Control values**: every value of the size, index and bool arguments that makes
  the argument shapes non-empty and the asserts true (sizes 1..64 and indices -8..64
  are tried where no assert bounds them; above 256 legal combinations, an evenly
  spaced sample). Each becomes a literal in its own small wrapper proc
  (`knit.instrcheck.harness`), since intrinsics such as NEON's lane forms take
  constants only.
- **Data**: `trials` input sets per control value (fewer where the body has no meaning
  for one: an integer division by zero), mixing random values with the
  awkward ones -- +-0, NaNs, +-inf, subnormals, the largest finite and smallest normal
  values, integer extremes (`knit.instrcheck.values`). Every data argument is an
  input (registers are loaded from them) and an output (compared afterwards: an instr
  that writes an argument it should only read is caught too).
- **Reference**: the interpreter runs the wrapper, i.e. the instr's body.
- **C**: all wrappers in one program, compiled and run once per target: `native`
  (this CPU, `-march=native`), `simde` (x86 intrinsics through SIMDe's portable C,
  Debian's libsimde-dev: for AVX-512 code on a CPU without it), `aarch64` (Debian's
  gcc-aarch64-linux-gnu and qemu-user, unless the machine is AArch64). By default the
  first of them that builds the C. Builds use `-O2 -ffp-contract=off` and are cached
  in knit's compile cache. The program runs in its own process: a template that
  crashes is reported, not fatal.
- **Comparison**: integers exactly; floats bit for bit, signed zeros distinguished,
  except that all NaNs are one value (payload and sign are not part of knit's
  meaning). An instr that rounds differently from its body on purpose (a fused
  multiply-add, a tree reduction) declares it with `@inexact(ulps, why)` above its
  `@instr`; it is then compared as `values.first_difference` says: within `ulps`
  roundings of the magnitudes involved, and not at all where those overflow or an
  input is NaN or infinite.

A mismatch raises `InstrCheckError` naming the instr, the target, the control values,
every input, and the first element that differs with both values (and bits); the same
data are in `err.mismatch` (a dict) for programs.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from knit.errors import ProcedureTypeError, UserError
from knit.procedure import Procedure

__all__ = ["InstrCheck", "InstrCheckError", "check_instr", "inexact"]

_INEXACT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Procedure -> (ulps, why)


def inexact(ulps: float, why: str):
    """Decorator above `@instr`: the C rounds differently from the body, by at most
    `ulps` roundings (units of the type's epsilon times the magnitudes involved); `why`
    says how. check_instr then compares with that tolerance instead of exactly."""

    def declare(instr):
        if not (isinstance(instr, Procedure) and instr.is_instr()):
            raise ProcedureTypeError("@inexact declares the rounding of an instr: put it above "
                            f"@instr, got {type(instr).__name__}")
        _INEXACT[instr] = (float(ulps), why)
        return instr

    return declare


@dataclass
class InstrCheck:
    """What check_instr ran: the targets, every control-value combination, the number
    of input sets asked for per combination, and how many ran in all (per target)."""

    instr: str
    targets: list[str]
    controls: list[dict]
    trials: int
    runs: int
    ulps: float | None = None


class InstrCheckError(UserError):
    """An instr's C template disagrees with its body (`mismatch` holds the instr, target,
    control values, inputs, expected and actual outputs, and where they differ), or it
    cannot be checked here (no legal control values, no compiler, a crash)."""

    def __init__(self, message: str, mismatch: dict | None = None):
        super().__init__(message)
        self.mismatch = mismatch


def check_instr(instr, *, targets=None, trials: int = 24, seed: int = 0,
                ulps: float | None = None, cc: str | None = None) -> InstrCheck:
    """Run `instr`'s C template against its body (see the module docstring).

    `targets`: names among 'native', 'simde', 'aarch64' (each must be able to run here);
    None: the first of them that builds the C; "all": every one that builds it (so a
    target whose build fails is skipped: name the targets you expect). `trials`: input
    sets per combination of control values. `ulps` overrides the instr's `@inexact` declaration (None: use it;
    exact when there is none). `cc`: the host C compiler (default `$CC`, then `cc`).
    Returns an InstrCheck; raises InstrCheckError on a mismatch, a crash, or when the C
    cannot be built for any (or a named) target.
    """
    from knit.instrcheck.run import check  # here, not above: it loads numpy

    return check(instr, targets, trials, seed, ulps, cc)


def declared_ulps(instr) -> float | None:
    """The tolerance an instr declared with @inexact, or None (exact)."""
    got = _INEXACT.get(instr)
    return got[0] if got else None

