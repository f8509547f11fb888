"""The main use case: analyse a project and write the boundary report.

This is the one place where the real parts are wired together: discovery, the fact cache,
the scan, the graph, the detectors, the proposal, the generators and the renderers. Tests
swap parts through `AnalyzeRequest` and the returned values; nothing here prints.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import importlib.util
import logging
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from carveout import __version__
from carveout.adapters.catalogue import catalogue_fingerprint, load_catalogue
from carveout.adapters.config import load_settings
from carveout.adapters.fact_cache import FactCache
from carveout.adapters.output_folder import read_published_contracts
from carveout.application.collect import collect_facts, read_source
from carveout.application.collector import collection_paused
from carveout.application.overlap import OVERLAP_THRESHOLD, Overlapped, can_overlap
from carveout.domain.errors import UsageError
from carveout.domain.facts import Diagnostic
from carveout.domain.model import Analysis, Proposal
from carveout.domain.settings import Settings
from carveout.stages.contracts import generate_contracts
from carveout.stages.couplings import find_couplings
from carveout.stages.discover import DiscoveryError, discover, invisible_modules
from carveout.stages.features import detect_features
from carveout.stages.graph import build_graph, find_cycles
from carveout.stages.propose import propose_services
from carveout.stages.resolve import ProjectIndex
from carveout.stages.rules import generate_rules
from carveout.stages.suppressions import unknown_suppressions
from carveout.stages.surface import service_sdk_packages, with_surfaces

log = logging.getLogger(__name__)

CACHE_FOLDER = ".carveout_cache"


@dataclass(frozen=True, slots=True)
class AnalyzeRequest:
    """What the user asked for. `overrides` are flag values that beat `[tool.carveout]`."""

    path: Path
    overrides: Mapping[str, object] = field(default_factory=dict)
    cache_dir: Path | None = None
    use_cache: bool = True
    jobs: int | None = None
    # where the report goes; None: reports/<project-name> under the working folder. The
    # contracts published there before are the baseline of the new contract versions.
    out: Path | None = None
    # the AI detectors read only the modules that can reach a provider (False: all of
    # them; the answer is the same, which the benchmark and the tests check)
    prefilter: bool = True


@dataclass
class Timings:
    """Seconds spent in each stage, in the order the stages ran."""

    stages: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - start


@dataclass(frozen=True, slots=True)
class AnalysisRun:
    """An analysis with what the run itself observed (not part of the written outputs)."""

    analysis: Analysis
    settings: Settings
    files_from_cache: int
    files_scanned: int
    cache_problem: str | None
    out: Path


def analyze(
    request: AnalyzeRequest,
    *,
    timings: Timings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AnalysisRun:
    """Analyse the project at `request.path`; raise `UsageError` for a path or setting
    that cannot be analysed."""
    with collection_paused():
        return _analyze(request, timings or Timings(), progress)


def default_output_folder(project_name: str) -> Path:
    """`reports/<project-name>`, the name made safe for a folder."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", project_name).strip("-.") or "project"
    return Path("reports") / name


def _analyze(
    request: AnalyzeRequest,
    timings: Timings,
    progress: Callable[[int, int], None] | None,
) -> AnalysisRun:
    settings = load_settings(request.path, dict(request.overrides))
    catalogue = load_catalogue(Path(settings.catalogue) if settings.catalogue else None)

    with timings.stage("discover"):
        try:
            project = discover(request.path, settings)
        except DiscoveryError as error:
            raise UsageError(str(error)) from error

    with timings.stage("scan"):
        cache = None
        if request.use_cache:
            folder = request.cache_dir or Path(project.root) / CACHE_FOLDER
            cache = FactCache(folder, _cache_salt(settings, catalogue_fingerprint(catalogue)))
        collected = collect_facts(project, cache=cache, jobs=request.jobs, progress=progress)
        if cache is not None:
            cache.close()
        # the facts live to the end of the run and hold no cycles: keep the collector from
        # walking them again and again (15-20% of a big warm run)
        gc.freeze()

    with timings.stage("graph"):
        index = ProjectIndex(project, collected.facts)
        graph = build_graph(index)
        # on a big project the cycles are searched in a second process meanwhile
        overlap = request.jobs != 1 and len(graph.modules) >= OVERLAP_THRESHOLD and can_overlap()
        cycles_job = Overlapped(functools.partial(find_cycles, graph.edges), enabled=overlap)

    with timings.stage("features"):
        features, labels = detect_features(
            index, graph.edges, catalogue, prefilter=request.prefilter
        )

    with timings.stage("cycles"):  # when overlapped: only what is left to wait for
        cycles = cycles_job.result()

    with timings.stage("couplings"):
        suppression_problems = unknown_suppressions(index)
        couplings = find_couplings(
            index,
            graph.edges,
            cycles,
            labels,
            ignored_kinds=frozenset(settings.ignore),
            catalogue=catalogue,
        )

    with timings.stage("propose"):
        proposal = propose_services(
            graph.modules, graph.edges, labels, couplings, max_services=settings.max_services
        )
        proposal = with_surfaces(proposal, index)

    with timings.stage("generate"):
        sources = _sources(project.root, index, proposal)
        out = request.out or default_output_folder(project.name)
        contracts = generate_contracts(
            proposal.services,
            sources,
            project_modules=frozenset(index.modules),
            previous=read_published_contracts(out),
        )
        rules = generate_rules(
            proposal,
            graph.modules,
            graph.edges,
            root_packages=project.top_level_packages,
            invisible_modules=invisible_modules(project),
            service_packages=service_sdk_packages(proposal, graph.edges, catalogue),
            unread_modules=frozenset(project.unread_modules),
        )

    diagnostics = (
        project.diagnostics + collected.diagnostics + graph.diagnostics + suppression_problems
    )
    analysis = Analysis(
        project=project,
        modules=graph.modules,
        edges=graph.edges,
        cycles=cycles,
        features=features,
        labels=labels,
        couplings=couplings,
        proposal=proposal,
        contracts=contracts,
        rules=rules,
        diagnostics=tuple(sorted(set(diagnostics), key=_diagnostic_key)),
    )
    return AnalysisRun(
        analysis,
        settings,
        collected.from_cache,
        collected.scanned,
        cache.problem if cache is not None else None,
        out,
    )


def _sources(root: str, index: ProjectIndex, proposal: Proposal) -> dict[str, str]:
    """Source text of the modules on the services' surfaces (the generators parse them)."""
    wanted = {s.module for service in proposal.services for s in service.surface}
    wanted |= {m for service in proposal.services for m in service.modules}
    sources = {}
    for module in sorted(wanted):
        file = index.files.get(module)
        if file is None:
            continue
        try:
            data = read_source(Path(root) / file.path)
            sources[module] = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            log.info("cannot read %s for the facade: %s", file.path, error)
    return sources


def _cache_salt(settings: Settings, catalogue_hash: str) -> str:
    parts = [__version__, sys.version, catalogue_hash, settings.fact_key, _scanner_fingerprint()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


# the modules whose code makes facts (found, not imported: a run loads only what it uses)
_FACT_MAKERS = (
    "carveout.domain.facts",
    "carveout.stages.scan",
    "carveout.stages.lowering",
    "carveout.stages.notebooks",
    "carveout.application.collect",
    "carveout.adapters.fact_cache",
)


@functools.cache
def _scanner_fingerprint() -> str:
    """A hash of the code that makes facts, so a changed scanner never reads stale facts
    even when the version number did not move (editable installs, development)."""
    hasher = hashlib.sha256()
    for name in _FACT_MAKERS:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            hasher.update(Path(spec.origin).read_bytes())
    return hasher.hexdigest()


def _diagnostic_key(diagnostic: Diagnostic) -> tuple[str, int, str, str]:
    return (diagnostic.path, diagnostic.line, diagnostic.kind, diagnostic.message)
