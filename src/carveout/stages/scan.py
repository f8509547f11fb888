"""Scan one file's content into a `FileFacts` record, with the standard library's `ast`.

The scan is the hot loop of every run, so it makes one pass over the tree and records
names as written; resolving them against the project is the graph stage's job. A file no
parser accepts becomes facts with `parsed=False` and a diagnostic, never an exception.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
import warnings
from dataclasses import dataclass, field

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


def _parse(text: str | bytes) -> ast.Module:
    """`ast.parse` without the compiler's warnings (invalid escapes are the analysed
    code's business, not a message for carveout's user)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text)


def _facts_from_tree(tree: ast.Module, text: str, lines: int, parser: str) -> FileFacts:
    collector = _Collector()
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


@dataclass
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

    # --- statements ----------------------------------------------------------------

    def visit_body(self, body: list[ast.stmt]) -> None:
        for statement in body:
            self.visit_statement(statement)

    def visit_statement(self, node: ast.stmt) -> None:
        kind = type(node)
        if kind is ast.Expr or kind is ast.Return:  # the commonest: expressions only
            self.visit_expressions(node)
        elif isinstance(node, ast.Import):
            self._import(node)
        elif isinstance(node, ast.ImportFrom):
            self._import_from(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._function(node)
        elif isinstance(node, ast.ClassDef):
            self._class(node)
        elif isinstance(node, ast.If):
            self._if(node)
        elif isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            self._try(node)  # type: ignore[arg-type]
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            self._assign(node)
            self.visit_expressions(node)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            self.visit_expressions(node, skip_body=True)
            self._nested(node.body + node.orelse, conditional=True)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.visit_expression(item.context_expr)
            self.visit_body(node.body)
        elif isinstance(node, ast.Match):
            self.visit_expression(node.subject)
            for case in node.cases:
                self._nested(case.body, conditional=True)
        else:
            self.visit_expressions(node)

    def _nested(
        self, body: list[ast.stmt], *, conditional: bool, guard: Guard | None = None
    ) -> None:
        saved = self.frame
        scope = saved.scope
        if conditional and scope is Scope.MODULE:
            scope = Scope.CONDITIONAL
        self.frame = _Frame(scope, guard if guard is not None else saved.guard, saved.function)
        self.visit_body(body)
        self.frame = saved

    def _if(self, node: ast.If) -> None:
        self.visit_expression(node.test)
        if _is_type_checking(node.test):
            self._nested(node.body, conditional=True, guard=Guard.TYPE_CHECKING)
            self._nested(node.orelse, conditional=True)
            return
        if (
            isinstance(node.test, ast.UnaryOp)
            and isinstance(node.test.op, ast.Not)
            and (_is_type_checking(node.test.operand))
        ):
            self._nested(node.body, conditional=True)
            self._nested(node.orelse, conditional=True, guard=Guard.TYPE_CHECKING)
            return
        if _is_version_check(node.test):
            self._nested(node.body, conditional=True, guard=Guard.VERSION_CHECK)
            self._nested(node.orelse, conditional=True, guard=Guard.VERSION_CHECK)
            return
        self._nested(node.body, conditional=True)
        self._nested(node.orelse, conditional=True)

    def _try(self, node: ast.Try) -> None:
        catches_import_error = any(_catches_import_error(h.type) for h in node.handlers)
        guard = Guard.IMPORT_ERROR if catches_import_error else None
        self._nested(node.body, conditional=True, guard=guard)
        for handler in node.handlers:
            if handler.type is not None:
                self.visit_expression(handler.type)
            self._nested(handler.body, conditional=True, guard=guard)
        self._nested(node.orelse, conditional=True)
        self._nested(node.finalbody, conditional=True)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit_expression(decorator)
        for default in node.args.defaults + [d for d in node.args.kw_defaults if d]:
            self.visit_expression(default)
        top_level = self.frame.function is None and self.frame.scope in (
            Scope.MODULE,
            Scope.CONDITIONAL,
        )
        if top_level:
            self.definitions.append(_definition(node))
        saved = self.frame
        self.frame = _Frame(Scope.FUNCTION, saved.guard, saved.function or node.name)
        self.visit_body(node.body)
        self.frame = saved

    def _class(self, node: ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit_expression(decorator)
        for base in node.bases:
            self.visit_expression(base)
        for keyword in node.keywords:
            self.visit_expression(keyword.value)
        if self.frame.function is None and self.frame.scope in (Scope.MODULE, Scope.CONDITIONAL):
            self.definitions.append(_definition(node))
        bases = tuple(b for b in (dotted(base) for base in node.bases) if b)
        if bases:
            self.classes.append(ClassFact(node.name, node.lineno, bases, _table_name(node)))
        saved = self.frame
        scope = Scope.FUNCTION if saved.scope is Scope.FUNCTION else Scope.CLASS
        self.frame = _Frame(scope, saved.guard, saved.function or node.name)
        self.visit_body(node.body)
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
        for alias in node.names:
            if alias.name == "*":
                self.imports.append(
                    ImportFact(
                        node.lineno,
                        module,
                        node.level,
                        "*",
                        None,
                        self.frame.scope,
                        self.frame.guard,
                        Origin.STAR,
                    )
                )
                continue
            bound = alias.asname or alias.name
            if node.level == 0:
                self.bindings[bound] = f"{module}.{alias.name}"
            else:
                self.bindings.pop(bound, None)
                self.relative_bindings.add(bound)
            self.imports.append(
                ImportFact(
                    node.lineno,
                    module,
                    node.level,
                    alias.name,
                    bound,
                    self.frame.scope,
                    self.frame.guard,
                )
            )

    def _assign(self, node: ast.Assign | ast.AnnAssign | ast.AugAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        for target in targets:
            if isinstance(target, ast.Name) and self.frame.function is None:
                self._module_global(target.id, node, value)
            elif isinstance(target, (ast.Attribute, ast.Subscript)):
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
        self.globals.append(ModuleGlobal(name, node.lineno, kind, constructor))

    def _attribute_write(self, target: ast.expr, line: int) -> None:
        node = target.value if isinstance(target, ast.Subscript) else target
        chain = dotted(node)
        if chain is None:
            return
        root = chain.split(".")[0]
        if root in self.bindings or root in self.relative_bindings:
            via = "item-assign" if isinstance(target, ast.Subscript) else "assign"
            self.attribute_writes.append(AttributeWrite(line, chain, via))

    # --- expressions ---------------------------------------------------------------

    def visit_expressions(self, node: ast.AST, skip_body: bool = False) -> None:
        for name in node._fields:
            if skip_body and name in ("body", "orelse"):
                continue
            value = getattr(node, name, None)
            if isinstance(value, ast.expr):
                self.visit_expression(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.expr):
                        self.visit_expression(item)

    def visit_expression(self, root: ast.expr) -> None:
        # nodes are told apart by exact type (parsers make no subclasses), and children
        # come from `_children`, which leaves out the leaves that hold no facts
        stack: list[ast.AST] = [root]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is ast.Name:
                continue
            if kind is ast.Call:
                self._call(node)  # type: ignore[arg-type]
            elif kind is ast.Constant:
                if isinstance(node.value, str):  # type: ignore[attr-defined]
                    self._string(node.value, node.lineno)  # type: ignore[attr-defined]
                continue
            elif kind is ast.JoinedStr:
                template = _template(node)  # type: ignore[arg-type]
                if "/" in template and len(template) <= _MAX_STRING:
                    self.strings.append(StringFact(node.lineno, template))  # type: ignore[attr-defined]
            elif kind is ast.Subscript:
                self._subscript(node)  # type: ignore[arg-type]
            elif kind is ast.Attribute:
                self._attribute(node)  # type: ignore[arg-type]
                inner: ast.expr = node.value  # type: ignore[attr-defined]
                while isinstance(inner, ast.Attribute):
                    inner = inner.value
                stack.append(inner)
                continue
            elif kind is ast.Lambda:
                stack.append(node.body)  # type: ignore[attr-defined]
                continue
            stack.extend(_children(node))

    def _attribute(self, node: ast.Attribute) -> None:
        chain = dotted(node)
        if chain is None:
            return
        parts = chain.split(".")
        imported = parts[0] in self.bindings or parts[0] in self.relative_bindings
        if imported and any(p.startswith("_") and not p.startswith("__") for p in parts[1:]):
            self.attribute_refs.append(AttributeRef(node.lineno, chain))
            return
        # a configuration read: a constant-style attribute of an imported project name
        # (`settings.OPENAI_MODEL`) or of a config object (`request.app.state.config.KEY`)
        rest = chain.partition(".")[2]
        if rest.lower() == rest:
            return  # no capital letter: no constant-style part
        last = max((i for i, p in enumerate(parts) if i and _CONSTANT.fullmatch(p)), default=0)
        if not last:
            return
        through_config = not _CONFIG_PARTS.isdisjoint(parts[:last])
        bound = self.bindings.get(parts[0])
        imported_from_project = imported and (bound is None or bound.split(".")[0] not in _STDLIB)
        if through_config or imported_from_project:
            self.attribute_refs.append(AttributeRef(node.lineno, ".".join(parts[: last + 1])))

    def _subscript(self, node: ast.Subscript) -> None:
        if self._qualify(dotted(node.value)) == "os.environ":
            variable, _ = literal_string(node.slice)
            if variable:
                self.env_reads.append(EnvRead(node.lineno, variable, "os.environ[]"))

    def _string(self, value: str, line: int) -> None:
        if not value or len(value) > _MAX_STRING * 4:
            return
        if len(value) <= _MAX_STRING and _SPACE.search(value) is None:
            self.strings.append(StringFact(line, value))
        elif _SQL.search(value):
            self.strings.append(StringFact(line, " ".join(value.split())[:400]))

    def _qualify(self, chain: str | None) -> str | None:
        if chain is None:
            return None
        root, _, rest = chain.partition(".")
        qualified = self.bindings.get(root)
        if qualified is None:
            return chain
        return f"{qualified}.{rest}" if rest else qualified

    def _call(self, node: ast.Call) -> None:
        callee = dotted(node.func) or constructed_chain(node.func)
        if callee is None:
            return
        qualified = self._qualify(callee) or callee
        strings = []
        for argument in node.args:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                strings.append(argument.value[:_MAX_STRING])
            elif isinstance(argument, ast.JoinedStr):
                strings.append(_template(argument)[:_MAX_STRING])
        keywords = []
        for keyword in node.keywords:
            value = keyword.value
            if (
                keyword.arg
                and isinstance(value, ast.Constant)
                and isinstance(value.value, (str, int, float, bool))
            ):
                keywords.append((keyword.arg, str(value.value)[:_MAX_STRING]))
            elif keyword.arg and isinstance(value, ast.JoinedStr):
                keywords.append((keyword.arg, _template(value)[:_MAX_STRING]))
        self.calls.append(
            CallFact(node.lineno, callee, tuple(strings), tuple(keywords), self.frame.function)
        )

        if qualified in _DYNAMIC_IMPORTERS or qualified.endswith("importlib.import_module"):
            self._dynamic_import(node, callee)
        elif qualified in _ENV_GETTERS and node.args:
            variable, _ = literal_string(node.args[0])
            if variable:
                self.env_reads.append(EnvRead(node.lineno, variable, qualified))
        elif qualified == "setattr" and len(node.args) >= 2:
            target = dotted(node.args[0])
            name, _ = literal_string(node.args[1])
            root = target.split(".")[0] if target else None
            if target and name and (root in self.bindings or root in self.relative_bindings):
                self.attribute_writes.append(
                    AttributeWrite(node.lineno, f"{target}.{name}", "setattr")
                )
        elif (
            qualified in _PATCHERS
            or qualified.endswith(".patch")
            or qualified.endswith("monkeypatch.setattr")
        ) and node.args:
            target, _ = literal_string(node.args[0])
            if target and "." in target and " " not in target:
                self.attribute_writes.append(AttributeWrite(node.lineno, target, "patch"))
        elif qualified in ("sys.path.append", "sys.path.insert") and node.args:
            argument = node.args[-1]
            self.sys_path_changes.append(
                SysPathChange(node.lineno, _fold_path(argument), ast.unparse(argument)[:200])
            )
        elif "." in callee and callee.rsplit(".", 1)[1] in MUTATING_METHODS:
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
    docstring = ast.get_docstring(node)
    summary = docstring.strip().splitlines()[0][:200] if docstring and docstring.strip() else None
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


def _callee(node: ast.expr) -> ast.expr:
    return node.func if isinstance(node, ast.Call) else node


def _parameters(args: ast.arguments) -> tuple[Parameter, ...]:
    found: list[Parameter] = []
    positional = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    for index, (arg, default) in enumerate(zip(positional, defaults, strict=True)):
        kind = "positional_only" if index < len(args.posonlyargs) else "positional_or_keyword"
        found.append(_parameter(arg, default, kind))
    if args.vararg:
        found.append(_parameter(args.vararg, None, "var_positional"))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        found.append(_parameter(arg, default, "keyword_only"))
    if args.kwarg:
        found.append(_parameter(args.kwarg, None, "var_keyword"))
    return tuple(found)


def _parameter(arg: ast.arg, default: ast.expr | None, kind: str) -> Parameter:
    return Parameter(
        arg.arg,
        _source_text(arg.annotation) if arg.annotation else None,
        _source_text(default) if default is not None else None,
        kind,
    )


def _source_text(node: ast.expr) -> str:
    """`ast.unparse(node)`, without its cost for the common annotations and defaults: a
    name, a dotted name, a plain constant."""
    kind = type(node)
    if kind is ast.Name:
        return node.id  # type: ignore[attr-defined]
    if kind is ast.Constant and node.kind is None:  # type: ignore[attr-defined]
        value = node.value  # type: ignore[attr-defined]
        if value is Ellipsis:
            return "..."
        if type(value) in (str, int, bool, type(None)):
            return repr(value)
    elif kind is ast.Attribute:
        chain = dotted(node)
        if chain is not None:
            return chain
    return ast.unparse(node)


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
        for field_name in _STATEMENT_LISTS:
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
    pending: list[ast.AST] = [test]
    while pending:
        node = pending.pop()
        chain = dotted(node) if isinstance(node, (ast.Attribute, ast.Name)) else None
        if chain in ("sys.version_info", "version_info", "PY2", "PY3", "sys.version"):
            return True
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
