"""Resolve names written in one module to absolute dotted names of the project.

Facts keep names as written; this index answers "which module does this import reach?" and
"what is `cl.complete` in this module?" so that detectors match on qualified names, never on
spelling.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from carveout.domain.facts import FileFacts, ImportFact
from carveout.domain.model import ModuleKind, Project, SourceFile

_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(
    sys.builtin_module_names
)
_MAX_ALIAS_HOPS = 12


@dataclass(frozen=True, slots=True)
class ResolvedImport:
    """Where one import fact leads.

    `target` is the project module it reaches (None for third-party or unresolved);
    `qualified` the absolute dotted name it binds; `external` the third-party top-level
    package; `unresolved` says why a name that should be in the project was not found;
    `canonical` is false when the target was reached under a name other than its canonical
    one (a folder put on the path by generated code, `from api import b_pb2`).
    """

    target: str | None
    qualified: str
    external: str | None = None
    unresolved: str | None = None
    canonical: bool = True


def is_stdlib(name: str) -> bool:
    return name.split(".")[0] in _STDLIB


class ProjectIndex:
    """The project's modules with their facts, and name resolution over them."""

    def __init__(self, project: Project, facts: Mapping[str, FileFacts]) -> None:
        self.project = project
        self.files: dict[str, SourceFile] = {f.module: f for f in project.files}
        self.facts: Mapping[str, FileFacts] = facts
        self.modules: frozenset[str] = frozenset(self.files) | frozenset(
            project.namespace_packages
        )
        self.top_levels: frozenset[str] = frozenset(m.split(".")[0] for m in self.modules)
        self._bindings: dict[str, dict[str, str]] = {}

    # --- modules ---------------------------------------------------------------------

    def is_package(self, module: str) -> bool:
        file = self.files.get(module)
        return file is None or file.kind is ModuleKind.PACKAGE

    def owner_module(self, qualified: str) -> str | None:
        """The longest project module that prefixes a dotted name, or None."""
        parts = qualified.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in self.modules:
                return candidate
        return None

    @cached_property
    def single_top_level(self) -> str | None:
        tops = {m.split(".")[0] for m in self.files}
        return next(iter(tops)) if len(tops) == 1 else None

    def area(self, module: str) -> str:
        """The "package" coupling rules compare: the direct child of a single top-level
        package (`shopwise.orders`), else the top-level package."""
        parts = module.split(".")
        if self.single_top_level is not None and len(parts) > 1:
            return ".".join(parts[:2])
        return parts[0]

    # --- imports ---------------------------------------------------------------------

    def absolute_base(self, importer: str, fact: ImportFact) -> str | None:
        """The absolute module an import statement names (its `from` part), or None when a
        relative import climbs above the top-level package."""
        if fact.level == 0:
            return fact.module
        package = importer if self.is_package(importer) else importer.rpartition(".")[0]
        parts = package.split(".") if package else []
        if fact.level - 1 > len(parts) - 1 or not parts:
            return None
        if fact.level > 1:
            parts = parts[: len(parts) - (fact.level - 1)]
        base = ".".join(parts)
        return f"{base}.{fact.module}" if fact.module else base

    def resolve_import(self, importer: str, fact: ImportFact) -> ResolvedImport:
        base = self.absolute_base(importer, fact)
        if base is None:
            return ResolvedImport(
                None, fact.module, unresolved="relative import climbs above the top-level package"
            )
        canonical = True
        if fact.level == 0 and base.split(".")[0] not in self.top_levels and not is_stdlib(base):
            rebased = self._through_inner_folder(importer, base)
            if rebased is not None:
                base, canonical = rebased, False

        if fact.name is None or fact.name == "*":
            return self._resolve_module(base, canonical)
        candidate = f"{base}.{fact.name}"
        bound_in_base = self.bindings(base).get(fact.name)
        if candidate in self.modules and bound_in_base in (None, candidate):
            return ResolvedImport(candidate, candidate, canonical=canonical)
        resolved = self._resolve_module(base, canonical)
        return ResolvedImport(
            resolved.target, candidate, resolved.external, resolved.unresolved, canonical
        )

    def _resolve_module(self, name: str, canonical: bool) -> ResolvedImport:
        top = name.split(".")[0]
        if top not in self.top_levels:
            return ResolvedImport(None, name, external=top, canonical=canonical)
        owner = self.owner_module(name)
        if owner == name:
            return ResolvedImport(owner, name, canonical=canonical)
        return ResolvedImport(
            owner, name, unresolved=f"no module {name} in the project", canonical=canonical
        )

    def _through_inner_folder(self, importer: str, base: str) -> str | None:
        """`from api import b_pb2` in `svc/gen/api/a_pb2.py` works when generated code puts
        `svc/gen` on the path: find the nearest enclosing package holding `base`."""
        parts = importer.split(".")[:-1]
        while parts:
            candidate = ".".join([*parts, base])
            if candidate in self.modules:
                return candidate
            parts.pop()
        return None

    # --- names -----------------------------------------------------------------------

    def bindings(self, module: str) -> dict[str, str]:
        """Names bound at module level in `module` -> the absolute names they stand for.

        Imports bind what they import; definitions and assignments bind `module.name`.
        Function-level imports count too, below module-level ones of the same name.
        """
        cached = self._bindings.get(module)
        if cached is not None:
            return cached
        facts = self.facts.get(module)
        bound: dict[str, str] = {}
        self._bindings[module] = bound  # filled in place: import cycles see a partial map
        if facts is not None:
            ordered = sorted(facts.imports, key=lambda f: (f.scope.value == "module", f.line))
            for fact in ordered:
                if fact.bound is None:
                    continue
                resolved = self.resolve_import(module, fact) if fact.level else None
                if fact.name is None:
                    if fact.bound == fact.module.split(".")[0] and fact.level == 0:
                        bound[fact.bound] = fact.bound
                    else:
                        bound[fact.bound] = resolved.qualified if resolved else fact.module
                else:
                    qualified = resolved.qualified if resolved else f"{fact.module}.{fact.name}"
                    bound[fact.bound] = qualified
            for definition in facts.definitions:
                bound[definition.name] = f"{module}.{definition.name}"
            for variable in facts.globals:
                bound[variable.name] = f"{module}.{variable.name}"
        return bound

    def qualify(self, module: str, chain: str) -> str:
        """The absolute dotted name of `chain` as written in `module`.

        Follows re-exports (`pkg/__init__.py: from .llm import client`) to where a name is
        defined. A root that is not bound at module level (a local variable) comes back
        unchanged.
        """
        root, _, rest = chain.partition(".")
        qualified = self.bindings(module).get(root)
        if qualified is None:
            return chain
        name = f"{qualified}.{rest}" if rest else qualified
        return self.follow_reexports(name)

    def follow_reexports(self, qualified: str) -> str:
        """Follow a name through the imports of the module that holds it, to its source."""
        for _ in range(_MAX_ALIAS_HOPS):
            owner = self.owner_module(qualified)
            if owner is None or owner == qualified:
                return qualified
            rest = qualified[len(owner) + 1 :]
            head, _, tail = rest.partition(".")
            facts = self.facts.get(owner)
            if facts is None:
                return qualified
            bound = self.bindings(owner).get(head)
            if bound is None or bound == f"{owner}.{head}":
                return qualified
            following = f"{bound}.{tail}" if tail else bound
            if following == qualified:
                return qualified
            qualified = following
        return qualified
