"""DOT, Mermaid and SVG: clusters per service, marks, collapse, and a Graphviz that may fail."""

from __future__ import annotations

import re
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from carveout.adapters.diagrams import (
    COLOURS,
    clean_svg,
    module_graph_view,
    render_dot,
    render_mermaid,
    render_service_dot,
    render_service_mermaid,
    render_svg,
)
from carveout.domain.model import Cycle
from helpers_report import HOSTILE_MODULE, sample_analysis, shuffled, wide_analysis

NODE_LINE = re.compile(r'^\s+"((?:[^"\\]|\\.)*)" \[label=', re.MULTILINE)
EDGE_LINE = re.compile(r'^\s+"((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)" \[(.*)\];$', re.MULTILINE)


def _edge_attrs(dot: str, source: str, target: str) -> str:
    for match in EDGE_LINE.finditer(dot):
        if (match.group(1), match.group(2)) == (source, target):
            return match.group(3)
    raise AssertionError(f"no edge {source} -> {target}")


def test_dot_has_one_cluster_per_service_and_the_monolith() -> None:
    dot = render_dot(sample_analysis())
    assert 'subgraph "cluster_service_assistant" {' in dot
    assert 'subgraph "cluster_service_search" {' in dot
    assert 'subgraph "cluster_monolith" {' in dot
    # Each module sits in its part's cluster.
    search = dot.split('subgraph "cluster_service_search" {')[1].split("  }")[0]
    assert '"shop.search.index" [' in search
    assert '"shop.api.routes" [' not in search


def test_dot_marks_ai_modules_with_shape_colour_and_capability() -> None:
    dot = render_dot(sample_analysis())
    chat = next(line for line in dot.splitlines() if line.strip().startswith('"shop.ai.chat" ['))
    assert 'shape="hexagon"' in chat
    assert f'fillcolor="{COLOURS["ai_direct_fill"]}"' in chat
    assert "AI: chat" in chat
    assert "AI (calls a provider): chat" in chat
    assistant = next(
        line for line in dot.splitlines() if line.strip().startswith('"shop.ai.assistant" [')
    )
    assert f'fillcolor="{COLOURS["ai_orchestration_fill"]}"' in assistant
    assert "hexagon" not in assistant
    plain = next(line for line in dot.splitlines() if line.strip().startswith('"shop.core.db" ['))
    assert "AI" not in plain


def test_dot_edge_styles() -> None:
    dot = render_dot(sample_analysis())
    cycle_edge = _edge_attrs(dot, "shop.orders.service", "shop.orders.models")
    assert f'color="{COLOURS["cycle"]}"' in cycle_edge
    cut = _edge_attrs(dot, "shop.orders.models", "shop.orders.service")
    assert 'label="✂"' in cut and f'color="{COLOURS["cycle"]}"' in cut
    assert 'style="dashed"' in _edge_attrs(dot, "shop.search.query", "shop.orders.models")
    with pytest.raises(AssertionError, match="no edge"):
        _edge_attrs(dot, "shop.api.routes", "shop.api")
    assert "; 1 implicit parent-package link not drawn" in dot
    with_parents = render_dot(sample_analysis(), implicit_parents=True)
    assert 'style="dotted"' in _edge_attrs(with_parents, "shop.api.routes", "shop.api")
    assert "not drawn" not in with_parents
    two_statements = _edge_attrs(dot, "shop.api.routes", "shop.orders.service")
    assert 'penwidth="2.00"' in two_statements
    assert "line 4, 9" in two_statements
    assert 'penwidth="1.00"' in _edge_attrs(dot, "shop.ai.assistant", "shop.ai.chat")
    assert "COLOURS" not in dot and '"openai"' not in dot  # external edges are not drawn


def test_deferred_cycle_edges_are_orange() -> None:
    analysis = sample_analysis()
    analysis = replace(analysis, cycles=(replace(analysis.cycles[0], deferred=True),))
    dot = render_dot(analysis)
    edge = _edge_attrs(dot, "shop.orders.service", "shop.orders.models")
    assert f'color="{COLOURS["deferred_cycle"]}"' in edge


def test_dot_is_deterministic_and_independent_of_input_order() -> None:
    analysis = sample_analysis()
    assert render_dot(analysis) == render_dot(analysis)
    assert render_dot(shuffled(analysis)) == render_dot(analysis)
    assert render_mermaid(shuffled(analysis)) == render_mermaid(analysis)
    assert render_service_dot(shuffled(analysis)) == render_service_dot(analysis)


def test_large_graph_collapses_to_packages_under_the_threshold() -> None:
    analysis = wide_analysis(40, 10)  # 400 modules in 40 packages of 10
    full = render_dot(analysis, collapse=False)
    auto = render_dot(analysis)
    assert len(NODE_LINE.findall(full)) == 400
    assert "collapsed" not in full
    # 40 packages, then the largest opened while the count stays <= 150: 40 + 12 * 9.
    assert len(NODE_LINE.findall(auto)) == 148
    assert "collapsed to packages at depth 2: 400 modules shown as 148 nodes" in auto
    assert 'subgraph "cluster_service_chat" {' in auto
    # The service's package (first in order) was opened; the last packages stay collapsed.
    assert '"chat::app.pkg000.mod003" [label="app.pkg000.mod003"' in auto
    assert '"monolith::app.pkg039" [label="app.pkg039.* (10 modules)' in auto
    # Links between packages survive, links inside one package are dropped.
    assert '"monolith::app.pkg038" -> "monolith::app.pkg039"' in auto
    assert '"monolith::app.pkg039" -> "monolith::app.pkg039"' not in auto


@pytest.mark.parametrize("threshold", [1, 7, 40, 41, 150, 399])
def test_collapsed_nodes_partition_the_modules_within_the_budget(threshold: int) -> None:
    analysis = wide_analysis(40, 10)
    view = module_graph_view(analysis, threshold=threshold)
    assert view.collapsed
    members = [m for node in view.nodes for m in node.members]
    assert sorted(members) == sorted(m.name for m in analysis.modules)
    assert len(view.nodes) <= max(threshold, 2)  # two top-level nodes at the very least
    assert all(len({m.split(".")[1] for m in node.members}) == 1 for node in view.nodes[1:-1])


def test_collapse_threshold_is_a_parameter() -> None:
    analysis = wide_analysis(40, 10)
    assert not module_graph_view(analysis, threshold=400, max_links=10_000).collapsed
    view = module_graph_view(analysis, threshold=399, max_links=10_000)
    assert view.collapsed and view.depth == 2 and len(view.nodes) == 40 + 39 * 9
    # Nothing fits: fall back to top-level packages.
    tiny = module_graph_view(analysis, threshold=1)
    assert tiny.depth == 1
    assert {node.id for node in tiny.nodes} == {"chat::app", "monolith::app"}


def test_too_many_links_collapse_a_graph_with_few_modules() -> None:
    analysis = sample_analysis()
    assert not module_graph_view(analysis).collapsed  # 12 drawn links
    view = module_graph_view(analysis, max_links=8)
    assert view.collapsed
    assert len(view.links) <= 8
    assert len(view.nodes) < len(analysis.modules)
    # A module graph of 400 modules within both budgets opens no package past them.
    wide = module_graph_view(wide_analysis(40, 10), threshold=150, max_links=60)
    assert len(wide.links) <= 60 and len(wide.nodes) <= 150


def test_forced_collapse_keeps_a_package_split_between_parts_split() -> None:
    view = module_graph_view(sample_analysis(), collapse=True)
    assert view.collapsed and view.depth == 2
    ids = {node.id for node in view.nodes}
    assert {"assistant::shop.ai", "search::shop.ai", "search::shop.search"} <= ids
    ai_in_search = next(node for node in view.nodes if node.id == "search::shop.ai")
    assert ai_in_search.members == ("shop.ai.embeddings",)
    assert ai_in_search.capabilities == ("embeddings_retrieval",)
    # The orders cycle lies inside one collapsed node, so no drawn link belongs to a cycle.
    assert "monolith::shop.orders" in ids
    assert not any(link.cycle for link in view.links)
    assert all(link.source != link.target for link in view.links)


def test_hostile_names_are_quoted_for_dot_and_escaped_for_mermaid(tmp_path: Path) -> None:
    analysis = sample_analysis(hostile=True)
    odd = 'shop.quote"back\\slash'
    analysis = replace(
        analysis,
        proposal=replace(analysis.proposal, monolith=(*analysis.proposal.monolith, odd)),
        cycles=(Cycle(modules=(odd,), path=(odd,), deferred=False),),
    )
    dot = render_dot(analysis)
    assert '"shop.quote\\"back\\\\slash"' in dot
    svg, error = render_svg(dot)
    assert error is None and svg is not None
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    mermaid = render_mermaid(analysis)
    assert "<script" not in mermaid
    assert "shop.#60;script#62;alert(1)#60;/script#62;" in mermaid
    assert HOSTILE_MODULE not in mermaid


def test_mermaid_has_subgraphs_classes_and_cycle_styles() -> None:
    mermaid = render_mermaid(sample_analysis())
    assert mermaid.startswith('---\ntitle: "shop: module graph')
    assert 'subgraph p0["service: assistant"]' in mermaid
    assert 'subgraph p2["monolith (stays)"]' in mermaid
    assert re.search(r"class n\d+,n\d+ ai\n", mermaid)
    assert f"stroke:{COLOURS['cycle']}" in mermaid
    assert "-.->" in mermaid  # TYPE_CHECKING and implicit parent edges
    assert "-->|2|" in mermaid
    link_count = len(re.findall(r"^  n\d+ -", mermaid, re.MULTILINE))
    assert len(re.findall(r"^  linkStyle \d+ ", mermaid, re.MULTILINE)) == link_count


def test_service_diagram_weights_runtime_edges_between_parts() -> None:
    dot = render_service_dot(sample_analysis())
    assert len(NODE_LINE.findall(dot)) == 3
    assistant_to_monolith = _edge_attrs(dot, "assistant", "monolith")
    assert 'label="2"' in assistant_to_monolith  # settings import from assistant and chat
    assert 'label="1"' in _edge_attrs(dot, "assistant", "search")
    search = next(line for line in dot.splitlines() if line.strip().startswith('"search" ['))
    assert "1 blocker" in search and f'color="{COLOURS["blocked_line"]}"' in search
    mermaid = render_service_mermaid(sample_analysis())
    assert 's2[("monolith<br/>7 modules")]' in mermaid
    assert "s0 -->|2| s2" in mermaid


def test_render_svg_with_dot_present() -> None:
    svg, error = render_svg(render_dot(sample_analysis()))
    assert error is None
    assert svg is not None and svg.startswith("<svg")
    assert "<?xml" not in svg and "<!--" not in svg and "DOCTYPE" not in svg
    assert "cluster" in svg or "service: assistant" in svg


def test_render_svg_reports_a_missing_executable() -> None:
    svg, error = render_svg("digraph { a -> b }", executable="/nonexistent/bin/dot")
    assert svg is None
    assert error is not None and "not found" in error
    assert "apt-get install graphviz" in error and "brew install graphviz" in error


def test_render_svg_reports_dot_missing_from_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    svg, error = render_svg("digraph { a -> b }")
    assert svg is None
    assert error is not None and error.startswith("Graphviz 'dot' not found")


def test_render_svg_reports_invalid_dot() -> None:
    svg, error = render_svg("digraph { this is -> -> not dot")
    assert svg is None
    assert error is not None and "failed (exit" in error


def test_render_svg_reports_a_timeout(tmp_path: Path) -> None:
    slow = tmp_path / "slow-dot"
    slow.write_text("#!/bin/sh\nexec sleep 5\n")
    slow.chmod(slow.stat().st_mode | stat.S_IXUSR)
    svg, error = render_svg("digraph {}", executable=str(slow), timeout=0.3)
    assert svg is None
    assert error is not None and "did not finish within 0.3 s" in error


def test_clean_svg_strips_prolog_doctype_and_comments() -> None:
    raw = (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd">\n'
        "<!-- Generated by graphviz version 2.43.0 (0)\n -->\n"
        "<svg><!-- a&#45;&gt;b --><g/></svg>\n"
    )
    assert clean_svg(raw) == "<svg><g/></svg>\n"
