"""The way out of import-linter's blind spot: folders inside packages without __init__.py.

Listing is read-only; writing creates empty `__init__.py` files in the user's code and runs
only when the user asks for it with an explicit flag.
"""

from __future__ import annotations

from pathlib import Path

from carveout.adapters.config import load_settings
from carveout.domain.errors import UsageError
from carveout.stages.discover import (
    DiscoveryError,
    discover,
    missing_init_files,
    write_missing_init_files,
)


def list_missing_init(path: Path) -> tuple[str, ...]:
    """Paths (relative to the project root) of the `__init__.py` files a package lacks."""
    try:
        project = discover(path, load_settings(path))
    except DiscoveryError as error:
        raise UsageError(str(error)) from error
    return missing_init_files(project)


def write_missing_init(path: Path) -> tuple[str, ...]:
    """Create the missing `__init__.py` files as empty files; return what was created."""
    try:
        project = discover(path, load_settings(path))
    except DiscoveryError as error:
        raise UsageError(str(error)) from error
    return write_missing_init_files(project)
