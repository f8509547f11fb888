"""Per-file facts: what one source file says, independent of where it lives.

A scan turns file content into a `FileFacts` record. Records are immutable, hold only plain
values, and do not depend on the file's module name, so a content-hash cache can store them
and a process pool can return them. The many small records inside are named tuples: a big
monolith has a million of them, and a tuple is built from the cache several times faster
than a frozen dataclass (so records of different kinds with equal values compare equal:
never mix kinds in one set). Names are kept as written (relative imports keep their
level); the graph stage resolves them against the project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple


class Scope(str, Enum):
    """Where an import statement runs."""

    MODULE = "module"
    FUNCTION = "function"
    CLASS = "class"
    CONDITIONAL = "conditional"


class Guard(str, Enum):
    """What condition an import statement sits under."""

    NONE = "none"
    TYPE_CHECKING = "type_checking"
    IMPORT_ERROR = "import_error"
    VERSION_CHECK = "version_check"


class Origin(str, Enum):
    """How an edge between two modules came to be known."""

    IMPORT = "import"
    STAR = "star"
    IMPLICIT_PARENT = "implicit_parent"
    DYNAMIC = "dynamic"
    FRAMEWORK_STRING = "framework_string"
    ENTRY_POINT = "entry_point"


class Confidence(str, Enum):
    EXACT = "exact"
    CANDIDATE = "candidate"


# Methods that change a container in place: calling one on another module's object is a
# write to that module's state (the scan records it, the coupling detectors read it).
MUTATING_METHODS = frozenset(
    {
        "clear",
        "update",
        "append",
        "extend",
        "pop",
        "popitem",
        "setdefault",
        "add",
        "remove",
        "discard",
        "insert",
        "sort",
        "reverse",
    }
)


class ImportFact(NamedTuple):
    """One name an import statement binds, or one module it loads.

    `import a.b` gives module="a.b", name=None, bound="a".
    `import a.b as c` gives module="a.b", name=None, bound="c".
    `from ..x import y as z` gives level=2, module="x", name="y", bound="z".
    `from x import *` gives name="*", bound=None, origin=STAR.
    A dynamic import (`importlib.import_module("a.b")`) gives origin=DYNAMIC; when only a
    literal prefix is known (`f"app.plugins_{n}"`) `is_prefix` is true.
    """

    line: int
    module: str
    level: int = 0
    name: str | None = None
    bound: str | None = None
    scope: Scope = Scope.MODULE
    guard: Guard = Guard.NONE
    origin: Origin = Origin.IMPORT
    is_prefix: bool = False


class DynamicImportFact(NamedTuple):
    """A dynamic import whose target is not a literal (nor a literal prefix)."""

    line: int
    call: str
    expression: str


class Parameter(NamedTuple):
    name: str
    annotation: str | None = None
    default: str | None = None
    # positional_or_keyword, positional_only, keyword_only, var_positional, var_keyword
    kind: str = "positional_or_keyword"


class Definition(NamedTuple):
    """A top-level function or class (methods are not listed)."""

    name: str
    kind: str  # "function", "async_function", "class"
    line: int
    end_line: int
    parameters: tuple[Parameter, ...] = ()
    returns: str | None = None
    bases: tuple[str, ...] = ()
    decorators: tuple[str, ...] = ()
    raises: tuple[str, ...] = ()
    docstring: str | None = None


class ModuleGlobal(NamedTuple):
    """A name bound at module level by assignment.

    `value_kind` is "mutable" (list, dict, set literal or constructor), "call" (any other
    call: a client, an engine, a session; `constructor` names the callee as written),
    or "constant".
    """

    name: str
    line: int
    value_kind: str
    constructor: str | None = None


class CallFact(NamedTuple):
    """A call whose callee is a dotted name chain, as written (`client.images.generate`).

    `strings` holds literal string arguments (positional and keyword, f-strings reduced to
    their literal parts joined by "{}"), `keywords` the literal keyword arguments as
    (name, value) pairs; `in_function` names the enclosing top-level function or class.
    """

    line: int
    callee: str
    strings: tuple[str, ...] = ()
    keywords: tuple[tuple[str, str], ...] = ()
    in_function: str | None = None


class StringFact(NamedTuple):
    """A string literal that may matter: a dotted path, a URL or route, a model name, SQL."""

    line: int
    value: str


class EnvRead(NamedTuple):
    line: int
    variable: str
    via: str  # "os.environ[]", "os.getenv", "os.environ.get", ...


class AttributeWrite(NamedTuple):
    """A write to an attribute of a name bound by import, or a patch by dotted string.

    `target` is as written: "settings.DEBUG" for `settings.DEBUG = True`,
    "app.core.cache" for `mock.patch("app.core.cache")`; `via` says how
    ("assign", "setattr", "patch").
    """

    line: int
    target: str
    via: str


class AttributeRef(NamedTuple):
    """A dotted chain read from a name bound by import that names a private attribute
    (`llm._client.chat`), or a configuration read cut after its last constant-style part:
    `settings.OPENAI_MODEL` on an imported project name, `request.app.state.config.KEY`
    through a part named config or settings."""

    line: int
    chain: str


class ClassFact(NamedTuple):
    """A class's database identity when it looks like a model: bases and table name."""

    name: str
    line: int
    bases: tuple[str, ...]
    table: str | None = None


class SysPathChange(NamedTuple):
    """`sys.path.append/insert(...)`; `folded` is the path relative to the file's folder
    when the argument folds to a constant, else None."""

    line: int
    folded: str | None
    expression: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Something carveout could not read or decide, located at a file and line.

    Inside `FileFacts` the path is empty (facts do not know their file, so identical
    content shares one cache entry); the pipeline stamps the path when it collects them.
    """

    path: str
    line: int
    message: str
    kind: str = "warning"  # stable id: "syntax-error", "decode-error", "unresolved-import", ...


@dataclass(frozen=True, slots=True)
class FileFacts:
    """Everything the scan learnt from one file's content.

    `parsed` is false when no parser accepted the file; `diagnostics` then says why. `parser`
    is "ast" or "libcst" (newer grammar than the running interpreter's).
    """

    lines: int
    parsed: bool = True
    parser: str = "ast"
    imports: tuple[ImportFact, ...] = ()
    dynamic_imports: tuple[DynamicImportFact, ...] = ()
    definitions: tuple[Definition, ...] = ()
    globals: tuple[ModuleGlobal, ...] = ()
    calls: tuple[CallFact, ...] = ()
    strings: tuple[StringFact, ...] = ()
    env_reads: tuple[EnvRead, ...] = ()
    attribute_writes: tuple[AttributeWrite, ...] = ()
    attribute_refs: tuple[AttributeRef, ...] = ()
    classes: tuple[ClassFact, ...] = ()
    sys_path_changes: tuple[SysPathChange, ...] = ()
    all_names: tuple[str, ...] | None = None
    suppressions: tuple[tuple[int, tuple[str, ...]], ...] = ()
    diagnostics: tuple[Diagnostic, ...] = field(default=())
