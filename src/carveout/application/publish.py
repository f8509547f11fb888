"""Turn an analysis into the files of the output folder, and tally what a run did.

`artefacts` builds every output in memory (so a test can compare them without touching
the disk); `publish` writes them. `RunSummary` owns the tallies and the exit code.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from carveout import __version__
from carveout.adapters.diagrams import (
    SvgLayout,
    module_graph_view,
    render_service_dot,
    render_view_dot,
    render_view_mermaid,
    start_svg,
)
from carveout.adapters.html_report import render_html
from carveout.adapters.json_output import analysis_to_dict, import_edge_count, render_document
from carveout.adapters.output_folder import write_artefacts
from carveout.adapters.sarif import render_sarif
from carveout.application.analyze import AnalysisRun
from carveout.application.collector import collection_paused
from carveout.domain.model import Analysis
from carveout.stages.discover import missing_init_files

# Skip reasons that are not noun phrases as they are written, and nouns whose plural is
# not made with "s".
_SKIP_REASON_NOUNS = {
    "cannot read": "unreadable path",
    "shadowed by the package": "module shadowed by a package",
    "path is not a valid module name": "path that is not a module name",
    "Cython declarations": "Cython declaration file",
    "outside the source roots": "path outside the source roots",
}
SKIP_REASON_PLURALS = {
    "module shadowed by a package": "modules shadowed by a package",
    "path that is not a module name": "paths that are not module names",
    "path outside the source roots": "paths outside the source roots",
}


class ExitCode(IntEnum):
    """Exit codes of every carveout command. A finished analysis is OK whatever it found."""

    OK = 0
    USAGE_ERROR = 2  # a missing path, a bad flag or setting, nothing to analyse
    INTERNAL_ERROR = 70  # a bug in carveout (EX_SOFTWARE); run with --debug and report it
    OUTPUT_ERROR = 74  # stdout could not be written: a full disk, a closed pipe (EX_IOERR)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What one analysis read, found and wrote, for the closing lines on stderr."""

    files: int
    modules: int
    edges: int  # between project modules, implicit parent-package edges left out
    ai_features: int
    couplings: int
    services: int
    diagnostics: int
    skipped: int
    files_from_cache: int
    skipped_reasons: tuple[tuple[str, int], ...]
    diagnostic_kinds: tuple[tuple[str, int], ...]
    report: str | None = None
    skipped_folders: int = 0  # of `skipped`
    rules_written: bool = False  # whether importlinter.toml was written
    unenforceable: int = 0  # modules and rules import-linter cannot see or check
    missing_init_files: int = 0  # the __init__.py files that would let it see more

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    @classmethod
    def of(cls, run: AnalysisRun, report: Path | None = None) -> RunSummary:
        """The tallies of `run`; `skipped_reasons` are (noun phrase, count) pairs, the
        phrase singular, its plural in `SKIP_REASON_PLURALS` or made with "s"."""
        analysis = run.analysis
        reasons = Counter(_reason_kind(s.reason) for s in analysis.project.skipped)
        kinds = Counter(d.kind for d in analysis.diagnostics)
        rules = analysis.rules
        unenforceable = len(rules.unenforceable) if rules is not None else 0
        return cls(
            files=len(analysis.project.files),
            modules=len(analysis.modules),
            edges=import_edge_count(analysis.edges),
            ai_features=len(analysis.features),
            couplings=len(analysis.couplings),
            services=len(analysis.proposal.services),
            diagnostics=len(analysis.diagnostics),
            skipped=len(analysis.project.skipped),
            files_from_cache=run.files_from_cache,
            skipped_reasons=tuple(sorted(reasons.items())),
            diagnostic_kinds=tuple(sorted(kinds.items())),
            report=str(report) if report is not None else None,
            skipped_folders=sum(1 for s in analysis.project.skipped if s.path.endswith("/")),
            rules_written=rules is not None and bool(rules.text),
            unenforceable=unenforceable,
            missing_init_files=len(missing_init_files(analysis.project)) if unenforceable else 0,
        )


def artefacts(analysis: Analysis, *, collapse_threshold: int = 150) -> dict[str, str]:
    """Every output file of an analysis: relative path -> text. Deterministic."""
    with collection_paused():
        return _artefacts(analysis, collapse_threshold)


def publish(run: AnalysisRun, out: Path) -> RunSummary:
    """Write every artefact of `run` into `out` and summarise the run."""
    files = artefacts(run.analysis, collapse_threshold=run.settings.collapse_threshold)
    write_artefacts(out, files)
    return RunSummary.of(run, out / "index.html")


def _artefacts(analysis: Analysis, collapse_threshold: int) -> dict[str, str]:
    # Graphviz lays the diagrams out in its own processes while the documents are built;
    # the module graph's view is computed once for DOT and Mermaid, the document once for
    # JSON and HTML.
    layouts: dict[str, SvgLayout] = {}
    try:
        service_dot = render_service_dot(analysis)
        layouts["services"] = start_svg(service_dot)
        view = module_graph_view(analysis, threshold=collapse_threshold)
        module_dot = render_view_dot(view)
        layouts["modules"] = start_svg(module_dot)
        document = analysis_to_dict(analysis)
        files = {
            "analysis.json": render_document(document),
            "couplings.sarif": render_sarif(analysis.couplings, tool_version=__version__),
            "graph.dot": module_dot,
            "services.dot": service_dot,
            "graph.mmd": render_view_mermaid(view),
        }
    except BaseException:
        for layout in layouts.values():
            layout.cancel()
        raise

    # The page embeds the diagrams, or says why one is missing.
    svgs: dict[str, str | None] = {}
    notes: dict[str, str] = {}
    for name, layout in layouts.items():
        svg, problem = layout.result()
        svgs[name] = svg
        if problem:
            notes[name] = problem
    files = {
        "index.html": render_html(analysis, svgs=svgs, notes=notes, document=document),
        **files,
    }
    if analysis.rules is not None and analysis.rules.text:
        files["importlinter.toml"] = analysis.rules.text
    for generated in analysis.contracts:
        files[generated.path] = generated.text
    return files


def _reason_kind(reason: str) -> str:
    """A skip reason as a singular noun phrase: "test folder (include with ...)" gives
    "test folder"; reasons that are not noun phrases get one."""
    kind = reason.split(" (")[0]
    for prefix, noun in _SKIP_REASON_NOUNS.items():
        if kind.startswith(prefix):
            return noun
    return kind
