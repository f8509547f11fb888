"""Find the implicit couplings that stand in the way of carving a part out of the monolith.

Each kind has a stable id (the SARIF rule id, the name in `# carveout: ignore[kind]` and in
`[tool.carveout] ignore`) and one documented severity. Couplings compare "areas" (the
packages `ProjectIndex.area` names): what stays inside one area moves with it.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from carveout.domain.catalogue import Catalogue
from carveout.domain.facts import (
    MUTATING_METHODS,
    CallFact,
    FileFacts,
    Guard,
    ImportFact,
    ModuleGlobal,
    Origin,
    Scope,
)
from carveout.domain.model import (
    Capability,
    Coupling,
    Cycle,
    Edge,
    Evidence,
    ModuleLabel,
    Severity,
)
from carveout.stages.features import config_reads
from carveout.stages.resolve import ProjectIndex

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CouplingKind:
    """One kind of coupling as documented: stable id, severity, title, why, fix."""

    id: str
    severity: Severity
    title: str
    why: str
    fix: str


KINDS: tuple[CouplingKind, ...] = (
    CouplingKind(
        "import-cycle",
        Severity.HIGH,
        "Import cycle",
        "Modules that import each other in a loop can only be extracted together.",
        "Remove the suggested edge: move what both sides need into a lower module, or pass "
        "the dependency in.",
    ),
    CouplingKind(
        "hidden-cycle-import",
        Severity.HIGH,
        "Function-level import hiding a cycle",
        "An import inside a function closes a cycle that only shows when the function runs, "
        "so a split breaks at call time.",
        "Move what both modules need into a lower module, or hand the dependency in as an "
        "argument or callback.",
    ),
    CouplingKind(
        "function-level-import",
        Severity.LOW,
        "Function-level import",
        "A dependency imported inside a function is invisible at import time, so an "
        "extracted package fails only when that code runs.",
        "Import at module level, or through the target's facade, so the boundary rules check it.",
    ),
    CouplingKind(
        "private-reach-in",
        Severity.MEDIUM,
        "Private names used across packages",
        "Private names are part of no contract, so a facade would have to expose internals.",
        "Make the names public (or add them to the owner's facade), or move the code that "
        "needs them next to them.",
    ),
    CouplingKind(
        "foreign-attribute-write",
        Severity.HIGH,
        "Writes to another package's attributes",
        "After a split the write lands in another process and the owner silently stops seeing it.",
        "Give the owning module a function that makes the change, or pass the value in.",
    ),
    CouplingKind(
        "shared-mutable-state",
        Severity.HIGH,
        "Module-level state changed from other packages",
        "State mutated in place from several packages stops being shared once they run in "
        "different processes.",
        "Keep the state behind functions of its owner and let other packages call them (or "
        "send events) instead of mutating it.",
    ),
    CouplingKind(
        "shared-env-var",
        Severity.MEDIUM,
        "Environment variable read in several packages",
        "Every extracted service needs the variable set, and a change of its meaning breaks "
        "the others.",
        "Read it once in the owning package's settings and pass the value in; give services "
        "their own variables where meanings differ.",
    ),
    CouplingKind(
        "ai-config-read",
        Severity.MEDIUM,
        "AI code reading shared settings",
        "The extracted AI service needs its own copy of these settings, kept in step with "
        "the monolith's.",
        "Give the AI feature its own settings object with just the keys it needs, or pass "
        "the values in through its facade.",
    ),
    CouplingKind(
        "shared-table",
        Severity.HIGH,
        "Database table used by several packages",
        "Two services writing one table cannot change its schema independently.",
        "Give the table one owning service; the others use its facade, a read model or "
        "events instead of the model.",
    ),
    CouplingKind(
        "shared-client",
        Severity.MEDIUM,
        "Module-level client shared across packages",
        "One client object serves several packages or features; an extracted service needs "
        "its own, and keys, timeouts and retries drift apart.",
        "Give each service its own client built from its own settings, or reach the shared "
        "resource through one service's facade.",
    ),
    CouplingKind(
        "dynamic-import",
        Severity.MEDIUM,
        "Dynamic import",
        "A dynamic import is invisible to import analysis, so a split can remove its target "
        "without any check failing.",
        "Import explicitly, or register plugins through entry points the boundary rules can see.",
    ),
    CouplingKind(
        "framework-string",
        Severity.MEDIUM,
        "Dotted framework string naming another package",
        "A dotted string resolved by a framework at run time breaks silently when its "
        "target moves.",
        "Import the object directly, or keep the string in the owning package's "
        "configuration and re-check it after every move.",
    ),
    CouplingKind(
        "shared-cache",
        Severity.MEDIUM,
        "Cache shared across packages",
        "After a split each service keeps its own copy, so invalidations from one no longer "
        "reach the others.",
        "Give each service its own cache and keys, and send invalidations as events from "
        "the owner.",
    ),
    CouplingKind(
        "cross-package-signal",
        Severity.HIGH,
        "Signal connected across packages",
        "The call from sender to receiver is invisible in the import graph and stops at a "
        "service boundary.",
        "Make the event part of the sender's contract (a published event, or a callback "
        "passed in) instead of an in-process signal.",
    ),
    CouplingKind(
        "stdlib-shadowing",
        Severity.LOW,
        "Module shadowing the standard library",
        "A top-level module named like a standard-library module replaces it for every "
        "import, depending on the folder a service runs from.",
        "Rename the module or move it inside a package.",
    ),
)
KINDS_BY_ID: Mapping[str, CouplingKind] = {kind.id: kind for kind in KINDS}
SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}

_CONNECT_VERBS = frozenset(
    {
        "connect",
        "connect_via",
        "register",
        "subscribe",
        "add_listener",
        "add_handler",
        "listen",
        "listens_for",
        "on",
        "receiver",
    }
)
_SEND_VERBS = frozenset(
    {
        "send",
        "send_robust",
        "send_async",
        "emit",
        "fire",
        "publish",
        "dispatch",
        "notify",
        "trigger",
    }
)
_SIGNAL_VERBS = _CONNECT_VERBS | _SEND_VERBS
# enum members read once for the loops over every edge and import: `Origin.DYNAMIC` is a
# class attribute look-up several times slower than a module global
_DYNAMIC, _FRAMEWORK_STRING, _IMPORT = Origin.DYNAMIC, Origin.FRAMEWORK_STRING, Origin.IMPORT
_FUNCTION = Scope.FUNCTION
_INFRA_CLIENTS = frozenset(
    {
        "sqlalchemy.create_engine",
        "sqlalchemy.ext.asyncio.create_async_engine",
        "sqlalchemy.orm.sessionmaker",
        "sqlalchemy.orm.scoped_session",
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        "sqlalchemy.engine.create_engine",
        "redis.Redis",
        "redis.StrictRedis",
        "redis.from_url",
        "redis.asyncio.Redis",
        "redis.asyncio.from_url",
        "redis.client.Redis",
        "pymongo.MongoClient",
        "motor.motor_asyncio.AsyncIOMotorClient",
        "httpx.Client",
        "httpx.AsyncClient",
        "requests.Session",
        "requests.session",
        "aiohttp.ClientSession",
        "boto3.client",
        "boto3.resource",
        "boto3.Session",
        "boto3.session.Session",
        "elasticsearch.Elasticsearch",
        "elasticsearch.AsyncElasticsearch",
        "databases.Database",
        "kafka.KafkaProducer",
        "kafka.KafkaConsumer",
        "pika.BlockingConnection",
        "psycopg2.connect",
        "psycopg2.pool.SimpleConnectionPool",
        "psycopg2.pool.ThreadedConnectionPool",
        "psycopg.connect",
        "psycopg_pool.ConnectionPool",
        "asyncpg.create_pool",
        "sqlite3.connect",
        "peewee.SqliteDatabase",
        "peewee.PostgresqlDatabase",
        "playhouse.pool.PooledPostgresqlDatabase",
        "minio.Minio",
        "google.cloud.storage.Client",
    }
)
_CACHE_CONSTRUCTORS = re.compile(r"(?i)cache")
_ORM_BASES = frozenset(
    {
        "django.db.models.Model",
        "peewee.Model",
        "tortoise.models.Model",
        "tortoise.Model",
        "mongoengine.Document",
        "ormar.Model",
        "piccolo.table.Table",
        "pony.orm.Database.Entity",
    }
)
_TABLE_CONSTRUCTORS = frozenset({"sqlalchemy.Table", "sqlalchemy.schema.Table"})
_SQL_TABLE = re.compile(
    r"\b(?:from|join|into|update|table)\s+[`\"\[]?([A-Za-z_][\w.]*)", re.IGNORECASE
)
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))


def find_couplings(
    index: ProjectIndex,
    edges: Sequence[Edge],
    cycles: Sequence[Cycle],
    labels: Sequence[ModuleLabel],
    *,
    ignored_kinds: frozenset[str] = frozenset(),
    catalogue: Catalogue | None = None,
) -> tuple[Coupling, ...]:
    """Every coupling of the project, sorted by severity, kind, modules and evidence.

    `edges` and `cycles` come from the graph stage, `labels` from the feature stage (they
    say which modules are AI code). Kinds in `ignored_kinds` are not looked for; evidence
    on a line carrying `# carveout: ignore[kind]` is dropped, and a coupling left without
    evidence is dropped with it. `catalogue` adds the AI SDKs' client constructors to the
    clients `shared-client` tracks.
    """
    finder = _Finder(index, edges, cycles, labels, catalogue, ignored_kinds)
    found = finder.run()
    logger.debug("found %d couplings", len(found))
    return found


def coupling_sort_key(coupling: Coupling) -> tuple:
    """The documented order of couplings: severity, kind, modules, then evidence."""
    first = coupling.evidence[0] if coupling.evidence else Evidence("", 0)
    return (
        SEVERITY_ORDER[coupling.severity],
        coupling.kind,
        coupling.modules,
        first.path,
        first.line,
        first.text,
    )


# --- the detectors ------------------------------------------------------------------------


@dataclass(slots=True)
class _ImportsToCheck:
    """The import facts of one module that detectors look at, sorted out in one pass."""

    # (fact, target module, imported name with re-exports followed) for the facts whose
    # name a detector tracks: a name with a private part, a shared object, a table's class
    tracked: list[tuple[ImportFact, str | None, str]] = field(default_factory=list)
    dynamic: list[ImportFact] = field(default_factory=list)  # importlib and `__import__`


@dataclass(slots=True)
class _CallsToCheck:
    """The calls of one module that detectors look at, sorted out in one pass (a big
    monolith has hundreds of thousands of calls, and most concern no detector)."""

    # dotted calls whose root the module binds, or that start with a project package:
    # the only ones whose qualified name can reach a module-level object of the project
    reaching: list[CallFact] = field(default_factory=list)
    mutating: list[CallFact] = field(default_factory=list)  # `x.append(...)`, `x.clear()`
    signalling: list[CallFact] = field(default_factory=list)  # `x.connect(...)`, `x.send()`


class _Finder:
    def __init__(
        self,
        index: ProjectIndex,
        edges: Sequence[Edge],
        cycles: Sequence[Cycle],
        labels: Sequence[ModuleLabel],
        catalogue: Catalogue | None,
        ignored: frozenset[str],
    ) -> None:
        self.index = index
        # the project edges the detectors look at, sorted out in one pass
        on_paths = {pair for cycle in cycles for pair in itertools.pairwise(cycle.path)}
        cycle_sources = {source for source, _ in on_paths}
        self.cycle_edges: list[Edge] = []  # between consecutive modules of a cycle's path
        self.function_imports: list[Edge] = []  # import statements inside function bodies
        self.framework_edges: list[Edge] = []  # dotted strings a framework resolves
        modules = index.modules
        for edge in edges:
            if edge.external or edge.target not in modules:
                continue
            if edge.source in cycle_sources and (edge.source, edge.target) in on_paths:
                self.cycle_edges.append(edge)
            if edge.origin is _FRAMEWORK_STRING:
                self.framework_edges.append(edge)
            elif edge.scope is _FUNCTION and edge.origin is _IMPORT:
                self.function_imports.append(edge)
        self.cycles = cycles
        self.ignored = ignored
        self.capabilities: dict[str, set[Capability]] = defaultdict(set)
        for label in labels:
            self.capabilities[label.module].update(label.capabilities)
        self.clients = set(_INFRA_CLIENTS)
        self.sdk_modules: frozenset[str] = frozenset()
        if catalogue is not None:
            self.clients.update(c for sdk in catalogue.sdks for c in sdk.clients)
            self.sdk_modules = frozenset(m for sdk in catalogue.sdks for m in sdk.modules)
        self.found: list[Coupling] = []
        # every detector walks the modules in this one order
        self.modules: list[str] = sorted(index.files)
        # answers that depend only on the index, each computed once per module
        self._object_cache: dict[str, tuple[str, str, int, str]] | None = None
        self._areas: dict[str, str] = {}
        self._table_cache: dict[str, tuple[str, str, int]] | None = None
        self._calls: dict[str, _CallsToCheck] | None = None
        self._imports: dict[str, _ImportsToCheck] | None = None
        self._globals: dict[str, dict[str, ModuleGlobal]] = {}

    def run(self) -> tuple[Coupling, ...]:
        detectors = {
            "import-cycle": self.import_cycles,
            "hidden-cycle-import": self.function_level_imports,
            "function-level-import": self.function_level_imports,
            "private-reach-in": self.private_reach_in,
            "foreign-attribute-write": self.attribute_writes,
            "shared-mutable-state": self.attribute_writes,
            "shared-env-var": self.shared_env_vars,
            "ai-config-read": self.ai_config_reads,
            "shared-table": self.shared_tables,
            "shared-client": self.shared_objects,
            "shared-cache": self.shared_objects,
            "dynamic-import": self.dynamic_imports,
            "framework-string": self.framework_strings,
            "cross-package-signal": self.signals,
            "stdlib-shadowing": self.stdlib_shadowing,
        }
        ran = set()
        for kind, detector in detectors.items():
            if kind in self.ignored or detector in ran:
                continue
            ran.add(detector)
            detector()
        kept = {c for c in self.found if c.kind not in self.ignored}
        return tuple(sorted(kept, key=coupling_sort_key))

    # --- shared plumbing ---------------------------------------------------------------

    def facts(self, module: str) -> FileFacts:
        return self.index.facts.get(module) or FileFacts(lines=0)

    def area(self, module: str) -> str:
        area = self._areas.get(module)
        if area is None:
            area = self._areas[module] = self.index.area(module)
        return area

    def imports_to_check(self, module: str) -> _ImportsToCheck:
        """The module's import facts some detector looks at, in fact order."""
        if self._imports is None:
            self._imports = self._sort_imports()
        return self._imports.get(module) or _ImportsToCheck()

    def _sort_imports(self) -> dict[str, _ImportsToCheck]:
        """`imports_to_check` of every module, in one pass over the imports."""
        tracked_names = set(self._objects())
        tracked_names.update(qualified for qualified, _, _ in self._tables().values())
        resolved_imports, follow = self.index.resolved_imports, self.index.follow_reexports
        top_levels = self.index.top_levels
        found: dict[str, _ImportsToCheck] = {}
        for module in self.modules:
            found[module] = sorted_out = _ImportsToCheck()
            facts = self.facts(module).imports
            for fact, resolved in zip(facts, resolved_imports(module), strict=True):
                if fact.origin is _DYNAMIC:
                    sorted_out.dynamic.append(fact)
                if fact.name == "*":
                    continue
                qualified = resolved.qualified
                if resolved.external is not None and qualified.partition(".")[0] not in top_levels:
                    continue  # a third-party name: no project name follows from it
                qualified = follow(qualified)
                # a private part always shows as "._" (a cheap test before any split)
                if "._" in qualified or qualified in tracked_names:
                    sorted_out.tracked.append((fact, resolved.target, qualified))
        return found

    def calls_to_check(self, module: str) -> _CallsToCheck:
        """The module's calls some detector looks at, in call order."""
        if self._calls is None:
            self._calls = {module: self._sort_calls(module) for module in self.modules}
        return self._calls.get(module) or _CallsToCheck()

    def _sort_calls(self, module: str) -> _CallsToCheck:
        found = _CallsToCheck()
        bound, top_levels = self.index.bindings(module), self.index.top_levels
        for call in self.facts(module).calls:
            if "." not in call.callee:
                continue
            parts = call.callee.split(".")
            if parts[0] in bound or parts[0] in top_levels:
                found.reaching.append(call)
            if parts[-1] in MUTATING_METHODS:
                found.mutating.append(call)
            if parts[-1] in _SIGNAL_VERBS:
                found.signalling.append(call)
        return found

    def global_named(self, module: str, name: str) -> ModuleGlobal | None:
        """The first module-level assignment of `name` in `module`, if any."""
        by_name = self._globals.get(module)
        if by_name is None:
            by_name = {}
            for variable in self.facts(module).globals:
                by_name.setdefault(variable.name, variable)
            self._globals[module] = by_name
        return by_name.get(name)

    def evidence(self, kind: str, module: str, line: int, text: str) -> Evidence | None:
        """Evidence at a module's line, or None when a comment there suppresses `kind`."""
        for number, kinds in self.facts(module).suppressions:
            if number == line and (kind in kinds or "all" in kinds):
                return None
        file = self.index.files.get(module)
        return Evidence(file.path if file else module, line, text)

    def add(
        self,
        kind: str,
        modules: Sequence[str],
        evidence: Iterable[Evidence | None],
        why: str,
        fix: str | None = None,
    ) -> None:
        """Record a coupling. `modules` keeps its first entries in place (the importer, or
        the module owning the shared thing) and sorts the rest; evidence is sorted."""
        kept = sorted(
            {e for e in evidence if e is not None}, key=lambda e: (e.path, e.line, e.text)
        )
        if not kept:
            return
        spec = KINDS_BY_ID[kind]
        self.found.append(
            Coupling(
                kind, spec.severity, _ordered_modules(modules), tuple(kept), why, fix or spec.fix
            )
        )

    def qualify(self, module: str, chain: str) -> str:
        return self.index.qualify(module, chain)

    def split_owner(self, qualified: str) -> tuple[str, str] | None:
        """(project module, the attribute chain after it), or None outside the project."""
        owner = self.index.owner_module(qualified)
        if owner is None or owner == qualified:
            return None
        return owner, qualified[len(owner) + 1 :]

    # --- cycles and function-level imports ---------------------------------------------

    def import_cycles(self) -> None:
        by_pair = _edges_by_pair(self.cycle_edges)
        for cycle in self.cycles:
            path = cycle.path
            if len(path) < 2:
                continue
            evidence = []
            for source, target in itertools.pairwise(path):
                edge = _first_edge(by_pair.get((source, target), ()))
                if edge is not None:
                    scope = "" if edge.scope is Scope.MODULE else f" ({edge.scope.value} level)"
                    evidence.append(
                        self.evidence(
                            "import-cycle", source, edge.line, f"{source} imports {target}{scope}"
                        )
                    )
            when = "only when functions run (deferred)" if cycle.deferred else "at import time"
            why = (
                f"{' -> '.join(path)} import each other {when}: none of these "
                f"{len(cycle.modules)} modules can be extracted without the others."
            )
            fix = KINDS_BY_ID["import-cycle"].fix
            if cycle.breaking_edges:
                source, target = cycle.breaking_edges[0]
                fix = (
                    f"Remove the import {source} -> {target} (it breaks the most cycles): "
                    "move what both need into a lower module, or pass it in."
                )
            self.add("import-cycle", cycle.modules, evidence, why, fix)

    def function_level_imports(self) -> None:
        """Every import of a project module inside a function body; those whose target
        reaches back to the importer also hide a cycle."""
        # one shared set per cycle (a set per member is quadratic: gigabytes on big cycles)
        component = {
            m: members
            for c in self.cycles
            for members in [frozenset(c.modules)]
            for m in c.modules
        }
        found: dict[tuple[str, str], list[Edge]] = defaultdict(list)
        for edge in self.function_imports:
            if edge.is_runtime and edge.source != edge.target:
                found[(edge.source, edge.target)].append(edge)
        for (source, target), pair in sorted(found.items()):
            lines = sorted({e.line for e in pair})
            closes_cycle = target in component.get(source, ())
            evidence = [
                self.evidence(
                    "function-level-import", source, line, f"import of {target} inside a function"
                )
                for line in lines
            ]
            why = (
                f"{source} imports {target} inside a function: the dependency is invisible "
                f"at import time, so a split of {self.area(source)} fails only when that "
                "code runs."
            )
            self.add("function-level-import", (source, target), evidence, why)
            if closes_cycle:
                evidence = [
                    self.evidence(
                        "hidden-cycle-import",
                        source,
                        line,
                        f"import of {target} inside a function",
                    )
                    for line in lines
                ]
                why = (
                    f"{source} imports {target} inside a function, which hides a cycle back "
                    f"to {source}: the cycle only shows when the function runs, so a split "
                    "breaks at call time."
                )
                self.add("hidden-cycle-import", (source, target), evidence, why)

    # --- private names -----------------------------------------------------------------

    def private_reach_in(self) -> None:
        """Private names (`_name`, or names inside `_private` modules) of one package
        imported, read or written from another package."""
        reached: dict[tuple[str, str], list[tuple[int, str, str]]] = defaultdict(list)
        qualify = self.index.qualify
        for module in self.modules:
            facts = self.facts(module)
            for fact, target, qualified in self.imports_to_check(module).tracked:
                if "._" not in qualified or fact.origin is not Origin.IMPORT:
                    continue
                if target is None or target == module:
                    continue
                names = _private_parts(qualified)
                if names and self.area(module) != self.area(target):
                    written = f"{'.' * fact.level}{fact.module}"
                    text = (
                        f"from {written} import {fact.name}"
                        if fact.name
                        else f"import {fact.module}"
                    )
                    reached[(module, target)].append((fact.line, text, names[-1]))
            chains: list[tuple[int, str, str | None]] = [
                (ref.line, ref.chain, None) for ref in facts.attribute_refs
            ]
            chains += [
                (w.line, w.target, w.via) for w in facts.attribute_writes if w.via != "patch"
            ]
            for line, chain, via in chains:
                qualified = qualify(module, chain)
                if "._" not in qualified:
                    continue  # no private part
                split = self.split_owner(qualified)
                if split is None or split[0] == module:
                    continue
                owner = split[0]
                names = _private_parts(qualified)  # the owner, a dot and the rest
                if names and self.area(module) != self.area(owner):
                    text = chain if via is None else f"{chain} ({via})"
                    reached[(module, owner)].append((line, text, names[-1]))
        for (module, target), uses in sorted(reached.items()):
            names = sorted({name for _, _, name in uses})
            evidence = [
                self.evidence("private-reach-in", module, line, text) for line, text, _ in uses
            ]
            why = (
                f"{module} uses private names of {target} ({', '.join(names)}): they are "
                f"part of no contract, so a facade for {self.area(target)} would have to "
                "expose internals."
            )
            self.add("private-reach-in", (module, target), evidence, why)

    # --- writes and shared mutable state -------------------------------------------------

    def attribute_writes(self) -> None:
        """Attributes of another package's modules written from outside (assignment,
        setattr, patch by string), and module-level state changed from another package:
        a global rebound or mutated, or an attribute of a module-level object mutated."""
        writes: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
        changes: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        qualify = self.index.qualify
        for module in self.modules:
            facts = self.facts(module)
            for write in facts.attribute_writes:
                qualified = (
                    write.target if write.via == "patch" else self.qualify(module, write.target)
                )
                split = self.split_owner(qualified)
                if split is None or split[0] == module:
                    continue
                owner, rest = split
                text = f"{write.target} ({write.via})"
                if write.via in ("assign", "setattr", "patch") and (
                    self.area(module) != self.area(owner)
                ):
                    writes[(module, owner)].append((write.line, text))
                state = self._state(owner, rest, mutated=write.via in ("mutate", "item-assign"))
                if state is not None:
                    changes[state].append((module, write.line, text))
            for call in self.calls_to_check(module).mutating:
                receiver = call.callee.rpartition(".")[0]
                if not receiver or "." in receiver:
                    continue  # chains through a module are recorded as writes by the scan
                split = self.split_owner(qualify(module, receiver))
                if split is None or split[0] == module:
                    continue
                state = self._state(split[0], split[1], mutated=True)
                if state is not None:
                    changes[state].append((module, call.line, f"{call.callee}()"))

        for (module, owner), found in sorted(writes.items()):
            names = sorted({text.split(" ")[0] for _, text in found})
            evidence = [
                self.evidence("foreign-attribute-write", module, line, text)
                for line, text in found
            ]
            why = (
                f"{module} writes {', '.join(names)} of {owner} from outside: after a split "
                f"the write lands in another process and {owner} silently stops seeing it."
            )
            self.add("foreign-attribute-write", (module, owner), evidence, why)
        # state changed only from its owner's package is no coupling
        shared = {
            state: changed
            for state, changed in sorted(changes.items())
            if not {self.area(m) for m, _, _ in changed} <= {self.area(self._state_owner(state))}
        }
        readers = self._state_readers(shared)
        for state, changed in shared.items():
            self._shared_state(state, changed, readers.get(state, []))

    def _state(self, owner: str, rest: str, *, mutated: bool) -> str | None:
        """The module-level state a write reaches: `owner.global` for a global rebound or
        mutated, `owner.object.attribute` for an attribute of a module-level object
        mutated in place; None for functions, classes, caches and plain object attributes
        assigned (those are attribute writes)."""
        head, _, tail = rest.partition(".")
        variable = self.global_named(owner, head)
        if variable is None:
            return None
        if variable.value_kind != "call":
            return f"{owner}.{head}"
        if f"{owner}.{head}" in self._objects() or not tail or not mutated:
            return None
        return f"{owner}.{head}.{tail.split('.')[0]}"

    def _state_readers(self, states: Iterable[str]) -> dict[str, list[tuple[str, int, str]]]:
        """State -> (module, line, chain) for each attribute chain read that names the
        state or something inside it, in module order: one pass over the reads."""
        wanted = set(states)
        readers: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        if not wanted:
            return readers
        qualify = self.index.qualify
        starts = tuple(wanted)
        for module in self.modules:
            for ref in self.facts(module).attribute_refs:
                qualified = qualify(module, ref.chain)
                if not qualified.startswith(starts):
                    continue  # the common case, tested at C speed
                for name in _prefixes(qualified):
                    if name in wanted:
                        readers[name].append((module, ref.line, ref.chain))
        return readers

    def _state_owner(self, state: str) -> str:
        return self.index.owner_module(state) or state

    def _shared_state(
        self, state: str, found: list[tuple[str, int, str]], reads: list[tuple[str, int, str]]
    ) -> None:
        """Report `state`, changed from another package by the writes `found`, with the
        modules other than its owner and writers that read it (`reads`)."""
        owner = self._state_owner(state)
        path = state[len(owner) + 1 :]
        writers = sorted({m for m, _, _ in found})
        evidence = [
            self.evidence("shared-mutable-state", m, line, text) for m, line, text in found
        ]
        definition = self._global_line(owner, path.split(".")[0])
        if definition is not None:
            evidence.append(
                self.evidence(
                    "shared-mutable-state", owner, definition, f"{path.split('.')[0]} defined here"
                )
            )
        readers = []
        for module, line, chain in reads:
            if module == owner or module in writers:
                continue
            evidence.append(self.evidence("shared-mutable-state", module, line, f"{chain} (read)"))
            readers.append(module)
        why = (
            f"{path} of {owner} is changed in place from {', '.join(writers)}"
            + (f" and read in {', '.join(sorted(set(readers)))}" if readers else "")
            + ": once these packages run as separate services each has its own copy and "
            "the changes stop reaching the others."
        )
        self.add("shared-mutable-state", (owner, *writers, *readers), evidence, why)

    def _global_line(self, module: str, name: str) -> int | None:
        variable = self.global_named(module, name)
        return None if variable is None else variable.line

    # --- environment and configuration ---------------------------------------------------

    def shared_env_vars(self) -> None:
        readers: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        for module in self.modules:
            for read in self.facts(module).env_reads:
                readers[read.variable].append((module, read.line, f"{read.via}({read.variable})"))
        for variable, found in sorted(readers.items()):
            areas = sorted({self.area(m) for m, _, _ in found})
            if len(areas) < 2:
                continue
            evidence = [self.evidence("shared-env-var", m, line, text) for m, line, text in found]
            why = (
                f"{variable} is read in {len(areas)} packages ({', '.join(areas)}): every "
                "extracted service needs it set, and a change of its meaning breaks the "
                "others."
            )
            self.add("shared-env-var", [m for m, _, _ in found], evidence, why)

    def ai_config_reads(self) -> None:
        """Settings of another package read by AI code: modules with a capability label,
        and modules that build an AI SDK client at module level."""
        ai_modules = {m for m, caps in self.capabilities.items() if caps}
        ai_modules |= {
            owner
            for kind, owner, _, constructor in self._objects().values()
            if kind == "shared-client" and self._is_ai_client(constructor)
        }
        for module in sorted(ai_modules):
            if module not in self.index.files:
                continue
            by_target: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
            for read in config_reads(self.index, module):
                if read.target is None or read.target == module:
                    continue
                if self.area(read.target) == self.area(module):
                    continue
                by_target[read.target].append((read.line, read.key, read.text))
            capabilities = ", ".join(sorted(c.value for c in self.capabilities.get(module, ())))
            what = f"AI code in {module}" + (f" ({capabilities})" if capabilities else "")
            for target, found in sorted(by_target.items()):
                keys = sorted({key for _, key, _ in found})
                evidence = [
                    self.evidence("ai-config-read", module, line, text) for line, _, text in found
                ]
                why = (
                    f"{what} reads {', '.join(keys)} from {target}, which other packages "
                    "share: an extracted service needs its own copy of these settings, "
                    "kept in step with the monolith's."
                )
                self.add(
                    "ai-config-read",
                    (module, target) if target in self.index.modules else (module,),
                    evidence,
                    why,
                )

    def _is_ai_client(self, constructor: str) -> bool:
        if constructor in _INFRA_CLIENTS:
            return False
        return self._is_sdk_name(constructor)

    # --- database tables ----------------------------------------------------------------

    def shared_tables(self) -> None:
        tables = self._tables()
        if not tables:
            return
        by_class = {qualified: table for table, (qualified, _, _) in tables.items()}
        users: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        for module in self.modules:
            facts = self.facts(module)
            for fact, _target, qualified in self.imports_to_check(module).tracked:
                if fact.name is None or fact.guard is Guard.TYPE_CHECKING:
                    continue
                table = by_class.get(qualified)
                if table is not None and tables[table][1] != module:
                    users[table].append((module, fact.line, f"imports {fact.name}"))
            for call in facts.calls:
                head = call.callee.split(".")[0]
                if head in self.index.bindings(module) and "." in call.callee:
                    qualified = self.qualify(module, call.callee.rsplit(".", 1)[0])
                    table = by_class.get(qualified)
                    if table is not None and tables[table][1] != module:
                        users[table].append((module, call.line, f"uses {call.callee}"))
            for string in facts.strings:
                for name in _sql_tables(string.value):
                    if name in tables:
                        users[name].append((module, string.line, f"SQL: {string.value[:80]}"))
        for table, found in sorted(users.items()):
            qualified, owner, line = tables[table]
            areas = sorted({self.area(m) for m, _, _ in found})
            if len(areas) < 2:
                continue
            evidence = [self.evidence("shared-table", m, ln, text) for m, ln, text in found]
            evidence.append(
                self.evidence(
                    "shared-table", owner, line, f"table {table} ({qualified.rsplit('.', 1)[-1]})"
                )
            )
            why = (
                f"Table {table} (defined in {owner}) is used by {len(areas)} packages "
                f"({', '.join(areas)}): after a split two services would share one table "
                "and neither could change its schema alone."
            )
            self.add("shared-table", [owner, *(m for m, _, _ in found)], evidence, why)

    def _tables(self) -> dict[str, tuple[str, str, int]]:
        """Table name -> (qualified model class, module, line) for ORM models and tables."""
        if self._table_cache is not None:
            return self._table_cache
        tables: dict[str, tuple[str, str, int]] = {}
        for module in self.modules:
            facts = self.facts(module)
            for cls in facts.classes:
                table = cls.table
                if table is None and any(
                    self.qualify(module, base) in _ORM_BASES for base in cls.bases
                ):
                    table = cls.name.lower()
                if table is not None:
                    # the line naming the table (`__tablename__ = "orders"`), else the class
                    line = next(
                        (t.line for t in facts.strings if t.value == table and t.line >= cls.line),
                        cls.line,
                    )
                    tables.setdefault(table.lower(), (f"{module}.{cls.name}", module, line))
            for variable in facts.globals:
                if (
                    variable.constructor
                    and self.qualify(module, variable.constructor) in _TABLE_CONSTRUCTORS
                ):
                    for call in facts.calls:
                        if call.line == variable.line and call.strings:
                            tables.setdefault(
                                call.strings[0].lower(),
                                (f"{module}.{variable.name}", module, variable.line),
                            )
        self._table_cache = tables
        return tables

    # --- shared objects: clients and caches ----------------------------------------------

    def shared_objects(self) -> None:
        """Module-level clients and caches used from other packages (or, for clients, by
        several AI features)."""
        objects = self._objects()
        if not objects:
            return
        users: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        qualify = self.index.qualify
        for module in self.modules:
            for fact, _target, qualified in self.imports_to_check(module).tracked:
                if (
                    qualified in objects
                    and objects[qualified][1] != module
                    and fact.name is not None
                    and fact.guard is not Guard.TYPE_CHECKING
                ):
                    users[qualified].append((module, fact.line, f"imports {fact.name}"))
            # `qualify` gives back a chain whose root the module does not bind (most calls:
            # `self.x()`), so only the calls `reaching` can name a project object
            for call in self.calls_to_check(module).reaching:
                # the longest object that prefixes the name (but is not all of it)
                for name in _proper_prefixes(qualify(module, call.callee)):
                    if name in objects and objects[name][1] != module:
                        users[name].append((module, call.line, f"calls {call.callee}"))
                        break
        for name, found in sorted(users.items()):
            kind, owner, line, constructor = objects[name]
            user_modules = sorted({m for m, _, _ in found})
            areas = sorted({self.area(m) for m in [owner, *user_modules]})
            features = sorted(
                {
                    c.value
                    for m in user_modules
                    for c in self.capabilities.get(m, ())
                    if c is not Capability.LOCAL_INFERENCE
                }
            )
            if len(areas) < 2 and (kind == "shared-cache" or len(features) < 2):
                continue
            evidence = [self.evidence(kind, m, ln, text) for m, ln, text in found]
            evidence.append(self.evidence(kind, owner, line, f"{name} = {constructor}(...)"))
            shared_by = f"packages {', '.join(areas)}"
            if len(features) >= 2:
                shared_by += f" and AI features {', '.join(features)}"
            if kind == "shared-cache":
                why = (
                    f"{name} is one in-process cache used by {shared_by}: after a split "
                    "each service keeps its own copy, so invalidations from one no longer "
                    "reach the others."
                )
            else:
                why = (
                    f"{name} ({constructor}) is one client object shared by {shared_by}: "
                    "an extracted service needs its own, and keys, timeouts and retries "
                    "drift apart."
                )
            self.add(kind, [owner, *user_modules], evidence, why)

    def _objects(self) -> dict[str, tuple[str, str, int, str]]:
        """Qualified module-level object -> (kind, module, line, constructor) for clients
        and caches built at module level."""
        if self._object_cache is not None:
            return self._object_cache
        found: dict[str, tuple[str, str, int, str]] = {}
        for module in self.modules:
            for variable in self.facts(module).globals:
                if variable.value_kind != "call" or not variable.constructor:
                    continue
                constructor = self.qualify(module, variable.constructor)
                last = constructor.rsplit(".", 1)[-1]
                if _CACHE_CONSTRUCTORS.search(last):
                    kind = "shared-cache"
                elif self._is_client(constructor):
                    kind = "shared-client"
                else:
                    continue
                found[f"{module}.{variable.name}"] = (kind, module, variable.line, constructor)
        self._object_cache = found
        return found

    def _is_client(self, constructor: str) -> bool:
        if constructor in self.clients:
            return True
        if self.index.owner_module(constructor) is not None:
            return False
        top = constructor.split(".")[0]
        sdk = self._is_sdk_name(constructor)
        return sdk and top not in ("torch",) and constructor.rsplit(".", 1)[-1][:1].isupper()

    def _is_sdk_name(self, name: str) -> bool:
        """Whether `name` is an AI SDK module or a name inside one."""
        return any(prefix in self.sdk_modules for prefix in _prefixes(name))

    # --- dynamic imports and framework strings ---------------------------------------------

    def dynamic_imports(self) -> None:
        """Imports through importlib or `__import__`: of a project module named by a literal
        (or a literal prefix), or of a module named only at run time."""
        for module in self.modules:
            facts = self.facts(module)
            targets: dict[tuple[str, ...], list[tuple[int, str]]] = defaultdict(list)
            for fact in self.imports_to_check(module).dynamic:
                if fact.is_prefix:
                    base = self.index.absolute_base(module, fact) or fact.module
                    matched = tuple(m for m in _starting_with(self.modules, base) if m != module)
                    if matched or base.split(".")[0] in self.index.top_levels:
                        targets[matched].append(
                            (fact.line, f"dynamic import of modules starting {base}")
                        )
                    continue
                resolved = self.index.resolve_import(module, fact)
                if resolved.target is not None and resolved.target != module:
                    targets[(resolved.target,)].append(
                        (fact.line, f"dynamic import of {fact.module}")
                    )
            for dynamic in facts.dynamic_imports:
                targets[()].append((dynamic.line, f"{dynamic.call}({dynamic.expression})"))
            for found_targets, found in sorted(targets.items()):
                evidence = [
                    self.evidence("dynamic-import", module, line, text) for line, text in found
                ]
                named = ", ".join(found_targets) or "a module named at run time"
                why = (
                    f"{module} imports {named} dynamically: the dependency is invisible to "
                    "import analysis, so a split can remove its target without any check "
                    "failing."
                )
                self.add("dynamic-import", (module, *found_targets), evidence, why)

    def framework_strings(self) -> None:
        found: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
        for edge in self.framework_edges:
            if self.area(edge.source) == self.area(edge.target):
                continue
            facts = self.facts(edge.source)
            if any(w.line == edge.line and w.via == "patch" for w in facts.attribute_writes):
                continue  # a test patch by string: a foreign attribute write
            if any(i.line == edge.line and i.origin is Origin.DYNAMIC for i in facts.imports):
                continue  # reported as a dynamic import
            text = next(
                (
                    s.value
                    for s in facts.strings
                    if s.line == edge.line
                    and self.index.owner_module(s.value.replace(":", ".")) == edge.target
                ),
                edge.target,
            )
            found[(edge.source, edge.target)].append((edge.line, f'"{text}"'))
        for (source, target), uses in sorted(found.items()):
            evidence = [
                self.evidence("framework-string", source, line, text) for line, text in uses
            ]
            why = (
                f"{source} names {target} in a dotted string that a framework resolves at "
                f"run time: moving {target} breaks it without any import failing."
            )
            self.add("framework-string", (source, target), evidence, why)

    # --- signals --------------------------------------------------------------------------

    def signals(self) -> None:
        uses: dict[str, list[tuple[str, str, int, str]]] = defaultdict(list)
        for module in self.modules:
            facts = self.facts(module)
            written = [(c.line, c.callee) for c in self.calls_to_check(module).signalling]
            written += [(d.line, dec) for d in facts.definitions for dec in d.decorators]
            for line, callee in written:
                receiver, _, verb = callee.rpartition(".")
                if not receiver or (verb not in _CONNECT_VERBS and verb not in _SEND_VERBS):
                    continue
                split = self.split_owner(self.qualify(module, receiver))
                if split is None or "." in split[1]:
                    continue
                owner, name = split
                variable = self.global_named(owner, name)
                if variable is None or variable.value_kind != "call":
                    continue
                role = "connect" if verb in _CONNECT_VERBS else "send"
                uses[f"{owner}.{name}"].append((module, role, line, callee))
        for signal, found in sorted(uses.items()):
            roles = {role for _, role, _, _ in found}
            areas = sorted({self.area(m) for m, _, _, _ in found})
            if roles != {"connect", "send"} or len(areas) < 2:
                continue
            owner, name = signal.rsplit(".", 1)
            connect = sorted({m for m, r, _, _ in found if r == "connect"})
            send = sorted({m for m, r, _, _ in found if r == "send"})
            evidence = [
                self.evidence("cross-package-signal", m, line, f"{callee} ({role})")
                for m, role, line, callee in found
            ]
            definition = self._global_line(owner, name)
            if definition is not None:
                evidence.append(
                    self.evidence(
                        "cross-package-signal", owner, definition, f"{name} defined here"
                    )
                )
            why = (
                f"{signal} is connected in {', '.join(connect)} and sent from "
                f"{', '.join(send)}: the call from sender to receiver crosses packages "
                "without an import and stops at a service boundary."
            )
            self.add("cross-package-signal", [owner, *connect, *send], evidence, why)

    # --- standard library shadowing ---------------------------------------------------------

    def stdlib_shadowing(self) -> None:
        """Modules named like a standard-library module: at the top level they replace it
        for every import; inside a package they do so for scripts run from their folder
        and for any code that puts the folder on the path."""
        for module in self.modules:
            name = module.rsplit(".", 1)[-1]
            if name not in _STDLIB or name.startswith("_"):
                continue
            evidence = [self.evidence("stdlib-shadowing", module, 1, f"module {module}")]
            importers = []
            if "." not in module:
                for other in self.modules:
                    for fact in self.facts(other).imports:
                        if (
                            other != module
                            and fact.level == 0
                            and fact.module.split(".")[0] == module
                        ):
                            evidence.append(
                                self.evidence(
                                    "stdlib-shadowing",
                                    other,
                                    fact.line,
                                    f"import of {fact.module}",
                                )
                            )
                            importers.append(other)
                where = "every import of it gets the project's file"
            else:
                where = (
                    "a script run from its folder, or code that puts the folder on the "
                    "path, gets the project's file instead"
                )
            why = (
                f"{module} has the name of the standard-library module {name}: {where}, "
                "so behaviour depends on where a service runs from."
            )
            self.add("stdlib-shadowing", (module, *importers), evidence, why)


# --- small helpers ---------------------------------------------------------------------------


def _ordered_modules(modules: Sequence[str]) -> tuple[str, ...]:
    """The first module kept first (the importer, or the owner of what is shared), then
    the others sorted, each once."""
    if not modules:
        return ()
    first = modules[0]
    return (first, *sorted(set(modules) - {first}))


def _edges_by_pair(edges: Iterable[Edge]) -> dict[tuple[str, str], list[Edge]]:
    pairs: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for edge in edges:
        if edge.is_runtime:
            pairs[(edge.source, edge.target)].append(edge)
    return pairs


def _first_edge(edges: Sequence[Edge]) -> Edge | None:
    """The import-time edge of a pair if there is one, else the earliest."""
    if not edges:
        return None
    return min(edges, key=lambda e: (e.scope is Scope.FUNCTION, e.line))


def _private_parts(qualified: str) -> list[str]:
    return [p for p in qualified.split(".")[1:] if p.startswith("_") and not p.startswith("__")]


def _prefixes(qualified: str) -> list[str]:
    """`a.b.c` -> [`a.b.c`, `a.b`, `a`], longest first."""
    parts = qualified.split(".")
    return [".".join(parts[:end]) for end in range(len(parts), 0, -1)]


def _proper_prefixes(qualified: str) -> Iterator[str]:
    """`a.b.c` -> `a.b`, `a`: `_prefixes` without the name itself, sliced at each dot
    instead of split and joined."""
    end = len(qualified)
    while (end := qualified.rfind(".", 0, end)) >= 0:
        yield qualified[:end]


def _starting_with(names: Sequence[str], prefix: str) -> Sequence[str]:
    """The names of the sorted `names` that start with `prefix` (a range of them, found
    by bisection instead of a scan)."""
    start = end = bisect.bisect_left(names, prefix)
    while end < len(names) and names[end].startswith(prefix):
        end += 1
    return names[start:end]


def _sql_tables(value: str) -> set[str]:
    """Table names a SQL string mentions (FROM, JOIN, INTO, UPDATE, TABLE)."""
    lowered = value.lower()
    if not any(word in lowered for word in ("select", "insert", "update", "delete")):
        return set()
    return {m.group(1).split(".")[-1].lower() for m in _SQL_TABLE.finditer(value)}
