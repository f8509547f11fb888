"""`[tool.carveout]`: found at or above PATH, validated as a whole, beaten by flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from carveout.adapters.config import find_pyproject, load_settings
from carveout.domain.errors import ConfigError


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
    assert "4 problem(s)" in message
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
