"""What a service offers and owns: the names outside code uses from it (its surface), and
the AI SDK packages its modules import (which only it should import after extraction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from carveout.domain.catalogue import Catalogue
from carveout.domain.facts import FileFacts, Guard
from carveout.domain.model import Edge, Proposal
from carveout.stages.propose import service_surface
from carveout.stages.resolve import ProjectIndex


def with_surfaces(proposal: Proposal, index: ProjectIndex) -> Proposal:
    """Fill each service's surface: the names modules outside it use from it."""
    uses = _resolved_uses(index)
    services = []
    for service in proposal.services:
        members = set(service.modules)
        outside = {m: u for m, u in uses.items() if m not in members}
        services.append(replace(service, surface=service_surface(members, outside)))
    return replace(proposal, services=tuple(services))


def _resolved_uses(index: ProjectIndex) -> dict[str, list[tuple[str, str | None, int]]]:
    """For each module, (target module, name used or None, line) for every project name it
    imports; a whole-module import is narrowed to the names the module's calls reach."""
    uses: dict[str, list[tuple[str, str | None, int]]] = {}
    for module in sorted(index.facts):
        facts: FileFacts = index.facts[module]
        found: set[tuple[str, str | None, int]] = set()
        for fact in facts.imports:
            if fact.guard.value == "type_checking" and fact.name is None:
                continue
            resolved = index.resolve_import(module, fact)
            target = resolved.target
            if target is None or target == module:
                continue
            if resolved.qualified != target and fact.name not in (None, "*"):
                found.add((target, resolved.qualified[len(target) + 1 :].split(".")[0], fact.line))
                continue
            reached = _names_reached(index, module, facts, target)
            if reached:
                found.update((target, name, line) for name, line in reached)
            else:
                found.add((target, None, fact.line))
        uses[module] = sorted(found, key=lambda u: (u[0], u[1] or "", u[2]))
    return uses


def _names_reached(
    index: ProjectIndex, module: str, facts: FileFacts, target: str
) -> set[tuple[str, int]]:
    prefix = target + "."
    reached = set()
    for call in facts.calls:
        qualified = index.qualify(module, call.callee)
        if qualified.startswith(prefix):
            reached.add((qualified[len(prefix) :].split(".")[0], call.line))
    return reached


def service_sdk_packages(
    proposal: Proposal, edges: Sequence[Edge], catalogue: Catalogue
) -> dict[str, tuple[str, ...]]:
    """The AI SDK packages (top-level names) each service's modules import: only the
    services may import them, so the rules protect them."""
    sdk_tops = {module.split(".")[0] for sdk in catalogue.sdks for module in sdk.modules}
    owned: dict[str, tuple[str, ...]] = {}
    for service in proposal.services:
        members = set(service.modules)
        packages = {
            edge.target
            for edge in edges
            if edge.external
            and edge.source in members
            and edge.target in sdk_tops
            and edge.guard is not Guard.TYPE_CHECKING
        }
        if packages:
            owned[service.name] = tuple(sorted(packages))
    return owned
