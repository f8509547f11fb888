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
        # (the surface skips the service's own modules among the importers)
        services.append(replace(service, surface=service_surface(set(service.modules), uses)))
    return replace(proposal, services=tuple(services))


def _resolved_uses(index: ProjectIndex) -> dict[str, list[tuple[str, str | None, int]]]:
    """For each module, (target module, name used or None, line) for every project name it
    imports; a whole-module import is narrowed to the names the module's calls reach."""
    uses: dict[str, list[tuple[str, str | None, int]]] = {}
    for module in sorted(index.facts):
        facts: FileFacts = index.facts[module]
        found: set[tuple[str, str | None, int]] = set()
        calls: list[tuple[str, int]] | None = None  # qualified once, when first needed
        for fact, resolved in zip(facts.imports, index.resolved_imports(module), strict=True):
            # (a str-valued enum member equals its value: no enum property lookup)
            if fact.name is None and fact.guard == "type_checking":
                continue
            target = resolved.target
            if target is None or target == module:
                continue
            if resolved.qualified != target and fact.name not in (None, "*"):
                found.add((target, resolved.qualified[len(target) + 1 :].split(".")[0], fact.line))
                continue
            if calls is None:
                calls = _project_calls(index, module, facts)
            prefix = target + "."
            reached = {
                (qualified[len(prefix) :].split(".")[0], line)
                for qualified, line in calls
                if qualified.startswith(prefix)
            }
            if reached:
                found.update((target, name, line) for name, line in reached)
            else:
                found.add((target, None, fact.line))
        uses[module] = sorted(found, key=lambda u: (u[0], u[1] or "", u[2]))
    return uses


def _project_calls(index: ProjectIndex, module: str, facts: FileFacts) -> list[tuple[str, int]]:
    """(qualified name, line) of the module's calls that may name a project module: a
    name bound to one outside the project qualifies outside it, whatever it re-exports."""
    bindings = index.bindings(module)
    calls = []
    for call in facts.calls:
        root = call.callee.partition(".")[0]
        bound = bindings.get(root)
        top = root if bound is None else bound.partition(".")[0]
        if top in index.top_levels:
            calls.append((index.qualify(module, call.callee), call.line))
    return calls


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
