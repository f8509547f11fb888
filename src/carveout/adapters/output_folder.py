"""Write artefacts into the output folder, and only there.

A manifest lists what the last run wrote, so a rerun removes its own stale files (a
service that no longer exists) and never anything else that lives in the folder.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from carveout.domain.errors import UsageError

MANIFEST = ".carveout-manifest"


def check_writable(folder: Path) -> None:
    """Raise `UsageError` unless `folder` can be written, before any work is done.

    An existing folder gets a temporary file written and removed; a folder still to be
    created is tested in its nearest existing parent with a temporary folder. Nothing is
    left behind and `folder` itself is not created.
    """
    existing = folder
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():  # a dangling link: creating the folder would follow it
            raise UsageError(
                f"cannot write the output folder {folder}: {existing} is a broken link"
            )
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"cannot write the output folder {folder}: {existing} is not a folder")
    try:
        if existing == folder:
            handle, probe = tempfile.mkstemp(prefix=".carveout-probe-", dir=folder)
            os.close(handle)
            os.unlink(probe)
        else:
            os.rmdir(tempfile.mkdtemp(prefix=".carveout-probe-", dir=existing))
    except OSError as error:
        raise UsageError(f"cannot write the output folder {folder}: {error}") from error


def write_artefacts(folder: Path, artefacts: Mapping[str, str | bytes]) -> list[Path]:
    """Write `artefacts` (relative POSIX path -> content) under `folder`.

    Files listed in the previous manifest but not written now are removed. Returns the
    written paths, sorted. Raises `UsageError` when the folder cannot be written.

    Nothing is written or removed through a symbolic link below `folder` (`folder` itself
    may be one): an artefact that is a link is replaced by a regular file (the link itself
    is removed, inside the folder), a folder on an artefact's path that is a link raises
    `UsageError`, and a stale file reached through a link is left alone. Each file is
    written to a temporary file beside it and renamed over it, so a failed write (a full
    disk) leaves the previous file whole; the manifest is written last.
    """
    for relative in artefacts:
        pure = PurePosixPath(relative)
        if pure.is_absolute() or ".." in pure.parts:
            raise ValueError(f"artefact path escapes the output folder: {relative}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for relative in sorted(artefacts):  # refuse before writing anything
            _refuse_linked_folders(folder, PurePosixPath(relative).parent)
        previous = _read_manifest(folder)
        written = []
        for relative, content in sorted(artefacts.items()):
            data = content.encode("utf-8") if isinstance(content, str) else content
            written.append(_write_file(folder, relative, data))
        for stale in sorted(previous - set(artefacts)):
            _remove(folder, stale)
        manifest = "".join(f"{p}\n" for p in sorted(artefacts)).encode("utf-8")
        _write_file(folder, MANIFEST, manifest)
    except OSError as error:
        raise UsageError(f"cannot write the output folder {folder}: {error}") from error
    return written


def _write_file(folder: Path, relative: str, data: bytes) -> Path:
    """Write one file atomically; an unchanged regular file is left as it is."""
    target = folder / relative
    _make_folders(folder, PurePosixPath(relative).parent)
    if target.is_symlink():
        target.unlink()  # the link itself, which lives in the folder; never its target
    elif target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
        return target
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # as a plain open() would create it
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return target


@functools.cache
def _umask() -> int:
    """The process's file creation mask (reading it means setting it, so once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _make_folders(folder: Path, relative: PurePosixPath) -> None:
    """Create the folders of `relative` below `folder`, refusing any that is a link."""
    _refuse_linked_folders(folder, relative)
    current = folder
    for part in relative.parts:
        current = current / part
        if not current.is_dir():
            current.mkdir()


def _refuse_linked_folders(folder: Path, relative: PurePosixPath) -> None:
    """Raise `UsageError` when a folder of `relative` below `folder` is a symbolic link."""
    current = folder
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            raise UsageError(
                f"refusing to write through {current}: it is a symbolic link in the output "
                "folder; remove it or choose another --out"
            )


def _read_manifest(folder: Path) -> set[str]:
    manifest = folder / MANIFEST
    if manifest.is_symlink() or not manifest.is_file():
        return set()
    return {line for line in manifest.read_text("utf-8").splitlines() if line}


def _remove(folder: Path, relative: str) -> None:
    """Remove a stale artefact and the folders it leaves empty, unless any part of its
    path below `folder` is a link (or escapes the folder)."""
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts:
        return
    current = folder
    for part in pure.parts:
        current = current / part
        if current.is_symlink():
            return
    target = folder / relative
    if target.is_file():
        target.unlink()
    parent = target.parent
    while parent != folder and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def read_published_contracts(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """The contract documents a previous run published under `folder/contracts/`, by
    service name. Files that are not regular files, not JSON, or not carveout contracts
    are left out: they only serve as the baseline of the next versions."""
    published: dict[str, list[dict[str, Any]]] = {}
    contracts = folder / "contracts"
    if not contracts.is_dir() or contracts.is_symlink():
        return published
    for path in sorted(contracts.glob("*/contract.v*.json")):
        if path.is_symlink() or path.parent.is_symlink() or not path.is_file():
            continue
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        if isinstance(document, dict) and isinstance(document.get("service"), str):
            published.setdefault(document["service"], []).append(document)
    return published
