"""The output folder: only carveout's own files are written, and only its own are removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from carveout.adapters.output_folder import MANIFEST, write_artefacts


def test_rerun_removes_only_its_own_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file")
    write_artefacts(out, {"index.html": "<html>", "contracts/chat/facade.py": "x = 1\n"})
    assert (out / "contracts" / "chat" / "facade.py").is_file()

    write_artefacts(out, {"index.html": "<html>", "contracts/search/facade.py": "y = 2\n"})
    assert not (out / "contracts" / "chat").exists()
    assert (out / "contracts" / "search" / "facade.py").read_text() == "y = 2\n"
    assert (out / "notes.txt").read_text() == "the user's own file"
    assert (out / MANIFEST).read_text().splitlines() == [
        "contracts/search/facade.py",
        "index.html",
    ]


def test_unchanged_files_are_not_rewritten(tmp_path: Path) -> None:
    write_artefacts(tmp_path, {"a.json": "{}\n"})
    before = (tmp_path / "a.json").stat().st_mtime_ns
    write_artefacts(tmp_path, {"a.json": "{}\n"})
    assert (tmp_path / "a.json").stat().st_mtime_ns == before


@pytest.mark.parametrize("bad", ["../escape.txt", "/etc/passwd", "a/../../b"])
def test_paths_cannot_escape_the_folder(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="escapes"):
        write_artefacts(tmp_path / "out", {bad: "x"})
    assert not (tmp_path / "escape.txt").exists()


def test_a_manifest_entry_pointing_outside_is_never_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / MANIFEST).write_text("../victim.txt\n")
    write_artefacts(out, {"index.html": "x"})
    assert victim.read_text() == "keep me"
