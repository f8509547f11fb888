"""Write artefacts into the output folder, and only there.

A manifest lists what the last run wrote, so a rerun removes its own stale files (a
service that no longer exists) and never anything else that lives in the folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from carveout.domain.errors import UsageError

MANIFEST = ".carveout-manifest"


def write_artefacts(folder: Path, artefacts: Mapping[str, str | bytes]) -> list[Path]:
    """Write `artefacts` (relative POSIX path -> content) under `folder`.

    Files listed in the previous manifest but not written now are removed. Returns the
    written paths, sorted. Raises `UsageError` when the folder cannot be written.
    """
    for relative in artefacts:
        pure = PurePosixPath(relative)
        if pure.is_absolute() or ".." in pure.parts:
            raise ValueError(f"artefact path escapes the output folder: {relative}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        previous = _read_manifest(folder)
        written = []
        for relative, content in sorted(artefacts.items()):
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8") if isinstance(content, str) else content
            if not target.exists() or target.read_bytes() != data:
                target.write_bytes(data)
            written.append(target)
        for stale in sorted(previous - set(artefacts)):
            _remove(folder, stale)
        (folder / MANIFEST).write_text("".join(f"{p}\n" for p in sorted(artefacts)), "utf-8")
    except OSError as error:
        raise UsageError(f"cannot write the output folder {folder}: {error}") from error
    return written


def _read_manifest(folder: Path) -> set[str]:
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return set()
    return {line for line in manifest.read_text("utf-8").splitlines() if line}


def _remove(folder: Path, relative: str) -> None:
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts:
        return
    target = folder / relative
    if target.is_file():
        target.unlink()
    parent = target.parent
    while parent != folder and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent
