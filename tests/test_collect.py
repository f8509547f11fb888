"""Collecting facts: in this process or a pool (same facts either way), unreadable files
and scan bugs as diagnostics, progress reports, and what the CLI shows on stderr."""

from __future__ import annotations

import contextlib
import functools
import io
import multiprocessing
import os
import shutil
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from rich.console import Console

from carveout import cli
from carveout.adapters.fact_cache import FactCache
from carveout.application import collect
from carveout.application.collect import collect_facts
from carveout.application.publish import ExitCode
from carveout.domain.facts import FileFacts
from carveout.domain.settings import Settings
from carveout.stages.discover import discover

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "shopwise"


def sample_copy(tmp_path: Path) -> Path:
    project = tmp_path / "shopwise"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns(".carveout_cache"))
    return project


def many_modules(root: Path, count: int) -> Path:
    """A package of `count` small modules importing each other, with calls and strings."""
    package = root / "src" / "bulk"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Bulk."""\n')
    for number in range(count):
        (package / f"m{number}.py").write_text(
            f"import os\nfrom bulk import m{(number + 1) % count}\n"
            f"URL = 'https://api.example.com/v{number}/items'\n"
            f"def f{number}(x: int = {number}) -> str:\n"
            f"    return os.getenv('KEY_{number}') or m{(number + 1) % count}.__name__\n"
        )
    return root


def test_a_pool_gives_the_same_facts_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = discover(many_modules(tmp_path, 40), Settings())
    alone = collect_facts(project, cache=None, jobs=1)
    monkeypatch.setattr(collect, "POOL_THRESHOLD", 10)
    calls: list[tuple[int, int]] = []
    cache = FactCache(tmp_path / "cache", "salt")
    pooled = collect_facts(project, cache=cache, jobs=2, progress=lambda *a: calls.append(a))
    assert pooled.facts == alone.facts
    assert pooled.scanned == len(project.files) and pooled.from_cache == 0
    assert calls[-1] == (len(project.files), len(project.files))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)

    # what the pool sent back went into the cache as it was: a warm read gives the same
    warm = collect_facts(project, cache=cache, jobs=2)
    cache.close()
    assert (warm.from_cache, warm.scanned) == (len(project.files), 0)
    assert warm.facts == alone.facts


def test_progress_is_reported_in_one_process_too(tmp_path: Path) -> None:
    project = discover(many_modules(tmp_path, 60), Settings())
    calls: list[tuple[int, int]] = []
    collect_facts(project, cache=None, jobs=1, progress=lambda *a: calls.append(a))
    total = len(project.files)
    assert calls[0] == (50, total) and calls[-1] == (total, total)


def test_a_file_that_vanished_is_a_read_error(tmp_path: Path) -> None:
    project = discover(many_modules(tmp_path, 3), Settings())
    (tmp_path / "src" / "bulk" / "m1.py").unlink()
    collected = collect_facts(project, cache=None, jobs=1)
    assert not collected.facts["bulk.m1"].parsed
    assert [(d.path, d.kind) for d in collected.diagnostics] == [("src/bulk/m1.py", "read-error")]


def test_a_bug_in_the_scan_is_an_internal_error_for_that_file_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = discover(many_modules(tmp_path, 3), Settings())
    real = collect.scan_source

    def failing(data: bytes):  # type: ignore[no-untyped-def]
        if b"m2" in data and b"v1/" in data:
            raise RuntimeError("boom")
        return real(data)

    monkeypatch.setattr(collect, "scan_source", failing)
    collected = collect_facts(project, cache=None, jobs=1)
    kinds = {d.path: d.kind for d in collected.diagnostics}
    assert kinds == {"src/bulk/m1.py": "internal-error"}
    assert "boom" in collected.diagnostics[0].message
    assert collected.facts["bulk.m0"].parsed and collected.facts["bulk.m2"].parsed


# --- what the CLI shows ---------------------------------------------------------------------


def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Make the CLI's stderr console a terminal writing into a buffer."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100, highlight=False)
    monkeypatch.setattr(cli, "err", console)
    return buffer


def test_the_progress_bar_shows_on_a_terminal_and_not_with_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = sample_copy(tmp_path)
    buffer = terminal(monkeypatch)
    assert cli.main(["analyze", str(project), "-o", str(tmp_path / "a"), "--no-cache"]) == 0
    assert "scanning" in buffer.getvalue()

    buffer = terminal(monkeypatch)
    quiet = ["analyze", str(project), "-o", str(tmp_path / "b"), "--no-cache", "--quiet"]
    assert cli.main(quiet) == ExitCode.OK
    assert buffer.getvalue() == ""


def test_no_progress_bar_when_stderr_is_not_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = sample_copy(tmp_path)
    assert cli.main(["analyze", str(project), "-o", str(tmp_path / "out"), "--no-cache"]) == 0
    captured = capsys.readouterr()
    assert "scanning" not in captured.err
    assert "\x1b[" not in captured.err  # no cursor movement or colour codes either
    assert "report:" in captured.err  # the summary still comes


def test_timings_name_every_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = sample_copy(tmp_path)
    out = tmp_path / "out"
    assert cli.main(["analyze", str(project), "-o", str(out), "--quiet", "--timings"]) == 0
    lines = [line.split() for line in capsys.readouterr().err.splitlines()]
    stages = [parts[0] for parts in lines if len(parts) == 3 and parts[2] == "s"]
    assert stages == [
        "discover", "scan", "graph", "features", "cycles", "couplings", "propose", "generate",
        "report", "total",
    ]  # fmt: skip
    seconds = {parts[0]: float(parts[1]) for parts in lines if len(parts) == 3}
    assert seconds["total"] == pytest.approx(
        sum(v for k, v in seconds.items() if k != "total"), abs=0.01
    )


# --- files that defeat a parser, or kill the process scanning them -------------------------

NESTED_TOO_DEEP = {
    # Python refuses more than 200 open brackets; libcst's parser crashed on 5000
    "deep.py": "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
    # Python runs out of recursion depth building the tree
    "long_sum.py": "total = " + "+".join(["a"] * 20000) + "\n",
    # a plain syntax error first (so libcst would be tried), then a chain deep enough to
    # overflow libcst's stack
    "after_error.py": "def broken(:\n    pass\nvalue = a" + ".b" * 8000 + "\n",
}


def test_too_deep_files_are_diagnostics_in_a_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = many_modules(tmp_path, 12)
    for name, text in NESTED_TOO_DEEP.items():
        (root / "src" / "bulk" / name).write_text(text)
    project = discover(root, Settings())
    monkeypatch.setattr(collect, "POOL_THRESHOLD", 5)
    collected = collect_facts(project, cache=None, jobs=2)

    found = {(d.path, d.kind, d.line) for d in collected.diagnostics}
    assert found == {
        ("src/bulk/deep.py", "too-complex", 1),
        ("src/bulk/long_sum.py", "too-complex", 1),
        ("src/bulk/after_error.py", "too-complex", 3),
    }
    assert all(collected.facts[f"bulk.m{n}"].parsed for n in range(12))


def _scan_file_killing_m3(path: str, kind: str) -> FileFacts:
    """`scan_file`, except that the process scanning m3.py dies as a native crash would."""
    if path.endswith("m3.py"):
        os.kill(os.getpid(), signal.SIGKILL)
    return REAL_SCAN_FILE(path, kind)


REAL_SCAN_FILE = collect.scan_file


def test_a_file_that_kills_its_scanning_process_is_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = discover(many_modules(tmp_path, 30), Settings())
    alone = collect_facts(project, cache=None, jobs=1)
    monkeypatch.setattr(collect, "POOL_THRESHOLD", 10)
    monkeypatch.setattr(collect, "scan_file", _scan_file_killing_m3)
    # the workers must run the patched scan: fork them whatever the platform's default
    forked = functools.partial(ProcessPoolExecutor, mp_context=multiprocessing.get_context("fork"))
    monkeypatch.setattr(collect, "ProcessPoolExecutor", forked)
    calls: list[tuple[int, int]] = []

    # had m3.py been scanned in this process, the test run itself would have been killed
    collected = collect_facts(project, cache=None, jobs=2, progress=lambda *a: calls.append(a))

    assert [(d.path, d.kind) for d in collected.diagnostics] == [
        ("src/bulk/m3.py", "internal-error")
    ]
    assert "src/bulk/m3.py" in collected.diagnostics[0].message
    assert not collected.facts["bulk.m3"].parsed
    del alone.facts["bulk.m3"], collected.facts["bulk.m3"]
    assert collected.facts == alone.facts
    assert calls[-1] == (len(project.files), len(project.files))


def test_a_fifo_put_in_place_of_a_file_after_discovery_is_never_read(tmp_path: Path) -> None:
    project = discover(many_modules(tmp_path, 3), Settings())
    fifo = tmp_path / "src" / "bulk" / "m1.py"
    fifo.unlink()
    os.mkfifo(fifo)
    # should a read block on the FIFO, a writer comes every few seconds with nothing to say:
    # each read then ends empty and the test fails instead of hanging
    finished = threading.Event()

    def unblock() -> None:
        while not finished.wait(3):
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    watchdog = threading.Thread(target=unblock)
    watchdog.start()
    try:
        collected = collect_facts(project, cache=None, jobs=1)
    finally:
        finished.set()
        watchdog.join()
    assert [(d.path, d.kind, d.message) for d in collected.diagnostics] == [
        ("src/bulk/m1.py", "read-error", "cannot read: not a regular file (FIFO)")
    ]
    assert collected.facts["bulk.m0"].parsed and collected.facts["bulk.m2"].parsed
