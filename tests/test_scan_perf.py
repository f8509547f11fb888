"""The scan's fast paths give what the plain versions give: the order in which one loop over
statements and expressions lists calls, strings and attribute reads (against a plain
recursive walk), annotation text (against `ast.unparse`), docstring summaries (against
`ast.get_docstring`), and the shortcuts for whitespace, SQL, version checks and UTF-8."""

from __future__ import annotations

import ast
import codecs
import io
import random
import sysconfig
import tokenize
from pathlib import Path

import pytest

from carveout.stages import scan
from carveout.stages.scan import scan_source

ROOT = Path(__file__).resolve().parents[1]


def _corpus() -> list[Path]:
    """carveout's own code, the sample, and a slice of the standard library."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted((ROOT / "src").rglob("*.py")) + sorted((ROOT / "samples").rglob("*.py"))
    return files + sorted(stdlib.glob("[n-z]*.py"))[:60]


@pytest.fixture(scope="module")
def corpus_trees() -> list[ast.Module]:
    return [ast.parse(path.read_bytes()) for path in _corpus()]


# --- the order of the facts: one loop against a plain recursive walk ----------------------
#
# Generated modules mix statements, calls (named, dotted, on a fresh instance, on anything
# else), keywords, strings, f-strings, attribute chains on an imported name with a private
# part, lambdas, comprehensions and nested definitions. The plain walk visits statements in
# order, a statement's expressions in field order, and each expression node before its
# children, the children last to first (what the scan always did).

_LEAVES = (ast.expr_context, ast.operator, ast.cmpop, ast.unaryop, ast.boolop)


class _Generator:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.count = 0

    def name(self) -> str:
        self.count += 1
        return f"n{self.count}"

    def expression(self, depth: int) -> str:
        pick = self.random.randrange(17 if depth > 0 else 5)
        inner = depth - 1
        if pick == 0:
            return self.random.choice(["a", "b", "obj.x", "obj.y.z"])
        if pick == 1:
            return f"'s{self.name()}'"
        if pick == 2:
            return str(self.random.randrange(100))
        if pick == 3:
            return f"mod._{self.name()}.q"
        if pick == 4:
            return f"mod.sub.{self.name()}"
        if pick in (5, 6, 7):
            return self.call(inner)
        if pick == 8:
            inside = self.random.choice(
                ["a", "obj.x", f"mod._{self.name()}.q", f"g{self.name()}(a)"]
            )
            return f"f'/p/{{{inside}}}/x{self.name()}'"
        if pick == 9:
            items = ", ".join(self.expression(inner) for _ in range(self.random.randrange(1, 4)))
            return self.random.choice([f"[{items}]", f"({items},)", f"{{{items}}}"])
        if pick == 10:
            key, value = self.expression(inner), self.expression(inner)
            return f"{{{key}: {value}, **{self.expression(inner)}}}"
        if pick == 11:
            return f"[{self.expression(inner)} for v in {self.expression(inner)} if v]"
        if pick == 12:
            return f"(lambda v={self.expression(inner)}: {self.expression(inner)})"
        if pick == 13:
            return f"({self.expression(inner)} + {self.expression(inner)})"
        if pick == 14:
            return f"{self.expression(inner)}[{self.expression(inner)}]"
        if pick == 15:
            return f"({self.expression(inner)} if {self.expression(inner)} else b)"
        return f"(not {self.expression(inner)} == {self.expression(inner)})"

    def call(self, depth: int) -> str:
        callee = self.random.choice(
            [
                f"f{self.name()}",
                f"mod.api.{self.name()}",
                f"mod._hidden.{self.name()}",
                f"Maker('tok').{self.name()}",
                f"obj.list.{self.name()}",
                f"(a or b).{self.name()}",
                "(lambda: b)",
            ]
        )
        arguments = [self.expression(depth) for _ in range(self.random.randrange(3))]
        arguments += [f"k{i}={self.expression(depth)}" for i in range(self.random.randrange(3))]
        if self.random.random() < 0.2:
            arguments.append(f"**{self.expression(depth)}")
        return f"{callee}({', '.join(arguments)})"

    def statements(self, depth: int, indent: str) -> list[str]:
        lines = []
        for _ in range(self.random.randrange(1, 5)):
            pick = self.random.randrange(9 if depth > 0 else 4)
            expression = self.expression(3)
            if pick == 0:
                lines.append(f"{indent}{expression}")
            elif pick == 1:
                target = self.random.choice(
                    ["x", "obj.attr", f"mod._{self.name()}.v", f"d['k{self.name()}']", "a, d[b]"]
                )
                lines.append(f"{indent}{target} = {expression}")
            elif pick == 2:
                lines.append(f"{indent}return {expression}")
            elif pick == 3:
                lines.append(f"{indent}x: {self.expression(1)} = {expression}")
            elif pick == 4:
                lines.append(f"{indent}if {expression}:")
                lines += self.statements(depth - 1, indent + "    ")
                lines.append(f"{indent}else:")
                lines += self.statements(depth - 1, indent + "    ")
            elif pick == 5:
                lines.append(f"{indent}for v in {expression}:")
                lines += self.statements(depth - 1, indent + "    ")
            elif pick == 6:
                lines.append(f"{indent}with {expression} as w, {self.expression(2)}:")
                lines += self.statements(depth - 1, indent + "    ")
            elif pick == 7:
                lines.append(f"{indent}try:")
                lines += self.statements(depth - 1, indent + "    ")
                lines.append(f"{indent}except {self.expression(1)}:")
                lines += self.statements(depth - 1, indent + "    ")
                lines.append(f"{indent}finally:")
                lines.append(f"{indent}    raise {self.expression(2)}")
            else:
                keyword = "class" if self.random.random() < 0.3 else "def"
                signature = "(Base)" if keyword == "class" else f"(p={expression}, *, q=a, r)"
                lines.append(f"{indent}@{self.call(1)}")
                lines.append(f"{indent}{keyword} {self.name()}{signature}:")
                lines += self.statements(depth - 1, indent + "    ")
        return lines

    def module(self) -> str:
        return "\n".join(["import mod", *self.statements(3, "")]) + "\n"


def _plain_walk(tree: ast.Module) -> list[tuple[str, str, str | None]]:
    """(kind, text, enclosing top-level name) for each call, string and private attribute
    chain, in the order the scan lists them."""
    found: list[tuple[str, str, str | None]] = []

    def expression(node: ast.AST, function: str | None) -> None:
        if isinstance(node, ast.Call):
            callee = scan.dotted(node.func) or scan.constructed_chain(node.func)
            if callee:
                found.append(("call", callee, function))
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                found.append(("string", node.value, None))
            return
        elif isinstance(node, ast.JoinedStr):
            template = scan._template(node)
            if "/" in template:
                found.append(("string", template, None))
        elif isinstance(node, ast.Attribute):
            chain = scan.dotted(node)
            if chain and chain.startswith("mod.") and "._" in chain:
                found.append(("attribute", chain, None))
            while isinstance(node, ast.Attribute):
                node = node.value
            expression(node, function)
            return
        elif isinstance(node, ast.Lambda):
            expression(node.body, function)
            return
        children = [c for c in ast.iter_child_nodes(node) if not isinstance(c, _LEAVES)]
        for child in reversed(children):
            expression(child, function)

    def statements(body: list[ast.stmt], function: str | None) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                header = list(node.decorator_list)
                if isinstance(node, ast.FunctionDef):
                    header += node.args.defaults + [d for d in node.args.kw_defaults if d]
                else:
                    header += node.bases + [k.value for k in node.keywords]
                for item in header:
                    expression(item, function)
                statements(node.body, function or node.name)
                continue
            if isinstance(node, ast.With):
                header = [item.context_expr for item in node.items]
            elif isinstance(node, ast.Try):
                header = []
            else:
                header = [
                    value
                    for name in node._fields
                    if name not in ("body", "orelse")
                    for value in (lambda v: v if isinstance(v, list) else [v])(getattr(node, name))
                    if isinstance(value, ast.expr)
                ]
            for item in header:
                expression(item, function)
            if isinstance(node, ast.Try):
                statements(node.body, function)
                for handler in node.handlers:
                    if handler.type is not None:
                        expression(handler.type, function)
                    statements(handler.body, function)
                statements(node.orelse, function)
                statements(node.finalbody, function)
            else:
                statements(getattr(node, "body", []), function)
                statements(getattr(node, "orelse", []), function)

    statements(tree.body, None)
    return found


def test_calls_strings_and_attribute_reads_come_in_the_plain_walk_order() -> None:
    compared = 0
    for seed in range(150):
        source = _Generator(seed).module()
        facts = scan_source(source.encode())
        assert facts.parsed, (source, facts.diagnostics)
        expected = _plain_walk(ast.parse(source))
        calls = [(c.callee, c.in_function) for c in facts.calls]
        assert calls == [(text, fn) for kind, text, fn in expected if kind == "call"], source
        strings = [s.value for s in facts.strings]
        assert strings == [text for kind, text, _ in expected if kind == "string"], source
        chains = [r.chain for r in facts.attribute_refs]
        assert chains == [text for kind, text, _ in expected if kind == "attribute"], source
        compared += len(expected)
    assert compared > 3000


# --- annotation text ----------------------------------------------------------------------


def _annotations(trees: list[ast.Module]) -> list[ast.expr]:
    found: list[ast.expr] = []
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.arg) and node.annotation is not None:
                found.append(node.annotation)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
                found.append(node.returns)
            elif isinstance(node, ast.AnnAssign):
                found.append(node.annotation)
    return found


def test_simple_source_is_unparse_wherever_it_answers(corpus_trees: list[ast.Module]) -> None:
    generated = [
        "dict[str, Any]",
        "str | None",
        "dict[str, Any] | None",
        "list[dict[str, str | None]] | int | None",
        "a | (b | c)",
        "a | b + c",
        "(a + b) | c",
        "x[a,]",
        "x[()]",
        "x[*a]",
        "x[a, *b]",
        "x[a:b]",
        "x[a][b]",
        "f()[a]",
        "Literal['a', \"it's\", 'x\\ny', 1, True, None, ...]",
        "Callable[[int], None]",
        "tuple[int, ...]",
        "mod.Type[mod.Other, 'x']",
        "u'x' | b'y'",
        "x[-1]",
        " | ".join(["int"] * 40),
        "list[" * 30 + "int" + "]" * 30,
    ]
    expressions = [ast.parse(text, mode="eval").body for text in generated]
    answered = 0
    for expression in expressions + _annotations(corpus_trees):
        text = scan._simple_source(expression)
        if text is not None:
            assert text == ast.unparse(expression)
            answered += 1
        assert scan._source_text(expression) == ast.unparse(expression)
    assert answered > 1000
    # what needs parentheses, or lies beyond the depth limit, is left to `unparse`
    for text in ("a | (b | c)", "x[a,]", " | ".join(["int"] * 40), generated[-1]):
        assert scan._simple_source(ast.parse(text, mode="eval").body) is None


# --- docstring summaries ------------------------------------------------------------------


def _plain_summary(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str | None:
    docstring = ast.get_docstring(node)
    if docstring and docstring.strip():
        return docstring.strip().splitlines()[0][:200]
    return None


def test_docstring_summary_is_the_cleaned_docstrings_first_line(
    corpus_trees: list[ast.Module],
) -> None:
    pieces = [" ", "\t", "\n", "\r\n", "\r", "\f", "\v", "\x1c", "\x85", "\u2028", "\u00a0"]
    words = ["Summary.", "second", "x" * 250, "", "  indented", "\ttabbed\tword"]
    rng = random.Random(5)
    bodies = []
    for _ in range(3000):
        parts = [rng.choice(pieces + words) for _ in range(rng.randrange(1, 9))]
        bodies.append("".join(parts))
    bodies += ["", "   ", "\n\n  Title\n    more\n", "\tTab\there\n\t\tnext"]
    checked = 0
    for body in bodies:
        for keyword in ("def f():", "class C:", "async def g():"):
            node = ast.parse(f"{keyword}\n    {body!r}\n    pass\n").body[0]
            assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            assert scan._docstring_summary(node) == _plain_summary(node), repr(body)
            checked += 1
    for source in ("def f():\n    1\n", "def f():\n    b'x'\n", "def f():\n    x = 'doc'\n"):
        node = ast.parse(source).body[0]
        assert isinstance(node, ast.FunctionDef)
        assert scan._docstring_summary(node) is None
    for tree in corpus_trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                assert scan._docstring_summary(node) == _plain_summary(node)
                checked += 1
    assert checked > 10_000


# --- strings: whitespace and SQL ------------------------------------------------------------


def test_every_whitespace_character_but_the_space_is_unprintable() -> None:
    # the scan asks the whitespace pattern only about strings that are not printable
    characters = "".join(map(chr, range(0x110000))).replace("\ud800", "")
    printable_spaces = [c for c in characters if c.isspace() and c.isprintable()]
    assert printable_spaces == [" "]


def test_a_lower_case_test_by_islower_implies_lower_is_unchanged() -> None:
    # the walk skips attribute chains whose parts pass `islower()`; `_attribute_ref` asks
    # `rest.lower() == rest`, which each such character passes too
    characters = [chr(i) for i in range(0x110000) if not 0xD800 <= i <= 0xDFFF]
    assert [c for c in characters if ("a" + c).islower() and c.lower() != c] == []


def test_strings_kept_are_those_the_plain_tests_keep() -> None:
    def plain(value: str) -> list[str]:
        if not value or len(value) > 640:
            return []
        if len(value) <= 160 and scan._SPACE.search(value) is None:
            return [value]
        if scan._SQL.search(value):
            return [" ".join(value.split())[:400]]
        return []

    alphabet = ["a", "Z", " ", "\t", "\x00", "\u200b", "\xa0", "é", "ſ", "ı", "K", "_", "/"]
    words = ["select", "SELECT", "Insert", "uPdate", "delete", "from", "INTO", "set", "ſelect"]
    words += ["ınsert", "deleted", "reset"]
    rng = random.Random(11)
    values = []
    for _ in range(4000):
        parts = [rng.choice(alphabet + words) for _ in range(rng.randrange(0, 12))]
        values.append("".join(parts))
    values += ["x" * 160, "x" * 161, "select " + "x" * 640, "ſelect a from b"]
    kept = 0
    for value in values:
        facts = scan_source(f"x = {value!r}\n".encode())
        assert [s.value for s in facts.strings] == plain(value), repr(value)
        kept += bool(facts.strings)
    assert kept > 500


# --- version checks, decoding -------------------------------------------------------------


def test_the_version_check_is_skipped_only_where_it_cannot_match() -> None:
    sources = [
        "import sys\nif sys.version_info >= (3, 11):\n    import tomllib\n",
        "import sys\nif sys.version > '3':\n    import a\n",
        "if PY3:\n    import b\n",
        "if six.PY2:\n    import c\n",
        "from sys import version_info\nif version_info[0] == 3:\n    import d\n",
        "if ｖｅｒｓｉｏｎ_info > (3,):\n    import e\n",  # NFKC: the name is version_info
        "if other:\n    import f\n",
        "x = 'version'\nif y:\n    import g\n",
    ]
    for source in sources:
        text = source
        tree = ast.parse(source)
        lines = text.count("\n")
        skipped = scan._facts_from_tree(tree, text, lines, parser="ast")
        always = scan._facts_from_tree(tree, text, lines, parser="libcst")
        assert skipped.imports == always.imports, source
    guarded = scan_source(sources[5].encode()).imports
    assert guarded[0].guard.value == "version_check"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"x = 1",
        b"x = 1\n",
        b"# -*- coding: latin-1 -*-\nname = '\xe9'\n",
        b"#!/usr/bin/env python\n# coding=utf-8\nx = '\xc3\xa9'\n",
        b"\n\n# coding: latin-1\nx = 1\n",
        b"x = 1  # coding: nonsense\n",
        b"# vim: set fileencoding=koi8-r :\nx = '\xc1'\n",
        b"\xef\xbb\xbfx = 1\n",
        b"\xef\xbb\xbf\xef\xbb\xbfx = 1\n",
        b"\xef\xbb\xbf# coding: latin-1\nx = 1\n",
        b"x = '\xe9'\n",
        b"# first\nx = '\xe9'\n",
        b"x = '\xc3\xa9'\r\ny = 2\r\n",
        b"# coding: unknown-codec\nx = 1\n",
        b"x = '\x00'\n",
    ],
)
def test_plain_utf8_decodes_as_detect_encoding_does(data: bytes) -> None:
    text = scan._plain_utf8(data)
    if text is not None:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        assert encoding == "utf-8"
        assert text == data.decode(encoding)
        assert not data.startswith(codecs.BOM_UTF8)
    else:
        assert data.startswith(codecs.BOM_UTF8) or b"coding" in data or _not_utf8(data)


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False
