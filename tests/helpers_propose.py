"""Small hand-built module graphs for the boundary-proposal tests."""

from __future__ import annotations

from collections.abc import Iterable

from carveout.domain.facts import Guard
from carveout.domain.model import Capability, Edge, Module, ModuleKind, ModuleLabel


def modules(*names: str) -> tuple[Module, ...]:
    """Plain modules named `names`, each in its own file."""
    return tuple(
        Module(name=name, path=name.replace(".", "/") + ".py", kind=ModuleKind.MODULE, lines=10)
        for name in names
    )


def imports(*pairs: tuple[str, str, int], guard: Guard = Guard.NONE) -> tuple[Edge, ...]:
    """`count` import statements from `source` to `target` for each (source, target, count),
    on distinct lines as a real file would have them."""
    return tuple(
        Edge(source=source, target=target, line=line, guard=guard)
        for source, target, count in pairs
        for line in range(1, count + 1)
    )


def direct(module: str, *capabilities: Capability) -> ModuleLabel:
    return ModuleLabel(module=module, capabilities=capabilities, direct=True)


def orchestrating(module: str, *capabilities: Capability) -> ModuleLabel:
    return ModuleLabel(module=module, capabilities=capabilities, direct=False)


def parts_of(placements: Iterable) -> dict[str, str]:
    return {placement.module: placement.part for placement in placements}


def reason_of(proposal, module: str) -> str:
    return next(p.reason for p in proposal.placements if p.module == module)


def metric(proposal_or_metrics, name: str) -> float:
    metrics = getattr(proposal_or_metrics, "metrics", proposal_or_metrics)
    return next(m.value for m in metrics if m.name == name)
