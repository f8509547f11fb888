"""Render couplings as SARIF 2.1.0, so code-scanning tools annotate each one in place.

One rule per coupling kind (every kind listed, found or not), one result per coupling,
located at its first evidence line with the rest as related locations.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from carveout.domain.model import Coupling, Severity
from carveout.stages.couplings import KINDS, CouplingKind

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_VERSION = "2.1.0"
LEVELS = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
_SOURCE_ROOT = "%SRCROOT%"


def render_sarif(couplings: Sequence[Coupling], *, tool_version: str) -> str:
    """The couplings as a SARIF 2.1.0 log (JSON text ending with a newline).

    Paths stay relative to the analysed project's root (`uriBaseId` "%SRCROOT%"); the
    output holds no time or absolute path, so equal input gives equal bytes.
    """
    rule_index = {kind.id: number for number, kind in enumerate(KINDS)}
    results = [_result(c, rule_index) for c in couplings if c.evidence]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "carveout",
                        "version": tool_version,
                        "informationUri": "https://pypi.org/project/carveout/",
                        "rules": [_rule(kind) for kind in KINDS],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule(kind: CouplingKind) -> dict:
    return {
        "id": kind.id,
        "name": "".join(part.capitalize() for part in kind.id.split("-")),
        "shortDescription": {"text": kind.title},
        "fullDescription": {"text": kind.why},
        "help": {"text": kind.fix},
        "defaultConfiguration": {"level": LEVELS[kind.severity]},
        "properties": {"severity": kind.severity.value, "tags": ["coupling", "architecture"]},
    }


def _result(coupling: Coupling, rule_index: dict[str, int]) -> dict:
    first, *rest = coupling.evidence
    result: dict = {
        "ruleId": coupling.kind,
        "level": LEVELS[coupling.severity],
        "message": {"text": f"{coupling.why} Fix: {coupling.fix}"},
        "locations": [_location(first.path, first.line, first.text)],
    }
    if coupling.kind in rule_index:
        result["ruleIndex"] = rule_index[coupling.kind]
    if rest:
        result["relatedLocations"] = [
            {"id": number, **_location(e.path, e.line, e.text)}
            for number, e in enumerate(rest, start=1)
        ]
    fingerprint = "|".join([coupling.kind, *coupling.modules])
    result["partialFingerprints"] = {
        "carveoutCoupling/v1": hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:32]
    }
    result["properties"] = {
        "severity": coupling.severity.value,
        "modules": list(coupling.modules),
        "fix": coupling.fix,
    }
    return result


def _location(path: str, line: int, text: str) -> dict:
    location: dict = {
        "physicalLocation": {
            "artifactLocation": {"uri": path, "uriBaseId": _SOURCE_ROOT},
            "region": {"startLine": max(1, line)},
        }
    }
    if text:
        location["message"] = {"text": text}
    return location
