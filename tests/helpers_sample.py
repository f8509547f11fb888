"""Runs of the whole pipeline on the bundled sample, shared by the end-to-end tests."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from carveout.application.analyze import AnalysisRun, AnalyzeRequest, analyze
from carveout.application.publish import artefacts

REPOSITORY = Path(__file__).resolve().parents[1]
SAMPLE = REPOSITORY / "samples" / "shopwise"
COMMITTED_REPORT = REPOSITORY / "reports" / "shopwise"
# Artefacts compared byte for byte with the committed report; the HTML embeds SVG drawn by
# the installed Graphviz, so it is checked for content instead.
COMPARED_SUFFIXES = (".json", ".toml", ".py", ".sarif", ".dot", ".mmd")


def run_sample(cache_dir: Path) -> AnalysisRun:
    # the committed report is the baseline of the contract versions, as for `make demo`
    return analyze(AnalyzeRequest(path=SAMPLE, cache_dir=cache_dir, jobs=1, out=COMMITTED_REPORT))


def sample_artefacts(run: AnalysisRun) -> dict[str, str]:
    return artefacts(run.analysis, collapse_threshold=run.settings.collapse_threshold)


def expected() -> dict:
    return tomllib.loads((SAMPLE / "expected.toml").read_text(encoding="utf-8"))
