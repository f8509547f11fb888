"""The analysis as one self-contained HTML page a team lead can read in half a minute.

The page is rendered with Jinja2 (autoescaped) from the same document `render_json` writes,
so both say the same thing; it needs no network (inline CSS, inline SVG, no script).
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined, Template
from markupsafe import Markup

from carveout.adapters.diagrams import COLOURS, MONOLITH
from carveout.adapters.json_output import SCHEMA_ID, analysis_to_dict
from carveout.domain.model import Analysis, Severity
from carveout.domain.wording import plural

SERVICE_DIAGRAM = "services"
MODULE_DIAGRAM = "modules"

# Lists longer than this are cut in the page, saying how many more the JSON output holds.
EVIDENCE_SHOWN = 12
SEVERITY_ORDER = [s.value for s in Severity]

_DIAGRAM_TITLES = {
    SERVICE_DIAGRAM: "Proposed services",
    MODULE_DIAGRAM: "Module graph by proposed service",
}
# Markup that must never reach the page from an SVG: scripts, handlers, links, embedded HTML.
_ACTIVE_SVG = re.compile(
    r"<\s*script|<\s*foreignObject|javascript:|\son[a-z]+\s*=|href\s*=", re.IGNORECASE
)


def render_html(
    analysis: Analysis,
    *,
    svgs: dict[str, str | None],
    notes: dict[str, str],
    document: dict[str, Any] | None = None,
) -> str:
    """Return the report as one HTML document that opens offline.

    `svgs` maps a diagram key to its SVG (from `render_svg`) or None when it could not be
    drawn; known keys are `SERVICE_DIAGRAM` ("services") and `MODULE_DIAGRAM` ("modules"),
    shown in that order, then any other key in name order. `notes` maps a key to a sentence:
    a note whose key is also a key of `svgs` is shown in that diagram's place (why it is
    missing, or that it was collapsed); other notes are listed under the header. An SVG
    carrying active content (script, event handler, link) is not embedded; the page says so.
    Text from the analysis is escaped; the same analysis gives the same bytes.
    `document` is `analysis_to_dict(analysis)` when the caller has it already (it is
    built again otherwise: seconds on a big monolith).
    """
    data = analysis_to_dict(analysis) if document is None else document
    context = {
        "project": data["project"],
        "summary": data["summary"],
        "version": data["carveout_version"],
        "schema": SCHEMA_ID,
        "cards": _summary_cards(data),
        "verdict": _verdict(data),
        "notes": [(key, notes[key]) for key in sorted(notes) if key not in svgs],
        "diagrams": _diagrams(svgs, notes),
        "legend": _legend(),
        "first": _carve_out_order(data),
        "features": _features(data),
        "services": _services(data),
        "monolith": _monolith(data),
        "coupling_groups": _coupling_groups(data),
        "cycles": data["cycles"],
        "rules": data["rules"],
        "metrics": data["metrics"],
        "diagnostics": data["diagnostics"],
        "skipped": data["project"]["skipped"],
        "entry_points": data["project"]["entry_points"],
        "evidence_shown": EVIDENCE_SHOWN,
    }
    return _template().render(context).rstrip() + "\n"


def embeddable_svg(svg: str, prefix: str) -> str | None:
    """Return `svg` ready to inline in HTML, or None when it carries active content.

    Namespace declarations are dropped (HTML knows SVG), and every `id` gets `prefix` so two
    diagrams on one page do not share ids.
    """
    if "<svg" not in svg or _ACTIVE_SVG.search(svg):
        return None
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r'\bid="', f'id="{prefix}-', svg)
    return svg.strip()


# --- private helpers: view data -------------------------------------------------------


@lru_cache(maxsize=1)
def _template() -> Template:
    source = (
        resources.files("carveout")
        .joinpath("templates/report.html.j2")
        .read_text(encoding="utf-8")
    )
    environment = Environment(
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["plural"] = plural
    environment.filters["number"] = _format_number
    return environment.from_string(source)


def _format_number(value: float | int | None) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.1f}"


def _summary_cards(data: dict[str, Any]) -> list[dict[str, Any]]:
    summary = data["summary"]
    high = summary["couplings_by_severity"]["high"]
    return [
        {"label": "modules", "value": summary["modules"], "tone": "plain"},
        {"label": "lines of code", "value": summary["lines"], "tone": "plain"},
        {"label": "import edges", "value": summary["import_edges"], "tone": "plain"},
        {"label": "AI features", "value": summary["ai_features"], "tone": "ai"},
        {"label": "services proposed", "value": summary["services"], "tone": "svc"},
        {"label": "high couplings", "value": high, "tone": "high" if high else "ok"},
        {
            "label": "import-time cycles",
            "value": summary["import_time_cycles"],
            "tone": "high" if summary["import_time_cycles"] else "ok",
        },
        {
            "label": "diagnostics",
            "value": summary["diagnostics"],
            "tone": "medium" if summary["diagnostics"] else "ok",
        },
    ]


def _carve_out_order(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Services in the order to carve them out: fewest blockers, then smallest surface."""
    rows = [
        {
            "name": s["name"],
            "capabilities": s["ai_capabilities"],
            "modules": len(s["modules"]),
            "surface": len(s["surface"]),
            "blockers": s["blockers"],
            "ready": not s["blockers"],
        }
        for s in data["services"]
    ]
    return sorted(rows, key=lambda r: (len(r["blockers"]), r["surface"], r["modules"], r["name"]))


def _verdict(data: dict[str, Any]) -> list[str]:
    """Three or four plain sentences: what was found and what to do first."""
    summary = data["summary"]
    order = _carve_out_order(data)
    sentences = []
    capabilities = sorted({f["capability"] for f in data["ai_features"]})
    if capabilities:
        sentences.append(
            f"Found {plural(summary['ai_features'], 'AI feature')} "
            f"({', '.join(capabilities)}) in {plural(summary['ai_modules'], 'module')}."
        )
    else:
        sentences.append("No AI feature was found.")
    if order:
        ready = [r["name"] for r in order if r["ready"]]
        first = order[0]
        if ready:
            sentences.append(
                f"Carve out '{first['name']}' first: no blocker, "
                f"{plural(first['surface'], 'name')} on its surface. "
                f"Ready now: {', '.join(ready)}."
            )
        else:
            sentences.append(
                f"Every proposed service has blockers; '{first['name']}' has the fewest "
                f"({len(first['blockers'])})."
            )
    else:
        sentences.append("No service boundary was proposed; everything stays in the monolith.")
    high = summary["couplings_by_severity"]["high"]
    cycles = summary["import_time_cycles"]
    if high or cycles:
        sentences.append(
            f"Fix first: {plural(high, 'high-severity coupling')} and "
            f"{plural(cycles, 'import-time cycle')}."
        )
    crossing = summary["ignored_imports"]
    if crossing:
        sentences.append(
            f"{plural(crossing, 'import')} still {'crosses' if crossing == 1 else 'cross'} "
            "a proposed boundary (the ratchet below)."
        )
    return sentences


def _diagrams(svgs: dict[str, str | None], notes: dict[str, str]) -> list[dict[str, Any]]:
    known = [key for key in (SERVICE_DIAGRAM, MODULE_DIAGRAM) if key in svgs]
    keys = known + sorted(key for key in svgs if key not in known)
    diagrams = []
    for key in keys:
        svg = svgs[key]
        note = notes.get(key)
        embedded = None if svg is None else embeddable_svg(svg, f"diagram-{key}")
        if svg is not None and embedded is None:
            note = "The diagram was not embedded: its SVG carries active content or no <svg>."
        if svg is None and note is None:
            note = "The diagram could not be drawn (no reason was given)."
        diagrams.append(
            {
                "key": key,
                "anchor": re.sub(r"[^a-z0-9-]+", "-", key.lower()).strip("-") or "diagram",
                "title": _DIAGRAM_TITLES.get(key, key),
                # Markup: Graphviz escaped the text, and `embeddable_svg` refused active content.
                "svg": None if embedded is None else Markup(embedded),
                "note": note,
                "missing": embedded is None,
            }
        )
    return diagrams


def _legend() -> list[dict[str, str]]:
    """Swatches for the diagram legend, in the colours the diagrams use."""
    return [
        {"kind": "hexagon", "fill": COLOURS["ai_direct_fill"], "line": COLOURS["ai_direct_line"],
         "text": "module that calls an AI provider (capability on its label)"},
        {"kind": "box", "fill": COLOURS["ai_orchestration_fill"],
         "line": COLOURS["ai_orchestration_line"], "text": "module that orchestrates AI modules"},
        {"kind": "box", "fill": COLOURS["module_fill"], "line": COLOURS["module_line"],
         "text": "other module (double border: entry point)"},
        {"kind": "area", "fill": COLOURS["service_cluster"], "line": COLOURS["service_line"],
         "text": "proposed service"},
        {"kind": "area", "fill": COLOURS["monolith_cluster"], "line": COLOURS["monolith_line"],
         "text": "monolith (stays)"},
        {"kind": "edge", "fill": "none", "line": COLOURS["cycle"],
         "text": "import-time cycle edge (✂ suggested cut)"},
        {"kind": "edge", "fill": "none", "line": COLOURS["deferred_cycle"],
         "text": "deferred cycle edge (function-level import)"},
        {"kind": "dashed", "fill": "none", "line": COLOURS["non_runtime_edge"],
         "text": "TYPE_CHECKING-only import"},
        {"kind": "dotted", "fill": "none", "line": COLOURS["non_runtime_edge"],
         "text": "implicit parent-package import (when drawn)"},
        {"kind": "thick", "fill": "none", "line": COLOURS["edge"],
         "text": "thicker line: more import statements"},
    ]  # fmt: skip


def _features(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**feature, "hidden": max(0, len(feature["evidence"]) - EVIDENCE_SHOWN)}
        for feature in data["ai_features"]
    ]


def _services(data: dict[str, Any]) -> list[dict[str, Any]]:
    reasons = _reasons(data)
    order = [row["name"] for row in _carve_out_order(data)]
    services = {s["name"]: s for s in data["services"]}
    return [
        {
            **services[name],
            "members": [
                {"module": m, "reason": reasons.get((m, name), "")}
                for m in services[name]["modules"]
            ],
        }
        for name in order
    ]


def _monolith(data: dict[str, Any]) -> list[dict[str, str]]:
    reasons = _reasons(data)
    return [
        {"module": m, "reason": reasons.get((m, MONOLITH), "")}
        for m in data["monolith"]["modules"]
    ]


def _reasons(data: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(p["module"], p["part"]): p["reason"] for p in data["placements"]}


def _coupling_groups(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Couplings grouped by kind, worst group first; shared why/fix shown once per group."""
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for coupling in data["couplings"]:
        by_kind[coupling["kind"]].append(coupling)
    groups = []
    for kind, items in by_kind.items():
        worst = min(SEVERITY_ORDER.index(c["severity"]) for c in items)
        whys = {c["why"] for c in items}
        fixes = {c["fix"] for c in items}
        counts = {s: sum(1 for c in items if c["severity"] == s) for s in SEVERITY_ORDER}
        groups.append(
            {
                "kind": kind,
                "worst": SEVERITY_ORDER[worst],
                "counts": {s: n for s, n in counts.items() if n},
                "why": next(iter(whys)) if len(whys) == 1 else None,
                "fix": next(iter(fixes)) if len(fixes) == 1 else None,
                "items": [
                    {**c, "hidden": max(0, len(c["evidence"]) - EVIDENCE_SHOWN)} for c in items
                ],
            }
        )
    return sorted(groups, key=lambda g: (SEVERITY_ORDER.index(g["worst"]), g["kind"]))
