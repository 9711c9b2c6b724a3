"""Judge what knit printed against Exo's golden text.

    python compare.py <dump dir> [-v]     # each dumped text, judged (-v: its differing lines)

judge(golden, actual) is the first of, both texts being
- Python (printed procedures):
  layout            equal ASTs (whitespace, line breaks, parentheses, comments do not count)
  operand order     equal once the operands of + * == and or are sorted, a - b read as a + -b
  print convention  also equal once a data literal 1 reads as 1.0, x + 0, 1 * x, x / 1
                    fold and `@ DRAM` on scalar parameters is dropped
- C (or any text that is not Python):
  layout            the same tokens without comments
  C prelude         the same function definitions, token for token (see functions():
                    the header, includes, `restrict`, `(void) ctxt;`, `; // NO-OP` do not count)
and `real` otherwise.
"""

import ast
import difflib
import os
import re
import sys
from pathlib import Path

JUDGEMENTS = ("layout", "C prelude", "operand order", "print convention", "real")


def judge(golden, actual):
    if _python(golden) and _python(actual):
        if _dump(golden) == _dump(actual):
            return "layout"
        if _dump(golden, Order) == _dump(actual, Order):
            return "operand order"
        if _dump(golden, Convention, Order) == _dump(actual, Convention, Order):
            return "print convention"
        return "real"
    if tokens(golden) == tokens(actual):
        return "layout"
    if functions(golden) and functions(golden) == functions(actual):
        return "C prelude"
    return "real"


def _python(text):
    try:
        ast.parse(text)
        return True
    except (SyntaxError, ValueError):
        return False


def _dump(text, *normalisations):
    tree = ast.parse(text)
    for normalise in normalisations:
        tree = normalise().visit(tree)
    return ast.dump(tree)


def _sorted_call(name, operands):
    operands = sorted(operands, key=ast.dump)
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=operands, keywords=[])


class Order(ast.NodeTransformer):
    """Sums and products as calls `+(...)`, `*(...)` of sorted operands."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (ast.Add, ast.Sub)):
            right = node.right
            if isinstance(node.op, ast.Sub):
                right = ast.UnaryOp(op=ast.USub(), operand=right)
            return _sorted_call("+", self._terms("+", node.left) + self._terms("+", right))
        if isinstance(node.op, ast.Mult):
            return _sorted_call("*", self._terms("*", node.left) + self._terms("*", node.right))
        return node

    @staticmethod
    def _terms(name, node):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name:
            return list(node.args)
        return [node]

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            left, right = sorted([node.left, node.comparators[0]], key=ast.dump)
            return ast.Compare(left=left, ops=node.ops, comparators=[right])
        return node

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        return ast.BoolOp(op=node.op, values=sorted(node.values, key=ast.dump))


def _is_number(node, value):
    return (
        isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value == value
    )


class Convention(ast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Add) and _is_number(node.right, 0):
            return node.left
        if isinstance(node.op, ast.Add) and _is_number(node.left, 0):
            return node.right
        if isinstance(node.op, ast.Mult) and _is_number(node.left, 1):
            return node.right
        if isinstance(node.op, (ast.Mult, ast.Div)) and _is_number(node.right, 1):
            return node.left
        return node

    def visit_arg(self, node):
        # `x: f32 @ DRAM` on a scalar parameter is `x: f32`
        a = node.annotation
        if (
            isinstance(a, ast.BinOp)
            and isinstance(a.op, ast.MatMult)
            and isinstance(a.left, ast.Name)
        ):
            if isinstance(a.right, ast.Name) and a.right.id == "DRAM":
                node.annotation = a.left
        return node

    def visit_Assign(self, node):
        self.generic_visit(node)
        node.value = _DataLiterals().visit(node.value)
        return node

    visit_AugAssign = visit_Assign


class _DataLiterals(ast.NodeTransformer):
    """Integer literals outside indices read as floats (`x[i] = 1` is `x[i] = 1.0`)."""

    def visit_Subscript(self, node):
        return node

    def visit_Constant(self, node):
        if type(node.value) is int:
            return ast.Constant(value=float(node.value))
        return node


_TOKEN = re.compile(
    r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|[A-Za-z_]\w*|\d[\w.]*'
    r"|->|\+\+|--|<<=?|>>=?|[<>=!]=|&&|\|\||[-+*/%&|^]=|\S"
)
_PREPROCESSOR = re.compile(
    r"^\s*#\s*(include|define|undef|if|ifdef|ifndef|elif|else|endif|pragma)\b", re.M
)


def _uncomment(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//.*", "", text)


def tokens(text):
    text = _uncomment(text)
    if not _PREPROCESSOR.search(text):  # not C: Python's comments go too
        text = re.sub(r"#.*", "", text)
    return _TOKEN.findall(text)


def functions(text):
    """The C function definitions of text, each as its tokens, leaving out preprocessor
    lines (a `#pragma` other than `GCC unroll` is kept, as one token), `extern "C"`
    braces, `restrict`, `(void) ctxt;` and empty statements (Exo's `; // NO-OP`)."""
    toks, continued = [], False
    for line in _uncomment(text).splitlines():
        directive = continued or line.lstrip().startswith("#")
        continued = directive and line.rstrip().endswith("\\")
        if not directive:
            toks += _TOKEN.findall(line)
        elif re.match(r"\s*#\s*pragma\b", line) and not re.search(r"\bGCC\s+unroll\b", line):
            toks.append(" ".join(line.split()))
    void_ctxt = ["(", "void", ")", "ctxt", ";"]
    kept, extern_c = [], []  # extern_c: for each open brace, whether it is `extern "C" {`
    for i, t in enumerate(toks):
        if t == "restrict" or _within(toks, i, void_ctxt):
            continue
        if t == ";" and kept and kept[-1] in ("{", "}", ";"):
            continue
        if t == "{":
            extern_c.append(kept[-2:] == ["extern", '"C"'])
            if extern_c[-1]:
                del kept[-2:]
                continue
        if t == "}" and extern_c and extern_c.pop():
            continue
        kept.append(t)
    found, start, depth, body = [], 0, 0, False
    for i, t in enumerate(kept):
        if t == "{":
            if depth == 0:
                body = i > 0 and kept[i - 1] == ")"
            depth += 1
        elif t == "}":
            depth -= 1
            if depth == 0 and body:
                found.append(kept[start : i + 1])
                start, body = i + 1, False
        elif depth == 0 and (t == ";" or t.startswith("#")):
            start = i + 1
    return found


def _within(toks, i, seq):
    return any(toks[j : j + len(seq)] == seq for j in range(max(0, i - len(seq) + 1), i + 1))


def main(argv):
    dump = Path(argv[0])
    golden_dir = Path(os.environ.get("EXO_SUITE", "/tmp/exo-suite")) / "exo" / "tests" / "golden"
    counts = dict.fromkeys(JUDGEMENTS, 0)
    for path in sorted(dump.rglob("*.txt")):
        rel = path.relative_to(dump)
        golden, actual = (golden_dir / rel).read_text(), path.read_text()
        verdict = judge(golden, actual)
        counts[verdict] += 1
        print(f"{verdict:17} {rel}")
        if "-v" in argv and verdict != "layout":
            diff = difflib.unified_diff(
                golden.splitlines(), actual.splitlines(), "exo", "knit", n=0, lineterm=""
            )
            print("".join(f"    {line}\n" for line in list(diff)[2:]), end="")
    print(", ".join(f"{name} {n}" for name, n in counts.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
