"""Write artefacts into the output folder, and only there.

A manifest lists what the last run wrote, so a rerun removes its own stale files (a
service that no longer exists) and never anything else that lives in the folder.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from carveout.domain.errors import UsageError
from carveout.stages.discover import shown_name
from carveout.stages.regular_files import read_regular_file, read_regular_text

MANIFEST = ".carveout-manifest"
# a temporary file `_stage_file` makes: ".", the artefact's name, ".", 8 random characters
_LEFTOVER = re.compile(r"\.(.+)\.[a-z0-9_]{8}")


def check_writable(folder: Path) -> None:
    """Raise `UsageError` unless `folder` can be written, before any work is done.

    An existing folder gets a temporary file written and removed; a folder still to be
    created is tested in its nearest existing parent with a temporary folder. Nothing is
    left behind and `folder` itself is not created.
    """
    existing = folder
    # os.path's tests, unlike pathlib's, never raise (a folder that cannot be searched)
    while not os.path.exists(existing) and existing != existing.parent:
        if os.path.islink(existing):  # a dangling link: creating the folder would follow it
            raise UsageError(
                f"cannot write the output folder {folder}: {existing} is a broken link"
            )
        existing = existing.parent
    if not os.path.isdir(existing):
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
    `UsageError`, and a stale file reached through a link is left alone. Every changed
    file is first written to a temporary file beside it; only when all are written are
    they renamed over the old ones, one after the other, and the manifest last. A failed
    or interrupted run (a full disk, Ctrl-C, SIGTERM) thus leaves the previous report
    whole, and no temporary file behind; one left by a killed run is removed by the next.
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
        written, staged = [], []
        try:
            for relative, content in sorted(artefacts.items()):
                data = _utf8(content) if isinstance(content, str) else content
                target = folder / relative
                written.append(target)
                temporary = _stage_file(folder, relative, data)
                if temporary is not None:
                    staged.append((temporary, target))
        except BaseException:
            for temporary, _ in staged:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            raise
        for temporary, target in staged:
            os.replace(temporary, target)
        for stale in sorted(previous - set(artefacts)):
            _remove(folder, stale)
        manifest = "".join(f"{p}\n" for p in sorted(artefacts)).encode("utf-8")
        _write_file(folder, MANIFEST, manifest)
        _remove_leftovers(folder, [*artefacts, MANIFEST])
    except OSError as error:
        raise UsageError(f"cannot write the output folder {folder}: {error}") from error
    return written


def _utf8(content: str) -> bytes:
    """`content` as UTF-8. A lone surrogate (a byte of a file or folder name that was not
    UTF-8, carried in by a writer) cannot be written so: it is shown as discovery shows
    such names (`%E9`), rather than failing the run."""
    try:
        return content.encode("utf-8")
    except UnicodeEncodeError:
        return shown_name(content).encode("utf-8")


def _write_file(folder: Path, relative: str, data: bytes) -> Path:
    """Write one file atomically; an unchanged regular file is left as it is."""
    target = folder / relative
    temporary = _stage_file(folder, relative, data)
    if temporary is not None:
        os.replace(temporary, target)
    return target


def _stage_file(folder: Path, relative: str, data: bytes) -> str | None:
    """Write `data` to a temporary file beside `folder/relative` and return its path, or
    None when the file holds `data` already (a link in its place is removed: the link
    itself, which lives in the folder, never its target)."""
    target = folder / relative
    _make_folders(folder, PurePosixPath(relative).parent)
    if target.is_symlink():
        target.unlink()
    elif _holds(target, data):
        return None
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # as a plain open() would create it
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return temporary


def _remove_leftovers(folder: Path, relatives: Iterable[str]) -> None:
    """Remove the temporary files a killed run left beside the artefacts: named as
    `_stage_file` names them (`.<name>.` and the eight characters `mkstemp` adds)."""
    by_folder: dict[Path, set[str]] = {}
    for relative in relatives:
        path = folder / relative
        by_folder.setdefault(path.parent, set()).add(path.name)
    for parent, names in sorted(by_folder.items()):
        try:
            entries = os.listdir(parent)
        except OSError:
            continue
        for entry in entries:
            match = _LEFTOVER.fullmatch(entry)
            if match and match.group(1) in names and not os.path.islink(parent / entry):
                with contextlib.suppress(OSError):
                    os.unlink(parent / entry)


def _holds(target: Path, data: bytes) -> bool:
    """Whether `target` is a regular file holding exactly `data` (never blocks on a FIFO
    put in its place)."""
    try:
        return os.stat(target).st_size == len(data) and read_regular_file(target) == data
    except OSError:
        return False


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
    """The paths the previous run's manifest lists; none when it is missing, a link, not
    a regular file or not text (nothing is then removed as stale)."""
    manifest = folder / MANIFEST
    if os.path.islink(manifest):
        return set()
    try:
        text = read_regular_text(manifest)
    except (OSError, UnicodeDecodeError):
        return set()
    return {line for line in text.splitlines() if line}


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
    if not os.path.isdir(contracts) or os.path.islink(contracts):
        return published
    try:
        paths = sorted(contracts.glob("*/contract.v*.json"))
    except OSError:
        return published
    for path in paths:
        if os.path.islink(path) or os.path.islink(path.parent):
            continue
        try:
            document = json.loads(read_regular_text(path))
        except (OSError, ValueError):  # UnicodeDecodeError is a ValueError
            continue
        if isinstance(document, dict) and isinstance(document.get("service"), str):
            published.setdefault(document["service"], []).append(document)
    return published
