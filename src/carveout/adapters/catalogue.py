"""Load the detector catalogue: the built-in TOML files in `analyzers/`, plus a user's file.

Every problem of a file is collected before raising, so a user fixes them all in one go.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from carveout.domain.catalogue import CallRule, Catalogue, Endpoint, ModelFamily, Sdk
from carveout.domain.errors import ConfigError
from carveout.domain.model import Capability
from carveout.stages.regular_files import NotRegularFileError, read_regular_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_CAPABILITIES = {c.value: c for c in Capability}
_SEGMENT = re.compile(r"^(\*\*|[\w*?|\[\]!]+(\([\w\-]*\))?)$")
_SECTIONS = ("sdk", "endpoint", "family", "http")
_SDK_KEYS = {"name", "provider", "modules", "calls", "clients", "local"}
_CALL_KEYS = {"pattern", "capabilities", "argument", "from_model"}
_ENDPOINT_KEYS = {"name", "pattern", "capabilities", "provider"}
_FAMILY_KEYS = {"name", "pattern", "provider", "capabilities"}
_HTTP_KEYS = {"clients"}

_Entry = TypeVar("_Entry", Sdk, Endpoint, ModelFamily)


def builtin_folder() -> Path:
    """The folder of built-in catalogue files: inside the installed package, or the
    repository's `analyzers/` beside `src/` for an editable install."""
    packaged = resources.files("carveout") / "analyzers"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "analyzers"


def load_catalogue(extra: Path | None = None, *, folder: Path | None = None) -> Catalogue:
    """The built-in catalogue (every `*.toml` of `folder`, default `builtin_folder()`),
    merged with the user's `extra` file when given.

    A user entry replaces a built-in entry of the same kind and name, and user entries come
    first, so a user's model family wins over a built-in one that also matches. Raises
    `ConfigError` listing every problem of a file that cannot be used.
    """
    folder = folder or builtin_folder()
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise ConfigError(str(folder), ["no catalogue files (*.toml) found"])
    builtin = _merge([_read(path) for path in files])
    sources = [str(path) for path in files]
    if extra is None:
        return _finish(builtin, sources)
    user = _read(extra)
    return _finish(_merge([user, builtin]), [*sources, str(extra)])


def catalogue_fingerprint(catalogue: Catalogue) -> str:
    """A hash of the catalogue's content, for cache keys: equal content, equal hash."""
    text = repr((catalogue.sdks, catalogue.endpoints, catalogue.models, catalogue.http_clients))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --- reading and checking ------------------------------------------------------------------


class _Parts:
    """One file's entries, checked."""

    def __init__(self) -> None:
        self.sdks: list[Sdk] = []
        self.endpoints: list[Endpoint] = []
        self.models: list[ModelFamily] = []
        self.http_clients: list[str] = []


def _read(path: Path) -> _Parts:
    """One catalogue file, checked; a file that is not a regular file (a FIFO, a device,
    a folder) is refused unread."""
    try:
        data = tomllib.loads(read_regular_text(path))
    except FileNotFoundError as error:
        raise ConfigError(str(path), ["catalogue file not found"]) from error
    except NotRegularFileError as error:
        raise ConfigError(str(path), [f"cannot read: {error.strerror}"]) from error
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), [f"cannot read: {error}"]) from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(str(path), [f"not valid TOML: {error}"]) from error

    problems: list[str] = []
    parts = _Parts()
    for key in sorted(set(data) - set(_SECTIONS)):
        problems.append(f"unknown section '{key}' (known: {', '.join(_SECTIONS)})")
    parts.sdks = _entries(data, "sdk", _sdk, problems)
    parts.endpoints = _entries(data, "endpoint", _endpoint, problems)
    parts.models = _entries(data, "family", _family, problems)
    http = data.get("http", {})
    if not isinstance(http, dict):
        problems.append("[http] must be a table")
    else:
        _unknown_keys("[http]", http, _HTTP_KEYS, problems)
        parts.http_clients = _names("[http]", http, "clients", problems, required=False)
    if problems:
        raise ConfigError(str(path), problems)
    return parts


def _entries(
    data: dict[str, Any],
    section: str,
    build: Callable[[str, dict[str, Any], list[str]], _Entry | None],
    problems: list[str],
) -> list[_Entry]:
    raw = data.get(section, [])
    if not isinstance(raw, list):
        problems.append(f"'{section}' must be an array of tables ([[{section}]])")
        return []
    built: list[_Entry] = []
    seen: set[str] = set()
    for number, table in enumerate(raw, start=1):
        where = f"{section} #{number}"
        if not isinstance(table, dict):
            problems.append(f"{where}: must be a table")
            continue
        if isinstance(table.get("name"), str):
            where = f"{where} ({table['name']})"
            if table["name"] in seen:
                problems.append(f"{where}: the name is used twice in this file")
            seen.add(table["name"])
        entry = build(where, table, problems)
        if entry is not None:
            built.append(entry)
    return built


def _sdk(where: str, table: dict[str, Any], problems: list[str]) -> Sdk | None:
    before = len(problems)
    _unknown_keys(where, table, _SDK_KEYS, problems)
    name = _text(where, table, "name", problems)
    provider = _text(where, table, "provider", problems)
    modules = _names(where, table, "modules", problems, required=True)
    clients = _names(where, table, "clients", problems, required=False)
    local = table.get("local", False)
    if not isinstance(local, bool):
        problems.append(f"{where}: 'local' must be true or false")
    calls: list[CallRule] = []
    raw_calls = table.get("calls")
    if not isinstance(raw_calls, list) or not raw_calls:
        problems.append(f"{where}: 'calls' must be a non-empty array of tables")
        raw_calls = []
    for number, raw in enumerate(raw_calls, start=1):
        rule = _call_rule(f"{where} call #{number}", raw, problems)
        if rule is not None:
            calls.append(rule)
    if len(problems) > before:
        return None
    return Sdk(name, provider, tuple(modules), tuple(calls), tuple(clients), local)


def _call_rule(where: str, raw: object, problems: list[str]) -> CallRule | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a table")
        return None
    before = len(problems)
    _unknown_keys(where, raw, _CALL_KEYS, problems)
    pattern = _text(where, raw, "pattern", problems)
    if pattern and not all(_SEGMENT.match(s) for s in pattern.split(".")):
        problems.append(
            f"{where}: pattern '{pattern}' is not a dotted glob (segments of names, '*', "
            "'**', 'a|b', or 'Name()' / 'Name(arg)')"
        )
    capabilities = _capabilities(where, raw, problems, allow_empty=True)
    argument = raw.get("argument")
    if argument is not None:
        if not isinstance(argument, str):
            problems.append(f"{where}: 'argument' must be a string (a regular expression)")
        else:
            _regex(where, "argument", argument, problems)
    from_model = raw.get("from_model", False)
    if not isinstance(from_model, bool):
        problems.append(f"{where}: 'from_model' must be true or false")
    if len(problems) > before:
        return None
    return CallRule(pattern, tuple(capabilities), argument, from_model)


def _endpoint(where: str, table: dict[str, Any], problems: list[str]) -> Endpoint | None:
    before = len(problems)
    _unknown_keys(where, table, _ENDPOINT_KEYS, problems)
    name = _text(where, table, "name", problems)
    pattern = _text(where, table, "pattern", problems)
    if pattern:
        _regex(where, "pattern", pattern, problems)
    provider = _text(where, table, "provider", problems)
    capabilities = _capabilities(where, table, problems, allow_empty=False)
    if len(problems) > before:
        return None
    return Endpoint(name, pattern, tuple(capabilities), provider)


def _family(where: str, table: dict[str, Any], problems: list[str]) -> ModelFamily | None:
    before = len(problems)
    _unknown_keys(where, table, _FAMILY_KEYS, problems)
    name = _text(where, table, "name", problems)
    pattern = _text(where, table, "pattern", problems)
    if pattern:
        _regex(where, "pattern", pattern, problems)
    provider = _text(where, table, "provider", problems)
    capabilities = _capabilities(where, table, problems, allow_empty=False)
    if len(problems) > before:
        return None
    return ModelFamily(name, pattern, provider, tuple(capabilities))


def _unknown_keys(where: str, table: dict[str, Any], known: set[str], problems: list[str]) -> None:
    for key in sorted(set(table) - known):
        problems.append(f"{where}: unknown key '{key}' (known: {', '.join(sorted(known))})")


def _text(where: str, table: dict[str, Any], key: str, problems: list[str]) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: '{key}' must be a non-empty string")
        return ""
    return value


def _names(
    where: str, table: dict[str, Any], key: str, problems: list[str], *, required: bool
) -> list[str]:
    value = table.get(key)
    if value is None and not required:
        return []
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() and " " not in v for v in value)
    ):
        problems.append(f"{where}: '{key}' must be a non-empty list of dotted names")
        return []
    return list(value)


def _capabilities(
    where: str, table: dict[str, Any], problems: list[str], *, allow_empty: bool
) -> list[Capability]:
    value = table.get("capabilities")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: 'capabilities' must be a list of capability names")
        return []
    if not value and not allow_empty:
        problems.append(f"{where}: 'capabilities' must name at least one capability")
    found = []
    for name in value:
        capability = _CAPABILITIES.get(name)
        if capability is None:
            known = ", ".join(sorted(_CAPABILITIES))
            problems.append(f"{where}: unknown capability '{name}' (known: {known})")
        else:
            found.append(capability)
    return found


def _regex(where: str, key: str, pattern: str, problems: list[str]) -> None:
    try:
        re.compile(pattern)
    except re.error as error:
        problems.append(f"{where}: '{key}' is not a valid regular expression: {error}")


# --- merging --------------------------------------------------------------------------------


def _merge(files: Sequence[_Parts]) -> _Parts:
    """Merge in order: an entry whose kind and name appeared earlier is left out."""
    merged = _Parts()
    merged.sdks = _first_by_name([e for f in files for e in f.sdks])
    merged.endpoints = _first_by_name([e for f in files for e in f.endpoints])
    merged.models = _first_by_name([e for f in files for e in f.models])
    merged.http_clients = sorted({c for f in files for c in f.http_clients})
    return merged


def _first_by_name(entries: list[_Entry]) -> list[_Entry]:
    seen: set[str] = set()
    kept = []
    for entry in entries:
        if entry.name not in seen:
            seen.add(entry.name)
            kept.append(entry)
    return kept


def _finish(parts: _Parts, sources: list[str]) -> Catalogue:
    return Catalogue(
        tuple(parts.sdks),
        tuple(parts.endpoints),
        tuple(parts.models),
        tuple(parts.http_clients),
        tuple(sources),
    )
