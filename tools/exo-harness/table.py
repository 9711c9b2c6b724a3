"""The issue-10 table of a run: python table.py <tag> [<exo tag>]

Counts the tests of <tag>.xml (in $EXO_SUITE, default /tmp/exo-suite) that ran and use
only Exo's public modules, cumulatively: pass, + wording (both refuse: the message or
knit's own error class differs), then each golden difference judged by compare.py.
With V=1, lists the tests of every column after `pass` and every real difference by
cause. With <exo tag> (a run of Exo itself, `run.sh exo <exo tag>`), also says which
of them fail under Exo 1.0.0 on this machine.
"""

import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from compare import JUDGEMENTS, judge

# test files that import Exo's internal modules (exo.core.LoopIR, exo.rewrite, ...)
# or its typechecker's ParseError internals: not run by a user of the public API
INTERNAL = {
    "test_internal_cursors",
    "test_new_eff",
    "test_range_analysis",
    "test_typecheck",
    "test_uast",
}
COLUMNS = ("pass", "wording") + JUDGEMENTS[:-1]

SUITE = Path(os.environ.get("EXO_SUITE", "/tmp/exo-suite"))


def results(tag):
    """{test id: (outcome, notes, failure message)} for the counted tests of a run."""
    out = {}
    for case in ET.parse(SUITE / f"{tag}.xml").iter("testcase"):
        module = case.get("classname") or case.get("name")  # a file that failed to import
        if module.split(".")[-1] in INTERNAL or case.find("skipped") is not None:
            continue
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        notes = [(p.get("name"), p.get("value")) for p in case.iter("property")]
        message = "" if failure is None else (failure.get("message") or "").split("\n")[0]
        message = message.replace(f"{SUITE}/exo/", "")  # paths as in Exo's repository
        out[f"{module}::{case.get('name')}"] = (failure is None, notes, message)
    return out


def verdict(tag, passed, notes, message):
    """(column or 'real', cause) of one test."""
    if passed:
        return "pass", ""
    name, value = notes[-1] if notes else ("", "")
    if name == "raises" and value in ("wording", "class"):
        return "wording", value
    if name == "golden":
        golden = (SUITE / "exo" / "tests" / "golden" / value).read_text()
        actual = (SUITE / f"dump-{tag}" / value).read_text()
        column = judge(golden, actual)
        return column, "printed text" if column == "real" else ""
    if name == "raises" and value == "accepts":
        return "real", "knit accepts what Exo refuses"
    if name == "raises":
        return "real", f"knit raises {value[6:]} inside pytest.raises"
    return "real", "knit raises or fails: " + message[:120]


def main(tag, exo_tag=None):
    tests = results(tag)
    exo = results(exo_tag) if exo_tag else {}
    judged = {test: verdict(tag, *r) for test, r in tests.items()}
    total = len(judged)
    row, count = [], 0
    for column in COLUMNS:
        count += sum(1 for c, _ in judged.values() if c == column)
        row.append(f"{count} ({100 * count / total:.1f}%)")
    print("| run | tests | " + " | ".join(c if c == "pass" else "+ " + c for c in COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    print(f"| {tag} | {total} | " + " | ".join(row) + " |")
    if exo:
        failing = sorted(t for t in tests if t in exo and not exo[t][0])
        print(
            f"\nExo 1.0.0 itself ({exo_tag}): {sum(1 for t in tests if exo.get(t, (0,))[0])} of these {total} pass, "
            f"{len(failing)} fail, {total - sum(1 for t in tests if t in exo)} not run"
        )
    if os.environ.get("V"):
        listed = {}
        for test, (column, cause) in sorted(judged.items()):
            if column != "pass":
                heading = column if column != "real" else "real: " + cause.split(":")[0]
                listed.setdefault(heading, []).append((test, cause.partition(": ")[2]))
        for heading, items in listed.items():
            print(f"\n{heading} ({len(items)})")
            for test, detail in items:
                under_exo = "  [fails under Exo too]" if test in exo and not exo[test][0] else ""
                print(f"  {test}{under_exo}  {detail}".rstrip())


if __name__ == "__main__":
    main(*sys.argv[1:])
