"""Find the implicit couplings that stand in the way of carving a part out of the monolith.

Each kind has a stable id (the SARIF rule id, the name in `# carveout: ignore[kind]` and in
`[tool.carveout] ignore`) and one documented severity. Couplings compare "areas" (the
packages `ProjectIndex.area` names): what stays inside one area moves with it.
"""

from __future__ import annotations

import itertools
import logging
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from carveout.domain.catalogue import Catalogue
from carveout.domain.facts import MUTATING_METHODS, FileFacts, Guard, Origin, Scope
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
        self.edges = [e for e in edges if not e.external and e.target in index.modules]
        self.cycles = cycles
        self.ignored = ignored
        self.capabilities: dict[str, set[Capability]] = defaultdict(set)
        for label in labels:
            self.capabilities[label.module].update(label.capabilities)
        self.clients = set(_INFRA_CLIENTS)
        self.sdk_modules: tuple[str, ...] = ()
        if catalogue is not None:
            self.clients.update(c for sdk in catalogue.sdks for c in sdk.clients)
            self.sdk_modules = tuple(m for sdk in catalogue.sdks for m in sdk.modules)
        self.found: list[Coupling] = []
        self._object_cache: dict[str, tuple[str, str, int, str]] | None = None

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
        return self.index.area(module)

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
        by_pair = _edges_by_pair(self.edges)
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
        for edge in self.edges:
            if (
                edge.scope is Scope.FUNCTION
                and edge.origin is Origin.IMPORT
                and edge.is_runtime
                and edge.source != edge.target
            ):
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
        for module in sorted(self.index.files):
            facts = self.facts(module)
            for fact in facts.imports:
                if fact.origin is not Origin.IMPORT or fact.name == "*":
                    continue
                resolved = self.index.resolve_import(module, fact)
                target = resolved.target
                if target is None or target == module:
                    continue
                names = _private_parts(self.index.follow_reexports(resolved.qualified))
                if names and self.area(module) != self.area(target):
                    written = f"{'.' * fact.level}{fact.module}"
                    text = (
                        f"from {written} import {fact.name}"
                        if fact.name
                        else f"import {fact.module}"
                    )
                    reached[(module, target)].append((fact.line, text, names[-1]))
            chains = [(ref.line, ref.chain, ref.chain) for ref in facts.attribute_refs]
            chains += [
                (w.line, w.target, f"{w.target} ({w.via})")
                for w in facts.attribute_writes
                if w.via != "patch"
            ]
            for line, chain, text in chains:
                split = self.split_owner(self.qualify(module, chain))
                if split is None or split[0] == module:
                    continue
                owner = split[0]
                names = _private_parts(f"{owner}.{split[1]}")
                if names and self.area(module) != self.area(owner):
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
        for module in sorted(self.index.files):
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
            for call in facts.calls:
                receiver, _, method = call.callee.rpartition(".")
                if method not in MUTATING_METHODS or not receiver or "." in receiver:
                    continue  # chains through a module are recorded as writes by the scan
                split = self.split_owner(self.qualify(module, receiver))
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
        for state, changed in sorted(changes.items()):
            self._shared_state(state, changed)

    def _state(self, owner: str, rest: str, *, mutated: bool) -> str | None:
        """The module-level state a write reaches: `owner.global` for a global rebound or
        mutated, `owner.object.attribute` for an attribute of a module-level object
        mutated in place; None for functions, classes, caches and plain object attributes
        assigned (those are attribute writes)."""
        head, _, tail = rest.partition(".")
        variable = next((g for g in self.facts(owner).globals if g.name == head), None)
        if variable is None:
            return None
        if variable.value_kind != "call":
            return f"{owner}.{head}"
        if f"{owner}.{head}" in self._objects() or not tail or not mutated:
            return None
        return f"{owner}.{head}.{tail.split('.')[0]}"

    def _shared_state(self, state: str, found: list[tuple[str, int, str]]) -> None:
        owner = self.index.owner_module(state) or state
        if {self.area(m) for m, _, _ in found} <= {self.area(owner)}:
            return
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
        for module in sorted(self.index.files):
            if module == owner or module in writers:
                continue
            for ref in self.facts(module).attribute_refs:
                qualified = self.qualify(module, ref.chain)
                if qualified == state or qualified.startswith(state + "."):
                    evidence.append(
                        self.evidence(
                            "shared-mutable-state", module, ref.line, f"{ref.chain} (read)"
                        )
                    )
                    readers.append(module)
        why = (
            f"{path} of {owner} is changed in place from {', '.join(writers)}"
            + (f" and read in {', '.join(sorted(set(readers)))}" if readers else "")
            + ": once these packages run as separate services each has its own copy and "
            "the changes stop reaching the others."
        )
        self.add("shared-mutable-state", (owner, *writers, *readers), evidence, why)

    def _global_line(self, module: str, name: str) -> int | None:
        for variable in self.facts(module).globals:
            if variable.name == name:
                return variable.line
        return None

    # --- environment and configuration ---------------------------------------------------

    def shared_env_vars(self) -> None:
        readers: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        for module in sorted(self.index.files):
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
        return any(constructor == m or constructor.startswith(m + ".") for m in self.sdk_modules)

    # --- database tables ----------------------------------------------------------------

    def shared_tables(self) -> None:
        tables = self._tables()
        if not tables:
            return
        by_class = {qualified: table for table, (qualified, _, _) in tables.items()}
        users: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        for module in sorted(self.index.files):
            facts = self.facts(module)
            for fact in facts.imports:
                if fact.name in (None, "*") or fact.guard is Guard.TYPE_CHECKING:
                    continue
                resolved = self.index.resolve_import(module, fact)
                qualified = self.index.follow_reexports(resolved.qualified)
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
        tables: dict[str, tuple[str, str, int]] = {}
        for module in sorted(self.index.files):
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
        return tables

    # --- shared objects: clients and caches ----------------------------------------------

    def shared_objects(self) -> None:
        """Module-level clients and caches used from other packages (or, for clients, by
        several AI features)."""
        objects = self._objects()
        if not objects:
            return
        users: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        for module in sorted(self.index.files):
            facts = self.facts(module)
            for fact in facts.imports:
                if fact.name in (None, "*") or fact.guard is Guard.TYPE_CHECKING:
                    continue
                resolved = self.index.resolve_import(module, fact)
                qualified = self.index.follow_reexports(resolved.qualified)
                if qualified in objects and objects[qualified][1] != module:
                    users[qualified].append((module, fact.line, f"imports {fact.name}"))
            for call in facts.calls:
                if "." not in call.callee:
                    continue
                qualified = self.qualify(module, call.callee)
                for name in _prefixes(qualified):
                    if name in objects and objects[name][1] != module and name != qualified:
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
        for module in sorted(self.index.files):
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
        sdk = any(constructor == m or constructor.startswith(m + ".") for m in self.sdk_modules)
        return sdk and top not in ("torch",) and constructor.rsplit(".", 1)[-1][:1].isupper()

    # --- dynamic imports and framework strings ---------------------------------------------

    def dynamic_imports(self) -> None:
        """Imports through importlib or `__import__`: of a project module named by a literal
        (or a literal prefix), or of a module named only at run time."""
        for module in sorted(self.index.files):
            facts = self.facts(module)
            targets: dict[tuple[str, ...], list[tuple[int, str]]] = defaultdict(list)
            for fact in facts.imports:
                if fact.origin is not Origin.DYNAMIC:
                    continue
                if fact.is_prefix:
                    base = self.index.absolute_base(module, fact) or fact.module
                    matched = tuple(
                        m for m in sorted(self.index.files) if m.startswith(base) and m != module
                    )
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
        for edge in self.edges:
            if edge.origin is not Origin.FRAMEWORK_STRING:
                continue
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
        for module in sorted(self.index.files):
            facts = self.facts(module)
            written = [(call.line, call.callee) for call in facts.calls]
            written += [(d.line, dec) for d in facts.definitions for dec in d.decorators]
            for line, callee in written:
                receiver, _, verb = callee.rpartition(".")
                if not receiver or (verb not in _CONNECT_VERBS and verb not in _SEND_VERBS):
                    continue
                split = self.split_owner(self.qualify(module, receiver))
                if split is None or "." in split[1]:
                    continue
                owner, name = split
                variable = next((g for g in self.facts(owner).globals if g.name == name), None)
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
        for module in sorted(self.index.files):
            name = module.rsplit(".", 1)[-1]
            if name not in _STDLIB or name.startswith("_"):
                continue
            evidence = [self.evidence("stdlib-shadowing", module, 1, f"module {module}")]
            importers = []
            if "." not in module:
                for other in sorted(self.index.files):
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


def _sql_tables(value: str) -> set[str]:
    """Table names a SQL string mentions (FROM, JOIN, INTO, UPDATE, TABLE)."""
    lowered = value.lower()
    if not any(word in lowered for word in ("select", "insert", "update", "delete")):
        return set()
    return {m.group(1).split(".")[-1].lower() for m in _SQL_TABLE.finditer(value)}
