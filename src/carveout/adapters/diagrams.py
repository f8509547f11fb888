"""The module graph and the proposed services as pictures: Graphviz DOT, Mermaid, and SVG.

Both formats draw the same view (one cluster per proposed service, the monolith as one more,
AI modules and cycle edges marked), collapsed to packages when the graph is too large for a
layout to be readable. Output is deterministic: nodes and edges are sorted, ids quoted.
"""

from __future__ import annotations

import heapq
import logging
import math
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from carveout.domain.facts import Origin
from carveout.domain.model import Analysis, Edge, ModuleLabel
from carveout.domain.wording import plural

logger = logging.getLogger(__name__)

DEFAULT_COLLAPSE_THRESHOLD = 150
DEFAULT_MAX_LINKS = 300
DEFAULT_DOT_TIMEOUT = 60.0
MONOLITH = "monolith"

GRAPHVIZ_INSTALL_HINT = (
    "install it with 'apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' "
    "(macOS) or see https://graphviz.org/download/"
)

# One palette for DOT, Mermaid and the HTML legend (which reads these names).
COLOURS = {
    "ai_direct_fill": "#ffd8a8",
    "ai_direct_line": "#e8590c",
    "ai_orchestration_fill": "#fff3bf",
    "ai_orchestration_line": "#f59f00",
    "module_fill": "#ffffff",
    "module_line": "#868e96",
    "cycle": "#e03131",
    "deferred_cycle": "#f08c00",
    "edge": "#868e96",
    "non_runtime_edge": "#adb5bd",
    "service_cluster": "#e7f5ff",
    "service_line": "#1c7ed6",
    "monolith_cluster": "#f1f3f5",
    "monolith_line": "#868e96",
    "blocked_line": "#e03131",
}


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One node of the drawn module graph: a module, or a package standing for several."""

    id: str
    label: str
    part: str | None  # a service name, "monolith", or None when the module was not placed
    members: tuple[str, ...]
    capabilities: tuple[str, ...] = ()
    direct_ai: bool = False
    entry_point: bool = False


@dataclass(frozen=True, slots=True)
class GraphLink:
    """The import statements from one drawn node to another, aggregated.

    `style` is "runtime" when at least one statement counts at runtime, "type_checking" when
    all are guarded by TYPE_CHECKING, "implicit_parent" when all are implicit parent-package
    imports (mixed non-runtime statements count as "type_checking"). `cycle` is "import_time",
    "deferred" or None; `breaking` is true when a cycle's breaking edge is among them.
    """

    source: str
    target: str
    statements: int
    lines: tuple[int, ...]
    style: str
    cycle: str | None = None
    breaking: bool = False


@dataclass(frozen=True, slots=True)
class GraphView:
    """What a module diagram shows; `depth` is the package depth kept when collapsed."""

    title: str
    nodes: tuple[GraphNode, ...]
    links: tuple[GraphLink, ...]
    parts: tuple[str, ...]
    module_count: int
    collapsed: bool = False
    depth: int | None = None


def module_graph_view(
    analysis: Analysis,
    *,
    collapse: bool | None = None,
    threshold: int = DEFAULT_COLLAPSE_THRESHOLD,
    max_links: int = DEFAULT_MAX_LINKS,
    implicit_parents: bool = False,
) -> GraphView:
    """Return the module graph as drawn: nodes per part, links aggregated per node pair.

    Nodes are every module the analysis names (modules, placed modules, ends of internal
    edges); external edges are left out (they point at third-party packages). `collapse=None`
    collapses when there are more than `threshold` modules or more than `max_links` drawn
    links (Graphviz's layout time grows steeply with links: ~1 s at 300, ~30 s at 700);
    `True` always collapses at least one level; `False` never does. Collapsing keeps the
    deepest package level whose node count (counted per part, so a package split between
    services stays split) is at most `threshold` and whose link count is at most
    `max_links`; when even top-level packages exceed them, top-level packages are drawn.
    An automatic collapse then opens the largest packages one level at a time while both
    budgets hold, so the detail goes where the modules are (`depth` is the level before
    that; the title gives the package level and the node count).
    Links inside one collapsed node are dropped (they are internal to the package).
    Links made only of implicit parent-package imports (`import a.b.c` also loads `a` and
    `a.b`) are drawn only with `implicit_parents=True`: they tie nearly every module to its
    packages and bury the real structure; the title says how many were left out.
    """
    part_of = module_parts(analysis)
    modules = _drawn_modules(analysis, part_of)

    # Group modules into nodes: one per module, or one per (part, package prefix).
    budget = _Budget(_drawn_pairs(analysis, implicit_parents), threshold, max_links)
    depth: int | None = None
    node_of = {module: module for module in modules}
    if collapse is True or (collapse is None and not budget.holds(node_of)):
        depth = _collapse_depth(modules, part_of, budget, forced=collapse is True)
        node_of = {m: _collapsed_id(m, part_of.get(m), depth) for m in modules}
        if collapse is None:
            node_of = _refine(node_of, part_of, budget)
        logger.debug(
            "module graph collapsed: %d modules as %d nodes",
            len(modules),
            len(set(node_of.values())),
        )
    members: dict[str, list[str]] = defaultdict(list)
    for module in modules:
        members[node_of[module]].append(module)

    labels: dict[str, list[ModuleLabel]] = defaultdict(list)
    for label in analysis.labels:
        labels[label.module].append(label)
    entry_points = {m.name for m in analysis.modules if m.is_entry_point}
    nodes = tuple(
        _node(node_id, tuple(names), part_of, labels, entry_points, collapsed=depth is not None)
        for node_id, names in sorted(members.items())
    )
    links = _links(analysis, node_of)
    hidden = 0
    if not implicit_parents:
        hidden = sum(1 for link in links if link.style == "implicit_parent")
        links = tuple(link for link in links if link.style != "implicit_parent")
    depths = sorted({_prefix(n.id).count(".") + 1 for n in nodes if len(n.members) > 1})
    title = _module_title(analysis, len(modules), len(nodes), len(links), depths, hidden)
    return GraphView(
        title=title,
        nodes=nodes,
        links=links,
        parts=_part_order(analysis, part_of),
        module_count=len(modules),
        collapsed=depth is not None,
        depth=depth,
    )


def render_dot(
    analysis: Analysis,
    *,
    collapse: bool | None = None,
    threshold: int = DEFAULT_COLLAPSE_THRESHOLD,
    max_links: int = DEFAULT_MAX_LINKS,
    implicit_parents: bool = False,
) -> str:
    """Return the module graph as Graphviz DOT source (see `module_graph_view` for collapse).

    One `subgraph "cluster_service_<name>"` per proposed service and `"cluster_monolith"`
    for the rest; AI modules are filled orange (hexagon when they call a provider directly,
    rounded box when they orchestrate), with their capabilities on a second label line and in
    the tooltip; runtime cycle edges are red (orange when the cycle is deferred), a cycle's
    suggested breaking edge is bold and marked "✂"; type-checking-only edges are dashed,
    implicit-parent-only edges dotted (drawn only with `implicit_parents=True`, see
    `module_graph_view`); penwidth grows with the number of import statements.
    """
    view = module_graph_view(
        analysis,
        collapse=collapse,
        threshold=threshold,
        max_links=max_links,
        implicit_parents=implicit_parents,
    )
    return render_view_dot(view)


def render_view_dot(view: GraphView) -> str:
    """Return DOT source for an already computed `GraphView`."""
    out = [
        "digraph carveout_modules {",
        f"  graph [{_attrs(_graph_attrs(view.title))}];",
        f"  node [{_attrs(_default_node_attrs())}];",
        f"  edge [{_attrs(_default_edge_attrs('0.6'))}];",
    ]

    # Clusters: services first (sorted), the monolith last, unplaced nodes outside.
    by_part: dict[str | None, list[GraphNode]] = defaultdict(list)
    for node in view.nodes:
        by_part[node.part].append(node)
    for part in view.parts:
        out.extend(_dot_cluster(part, by_part.get(part, [])))
    for node in by_part.get(None, []):
        out.append(f"  {_dot_node(node)}")

    # Edges, aggregated and sorted by (source, target).
    for link in view.links:
        out.append(
            f"  {_quote(link.source)} -> {_quote(link.target)} [{_attrs(_link_attrs(link))}];"
        )
    out.append("}")
    return "\n".join(out) + "\n"


def render_mermaid(
    analysis: Analysis,
    *,
    collapse: bool | None = None,
    threshold: int = DEFAULT_COLLAPSE_THRESHOLD,
    max_links: int = DEFAULT_MAX_LINKS,
    implicit_parents: bool = False,
) -> str:
    """Return the module graph as a Mermaid flowchart, with the same view as `render_dot`.

    Node ids are `n0, n1, …` in node order (labels carry the module names, entity-escaped);
    services and the monolith are subgraphs; AI modules get class `ai` (direct) or
    `ai_orchestration`; cycle edges are coloured with `linkStyle`; non-runtime edges dashed.
    """
    view = module_graph_view(
        analysis,
        collapse=collapse,
        threshold=threshold,
        max_links=max_links,
        implicit_parents=implicit_parents,
    )
    return render_view_mermaid(view)


def render_view_mermaid(view: GraphView) -> str:
    """Return a Mermaid flowchart for an already computed `GraphView`."""
    ids = {node.id: f"n{index}" for index, node in enumerate(view.nodes)}
    out = [*_mermaid_front_matter(view.title), "flowchart LR"]

    # Subgraphs per part, then unplaced nodes.
    by_part: dict[str | None, list[GraphNode]] = defaultdict(list)
    for node in view.nodes:
        by_part[node.part].append(node)
    for index, part in enumerate(view.parts):
        if not by_part.get(part):
            continue
        out.append(f'  subgraph p{index}["{_mermaid_text(_part_title(part))}"]')
        out.extend(f"    {ids[n.id]}{_mermaid_node_shape(n)}" for n in by_part.get(part, []))
        out.append("  end")
    out.extend(f"  {ids[n.id]}{_mermaid_node_shape(n)}" for n in by_part.get(None, []))

    # Links with their counts; styles by index.
    link_styles: list[str] = []
    for index, link in enumerate(view.links):
        arrow = "-->" if link.style == "runtime" else "-.->"
        label = str(link.statements) if link.statements > 1 else ""
        if link.breaking:
            label = f"{label} ✂".strip()
        text = f"|{_mermaid_text(label)}|" if label else ""
        out.append(f"  {ids[link.source]} {arrow}{text} {ids[link.target]}")
        link_styles.append(f"  linkStyle {index} {_mermaid_link_style(link)}")
    out.extend(link_styles)

    # Classes for AI modules.
    out.append(
        f"  classDef ai fill:{COLOURS['ai_direct_fill']},stroke:{COLOURS['ai_direct_line']},"
        "stroke-width:2px"
    )
    out.append(
        f"  classDef ai_orchestration fill:{COLOURS['ai_orchestration_fill']},"
        f"stroke:{COLOURS['ai_orchestration_line']}"
    )
    direct = [ids[n.id] for n in view.nodes if n.capabilities and n.direct_ai]
    orchestration = [ids[n.id] for n in view.nodes if n.capabilities and not n.direct_ai]
    if direct:
        out.append(f"  class {','.join(direct)} ai")
    if orchestration:
        out.append(f"  class {','.join(orchestration)} ai_orchestration")
    return "\n".join(out) + "\n"


def render_service_dot(analysis: Analysis) -> str:
    """Return the service-level diagram as DOT: services and the monolith as nodes.

    An edge A -> B carries the number of runtime import edges from modules of A to modules
    of B (label and penwidth). AI services are filled orange with their capabilities listed;
    services with blockers get a red border and the blocker count.
    """
    parts, links = _service_links(analysis)
    title = f"{analysis.project.name}: proposed services ({len(parts)} parts)"
    out = [
        "digraph carveout_services {",
        f"  graph [{_attrs(_graph_attrs(title))}];",
        f"  node [{_attrs(_default_node_attrs())}];",
        f"  edge [{_attrs(_default_edge_attrs('0.7'))}];",
    ]
    for part in parts:
        out.append(f"  {_quote(part)} [{_attrs(_service_node_attrs(analysis, part))}];")
    for (source, target), count in links:
        attrs = {
            "label": str(count),
            "penwidth": _penwidth(count),
            "tooltip": f"{source} → {target}: {plural(count, 'runtime import edge')}",
        }
        out.append(f"  {_quote(source)} -> {_quote(target)} [{_attrs(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def render_service_mermaid(analysis: Analysis) -> str:
    """Return the service-level diagram as a Mermaid flowchart (same content as DOT)."""
    parts, links = _service_links(analysis)
    ids = {part: f"s{index}" for index, part in enumerate(parts)}
    title = f"{analysis.project.name}: proposed services ({len(parts)} parts)"
    out = [*_mermaid_front_matter(title), "flowchart LR"]
    ai_ids = []
    for part in parts:
        lines = _service_label_lines(analysis, part)
        label = "<br/>".join(_mermaid_text(line) for line in lines)
        shape = f'[("{label}")]' if part == MONOLITH else f'(["{label}"])'
        out.append(f"  {ids[part]}{shape}")
        if _service_capabilities(analysis, part):
            ai_ids.append(ids[part])
    for (source, target), count in links:
        out.append(f"  {ids[source]} -->|{count}| {ids[target]}")
    for index, (_, count) in enumerate(links):
        out.append(f"  linkStyle {index} stroke-width:{_penwidth(count)}px")
    out.append(
        f"  classDef ai fill:{COLOURS['ai_direct_fill']},stroke:{COLOURS['ai_direct_line']}"
    )
    if ai_ids:
        out.append(f"  class {','.join(ai_ids)} ai")
    return "\n".join(out) + "\n"


def render_svg(
    dot_source: str,
    *,
    executable: str = "dot",
    timeout: float = DEFAULT_DOT_TIMEOUT,
) -> tuple[str | None, str | None]:
    """Lay out `dot_source` with Graphviz; return `(svg, None)` or `(None, reason)`.

    Never raises for a missing, failing or slow Graphviz: the reason says what happened and
    what to do. The SVG has its XML prolog, DOCTYPE and comments (which carry the Graphviz
    version) removed, so it can be inlined in HTML and stays stable across Graphviz builds
    as far as the layout allows.
    """
    return start_svg(dot_source, executable=executable, timeout=timeout).result()


def start_svg(
    dot_source: str,
    *,
    executable: str = "dot",
    timeout: float = DEFAULT_DOT_TIMEOUT,
) -> SvgLayout:
    """Start laying out `dot_source` with Graphviz and return without waiting for it.

    The layout's `result()` gives what `render_svg` gives; `timeout` counts from now.
    Graphviz runs in its own process, so a caller that starts its diagrams first and
    collects them last has them laid out while it builds the rest of the report.
    """
    resolved = shutil.which(executable)
    if resolved is None:
        return SvgLayout.failed(f"Graphviz '{executable}' not found: {GRAPHVIZ_INSTALL_HINT}")

    # Source, SVG and messages go through temporary files: no pipe can fill up and stall
    # Graphviz while the caller is busy elsewhere. The layout closes SVG and messages.
    output = tempfile.TemporaryFile()  # noqa: SIM115
    messages = tempfile.TemporaryFile()  # noqa: SIM115
    with tempfile.TemporaryFile() as source:
        source.write(dot_source.encode("utf-8"))
        source.seek(0)
        try:
            process = subprocess.Popen(
                [resolved, "-Tsvg"], stdin=source, stdout=output, stderr=messages
            )
        except OSError as error:
            output.close()
            messages.close()
            return SvgLayout.failed(
                f"Graphviz '{executable}' could not be run ({error}): {GRAPHVIZ_INSTALL_HINT}"
            )
    logger.debug("Graphviz started on %d bytes of DOT", len(dot_source))
    return SvgLayout(executable, timeout, process, output, messages)


class SvgLayout:
    """A Graphviz layout started by `start_svg`: `result()` waits for it (once; later
    calls give the same answer), `cancel()` stops it when its result is not wanted."""

    def __init__(
        self,
        executable: str,
        timeout: float,
        process: subprocess.Popen[bytes] | None,
        output: IO[bytes] | None,
        messages: IO[bytes] | None,
    ) -> None:
        self._executable = executable
        self._timeout = timeout
        self._deadline = time.monotonic() + timeout
        self._process = process
        self._output = output
        self._messages = messages
        self._outcome: tuple[str | None, str | None] | None = None

    @classmethod
    def failed(cls, problem: str) -> SvgLayout:
        """A layout that could not start: `result()` is `(None, problem)`."""
        layout = cls("", 0.0, None, None, None)
        layout._outcome = (None, problem)
        return layout

    def result(self) -> tuple[str | None, str | None]:
        """`(svg, None)` or `(None, reason)`, as `render_svg` returns them."""
        if self._outcome is None:
            try:
                self._outcome = self._wait()
            finally:
                self._close()
        return self._outcome

    def cancel(self) -> None:
        """Stop Graphviz if it still runs and drop its files; `result()` then gives a reason."""
        if self._outcome is None:
            if self._process is not None and self._process.poll() is None:
                self._process.kill()
                self._process.wait()
            self._outcome = (None, f"Graphviz '{self._executable}' was stopped")
            self._close()

    def _wait(self) -> tuple[str | None, str | None]:
        assert self._process is not None and self._output is not None
        assert self._messages is not None
        executable = self._executable
        try:
            returncode = self._process.wait(max(0.0, self._deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            return None, (
                f"Graphviz '{executable}' did not finish within {self._timeout:g} s; the "
                "diagram was left out (collapse the graph to packages or lower the collapse "
                "threshold)"
            )
        if returncode != 0:
            self._messages.seek(0)
            stderr = self._messages.read().decode("utf-8", "replace").strip().splitlines()
            detail = "; ".join(stderr[:3]) or "no message"
            return None, f"Graphviz '{executable}' failed (exit {returncode}): {detail}"
        self._output.seek(0)
        svg = clean_svg(self._output.read().decode("utf-8", "replace"))
        if "<svg" not in svg:
            return None, f"Graphviz '{executable}' produced no SVG"
        return svg, None

    def _close(self) -> None:
        for stream in (self._output, self._messages):
            if stream is not None:
                stream.close()


def clean_svg(svg: str) -> str:
    """Strip the XML prolog, DOCTYPE and comments from Graphviz's SVG output."""
    svg = re.sub(r"<\?xml[^>]*\?>", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>", "", svg, flags=re.IGNORECASE)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL)
    svg = re.sub(r"\n\s*\n+", "\n", svg)
    return svg.strip() + "\n"


def module_parts(analysis: Analysis) -> dict[str, str]:
    """Map each placed module to its part: a service name or "monolith".

    Service membership wins, then the monolith list, then placements (first service in name
    order wins if a module is listed twice, so the answer is deterministic).
    """
    part_of: dict[str, str] = {}
    for service in sorted(analysis.proposal.services, key=lambda s: s.name):
        for module in service.modules:
            part_of.setdefault(module, service.name)
    for module in analysis.proposal.monolith:
        part_of.setdefault(module, MONOLITH)
    for placement in sorted(analysis.proposal.placements, key=lambda p: (p.module, p.part)):
        part_of.setdefault(placement.module, placement.part)
    return part_of


# --- private helpers: building the view ------------------------------------------------


def _drawn_modules(analysis: Analysis, part_of: dict[str, str]) -> list[str]:
    """Every module the analysis names: modules, placed modules, internal edge ends."""
    names = {m.name for m in analysis.modules} | set(part_of)
    for edge in analysis.edges:
        if not edge.external:
            names.update((edge.source, edge.target))
    return sorted(names)


@dataclass(frozen=True, slots=True)
class _Budget:
    """How many nodes and links a drawing may have; `pairs` are the module pairs drawn."""

    pairs: frozenset[tuple[str, str]]
    nodes: int
    links: int

    def holds(self, node_of: dict[str, str]) -> bool:
        if len(set(node_of.values())) > self.nodes:
            return False
        links = {(node_of[s], node_of[t]) for s, t in self.pairs}
        return len(links) - sum(1 for s, t in links if s == t) <= self.links


def _drawn_pairs(analysis: Analysis, implicit_parents: bool) -> frozenset[tuple[str, str]]:
    return frozenset(
        {
            (e.source, e.target)
            for e in analysis.edges
            if not e.external
            and e.source != e.target
            and (implicit_parents or e.origin is not Origin.IMPLICIT_PARENT)
        }
    )


def _collapse_depth(
    modules: list[str], part_of: dict[str, str], budget: _Budget, *, forced: bool
) -> int:
    deepest = max((m.count(".") + 1 for m in modules), default=1)
    start = deepest - 1 if forced else deepest
    for depth in range(max(start, 1), 0, -1):
        if budget.holds({m: _collapsed_id(m, part_of.get(m), depth) for m in modules}):
            return depth
    return 1


def _collapsed_id(module: str, part: str | None, depth: int) -> str:
    prefix = ".".join(module.split(".")[:depth])
    return prefix if part is None else f"{part}::{prefix}"


def _prefix(node_id: str) -> str:
    """The package prefix of a node id (`part::prefix`, or a plain module name)."""
    return node_id.split("::", 1)[-1]


def _refine(node_of: dict[str, str], part_of: dict[str, str], budget: _Budget) -> dict[str, str]:
    """Open collapsed packages one level deeper, largest first, while the budget holds.

    Gives what asking `budget.holds` about each opened package gives; the drawn links are
    counted once and then kept up to date, because opening a package changes only the
    links of the module pairs that touch it (a full count per package took most of the
    diagram's time on a big monolith).
    """
    node_of = dict(node_of)
    groups: dict[str, list[str]] = defaultdict(list)
    for module, node_id in node_of.items():
        groups[node_id].append(module)
    touching: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for pair in budget.pairs:
        touching[pair[0]].append(pair)
        touching[pair[1]].append(pair)
    # How many module pairs each node pair stands for; self links count, but are not drawn.
    links = Counter((node_of[s], node_of[t]) for s, t in budget.pairs)
    drawn = sum(1 for s, t in links if s != t)
    heap = [(-len(ms), node_id) for node_id, ms in groups.items() if len(ms) > 1]
    heapq.heapify(heap)
    while heap:
        _, node_id = heapq.heappop(heap)
        depth = _prefix(node_id).count(".") + 2
        opened = {m: _collapsed_id(m, part_of.get(m), depth) for m in groups[node_id]}
        children: dict[str, list[str]] = defaultdict(list)
        for module, child in opened.items():
            children[child].append(module)

        # The budget after opening: nodes, then links (skipped when the nodes are over).
        nodes = len(groups) - 1 + sum(1 for c in children if c == node_id or c not in groups)
        if nodes > budget.nodes:
            continue  # over budget; smaller packages may still fit
        change: Counter[tuple[str, str]] = Counter()
        for s, t in {pair for module in groups[node_id] for pair in touching[module]}:
            change[(node_of[s], node_of[t])] -= 1
            change[(opened.get(s, node_of[s]), opened.get(t, node_of[t]))] += 1
        drawn_after = drawn
        for (s, t), delta in change.items():
            if delta and s != t:
                drawn_after += (links[(s, t)] + delta > 0) - (links[(s, t)] > 0)
        if drawn_after > budget.links:
            continue

        # Open it.
        for link, delta in change.items():
            links[link] += delta
            if not links[link]:
                del links[link]
        drawn = drawn_after
        node_of.update(opened)
        del groups[node_id]
        for child, ms in children.items():
            groups[child] = ms
            if len(ms) > 1:
                heapq.heappush(heap, (-len(ms), child))
    return node_of


def _node(
    node_id: str,
    members: tuple[str, ...],
    part_of: dict[str, str],
    labels: dict[str, list[ModuleLabel]],
    entry_points: set[str],
    *,
    collapsed: bool,
) -> GraphNode:
    capabilities: set[str] = set()
    direct = False
    for member in members:
        for module_label in labels.get(member, ()):
            capabilities.update(c.value for c in module_label.capabilities)
            direct = direct or module_label.direct
    entry = any(member in entry_points for member in members)
    if collapsed:
        prefix = _prefix(node_id)
        label = prefix if len(members) == 1 else f"{prefix}.* ({len(members)} modules)"
    else:
        label = node_id
    return GraphNode(
        id=node_id,
        label=label,
        part=part_of.get(members[0]),
        members=members,
        capabilities=tuple(sorted(capabilities)),
        direct_ai=direct,
        entry_point=entry,
    )


def _links(analysis: Analysis, node_of: dict[str, str]) -> tuple[GraphLink, ...]:
    cycle_kind = _cycle_kinds(analysis)
    breaking = {pair for cycle in analysis.cycles for pair in cycle.breaking_edges}
    grouped: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for edge in analysis.edges:
        if edge.external:
            continue
        source, target = node_of[edge.source], node_of[edge.target]
        if source != target:
            grouped[(source, target)].append(edge)

    links = []
    for (source, target), edges in sorted(grouped.items()):
        runtime = [e for e in edges if e.is_runtime]
        if runtime:
            style = "runtime"
        elif all(e.origin is Origin.IMPLICIT_PARENT for e in edges):
            style = "implicit_parent"
        else:
            style = "type_checking"
        kinds = {cycle_kind(e.source, e.target) for e in runtime} - {None}
        cycle = "import_time" if "import_time" in kinds else ("deferred" if kinds else None)
        links.append(
            GraphLink(
                source=source,
                target=target,
                statements=len(edges),
                lines=tuple(sorted({e.line for e in edges})),
                style=style,
                cycle=cycle,
                breaking=any((e.source, e.target) in breaking for e in runtime),
            )
        )
    return tuple(links)


def _cycle_kinds(analysis: Analysis) -> Callable[[str, str], str | None]:
    """The kind of a runtime import from one module to another: "import_time" or
    "deferred" when both lie in one cycle's component (the first cycle listing a module
    wins), else None."""
    component: dict[str, int] = {}
    deferred: dict[int, bool] = {}
    for index, cycle in enumerate(analysis.cycles):
        for module in cycle.modules:
            component.setdefault(module, index)
        deferred[index] = cycle.deferred

    def kind(source: str, target: str) -> str | None:
        found = component.get(source)
        if found is None or component.get(target) != found:
            return None
        return "deferred" if deferred[found] else "import_time"

    return kind


def _part_order(analysis: Analysis, part_of: dict[str, str]) -> tuple[str, ...]:
    services = sorted({s.name for s in analysis.proposal.services})
    others = sorted(set(part_of.values()) - set(services) - {MONOLITH})
    return (*services, *others, MONOLITH)


def _module_title(
    analysis: Analysis, modules: int, nodes: int, links: int, depths: list[int], hidden: int
) -> str:
    """The diagram's title. A link is one drawn line: every import edge from one node to
    another, so there are fewer links than the import edges the summary counts."""
    title = (
        f"{analysis.project.name}: module graph, {plural(modules, 'module')}, "
        f"{plural(links, 'link')} (each stands for the import edges between two nodes)"
    )
    if hidden:
        title += f"; {plural(hidden, 'implicit parent-package link')} not drawn"
    if depths:
        levels = f"depth {depths[0]}"
        if depths[-1] != depths[0]:
            levels = f"depths {depths[0]} to {depths[-1]}"
        title += (
            f"; collapsed to packages at {levels}: {plural(modules, 'module')} shown as "
            f"{plural(nodes, 'node')}"
        )
    return title


def _service_links(analysis: Analysis) -> tuple[list[str], list[tuple[tuple[str, str], int]]]:
    part_of = module_parts(analysis)
    parts = list(_part_order(analysis, part_of))
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for edge in analysis.edges:
        if not edge.is_runtime:
            continue
        source, target = part_of.get(edge.source), part_of.get(edge.target)
        if source is not None and target is not None and source != target:
            counts[(source, target)] += 1
    return parts, sorted(counts.items())


def _service_capabilities(analysis: Analysis, part: str) -> list[str]:
    for service in analysis.proposal.services:
        if service.name == part:
            return sorted({c.value for c in service.ai_capabilities})
    return []


def _service_blockers(analysis: Analysis, part: str) -> int:
    return sum(len(s.blockers) for s in analysis.proposal.services if s.name == part)


def _service_label_lines(analysis: Analysis, part: str) -> list[str]:
    part_of = module_parts(analysis)
    size = sum(1 for p in part_of.values() if p == part)
    lines = [part, f"{size} module{'s' if size != 1 else ''}"]
    capabilities = _service_capabilities(analysis, part)
    if capabilities:
        lines.append("AI: " + ", ".join(capabilities))
    blockers = _service_blockers(analysis, part)
    if blockers:
        lines.append(f"{blockers} blocker{'s' if blockers != 1 else ''}")
    return lines


# --- private helpers: DOT --------------------------------------------------------------


def _quote(text: str) -> str:
    """A DOT quoted string: backslashes and quotes escaped, line breaks as DOT's `\\n`."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "")
    return '"' + escaped.replace("\n", "\\n") + '"'


def _attrs(attrs: dict[str, str]) -> str:
    return ", ".join(f"{key}={_quote(value)}" for key, value in attrs.items())


def _label(lines: Iterable[str]) -> str:
    """Join label lines with DOT's centred line break; each line is quoted by `_attrs`."""
    return "\n".join(lines)


def _graph_attrs(title: str) -> dict[str, str]:
    return {
        "label": title,
        "labelloc": "t",
        "fontname": "Helvetica",
        "fontsize": "14",
        "rankdir": "LR",
        "newrank": "true",
        "nodesep": "0.25",
        "ranksep": "0.6",
        "tooltip": title,
    }


def _default_node_attrs() -> dict[str, str]:
    return {
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": COLOURS["module_fill"],
        "color": COLOURS["module_line"],
        "fontname": "Helvetica",
        "fontsize": "10",
    }


def _default_edge_attrs(arrowsize: str) -> dict[str, str]:
    return {
        "color": COLOURS["edge"],
        "arrowsize": arrowsize,
        "fontname": "Helvetica",
        "fontsize": "10",
    }


def _dot_cluster(part: str, nodes: list[GraphNode]) -> list[str]:
    if not nodes:
        return []
    is_monolith = part == MONOLITH
    cluster_id = "cluster_monolith" if is_monolith else f"cluster_service_{part}"
    attrs = {
        "label": _part_title(part),
        "style": "filled,rounded",
        "fillcolor": COLOURS["monolith_cluster" if is_monolith else "service_cluster"],
        "color": COLOURS["monolith_line" if is_monolith else "service_line"],
        "fontname": "Helvetica-Bold",
        "fontsize": "12",
    }
    out = [f"  subgraph {_quote(cluster_id)} {{", f"    graph [{_attrs(attrs)}];"]
    out.extend(f"    {_dot_node(node)}" for node in nodes)
    out.append("  }")
    return out


def _dot_node(node: GraphNode) -> str:
    attrs: dict[str, str] = {}
    lines = [node.label]
    tooltip = [
        node.label if len(node.members) == 1 else f"{node.label}: {', '.join(node.members[:10])}"
    ]
    if len(node.members) > 10:
        tooltip[0] += f", … ({len(node.members) - 10} more)"
    if node.part is not None:
        tooltip.append(f"part: {node.part}")
    if node.capabilities:
        caps = ", ".join(node.capabilities)
        lines.append(f"AI: {caps}")
        how = "calls a provider" if node.direct_ai else "orchestrates AI modules"
        tooltip.append(f"AI ({how}): {caps}")
        if node.direct_ai:
            attrs.update(
                shape="hexagon",
                fillcolor=COLOURS["ai_direct_fill"],
                color=COLOURS["ai_direct_line"],
                penwidth="2",
            )
        else:
            attrs.update(
                fillcolor=COLOURS["ai_orchestration_fill"],
                color=COLOURS["ai_orchestration_line"],
                penwidth="1.5",
            )
    if node.entry_point:
        attrs["peripheries"] = "2"
        tooltip.append("entry point")
    attrs = {"label": _label(lines), **attrs, "tooltip": "\n".join(tooltip)}
    return f"{_quote(node.id)} [{_attrs(attrs)}];"


def _link_attrs(link: GraphLink) -> dict[str, str]:
    attrs = {"penwidth": _penwidth(link.statements)}
    if link.style != "runtime":
        # Drawn lighter and left out of the layout's ranking: they do not run at import time.
        attrs.update(
            style="dashed" if link.style == "type_checking" else "dotted",
            color=COLOURS["non_runtime_edge"],
            constraint="false",
        )
    if link.cycle is not None:
        attrs["color"] = COLOURS["cycle" if link.cycle == "import_time" else "deferred_cycle"]
    if link.breaking:
        attrs["style"] = "bold"
        attrs["label"] = "✂"
    shown = ", ".join(map(str, link.lines[:8])) + (", …" if len(link.lines) > 8 else "")
    tooltip = f"{link.source} → {link.target}: {plural(link.statements, 'import statement')}"
    tooltip += f", line {shown}"
    if link.cycle is not None:
        tooltip += (
            "; in an import-time cycle" if link.cycle == "import_time" else "; in a deferred cycle"
        )
    if link.breaking:
        tooltip += "; suggested cut"
    attrs["tooltip"] = tooltip
    return attrs


def _penwidth(count: int) -> str:
    return f"{min(1.0 + math.log2(max(count, 1)), 6.0):.2f}"


def _service_node_attrs(analysis: Analysis, part: str) -> dict[str, str]:
    lines = _service_label_lines(analysis, part)
    attrs = {"label": _label(lines), "fontsize": "12", "margin": "0.2,0.1"}
    if part == MONOLITH:
        attrs.update(shape="box3d", style="filled", fillcolor=COLOURS["monolith_cluster"])
    elif _service_capabilities(analysis, part):
        attrs.update(fillcolor=COLOURS["ai_direct_fill"], color=COLOURS["ai_direct_line"])
    else:
        attrs.update(fillcolor=COLOURS["service_cluster"], color=COLOURS["service_line"])
    if _service_blockers(analysis, part):
        attrs.update(color=COLOURS["blocked_line"], penwidth="2")
    attrs["tooltip"] = "\n".join(lines)
    return attrs


def _part_title(part: str) -> str:
    return "monolith (stays)" if part == MONOLITH else f"service: {part}"


# --- private helpers: Mermaid ----------------------------------------------------------


def _mermaid_text(text: str) -> str:
    """Entity-escape text for a quoted Mermaid label."""
    escaped = text.replace("#", "#35;")
    for char, code in (('"', "#34;"), ("<", "#60;"), (">", "#62;"), ("&", "#38;")):
        escaped = escaped.replace(char, code)
    return escaped.replace("|", "#124;").replace("\n", " ")


def _mermaid_front_matter(title: str) -> list[str]:
    quoted = title.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return ["---", f'title: "{quoted}"', "---"]


def _mermaid_node_shape(node: GraphNode) -> str:
    label = _mermaid_text(node.label)
    if node.capabilities:
        label += "<br/>" + _mermaid_text("AI: " + ", ".join(node.capabilities))
    if node.capabilities and node.direct_ai:
        return '{{"' + label + '"}}'
    return f'("{label}")'


def _mermaid_link_style(link: GraphLink) -> str:
    colour = COLOURS["edge" if link.style == "runtime" else "non_runtime_edge"]
    if link.cycle == "import_time":
        colour = COLOURS["cycle"]
    elif link.cycle == "deferred":
        colour = COLOURS["deferred_cycle"]
    width = _penwidth(link.statements)
    style = f"stroke:{colour},stroke-width:{width}px"
    if link.style == "implicit_parent":
        style += ",stroke-dasharray:2 3"
    return style
