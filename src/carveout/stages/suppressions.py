"""Suppression comments (`# carveout: ignore[kind]`) that name no coupling kind carveout
knows: a misspelt kind silently suppresses nothing, so each one becomes a diagnostic."""

from __future__ import annotations

from carveout.domain.facts import Diagnostic
from carveout.stages.couplings import KINDS
from carveout.stages.resolve import ProjectIndex

# Besides the coupling kinds, a suppression may name `all`.
EVERY_KIND = "all"


def unknown_suppressions(index: ProjectIndex) -> tuple[Diagnostic, ...]:
    """One `unknown-suppression` diagnostic per suppression comment that names a kind
    other than a coupling kind's id or `all` (or names none), at the comment's file and
    line, sorted by path and line. The comment's known kinds still apply."""
    known = {kind.id for kind in KINDS} | {EVERY_KIND}
    listed = ", ".join(sorted(known))
    found = []
    for module, facts in index.facts.items():
        file = index.files.get(module)
        path = file.path if file is not None else module
        for line, kinds in facts.suppressions:
            unknown = [kind for kind in kinds if kind not in known]
            if unknown:
                names = ", ".join(f"'{kind}'" for kind in unknown)
                message = f"suppression names no coupling kind: {names} (known: {listed})"
            elif not kinds:
                message = f"suppression names no coupling kind (known: {listed})"
            else:
                continue
            found.append(Diagnostic(path, line, message, kind="unknown-suppression"))
    return tuple(sorted(found, key=lambda d: (d.path, d.line, d.message)))
