"""Cycles of the runtime graph: components, shortest cycles, deferred ones, breaking edges."""

from __future__ import annotations

import networkx as nx

from carveout.domain.facts import Guard, Origin, Scope
from carveout.domain.model import Edge
from carveout.stages.graph import find_cycles, implicit_loads


def _edge(source: str, target: str, **tags) -> Edge:
    return Edge(source, target, 1, **tags)


def test_only_runtime_edges_make_cycles() -> None:
    edges = [
        _edge("a", "b"),
        _edge("b", "a", guard=Guard.TYPE_CHECKING),
        _edge("c", "d"),
        _edge("d", "c", origin=Origin.IMPLICIT_PARENT),
        _edge("e", "e"),
        _edge("f", "requests", external=True),
    ]
    assert find_cycles(edges) == ()


def test_deferred_apart_from_import_time() -> None:
    edges = [
        _edge("a", "b"),
        _edge("b", "a", scope=Scope.FUNCTION),
        _edge("x", "y", scope=Scope.CLASS),
        _edge("y", "x", scope=Scope.CONDITIONAL),
    ]
    cycles = {c.modules: c for c in find_cycles(edges)}
    assert cycles[("a", "b")].deferred
    assert not cycles[("x", "y")].deferred


def test_path_is_a_shortest_import_time_cycle() -> None:
    # a <-> b only through a function; a -> c -> d -> a at import time
    edges = [
        _edge("a", "b"),
        _edge("b", "a", scope=Scope.FUNCTION),
        _edge("a", "c"),
        _edge("c", "d"),
        _edge("d", "a"),
    ]
    (cycle,) = find_cycles(edges)
    assert cycle.modules == ("a", "b", "c", "d")
    assert not cycle.deferred
    assert cycle.path == ("a", "c", "d", "a")


def test_breaking_edges_are_ranked_and_break_everything() -> None:
    # hub -> spokes -> hub: the hub's incoming edges... one edge shared by three cycles
    edges = [
        _edge("core", "util"),
        _edge("util", "a"),
        _edge("util", "b"),
        _edge("util", "c"),
        _edge("a", "core"),
        _edge("b", "core"),
        _edge("c", "core"),
        _edge("a", "b"),
        _edge("b", "a"),
    ]
    (cycle,) = find_cycles(edges)
    assert cycle.breaking_edges[0] == ("core", "util")  # on every cycle through core

    graph = nx.DiGraph([(e.source, e.target) for e in edges])
    graph.remove_edges_from(cycle.breaking_edges)
    assert nx.is_directed_acyclic_graph(graph)
    assert find_cycles(list(reversed(edges))) == find_cycles(edges)  # order-independent


def test_implicit_loads_follow_import_time_edges_only() -> None:
    edges = [
        _edge("web", "core.util"),
        _edge("web", "core", origin=Origin.IMPLICIT_PARENT),
        _edge("core", "requests", external=True),
        _edge("core", "heavy", scope=Scope.FUNCTION),
        _edge("core", "typing_only", guard=Guard.TYPE_CHECKING),
    ]
    assert implicit_loads(edges, "web") == {"core.util", "core"}
    assert implicit_loads(edges, "web", include_external=True) == {"core.util", "core", "requests"}
    # a submodule loads its parents (and what they import) first
    assert implicit_loads(edges, "core.util", include_external=True) == {"core", "requests"}
