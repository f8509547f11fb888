"""Generate, per service, a facade, a versioned contract and a caller-side contract test.

Everything is read from source text with libcst; the analysed code is never imported or run.
The facade exposes exactly the service's surface; the contract describes it as JSON (with
JSON Schemas where annotations allow); the generated test holds both to it.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import dataclasses
import json
import keyword
import logging
import re
import textwrap
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.helpers import get_full_name_for_node

from carveout.domain.errors import InternalError
from carveout.domain.model import GeneratedFile, Service

logger = logging.getLogger(__name__)

CONTRACT_FORMAT = "carveout.contract/1"
FIRST_VERSION = "1.0.0"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_BREAKING = "breaking"
_ADDITIVE = "additive"


def generate_contracts(
    services: Sequence[Service],
    sources: Mapping[str, str],
    *,
    project_modules: frozenset[str],
    previous: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> tuple[GeneratedFile, ...]:
    """Write a facade, a versioned contract and test_contract.py for every service.

    `previous` maps a service name to the contract documents published before (read from
    the output folder). The new contract takes the next version after the latest of them
    (`diff_contracts`, `next_version`): unchanged keeps it, additive changes bump the
    minor, a breaking change starts a new major version in its own `contract.v<N>.json`,
    and every older major file is kept beside it, marked deprecated with the changes that
    broke it. Without `previous` the contract is `contract.v1.json`, version 1.0.0.

    `sources` maps a module name to its source text; `project_modules` names every module
    of the project (it tells packages from modules and project names from third-party
    ones). Paths are relative to the output folder: `contracts/<service>/...`. A surface
    name whose source is missing or unreadable is still re-exported and listed, with a
    note saying what could not be read. Every Python file is re-parsed with libcst and
    `ast`, and every JSON file with `json`, before it is returned; the output is sorted
    and byte-identical across runs. Raises `InternalError` if a generated file does not
    parse (a carveout bug).
    """
    index = _SourceIndex(sources, project_modules)
    files: list[GeneratedFile] = []
    for service in sorted(services, key=lambda s: s.name):
        folder = f"contracts/{_path_part(service.name)}"
        operations = _operations(service, index)
        contract = _contract_document(service, operations, index)
        published = (previous or {}).get(service.name, ())
        contract, kept = _versioned(contract, published)
        current = _contract_file(contract["version"])
        facade = _FacadeBuilder(service, operations, index, contract["version"]).build()
        files.append(GeneratedFile(f"{folder}/facade.py", facade))
        files.append(GeneratedFile(f"{folder}/{current}", _json_text(contract)))
        for document in kept:
            files.append(
                GeneratedFile(
                    f"{folder}/{_contract_file(document['version'])}", _json_text(document)
                )
            )
        files.append(
            GeneratedFile(f"{folder}/test_contract.py", _contract_test_source(service, current))
        )
    for generated in files:
        _prove(generated)
    return tuple(files)


def schema_for_annotation(
    annotation: str,
    *,
    module: str,
    sources: Mapping[str, str],
    project_modules: frozenset[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON Schema of an annotation written in `module`, and the `$defs` it refers to.

    Names are resolved through the module's own imports. Project dataclasses, pydantic
    models, TypedDicts and enums become `{"$ref": "#/$defs/<module.Class>"}` entries; an
    annotation the mapping cannot express gives `{"description": "not expressible: ..."}`.
    """
    index = _SourceIndex(sources, project_modules)
    parsed = index.parsed(module) or _ParsedModule.empty(module, index.is_package(module))
    builder = _SchemaBuilder(index)
    schema = builder.of_text(parsed, annotation)
    return schema, dict(sorted(builder.defs.items()))


def diff_contracts(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Classify every change between two contract documents as breaking or additive.

    Each line reads "breaking: <what>" or "additive: <what>"; breaking lines come first,
    each group in operation order. Breaking: a removed operation or a changed kind, a
    removed or renamed parameter, a new required parameter, a parameter that moved,
    changed kind or lost its default, a narrowed parameter type or widened result type,
    a removed or newly required field of a `$defs` type. Additive: a new operation, a new
    optional parameter, a widened parameter type, a new optional field, a new error.
    """
    changes: list[tuple[str, str]] = []
    old_ops = {op["name"]: op for op in old.get("operations", [])}
    new_ops = {op["name"]: op for op in new.get("operations", [])}
    for name in sorted(old_ops.keys() | new_ops.keys()):
        if name not in new_ops:
            changes.append((_BREAKING, f"removed operation {name}"))
        elif name not in old_ops:
            changes.append((_ADDITIVE, f"new operation {name}"))
        else:
            changes.extend(_diff_operation(old_ops[name], new_ops[name]))
    changes.extend(_diff_defs(old.get("$defs", {}), new.get("$defs", {})))
    ordered = [c for c in changes if c[0] == _BREAKING] + [c for c in changes if c[0] != _BREAKING]
    return [f"{category}: {what}" for category, what in ordered]


def next_version(version: str, changes: Sequence[str]) -> str:
    """The contract version after `changes` (from `diff_contracts`): major for any breaking
    change, minor for additive ones only, unchanged when there are none."""
    major, minor, patch = (int(part) for part in version.split("."))
    if any(change.startswith(f"{_BREAKING}:") for change in changes):
        return f"{major + 1}.0.0"
    if changes:
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch}"


def _contract_file(version: str) -> str:
    """`contract.v<major>.json`: one file per major version."""
    return f"contract.v{version.split('.')[0]}.json"


def _versioned(
    contract: dict[str, Any], published: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The new contract with its version set, and the older major versions to keep.

    The latest published document is the baseline; a document from an earlier major
    version is kept as published, and the baseline is marked deprecated when the new
    contract breaks it.
    """
    documents = [dict(d) for d in published if _version_key(d) is not None]
    if not documents:
        return contract, []
    documents.sort(key=lambda d: _version_key(d) or (0, 0, 0))
    latest = documents[-1]
    comparable = {k: v for k, v in latest.items() if k not in _VERSION_NOTES}
    changes = diff_contracts(comparable, contract)
    version = next_version(str(latest["version"]), changes)
    contract = {**contract, "version": version}
    if changes:
        contract["changes_since"] = {"version": latest["version"], "changes": changes}
    elif "changes_since" in latest:
        contract["changes_since"] = latest["changes_since"]

    major = version.split(".")[0]
    kept = []
    for document in documents:
        if str(document["version"]).split(".")[0] == major:
            continue  # replaced by the new contract of the same major version
        if document is latest and "deprecated" not in document:
            document["deprecated"] = {
                "superseded_by": _contract_file(version),
                "breaking_changes": [c for c in changes if c.startswith(f"{_BREAKING}:")],
                "migration": "callers move to the new contract's operations, then this "
                "file is deleted",
            }
        kept.append(document)
    return contract, kept


_VERSION_NOTES = frozenset({"version", "changes_since", "deprecated"})


def _version_key(document: Mapping[str, Any]) -> tuple[int, int, int] | None:
    version = document.get("version")
    if not isinstance(version, str):
        return None
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return (int(parts[0]), int(parts[1]), int(parts[2]))


# --- reading the analysed source --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Binding:
    """A name bound at module level, by a definition or an import.

    kind: "function", "class", "value" (assignment), "import" (`from target import
    imported`), "module" (`import target`, `aliased` when written with `as`).
    """

    kind: str
    name: str
    node: cst.CSTNode | None = None
    target: str = ""
    imported: str | None = None
    aliased: bool = False
    type_checking: bool = False


@dataclass(slots=True)
class _ParsedModule:
    name: str
    tree: cst.Module
    is_package: bool
    bindings: dict[str, _Binding] = field(default_factory=dict)
    stars: list[str] = field(default_factory=list)

    @classmethod
    def empty(cls, name: str, is_package: bool) -> _ParsedModule:
        return cls(name, cst.parse_module(""), is_package)

    def code(self, node: cst.CSTNode) -> str:
        return self.tree.code_for_node(node).strip()


@dataclass(frozen=True, slots=True)
class _Symbol:
    """Where a name leads: a definition, a module, or a name outside the project."""

    kind: str  # "function", "class", "value", "module", "external"
    module: str  # defining module (for "module": the module itself)
    name: str  # the defined name ("" for "module")
    node: cst.CSTNode | None = None

    @property
    def identity(self) -> tuple[str, str]:
        return (self.module, self.name)

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}" if self.name else self.module


class _SourceIndex:
    """Parsed project modules (lazily) and name resolution across them."""

    def __init__(self, sources: Mapping[str, str], project_modules: frozenset[str]) -> None:
        self.sources = sources
        self.project_modules = project_modules | frozenset(sources)
        self.problems: dict[str, str] = {}
        self._parsed: dict[str, _ParsedModule | None] = {}
        self._bodies: dict[int, _BodyFacts] = {}  # by id of a function node kept in a tree
        self._packages = {m.rpartition(".")[0] for m in self.project_modules if "." in m}

    def is_package(self, module: str) -> bool:
        return module in self._packages

    def parsed(self, module: str) -> _ParsedModule | None:
        if module not in self._parsed:
            self._parsed[module] = self._parse(module)
        return self._parsed[module]

    def body(self, function: cst.FunctionDef) -> _BodyFacts:
        """Whether a function yields and what it raises (one walk, remembered)."""
        if id(function) not in self._bodies:
            self._bodies[id(function)] = _body_facts(function)
        return self._bodies[id(function)]

    def lookup(self, module: str, name: str, depth: int = 0) -> _Symbol | None:
        """Follow `module.name` through re-exports to its definition; None if unknown."""
        submodule = f"{module}.{name}"
        parsed = self.parsed(module)
        binding = parsed.bindings.get(name) if parsed else None
        if binding is None:
            if submodule in self.project_modules:
                return _Symbol("module", submodule, "")
            return None
        if binding.kind in ("function", "class", "value"):
            return _Symbol(binding.kind, module, name, binding.node)
        if binding.kind == "module":
            target = binding.target if binding.aliased else binding.target.split(".")[0]
            return _Symbol("module", target, "")
        imported = binding.imported or ""
        if f"{binding.target}.{imported}" in self.project_modules:
            inner = self.parsed(binding.target)
            if inner is None or imported not in inner.bindings:
                return _Symbol("module", f"{binding.target}.{imported}", "")
        if binding.target in self.project_modules and depth < 16:
            found = self.lookup(binding.target, imported, depth + 1)
            if found is not None:
                return found
        return _Symbol("external", binding.target, imported)

    def resolve(self, parsed: _ParsedModule, dotted: str) -> _Symbol | None:
        """The symbol a dotted name written in `parsed` leads to, if it is in the project."""
        root, *rest = dotted.split(".")
        symbol = self.lookup(parsed.name, root) if root in parsed.bindings else None
        for part in rest:
            if symbol is None or symbol.kind != "module":
                return None
            symbol = self.lookup(symbol.module, part)
        return symbol

    def qualify(self, parsed: _ParsedModule, dotted: str) -> str | None:
        """The absolute dotted name a name written in `parsed` stands for, or None."""
        root, _, rest = dotted.partition(".")
        binding = parsed.bindings.get(root)
        if binding is None:
            if root in _BUILTIN_NAMES:
                return f"builtins.{dotted}"
            return None
        if binding.kind == "module":
            base = binding.target if binding.aliased else root
        elif binding.kind == "import":
            base = f"{binding.target}.{binding.imported}"
        else:
            base = f"{parsed.name}.{root}"
        qualified = f"{base}.{rest}" if rest else base
        if qualified.startswith("typing_extensions."):
            qualified = "typing." + qualified.removeprefix("typing_extensions.")
        return qualified

    def _parse(self, module: str) -> _ParsedModule | None:
        text = self.sources.get(module)
        if text is None:
            return None
        try:
            tree = cst.parse_module(text)
        except cst.ParserSyntaxError as error:
            self.problems[module] = f"{module} could not be parsed: {error.message}"
            logger.debug("cannot parse %s: %s", module, error)
            return None
        parsed = _ParsedModule(module, tree, self.is_package(module))
        for statement, type_checking in _module_statements(tree.body, False):
            self._bind(parsed, statement, type_checking)
        return parsed

    def _bind(self, parsed: _ParsedModule, statement: cst.CSTNode, type_checking: bool) -> None:
        bindings = parsed.bindings
        if isinstance(statement, cst.FunctionDef):
            bindings[statement.name.value] = _Binding("function", statement.name.value, statement)
        elif isinstance(statement, cst.ClassDef):
            bindings[statement.name.value] = _Binding("class", statement.name.value, statement)
        elif isinstance(statement, cst.Assign):
            for target in statement.targets:
                if isinstance(target.target, cst.Name):
                    name = target.target.value
                    bindings[name] = _Binding("value", name, statement)
        elif isinstance(statement, cst.AnnAssign) and isinstance(statement.target, cst.Name):
            name = statement.target.value
            bindings[name] = _Binding("value", name, statement)
        elif isinstance(statement, cst.Import):
            for alias in statement.names:
                module = get_full_name_for_node(alias.name) or ""
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    name = alias.asname.name.value
                    bindings[name] = _Binding(
                        "module", name, target=module, aliased=True, type_checking=type_checking
                    )
                else:
                    name = module.split(".")[0]
                    bindings[name] = _Binding(
                        "module", name, target=module, type_checking=type_checking
                    )
        elif isinstance(statement, cst.ImportFrom):
            base = self._absolute_base(parsed, statement)
            if base is None:
                return
            if isinstance(statement.names, cst.ImportStar):
                parsed.stars.append(base)
                return
            for alias in statement.names:
                imported = get_full_name_for_node(alias.name) or ""
                name = imported
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    name = alias.asname.name.value
                bindings[name] = _Binding(
                    "import", name, target=base, imported=imported, type_checking=type_checking
                )

    def _absolute_base(self, parsed: _ParsedModule, statement: cst.ImportFrom) -> str | None:
        written = get_full_name_for_node(statement.module) if statement.module else ""
        level = len(statement.relative)
        if level == 0:
            return written
        package = parsed.name if parsed.is_package else parsed.name.rpartition(".")[0]
        parts = package.split(".") if package else []
        if level - 1 > len(parts) or (level - 1 == len(parts) and not written):
            return None
        parts = parts[: len(parts) - (level - 1)]
        if written:
            parts.append(written)
        return ".".join(parts) or None


def _module_statements(
    body: Sequence[cst.CSTNode], type_checking: bool
) -> Iterator[tuple[cst.CSTNode, bool]]:
    """Module-level statements, looking into `if` and `try` blocks (last binding wins)."""
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                yield small, type_checking
        elif isinstance(statement, cst.If):
            guarded = type_checking or _is_type_checking(statement.test)
            yield from _module_statements(_suite(statement.body), guarded)
            orelse = statement.orelse
            while orelse is not None:
                if isinstance(orelse, cst.If):
                    yield from _module_statements(_suite(orelse.body), type_checking)
                    orelse = orelse.orelse
                else:
                    yield from _module_statements(_suite(orelse.body), type_checking)
                    orelse = None
        elif isinstance(statement, cst.Try | cst.TryStar):
            yield from _module_statements(_suite(statement.body), type_checking)
            for handler in statement.handlers:
                yield from _module_statements(_suite(handler.body), type_checking)
            for extra in (statement.orelse, statement.finalbody):
                if extra is not None:
                    yield from _module_statements(_suite(extra.body), type_checking)
        else:
            yield statement, type_checking


def _suite(block: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    """The statements of a block, a one-line suite (`if x: import y`) included."""
    if isinstance(block, cst.IndentedBlock):
        return block.body
    if isinstance(block, cst.SimpleStatementSuite) and block.body:
        return [cst.SimpleStatementLine(body=block.body)]
    return []


def _is_type_checking(test: cst.BaseExpression) -> bool:
    name = get_full_name_for_node(test) or ""
    return name.split(".")[-1] == "TYPE_CHECKING"


_BUILTIN_NAMES = frozenset(dir(builtins)) | {"None", "True", "False"}


# --- the surface as operations ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Param:
    """A parameter (or a data class field) as written in `module`."""

    module: str
    name: str
    kind: str  # inspect's Parameter kind, lower case
    annotation: str | None
    default: str | None
    annotation_node: cst.BaseExpression | None = None
    default_node: cst.BaseExpression | None = None
    optional: bool = False  # may be left out without a default (a TypedDict key)

    @property
    def required(self) -> bool:
        if self.optional or self.kind in ("var_positional", "var_keyword"):
            return False
        return self.default is None


@dataclass(slots=True)
class _Operation:
    """One surface name: what the facade exposes and where it comes from."""

    name: str  # the facade's name for it
    kind: str  # "function", "class", "constant", "module", "unknown"
    module: str  # the module callers import it from today
    attr: str  # the name in that module ("*" for the whole module)
    used_by: tuple[str, ...]
    symbol: _Symbol | None
    defined_in: _ParsedModule | None
    notes: list[str] = field(default_factory=list)

    @property
    def implementation(self) -> str:
        return f"{self.module}:{self.attr}"


def _operations(service: Service, index: _SourceIndex) -> list[_Operation]:
    """The surface of a service, one operation per distinct definition, named uniquely."""
    merged: dict[tuple[str, str], _Operation] = {}
    ordered = sorted(service.surface, key=lambda s: (s.module.count("."), s.module, s.name))
    for surface in ordered:
        operation = _operation(surface.module, surface.name, index)
        key = operation.symbol.identity if operation.symbol else (surface.module, surface.name)
        if operation.kind == "module" and operation.symbol is not None:
            key = ("module", operation.symbol.module)
        if key in merged:
            known = merged[key]
            known.used_by = tuple(sorted(set(known.used_by) | set(surface.used_by)))
            continue
        operation.used_by = tuple(sorted(set(surface.used_by)))
        merged[key] = operation

    # give every operation a facade name no other one has
    taken: set[str] = set()
    operations = sorted(merged.values(), key=lambda op: (op.name, op.module))
    for operation in operations:
        wanted = operation.name
        if wanted in taken:
            wanted = _qualified_name(operation)
            operation.notes.append(
                f"exposed as {wanted}: another surface name is {operation.name}"
            )
        suffix = 2
        base = wanted
        while wanted in taken:
            wanted = f"{base}_{suffix}"
            suffix += 1
        operation.name = wanted
        taken.add(wanted)
    return sorted(operations, key=lambda op: op.name)


def _qualified_name(operation: _Operation) -> str:
    """A facade name for a surface name whose own name is taken: its module's last part
    in front (for a whole module, its package's)."""
    if operation.kind == "module" and operation.symbol is not None:
        return _identifier_from(operation.symbol.module.split("."), 2)
    return _identifier_from([*operation.module.split("."), operation.name], 2)


def _identifier_from(parts: Sequence[str], at_least: int) -> str:
    """The shortest run of the last parts (at least `at_least`) joined by "_" that is an
    identifier once each character an identifier cannot hold is replaced by "_":
    `db.versions.0001_init` gives `versions_0001_init`, `ai.0chat-v2` gives `ai_0chat_v2`.
    Distinct parts may give the same name; callers keep names unique."""
    cleaned = [_identifier_characters(part) for part in parts]
    for count in range(at_least, len(parts) + 1):
        candidate = "_".join(cleaned[-count:])
        if _is_free_identifier(candidate):
            return candidate
    return _python_identifier("_".join(parts))


def _python_identifier(text: str) -> str:
    """`text` as a name Python accepts on the left of `=`: each character an identifier
    cannot hold becomes "_", a leading digit gets "_" in front, a keyword (or `__debug__`)
    gets "_" after. Deterministic; distinct texts may give the same name."""
    name = _identifier_characters(text) or "_"
    if not name.isidentifier():  # it starts with a character valid only after the first
        name = "_" + name
    if not _is_free_identifier(name):
        name += "_"
    return name


def _identifier_characters(text: str) -> str:
    return "".join(char if ("_" + char).isidentifier() else "_" for char in text)


def _is_free_identifier(name: str) -> bool:
    """An identifier a generated module may bind (not a keyword, not `__debug__`)."""
    return name.isidentifier() and not keyword.iskeyword(name) and name != "__debug__"


def _operation(module: str, name: str, index: _SourceIndex) -> _Operation:
    if name == "*":
        symbol = _Symbol("module", module, "")
        facade_name = _identifier_from(module.split("."), 1)
        return _Operation(facade_name, "module", module, "*", (), symbol, None)
    found = index.lookup(module, name)
    notes: list[str] = []
    if module in index.problems:
        notes.append(index.problems[module])
    elif index.parsed(module) is None and module not in index.sources:
        notes.append(f"no source for {module}: re-exported without reading its definition")
    if found is None:
        if not notes:
            notes.append(f"{name} is not bound at module level in {module}: re-exported as is")
        return _Operation(name, "unknown", module, name, (), None, None, notes)
    if found.kind == "external":
        notes.append(
            f"{name} comes from {found.qualified}, outside the project: re-exported as is"
        )
        return _Operation(name, "unknown", module, name, (), found, None, notes)
    if found.kind == "module":
        return _Operation(name, "module", module, name, (), found, None, notes)
    defined_in = index.parsed(found.module)
    kind = {"function": "function", "class": "class", "value": "constant"}[found.kind]
    return _Operation(name, kind, module, name, (), found, defined_in, notes)


def _function_params(parsed: _ParsedModule, params: cst.Parameters) -> list[_Param]:
    groups: list[tuple[str, Sequence[cst.Param]]] = [
        ("positional_only", params.posonly_params),
        ("positional_or_keyword", params.params),
    ]
    if isinstance(params.star_arg, cst.Param):
        groups.append(("var_positional", [params.star_arg]))
    groups.append(("keyword_only", params.kwonly_params))
    if params.star_kwarg is not None:
        groups.append(("var_keyword", [params.star_kwarg]))
    result = []
    for kind, group in groups:
        for param in group:
            annotation = param.annotation.annotation if param.annotation else None
            result.append(
                _Param(
                    module=parsed.name,
                    name=param.name.value,
                    kind=kind,
                    annotation=_expression_text(parsed, annotation) if annotation else None,
                    default=_expression_text(parsed, param.default) if param.default else None,
                    annotation_node=annotation,
                    default_node=param.default,
                )
            )
    return result


def _expression_text(parsed: _ParsedModule, node: cst.CSTNode) -> str:
    """Source text of an expression, on one line (multi-line text goes through `ast`)."""
    text = parsed.code(node)
    if "\n" in text:
        try:
            text = ast.unparse(ast.parse(text, mode="eval"))
        except SyntaxError:
            text = " ".join(text.split())
    return text


@dataclass(frozen=True, slots=True)
class _BodyFacts:
    """What a function body does that its signature does not say."""

    generator: bool
    raises: tuple[str, ...]  # exception classes as written in `raise X(...)` / `raise X`


def _body_facts(function: cst.FunctionDef) -> _BodyFacts:
    """Walk a function body by its fields (much faster than a libcst visitor, which
    rebuilds every node); nested functions, classes and lambdas are left out."""
    generator = False
    raises: set[str] = set()
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            continue
        if isinstance(node, cst.Yield):
            generator = True
        elif isinstance(node, cst.Raise):
            exc = node.exc.func if isinstance(node.exc, cst.Call) else node.exc
            name = get_full_name_for_node(exc) if exc is not None else None
            # an upper-case last part names an exception class; `raise error` re-raises
            parts = name.split(".") if name else []
            if parts and parts[0] not in ("self", "cls") and parts[-1][:1].isupper():
                raises.add(name or "")
            continue
        stack.extend(_child_nodes(node))
    return _BodyFacts(generator, tuple(sorted(raises)))


_NODE_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    names = _NODE_FIELDS.get(type(node))
    if names is None:
        names = _NODE_FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, list | tuple):
            yield from (item for item in value if isinstance(item, cst.CSTNode))


# --- the contract document --------------------------------------------------------------


def _contract_document(
    service: Service, operations: Sequence[_Operation], index: _SourceIndex
) -> dict[str, Any]:
    schemas = _SchemaBuilder(index)
    described: list[dict[str, Any]] = []
    errors: dict[str, dict[str, Any]] = {}
    for operation in operations:
        entry, documented = _describe(operation, schemas, index)
        described.append(entry)

        # the union of the errors, each with who raises it and the first documented reason
        for error in entry["errors"]:
            record = errors.setdefault(
                error, {"name": error, "retryable": None, "description": "", "raised_by": []}
            )
            record["raised_by"].append(operation.name)
            if documented.get(error) and not record["description"]:
                record["description"] = documented[error]
    for record in errors.values():
        if not record["description"]:
            raisers = ", ".join(record["raised_by"])
            record["description"] = f"Raised by {raisers} (found in the code; not documented)."

    notes = sorted({note for operation in operations for note in operation.notes})
    return {
        "contract": CONTRACT_FORMAT,
        "service": service.name,
        "version": FIRST_VERSION,
        "description": (
            f"The operations of service {service.name} that code outside it uses today. "
            "Callers import them only from the service's facade."
        ),
        "schema_dialect": SCHEMA_DIALECT,
        "operations": described,
        "errors": [errors[name] for name in sorted(errors)],
        "compatibility": _COMPATIBILITY,
        "$defs": dict(sorted(schemas.defs.items())),
        "notes": notes,
    }


_COMPATIBILITY: dict[str, Any] = {
    "versioning": (
        "major.minor.patch of this contract, independent of the code's own version; "
        "compare two contracts with carveout's diff_contracts"
    ),
    "breaking": [
        "an operation is removed or changes kind (function, class, constant, module)",
        "a parameter is removed or renamed",
        "a new required parameter",
        "a parameter moves, changes kind (e.g. becomes keyword-only) or loses its default",
        "a parameter's type is narrowed (its schema accepts less)",
        "a result's type is widened (callers may receive values they do not handle)",
        "a field is removed from, or a required field added to, a type under $defs",
        "an operation switches between sync and async",
    ],
    "additive": [
        "a new operation",
        "a new optional parameter or optional field",
        "a parameter's type is widened, or a result's type narrowed",
        "a new error an operation may raise (callers should handle it)",
    ],
    "on_breaking_change": (
        "bump the major version and write contract.v<major>.json; keep the old contract "
        'file beside it with a deprecation note ("deprecated": the new file\'s name and '
        "the date after which the old version is no longer served)"
    ),
    "on_additive_change": "bump the minor version and rewrite the current contract file",
}


def _describe(
    operation: _Operation, schemas: _SchemaBuilder, index: _SourceIndex
) -> tuple[dict[str, Any], dict[str, str]]:
    """An operation's contract entry, and the descriptions its docstring gives errors."""
    documented: dict[str, str] = {}
    entry: dict[str, Any] = {
        "name": operation.name,
        "kind": operation.kind,
        "implementation": operation.implementation,
        "used_by": list(operation.used_by),
    }
    node = operation.symbol.node if operation.symbol else None
    parsed = operation.defined_in
    if operation.kind == "function" and isinstance(node, cst.FunctionDef) and parsed:
        described, documented = _describe_function(node, parsed, schemas, index)
        entry.update(described)
    elif operation.kind == "class" and isinstance(node, cst.ClassDef) and parsed:
        entry.update(_describe_class(operation, node, parsed, schemas))
    elif operation.kind == "constant" and parsed and node is not None:
        entry.update(_describe_constant(node, parsed, schemas))
    else:
        entry.update({"parameters": [], "result": None, "errors": []})
    entry["notes"] = list(operation.notes)
    return entry, documented


def _describe_function(
    node: cst.FunctionDef, parsed: _ParsedModule, schemas: _SchemaBuilder, index: _SourceIndex
) -> tuple[dict[str, Any], dict[str, str]]:
    docstring = node.get_docstring(clean=True) or ""
    returns = node.returns.annotation if node.returns else None
    described: dict[str, Any] = {
        "async": node.asynchronous is not None,
        "generator": index.body(node).generator,
        "summary": _summary_line(docstring),
        "parameters": [
            _describe_param(p, parsed, schemas) for p in _function_params(parsed, node.params)
        ],
        "result": {
            "annotation": _expression_text(parsed, returns) if returns else None,
            "schema": schemas.of(parsed, returns) if returns else _not_annotated(),
        },
    }

    # errors: raised in the body, plus the ones the docstring documents
    documented = {
        _error_name(parsed, name, index): text for name, text in _documented_raises(docstring)
    }
    raised = {_error_name(parsed, name, index) for name in index.body(node).raises}
    described["errors"] = sorted(raised | documented.keys())
    return described, documented


def _describe_param(param: _Param, parsed: _ParsedModule, schemas: _SchemaBuilder) -> dict:
    if param.annotation_node is not None:
        schema = schemas.of(parsed, param.annotation_node)
    else:
        schema = _not_annotated()
    return {
        "name": param.name,
        "kind": param.kind,
        "required": param.required,
        "default": param.default,
        "annotation": param.annotation,
        "schema": schema,
    }


def _describe_class(
    operation: _Operation, node: cst.ClassDef, parsed: _ParsedModule, schemas: _SchemaBuilder
) -> dict[str, Any]:
    symbol = operation.symbol
    assert symbol is not None
    family = schemas.family(symbol)
    params = schemas.constructor(symbol, family)
    result_schema = schemas.of_symbol(symbol)
    return {
        "class_kind": family or "class",
        "summary": _summary_line(node.get_docstring(clean=True) or ""),
        "parameters": (
            None
            if params is None
            else [_describe_param(p, schemas.module(p, parsed), schemas) for p in params]
        ),
        "result": {"annotation": node.name.value, "schema": result_schema},
        "errors": [],
    }


def _describe_constant(
    node: cst.CSTNode, parsed: _ParsedModule, schemas: _SchemaBuilder
) -> dict[str, Any]:
    annotation: cst.BaseExpression | None = None
    value: cst.BaseExpression | None = None
    if isinstance(node, cst.AnnAssign):
        annotation, value = node.annotation.annotation, node.value
    elif isinstance(node, cst.Assign):
        value = node.value
    if annotation is not None:
        schema = schemas.of(parsed, annotation)
    else:
        schema = _literal_schema(parsed, value)
    return {
        "parameters": [],
        "result": {
            "annotation": _expression_text(parsed, annotation) if annotation else None,
            "schema": schema,
        },
        "errors": [],
    }


def _literal_schema(parsed: _ParsedModule, value: cst.BaseExpression | None) -> dict:
    if value is None:
        return _not_annotated()
    try:
        literal = ast.literal_eval(parsed.code(value))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _not_annotated()
    for kind, schema_type in (
        (bool, "boolean"),
        (int, "integer"),
        (float, "number"),
        (str, "string"),
        (type(None), "null"),
    ):
        if isinstance(literal, kind):
            return {"type": schema_type}
    return _not_annotated()


def _summary_line(docstring: str) -> str | None:
    for line in docstring.splitlines():
        if line.strip():
            return line.strip()
    return None


def _documented_raises(docstring: str) -> list[tuple[str, str]]:
    """(name, description) pairs from Google, NumPy and Sphinx style `Raises` sections."""
    found: list[tuple[str, str]] = []
    lines = docstring.splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        sphinx = re.match(r":raises?\s+([\w.]+)\s*:\s*(.*)", stripped)
        if sphinx:
            found.append((sphinx.group(1), sphinx.group(2).strip()))
            continue
        indent = len(line) - len(line.lstrip())
        if stripped == "Raises:":
            found.extend(_google_entries(lines[index + 1 :], indent))
        elif (
            stripped == "Raises"
            and index + 1 < len(lines)
            and set(lines[index + 1].strip()) == {"-"}
        ):
            found.extend(_numpy_entries(lines[index + 2 :], indent))
    return found


def _google_entries(lines: Sequence[str], header_indent: int) -> Iterator[tuple[str, str]]:
    entry_indent: int | None = None
    name = ""
    text: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= header_indent:
            break
        if entry_indent is None:
            entry_indent = indent
        match = re.match(r"([\w.]+)\s*:\s*(.*)", line.strip())
        if indent == entry_indent and match:
            if name:
                yield name, " ".join(text).strip()
            name, text = match.group(1), [match.group(2)]
        elif name:
            text.append(line.strip())
    if name:
        yield name, " ".join(text).strip()


def _numpy_entries(lines: Sequence[str], header_indent: int) -> Iterator[tuple[str, str]]:
    name = ""
    text: list[str] = []
    for position, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if not line.strip():
            continue
        following = lines[position + 1].strip() if position + 1 < len(lines) else ""
        if indent == header_indent and following and set(following) == {"-"}:
            break  # the next section starts
        if indent == header_indent and re.fullmatch(r"[\w.]+", line.strip()):
            if name:
                yield name, " ".join(text).strip()
            name, text = line.strip(), []
        elif indent < header_indent:
            break
        elif name:
            text.append(line.strip())
    if name:
        yield name, " ".join(text).strip()


def _error_name(parsed: _ParsedModule, written: str, index: _SourceIndex) -> str:
    """A builtin exception by its name, a project one by where it is defined."""
    symbol = index.resolve(parsed, written)
    if symbol is not None and symbol.kind == "class":
        return symbol.qualified
    qualified = index.qualify(parsed, written)
    if qualified is None:
        return written
    return qualified.removeprefix("builtins.")


def _not_annotated() -> dict[str, str]:
    return {"description": "not annotated"}


def _not_expressible(annotation: str) -> dict[str, str]:
    return {"description": f"not expressible: {annotation}"}


# --- JSON Schema from annotations --------------------------------------------------------

_STRING_TYPES = {
    "builtins.str": {"type": "string"},
    "builtins.int": {"type": "integer"},
    "builtins.float": {"type": "number"},
    "builtins.bool": {"type": "boolean"},
    "builtins.bytes": {"type": "string", "contentEncoding": "base64"},
}
_ARRAYS = frozenset(
    {
        "builtins.list",
        "typing.List",
        "typing.Sequence",
        "collections.abc.Sequence",
        "typing.MutableSequence",
        "collections.abc.MutableSequence",
    }
)
_TUPLES = frozenset({"builtins.tuple", "typing.Tuple"})
_SETS = frozenset(
    {
        "builtins.set",
        "builtins.frozenset",
        "typing.Set",
        "typing.FrozenSet",
        "typing.AbstractSet",
        "collections.abc.Set",
        "typing.MutableSet",
        "collections.abc.MutableSet",
    }
)
_MAPPINGS = frozenset(
    {
        "builtins.dict",
        "typing.Dict",
        "typing.Mapping",
        "collections.abc.Mapping",
        "typing.MutableMapping",
        "collections.abc.MutableMapping",
    }
)
_UNWRAPPED = frozenset(
    {
        "typing.Annotated",
        "typing.Final",
        "typing.Required",
        "typing.NotRequired",
        "typing.ReadOnly",
    }
)
_DATACLASS_DECORATORS = frozenset({"dataclasses.dataclass", "pydantic.dataclasses.dataclass"})
_PYDANTIC_BASES = frozenset({"pydantic.BaseModel", "pydantic.main.BaseModel"})
_TYPEDDICT_BASES = frozenset({"typing.TypedDict"})
_ENUM_BASES = frozenset(
    {
        "enum.Enum",
        "enum.IntEnum",
        "enum.StrEnum",
        "enum.Flag",
        "enum.IntFlag",
    }
)
_FIELD_FUNCTIONS = frozenset({"dataclasses.field", "pydantic.Field", "pydantic.fields.Field"})


class _SchemaBuilder:
    """Annotations to JSON Schema; project data classes are collected under `defs`."""

    def __init__(self, index: _SourceIndex) -> None:
        self.index = index
        self.defs: dict[str, dict[str, Any]] = {}
        self._building: set[str] = set()

    def of_text(self, parsed: _ParsedModule, annotation: str) -> dict[str, Any]:
        try:
            node = cst.parse_expression(annotation)
        except cst.ParserSyntaxError:
            return _not_expressible(annotation)
        return self.of(parsed, node, text=annotation)

    def of(
        self, parsed: _ParsedModule, node: cst.BaseExpression, *, text: str | None = None
    ) -> dict[str, Any]:
        try:
            return self._schema(parsed, node)
        except RecursionError:  # an annotation nested beyond reason
            return _not_expressible(text if text is not None else _node_text(node))

    def of_symbol(self, symbol: _Symbol) -> dict[str, Any]:
        family = self.family(symbol)
        if family is None:
            return _not_expressible(symbol.qualified)
        return self._class_ref(symbol, family)

    def module(self, param: _Param, default: _ParsedModule) -> _ParsedModule:
        """The parsed module a parameter's annotation is written in."""
        return self.index.parsed(param.module) or default

    def _schema(self, parsed: _ParsedModule, node: cst.BaseExpression) -> dict[str, Any]:
        text = _node_text(node)
        if isinstance(node, cst.Name) and node.value == "None":
            return {"type": "null"}
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            return self._forward_reference(parsed, node, text)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            return _any_of([self._schema(parsed, node.left), self._schema(parsed, node.right)])
        if isinstance(node, cst.Subscript):
            return self._subscript(parsed, node, text)
        dotted = (
            get_full_name_for_node(node) if isinstance(node, cst.Name | cst.Attribute) else None
        )
        if not dotted:
            return _not_expressible(text)
        qualified = self.index.qualify(parsed, dotted)
        if qualified in _STRING_TYPES:
            return dict(_STRING_TYPES[qualified])
        if qualified == "typing.Any":
            return {}
        if qualified in _ARRAYS or qualified in _TUPLES:
            return {"type": "array"}
        if qualified in _SETS:
            return {"type": "array", "uniqueItems": True}
        if qualified in _MAPPINGS:
            return {"type": "object"}
        symbol = self.index.resolve(parsed, dotted)
        if symbol is not None and symbol.kind == "class":
            family = self.family(symbol)
            if family is not None:
                return self._class_ref(symbol, family)
        return _not_expressible(text)

    def _forward_reference(
        self, parsed: _ParsedModule, node: cst.SimpleString | cst.ConcatenatedString, text: str
    ) -> dict[str, Any]:
        value = node.evaluated_value
        if not isinstance(value, str):
            return _not_expressible(text)
        try:
            inner = cst.parse_expression(value.strip())
        except cst.ParserSyntaxError:
            return _not_expressible(text)
        return self._schema(parsed, inner)

    def _subscript(self, parsed: _ParsedModule, node: cst.Subscript, text: str) -> dict:
        dotted = get_full_name_for_node(node.value)
        qualified = self.index.qualify(parsed, dotted) if dotted else None
        args: list[cst.BaseExpression] = []
        for element in node.slice:
            if not isinstance(element.slice, cst.Index):
                return _not_expressible(text)
            args.append(element.slice.value)

        if qualified == "typing.Literal":
            return self._literal(parsed, args, text)
        if qualified in _UNWRAPPED and args:
            return self._schema(parsed, args[0])
        if qualified == "typing.Optional" and len(args) == 1:
            return _any_of([self._schema(parsed, args[0]), {"type": "null"}])
        if qualified == "typing.Union" and args:
            return _any_of([self._schema(parsed, arg) for arg in args])
        if qualified in _ARRAYS and len(args) == 1:
            return {"type": "array", "items": self._schema(parsed, args[0])}
        if qualified in _SETS and len(args) == 1:
            return {
                "type": "array",
                "items": self._schema(parsed, args[0]),
                "uniqueItems": True,
            }
        if qualified in _TUPLES:
            return self._tuple(parsed, args, text)
        if qualified in _MAPPINGS and len(args) == 2:
            key = self._schema(parsed, args[0])
            if key != {"type": "string"}:
                return _not_expressible(text)
            return {"type": "object", "additionalProperties": self._schema(parsed, args[1])}
        return _not_expressible(text)

    def _tuple(self, parsed: _ParsedModule, args: list[cst.BaseExpression], text: str) -> dict:
        if len(args) == 2 and isinstance(args[1], cst.Ellipsis):
            return {"type": "array", "items": self._schema(parsed, args[0])}
        if len(args) == 1 and isinstance(args[0], cst.Tuple) and not args[0].elements:
            return {"type": "array", "maxItems": 0}
        items = [self._schema(parsed, arg) for arg in args]
        return {
            "type": "array",
            "prefixItems": items,
            "minItems": len(items),
            "maxItems": len(items),
        }

    def _literal(self, parsed: _ParsedModule, args: list[cst.BaseExpression], text: str) -> dict:
        values: list[Any] = []
        for arg in args:
            try:
                value = ast.literal_eval(parsed.code(arg))
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                return _not_expressible(text)
            if not isinstance(value, str | int | float | bool | type(None)):
                return _not_expressible(text)
            if not any(type(known) is type(value) and known == value for known in values):
                values.append(value)
        return {"enum": values}

    # --- project classes

    def family(self, symbol: _Symbol, depth: int = 0) -> str | None:
        """ "dataclass", "pydantic", "typeddict", "enum", or None for any other class."""
        node = symbol.node
        parsed = self.index.parsed(symbol.module)
        if not isinstance(node, cst.ClassDef) or parsed is None or depth > 16:
            return None
        for decorator in node.decorators:
            target = decorator.decorator
            target = target.func if isinstance(target, cst.Call) else target
            if self._qualify(parsed, target) in _DATACLASS_DECORATORS:
                return "dataclass"
        for base in node.bases:
            if base.keyword is not None:
                continue
            qualified = self._qualify(parsed, base.value)
            if qualified in _PYDANTIC_BASES:
                return "pydantic"
            if qualified in _TYPEDDICT_BASES:
                return "typeddict"
            if qualified in _ENUM_BASES:
                return "enum"
            inherited = self._project_class(parsed, base.value)
            if inherited is not None:
                family = self.family(inherited, depth + 1)
                if family is not None:
                    return family
        return None

    def constructor(self, symbol: _Symbol, family: str | None) -> list[_Param] | None:
        """The parameters calling the class takes, or None when carveout cannot tell."""
        if family in ("dataclass", "pydantic", "typeddict"):
            if family == "dataclass":
                explicit = self._explicit_init(symbol, 0)
                if explicit is not None:
                    return explicit
            return self._fields(symbol, family, 0)
        if family == "enum":
            return None
        return self._explicit_init(symbol, 0, plain=True)

    def _explicit_init(
        self, symbol: _Symbol, depth: int, *, plain: bool = False
    ) -> list[_Param] | None:
        node, parsed = symbol.node, self.index.parsed(symbol.module)
        if not isinstance(node, cst.ClassDef) or parsed is None or depth > 16:
            return None
        for statement in _suite(node.body):
            if isinstance(statement, cst.FunctionDef) and statement.name.value == "__init__":
                return _function_params(parsed, statement.params)[1:]
        if not plain:
            return None
        bases = [base for base in node.bases if base.keyword is None]
        if not bases:
            return []
        for base in bases:
            inherited = self._project_class(parsed, base.value)
            if inherited is None:
                return None  # a base outside the project decides the signature
            found = self._explicit_init(inherited, depth + 1, plain=True)
            if found is not None:
                return found
        return None

    def _fields(self, symbol: _Symbol, family: str, depth: int) -> list[_Param]:
        node, parsed = symbol.node, self.index.parsed(symbol.module)
        if not isinstance(node, cst.ClassDef) or parsed is None or depth > 16:
            return []
        fields: dict[str, _Param] = {}
        for base in node.bases:
            if base.keyword is not None:
                continue
            inherited = self._project_class(parsed, base.value)
            if inherited is not None and self.family(inherited) == family:
                fields.update((p.name, p) for p in self._fields(inherited, family, depth + 1))

        total = not any(
            keyword.keyword is not None
            and keyword.keyword.value == "total"
            and isinstance(keyword.value, cst.Name)
            and keyword.value.value == "False"
            for keyword in node.keywords
        )
        keyword_only = family in ("pydantic", "typeddict") or _dataclass_kw_only(node)
        for statement in _suite(node.body):
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if not isinstance(small, cst.AnnAssign) or not isinstance(small.target, cst.Name):
                    continue
                annotation = small.annotation.annotation
                wrapper = self._wrapper(parsed, annotation)
                if wrapper == "typing.ClassVar":
                    continue
                if wrapper == "dataclasses.KW_ONLY":
                    keyword_only = True
                    continue
                name = small.target.value
                if family == "pydantic" and name.startswith("_"):
                    continue
                required = self._field_required(parsed, family, small.value, wrapper, total)
                default = None
                if not required and small.value is not None:
                    default = _expression_text(parsed, small.value)
                param = _Param(
                    module=parsed.name,
                    name=name,
                    kind="keyword_only" if keyword_only else "positional_or_keyword",
                    annotation=_expression_text(parsed, annotation),
                    default=default,
                    annotation_node=annotation,
                    optional=not required,
                )
                fields[name] = param  # an override keeps the inherited field's place
        return list(fields.values())

    def _field_required(
        self,
        parsed: _ParsedModule,
        family: str,
        value: cst.BaseExpression | None,
        wrapper: str | None,
        total: bool,
    ) -> bool:
        if family == "typeddict":
            if wrapper == "typing.NotRequired":
                return False
            if wrapper == "typing.Required":
                return True
            return total
        if value is None:
            return True
        if isinstance(value, cst.Call) and self._qualify(parsed, value.func) in _FIELD_FUNCTIONS:
            for position, arg in enumerate(value.args):
                keyword = arg.keyword.value if arg.keyword else None
                if keyword in ("default", "default_factory") or (
                    keyword is None and position == 0
                ):
                    return keyword != "default_factory" and isinstance(arg.value, cst.Ellipsis)
            return True
        return False

    def _wrapper(self, parsed: _ParsedModule, annotation: cst.BaseExpression) -> str | None:
        target = annotation.value if isinstance(annotation, cst.Subscript) else annotation
        return self._qualify(parsed, target)

    def _class_ref(self, symbol: _Symbol, family: str) -> dict[str, Any]:
        key = symbol.qualified
        reference = {"$ref": f"#/$defs/{key}"}
        if key in self.defs or key in self._building:
            return reference
        self._building.add(key)
        try:
            definition = self._definition(symbol, family)
        finally:
            self._building.discard(key)
        if definition is None:
            return _not_expressible(key)
        self.defs[key] = definition
        return reference

    def _definition(self, symbol: _Symbol, family: str) -> dict[str, Any] | None:
        node = symbol.node
        parsed = self.index.parsed(symbol.module)
        assert isinstance(node, cst.ClassDef) and parsed is not None
        definition: dict[str, Any] = {"title": node.name.value}
        summary = _summary_line(node.get_docstring(clean=True) or "")
        if summary:
            definition["description"] = summary
        if family == "enum":
            values = self._enum_values(parsed, node)
            if values is None:
                return None
            definition["enum"] = values
            return definition
        properties: dict[str, Any] = {}
        required: list[str] = []
        for param in self._fields(symbol, family, 0):
            owner = self.module(param, parsed)
            assert param.annotation_node is not None
            properties[param.name] = self.of(owner, param.annotation_node)
            if param.required:
                required.append(param.name)
        definition.update({"type": "object", "properties": properties, "required": required})
        return definition

    def _enum_values(self, parsed: _ParsedModule, node: cst.ClassDef) -> list[Any] | None:
        values: list[Any] = []
        for statement in _suite(node.body):
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1:
                    try:
                        value = ast.literal_eval(parsed.code(small.value))
                    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                        return None
                    if not isinstance(value, str | int | float | bool):
                        return None
                    values.append(value)
        return values or None

    def _qualify(self, parsed: _ParsedModule, node: cst.BaseExpression) -> str | None:
        dotted = get_full_name_for_node(node)
        return self.index.qualify(parsed, dotted) if dotted else None

    def _project_class(self, parsed: _ParsedModule, node: cst.BaseExpression) -> _Symbol | None:
        dotted = get_full_name_for_node(node)
        symbol = self.index.resolve(parsed, dotted) if dotted else None
        return symbol if symbol is not None and symbol.kind == "class" else None


def _dataclass_kw_only(node: cst.ClassDef) -> bool:
    for decorator in node.decorators:
        if isinstance(decorator.decorator, cst.Call):
            for arg in decorator.decorator.args:
                if (
                    arg.keyword is not None
                    and arg.keyword.value == "kw_only"
                    and isinstance(arg.value, cst.Name)
                    and arg.value.value == "True"
                ):
                    return True
    return False


def _any_of(members: list[dict[str, Any]]) -> dict[str, Any]:
    flat: list[dict[str, Any]] = []
    for member in members:
        for part in member.get("anyOf", [member]) if set(member) == {"anyOf"} else [member]:
            if part not in flat:
                flat.append(part)
    if any(part == {} for part in flat):
        return {}
    return flat[0] if len(flat) == 1 else {"anyOf": flat}


def _node_text(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node).strip()


# --- the facade --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Import:
    """One import the facade needs, and the object its bound name stands for.

    `import a.b` is (module="a.b", name=None, alias=None, bound="a"); `from a import b as c`
    is (module="a", name="b", alias="c", bound="c").
    """

    module: str
    name: str | None
    alias: str | None
    bound: str
    identity: tuple[str, str]

    @property
    def imported(self) -> str:
        written = self.name if self.name is not None else self.module
        return f"{written} as {self.alias}" if self.alias else written


class _Namespace:
    """The facade's module-level names: one object per name, clashes refused."""

    def __init__(self) -> None:
        self.names: dict[str, tuple[str, str]] = {}

    def claim(self, name: str, identity: tuple[str, str]) -> bool:
        owner = self.names.setdefault(name, identity)
        return owner == identity


class _FacadeBuilder:
    """Builds one service's facade module; `build` returns its source text."""

    def __init__(
        self,
        service: Service,
        operations: Sequence[_Operation],
        index: _SourceIndex,
        version: str = FIRST_VERSION,
    ) -> None:
        self.service = service
        self.version = version
        self.operations = operations
        self.index = index
        self.namespace = _Namespace()
        self.runtime: set[_Import] = set()  # implementation modules and default values
        self.type_checking: set[_Import] = set()  # names used in annotations only
        self.module_aliases: dict[str, str] = {}
        self.reexported = {op.name for op in operations if op.kind != "function"}
        self.functions: list[_Statement] = []

    def build(self) -> str:
        for operation in self.operations:
            self.namespace.claim(operation.name, _operation_identity(operation))
        self.namespace.claim("TYPE_CHECKING", ("typing", "TYPE_CHECKING"))
        for operation in self.operations:
            node = operation.symbol.node if operation.symbol else None
            if operation.kind == "function" and isinstance(node, cst.FunctionDef):
                self.functions.append(self._function(operation, node))
        reexports = [self._reexport(op) for op in self.operations if op.name in self.reexported]
        return self._module(reexports).code

    # --- functions

    def _function(self, operation: _Operation, node: cst.FunctionDef) -> _Statement:
        symbol, parsed = operation.symbol, operation.defined_in
        assert symbol is not None and parsed is not None
        params = _function_params(parsed, node.params)
        alias = self._alias(operation.module)
        comments: list[str] = []

        # the signature: annotations imported for type checkers, defaults imported to run
        pieces: list[str] = []
        for param in params:
            if (
                param.kind == "keyword_only"
                and not any(p.kind == "var_positional" for p in params)
                and "*" not in pieces
            ):
                pieces.append("*")
            piece = {"var_positional": "*", "var_keyword": "**"}.get(param.kind, "") + param.name
            if param.annotation_node is not None:
                piece += ": " + self._annotation(parsed, param.annotation_node, comments)
            if param.default_node is not None:
                equals = " = " if param.annotation_node is not None else "="
                piece += equals + self._default(parsed, param.default_node)
            pieces.append(piece)
            if param.kind == "positional_only" and (
                param is [p for p in params if p.kind == "positional_only"][-1]
            ):
                pieces.append("/")
        returns = ""
        if node.returns is not None:
            returns = " -> " + self._annotation(parsed, node.returns.annotation, comments)
        prefix = "async def" if node.asynchronous is not None else "def"
        header = f"{prefix} {operation.name}({', '.join(pieces)}){returns}:"
        if len(header) > _LINE_LENGTH:
            listed = "".join(f"    {piece},\n" for piece in pieces)
            header = f"{prefix} {operation.name}(\n{listed}){returns}:"

        # the body: a docstring and the delegation (arguments one per line when long)
        arguments = [_argument(p) for p in params]
        call = f"{alias}.{operation.attr}({', '.join(arguments)})"
        if len(call) > _LINE_LENGTH - len("        return await "):
            listed = "".join(f"        {argument},\n" for argument in arguments)
            call = f"{alias}.{operation.attr}(\n{listed}    )"
        generator = self.index.body(node).generator
        if generator and node.asynchronous is not None:
            delegation = f"    async for item in {call}:\n        yield item\n"
        elif generator:
            delegation = f"    return (yield from {call})\n"
        elif node.asynchronous is not None:
            delegation = f"    return await {call}\n"
        else:
            delegation = f"    return {call}\n"
        summary = _summary_line(node.get_docstring(clean=True) or "")
        docstring = _docstring(summary, f"Delegates to `{symbol.qualified}`.", indent="    ")
        function = cst.parse_statement(f"{header}\n    {docstring}{delegation}")
        return _spaced(function, 2, sorted(set(comments)))

    def _alias(self, module: str) -> str:
        """The private name under which the facade imports an implementation module."""
        if module not in self.module_aliases:
            base = _python_identifier("_" + module.replace(".", "_"))
            alias, suffix = base, 2
            while not self.namespace.claim(alias, ("module", module)):
                alias, suffix = f"{base}_{suffix}", suffix + 1
            self.module_aliases[module] = alias
            self.runtime.add(_Import(module, None, alias, alias, ("module", module)))
        return self.module_aliases[module]

    def _annotation(
        self, parsed: _ParsedModule, node: cst.BaseExpression, comments: list[str]
    ) -> str:
        """The annotation as written, its names imported under TYPE_CHECKING; kept as a
        string (with a comment) when a name cannot be imported."""
        text = _expression_text(parsed, node)
        problems: list[str] = []
        needed: list[_Import] = []
        for root in sorted(_annotation_roots(parsed, node, self.index)):
            found = _import_for(parsed, root, self.index)
            if found is None:
                continue
            if isinstance(found, str):
                problems.append(found)
            elif not self.namespace.claim(found.bound, found.identity):
                problems.append(f"{root} would clash with another name of this facade")
            elif found.bound not in self.reexported:
                needed.append(found)
        if problems:
            comments.append(f"# Annotation kept as a string: {'; '.join(sorted(problems))}.")
            return text if isinstance(node, cst.SimpleString) else _quote(text)
        self.type_checking.update(found for found in needed if found not in self.runtime)
        return text

    def _default(self, parsed: _ParsedModule, node: cst.BaseExpression) -> str:
        """The default as written, its names imported to run; a name that cannot be
        imported is read from the defining module, where the default is evaluated today."""
        expression = cst.parse_expression(_expression_text(parsed, node))
        through_module: set[str] = set()
        for root in sorted(_load_roots(expression)):
            found = _import_for(parsed, root, self.index)
            if found is None:
                continue
            if isinstance(found, str) or not self.namespace.claim(found.bound, found.identity):
                through_module.add(root)
            elif found.bound not in self.reexported:
                self.runtime.add(found)
                self.type_checking.discard(found)
        if through_module:
            alias = self._alias(parsed.name)
            renamed = expression.visit(_RootRenamer(through_module, alias))
            assert isinstance(renamed, cst.BaseExpression)
            expression = renamed
        return _node_text(expression)

    def _reexport(self, operation: _Operation) -> tuple[str, str | None]:
        """The statement that re-exports a non-function surface name, and a comment. A module
        whose name is not an identifier (`versions.0001_init`) is reached by importlib."""
        if operation.kind == "module":
            target = operation.symbol.module if operation.symbol else operation.module
            module_comment = f"# A whole module on the surface: callers use `{target}` itself."
            if not _importable(target):
                return f"{operation.name} = {self._alias(target)}\n", module_comment
            return f"import {target} as {operation.name}\n", module_comment
        comment = None
        if operation.kind == "unknown":
            comment = (
                f"# `{operation.attr}`: definition not read (see the contract's notes); "
                "re-exported as is."
            )
        if not _importable(operation.module):
            alias = self._alias(operation.module)
            return f"{operation.name} = {alias}.{operation.attr}\n", comment
        imported = operation.attr
        if operation.name != operation.attr:
            imported += f" as {operation.name}"
        line = f"from {operation.module} import {imported}"
        if len(line) > _LINE_LENGTH:
            line = f"from {operation.module} import (\n    {imported},\n)"
        return line + "\n", comment

    # --- the module

    def _module(self, reexports: Sequence[tuple[str, str | None]]) -> cst.Module:
        name = self.service.name
        summary = f"Facade of service `{name}`, contract version {self.version}."
        if len(summary) > _DOCSTRING_WIDTH:
            summary = f"Facade of service `{name}`."
        detail = textwrap.fill(
            "Generated by carveout. Code outside the service imports only from this module: "
            "the names in `__all__` are the service's surface, found from how the rest of the "
            "project uses it today; everything else in the service is internal. Regenerate "
            f"rather than edit by hand; contracts/{name}/{_contract_file(self.version)} "
            f"describes the same surface (version {self.version}).",
            width=_DOCSTRING_WIDTH,
            break_on_hyphens=False,
        )
        body: list[_Statement] = [cst.parse_statement(_docstring(summary, detail))]
        body.append(_spaced(cst.parse_statement("from __future__ import annotations\n"), 1))
        if self.type_checking:
            body.append(_spaced(cst.parse_statement("from typing import TYPE_CHECKING\n"), 1))
        for position, line in enumerate(_import_lines(self.runtime, "")):
            body.append(_spaced(cst.parse_statement(line), 1 if position == 0 else 0))

        # re-exports, one per surface name
        for position, (line, comment) in enumerate(reexports):
            comments = [comment] if comment else []
            if position == 0:
                comments.insert(0, "# The surface's classes, constants and modules, as they are.")
            blank = 1 if comments else 0
            body.append(_spaced(cst.parse_statement(line), blank, comments))

        if self.type_checking:
            block = "".join(_import_lines(self.type_checking, "    "))
            body.append(_spaced(cst.parse_statement(f"if TYPE_CHECKING:\n{block}"), 1))
        names = sorted(operation.name for operation in self.operations)
        listed = "".join(f"    {json.dumps(n)},\n" for n in names)
        exported = f"__all__ = [\n{listed}]\n" if names else "__all__: list[str] = []\n"
        body.append(_spaced(cst.parse_statement(exported), 1))
        body.extend(self.functions)
        return cst.Module(body=body)


_LINE_LENGTH = 99
_DOCSTRING_WIDTH = 88
_Statement = cst.SimpleStatementLine | cst.BaseCompoundStatement


def _import_lines(imports: Iterable[_Import], indent: str) -> list[str]:
    """`import` lines first, then one `from` line per module (wrapped when long), then
    modules whose names are not identifiers, through importlib."""
    imports = list(imports)
    dynamic = sorted(
        f'{indent}{i.bound} = importlib.import_module("{i.module}")\n'
        for i in imports
        if i.name is None and not _importable(i.module)
    )
    statements = {
        f"{indent}import {i.imported}\n"
        for i in imports
        if i.name is None and _importable(i.module)
    }
    if dynamic:
        statements.add(f"{indent}import importlib\n")
    plain = sorted(statements)
    grouped: dict[str, set[str]] = {}
    for found in imports:
        if found.name is not None:
            grouped.setdefault(found.module, set()).add(found.imported)
    lines = list(plain)
    for module in sorted(grouped):
        names = sorted(grouped[module])
        line = f"{indent}from {module} import {', '.join(names)}\n"
        if len(line) > _LINE_LENGTH + 1:
            listed = "".join(f"{indent}    {name},\n" for name in names)
            line = f"{indent}from {module} import (\n{listed}{indent})\n"
        lines.append(line)
    return lines + dynamic


def _importable(module: str) -> bool:
    """Whether an import statement can name the module (every part an identifier)."""
    return all(part.isidentifier() and not keyword.iskeyword(part) for part in module.split("."))


def _operation_identity(operation: _Operation) -> tuple[str, str]:
    symbol = operation.symbol
    if operation.kind == "module":
        return ("module", symbol.module if symbol else operation.module)
    if symbol is not None:
        return symbol.identity
    return (operation.module, operation.attr)


def _import_for(parsed: _ParsedModule, root: str, index: _SourceIndex) -> _Import | str | None:
    """How the facade binds `root` as `parsed` has it: an import, None for a builtin, or a
    sentence saying why it cannot."""
    binding = parsed.bindings.get(root)
    if binding is None:
        if root in _BUILTIN_NAMES:
            return None
        if parsed.stars:
            return f"{root} may come from a star import in {parsed.name}"
        return f"{root} is not bound in {parsed.name}"
    origin = parsed.name if binding.kind in ("function", "class", "value") else binding.target
    if not _importable(origin):
        return f"{root} comes from {origin}, a module an import statement cannot name"
    if binding.kind == "module":
        if binding.aliased:
            return _Import(binding.target, None, root, root, ("module", binding.target))
        return _Import(binding.target, None, None, root, ("module", root))
    if binding.kind == "import":
        module, name = binding.target, binding.imported or root
    else:
        module, name = parsed.name, root
    symbol = index.lookup(parsed.name, root)
    if symbol is None:
        identity = (parsed.name, root)
    elif symbol.kind == "module":
        identity = ("module", symbol.module)
    else:
        identity = symbol.identity
    return _Import(module, name, root if root != name else None, root, identity)


def _annotation_roots(parsed: _ParsedModule, node: cst.CSTNode, index: _SourceIndex) -> set[str]:
    """The first names of the dotted names an annotation uses, forward references included
    (strings inside `Literal[...]` and `Annotated` metadata are values, not names)."""
    roots: set[str] = set()

    def walk(current: cst.CSTNode) -> None:
        if isinstance(current, cst.Name):
            roots.add(current.value)
        elif isinstance(current, cst.Attribute):
            dotted = get_full_name_for_node(current)
            if dotted:
                roots.add(dotted.split(".")[0])
            else:
                walk(current.value)
        elif isinstance(current, cst.SimpleString | cst.ConcatenatedString):
            value = current.evaluated_value
            if isinstance(value, str):
                with contextlib.suppress(cst.ParserSyntaxError):
                    walk(cst.parse_expression(value.strip()))
        elif isinstance(current, cst.Subscript):
            walk(current.value)
            dotted = get_full_name_for_node(current.value)
            qualified = index.qualify(parsed, dotted) if dotted else None
            if qualified == "typing.Literal":
                return
            elements = list(current.slice)
            if qualified == "typing.Annotated":
                elements = elements[:1]
            for element in elements:
                walk(element.slice)
        else:
            for child in current.children:
                walk(child)

    walk(node)
    return roots


class _LoadRoots(cst.CSTVisitor):
    """Names an expression reads from its module (attributes, keywords, lambdas and
    comprehension variables left out)."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.local: set[str] = set()
        self._skip: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self._skip.add(id(node.attr))
        return True

    def visit_Arg(self, node: cst.Arg) -> bool:
        if node.keyword is not None:
            self._skip.add(id(node.keyword))
        return True

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_CompFor(self, node: cst.CompFor) -> bool:
        collector = _LoadRoots()
        node.target.visit(collector)
        self.local |= collector.names
        return True

    def visit_Name(self, node: cst.Name) -> bool:
        if id(node) not in self._skip:
            self.names.add(node.value)
        return False


def _load_roots(expression: cst.BaseExpression) -> set[str]:
    collector = _LoadRoots()
    expression.visit(collector)
    return collector.names - collector.local


class _RootRenamer(cst.CSTTransformer):
    """Rewrite the given module-level names to `alias.name`."""

    def __init__(self, names: set[str], alias: str) -> None:
        super().__init__()
        self.names = names
        self.alias = alias
        self._skip: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self._skip.add(id(node.attr))
        return True

    def visit_Arg(self, node: cst.Arg) -> bool:
        if node.keyword is not None:
            self._skip.add(id(node.keyword))
        return True

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if id(original_node) in self._skip or original_node.value not in self.names:
            return updated_node
        return cst.Attribute(value=cst.Name(self.alias), attr=cst.Name(original_node.value))


def _argument(param: _Param) -> str:
    if param.kind == "var_positional":
        return f"*{param.name}"
    if param.kind == "var_keyword":
        return f"**{param.name}"
    if param.kind == "keyword_only":
        return f"{param.name}={param.name}"
    return param.name


def _parameters(params: Sequence[_Param], built: Sequence[cst.Param]) -> cst.Parameters:
    by_kind: dict[str, list[cst.Param]] = {}
    for param, node in zip(params, built, strict=True):
        by_kind.setdefault(param.kind, []).append(node)
    star = by_kind.get("var_positional", [])
    keyword_only = by_kind.get("keyword_only", [])
    star_arg: cst.Param | cst.ParamStar | cst.MaybeSentinel = cst.MaybeSentinel.DEFAULT
    if star:
        star_arg = star[0]
    elif keyword_only:
        star_arg = cst.ParamStar()
    positional_only = by_kind.get("positional_only", [])
    return cst.Parameters(
        params=by_kind.get("positional_or_keyword", []),
        star_arg=star_arg,
        kwonly_params=keyword_only,
        star_kwarg=by_kind.get("var_keyword", [None])[0],
        posonly_params=positional_only,
        posonly_ind=cst.ParamSlash() if positional_only else cst.MaybeSentinel.DEFAULT,
    )


def _docstring(summary: str | None, detail: str, indent: str = "") -> str:
    """A docstring statement; a summary that cannot sit safely in one is left out."""
    lines = detail.splitlines()
    if summary and '"' not in summary and "\\" not in summary and summary.isprintable():
        lines = [summary, "", *lines]
    if len(lines) == 1:
        return f'"""{lines[0]}"""\n'
    rest = "".join(f"{indent}{line}\n" if line else "\n" for line in lines[1:])
    return f'"""{lines[0]}\n{rest}{indent}"""\n'


def _quote(text: str) -> str:
    if '"' not in text and "\\" not in text:
        return f'"{text}"'
    return repr(text)


def _spaced(statement: _Statement, blank_lines: int, comments: Sequence[str] = ()) -> _Statement:
    leading = [cst.EmptyLine() for _ in range(blank_lines)]
    leading += [cst.EmptyLine(comment=cst.Comment(comment)) for comment in comments]
    return statement.with_changes(leading_lines=leading)


def _import_sort_key(statement: str) -> tuple[str, str]:
    return (statement.split()[1], statement)


# --- the contract test -------------------------------------------------------------------

_CONTRACT_TEST = '''\
"""Contract test of service `@SERVICE@` (generated by carveout; regenerate, do not edit).

A caller-side compatibility check: every operation in @CONTRACT@ beside this file
must still be exposed by the facade, and by the implementation it delegates to, with the
same parameter names, kinds, presence of defaults and annotations. It fails as soon as the
implementation changes its surface. Run it with the analysed project importable, e.g.
`PYTHONPATH=src pytest contracts/@SERVICE@/test_contract.py`; to run several services'
tests in one go, add `--import-mode=importlib` (each of them is named test_contract.py).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
CONTRACT = json.loads((HERE / "@CONTRACT@").read_text(encoding="utf-8"))
OPERATIONS = CONTRACT["operations"]
FACADE_MODULE = "_carveout_facade_@IDENTIFIER@"


@pytest.fixture(scope="module")
def facade() -> ModuleType:
    """The generated facade, loaded from the file beside this test."""
    module = sys.modules.get(FACADE_MODULE)
    if module is None:
        spec = importlib.util.spec_from_file_location(FACADE_MODULE, HERE / "facade.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[FACADE_MODULE] = module
        spec.loader.exec_module(module)
    return module


def test_facade_exposes_exactly_the_surface(facade: ModuleType) -> None:
    assert sorted(facade.__all__) == sorted(operation["name"] for operation in OPERATIONS)


def test_facade_matches_the_contract(facade: ModuleType) -> None:
    problems: list[str] = []
    for operation in OPERATIONS:
        name = operation["name"]
        if not hasattr(facade, name):
            problems.append(f"{name}: missing from the facade")
            continue
        exposed = getattr(facade, name)
        problems += _surface_problems(f"facade {name}", exposed, operation, vars(facade))
        if operation["kind"] != "function":
            implementation = _implementation(operation, problems)
            if implementation is not None and exposed is not implementation:
                problems.append(f"facade {name}: not the object {operation['implementation']}")
    assert not problems, "\\n".join(problems)


def test_implementation_matches_the_contract() -> None:
    problems: list[str] = []
    for operation in OPERATIONS:
        implementation = _implementation(operation, problems)
        if implementation is None:
            continue
        module = importlib.import_module(operation["implementation"].partition(":")[0])
        namespace = getattr(implementation, "__globals__", vars(module))
        where = f"implementation {operation['implementation']}"
        problems += _surface_problems(where, implementation, operation, namespace)
    assert not problems, "\\n".join(problems)


def _implementation(operation: dict[str, Any], problems: list[str]) -> Any:
    module_name, _, name = operation["implementation"].partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # any failure to import is a finding, not a crash
        problems.append(f"{operation['implementation']}: cannot import {module_name}: {error!r}")
        return None
    if name == "*":
        return module
    if not hasattr(module, name) and operation["kind"] == "module":
        try:
            importlib.import_module(f"{module_name}.{name}")  # a submodule not loaded yet
        except ImportError:
            pass
    if not hasattr(module, name):
        problems.append(f"{operation['implementation']}: {module_name} has no {name}")
        return None
    return getattr(module, name)


def _surface_problems(
    where: str, exposed: Any, operation: dict[str, Any], namespace: dict[str, Any]
) -> list[str]:
    kind = operation["kind"]
    if kind == "module":
        return [] if isinstance(exposed, ModuleType) else [f"{where}: not a module"]
    if kind == "function":
        return _function_problems(where, exposed, operation, namespace)
    if kind == "class":
        return _class_problems(where, exposed, operation)
    return []


def _function_problems(
    where: str, function: Any, operation: dict[str, Any], namespace: dict[str, Any]
) -> list[str]:
    if not callable(function):
        return [f"{where}: not callable"]
    problems = _parameter_problems(where, function, operation["parameters"], namespace)
    signature = inspect.signature(function)
    expected = operation["result"]["annotation"]
    if not _same_annotation(signature.return_annotation, expected, namespace):
        problems.append(f"{where}: returns {signature.return_annotation!r}, contract {expected!r}")
    if operation["async"] != (
        inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)
    ):
        problems.append(f"{where}: async should be {operation['async']}")
    return problems


def _class_problems(where: str, cls: Any, operation: dict[str, Any]) -> list[str]:
    if not isinstance(cls, type):
        return [f"{where}: not a class"]
    expected = operation["parameters"]
    if expected is None:
        return []  # the contract could not tell the constructor; identity is checked
    if operation.get("class_kind") == "typeddict":
        names = sorted(getattr(cls, "__annotations__", {}))
        required = sorted(getattr(cls, "__required_keys__", names))
        problems = []
        if names != sorted(p["name"] for p in expected):
            problems.append(f"{where}: keys {names}, contract {[p['name'] for p in expected]}")
        if required != sorted(p["name"] for p in expected if p["required"]):
            problems.append(f"{where}: required keys {required} differ from the contract")
        return problems
    # annotations of generated constructors (dataclass, pydantic) are not compared
    return _parameter_problems(where, cls, expected, None)


def _parameter_problems(
    where: str, function: Any, expected: list[dict[str, Any]], namespace: dict[str, Any] | None
) -> list[str]:
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError) as error:
        return [f"{where}: no signature: {error}"]
    actual_names = [parameter.name for parameter in parameters]
    expected_names = [parameter["name"] for parameter in expected]
    if actual_names != expected_names:
        return [f"{where}: parameters {actual_names}, contract {expected_names}"]
    problems = []
    for parameter, wanted in zip(parameters, expected):
        label = f"{where}({parameter.name})"
        kind = parameter.kind.name.lower()
        if kind != wanted["kind"]:
            problems.append(f"{label}: kind {kind}, contract {wanted['kind']}")
        has_default = parameter.default is not inspect.Parameter.empty
        if has_default != (wanted["default"] is not None):
            problems.append(f"{label}: default present {has_default}, contract differs")
        if namespace is not None and not _same_annotation(
            parameter.annotation, wanted["annotation"], namespace
        ):
            problems.append(
                f"{label}: annotation {parameter.annotation!r}, contract {wanted['annotation']!r}"
            )
    return problems


def _same_annotation(actual: Any, expected: str | None, namespace: dict[str, Any]) -> bool:
    if actual is inspect.Parameter.empty or actual is inspect.Signature.empty:
        return expected is None
    if expected is None:
        return False
    if isinstance(actual, str):
        return _normalised(actual) == _normalised(expected)
    try:
        return bool(eval(expected, dict(namespace)) == actual)  # the contract's own text
    except Exception:
        return _normalised(inspect.formatannotation(actual)) == _normalised(expected)


def _normalised(text: str) -> str:
    """One spelling per annotation: `ast.unparse`, with string forward references opened."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return text.strip()
    while isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value.strip(), mode="eval").body
        except SyntaxError:
            break
    return ast.unparse(node)
'''


def _contract_test_source(service: Service, contract_file: str) -> str:
    identifier = re.sub(r"\W", "_", service.name)
    return (
        _CONTRACT_TEST.replace("@SERVICE@", service.name)
        .replace("@IDENTIFIER@", identifier)
        .replace("@CONTRACT@", contract_file)
    )


# --- proving and writing -----------------------------------------------------------------


def _prove(generated: GeneratedFile) -> None:
    """Re-parse a generated file; a failure is a carveout bug."""
    try:
        if generated.path.endswith(".py"):
            cst.parse_module(generated.text)
            ast.parse(generated.text)
        elif generated.path.endswith(".json"):
            json.loads(generated.text)
    except (cst.ParserSyntaxError, SyntaxError, ValueError) as error:
        raise InternalError(f"generated {generated.path} does not parse: {error}") from error


def _json_text(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _path_part(name: str) -> str:
    return re.sub(r"[^\w.-]", "_", name).lstrip(".") or "service"


# --- comparing contracts -----------------------------------------------------------------


def _diff_operation(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str, str]]:
    name = old["name"]
    if old.get("kind") != new.get("kind"):
        return [(_BREAKING, f"{name}: kind changed from {old.get('kind')} to {new.get('kind')}")]
    changes: list[tuple[str, str]] = []
    if bool(old.get("async")) != bool(new.get("async")):
        changes.append((_BREAKING, f"{name}: switched between sync and async"))
    if old.get("parameters") is not None and new.get("parameters") is not None:
        changes.extend(_diff_parameters(name, old["parameters"], new["parameters"]))
    old_result, new_result = old.get("result") or {}, new.get("result") or {}
    if old_result.get("schema") != new_result.get("schema"):
        changes.append(
            _type_change(
                f"{name}: result",
                old_result.get("schema", {}),
                new_result.get("schema", {}),
                old_result.get("annotation"),
                new_result.get("annotation"),
                is_input=False,
            )
        )
    for error in sorted(set(new.get("errors", [])) - set(old.get("errors", []))):
        changes.append((_ADDITIVE, f"{name}: may now raise {error} (callers should handle it)"))
    for error in sorted(set(old.get("errors", [])) - set(new.get("errors", []))):
        changes.append((_ADDITIVE, f"{name}: no longer raises {error}"))
    return changes


def _diff_parameters(
    name: str, old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> list[tuple[str, str]]:
    changes: list[tuple[str, str]] = []
    old_by_name = {p["name"]: p for p in old}
    new_by_name = {p["name"]: p for p in new}
    positional = ("positional_only", "positional_or_keyword")

    # removed and renamed parameters (a new name in the same place is a rename)
    renamed: set[str] = set()
    for position, param in enumerate(old):
        if param["name"] in new_by_name:
            continue
        replacement = new[position]["name"] if position < len(new) else None
        if replacement is not None and replacement not in old_by_name:
            renamed.add(replacement)
            changes.append(
                (_BREAKING, f"{name}: parameter {param['name']} renamed to {replacement}")
            )
        else:
            changes.append((_BREAKING, f"{name}: removed parameter {param['name']}"))

    # new parameters
    for param in new:
        if param["name"] in old_by_name or param["name"] in renamed:
            continue
        if param.get("required"):
            changes.append((_BREAKING, f"{name}: new required parameter {param['name']}"))
        else:
            changes.append((_ADDITIVE, f"{name}: new optional parameter {param['name']}"))

    # parameters in both: position, kind, default, type
    old_positions = [p["name"] for p in old if p["kind"] in positional]
    new_positions = [p["name"] for p in new if p["kind"] in positional]
    for param_name in old_positions:
        if param_name in new_positions and old_positions.index(param_name) != new_positions.index(
            param_name
        ):
            changes.append((_BREAKING, f"{name}: parameter {param_name} moved"))
    for param_name, before in old_by_name.items():
        after = new_by_name.get(param_name)
        if after is None:
            continue
        label = f"{name}: parameter {param_name}"
        if before["kind"] != after["kind"]:
            widened = (before["kind"], after["kind"]) in _WIDENING_KINDS
            changes.append(
                (
                    _ADDITIVE if widened else _BREAKING,
                    f"{label} kind {before['kind']} -> {after['kind']}",
                )
            )
        if (
            before.get("default") is not None
            and after.get("default") is None
            and after.get("required")
        ):
            changes.append((_BREAKING, f"{label} is now required"))
        elif before.get("required") and not after.get("required"):
            changes.append((_ADDITIVE, f"{label} is now optional"))
        elif before.get("default") != after.get("default"):
            changes.append(
                (_BREAKING, f"{label} default {before.get('default')} -> {after.get('default')}")
            )
        if before.get("schema") != after.get("schema"):
            changes.append(
                _type_change(
                    label,
                    before.get("schema", {}),
                    after.get("schema", {}),
                    before.get("annotation"),
                    after.get("annotation"),
                    is_input=True,
                )
            )
    return changes


_WIDENING_KINDS = frozenset(
    {
        ("positional_only", "positional_or_keyword"),
        ("keyword_only", "positional_or_keyword"),
    }
)


def _type_change(
    label: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    before_text: str | None,
    after_text: str | None,
    *,
    is_input: bool,
) -> tuple[str, str]:
    """Inputs may widen and results may narrow; anything else breaks a caller."""
    what = f"{label} type {before_text} -> {after_text}"
    if _accepts(after, before) and is_input:
        return (_ADDITIVE, f"{what} (widened)")
    if _accepts(before, after) and not is_input:
        return (_ADDITIVE, f"{what} (narrowed)")
    if _accepts(before, after):
        return (_BREAKING, f"{what} (narrowed)")
    if _accepts(after, before):
        return (_BREAKING, f"{what} (widened)")
    return (_BREAKING, f"{what} (changed)")


def _accepts(outer: Mapping[str, Any], inner: Mapping[str, Any]) -> bool:
    """Whether every value `inner` allows is also allowed by `outer` (False when unsure)."""
    if outer == inner:
        return True
    if _opaque(outer) or _opaque(inner):
        return _anything(outer)
    if _anything(outer):
        return True
    if "anyOf" in inner:
        return all(_accepts(outer, member) for member in inner["anyOf"])
    if "anyOf" in outer:
        return any(_accepts(member, inner) for member in outer["anyOf"])
    if "enum" in inner:
        if "enum" in outer:
            return all(value in outer["enum"] for value in inner["enum"])
        return all(_value_fits(outer, value) for value in inner["enum"])
    outer_type, inner_type = outer.get("type"), inner.get("type")
    if outer_type is None or inner_type is None:
        return False
    if (outer_type, inner_type) == ("number", "integer"):
        return True
    if outer_type != inner_type:
        return False
    if outer_type == "array":
        if outer.get("uniqueItems") and not inner.get("uniqueItems"):
            return False
        return _accepts(outer.get("items", {}), inner.get("items", {}))
    if outer_type == "object":
        return _accepts(
            outer.get("additionalProperties", {}), inner.get("additionalProperties", {})
        )
    return {k: v for k, v in outer.items() if k != "description"} == {
        k: v for k, v in inner.items() if k != "description"
    }


def _opaque(schema: Mapping[str, Any]) -> bool:
    return str(schema.get("description", "")).startswith("not expressible")


def _anything(schema: Mapping[str, Any]) -> bool:
    return not schema or schema == _not_annotated()


def _value_fits(schema: Mapping[str, Any], value: Any) -> bool:
    expected = schema.get("type")
    kinds = {"string": str, "boolean": bool, "null": type(None)}
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return expected in kinds and isinstance(value, kinds[expected])


def _diff_defs(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Field changes of the data types both contracts describe."""
    changes: list[tuple[str, str]] = []
    for key in sorted(old.keys() & new.keys()):
        before, after = old[key], new[key]
        if "properties" not in before or "properties" not in after:
            if before != after:
                changes.append((_BREAKING, f"type {key} changed"))
            continue
        required_before, required_after = set(before["required"]), set(after["required"])
        for field_name in sorted(before["properties"].keys() | after["properties"].keys()):
            label = f"type {key}: field {field_name}"
            if field_name not in after["properties"]:
                changes.append((_BREAKING, f"{label} removed"))
            elif field_name not in before["properties"]:
                required = field_name in required_after
                changes.append(
                    (
                        _BREAKING if required else _ADDITIVE,
                        f"{label} added ({'required' if required else 'optional'})",
                    )
                )
            else:
                if field_name in required_after and field_name not in required_before:
                    changes.append((_BREAKING, f"{label} is now required"))
                elif field_name in required_before and field_name not in required_after:
                    changes.append((_ADDITIVE, f"{label} is now optional"))
                schema_before = before["properties"][field_name]
                schema_after = after["properties"][field_name]
                if schema_before != schema_after:
                    changes.append(
                        _type_change(label, schema_before, schema_after, None, None, is_input=True)
                    )
    return changes
