"""Turn a Jupyter notebook into Python source the scan can read, one code cell after another.

IPython magics and shell escapes are not Python, so their lines are blanked; a cell that still
does not parse is left out with a diagnostic instead of sinking the whole notebook. Each cell
starts with a `# %% cell N` line, so a line of the source says which cell it came from.
"""

from __future__ import annotations

import ast
import json
import re
import warnings

from carveout.domain.facts import Diagnostic
from carveout.stages.lowering import lower_to_running_grammar

# cell magics whose body is still Python; any other cell magic (%%bash, %%sql, ...) is not
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit"})
_SHELL_ASSIGNMENT = re.compile(r"^\s*[\w.,\s]+=\s*[!%]")
_HELP = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")
_CELL_MARKER = re.compile(r"^# %% cell (\d+)$")


def notebook_source(data: bytes) -> tuple[bytes, list[Diagnostic]]:
    """The code cells of a notebook (`.ipynb` JSON, nbformat 3 or 4) as UTF-8 Python source.

    Lines that are magics (`%...`), shell escapes (`!...`), shell assignments (`x = !ls`)
    or help requests (`obj?`) become empty lines (`pass` when indented, so a block keeps a
    body); a `%%` cell magic other than timing ones blanks its cell. Every cell is preceded
    by one `# %% cell N` line (N counts all cells from 1, as Jupyter shows them). A cell that
    no parser accepts is blanked and reported as a `notebook-cell` diagnostic at its line in
    the returned source; unreadable JSON gives empty source and a `notebook-error`.
    """
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        return b"", [Diagnostic("", 1, f"cannot read the notebook: {error}", "notebook-error")]
    cells = _code_cells(document)
    if cells is None:
        return b"", [
            Diagnostic("", 1, "not a notebook (no list of cells in the JSON)", "notebook-error")
        ]

    lines: list[str] = []
    diagnostics: list[Diagnostic] = []
    for number, source in cells:
        lines.append(f"# %% cell {number}")
        first_line = len(lines) + 1
        cell_lines = _without_magics(source.splitlines())
        problem = _parse_problem("\n".join(cell_lines) + "\n")
        if problem is not None:
            line_in_cell, message = problem
            diagnostics.append(
                Diagnostic(
                    "",
                    first_line + line_in_cell - 1,
                    f"cell {number}, line {line_in_cell}: {message} (cell left out)",
                    "notebook-cell",
                )
            )
            cell_lines = ["" for _ in cell_lines]
        lines.extend(cell_lines)
    text = "\n".join(lines) + "\n" if lines else ""
    return text.encode("utf-8"), diagnostics


def cell_of_line(source: bytes, line: int) -> int | None:
    """The notebook cell (numbered as in `notebook_source`) a line of its source came from."""
    cell = None
    for number, text in enumerate(source.decode("utf-8").splitlines(), start=1):
        if number > line:
            break
        marker = _CELL_MARKER.match(text)
        if marker:
            cell = int(marker.group(1))
    return cell


# --- private helpers --------------------------------------------------------------------


def _code_cells(document: object) -> list[tuple[int, str]] | None:
    """(number, source) of each code cell, or None when the JSON holds no cell list."""
    if not isinstance(document, dict):
        return None
    cells = document.get("cells")
    source_key = "source"
    if cells is None and isinstance(document.get("worksheets"), list):
        cells = [
            cell
            for sheet in document["worksheets"]
            if isinstance(sheet, dict)
            for cell in sheet.get("cells") or []
        ]
        source_key = "input"
    if not isinstance(cells, list):
        return None
    found = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        found.append((number, _joined(cell.get(source_key, cell.get("source", "")))))
    return found


def _joined(source: object) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return ""


def _without_magics(lines: list[str]) -> list[str]:
    if lines and lines[0].lstrip().startswith("%%"):
        name = lines[0].lstrip()[2:].split(maxsplit=1)[0] if lines[0].strip() != "%%" else ""
        if name not in _PYTHON_CELL_MAGICS:
            return ["" for _ in lines]
        lines = ["", *lines[1:]]
    return [_blank_if_magic(line) for line in lines]


def _blank_if_magic(line: str) -> str:
    stripped = line.lstrip()
    if not (stripped.startswith(("%", "!")) or _SHELL_ASSIGNMENT.match(line) or _HELP.match(line)):
        return line
    indent = line[: len(line) - len(stripped)]
    return f"{indent}pass" if indent else ""


def _parse_problem(source: str) -> tuple[int, str] | None:
    """(line, message) when no parser accepts `source`, else None."""
    try:
        _quiet_parse(source)
        return None
    except SyntaxError as error:
        first_error = error
    except (ValueError, RecursionError) as error:
        return 1, f"cannot parse: {type(error).__name__}"
    lowered = lower_to_running_grammar(source)
    if lowered is not None:
        try:
            _quiet_parse(lowered)
            return None
        except (SyntaxError, ValueError, RecursionError):
            pass
    return first_error.lineno or 1, f"syntax error: {first_error.msg}"


def _quiet_parse(source: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ast.parse(source)
