"""The way out of import-linter's blind spot: folders inside packages without __init__.py.

Listing is read-only; writing creates empty `__init__.py` files in the user's code and runs
only when the user asks for it with an explicit flag.
"""

from __future__ import annotations

from pathlib import Path

from carveout.adapters.config import load_settings
from carveout.domain.errors import UsageError
from carveout.domain.model import Project
from carveout.stages.discover import (
    DiscoveryError,
    discover,
    missing_init_files,
    write_missing_init_files,
)


def list_missing_init(path: Path) -> tuple[str, ...]:
    """Paths (relative to the project root) of the `__init__.py` files a package lacks."""
    return missing_init_files(_project(path))


def write_missing_init(path: Path) -> tuple[str, ...]:
    """Create the missing `__init__.py` files as empty files; return what was created."""
    return write_missing_init_files(_project(path))


def _project(path: Path) -> Project:
    try:
        return discover(path, load_settings(path))
    except DiscoveryError as error:
        raise UsageError(str(error)) from error
