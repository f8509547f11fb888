"""Scan one file's content into a `FileFacts` record, with the standard library's `ast`.

The scan is the hot loop of every run, so it makes one pass over the tree and records
names as written; resolving them against the project is the graph stage's job. A file no
parser accepts becomes facts with `parsed=False` and a diagnostic, never an exception.
"""

from __future__ import annotations

import ast
import codecs
import io
import re
import sys
import tokenize
import warnings
from dataclasses import dataclass, field
from typing import Any

from carveout.domain.facts import (
    MUTATING_METHODS,
    AttributeRef,
    AttributeWrite,
    CallFact,
    ClassFact,
    Definition,
    Diagnostic,
    DynamicImportFact,
    EnvRead,
    FileFacts,
    Guard,
    ImportFact,
    ModuleGlobal,
    Origin,
    Parameter,
    Scope,
    StringFact,
    SysPathChange,
)

_SUPPRESSION = re.compile(r"#\s*carveout:\s*ignore\[([\w\-, ]+)\]")
_SPACE = re.compile(r"\s")  # what str.isspace() calls whitespace
_SQL = re.compile(r"\b(select|insert|update|delete)\b.*\b(from|into|set)\b", re.I | re.S)
_MUTABLE_CALLS = frozenset(
    {
        "dict",
        "list",
        "set",
        "defaultdict",
        "OrderedDict",
        "deque",
        "Counter",
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.deque",
        "collections.Counter",
        "WeakValueDictionary",
        "weakref.WeakValueDictionary",
    }
)
_DYNAMIC_IMPORTERS = frozenset({"importlib.import_module", "__import__", "builtins.__import__"})
_ENV_GETTERS = frozenset(
    {"os.getenv", "os.environ.get", "os.environ.setdefault", "os.environ.pop"}
)
_PATCHERS = frozenset({"unittest.mock.patch", "mock.patch", "patch"})
_SYS_PATH_CHANGERS = ("sys.path.append", "sys.path.insert")
# the last parts of the names `_call` looks for (in sets, and by `endswith`)
_SPECIAL_CALL_ENDS = frozenset(
    name.rpartition(".")[2]
    for name in (
        *_DYNAMIC_IMPORTERS,
        "importlib.import_module",
        *_ENV_GETTERS,
        "setattr",
        *_PATCHERS,
        ".patch",
        "monkeypatch.setattr",
        *_SYS_PATH_CHANGERS,
    )
)
_MAX_STRING = 160
_CONSTANT = re.compile(r"[A-Z][A-Z0-9_]*[A-Z0-9]")
_CONFIG_PARTS = frozenset({"config", "settings", "conf", "cfg", "configuration"})
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))
# SyntaxError messages of CPython's fixed nesting limits: newer grammar never explains them,
# so such a file is not handed to libcst
_PARSER_LIMITS = (
    "too many nested parentheses",
    "too many levels of indentation",
    "too many statically nested blocks",
    "too many nested f-strings",
)


def scan_source(data: bytes) -> FileFacts:
    """Return the facts of one file's content. Never raises for bad input."""
    text, problem = decode_source(data)
    if text is None:
        return FileFacts(lines=0, parsed=False, diagnostics=(problem,))
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    try:
        # the bytes, not the text: the parser decodes them as above, and faster than it
        # re-encodes a str
        tree = _parse(data)
    except SyntaxError as error:
        if error.msg.startswith(_PARSER_LIMITS):  # no newer grammar lifts these limits
            return _too_complex(lines, error.lineno or 1, f"Python refuses it: {error.msg}")
        return _scan_newer_grammar(text, lines, error)
    except (RecursionError, MemoryError) as error:
        return _too_complex(lines, _deepest_line(text), _exhausted(error))
    except ValueError as error:
        return _unparsable(lines, 1, f"cannot parse: {type(error).__name__}: {error}")
    try:
        return _facts_from_tree(tree, text, lines, parser="ast")
    except RecursionError as error:
        return _too_complex(lines, _deepest_line(text), _exhausted(error))


def decode_source(data: bytes) -> tuple[str | None, Diagnostic]:
    """Decode source bytes as Python does (PEP 263 cookie, BOM, UTF-8 default)."""
    text = _plain_utf8(data)
    if text is None:
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            text = data.decode(encoding)
        except (SyntaxError, LookupError, UnicodeDecodeError) as error:
            return None, Diagnostic("", 1, f"cannot decode: {error}", kind="decode-error")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, Diagnostic("", line, "source contains a null byte", kind="decode-error")
    return text, Diagnostic("", 0, "")


def _plain_utf8(data: bytes) -> str | None:
    """The text of UTF-8 source with no BOM and no encoding cookie, else None.

    The common case, decoded without `tokenize.detect_encoding`: with no "coding" in its
    first two lines (the only ones it reads) and no BOM, it answers UTF-8, and when the
    whole file decodes so do those lines."""
    if data.startswith(codecs.BOM_UTF8):
        return None
    end = data.find(b"\n")
    if end >= 0:
        end = data.find(b"\n", end + 1)
    if b"coding" in (data if end < 0 else data[:end]):
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _parse(text: str | bytes) -> ast.Module:
    """`ast.parse` without the compiler's warnings (invalid escapes are the analysed
    code's business, not a message for carveout's user)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text)


def _facts_from_tree(tree: ast.Module, text: str, lines: int, parser: str) -> FileFacts:
    # libcst's lowered source is not `text`: the version-check test always runs there
    collector = _Collector(source=text if parser == "ast" else None)
    collector.visit_body(tree.body)
    return FileFacts(
        lines=lines,
        parser=parser,
        imports=tuple(collector.imports),
        dynamic_imports=tuple(collector.dynamic_imports),
        definitions=tuple(collector.definitions),
        globals=tuple(collector.globals),
        calls=tuple(collector.calls),
        strings=tuple(collector.strings),
        env_reads=tuple(collector.env_reads),
        attribute_writes=tuple(collector.attribute_writes),
        attribute_refs=tuple(collector.attribute_refs),
        classes=tuple(collector.classes),
        sys_path_changes=tuple(collector.sys_path_changes),
        all_names=tuple(collector.all_names) if collector.all_names is not None else None,
        suppressions=_suppressions(text),
        diagnostics=tuple(collector.diagnostics),
    )


def _scan_newer_grammar(text: str, lines: int, error: SyntaxError) -> FileFacts:
    """Parse with libcst's grammar when the running `ast` rejects the file.

    libcst knows grammar newer than some interpreters (PEP 695, PEP 701). The file is
    lowered to equivalent older syntax with its lines kept, then scanned as usual.
    """
    from carveout.stages.lowering import TooComplexError, lower_to_running_grammar

    try:
        lowered = lower_to_running_grammar(text)
    except TooComplexError as too_deep:
        return _too_complex(
            lines,
            too_deep.line,
            f"{too_deep} (tried for newer grammar after Python's parser said: {error.msg}, "
            f"line {error.lineno or 1})",
        )
    if lowered is None:
        return _unparsable(lines, error.lineno or 1, f"syntax error: {error.msg}")
    try:
        tree = _parse(lowered)
    except (RecursionError, MemoryError) as exhausted:
        return _too_complex(lines, _deepest_line(text), _exhausted(exhausted))
    except (SyntaxError, ValueError) as lowered_error:
        line = getattr(lowered_error, "lineno", None) or error.lineno or 1
        return _unparsable(
            lines,
            line,
            f"syntax newer than the running Python that carveout cannot lower: "
            f"{getattr(lowered_error, 'msg', lowered_error)}",
        )
    return _facts_from_tree(tree, text, lines, parser="libcst")


def _unparsable(lines: int, line: int, message: str) -> FileFacts:
    diagnostic = Diagnostic("", line, message, kind="syntax-error")
    return FileFacts(lines=lines, parsed=False, diagnostics=(diagnostic,))


def _too_complex(lines: int, line: int, message: str) -> FileFacts:
    """A file nested beyond what a parser can take: not a syntax error of the file."""
    diagnostic = Diagnostic("", line, f"nested too deeply to parse: {message}", "too-complex")
    return FileFacts(lines=lines, parsed=False, diagnostics=(diagnostic,))


def _exhausted(error: RecursionError | MemoryError) -> str:
    if isinstance(error, RecursionError):
        return "the parser ran out of recursion depth"
    return "the parser ran out of stack (MemoryError)"


def _deepest_line(text: str) -> int:
    """The line where `text` nests deepest (tokens only, no parser)."""
    from carveout.stages.lowering import nesting_depth

    return nesting_depth(text)[1]


def _suppressions(text: str) -> tuple[tuple[int, tuple[str, ...]], ...]:
    if "carveout:" not in text:
        return ()
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _SUPPRESSION.search(line)
        if match:
            kinds = tuple(sorted(k.strip() for k in match.group(1).split(",") if k.strip()))
            found.append((number, kinds))
    return tuple(found)


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def constructed_chain(node: ast.AST) -> str | None:
    """`OpenAI().chat.completions.create` for a chain called on a fresh instance: the
    constructor's dotted name, `()` with its first literal token argument when there is
    one (`boto3.client(bedrock-runtime)`), then the attributes. Else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not parts or not isinstance(node, ast.Call):
        return None
    constructor = dotted(node.func)
    if constructor is None:
        return None
    argument = ""
    if (
        node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        token = node.args[0].value
        if token.replace("-", "").replace("_", "").isalnum() and len(token) <= 60:
            argument = token
    return f"{constructor}({argument})." + ".".join(reversed(parts))


def literal_string(node: ast.AST | None) -> tuple[str | None, bool]:
    """The string a node spells, and whether it is only a prefix (f-string, `+`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, False
    if isinstance(node, ast.JoinedStr):
        prefix = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                prefix.append(part.value)
            else:
                break
        return ("".join(prefix) or None), True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, partial = literal_string(node.left)
        if left is None:
            return None, True
        right, right_partial = literal_string(node.right)
        if right is not None and not partial:
            return left + right, right_partial
        return left, True
    return None, False


def _template(node: ast.JoinedStr) -> str:
    """An f-string's literal parts joined by "{}": `f"{base}/v1/chat"` is "{}/v1/chat"."""
    return "".join(
        str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values
    )


# The node types the collector tells apart, by exact type (parsers make no subclasses): a
# module-level name is one lookup in the hot loops instead of two.
_Name = ast.Name
_Attribute = ast.Attribute
_Constant = ast.Constant
_Call = ast.Call
_Subscript = ast.Subscript
_Compare = ast.Compare
_Await = ast.Await
_Dict = ast.Dict
_Tuple = ast.Tuple
_List = ast.List
_FormattedValue = ast.FormattedValue
_JoinedStr = ast.JoinedStr
_BinOp = ast.BinOp
_BoolOp = ast.BoolOp
_UnaryOp = ast.UnaryOp
_Lambda = ast.Lambda
_Set = ast.Set
_ListComp = ast.ListComp
_GeneratorExp = ast.GeneratorExp
_SetComp = ast.SetComp
_comprehension = ast.comprehension
_IfExp = ast.IfExp
_Assign = ast.Assign
_AnnAssign = ast.AnnAssign
_AugAssign = ast.AugAssign
_Expr = ast.Expr
_Return = ast.Return
_ImportFrom = ast.ImportFrom
_Import = ast.Import
_If = ast.If
_FunctionDef = ast.FunctionDef
_AsyncFunctionDef = ast.AsyncFunctionDef
_ClassDef = ast.ClassDef
_IMPORT = Origin.IMPORT  # an enum member, looked up once
# Records made in the hot loops are built as `_record(Record, (every field, in order))`:
# a named tuple's own constructor is a Python function, which costs more than the rest of
# building the record.
_record = tuple.__new__


@dataclass(slots=True)
class _Frame:
    scope: Scope
    guard: Guard
    function: str | None


@dataclass
class _Collector:
    """One pass over a module body, keeping the scope and guard of each statement."""

    imports: list[ImportFact] = field(default_factory=list)
    dynamic_imports: list[DynamicImportFact] = field(default_factory=list)
    definitions: list[Definition] = field(default_factory=list)
    globals: list[ModuleGlobal] = field(default_factory=list)
    calls: list[CallFact] = field(default_factory=list)
    strings: list[StringFact] = field(default_factory=list)
    env_reads: list[EnvRead] = field(default_factory=list)
    attribute_writes: list[AttributeWrite] = field(default_factory=list)
    attribute_refs: list[AttributeRef] = field(default_factory=list)
    classes: list[ClassFact] = field(default_factory=list)
    sys_path_changes: list[SysPathChange] = field(default_factory=list)
    all_names: list[str] | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # absolute names bound by `import`/`from` in this file: local name -> qualified name
    bindings: dict[str, str] = field(default_factory=dict)
    # names bound by relative imports (resolved later, but known to be modules' names)
    relative_bindings: set[str] = field(default_factory=set)
    frame: _Frame = field(default_factory=lambda: _Frame(Scope.MODULE, Guard.NONE, None))
    # the file's text, when the tree is parsed from it (else None)
    source: str | None = None
    # false when the text names none of what `_is_version_check` looks for (known once asked)
    version_names: bool | None = None

    # --- statements ----------------------------------------------------------------

    def visit_body(self, body: list[ast.stmt]) -> None:
        """Visit the statements of `body` in order (see `_walk`)."""
        self._walk(body[::-1])

    def _block(self, node: ast.stmt) -> bool:
        """Visit a statement that holds statements and that `_walk` does not handle itself;
        false for any other statement."""
        if isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            self._try(node)  # type: ignore[arg-type]
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            self._walk(_expressions(node, skip_body=True)[::-1])
            self._nested(node.body + node.orelse, conditional=True)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            self._walk([item.context_expr for item in reversed(node.items)])
            self._walk(node.body[::-1])
        elif isinstance(node, ast.Match):
            self._walk([node.subject])
            for case in node.cases:
                self._nested(case.body, conditional=True)
        else:
            return False
        return True

    def _nested(
        self, body: list[ast.stmt], *, conditional: bool, guard: Guard | None = None
    ) -> None:
        saved = self.frame
        scope = saved.scope
        if conditional and scope is Scope.MODULE:
            scope = Scope.CONDITIONAL
        if guard is None:
            guard = saved.guard
        if scope is saved.scope and guard is saved.guard:
            self._walk(body[::-1])  # the same frame (inside a function, mostly)
            return
        self.frame = _Frame(scope, guard, saved.function)
        self._walk(body[::-1])
        self.frame = saved

    def _if(self, node: ast.If) -> None:
        test = node.test
        kind = type(test)
        if kind is not _Name:
            self._walk([test])
        if (kind is _Name or kind is _Attribute) and _is_type_checking(test):
            self._nested(node.body, conditional=True, guard=Guard.TYPE_CHECKING)
            self._nested(node.orelse, conditional=True)
            return
        if (
            isinstance(test, ast.UnaryOp)
            and isinstance(test.op, ast.Not)
            and (_is_type_checking(test.operand))
        ):
            self._nested(node.body, conditional=True)
            self._nested(node.orelse, conditional=True, guard=Guard.TYPE_CHECKING)
            return
        if self._names_versions() and _is_version_check(test):
            self._nested(node.body, conditional=True, guard=Guard.VERSION_CHECK)
            self._nested(node.orelse, conditional=True, guard=Guard.VERSION_CHECK)
            return
        self._nested(node.body, conditional=True)
        if node.orelse:
            self._nested(node.orelse, conditional=True)

    def _names_versions(self) -> bool:
        """Whether a name `_is_version_check` looks for can be in the file: in ASCII source
        a name is spelt as written (the parser normalises other letters)."""
        if self.version_names is None:
            text = self.source
            self.version_names = (
                text is None
                or not text.isascii()
                or "version" in text
                or "PY2" in text
                or "PY3" in text
            )
        return self.version_names

    def _try(self, node: ast.Try) -> None:
        catches_import_error = any(_catches_import_error(h.type) for h in node.handlers)
        guard = Guard.IMPORT_ERROR if catches_import_error else None
        self._nested(node.body, conditional=True, guard=guard)
        for handler in node.handlers:
            if handler.type is not None:
                self._walk([handler.type])
            self._nested(handler.body, conditional=True, guard=guard)
        self._nested(node.orelse, conditional=True)
        self._nested(node.finalbody, conditional=True)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        # decorators, then defaults (keyword-only parameters without one hold None)
        arguments = node.args
        expressions = [*node.decorator_list, *arguments.defaults]
        expressions.extend(filter(None, arguments.kw_defaults))
        if expressions:
            self._visit_all(expressions)
        saved = self.frame
        if saved.function is None and saved.scope in (Scope.MODULE, Scope.CONDITIONAL):
            self.definitions.append(_definition(node))
        if saved.scope is Scope.FUNCTION and saved.function is not None:
            self._walk(node.body[::-1])  # inside a function already: the same frame
            return
        self.frame = _Frame(Scope.FUNCTION, saved.guard, saved.function or node.name)
        self._walk(node.body[::-1])
        self.frame = saved

    def _class(self, node: ast.ClassDef) -> None:
        keywords = [keyword.value for keyword in node.keywords]
        self._visit_all([*node.decorator_list, *node.bases, *keywords])
        if self.frame.function is None and self.frame.scope in (Scope.MODULE, Scope.CONDITIONAL):
            self.definitions.append(_definition(node))
        bases = tuple(b for b in (dotted(base) for base in node.bases) if b)
        if bases:
            self.classes.append(ClassFact(node.name, node.lineno, bases, _table_name(node)))
        saved = self.frame
        scope = Scope.FUNCTION if saved.scope is Scope.FUNCTION else Scope.CLASS
        self.frame = _Frame(scope, saved.guard, saved.function or node.name)
        self._walk(node.body[::-1])
        self.frame = saved

    def _import(self, node: ast.Import) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            target = alias.name if alias.asname else alias.name.split(".")[0]
            self.bindings[bound] = target
            self.imports.append(
                ImportFact(
                    node.lineno, alias.name, 0, None, bound, self.frame.scope, self.frame.guard
                )
            )

    def _import_from(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        line, level, scope, guard = node.lineno, node.level, self.frame.scope, self.frame.guard
        for alias in node.names:
            name = alias.name
            if name == "*":
                self.imports.append(
                    ImportFact(line, module, level, "*", None, scope, guard, Origin.STAR)
                )
                continue
            bound = alias.asname or name
            if level == 0:
                self.bindings[bound] = f"{module}.{name}"
            else:
                self.bindings.pop(bound, None)
                self.relative_bindings.add(bound)
            self.imports.append(
                _record(
                    ImportFact, (line, module, level, name, bound, scope, guard, _IMPORT, False)
                )
            )

    def _assign(self, node: ast.Assign | ast.AnnAssign | ast.AugAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else (node.target,)
        value = node.value
        for target in targets:
            if type(target) is _Name:
                if self.frame.function is None:
                    self._module_global(target.id, node, value)
            elif type(target) is _Attribute or type(target) is _Subscript:
                self._attribute_write(target, node.lineno)

    def _module_global(self, name: str, node: ast.stmt, value: ast.expr | None) -> None:
        if self.frame.scope is Scope.CLASS:
            return
        if name == "__all__" and value is not None:
            names = _string_list(value)
            if names is not None:
                if isinstance(node, ast.AugAssign) and self.all_names is not None:
                    self.all_names.extend(names)
                else:
                    self.all_names = list(names)
            return
        self.bindings.pop(name, None)
        if value is None:
            return
        constructor = None
        if isinstance(
            value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
        ):
            kind = "mutable"
        elif isinstance(value, ast.Call):
            constructor = dotted(value.func)
            kind = "mutable" if constructor in _MUTABLE_CALLS else "call"
        else:
            kind = "constant"
        self.globals.append(_record(ModuleGlobal, (name, node.lineno, kind, constructor)))

    def _attribute_write(self, target: ast.expr, line: int) -> None:
        node = target.value if type(target) is _Subscript else target
        # only a chain on a name bound by import is recorded: find its root first
        inner = node
        while type(inner) is _Attribute:
            inner = inner.value
        if type(inner) is not _Name:
            return
        root = inner.id
        if root in self.bindings or root in self.relative_bindings:
            via = "item-assign" if type(target) is _Subscript else "assign"
            self.attribute_writes.append(AttributeWrite(line, dotted(node), via))  # type: ignore[arg-type]

    # --- the walk ------------------------------------------------------------------
    #
    # A body's statements and their expressions are walked in one loop over a stack, depth
    # first. A statement pushes its expressions last to first, so that they are visited in
    # field order; an expression pushes its children first to last, so that they are visited
    # last to first: the order in which the facts are listed. The commonest node kinds are
    # told apart first and their children pushed directly; other expressions go through
    # `_children`. A statement holding statements is visited by its own method, which walks
    # each of its bodies in a frame of its own.

    def _visit_all(self, expressions: list[ast.expr]) -> None:
        """Visit `expressions` in order, each with everything inside it before the next."""
        expressions.reverse()
        self._walk(expressions)

    def _walk(self, stack: list[Any]) -> None:
        """Visit the statements and expressions `stack` holds from its top down, each with
        everything inside it before the next. A lambda's parameters are not visited, only
        its body.

        The hot loop of the scan: the commonest statements, and the checks that reject
        most strings and attribute chains, are written out here rather than in a method
        called for each. A statement's own facts come before those of its expressions."""
        pop = stack.pop
        push = stack.append
        extend = stack.extend
        strings = self.strings
        bindings = self.bindings
        relative = self.relative_bindings
        while stack:
            node = pop()
            kind = type(node)
            if kind is _Name:
                continue
            if kind is _Constant:
                value = node.value
                if type(value) is not str or not value:
                    continue
                # no whitespace: every whitespace character but the space is unprintable,
                # so the pattern is asked only about strings with unprintable characters
                if (
                    len(value) <= _MAX_STRING
                    and " " not in value
                    and (value.isprintable() or _SPACE.search(value) is None)
                ):
                    strings.append(_record(StringFact, (node.lineno, value)))
                elif len(value) <= _MAX_STRING * 4:
                    self._sql(value, node.lineno)
            elif kind is _Call:
                func = node.func
                if type(func) is _Name:
                    self._call(node, func.id)
                elif type(func) is _Attribute:
                    parts = [func.attr]
                    inner = func.value
                    while type(inner) is _Attribute:
                        parts.append(inner.attr)
                        inner = inner.value
                    if type(inner) is _Name:
                        root = inner.id
                        parts.append(root)
                        parts.reverse()
                        callee = ".".join(parts)
                        self._call(node, callee)
                        # the callee chain, read once: what it records waits for its turn
                        rest = callee[len(root) + 1 :]
                        # a capital letter, or a private part of an imported name, may make
                        # a reference (`_attribute_ref` decides)
                        if not rest.islower() or (
                            "_" in rest and (root in bindings or root in relative)
                        ):
                            ref = self._attribute_ref(func.lineno, parts, rest)
                            if ref is not None:
                                push(ref)
                    else:
                        self._call(node, constructed_chain(func))
                        push(inner)
                else:
                    push(func)  # no dotted callee: no call fact
                extend(node.args)
                for keyword in node.keywords:
                    value = keyword.value
                    if type(value) is not _Name:
                        push(value)
            elif kind is _Attribute:
                # the chain's attributes, outermost first, down to what holds them
                parts = [node.attr]
                inner = node.value
                while type(inner) is _Attribute:
                    parts.append(inner.attr)
                    inner = inner.value
                if type(inner) is not _Name:
                    push(inner)
                    continue
                root = inner.id
                joined = ".".join(parts)  # the attributes backwards: for the letter test
                if not joined.islower() or (
                    "_" in joined and (root in bindings or root in relative)
                ):
                    parts.append(root)
                    parts.reverse()
                    ref = self._attribute_ref(node.lineno, parts, ".".join(parts[1:]))
                    if ref is not None:
                        self.attribute_refs.append(ref)
            elif kind is _Expr:
                if type(node.value) is not _Name:
                    push(node.value)
            elif kind is _Assign:
                self._assign(node)
                push(node.value)  # visited after the targets
                targets = node.targets
                if len(targets) != 1:
                    extend(targets[::-1])
                elif type(targets[0]) is not _Name:
                    push(targets[0])
            elif kind is _Subscript:
                self._subscript(node)
                if type(node.value) is not _Name:
                    push(node.value)
                push(node.slice)
            elif kind is _Compare:
                if type(node.left) is not _Name:
                    push(node.left)
                extend(node.comparators)
            elif kind is _ImportFrom:
                self._import_from(node)
            elif kind is _If:
                self._if(node)
            elif kind is _Return:
                if node.value is not None and type(node.value) is not _Name:
                    push(node.value)
            elif kind is _FunctionDef or kind is _AsyncFunctionDef:
                self._function(node)
            elif kind is _Await:
                push(node.value)
            elif kind is _Dict:
                keys = node.keys
                extend(keys if None not in keys else [key for key in keys if key is not None])
                extend(node.values)
            elif kind is _Tuple or kind is _List or kind is _Set:
                extend(node.elts)
            elif kind is _FormattedValue:
                push(node.value)
                if node.format_spec is not None:
                    push(node.format_spec)
            elif kind is _JoinedStr:
                template = _template(node)
                if "/" in template and len(template) <= _MAX_STRING:
                    strings.append(StringFact(node.lineno, template))
                extend(node.values)
            elif kind is _BinOp:
                push(node.left)
                push(node.right)
            elif kind is _BoolOp:
                extend(node.values)
            elif kind is _UnaryOp:
                push(node.operand)
            elif kind is _Lambda:
                push(node.body)
            elif kind is _ListComp or kind is _GeneratorExp or kind is _SetComp:
                push(node.elt)
                extend(node.generators)
            elif kind is _comprehension:
                push(node.target)
                push(node.iter)
                extend(node.ifs)
            elif kind is _IfExp:
                push(node.test)
                push(node.body)
                push(node.orelse)
            elif kind is _AnnAssign:
                self._assign(node)
                if node.value is not None:
                    push(node.value)
                push(node.annotation)
                push(node.target)
            elif kind is _ClassDef:
                self._class(node)
            elif kind is _Import:
                self._import(node)
            elif kind is AttributeRef:  # a callee chain's, pushed above
                self.attribute_refs.append(node)
            elif kind is _AugAssign:
                self._assign(node)
                push(node.value)
                push(node.target)
            elif isinstance(node, ast.stmt):
                # any other statement: a block is visited at once, the rest pushed
                if not self._block(node):
                    extend(_expressions(node)[::-1])
            else:
                extend(_children(node))

    def _attribute_ref(self, line: int, parts: list[str], rest: str) -> AttributeRef | None:
        """What reading the chain `parts` (root first; `rest` joins all but the root)
        records, if anything. Depends only on the bindings, which no expression changes."""
        root = parts[0]
        imported = root in self.bindings or root in self.relative_bindings
        if (
            imported
            and "_" in rest
            and any(p.startswith("_") and not p.startswith("__") for p in parts[1:])
        ):
            return _record(AttributeRef, (line, ".".join(parts)))
        # a configuration read: a constant-style attribute of an imported project name
        # (`settings.OPENAI_MODEL`) or of a config object (`request.app.state.config.KEY`)
        if rest.lower() == rest:
            return None  # no capital letter: no constant-style part
        last = len(parts) - 1
        while last and not _CONSTANT.fullmatch(parts[last]):
            last -= 1
        if not last:
            return None
        through_config = not _CONFIG_PARTS.isdisjoint(parts[:last])
        bound = self.bindings.get(root)
        imported_from_project = imported and (bound is None or bound.split(".")[0] not in _STDLIB)
        if through_config or imported_from_project:
            return _record(AttributeRef, (line, ".".join(parts[: last + 1])))
        return None

    def _subscript(self, node: ast.Subscript) -> None:
        # only `os.environ`, an attribute `environ` or a name bound by import can qualify
        # to "os.environ": the rest skip `dotted`
        value = node.value
        if type(value) is _Attribute:
            if value.attr != "environ":
                return
        elif type(value) is not _Name or value.id not in self.bindings:
            return
        if self._qualify(dotted(value)) == "os.environ":
            variable, _ = literal_string(node.slice)
            if variable:
                self.env_reads.append(EnvRead(node.lineno, variable, "os.environ[]"))

    def _sql(self, value: str, line: int) -> None:
        """A string with whitespace (at most 640 characters) is kept when it looks like SQL.
        An ASCII string needs one of the pattern's first words in its lower case (the
        pattern ignores case, and matches some letters outside ASCII too)."""
        if value.isascii():
            lower = value.lower()
            if not (
                "select" in lower or "insert" in lower or "update" in lower or "delete" in lower
            ):
                return
        if _SQL.search(value):
            self.strings.append(StringFact(line, " ".join(value.split())[:400]))

    def _qualify(self, chain: str | None) -> str | None:
        if chain is None:
            return None
        root, _, rest = chain.partition(".")
        qualified = self.bindings.get(root)
        if qualified is None:
            return chain
        return f"{qualified}.{rest}" if rest else qualified

    def _call(self, node: ast.Call, callee: str | None) -> None:
        """A call whose callee is spelt `callee` (a dotted name or a constructed chain)."""
        if callee is None:
            return
        root, _, rest = callee.partition(".")  # `_qualify`, written out
        qualified = self.bindings.get(root)
        if qualified is None:
            qualified = callee
        else:
            qualified = (f"{qualified}.{rest}" if rest else qualified) or callee
        strings = []
        for argument in node.args:
            kind = type(argument)
            if kind is _Constant:
                if type(argument.value) is str:  # type: ignore[attr-defined]
                    strings.append(argument.value[:_MAX_STRING])  # type: ignore[attr-defined]
            elif kind is _JoinedStr:
                strings.append(_template(argument)[:_MAX_STRING])  # type: ignore[arg-type]
        keywords = []
        for keyword in node.keywords:
            value = keyword.value
            if not keyword.arg:
                continue
            if type(value) is _Constant:
                if isinstance(value.value, (str, int, float, bool)):
                    keywords.append((keyword.arg, str(value.value)[:_MAX_STRING]))
            elif type(value) is _JoinedStr:
                keywords.append((keyword.arg, _template(value)[:_MAX_STRING]))
        fact = (
            node.lineno,
            callee,
            tuple(strings) if strings else (),
            tuple(keywords) if keywords else (),
            self.frame.function,
        )
        self.calls.append(_record(CallFact, fact))

        # a dynamic import, an environment read, a `setattr`, a patch or a `sys.path` change;
        # each is named so that the qualified name ends in one of a few words, and the
        # name's last part is the callee's when the callee is dotted
        last = qualified.rpartition(".")[2]
        if last in _SPECIAL_CALL_ENDS:
            if qualified in _DYNAMIC_IMPORTERS or qualified.endswith("importlib.import_module"):
                self._dynamic_import(node, callee)
                return
            if qualified in _ENV_GETTERS and node.args:
                variable, _ = literal_string(node.args[0])
                if variable:
                    self.env_reads.append(EnvRead(node.lineno, variable, qualified))
                return
            if qualified == "setattr" and len(node.args) >= 2:
                target = dotted(node.args[0])
                name, _ = literal_string(node.args[1])
                bound = target.split(".")[0] if target else None
                if target and name and (bound in self.bindings or bound in self.relative_bindings):
                    self.attribute_writes.append(
                        AttributeWrite(node.lineno, f"{target}.{name}", "setattr")
                    )
                return
            if (
                qualified in _PATCHERS
                or qualified.endswith(".patch")
                or qualified.endswith("monkeypatch.setattr")
            ) and node.args:
                target, _ = literal_string(node.args[0])
                if target and "." in target and " " not in target:
                    self.attribute_writes.append(AttributeWrite(node.lineno, target, "patch"))
                return
            if qualified in _SYS_PATH_CHANGERS and node.args:
                argument = node.args[-1]
                self.sys_path_changes.append(
                    SysPathChange(node.lineno, _fold_path(argument), ast.unparse(argument)[:200])
                )
                return
        if "." in callee and last in MUTATING_METHODS:
            owner = callee.rsplit(".", 1)[0]
            root = owner.split(".")[0]
            if "." in owner and (root in self.bindings or root in self.relative_bindings):
                self.attribute_writes.append(AttributeWrite(node.lineno, owner, "mutate"))

    def _dynamic_import(self, node: ast.Call, callee: str) -> None:
        argument = node.args[0] if node.args else None
        if argument is None:
            for keyword in node.keywords:
                if keyword.arg == "name":
                    argument = keyword.value
        name, is_prefix = literal_string(argument)
        if name:
            level = len(name) - len(name.lstrip("."))
            self.imports.append(
                ImportFact(
                    node.lineno,
                    name[level:],
                    level,
                    None,
                    None,
                    self.frame.scope,
                    self.frame.guard,
                    Origin.DYNAMIC,
                    is_prefix,
                )
            )
        else:
            expression = ast.unparse(argument)[:200] if argument is not None else ""
            self.dynamic_imports.append(DynamicImportFact(node.lineno, callee, expression))


def _definition(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> Definition:
    end = getattr(node, "end_lineno", None) or node.lineno
    summary = _docstring_summary(node)
    decorators = tuple(d for d in (dotted(_callee(x)) for x in node.decorator_list) if d)
    if isinstance(node, ast.ClassDef):
        bases = tuple(b for b in (dotted(base) for base in node.bases) if b)
        return Definition(
            node.name,
            "class",
            node.lineno,
            end,
            bases=bases,
            decorators=decorators,
            docstring=summary,
        )
    kind = "async_function" if isinstance(node, ast.AsyncFunctionDef) else "function"
    return Definition(
        node.name,
        kind,
        node.lineno,
        end,
        parameters=_parameters(node.args),
        returns=_source_text(node.returns) if node.returns else None,
        decorators=decorators,
        raises=_raised_names(node),
        docstring=summary,
    )


def _docstring_summary(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str | None:
    """The first line of the docstring `ast.get_docstring` gives (at most 200 characters),
    None when it is blank or missing.

    `get_docstring` expands tabs and cleans the text with `inspect.cleandoc`, which removes
    only whitespace at the start of lines, never inside the line where the text begins, and
    blank lines at both ends: once the whole text is stripped, the first line is the same
    with or without that cleaning, which is skipped."""
    first = node.body[0] if node.body else None
    if type(first) is not ast.Expr or type(first.value) is not _Constant:
        return None
    docstring = first.value.value
    if type(docstring) is not str:
        return None
    text = docstring.expandtabs().strip()
    return text.splitlines()[0][:200] if text else None


def _expressions(node: ast.stmt, skip_body: bool = False) -> list[ast.expr]:
    """The expressions in a statement's fields, in field order (not those of the statements
    it holds; with `skip_body`, not its `body` and `orelse`)."""
    expressions: list[ast.expr] = []
    for name in node._fields:
        if skip_body and name in ("body", "orelse"):
            continue
        value = getattr(node, name, None)
        if isinstance(value, ast.expr):
            expressions.append(value)
        elif isinstance(value, list):
            expressions.extend(item for item in value if isinstance(item, ast.expr))
    return expressions


def _callee(node: ast.expr) -> ast.expr:
    return node.func if isinstance(node, ast.Call) else node


def _parameters(args: ast.arguments) -> tuple[Parameter, ...]:
    found: list[Parameter] = []
    positional_only = len(args.posonlyargs)
    positional = args.posonlyargs + args.args if positional_only else args.args
    defaults = args.defaults
    first_default = len(positional) - len(defaults)  # the last ones have defaults
    for index, arg in enumerate(positional):
        default = defaults[index - first_default] if index >= first_default else None
        kind = "positional_only" if index < positional_only else "positional_or_keyword"
        found.append(_parameter(arg, default, kind))
    if args.vararg:
        found.append(_parameter(args.vararg, None, "var_positional"))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        found.append(_parameter(arg, default, "keyword_only"))
    if args.kwarg:
        found.append(_parameter(args.kwarg, None, "var_keyword"))
    return tuple(found)


def _parameter(arg: ast.arg, default: ast.expr | None, kind: str) -> Parameter:
    annotation = arg.annotation
    return _record(
        Parameter,
        (
            arg.arg,
            None if annotation is None else _source_text(annotation),
            None if default is None else _source_text(default),
            kind,
        ),
    )


def _source_text(node: ast.expr) -> str:
    """`ast.unparse(node)`, without its cost for the common annotations and defaults."""
    text = _simple_source(node)
    return text if text is not None else ast.unparse(node)


def _simple_source(node: ast.expr, depth: int = 0) -> str | None:
    """What `ast.unparse` writes for a name, a dotted name, a plain constant, a subscript
    of a (dotted) name by such expressions (`dict[str, Any]`), or a union of them with `|`
    (`str | None`); None for anything else.

    None of these needs parentheses, with one exception left to `unparse`: a binary
    operation on the right of `|`. A subscript by one expression or by two or more holds
    no tuple parentheses; one by a 1-tuple is left to `unparse`. An expression nested
    deeper than `_SIMPLE_DEPTH` is left to `unparse` too, which then runs out of recursion
    depth where it always did."""
    if depth > _SIMPLE_DEPTH:
        return None
    if type(node) is _Name:
        return node.id
    if type(node) is _Attribute:
        return dotted(node)
    if type(node) is _Constant:
        if node.kind is None:
            value = node.value
            if value is Ellipsis:
                return "..."
            if type(value) in (str, int, bool, type(None)):
                return repr(value)
        return None
    if type(node) is _Subscript:
        if type(node.value) is not _Name and type(node.value) is not _Attribute:
            return None
        head = _simple_source(node.value, depth + 1)
        index = node.slice
        if type(index) is _Tuple:
            if len(index.elts) < 2:
                return None
            items = [_simple_source(item, depth + 1) for item in index.elts]
            inner = None if None in items else ", ".join(items)  # type: ignore[arg-type]
        else:
            inner = _simple_source(index, depth + 1)
        return None if head is None or inner is None else f"{head}[{inner}]"
    if type(node) is _BinOp and type(node.op) is ast.BitOr:
        if type(node.right) is _BinOp:
            return None
        left = _simple_source(node.left, depth + 1)
        right = _simple_source(node.right, depth + 1)
        return None if left is None or right is None else f"{left} | {right}"
    return None


_SIMPLE_DEPTH = 16


def _raised_names(node: ast.AST) -> tuple[str, ...]:
    """Names raised anywhere inside a definition, nested blocks and definitions included.

    Only statements raise, and statements sit only in statement lists, so the walk goes
    through those and never into expressions."""
    names = set()
    pending = [node]
    while pending:
        statement = pending.pop()
        if type(statement) is ast.Raise and statement.exc is not None:
            name = dotted(_callee(statement.exc))
            if name:
                names.add(name)
            continue
        fields = _STATEMENT_LIST_FIELDS.get(type(statement))
        if fields is None:
            fields = tuple(f for f in _STATEMENT_LISTS if f in type(statement)._fields)
            _STATEMENT_LIST_FIELDS[type(statement)] = fields
        for field_name in fields:
            inner = getattr(statement, field_name, None)
            if type(inner) is list:
                pending.extend(inner)
    return tuple(sorted(names))


def _table_name(node: ast.ClassDef) -> str | None:
    for statement in node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name) and target.id == "__tablename__":
                name, _ = literal_string(statement.value)
                return name
        if isinstance(statement, ast.ClassDef) and statement.name == "Meta":
            for inner in statement.body:
                if (
                    isinstance(inner, ast.Assign)
                    and isinstance(inner.targets[0], ast.Name)
                    and inner.targets[0].id == "db_table"
                ):
                    name, _ = literal_string(inner.value)
                    return name
    for keyword in node.keywords:
        if (
            keyword.arg == "table"
            and isinstance(keyword.value, ast.Constant)
            and keyword.value.value is True
        ):
            return node.name.lower()
    return None


def _string_list(node: ast.expr) -> list[str] | None:
    if isinstance(node, (ast.List, ast.Tuple)):
        names = []
        for element in node.elts:
            if not (isinstance(element, ast.Constant) and isinstance(element.value, str)):
                return None
            names.append(element.value)
        return names
    return None


def _catches_import_error(node: ast.expr | None) -> bool:
    if node is None:
        return False
    if isinstance(node, ast.Tuple):
        return any(_catches_import_error(e) for e in node.elts)
    name = dotted(node) or ""
    return name.split(".")[-1] in ("ImportError", "ModuleNotFoundError")


def _is_type_checking(test: ast.expr) -> bool:
    """`TYPE_CHECKING`, or `<any module>.TYPE_CHECKING` (typing, typing_extensions, an alias)."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _is_version_check(test: ast.expr) -> bool:
    # a name whose dotted form is one of "sys.version_info", "version_info", "PY2", "PY3",
    # "sys.version", anywhere in the test
    pending: list[ast.AST] = [test]
    while pending:
        node = pending.pop()
        kind = type(node)
        if kind is _Name:
            if node.id in ("version_info", "PY2", "PY3"):  # type: ignore[attr-defined]
                return True
        elif kind is _Attribute:
            inner = node.value  # type: ignore[attr-defined]
            if (
                node.attr in ("version_info", "version")  # type: ignore[attr-defined]
                and type(inner) is _Name
                and inner.id == "sys"
            ):
                return True
            pending.append(inner)
        else:
            pending.extend(_children(node))
    return False


def _children(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes(node)` as a list, in the same order, without the context,
    operator and comparison-operator leaves (`Load()`, `Add()`, `Eq()`: no facts, no
    children)."""
    fields = _CHILD_FIELDS.get(type(node))
    if fields is None:
        fields = tuple(f for f in node._fields if f not in ("ctx", "op", "ops"))
        _CHILD_FIELDS[type(node)] = fields
    children: list[ast.AST] = []
    for name in fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            children.append(value)
        elif type(value) is list:
            children.extend(item for item in value if isinstance(item, ast.AST))
    return children


_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
# the fields that hold statements, directly or through handlers and match cases
_STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")
# for each statement kind met, the fields of `_STATEMENT_LISTS` it has
_STATEMENT_LIST_FIELDS: dict[type, tuple[str, ...]] = {}


def _fold_path(node: ast.expr) -> str | None:
    """Fold `os.path.join(os.path.dirname(__file__), "..", "libs")` and `Path(__file__)
    .parent / "libs"` to a path relative to the file's folder ("../libs"); else None."""
    parts = _path_parts(node)
    if parts is None:
        return None
    import posixpath

    return posixpath.normpath("/".join(parts) or ".")


def _path_parts(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return None  # absolute or cwd-relative: not foldable to the file's folder
    if isinstance(node, ast.Call):
        callee = dotted(node.func) or ""
        name = callee.split(".")[-1]
        if name in ("dirname", "parent") and len(node.args) == 1:
            return _file_folder(node.args[0])
        if name in ("abspath", "realpath", "normpath", "resolve", "Path", "str") and (
            len(node.args) == 1
        ):
            return _path_parts(node.args[0])
        if name == "join" and node.args:
            base = _path_parts(node.args[0])
            if base is None:
                return None
            rest = [literal_string(a)[0] for a in node.args[1:]]
            if any(r is None for r in rest):
                return None
            return base + [r for r in rest if r is not None]
        if name == "resolve" and isinstance(node.func, ast.Attribute):
            return _path_parts(node.func.value)
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        return _file_folder(node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        base = _path_parts(node.left)
        right, partial = literal_string(node.right)
        if base is None or right is None or partial:
            return None
        return [*base, right]
    return None


def _file_folder(node: ast.expr) -> list[str] | None:
    """Parts for the folder holding `__file__`, when `node` spells `__file__` (or a
    resolved form of it)."""
    if isinstance(node, ast.Name) and node.id == "__file__":
        return []
    if isinstance(node, ast.Call):
        callee = dotted(node.func) or ""
        if callee.split(".")[-1] in ("abspath", "realpath", "Path", "resolve") and node.args:
            return _file_folder(node.args[0])
        if isinstance(node.func, ast.Attribute) and node.func.attr == "resolve":
            return _file_folder(node.func.value)
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        inner = _file_folder(node.value)
        return None if inner is None else [*inner, ".."]
    if isinstance(node, ast.Call) and (dotted(node.func) or "").endswith("dirname"):
        inner = _file_folder(node.args[0]) if node.args else None
        return None if inner is None else [*inner, ".."]
    return None
