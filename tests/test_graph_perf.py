"""The graph stage's fast paths give what the plain versions give: cycles found on numbered
adjacency lists with bit-set searches, edges kept as field tuples, resolution memoised by
what an answer depends on, and the edge order and runtime test of the domain."""

from __future__ import annotations

import itertools
import random
from collections import deque
from pathlib import Path

import networkx as nx
import pytest

from carveout.domain.facts import Confidence, Guard, ImportFact, Origin, Scope
from carveout.domain.model import Cycle, Edge
from carveout.domain.settings import Settings
from carveout.stages.discover import discover
from carveout.stages.graph import (
    _bits,
    _components,
    _Digraph,
    _predecessors,
    _search_back,
    _successor_sets,
    build_graph,
    find_cycles,
)
from carveout.stages.resolve import ProjectIndex
from carveout.stages.scan import scan_source
from helpers_graph import analyse, write_tree
from test_fast_paths import reference_breaking_edges, reference_shortest_cycle

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "shopwise"
IMPORT_TIME = {Scope.MODULE, Scope.CONDITIONAL, Scope.CLASS}


def reference_cycles(edges: list[Edge]) -> tuple[Cycle, ...]:
    """The plain version of `find_cycles`: networkx graphs, components and searches."""
    runtime = {(e.source, e.target) for e in edges if e.source != e.target and plain_is_runtime(e)}
    timed = {
        (e.source, e.target)
        for e in edges
        if e.source != e.target and plain_is_runtime(e) and e.scope in IMPORT_TIME
    }
    runtime_graph = nx.DiGraph(sorted(runtime))
    cycles = []
    for component in nx.strongly_connected_components(runtime_graph):
        if len(component) < 2:
            continue
        members = tuple(sorted(component))
        # built from sorted edges: searches take successors in name order
        sub = nx.DiGraph(sorted(p for p in runtime if set(p) <= component))
        timed_sub = nx.DiGraph(sorted(p for p in timed if set(p) <= component))
        deferred = nx.is_directed_acyclic_graph(timed_sub)
        path = reference_shortest_cycle(sub if deferred else timed_sub)
        cycles.append(Cycle(members, path, deferred, reference_breaking_edges(sub)))
    return tuple(sorted(cycles, key=lambda c: c.modules))


def plain_is_runtime(edge: Edge) -> bool:
    return (
        edge.guard is not Guard.TYPE_CHECKING
        and edge.origin is not Origin.IMPLICIT_PARENT
        and not edge.external
    )


def random_edges(seed: int) -> list[Edge]:
    """A random import graph with tags; some graphs have a hub importing every module (a
    loader) and a core every module imports, as big monoliths do."""
    chance = random.Random(seed)
    size = chance.randint(4, 70)
    density = chance.uniform(0.02, 0.2) if size > 20 else chance.uniform(0.1, 0.4)
    names = [f"app.m{n:02d}" for n in range(size)]
    pairs = [(a, b) for a, b in itertools.permutations(names, 2) if chance.random() < density]
    if seed % 3 == 0:
        hub, core = chance.sample(names, 2)
        pairs += [(hub, n) for n in names if n != hub] + [(n, core) for n in names if n != core]
    edges = []
    for source, target in pairs:
        edges.append(
            Edge(
                source,
                target,
                chance.randint(1, 3),
                scope=chance.choice([Scope.MODULE, Scope.MODULE, Scope.FUNCTION, Scope.CLASS]),
                guard=chance.choice([Guard.NONE] * 6 + [Guard.TYPE_CHECKING]),
                origin=chance.choice([Origin.IMPORT] * 6 + [Origin.IMPLICIT_PARENT]),
            )
        )
    return edges


def test_cycles_are_those_of_the_plain_version() -> None:
    compared = hubs = 0
    for seed in range(80):
        edges = random_edges(seed)
        expected = reference_cycles(edges)
        assert find_cycles(edges) == expected
        compared += len(expected)
        hubs += any(len(c.modules) > 40 for c in expected)
    assert compared > 60 and hubs > 10  # big components: bit sets of several digits


def test_components_are_those_of_networkx() -> None:
    for seed in range(60):
        edges = random_edges(seed)
        graph = _Digraph.of((e.source, e.target) for e in edges if e.source != e.target)
        reference = nx.DiGraph()
        reference.add_nodes_from(range(len(graph.names)))
        reference.add_edges_from(
            (node, target) for node, targets in enumerate(graph.successors) for target in targets
        )
        expected = sorted(sorted(c) for c in nx.strongly_connected_components(reference))
        assert sorted(_components(graph.successors)) == expected


def plain_search(successors: list[list[int]], start: int) -> dict[int, int]:
    """A full breadth-first search taking successors in order: each module's first
    discoverer."""
    parents = {start: start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in successors[node]:
            if target not in parents:
                parents[target] = node
                queue.append(target)
    return parents


def path(parents: dict[int, int], start: int, end: int) -> list[int]:
    found = [end]
    while found[-1] != start:
        found.append(parents[found[-1]])
    return found[::-1]


def test_bit_set_searches_find_the_breadth_first_paths() -> None:
    checked = 0
    for seed in range(60):
        edges = random_edges(seed)
        graph = _Digraph.of((e.source, e.target) for e in edges if e.source != e.target)
        size = len(graph.names)
        sets = _successor_sets(graph.successors)
        predecessors = _predecessors(graph.successors)
        chance = random.Random(seed)
        for start in range(size):
            full = plain_search(graph.successors, start)
            # the wanted modules: the start's importers, or any sample of modules
            wanted = predecessors[start] if seed % 2 else chance.sample(range(size), size // 3)
            found = _search_back(sets, start, _bits(wanted, size))
            for module in wanted:
                assert (module in found) == (module in full)
                if module in full:
                    assert path(found, start, module) == path(full, start, module)
                    checked += 1
    assert checked > 5000


def test_edges_are_unique_and_in_the_domain_order(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/core/__init__.py": "from app.core import util\n",
            "app/core/util.py": "import os, requests\nfrom app.web import views, forms\n",
            "app/web/__init__.py": "",
            "app/web/views.py": (
                "from app.core.util import a, b, c\nfrom app.core import util\n"
                "def f():\n    from app.core.util import d\n    import app.web.forms\n"
            ),
            "app/web/forms.py": "from . import views\nfrom .views import x, y\n",
            "app/settings.py": 'APPS = ["app.web.views", "app.core.util.helper"]\n',
        },
    )
    run = analyse(tmp_path)
    edges = list(run.graph.edges)
    assert len(edges) > 15
    assert len(set(edges)) == len(edges)
    assert edges == sorted(edges, key=lambda e: e.sort_key)
    # three names from one statement: one edge
    assert len([e for e in run.edges("app.web.views", "app.core.util") if e.line == 1]) == 1


def test_memoised_resolution_keeps_importers_apart(tmp_path: Path) -> None:
    """`from api import b_pb2` reaches `svc.gen.api.b_pb2` from inside `svc/gen/api` only;
    relative and absolute imports of one module share answers."""
    write_tree(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/gen/__init__.py": "",
            "svc/gen/api/__init__.py": "",
            "svc/gen/api/a_pb2.py": "from api import b_pb2\n",
            "svc/gen/api/b_pb2.py": "",
            "svc/other.py": "from api import b_pb2\nfrom .gen import api\nimport svc.gen.api\n",
            "svc/gen/api/c.py": "from . import b_pb2\nfrom svc.gen.api import b_pb2 as b\n",
        },
    )
    project = discover(tmp_path, Settings())
    facts = {f.module: scan_source((tmp_path / f.path).read_bytes()) for f in project.files}
    questions = [(module, fact) for module in sorted(facts) for fact in facts[module].imports]
    questions.append(("svc.other", ImportFact(9, "x", level=3, name="y")))
    for order in (questions, questions[::-1]):
        shared = ProjectIndex(project, facts)
        for module, fact in order * 2:
            fresh = ProjectIndex(project, facts).resolve_import(module, fact)
            assert shared.resolve_import(module, fact) == fresh
    index = ProjectIndex(project, facts)
    inner = index.resolve_import("svc.gen.api.a_pb2", facts["svc.gen.api.a_pb2"].imports[0])
    outer = index.resolve_import("svc.other", facts["svc.other"].imports[0])
    assert inner.target == "svc.gen.api.b_pb2" and outer.external == "api"


@pytest.mark.parametrize("external", [False, True])
def test_sort_key_and_is_runtime_are_the_plain_ones(external: bool) -> None:
    for scope, guard, origin, confidence in itertools.product(Scope, Guard, Origin, Confidence):
        edge = Edge("a", "b", 3, scope, guard, origin, confidence, external, not external)
        assert edge.sort_key == (
            "a",
            "b",
            3,
            origin.value,
            scope.value,
            guard.value,
            confidence.value,
            external,
            not external,
        )
        assert all(type(part) in (str, int, bool) for part in edge.sort_key)
        assert edge.is_runtime == plain_is_runtime(edge)


def test_the_sample_graph_is_unchanged_by_a_second_build() -> None:
    """Memoised answers of a first build leave a second build on the same index the same."""
    project = discover(SAMPLE, Settings())
    facts = {f.module: scan_source((SAMPLE / f.path).read_bytes()) for f in project.files}
    index = ProjectIndex(project, facts)
    first = build_graph(index)
    assert build_graph(index) == first == build_graph(ProjectIndex(project, facts))
    assert len(first.edges) > 50
