"""Lowering newer grammar to the running interpreter's: same meaning, same lines."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

import pytest

from carveout.stages.lowering import (
    MAX_LIBCST_DEPTH,
    TooComplexError,
    lower,
    lower_to_running_grammar,
    nesting_depth,
)
from carveout.stages.scan import scan_source

NEWER = pytest.mark.skipif(
    sys.version_info >= (3, 12), reason="the running ast reads PEP 695 and PEP 701 itself"
)


def _lowered(source: str, version: tuple[int, int] = (3, 11)) -> str:
    text = textwrap.dedent(source)
    result = lower(text, version)
    assert result is not None
    assert result.count("\n") == text.count("\n"), result
    ast.parse(result)
    return result


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    "source",
    [
        "type Pair[T] = tuple[T, T]\nimport after\n",
        "type Wide[\n    K,\n    V,\n] = dict[K, V]\nimport after\n",
        "def first[T: (int, str), *Ts, **P](x: T) -> T:\n    return x\nimport after\n",
        "def spread[\n    T,\n](x: T):\n    return x\nimport after\n",
        "class Box[T](Base[T]):\n    pass\nimport after\n",
        "class Bare[\n    T,\n]:\n    pass\nimport after\n",
        "class Kept[\n    T,\n](\n    Base,\n):\n    pass\nimport after\n",
    ],
)
def test_pep_695_is_lowered_keeping_lines(source: str) -> None:
    lowered = _lowered(source)
    assert _line_of(lowered, "import after") == _line_of(source, "import after")
    assert not any(line.startswith("type ") for line in lowered.splitlines())


def test_type_alias_becomes_an_assignment() -> None:
    lowered = _lowered("type Handler = Callable[[str], None]\n")
    tree = ast.parse(lowered)
    assert isinstance(tree.body[0], ast.Assign)
    assert ast.unparse(tree.body[0]) == "Handler = Callable[[str], None]"


@pytest.mark.parametrize(
    "fstring",
    [
        'f"{f"{name}"}"',
        'f"{x = }{"q"}"',
        'f"{x=:>4}{"q"}"',
        'f"{x!r:>{width}}{"q"}"',
        'f"a{{b}}{"c"}"',
        'rf"\\d{x}{"q"}"',
        "f\"{'\\n'.join(items)}\"",
        '"lead " f"{"-".join(items)}" " tail"',
        'f"""multi\n{x}\n{"line"}"""',
    ],
)
@NEWER
def test_pep_701_fstrings_keep_their_value(fstring: str) -> None:
    namespace = {"name": "N", "x": 5, "width": 6, "items": ["p", "q"]}
    lowered = _lowered(f"value = {fstring}\n")
    exec(lowered, namespace)
    reference = {
        'f"{f"{name}"}"': "N",
        'f"{x = }{"q"}"': "x = 5q",
        'f"{x=:>4}{"q"}"': "x=   5q",
        'f"{x!r:>{width}}{"q"}"': "     5q",
        'f"a{{b}}{"c"}"': "a{b}c",
        'rf"\\d{x}{"q"}"': "\\d5q",
        "f\"{'\\n'.join(items)}\"": "p\nq",
        '"lead " f"{"-".join(items)}" " tail"': "lead p-q tail",
        'f"""multi\n{x}\n{"line"}"""': "multi\n5\nline",
    }
    assert namespace["value"] == reference[fstring], lowered


@NEWER
def test_valid_fstrings_are_left_alone() -> None:
    source = 'import a\nvalue = f"{x!r}" + f"{f\'{y}\'}"\nurl = f"{base}/v1/{"chat"}"\n'
    lowered = _lowered(source)
    assert 'f"{x!r}"' in lowered and "f\"{f'{y}'}\"" in lowered


def test_except_star_for_python_3_10() -> None:
    lowered = _lowered(
        "try:\n    run()\nexcept* ValueError as group:\n    pass\nimport after\n", (3, 10)
    )
    assert "except ValueError as group:" in lowered
    assert lower("try:\n    run()\nexcept* ValueError:\n    pass\n", (3, 11)) == (
        "try:\n    run()\nexcept* ValueError:\n    pass\n"
    )


def test_text_no_parser_accepts_gives_none() -> None:
    assert lower_to_running_grammar("def broken(:\n    pass\n") is None


@NEWER
def test_scan_reads_newer_grammar_with_lines_kept() -> None:
    source = textwrap.dedent("""\
        from typing import Callable
        type Handler[
            T,
        ] = Callable[[T], None]
        import handlers
        def run():
            label = f"{f"{handlers.NAME}"}"
            return handlers.total(label)
        """)
    facts = scan_source(source.encode())
    assert facts.parsed and facts.parser == "libcst"
    assert [(f.module, f.line) for f in facts.imports] == [("typing", 1), ("handlers", 5)]
    assert [(d.name, d.line, d.end_line) for d in facts.definitions] == [("run", 6, 8)]
    assert [(c.callee, c.line) for c in facts.calls if c.callee.startswith("handlers")] == [
        ("handlers.total", 8)
    ]


# --- nesting libcst's native parser cannot take (it overflows the stack: a segfault) -------


@pytest.mark.parametrize(
    "chain",
    [
        "(" * 1400 + "1" + ")" * 1400,  # brackets
        "a" + ".b" * 6000,  # attributes
        "a" + "[0]" * 4600,  # subscripts
        "lambda: " * 3500 + "a",  # lambdas
        "+".join(["a"] * 7000),  # operators
        "not " * 8300 + "a",  # unary operators
    ],
)
def test_nesting_that_crashes_libcst_is_refused_before_parsing(chain: str) -> None:
    text = f"type Alias = int\nimport os\nvalue = {chain}\n"
    depth, line = nesting_depth(text)
    assert depth > MAX_LIBCST_DEPTH and line == 3
    with pytest.raises(TooComplexError) as refused:
        lower(text, (3, 11))
    assert refused.value.line == 3 and "over the limit" in str(refused.value)


def test_flat_data_and_real_code_stay_far_below_the_limit() -> None:
    table = "TABLE = {\n" + "".join(f"    'k{n}': (1, [2, 3]),\n" for n in range(10000)) + "}\n"
    assert nesting_depth(table)[0] < 20
    calls = "".join(
        f"x{n} = client.chat.completions.create(model=m, n={n})[0]\n" for n in range(9)
    )
    assert nesting_depth(calls)[0] < 20
    this_file = Path(__file__).read_text(encoding="utf-8")
    assert nesting_depth(this_file)[0] < MAX_LIBCST_DEPTH // 10


def test_nesting_counts_brackets_operators_and_blocks() -> None:
    assert nesting_depth("x = 1\n") == (1, 1)
    assert nesting_depth("x = a.b.c\n")[0] == 3
    assert nesting_depth("x = f(a + b, c)\n")[0] == 5 + 2  # `=` and `+` inside one bracket
    assert nesting_depth("if a:\n    if b:\n        x = 1\n") == (11, 3)
    assert nesting_depth("x = [1,\n     (2 + 3)]\n") == (12, 2)
    # a tokenizer error stops the count where it stops libcst's tokenizer too
    assert nesting_depth("x = (1,\n")[0] == 6
