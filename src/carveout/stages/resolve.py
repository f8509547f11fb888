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
from operator import attrgetter

from carveout.domain.facts import FileFacts, Guard, ImportFact, Origin, Scope
from carveout.domain.model import ModuleKind, Project, SourceFile

_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(sys.builtin_module_names)
_MAX_ALIAS_HOPS = 12
# scopes whose bindings become attributes of the module object
_ATTRIBUTE_SCOPES = frozenset({Scope.MODULE, Scope.CONDITIONAL})
# enum members read once: `Scope.MODULE` is a slow class attribute lookup in a hot loop
_MODULE_SCOPE, _PACKAGE = Scope.MODULE, ModuleKind.PACKAGE
_IMPORT, _STAR = Origin.IMPORT, Origin.STAR
_OPTIONAL = Guard.IMPORT_ERROR
_LINE = attrgetter("line")


@dataclass(frozen=True, slots=True)
class ResolvedImport:
    """Where one import fact leads.

    `target` is the project module it reaches (None for third-party or unresolved);
    `qualified` the absolute dotted name it binds; `external` the third-party top-level
    package; `unresolved` says why a name that should be in the project was not found;
    `canonical` is false when the target was reached under a name other than its canonical
    one (a folder put on the path by generated code, `from api import b_pb2`), and
    `through` is then the package whose folder served as the path entry (`svc.gen`).
    """

    target: str | None
    qualified: str
    external: str | None = None
    unresolved: str | None = None
    canonical: bool = True
    through: str = ""


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
        self.scope: str | None = project.scope
        self._bindings: dict[str, dict[str, str]] = {}
        self._attributes: dict[str, dict[str, str]] = {}
        self._exports: dict[str, frozenset[str]] = {}
        # answers are pure functions of the project and its facts: each is computed once
        self._owners: dict[str, str | None] = {}
        self._resolved: dict[tuple[str | None, ...], ResolvedImport] = {}
        self._resolved_by_module: dict[str, tuple[ResolvedImport, ...]] = {}
        self._qualified: dict[tuple[str, str], str] = {}
        self._followed: dict[str, str] = {}

    # --- modules ---------------------------------------------------------------------

    def is_package(self, module: str) -> bool:
        file = self.files.get(module)
        return file is None or file.kind is _PACKAGE

    def owner_module(self, qualified: str) -> str | None:
        """The longest project module that prefixes a dotted name, or None."""
        if qualified in self._owners:
            return self._owners[qualified]
        owner = None
        candidate = qualified
        while candidate:
            if candidate in self.modules:
                owner = candidate
                break
            candidate = candidate.rpartition(".")[0]
        self._owners[qualified] = owner
        return owner

    @cached_property
    def single_top_level(self) -> str | None:
        tops = {m.split(".")[0] for m in self.files}
        return next(iter(tops)) if len(tops) == 1 else None

    def area(self, module: str) -> str:
        """The "package" coupling rules compare: the direct child package of a single
        top-level package (`shopwise.orders`), else the top-level package. Plain modules
        right under the top-level package (`httpx._client`, `shopwise.cli`) belong to the
        top-level package itself, so sibling modules of a flat library are one area. When
        only a sub-package was analysed (`Project.scope`), it stands for the top-level
        package: areas are its direct child packages (`shopwise.ai.text`)."""
        parts = module.split(".")
        depth = self.scope.count(".") + 1 if self.scope else 1
        if (self.scope or self.single_top_level is not None) and len(parts) > depth:
            child = ".".join(parts[: depth + 1])
            if len(parts) > depth + 1 or self.is_package(child):
                return child
        return ".".join(parts[:depth])

    def outside_scope(self, name: str) -> bool:
        """Whether a dotted name of the project's top package lies outside the analysed
        sub-package (`Project.scope`): code the analysis does not see. False without a
        scope."""
        scope = self.scope
        return scope is not None and name != scope and not name.startswith(scope + ".")

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

    def resolved_imports(self, module: str) -> tuple[ResolvedImport, ...]:
        """`resolve_import` of each import fact of `module`, in the facts' order (computed
        once: the graph, the coupling detectors and the surfaces all read them)."""
        found = self._resolved_by_module.get(module)
        if found is None:
            facts = self.facts.get(module)
            imports = facts.imports if facts is not None else ()
            found = tuple(self.resolve_import(module, fact) for fact in imports)
            self._resolved_by_module[module] = found
        return found

    def resolve_import(self, importer: str, fact: ImportFact) -> ResolvedImport:
        """Where the import `fact`, written in `importer`, leads.

        The name the statement imports is `M` for `import M` and `M.n` for
        `from M import n`. It reaches that module when there is one (for `from M import n`,
        only while `M` binds no other attribute `n` at module level: a bound attribute wins
        over the submodule); else `M` for `from M import n` and a star import; else, for
        `import M` alone, `M`'s direct parent package (`unresolved` says `M` is missing).
        Otherwise `target` is None, `unresolved` says why, and `qualified` is the missing
        name (its existing parents still run). A name outside the project's top-level
        packages that is no standard-library module is tried against the enclosing packages
        of `importer` (generated code that puts its own folder on the path) only when it
        names a submodule there; else it is `external`. When only a sub-package was
        analysed, a missing name of the top package outside it is `external` too (the top
        package's name): code outside the analysed folder, not a missing module.
        """
        base = fact.module if fact.level == 0 else self.absolute_base(importer, fact)
        # the answer depends on the importer only through `base`, except for a name that
        # may be found through a folder the importer's own code puts on the path: many
        # modules importing the same name share one answer
        top = base.partition(".")[0] if base is not None else ""
        if (
            fact.level == 0
            and top not in self.top_levels
            and top not in _STDLIB
            and f".{top}." in importer
        ):
            key: tuple[str | None, ...] = (base, fact.name, importer)
        else:
            key = (base, fact.name)
        resolved = self._resolved.get(key)
        if resolved is None:
            resolved = self._resolve_import(importer, base, fact.name, fact.level)
            self._resolved[key] = resolved
        return resolved

    def _resolve_import(
        self, importer: str, base: str | None, name: str | None, level: int
    ) -> ResolvedImport:
        if base is None:
            return ResolvedImport(
                None, "", unresolved="relative import climbs above the top-level package"
            )
        through = ""
        if level == 0 and base.split(".")[0] not in self.top_levels and not is_stdlib(base):
            rebased = self._through_inner_folder(importer, base, name)
            if rebased is not None:
                through = rebased[: len(rebased) - len(base) - 1]
                base = rebased
        top = base.split(".")[0]
        if top not in self.top_levels:
            qualified = base if name in (None, "*") else f"{base}.{name}"
            return ResolvedImport(None, qualified, external=top)

        if name is None:
            if base in self.modules:
                return ResolvedImport(base, base, canonical=not through, through=through)
            if self.outside_scope(base):
                return ResolvedImport(None, base, external=top)
            parent = base.rpartition(".")[0]
            missing = f"no module {base} in the project"
            if parent in self.modules:
                return ResolvedImport(parent, base, None, missing, not through, through)
            return ResolvedImport(None, base, None, missing, not through, through)

        candidate = base if name == "*" else f"{base}.{name}"
        submodule = name != "*" and candidate in self.modules
        if submodule and self.attributes(base).get(name) in (None, candidate):
            return ResolvedImport(candidate, candidate, canonical=not through, through=through)
        if base in self.modules:
            return ResolvedImport(base, candidate, canonical=not through, through=through)
        if self.outside_scope(base):
            return ResolvedImport(None, candidate, external=top)
        missing = f"no module {base} in the project"
        return ResolvedImport(None, candidate, None, missing, not through, through)

    def _through_inner_folder(self, importer: str, base: str, name: str | None) -> str | None:
        """`from api import b_pb2` in `svc/gen/api/a_pb2.py` works when generated code puts
        `svc/gen` on the path: the enclosing package `P` of `importer` such that `importer`
        lies inside `P.<first part of base>` (the code imports its own package under a
        shorter name) and `P.base.name` (or `P.base` for a dotted `import a.b`) is a module.
        Anything else, a bare `import api` included, stays external: a third-party package
        named like a folder of the project (`mcp` beside `components/mcp/`) is more likely."""
        head = base.split(".")[0]
        if f".{head}." not in importer:
            return None  # `importer` lies inside no package `P.<head>`
        parts = importer.split(".")[:-1]
        while parts:
            prefix = ".".join(parts)
            inner = f"{prefix}.{base}"
            inside = importer.startswith(f"{prefix}.{head}.")
            if inside and inner in self.modules:
                if name is not None and name != "*" and f"{inner}.{name}" in self.modules:
                    return inner
                if name is None and "." in base:
                    return inner
            parts.pop()
        return None

    # --- names -----------------------------------------------------------------------

    def bindings(self, module: str) -> dict[str, str]:
        """Names bound in `module` -> the absolute names they stand for.

        Imports bind what they import; definitions and assignments bind `module.name`; a
        star import binds the target's `__all__` (its public names when there is none).
        Function-level imports count too, below module-level ones of the same name, so
        that names used inside functions qualify.
        """
        cached = self._bindings.get(module)
        if cached is None:
            cached = self._bind(module, every_scope=True)
            self._bindings[module] = cached
        return cached

    def attributes(self, module: str) -> dict[str, str]:
        """Like `bindings`, but only the names that become attributes of the module object
        (module-level and conditional statements; not function or class bodies)."""
        cached = self._attributes.get(module)
        if cached is None:
            cached = self._bind(module, every_scope=False)
            self._attributes[module] = cached
        return cached

    def public_names(self, module: str) -> tuple[str, ...]:
        """The module's public surface: its literal `__all__`, else its attributes that do
        not start with an underscore (what `from module import *` binds)."""
        facts = self.facts.get(module)
        if facts is not None and facts.all_names is not None:
            return facts.all_names
        return tuple(sorted(n for n in self.attributes(module) if not n.startswith("_")))

    def qualify(self, module: str, chain: str) -> str:
        """The absolute dotted name of `chain` as written in `module`.

        Follows re-exports (`pkg/__init__.py: from .llm import client`) to where a name is
        defined. A root that is not bound at module level (a local variable) comes back
        unchanged.
        """
        key = (module, chain)
        answer = self._qualified.get(key)
        if answer is None:
            root, _, rest = chain.partition(".")
            qualified = self.bindings(module).get(root)
            if qualified is None:
                answer = chain
            else:
                answer = self.follow_reexports(f"{qualified}.{rest}" if rest else qualified)
            self._qualified[key] = answer
        return answer

    def follow_reexports(self, qualified: str) -> str:
        """Follow a name through the imports of the module that holds it, to its source
        (module-level imports only: a function's imports bind no attribute)."""
        answer = self._followed.get(qualified)
        if answer is None:
            answer = self._follow(qualified)
            self._followed[qualified] = answer
        return answer

    def _follow(self, qualified: str) -> str:
        for _ in range(_MAX_ALIAS_HOPS):
            owner = self.owner_module(qualified)
            if owner is None or owner == qualified:
                return qualified
            rest = qualified[len(owner) + 1 :]
            head, _, tail = rest.partition(".")
            facts = self.facts.get(owner)
            if facts is None:
                return qualified
            bound = self.attributes(owner).get(head)
            if bound is None or bound == f"{owner}.{head}":
                return qualified
            following = f"{bound}.{tail}" if tail else bound
            if following == qualified:
                return qualified
            qualified = following
        return qualified

    def _bind(self, module: str, *, every_scope: bool) -> dict[str, str]:
        bound: dict[str, str] = {}
        facts = self.facts.get(module)
        if facts is None:
            return bound
        imports = [
            f
            for f in facts.imports
            if (f.origin is _IMPORT or f.origin is _STAR)
            and (every_scope or f.scope in _ATTRIBUTE_SCOPES)
        ]
        # module-level imports last, each part in line order (so they win)
        later = [f for f in imports if f.scope is _MODULE_SCOPE]
        earlier = [f for f in imports if f.scope is not _MODULE_SCOPE]
        for fact in sorted(earlier, key=_LINE) + sorted(later, key=_LINE):
            base = self.absolute_base(module, fact)
            if base is None:
                continue
            if fact.name == "*":
                for name in sorted(self._star_exports(base)):
                    bound[name] = f"{base}.{name}"
            elif fact.name is not None and fact.bound is not None:
                bound[fact.bound] = f"{base}.{fact.name}"
            elif fact.bound is not None:
                top = fact.module.split(".")[0]
                bound[fact.bound] = top if fact.bound == top else base
        # an optional import's fallback (`except ImportError: OpenAI = None`, or a stub
        # class) does not hide what the name stands for when the package is installed
        optional = {f.bound for f in imports if f.guard is _OPTIONAL and f.bound is not None}
        for definition in facts.definitions:
            if definition.name not in optional:
                bound[definition.name] = f"{module}.{definition.name}"
        for variable in facts.globals:
            if variable.name not in optional:
                bound[variable.name] = f"{module}.{variable.name}"
        return bound

    def _star_exports(self, module: str) -> frozenset[str]:
        """The names `from module import *` binds: the literal `__all__`, else the public
        names the module binds itself plus, transitively, those its own star imports bring
        (a star-import cycle shares one set). Empty for a module outside the project."""
        cached = self._exports.get(module)
        if cached is not None:
            return cached
        names: set[str] = set()
        pending, seen = [module], {module}
        while pending:
            current = pending.pop()
            facts = self.facts.get(current)
            if facts is None:
                continue
            if facts.all_names is not None:
                names.update(facts.all_names)
                continue
            names.update(n for n in self._own_names(current) if not n.startswith("_"))
            for fact in facts.imports:
                if fact.origin is _STAR and fact.scope in _ATTRIBUTE_SCOPES:
                    base = self.absolute_base(current, fact)
                    if base is not None and base not in seen:
                        seen.add(base)
                        pending.append(base)
        exports = frozenset(names)
        self._exports[module] = exports
        return exports

    def _own_names(self, module: str) -> set[str]:
        """Attribute names a module binds by itself (star imports aside)."""
        facts = self.facts[module]
        names = {d.name for d in facts.definitions} | {g.name for g in facts.globals}
        names.update(
            f.bound
            for f in facts.imports
            if f.bound is not None and f.origin is _IMPORT and f.scope in _ATTRIBUTE_SCOPES
        )
        return names
