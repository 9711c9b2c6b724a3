"""The grammar in knit/ir/nodes.py's docstring is the IR's specification: keep it in sync
with the node classes."""

from __future__ import annotations

import re
from dataclasses import fields

from knit.ir import nodes as N


def grammar_rules() -> dict[str, list[str]]:
    """Constructor name -> field names, read off the docstring grammar."""
    rules = {}
    for name, args in re.findall(r"([A-Z]\w+)\(([^()]*)\)", N.__doc__):
        rules[name] = [a.split(":")[0].strip() for a in args.split(",") if a.strip()]
    return rules


def test_every_node_is_in_the_grammar_with_its_fields():
    rules = grammar_rules()
    classes = [*N.EXPR_NODES, *N.STMT_NODES, N.Interval, N.Point, N.FnArg, N.Proc]
    for cls in classes:
        assert cls.__name__ in rules, f"{cls.__name__} missing from the grammar"
        hidden = {"srcinfo", "sid"}
        own = [f.name for f in fields(cls) if f.name not in hidden]
        assert rules[cls.__name__] == own, f"{cls.__name__}: grammar {rules[cls.__name__]} " \
                                           f"vs class {own}"


def test_grammar_names_no_missing_class():
    names = {c.__name__ for c in (*N.EXPR_NODES, *N.STMT_NODES)} | \
        {"Interval", "Point", "FnArg", "Proc", "InstrInfo"}
    assert set(grammar_rules()) <= names


def test_statement_identity_survives_with_but_not_construction():
    s = N.Pass()
    assert s.with_().sid == s.sid
    assert N.Pass().sid != s.sid
    assert N.Pass() == s  # identity is not part of equality
