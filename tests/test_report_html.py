"""The HTML report: every section, escaped text, no network, stable bytes."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from carveout.adapters.diagrams import render_dot, render_service_dot, render_svg
from carveout.adapters.html_report import (
    EVIDENCE_SHOWN,
    MODULE_DIAGRAM,
    SERVICE_DIAGRAM,
    embeddable_svg,
    render_html,
)
from carveout.domain.model import Analysis, Evidence
from helpers_report import HOSTILE_TEXT, empty_analysis, sample_analysis, shuffled

SECTIONS = (
    "at-a-glance",
    "diagrams",
    "ai-features",
    "services",
    "monolith",
    "couplings",
    "cycles",
    "ratchet",
    "metrics",
    "diagnostics",
)
VOID = {"meta", "br", "input", "link", "img", "hr", "wbr", "col", "area", "base", "source"}


def _svgs(analysis: Analysis) -> dict[str, str | None]:
    services, services_error = render_svg(render_service_dot(analysis))
    modules, modules_error = render_svg(render_dot(analysis))
    assert services_error is None and modules_error is None
    return {SERVICE_DIAGRAM: services, MODULE_DIAGRAM: modules}


@pytest.fixture(scope="module")
def hostile_page() -> str:
    analysis = sample_analysis(hostile=True)
    return render_html(analysis, svgs=_svgs(analysis), notes={"cache": "cache disabled"})


@pytest.fixture(scope="module")
def page() -> str:
    analysis = sample_analysis()
    return render_html(analysis, svgs=_svgs(analysis), notes={})


def test_every_section_is_present(page: str) -> None:
    for section in SECTIONS:
        assert f'<section id="{section}">' in page, section
        assert f'href="#{section}"' in page, section


def test_header_shows_project_and_counts(page: str) -> None:
    assert "<title>carveout report · shop</title>" in page
    assert "shop: what to carve out" in page
    assert '<div class="value">12</div><div class="label">modules</div>' in page
    assert '<div class="value">2</div><div class="label">services proposed</div>' in page


def test_at_a_glance_names_the_service_to_carve_out_first(page: str) -> None:
    glance = page.split('<section id="at-a-glance">')[1].split("</section>")[0]
    assert "Carve out &#39;assistant&#39; first" in glance
    assert glance.index(">assistant<") < glance.index(">search<")
    assert '<span class="badge blocked">1 blocker</span>' in glance
    assert "1 high-severity coupling and 1 import-time cycle" in glance


def test_content_of_each_section(page: str) -> None:
    # AI features with providers, models, env vars and evidence path:line with text.
    assert "gpt-4o-mini" in page and "OPENAI_API_KEY" in page and "settings.CHAT_MODEL" in page
    assert "src/shop/ai/chat.py:12</span>" in page
    assert "client.chat.completions.create(model=MODEL)" in page
    # Services: members with placement reasons, surface, blockers.
    assert "calls the chat provider" in page and "embeddings and their index" in page
    assert "shop.ai.assistant.answer" in page
    assert "<li>shared-db-session with shop.core.db</li>" in page
    # Monolith with reasons; couplings grouped by kind with why and fix.
    assert "no AI capability and no tie to a service" in page
    assert "<code>shared-mutable-settings</code>" in page
    assert "Pass the model name in the facade call instead." in page
    assert '<span class="badge high">1 high</span>' in page
    # Cycles with path and cut; ratchet; metrics with definitions; diagnostics and skips.
    assert "shop.orders.service → shop.orders.models → shop.orders.service" in page
    assert "✂ shop.orders.models → shop.orders.service" in page
    assert "Work left before extraction" in page
    assert "shop.ai.assistant -&gt; shop.core.settings" in page
    assert "shop.search.query is loaded by a dynamic import string" in page
    assert "Share of import edges that cross a boundary." in page
    assert "0.1235" in page and "↓ lower is better" in page and "↑ higher is better" in page
    assert "syntax error: not Python 3" in page and "unresolved import x.y" in page
    assert "contracts/assistant/v1.json" in page


def test_diagrams_are_inline_with_prefixed_ids(page: str) -> None:
    assert page.count("<svg") >= 2 + 10  # two diagrams plus the legend swatches
    assert 'id="diagram-services-graph0"' in page
    assert 'id="diagram-modules-graph0"' in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    assert "Legend" in page and "TYPE_CHECKING-only import" in page


def test_hostile_text_is_escaped(hostile_page: str) -> None:
    assert "<script" not in hostile_page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile_page
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in hostile_page


def test_no_external_resources(hostile_page: str) -> None:
    references = re.findall(r'\b(?:src|href|xlink:href)\s*=\s*"([^"]*)"', hostile_page)
    assert references and all(ref.startswith("#") for ref in references)
    assert "<link" not in hostile_page and "@import" not in hostile_page
    assert "url(" not in hostile_page
    # Every http(s) text comes from the analysis itself (the hostile evidence text).
    url = re.search(r"https?://\S+", HOSTILE_TEXT)
    assert url is not None
    assert hostile_page.count("http") == hostile_page.count(url.group(0)) > 0


def test_markup_is_balanced(hostile_page: str) -> None:
    checker = _TagBalance()
    checker.feed(hostile_page)
    checker.close()
    assert checker.problems == []
    assert checker.stack == []


def test_render_is_deterministic(page: str) -> None:
    analysis = sample_analysis()
    again = render_html(analysis, svgs=_svgs(analysis), notes={})
    assert again == page
    assert render_html(shuffled(analysis), svgs=_svgs(analysis), notes={}) == page


def test_missing_diagrams_say_why() -> None:
    reason = "Graphviz 'dot' not found: install it"
    page = render_html(
        sample_analysis(),
        svgs={SERVICE_DIAGRAM: None, MODULE_DIAGRAM: None},
        notes={SERVICE_DIAGRAM: reason, "cache": "cache disabled"},
    )
    assert page.count("Diagram missing.") == 2
    assert "Graphviz &#39;dot&#39; not found: install it" in page
    assert "no reason was given" in page
    assert "<strong>cache:</strong> cache disabled" in page


def test_an_svg_with_active_content_is_not_embedded() -> None:
    evil = '<svg><g onload="alert(1)"><text>x</text></g></svg>'
    assert embeddable_svg(evil, "d") is None
    page = render_html(sample_analysis(), svgs={SERVICE_DIAGRAM: evil}, notes={})
    assert "onload" not in page
    assert "carries active content" in page


def test_embeddable_svg_drops_namespaces_and_prefixes_ids() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<g id="node1"></g></svg>'
    )
    assert embeddable_svg(svg, "x") == '<svg><g id="x-node1"></g></svg>'


def test_long_evidence_lists_say_how_many_are_left_out() -> None:
    analysis = sample_analysis()
    many = tuple(Evidence("src/shop/ai/chat.py", line, f"call {line}") for line in range(1, 31))
    analysis = replace(analysis, features=(replace(analysis.features[0], evidence=many),))
    page = render_html(analysis, svgs={}, notes={})
    assert f"… and {30 - EVIDENCE_SHOWN} more in the JSON output." in page
    assert f"call {EVIDENCE_SHOWN}<" in page
    assert f"call {EVIDENCE_SHOWN + 1}<" not in page


def test_an_empty_analysis_renders_plainly() -> None:
    page = render_html(empty_analysis(), svgs={}, notes={})
    assert "No AI feature was found." in page
    assert "No service boundary was proposed" in page
    assert "No import-linter rules were generated in this run." in page
    assert "No diagram was requested." in page
    for section in SECTIONS:
        assert f'<section id="{section}">' in page


class _TagBalance(HTMLParser):
    """Checks that every opened element is closed in order (void elements aside)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
