"""Read `[tool.carveout]` from the analysed project's nearest `pyproject.toml`.

Every field problem is collected before raising, so one run shows them all.
"""

from __future__ import annotations

import os
import sys
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from carveout.domain.errors import ConfigError
from carveout.domain.settings import Settings
from carveout.domain.wording import plural
from carveout.stages.couplings import KINDS
from carveout.stages.regular_files import NotRegularFileError, read_regular_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_KEY_TO_FIELD = {f.name.replace("_", "-"): f.name for f in fields(Settings)}


def find_pyproject(path: Path) -> Path | None:
    """The nearest `pyproject.toml` at or above `path`: any file by that name that is not
    a folder (a FIFO or a device counts, and `load_settings` then refuses it). Never
    raises: a folder that cannot be searched hides what it holds, and a symbolic link
    loop is looked at as written (discovery then reports it)."""
    try:
        path = path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symbolic link loop (Python < 3.13)
        path = Path(os.path.abspath(path))
    for folder in [path, *path.parents]:
        candidate = folder / "pyproject.toml"
        if os.path.exists(candidate) and not os.path.isdir(candidate):
            return candidate
    return None


def load_settings(path: Path, overrides: dict[str, Any] | None = None) -> Settings:
    """Settings for analysing `path`: `[tool.carveout]`, then `overrides` (flags) on top.

    Keys may be spelt with `_` or `-`. Unknown keys, wrong types and `ignore` entries that
    are not coupling kinds raise `ConfigError` listing every problem; so does a
    `pyproject.toml` that cannot be read or is not a regular file (it is never opened
    for reading then, so a FIFO cannot hang the run).
    """
    settings = Settings()
    pyproject = find_pyproject(path)
    if pyproject is not None:
        table = _carveout_table(pyproject)
        settings = _apply(settings, table, str(pyproject))
        if settings.catalogue and not Path(settings.catalogue).is_absolute():
            settings = replace(settings, catalogue=str(pyproject.parent / settings.catalogue))
    if overrides:
        settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    return settings


def _carveout_table(pyproject: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(read_regular_text(pyproject))
    except NotRegularFileError as error:
        raise ConfigError(str(pyproject), [f"cannot read: {error.strerror}"]) from error
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(str(pyproject), [f"cannot read: {error}"]) from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(str(pyproject), [f"not valid TOML: {error}"]) from error
    table = data.get("tool", {}).get("carveout", {})
    if not isinstance(table, dict):
        raise ConfigError(str(pyproject), ["[tool.carveout] must be a table"])
    return table


def _apply(settings: Settings, table: dict[str, Any], source: str) -> Settings:
    problems: list[str] = []
    values: dict[str, Any] = {}
    defaults = {f.name: getattr(settings, f.name) for f in fields(Settings)}
    for key, value in sorted(table.items()):
        name = _KEY_TO_FIELD.get(key.replace("_", "-"))
        if name is None:
            known = ", ".join(sorted(_KEY_TO_FIELD))
            problems.append(f"unknown key '{key}' (known: {known})")
            continue
        default = defaults[name]
        checked = _check(key, value, default, problems)
        if checked is not None:
            values[name] = checked
    if values.get("max_services", 1) < 1:
        problems.append("'max-services' must be at least 1")
    unknown = sorted(set(values.get("ignore", ())) - {kind.id for kind in KINDS})
    if unknown:
        known = ", ".join(sorted(kind.id for kind in KINDS))
        problems.append(
            f"'ignore' names {plural(len(unknown), 'unknown coupling kind')}: "
            f"{', '.join(unknown)} (known: {known})"
        )
    if problems:
        raise ConfigError(f"[tool.carveout] in {source}", problems)
    return replace(settings, **values)


def _check(key: str, value: Any, default: Any, problems: list[str]) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        problems.append(f"'{key}' must be true or false, not {value!r}")
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        problems.append(f"'{key}' must be an integer, not {value!r}")
    elif isinstance(default, tuple):
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        problems.append(f"'{key}' must be a list of strings, not {value!r}")
    else:
        if isinstance(value, str):
            return value
        problems.append(f"'{key}' must be a string, not {value!r}")
    return None
