"""Build the module graph: one tagged edge per import statement, and the cycles in it.

Edges keep how they came to be (origin), where they run (scope), what guards them and how
sure carveout is. Type-checking-only and implicit-parent edges stay in the graph for the
questions they answer, but not in runtime cycles (`Edge.is_runtime`).
"""

from __future__ import annotations

import itertools
import posixpath
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx

from carveout.domain.facts import Confidence, Diagnostic, Origin, Scope
from carveout.domain.model import Cycle, Edge, Module, ModuleKind
from carveout.stages.resolve import ProjectIndex, is_stdlib

_IMPORT_TIME_SCOPES = frozenset({Scope.MODULE, Scope.CONDITIONAL, Scope.CLASS})
_CYCLE_SAMPLE = 2000
_CYCLE_LENGTH_BOUND = 8


@dataclass(frozen=True, slots=True)
class ModuleGraph:
    """Modules, edges (sorted), and the diagnostics met while resolving imports."""

    modules: tuple[Module, ...]
    edges: tuple[Edge, ...]
    diagnostics: tuple[Diagnostic, ...]


def build_graph(index: ProjectIndex) -> ModuleGraph:
    """Resolve every import fact of every module into edges between project modules.

    Third-party imports become `external` edges to the top-level package name. Relative
    imports that climb above the top-level package and absolute imports of missing project
    modules become diagnostics.
    """
    modules = _modules(index)
    edges: set[Edge] = set()
    diagnostics: list[Diagnostic] = []
    for name in sorted(index.files):
        facts = index.facts.get(name)
        if facts is None:
            continue
        path = index.files[name].path
        extra_roots = _extra_roots(index, name)
        for fact in facts.imports:
            edges.update(_edges_of_import(index, name, path, fact, extra_roots, diagnostics))
        edges.update(_framework_string_edges(index, name))
    ordered = tuple(sorted(edges, key=_edge_key))
    return ModuleGraph(modules, ordered, tuple(sorted(set(diagnostics), key=_diagnostic_key)))


def find_cycles(edges: Sequence[Edge]) -> tuple[Cycle, ...]:
    """Every strongly connected component of the runtime graph, with a shortest cycle.

    A component is deferred when it has no cycle using import-time edges only (module,
    conditional and class-body scope). Breaking edges are chosen greedily by how many of
    the component's (sampled) cycles each one breaks.
    """
    runtime = nx.DiGraph()
    import_time = nx.DiGraph()
    for edge in edges:
        if not edge.is_runtime or edge.source == edge.target:
            continue
        runtime.add_edge(edge.source, edge.target)
        if edge.scope in _IMPORT_TIME_SCOPES:
            import_time.add_edge(edge.source, edge.target)

    cycles = []
    for component in nx.strongly_connected_components(runtime):
        if len(component) < 2:
            continue
        members = tuple(sorted(component))
        sub = runtime.subgraph(members)
        timed = import_time.subgraph(members)
        deferred = nx.is_directed_acyclic_graph(timed)
        cycles.append(Cycle(members, _shortest_cycle(sub), deferred, _breaking_edges(sub)))
    return tuple(sorted(cycles, key=lambda c: c.modules))


def implicit_loads(edges: Sequence[Edge], module: str) -> frozenset[str]:
    """Every project module that importing `module` loads at import time, parents included."""
    graph = nx.DiGraph()
    for edge in edges:
        if (edge.scope in _IMPORT_TIME_SCOPES and edge.guard.value != "type_checking"
                and not edge.external):
            graph.add_edge(edge.source, edge.target)
    if module not in graph:
        return frozenset()
    return frozenset(nx.descendants(graph, module))


# --- private helpers --------------------------------------------------------------------


def _modules(index: ProjectIndex) -> tuple[Module, ...]:
    found = []
    for name, file in index.files.items():
        facts = index.facts.get(name)
        lines = facts.lines if facts is not None else 0
        found.append(Module(name, file.path, file.kind, lines, file.is_entry_point))
    for name in index.project.namespace_packages:
        found.append(Module(name, None, ModuleKind.NAMESPACE, 0))
    return tuple(sorted(found, key=lambda m: m.name))


def _edges_of_import(
    index: ProjectIndex,
    importer: str,
    path: str,
    fact,  # ImportFact
    extra_roots: tuple[str, ...],
    diagnostics: list[Diagnostic],
) -> Iterable[Edge]:
    tags = {"scope": fact.scope, "guard": fact.guard}
    origin = fact.origin

    # a literal prefix (f"app.plugins_{n}"): candidate edges to every module it can name
    if fact.is_prefix:
        base = index.absolute_base(importer, fact)
        if base:
            for module in sorted(index.modules):
                if module.startswith(base) and module != importer:
                    yield Edge(importer, module, fact.line, origin=Origin.DYNAMIC,
                               confidence=Confidence.CANDIDATE, **tags)
        return

    resolved = index.resolve_import(importer, fact)
    if resolved.unresolved and resolved.target is None:
        diagnostics.append(Diagnostic(path, fact.line, resolved.unresolved, "unresolved-import"))
        return
    if resolved.external is not None:
        rerooted = _through_extra_roots(index, resolved.qualified, extra_roots)
        if rerooted is not None:
            target = rerooted
            yield Edge(importer, target, fact.line, origin=origin, canonical=False, **tags)
            yield from _parents(importer, target, fact.line, tags)
            return
        if not is_stdlib(resolved.external) and "?" in extra_roots:
            diagnostics.append(Diagnostic(
                path, fact.line,
                f"import of {resolved.qualified} may resolve through a sys.path change "
                "carveout cannot fold to a constant", "unresolved-import"))
        yield Edge(importer, resolved.external, fact.line, origin=origin, external=True, **tags)
        return
    if resolved.unresolved:
        diagnostics.append(Diagnostic(path, fact.line, resolved.unresolved, "unresolved-import"))
    target = resolved.target
    if target is None or target == importer:
        return
    yield Edge(importer, target, fact.line, origin=origin, canonical=resolved.canonical, **tags)
    yield from _parents(importer, target, fact.line, tags)


def _parents(importer: str, target: str, line: int, tags: dict) -> Iterable[Edge]:
    """Importing `a.b.c` runs `a/__init__.py` and `a/b/__init__.py` first."""
    parts = target.split(".")
    for end in range(len(parts) - 1, 0, -1):
        parent = ".".join(parts[:end])
        if parent != importer:
            yield Edge(importer, parent, line, origin=Origin.IMPLICIT_PARENT, **tags)


def _extra_roots(index: ProjectIndex, module: str) -> tuple[str, ...]:
    """Module prefixes a file adds to the path with `sys.path.append/insert`.

    "?" marks a change that does not fold to a constant.
    """
    facts = index.facts.get(module)
    if facts is None or not facts.sys_path_changes:
        return ()
    file = index.files[module]
    folder = posixpath.dirname(file.path)
    roots = []
    for change in facts.sys_path_changes:
        if change.folded is None:
            roots.append("?")
            continue
        target = posixpath.normpath(posixpath.join(folder, change.folded))
        prefix = _path_to_prefix(index, target)
        if prefix is not None:
            roots.append(prefix)
    return tuple(roots)


def _path_to_prefix(index: ProjectIndex, folder: str) -> str | None:
    """The module prefix of a project folder ("libs" -> "libs"; "src" root -> "")."""
    for root in sorted(index.project.source_roots, key=len, reverse=True):
        base = "" if root == "." else root
        if base and not (folder == base or folder.startswith(base + "/")):
            continue
        relative = folder[len(base):].strip("/") if base else folder
        if relative in ("", "."):
            return ""
        if relative.startswith(".."):
            continue
        return relative.replace("/", ".")
    return None


def _through_extra_roots(
    index: ProjectIndex, qualified: str, extra_roots: tuple[str, ...]
) -> str | None:
    for prefix in extra_roots:
        if prefix == "?":
            continue
        candidate = f"{prefix}.{qualified}" if prefix else qualified
        owner = index.owner_module(candidate)
        if owner is not None and (owner == candidate or candidate.startswith(owner + ".")):
            if owner != prefix:
                return owner
    return None


def _framework_string_edges(index: ProjectIndex, module: str) -> Iterable[Edge]:
    """Dotted strings naming a project module or an attribute of one ("billing.apps.X")."""
    facts = index.facts[module]
    for string in facts.strings:
        value = string.value.replace(":", ".")
        if "." not in value or "/" in value or not all(
            p.isidentifier() for p in value.split(".")
        ):
            continue
        if value.split(".")[0] not in index.top_levels:
            continue
        owner = index.owner_module(value)
        if owner is None or owner == module or owner in index.project.namespace_packages:
            continue
        if owner == value.split(".")[0] and value.count(".") > 1:
            continue  # only the top-level package matched: the rest names nothing known
        yield Edge(module, owner, string.line, origin=Origin.FRAMEWORK_STRING)


def _shortest_cycle(graph: nx.DiGraph) -> tuple[str, ...]:
    best: list[str] | None = None
    for start in sorted(graph.nodes):
        for successor in sorted(graph.successors(start)):
            try:
                path = nx.shortest_path(graph, successor, start)
            except nx.NetworkXNoPath:
                continue
            cycle = [start, *path]
            if best is None or len(cycle) < len(best):
                best = cycle
        if best is not None and len(best) == 3:
            break
    return tuple(best or ())


def _breaking_edges(graph: nx.DiGraph) -> tuple[tuple[str, str], ...]:
    remaining = nx.DiGraph(graph)
    chosen: list[tuple[str, str]] = []
    while not nx.is_directed_acyclic_graph(remaining):
        cycles = itertools.islice(
            nx.simple_cycles(remaining, length_bound=_CYCLE_LENGTH_BOUND), _CYCLE_SAMPLE
        )
        counts: Counter[tuple[str, str]] = Counter()
        for cycle in cycles:
            for a, b in zip(cycle, cycle[1:] + cycle[:1]):
                counts[(a, b)] += 1
        if counts:
            edge = min(counts, key=lambda e: (-counts[e], e))
        else:
            edge = min(nx.find_cycle(remaining), key=lambda e: (e[0], e[1]))[:2]
        chosen.append(edge)
        remaining.remove_edge(*edge)
    return tuple(chosen)


def _edge_key(edge: Edge) -> tuple:
    return (edge.source, edge.target, edge.line, edge.origin.value, edge.scope.value,
            edge.guard.value, edge.confidence.value, edge.external, edge.canonical)


def _diagnostic_key(diagnostic: Diagnostic) -> tuple:
    return (diagnostic.path, diagnostic.line, diagnostic.kind, diagnostic.message)
