"""The JSON document: valid against its schema, stable bytes, no absolute paths."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from carveout.adapters.json_output import (
    SCHEMA_ID,
    analysis_to_dict,
    load_analysis_schema,
    render_json,
    validate_analysis_json,
)
from carveout.domain.facts import Confidence, Diagnostic, Guard, Origin, Scope
from carveout.domain.model import Capability, Evidence, Metric, ModuleKind, Severity
from helpers_report import empty_analysis, sample_analysis, shuffled, wide_analysis

ANALYSES = {
    "sample": lambda: sample_analysis(),
    "hostile": lambda: sample_analysis(hostile=True),
    "wide": lambda: wide_analysis(5, 4),
    "empty": empty_analysis,
}


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_every_document_validates(name: str) -> None:
    data = analysis_to_dict(ANALYSES[name]())
    assert validate_analysis_json(data) == []
    assert data["schema"] == SCHEMA_ID
    assert data["carveout_version"]


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_render_is_byte_identical_and_ends_with_newline(name: str) -> None:
    first = render_json(ANALYSES[name]())
    second = render_json(ANALYSES[name]())
    assert first == second
    assert first.endswith("}\n")
    assert json.loads(first) == analysis_to_dict(ANALYSES[name]())


def test_input_order_does_not_change_the_bytes() -> None:
    assert render_json(shuffled(sample_analysis())) == render_json(sample_analysis())


def test_schema_enums_are_the_domain_enums() -> None:
    definitions = load_analysis_schema()["$defs"]
    expected = {
        "scope": Scope,
        "guard": Guard,
        "origin": Origin,
        "confidence": Confidence,
        "module_kind": ModuleKind,
        "capability": Capability,
        "severity": Severity,
    }
    for name, enum in expected.items():
        assert definitions[name]["enum"] == [member.value for member in enum], name


def test_top_level_keys_and_their_order() -> None:
    data = analysis_to_dict(sample_analysis())
    assert list(data) == [
        "schema",
        "carveout_version",
        "project",
        "modules",
        "edges",
        "cycles",
        "ai_features",
        "module_labels",
        "couplings",
        "services",
        "monolith",
        "placements",
        "metrics",
        "rules",
        "diagnostics",
        "summary",
    ]


def test_lists_follow_the_documented_order() -> None:
    data = analysis_to_dict(sample_analysis())
    modules = [m["name"] for m in data["modules"]]
    assert modules == sorted(modules)
    edges = [(e["source"], e["target"], e["line"]) for e in data["edges"]]
    assert edges == sorted(edges)
    assert [s["name"] for s in data["services"]] == ["assistant", "search"]
    assert [c["severity"] for c in data["couplings"]] == ["high", "medium", "low"]
    assert [m["name"] for m in data["metrics"]] == ["ICP", "SM"]
    chat = data["ai_features"][0]
    assert chat["capability"] == "chat"
    assert chat["modules"] == ["shop.ai.assistant", "shop.ai.chat"]
    assert [(e["path"], e["line"]) for e in chat["evidence"]] == [
        ("src/shop/ai/chat.py", 4),
        ("src/shop/ai/chat.py", 12),
    ]


def test_cycle_keeps_its_path_and_breaking_edges_in_stage_order() -> None:
    cycle = analysis_to_dict(sample_analysis())["cycles"][0]
    assert cycle["path"] == ["shop.orders.service", "shop.orders.models", "shop.orders.service"]
    assert cycle["breaking_edges"] == [
        {"source": "shop.orders.models", "target": "shop.orders.service"}
    ]
    assert cycle["deferred"] is False


def test_floats_are_rounded_and_non_finite_values_become_null() -> None:
    analysis = sample_analysis()
    metrics = (*analysis.proposal.metrics, Metric("broken", float("nan"), "undefined", "lower"))
    analysis = replace(analysis, proposal=replace(analysis.proposal, metrics=metrics))
    data = analysis_to_dict(analysis)
    values = {m["name"]: m["value"] for m in data["metrics"]}
    assert values == {"ICP": 0.1235, "SM": 0.8765, "broken": None}
    assert validate_analysis_json(data) == []
    assert "NaN" not in render_json(analysis)


def test_no_absolute_path_and_root_reported_by_folder_name() -> None:
    root = "/home/dev/projects/shop"
    analysis = sample_analysis(root=root)
    feature = analysis.features[0]
    outside = Evidence("/etc/secrets/keys.py", 1, "KEY = 1")
    inside = Evidence(f"{root}/src/shop/ai/extra.py", 2, "extra")
    feature = replace(feature, evidence=(*feature.evidence, outside, inside))
    analysis = replace(analysis, features=(feature, *analysis.features[1:]))
    text = render_json(analysis)
    assert "/home/dev" not in text
    assert "/etc/secrets" not in text
    data = json.loads(text)
    assert data["project"]["root"] == "shop"
    paths = [e["path"] for e in data["ai_features"][0]["evidence"]]
    assert "keys.py" in paths
    assert "src/shop/ai/extra.py" in paths
    assert analysis_to_dict(empty_analysis())["project"]["root"] == "empty"


def test_summary_counts() -> None:
    summary = analysis_to_dict(sample_analysis())["summary"]
    assert summary["modules"] == 12
    assert summary["edges"] == 15
    assert summary["external_edges"] == 1
    assert summary["runtime_edges"] == 12  # less TYPE_CHECKING, implicit parent, external
    assert summary["cycles"] == summary["import_time_cycles"] == 1
    assert summary["couplings_by_severity"] == {"high": 1, "medium": 1, "low": 1}
    assert summary["services"] == 2
    assert summary["monolith_modules"] == 7
    assert summary["ai_modules"] == 3
    assert summary["ignored_imports"] == summary["unenforceable"] == 1


def test_discovery_and_analysis_diagnostics_are_merged_once() -> None:
    analysis = sample_analysis()
    duplicate = analysis.project.diagnostics[0]
    analysis = replace(analysis, diagnostics=(*analysis.diagnostics, duplicate))
    diagnostics = analysis_to_dict(analysis)["diagnostics"]
    assert [(d["path"], d["kind"]) for d in diagnostics] == [
        ("src/shop/api/routes.py", "unresolved-import"),
        ("src/shop/legacy.py", "syntax-error"),
    ]


def test_rules_absent_is_reported_as_not_generated() -> None:
    data = analysis_to_dict(replace(sample_analysis(), rules=None, contracts=()))
    assert data["rules"] == {
        "generated": False,
        "ignored_imports": [],
        "unenforceable": [],
        "contracts": [],
    }


def test_non_ascii_text_is_kept_as_is() -> None:
    analysis = sample_analysis()
    diagnostic = Diagnostic("src/shop/café.py", 1, "décodage impossible", "decode-error")
    text = render_json(replace(analysis, diagnostics=(diagnostic,)))
    assert "café.py" in text
    assert "\\u00e9" not in text


def test_a_broken_document_fails_with_a_message_naming_the_place() -> None:
    data = analysis_to_dict(sample_analysis())
    data["edges"][0]["scope"] = "sideways"
    del data["summary"]
    data["modules"][1]["path"] = "/abs/path.py"
    problems = validate_analysis_json(data)
    assert any(p.startswith("$.edges[0].scope") and "'sideways'" in p for p in problems)
    assert any("'summary' is a required property" in p for p in problems)
    assert any(p.startswith("$.modules[1].path") for p in problems)
    assert len(problems) == 3


def test_wrong_schema_id_fails() -> None:
    data = analysis_to_dict(empty_analysis())
    data["schema"] = "carveout.analysis/2"
    assert validate_analysis_json(data) == ["$.schema: 'carveout.analysis/1' was expected"]


def test_extra_top_level_field_keeps_the_document_valid() -> None:
    data = analysis_to_dict(empty_analysis())
    data["future_field"] = {"anything": 1}
    assert validate_analysis_json(data) == []


def test_tables_hold_one_record_per_line_and_parse_back() -> None:
    from carveout.adapters.json_output import analysis_to_dict, render_json
    from helpers_report import sample_analysis

    analysis = sample_analysis()
    text = render_json(analysis)
    assert json.loads(text) == analysis_to_dict(analysis)
    data = analysis_to_dict(analysis)
    lines = text.splitlines()
    for edge in data["edges"]:
        assert any(
            json.loads(line.strip().rstrip(",")) == edge
            for line in lines
            if line.startswith("    {")
        )
