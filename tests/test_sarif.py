"""SARIF output: valid against the official 2.1.0 schema, one rule per kind, every result
located at a file and line, the same bytes for the same input."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from carveout.adapters.sarif import LEVELS, render_sarif
from carveout.domain.model import Coupling, Evidence, Severity
from carveout.stages.couplings import KINDS
from helpers_features import run_tree

SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
)


def validate(text: str) -> dict:
    log = json.loads(text)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    return log


def found_couplings(tmp_path: Path) -> tuple[Coupling, ...]:
    return run_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/orders/__init__.py": "",
            "app/billing/__init__.py": "",
            "app/orders/service.py": (
                "import os\nfrom app.billing import invoices\nK = os.getenv('K')\n"
            ),
            "app/billing/invoices.py": (
                "import os\nK = os.getenv('K')\ndef f():\n    from app.orders import service\n"
            ),
        },
    ).couplings


def test_sarif_is_valid_and_locates_every_result(tmp_path: Path) -> None:
    couplings = found_couplings(tmp_path)
    assert couplings
    log = validate(render_sarif(couplings, tool_version="1.2.3"))
    (run,) = log["runs"]
    assert run["tool"]["driver"]["version"] == "1.2.3"
    assert len(run["results"]) == len(couplings)
    for result, coupling in zip(run["results"], couplings, strict=True):
        assert result["ruleId"] == coupling.kind
        assert result["level"] == LEVELS[coupling.severity]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == coupling.evidence[0].path
        assert location["region"]["startLine"] == coupling.evidence[0].line
        assert len(result.get("relatedLocations", [])) == len(coupling.evidence) - 1


def test_every_kind_is_a_rule_even_without_results() -> None:
    log = validate(render_sarif((), tool_version="0"))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [k.id for k in KINDS]
    for rule, kind in zip(rules, KINDS, strict=True):
        assert rule["defaultConfiguration"]["level"] == LEVELS[kind.severity]
    assert log["runs"][0]["results"] == []


def test_levels_follow_severities() -> None:
    assert LEVELS == {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
    line_zero = Coupling(
        "shared-env-var", Severity.MEDIUM, ("a",), (Evidence("a.py", 0),), "why", "fix"
    )
    log = validate(render_sarif((line_zero,), tool_version="0"))
    region = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 1  # SARIF lines start at 1


def test_rendering_is_byte_identical(tmp_path: Path) -> None:
    couplings = found_couplings(tmp_path)
    first = render_sarif(couplings, tool_version="1")
    assert first == render_sarif(found_couplings(tmp_path / "again"), tool_version="1")
    assert first.endswith("\n")
