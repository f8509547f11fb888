"""Build the module graph: one tagged edge per import statement, and the cycles in it.

Edges keep how they came to be (origin), where they run (scope), what guards them and how
sure carveout is. Type-checking-only and implicit-parent edges stay in the graph for the
questions they answer, but not in runtime cycles (`Edge.is_runtime`).
"""

from __future__ import annotations

import heapq
import posixpath
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import networkx as nx

from carveout.domain.facts import Confidence, Diagnostic, Guard, ImportFact, Origin, Scope
from carveout.domain.model import Cycle, Edge, Module, ModuleKind
from carveout.stages.discover import plugin_groups
from carveout.stages.resolve import ProjectIndex, is_stdlib

_IMPORT_TIME_SCOPES = frozenset({Scope.MODULE, Scope.CONDITIONAL, Scope.CLASS})
_Node = TypeVar("_Node", str, int)  # a module, or its number in the cycle searches
# a dotted string ending in one of these names a file, not a module ("config.yaml")
# fmt: off
_FILE_SUFFIXES = frozenset({
    "py", "pyc", "json", "yaml", "yml", "toml", "cfg", "ini", "txt", "md", "rst", "csv", "html",
    "htm", "xml", "log", "db", "sqlite", "png", "jpg", "jpeg", "gif", "svg", "zip", "gz", "tar",
    "whl", "env", "lock", "js", "css", "pkl", "pt", "bin", "onnx", "npy",
})
# fmt: on


@dataclass(frozen=True, slots=True)
class ModuleGraph:
    """Modules, edges (sorted), and the diagnostics met while resolving imports."""

    modules: tuple[Module, ...]
    edges: tuple[Edge, ...]
    diagnostics: tuple[Diagnostic, ...]


def build_graph(index: ProjectIndex) -> ModuleGraph:
    """Resolve every import fact of every module into edges between project modules.

    Third-party imports become `external` edges to the top-level package name. Importing
    `a.b.c` also gives `origin=implicit_parent` edges to the regular packages `a` and `a.b`
    (their `__init__.py` runs first). Dotted strings naming a project module give
    `framework_string` edges; a string equal to a packaging entry-point group gives
    `entry_point` edges to the group's targets. Diagnostics: relative imports climbing above
    the top-level package and missing project modules (`unresolved-import`), dynamic imports
    with no literal target (`dynamic-import`), dotted strings naming no project module in a
    module that names others (`unresolved-dotted-string`), and project modules named like a
    standard-library module (`stdlib-shadow`).
    """
    modules = _modules(index)
    edges: set[Edge] = set()
    diagnostics: list[Diagnostic] = []
    plugin_targets = _plugin_targets(index)
    for name in sorted(index.files):
        facts = index.facts.get(name)
        if facts is None:
            continue
        path = index.files[name].path
        extra_roots = _extra_roots(index, name)
        for fact in facts.imports:
            edges.update(_edges_of_import(index, name, path, fact, extra_roots, diagnostics))
        for dynamic in facts.dynamic_imports:
            diagnostics.append(
                Diagnostic(
                    path,
                    dynamic.line,
                    f"dynamic import {dynamic.call}({dynamic.expression}) names no literal "
                    "module: its target is unknown",
                    "dynamic-import",
                )
            )
        strings = list(_framework_string_edges(index, name))
        edges.update(strings)
        if strings:
            diagnostics.extend(_unresolved_dotted_strings(index, name, path))
        edges.update(_entry_point_edges(index, name, plugin_targets))
    diagnostics.extend(_stdlib_shadows(index))
    ordered = tuple(sorted(edges, key=lambda edge: edge.sort_key))
    return ModuleGraph(modules, ordered, tuple(sorted(set(diagnostics), key=_diagnostic_key)))


def find_cycles(edges: Sequence[Edge]) -> tuple[Cycle, ...]:
    """Every strongly connected component of the runtime graph, with a shortest cycle.

    Only `Edge.is_runtime` edges count (no type-checking-only, implicit-parent or external
    edges). A component is deferred when no cycle in it uses import-time edges only (module,
    conditional and class-body scope): every loop goes through an import inside a function.
    `path` is a shortest import-time cycle when there is one, else a shortest cycle; it
    starts and ends with the same module. Breaking edges are chosen greedily, each the edge
    on most of the component's remaining (sampled) cycles, so the list is ranked.
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
        path = _shortest_cycle(sub if deferred else timed)
        cycles.append(Cycle(members, path, deferred, _breaking_edges(sub)))
    return tuple(sorted(cycles, key=lambda c: c.modules))


def implicit_loads(
    edges: Sequence[Edge], module: str, include_external: bool = False
) -> frozenset[str]:
    """What importing `module` loads at import time: the project modules reached through
    import-time edges (implicit parents included) from `module` and its own parent packages,
    and with `include_external` the third-party top-level packages those import.
    Type-checking-only and function-level imports do not load anything at import time."""
    graph = nx.DiGraph()
    for edge in edges:
        if edge.scope in _IMPORT_TIME_SCOPES and edge.guard is not Guard.TYPE_CHECKING:
            if edge.external and not include_external:
                continue
            graph.add_edge(edge.source, edge.target)
    parts = module.split(".")
    starts = [".".join(parts[:end]) for end in range(1, len(parts) + 1)]
    loaded: set[str] = set()
    for start in starts:
        if start in graph:
            loaded |= nx.descendants(graph, start)
    loaded.update(starts[:-1])
    loaded.discard(module)
    return frozenset(loaded)


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
    fact: ImportFact,
    extra_roots: tuple[str, ...],
    diagnostics: list[Diagnostic],
) -> Iterable[Edge]:
    scope, guard, origin = fact.scope, fact.guard, fact.origin

    # a literal prefix (f"app.plugins_{n}"): candidate edges to every module it can name
    if fact.is_prefix:
        base = index.absolute_base(importer, fact)
        matches = sorted(m for m in index.files if base and m.startswith(base) and m != importer)
        for module in matches:
            yield Edge(
                importer,
                module,
                fact.line,
                origin=Origin.DYNAMIC,
                confidence=Confidence.CANDIDATE,
                scope=scope,
                guard=guard,
            )
        diagnostics.append(
            Diagnostic(
                path,
                fact.line,
                f"dynamic import of a name starting with '{base or fact.module}': "
                f"{len(matches)} project module(s) match, linked as candidates",
                "dynamic-import",
            )
        )
        return

    resolved = index.resolve_import(importer, fact)
    if resolved.unresolved and resolved.target is None:
        diagnostics.append(Diagnostic(path, fact.line, resolved.unresolved, "unresolved-import"))
        # a missing (or compiled) module: the packages above it still run
        yield from _parents(index, importer, resolved.qualified, fact.line, scope, guard)
        return
    if resolved.external is not None:
        rerooted = _through_extra_roots(index, resolved.qualified, extra_roots)
        if rerooted is not None:
            prefix, found = rerooted
            yield Edge(
                importer,
                found,
                fact.line,
                origin=origin,
                canonical=False,
                scope=scope,
                guard=guard,
            )
            yield from _parents(index, importer, found, fact.line, scope, guard, below=prefix)
            return
        if not is_stdlib(resolved.external) and "?" in extra_roots:
            diagnostics.append(
                Diagnostic(
                    path,
                    fact.line,
                    f"import of {resolved.qualified} may resolve through a sys.path change "
                    "carveout cannot fold to a constant",
                    "unresolved-import",
                )
            )
        yield Edge(
            importer,
            resolved.external,
            fact.line,
            origin=origin,
            external=True,
            scope=scope,
            guard=guard,
        )
        return
    if resolved.unresolved:
        diagnostics.append(Diagnostic(path, fact.line, resolved.unresolved, "unresolved-import"))
    target = resolved.target
    if target is None or target == importer:
        return
    confidence = Confidence.CANDIDATE if resolved.unresolved else Confidence.EXACT
    yield Edge(
        importer,
        target,
        fact.line,
        origin=origin,
        confidence=confidence,
        canonical=resolved.canonical,
        scope=scope,
        guard=guard,
    )
    # reached through an inner folder on the path: only the parents under that folder run
    yield from _parents(index, importer, target, fact.line, scope, guard, below=resolved.through)


def _parents(
    index: ProjectIndex,
    importer: str,
    target: str,
    line: int,
    scope: Scope,
    guard: Guard,
    below: str = "",
) -> Iterable[Edge]:
    """Importing `a.b.c` runs `a/__init__.py` and `a/b/__init__.py` first: implicit-parent
    edges to the regular packages above `target` (below the folder `below` when the import
    went through a folder put on the path). Namespace packages run no code."""
    parts = target.split(".")
    skip = below.count(".") + 1 if below else 0
    for end in range(len(parts) - 1, skip, -1):
        parent = ".".join(parts[:end])
        if parent != importer and parent in index.files:
            yield Edge(
                importer, parent, line, origin=Origin.IMPLICIT_PARENT, scope=scope, guard=guard
            )


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
        relative = folder[len(base) :].strip("/") if base else folder
        if relative in ("", "."):
            return ""
        if relative.startswith(".."):
            continue
        return relative.replace("/", ".")
    return None


def _through_extra_roots(
    index: ProjectIndex, qualified: str, extra_roots: tuple[str, ...]
) -> tuple[str, str] | None:
    """(folder prefix, module) for a name found under a folder a file put on the path."""
    for prefix in extra_roots:
        if prefix == "?":
            continue
        candidate = f"{prefix}.{qualified}" if prefix else qualified
        owner = index.owner_module(candidate)
        if owner is not None and owner != prefix and len(owner) > len(prefix):
            return prefix, owner
    return None


def _framework_string_edges(index: ProjectIndex, module: str) -> Iterable[Edge]:
    """Dotted strings naming a project module or an attribute of one ("billing.apps.X")."""
    facts = index.facts[module]
    for string in facts.strings:
        value = string.value.replace(":", ".")
        if "." not in value or "/" in value or not all(p.isidentifier() for p in value.split(".")):
            continue
        if value.split(".")[0] not in index.top_levels:
            continue
        owner = index.owner_module(value)
        if owner is None or owner == module or owner in index.project.namespace_packages:
            continue
        if owner == value.split(".")[0] and value.count(".") > 1:
            continue  # only the top-level package matched: the rest names nothing known
        yield Edge(module, owner, string.line, origin=Origin.FRAMEWORK_STRING)


def _unresolved_dotted_strings(
    index: ProjectIndex, module: str, path: str
) -> Iterable[Diagnostic]:
    """Dotted strings of a module that names project modules by string (a settings file)
    which name no project module: listed, never guessed. Only strings shaped like a dotted
    import path are listed: three parts or more, lower-case but for the last."""
    seen = set()
    for string in index.facts[module].strings:
        value = string.value
        parts = value.replace(":", ".").split(".")
        if len(parts) < 3 or not all(p.isidentifier() for p in parts) or value in seen:
            continue  # "admin.E021" (a check id) and "http.disconnect" (an event) are no paths
        if any(p != p.lower() for p in parts[:-1]):
            continue
        if parts[-1].lower() in _FILE_SUFFIXES or parts[0] in index.top_levels:
            continue
        seen.add(value)
        yield Diagnostic(
            path,
            string.line,
            f"the dotted string '{value}' names no module of the project (third-party or "
            "missing): listed, not linked",
            "unresolved-dotted-string",
        )


def _plugin_targets(index: ProjectIndex) -> dict[str, tuple[str, ...]]:
    return plugin_groups(index.project)


def _entry_point_edges(
    index: ProjectIndex, module: str, plugin_targets: dict[str, tuple[str, ...]]
) -> Iterable[Edge]:
    """A module naming an entry-point group by string (`entry_points(group="acme.plugins")`)
    loads that group's plugins: candidate edges to the plugin modules of the project."""
    if not plugin_targets:
        return
    for string in index.facts[module].strings:
        for target in plugin_targets.get(string.value, ()):
            if target != module:
                yield Edge(
                    module,
                    target,
                    string.line,
                    origin=Origin.ENTRY_POINT,
                    confidence=Confidence.CANDIDATE,
                )


def _stdlib_shadows(index: ProjectIndex) -> Iterable[Diagnostic]:
    """Project modules named like a standard-library module: a hazard whenever their
    folder is on `sys.path` (a script run from it, or a top-level module)."""
    for name, file in sorted(index.files.items()):
        leaf = name.rsplit(".", 1)[-1]
        if leaf.startswith("__") or not is_stdlib(leaf):
            continue
        if "." in name:
            where = (
                f"it shadows the standard-library module '{leaf}' for code run with its "
                "folder on sys.path (a script in that folder)"
            )
        else:
            where = f"as a top-level module it shadows the standard-library module '{leaf}'"
        yield Diagnostic(file.path, 1, f"module {name}: {where}", "stdlib-shadow")


def _shortest_cycle(graph: nx.DiGraph) -> tuple[str, ...]:
    """A shortest cycle of `graph` (first in name order among the shortest), closed: the
    first module is repeated at the end."""
    successors = _sorted_successors(graph)
    predecessors = _predecessors(successors)

    # two modules importing each other: nothing is shorter, and the first such pair wins
    for start, targets in successors.items():
        mutual = set(targets).intersection(predecessors[start])
        if mutual:
            return (start, min(mutual), start)

    best: list[str] | None = None
    for start in successors:
        parents = _search_back(successors, start, predecessors[start])
        for source in predecessors[start]:
            if source in parents:
                path = _path_to(parents, source)
                if best is None or len(path) + 1 < len(best):
                    best = [*path, start]
    return tuple(best or ())


def _breaking_edges(graph: nx.DiGraph) -> tuple[tuple[str, str], ...]:
    """A greedy set of edges whose removal leaves `graph` acyclic, most-breaking first.

    Each round takes the shortest cycle through every edge still on a cycle, then picks
    edges one at a time, each the one on most of the cycles not yet broken (ties by name),
    until all are broken; rounds repeat while a cycle remains. The exact minimum is NP-hard.
    """
    remaining = nx.DiGraph(graph)
    chosen: list[tuple[str, str]] = []
    cycles = _short_cycles(remaining)
    while cycles:
        # how many unbroken cycles each edge is on, kept up to date as cycles break
        counts: Counter[tuple[str, str]] = Counter()
        holding: dict[tuple[str, str], list[int]] = {}
        for number, cycle in enumerate(cycles):
            for edge in cycle:
                counts[edge] += 1
                holding.setdefault(edge, []).append(number)
        ranked = [(-count, edge) for edge, count in counts.items()]
        heapq.heapify(ranked)
        broken = [False] * len(cycles)
        while counts:
            negative, edge = heapq.heappop(ranked)
            if counts.get(edge) != -negative:
                continue  # a stale rank: the edge's count has dropped since
            chosen.append(edge)
            remaining.remove_edge(*edge)
            for number in holding[edge]:
                if broken[number]:
                    continue
                broken[number] = True
                for other in cycles[number]:
                    counts[other] -= 1
                    if counts[other]:
                        heapq.heappush(ranked, (-counts[other], other))
                    else:
                        del counts[other]
        cycles = _short_cycles(remaining)
    return tuple(chosen)


def _short_cycles(graph: nx.DiGraph) -> list[frozenset[tuple[str, str]]]:
    """The shortest cycle through each edge that lies on a cycle, as sets of edges
    (sorted, duplicates removed). Among equally short paths, a breadth-first search that
    takes successors in name order decides."""
    found: set[tuple[str, ...]] = set()
    for component in nx.strongly_connected_components(graph):
        if len(component) < 2:
            continue
        # modules as numbers in name order: the searches run on plain lists of ints
        names = sorted(component)
        number = {name: position for position, name in enumerate(names)}
        successors = {
            number[name]: sorted(number[t] for t in graph.successors(name) if t in component)
            for name in names
        }
        predecessors = _predecessors(successors)
        for start in successors:
            parents = _search_back(successors, start, predecessors[start])
            for last in predecessors[start]:
                cycle = _path_to(parents, last)
                first = cycle.index(min(cycle))
                found.add(tuple(names[n] for n in cycle[first:] + cycle[:first]))
    return [frozenset(zip(cycle, cycle[1:] + cycle[:1], strict=True)) for cycle in sorted(found)]


def _sorted_successors(graph: nx.DiGraph) -> dict[str, list[str]]:
    """Plain adjacency lists in name order (searches over them are many times faster than
    over networkx views, and do not depend on insertion or hash order)."""
    return {node: sorted(graph.successors(node)) for node in sorted(graph.nodes)}


def _predecessors(successors: dict[_Node, list[_Node]]) -> dict[_Node, list[_Node]]:
    """Reverse adjacency lists, in node order."""
    predecessors: dict[_Node, list[_Node]] = {node: [] for node in successors}
    for node, targets in successors.items():
        for target in targets:
            predecessors[target].append(node)
    return predecessors


def _search_back(
    successors: dict[_Node, list[_Node]], start: _Node, wanted: list[_Node]
) -> dict[_Node, _Node | None]:
    """Breadth-first from `start` until every module of `wanted` is reached: the parent
    of each module reached (its first discoverer), so paths are the breadth-first ones."""
    parents: dict[_Node, _Node | None] = {start: None}
    missing = set(wanted)
    missing.discard(start)
    left = len(missing)
    queue = [start]
    for node in queue:
        if not left:
            break
        for target in successors[node]:
            if target not in parents:
                parents[target] = node
                queue.append(target)
                if target in missing:
                    left -= 1
    return parents


def _path_to(parents: dict[_Node, _Node | None], end: _Node) -> list[_Node]:
    path = []
    node: _Node | None = end
    while node is not None:
        path.append(node)
        node = parents[node]
    path.reverse()
    return path


def _diagnostic_key(diagnostic: Diagnostic) -> tuple:
    return (diagnostic.path, diagnostic.line, diagnostic.kind, diagnostic.message)
