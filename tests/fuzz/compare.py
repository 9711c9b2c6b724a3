"""Compare two fuzz runs on the same fixed cases, primitive by primitive.

    python -m tests.fuzz.fuzz --seed 0 --cases 300 --save before.json   # one knit
    python -m tests.fuzz.fuzz --seed 0 --cases 300 --save after.json    # another
    python -m tests.fuzz.compare before.json after.json

Each case is the same program and the same random choices in both runs, so a
primitive's accepted count can only differ where a verdict differs (a step the one
version accepts and the other refuses; after that the case may draw other steps).
Prints attempted, accepted and the acceptance rate of each, and the change in accepted
steps; `--drop PCT` makes the exit status 1 when a primitive accepts more than PCT
percent fewer rewrites (default 5).
"""

from __future__ import annotations

import argparse
import json
import sys


def compare(a: dict, b: dict, drop: float = 5.0) -> tuple[list[str], list[str]]:
    """(table lines, primitives whose accepted count dropped by more than `drop` %)."""
    head = f"{'primitive':24}{'att A':>8}{'acc A':>8}{'rate A':>8}" \
           f"{'att B':>8}{'acc B':>8}{'rate B':>8}{'d acc':>8}"
    lines, worse = [head], []
    for prim in sorted(set(a["stats"]) | set(b["stats"])):
        x, y = a["stats"].get(prim, {}), b["stats"].get(prim, {})
        xa, ya = x.get("accepted", 0), y.get("accepted", 0)
        lines.append(f"{prim:24}{x.get('attempted', 0):>8}{xa:>8}{_rate(x):>8}"
                     f"{y.get('attempted', 0):>8}{ya:>8}{_rate(y):>8}{ya - xa:>+8}")
        if xa and (xa - ya) / xa * 100 > drop:
            worse.append(prim)
    lines.append(f"cases: {a.get('cases')} vs {b.get('cases')}; bugs: "
                 f"{len(a.get('bugs', []))} vs {len(b.get('bugs', []))}")
    return lines, worse


def _rate(c: dict) -> str:
    return f"{100 * c.get('accepted', 0) / c['attempted']:.1f}%" if c.get("attempted") else "-"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz.compare", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--drop", type=float, default=5.0)
    args = ap.parse_args(argv)
    with open(args.a) as f:
        a = json.load(f)
    with open(args.b) as f:
        b = json.load(f)
    lines, worse = compare(a, b, args.drop)
    print("\n".join(lines))
    if worse:
        print(f"accepting more than {args.drop}% fewer rewrites: {', '.join(worse)}")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
