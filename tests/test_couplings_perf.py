"""The speed-ups of the coupling detectors and the boundary proposal give what the plain
versions gave: the filters that spare most calls and imports a look-up, the prefix walks,
the one-pass readers of shared state, and the cheap paths of the growth step."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from carveout.domain.facts import MUTATING_METHODS
from carveout.domain.model import Capability, Edge, ModuleLabel
from carveout.domain.settings import Settings
from carveout.stages.couplings import (
    _CONNECT_VERBS,
    _SEND_VERBS,
    _Finder,
    _prefixes,
    _private_parts,
    _proper_prefixes,
    _starting_with,
)
from carveout.stages.discover import discover
from carveout.stages.graph import build_graph, find_cycles
from carveout.stages.propose import (
    MONOLITH,
    _blockers,
    _decide,
    _ImportGraph,
    _listed,
    _plural,
    _statement_counts,
    propose_services,
)
from carveout.stages.resolve import ProjectIndex
from carveout.stages.scan import scan_source
from helpers_propose import modules

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "shopwise"


@pytest.fixture(scope="module")
def sample() -> tuple[ProjectIndex, _Finder]:
    """The sample's index and a coupling finder over it (the detectors not yet run)."""
    project = discover(SAMPLE, Settings())
    facts = {f.module: scan_source((SAMPLE / f.path).read_bytes()) for f in project.files}
    index = ProjectIndex(project, facts)
    graph = build_graph(index)
    finder = _Finder(index, graph.edges, find_cycles(graph.edges), (), None, frozenset())
    return index, finder


def dotted_names(count: int, seed: int) -> list[str]:
    """Dotted names with private, dunder and empty parts and leading or trailing dots."""
    rng = random.Random(seed)
    parts = ["a", "b", "_c", "__d__", "_", "e_", "", "x_y", "__init__"]
    return [".".join(rng.choices(parts, k=rng.randint(1, 6))) for _ in range(count)]


# --- couplings: names -----------------------------------------------------------------------


def test_proper_prefixes_are_the_prefixes_without_the_name() -> None:
    for name in dotted_names(3000, seed=1):
        assert list(_proper_prefixes(name)) == _prefixes(name)[1:], name


def test_a_name_with_a_private_part_contains_a_dot_underscore() -> None:
    names = dotted_names(3000, seed=2)
    assert any(_private_parts(n) for n in names) and any(not _private_parts(n) for n in names)
    for name in names:
        if _private_parts(name):
            assert "._" in name, name


def test_starting_with_is_the_plain_filter() -> None:
    rng = random.Random(3)
    names = sorted(set(dotted_names(400, seed=3)))
    for prefix in [*rng.sample(names, 60), "", "a.", "_c", "zz", "a._c."]:
        assert list(_starting_with(names, prefix)) == [n for n in names if n.startswith(prefix)]


# --- couplings: what the filters skip -------------------------------------------------------


def test_a_chain_whose_root_the_module_does_not_bind_qualifies_to_itself(
    sample: tuple[ProjectIndex, _Finder],
) -> None:
    """`_CallsToCheck.reaching` leaves out dotted calls whose root is neither bound by the
    module nor a top-level package of the project: their qualified name is the chain."""
    index, finder = sample
    skipped = 0
    for module in finder.modules:
        bound = index.bindings(module)
        reaching = finder.calls_to_check(module).reaching
        for call in index.facts[module].calls:
            root = call.callee.split(".")[0]
            if "." in call.callee and root not in bound and root not in index.top_levels:
                assert call not in reaching
                assert index.qualify(module, call.callee) == call.callee
                skipped += 1
    assert skipped > 20


def test_a_third_party_name_follows_to_itself(sample: tuple[ProjectIndex, _Finder]) -> None:
    """`_ImportsToCheck.tracked` leaves out imports of third-party names unfollowed."""
    index, finder = sample
    third_party = 0
    for module in finder.modules:
        for fact in index.facts[module].imports:
            resolved = index.resolve_import(module, fact)
            if resolved.external is not None and (
                resolved.qualified.split(".")[0] not in index.top_levels
            ):
                assert index.follow_reexports(resolved.qualified) == resolved.qualified
                third_party += 1
    assert third_party > 20


def test_the_sorted_out_calls_hold_every_call_a_detector_reads(
    sample: tuple[ProjectIndex, _Finder],
) -> None:
    """The detectors once split every callee: mutating and signal calls are those with a
    receiver and a last part among the methods or verbs they look for."""
    index, finder = sample
    verbs = _CONNECT_VERBS | _SEND_VERBS
    signalled = 0
    for module in finder.modules:
        calls = finder.calls_to_check(module)
        split = [(c, *c.callee.rpartition(".")) for c in index.facts[module].calls]
        for bucket, wanted in ((calls.mutating, MUTATING_METHODS), (calls.signalling, verbs)):
            assert [c for c in bucket if c.callee.rpartition(".")[0]] == [
                c for c, receiver, _, last in split if receiver and last in wanted
            ]
        signalled += len(calls.signalling)
    assert signalled > 0


def test_one_pass_readers_are_the_per_state_scans(sample: tuple[ProjectIndex, _Finder]) -> None:
    """`_state_readers` finds, for every state at once, the reads the plain loop found for
    one state at a time: a qualified read equal to the state or inside it."""
    index, finder = sample
    reads = [
        (module, ref, index.qualify(module, ref.chain))
        for module in finder.modules
        for ref in index.facts[module].attribute_refs
    ]
    assert len(reads) > 10
    states = {prefix for _, _, name in reads for prefix in _prefixes(name)}
    states |= {name + ".missing" for _, _, name in reads[:5]}
    found = finder._state_readers(states)
    for state in states:
        plain = [
            (module, ref.line, ref.chain)
            for module, ref, name in reads
            if name == state or name.startswith(state + ".")
        ]
        assert found.get(state, []) == plain, state


# --- proposal ------------------------------------------------------------------------------


def random_graph(seed: int) -> tuple[list[str], list[Edge], dict[str, str], list[str]]:
    """Modules, import edges, a random placement of them, and the service names."""
    rng = random.Random(seed)
    names = sorted({f"p{rng.randint(0, 4)}.m{rng.randint(0, 30)}" for _ in range(60)})
    edges = [
        Edge(source, target, line)
        for line in range(1, 160)
        for source, target in [rng.sample(names, 2)]
    ]
    services = ["chat", "image_generation"]
    part_of = {m: rng.choice([MONOLITH, MONOLITH, MONOLITH, *services]) for m in names}
    return names, edges, part_of, services


@pytest.mark.parametrize("seed", range(12))
def test_the_decision_without_neighbours_in_services_is_the_counted_one(seed: int) -> None:
    """The cheap path of `_decide` (no neighbour in a service) and the refinement's skip
    (a monolith module with no neighbour in a service stays) agree with counting."""
    names, edges, part_of, services = random_graph(seed)
    graph = _ImportGraph.build(names, edges)
    in_services = {m for m, part in part_of.items() if part != MONOLITH}
    everything = set(names)  # never disjoint from a module's neighbours: always counts
    for module in names:
        for allowed in (services, services[:1], ()):
            fast = _decide(module, part_of, graph, allowed, in_services)
            assert fast == _decide(module, part_of, graph, allowed, everything)
            neighbours = {*graph.imports.get(module, {}), *graph.importers.get(module, {})}
            if neighbours.isdisjoint(in_services):
                assert fast.part == MONOLITH


def plain_blockers(service: str, part_of: dict[str, str], graph: _ImportGraph) -> tuple[str, ...]:
    """The blockers of `service` (no couplings) as first written: every pair of modules,
    tested by membership of the service."""
    members = {m for m, part in part_of.items() if part == service}
    reaching_in: Counter[str] = Counter()
    reaching_out: Counter[str] = Counter()
    reached: dict[str, set[str]] = {}
    for (source, target), weight in graph.weights.items():
        if target in members and source not in members:
            reaching_in[part_of[source]] += weight
        elif source in members and target not in members:
            reaching_out[part_of[target]] += weight
            reached.setdefault(part_of[target], set()).add(target)
    sentences = set()
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


@pytest.mark.parametrize("seed", range(12))
def test_blockers_from_crossing_pairs_are_those_of_every_pair(seed: int) -> None:
    names, edges, part_of, services = random_graph(seed)
    graph = _ImportGraph.build(names, edges)
    crossing = [(s, t, w) for (s, t), w in graph.weights.items() if part_of[s] != part_of[t]]
    for service in services:
        plain = plain_blockers(service, part_of, graph)
        assert plain
        assert _blockers(service, part_of, crossing, ()) == plain


@pytest.mark.parametrize("seed", range(8))
def test_the_proposal_does_not_depend_on_the_order_of_edges_or_labels(seed: int) -> None:
    names, edges, _, _ = random_graph(seed)
    rng = random.Random(seed)
    capabilities = list(Capability)
    labels = [
        ModuleLabel(m, (rng.choice(capabilities),), direct=rng.random() < 0.7)
        for m in rng.sample(names, 12)
    ]
    proposal = propose_services(modules(*names), edges, labels, (), max_services=3)
    assert Counter(p.part for p in proposal.placements)[MONOLITH] < len(names)
    for _ in range(3):
        rng.shuffle(edges)
        rng.shuffle(labels)
        assert propose_services(modules(*names), edges, labels, (), max_services=3) == proposal


@pytest.mark.parametrize("seed", range(12))
def test_statement_counts_are_those_of_every_pair(seed: int) -> None:
    """Counting from the modules outside the monolith, with the monolith's own statements
    as what is left, gives the counts of a walk over every pair (any part names)."""
    names, edges, part_of, services = random_graph(seed)
    graph = _ImportGraph.build(names, edges)
    rng = random.Random(seed)
    partitions = [
        part_of,
        dict.fromkeys(names, MONOLITH),
        {m: rng.choice(services) for m in names},
        {m: rng.choice(["a", "b", MONOLITH, "zz"]) for m in names},
    ]
    for parts in partitions:
        inside: Counter[str] = Counter()
        between: Counter[tuple[str, str]] = Counter()
        for (source, target), weight in graph.weights.items():
            first, second = sorted((parts[source], parts[target]))
            if first == second:
                inside[first] += weight
            else:
                between[(first, second)] += weight
        assert _statement_counts(parts, graph) == (inside, between)
