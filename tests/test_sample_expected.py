"""The sample monolith against `samples/shopwise/expected.toml`, written before carveout ran
on it: every expected AI feature, coupling and cycle is found, nothing unexpected is."""

from __future__ import annotations

from collections import defaultdict

import pytest

from carveout.application.analyze import AnalysisRun
from helpers_sample import expected

EXPECTED = expected()


def test_every_module_is_read(sample_run: AnalysisRun) -> None:
    project = sample_run.analysis.project
    assert len(project.files) == EXPECTED["project"]["modules"]
    assert list(project.top_level_packages) == EXPECTED["project"]["top_level"]


@pytest.mark.parametrize(
    "feature", EXPECTED["features"], ids=[f["capability"] for f in EXPECTED["features"]]
)
def test_ai_feature_found_with_its_modules_providers_and_models(
    sample_run: AnalysisRun, feature: dict
) -> None:
    found = {f.capability.value: f for f in sample_run.analysis.features}
    assert feature["capability"] in found
    actual = found[feature["capability"]]
    assert set(actual.modules) == set(feature["modules"])
    assert set(actual.providers) == set(feature["providers"])
    assert set(feature["models"]) <= set(actual.models)


def test_no_ai_feature_is_invented(sample_run: AnalysisRun) -> None:
    wanted = {f["capability"] for f in EXPECTED["features"]}
    assert {f.capability.value for f in sample_run.analysis.features} == wanted
    stripe = "shopwise.billing.providers.stripe_provider"
    assert all(stripe not in f.modules for f in sample_run.analysis.features)


def _evidence(coupling) -> set[str]:
    return {f"{e.path}:{e.line}" for e in coupling.evidence}


@pytest.mark.parametrize(
    "planted",
    EXPECTED["couplings"],
    ids=[
        f"{c['kind']}-{'-'.join(m.split('.')[-1] for m in c['modules'][:2])}"
        for c in EXPECTED["couplings"]
    ],
)
def test_every_planted_coupling_is_found(sample_run: AnalysisRun, planted: dict) -> None:
    candidates = [c for c in sample_run.analysis.couplings if c.kind == planted["kind"]]
    matches = [
        c
        for c in candidates
        if set(planted["modules"]) <= set(c.modules) and set(planted["evidence"]) & _evidence(c)
    ]
    assert matches, (
        f"no {planted['kind']} coupling over {planted['modules']} with evidence "
        f"{planted['evidence']}; found: {[(c.modules, sorted(_evidence(c))) for c in candidates]}"
    )


def test_nothing_unexpected_is_reported(sample_run: AnalysisRun) -> None:
    planted_by_kind: dict[str, list[dict]] = defaultdict(list)
    for planted in EXPECTED["couplings"]:
        planted_by_kind[planted["kind"]].append(planted)
    unexpected = []
    for coupling in sample_run.analysis.couplings:
        explained = any(
            set(p["modules"]) <= set(coupling.modules) and set(p["evidence"]) & _evidence(coupling)
            for p in planted_by_kind.get(coupling.kind, [])
        )
        if not explained:
            unexpected.append((coupling.kind, coupling.modules, sorted(_evidence(coupling))))
    assert unexpected == []


def test_cycles_and_their_kind(sample_run: AnalysisRun) -> None:
    found = {frozenset(c.modules): c.deferred for c in sample_run.analysis.cycles}
    wanted = {frozenset(c["modules"]): c["deferred"] for c in EXPECTED["cycles"]}
    assert found == wanted


def test_each_ai_group_lands_in_one_proposed_service(sample_run: AnalysisRun) -> None:
    services = sample_run.analysis.proposal.services
    for group in EXPECTED["services"]["expected_ai_services"]:
        homes = [s.name for s in services if set(group) <= set(s.modules)]
        assert homes, f"no proposed service holds all of {group}: " + str(
            [(s.name, s.modules) for s in services]
        )


def test_every_module_has_a_placement_with_a_reason(sample_run: AnalysisRun) -> None:
    placements = sample_run.analysis.proposal.placements
    modules = sorted(m.name for m in sample_run.analysis.modules)
    assert sorted(p.module for p in placements) == modules
    assert all(p.reason for p in placements)
