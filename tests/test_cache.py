"""The per-file fact cache: its codec, salts, sharing between runs, trouble, and the promise
that a warm run writes the same analysis as a cold one."""

from __future__ import annotations

import logging
import multiprocessing
import shutil
import sqlite3
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from carveout.adapters import fact_cache
from carveout.adapters.fact_cache import CACHE_FILE, FactCache, decode_facts, encode_facts
from carveout.application import analyze as analyze_module
from carveout.application.analyze import AnalyzeRequest, analyze
from carveout.application.publish import ExitCode
from carveout.cli import main
from carveout.domain.facts import FileFacts, Scope
from carveout.domain.settings import Settings
from carveout.stages.scan import scan_source

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "shopwise"

# one source that fills every kind of fact (enums, nested records, optional tuples)
RICH_SOURCE = b'''\
"""A module."""
from __future__ import annotations
import os, sys
import importlib
from typing import TYPE_CHECKING
from . import sibling
from ..pkg import thing as other
from helpers import *
if TYPE_CHECKING:
    from app.models import Model
try:
    import ujson as json
except ImportError:
    import json
if sys.version_info >= (3, 11):
    import tomllib
__all__ = ["run", "Service"]
sys.path.append(os.path.join(os.path.dirname(__file__), "..", "libs"))
CACHE = {}
client = make_client("gpt-4o", timeout=3)
plugin = importlib.import_module(f"app.plugins_{os.environ['NAME']}")
other._private.value = 1
setattr(sibling, "flag", True)

def run(a: int, /, b: str = "x", *args, c: list[int] | None = None, **kw) -> dict[str, int]:
    """Run it."""
    import heavy
    token = os.getenv("TOKEN")
    if not token:
        raise ValueError("no token")
    return client.chat.completions.create(model="gpt-4o", messages=[f"{a}/v1/chat"])

class Service(Base, metaclass=Meta):
    __tablename__ = "services"
    def go(self):
        raise errors.Failed()

query = "SELECT name FROM services WHERE id = 1"  # carveout: ignore[raw-sql]
'''


def rich_facts() -> FileFacts:
    facts = scan_source(RICH_SOURCE)
    assert facts.parsed and facts.imports and facts.definitions and facts.calls
    assert facts.all_names is not None and facts.suppressions and facts.sys_path_changes
    return facts


# --- the codec -----------------------------------------------------------------------------


def test_codec_round_trips_every_kind_of_fact() -> None:
    for facts in (
        rich_facts(),
        scan_source(b"def broken(:\n"),
        scan_source(b"x = 1\x00"),
        FileFacts(lines=0),
    ):
        data = encode_facts(facts)
        assert isinstance(data, bytes)
        assert decode_facts(data) == facts


def test_codec_rebuilds_every_record_as_its_own_type() -> None:
    # records are named tuples, equal to plain tuples of the same values: equality alone
    # would not notice a decoder that returned bare tuples or the wrong record type
    facts = rich_facts()
    decoded = decode_facts(encode_facts(facts))
    assert decoded is not None
    assert _types(decoded) == _types(facts)
    assert type(decoded.imports[0].scope) is Scope


def _types(value: object) -> object:
    """The value's shape by type: records, enums and nested tuples all the way down."""
    if isinstance(value, FileFacts):
        return ("FileFacts", [_types(getattr(value, f.name)) for f in fields(FileFacts)])
    if isinstance(value, tuple):
        return (type(value).__name__, [_types(item) for item in value])
    return type(value).__name__


def test_codec_reads_garbage_as_unknown() -> None:
    assert decode_facts(b"") is None
    assert decode_facts(b"not marshal data at all") is None
    assert decode_facts(encode_facts(rich_facts())[:-7]) is None


# --- the cache file ------------------------------------------------------------------------


def test_entries_of_another_salt_are_never_returned(tmp_path: Path) -> None:
    facts = rich_facts()
    first = FactCache(tmp_path, "salt-one")
    first.put_many({"d1": facts})
    assert first.get_many(["d1", "d2"]) == {"d1": facts}
    first.close()

    other = FactCache(tmp_path, "salt-two")
    assert other.get_many(["d1"]) == {}
    other.put_many({"d1": FileFacts(lines=99)})
    other.close()

    # both salts are kept side by side: going back finds the first entry unchanged
    again = FactCache(tmp_path, "salt-one")
    assert again.get_many(["d1"]) == {"d1": facts}
    again.close()


def test_only_the_most_recent_salts_are_kept(tmp_path: Path) -> None:
    for number in range(fact_cache.KEPT_SALTS + 2):
        cache = FactCache(tmp_path, f"salt-{number}")
        cache.put_many({"d": FileFacts(lines=number)})
        cache.close()
    with sqlite3.connect(tmp_path / CACHE_FILE) as connection:
        salts = {row[0] for row in connection.execute("SELECT DISTINCT salt FROM facts")}
    newest = fact_cache.KEPT_SALTS + 1
    assert salts == {f"salt-{n}" for n in range(newest - fact_cache.KEPT_SALTS + 1, newest + 1)}


def test_a_file_of_another_layout_is_laid_out_again(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / CACHE_FILE) as connection:
        connection.execute("CREATE TABLE facts (digest TEXT PRIMARY KEY, data BLOB)")
        connection.execute("INSERT INTO facts VALUES ('d', x'00')")
    cache = FactCache(tmp_path, "salt")
    assert cache.problem is None
    assert cache.get_many(["d"]) == {}
    cache.put_many({"d": FileFacts(lines=3)})
    assert cache.get_many(["d"]) == {"d": FileFacts(lines=3)}
    cache.close()


def test_a_cache_file_that_cannot_be_opened_is_a_warning_not_a_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="carveout.adapters.fact_cache")
    (tmp_path / CACHE_FILE).mkdir()  # opened by no one, and not carveout's to delete
    cache = FactCache(tmp_path, "salt")
    assert cache.problem is not None and "cache disabled" in cache.problem
    assert cache.get_many(["d"]) == {}
    cache.put_many({"d": FileFacts(lines=1)})  # quietly does nothing
    assert "cache disabled" in caplog.text
    assert (tmp_path / CACHE_FILE).is_dir()


def test_an_unreadable_entry_is_scanned_again(tmp_path: Path) -> None:
    cache = FactCache(tmp_path, "salt")
    cache.put_many_encoded({"bad": b"\x00garbage", "good": encode_facts(FileFacts(lines=2))})
    assert cache.get_many(["bad", "good"]) == {"good": FileFacts(lines=2)}
    cache.close()


def _writer(folder: str, salt: str, start: int, count: int) -> None:
    cache = FactCache(Path(folder), salt)
    assert cache.problem is None, cache.problem
    for number in range(start, start + count, 25):
        cache.put_many({f"d{n}": FileFacts(lines=n) for n in range(number, number + 25)})
    cache.close()


def test_two_processes_can_write_one_cache_at_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_writer, args=(str(tmp_path), "shared", 0, 500)),
        context.Process(target=_writer, args=(str(tmp_path), "shared", 250, 500)),
        context.Process(target=_writer, args=(str(tmp_path), "other", 0, 300)),
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    assert [w.exitcode for w in writers] == [0, 0, 0]

    shared = FactCache(tmp_path, "shared")
    found = shared.get_many(f"d{n}" for n in range(800))
    assert found == {f"d{n}": FileFacts(lines=n) for n in range(750)}
    shared.close()
    other = FactCache(tmp_path, "other")
    assert other.get_many(f"d{n}" for n in range(800)) == {
        f"d{n}": FileFacts(lines=n) for n in range(300)
    }
    other.close()


# --- the cache in a run --------------------------------------------------------------------


def copy_sample(tmp_path: Path) -> Path:
    project = tmp_path / "shopwise"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns(".carveout_cache"))
    return project


def run_cli(project: Path, out: Path, *extra: str) -> int:
    return main(["analyze", str(project), "--out", str(out), "--quiet", *extra])


def test_a_warm_run_writes_the_same_analysis_as_a_cold_run(tmp_path: Path) -> None:
    project = copy_sample(tmp_path)
    cache = tmp_path / "cache"
    assert run_cli(project, tmp_path / "cold", "--cache-dir", str(cache)) == ExitCode.OK
    assert (cache / CACHE_FILE).is_file()
    assert run_cli(project, tmp_path / "warm", "--cache-dir", str(cache)) == ExitCode.OK
    assert run_cli(project, tmp_path / "none", "--no-cache") == ExitCode.OK
    cold = (tmp_path / "cold" / "analysis.json").read_bytes()
    assert (tmp_path / "warm" / "analysis.json").read_bytes() == cold
    assert (tmp_path / "none" / "analysis.json").read_bytes() == cold
    assert not (project / analyze_module.CACHE_FOLDER).exists()  # --no-cache, --cache-dir


def test_the_cache_answers_for_unchanged_files_only(tmp_path: Path) -> None:
    project = copy_sample(tmp_path)
    request = AnalyzeRequest(path=project, jobs=1)
    cold = analyze(request)
    assert cold.files_from_cache == 0 and cold.files_scanned > 10
    assert (project / analyze_module.CACHE_FOLDER / CACHE_FILE).is_file()  # the default place

    warm = analyze(request)
    assert (warm.files_from_cache, warm.files_scanned) == (cold.files_scanned, 0)
    assert warm.analysis == cold.analysis

    changed = project / "src" / "shopwise" / "orders" / "service.py"
    changed.write_text(changed.read_text() + "\nimport shopwise.billing\n")
    edited = analyze(request)
    assert (edited.files_from_cache, edited.files_scanned) == (cold.files_scanned - 1, 1)
    assert edited.analysis != cold.analysis


@pytest.mark.parametrize("change", ["version", "python", "catalogue", "fact settings"])
def test_the_cache_is_invalidated_by_what_changes_facts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    project = copy_sample(tmp_path)
    request = AnalyzeRequest(path=project, cache_dir=tmp_path / "cache", jobs=1)
    first = analyze(request)
    assert analyze(request).files_scanned == 0

    if change == "version":
        monkeypatch.setattr(analyze_module, "__version__", "999.0")
    elif change == "python":
        monkeypatch.setattr(sys, "version", sys.version + " (another build)")
    elif change == "catalogue":
        extra = tmp_path / "extra.toml"
        extra.write_text(
            '[[family]]\nname = "house-model"\npattern = "house-"\nprovider = "us"\n'
            'capabilities = ["chat"]\n'
        )
        request = AnalyzeRequest(
            path=project,
            cache_dir=tmp_path / "cache",
            jobs=1,
            overrides={"catalogue": str(extra)},
        )
    else:
        monkeypatch.setattr(Settings, "fact_key", property(lambda self: "another fact key"))
    assert analyze(request).files_scanned == first.files_scanned


def test_an_unwritable_cache_folder_is_a_warning_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_sample(tmp_path)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    code = main(
        ["analyze", str(project), "--out", str(tmp_path / "out"), "--cache-dir", str(blocked)]
    )
    assert code == ExitCode.OK
    assert (tmp_path / "out" / "analysis.json").is_file()
    assert "cache disabled" in capsys.readouterr().err
