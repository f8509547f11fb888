"""Notebook code cells as Python source: magics blanked, bad cells reported, lines mapped."""

from __future__ import annotations

import json

from carveout.stages.notebooks import cell_of_line, notebook_source
from carveout.stages.scan import scan_source


def _notebook(*cells: str | tuple[str, str], version: int = 4) -> bytes:
    """Code cells from strings; (cell_type, source) pairs for other kinds."""
    made = []
    for cell in cells:
        kind, source = cell if isinstance(cell, tuple) else ("code", cell)
        key = "input" if version == 3 and kind == "code" else "source"
        made.append({"cell_type": kind, "metadata": {}, key: source.splitlines(keepends=True)})
    if version == 3:
        return json.dumps({"nbformat": 3, "worksheets": [{"cells": made}]}).encode()
    return json.dumps({"nbformat": 4, "metadata": {}, "cells": made}).encode()


def test_magics_and_shell_lines_are_blanked() -> None:
    source, problems = notebook_source(
        _notebook(
            "%pip install openai\n!ls -la\nfiles = !ls\nopenai?\nimport openai",
            "for x in range(3):\n    %time work(x)\n",
            "%%bash\necho not python\n",
            "%%time\nimport json\n",
        )
    )
    assert problems == []
    text = source.decode()
    assert "pip install" not in text and "echo" not in text and "!ls" not in text
    assert "    pass" in text  # an indented magic keeps its block valid
    facts = scan_source(source)
    assert facts.parsed
    assert sorted(f.module for f in facts.imports) == ["json", "openai"]


def test_a_bad_cell_is_left_out_with_its_line() -> None:
    source, problems = notebook_source(
        _notebook(("markdown", "# title"), "import os", "x = (\n", "import json")
    )
    assert [(d.kind, d.line) for d in problems] == [("notebook-cell", 4)]
    assert problems[0].message.startswith("cell 3, line 1:")
    assert cell_of_line(source, problems[0].line) == 3
    facts = scan_source(source)
    assert [f.module for f in facts.imports] == ["os", "json"]
    assert cell_of_line(source, facts.imports[1].line) == 4


def test_nbformat_3_is_read() -> None:
    source, problems = notebook_source(_notebook("import requests", version=3))
    assert problems == []
    assert [f.module for f in scan_source(source).imports] == ["requests"]


def test_not_a_notebook() -> None:
    for data in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        source, problems = notebook_source(data)
        assert source == b""
        assert [d.kind for d in problems] == ["notebook-error"]
