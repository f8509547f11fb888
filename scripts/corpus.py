"""Run discovery, the scan and the graph over a corpus of real wheels from PyPI.

The corpus is `scripts/corpus_wheels.txt`. For each wheel it reports crashes (any exception
raised inside carveout's own code: the scan of one file, the index, the graph, the cycles),
files that became neither a module nor a skipped entry with its reason (there must be
none), and diagnostics by kind. The summary goes to `docs/corpus-summary.md`.

Usage: python scripts/corpus.py [--list FILE] [--output FILE] [--only NAME ...]
This downloads wheels (pip); it is not part of the tests.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _wheels import REPOSITORY, download, unpack

from carveout.domain.facts import Diagnostic, FileFacts
from carveout.domain.model import ModuleKind, Project
from carveout.domain.settings import Settings
from carveout.stages.discover import DiscoveryError, discover
from carveout.stages.graph import build_graph, find_cycles
from carveout.stages.notebooks import notebook_source
from carveout.stages.resolve import ProjectIndex
from carveout.stages.scan import scan_source

DEFAULT_LIST = REPOSITORY / "scripts" / "corpus_wheels.txt"
DEFAULT_OUTPUT = REPOSITORY / "docs" / "corpus-summary.md"
DEFAULT_PYTHON = "3.13"
_READ_SUFFIXES = (".py", ".ipynb")


@dataclass
class WheelReport:
    """What one wheel gave: counts, crashes, unaccounted files, diagnostics by kind."""

    spec: str
    wheel: str = ""
    files: int = 0
    modules: int = 0
    skipped: int = 0
    edges: int = 0
    cycles: int = 0
    parsers: Counter[str] = field(default_factory=Counter)
    diagnostics: Counter[str] = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)
    unaccounted: list[str] = field(default_factory=list)
    unavailable: str = ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", type=Path, default=DEFAULT_LIST)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--only", nargs="*", default=None, help="names from the list to run")
    arguments = parser.parse_args(argv)

    entries = read_list(arguments.list)
    if arguments.only:
        wanted = {name.lower() for name in arguments.only}
        entries = [e for e in entries if e[0].partition("==")[0].lower() in wanted]
    reports = []
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for spec, python_version in entries:
            report = run_wheel(spec, python_version, pool)
            reports.append(report)
            print(_line(report), file=sys.stderr)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(render(reports), encoding="utf-8")
    crashes = sum(len(r.crashes) for r in reports)
    unaccounted = sum(len(r.unaccounted) for r in reports)
    print(f"{len(reports)} wheels, {crashes} crashes, {unaccounted} unaccounted files")
    return 1 if crashes or unaccounted else 0


def read_list(path: Path) -> list[tuple[str, str]]:
    """(spec, python version) per line: `name==version [python=X.Y]`, `#` comments."""
    entries = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *options = line.split()
        python_version = DEFAULT_PYTHON
        for option in options:
            key, _, value = option.partition("=")
            if key == "python" and value:
                python_version = value
        entries.append((spec, python_version))
    return entries


def run_wheel(spec: str, python_version: str, pool: ProcessPoolExecutor) -> WheelReport:
    """Download, unpack and analyse one wheel; never raises."""
    report = WheelReport(spec)
    try:
        wheel = download(spec, python_version)
        folder = unpack(wheel)
    except (RuntimeError, OSError) as error:
        report.unavailable = str(error)
        return report
    report.wheel = wheel.name

    # discovery: every Python file must end as a module or a skipped entry
    try:
        project = discover(folder, Settings(include_tests=True, include_notebooks=True))
    except DiscoveryError as error:  # the user-facing answer for a wheel without Python
        report.unavailable = f"no Python: {error}"
        return report
    except Exception as error:  # a crash is what this script counts
        report.crashes.append(f"discover: {_describe(error)}")
        return report
    on_disk = _python_files(folder)
    report.files = len(on_disk)
    report.modules = len(project.files)
    report.skipped = len(project.skipped)
    report.unaccounted = sorted(_unaccounted(project, on_disk))
    report.diagnostics.update(d.kind for d in project.diagnostics)

    # the scan, one file at a time in worker processes
    root = Path(project.root)
    paths = [str(root / f.path) for f in project.files]
    kinds = [f.kind.value for f in project.files]
    facts: dict[str, FileFacts] = {}
    for file, (scanned, crash) in zip(
        project.files, pool.map(_scan, paths, kinds, chunksize=32), strict=True
    ):
        if crash:
            report.crashes.append(f"scan {file.path}: {crash}")
            continue
        assert scanned is not None
        facts[file.module] = scanned
        report.parsers[scanned.parser if scanned.parsed else "unparsed"] += 1
        report.diagnostics.update(d.kind for d in scanned.diagnostics)

    # the index, the graph and the cycles
    try:
        index = ProjectIndex(project, facts)
        for module in sorted(index.files):
            index.public_names(module)
        graph = build_graph(index)
        report.edges = len(graph.edges)
        report.diagnostics.update(d.kind for d in graph.diagnostics)
        report.cycles = len(find_cycles(graph.edges))
    except Exception as error:  # a crash is what this script counts
        report.crashes.append(f"graph: {_describe(error)}")
    return report


def render(reports: list[WheelReport]) -> str:
    """The Markdown summary: totals, diagnostics by kind, then one row per wheel."""
    ran = [r for r in reports if not r.unavailable]
    totals: Counter[str] = Counter()
    parsers: Counter[str] = Counter()
    for report in ran:
        totals.update(report.diagnostics)
        parsers.update(report.parsers)
    crashes = [c for r in reports for c in r.crashes]
    unaccounted = [f"{r.spec}: {u}" for r in reports for u in r.unaccounted]
    lines = [
        "# Corpus run: discovery, scan and graph over real wheels",
        "",
        "Generated by `python scripts/corpus.py` over `scripts/corpus_wheels.txt` (downloads",
        "the wheels; not a test). A crash is any exception raised inside carveout's own code;",
        "an unaccounted file is a `.py` or `.ipynb` file that became neither a module nor a",
        "skipped entry with its reason. Settings: tests and notebooks included.",
        "",
        f"- wheels listed: {len(reports)}; read: {len(ran)}; unavailable: "
        f"{len(reports) - len(ran)}",
        f"- Python files: {sum(r.files for r in ran)}; modules: {sum(r.modules for r in ran)}; "
        f"skipped entries: {sum(r.skipped for r in ran)}",
        f"- parsed by ast: {parsers['ast']}; by libcst after lowering: {parsers['libcst']}; "
        f"by no parser: {parsers['unparsed']}",
        f"- edges: {sum(r.edges for r in ran)}; import cycles: {sum(r.cycles for r in ran)}",
        f"- **crashes: {len(crashes)}**",
        f"- **unaccounted files: {len(unaccounted)}**",
        "",
        "## Diagnostics by kind",
        "",
        "| kind | count |",
        "|---|---|",
        *(f"| {kind} | {count} |" for kind, count in sorted(totals.items())),
        "",
    ]
    if crashes or unaccounted:
        lines += ["## Crashes and unaccounted files", ""]
        lines += [f"- crash: {c}" for c in crashes]
        lines += [f"- unaccounted: {u}" for u in unaccounted]
        lines.append("")
    lines += [
        "## Wheels",
        "",
        "| wheel | files | modules | skipped | parsed by libcst | unparsed | edges | cycles "
        "| diagnostics | crashes | unaccounted |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        if r.unavailable:
            lines.append(f"| {r.spec} | unavailable: {r.unavailable} | | | | | | | | | |")
            continue
        lines.append(
            f"| {r.wheel} | {r.files} | {r.modules} | {r.skipped} | {r.parsers['libcst']} "
            f"| {r.parsers['unparsed']} | {r.edges} | {r.cycles} "
            f"| {sum(r.diagnostics.values())} | {len(r.crashes)} | {len(r.unaccounted)} |"
        )
    lines.append("")
    return "\n".join(lines)


# --- private helpers --------------------------------------------------------------------


def _scan(path: str, kind: str) -> tuple[FileFacts | None, str]:
    """Scan one file as the application does; an exception is reported, not raised."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        diagnostic = Diagnostic("", 1, f"cannot read: {error}", "read-error")
        return FileFacts(lines=0, parsed=False, diagnostics=(diagnostic,)), ""
    try:
        if kind == ModuleKind.NOTEBOOK.value:
            source, problems = notebook_source(data)
            facts = scan_source(source)
            return replace(facts, diagnostics=facts.diagnostics + tuple(problems)), ""
        return scan_source(data), ""
    except Exception as error:  # a crash is what this script counts
        return None, _describe(error)


def _describe(error: BaseException) -> str:
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return f"{type(error).__name__}: {error}{where}"


def _python_files(folder: Path) -> list[str]:
    found = []
    for here, _, names in os.walk(folder, followlinks=False):
        for name in names:
            if name.endswith(_READ_SUFFIXES):
                found.append((Path(here) / name).relative_to(folder).as_posix())
    return sorted(found)


def _unaccounted(project: Project, on_disk: list[str]) -> list[str]:
    modules = {f.path for f in project.files}
    skipped_files = {s.path for s in project.skipped if not s.path.endswith("/")}
    skipped_folders = tuple(s.path for s in project.skipped if s.path.endswith("/"))
    return [
        path
        for path in on_disk
        if path not in modules
        and path not in skipped_files
        and not path.startswith(skipped_folders)
    ]


def _line(report: WheelReport) -> str:
    if report.unavailable:
        return f"{report.spec}: unavailable ({report.unavailable})"
    return (
        f"{report.spec}: files={report.files} modules={report.modules} "
        f"libcst={report.parsers['libcst']} unparsed={report.parsers['unparsed']} "
        f"crashes={len(report.crashes)} unaccounted={len(report.unaccounted)}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
