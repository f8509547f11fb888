"""The committed example report stays current, and the sample's generated artefacts work:
the import-linter rules hold under the real `lint-imports`, the facades import, the
contract tests pass, and a rerun is byte-identical."""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from carveout.application.analyze import AnalysisRun
from helpers_sample import (
    COMMITTED_REPORT,
    COMPARED_SUFFIXES,
    SAMPLE,
    run_sample,
    sample_artefacts,
)

BIN = Path(sys.executable).parent
UPDATE = os.environ.get("CARVEOUT_UPDATE_REPORTS") == "1"


def test_committed_example_report_is_current(sample_artefact_files: dict[str, str]) -> None:
    compared = {p: t for p, t in sample_artefact_files.items() if p.endswith(COMPARED_SUFFIXES)}
    if UPDATE:
        from carveout.adapters.output_folder import write_artefacts

        write_artefacts(COMMITTED_REPORT, sample_artefact_files)
    stale = []
    for relative, text in sorted(compared.items()):
        committed = COMMITTED_REPORT / relative
        old = committed.read_text(encoding="utf-8") if committed.is_file() else ""
        if old != text:
            diff = difflib.unified_diff(
                old.splitlines(),
                text.splitlines(),
                f"committed/{relative}",
                f"regenerated/{relative}",
                lineterm="",
                n=1,
            )
            stale.append("\n".join(list(diff)[:40]))
    committed_files = {
        p.relative_to(COMMITTED_REPORT).as_posix()
        for p in COMMITTED_REPORT.rglob("*")
        if p.is_file() and p.name.endswith(COMPARED_SUFFIXES)
    }
    extra = sorted(committed_files - set(compared))
    assert not stale and not extra, (
        "reports/shopwise is stale; regenerate with `make demo` or "
        "CARVEOUT_UPDATE_REPORTS=1 pytest tests/test_sample_report.py\n"
        + "\n\n".join(stale)
        + (f"\nno longer generated: {extra}" if extra else "")
    )
    assert (COMMITTED_REPORT / "index.html").is_file()


def test_a_rerun_is_byte_identical(tmp_path: Path, sample_artefact_files: dict[str, str]) -> None:
    again = sample_artefacts(run_sample(tmp_path / "cache"))
    assert again.keys() == sample_artefact_files.keys()
    differing = [p for p in again if again[p] != sample_artefact_files[p]]
    assert differing == []


def test_a_warm_run_gives_the_same_analysis(tmp_path: Path) -> None:
    cold = run_sample(tmp_path / "cache")
    warm = run_sample(tmp_path / "cache")
    assert cold.files_scanned == len(cold.analysis.project.files)
    assert warm.files_from_cache == len(warm.analysis.project.files)
    assert sample_artefacts(warm)["analysis.json"] == sample_artefacts(cold)["analysis.json"]


def _lint_imports(config: Path, source_root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run(
        [str(BIN / "lint-imports"), "--config", str(config), "--no-cache"],
        capture_output=True,
        text=True,
        env=env,
        cwd=source_root,
        timeout=120,
    )


def test_import_linter_rules_are_kept_today_and_broken_by_a_new_crossing(
    tmp_path: Path, sample_out: Path, sample_run: AnalysisRun
) -> None:
    config = sample_out / "importlinter.toml"
    kept = _lint_imports(config, SAMPLE / "src")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "0 broken" in kept.stdout

    # one new import of a service's internals from the monolith breaks the boundary
    copy = tmp_path / "shopwise"
    shutil.copytree(SAMPLE / "src", copy / "src")
    service = sample_run.analysis.proposal.services[0]
    internal = sorted(m for m in service.modules if "." in m)[-1]
    billing = copy / "src" / "shopwise" / "billing" / "routes.py"
    billing.write_text(billing.read_text() + f"\nimport {internal}  # crosses a boundary\n")
    broken = _lint_imports(config, copy / "src")
    assert broken.returncode != 0
    assert "BROKEN" in broken.stdout
    assert f"shopwise.billing.routes -> {internal}" in broken.stdout


def test_the_ratchet_lists_only_real_imports(sample_run: AnalysisRun) -> None:
    rules = sample_run.analysis.rules
    assert rules is not None and rules.ignored_imports
    real = {
        (e.source, e.target)
        for e in sample_run.analysis.edges
        if e.guard.value != "type_checking" and e.origin.value in ("import", "star")
    }
    for entry in rules.ignored_imports:
        importer, imported = (part.strip() for part in entry.split("->"))
        assert (importer, imported) in real, entry


@pytest.fixture(scope="module")
def facade_env(tmp_path_factory: pytest.TempPathFactory, sample_out: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SAMPLE / "src"), str(sample_out)]),
        "OPENAI_API_KEY": "sk-test-not-used",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }


def test_generated_facades_parse_and_import(sample_out: Path, facade_env: dict[str, str]) -> None:
    facades = sorted((sample_out / "contracts").glob("*/facade.py"))
    assert len(facades) >= 3
    # the sample is our own code, so importing it (and its facades) is safe here
    script = (
        "import importlib.util, sys\n"
        "for path in sys.argv[1:]:\n"
        "    spec = importlib.util.spec_from_file_location('facade_under_test', path)\n"
        "    module = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(module)\n"
        "    assert module.__all__, path\n"
        "    for name in module.__all__:\n"
        "        getattr(module, name)\n"
        "print('ok', len(sys.argv) - 1)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, facades)],
        capture_output=True,
        text=True,
        env=facade_env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"ok {len(facades)}"


def test_generated_contract_tests_pass(sample_out: Path, facade_env: dict[str, str]) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
            str(sample_out / "contracts"),
        ],
        capture_output=True,
        text=True,
        env=facade_env,
        timeout=300,
        cwd=sample_out,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


def test_written_analysis_validates_against_the_published_schema(sample_out: Path) -> None:
    import json

    from carveout.adapters.json_output import validate_analysis_json

    data = json.loads((sample_out / "analysis.json").read_text(encoding="utf-8"))
    assert data["schema"] == "carveout.analysis/1"
    assert validate_analysis_json(data) == []
