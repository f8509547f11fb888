"""Each speed-up of the hot paths gives exactly what the plain version gave: the scan's
child walk, source text, raised names and whitespace test, parsing bytes instead of text,
memoised name resolution, and the cycle searches."""

from __future__ import annotations

import ast
import itertools
import random
import re
import sysconfig
from collections import Counter, defaultdict
from pathlib import Path

import networkx as nx
import pytest

from carveout.domain.model import Capability, Edge
from carveout.domain.settings import Settings
from carveout.stages import scan
from carveout.stages.discover import discover
from carveout.stages.features import _ImportGraph, _in_other_feature, _interface_capabilities
from carveout.stages.graph import _breaking_edges, _Digraph, _shortest_cycle, find_cycles
from carveout.stages.resolve import ProjectIndex
from carveout.stages.scan import decode_source, scan_source

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "shopwise"


def corpus() -> list[Path]:
    """carveout's own code, the sample, and a slice of the standard library."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted((ROOT / "src").rglob("*.py")) + sorted(SAMPLE.rglob("*.py"))
    files += sorted(stdlib.glob("[a-m]*.py"))[:60] + sorted((stdlib / "asyncio").glob("*.py"))
    return files


@pytest.fixture(scope="module")
def trees() -> list[ast.Module]:
    return [ast.parse(path.read_bytes()) for path in corpus()]


# --- the scan -----------------------------------------------------------------------------


def test_children_are_iter_child_nodes_without_the_leaves(trees: list[ast.Module]) -> None:
    leaves = (ast.expr_context, ast.operator, ast.cmpop, ast.unaryop, ast.boolop)
    checked = 0
    for tree in trees:
        for node in ast.walk(tree):
            expected = [c for c in ast.iter_child_nodes(node) if not isinstance(c, leaves)]
            assert scan._children(node) == expected
            checked += 1
    assert checked > 100_000


def test_source_text_is_unparse(trees: list[ast.Module]) -> None:
    checked = 0
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.arg) and node.annotation is not None:
                expressions = [node.annotation]
            elif isinstance(node, ast.arguments):
                expressions = [d for d in node.defaults + node.kw_defaults if d is not None]
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
                expressions = [node.returns]
            else:
                continue
            for expression in expressions:
                assert scan._source_text(expression) == ast.unparse(expression)
                checked += 1
    for text in ("u'x'", "'it''s'", "'a\\nb'", "1.5", "-1", "...", "b'x'", "'é'", "'\\t'"):
        expression = ast.parse(text, mode="eval").body
        assert scan._source_text(expression) == ast.unparse(expression)
    assert checked > 2000


def test_raised_names_are_those_a_full_walk_finds(trees: list[ast.Module]) -> None:
    def walked(node: ast.AST) -> tuple[str, ...]:
        names = set()
        for child in ast.walk(node):
            if isinstance(child, ast.Raise) and child.exc is not None:
                name = scan.dotted(scan._callee(child.exc))
                if name:
                    names.add(name)
        return tuple(sorted(names))

    found = 0
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                assert scan._raised_names(node) == walked(node)
                found += bool(walked(node))
    assert found > 100


def test_the_whitespace_pattern_is_str_isspace() -> None:
    characters = "".join(map(chr, range(0x110000))).replace("\ud800", "")
    assert [c for c in characters if c.isspace()] == scan._SPACE.findall(characters)


@pytest.mark.parametrize(
    "source",
    [
        b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\ndef f(x='\xe9'): pass\n",
        b"\xef\xbb\xbfimport os\nx = os.getenv('A')\n",
        b"import os\r\nclass A:\r\n    x: 'int' = 1\r\n",
        b"x = '\xc3\xa9'  # utf-8\nprint(f'{x}/v1/chat', sep='\\t')\n",
        b"def broken(:\n",
        b"",
    ],
)
def test_parsing_the_bytes_gives_the_facts_of_parsing_the_text(source: bytes) -> None:
    text, _ = decode_source(source)
    assert text is not None
    try:
        tree = ast.parse(text)
    except SyntaxError:
        assert not scan_source(source).parsed
        return
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    assert scan_source(source) == scan._facts_from_tree(tree, text, lines, parser="ast")


# --- resolution ----------------------------------------------------------------------------


def test_memoised_answers_are_the_fresh_ones() -> None:
    project = discover(SAMPLE, Settings())
    facts = {f.module: scan_source((SAMPLE / f.path).read_bytes()) for f in project.files}
    index = ProjectIndex(project, facts)
    questions = [
        (module, fact) for module in sorted(facts) for fact in facts[module].imports
    ] * 2  # the second round is answered from memory
    chains = [(m, c.callee) for m in sorted(facts) for c in facts[m].calls] * 2
    assert len(chains) > 100
    for module, fact in questions:
        assert index.resolve_import(module, fact) == ProjectIndex(project, facts).resolve_import(
            module, fact
        )
    for module, chain in chains:
        fresh = ProjectIndex(project, facts)
        assert index.qualify(module, chain) == fresh.qualify(module, chain)
        qualified = fresh.qualify(module, chain)
        assert index.owner_module(qualified) == fresh.owner_module(qualified)
        assert index.follow_reexports(qualified) == fresh.follow_reexports(qualified)


# --- cycles --------------------------------------------------------------------------------


def reference_shortest_cycle(graph: nx.DiGraph) -> tuple[str, ...]:
    """The plain version: a breadth-first search from every module, in name order."""
    best: list[str] | None = None
    for start in sorted(graph.nodes):
        paths = nx.single_source_shortest_path(graph, start)
        for source in sorted(graph.predecessors(start)):
            if source in paths and (best is None or len(paths[source]) + 1 < len(best)):
                best = [*paths[source], start]
        if best is not None and len(best) == 3:
            break
    return tuple(best or ())


def reference_breaking_edges(graph: nx.DiGraph) -> tuple[tuple[str, str], ...]:
    """The plain version: recount every cycle after every pick."""

    def short_cycles(remaining: nx.DiGraph) -> list[frozenset[tuple[str, str]]]:
        found = set()
        for component in nx.strongly_connected_components(remaining):
            if len(component) < 2:
                continue
            sub = remaining.subgraph(component)
            for start in sub:
                paths = nx.single_source_shortest_path(sub, start)
                for last in sub.predecessors(start):
                    cycle = paths[last]
                    first = cycle.index(min(cycle))
                    found.add(tuple(cycle[first:] + cycle[:first]))
        return [frozenset(zip(c, c[1:] + c[:1], strict=True)) for c in sorted(found)]

    remaining = nx.DiGraph(graph)
    chosen = []
    cycles = short_cycles(remaining)
    while cycles:
        while cycles:
            counts = Counter(edge for cycle in cycles for edge in cycle)
            edge = min(counts, key=lambda e: (-counts[e], e))
            chosen.append(edge)
            remaining.remove_edge(*edge)
            cycles = [cycle for cycle in cycles if edge not in cycle]
        cycles = short_cycles(remaining)
    return tuple(chosen)


def sorted_graph(edges: list[tuple[str, str]]) -> nx.DiGraph:
    """A graph built from sorted edges, as `find_cycles` builds it from the sorted graph."""
    graph = nx.DiGraph()
    graph.add_edges_from(sorted(set(edges)))
    return graph


def random_graphs() -> list[nx.DiGraph]:
    graphs = []
    for seed in range(150):
        chance = random.Random(seed)
        size = chance.randint(3, 16)
        density = chance.uniform(0.08, 0.35)
        pairs = [
            (f"m{a:02d}", f"m{b:02d}")
            for a, b in itertools.permutations(range(size), 2)
            if chance.random() < density
        ]
        graphs.append(sorted_graph(pairs))
    # a hub: everything imports core, core imports a loader that imports everything
    hub = [(f"app.f{n}", "app.core") for n in range(30)] + [("app.core", "app.loader")]
    hub += [("app.loader", f"app.f{n}") for n in range(30)] + [("app.f3", "app.f4")]
    graphs.append(sorted_graph(hub))
    return graphs


def test_cycle_searches_give_what_the_plain_versions_give() -> None:
    compared = 0
    for graph in random_graphs():
        for component in nx.strongly_connected_components(graph):
            if len(component) < 2:
                continue
            sub = graph.subgraph(sorted(component))
            numbered = _Digraph.of(sub.edges)
            assert _shortest_cycle(numbered) == reference_shortest_cycle(sub)
            assert _breaking_edges(numbered) == reference_breaking_edges(sub)
            compared += 1
    assert compared > 100


def test_cycles_do_not_depend_on_edge_order() -> None:
    edges = [Edge(a, b, 1) for a, b in random_graphs()[-1].edges]
    shuffled = list(edges)
    random.Random(7).shuffle(shuffled)
    assert find_cycles(shuffled) == find_cycles(edges)
    assert re.fullmatch(r"app\.\w+", find_cycles(edges)[0].path[0])


# --- the feature stage's orchestration rules (features pass) -------------------------------
# `_interface_capabilities` answers, once for all modules, what `serves_interface` asked per
# module and capability; `serves` and `serves_package` find the users among a capability's
# modules without walking all of them. Both are compared with the plain versions they
# replaced, on random import graphs.


def plain_serves_interface(interfaces, entries, module, capability, direct) -> bool:
    if module in entries:
        return False
    for base_module, implementers in interfaces:
        if module != base_module and module not in implementers:
            continue
        local = {Capability.LOCAL_INFERENCE}
        doing = [direct[m] - local for m in implementers if m in direct]
        if sum(1 for caps in doing if capability in caps) >= 2 and all(
            caps == {capability} for caps in doing
        ):
            return True
    return False


def plain_serves(graph, module, capability, members, direct, drives) -> bool:
    own = members[capability]
    users = graph.importers.get(module, set())
    serving_entries = {
        u for u in users if u in graph.entries and graph.imports.get(u, set()) & direct[capability]
    }
    inner = own - graph.entries.keys()
    if users & inner and users <= inner | serving_entries:
        return True
    needs = graph.imports.get(module, set())
    if not drives or not needs & direct[capability]:
        return False
    for need in needs - own - graph.infrastructure:
        if graph.importers.get(need, set()) != {module}:
            return False
    others = set().union(*(m for c, m in members.items() if c is not capability))
    return not users & (others - own)


def test_orchestration_rules_give_what_the_plain_versions_give() -> None:
    chance = random.Random(11)
    capabilities = [Capability.CHAT, Capability.EMBEDDINGS, Capability.IMAGE]
    modules = [f"app.m{n}" for n in range(14)]
    positive = {"interface": 0, "serves": 0}

    def pick(low: int, high: int) -> set[str]:
        return set(chance.sample(modules, chance.randint(low, high)))

    for _ in range(400):
        direct = {
            m: set(
                chance.sample([*capabilities, Capability.LOCAL_INFERENCE], chance.randint(1, 2))
            )
            for m in modules
            if chance.random() < 0.5
        }
        entries = {m: "route" for m in modules if chance.random() < 0.15}
        interfaces = [(chance.choice(modules), pick(2, 5)) for _ in range(chance.randint(0, 4))]
        members = {
            c: {m for m, caps in direct.items() if c in caps} | pick(0, 3) for c in capabilities
        }
        direct_members = {c: {m for m, caps in direct.items() if c in caps} for c in capabilities}
        graph = object.__new__(_ImportGraph)  # the rules read only these four maps
        graph.entries = entries
        graph.importers = defaultdict(set, {m: pick(0, 4) - {m} for m in modules})
        graph.imports = defaultdict(set, {m: pick(0, 4) - {m} for m in modules})
        graph.infrastructure = pick(0, 2)
        served = _interface_capabilities(interfaces, entries, direct)
        for module, capability in itertools.product(modules, capabilities):
            expected = plain_serves_interface(interfaces, entries, module, capability, direct)
            assert (capability in served.get(module, ())) == expected
            positive["interface"] += expected
            for drives in (True, False):
                expected = plain_serves(graph, module, capability, members, direct_members, drives)
                found = graph.serves(module, capability, members, direct_members, drives=drives)
                assert found == expected
                positive["serves"] += expected
            others = set().union(*(m for c, m in members.items() if c is not capability))
            users = graph.importers[module]
            assert _in_other_feature(users, members, capability) == bool(users & others)
    assert min(positive.values()) > 50


# --- discover: modules in or below a package, by prefix look-ups --------------------------


def test_in_or_below_matches_the_plain_prefix_test() -> None:
    from carveout.stages.discover import _in_or_below

    rng = random.Random(7)
    names = ["a", "b", "ab", "a_b"]
    modules = {".".join(rng.choice(names) for _ in range(rng.randint(1, 4))) for _ in range(400)}
    for _ in range(50):
        packages = set(rng.sample(sorted(modules), 5))
        for module in modules:
            plain = module in packages or any(module.startswith(p + ".") for p in packages)
            assert _in_or_below(module, packages) is plain
