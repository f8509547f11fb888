"""Settings of one run: `[tool.carveout]` of the analysed project, overridden by flags."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_EXCLUDES = (
    ".*",
    "__pycache__",
    "node_modules",
    "build",
    "dist",
    "site-packages",
    "*.egg-info",
    "*.dist-info",
    "*.data",
)
TEST_FOLDERS = ("tests", "test", "testing")


@dataclass(frozen=True, slots=True)
class Settings:
    """What a run reads and how it proposes.

    `source_roots` are folders relative to the project root holding top-level packages;
    empty means "find them" (`src/` when it holds packages, else the project root). Each
    must exist inside the project folder. Files outside them are listed as skipped.
    `exclude` holds fnmatch patterns left out of the scan, on top of the defaults (hidden
    folders, virtualenvs, build output). A pattern without `/` matches a folder or file
    name (`legacy`, `*_pb2.py`); a pattern with `/` matches a path from the project root or
    from the source root (`src/app/vendored`, `app/vendored`, `*/admin/*`), and a folder
    it matches is left out with everything below it; a trailing `/` matches folders only.
    A pattern that matches nothing gets an `unused-exclude` diagnostic.
    `max_file_bytes`: larger files are skipped unread (generated tables, data dumps).
    """

    source_roots: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include_tests: bool = False
    include_notebooks: bool = False
    max_services: int = 5
    ignore: tuple[str, ...] = ()
    catalogue: str | None = None
    collapse_threshold: int = 150
    max_file_bytes: int = 5_000_000

    @property
    def fact_key(self) -> str:
        """The settings that change per-file facts, for the cache key."""
        return "v1"
