"""The analysis as JSON (schema `carveout.analysis/1`) for machines: CI gates, dashboards, diffs.

The document is a pure function of the `Analysis`: every list is sorted by a documented key,
floats are rounded, and no timestamp or absolute path appears, so reruns give the same bytes.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from enum import Enum
from importlib import resources
from json.encoder import encode_basestring
from operator import attrgetter
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from carveout import __version__
from carveout.domain.facts import Confidence, Diagnostic, Guard, Origin, Scope
from carveout.domain.model import (
    AiFeature,
    Analysis,
    Coupling,
    Cycle,
    Edge,
    Evidence,
    Module,
    Service,
    Severity,
)

SCHEMA_ID = "carveout.analysis/1"
FLOAT_DIGITS = 4

# Severity order used wherever findings are listed: the worst first.
SEVERITY_RANK = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}

# `Edge.sort_key` read in C: the same order, because the members of a str-valued enum
# compare as their values (a big monolith has a hundred thousand edges or more).
_EDGE_ORDER = attrgetter(
    "source", "target", "line", "origin", "scope", "guard", "confidence", "external", "canonical"
)
# The values of an edge's enums by member: a dict look-up is cheaper than `.value`.
_EDGE_VALUES: dict[Enum, str] = {
    member: member.value for kind in (Scope, Guard, Origin, Confidence) for member in kind
}
_JSON_BOOL = {True: "true", False: "false"}
# One encoder for every record: `json.dumps` with options builds a new one per call.
_COMPACT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def analysis_to_dict(analysis: Analysis) -> dict[str, Any]:
    """Return the analysis as plain JSON data following `analysis.schema.json`.

    Ordering (the contract consumers may rely on):
    - modules, module_labels, placements by module name; services by name; metrics by name;
    - edges by (source, target, line, origin, scope, guard, confidence, external, canonical);
    - cycles by their sorted module list; ai_features by (capability, modules);
    - couplings by (severity high→low, kind, modules, evidence);
    - diagnostics by (path, line, kind, message); skipped files by (path, reason);
    - inner sets (modules, providers, models, env vars, capabilities…) sorted; evidence by
      (path, line, text);
    - sequences whose order carries meaning keep the order the stage gave them: a cycle's
      `path`, its `breaking_edges` (most-breaking first) and a service's `blockers`.

    Floats are rounded to 4 decimals (a non-finite metric value becomes null). The project
    root is reported as its folder name; any absolute path elsewhere is made relative to the
    root, or reduced to its file name when it lies outside the root.
    """
    root = analysis.project.root
    diagnostics = _all_diagnostics(analysis)
    document: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "carveout_version": __version__,
        "project": _project(analysis, root),
        "modules": [_module(m, root) for m in sorted(analysis.modules, key=lambda m: m.name)],
        "edges": [_edge(e) for e in sorted(analysis.edges, key=_EDGE_ORDER)],
        "cycles": [_cycle(c) for c in sorted(analysis.cycles, key=cycle_sort_key)],
        "ai_features": [
            _feature(f, root) for f in sorted(analysis.features, key=feature_sort_key)
        ],
        "module_labels": [
            {
                "module": label.module,
                "capabilities": sorted({c.value for c in label.capabilities}),
                "direct": label.direct,
            }
            for label in sorted(analysis.labels, key=lambda lb: (lb.module, not lb.direct))
        ],
        "couplings": [
            _coupling(c, root) for c in sorted(analysis.couplings, key=coupling_sort_key)
        ],
        "services": [
            _service(s) for s in sorted(analysis.proposal.services, key=lambda s: s.name)
        ],
        "monolith": {"modules": sorted(analysis.proposal.monolith)},
        "placements": [
            {"module": p.module, "part": p.part, "reason": p.reason}
            for p in sorted(analysis.proposal.placements, key=lambda p: (p.module, p.part))
        ],
        "metrics": [
            {
                "name": m.name,
                "value": _number(m.value),
                "definition": m.definition,
                "better": m.better,
            }
            for m in sorted(analysis.proposal.metrics, key=lambda m: m.name)
        ],
        "rules": _rules(analysis),
        "diagnostics": [_diagnostic(d, root) for d in diagnostics],
    }
    document["summary"] = _summary(analysis, diagnostics)
    return document


def render_json(analysis: Analysis) -> str:
    """Return `analysis_to_dict(analysis)` as UTF-8 JSON text ending in a newline.

    Top-level tables (modules, edges, couplings, ...) hold one record per line: a diff of two
    analyses reads record by record, and the records go through the json module's C
    encoder (indented output would take the slow pure-Python one: seconds on a big
    monolith). Small top-level objects are indented as usual.
    """
    return render_document(analysis_to_dict(analysis))


def render_document(document: dict[str, Any]) -> str:
    """Return a document made by `analysis_to_dict` as the text `render_json` gives.

    For a caller that also needs the document itself (the HTML report): it is built once.
    """
    last = len(document) - 1
    parts = ["{\n"]
    for position, (key, value) in enumerate(document.items()):
        comma = "," if position < last else ""
        if isinstance(value, list) and value:
            encode = _edge_text if key == "edges" else _compact
            parts.append(f"  {_compact(key)}: [\n    ")
            parts.append(",\n    ".join(map(encode, value)))
            parts.append(f"\n  ]{comma}\n")
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
            parts.append(f"  {_compact(key)}: " + text.replace("\n", "\n  ") + comma + "\n")
    parts.append("}\n")
    return "".join(parts)


def load_analysis_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) shipped inside the package."""
    return dict(_schema())


def validate_analysis_json(data: dict[str, Any]) -> list[str]:
    """Check `data` against `analysis.schema.json`; return one message per problem.

    An empty list means valid. Each message names where the problem is, as a JSON path
    (`$.edges[3].scope: 'sideways' is not one of [...]`); messages are sorted by that path.
    """
    from jsonschema import Draft202012Validator  # only checks need it: not loaded per run

    validator = Draft202012Validator(_schema())
    problems = []
    for error in validator.iter_errors(data):
        problems.append(
            (list(map(str, error.absolute_path)), f"{error.json_path}: {error.message}")
        )
    return [message for _, message in sorted(problems)]


def edge_sort_key(edge: Edge) -> tuple[Any, ...]:
    """The documented order of import edges: the domain's own (`Edge.sort_key`)."""
    return edge.sort_key


def cycle_sort_key(cycle: Cycle) -> tuple[Any, ...]:
    """The documented order of cycles: by their sorted module list, then their path."""
    return (tuple(sorted(cycle.modules)), cycle.path)


def feature_sort_key(feature: AiFeature) -> tuple[Any, ...]:
    """The documented order of AI features: by capability, then their sorted modules."""
    return (feature.capability.value, tuple(sorted(feature.modules)))


def coupling_sort_key(coupling: Coupling) -> tuple[Any, ...]:
    """The documented order of couplings: worst first, then kind, modules and evidence."""
    return (
        SEVERITY_RANK[coupling.severity],
        coupling.kind,
        tuple(sorted(coupling.modules)),
        tuple(_evidence_key(e) for e in sorted(coupling.evidence, key=_evidence_key)),
    )


def diagnostic_sort_key(diagnostic: Diagnostic) -> tuple[Any, ...]:
    """The documented order of diagnostics."""
    return (diagnostic.path, diagnostic.line, diagnostic.kind, diagnostic.message)


def root_folder_name(root: str) -> str:
    """The project root as reported: its last path component, never the absolute path."""
    for flavour in (PurePosixPath, PureWindowsPath):
        name = flavour(root).name
        if name and "/" not in name and "\\" not in name:
            return name
    return root.strip("/\\") or "."


def relative_path(path: str, root: str) -> str:
    """`path` as reported: relative paths unchanged (POSIX style), absolute ones made relative
    to `root` when they lie under it, else reduced to their file name."""
    if not path:
        return path
    posix = path.replace("\\", "/")
    windows_drive = len(posix) > 1 and posix[1] == ":"
    if not posix.startswith("/") and not windows_drive:
        return posix
    root_posix = root.replace("\\", "/").rstrip("/")
    if root_posix and posix.startswith(root_posix + "/"):
        return posix[len(root_posix) + 1 :]
    return PurePosixPath(posix).name


def all_diagnostics(analysis: Analysis) -> list[Diagnostic]:
    """Discovery and analysis diagnostics together, deduplicated, in the documented order."""
    return _all_diagnostics(analysis)


def import_edge_count(edges: Iterable[Edge]) -> int:
    """The "import edges" every summary shows: edges between project modules, without the
    implicit parent-package edges (`import a.b.c` also loads `a` and `a.b`). External
    edges and the implicit ones stay in the edge list; this is only the headline count."""
    return sum(
        1 for edge in edges if not edge.external and edge.origin is not Origin.IMPLICIT_PARENT
    )


# --- private helpers -------------------------------------------------------------------


def _compact(value: Any) -> str:
    return _COMPACT.encode(value)


def _edge_text(edge: dict[str, Any]) -> str:
    """`_compact(edge)` for a record made by `_edge`, written out field by field.

    A big monolith has a hundred thousand edges or more, and the encoder's cost per call
    is most of their time; `encode_basestring` is the encoder's own string escape.
    """
    return (
        f'{{"source": {encode_basestring(edge["source"])}, '
        f'"target": {encode_basestring(edge["target"])}, "line": {int(edge["line"])}, '
        f'"scope": {encode_basestring(edge["scope"])}, '
        f'"guard": {encode_basestring(edge["guard"])}, '
        f'"origin": {encode_basestring(edge["origin"])}, '
        f'"confidence": {encode_basestring(edge["confidence"])}, '
        f'"external": {_JSON_BOOL[edge["external"]]}, '
        f'"canonical": {_JSON_BOOL[edge["canonical"]]}, '
        f'"runtime": {_JSON_BOOL[edge["runtime"]]}}}'
    )


def _schema() -> dict[str, Any]:
    text = (
        resources.files("carveout")
        .joinpath("schemas/analysis.schema.json")
        .read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def _all_diagnostics(analysis: Analysis) -> list[Diagnostic]:
    unique = set(analysis.project.diagnostics) | set(analysis.diagnostics)
    return sorted(unique, key=diagnostic_sort_key)


def _project(analysis: Analysis, root: str) -> dict[str, Any]:
    project = analysis.project
    return {
        "name": project.name,
        "root": root_folder_name(root),
        "source_roots": sorted({relative_path(r, root) for r in project.source_roots}),
        "top_level_packages": list(project.top_level_packages),
        "files": len(project.files),
        "namespace_packages": sorted(project.namespace_packages),
        "skipped": [
            {"path": relative_path(s.path, root), "reason": s.reason}
            for s in sorted(project.skipped, key=lambda s: (s.path, s.reason))
        ],
        "entry_points": [
            {"group": e.group, "name": e.name, "target": e.target, "module": e.module}
            for e in sorted(project.entry_points, key=lambda e: (e.group, e.name, e.target))
        ],
    }


def _module(module: Module, root: str) -> dict[str, Any]:
    return {
        "name": module.name,
        "path": None if module.path is None else relative_path(module.path, root),
        "kind": module.kind.value,
        "lines": module.lines,
        "entry_point": module.is_entry_point,
    }


def _edge(edge: Edge) -> dict[str, Any]:
    return {
        "source": edge.source,
        "target": edge.target,
        "line": edge.line,
        "scope": _EDGE_VALUES[edge.scope],
        "guard": _EDGE_VALUES[edge.guard],
        "origin": _EDGE_VALUES[edge.origin],
        "confidence": _EDGE_VALUES[edge.confidence],
        "external": edge.external,
        "canonical": edge.canonical,
        "runtime": edge.is_runtime,
    }


def _cycle(cycle: Cycle) -> dict[str, Any]:
    return {
        "modules": sorted(cycle.modules),
        "path": list(cycle.path),
        "deferred": cycle.deferred,
        "breaking_edges": [{"source": s, "target": t} for s, t in cycle.breaking_edges],
    }


def _feature(feature: AiFeature, root: str) -> dict[str, Any]:
    return {
        "capability": feature.capability.value,
        "modules": sorted(feature.modules),
        "providers": sorted(feature.providers),
        "models": sorted(feature.models),
        "entry_points": sorted(feature.entry_points),
        "env_vars": sorted(feature.env_vars),
        "config_keys": sorted(feature.config_keys),
        "evidence": _evidence_list(feature.evidence, root),
    }


def _coupling(coupling: Coupling, root: str) -> dict[str, Any]:
    return {
        "kind": coupling.kind,
        "severity": coupling.severity.value,
        "modules": sorted(coupling.modules),
        "evidence": _evidence_list(coupling.evidence, root),
        "why": coupling.why,
        "fix": coupling.fix,
    }


def _service(service: Service) -> dict[str, Any]:
    return {
        "name": service.name,
        "modules": sorted(service.modules),
        "surface": [
            {"module": s.module, "name": s.name, "used_by": sorted(s.used_by)}
            for s in sorted(service.surface, key=lambda s: (s.module, s.name))
        ],
        "ai_capabilities": sorted({c.value for c in service.ai_capabilities}),
        "blockers": list(service.blockers),
    }


def _rules(analysis: Analysis) -> dict[str, Any]:
    rules = analysis.rules
    return {
        "generated": rules is not None and bool(rules.text),
        "ignored_imports": [] if rules is None else sorted(rules.ignored_imports),
        "unenforceable": [] if rules is None else sorted(rules.unenforceable),
        "contracts": sorted(g.path for g in analysis.contracts),
    }


def _diagnostic(diagnostic: Diagnostic, root: str) -> dict[str, Any]:
    return {
        "path": relative_path(diagnostic.path, root),
        "line": diagnostic.line,
        "kind": diagnostic.kind,
        "message": diagnostic.message,
    }


def _evidence_key(evidence: Evidence) -> tuple[str, int, str]:
    return (evidence.path, evidence.line, evidence.text)


def _evidence_list(evidence: Iterable[Evidence], root: str) -> list[dict[str, Any]]:
    return [
        {"path": relative_path(e.path, root), "line": e.line, "text": e.text}
        for e in sorted(set(evidence), key=_evidence_key)
    ]


def _number(value: float) -> float | int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if not math.isfinite(value):
        return None
    rounded = round(value, FLOAT_DIGITS)
    return 0.0 if rounded == 0 else rounded  # no "-0.0" in the output


def _summary(analysis: Analysis, diagnostics: list[Diagnostic]) -> dict[str, Any]:
    severities = Counter(c.severity for c in analysis.couplings)
    rules = analysis.rules
    return {
        "files": len(analysis.project.files),
        "modules": len(analysis.modules),
        "lines": sum(m.lines for m in analysis.modules),
        "edges": len(analysis.edges),
        "import_edges": import_edge_count(analysis.edges),
        "runtime_edges": sum(1 for e in analysis.edges if e.is_runtime),
        "external_edges": sum(1 for e in analysis.edges if e.external),
        "cycles": len(analysis.cycles),
        "import_time_cycles": sum(1 for c in analysis.cycles if not c.deferred),
        "ai_features": len(analysis.features),
        "ai_modules": len({lb.module for lb in analysis.labels}),
        "couplings": len(analysis.couplings),
        "couplings_by_severity": {s.value: severities.get(s, 0) for s in Severity},
        "services": len(analysis.proposal.services),
        "monolith_modules": len(analysis.proposal.monolith),
        "ignored_imports": 0 if rules is None else len(rules.ignored_imports),
        "unenforceable": 0 if rules is None else len(rules.unenforceable),
        "diagnostics": len(diagnostics),
        "skipped": len(analysis.project.skipped),
    }
