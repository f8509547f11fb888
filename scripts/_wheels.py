"""Fetch wheels from PyPI with pip and unpack them, for the scripts that read real code.

Shared by `grimp_diff.py` and `corpus.py`. Wheels land in `.work/wheels/`, unpacked trees in
`.work/unpacked/<wheel name>/`; both are reused on the next run.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
WHEELS = REPOSITORY / ".work" / "wheels"
UNPACKED = REPOSITORY / ".work" / "unpacked"
_DONE_MARK = ".carveout-unpacked"


def normalise(name: str) -> str:
    """A distribution name as wheel file names spell it (PEP 427/503)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def find_wheel(name: str, version: str | None) -> Path | None:
    """A wheel of `name` (at `version` when given) already in the wheel folder."""
    wanted = normalise(name)
    found = []
    for wheel in sorted(WHEELS.glob("*.whl")):
        parts = wheel.name.split("-")
        if normalise(parts[0]) == wanted and (version is None or parts[1] == version):
            found.append(wheel)
    return found[-1] if found else None


def download(spec: str, python_version: str | None = None) -> Path:
    """The wheel for `spec` (`name==version` or `name`), downloaded with pip when missing.

    Raises `RuntimeError` with pip's message when pip cannot get it.
    """
    name, _, version = spec.partition("==")
    existing = find_wheel(name, version or None)
    if existing is not None:
        return existing
    WHEELS.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "-d",
        str(WHEELS),
        spec,
    ]
    if python_version:
        command[5:5] = ["--python-version", python_version]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        message = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise RuntimeError(f"{spec}: {message}")
    saved = re.findall(r"(?:Saved|File was already downloaded) (\S+\.whl)", result.stdout)
    if saved:
        return Path(saved[-1]).resolve()
    wheel = find_wheel(name, version or None)
    if wheel is None:
        raise RuntimeError(f"{spec}: pip reported success but no wheel was found")
    return wheel


def unpack(wheel: Path) -> Path:
    """The wheel's contents in `.work/unpacked/<wheel stem>/` (extracted once)."""
    target = UNPACKED / wheel.stem
    if (target / _DONE_MARK).is_file():
        return target
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            destination = (target / member.filename).resolve()
            if not destination.is_relative_to(target.resolve()):
                raise RuntimeError(f"{wheel.name}: member {member.filename} leaves the folder")
            archive.extract(member, target)
    (target / _DONE_MARK).write_text("", encoding="utf-8")
    return target


def top_level_packages(folder: Path) -> list[str]:
    """Regular packages at the top of an unpacked wheel (folders holding `__init__.py`)."""
    return sorted(
        child.name
        for child in folder.iterdir()
        if child.is_dir() and child.name.isidentifier() and (child / "__init__.py").is_file()
    )
