"""Discover the project's Python files and give each one module name.

Handles src and flat layouts, several top-level packages, a package folder given directly
(a sub-package keeps its full dotted names), folders without `__init__.py` (namespace
portions), and folders left out (virtualenvs, build output, carveout's own output, tests by
default). Every `.py` and `.ipynb` file under the analysed folder either becomes a module or
is listed in `Project.skipped` with the reason: nothing is dropped silently, and only
regular files are ever read. A folder that cannot be read, or a name that is not valid
UTF-8, is skipped with its reason: no check on the user's tree raises, and no undecodable
name reaches the later stages (skipped paths show such bytes as `%E9` escapes).
"""

from __future__ import annotations

import configparser
import errno
import fnmatch
import os
import posixpath
import stat
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from carveout.domain.facts import Diagnostic
from carveout.domain.model import EntryPoint, ModuleKind, Project, Skipped, SourceFile
from carveout.domain.settings import DEFAULT_EXCLUDES, TEST_FOLDERS, Settings
from carveout.stages.regular_files import file_type, read_regular_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_SOURCE_SUFFIXES = (".py",)
_SCRIPT_GROUPS = frozenset({"console_scripts", "gui_scripts"})
_KNOWN_SKIPS = {
    ".pyi": "type stub (not executed code)",
    ".pyx": "Cython source (not Python)",
    ".pxd": "Cython declarations (not Python)",
}
# the file carveout writes into each output folder (adapters/output_folder.py): a folder
# holding it is carveout's own output, never project code
OUTPUT_MARKER = ".carveout-manifest"
_NOT_UTF8_FILE = "non-UTF-8 file name (not importable; its bytes are shown as %XX)"
_NOT_UTF8_FOLDER = "non-UTF-8 folder name (not importable; its bytes are shown as %XX)"
# what a missing file looks like to stat (as for `Path.is_file`): any other error means
# the folder cannot be searched
_ABSENT = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


class DiscoveryError(Exception):
    """The path cannot be analysed at all (missing, not a folder, no Python in it, a
    configured source root missing or outside the project folder)."""


def discover(path: Path, settings: Settings) -> Project:
    """Find the project's modules under `path` (a project folder or a package folder).

    A package folder inside other package folders is named from its top package
    (`src/shopwise/ai` gives `shopwise.ai.*`, `Project.scope` "shopwise.ai"); only it is
    walked. In a project folder, files outside the source roots are listed as skipped.
    Raises `DiscoveryError` when `path` does not exist, holds no Python file at all, or a
    configured source root does not exist or lies outside it.
    """
    try:
        path = path.resolve()
        mode = os.stat(path).st_mode
    except RuntimeError:  # raised by `resolve` for a symbolic link loop (Python < 3.13)
        raise DiscoveryError(f"cannot read {path}: a symbolic link loop") from None
    except FileNotFoundError:
        raise DiscoveryError(f"path does not exist: {path}") from None
    except OSError as error:
        raise DiscoveryError(f"cannot read {path}: {error.strerror or error}") from None
    if not stat.S_ISDIR(mode):
        raise DiscoveryError(f"not a folder: {path} (give a project or package folder)")

    # a package folder given directly: names start at its top package, only it is walked
    scope = None
    if os.path.isfile(path / "__init__.py"):
        top = _top_package_folder(path)
        root, walk_from, roots = top.parent, [path], [top.parent]
        if top != path:
            scope = ".".join(path.relative_to(root).parts)
        name = scope or path.name
    else:
        root = path
        roots = _configured_roots(root, settings.source_roots) or _find_roots(root)
        walk_from = roots
        name = _project_name(root)

    files: list[SourceFile] = []
    skipped: list[Skipped] = []
    diagnostics: list[Diagnostic] = []
    seen: set[str] = set()
    config = _nearest_pyproject(path)
    bases = (root,) if config is None or config.parent == root else (root, config.parent)
    excludes = _Excludes(tuple(settings.exclude), bases)
    for start in sorted(set(walk_from)):
        source_root = _deepest_root(start, roots)
        _walk(start, source_root, root, settings, roots, files, skipped, seen, excludes)

    # files outside the source roots are accounted for, never read
    if scope is None and roots != [root]:
        outside = ", ".join(sorted(_relative(r, root) for r in roots))
        _walk_outside(
            root, roots, settings, excludes, f"outside the source roots ({outside})", skipped
        )
    diagnostics.extend(_unused_excludes(excludes, config, root, path))
    if scope is not None:
        diagnostics.append(_scope_diagnostic(scope, path, root))

    # namespace portions: folders without __init__.py that hold modules (the packages
    # above a scope are regular packages, only not read)
    names = {f.module for f in files}
    above_scope = set(_parents_of(scope)) if scope else set()
    namespaces = sorted(
        {
            ".".join(f.module.split(".")[:i])
            for f in files
            for i in range(1, f.module.count(".") + (0 if f.kind is ModuleKind.PACKAGE else 1))
        }
        - names
        - above_scope
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

    # every reported path and name is writable as UTF-8 (the files' own paths already are)
    skipped = [Skipped(shown_name(s.path), s.reason) for s in skipped]
    diagnostics = [
        replace(d, path=shown_name(d.path), message=shown_name(d.message)) for d in diagnostics
    ]
    return Project(
        root=str(root),
        name=shown_name(name),
        source_roots=tuple(sorted(shown_name(_relative(r, root)) for r in roots)),
        files=tuple(files),
        namespace_packages=tuple(namespaces),
        skipped=tuple(sorted(skipped, key=lambda s: s.path)),
        entry_points=tuple(entry_points),
        diagnostics=tuple(diagnostics),
        scope=scope,
        unread_modules=_beside(path, root) if scope else (),
    )


def shown_name(text: str) -> str:
    """`text` (a path or a name from the file system) as it is reported: each byte that is
    not valid UTF-8, which Python holds as a lone surrogate, becomes a `%E9` escape (as in
    a URI: a backslash would read as a Windows path separator), so the text can be written
    as UTF-8. Text that is valid already is returned unchanged."""
    if _valid_utf8(text):
        return text
    return "".join(_shown_character(character) for character in text)


def plugin_groups(project: Project) -> dict[str, tuple[str, ...]]:
    """Packaging entry-point groups other than scripts, each with the project modules it
    names (sorted): plugin seams, where a host loads code by group name. Groups naming no
    project module are left out."""
    groups: dict[str, set[str]] = {}
    for entry in project.entry_points:
        if entry.group in _SCRIPT_GROUPS or entry.module is None:
            continue
        groups.setdefault(entry.group, set()).add(entry.module)
    return {group: tuple(sorted(modules)) for group, modules in sorted(groups.items())}


def missing_init_files(project: Project) -> tuple[str, ...]:
    """The `__init__.py` files a regular package lacks, as paths relative to the project
    root (sorted): one for each folder below a folder holding `__init__.py` that has none
    itself yet holds modules (directly or deeper). grimp, and so import-linter, does not
    walk into such folders: their modules are invisible to generated rules."""
    missing = set()
    for folder, module in _folders_below_packages(project):
        if module in project.namespace_packages:
            missing.add(posixpath.join(folder, "__init__.py") if folder != "." else "__init__.py")
    return tuple(sorted(missing))


def write_missing_init_files(project: Project) -> tuple[str, ...]:
    """Create the files `missing_init_files` lists, empty, under the project root; return
    those created (sorted). Touches the user's tree: call it only when the user asks."""
    created = []
    for relative in missing_init_files(project):
        target = Path(project.root) / relative
        if not os.path.lexists(target):
            target.write_text("", encoding="utf-8")
            created.append(relative)
    return tuple(created)


def invisible_modules(project: Project) -> frozenset[str]:
    """Modules (namespace packages included) that import-linter cannot see: those in or
    below a folder lacking `__init__.py` inside a regular package."""
    blind = {
        module
        for _, module in _folders_below_packages(project)
        if module in project.namespace_packages
    }
    every = {f.module for f in project.files} | set(project.namespace_packages)
    return frozenset(m for m in every if _in_or_below(m, blind))


def _in_or_below(module: str, packages: set[str]) -> bool:
    """Whether `module` is one of `packages` or inside one (one look-up per dotted prefix)."""
    end = module.find(".")
    while end != -1:
        if module[:end] in packages:
            return True
        end = module.find(".", end + 1)
    return module in packages


def module_name(relative: Path) -> str | None:
    """`pkg/sub/mod.py` -> `pkg.sub.mod`; `pkg/__init__.py` -> `pkg`; None if not a name.

    Folders must be identifiers. A file name need only be free of extra dots, as for
    grimp: `migrations/0001_initial.py` cannot be named by an import statement, but
    `importlib` imports it (Django does) and its own imports are real.
    """
    if not relative.parts:
        return None
    *folders, filename = relative.parts
    package = tuple(folders) if all(folder.isidentifier() for folder in folders) else None
    return _name_in_package(package, filename)


def _folders_below_packages(project: Project) -> set[tuple[str, str]]:
    """(folder path, package name) of every folder holding modules that lies below a folder
    with `__init__.py`; the folder path is relative to the project root."""
    packages = {f.module for f in project.files if f.kind is ModuleKind.PACKAGE}
    found = set()
    for file in project.files:
        parts = file.module.split(".")
        folders = parts if file.kind is ModuleKind.PACKAGE else parts[:-1]
        folder_path = posixpath.dirname(file.path)
        # walk up from the file's folder: folder_path holds the package ".".join(folders)
        chain = []
        for depth in range(len(folders), 0, -1):
            chain.append((folder_path, ".".join(folders[:depth])))
            folder_path = posixpath.dirname(folder_path) or "."
        chain.reverse()  # outermost first
        inside_package = False
        for path, name in chain:
            if inside_package:
                found.add((path, name))
            if name in packages:
                inside_package = True
    return found


def _top_package_folder(package: Path) -> Path:
    """The outermost package folder holding `package`: climb while the parent folder is a
    package too (has `__init__.py` and an identifier for a name)."""
    top = package
    while (
        top.name.isidentifier()
        and top.parent.name.isidentifier()
        and os.path.isfile(top.parent / "__init__.py")
    ):
        top = top.parent
    return top


def _beside(path: Path, root: Path) -> tuple[str, ...]:
    """The top package's code outside the analysed package folder `path`, by name from
    folder listings (nothing is read): each package folder above `path` and the Python
    files and identifier-named folders beside the way down to it."""
    names = []
    folder = path
    while folder.parent != root:
        parent = folder.parent
        package = ".".join(parent.relative_to(root).parts)
        names.append(package)
        try:
            entries = sorted(os.scandir(parent), key=lambda e: e.name)
        except OSError:
            entries = []
        for entry in entries:
            stem = entry.name[:-3] if entry.name.endswith(".py") else entry.name
            if entry.name in (folder.name, "__pycache__") or not stem.isidentifier():
                continue
            if stem != "__init__" and (entry.name.endswith(".py") or _is_folder_entry(entry)):
                names.append(f"{package}.{stem}")
        folder = parent
    return tuple(sorted(set(names)))


def _is_folder_entry(entry: os.DirEntry[str]) -> bool:
    """Whether a listed entry is a folder (not a link to one); False when it cannot be
    told."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _parents_of(dotted: str) -> list[str]:
    """`a.b.c` -> [`a`, `a.b`]."""
    parts = dotted.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]


def _configured_roots(root: Path, configured: tuple[str, ...]) -> list[Path]:
    """The `source-roots` setting as folders; each must exist inside the project folder."""
    roots = []
    for entry in configured:
        try:
            folder = (root / entry).resolve()
        except (OSError, RuntimeError):  # RuntimeError: a symbolic link loop
            raise DiscoveryError(f"source root '{entry}' cannot be resolved in {root}") from None
        if folder != root and root not in folder.parents:
            raise DiscoveryError(f"source root '{entry}' lies outside the project folder {root}")
        if not os.path.exists(folder):
            raise DiscoveryError(f"source root '{entry}' does not exist in {root}")
        if not os.path.isdir(folder):
            raise DiscoveryError(f"source root '{entry}' is not a folder ({folder})")
        roots.append(folder)
    return roots


def _find_roots(root: Path) -> list[Path]:
    """`src` when it holds a package or a module (a src layout), else `root`. An unreadable
    `src` is no source root: the walk from `root` reports it."""
    src = root / "src"
    try:
        children = sorted(os.listdir(src)) if os.path.isdir(src) else []
    except OSError:
        children = []
    if any(
        os.path.isfile(os.path.join(src, child, "__init__.py")) or _suffix(child) == ".py"
        for child in children
    ):
        return [src]
    return [root]


def _deepest_root(start: Path, roots: list[Path]) -> Path:
    candidates = [r for r in roots if start == r or r in start.parents]
    return max(candidates, key=lambda r: len(r.parts)) if candidates else start.parent


@dataclass(slots=True)
class _Excludes:
    """The exclude patterns of a run, and which of the user's matched something.

    The defaults and patterns without `/` match one name; a pattern with `/` matches a path
    from any of `bases` (the project root, the folder of the pyproject.toml holding the
    setting) or from the source root being walked. A trailing `/` matches folders only."""

    user: tuple[str, ...]
    bases: tuple[Path, ...]
    used: set[str] = field(default_factory=set)

    def folder(self, child: Path, source_root: Path) -> str | None:
        """The pattern that leaves the folder `child` out, or None."""
        found = self._user_pattern(child, source_root, folder=True)
        if found is not None:
            return found
        for pattern in DEFAULT_EXCLUDES:
            # `pip/_internal/operations/build/` is code, not build output
            if fnmatch.fnmatch(child.name, pattern) and not _is_subpackage(child):
                return pattern
        return None

    def file(self, file: Path, source_root: Path) -> str | None:
        """The user's pattern that leaves the file out, or None."""
        return self._user_pattern(file, source_root, folder=False)

    def _user_pattern(self, path: Path, source_root: Path, *, folder: bool) -> str | None:
        for pattern in self.user:
            anchored = pattern[2:] if pattern.startswith("./") else pattern
            folders_only = anchored.endswith("/")
            anchored = anchored.strip("/")
            if folders_only and not folder:
                continue
            if "/" not in anchored:
                matched = fnmatch.fnmatch(path.name, anchored)
            else:
                relatives = [
                    path.relative_to(base).as_posix()
                    for base in (*self.bases, source_root)
                    if base in path.parents
                ]
                matched = any(
                    fnmatch.fnmatch(relative, anchored)
                    or (folder and fnmatch.fnmatch(relative + "/", anchored))
                    for relative in relatives
                )
            if matched:
                self.used.add(pattern)
                return pattern
        return None


def _walk(
    start: Path,
    source_root: Path,
    project_root: Path,
    settings: Settings,
    roots: list[Path],
    files: list[SourceFile],
    skipped: list[Skipped],
    seen: set[str],
    excludes: _Excludes,
) -> None:
    def unreadable(error: OSError) -> None:
        where = Path(error.filename) if error.filename else start
        reason = f"cannot read: {error.strerror or error}"
        skipped.append(Skipped(_relative(where, project_root) + "/", reason))

    for folder, dirnames, filenames in os.walk(start, onerror=unreadable, followlinks=False):
        here = Path(folder)
        kept = []
        for dirname in sorted(dirnames):
            child = here / dirname
            reason = _folder_skip_reason(child, excludes, source_root, settings, roots, start)
            if reason is None:
                kept.append(dirname)
            elif reason and _holds_python(child):
                skipped.append(Skipped(_relative(child, project_root) + "/", reason))
        dirnames[:] = kept

        # file names are handled as strings: this loop runs for every file of the tree
        prefix = "" if here == project_root else _relative(here, project_root) + "/"
        package = _package_names(here, source_root)
        for filename in sorted(filenames):
            relative_path = prefix + filename
            suffix = _suffix(filename)
            if suffix == ".ipynb":
                if not settings.include_notebooks:
                    skipped.append(
                        Skipped(relative_path, "notebook (read with --include-notebooks)")
                    )
                    continue
            elif suffix in _KNOWN_SKIPS:
                skipped.append(Skipped(relative_path, _KNOWN_SKIPS[suffix]))
                continue
            elif suffix not in _SOURCE_SUFFIXES:
                continue
            if not _valid_utf8(filename):
                skipped.append(Skipped(relative_path, _NOT_UTF8_FILE))
                continue
            file = os.path.join(folder, filename)
            if file in seen:
                continue
            seen.add(file)
            reason = _file_skip_reason(file, excludes, source_root, settings, project_root)
            if reason:
                skipped.append(Skipped(relative_path, reason))
                continue
            name = _name_in_package(package, filename)
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


def _walk_outside(
    root: Path,
    roots: list[Path],
    settings: Settings,
    excludes: _Excludes,
    reason: str,
    skipped: list[Skipped],
) -> None:
    """List the Python files and folders under `root` but outside every source root: the
    rules that leave things out give their own reasons, the rest get `reason`. Only the
    folders on the way to a source root are walked; the others are listed whole."""
    on_the_way = {parent for r in roots for parent in r.parents if root in parent.parents}
    on_the_way.add(root)

    def unreadable(error: OSError) -> None:
        where = Path(error.filename) if error.filename else root
        reason = f"cannot read: {error.strerror or error}"
        skipped.append(Skipped(_relative(where, root) + "/", reason))

    for folder, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=False):
        here = Path(folder)
        kept = []
        for dirname in sorted(dirnames):
            child = here / dirname
            if child in roots:
                continue
            if child in on_the_way and not os.path.islink(child):
                kept.append(dirname)
                continue
            why = _folder_skip_reason(child, excludes, root, settings, [], child)
            if why != "" and _holds_python(child):
                skipped.append(Skipped(_relative(child, root) + "/", why or reason))
        dirnames[:] = kept
        for filename in sorted(filenames):
            file = here / filename
            if file.suffix in _KNOWN_SKIPS:
                skipped.append(Skipped(_relative(file, root), _KNOWN_SKIPS[file.suffix]))
            elif file.suffix in (*_SOURCE_SUFFIXES, ".ipynb"):
                why = (
                    _file_skip_reason(str(file), excludes, root, settings, root)
                    if _valid_utf8(filename)
                    else _NOT_UTF8_FILE
                )
                skipped.append(Skipped(_relative(file, root), why or reason))


def _folder_skip_reason(
    child: Path,
    excludes: _Excludes,
    source_root: Path,
    settings: Settings,
    roots: list[Path],
    start: Path,
) -> str | None:
    """Why a folder is left out, "" to leave it out silently (no Python in it matters),
    or None to walk it. A folder that cannot be searched is left out as unreadable."""
    if child in roots and child != start:
        return ""  # walked on its own as a source root
    if os.path.islink(child):
        return "symlinked folder (not followed)"
    if not _valid_utf8(child.name):
        return _NOT_UTF8_FOLDER
    try:
        if _holds_file(child, "pyvenv.cfg"):
            return "virtual environment"
        if _holds_file(child, OUTPUT_MARKER):
            return "carveout output folder"
    except OSError as error:
        return f"cannot read: {error.strerror or error}"
    pattern = excludes.folder(child, source_root)
    if pattern is not None:
        return f"excluded folder (matches '{pattern}')"
    if not settings.include_tests and child.name in TEST_FOLDERS:
        return "test folder (include with include_tests = true)"
    return None


def _file_skip_reason(
    file: str, excludes: _Excludes, source_root: Path, settings: Settings, project_root: Path
) -> str | None:
    """Why the file at path `file` is not read, or None. Only regular files inside the
    project folder, up to `settings.max_file_bytes`, are read: the checks use `stat`, never
    open the file."""
    folder, filename = os.path.split(file)
    if excludes.user:
        pattern = excludes.file(Path(file), source_root)
        if pattern is not None:
            return f"excluded file (matches '{pattern}')"
    try:
        info = os.lstat(file)
        symlink = stat.S_ISLNK(info.st_mode)
        if symlink:
            info = os.stat(file)  # the target's
    except OSError as error:
        if os.path.islink(file):
            return "broken symlink"
        return f"cannot read: {error.strerror or error}"
    if not stat.S_ISREG(info.st_mode):
        return f"special file ({file_type(info.st_mode)}, not a regular file)"
    if symlink and project_root not in Path(file).resolve().parents:
        return "external symlink (its target is outside the project)"
    if info.st_size > settings.max_file_bytes:
        return (
            f"oversized file ({info.st_size:,} bytes; max-file-bytes is "
            f"{settings.max_file_bytes:,})"
        )
    if not settings.include_tests and (
        filename.startswith("test_") or filename.endswith("_test.py") or filename == "conftest.py"
    ):
        return "test file (include with include_tests = true)"
    if filename == "setup.py" and not os.path.isfile(os.path.join(folder, "__init__.py")):
        return "packaging script (setup.py)"
    return None


def _valid_utf8(name: str) -> bool:
    """Whether a name from the file system was valid UTF-8 (Python holds bytes that are not
    as lone surrogates, which cannot be written out)."""
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown_character(character: str) -> str:
    """One character of `shown_name`: an undecodable byte as `%XX`, any other lone
    surrogate as U+FFFD."""
    code = ord(character)
    if 0xDC80 <= code <= 0xDCFF:  # a byte kept by the `surrogateescape` error handler
        return f"%{code - 0xDC00:02X}"
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return character


def _holds_file(folder: Path, name: str) -> bool:
    """Whether `folder` holds a regular file (or a link to one) called `name`. Raises
    `OSError` when the folder cannot be searched (`Path.is_file` would too, or hide it)."""
    try:
        return stat.S_ISREG(os.stat(os.path.join(folder, name)).st_mode)
    except OSError as error:
        if error.errno in _ABSENT:
            return False
        raise


def _suffix(filename: str) -> str:
    """The file name's suffix as `Path.suffix` gives it (`.py`; none for `.hidden`)."""
    dot = filename.rfind(".")
    return filename[dot:] if 0 < dot < len(filename) - 1 else ""


def _package_names(folder: Path, source_root: Path) -> tuple[str, ...] | None:
    """The folder names from `source_root` down to `folder`, or None when one is not an
    identifier (nothing in `folder` can then be imported by name)."""
    names = folder.relative_to(source_root).parts
    return names if all(name.isidentifier() for name in names) else None


def _name_in_package(package: tuple[str, ...] | None, filename: str) -> str | None:
    """`module_name` of the file `filename` in a folder whose `_package_names` are
    `package`."""
    if package is None:
        return None
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    if stem == "__init__":
        names = package
    elif not stem or "." in stem or stem != stem.strip():
        return None
    else:
        names = (*package, stem)
    return ".".join(names) if names else None


def _is_subpackage(folder: Path) -> bool:
    """A folder with `__init__.py` inside a folder with `__init__.py`."""
    return os.path.isfile(folder / "__init__.py") and os.path.isfile(folder.parent / "__init__.py")


def _holds_python(folder: Path) -> bool:
    """Whether a `.py` or `.ipynb` file lies in or below `folder`. True when `folder`
    itself cannot be listed: what it holds is unknown, so it is reported, never dropped
    silently (unreadable folders deeper down are passed over)."""
    top = os.fspath(folder)
    unlisted = []

    def failed(error: OSError) -> None:
        if error.filename == top:
            unlisted.append(error)

    for _, _, names in os.walk(top, onerror=failed, followlinks=False):
        if any(name.endswith((".py", ".ipynb")) for name in names):
            return True
    return bool(unlisted)


def _nearest_pyproject(path: Path) -> Path | None:
    """The `pyproject.toml` settings are read from: the nearest at or above `path` that is
    not a folder (the rule of `adapters.config.find_pyproject`)."""
    for folder in [path, *path.parents]:
        candidate = folder / "pyproject.toml"
        if os.path.exists(candidate) and not os.path.isdir(candidate):
            return candidate
    return None


def _unused_excludes(
    excludes: _Excludes, config: Path | None, root: Path, path: Path
) -> list[Diagnostic]:
    """An `unused-exclude` warning for each user pattern that left nothing out, located at
    its line of pyproject.toml when it is found there."""
    unused = [p for p in excludes.user if p not in excludes.used]
    if not unused:
        return []
    where, text = ".", ""
    if config is not None:
        where = Path(os.path.relpath(config, root)).as_posix()
        try:
            text = read_regular_text(config)
        except (OSError, UnicodeDecodeError):
            text = ""
    lines = text.splitlines()
    diagnostics = []
    for pattern in unused:
        quoted = (f'"{pattern}"', f"'{pattern}'")
        line = next((n for n, t in enumerate(lines, 1) if any(q in t for q in quoted)), 0)
        diagnostics.append(
            Diagnostic(
                where,
                line,
                f"exclude pattern '{pattern}' matches no folder or file in {path.name}/",
                kind="unused-exclude",
            )
        )
    return diagnostics


def _scope_diagnostic(scope: str, path: Path, root: Path) -> Diagnostic:
    """The one note that a run saw only part of a package."""
    top = scope.split(".")[0]
    return Diagnostic(
        _relative(path / "__init__.py", root),
        1,
        f"only {scope} was analysed, a package inside {top}: imports of {top} modules "
        f"outside it are external edges, and no rule covers that code",
        kind="partial-analysis",
    )


def _relative(path: Path, root: Path) -> str:
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
    return relative or "."


def _project_name(root: Path) -> str:
    """`[project] name` of the root's pyproject.toml, else the root folder's name."""
    try:
        data = tomllib.loads(read_regular_text(root / "pyproject.toml"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        data = {}
    project = data.get("project", {})
    name = project.get("name") if isinstance(project, dict) else None
    if isinstance(name, str) and name:
        return name
    return root.name


def _entry_points(root: Path, modules: set[str]) -> list[EntryPoint]:
    """Entry points from pyproject.toml, setup.cfg and an unpacked wheel's dist-info (files
    that are missing, unreadable, not regular files or not well formed give none)."""
    found: list[tuple[str, str, str]] = []
    pyproject = root / "pyproject.toml"
    if os.path.lexists(pyproject):
        try:
            project = tomllib.loads(read_regular_text(pyproject)).get("project", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            project = {}
        if not isinstance(project, dict):
            project = {}
        for key, group in (("scripts", "console_scripts"), ("gui-scripts", "gui_scripts")):
            table = project.get(key)
            if isinstance(table, dict):
                found.extend((group, name, str(target)) for name, target in table.items())
        groups = project.get("entry-points")
        for group, table in groups.items() if isinstance(groups, dict) else ():
            if isinstance(table, dict):
                found.extend((group, name, str(target)) for name, target in table.items())
    found.extend(_setup_cfg_entry_points(root / "setup.cfg"))
    try:
        wheel_files = sorted(root.glob("*.dist-info/entry_points.txt"))
    except OSError:
        wheel_files = []
    for ini in wheel_files:
        parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read_string(read_regular_text(ini))
        except (OSError, UnicodeDecodeError, configparser.Error):
            continue
        for section in parser.sections():
            found.extend((section, name, target.strip()) for name, target in parser.items(section))

    entry_points = []
    for group, name, target in found:
        module_part = target.split(":")[0].strip()
        module = module_part if module_part in modules else None
        entry_points.append(EntryPoint(group, name, target, module))
    return sorted(set(entry_points), key=lambda e: (e.group, e.name, e.target))


def _setup_cfg_entry_points(path: Path) -> list[tuple[str, str, str]]:
    """`[options.entry_points]` of setup.cfg: each option is a group whose value holds
    `name = target` lines."""
    if not os.path.lexists(path):
        return []
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(read_regular_text(path))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return []
    if not parser.has_section("options.entry_points"):
        return []
    found = []
    for group, value in parser.items("options.entry_points"):
        for line in value.splitlines():
            name, equals, target = line.partition("=")
            if equals and name.strip() and target.strip():
                found.append((group, name.strip(), target.strip()))
    return found


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
                    claimants[0].path,
                    1,
                    f"module name {name} is claimed by several files ({paths}); "
                    "Python imports the package",
                    kind="module-name-clash",
                )
            )
    return diagnostics
