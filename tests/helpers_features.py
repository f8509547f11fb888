"""Tiny project trees run through the feature and coupling stages, as the application does.

Builds on the graph helpers: a tree is a mapping of paths to file text under `tmp_path`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from carveout.adapters.catalogue import load_catalogue
from carveout.domain.catalogue import Catalogue
from carveout.domain.model import AiFeature, Capability, Coupling, ModuleLabel
from carveout.stages.couplings import find_couplings
from carveout.stages.features import detect_features
from helpers_graph import Run, analyse, write_tree

CATALOGUE: Catalogue = load_catalogue()


@dataclass(frozen=True)
class Found:
    """What the feature and coupling stages found for one tree."""

    run: Run
    features: tuple[AiFeature, ...]
    labels: tuple[ModuleLabel, ...]
    couplings: tuple[Coupling, ...]

    def feature(self, capability: Capability) -> AiFeature:
        found = [f for f in self.features if f.capability is capability]
        assert found, f"no {capability.value} feature; found {self.capabilities()}"
        return found[0]

    def capabilities(self) -> set[Capability]:
        return {f.capability for f in self.features}

    def direct(self) -> dict[str, set[Capability]]:
        return {lb.module: set(lb.capabilities) for lb in self.labels if lb.direct}

    def orchestration(self) -> dict[str, set[Capability]]:
        return {lb.module: set(lb.capabilities) for lb in self.labels if not lb.direct}

    def of_kind(self, kind: str) -> list[Coupling]:
        return [c for c in self.couplings if c.kind == kind]

    def pairs(self, kind: str) -> set[tuple[str, ...]]:
        return {c.modules for c in self.of_kind(kind)}


def run_tree(
    tmp_path: Path,
    files: dict[str, str],
    *,
    catalogue: Catalogue = CATALOGUE,
    ignored_kinds: frozenset[str] = frozenset(),
) -> Found:
    """Write the tree, then run discovery, scan, graph, features and couplings over it."""
    run = analyse(write_tree(tmp_path, files))
    features, labels = detect_features(run.index, run.graph.edges, catalogue)
    couplings = find_couplings(
        run.index,
        run.graph.edges,
        run.cycles,
        labels,
        ignored_kinds=ignored_kinds,
        catalogue=catalogue,
    )
    return Found(run, features, labels, couplings)
