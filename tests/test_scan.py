"""The scan's import facts: scope, guard, origin, relative levels, dynamic imports, sys.path."""

from __future__ import annotations

import textwrap

from carveout.domain.facts import Guard, ImportFact, Origin, Scope
from carveout.stages.scan import scan_source


def _imports(source: str) -> dict[str, ImportFact]:
    facts = scan_source(textwrap.dedent(source).encode())
    assert facts.parsed, facts.diagnostics
    return {(f.name if f.name not in (None, "*") else f.module): f for f in facts.imports}


def test_scope_of_each_import() -> None:
    found = _imports("""\
        import top
        if FLAG:
            import conditional
        for x in y:
            import looped
        def f():
            import in_function
            class Inner:
                import in_method_class
        class C:
            import in_class
            def m(self):
                import in_method
        """)
    assert {name: f.scope for name, f in found.items()} == {
        "top": Scope.MODULE,
        "conditional": Scope.CONDITIONAL,
        "looped": Scope.CONDITIONAL,
        "in_function": Scope.FUNCTION,
        "in_method_class": Scope.FUNCTION,
        "in_class": Scope.CLASS,
        "in_method": Scope.FUNCTION,
    }


def test_guard_of_each_import() -> None:
    found = _imports("""\
        import typing
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import checked
            def f():
                import checked_in_function
        else:
            import runtime_else
        if typing.TYPE_CHECKING:
            import checked_qualified
        if not TYPE_CHECKING:
            import runtime_not
        else:
            import checked_else
        try:
            import optional
        except ImportError:
            optional = None
        if sys.version_info >= (3, 11):
            import tomllib
        """)
    guards = {name: f.guard for name, f in found.items() if name not in ("typing",)}
    assert guards == {
        "TYPE_CHECKING": Guard.NONE,
        "checked": Guard.TYPE_CHECKING,
        "checked_in_function": Guard.TYPE_CHECKING,
        "runtime_else": Guard.NONE,
        "checked_qualified": Guard.TYPE_CHECKING,
        "runtime_not": Guard.NONE,
        "checked_else": Guard.TYPE_CHECKING,
        "optional": Guard.IMPORT_ERROR,
        "tomllib": Guard.VERSION_CHECK,
    }
    assert found["checked_in_function"].scope is Scope.FUNCTION


def test_names_are_kept_as_written() -> None:
    facts = scan_source(b"from ..pkg.sub import a as b\nimport x.y as z\nfrom . import *\n")
    assert facts.imports == (
        ImportFact(1, "pkg.sub", 2, "a", "b"),
        ImportFact(2, "x.y", 0, None, "z"),
        ImportFact(3, "", 1, "*", None, origin=Origin.STAR),
    )


def test_dynamic_imports() -> None:
    facts = scan_source(
        textwrap.dedent("""\
            import importlib
            from importlib import import_module as load
            importlib.import_module("app.fast")
            load(f"app.plugins_{name}")
            __import__("app" + ".slow")
            importlib.import_module(name)
            importlib.import_module(".rel", package=__name__)
            """).encode()
    )
    dynamic = [
        (f.line, f.module, f.level, f.is_prefix)
        for f in facts.imports
        if f.origin is Origin.DYNAMIC
    ]
    assert dynamic == [
        (3, "app.fast", 0, False),
        (4, "app.plugins_", 0, True),
        (5, "app.slow", 0, False),
        (7, "rel", 1, False),
    ]
    assert [(d.line, d.expression) for d in facts.dynamic_imports] == [(6, "name")]


def test_sys_path_changes_fold_to_the_files_folder() -> None:
    facts = scan_source(
        textwrap.dedent("""\
            import os, sys
            from pathlib import Path
            sys.path.append(os.path.join(os.path.dirname(__file__), "..", "libs"))
            sys.path.insert(0, str(Path(__file__).parent / "vendor"))
            sys.path.insert(0, os.environ["EXTRA"])
            """).encode()
    )
    assert [(c.line, c.folded) for c in facts.sys_path_changes] == [
        (3, "../libs"),
        (4, "vendor"),
        (5, None),
    ]


def test_bad_input_becomes_a_diagnostic() -> None:
    null = scan_source(b"import os\nx = 1\x00\n")
    assert not null.parsed and null.diagnostics[0].kind == "decode-error"
    assert null.diagnostics[0].line == 2
    cookie = scan_source(b"# -*- coding: no-such-codec -*-\nimport os\n")
    assert not cookie.parsed and cookie.diagnostics[0].kind == "decode-error"
    latin = scan_source("# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n".encode("latin-1"))
    assert latin.parsed


def test_compiler_warnings_of_the_analysed_code_stay_quiet() -> None:
    # an invalid escape makes the compiler warn; the test run turns warnings into errors
    facts = scan_source(b'import re\npattern = "\\d+"\n')
    assert facts.parsed
    assert [f.module for f in facts.imports] == ["re"]


def test_blank_docstring_found_by_the_corpus() -> None:
    # numpy.ma.core has a function whose docstring is only whitespace
    facts = scan_source(b'def f():\n    """   \n    """\n    return 1\n')
    assert facts.parsed
    assert [(d.name, d.docstring) for d in facts.definitions] == [("f", None)]


def test_nesting_beyond_python_limits_is_too_complex_not_a_syntax_error() -> None:
    cases = {
        "x = " + "(" * 300 + "1" + ")" * 300 + "\n": 1,  # over 200 open brackets
        "".join(" " * n + "if x:\n" for n in range(101)) + " " * 101 + "pass\n": 101,
        "import os\ntotal = " + "+".join(["a"] * 20000) + "\n": 2,  # recursion depth
        "import os\nx = " + "-" * 100000 + "a\n": 2,  # the parser's stack (MemoryError)
    }
    for source, line in cases.items():
        facts = scan_source(source.encode())
        assert not facts.parsed and facts.parser == "ast"
        assert [(d.kind, d.line) for d in facts.diagnostics] == [("too-complex", line)]
        assert facts.diagnostics[0].message.startswith("nested too deeply to parse")


def test_in_place_changes_of_an_imported_object_are_writes() -> None:
    from carveout.domain.facts import MUTATING_METHODS
    from carveout.stages.scan import scan_source

    source = "import app.state as st\n" + "".join(
        f"st.items.{method}()\n" for method in sorted(MUTATING_METHODS)
    )
    writes = scan_source(source.encode()).attribute_writes
    assert [(w.target, w.via) for w in writes] == [("st.items", "mutate")] * len(MUTATING_METHODS)
