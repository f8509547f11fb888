"""Bad input a new user meets: file names that are not UTF-8, folders that cannot be read,
FIFOs where carveout reads a file, a corrupt cache. Each gives a clear reason or message,
never a crash, a hang or a silent drop."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from carveout.adapters import fact_cache
from carveout.adapters.catalogue import load_catalogue
from carveout.adapters.config import load_settings
from carveout.adapters.fact_cache import CACHE_FILE, FactCache
from carveout.adapters.output_folder import (
    check_writable,
    read_published_contracts,
    write_artefacts,
)
from carveout.application.collect import read_source
from carveout.application.publish import ExitCode
from carveout.cli import main
from carveout.domain.errors import ConfigError, UsageError
from carveout.domain.facts import FileFacts
from carveout.domain.settings import Settings
from carveout.stages.discover import DiscoveryError, discover, shown_name
from carveout.stages.regular_files import NotRegularFileError, read_regular_file

NOT_UTF8_FILE = "non-UTF-8 file name (not importable; its bytes are shown as %XX)"
NOT_UTF8_FOLDER = "non-UTF-8 folder name (not importable; its bytes are shown as %XX)"
DENIED = "cannot read: Permission denied"


def write(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (relative path -> text) under `root`; a path may hold `\\udcXX`
    surrogates, written as the raw bytes they stand for."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root


def analyze(project: Path, out: Path, *extra: str) -> int:
    cache = str(out.parent / "cache")
    return main(["analyze", str(project), "--out", str(out), "--cache-dir", cache, *extra])


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


@contextlib.contextmanager
def unblocked(*fifos: Path) -> Iterator[None]:
    """Should carveout block opening a FIFO (the bug), a writer opening it now and then
    lets the test finish and fail instead of hanging the suite."""
    finished = threading.Event()

    def unblock() -> None:
        while not finished.wait(2):
            for path in fifos:
                with contextlib.suppress(OSError):
                    os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    watchdog = threading.Thread(target=unblock)
    watchdog.start()
    try:
        yield
    finally:
        finished.set()
        watchdog.join()


def deny(monkeypatch: pytest.MonkeyPatch, *folders: Path) -> None:
    """Make `folders` unreadable and unsearchable as for a non-root user (root ignores
    permissions): `os.stat`, `os.lstat`, `os.scandir`, `os.listdir` and `os.mkdir` of
    anything in or below them raise `PermissionError`, as they would."""
    denied = tuple(os.fspath(folder) for folder in folders)

    def guarded(real: Callable[..., object], *, inside_only: bool) -> Callable[..., object]:
        def call(path: object = ".", *args: object, **kwargs: object) -> object:
            text = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else ""
            for folder in denied:
                below = text.startswith(folder + os.sep)
                if below or (not inside_only and text == folder):
                    raise PermissionError(errno.EACCES, "Permission denied", text)
            return real(path, *args, **kwargs)

        return call

    # a folder's own stat works (its parent is searchable); what is in it cannot be reached
    monkeypatch.setattr(os, "stat", guarded(os.stat, inside_only=True))
    monkeypatch.setattr(os, "lstat", guarded(os.lstat, inside_only=True))
    monkeypatch.setattr(os, "scandir", guarded(os.scandir, inside_only=False))
    monkeypatch.setattr(os, "listdir", guarded(os.listdir, inside_only=False))
    monkeypatch.setattr(os, "mkdir", guarded(os.mkdir, inside_only=True))


def skipped_of(root: Path, settings: Settings | None = None) -> dict[str, str]:
    project = discover(root, settings or Settings())
    return {s.path: s.reason for s in project.skipped}


# --- 1. names that are not valid UTF-8 ------------------------------------------------------

BAD = os.fsdecode(b"\xe9")  # how Python holds the byte 0xE9 of a name: "\udce9"


def test_files_and_folders_named_in_bytes_that_are_not_utf8_are_skipped(
    tmp_path: Path,
) -> None:
    root = write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/ok.py": "",
            f"app/caf{BAD}.py": "x = 1\n",
            f"app/d{BAD}/__init__.py": "",
            f"app/d{BAD}/m.py": "",
            f"app/n{BAD}/notes.txt": "no Python here\n",  # silent, as any such folder
            f"app/stub{BAD}.pyi": "",
        },
    )
    project = discover(root, Settings())
    assert [f.module for f in project.files] == ["app", "app.ok"]
    assert {s.path: s.reason for s in project.skipped} == {
        "app/caf%E9.py": NOT_UTF8_FILE,
        "app/d%E9/": NOT_UTF8_FOLDER,
        "app/stub%E9.pyi": "type stub (not executed code)",
    }
    # every reported path can be written as UTF-8 JSON
    json.dumps([s.path for s in project.skipped], ensure_ascii=False).encode("utf-8")


def test_names_that_are_not_utf8_outside_the_source_roots_are_shown_escaped(
    tmp_path: Path,
) -> None:
    root = write(
        tmp_path,
        {
            "src/app/__init__.py": "",
            f"run{BAD}.py": "",
            f"tools{BAD}/x.py": "",
            "scripts/fine.py": "",
        },
    )
    assert skipped_of(root) == {
        "scripts/": "outside the source roots (src)",
        "run%E9.py": NOT_UTF8_FILE,
        "tools%E9/": NOT_UTF8_FOLDER,
    }


def test_shown_name_escapes_only_undecodable_bytes() -> None:
    assert shown_name("café/ünï.py") == "café/ünï.py"
    assert shown_name(os.fsdecode(b"caf\xe9/\xff.py")) == "caf%E9/%FF.py"
    assert shown_name("plain") == "plain"


def test_a_run_over_undecodable_names_writes_every_output(tmp_path: Path) -> None:
    root = write(
        tmp_path / f"proj{BAD}",
        {"app/__init__.py": "import os\n", f"app/caf{BAD}.py": "", f"app/d{BAD}/m.py": ""},
    )
    code = analyze(root, tmp_path / "out", "--quiet")
    assert code == ExitCode.OK
    document = json.loads((tmp_path / "out" / "analysis.json").read_text(encoding="utf-8"))
    assert document["project"]["name"] == "proj%E9"
    assert document["project"]["root"] == "proj%E9"
    assert {s["path"]: s["reason"] for s in document["project"]["skipped"]} == {
        "app/caf%E9.py": NOT_UTF8_FILE,
        "app/d%E9/": NOT_UTF8_FOLDER,
    }
    (tmp_path / "out" / "index.html").read_text(encoding="utf-8")  # valid UTF-8 throughout


def test_the_output_folder_writes_a_stray_surrogate_escaped_rather_than_failing(
    tmp_path: Path,
) -> None:
    write_artefacts(tmp_path / "out", {"a.json": f'{{"root": "x{BAD}"}}\n', "b.txt": "é\n"})
    assert (tmp_path / "out" / "a.json").read_bytes() == b'{"root": "x%E9"}\n'
    assert (tmp_path / "out" / "b.txt").read_bytes() == "é\n".encode()


# --- 2. folders and paths that cannot be read ---------------------------------------------


def test_an_unreadable_folder_is_skipped_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(tmp_path, {"app/__init__.py": "", "app/sec/m.py": "", "app/ok/n.py": ""})
    deny(monkeypatch, root / "app" / "sec")
    project = discover(root, Settings())
    assert [f.module for f in project.files] == ["app", "app.ok.n"]
    assert {s.path: s.reason for s in project.skipped} == {"app/sec/": DENIED}


def test_a_folder_that_can_be_searched_but_not_listed_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(tmp_path, {"app/__init__.py": "", "app/sec/m.py": ""})
    sec = os.fspath(root / "app" / "sec")
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        if os.fspath(path) == sec:  # type: ignore[call-overload]
            raise PermissionError(errno.EACCES, "Permission denied", sec)
        return real_scandir(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    assert skipped_of(root) == {"app/sec/": DENIED}


def test_unreadable_folders_outside_the_source_roots_and_an_unreadable_src(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(
        tmp_path,
        {"lib/app/__init__.py": "", "lib/app/m.py": "", "tools/x.py": "", "pyproject.toml": ""},
    )
    (root / "pyproject.toml").write_text('[tool.carveout]\nsource-roots = ["lib"]\n')
    deny(monkeypatch, root / "tools")
    settings = load_settings(root)
    assert skipped_of(root, settings) == {"tools/": DENIED}


def test_an_unreadable_src_folder_is_no_source_root_and_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(tmp_path, {"src/app/__init__.py": "", "main.py": ""})
    deny(monkeypatch, root / "src")
    project = discover(root, Settings())
    assert [f.module for f in project.files] == ["main"]
    assert {s.path: s.reason for s in project.skipped} == {"src/": DENIED}


def test_an_unreadable_path_given_is_a_clear_discovery_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"proj/app/__init__.py": ""})
    deny(monkeypatch, tmp_path)
    with pytest.raises(DiscoveryError, match=r"cannot read .*proj: Permission denied"):
        discover(tmp_path / "proj", Settings())


def test_a_symbolic_link_loop_given_as_the_path_is_a_clear_discovery_error(
    tmp_path: Path,
) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert load_settings(loop) == Settings()
    with pytest.raises(DiscoveryError, match=r"symbolic link loop|Too many levels"):
        discover(loop, Settings())


def test_an_output_folder_below_an_unreadable_folder_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "locked").mkdir()
    deny(monkeypatch, tmp_path / "locked")
    with pytest.raises(UsageError, match=r"cannot write the output folder .*Permission denied"):
        check_writable(tmp_path / "locked" / "out")


def test_a_real_chmod_000_folder_is_read_by_root_and_skipped_for_anyone_else(
    tmp_path: Path,
) -> None:
    root = write(tmp_path, {"app/__init__.py": "", "app/sec/m.py": ""})
    secret = root / "app" / "sec"
    secret.chmod(0o000)
    try:
        project = discover(root, Settings())
    finally:
        secret.chmod(0o755)
    modules = [f.module for f in project.files]
    skipped = {s.path: s.reason for s in project.skipped}
    if os.geteuid() == 0:  # root reads it anyway
        assert modules == ["app", "app.sec.m"] and skipped == {}
    else:
        assert modules == ["app"] and skipped == {"app/sec/": DENIED}


# --- 3. FIFOs, devices and folders where carveout reads a file --------------------------


def test_one_reader_refuses_anything_but_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_bytes(b"x = 1\n")
    assert read_regular_file(tmp_path / "a.py") == b"x = 1\n"
    assert read_source(tmp_path / "a.py") == b"x = 1\n"
    pipe = fifo(tmp_path / "pipe.py")
    with unblocked(pipe):
        for path, kind in ((pipe, "FIFO"), (Path(os.devnull), "character device")):
            with pytest.raises(NotRegularFileError, match=rf"not a regular file \({kind}\)"):
                read_source(path)
    with pytest.raises(NotRegularFileError, match=r"not a regular file \(folder\)"):
        read_regular_file(tmp_path)


def test_a_catalogue_that_is_a_fifo_is_a_usage_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write(
        tmp_path / "proj",
        {"app/__init__.py": "", "pyproject.toml": '[tool.carveout]\ncatalogue = "cat.toml"\n'},
    )
    pipe = fifo(root / "cat.toml")
    with unblocked(pipe):
        code = analyze(root, tmp_path / "out", "--quiet")
        with pytest.raises(ConfigError, match=r"cat\.toml has 1 problem"):
            load_catalogue(Path(load_settings(root).catalogue or ""))
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE_ERROR
    assert str(pipe) in err and "not a regular file (FIFO)" in err


def test_a_catalogue_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "cat.toml").mkdir()
    with pytest.raises(UsageError, match=r"not a regular file \(folder\)"):
        load_catalogue(tmp_path / "cat.toml")


def test_a_pyproject_that_is_a_fifo_is_refused_not_passed_over(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.carveout]\nmax-services = 0\n"})
    pipe = fifo(tmp_path / "proj" / "pyproject.toml")
    write(tmp_path / "proj", {"app/__init__.py": "", "setup.cfg": "", "x.dist-info/a": ""})
    (tmp_path / "proj" / "setup.cfg").unlink()
    setup_cfg = fifo(tmp_path / "proj" / "setup.cfg")
    entry_points = fifo(tmp_path / "proj" / "x.dist-info" / "entry_points.txt")
    with unblocked(pipe, setup_cfg, entry_points):
        with pytest.raises(ConfigError, match=r"not a regular file \(FIFO\)") as caught:
            load_settings(tmp_path / "proj")
        # discovery reads the same files through the same reader: nothing blocks
        project = discover(tmp_path / "proj", Settings(exclude=("nothing-matches",)))
    assert caught.value.source == str(pipe)
    assert project.name == "proj" and project.entry_points == ()
    assert [d.kind for d in project.diagnostics] == ["unused-exclude"]


def test_published_contracts_and_the_manifest_are_never_read_through_a_fifo(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    write(out, {"contracts/good/contract.v1.json": json.dumps({"service": "good"})})
    contract = fifo(out / "contracts" / "bad" / "contract.v1.json")
    manifest = fifo(out / ".carveout-manifest")
    (out / "contracts" / "odd").mkdir()
    (out / "contracts" / "odd" / "contract.v2.json").write_bytes(b"\xff\xfe")
    with unblocked(contract, manifest):
        assert read_published_contracts(out) == {"good": [{"service": "good"}]}
        write_artefacts(out, {"a.txt": "a\n"})
    assert (out / "a.txt").read_text() == "a\n"
    assert (out / ".carveout-manifest").read_text() == "a.txt\n"


def test_an_artefact_replaced_by_a_fifo_is_written_over_not_read(tmp_path: Path) -> None:
    pipe = fifo(tmp_path / "out" / "a.txt")
    with unblocked(pipe):
        write_artefacts(tmp_path / "out", {"a.txt": "a\n"})
    assert (tmp_path / "out" / "a.txt").read_text() == "a\n"


# --- 4. a corrupt cache -----------------------------------------------------------------------


def test_a_corrupt_cache_file_is_started_afresh_and_used_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="carveout")
    for name in (CACHE_FILE, f"{CACHE_FILE}-wal", f"{CACHE_FILE}-shm"):
        (tmp_path / name).write_bytes(b"this is not an SQLite database" * 100)
    cache = FactCache(tmp_path, "salt")
    assert cache.problem == (
        f"the cache file {tmp_path / CACHE_FILE} was corrupt and has been started afresh"
    )
    cache.put_many({"d": FileFacts(lines=3)})
    cache.close()
    again = FactCache(tmp_path, "salt")
    assert again.problem is None
    assert again.get_many(["d"]) == {"d": FileFacts(lines=3)}
    again.close()
    assert [r.levelno for r in caplog.records if r.name.startswith("carveout")] == [logging.INFO]


class _DamagedOnRead:
    """A connection whose fact look-ups find a damaged file, as SQLite reports it."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self.real = real

    def execute(self, sql: str, *args: object) -> object:
        if sql.startswith("SELECT digest"):
            raise sqlite3.DatabaseError("database disk image is malformed")
        return self.real.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


def test_a_cache_found_damaged_during_a_run_is_started_afresh_once(tmp_path: Path) -> None:
    cache = FactCache(tmp_path, "salt")
    cache.put_many({"d": FileFacts(lines=1)})
    cache._connection = _DamagedOnRead(cache._connection)  # type: ignore[arg-type,assignment]
    assert cache.get_many(["d"]) == {}  # scanned instead
    assert cache.problem is not None and cache.problem.endswith("started afresh")
    cache.put_many({"e": FileFacts(lines=2)})
    assert cache.get_many(["d", "e"]) == {"e": FileFacts(lines=2)}
    cache.close()


def test_a_cache_that_cannot_be_opened_stays_disabled_and_is_not_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / CACHE_FILE).write_bytes(b"kept")

    def refuse(*args: object, **kwargs: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(fact_cache.sqlite3, "connect", refuse)
    cache = FactCache(tmp_path, "salt")
    assert cache.problem is not None and cache.problem.startswith("cache disabled")
    assert cache.get_many(["d"]) == {}
    assert (tmp_path / CACHE_FILE).read_bytes() == b"kept"


def test_a_corrupt_cache_is_reported_once_and_the_next_run_uses_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    root = write(tmp_path / "proj", {"app/__init__.py": "import os\n", "app/m.py": "x = 1\n"})
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / CACHE_FILE).write_bytes(b"garbage" * 1000)
    assert analyze(root, tmp_path / "out") == ExitCode.OK
    first = capsys.readouterr().err
    assert first.count("was corrupt and has been started afresh") == 1
    # nothing carveout logs at WARNING repeats what the summary says
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert analyze(root, tmp_path / "out") == ExitCode.OK
    second = capsys.readouterr().err
    assert "read 2 files (2 from cache)" in second and "afresh" not in second
