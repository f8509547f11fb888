"""Fixtures shared across test files: one analysis of the bundled sample per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from carveout.application.analyze import AnalysisRun
from helpers_sample import run_sample


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> AnalysisRun:
    return run_sample(tmp_path_factory.mktemp("sample-cache"))


@pytest.fixture(scope="session")
def sample_artefact_files(sample_run: AnalysisRun) -> dict[str, str]:
    from helpers_sample import sample_artefacts

    return sample_artefacts(sample_run)


@pytest.fixture(scope="session")
def sample_out(tmp_path_factory: pytest.TempPathFactory, sample_run: AnalysisRun) -> Path:
    from carveout.application.publish import publish

    out = tmp_path_factory.mktemp("sample-report")
    publish(sample_run, out)
    return out
