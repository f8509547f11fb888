"""The analysis as plain data: project, module graph, AI features, couplings, services.

Every stage reads and returns these frozen records; adapters turn them into JSON, HTML,
SARIF, DOT and Mermaid. Tuples are kept sorted by the stage that builds them, so that a
rerun on the same input produces the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from carveout.domain.facts import Confidence, Diagnostic, Guard, Origin, Scope


class ModuleKind(str, Enum):
    MODULE = "module"
    PACKAGE = "package"
    NAMESPACE = "namespace"
    NOTEBOOK = "notebook"


class Capability(str, Enum):
    """The one fixed list of AI capabilities, shared by catalogue, report and docs."""

    CHAT = "chat"
    EMBEDDINGS = "embeddings_retrieval"
    IMAGE = "image_generation"
    VIDEO = "video"
    SPEECH_TO_TEXT = "speech_to_text"
    TEXT_TO_SPEECH = "text_to_speech"
    MODERATION = "moderation"
    RERANKING = "reranking"
    AGENTS = "agents_tool_use"
    LOCAL_INFERENCE = "local_inference"


class Severity(str, Enum):
    """Coupling severity; maps to SARIF levels error / warning / note."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


# --- discovery -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file that became a module. `path` is relative to the project root, POSIX style."""

    path: str
    module: str
    kind: ModuleKind
    is_entry_point: bool = False


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file or folder under the roots that did not become a module, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """A packaging entry point (`[project.scripts]`, `[project.entry-points.*]`)."""

    group: str
    name: str
    target: str  # "pkg.mod:attr"
    module: str | None  # the project module it names, when it names one


@dataclass(frozen=True, slots=True)
class Project:
    """What discovery found: the roots, the files with their module names, what was left.

    `scope` is set when the analysed folder is a package inside another package
    (`shopwise.ai`): only it was read, and modules of the same top package outside it are
    code the analysis does not see. `unread_modules` then names that code as far as folder
    listings tell, never read: the packages above the scope and the modules and packages
    beside it at each level (`shopwise`, `shopwise.orders`, `shopwise.cli`).
    """

    root: str
    name: str
    source_roots: tuple[str, ...]
    files: tuple[SourceFile, ...]
    namespace_packages: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    entry_points: tuple[EntryPoint, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    scope: str | None = None
    unread_modules: tuple[str, ...] = ()

    @property
    def top_level_packages(self) -> tuple[str, ...]:
        return tuple(sorted({f.module.split(".")[0] for f in self.files}))


# --- module graph ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Module:
    name: str
    path: str | None  # None for a namespace package (no file)
    kind: ModuleKind
    lines: int
    is_entry_point: bool = False


@dataclass(frozen=True, slots=True)
class Edge:
    """One import statement (or other origin) from one project module to another.

    `target` is a project module, or a third-party top-level package name when `external`.
    """

    source: str
    target: str
    line: int
    scope: Scope = Scope.MODULE
    guard: Guard = Guard.NONE
    origin: Origin = Origin.IMPORT
    confidence: Confidence = Confidence.EXACT
    external: bool = False
    canonical: bool = True

    @property
    def sort_key(self) -> tuple[str, str, int, str, str, str, str, bool, bool]:
        """The one order of edges, in the graph and in every output."""
        # `_value_` is `.value` without the enum property's Python-level call (this runs
        # millions of times on a big monolith)
        return (
            self.source,
            self.target,
            self.line,
            self.origin._value_,
            self.scope._value_,
            self.guard._value_,
            self.confidence._value_,
            self.external,
            self.canonical,
        )

    @property
    def is_runtime(self) -> bool:
        """Counts for runtime cycles, clustering and generated rules."""
        # members of a str-valued enum equal their values: comparing with the values of
        # Guard.TYPE_CHECKING and Origin.IMPLICIT_PARENT skips the enum class attribute
        # lookups, slow on Python 3.11 (hundreds of thousands of calls on a big monolith)
        return (
            not self.external
            and self.guard != "type_checking"
            and self.origin != "implicit_parent"
        )


@dataclass(frozen=True, slots=True)
class Cycle:
    """A strongly connected component with one shortest cycle through it.

    `deferred` is true when every cycle of the component needs a function-level or
    class-body import, so nothing loops at import time. `breaking_edges` is a greedy set of
    (source, target) pairs whose removal breaks the component, most-breaking first.
    """

    modules: tuple[str, ...]
    path: tuple[str, ...]
    deferred: bool
    breaking_edges: tuple[tuple[str, str], ...] = ()


# --- findings --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    path: str
    line: int
    text: str = ""


@dataclass(frozen=True, slots=True)
class AiFeature:
    """One AI capability as found in the project."""

    capability: Capability
    modules: tuple[str, ...]
    providers: tuple[str, ...]
    models: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    entry_points: tuple[str, ...] = ()
    env_vars: tuple[str, ...] = ()
    config_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ModuleLabel:
    """A module's capabilities, direct (it calls a provider) or as orchestration.

    `strength`, when given, counts the provider calls behind each capability (same order
    as `capabilities`), so a module serving several capabilities has a dominant one.
    """

    module: str
    capabilities: tuple[Capability, ...]
    direct: bool
    strength: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Coupling:
    """An implicit coupling that stands in the way of an extraction.

    `kind` is a stable id (SARIF rule id, suppression comments, config).
    """

    kind: str
    severity: Severity
    modules: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    why: str
    fix: str


# --- boundaries ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a module was placed and why."""

    module: str
    part: str  # a service name, or "monolith"
    reason: str


@dataclass(frozen=True, slots=True)
class SurfaceName:
    """A name outside code uses from a service: `module.name`, with who uses it."""

    module: str
    name: str
    used_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    modules: tuple[str, ...]
    ai_capabilities: tuple[Capability, ...]
    surface: tuple[SurfaceName, ...]
    blockers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    value: float
    definition: str
    better: str  # "lower", "higher", or "neither" for plain counts


@dataclass(frozen=True, slots=True)
class Proposal:
    services: tuple[Service, ...]
    monolith: tuple[str, ...]
    placements: tuple[Placement, ...]
    metrics: tuple[Metric, ...]


# --- generated artefacts ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    """A generated artefact: its path relative to the output folder and its text."""

    path: str
    text: str


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The import-linter configuration and what it could not enforce."""

    text: str
    ignored_imports: tuple[str, ...]
    unenforceable: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything one run computed; the report and every machine format render this."""

    project: Project
    modules: tuple[Module, ...]
    edges: tuple[Edge, ...]
    cycles: tuple[Cycle, ...]
    features: tuple[AiFeature, ...]
    labels: tuple[ModuleLabel, ...]
    couplings: tuple[Coupling, ...]
    proposal: Proposal
    contracts: tuple[GeneratedFile, ...] = ()
    rules: RuleSet | None = None
    diagnostics: tuple[Diagnostic, ...] = field(default=())
