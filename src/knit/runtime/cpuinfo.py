"""What Linux says of this CPU (/proc/cpuinfo), read in one place: the C flags knit
adds (runtime/cc.py), the GEMM's blocks (stdlib/gemm/targets.py) and the tuner's
record of the machine (tuning/measure.py) ask it here."""

from __future__ import annotations

import functools

CPUINFO = "/proc/cpuinfo"


def fields(path: str = CPUINFO) -> dict[str, str]:
    """Each `key: value` of the file, at its first occurrence (the first processor's
    vendor_id, cpu family, flags ...; on ARM also the trailing `Model` and `Hardware`
    lines); {} where the file cannot be read. This machine's is read once (do not modify
    the result); another path (a test's) each time."""
    return _this_cpu() if path == CPUINFO else _read(path)


@functools.cache
def _this_cpu() -> dict[str, str]:
    return _read(CPUINFO)


def _read(path: str) -> dict[str, str]:
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return {}
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out.setdefault(key.strip(), value.strip())
    return out


def flags(path: str = CPUINFO) -> frozenset[str]:
    """The CPU's feature names as Linux lists them (x86 `flags`, ARM `Features`)."""
    info = fields(path)
    return frozenset((info.get("flags") or info.get("Features") or "").split())
