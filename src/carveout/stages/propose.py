"""Propose service boundaries: one service per AI capability, grown with the modules that
exist to serve it, while shared infrastructure stays in the monolith.

Works on the module graph alone (runtime import edges, counted per statement); the surface
of a service is computed from resolved imports by `service_surface`.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from carveout.domain.model import (
    Capability,
    Coupling,
    Edge,
    Metric,
    Module,
    ModuleLabel,
    Placement,
    Proposal,
    Service,
    SurfaceName,
)

logger = logging.getLogger(__name__)

MONOLITH = "monolith"
"""The part name of everything that is not proposed as a service."""

REFINEMENT_PASSES = 20
# a module importing this many packages besides its own wires the application together
COMPOSITION_ROOT_PACKAGES = 6
COMPOSITION_ROOT_FEATURES = 3
"""The most passes the growth step makes over the modules before it stops looking."""

_CAPABILITY_ORDER = {capability: index for index, capability in enumerate(Capability)}

# One word per capability for the names of merged services (`chat_and_embeddings`); a
# service with a single capability is named by the capability's own value.
_SHORT_NAMES = {
    Capability.CHAT: "chat",
    Capability.EMBEDDINGS: "embeddings",
    Capability.IMAGE: "image",
    Capability.VIDEO: "video",
    Capability.SPEECH_TO_TEXT: "transcription",
    Capability.TEXT_TO_SPEECH: "speech",
    Capability.MODERATION: "moderation",
    Capability.RERANKING: "reranking",
    Capability.AGENTS: "agents",
    Capability.LOCAL_INFERENCE: "local_inference",
}


def propose_services(
    modules: Sequence[Module],
    edges: Sequence[Edge],
    labels: Sequence[ModuleLabel],
    couplings: Sequence[Coupling],
    *,
    max_services: int = 5,
    seed: int = 0,
) -> Proposal:
    """Propose at most `max_services` services to carve out; the rest stays in the monolith.

    Contract:
    - Every module named in `modules` gets exactly one `Placement` (duplicates count once);
      edges, labels and couplings naming other modules are ignored for placement.
    - Only runtime edges (`Edge.is_runtime`) between two different project modules count;
      the weight between two modules is the number of such import statements, both ways.
    - Each capability's core (the modules whose label is `direct` for it, and those that
      orchestrate it alone) stays in one service; a capability with no direct module uses
      all its orchestration modules as core.
      Capabilities whose cores share a module form one service; when more capabilities than
      `max_services` remain, the pair with the most import statements between their cores
      is merged until the cap holds (ties: fewer core modules, then names).
    - A module outside every core joins the service that gets most of its weight when more
      than half of its weight goes there, no other service imports it, and the monolith
      does not import it more than that service does. A module labelled only as
      orchestration may join only a service carrying one of its capabilities.
    - `max_services=0` proposes no service; a negative value raises `ValueError`.
    - `surface` is left empty (see `service_surface`); blockers come from couplings and
      edges. No step draws random numbers, so `seed` does not change the result; it is
      accepted so the pipeline can pass one seed to every stage.

    Output tuples are sorted (services by name, modules and placements by module name), so
    the same input in any order gives the same `Proposal`.
    """
    if max_services < 0:
        raise ValueError(f"max_services must be 0 or more, got {max_services}")
    logger.debug("proposing at most %d services (seed %d)", max_services, seed)

    # Plain inputs: sorted module names, statement counts per pair, capabilities per module.
    edges = tuple(edges)
    names = sorted({module.name for module in modules})
    graph = _ImportGraph.build(names, edges)
    capabilities = _Labels.build(names, labels)

    # Seeds: one group per capability, merged where cores share a module, then to the cap.
    roots = _composition_roots(names, graph, capabilities)
    groups = _merge_to_cap(_seed_groups(capabilities, roots), graph, max_services)

    # Growth: every other module is placed by its import statements, until stable.
    part_of, reasons = _place_modules(names, graph, groups, capabilities, max_services)
    for module, areas in sorted(roots.items()):
        if part_of[module] == MONOLITH and module in capabilities.direct:
            called = " and ".join(c.value for c in _in_order(capabilities.direct[module]))
            reasons[module] = (
                f"stays in the monolith: a composition root that imports {areas} packages; "
                f"its own {called} calls should go through the services' facades"
            )

    # Services with their blockers, and the metrics of the whole partition.
    crossing = [
        (source, target, weight)
        for (source, target), weight in graph.weights.items()
        if part_of[source] != part_of[target]
    ]
    services = tuple(
        Service(
            name=group.name,
            modules=tuple(sorted(m for m in names if part_of[m] == group.name)),
            ai_capabilities=group.capabilities,
            surface=(),
            blockers=_blockers(group.name, part_of, crossing, couplings),
        )
        for group in sorted(groups, key=lambda g: g.name)
    )
    return Proposal(
        services=services,
        monolith=tuple(m for m in names if part_of[m] == MONOLITH),
        placements=tuple(Placement(m, part_of[m], reasons[m]) for m in names),
        metrics=_metrics(part_of, graph),
    )


def partition_metrics(part_of: Mapping[str, str], edges: Iterable[Edge]) -> tuple[Metric, ...]:
    """Measure a partition of modules into parts: ICP, SM and the part counts.

    `part_of` maps every module to its part (a service name or `MONOLITH`); only runtime
    edges between two different modules of `part_of` count. Empty parts do not exist here,
    so when every module is in a service the monolith is not a part. Values are rounded to
    4 decimals; ICP is 0.0 without edges and SM is 0.0 without modules.
    """
    return _metrics(part_of, _ImportGraph.build(sorted(part_of), edges))


def service_surface(
    service_modules: set[str],
    imports_by_module: Mapping[str, Sequence[tuple[str, str | None, int]]],
) -> tuple[SurfaceName, ...]:
    """The names that modules outside a service import from it.

    `imports_by_module` maps an importing module to its resolved imports as
    (target module, imported name or None, line). Entries of modules inside the service are
    skipped. `import x.y` (name None) puts the module itself on the surface as name "*",
    as does `from pkg import sub` whenever `pkg.sub` is a service module (a submodule wins
    over a same-named attribute of `pkg`); a star import gives name "*". The result is
    sorted by (module, name), with `used_by` sorted and deduplicated.
    """
    users: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for importer, imports in imports_by_module.items():
        if importer in service_modules:
            continue
        for target, name, _line in imports:
            if name and f"{target}.{name}" in service_modules:
                users[(f"{target}.{name}", "*")].add(importer)
            elif target in service_modules:
                users[(target, name or "*")].add(importer)
    return tuple(
        SurfaceName(module=module, name=name, used_by=tuple(sorted(importers)))
        for (module, name), importers in sorted(users.items())
    )


# --- the module graph ------------------------------------------------------------------


@dataclass(frozen=True)
class _ImportGraph:
    """Runtime import statements between project modules, counted per (source, target).

    The order of the mappings is not defined: every use sums, sorts or picks by a key.
    """

    weights: Mapping[tuple[str, str], int]
    imports: Mapping[str, Mapping[str, int]]  # what a module imports, how many times
    importers: Mapping[str, Mapping[str, int]]  # who imports a module, how many times

    @classmethod
    def build(cls, names: Sequence[str], edges: Iterable[Edge]) -> _ImportGraph:
        known = set(names)
        # Counter counts an iterable in C (no Python-level `+=` per import statement)
        counted = Counter(
            (edge.source, edge.target)
            for edge in edges
            if not edge.external and edge.source != edge.target and edge.is_runtime
        )
        weights: dict[tuple[str, str], int] = {}
        imports: defaultdict[str, dict[str, int]] = defaultdict(dict)
        importers: defaultdict[str, dict[str, int]] = defaultdict(dict)
        for (source, target), weight in counted.items():
            if source in known and target in known:
                weights[(source, target)] = weight
                imports[source][target] = weight
                importers[target][source] = weight
        if len(weights) < len(counted):
            ignored = sum(counted.values()) - sum(weights.values())
            logger.debug("ignored %d runtime edges naming modules outside the project", ignored)
        return cls(weights=weights, imports=imports, importers=importers)

    def neighbours(self, module: str) -> Iterator[tuple[str, int]]:
        """(other module, import statements) for each module that `module` imports or is
        imported by; a module both importing it and imported by it comes twice."""
        yield from self.imports.get(module, {}).items()
        yield from self.importers.get(module, {}).items()

    def between(self, left: Iterable[str], right: frozenset[str]) -> int:
        """Import statements between two module sets, both directions."""
        return sum(
            weight
            for module in left
            for other, weight in self.neighbours(module)
            if other in right
        )


def _composition_roots(
    names: Sequence[str], graph: _ImportGraph, labels: _Labels
) -> dict[str, int]:
    """Modules that wire the application together (an app factory, a `main`): their
    runtime imports reach at least `COMPOSITION_ROOT_PACKAGES` packages besides their own,
    and modules of at least `COMPOSITION_ROOT_FEATURES` AI capabilities besides its own. They
    never seed a service, whatever AI calls they make. Returns module -> packages."""
    main = {module: labels.main_capability(module) for module in labels.direct}
    roots = {}
    for module in names:
        targets = graph.imports.get(module, {})
        # the capabilities first: few modules import three AI modules
        features = {main[t] for t in targets if t in main}
        features -= {None, main.get(module)}
        if len(features) < COMPOSITION_ROOT_FEATURES:
            continue
        packages = {_package_of(t) for t in targets} - {_package_of(module)}
        if len(packages) >= COMPOSITION_ROOT_PACKAGES:
            roots[module] = len(packages)
    return roots


def _package_of(module: str) -> str:
    """The package a module belongs to for wiring counts: its first two name parts."""
    return ".".join(module.split(".")[:2])


# --- metrics ---------------------------------------------------------------------------


def _metrics(part_of: Mapping[str, str], graph: _ImportGraph) -> tuple[Metric, ...]:
    """ICP, SM and the counts of `partition_metrics`, on an already built graph."""
    sizes = Counter(part_of.values())
    inside, between = _statement_counts(part_of, graph)
    total = sum(graph.weights.values())
    cross = sum(between.values())
    icp = cross / total if total else 0.0

    parts = sorted(sizes)
    count = len(parts)
    cohesion = sum(inside[p] / sizes[p] ** 2 for p in parts) / count if count else 0.0
    coupling = 0.0
    if count > 1:
        pair_sum = sum(
            weight / (2 * sizes[a] * sizes[b]) for (a, b), weight in sorted(between.items())
        )
        coupling = pair_sum / (count * (count - 1) / 2)

    services = [p for p in parts if p != MONOLITH]
    return (
        Metric(
            name="ICP",
            value=_rounded(icp),
            definition=(
                "Inter-partition call percentage: import statements that cross from one part "
                "to another, divided by all import statements between project modules "
                f"({cross} of {total}); parts are the services plus the monolith."
            ),
            better="lower",
        ),
        Metric(
            name="SM",
            value=_rounded(cohesion - coupling),
            definition=(
                "Structural modularity: (1/K)·Σ μ_i/N_i² − [Σ_{i<j} σ_ij/(2·N_i·N_j)] / "
                "(K(K−1)/2), where K is the number of parts, μ_i the import statements "
                "inside part i, σ_ij those between parts i and j (both ways) and N_i the "
                "modules in part i; the first term rewards dense parts, the second penalises "
                f"imports between them (K = {count}; the cohesion term alone when K = 1)."
            ),
            better="higher",
        ),
        Metric(
            name="services",
            value=float(len(services)),
            definition="Number of proposed services (the monolith is not counted).",
            better="neither",
        ),
        Metric(
            name="modules_in_services",
            value=float(sum(sizes[p] for p in services)),
            definition="Number of modules placed in a proposed service.",
            better="neither",
        ),
        Metric(
            name="modules_in_monolith",
            value=float(sizes[MONOLITH]),
            definition="Number of modules that stay in the monolith.",
            better="neither",
        ),
    )


def _statement_counts(
    part_of: Mapping[str, str], graph: _ImportGraph
) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    """Import statements inside each part, and between each pair of parts (sorted)."""
    inside: Counter[str] = Counter()
    between: Counter[tuple[str, str]] = Counter()

    def count(first: str, second: str, weight: int) -> None:
        if first == second:
            inside[first] += weight
        else:
            between[(first, second) if first < second else (second, first)] += weight

    # Most pairs of a big project join two monolith modules: count the pairs with a module
    # outside the monolith (from its imports, and from its monolith importers), and the
    # monolith's own statements as what is left.
    for module, part in part_of.items():
        if part == MONOLITH:
            continue
        for target, weight in graph.imports.get(module, {}).items():
            count(part, part_of[target], weight)
        for source, weight in graph.importers.get(module, {}).items():
            if part_of[source] == MONOLITH:
                count(MONOLITH, part, weight)
    left = sum(graph.weights.values()) - sum(inside.values()) - sum(between.values())
    if left:
        inside[MONOLITH] += left
    return inside, between


# --- seeds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """Capabilities that will form one service, with their core modules."""

    capabilities: tuple[Capability, ...]
    core: frozenset[str]
    notes: tuple[str, ...] = ()  # why capabilities were merged

    @cached_property
    def name(self) -> str:
        """`chat`, `chat_and_embeddings`, `chat_embeddings_and_image`: a valid identifier."""
        if len(self.capabilities) == 1:
            return self.capabilities[0].value
        words = [_SHORT_NAMES.get(c, c.value) for c in self.capabilities]
        return "_".join(words[:-1]) + "_and_" + words[-1]

    def merged_with(self, other: _Group, note: str) -> _Group:
        return _Group(
            capabilities=_in_order({*self.capabilities, *other.capabilities}),
            core=self.core | other.core,
            notes=(*self.notes, *other.notes, note),
        )


@dataclass(frozen=True)
class _Labels:
    """Capabilities per module: those it calls a provider for, those it orchestrates."""

    direct: Mapping[str, frozenset[Capability]]
    orchestrating: Mapping[str, frozenset[Capability]]
    # for a module calling providers of several capabilities: the one it calls most
    dominant: Mapping[str, Capability] = field(default_factory=dict)

    @classmethod
    def build(cls, names: Sequence[str], labels: Iterable[ModuleLabel]) -> _Labels:
        known = set(names)
        direct: defaultdict[str, set[Capability]] = defaultdict(set)
        orchestrating: defaultdict[str, set[Capability]] = defaultdict(set)
        calls: defaultdict[str, Counter[Capability]] = defaultdict(Counter)
        for label in labels:
            if label.module not in known:
                logger.debug("ignored the label of %s: not a project module", label.module)
                continue
            (direct if label.direct else orchestrating)[label.module].update(label.capabilities)
            if label.direct:
                for capability, count in zip(label.capabilities, label.strength, strict=False):
                    calls[label.module][capability] += count
        dominant = {}
        for module, capabilities in direct.items():
            counted = calls.get(module)
            if len(capabilities) > 1 and counted:
                order = list(Capability)
                dominant[module] = min(capabilities, key=lambda c: (-counted[c], order.index(c)))
        return cls(
            dominant=dominant,
            direct={m: frozenset(c) for m, c in direct.items() if c},
            orchestrating={
                m: frozenset(c - direct.get(m, set()))
                for m, c in orchestrating.items()
                if c - direct.get(m, set())
            },
        )

    def main_capability(self, module: str) -> Capability | None:
        """The capability a module calls a provider for (its dominant one), if any."""
        called = self.direct.get(module)
        if not called:
            return None
        return self.dominant.get(module) or _in_order(called)[0]

    @property
    def direct_capabilities(self) -> frozenset[Capability]:
        return frozenset().union(*self.direct.values())

    def seed_sentence(self, module: str, capabilities: Iterable[Capability]) -> str:
        """Why `module` is in the core of a service carrying `capabilities`."""
        called = _in_order(set(capabilities) & self.direct.get(module, frozenset()))
        served = set(capabilities) & self.orchestrating.get(module, frozenset())
        orchestrated = _in_order(served - self.direct_capabilities)
        serving = _in_order(served & self.direct_capabilities)
        sentences = []
        if called:
            kind = " and ".join(c.value for c in called)
            sentences.append(
                f"calls {kind} providers directly"
                if len(called) > 1
                else f"calls {_article(kind)} {kind} provider directly"
            )
        if serving:
            kind = " and ".join(c.value for c in serving)
            sentences.append(f"exists only to serve {kind} (orchestration)")
        if orchestrated:
            kind = " and ".join(c.value for c in orchestrated)
            whose = "their providers" if len(orchestrated) > 1 else "its provider"
            sentences.append(f"orchestrates {kind}, and no module calls {whose} directly")
        return "; ".join(sentences)


def _seed_groups(labels: _Labels, roots: Mapping[str, int]) -> list[_Group]:
    """One group per capability, merged where cores share a module (a module has one part).

    A capability's core is its direct modules and the modules that orchestrate it alone;
    a module orchestrating several capabilities joins a core only when no module calls
    that capability's provider directly.
    """
    cores: defaultdict[Capability, set[str]] = defaultdict(set)
    for module, capabilities in labels.direct.items():
        if module in roots:
            continue
        if module in labels.dominant:
            cores[labels.dominant[module]].add(module)
            continue
        for capability in capabilities:
            cores[capability].add(module)
    called = labels.direct_capabilities
    for module, capabilities in labels.orchestrating.items():
        if module in labels.direct or module in roots:
            continue
        # a module that exists only to serve one capability moves with it
        if len(capabilities) == 1:
            cores[next(iter(capabilities))].add(module)
            continue
        for capability in capabilities - called:
            cores[capability].add(module)

    groups: list[_Group] = []
    for capability in _in_order(cores):
        group = _Group(capabilities=(capability,), core=frozenset(cores[capability]))
        for other in [g for g in groups if g.core & group.core]:
            groups.remove(other)
            shared = sorted(other.core & group.core)
            note = (
                f"{other.name} and {capability.value} share core "
                f"{_plural(len(shared), 'module')} {_listed(shared)}, so they form one service"
            )
            group = other.merged_with(group, note)
        groups.append(group)
    return groups


def _merge_to_cap(groups: list[_Group], graph: _ImportGraph, max_services: int) -> list[_Group]:
    """Merge the most connected pair of groups until at most `max_services` remain.

    Ties go to the pair with fewer core modules, then to the first pair by name.
    """
    if max_services == 0:
        return []
    groups = sorted(groups, key=lambda g: g.name)
    while len(groups) > max_services:
        count = len(groups)
        negative_weight, _size, left, right = min(
            (-graph.between(a.core, b.core), len(a.core) + len(b.core), a.name, b.name)
            for index, a in enumerate(groups)
            for b in groups[index + 1 :]
        )
        first = next(g for g in groups if g.name == left)
        second = next(g for g in groups if g.name == right)
        if negative_weight:
            why = (
                f"their cores share {_plural(-negative_weight, 'import statement')}, "
                "the most of any pair"
            )
        else:
            why = "no two cores are connected, so the smallest pair was merged"
        note = (
            f"{left} and {right} were merged to hold max_services={max_services} "
            f"({count} candidate services before): {why}"
        )
        logger.debug("merge: %s", note)
        rest = [g for g in groups if g is not first and g is not second]
        groups = sorted([*rest, first.merged_with(second, note)], key=lambda g: g.name)
    return groups


# --- growth ----------------------------------------------------------------------------


class _Decision(NamedTuple):  # made for every module: a tuple is cheaper than a dataclass
    part: str
    reason: str


def _place_modules(
    names: Sequence[str],
    graph: _ImportGraph,
    groups: Sequence[_Group],
    labels: _Labels,
    max_services: int,
) -> tuple[dict[str, str], dict[str, str]]:
    """Place cores in their services, then grow services pass by pass in sorted order.

    Returns the part of every module and the reason sentence for it.
    """
    part_of = dict.fromkeys(names, MONOLITH)
    reasons: dict[str, str] = {}
    if max_services == 0:
        for module in names:
            called = labels.direct.get(module)
            seed = f" ({labels.seed_sentence(module, called)})" if called else ""
            reasons[module] = (
                f"stays in the monolith: max_services=0, so no service is proposed{seed}"
            )
        return part_of, reasons

    # Cores first: they never move.
    for group in groups:
        merges = "".join(f"; {note}" for note in group.notes)
        for module in sorted(group.core):
            part_of[module] = group.name
            seed = labels.seed_sentence(module, group.capabilities)
            reasons[module] = f"seed of {group.name}: {seed}{merges}"

    # Which services each other module may join: orchestration only its capabilities'.
    every_service = tuple(g.name for g in groups)
    allowed: dict[str, tuple[str, ...]] = {}
    for module in names:
        if module not in reasons:
            orchestrated = labels.orchestrating.get(module)
            allowed[module] = (
                tuple(g.name for g in groups if orchestrated & set(g.capabilities))
                if orchestrated
                else every_service
            )

    # Refinement: re-decide every module in sorted order until a pass changes nothing.
    # A module in the monolith with no neighbour in a service stays there: only modules
    # next to a service need the full decision (on a big monolith, few are).
    in_services = {module for module, part in part_of.items() if part != MONOLITH}
    settled = False
    for index in range(REFINEMENT_PASSES):
        moved = 0
        for module, services in allowed.items():
            if (
                part_of[module] == MONOLITH
                and in_services.isdisjoint(graph.imports.get(module, ()))
                and in_services.isdisjoint(graph.importers.get(module, ()))
            ):
                continue
            decision = _decide(module, part_of, graph, services, in_services)
            if decision.part != part_of[module]:
                part_of[module] = decision.part
                if decision.part == MONOLITH:
                    in_services.discard(module)
                else:
                    in_services.add(module)
                moved += 1
        logger.debug("growth pass %d moved %d modules", index + 1, moved)
        if not moved:
            settled = True
            break
    if not settled:
        logger.info("growth did not settle after %d passes", REFINEMENT_PASSES)

    # Packages move with their modules: an `__init__` no import statement ties elsewhere
    # follows its submodules when they all went to one service.
    _packages_follow_children(names, part_of, reasons, graph, allowed)

    # Reasons from the final placement, so their numbers describe what was proposed.
    in_services = {module for module, part in part_of.items() if part != MONOLITH}
    for module, services in allowed.items():
        if module in reasons:
            continue
        decision = _decide(module, part_of, graph, services, in_services)
        reason = decision.reason
        if decision.part != part_of[module]:
            where = "the monolith" if part_of[module] == MONOLITH else part_of[module]
            reason = (
                f"left in {where} when {REFINEMENT_PASSES} refinement passes did not settle; "
                f"now it would go to {decision.part}: {reason}"
            )
        orchestrated = labels.orchestrating.get(module)
        if orchestrated:
            reason += f" (orchestrates {' and '.join(c.value for c in _in_order(orchestrated))})"
        reasons[module] = reason
    return part_of, reasons


def _packages_follow_children(
    names: Sequence[str],
    part_of: dict[str, str],
    reasons: dict[str, str],
    graph: _ImportGraph,
    allowed: Mapping[str, tuple[str, ...]],
) -> None:
    """Place a package with its submodules when they all sit in one service and no runtime
    import statement ties the package itself to another part (deepest packages first)."""
    children: defaultdict[str, list[str]] = defaultdict(list)
    for module in names:
        parent = module.rpartition(".")[0]
        if parent:
            children[parent].append(module)
    for package in sorted(children, key=lambda p: (-p.count("."), p)):
        if package not in allowed or part_of.get(package, MONOLITH) != MONOLITH:
            continue
        parts = {part_of[c] for c in children[package]}
        if len(parts) != 1 or MONOLITH in parts:
            continue
        service = parts.pop()
        tied = {part_of[n] for n, _ in graph.neighbours(package)} - {service}
        if tied or service not in allowed[package]:
            continue
        part_of[package] = service
        reasons[package] = (
            f"joined {service}: all {_plural(len(children[package]), 'submodule')} of this "
            "package are in it, and no import statement ties the package elsewhere"
        )


def _decide(
    module: str,
    part_of: Mapping[str, str],
    graph: _ImportGraph,
    allowed: Sequence[str],
    in_services: AbstractSet[str],
) -> _Decision:
    """Where `module` belongs given where its neighbours are now, and why.

    `in_services` holds the modules whose part is a service, as `part_of` says.
    """
    imports, importers = graph.imports.get(module, {}), graph.importers.get(module, {})
    if in_services.isdisjoint(imports) and in_services.isdisjoint(importers):
        # every neighbour is in the monolith (most modules of a big one): no count by part
        statements = sum(imports.values()) + sum(importers.values())
        weight_to = {MONOLITH: statements} if statements else {}
    else:
        weight_to = _weight_by_part(part_of, imports, importers)
    total = sum(weight_to.values())
    if not total:
        return _Decision(
            MONOLITH,
            "stays in the monolith: no runtime import statement connects it to another module",
        )
    candidates = [s for s in allowed if s in weight_to]
    if not candidates:
        return _Decision(
            MONOLITH,
            f"stays in the monolith: none of its {_plural(total, 'import statement')} "
            "connects it to a service it may join",
        )
    used_by = Counter(_weight_by_part(part_of, graph.importers.get(module, {})))
    user_parts = sorted(used_by)
    best = min(candidates, key=lambda s: (-weight_to[s], s))
    verb = "connects" if total == 1 else "connect"
    share = f"{weight_to[best]} of {_plural(total, 'import statement')} {verb} it to {best}"
    joined = f"{weight_to[best]} of {_plural(total, 'import statement')} {verb} it to the service"
    shared = f"used by {len(user_parts)} parts (shared infrastructure: {_listed(user_parts)})"

    # Shared: another service imports it too.
    other_services = [p for p in user_parts if p not in (best, MONOLITH)]
    if other_services and len(user_parts) > 1:
        return _Decision(MONOLITH, f"stays in the monolith: {shared}")
    if other_services:
        return _Decision(
            MONOLITH, f"stays in the monolith: imported by {other_services[0]}, while {share}"
        )

    # Most of its weight must go to the service, and the monolith may not use it more.
    if 2 * weight_to[best] <= total:
        suffix = f"; {shared}" if len(user_parts) > 1 else ""
        return _Decision(MONOLITH, f"stays in the monolith: only {share}{suffix}")
    if used_by[MONOLITH] > used_by[best]:
        return _Decision(
            MONOLITH,
            f"stays in the monolith: the monolith imports it "
            f"{_plural(used_by[MONOLITH], 'time')}, {best} only {used_by[best]}, "
            f"although {share}",
        )
    return _Decision(
        best,
        f"joined {best}: {joined}, which imports it {_plural(used_by[best], 'time')} "
        f"(the monolith {_plural(used_by[MONOLITH], 'time')})",
    )


def _weight_by_part(part_of: Mapping[str, str], *weights: Mapping[str, int]) -> dict[str, int]:
    """The weights of modules summed per part of the module (parts with none left out)."""
    by_part: dict[str, int] = {}
    for mapping in weights:
        for other, weight in mapping.items():
            part = part_of[other]
            by_part[part] = by_part.get(part, 0) + weight
    return by_part


# --- blockers --------------------------------------------------------------------------


def _blockers(
    service: str,
    part_of: Mapping[str, str],
    crossing: Iterable[tuple[str, str, int]],
    couplings: Iterable[Coupling],
) -> tuple[str, ...]:
    """Sentences naming what stands in the way of carving `service` out. `crossing` holds
    the (source, target, statements) of the module pairs in two different parts."""
    members = {m for m, part in part_of.items() if part == service}
    sentences: set[str] = set()

    # Couplings with one foot inside the service and one outside.
    for coupling in couplings:
        if members.isdisjoint(coupling.modules):
            continue
        involved = set(coupling.modules)
        outside = sorted(involved - members)
        if outside:
            sentences.add(
                f"{coupling.kind} with {_listed(outside)} ({_plural(len(involved), 'module')})"
            )

    # Import statements crossing the boundary, both ways.
    reaching_in: Counter[str] = Counter()
    reaching_out: Counter[str] = Counter()
    reached: defaultdict[str, set[str]] = defaultdict(set)
    for source, target, weight in crossing:
        if part_of[target] == service:
            reaching_in[part_of[source]] += weight
        elif part_of[source] == service:
            reaching_out[part_of[target]] += weight
            reached[part_of[target]].add(target)
    for part, weight in reaching_in.items():
        origin = "the monolith" if part == MONOLITH else part
        sentences.add(
            f"{_plural(weight, 'import statement')} from {origin} reach its internals"
            if weight > 1
            else f"1 import statement from {origin} reaches its internals"
        )
    for part, weight in reaching_out.items():
        target = "the monolith" if part == MONOLITH else part
        sentences.add(
            f"it makes {_plural(weight, 'import statement')} into {target} "
            f"({_plural(len(reached[part]), 'module')}: {_listed(sorted(reached[part]))})"
        )
    return tuple(sorted(sentences))


# --- wording ---------------------------------------------------------------------------


def _in_order(capabilities: Iterable[Capability]) -> tuple[Capability, ...]:
    """Capabilities in the catalogue's order, which also orders merged service names."""
    return tuple(sorted(capabilities, key=lambda c: _CAPABILITY_ORDER[c]))


def _rounded(value: float) -> float:
    """Four decimals, and never -0.0 (adding 0.0 turns it into 0.0)."""
    return round(value, 4) + 0.0


def _article(word: str) -> str:
    return "an" if word[:1] in ("a", "e", "i", "o", "u") else "a"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _listed(names: Sequence[str], limit: int = 3) -> str:
    """`a, b, c` or `a, b, c and 4 more`."""
    shown = ", ".join(names[:limit])
    rest = len(names) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown
