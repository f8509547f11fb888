"""The output folder: only carveout's own files are written, and only its own are removed."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from carveout.adapters import output_folder
from carveout.adapters.output_folder import MANIFEST, check_writable, write_artefacts
from carveout.domain.errors import UsageError


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


# --- never through a symbolic link -------------------------------------------------------


def test_a_symlinked_artefact_is_replaced_and_its_target_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "elsewhere" / "victim.txt"
    victim.parent.mkdir()
    victim.write_text("keep me")
    (out / "graph.mmd").symlink_to(victim)
    write_artefacts(out, {"graph.mmd": "flowchart LR\n"})
    assert victim.read_text() == "keep me"
    assert not (out / "graph.mmd").is_symlink()
    assert (out / "graph.mmd").read_text() == "flowchart LR\n"


def test_a_symlinked_folder_on_the_way_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "contracts").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UsageError, match="symbolic link"):
        write_artefacts(out, {"analysis.json": "{}", "contracts/chat/facade.py": "x = 1\n"})
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in out.iterdir()) == ["contracts"]  # refused before writing


def test_stale_files_behind_a_symlinked_folder_are_never_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep me")
    (out / "linkdir").symlink_to(elsewhere, target_is_directory=True)
    (out / "link.txt").symlink_to(elsewhere / "keep.txt")
    (out / MANIFEST).write_text("linkdir/keep.txt\nlink.txt\n")
    write_artefacts(out, {"index.html": "x"})
    assert (elsewhere / "keep.txt").read_text() == "keep me"
    assert (out / "linkdir").is_symlink()
    assert (out / MANIFEST).read_text() == "index.html\n"


def test_a_symlinked_manifest_is_neither_read_nor_written_through(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("victim.txt\n")
    (out / MANIFEST).symlink_to(victim)
    write_artefacts(out, {"index.html": "x"})
    assert victim.read_text() == "victim.txt\n"
    assert not (out / MANIFEST).is_symlink()
    assert (out / MANIFEST).read_text() == "index.html\n"


# --- atomic writes -----------------------------------------------------------------------


def test_a_failed_write_keeps_the_previous_file_and_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_artefacts(out, {"a.json": "{}\n", "b.json": "[]\n"})

    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, handle: int, mode: str) -> None:
            self.stream = real_fdopen(handle, mode)

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            self.stream.close()

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fdopen", FullDisk)
    with pytest.raises(UsageError, match="No space left"):
        write_artefacts(out, {"a.json": '{"new": 1}\n', "c.json": "[1]\n"})
    monkeypatch.undo()

    assert (out / "a.json").read_text() == "{}\n"  # never truncated to 0 bytes
    assert (out / MANIFEST).read_text() == "a.json\nb.json\n"
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "a.json", "b.json"]


def test_files_get_the_usual_permissions(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        write_artefacts(tmp_path, {"index.html": "x"})
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "index.html").stat().st_mode) == 0o644


# --- the early check ---------------------------------------------------------------------


def test_check_writable_creates_nothing_and_leaves_nothing(tmp_path: Path) -> None:
    check_writable(tmp_path / "reports" / "app")
    check_writable(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_check_writable_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(UsageError, match="is not a folder"):
        check_writable(tmp_path / "taken" / "out")
    with pytest.raises(UsageError, match="is not a folder"):
        check_writable(tmp_path / "taken")


def test_an_interrupted_write_leaves_the_previous_report_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    before = {"a.json": "old a", "b.html": "old b", "sub/c.txt": "old c"}
    write_artefacts(out, before)

    # Ctrl-C (or SIGTERM, which a run turns into the same kind of exception) while the
    # third new file is being written: nothing old has been replaced yet
    staged = []
    original = output_folder._stage_file

    def interrupted(folder: Path, relative: str, data: bytes) -> str | None:
        if len(staged) == 2:
            raise KeyboardInterrupt
        staged.append(relative)
        return original(folder, relative, data)

    monkeypatch.setattr(output_folder, "_stage_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_artefacts(out, {name: f"new {name}" for name in before})
    assert {p: (out / p).read_text() for p in before} == before
    assert sorted(p.name for p in out.rglob("*")) == sorted(
        [".carveout-manifest", "a.json", "b.html", "c.txt", "sub"]
    )


def test_temporary_files_a_killed_run_left_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_artefacts(out, {"analysis.json": "{}", "sub/x.txt": "x"})
    # what `kill -9` in the middle of a write leaves, and files that only look alike
    (out / ".analysis.json.k3j_9x0q").write_text("half")
    (out / "sub" / ".x.txt.abcdefgh").write_text("half")
    (out / ".notes.md.abcdefgh").write_text("not an artefact's: kept")
    (out / ".analysis.json.bak").write_text("not mkstemp's: kept")
    write_artefacts(out, {"analysis.json": "{}", "sub/x.txt": "x"})
    assert not (out / ".analysis.json.k3j_9x0q").exists()
    assert not (out / "sub" / ".x.txt.abcdefgh").exists()
    assert (out / ".notes.md.abcdefgh").exists() and (out / ".analysis.json.bak").exists()
