"""Lower grammar newer than the running interpreter's to equivalent older syntax.

Used only for files the running `ast` rejects: libcst parses them with its own grammar and
the rewritten source keeps every statement on its original line, so facts keep their lines.
"""

from __future__ import annotations

import ast
import io
import logging
import sys
import tokenize
import warnings
from collections.abc import Sequence

import libcst as cst

log = logging.getLogger(__name__)

_EMPTY_MODULE = cst.Module(body=[])

# The deepest nesting (in `nesting_depth` units) handed to libcst's native parser, which
# has no depth check of its own: libcst 1.9 overflows an 8 MiB stack (a segfault, not an
# exception) from about 5,900 units, met first by 5,900 chained attributes; 1,300 nested
# brackets (6,500), 3,500 nested lambdas (7,000) and 7,000 `+` terms follow. The bound keeps
# a fourfold margin for smaller stacks and still admits anything CPython itself can parse
# (at most 200 open brackets, 100 indentation levels).
MAX_LIBCST_DEPTH = 1500
_BRACKET_UNITS = 5  # an open bracket or block costs the native parser about five operators
_OPERATOR_WORDS = frozenset(
    {"and", "or", "not", "in", "is", "if", "else", "for", "async", "await", "lambda", "yield"}
)
_OPENING = frozenset({"(", "[", "{"})
_CLOSING = frozenset({")", "]", "}"})
# f-string (3.12) and t-string (3.14) tokens that open and close a nested literal
_STRING_STARTS = frozenset(
    getattr(tokenize, name)
    for name in ("FSTRING_START", "TSTRING_START")
    if hasattr(tokenize, name)
)
_STRING_ENDS = frozenset(
    getattr(tokenize, name) for name in ("FSTRING_END", "TSTRING_END") if hasattr(tokenize, name)
)


class TooComplexError(Exception):
    """The source nests deeper than a parser can take without overflowing its stack.

    `line` is where the nesting is deepest (1-based); the message says how deep.
    """

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def lower_to_running_grammar(text: str) -> str | None:
    """Return `text` rewritten so the running `ast` accepts it, or None when it cannot be.

    What is lowered, and only when the running interpreter lacks it:
    - PEP 695 `type X[T] = ...` becomes `X = ...`; type-parameter lists on `def` and `class`
      are dropped (Python 3.12);
    - PEP 701 f-strings the running grammar rejects (nested quotes, backslashes or comments
      in replacement fields) become an equivalent concatenation of literals and `format()`
      calls, whole implicit concatenations included (Python 3.12);
    - `except*` becomes `except` (Python 3.11).
    Every rewrite keeps the number of lines of the code it replaces, so each statement stays
    on its line. None means libcst rejects the text too, or it holds a construct this module
    does not lower; errors inside the rewriting itself propagate (they are carveout's bugs).
    """
    return lower(text, sys.version_info[:2])


def lower(text: str, version: tuple[int, int]) -> str | None:
    """`lower_to_running_grammar` for an interpreter of `version` (major, minor).

    The f-string rewrite asks the running `ast` what it accepts, whatever `version` says.
    Raises `TooComplexError` instead of handing libcst a text nested deeper than
    `MAX_LIBCST_DEPTH` (its native parser would crash the process), and when libcst or the
    rewrite runs out of recursion depth.
    """
    depth, line = nesting_depth(text)
    if depth > MAX_LIBCST_DEPTH:
        raise TooComplexError(
            line, f"depth {depth}, over the limit of {MAX_LIBCST_DEPTH} for libcst"
        )
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        log.debug("libcst rejects the source too: %s", error)
        return None
    except (RecursionError, MemoryError) as error:
        raise TooComplexError(line, "libcst ran out of stack") from error
    try:
        return module.visit(_Lowering(version)).code
    except _CannotLower as reason:
        log.debug("cannot lower: %s", reason)
        return None
    except RecursionError as error:
        raise TooComplexError(line, "the rewrite ran out of recursion depth") from error


def nesting_depth(text: str) -> tuple[int, int]:
    """How deeply `text` nests, read from its tokens, and the first line where it is deepest.

    A cheap, generous stand-in for the depth of the syntax tree a parser builds: within one
    statement, each operator, operator keyword and trailer (`.b`, `(...)`, `[...]`) adds one
    unit until a comma at its bracket level ends the element; each open bracket, f-string
    and indented block adds `_BRACKET_UNITS`. Flat data (a list of a million numbers) stays
    shallow. Tokenizing stops where the tokenizer gives up (libcst's stops there too); a
    tokenizer that refuses the nesting itself (3.12+: "too many nested parentheses") makes
    the depth exceed `MAX_LIBCST_DEPTH` at that line.
    """
    deepest, deepest_line = 0, 1
    chains = [0]  # per open bracket: operators and trailers since the last comma
    chained = blocks = 0  # sum(chains); indentation levels
    previous_string = False
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, string = token.type, token.string
            extra = 0
            if (kind == tokenize.OP and string in _OPENING) or kind in _STRING_STARTS:
                chains.append(0)
            elif (kind == tokenize.OP and string in _CLOSING) or kind in _STRING_ENDS:
                if len(chains) > 1:
                    chained -= chains.pop()
                chains[-1] += 2  # a trailer: a call or subscript wraps what came before
                chained += 2
            elif kind == tokenize.OP and string == ",":
                chained -= chains[-1]
                chains[-1] = 0
            elif kind == tokenize.OP or (kind == tokenize.NAME and string in _OPERATOR_WORDS):
                chains[-1] += 1
                chained += 1
            elif kind == tokenize.NEWLINE:
                chains, chained = [0], 0
            elif kind == tokenize.INDENT:
                blocks += 1
            elif kind == tokenize.DEDENT:
                blocks -= 1
            elif kind == tokenize.STRING:
                # implicit concatenation nests; an f-string's fields are not tokenized here
                extra = _bracket_depth(string) * _BRACKET_UNITS if "f" in _prefix(string) else 0
                if previous_string:
                    chains[-1] += 1
                    chained += 1
            if kind not in (tokenize.NL, tokenize.COMMENT):
                previous_string = kind == tokenize.STRING
            depth = _BRACKET_UNITS * (len(chains) - 1 + blocks) + chained + extra
            if depth > deepest:
                deepest, deepest_line = depth, token.start[0]
    except (tokenize.TokenError, SyntaxError) as error:
        line = getattr(error, "lineno", None) or deepest_line
        if "too many" in str(error):
            return max(deepest, MAX_LIBCST_DEPTH + 1), line
    return deepest, deepest_line


# --- private helpers --------------------------------------------------------------------


class _CannotLower(Exception):
    """The source uses a construct this module does not rewrite."""


class _Lowering(cst.CSTTransformer):
    """Rewrites the nodes the running grammar lacks, keeping their line counts."""

    def __init__(self, version: tuple[int, int]) -> None:
        super().__init__()
        self.version = version
        # ids of string nodes that are parts of an implicit concatenation: the outermost
        # concatenation is rewritten as a whole, never a part on its own
        self.concatenated: set[int] = set()

    # --- PEP 695 --------------------------------------------------------------------

    def leave_TypeAlias(
        self, original_node: cst.TypeAlias, updated_node: cst.TypeAlias
    ) -> cst.BaseSmallStatement:
        if self.version >= (3, 12):
            return updated_node
        assignment = cst.Assign(
            targets=[cst.AssignTarget(target=updated_node.name)],
            value=updated_node.value,
            semicolon=updated_node.semicolon,
        )
        missing = _newlines(original_node) - _newlines(assignment)
        if missing:
            value = updated_node.value
            assignment = assignment.with_changes(
                value=value.with_changes(
                    lpar=[cst.LeftParen(whitespace_after=_line_breaks(missing)), *value.lpar],
                    rpar=[*value.rpar, cst.RightParen()],
                )
            )
        return assignment

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        if self.version >= (3, 12) or updated_node.type_parameters is None:
            return updated_node
        lowered = updated_node.with_changes(
            type_parameters=None, whitespace_after_type_parameters=cst.SimpleWhitespace("")
        )
        missing = _newlines(updated_node) - _newlines(lowered)
        if missing:
            lowered = lowered.with_changes(
                whitespace_before_params=_with_line_breaks(
                    lowered.whitespace_before_params, missing
                )
            )
        return lowered

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        if self.version >= (3, 12) or updated_node.type_parameters is None:
            return updated_node
        lowered = updated_node.with_changes(
            type_parameters=None, whitespace_after_type_parameters=cst.SimpleWhitespace("")
        )
        missing = _newlines(updated_node) - _newlines(lowered)
        if missing:
            if isinstance(lowered.lpar, cst.LeftParen):
                lpar = lowered.lpar.with_changes(
                    whitespace_after=_with_line_breaks(lowered.lpar.whitespace_after, missing)
                )
                lowered = lowered.with_changes(lpar=lpar)
            else:
                lowered = lowered.with_changes(
                    lpar=cst.LeftParen(whitespace_after=_line_breaks(missing)),
                    rpar=cst.RightParen(),
                )
        return lowered

    # --- except* --------------------------------------------------------------------

    def leave_TryStar(
        self, original_node: cst.TryStar, updated_node: cst.TryStar
    ) -> cst.BaseStatement:
        if self.version >= (3, 11):
            return updated_node
        handlers = [
            cst.ExceptHandler(
                body=handler.body,
                type=handler.type,
                name=handler.name,
                leading_lines=handler.leading_lines,
                whitespace_after_except=handler.whitespace_after_star,
                whitespace_before_colon=handler.whitespace_before_colon,
            )
            for handler in updated_node.handlers
        ]
        return cst.Try(
            body=updated_node.body,
            handlers=handlers,
            orelse=updated_node.orelse,
            finalbody=updated_node.finalbody,
            leading_lines=updated_node.leading_lines,
            whitespace_before_colon=updated_node.whitespace_before_colon,
        )

    # --- PEP 701 --------------------------------------------------------------------

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
        self.concatenated.add(id(node.left))
        self.concatenated.add(id(node.right))
        return True

    def leave_ConcatenatedString(
        self, original_node: cst.ConcatenatedString, updated_node: cst.ConcatenatedString
    ) -> cst.BaseExpression:
        return self._lower_string(original_node, updated_node)

    def leave_FormattedString(
        self, original_node: cst.FormattedString, updated_node: cst.FormattedString
    ) -> cst.BaseExpression:
        return self._lower_string(original_node, updated_node)

    def _lower_string(
        self,
        original_node: cst.ConcatenatedString | cst.FormattedString,
        updated_node: cst.ConcatenatedString | cst.FormattedString,
    ) -> cst.BaseExpression:
        if id(original_node) in self.concatenated or _accepted(_code(updated_node)):
            return updated_node
        pieces = _string_pieces(updated_node)
        code = " + ".join(pieces) if pieces else '""'
        missing = _newlines(original_node) - code.count("\n")
        if missing < 0:
            raise _CannotLower(f"an f-string's rewrite needs more lines: {_code(original_node)}")
        lowered = cst.parse_expression(f"({code}{chr(10) * missing})")
        return lowered.with_changes(
            lpar=[*updated_node.lpar, *lowered.lpar], rpar=[*lowered.rpar, *updated_node.rpar]
        )


def _prefix(string: str) -> str:
    """The lower-cased prefix letters of a string token (`rb`, `f`, ...)."""
    return string[: len(string) - len(string.lstrip("rRbBuUfFtT"))].lower()


def _bracket_depth(string: str) -> int:
    """The deepest run of open brackets in a token's characters (never below zero)."""
    depth = deepest = 0
    for character in string:
        if character in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
        elif character in _CLOSING and depth:
            depth -= 1
    return deepest


def _string_pieces(node: cst.BaseExpression) -> list[str]:
    """Old-grammar code of the parts of a string atom, to be joined with `+`."""
    if isinstance(node, cst.ConcatenatedString):
        return _string_pieces(node.left) + _string_pieces(node.right)
    if isinstance(node, cst.SimpleString):
        return [_code(node.with_changes(lpar=[], rpar=[]))]
    if isinstance(node, cst.FormattedString):
        bare = node.with_changes(lpar=[], rpar=[])
        if _accepted(_code(bare)):
            return [_code(bare)]
        return _formatted_pieces(node.parts, node.start)
    raise _CannotLower(f"unexpected string part {type(node).__name__}")


def _formatted_pieces(parts: Sequence[cst.BaseFormattedStringContent], start: str) -> list[str]:
    """An f-string's parts as literals and `format(value, spec)` calls."""
    prefix = "".join(c for c in start if c.isalpha() and c not in "fF")
    quote = start.lstrip("rRbBuUfF")
    pieces = []
    for part in parts:
        if isinstance(part, cst.FormattedStringText):
            if part.value:
                pieces.append(repr(_literal(prefix, quote, part.value)))
            continue
        if not isinstance(part, cst.FormattedStringExpression):
            raise _CannotLower(f"unexpected f-string part {type(part).__name__}")
        expression = f"({_code(part.expression)})"
        if part.equal is not None:
            written = (
                _code(part.whitespace_before_expression)
                + _code(part.expression)
                + _code(part.whitespace_after_expression)
                + _code(part.equal)
            )
            pieces.append(repr(written))
        conversion = part.conversion
        if conversion is None and part.equal is not None and part.format_spec is None:
            conversion = "r"
        if conversion is not None:
            function = {"r": "repr", "s": "str", "a": "ascii"}.get(conversion)
            if function is None:
                raise _CannotLower(f"unknown conversion !{conversion}")
            expression = f"{function}{expression}"
        spec_pieces = _formatted_pieces(part.format_spec, start) if part.format_spec else []
        spec = " + ".join(spec_pieces) if spec_pieces else '""'
        pieces.append(f"format({expression}, {spec})")
    return pieces


def _literal(prefix: str, quote: str, text: str) -> str:
    """The value of an f-string's literal text (`{{` is one brace)."""
    source = prefix + quote + text.replace("{{", "{").replace("}}", "}") + quote
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ast.literal_eval(source)
    except (SyntaxError, ValueError) as error:
        raise _CannotLower(f"f-string text {text!r}: {error}") from error
    if not isinstance(value, str):
        raise _CannotLower(f"f-string text {text!r} is not a str")
    return value


def _accepted(code: str) -> bool:
    """Whether the running `ast` accepts `code` as an expression."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(f"({code}\n)", mode="eval")
    except (SyntaxError, ValueError):
        return False
    return True


def _code(node: cst.CSTNode) -> str:
    return _EMPTY_MODULE.code_for_node(node)


def _newlines(node: cst.CSTNode) -> int:
    return _code(node).count("\n")


def _line_breaks(count: int) -> cst.ParenthesizedWhitespace:
    """Whitespace after an opening bracket that spans `count` line breaks."""
    return cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(),
        empty_lines=[cst.EmptyLine(indent=False) for _ in range(count - 1)],
        indent=False,
        last_line=cst.SimpleWhitespace(""),
    )


def _with_line_breaks(
    whitespace: cst.BaseParenthesizableWhitespace, count: int
) -> cst.BaseParenthesizableWhitespace:
    """`whitespace` (after an opening bracket) with `count` more line breaks in front."""
    if isinstance(whitespace, cst.ParenthesizedWhitespace):
        extra = [cst.EmptyLine(indent=False) for _ in range(count)]
        return whitespace.with_changes(empty_lines=[*extra, *whitespace.empty_lines])
    breaks = _line_breaks(count)
    if isinstance(whitespace, cst.SimpleWhitespace):
        return breaks.with_changes(last_line=whitespace)
    return breaks
