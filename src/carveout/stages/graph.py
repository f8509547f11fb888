"""Build the module graph: one tagged edge per import statement, and the cycles in it.

Edges keep how they came to be (origin), where they run (scope), what guards them and how
sure carveout is. Type-checking-only and implicit-parent edges stay in the graph for the
questions they answer, but not in runtime cycles (`Edge.is_runtime`).
"""

from __future__ import annotations

import heapq
import itertools
import posixpath
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from carveout.domain.facts import Confidence, Diagnostic, Guard, ImportFact, Origin, Scope
from carveout.domain.model import Cycle, Edge, Module, ModuleKind
from carveout.stages.discover import plugin_groups
from carveout.stages.resolve import ProjectIndex, ResolvedImport, is_stdlib

_IMPORT_TIME_SCOPES = frozenset({Scope.MODULE, Scope.CONDITIONAL, Scope.CLASS})
# enum members read once (`Origin.IMPLICIT_PARENT` costs a slow class attribute lookup)
_IMPLICIT_PARENT, _EXACT, _CANDIDATE = (
    Origin.IMPLICIT_PARENT,
    Confidence.EXACT,
    Confidence.CANDIDATE,
)
# an edge's fields in the order of `Edge.sort_key`
_EdgeFields = tuple[str, str, int, Origin, Scope, Guard, Confidence, bool, bool]
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
    edges = _EdgeSet(index)
    ordered: list[Edge] = []
    diagnostics: list[Diagnostic] = []
    plugin_targets = _plugin_targets(index)
    for name in sorted(index.files):
        facts = index.facts.get(name)
        if facts is None:
            continue
        path = index.files[name].path
        extra_roots = _extra_roots(index, name)
        for fact, resolved in zip(facts.imports, index.resolved_imports(name), strict=True):
            _add_import(edges, name, path, fact, resolved, extra_roots, diagnostics)
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
        strings = list(_framework_string_targets(index, name))
        for target, line in strings:
            edges.add(name, target, line, origin=Origin.FRAMEWORK_STRING)
        if strings:
            diagnostics.extend(_unresolved_dotted_strings(index, name, path))
        for target, line in _entry_point_targets(index, name, plugin_targets):
            edges.add(
                name, target, line, origin=Origin.ENTRY_POINT, confidence=Confidence.CANDIDATE
            )
        # every edge found for this module starts at it, and modules come in name order
        ordered.extend(edges.take_records())
    diagnostics.extend(_stdlib_shadows(index))
    return ModuleGraph(
        modules, tuple(ordered), tuple(sorted(set(diagnostics), key=_diagnostic_key))
    )


def find_cycles(edges: Sequence[Edge]) -> tuple[Cycle, ...]:
    """Every strongly connected component of the runtime graph, with a shortest cycle.

    Only `Edge.is_runtime` edges count (no type-checking-only, implicit-parent or external
    edges). A component is deferred when no cycle in it uses import-time edges only (module,
    conditional and class-body scope): every loop goes through an import inside a function.
    `path` is a shortest import-time cycle when there is one, else a shortest cycle; it
    starts and ends with the same module. Breaking edges are chosen greedily, each the edge
    on most of the component's remaining (sampled) cycles, so the list is ranked.
    """
    runtime_pairs: set[tuple[str, str]] = set()
    import_time_pairs: set[tuple[str, str]] = set()
    for edge in edges:
        if edge.source == edge.target or not edge.is_runtime:
            continue
        pair = (edge.source, edge.target)
        runtime_pairs.add(pair)
        if edge.scope in _IMPORT_TIME_SCOPES:
            import_time_pairs.add(pair)
    runtime = _Digraph.of(runtime_pairs)
    import_time = _Digraph.of(import_time_pairs, runtime.names)

    cycles = []
    for component in _components(runtime.successors):
        if len(component) < 2:
            continue
        sub = runtime.restricted(component)
        timed = import_time.restricted(component)
        deferred = all(len(inner) < 2 for inner in _components(timed.successors))
        path = _shortest_cycle(sub if deferred else timed)
        cycles.append(Cycle(sub.names, path, deferred, _breaking_edges(sub)))
    return tuple(sorted(cycles, key=lambda c: c.modules))


def implicit_loads(
    edges: Sequence[Edge], module: str, include_external: bool = False
) -> frozenset[str]:
    """What importing `module` loads at import time: the project modules reached through
    import-time edges (implicit parents included) from `module` and its own parent packages,
    and with `include_external` the third-party top-level packages those import.
    Type-checking-only and function-level imports do not load anything at import time."""
    successors: dict[str, list[str]] = {}
    for edge in edges:
        if edge.scope in _IMPORT_TIME_SCOPES and edge.guard is not Guard.TYPE_CHECKING:
            if edge.external and not include_external:
                continue
            successors.setdefault(edge.source, []).append(edge.target)
    parts = module.split(".")
    starts = [".".join(parts[:end]) for end in range(1, len(parts) + 1)]
    loaded: set[str] = set()
    waiting = [start for start in starts if start in successors]
    while waiting:
        for target in successors.get(waiting.pop(), ()):
            if target not in loaded:
                loaded.add(target)
                waiting.append(target)
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


class _EdgeSet:
    """The edges found so far, each kept as a tuple of its fields in the order of
    `Edge.sort_key` (members of a str-valued enum compare as their values, so the tuples
    sort as the records do). `from m import a, b, c` gives one edge per name, all the same:
    duplicates are dropped before a record is built (a big monolith has a hundred thousand
    edges or more)."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.found: set[_EdgeFields] = set()
        self._parents: dict[tuple[str, str], tuple[str, ...]] = {}

    def add(
        self,
        source: str,
        target: str,
        line: int,
        scope: Scope = Scope.MODULE,
        guard: Guard = Guard.NONE,
        origin: Origin = Origin.IMPORT,
        confidence: Confidence = Confidence.EXACT,
        external: bool = False,
        canonical: bool = True,
    ) -> None:
        """Add an edge; the arguments are `Edge`'s fields, with the same defaults."""
        self.found.add(
            (source, target, line, origin, scope, guard, confidence, external, canonical)
        )

    def add_parents(
        self, importer: str, target: str, line: int, scope: Scope, guard: Guard, below: str = ""
    ) -> None:
        """Importing `a.b.c` runs `a/__init__.py` and `a/b/__init__.py` first: implicit-parent
        edges to the regular packages above `target` (below the folder `below` when the
        import went through a folder put on the path). Namespace packages run no code."""
        parents = self._parents.get((target, below))
        if parents is None:
            parents = _parent_packages(self.index, target, below)
            self._parents[(target, below)] = parents
        for parent in parents:
            if parent != importer:
                self.found.add(
                    (importer, parent, line, _IMPLICIT_PARENT, scope, guard, _EXACT, False, True)
                )

    def take_records(self) -> list[Edge]:
        """The edges found so far as records, in the order of `Edge.sort_key`; the set is
        left empty."""
        found, self.found = self.found, set()
        return [
            Edge(source, target, line, scope, guard, origin, confidence, external, canonical)
            for (
                source,
                target,
                line,
                origin,
                scope,
                guard,
                confidence,
                external,
                canonical,
            ) in sorted(found)
        ]


def _add_import(
    edges: _EdgeSet,
    importer: str,
    path: str,
    fact: ImportFact,
    resolved: ResolvedImport,
    extra_roots: tuple[str, ...],
    diagnostics: list[Diagnostic],
) -> None:
    index = edges.index
    line, scope, guard, origin = fact.line, fact.scope, fact.guard, fact.origin

    # a literal prefix (f"app.plugins_{n}"): candidate edges to every module it can name
    if fact.is_prefix:
        base = index.absolute_base(importer, fact)
        matches = sorted(m for m in index.files if base and m.startswith(base) and m != importer)
        for module in matches:
            edges.add(
                importer,
                module,
                line,
                origin=Origin.DYNAMIC,
                confidence=Confidence.CANDIDATE,
                scope=scope,
                guard=guard,
            )
        diagnostics.append(
            Diagnostic(
                path,
                line,
                f"dynamic import of a name starting with '{base or fact.module}': "
                f"{len(matches)} project module(s) match, linked as candidates",
                "dynamic-import",
            )
        )
        return

    if resolved.unresolved and resolved.target is None:
        diagnostics.append(Diagnostic(path, line, resolved.unresolved, "unresolved-import"))
        # a missing (or compiled) module: the packages above it still run
        edges.add_parents(importer, resolved.qualified, line, scope, guard)
        return
    if resolved.external is not None:
        rerooted = _through_extra_roots(index, resolved.qualified, extra_roots)
        if rerooted is not None:
            prefix, found = rerooted
            edges.add(
                importer, found, line, origin=origin, canonical=False, scope=scope, guard=guard
            )
            edges.add_parents(importer, found, line, scope, guard, below=prefix)
            return
        if "?" in extra_roots and not is_stdlib(resolved.external):
            diagnostics.append(
                Diagnostic(
                    path,
                    line,
                    f"import of {resolved.qualified} may resolve through a sys.path change "
                    "carveout cannot fold to a constant",
                    "unresolved-import",
                )
            )
        edges.add(importer, resolved.external, line, scope, guard, origin, _EXACT, True, True)
        return
    if resolved.unresolved:
        diagnostics.append(Diagnostic(path, line, resolved.unresolved, "unresolved-import"))
    target = resolved.target
    if target is None or target == importer:
        return
    confidence = _CANDIDATE if resolved.unresolved else _EXACT
    edges.add(importer, target, line, scope, guard, origin, confidence, False, resolved.canonical)
    # reached through an inner folder on the path: only the parents under that folder run
    edges.add_parents(importer, target, line, scope, guard, below=resolved.through)


def _parent_packages(index: ProjectIndex, target: str, below: str) -> tuple[str, ...]:
    """The regular packages above `target` whose `__init__.py` runs when it is imported,
    deepest first (only those under the package `below` when it is given)."""
    parts = target.split(".")
    skip = below.count(".") + 1 if below else 0
    parents = (".".join(parts[:end]) for end in range(len(parts) - 1, skip, -1))
    return tuple(parent for parent in parents if parent in index.files)


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


def _framework_string_targets(index: ProjectIndex, module: str) -> Iterable[tuple[str, int]]:
    """(module, line) of each dotted string naming a project module or an attribute of one
    ("billing.apps.X")."""
    facts = index.facts[module]
    for string in facts.strings:
        value = string.value.replace(":", ".")
        head, dot, _ = value.partition(".")
        if not dot or head not in index.top_levels or "/" in value:
            continue
        if not all(p.isidentifier() for p in value.split(".")):
            continue
        owner = index.owner_module(value)
        if owner is None or owner == module or owner in index.project.namespace_packages:
            continue
        if owner == value.split(".")[0] and value.count(".") > 1:
            continue  # only the top-level package matched: the rest names nothing known
        yield owner, string.line


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


def _entry_point_targets(
    index: ProjectIndex, module: str, plugin_targets: dict[str, tuple[str, ...]]
) -> Iterable[tuple[str, int]]:
    """A module naming an entry-point group by string (`entry_points(group="acme.plugins")`)
    loads that group's plugins: (plugin module, line) for candidate edges to the plugin
    modules of the project."""
    if not plugin_targets:
        return
    for string in index.facts[module].strings:
        for target in plugin_targets.get(string.value, ()):
            if target != module:
                yield target, string.line


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


@dataclass(frozen=True, slots=True)
class _Digraph:
    """Modules numbered in name order, each with its successors as a sorted list of numbers.

    The cycle searches run on these plain lists: many times faster than networkx views, and
    independent of insertion or hash order. Number order is name order, so ties broken by
    number are broken by name.
    """

    names: tuple[str, ...]
    successors: list[list[int]]

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]], names: Sequence[str] = ()) -> _Digraph:
        """The graph of (source, target) pairs over `names` (default: the pairs' modules)."""
        pairs = set(pairs)
        if not names:
            names = sorted({module for pair in pairs for module in pair})
        number = {name: position for position, name in enumerate(names)}
        successors: list[list[int]] = [[] for _ in names]
        for source, target in pairs:
            successors[number[source]].append(number[target])
        for targets in successors:
            targets.sort()
        return cls(tuple(names), successors)

    def restricted(self, nodes: Sequence[int]) -> _Digraph:
        """The subgraph on `nodes` (in increasing order), numbered again from 0."""
        return _Digraph(
            tuple(self.names[node] for node in nodes), _restricted(self.successors, nodes)
        )


def _shortest_cycle(graph: _Digraph) -> tuple[str, ...]:
    """A shortest cycle of `graph` (first in name order among the shortest), closed: the
    first module is repeated at the end."""
    names, successors = graph.names, graph.successors
    predecessors = _predecessors(successors)

    # two modules importing each other: nothing is shorter, and the first such pair wins
    for start, targets in enumerate(successors):
        mutual = set(targets).intersection(predecessors[start])
        if mutual:
            return (names[start], names[min(mutual)], names[start])

    best: list[int] | None = None
    sets = _successor_sets(successors)
    for start, sources in enumerate(predecessors):
        parents = _search_back(sets, start, _bits(sources, len(names)))
        for source in sources:
            if source in parents:
                path = _path_to(parents, start, source)
                if best is None or len(path) + 1 < len(best):
                    best = [*path, start]
    return tuple(names[node] for node in best or ())


def _breaking_edges(graph: _Digraph) -> tuple[tuple[str, str], ...]:
    """A greedy set of edges whose removal leaves `graph` acyclic, most-breaking first.

    Each round takes the shortest cycle through every edge still on a cycle, then picks
    edges one at a time, each the one on most of the cycles not yet broken (ties by name),
    until all are broken; rounds repeat while a cycle remains. The exact minimum is NP-hard.
    """
    size = len(graph.names)
    # an edge is the number source * size + target (so number order is name order), and
    # its rank the one int edge - count * span: the smallest rank is the edge on most
    # cycles, ties going to the first edge (comparing ints is faster than tuples)
    span = size * size
    remaining = [list(targets) for targets in graph.successors]
    chosen: list[int] = []
    cycles = _short_cycles(remaining)
    while cycles:
        # how many unbroken cycles each edge is on, kept up to date as cycles break
        counts = Counter(itertools.chain.from_iterable(cycles))
        holding: defaultdict[int, list[int]] = defaultdict(list)
        for number, cycle in enumerate(cycles):
            for edge in cycle:
                holding[edge].append(number)
        # ranks may be stale (an edge's count only drops): a stale one is put back with the
        # edge's count, so the first rank that is up to date is the best edge; once more
        # counts have dropped than there are ranks, the ranks are made again (the first
        # pick of a big monolith breaks nearly every cycle)
        ranked = [edge - count * span for edge, count in counts.items()]
        heapq.heapify(ranked)
        broken = [False] * len(cycles)
        unbroken = len(cycles)
        dropped = 0
        while unbroken:
            negative, edge = divmod(ranked[0], span)
            count = counts[edge]
            if count != -negative:
                if count:
                    heapq.heapreplace(ranked, edge - count * span)
                else:
                    heapq.heappop(ranked)
                continue
            heapq.heappop(ranked)
            chosen.append(edge)
            remaining[edge // size].remove(edge % size)
            for number in holding[edge]:
                if not broken[number]:
                    broken[number] = True
                    unbroken -= 1
                    for other in cycles[number]:
                        counts[other] -= 1
                    dropped += len(cycles[number])
            if dropped > len(ranked):
                ranked = [edge - count * span for edge, count in counts.items() if count]
                heapq.heapify(ranked)
                dropped = 0
        cycles = _short_cycles(remaining)
    return tuple((graph.names[edge // size], graph.names[edge % size]) for edge in chosen)


def _short_cycles(successors: list[list[int]]) -> list[list[int]]:
    """The shortest cycle through each edge that lies on a cycle, as lists of edges
    (numbered as in `_breaking_edges`; duplicates removed). Among equally short paths, a
    breadth-first search that takes successors in name order decides. The order of the
    list does not matter to `_breaking_edges`: its picks depend only on the counts."""
    size = len(successors)
    found: set[tuple[int, ...]] = set()
    for component in _components(successors):
        if len(component) < 2:
            continue
        whole = len(component) == size  # numbered as in `successors` already
        local = successors if whole else _restricted(successors, component)
        predecessors = _predecessors(local)
        sets = _successor_sets(local)
        for start, sources in enumerate(predecessors):
            parents = _search_back(sets, start, _bits(sources, len(local)))
            for last in sources:
                cycle = _path_to(parents, start, last)
                if not whole:
                    cycle = [component[node] for node in cycle]
                first = cycle.index(min(cycle))
                found.add(tuple(cycle[first:] + cycle[:first]))
    return [
        [
            source * size + target
            for source, target in zip(cycle, cycle[1:] + cycle[:1], strict=True)
        ]
        for cycle in found
    ]


def _components(successors: list[list[int]]) -> list[list[int]]:
    """The strongly connected components (Tarjan's algorithm, without recursion), each as
    a sorted list of node numbers."""
    size = len(successors)
    index = [-1] * size
    low = [0] * size
    on_stack = [False] * size
    stack: list[int] = []
    found: list[list[int]] = []
    counter = 0
    for root in range(size):
        if index[root] >= 0:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        # the depth-first path: each node with an iterator over the successors left to see
        work = [(root, iter(successors[root]))]
        while work:
            node, targets = work[-1]
            for target in targets:
                if index[target] < 0:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack[target] = True
                    work.append((target, iter(successors[target])))
                    break
                if on_stack[target] and index[target] < low[node]:
                    low[node] = index[target]
            else:
                work.pop()
                if work and low[node] < low[work[-1][0]]:
                    low[work[-1][0]] = low[node]
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack[member] = False
                        component.append(member)
                        if member == node:
                            break
                    found.append(sorted(component))
    return found


def _restricted(successors: list[list[int]], nodes: Sequence[int]) -> list[list[int]]:
    """The successor lists of the subgraph on `nodes` (in increasing order), numbered again
    from 0."""
    local = {node: position for position, node in enumerate(nodes)}
    return [[local[t] for t in successors[node] if t in local] for node in nodes]


def _predecessors(successors: list[list[int]]) -> list[list[int]]:
    """Reverse adjacency lists, in number order."""
    predecessors: list[list[int]] = [[] for _ in successors]
    for node, targets in enumerate(successors):
        for target in targets:
            predecessors[target].append(node)
    return predecessors


# Breadth-first searches hold sets of modules as ints used as bit sets: module v of n is
# bit n - 1 - v, so that the lowest-numbered module of a set is its highest bit. One `&`
# then finds every successor not seen yet, instead of a Python loop over the successors
# (a module that imports every integration has thousands), and only the modules the search
# goes on from are taken out of the sets one by one. On homeassistant (5,709 searches in
# a 5,635-module component) a search goes on from about 90 modules but sees about 1,900:
# 7x faster than the plain search over lists, which `tests/test_graph_perf.py` compares.


def _bits(nodes: Iterable[int], size: int) -> int:
    top = size - 1
    bits = 0
    for node in nodes:
        bits |= 1 << (top - node)
    return bits


def _successor_sets(successors: list[list[int]]) -> list[int]:
    return [_bits(targets, len(successors)) for targets in successors]


def _search_back(sets: list[int], start: int, wanted: int) -> dict[int, int]:
    """Breadth-first from `start` (successors in number order) until every module of the
    set `wanted` is reached. Returns the parent (first discoverer) of each module of
    `wanted` reached and of each module the search went on from, so that the paths to
    the wanted modules are the breadth-first ones; `start` is its own parent. (A module's
    first discoverer is known once it is reached: going on would change no such path.)"""
    top = len(sets) - 1
    parents = {start: start}
    unseen = ((1 << len(sets)) - 1) ^ (1 << (top - start))
    missing = wanted & unseen
    if not missing:
        return parents
    # the queue: the modules each expanded module saw first, in the order of expansion
    queue: list[tuple[int, int]] = []
    taken = 0
    owner, rest = start, 0
    node = start
    while True:
        fresh = sets[node] & unseen
        if fresh:
            unseen ^= fresh
            queue.append((node, fresh))
            found = fresh & missing
            if found:
                missing ^= found
                while found:
                    bit = found.bit_length() - 1
                    found ^= 1 << bit
                    parents[top - bit] = node
                if not missing:
                    return parents
        # the next module in the queue: the lowest of the current set, else the next set
        while not rest:
            if taken == len(queue):
                return parents
            owner, rest = queue[taken]
            taken += 1
        bit = rest.bit_length() - 1
        rest ^= 1 << bit
        node = top - bit
        parents[node] = owner


def _path_to(parents: dict[int, int], start: int, end: int) -> list[int]:
    path = [end]
    node = end
    while node != start:
        node = parents[node]
        path.append(node)
    path.reverse()
    return path


def _diagnostic_key(diagnostic: Diagnostic) -> tuple:
    return (diagnostic.path, diagnostic.line, diagnostic.kind, diagnostic.message)
