"""Discover the project's Python files and give each one module name.

Handles src and flat layouts, several top-level packages, a package folder given directly,
folders without `__init__.py` (namespace portions), and folders left out (virtualenvs, build
output, tests by default). Every `.py` file under the roots either becomes a module or is
listed in `Project.skipped` with the reason: nothing is dropped silently.
"""

from __future__ import annotations

import configparser
import fnmatch
import os
import sys
from pathlib import Path

from carveout.domain.facts import Diagnostic
from carveout.domain.model import EntryPoint, ModuleKind, Project, Skipped, SourceFile
from carveout.domain.settings import DEFAULT_EXCLUDES, TEST_FOLDERS, Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_SOURCE_SUFFIXES = (".py",)
_KNOWN_SKIPS = {
    ".pyi": "type stub (not executed code)",
    ".pyx": "Cython source (not Python)",
    ".pxd": "Cython declarations (not Python)",
}


class DiscoveryError(Exception):
    """The path cannot be analysed at all (missing, not a folder, no Python in it)."""


def discover(path: Path, settings: Settings) -> Project:
    """Find the project's modules under `path` (a project folder or a package folder).

    Raises `DiscoveryError` when `path` does not exist or holds no Python file at all.
    """
    path = path.resolve()
    if not path.exists():
        raise DiscoveryError(f"path does not exist: {path}")
    if not path.is_dir():
        raise DiscoveryError(f"not a folder: {path} (give a project or package folder)")

    # a package folder given directly: its parent is the root, only it is walked
    if (path / "__init__.py").is_file():
        root, walk_from, roots = path.parent, [path], [path.parent]
        name = path.name
    else:
        root = path
        roots = [root / r for r in settings.source_roots] or _find_roots(root)
        walk_from = roots
        name = _project_name(root)

    files: list[SourceFile] = []
    skipped: list[Skipped] = []
    diagnostics: list[Diagnostic] = []
    seen: set[Path] = set()
    for start in sorted(set(walk_from)):
        source_root = _deepest_root(start, roots)
        _walk(start, source_root, root, settings, roots, files, skipped, seen)

    # namespace portions: folders without __init__.py that hold modules
    names = {f.module for f in files}
    namespaces = sorted(
        {
            ".".join(f.module.split(".")[:i])
            for f in files
            for i in range(1, f.module.count(".") + (0 if f.kind is ModuleKind.PACKAGE else 1))
        }
        - names
    )
    entry_points = _entry_points(root, names)
    entry_modules = {e.module for e in entry_points if e.module}
    files = [
        SourceFile(f.path, f.module, f.kind, f.is_entry_point or f.module in entry_modules)
        for f in files
    ]
    files.sort(key=lambda f: (f.module, f.kind is not ModuleKind.PACKAGE, f.path))
    diagnostics.extend(_clashes(files))
    files, shadowed = _first_per_name(files)
    skipped.extend(Skipped(f.path, f"shadowed by the package {f.module}") for f in shadowed)

    if not files:
        found = f" ({len(skipped)} Python files skipped)" if skipped else ""
        raise DiscoveryError(f"no Python modules found under {path}{found}")
    return Project(
        root=str(root),
        name=name,
        source_roots=tuple(sorted(_relative(r, root) for r in roots)),
        files=tuple(files),
        namespace_packages=tuple(namespaces),
        skipped=tuple(sorted(skipped, key=lambda s: s.path)),
        entry_points=tuple(entry_points),
        diagnostics=tuple(diagnostics),
    )


def module_name(relative: Path) -> str | None:
    """`pkg/sub/mod.py` -> `pkg.sub.mod`; `pkg/__init__.py` -> `pkg`; None if not a name."""
    parts = list(relative.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


def _find_roots(root: Path) -> list[Path]:
    src = root / "src"
    if src.is_dir() and any(
        (child / "__init__.py").is_file() or child.suffix == ".py" for child in src.iterdir()
    ):
        return [src]
    return [root]


def _deepest_root(start: Path, roots: list[Path]) -> Path:
    candidates = [r for r in roots if start == r or r in start.parents]
    return max(candidates, key=lambda r: len(r.parts)) if candidates else start.parent


def _walk(
    start: Path,
    source_root: Path,
    project_root: Path,
    settings: Settings,
    roots: list[Path],
    files: list[SourceFile],
    skipped: list[Skipped],
    seen: set[Path],
) -> None:
    excludes = DEFAULT_EXCLUDES + tuple(settings.exclude)
    for folder, dirnames, filenames in os.walk(start, followlinks=False):
        here = Path(folder)
        kept = []
        for dirname in sorted(dirnames):
            child = here / dirname
            reason = _folder_skip_reason(child, dirname, excludes, settings, roots, start)
            if reason is None:
                kept.append(dirname)
            elif reason and _holds_python(child):
                skipped.append(Skipped(_relative(child, project_root) + "/", reason))
        dirnames[:] = kept

        for filename in sorted(filenames):
            file = here / filename
            relative_path = _relative(file, project_root)
            suffix = file.suffix
            if suffix == ".ipynb":
                if not settings.include_notebooks:
                    skipped.append(Skipped(relative_path, "notebook (read with --include-notebooks)"))
                    continue
            elif suffix in _KNOWN_SKIPS:
                skipped.append(Skipped(relative_path, _KNOWN_SKIPS[suffix]))
                continue
            elif suffix not in _SOURCE_SUFFIXES:
                continue
            if file in seen:
                continue
            seen.add(file)
            reason = _file_skip_reason(file, filename, excludes, settings)
            if reason:
                skipped.append(Skipped(relative_path, reason))
                continue
            name = module_name(file.relative_to(source_root))
            if name is None:
                skipped.append(
                    Skipped(relative_path, "path is not a valid module name (not importable)")
                )
                continue
            if suffix == ".ipynb":
                kind = ModuleKind.NOTEBOOK
            elif filename == "__init__.py":
                kind = ModuleKind.PACKAGE
            else:
                kind = ModuleKind.MODULE
            files.append(SourceFile(relative_path, name, kind, filename == "__main__.py"))


def _folder_skip_reason(
    child: Path,
    dirname: str,
    excludes: tuple[str, ...],
    settings: Settings,
    roots: list[Path],
    start: Path,
) -> str | None:
    """Why a folder is left out, "" to leave it out silently (no Python in it matters),
    or None to walk it."""
    if child in roots and child != start:
        return ""  # walked on its own as a source root
    if child.is_symlink():
        return "symlinked folder (not followed)"
    if (child / "pyvenv.cfg").is_file():
        return "virtual environment"
    for pattern in excludes:
        if fnmatch.fnmatch(dirname, pattern):
            return f"excluded folder (matches '{pattern}')"
    if not settings.include_tests and dirname in TEST_FOLDERS:
        return "test folder (include with include_tests = true)"
    return None


def _file_skip_reason(
    file: Path, filename: str, excludes: tuple[str, ...], settings: Settings
) -> str | None:
    if file.is_symlink() and not file.exists():
        return "broken symlink"
    for pattern in excludes:
        if pattern not in DEFAULT_EXCLUDES and fnmatch.fnmatch(filename, pattern):
            return f"excluded file (matches '{pattern}')"
    if not settings.include_tests and (
        filename.startswith("test_") or filename.endswith("_test.py") or filename == "conftest.py"
    ):
        return "test file (include with include_tests = true)"
    if filename == "setup.py":
        return "packaging script (setup.py)"
    return None


def _holds_python(folder: Path) -> bool:
    try:
        return any(
            name.endswith((".py", ".ipynb"))
            for _, _, names in os.walk(folder, followlinks=False)
            for name in names
        )
    except OSError:
        return False


def _relative(path: Path, root: Path) -> str:
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
    return relative or "."


def _project_name(root: Path) -> str:
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}
        name = data.get("project", {}).get("name")
        if isinstance(name, str) and name:
            return name
    return root.name


def _entry_points(root: Path, modules: set[str]) -> list[EntryPoint]:
    """Entry points from pyproject.toml, setup.cfg and an unpacked wheel's dist-info."""
    found: list[tuple[str, str, str]] = []
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            project = {}
        for group in ("scripts", "gui-scripts"):
            for name, target in (project.get(group) or {}).items():
                found.append((f"console_scripts:{group}", name, str(target)))
        for group, table in (project.get("entry-points") or {}).items():
            for name, target in (table or {}).items():
                found.append((group, name, str(target)))
    ini_files = [root / "setup.cfg", *sorted(root.glob("*.dist-info/entry_points.txt"))]
    for ini in ini_files:
        if not ini.is_file():
            continue
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(ini.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, configparser.Error):
            continue
        for section in parser.sections():
            group = section.removeprefix("options.entry_points")
            if ini.name == "setup.cfg" and not section.startswith("options.entry_points"):
                continue
            for name, target in parser.items(section):
                found.append((group.strip(":") or section, name, target.strip()))

    entry_points = []
    for group, name, target in found:
        module_part = target.split(":")[0].strip()
        module = module_part if module_part in modules else None
        entry_points.append(EntryPoint(group, name, target, module))
    return sorted(set(entry_points), key=lambda e: (e.group, e.name, e.target))


def _first_per_name(files: list[SourceFile]) -> tuple[list[SourceFile], list[SourceFile]]:
    kept: dict[str, SourceFile] = {}
    shadowed = []
    for file in files:
        if file.module in kept:
            shadowed.append(file)
        else:
            kept[file.module] = file
    return list(kept.values()), shadowed


def _clashes(files: list[SourceFile]) -> list[Diagnostic]:
    """Two files claiming one module name (`a.py` beside `a/__init__.py`)."""
    by_name: dict[str, list[SourceFile]] = {}
    for file in files:
        by_name.setdefault(file.module, []).append(file)
    diagnostics = []
    for name, claimants in sorted(by_name.items()):
        if len(claimants) > 1:
            paths = ", ".join(sorted(f.path for f in claimants))
            diagnostics.append(
                Diagnostic(
                    claimants[0].path, 1,
                    f"module name {name} is claimed by several files ({paths}); "
                    "Python imports the package",
                    kind="module-name-clash",
                )
            )
    return diagnostics
