"""`[tool.carveout]`: found at or above PATH, validated as a whole, beaten by flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from carveout.adapters.config import find_pyproject, load_settings
from carveout.application.analyze import AnalyzeRequest, analyze
from carveout.domain.errors import ConfigError
from carveout.stages.couplings import KINDS


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_nearest_pyproject_at_or_above_the_path(tmp_path: Path) -> None:
    outer = write(tmp_path / "pyproject.toml", "[tool.carveout]\nmax-services = 3\n")
    inner = write(tmp_path / "pkg" / "sub" / "pyproject.toml", "[tool.carveout]\n")
    assert find_pyproject(tmp_path / "pkg" / "sub") == inner
    assert find_pyproject(tmp_path / "pkg") == outer
    assert load_settings(tmp_path / "pkg").max_services == 3


def test_both_key_spellings_and_flag_overrides(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        "[tool.carveout]\ninclude_tests = true\nmax-services = 2\nexclude = ['legacy']\n",
    )
    settings = load_settings(tmp_path, {"max_services": 7})
    assert settings.include_tests is True
    assert settings.exclude == ("legacy",)
    assert settings.max_services == 7


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        "[tool.carveout]\nmax-services = 'five'\ninclude-tests = 1\nwhat = 3\nexclude = 'x'\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    message = str(caught.value)
    assert "4 problems:" in message
    for key in ("max-services", "include-tests", "unknown key 'what'", "exclude"):
        assert key in message


def test_broken_toml_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.carveout\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path)


def test_catalogue_path_is_relative_to_the_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.carveout]\ncatalogue = 'ai/extra.toml'\n")
    settings = load_settings(tmp_path / "src")
    assert settings.catalogue == str(tmp_path / "ai" / "extra.toml")


def test_unknown_coupling_kinds_in_ignore_are_listed_with_the_known_ones(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        "[tool.carveout]\nignore = ['import-cycle', 'no-such-kind', 'privat-reach-in']\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    (problem,) = caught.value.problems
    assert problem.startswith(
        "'ignore' names 2 unknown coupling kinds: no-such-kind, privat-reach-in (known: "
    )
    for kind in KINDS:
        assert kind.id in problem


def test_known_coupling_kinds_in_ignore_are_kept(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.carveout]\nignore = ['import-cycle']\n")
    assert load_settings(tmp_path).ignore == ("import-cycle",)


def test_unknown_suppression_kinds_become_diagnostics(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    write(project / "pkg" / "__init__.py", "")
    write(
        project / "pkg" / "a.py",
        "import pkg.b\n"
        "x = 1  # carveout: ignore[privat-reach-in]\n"
        "y = 2  # carveout: ignore[import-cycle, all]\n"
        "z = 3  # carveout: ignore[ , ]\n",
    )
    write(
        project / "pkg" / "b.py",
        "def f():\n    import pkg.a  # carveout: ignore[hidden-cycle-imprt]\n",
    )
    run = analyze(AnalyzeRequest(path=project, use_cache=False, jobs=1))
    found = [
        (d.path, d.line, d.message.split(" (known")[0])
        for d in run.analysis.diagnostics
        if d.kind == "unknown-suppression"
    ]
    assert found == [
        ("pkg/a.py", 2, "suppression names no coupling kind: 'privat-reach-in'"),
        ("pkg/a.py", 4, "suppression names no coupling kind"),
        ("pkg/b.py", 2, "suppression names no coupling kind: 'hidden-cycle-imprt'"),
    ]
    first = next(d for d in run.analysis.diagnostics if d.kind == "unknown-suppression")
    assert "hidden-cycle-import" in first.message  # the known kinds are listed
