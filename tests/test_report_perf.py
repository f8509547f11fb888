"""The report's fast paths give exactly what the plain versions gave: the edge order and
edge lines of analysis.json, the document built once for JSON and HTML, the module diagram's
package opening and links, and Graphviz started early and collected late."""

from __future__ import annotations

import json
import random
import stat
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from carveout import __version__
from carveout.adapters import diagrams
from carveout.adapters.diagrams import (
    GraphLink,
    module_graph_view,
    render_dot,
    render_mermaid,
    render_service_dot,
    render_svg,
    start_svg,
)
from carveout.adapters.html_report import render_html
from carveout.adapters.json_output import (
    _compact,
    _edge,
    _edge_text,
    analysis_to_dict,
    render_document,
    render_json,
)
from carveout.adapters.sarif import render_sarif
from carveout.application.publish import artefacts
from carveout.domain.facts import Confidence, Guard, Origin, Scope
from carveout.domain.model import (
    Analysis,
    Cycle,
    Edge,
    Module,
    ModuleKind,
    Placement,
    Proposal,
    Service,
)
from helpers_report import empty_analysis, sample_analysis, shuffled, wide_analysis

ODD_NAMES = ["a", "a.b", 'q"uote', "back\\slash", "tab\there", "nl\nx", "é.ü", "😀.x", "\x01"]


def random_edges(rng: random.Random, names: list[str], count: int) -> list[Edge]:
    return [
        Edge(
            source=rng.choice(names),
            target=rng.choice(names),
            line=rng.randrange(0, 4),
            scope=rng.choice(list(Scope)),
            guard=rng.choice(list(Guard)),
            origin=rng.choice(list(Origin)),
            confidence=rng.choice(list(Confidence)),
            external=rng.random() < 0.2,
            canonical=rng.random() < 0.7,
        )
        for _ in range(count)
    ]


# --- analysis.json ------------------------------------------------------------------------


def test_the_edge_order_is_the_domain_sort_key() -> None:
    rng = random.Random(5)
    edges = random_edges(rng, ["a", "a.b", "b", "é"], 3000)
    document = analysis_to_dict(replace(empty_analysis(), edges=tuple(edges)))
    expected = [_edge(e) for e in sorted(edges, key=lambda e: e.sort_key)]
    assert document["edges"] == expected


def test_an_edge_line_is_what_the_encoder_writes() -> None:
    rng = random.Random(7)
    edges = random_edges(rng, ODD_NAMES, 2000)
    checked = 0
    for edge in edges:
        record = _edge(edge)
        assert _edge_text(record) == _compact(record)
        assert json.loads(_edge_text(record)) == record
        checked += 1
    assert checked == 2000


@pytest.mark.parametrize(
    "make",
    [
        sample_analysis,
        lambda: sample_analysis(hostile=True),
        lambda: shuffled(sample_analysis()),
        lambda: wide_analysis(12, 5),
        empty_analysis,
        lambda: replace(
            sample_analysis(),
            edges=tuple(random_edges(random.Random(3), ODD_NAMES, 300)),
        ),
    ],
)
def test_render_json_is_the_plain_rendering(make: Callable[[], Analysis]) -> None:
    analysis = make()
    text = render_json(analysis)
    assert text == plain_render_json(analysis)
    assert render_document(analysis_to_dict(analysis)) == text


def test_the_html_page_from_a_given_document_is_the_page_from_the_analysis() -> None:
    analysis = sample_analysis(hostile=True)
    svgs = {"services": "<svg><g/></svg>\n", "modules": None}
    notes = {"modules": "not drawn"}
    document = analysis_to_dict(analysis)
    page = render_html(analysis, svgs=svgs, notes=notes)
    assert render_html(analysis, svgs=svgs, notes=notes, document=document) == page
    assert document == analysis_to_dict(analysis)  # the page left the document as it was


def plain_render_json(analysis: Analysis) -> str:
    """`render_json` as it was written first: one encoder call per record."""
    data = analysis_to_dict(analysis)
    last = len(data) - 1
    lines = ["{"]
    for position, (key, value) in enumerate(data.items()):
        comma = "," if position < last else ""
        if isinstance(value, list) and value:
            lines.append(f"  {_compact(key)}: [")
            records = [f"    {_compact(record)}," for record in value]
            records[-1] = records[-1][:-1]
            lines.extend(records)
            lines.append(f"  ]{comma}")
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
            lines.append(f"  {_compact(key)}: " + text.replace("\n", "\n  ") + comma)
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- the module diagram ---------------------------------------------------------------------


def random_project(seed: int) -> Analysis:
    """Modules in a random package tree (depth 1 to 5), placed in up to three services and
    the monolith, with random edges of every kind and a few cycles."""
    rng = random.Random(seed)
    names: set[str] = set()
    wanted = rng.randrange(20, 180)  # of the 184 names the tree below can hold
    while len(names) < wanted:
        depth = rng.randrange(1, 6)
        names.add(".".join(f"p{rng.randrange(0, 4 - min(level, 2))}" for level in range(depth)))
    ordered = sorted(names)
    parts: dict[str, list[str]] = defaultdict(list)
    for name in ordered:
        parts[rng.choice(["svc_a", "svc_b", "svc_c", "monolith", "monolith"])].append(name)
    edges = random_edges(rng, ordered, rng.randrange(10, 800))
    cycles = []
    for _ in range(rng.randrange(0, 4)):
        members = tuple(sorted(rng.sample(ordered, min(len(ordered), rng.randrange(2, 30)))))
        breaking = tuple((rng.choice(members), rng.choice(members)) for _ in range(3))
        cycles.append(Cycle(members, members, rng.random() < 0.4, breaking))
    services = tuple(
        Service(name, tuple(parts[name]), (), (), ())
        for name in ("svc_a", "svc_b", "svc_c")
        if parts[name]
    )
    unplaced = ordered[: rng.randrange(0, 3)]
    return replace(
        empty_analysis(),
        modules=tuple(Module(n, None, ModuleKind.MODULE, 1) for n in ordered),
        edges=tuple(sorted(edges, key=lambda e: e.sort_key)),
        cycles=tuple(cycles),
        proposal=Proposal(
            services=services,
            monolith=tuple(m for m in parts["monolith"] if m not in unplaced),
            placements=tuple(Placement(m, "monolith", "rest") for m in parts["monolith"][:3]),
            metrics=(),
        ),
    )


def test_the_module_diagram_is_the_one_the_plain_steps_draw(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    budgets = [(150, 300), (40, 60), (10, 1000), (400, 25)]
    cases = [(random_project(seed), *budget) for seed in range(20) for budget in budgets]
    cases += [(wide_analysis(40, 10), 150, 300), (wide_analysis(40, 10), 150, 60)]
    fast = [module_graph_view(a, threshold=t, max_links=m) for a, t, m in cases]
    collapsed = sum(1 for view in fast if view.collapsed)
    opened = sum(
        1 for view in fast if view.collapsed and len({n.id.count(".") for n in view.nodes}) > 1
    )

    monkeypatch.setattr(diagrams, "_refine", plain_refine)
    monkeypatch.setattr(diagrams, "_links", plain_links)
    plain = [module_graph_view(a, threshold=t, max_links=m) for a, t, m in cases]
    assert fast == plain
    assert collapsed > 30 and opened > 8  # the cases exercise collapsing and opening


def plain_refine(node_of: dict[str, str], part_of: dict[str, str], budget: Any) -> dict[str, str]:
    """`_refine` as it was written first: the whole budget asked again for each package."""
    import heapq

    node_of = dict(node_of)
    groups: dict[str, list[str]] = defaultdict(list)
    for module, node_id in node_of.items():
        groups[node_id].append(module)
    heap = [(-len(ms), node_id) for node_id, ms in groups.items() if len(ms) > 1]
    heapq.heapify(heap)
    while heap:
        _, node_id = heapq.heappop(heap)
        depth = diagrams._prefix(node_id).count(".") + 2
        opened = {m: diagrams._collapsed_id(m, part_of.get(m), depth) for m in groups[node_id]}
        if not budget.holds({**node_of, **opened}):
            continue
        node_of.update(opened)
        del groups[node_id]
        children: dict[str, list[str]] = defaultdict(list)
        for module, child in opened.items():
            children[child].append(module)
        for child, ms in children.items():
            groups[child] = ms
            if len(ms) > 1:
                heapq.heappush(heap, (-len(ms), child))
    return node_of


def plain_links(analysis: Analysis, node_of: dict[str, str]) -> tuple[GraphLink, ...]:
    """`_links` as it was written first: every runtime edge's cycle kind looked up in a map
    built over all edges."""
    component: dict[str, int] = {}
    deferred: dict[int, bool] = {}
    for index, cycle in enumerate(analysis.cycles):
        for module in cycle.modules:
            component.setdefault(module, index)
        deferred[index] = cycle.deferred
    cycle_kind = {}
    for edge in analysis.edges:
        if not edge.is_runtime:
            continue
        found = component.get(edge.source)
        if found is not None and component.get(edge.target) == found:
            cycle_kind[(edge.source, edge.target)] = (
                "deferred" if deferred[found] else "import_time"
            )
    breaking = {pair for cycle in analysis.cycles for pair in cycle.breaking_edges}
    grouped: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for edge in analysis.edges:
        if not edge.external and node_of[edge.source] != node_of[edge.target]:
            grouped[(node_of[edge.source], node_of[edge.target])].append(edge)
    links = []
    for (source, target), edges in sorted(grouped.items()):
        runtime = [e for e in edges if e.is_runtime]
        if runtime:
            style = "runtime"
        elif all(e.origin is Origin.IMPLICIT_PARENT for e in edges):
            style = "implicit_parent"
        else:
            style = "type_checking"
        kinds = {cycle_kind.get((e.source, e.target)) for e in runtime} - {None}
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


# --- Graphviz started early -----------------------------------------------------------------


def test_layouts_started_together_give_what_render_svg_gives() -> None:
    sources = [render_service_dot(sample_analysis()), render_dot(sample_analysis())]
    layouts = [start_svg(source) for source in sources]
    results = [layout.result() for layout in reversed(layouts)][::-1]
    assert results == [render_svg(source) for source in sources]
    assert all(svg is not None and svg.startswith("<svg") for svg, _ in results)
    assert layouts[0].result() == results[0]  # asked again: the same answer


def test_a_cancelled_layout_stops_graphviz(tmp_path: Path) -> None:
    slow = tmp_path / "slow-dot"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(slow.stat().st_mode | stat.S_IXUSR)
    layout = start_svg("digraph {}", executable=str(slow), timeout=60)
    started = time.monotonic()
    layout.cancel()
    assert time.monotonic() - started < 10
    svg, problem = layout.result()
    assert svg is None and problem is not None and "was stopped" in problem


def test_a_layout_that_cannot_start_says_why() -> None:
    svg, problem = start_svg("digraph {}", executable="/nonexistent/bin/dot").result()
    assert svg is None and problem is not None and "not found" in problem


# --- the artefacts together -----------------------------------------------------------------


@pytest.mark.parametrize(
    "make", [sample_analysis, lambda: sample_analysis(hostile=True), lambda: wide_analysis(40, 10)]
)
def test_artefacts_are_the_plain_renderings(make: Callable[[], Analysis]) -> None:
    analysis = make()
    assert artefacts(analysis, collapse_threshold=150) == plain_artefacts(analysis, 150)


def plain_artefacts(analysis: Analysis, threshold: int) -> dict[str, str]:
    """`artefacts` as it was written first: each output rendered on its own."""
    module_dot = render_dot(analysis, threshold=threshold)
    service_dot = render_service_dot(analysis)
    svgs: dict[str, str | None] = {}
    notes: dict[str, str] = {}
    for name, source in (("services", service_dot), ("modules", module_dot)):
        svg, problem = render_svg(source)
        svgs[name] = svg
        if problem:
            notes[name] = problem
    files = {
        "index.html": render_html(analysis, svgs=svgs, notes=notes),
        "analysis.json": plain_render_json(analysis),
        "couplings.sarif": render_sarif(analysis.couplings, tool_version=__version__),
        "graph.dot": module_dot,
        "services.dot": service_dot,
        "graph.mmd": render_mermaid(analysis, threshold=threshold),
    }
    if analysis.rules is not None and analysis.rules.text:
        files["importlinter.toml"] = analysis.rules.text
    for generated in analysis.contracts:
        files[generated.path] = generated.text
    return files
