"""Tiny project trees for the import-graph tests, and the pipeline that reads them.

A tree is a mapping of POSIX paths to file text; `analyse` runs discovery, the scan, the
index and the graph over it exactly as the application does (notebooks included).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace
from pathlib import Path

from carveout.domain.facts import FileFacts, Origin
from carveout.domain.model import Cycle, Edge, ModuleKind, Project
from carveout.domain.settings import Settings
from carveout.stages.discover import discover
from carveout.stages.graph import ModuleGraph, build_graph, find_cycles
from carveout.stages.notebooks import notebook_source
from carveout.stages.resolve import ProjectIndex
from carveout.stages.scan import scan_source


@dataclass(frozen=True)
class Run:
    """Everything the graph stages computed for one tree."""

    project: Project
    facts: dict[str, FileFacts]
    index: ProjectIndex
    graph: ModuleGraph
    cycles: tuple[Cycle, ...]

    def edges(self, source: str, target: str) -> list[Edge]:
        return [e for e in self.graph.edges if e.source == source and e.target == target]

    def edge(self, source: str, target: str, origin: Origin = Origin.IMPORT) -> Edge:
        """The one edge of `origin` from `source` to `target` (fails when absent)."""
        found = [e for e in self.edges(source, target) if e.origin is origin]
        assert found, f"no {origin.value} edge {source} -> {target}; edges: {self.pairs()}"
        assert len(found) == 1, found
        return found[0]

    def pairs(self, *origins: Origin) -> set[tuple[str, str]]:
        """(source, target) of the project edges, of the given origins (all when none)."""
        return {
            (e.source, e.target)
            for e in self.graph.edges
            if not e.external and (not origins or e.origin in origins)
        }

    def diagnostics(self, kind: str) -> list:
        every = (
            list(self.project.diagnostics)
            + list(self.graph.diagnostics)
            + [d for f in self.facts.values() for d in f.diagnostics]
        )
        return [d for d in every if d.kind == kind]


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write `files` (path -> text, dedented; bytes as they are) under `root`."""
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(textwrap.dedent(content), encoding="utf-8")
    return root


def analyse(root: Path, settings: Settings | None = None, order: list[str] | None = None) -> Run:
    """Run discover -> scan -> index -> graph -> cycles over the tree at `root`.

    `order` scans (and hands the index) the modules in that order, to show an answer does
    not depend on which file is read first.
    """
    project = discover(root, settings or Settings(include_tests=True))
    files = {f.module: f for f in project.files}
    facts: dict[str, FileFacts] = {}
    for module in order or sorted(files):
        file = files[module]
        data = (Path(project.root) / file.path).read_bytes()
        if file.kind is ModuleKind.NOTEBOOK:
            data, problems = notebook_source(data)
            scanned = scan_source(data)
            facts[module] = replace(scanned, diagnostics=scanned.diagnostics + tuple(problems))
        else:
            facts[module] = scan_source(data)
    index = ProjectIndex(project, facts)
    graph = build_graph(index)
    return Run(project, facts, index, graph, find_cycles(graph.edges))
