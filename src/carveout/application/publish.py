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
from carveout.adapters.diagrams import render_dot, render_mermaid, render_service_dot, render_svg
from carveout.adapters.html_report import render_html
from carveout.adapters.json_output import render_json
from carveout.adapters.output_folder import write_artefacts
from carveout.adapters.sarif import render_sarif
from carveout.application.analyze import AnalysisRun
from carveout.domain.model import Analysis


class ExitCode(IntEnum):
    """Exit codes of every carveout command. A finished analysis is OK whatever it found."""

    OK = 0
    USAGE_ERROR = 2  # a missing path, a bad flag or setting, nothing to analyse
    INTERNAL_ERROR = 70  # a bug in carveout (EX_SOFTWARE); run with --debug and report it


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What one analysis read, found and wrote, for the closing lines on stderr."""

    files: int
    modules: int
    edges: int
    ai_features: int
    couplings: int
    services: int
    diagnostics: int
    skipped: int
    files_from_cache: int
    skipped_reasons: tuple[tuple[str, int], ...]
    diagnostic_kinds: tuple[tuple[str, int], ...]
    report: str | None = None

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    @classmethod
    def of(cls, run: AnalysisRun, report: Path | None = None) -> RunSummary:
        analysis = run.analysis
        reasons = Counter(_reason_kind(s.reason) for s in analysis.project.skipped)
        kinds = Counter(d.kind for d in analysis.diagnostics)
        return cls(
            files=len(analysis.project.files),
            modules=len(analysis.modules),
            edges=sum(1 for e in analysis.edges if not e.external),
            ai_features=len(analysis.features),
            couplings=len(analysis.couplings),
            services=len(analysis.proposal.services),
            diagnostics=len(analysis.diagnostics),
            skipped=len(analysis.project.skipped),
            files_from_cache=run.files_from_cache,
            skipped_reasons=tuple(sorted(reasons.items())),
            diagnostic_kinds=tuple(sorted(kinds.items())),
            report=str(report) if report is not None else None,
        )


def artefacts(analysis: Analysis, *, collapse_threshold: int = 150) -> dict[str, str]:
    """Every output file of an analysis: relative path -> text. Deterministic."""
    module_dot = render_dot(analysis, threshold=collapse_threshold)
    service_dot = render_service_dot(analysis)
    svgs: dict[str, str | None] = {}
    notes: dict[str, str] = {}
    for name, source in (("services", service_dot), ("modules", module_dot)):
        svg, problem = render_svg(source)
        svgs[name] = svg
        if problem:
            notes[name] = problem

    files = {
        "index.html": render_html(analysis, svgs=svgs, notes=notes),
        "analysis.json": render_json(analysis),
        "couplings.sarif": render_sarif(analysis.couplings, tool_version=__version__),
        "graph.dot": module_dot,
        "services.dot": service_dot,
        "graph.mmd": render_mermaid(analysis, threshold=collapse_threshold),
    }
    if analysis.rules is not None:
        files["importlinter.toml"] = analysis.rules.text
    for generated in analysis.contracts:
        files[generated.path] = generated.text
    return files


def publish(run: AnalysisRun, out: Path) -> RunSummary:
    """Write every artefact of `run` into `out` and summarise the run."""
    files = artefacts(run.analysis, collapse_threshold=run.settings.collapse_threshold)
    write_artefacts(out, files)
    return RunSummary.of(run, out / "index.html")


def _reason_kind(reason: str) -> str:
    return reason.split(" (")[0]
