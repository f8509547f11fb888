"""Collect every file's facts: from the cache when the content is known, else by scanning,
across processes when there are many files.

Each file ends as facts or as facts carrying a diagnostic; an error inside carveout's own
scan is recorded as an `internal-error` diagnostic and counted, never hidden. A file whose
scan kills its scanning process is found by rescanning alone, and becomes such a diagnostic.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

from carveout.adapters.fact_cache import FactCache, decode_facts, encode_facts
from carveout.application.collector import collection_paused
from carveout.application.lifetime import as_helper_process
from carveout.domain.facts import Diagnostic, FileFacts
from carveout.domain.model import ModuleKind, Project, SourceFile
from carveout.stages.regular_files import read_regular_file
from carveout.stages.scan import scan_source

log = logging.getLogger(__name__)

# below this many files to scan, a process pool costs more than it saves
POOL_THRESHOLD = 300
# files per task sent to a scanning process: small enough to balance the load, large
# enough that the round trips do not show
_CHUNK_FILES = 48
_TASKS_PER_WORKER = 8


@dataclass(frozen=True, slots=True)
class CollectedFacts:
    """Facts by module, with the tallies a run reports."""

    facts: dict[str, FileFacts]
    from_cache: int
    scanned: int
    diagnostics: tuple[Diagnostic, ...]


def collect_facts(
    project: Project,
    *,
    cache: FactCache | None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CollectedFacts:
    """Facts for every file of `project`, keyed by module name.

    The cache is asked by content digest (the file's bytes and kind); what it does not know
    is scanned and written back. `jobs` is the number of scanning processes (None: one per
    core; 1: in this process; a pool is used only from `POOL_THRESHOLD` files to scan).
    `progress(done, total)` is called as files are scanned (not for cached ones).
    Facts are the same whichever way they were obtained.
    """
    with collection_paused():
        return _collect(project, cache, jobs, progress)


def read_source(path: Path) -> bytes:
    """The bytes of a regular file. Anything else (a FIFO, a device, a socket, a folder)
    raises `OSError` without being read (see `read_regular_file`, which every reader of
    the user's files shares): a FIFO put in its place after discovery cannot hang the run,
    nor `/dev/zero` fill the memory."""
    return read_regular_file(path)


def scan_file(path: str, kind: str) -> FileFacts:
    """Read and scan one file; any error inside carveout becomes an internal-error fact."""
    try:
        data = read_source(Path(path))
    except OSError as error:
        return _unreadable(error)
    try:
        if kind == ModuleKind.NOTEBOOK.value:
            from carveout.stages.notebooks import notebook_source

            source, problems = notebook_source(data)
            facts = scan_source(source)
            if problems:
                facts = replace(facts, diagnostics=facts.diagnostics + tuple(problems))
            return facts
        return scan_source(data)
    except Exception as error:  # a bug in the scan must not stop the run
        message = f"internal error while scanning (please report): {type(error).__name__}: {error}"
        return FileFacts(
            lines=0,
            parsed=False,
            diagnostics=(Diagnostic("", 1, message, kind="internal-error"),),
        )


# --- private helpers --------------------------------------------------------------------


def _collect(
    project: Project,
    cache: FactCache | None,
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
) -> CollectedFacts:
    root = Path(project.root)

    # read and hash every file; unreadable ones become diagnostics at once
    digests: dict[str, str] = {}
    facts: dict[str, FileFacts] = {}
    for file in project.files:
        try:
            data = read_source(root / file.path)
        except OSError as error:
            facts[file.module] = _unreadable(error)
            continue
        digests[file.module] = _digest(data, file.kind)

    # the cache answers what it knows
    cached = cache.get_many(digests.values()) if cache is not None else {}
    to_scan: list[SourceFile] = []
    for file in project.files:
        digest = digests.get(file.module)
        if digest is None:
            continue
        known = cached.get(digest)
        if known is not None:
            facts[file.module] = known
        else:
            to_scan.append(file)

    # scan the rest, in parallel when it pays, and remember the new facts
    scanned, encoded = _scan_all(root, to_scan, jobs, progress, want_encoded=cache is not None)
    facts.update(scanned)
    if cache is not None:
        cache.put_many_encoded({digests[m]: data for m, data in encoded.items()})

    diagnostics = []
    by_module = {f.module: f for f in project.files}
    for module in sorted(facts):
        path = by_module[module].path
        for diagnostic in facts[module].diagnostics:
            diagnostics.append(replace(diagnostic, path=path))
    return CollectedFacts(
        facts=facts,
        from_cache=len(digests) - len(to_scan),
        scanned=len(to_scan),
        diagnostics=tuple(diagnostics),
    )


def _scan_all(
    root: Path,
    files: Sequence[SourceFile],
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
    *,
    want_encoded: bool,
) -> tuple[dict[str, FileFacts], dict[str, bytes]]:
    """Facts of `files` by module, and (when asked) their encoded form for the cache."""
    total = len(files)
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or total < POOL_THRESHOLD:
        return _scan_here(root, files, progress, want_encoded=want_encoded)
    return _scan_in_pool(root, files, min(workers, total), progress)


def _scan_here(
    root: Path,
    files: Sequence[SourceFile],
    progress: Callable[[int, int], None] | None,
    *,
    want_encoded: bool,
) -> tuple[dict[str, FileFacts], dict[str, bytes]]:
    total = len(files)
    results: dict[str, FileFacts] = {}
    encoded: dict[str, bytes] = {}
    for number, file in enumerate(files, start=1):
        facts = scan_file(str(root / file.path), file.kind.value)
        results[file.module] = facts
        if want_encoded:
            encoded[file.module] = encode_facts(facts)
        if progress is not None and (number % 50 == 0 or number == total):
            progress(number, total)
    return results, encoded


def _scan_in_pool(
    root: Path,
    files: Sequence[SourceFile],
    workers: int,
    progress: Callable[[int, int], None] | None,
) -> tuple[dict[str, FileFacts], dict[str, bytes]]:
    """Scan in `workers` processes. Tasks carry paths, not contents, and bring back the
    facts encoded as the cache stores them, which are written there unchanged. When a
    process dies (a native crash), the files of every unfinished task are rescanned one by
    one in fresh processes (`_scan_isolated`), never in this one."""
    total = len(files)
    size = max(1, min(_CHUNK_FILES, total // (workers * _TASKS_PER_WORKER) or 1))
    tasks = [
        [(str(root / f.path), f.kind.value) for f in files[start : start + size]]
        for start in range(0, total, size)
    ]
    results: dict[str, FileFacts] = {}
    encoded: dict[str, bytes] = {}
    unfinished: list[SourceFile] = []
    done = 0
    with ProcessPoolExecutor(max_workers=workers, initializer=as_helper_process) as pool:
        pending: dict[Future[list[bytes]], int] = {
            pool.submit(_scan_task, task): number for number, task in enumerate(tasks)
        }
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    start = pending.pop(future) * size
                    chunk = files[start : start + size]
                    if future.exception() is not None:
                        # its process died, which ends every unfinished task of the pool
                        unfinished.extend(chunk)
                        continue
                    for file, data in zip(chunk, future.result(), strict=True):
                        _keep(root, file, data, results, encoded)
                    done += len(chunk)
                if progress is not None:
                    progress(done, total)
        except BaseException:
            # stopped (Ctrl-C, SIGTERM): drop the tasks not started, leave at once
            pool.shutdown(wait=False, cancel_futures=True)
            raise

    # a process died: rescan what was left, each file alone, to find the one that kills
    if unfinished:
        log.info(
            "a scanning process died; rescanning %d file(s) one at a time", len(unfinished)
        )
        for file, data in _scan_isolated(root, sorted(unfinished, key=_by_path)):
            _keep(root, file, data, results, encoded)
            done += 1
            if progress is not None:
                progress(done, total)
    return results, encoded


def _scan_isolated(root: Path, files: Sequence[SourceFile]) -> Iterator[tuple[SourceFile, bytes]]:
    """Scan each file alone in a single-process pool and yield (file, encoded facts). A
    file whose process dies (or whose task fails) gets `internal-error` facts naming it,
    and the pool is replaced. One file and one pool at a time: a new process is never
    forked while another pool's threads run."""
    pool: ProcessPoolExecutor | None = None
    try:
        for file in files:
            if pool is None:
                pool = ProcessPoolExecutor(max_workers=1, initializer=as_helper_process)
            future = pool.submit(_scan_task, [(str(root / file.path), file.kind.value)])
            error = future.exception()
            if error is None:
                yield file, future.result()[0]
                continue
            pool.shutdown(wait=True, cancel_futures=True)
            pool = None
            yield file, encode_facts(_process_died(file.path, error))
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _keep(
    root: Path,
    file: SourceFile,
    data: bytes,
    results: dict[str, FileFacts],
    encoded: dict[str, bytes],
) -> None:
    """Record one file's facts as encoded by a scanning process."""
    facts = decode_facts(data)
    if facts is None:  # cannot happen unless the codec is broken
        facts = scan_file(str(root / file.path), file.kind.value)
        data = encode_facts(facts)
    results[file.module] = facts
    encoded[file.module] = data


def _by_path(file: SourceFile) -> str:
    return file.path


def _process_died(path: str, error: BaseException) -> FileFacts:
    """Facts of a file whose scanning process died (or failed) while reading it."""
    if isinstance(error, BrokenProcessPool):
        what = "its scanning process died (a crash in a native parser?)"
    else:
        what = f"its scanning process failed: {type(error).__name__}: {error}"
    message = f"internal error while scanning {path} (please report): {what}"
    diagnostic = Diagnostic("", 1, message, kind="internal-error")
    return FileFacts(lines=0, parsed=False, diagnostics=(diagnostic,))


def _scan_task(task: list[tuple[str, str]]) -> list[bytes]:
    """Run in a scanning process: scan each (path, kind) and encode the facts."""
    return [encode_facts(scan_file(path, kind)) for path, kind in task]


def _digest(data: bytes, kind: ModuleKind) -> str:
    hasher = hashlib.blake2b(data, digest_size=20)
    hasher.update(kind.value.encode())
    return hasher.hexdigest()


def _unreadable(error: OSError) -> FileFacts:
    diagnostic = Diagnostic("", 1, f"cannot read: {error.strerror or error}", kind="read-error")
    return FileFacts(lines=0, parsed=False, diagnostics=(diagnostic,))
