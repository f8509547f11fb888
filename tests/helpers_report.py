"""Hand-built `Analysis` records for the report adapters' tests.

`sample_analysis()` is a small shop with two proposed services (an AI assistant and a
search service), a monolith remainder, two AI features, couplings of three severities, one
import-time cycle, a diagnostic and a skipped file. `hostile=True` plants markup and URLs in
names and texts; `wide_analysis()` builds a graph large enough to be collapsed.
"""

from __future__ import annotations

from dataclasses import replace

from carveout.domain.facts import Diagnostic, Guard, Origin, Scope
from carveout.domain.model import (
    AiFeature,
    Analysis,
    Capability,
    Coupling,
    Cycle,
    Edge,
    EntryPoint,
    Evidence,
    GeneratedFile,
    Metric,
    Module,
    ModuleKind,
    ModuleLabel,
    Placement,
    Project,
    Proposal,
    RuleSet,
    Service,
    Severity,
    Skipped,
    SourceFile,
    SurfaceName,
)

HOSTILE_MODULE = "shop.<script>alert(1)</script>"
HOSTILE_TEXT = '<script>alert("pwned")</script> call https://api.openai.com/v1/chat'

ASSISTANT = ("shop.ai.assistant", "shop.ai.chat")
SEARCH = ("shop.ai.embeddings", "shop.search.index", "shop.search.query")
MONOLITH = (
    "shop",
    "shop.api",
    "shop.api.routes",
    "shop.core.db",
    "shop.core.settings",
    "shop.orders.models",
    "shop.orders.service",
)


def sample_analysis(*, hostile: bool = False, root: str = "/home/dev/projects/shop") -> Analysis:
    """Return the small shop analysis; `hostile` adds a module and evidence with markup."""
    monolith = MONOLITH + ((HOSTILE_MODULE,) if hostile else ())
    evidence_text = HOSTILE_TEXT if hostile else "client.chat.completions.create(model=MODEL)"
    names = sorted(ASSISTANT + SEARCH + monolith)
    modules = tuple(
        Module(
            name=name,
            path=_path(name),
            kind=ModuleKind.PACKAGE if name in ("shop", "shop.api") else ModuleKind.MODULE,
            lines=10 * (index + 1),
            is_entry_point=name == "shop.api",
        )
        for index, name in enumerate(names)
    )
    project = Project(
        root=root,
        name="shop",
        source_roots=("src",),
        files=tuple(
            SourceFile(path=_path(m.name) or "", module=m.name, kind=m.kind) for m in modules
        ),
        skipped=(Skipped(path="src/shop/legacy.py", reason="syntax error: not Python 3"),),
        entry_points=(
            EntryPoint(
                group="console_scripts", name="shop", target="shop.api:main", module="shop.api"
            ),
        ),
        diagnostics=(
            Diagnostic(
                path="src/shop/legacy.py", line=3, message="invalid syntax", kind="syntax-error"
            ),
        ),
    )
    edges = [
        Edge("shop.api.routes", "shop.ai.assistant", 3),
        Edge("shop.api.routes", "shop.orders.service", 4),
        Edge("shop.api.routes", "shop.orders.service", 9, scope=Scope.FUNCTION),
        Edge("shop.api.routes", "shop.api", 1, origin=Origin.IMPLICIT_PARENT),
        Edge("shop.orders.service", "shop.orders.models", 2),
        Edge("shop.orders.models", "shop.orders.service", 5),
        Edge("shop.ai.assistant", "shop.ai.chat", 1),
        Edge("shop.ai.assistant", "shop.search.query", 2),
        Edge("shop.ai.assistant", "shop.core.settings", 3),
        Edge("shop.search.query", "shop.ai.embeddings", 1),
        Edge("shop.search.index", "shop.ai.embeddings", 1),
        Edge("shop.search.query", "shop.orders.models", 4, guard=Guard.TYPE_CHECKING),
        Edge("shop.ai.chat", "shop.core.settings", 2),
        Edge("shop.ai.embeddings", "shop.core.settings", 2),
        Edge("shop.ai.chat", "openai", 1, external=True),
    ]
    if hostile:
        edges.append(Edge("shop.api.routes", HOSTILE_MODULE, 7))
    features = (
        AiFeature(
            capability=Capability.CHAT,
            modules=("shop.ai.chat", "shop.ai.assistant"),
            providers=("openai",),
            models=("gpt-4o-mini",),
            evidence=(
                Evidence("src/shop/ai/chat.py", 12, evidence_text),
                Evidence("src/shop/ai/chat.py", 4, "import openai"),
            ),
            entry_points=("shop.api.routes",),
            env_vars=("OPENAI_API_KEY",),
            config_keys=("settings.CHAT_MODEL",),
        ),
        AiFeature(
            capability=Capability.EMBEDDINGS,
            modules=("shop.ai.embeddings",),
            providers=("openai",),
            models=("text-embedding-3-small",),
            evidence=(Evidence("src/shop/ai/embeddings.py", 8, "client.embeddings.create(...)"),),
        ),
    )
    labels = (
        ModuleLabel("shop.ai.chat", (Capability.CHAT,), direct=True),
        ModuleLabel("shop.ai.embeddings", (Capability.EMBEDDINGS,), direct=True),
        ModuleLabel("shop.ai.assistant", (Capability.CHAT, Capability.EMBEDDINGS), direct=False),
    )
    couplings = (
        Coupling(
            kind="shared-mutable-settings",
            severity=Severity.HIGH,
            modules=("shop.ai.chat", "shop.core.settings"),
            evidence=(Evidence("src/shop/ai/chat.py", 20, "settings.CHAT_MODEL = name"),),
            why="The service writes a setting the monolith reads.",
            fix="Pass the model name in the facade call instead.",
        ),
        Coupling(
            kind="shared-db-session",
            severity=Severity.MEDIUM,
            modules=("shop.search.index", "shop.core.db"),
            evidence=(Evidence("src/shop/search/index.py", 5, evidence_text),),
            why="Both sides use one database session.",
            fix="Give the service its own session factory.",
        ),
        Coupling(
            kind="env-var",
            severity=Severity.LOW,
            modules=("shop.ai.chat",),
            evidence=(Evidence("src/shop/ai/chat.py", 3, 'os.environ["OPENAI_API_KEY"]'),),
            why="The service reads an environment variable.",
            fix="Declare it in the service's configuration contract.",
        ),
    )
    cycle = Cycle(
        modules=("shop.orders.models", "shop.orders.service"),
        path=("shop.orders.service", "shop.orders.models", "shop.orders.service"),
        deferred=False,
        breaking_edges=(("shop.orders.models", "shop.orders.service"),),
    )
    services = (
        Service(
            name="search",
            modules=SEARCH,
            ai_capabilities=(Capability.EMBEDDINGS,),
            surface=(SurfaceName("shop.search.query", "search", ("shop.ai.assistant",)),),
            blockers=("shared-db-session with shop.core.db",),
        ),
        Service(
            name="assistant",
            modules=ASSISTANT,
            ai_capabilities=(Capability.CHAT,),
            surface=(SurfaceName("shop.ai.assistant", "answer", ("shop.api.routes",)),),
            blockers=(),
        ),
    )
    placements = (
        tuple(Placement(module, "assistant", "calls the chat provider") for module in ASSISTANT)
        + tuple(Placement(module, "search", "embeddings and their index") for module in SEARCH)
        + tuple(
            Placement(module, "monolith", "no AI capability and no tie to a service")
            for module in monolith
        )
    )
    proposal = Proposal(
        services=services,
        monolith=monolith,
        placements=placements,
        metrics=(
            Metric("SM", 0.876543219, "Structural modularity of the partition.", "higher"),
            Metric("ICP", 0.123456789, "Share of import edges that cross a boundary.", "lower"),
        ),
    )
    rules = RuleSet(
        text="[importlinter]\n",
        ignored_imports=("shop.ai.assistant -> shop.core.settings",),
        unenforceable=("shop.search.query is loaded by a dynamic import string",),
    )
    return Analysis(
        project=project,
        modules=modules,
        edges=tuple(edges),
        cycles=(cycle,),
        features=features,
        labels=labels,
        couplings=couplings,
        proposal=proposal,
        contracts=(GeneratedFile("contracts/assistant/v1.json", "{}"),),
        rules=rules,
        diagnostics=(
            Diagnostic(
                path="src/shop/api/routes.py",
                line=30,
                message="unresolved import x.y",
                kind="unresolved-import",
            ),
        ),
    )


def wide_analysis(packages: int, modules_per_package: int) -> Analysis:
    """A graph of `packages` sub-packages under `app`, each with a chain of modules.

    Every module imports the next one in its package and the first module of the next
    package; the first package is a service, the rest the monolith.
    """
    names = [
        f"app.pkg{p:03d}.mod{m:03d}" for p in range(packages) for m in range(modules_per_package)
    ]
    modules = tuple(Module(n, _path(n), ModuleKind.MODULE, 5) for n in names)
    edges = []
    for p in range(packages):
        for m in range(modules_per_package):
            source = f"app.pkg{p:03d}.mod{m:03d}"
            if m + 1 < modules_per_package:
                edges.append(Edge(source, f"app.pkg{p:03d}.mod{m + 1:03d}", 1))
            edges.append(Edge(source, f"app.pkg{(p + 1) % packages:03d}.mod000", 2))
    service_modules = tuple(n for n in names if n.startswith("app.pkg000."))
    monolith = tuple(n for n in names if not n.startswith("app.pkg000."))
    labels = (ModuleLabel(service_modules[0], (Capability.CHAT,), direct=True),)
    project = Project(
        root="/srv/app",
        name="app",
        source_roots=(".",),
        files=tuple(SourceFile(m.path or "", m.name, m.kind) for m in modules),
    )
    return Analysis(
        project=project,
        modules=modules,
        edges=tuple(edges),
        cycles=(),
        features=(),
        labels=labels,
        couplings=(),
        proposal=Proposal(
            services=(Service("chat", service_modules, (Capability.CHAT,), (), ()),),
            monolith=monolith,
            placements=(),
            metrics=(),
        ),
    )


def _path(module: str) -> str:
    return "src/" + module.replace(".", "/") + ".py"


def empty_analysis() -> Analysis:
    """A project where nothing was found: no modules, no proposal, no rules."""
    project = Project(root="C:\\work\\empty", name="empty", source_roots=(), files=())
    return Analysis(
        project=project,
        modules=(),
        edges=(),
        cycles=(),
        features=(),
        labels=(),
        couplings=(),
        proposal=Proposal(services=(), monolith=(), placements=(), metrics=()),
    )


def shuffled(analysis: Analysis) -> Analysis:
    """The same analysis with every top-level tuple reversed (order must not matter)."""
    proposal = analysis.proposal
    return replace(
        analysis,
        modules=analysis.modules[::-1],
        edges=analysis.edges[::-1],
        cycles=analysis.cycles[::-1],
        features=analysis.features[::-1],
        labels=analysis.labels[::-1],
        couplings=analysis.couplings[::-1],
        diagnostics=analysis.diagnostics[::-1],
        proposal=replace(
            proposal,
            services=proposal.services[::-1],
            monolith=proposal.monolith[::-1],
            placements=proposal.placements[::-1],
            metrics=proposal.metrics[::-1],
        ),
    )
