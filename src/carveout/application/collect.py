"""Collect every file's facts: from the cache when the content is known, else by scanning,
across processes when there are many files.

Each file ends as facts or as facts carrying a diagnostic; an error inside carveout's own
scan is recorded as an `internal-error` diagnostic and counted, never hidden.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from carveout.adapters.fact_cache import FactCache
from carveout.domain.facts import Diagnostic, FileFacts
from carveout.domain.model import ModuleKind, Project, SourceFile
from carveout.stages.scan import scan_source

log = logging.getLogger(__name__)

# below this many files to scan, a process pool costs more than it saves
_POOL_THRESHOLD = 300
_CHUNK = 64


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

    `jobs` is the number of scanning processes (None: one per core; 1: in this process).
    `progress(done, total)` is called as files are scanned.
    """
    root = Path(project.root)

    # read and hash every file; unreadable ones become diagnostics at once
    digests: dict[str, str] = {}
    facts: dict[str, FileFacts] = {}
    for file in project.files:
        try:
            data = (root / file.path).read_bytes()
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
        if digest in cached:
            facts[file.module] = cached[digest]
        else:
            to_scan.append(file)

    # scan the rest, in parallel when it pays
    scanned = _scan_all(root, to_scan, jobs, progress)
    facts.update(scanned)
    if cache is not None:
        cache.put_many({digests[m]: f for m, f in scanned.items() if m in digests})

    diagnostics = []
    by_module = {f.module: f for f in project.files}
    for module in sorted(facts):
        path = by_module[module].path
        for diagnostic in facts[module].diagnostics:
            diagnostics.append(replace(diagnostic, path=path))
    return CollectedFacts(
        facts=facts,
        from_cache=len(project.files) - len(to_scan) - (len(project.files) - len(digests)),
        scanned=len(to_scan),
        diagnostics=tuple(diagnostics),
    )


def scan_file(path: str, kind: str) -> FileFacts:
    """Read and scan one file; any error inside carveout becomes an internal-error fact."""
    try:
        data = Path(path).read_bytes()
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
    except Exception as error:
        message = f"internal error while scanning (please report): {type(error).__name__}: {error}"
        return FileFacts(
            lines=0, parsed=False,
            diagnostics=(Diagnostic("", 1, message, kind="internal-error"),),
        )


def _scan_all(
    root: Path,
    files: Sequence[SourceFile],
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
) -> dict[str, FileFacts]:
    total = len(files)
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    paths = [str(root / f.path) for f in files]
    kinds = [f.kind.value for f in files]
    results: dict[str, FileFacts] = {}
    if workers <= 1 or total < _POOL_THRESHOLD:
        for number, (file, path, kind) in enumerate(zip(files, paths, kinds), start=1):
            results[file.module] = scan_file(path, kind)
            if progress is not None and (number % 50 == 0 or number == total):
                progress(number, total)
        return results
    with ProcessPoolExecutor(max_workers=workers) as pool:
        mapped = pool.map(scan_file, paths, kinds, chunksize=_CHUNK)
        for number, (file, facts) in enumerate(zip(files, mapped), start=1):
            results[file.module] = facts
            if progress is not None and (number % 200 == 0 or number == total):
                progress(number, total)
    return results


def _digest(data: bytes, kind: ModuleKind) -> str:
    hasher = hashlib.blake2b(data, digest_size=20)
    hasher.update(kind.value.encode())
    return hasher.hexdigest()


def _unreadable(error: OSError) -> FileFacts:
    diagnostic = Diagnostic("", 1, f"cannot read: {error.strerror or error}", kind="read-error")
    return FileFacts(lines=0, parsed=False, diagnostics=(diagnostic,))
