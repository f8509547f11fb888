"""The main use case: analyse a project and write the boundary report.

This is the one place where the real parts are wired together: discovery, the fact cache,
the scan, the graph, the detectors, the proposal, the generators and the renderers. Tests
swap parts through `AnalyzeRequest` and the returned values; nothing here prints.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from carveout import __version__
from carveout.adapters.catalogue import catalogue_fingerprint, load_catalogue
from carveout.adapters.config import load_settings
from carveout.adapters.fact_cache import FactCache
from carveout.application.collect import collect_facts
from carveout.domain import facts as facts_module
from carveout.domain.errors import UsageError
from carveout.domain.catalogue import Catalogue
from carveout.domain.facts import Diagnostic, FileFacts, Guard
from carveout.domain.model import Analysis, Edge, Proposal
from carveout.domain.settings import Settings
from carveout.stages import lowering as lowering_module
from carveout.stages import notebooks as notebooks_module
from carveout.stages import scan as scan_module
from carveout.stages.contracts import generate_contracts
from carveout.stages.couplings import find_couplings
from carveout.stages.discover import DiscoveryError, discover, invisible_modules
from carveout.stages.features import detect_features
from carveout.stages.graph import build_graph, find_cycles
from carveout.stages.propose import propose_services, service_surface
from carveout.stages.resolve import ProjectIndex
from carveout.stages.rules import generate_rules

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


def analyze(
    request: AnalyzeRequest,
    *,
    timings: Timings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AnalysisRun:
    """Analyse the project at `request.path`; raise `UsageError` for a path or setting
    that cannot be analysed."""
    timings = timings or Timings()
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

    with timings.stage("graph"):
        index = ProjectIndex(project, collected.facts)
        graph = build_graph(index)
        cycles = find_cycles(graph.edges)

    with timings.stage("features"):
        features, labels = detect_features(index, graph.edges, catalogue)

    with timings.stage("couplings"):
        couplings = find_couplings(
            index, graph.edges, cycles, labels, ignored_kinds=frozenset(settings.ignore),
            catalogue=catalogue,
        )

    with timings.stage("propose"):
        proposal = propose_services(
            graph.modules, graph.edges, labels, couplings, max_services=settings.max_services
        )
        proposal = _with_surfaces(proposal, index)

    with timings.stage("generate"):
        sources = _sources(project.root, index, proposal)
        contracts = generate_contracts(
            proposal.services, sources, project_modules=frozenset(index.modules)
        )
        rules = generate_rules(
            proposal,
            graph.modules,
            graph.edges,
            root_packages=project.top_level_packages,
            invisible_modules=invisible_modules(project),
            service_packages=_service_sdk_packages(proposal, graph.edges, catalogue),
        )

    diagnostics = project.diagnostics + collected.diagnostics + graph.diagnostics
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
        analysis, settings, collected.from_cache, collected.scanned,
        cache.problem if cache is not None else None,
    )


def _with_surfaces(proposal: Proposal, index: ProjectIndex) -> Proposal:
    """Fill each service's surface: the names modules outside it use from it."""
    uses = _resolved_uses(index)
    services = []
    for service in proposal.services:
        members = set(service.modules)
        outside = {m: u for m, u in uses.items() if m not in members}
        services.append(replace(service, surface=service_surface(members, outside)))
    return replace(proposal, services=tuple(services))


def _resolved_uses(index: ProjectIndex) -> dict[str, list[tuple[str, str | None, int]]]:
    """For each module, (target module, name used or None, line) for every project name it
    imports; a whole-module import is narrowed to the names the module's calls reach."""
    uses: dict[str, list[tuple[str, str | None, int]]] = {}
    for module in sorted(index.facts):
        facts: FileFacts = index.facts[module]
        found: set[tuple[str, str | None, int]] = set()
        for fact in facts.imports:
            if fact.guard.value == "type_checking" and fact.name is None:
                continue
            resolved = index.resolve_import(module, fact)
            target = resolved.target
            if target is None or target == module:
                continue
            if resolved.qualified != target and fact.name not in (None, "*"):
                found.add((target, resolved.qualified[len(target) + 1 :].split(".")[0],
                           fact.line))
                continue
            reached = _names_reached(index, module, facts, target)
            if reached:
                found.update((target, name, line) for name, line in reached)
            else:
                found.add((target, None, fact.line))
        uses[module] = sorted(found, key=lambda u: (u[0], u[1] or "", u[2]))
    return uses


def _names_reached(
    index: ProjectIndex, module: str, facts: FileFacts, target: str
) -> set[tuple[str, int]]:
    prefix = target + "."
    reached = set()
    for call in facts.calls:
        qualified = index.qualify(module, call.callee)
        if qualified.startswith(prefix):
            reached.add((qualified[len(prefix) :].split(".")[0], call.line))
    return reached


def _service_sdk_packages(
    proposal: Proposal, edges: Sequence[Edge], catalogue: Catalogue
) -> dict[str, tuple[str, ...]]:
    """The AI SDK packages (top-level names) each service's modules import: only the
    services may import them, so the rules protect them."""
    sdk_tops = {module.split(".")[0] for sdk in catalogue.sdks for module in sdk.modules}
    owned: dict[str, tuple[str, ...]] = {}
    for service in proposal.services:
        members = set(service.modules)
        packages = {
            edge.target
            for edge in edges
            if edge.external and edge.source in members and edge.target in sdk_tops
            and edge.guard is not Guard.TYPE_CHECKING
        }
        if packages:
            owned[service.name] = tuple(sorted(packages))
    return owned


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
            data = (Path(root) / file.path).read_bytes()
            sources[module] = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            log.info("cannot read %s for the facade: %s", file.path, error)
    return sources


def _cache_salt(settings: Settings, catalogue_hash: str) -> str:
    parts = [__version__, sys.version, catalogue_hash, settings.fact_key, _scanner_fingerprint()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


@functools.cache
def _scanner_fingerprint() -> str:
    """A hash of the code that makes facts, so a changed scanner never reads stale facts
    even when the version number did not move (editable installs, development)."""
    hasher = hashlib.sha256()
    for module in (facts_module, scan_module, lowering_module, notebooks_module):
        source = getattr(module, "__file__", None)
        if source:
            hasher.update(Path(source).read_bytes())
    return hasher.hexdigest()


def _diagnostic_key(diagnostic: Diagnostic) -> tuple[str, int, str, str]:
    return (diagnostic.path, diagnostic.line, diagnostic.kind, diagnostic.message)

