"""Find the project's AI features: SDK calls, raw HTTP to AI endpoints, and model names.

Calls are matched on their normalised qualified name (aliases, relative imports, re-exports
and module-level clients resolved), never on spelling: a local function called `chat` is
not an SDK call. The module is the unit: each module is labelled with the capabilities it
implements directly or as one feature's own orchestration.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Literal

from carveout.domain.catalogue import CallRule, Catalogue, Endpoint, ModelFamily, Sdk
from carveout.domain.facts import CallFact, Definition, FileFacts, ModuleGlobal
from carveout.domain.model import AiFeature, Capability, Edge, Evidence, ModuleLabel
from carveout.stages.resolve import ProjectIndex

logger = logging.getLogger(__name__)

CONFIG_MODULE = re.compile(
    r"^(config|configs|settings|conf|configuration|env|environment|app_config|app_settings"
    r"|settings_\w+|\w+_settings|\w+_config)$"
)
CONFIG_PARTS = frozenset({"config", "settings", "conf", "cfg", "configuration"})
CONFIG_OBJECTS = ("django.conf.settings", "flask.current_app.config")
CONSTANT = re.compile(r"[A-Z][A-Z0-9_]*[A-Z0-9]")

_DYNAMIC_IMPORTERS = frozenset({"importlib.import_module", "__import__", "builtins.__import__"})
_ROUTE_VERBS = frozenset(
    {
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "options",
        "route",
        "api_route",
        "websocket",
        "websocket_route",
        "add_api_route",
        "add_url_rule",
        "add_route",
    }
)
_HTTP_METHODS = frozenset(
    {
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "request",
        "stream",
        "ws_connect",
        "websocket_connect",
        "urlopen",
        "fetch",
        "send",
    }
)
_APP_CONSTRUCTORS = frozenset(
    {
        "FastAPI",
        "APIRouter",
        "Flask",
        "Blueprint",
        "Quart",
        "Starlette",
        "Router",
        "Sanic",
        "Bottle",
        "Litestar",
        "Application",
        "AsyncServer",
        "Server",
        "Namespace",
        "Api",
    }
)
_CLI_VERBS = frozenset({"command", "group", "callback"})
_CLI_CONSTRUCTORS = frozenset({"Typer", "Group", "MultiCommand", "ArgumentParser"})
_CLI_DECORATORS = frozenset(
    {"click.command", "click.group", "asyncclick.command", "asyncclick.group", "typer.run"}
)
_TASK_VERBS = frozenset({"task", "periodic_task", "scheduled_job", "actor", "cron", "job"})
_TASK_CONSTRUCTORS = frozenset(
    {
        "Celery",
        "Huey",
        "RedisHuey",
        "SqliteHuey",
        "Dramatiq",
        "AsyncIOScheduler",
        "BackgroundScheduler",
        "BlockingScheduler",
        "Rocketry",
        "Arq",
        "RQ",
    }
)
_TASK_DECORATORS = frozenset(
    {
        "celery.shared_task",
        "dramatiq.actor",
        "huey.contrib.djhuey.task",
        "huey.contrib.djhuey.periodic_task",
        "rq.decorators.job",
    }
)
_SOCKET_VERBS = frozenset({"on", "event"})
_MODEL_LITERAL = re.compile(r"^[\w.\-:/@]{2,100}$")
_VENDOR_PREFIX = re.compile(
    r"^((us|eu|apac|global)\.)?(anthropic|meta|amazon|cohere|ai21|mistral|stability|deepseek"
    r"|writer|qwen|openai)\."
)
_MAX_DEPTH = 6
_CALL_HOPS = 3
# constructors of an application object: the module that builds one is a composition root
_APPLICATION_OBJECTS = frozenset(
    {"FastAPI", "Flask", "Quart", "Starlette", "Sanic", "Litestar", "Bottle"}
)
_INFRASTRUCTURE_AREAS = 3
_ANY_METHOD = "__carveout_any_method__"


@dataclass(frozen=True, slots=True)
class ConfigRead:
    """One read of configuration in a module.

    `key` is the name read (`OPENAI_MODEL`, or `settings` for the import of a settings
    object); `target` is the config module or object read, None when a chain runs through
    an object named config or settings that carveout cannot place (`request.app.config`).
    """

    line: int
    key: str
    target: str | None
    text: str


@dataclass(frozen=True, slots=True)
class CallProfile:
    """How a module stands in the project's call graph, to explain its labels.

    `working` counts its public units (all units when none is public) that work for an AI
    capability, per capability; `call_sites` the calls in other modules that reach its
    units, `ai_call_sites` those reaching an AI capability; `callers` the calling modules.
    """

    module: str
    public_units: int
    working_units: int
    working: tuple[tuple[Capability, int], ...]
    call_sites: int
    ai_call_sites: int
    callers: tuple[str, ...]


def detect_features(
    index: ProjectIndex,
    edges: Sequence[Edge],
    catalogue: Catalogue,
    *,
    prefilter: bool = True,
) -> tuple[tuple[AiFeature, ...], tuple[ModuleLabel, ...]]:
    """The AI features of the project and the capability labels of its modules.

    A module is labelled direct for a capability when it calls a provider for it (an SDK
    call, an SDK class it subclasses or decorates with, or an AI endpoint string in a
    module that talks HTTP). A composition root wiring several features keeps no direct
    label for a capability another module implements: its calls stay the feature's
    evidence. A module is labelled as orchestration when it exists to serve a capability:
    its own functions mostly reach the capability's provider calls through the call graph,
    or what other modules call it for mostly does (see `_CallGraph`); or the capability's
    modules are most of those calling or importing it; or every project module importing
    it at run time implements the capability; or it sits in a package whose other direct
    modules implement only that capability, imports one of them, and no module of another
    feature imports it. Settings modules, database model modules several areas import and
    composition roots (the module that builds the application object, a packaging entry
    point) are never orchestration: they are shared infrastructure.
    One feature per capability found, with modules, entry points reaching them through
    runtime edges, providers, models, env vars, config keys and evidence, all sorted.
    With `prefilter` the provider detectors read only the modules `provider_modules`
    lets through; the result is the same without it, only slower.
    """
    readers = provider_modules(index, catalogue) if prefilter else None
    matcher = _Matcher(index, catalogue, readers.factories if readers else None)
    hits = _provider_hits(index, matcher, readers)

    direct: dict[str, set[Capability]] = defaultdict(set)
    for hit in hits:
        direct[hit.module].update(hit.capabilities)
    direct = {m: caps for m, caps in direct.items() if caps}
    links = _RuntimeLinks(edges, index)
    wiring = _wiring_roots(index, links.imports, direct)
    entries = entry_modules(index)
    provider_calls: Counter[tuple[str, Capability]] = Counter(
        (hit.module, capability) for hit in hits for capability in hit.capabilities
    )
    orchestration = _orchestration(
        index, links, direct, entries, _CallGraph(index, hits), provider_calls
    )
    labels = _labels(direct, orchestration, provider_calls)

    members: dict[Capability, set[str]] = defaultdict(set)
    for module, capabilities in direct.items():
        for capability in capabilities:
            members[capability].add(module)
    for module, capabilities in orchestration.items():
        for capability in capabilities:
            members[capability].add(module)

    graph = links.importers
    features = []
    for capability in Capability:
        modules = members.get(capability)
        if not modules:
            continue
        features.append(
            _feature(index, matcher, capability, modules, hits, direct, wiring, entries, graph)
        )
    logger.debug("found %d AI features over %d labelled modules", len(features), len(labels))
    return tuple(features), labels


def call_profiles(index: ProjectIndex, catalogue: Catalogue) -> dict[str, CallProfile]:
    """Every project module's place in the call graph the orchestration rules read (see
    `detect_features`): what its units work for and what other modules call it for."""
    readers = provider_modules(index, catalogue)
    hits = _provider_hits(index, _Matcher(index, catalogue, readers.factories), readers)
    graph = _CallGraph(index, hits)
    return {module: graph.profile(module) for module in sorted(index.files)}


@dataclass(frozen=True, slots=True)
class ProviderModules:
    """The modules the per-module provider detectors read when pre-filtered.

    `sdk`: modules where a name can normalise to an SDK name (SDK calls, base classes and
    decorators); `factories`: modules that may define a function building an SDK client
    or importing a module dynamically; `endpoints`: modules holding a string that matches
    an AI endpoint. Every other module gives those detectors nothing.
    """

    sdk: frozenset[str]
    factories: frozenset[str]
    endpoints: frozenset[str]


def provider_modules(index: ProjectIndex, catalogue: Catalogue) -> ProviderModules:
    """The text pre-filter: which modules can hold a provider hit, read from their facts
    and the index's name resolution only, never skipping a module that could.

    The matcher turns a written name into an SDK name only in these ways, and the test
    follows each with the index's own qualification: the name is an SDK name as written
    (`openai.OpenAI`, bound or not); it qualifies to one through imports of any scope,
    star imports and re-exports (`from app.llm import client`); it leads to a
    module-level instance whose constructor does, or is a project factory or a dynamic
    import (whose literal becomes the instance: `client = get_client()`); or a call
    builds an SDK client or imports a module dynamically in the module (an instance for
    local names), or calls a project factory. A factory is a function with such a call.
    Past a module-level instance, any continuation of the chain is assumed. An endpoint
    hit needs a string matching an endpoint pattern, which is tested as is.
    """
    return _ProviderReach(index, catalogue).modules()


def config_reads(index: ProjectIndex, module: str) -> tuple[ConfigRead, ...]:
    """The configuration a module reads: names imported from config modules, and
    constant-style attributes read from them or through config objects, by line."""
    facts = index.facts.get(module)
    if facts is None:
        return ()
    reads: set[ConfigRead] = set()
    for fact in facts.imports:
        if fact.name in (None, "*") or fact.bound is None:
            continue
        resolved = index.resolve_import(module, fact)
        qualified = index.follow_reexports(resolved.qualified)
        target = config_target(index, qualified)
        if target is not None and target != module and qualified != target:
            key = qualified[len(target) + 1 :].split(".")[0]
            written = "." * fact.level + fact.module
            reads.add(ConfigRead(fact.line, key, target, f"from {written} import {fact.name}"))
    for ref in facts.attribute_refs:
        key = ref.chain.rsplit(".", 1)[-1]
        if not CONSTANT.fullmatch(key):
            continue
        qualified = index.qualify(module, ref.chain)
        target = config_target(index, qualified)
        if target is not None and target != module:
            reads.add(ConfigRead(ref.line, key, target, ref.chain))
        elif qualified == ref.chain and not CONFIG_PARTS.isdisjoint(ref.chain.split(".")[:-1]):
            reads.add(ConfigRead(ref.line, key, None, ref.chain))
    return tuple(sorted(reads, key=lambda r: (r.line, r.key, r.text)))


def config_target(index: ProjectIndex, qualified: str) -> str | None:
    """The config module (or known config object) a qualified name lies in, or None."""
    for known in CONFIG_OBJECTS:
        if qualified.startswith(known + "."):
            return known
    owner = index.owner_module(qualified)
    if owner is not None and is_config_module(owner):
        return owner
    return None


def is_config_module(module: str) -> bool:
    """Whether a module's name says it holds configuration (`app.core.config`, `env`)."""
    return bool(CONFIG_MODULE.match(module.rsplit(".", 1)[-1]))


def entry_modules(index: ProjectIndex) -> dict[str, str]:
    """Modules where work starts, with what kind of start: "entry point" (packaging or
    script), "route" (web or socket handlers), "cli" (commands) or "task" (background)."""
    found: dict[str, str] = {}
    for module, file in index.files.items():
        if file.is_entry_point:
            found[module] = "entry point"
    for entry in index.project.entry_points:
        if entry.module is not None and entry.module in index.files:
            found[entry.module] = "entry point"
    for module in sorted(index.files):
        if module in found:
            continue
        facts = index.facts.get(module)
        if facts is None:
            continue
        for definition in facts.definitions:
            kinds = [_entry_kind(index, module, d) for d in definition.decorators]
            kind = next((k for k in kinds if k), None)
            if kind is not None:
                found[module] = kind
                break
    return found


def normalise_model(literal: str) -> str | None:
    """The normalised form of a string that may name a model, or None when it cannot."""
    if (
        not _MODEL_LITERAL.match(literal)
        or "://" in literal
        or literal.startswith("/")
        or literal.isupper()
    ):
        return None
    name = literal.lower().rsplit("/", 1)[-1]
    if name.startswith("models/"):
        name = name[len("models/") :]
    name = _VENDOR_PREFIX.sub("", name)
    return name or None


# --- matching --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Hit:
    """One piece of evidence that a module implements capabilities (none: supporting)."""

    module: str
    capabilities: tuple[Capability, ...]
    provider: str
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class _ModelUse:
    line: int
    literal: str
    family: ModelFamily


class _Matcher:
    """Normalises qualified names through module-level clients and matches the catalogue."""

    def __init__(
        self,
        index: ProjectIndex,
        catalogue: Catalogue,
        factory_modules: Collection[str] | None = None,
    ) -> None:
        """`factory_modules` limits the search for factories (all modules when None)."""
        self.index = index
        self.catalogue = catalogue
        self.endpoints = [(re.compile(e.pattern), e) for e in catalogue.endpoints]
        self.families = [(re.compile(f.pattern), f) for f in catalogue.models]
        self.clients = frozenset(c for sdk in catalogue.sdks for c in sdk.clients)
        self.http_prefixes = tuple(catalogue.http_clients)
        self._globals: dict[str, dict[str, ModuleGlobal]] = {}
        self._models: dict[str, tuple[_ModelUse, ...]] = {}
        self._normalised: dict[tuple[str, str], str] = {}
        self._sdks = {module: sdk for sdk in reversed(catalogue.sdks) for module in sdk.modules}
        self._sdk_tops = frozenset(module.split(".")[0] for module in self._sdks)
        self._http_tops = frozenset(prefix.partition(".")[0] for prefix in self.http_prefixes)
        self.factories: dict[str, str] = {}
        self.factories = self._find_factories(factory_modules)
        self._normalised.clear()  # names normalised before the factories were known

    # --- SDK calls ---------------------------------------------------------------------

    def sdk_hits(self, module: str, facts: FileFacts) -> list[_Hit]:
        path = self.index.files[module].path
        bindings = self.index.bindings(module)
        scopes = self._scope_instances(module, facts)
        hits = []
        for call in facts.calls:
            candidates: list[tuple[str, str | None]] = [
                (self.normalise(module, call.callee), None)
            ]
            root = call.callee.split(".")[0]
            if root not in bindings and "." in call.callee:
                candidates.extend(_through_local(call.callee, scopes.get(call.in_function, ())))
            for candidate, instance in candidates:
                hit = self._match_call(path, module, call, candidate, local=instance)
                if hit is not None:
                    hits.append(hit)
                    break
        hits.extend(self._definition_hits(module, path, facts))
        return hits

    def normalise(self, module: str, written: str) -> str:
        """The qualified name of a dotted chain, with module-level instances replaced by
        their constructor: `client.images.generate` -> `openai.OpenAI().images.generate`."""
        key = (module, written)
        found = self._normalised.get(key)
        if found is None:
            head, made, rest = written.partition("(")
            if made and "." not in rest.partition(")")[0]:
                # a chain called on a fresh instance: `OpenAI().chat.completions.create`
                constructor = self._through_instances(self.index.qualify(module, head), 0)
                found = f"{constructor}({rest}"
            else:
                found = self._through_instances(self.index.qualify(module, written), 0)
            self._normalised[key] = found
        return found

    def sdk_for(self, qualified: str) -> Sdk | None:
        """The SDK owning a qualified name: the longest module prefix of the catalogue."""
        parts = qualified.split(".")
        if parts[0] not in self._sdk_tops:
            return None  # every catalogue module starts with one of these
        for end in range(len(parts), 0, -1):
            sdk = self._sdks.get(".".join(parts[:end]))
            if sdk is not None:
                return sdk
        return None

    def _through_instances(self, qualified: str, depth: int) -> str:
        if depth > _MAX_DEPTH:
            return qualified
        owner = self.index.owner_module(qualified)
        if owner is None or owner == qualified:
            return qualified
        head, _, tail = qualified[len(owner) + 1 :].partition(".")
        instance = self._instance_of_global(owner, head, depth)
        if instance is None:
            return qualified
        return f"{instance}.{tail}" if tail else instance

    def _instance_of_global(self, module: str, name: str, depth: int) -> str | None:
        variable = self._module_globals(module).get(name)
        if variable is None or variable.value_kind != "call" or not variable.constructor:
            return None
        constructor = self._through_instances(
            self.index.qualify(module, variable.constructor), depth + 1
        )
        argument = _first_argument(self.index.facts[module], variable)
        if constructor in _DYNAMIC_IMPORTERS or constructor.endswith("importlib.import_module"):
            return argument  # the module it imports, when literal
        if constructor in self.factories:
            return self.factories[constructor]
        if self.index.owner_module(constructor) is not None:
            return None  # an instance of a project class: not an SDK client
        return _instance(constructor, argument)

    def _module_globals(self, module: str) -> dict[str, ModuleGlobal]:
        cached = self._globals.get(module)
        if cached is None:
            facts = self.index.facts.get(module)
            cached = {g.name: g for g in facts.globals} if facts is not None else {}
            self._globals[module] = cached
        return cached

    def _find_factories(self, modules: Collection[str] | None) -> dict[str, str]:
        """Project functions that build one SDK client: `pkg.llm.get_client` -> instance."""
        made: dict[str, set[str]] = defaultdict(set)
        for module in sorted(self.index.files if modules is None else modules):
            facts = self.index.facts.get(module)
            if facts is None:
                continue
            functions = {d.name for d in facts.definitions if d.kind != "class"}
            for call in facts.calls:
                if call.in_function not in functions:
                    continue
                instance = self._constructed(module, call)
                if instance is not None:
                    made[f"{module}.{call.in_function}"].add(instance)
        return {name: next(iter(found)) for name, found in made.items() if len(found) == 1}

    def _constructed(self, module: str, call: CallFact) -> str | None:
        """The SDK instance a call builds (`openai.OpenAI()`), or the module a dynamic
        import loads; None for any other call."""
        qualified = self.normalise(module, call.callee)
        argument = call.strings[0] if call.strings else None
        if qualified in _DYNAMIC_IMPORTERS and argument and _is_dotted(argument):
            return argument
        if qualified in self.clients:
            return _instance(qualified, argument)
        sdk = self.sdk_for(qualified)
        last = qualified.rsplit(".", 1)[-1]
        if sdk is not None and last[:1].isupper() and "(" not in last:
            return _instance(qualified, argument)
        return None

    def _scope_instances(self, module: str, facts: FileFacts) -> dict[str | None, list[str]]:
        """Per top-level function or class: the SDK instances built in it (locals and
        `self.client`), to resolve calls on local names in the same scope."""
        scopes: dict[str | None, list[str]] = defaultdict(list)
        for call in facts.calls:
            instance = self._constructed(module, call)
            if instance is None:
                qualified = self.normalise(module, call.callee)
                instance = self.factories.get(qualified)
            if instance is not None and instance not in scopes[call.in_function]:
                scopes[call.in_function].append(instance)
        return scopes

    def _match_call(
        self, path: str, module: str, call: CallFact, candidate: str, *, local: str | None
    ) -> _Hit | None:
        """The hit for one candidate name of a call. A candidate built for a local name
        (`local` is the instance it assumes) only counts when the rule cares about the
        method called: a rule that takes any method of the instance (`chromadb.**`) would
        take any `.get()` on a local dict for the SDK's."""
        sdk = self.sdk_for(candidate)
        if sdk is None:
            return None
        arguments = [*call.strings, *(value for _, value in call.keywords)]
        rule = _first_rule(sdk, candidate, arguments)
        if rule is None or (local and glob_matches(rule.pattern, f"{local}.{_ANY_METHOD}")):
            return None
        capabilities = self._rule_capabilities(sdk, rule, arguments)
        written = call.callee if candidate == call.callee else f"{call.callee} -> {candidate}"
        return _Hit(module, capabilities, sdk.provider, call.line, written)

    def _rule_capabilities(
        self, sdk: Sdk, rule: CallRule, arguments: Sequence[str]
    ) -> tuple[Capability, ...]:
        capabilities = list(rule.capabilities)
        if rule.from_model:
            from_models = [c for a in arguments for c in self._model_capabilities(a)]
            if from_models:
                capabilities = from_models
        if sdk.local:
            capabilities.append(Capability.LOCAL_INFERENCE)
        return tuple(dict.fromkeys(capabilities))

    def _model_capabilities(self, literal: str) -> tuple[Capability, ...]:
        family = self.family_of(literal)
        return family.capabilities if family is not None else ()

    def family_of(self, literal: str) -> ModelFamily | None:
        name = normalise_model(literal)
        if name is None:
            return None
        for pattern, family in self.families:
            if pattern.match(name):
                return family
        return None

    def _definition_hits(self, module: str, path: str, facts: FileFacts) -> list[_Hit]:
        """Classes subclassing an SDK class and definitions decorated by an SDK decorator."""
        hits = []
        used = [(c.line, f"class {c.name}", base) for c in facts.classes for base in c.bases]
        used += [
            (d.line, f"@{dec} {d.name}", dec) for d in facts.definitions for dec in d.decorators
        ]
        for line, text, written in used:
            qualified = self.normalise(module, written)
            sdk = self.sdk_for(qualified)
            if sdk is None:
                continue
            rule = _first_rule(sdk, qualified, ())
            if rule is not None:
                capabilities = self._rule_capabilities(sdk, rule, ())
                hits.append(
                    _Hit(module, capabilities, sdk.provider, line, f"{text} -> {qualified}")
                )
        return hits

    # --- raw HTTP ----------------------------------------------------------------------

    def endpoint_hits(self, module: str, facts: FileFacts) -> list[_Hit]:
        """AI endpoint strings in a module that talks HTTP, or passed as the URL of an
        HTTP-style call; route paths a module serves are not calls."""
        routes, urls = self._route_and_url_strings(module, facts)
        talks_http = urls or self._imports_http(module, facts)
        best: dict[tuple[int, str], tuple[str, Endpoint]] = {}
        for string in facts.strings:
            key = (string.line, string.value)
            if "/" not in string.value or key in routes or not (talks_http or key in urls):
                continue
            endpoint = self._endpoint(string.value)
            if endpoint is None:
                continue
            slot = (string.line, endpoint.name)
            if slot not in best or len(string.value) > len(best[slot][0]):
                best[slot] = (string.value, endpoint)
        return [
            _Hit(module, endpoint.capabilities, endpoint.provider, line, f"HTTP {value}")
            for (line, _), (value, endpoint) in sorted(best.items())
        ]

    def _endpoint(self, value: str) -> Endpoint | None:
        for pattern, endpoint in self.endpoints:
            if pattern.search(value):
                return endpoint
        return None

    def _imports_http(self, module: str, facts: FileFacts) -> bool:
        for fact in facts.imports:
            if fact.level:
                continue
            names = [fact.module] + ([f"{fact.module}.{fact.name}"] if fact.name else [])
            if any(self.is_http(name) for name in names):
                return True
        return False

    def is_http(self, qualified: str) -> bool:
        if qualified.partition(".")[0] not in self._http_tops:
            return False  # every prefix starts with one of these
        return any(qualified == p or qualified.startswith(p + ".") for p in self.http_prefixes)

    def _route_and_url_strings(
        self, module: str, facts: FileFacts
    ) -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
        """(line, string) pairs registered as routes, and those passed as a URL to an
        HTTP client's method (a module-level session, or a local object such as a session
        handed over by a helper)."""
        bindings = self.index.bindings(module)
        routes: set[tuple[int, str]] = set()
        urls: set[tuple[int, str]] = set()
        for call in facts.calls:
            if "." not in call.callee:
                continue
            root, last = call.callee.split(".")[0], call.callee.rsplit(".", 1)[-1]
            values = [*call.strings, *(v for k, v in call.keywords if k in ("url", "path"))]
            if root in bindings:
                http = self.is_http(self.normalise(module, call.callee))
                if http and last in _HTTP_METHODS:
                    urls.update((call.line, value) for value in values)
                elif last in _ROUTE_VERBS and not http:
                    routes.update((call.line, value) for value in values)
            elif last in _HTTP_METHODS:
                urls.update((call.line, value) for value in values)
        return routes, urls

    # --- models ------------------------------------------------------------------------

    def models_in(self, module: str) -> tuple[_ModelUse, ...]:
        cached = self._models.get(module)
        if cached is None:
            facts = self.index.facts.get(module)
            found = []
            for string in facts.strings if facts is not None else ():
                family = self.family_of(string.value)
                if family is not None:
                    found.append(_ModelUse(string.line, string.value, family))
            cached = tuple(found)
            self._models[module] = cached
        return cached


def _provider_hits(
    index: ProjectIndex, matcher: _Matcher, readers: ProviderModules | None
) -> list[_Hit]:
    """The SDK and endpoint hits of every parsed module, module by module; with `readers`,
    each detector reads only the modules it lets through."""
    hits: list[_Hit] = []
    for module in sorted(index.files):
        facts = index.facts.get(module)
        if facts is None or not facts.parsed:
            continue
        if readers is None or module in readers.sdk:
            hits.extend(matcher.sdk_hits(module, facts))
        if readers is None or module in readers.endpoints:
            hits.extend(matcher.endpoint_hits(module, facts))
    return hits


# --- the text pre-filter ---------------------------------------------------------------------

# the first parts of the dynamic importers' names
_DYNAMIC_ROOTS = frozenset({"importlib", "builtins", "__import__"})

_Key = tuple[str, str] | Literal[True] | None
_Node = tuple[str, str, str]


class _ProviderReach:
    """The walk behind `provider_modules`, over (kind, module, name) nodes.

    A "G" node is a module-level instance whose instance may matter to the matcher (an SDK
    client, a literal it imports dynamically, a factory's product); an "F" node a function
    that may build an SDK client or import a module dynamically (a factory candidate); a
    "P" node (name "") a module whose SDK matching may find something. A name written in
    a module qualifies, as the matcher qualifies it, to an SDK name or a dynamic importer
    (its key is True), to a name under a G or F pair (its key is that pair), or to
    anything else (None). A node is live when one of its names has key True or leads to a
    live pair of a kind that matters to it (a factory is one through its calls to clients
    and importers, never through its calls to other factories), and an instance made by a
    function named like `importlib.import_module` is live as the matcher takes its
    literal. Each fact is read once; the live nodes are found by a walk from the sources.
    """

    def __init__(self, index: ProjectIndex, catalogue: Catalogue) -> None:
        self.index = index
        self.catalogue = catalogue
        self.sdk_tops = frozenset(
            name.partition(".")[0] for sdk in catalogue.sdks for name in sdk.modules + sdk.clients
        )
        # the first parts of the names that matter: an SDK, an importer, a project name (a
        # name starting otherwise has key None)
        self.tops = self.sdk_tops | _DYNAMIC_ROOTS | index.top_levels
        self.live: set[_Node] = set()
        self._pending: list[_Node] = []
        self._waiting: dict[_Node, list[_Node]] = defaultdict(list)
        self._keys: dict[str, _Key] = {}
        self._names: dict[str, frozenset[str]] = {}

    def modules(self) -> ProviderModules:
        endpoints = [re.compile(e.pattern) for e in self.catalogue.endpoints]
        matching: dict[str, bool] = {}
        endpoint_modules = set()
        for module in sorted(self.index.files):
            facts = self.index.facts.get(module)
            if facts is None or not facts.parsed:
                continue
            self._read(module, facts)
            for string in facts.strings:
                value = string.value
                if "/" not in value:
                    continue
                found = matching.get(value)
                if found is None:
                    found = matching[value] = any(p.search(value) for p in endpoints)
                if found:
                    endpoint_modules.add(module)
                    break
        while self._pending:
            for node in self._waiting.pop(self._pending.pop(), ()):
                self._reach(node)
        return ProviderModules(
            sdk=frozenset(module for kind, module, _ in self.live if kind == "P"),
            factories=frozenset(module for kind, module, _ in self.live if kind == "F"),
            endpoints=frozenset(endpoint_modules),
        )

    def _read(self, module: str, facts: FileFacts) -> None:
        """Register what each node of the module needs: the names it writes."""
        bindings = self.index.bindings(module)
        reads: _Node = ("P", module, "")
        functions = {d.name for d in facts.definitions if d.kind != "class"}
        # a module writes the same chain many times: each is keyed once, and each key a
        # function writes is registered once
        keys: dict[str, _Key] = {}
        factory_keys: dict[str, set[_Key]] = defaultdict(set)
        for call in facts.calls:
            callee = call.callee
            if callee in keys:
                key = keys[callee]
            else:
                key = keys[callee] = self._written_key(bindings, module, callee)
                if key is not None:
                    self._needs(reads, key, "GF")
            if key is not None and call.in_function in functions:
                factory_keys[call.in_function].add(key)
        for function, used in factory_keys.items():
            # a factory builds through a name that normalises to a client or an importer
            for key in used:
                self._needs(("F", module, function), key, "G")
        written = [base for cls in facts.classes for base in cls.bases]
        written += [decorator for d in facts.definitions for decorator in d.decorators]
        for name in written:
            self._needs(reads, self._written_key(bindings, module, name), "GF")
        for variable in facts.globals:
            if variable.value_kind == "call" and variable.constructor:
                instance: _Node = ("G", module, variable.name)
                qualified = self.index.qualify(module, variable.constructor)
                if qualified.endswith("importlib.import_module"):
                    self._reach(instance)  # the matcher takes its literal for the instance
                self._needs(instance, self._key(qualified), "GF")

    def _written_key(self, bindings: Mapping[str, str], module: str, written: str) -> _Key:
        """The key of a written chain, qualified as `_Matcher.normalise` qualifies it."""
        if "(" in written:
            head, _, rest = written.partition("(")
            if "." not in rest.partition(")")[0]:
                written = head
        root, dot, rest = written.partition(".")
        bound = bindings.get(root)
        if bound is None:
            # an unbound root qualifies to itself
            return self._key(written) if root in self.tops else None
        top = bound.partition(".")[0]
        if top not in self.index.top_levels:
            # a name outside the project follows no re-export: it qualifies to itself
            return self._key(bound + dot + rest) if top in self.tops else None
        return self._key(self.index.qualify(module, written))

    def _key(self, qualified: str) -> _Key:
        if qualified in self._keys:
            return self._keys[qualified]
        top = qualified.partition(".")[0]
        key: _Key = None
        if top in self.sdk_tops or qualified in _DYNAMIC_IMPORTERS:
            key = True
        elif top in self.index.top_levels:  # no project module lies under another name
            owner = self.index.owner_module(qualified)
            if owner is not None and owner != qualified:
                name = qualified[len(owner) + 1 :].partition(".")[0]
                if name in self._nodes_of(owner):
                    key = (owner, name)
        self._keys[qualified] = key
        return key

    def _nodes_of(self, module: str) -> frozenset[str]:
        """The names of a module that can be G or F nodes: module-level instances and
        functions (a name under any other can never be live)."""
        names = self._names.get(module)
        if names is None:
            facts = self.index.facts.get(module)
            names = frozenset(
                [g.name for g in facts.globals if g.value_kind == "call" and g.constructor]
                + [d.name for d in facts.definitions if d.kind != "class"]
                if facts is not None
                else ()
            )
            self._names[module] = names
        return names

    def _needs(self, node: _Node, key: _Key, kinds: str) -> None:
        """`node` is live when `key` is True or the pair under one of `kinds` is live."""
        if key is None:
            return
        if key is True:
            self._reach(node)
        elif node not in self.live:
            for kind in kinds:
                self._waiting[(kind, key[0], key[1])].append(node)

    def _reach(self, node: _Node) -> None:
        if node not in self.live:
            self.live.add(node)
            self._pending.append(node)


# --- labels and features ---------------------------------------------------------------------


def _orchestration(
    index: ProjectIndex,
    links: _RuntimeLinks,
    direct: Mapping[str, set[Capability]],
    entries: Mapping[str, str],
    calls: _CallGraph,
    provider_calls: Mapping[tuple[str, Capability], int],
) -> dict[str, set[Capability]]:
    """Modules that exist only to serve one capability, found in three passes: first from
    the call graph, then from imports and callers, then also from packages of areas made
    mostly of AI modules. Shared infrastructure is never one (see `_shared_infrastructure`)
    and local inference never travels: it says how a direct module works, not what a
    feature does. A module's main capability is the one it calls providers for most (a
    direct module) or its only one (an orchestration module); callers count by it. A
    module whose calls into a capability's direct modules all miss the capability (the
    chat function of a module that also embeds) does not drive that capability."""
    graph = _ImportGraph(index, links, entries)
    capabilities = sorted(
        {c for caps in direct.values() for c in caps} - {Capability.LOCAL_INFERENCE},
        key=_capability_order,
    )
    members = {c: {m for m, caps in direct.items() if c in caps} for c in capabilities}
    direct_members = {c: set(m) for c, m in members.items()}
    orchestration: dict[str, set[Capability]] = defaultdict(set)
    shared = _shared_infrastructure(index, graph)
    # the modules whose main capability is each one, and those whose main one is another
    mainly: dict[Capability, set[str]] = defaultdict(set)
    others: dict[Capability, set[str]] = defaultdict(set)

    def mainly_serves(module: str, capability: Capability) -> None:
        mainly[capability].add(module)
        for other in capabilities:
            if other is not capability:
                others[other].add(module)

    for module, caps in direct.items():
        if module not in shared:
            mainly_serves(module, _main_capability(module, caps, provider_calls))
    candidates = [m for m in sorted(index.files) if m not in direct and m not in shared]

    # what the module's functions do, and what other modules call them for
    for module in candidates:
        served = calls.served(module, module in entries) & set(capabilities)
        for capability in served:
            members[capability].add(module)
            orchestration[module].add(capability)
        if len(served) == 1:
            mainly_serves(module, next(iter(served)))

    # who imports and calls the module, and which package it sits in
    by_interface = _interface_capabilities(graph.interfaces, entries, direct)
    for by_package in (False, True):
        ai_areas = graph.ai_areas(members) if by_package else set()
        changed = True
        while changed:
            changed = False
            for module in candidates:
                for capability in capabilities:
                    if module in members[capability]:
                        continue
                    drives = not calls.misses(module, capability, direct_members[capability])
                    importers = graph.importers.get(module, set())
                    serves = (
                        graph.serves(module, capability, members, direct_members, drives=drives)
                        or capability in by_interface.get(module, ())
                        or calls.used_by(
                            module, mainly[capability], others[capability], importers, shared
                        )
                        or (
                            graph.areas[module] in ai_areas
                            and graph.serves_package(module, capability, members, direct_members)
                        )
                    )
                    if serves:
                        members[capability].add(module)
                        orchestration[module].add(capability)
                        if len(orchestration[module]) == 1:
                            mainly_serves(module, capability)
                        changed = True
    return dict(orchestration)


def _wiring_roots(
    index: ProjectIndex, imports: Mapping[str, set[str]], direct: dict[str, set[Capability]]
) -> dict[str, set[Capability]]:
    """Take out of `direct` the capabilities of composition roots that wire several
    features (a module building the application object at module level that imports
    direct modules of at least two capabilities), for each capability some other module
    implements; return them. Such a module's provider calls stay evidence of the feature
    (and it is among its entry points), but the module belongs to no feature."""
    builders = sorted(m for m in direct if _builds_application(index, m))
    wiring: dict[str, set[Capability]] = {}
    for module in builders:
        wired = {
            c
            for target in imports.get(module, ())
            for c in direct.get(target, set())
            if target not in builders and c is not Capability.LOCAL_INFERENCE
        }
        if len(wired) < 2:
            continue
        elsewhere = {c for m, caps in direct.items() if m != module for c in caps}
        moved = direct[module] & elsewhere
        if moved:
            wiring[module] = moved
            direct[module] = direct[module] - moved
            if not direct[module]:
                del direct[module]
    return wiring


def _builds_application(index: ProjectIndex, module: str) -> bool:
    """Whether a module binds an application object (`app = FastAPI()`) at module level."""
    return any(
        (variable.constructor or "").rsplit(".", 1)[-1] in _APPLICATION_OBJECTS
        for variable in _facts(index, module).globals
    )


def _main_capability(
    module: str,
    capabilities: set[Capability],
    provider_calls: Mapping[tuple[str, Capability], int],
) -> Capability:
    """The capability a direct module calls providers for most; local inference only when
    it is the only one (it says how, not what); ties go to the first in the fixed list."""
    chosen = capabilities - {Capability.LOCAL_INFERENCE} or capabilities
    return min(chosen, key=lambda c: (-provider_calls.get((module, c), 0), _capability_order(c)))


def _shared_infrastructure(index: ProjectIndex, graph: _ImportGraph) -> set[str]:
    """Modules that belong to no feature whatever they reach: settings modules, modules
    defining database models (a class with a table) that modules of several areas import,
    and composition roots (a module that builds the application object at module level,
    or a packaging entry point). A table only one area uses (a vector store's own table)
    stays with that area."""
    shared = {m for m in index.files if is_config_module(m)}
    shared.update(m for m, kind in graph.entries.items() if kind == "entry point")
    for module in index.files:
        facts = index.facts.get(module)
        if facts is None:
            continue
        if any(cls.table for cls in facts.classes):
            areas = {graph.areas[user] for user in graph.importers.get(module, ())}
            if len(areas) > 1:
                shared.add(module)
        if _builds_application(index, module):
            shared.add(module)
    return shared


class _CallGraph:
    """The project's top-level functions and classes (units; a method belongs to its
    class), the project units each one calls, and the capabilities each reaches.

    A call counts when its name resolves to a unit of a project module (through imports,
    aliases and re-exports), or to a module-level instance of a project class (the call
    then reaches the class). A unit reaches a capability when it holds a provider call
    for it, or calls a unit that reaches it, at most `_CALL_HOPS` calls away (a call to
    the same module counts as a hop too). Provider calls outside any top-level definition
    (module-level code) belong to no unit. Local inference does not travel: calling code
    that runs a model in-process is not running one. Functions passed by reference
    (`run_in_threadpool(search)`, `Depends(get_session)`) are no calls: facts hold calls.
    """

    def __init__(self, index: ProjectIndex, hits: Sequence[_Hit]) -> None:
        self.index = index
        self.units: dict[str, tuple[Definition, ...]] = {
            module: tuple(sorted(facts.definitions, key=lambda d: d.line))
            for module, facts in index.facts.items()
            if module in index.files
        }
        self._names = {module: {d.name for d in units} for module, units in self.units.items()}
        self._instances: dict[tuple[str, str], tuple[str, str] | None] = {}
        self.callees: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
        # module -> unit name -> call sites in other modules that reach it
        self.inbound: dict[str, Counter[str]] = defaultdict(Counter)
        # module -> calling module -> call sites there that reach the module's units
        self.callers: dict[str, Counter[str]] = defaultdict(Counter)
        # module -> the units its units call
        self.calls_out: dict[str, set[tuple[str, str]]] = defaultdict(set)
        # unit -> the units of its own module that call it
        self.inner_callers: dict[tuple[str, str], set[str]] = defaultdict(set)
        for module in sorted(self.units):
            self._add_calls(module)
        self.reach = self._reach(self._providers(hits))
        # the modules with a unit that reaches a capability: no other one serves any
        self._reaching = {module for module, _ in self.reach}

    def served(self, module: str, is_entry: bool) -> set[Capability]:
        """The capabilities a module serves through its calls.

        By its work: more than half of its public units (all of them when none is public)
        work for an AI capability. A unit works for the capabilities it reaches; a helper
        that no other module calls works for what all its callers in the module work for.
        By its use (not for entry modules, whose callers are the framework): more than half
        of the call sites in other modules that reach its units reach an AI capability.
        In either count, it serves the capabilities that more than half of those AI units
        or call sites reach.
        """
        if module not in self._reaching:
            return set()  # no unit of it works for a capability, no call into it reaches one
        work = self._work(module)
        public = [n for n in sorted(work) if not n.startswith("_")] or sorted(work)
        working = [work[n] for n in public if work[n]]
        served: set[Capability] = set()
        if public and 2 * len(working) > len(public):
            served |= _dominant([(caps, 1) for caps in working])
        sites = self.inbound.get(module)
        if sites and not is_entry:
            weighted = [(self.reach.get((module, n), set()), count) for n, count in sites.items()]
            ai_sites = sum(count for caps, count in weighted if caps)
            if 2 * ai_sites > sum(sites.values()):
                served |= _dominant(weighted)
        return served

    def profile(self, module: str) -> CallProfile:
        """The module's counts behind `served` and `used_by`."""
        work = self._work(module)
        public = [n for n in sorted(work) if not n.startswith("_")] or sorted(work)
        working = Counter(c for n in public for c in work[n])
        sites = self.inbound.get(module, Counter())
        return CallProfile(
            module=module,
            public_units=len(public),
            working_units=sum(1 for n in public if work[n]),
            working=tuple(sorted(working.items(), key=lambda item: _capability_order(item[0]))),
            call_sites=sum(sites.values()),
            ai_call_sites=sum(k for n, k in sites.items() if self.reach.get((module, n))),
            callers=tuple(sorted(self.callers.get(module, {}))),
        )

    def misses(self, module: str, capability: Capability, targets: set[str]) -> bool:
        """Whether the module calls units of `targets` (the capability's direct modules)
        and none of those calls reaches the capability (it uses them for other things)."""
        called = [t for t in self.calls_out.get(module, ()) if t[0] in targets]
        return bool(called) and not any(capability in self.reach.get(t, ()) for t in called)

    def used_by(
        self,
        module: str,
        members: set[str],
        others: set[str],
        importers: set[str],
        shared: set[str],
    ) -> bool:
        """Whether, among the modules that call or import it, at least two are `members`
        (the modules whose main capability is one capability), one of them calls it, they
        are more than half of all, and more than twice as many as `others` there (the
        modules of other capabilities: a module several features use is their shared
        infrastructure). Modules in `shared` (composition roots, settings) do not count."""
        callers = self.callers.get(module, {}).keys() - shared
        users = (callers | importers) - shared
        inside = len(users & members)
        return (
            bool(callers & members)
            and inside >= 2
            and 2 * inside > len(users)
            and 2 * len(users & others) < inside
        )

    def _work(self, module: str) -> dict[str, set[Capability]]:
        """What each unit of a module works for (see `served`)."""
        names = sorted(self._names.get(module, ()))
        work = {name: set(self.reach.get((module, name), ())) for name in names}
        outside = self.inbound.get(module, Counter())
        changed = True
        while changed:
            changed = False
            for name in names:
                callers = self.inner_callers.get((module, name))
                if work[name] or outside[name] or not callers:
                    continue
                common = set.intersection(*(work[caller] for caller in sorted(callers)))
                if common:
                    work[name] = common
                    changed = True
        return work

    def _add_calls(self, module: str) -> None:
        facts = self.index.facts[module]
        bindings = self.index.bindings(module)
        top_levels = self.index.top_levels
        reached: dict[str, tuple[str, str] | None] = {}  # a module calls one name many times
        for call in facts.calls:
            caller = call.in_function
            if caller is None:
                continue
            callee = call.callee
            if callee in reached:
                target = reached[callee]
            else:
                bound = bindings.get(callee.partition(".")[0])
                # a name bound outside the project qualifies outside it: no unit
                if bound is None or bound.partition(".")[0] not in top_levels:
                    target = None
                else:
                    target = self._unit_of(module, callee)
                reached[callee] = target
            if target is None or target == (module, caller):
                continue
            self.callees[(module, caller)].add(target)
            self.calls_out[module].add(target)
            if target[0] == module:
                self.inner_callers[target].add(caller)
            else:
                self.inbound[target[0]][target[1]] += 1
                self.callers[target[0]][module] += 1

    def _unit_of(self, module: str, callee: str) -> tuple[str, str] | None:
        """The project unit a call written in `module` reaches, or None."""
        qualified = self.index.qualify(module, callee)
        if qualified.partition(".")[0] not in self.index.top_levels:
            return None  # outside the project
        owner = self.index.owner_module(qualified)
        if owner is None or owner == qualified:
            return None
        head = qualified[len(owner) + 1 :].partition(".")[0]
        if head in self._names.get(owner, ()):
            return (owner, head)
        key = (owner, head)
        if key not in self._instances:
            self._instances[key] = self._instance_unit(owner, head)
        return self._instances[key]

    def _instance_unit(self, owner: str, head: str) -> tuple[str, str] | None:
        """The project unit a module-level instance `owner.head` is made by, or None."""
        for variable in _facts(self.index, owner).globals:
            if variable.name == head and variable.value_kind == "call" and variable.constructor:
                made = self.index.qualify(owner, variable.constructor)
                maker = self.index.owner_module(made)
                if maker is not None and maker != made:
                    name = made[len(maker) + 1 :].partition(".")[0]
                    if name in self._names.get(maker, ()):
                        return (maker, name)
        return None

    def _providers(self, hits: Sequence[_Hit]) -> dict[tuple[str, str], set[Capability]]:
        """The units holding provider calls, with their capabilities."""
        providers: dict[tuple[str, str], set[Capability]] = defaultdict(set)
        for hit in hits:
            capabilities = set(hit.capabilities) - {Capability.LOCAL_INFERENCE}
            units = self.units.get(hit.module, ())
            at = bisect_right(units, hit.line, key=lambda d: d.line) - 1
            if capabilities and at >= 0 and hit.line <= units[at].end_line:
                providers[(hit.module, units[at].name)] |= capabilities
        return providers

    def _reach(
        self, providers: Mapping[tuple[str, str], set[Capability]]
    ) -> dict[tuple[str, str], set[Capability]]:
        callers: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
        for caller, targets in self.callees.items():
            for target in targets:
                callers[target].add(caller)
        reach: dict[tuple[str, str], set[Capability]] = defaultdict(set)
        for capability in {c for caps in providers.values() for c in caps}:
            seen = {unit for unit, caps in providers.items() if capability in caps}
            frontier = set(seen)
            for _ in range(_CALL_HOPS):
                frontier = {c for unit in frontier for c in callers.get(unit, ()) if c not in seen}
                seen |= frontier
            for unit in seen:
                reach[unit].add(capability)
        return dict(reach)


def _dominant(weighted: Sequence[tuple[set[Capability], int]]) -> set[Capability]:
    """The capabilities reached by more than half of the weight that reaches any."""
    total = sum(weight for caps, weight in weighted if caps)
    per: Counter[Capability] = Counter()
    for caps, weight in weighted:
        for capability in caps:
            per[capability] += weight
    return {c for c, weight in per.items() if 2 * weight > total}


class _ImportGraph:
    """Runtime import edges between project modules, for the orchestration rules."""

    def __init__(
        self, index: ProjectIndex, links: _RuntimeLinks, entries: Mapping[str, str]
    ) -> None:
        self.index = index
        self.entries = entries
        # (a module's importers are the same whether or not importers of namespace
        # packages are kept)
        self.importers = links.importers
        self.imports = links.imports
        self.areas = _Areas(index)
        self.interfaces = _interfaces(index)
        self.infrastructure = {
            module
            for module in index.files
            if is_config_module(module)
            or len({self.areas[i] for i in self.importers.get(module, ()) if i not in entries})
            >= _INFRASTRUCTURE_AREAS
        }
        self._packages: dict[str, set[str]] = defaultdict(set)
        for module in index.files:
            self._packages[module.rpartition(".")[0]].add(module)

    def serves(
        self,
        module: str,
        capability: Capability,
        members: Mapping[Capability, set[str]],
        direct: Mapping[Capability, set[str]],
        *,
        drives: bool = True,
    ) -> bool:
        """Only the capability's modules import it (entry modules aside: they are composition
        roots, and count only beside an inner user when they call the capability), or it
        drives the capability's direct modules and needs nothing else but
        infrastructure and helpers of its own (modules only it imports). `drives` false
        says its calls into those modules reach other things: it does not drive them."""
        own = members[capability]
        users = self.importers.get(module, set())
        serving_entries = {
            u
            for u in users
            if u in self.entries and self.imports.get(u, set()) & direct[capability]
        }
        # (the users among the capability's inner modules, found without walking them all)
        inner_users = {u for u in users if u in own and u not in self.entries}
        if inner_users and all(u in inner_users or u in serving_entries for u in users):
            return True
        needs = self.imports.get(module, set())
        if not drives or not needs & direct[capability]:
            return False
        for need in needs - own - self.infrastructure:
            if self.importers.get(need, set()) != {module}:
                return False
        return not _in_other_feature(users - own, members, capability)

    def serves_package(
        self,
        module: str,
        capability: Capability,
        members: Mapping[Capability, set[str]],
        direct: Mapping[Capability, set[str]],
    ) -> bool:
        """In a package whose direct modules implement only this capability, a module tied
        to the capability's modules there by an import either way, and to no other
        feature's modules. Packages and entry modules (routes, commands) are left out:
        they are the surface of their package, not a feature's inside."""
        if self.index.is_package(module) or module in self.entries:
            return False
        in_package = self._packages[module.rpartition(".")[0]]
        package_capabilities = {
            c
            for c, modules in direct.items()
            if c is not Capability.LOCAL_INFERENCE
            for m in modules & in_package
        }
        if package_capabilities != {capability}:
            return False
        own = members[capability] & in_package
        users = self.importers.get(module, set())
        needs = self.imports.get(module, set())
        if not (users | needs) & own:
            return False
        return not _in_other_feature((users | needs) - members[capability], members, capability)

    def ai_areas(self, members: Mapping[Capability, set[str]]) -> set[str]:
        """Areas where at least half of the plain modules implement some capability."""
        labelled = set().union(*members.values()) if members else set()
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for module in self.index.files:
            if self.index.is_package(module):
                continue
            count = totals[self.areas[module]]
            count[0] += 1
            count[1] += module in labelled
        return {area for area, (total, ai) in totals.items() if ai * 2 >= total}


def _interface_capabilities(
    interfaces: Sequence[tuple[str, set[str]]],
    entries: Mapping[str, str],
    direct: Mapping[str, set[Capability]],
) -> dict[str, set[Capability]]:
    """Per module, the capabilities it serves by an interface (entry modules aside): it
    defines, or implements, a project base class (see `_interfaces`) that at least two
    direct modules of the capability implement, and no direct module of another one does
    (the vector-store adapters of one interface, the interface itself)."""
    served: dict[str, set[Capability]] = defaultdict(set)
    for base_module, implementers in interfaces:
        doing = [direct[m] - {Capability.LOCAL_INFERENCE} for m in implementers if m in direct]
        for capability in {c for caps in doing for c in caps}:
            if sum(1 for caps in doing if capability in caps) >= 2 and all(
                caps == {capability} for caps in doing
            ):
                for module in {base_module} | implementers:
                    if module not in entries:
                        served[module].add(capability)
    return served


def _in_other_feature(
    modules: set[str], members: Mapping[Capability, set[str]], capability: Capability
) -> bool:
    """Whether one of `modules` is a member of a capability other than `capability`."""
    others = [m for c, m in members.items() if c is not capability]
    return any(module in other for module in modules for other in others)


def _interfaces(index: ProjectIndex) -> list[tuple[str, set[str]]]:
    """Project base classes: (the module defining one, the modules subclassing it)."""
    implementers: dict[str, set[str]] = defaultdict(set)
    for module in sorted(index.files):
        facts = index.facts.get(module)
        for cls in facts.classes if facts is not None else ():
            for base in cls.bases:
                qualified = index.qualify(module, base)
                owner = index.owner_module(qualified)
                if owner is not None and owner != qualified and owner != module:
                    implementers[qualified].add(module)
    return [
        (qualified.rpartition(".")[0], modules)
        for qualified, modules in sorted(implementers.items())
        if len(modules) >= 2
    ]


def _labels(
    direct: Mapping[str, set[Capability]],
    orchestration: Mapping[str, set[Capability]],
    calls: Mapping[tuple[str, Capability], int],
) -> tuple[ModuleLabel, ...]:
    labels = []
    for module, capabilities in direct.items():
        ordered = _ordered(capabilities)
        strength = tuple(calls.get((module, c), 0) for c in ordered)
        labels.append(ModuleLabel(module, ordered, True, strength))
    labels += [ModuleLabel(m, _ordered(c), False) for m, c in orchestration.items() if c]
    return tuple(sorted(labels, key=lambda label: (label.module, not label.direct)))


def _feature(
    index: ProjectIndex,
    matcher: _Matcher,
    capability: Capability,
    modules: set[str],
    hits: Sequence[_Hit],
    direct: Mapping[str, set[Capability]],
    wiring: Mapping[str, set[Capability]],
    entries: Mapping[str, str],
    graph: Mapping[str, set[str]],
) -> AiFeature:
    implementing = {m for m in modules if capability in direct.get(m, set())}
    implementing |= {m for m, caps in wiring.items() if capability in caps}
    own = [h for h in hits if h.module in implementing and capability in h.capabilities]
    evidence = {Evidence(index.files[h.module].path, h.line, h.text) for h in own}
    providers = {h.provider for h in own}

    reads = [r for m in modules for r in config_reads(index, m)]
    env_vars = {e.variable for m in modules for e in _facts(index, m).env_reads}
    config_keys = {r.key for r in reads if CONSTANT.fullmatch(r.key)}

    models = set()
    for module in sorted(modules):
        models.update(
            _models_for(
                matcher.models_in(module),
                capability,
                module in implementing and Capability.LOCAL_INFERENCE in direct.get(module, set()),
            )
        )
    for target in sorted({r.target for r in reads if r.target in index.files}):
        models.update(_models_for(matcher.models_in(target), capability, False))

    reaching = _reaching(graph, modules)
    return AiFeature(
        capability=capability,
        modules=tuple(sorted(modules)),
        providers=tuple(sorted(providers)),
        models=tuple(sorted(models)),
        evidence=tuple(sorted(evidence, key=lambda e: (e.path, e.line, e.text))),
        entry_points=tuple(sorted(m for m in reaching if m in entries)),
        env_vars=tuple(sorted(env_vars)),
        config_keys=tuple(sorted(config_keys)),
    )


def _models_for(uses: Iterable[_ModelUse], capability: Capability, local: bool) -> set[str]:
    """Model literals whose family serves the capability (any family for local inference
    in a module that runs a model in-process)."""
    found = set()
    for use in uses:
        if capability in use.family.capabilities or (
            local and capability is Capability.LOCAL_INFERENCE
        ):
            found.add(use.literal)
    return found


class _RuntimeLinks:
    """The runtime edges between two different modules, read once: `imports` maps a
    source to its targets among the project's files, `importers` a project module
    (namespace packages included) to its sources."""

    def __init__(self, edges: Sequence[Edge], index: ProjectIndex) -> None:
        self.imports: dict[str, set[str]] = defaultdict(set)
        self.importers: dict[str, set[str]] = defaultdict(set)
        for edge in edges:
            source, target = edge.source, edge.target
            if source == target or target not in index.modules or not edge.is_runtime:
                continue
            self.importers[target].add(source)
            if target in index.files:
                self.imports[source].add(target)


class _Areas(dict[str, str]):
    """`ProjectIndex.area` of each module asked for, computed once (the orchestration rules
    ask it for every importer of every module)."""

    def __init__(self, index: ProjectIndex) -> None:
        super().__init__()
        self.index = index

    def __missing__(self, module: str) -> str:
        area = self[module] = self.index.area(module)
        return area


def _reaching(reverse: Mapping[str, set[str]], targets: Iterable[str]) -> set[str]:
    """Every module with a path of runtime edges to one of `targets`, targets included."""
    seen = set(targets)
    stack = list(seen)
    while stack:
        for source in reverse.get(stack.pop(), ()):
            if source not in seen:
                seen.add(source)
                stack.append(source)
    return seen


def _entry_kind(index: ProjectIndex, module: str, decorator: str) -> str | None:
    qualified = index.qualify(module, decorator)
    if qualified in _CLI_DECORATORS:
        return "cli"
    if qualified in _TASK_DECORATORS:
        return "task"
    receiver, _, verb = qualified.rpartition(".")
    if not receiver:
        return None
    constructor = _receiver_constructor(index, receiver)
    if constructor is None:
        return None
    if verb in _ROUTE_VERBS and constructor in _APP_CONSTRUCTORS:
        return "route"
    if verb in _SOCKET_VERBS and constructor in {"AsyncServer", "Server", "Namespace"}:
        return "route"
    if verb in _CLI_VERBS and constructor in _CLI_CONSTRUCTORS:
        return "cli"
    if verb in _TASK_VERBS and constructor in _TASK_CONSTRUCTORS:
        return "task"
    return None


def _receiver_constructor(index: ProjectIndex, receiver: str) -> str | None:
    """The last name of the constructor of a module-level object (`router` -> APIRouter)."""
    owner = index.owner_module(receiver)
    if owner is None or owner == receiver:
        return None
    name = receiver[len(owner) + 1 :]
    if "." in name:
        return None
    facts = index.facts.get(owner)
    for variable in facts.globals if facts is not None else ():
        if variable.name == name and variable.constructor:
            return variable.constructor.rsplit(".", 1)[-1]
    return None


# --- small helpers ---------------------------------------------------------------------------


def _facts(index: ProjectIndex, module: str) -> FileFacts:
    return index.facts.get(module) or FileFacts(lines=0)


def _capability_order(capability: Capability) -> int:
    return list(Capability).index(capability)


def _ordered(capabilities: Iterable[Capability]) -> tuple[Capability, ...]:
    return tuple(sorted(set(capabilities), key=_capability_order))


def _first_argument(facts: FileFacts, variable: ModuleGlobal) -> str | None:
    for call in facts.calls:
        if call.line == variable.line and call.callee == variable.constructor:
            return call.strings[0] if call.strings else None
    return None


def _instance(constructor: str, argument: str | None) -> str:
    """`openai.OpenAI()`, or `boto3.client(bedrock-runtime)` when the first literal argument
    is a plain token."""
    if argument and re.fullmatch(r"[\w\-]{1,60}", argument):
        return f"{constructor}({argument})"
    return f"{constructor}()"


def _is_dotted(value: str) -> bool:
    return all(part.isidentifier() for part in value.split("."))


def _through_local(callee: str, instances: Sequence[str]) -> list[tuple[str, str | None]]:
    """Candidates for a call on a local name (`client.chat.create`, `self.llm.invoke`):
    each instance built in the same scope, standing for each prefix of the receiver, with
    the instance assumed."""
    parts = callee.split(".")
    return [
        (f"{instance}.{'.'.join(parts[k:])}", instance)
        for instance in instances
        for k in range(1, len(parts))
    ]


def _first_rule(sdk: Sdk, candidate: str, arguments: Sequence[str]) -> CallRule | None:
    for rule in sdk.calls:
        if not glob_matches(rule.pattern, candidate):
            continue
        if rule.argument is not None and not any(
            re.search(rule.argument, argument) for argument in arguments
        ):
            continue
        return rule
    return None


def glob_matches(pattern: str, name: str) -> bool:
    """Whether a dotted name matches a catalogue call pattern (see `CallRule`)."""
    return _match_segments(_split(pattern), tuple(_split(name)))


@lru_cache(maxsize=4096)
def _split(dotted: str) -> tuple[str, ...]:
    """Split on dots outside parentheses: `boto3.client(a.b).x` has three segments."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in dotted:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "." and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return tuple(parts)


@lru_cache(maxsize=65536)
def _match_segments(pattern: tuple[str, ...], name: tuple[str, ...]) -> bool:
    if not pattern:
        return not name
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match_segments(rest, name[i:]) for i in range(len(name) + 1))
    return bool(name) and _segment_matches(head, name[0]) and _match_segments(rest, name[1:])


def _segment_matches(pattern: str, segment: str) -> bool:
    name, _, argument = segment.partition("(")
    is_instance = segment.endswith(")")
    argument = argument[:-1] if is_instance else ""
    for alternative in pattern.split("|"):
        wanted, _, wanted_argument = alternative.partition("(")
        if alternative.endswith(")"):
            wanted_argument = wanted_argument[:-1]
            if (
                is_instance
                and fnmatchcase(name, wanted)
                and (not wanted_argument or wanted_argument == argument)
            ):
                return True
        elif fnmatchcase(name, alternative):
            return True
    return False
