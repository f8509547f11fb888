"""Facades, versioned contracts and contract tests generated from small real packages."""

from __future__ import annotations

import ast
import functools
import json
import re
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import libcst as cst
import pytest

from carveout.domain.model import GeneratedFile, Service, SurfaceName
from carveout.stages.contracts import (
    diff_contracts,
    generate_contracts,
    next_version,
    schema_for_annotation,
)
from helpers_gen import (
    AI_SERVICE,
    GOLDEN,
    KIT_SERVICE,
    KIT_TREE,
    SHOP_TREE,
    check_golden,
    run,
    sources_of,
    write_tree,
)


def generate(tree: dict[str, str], service: Service) -> dict[str, str]:
    """Generated files of one service, by file name (facade.py, contract.v1.json, ...)."""
    sources = sources_of(tree)
    files = generate_contracts([service], sources, project_modules=frozenset(sources))
    return {Path(f.path).name: f.text for f in files}


# --- golden files -----------------------------------------------------------------------

CASES = {"shop_ai": (SHOP_TREE, AI_SERVICE), "kit_llm": (KIT_TREE, KIT_SERVICE)}
GOLDEN_FILES = [
    ("shop_ai", "facade.py"),
    ("shop_ai", "contract.v1.json"),
    ("shop_ai", "test_contract.py"),
    ("kit_llm", "facade.py"),
    ("kit_llm", "contract.v1.json"),
]


@pytest.mark.parametrize(("case", "artifact"), GOLDEN_FILES)
def test_generated_file_matches_golden(case: str, artifact: str) -> None:
    generated = generate(*CASES[case])
    check_golden(GOLDEN / "contracts" / f"{case}.{artifact}.golden", generated[artifact])


def test_every_golden_file_belongs_to_a_case() -> None:
    on_disk = {path.name for path in (GOLDEN / "contracts").glob("*.golden")}
    assert on_disk == {f"{case}.{artifact}.golden" for case, artifact in GOLDEN_FILES}


# --- proving the generated code ----------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_files_parse_and_regenerate_identically(case: str) -> None:
    tree, service = CASES[case]
    first = generate(tree, service)
    shuffled = replace(service, surface=tuple(reversed(service.surface)))
    assert generate(tree, shuffled) == first
    for name, text in first.items():
        if name.endswith(".py"):
            cst.parse_module(text)
            ast.parse(text)
        else:
            assert text.endswith("}\n")
            json.loads(text)


def test_paths_are_per_service_and_services_are_sorted() -> None:
    sources = sources_of(SHOP_TREE) | sources_of(KIT_TREE)
    files = generate_contracts(
        [AI_SERVICE, KIT_SERVICE][::-1], sources, project_modules=frozenset(sources)
    )
    assert [f.path for f in files] == [
        "contracts/ai/facade.py",
        "contracts/ai/contract.v1.json",
        "contracts/ai/test_contract.py",
        "contracts/llm/facade.py",
        "contracts/llm/contract.v1.json",
        "contracts/llm/test_contract.py",
    ]
    assert all(isinstance(f, GeneratedFile) for f in files)


def test_facade_exposes_exactly_the_surface_sorted() -> None:
    facade = ast.parse(generate(SHOP_TREE, AI_SERVICE)["facade.py"])
    exported = next(
        node.value
        for node in facade.body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__"
    )
    assert ast.literal_eval(exported) == [
        "SummaryRequest",
        "is_allowed",
        "prompts",
        "stream_summary",
        "summarise",
    ]
    assert isinstance(facade.body[1], ast.ImportFrom) and facade.body[1].module == "__future__"


# --- the facade and contract test run against the real package --------------------------


def test_facade_imports_and_contract_test_passes_then_catches_a_changed_signature(
    tmp_path: Path,
) -> None:
    project = write_tree(tmp_path / "project", SHOP_TREE)
    out = tmp_path / "out"
    for name, text in generate(SHOP_TREE, AI_SERVICE).items():
        (out / "contracts" / "ai").mkdir(parents=True, exist_ok=True)
        (out / "contracts" / "ai" / name).write_text(text, encoding="utf-8")

    # the facade, placed where the rules expect it, imports and delegates
    (project / "shop" / "ai_facade.py").write_text(
        (out / "contracts" / "ai" / "facade.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    script = textwrap.dedent("""\
        import asyncio
        import shop.ai_facade as f
        request = f.SummaryRequest(text="one two three four")
        print(f.summarise(request, budget=100).text)
        async def collect():
            return [part async for part in f.stream_summary(request, chunk=2)]
        print(asyncio.run(collect()))
        print(f.prompts.render("Ada"), f.is_allowed("ok"))
    """)
    imported = run([sys.executable, "-c", script], tmp_path, pythonpath=project)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines() == [
        "one two three four",
        "['one two', 'three four']",
        "You are a helpful shop assistant. The customer is Ada. True",
    ]

    # the generated contract test passes on today's implementation
    test_file = out / "contracts" / "ai" / "test_contract.py"
    pytest_args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)]
    passed = run(pytest_args, out, pythonpath=project)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "3 passed" in passed.stdout

    # ... and fails once the implementation renames a parameter and drops an annotation
    summary = project / "shop" / "ai" / "summary.py"
    changed = summary.read_text(encoding="utf-8").replace(
        "budget: Optional[int] = None", "limit: Optional[int] = None"
    )
    moderation = project / "shop" / "ai" / "moderation.py"
    moderation.write_text(
        moderation.read_text(encoding="utf-8").replace("threshold: float", "threshold: int"),
        encoding="utf-8",
    )
    summary.write_text(changed, encoding="utf-8")
    failed = run(pytest_args, out, pythonpath=project)
    assert failed.returncode == 1, failed.stdout
    assert "parameters ['request', 'model', 'limit', 'headers']" in failed.stdout
    assert "is_allowed(threshold): annotation <class 'int'>" in failed.stdout


# --- the contract document ---------------------------------------------------------------


def contract_of(tree: dict[str, str], service: Service) -> dict[str, Any]:
    return json.loads(generate(tree, service)["contract.v1.json"])


def operation(contract: dict[str, Any], name: str) -> dict[str, Any]:
    return next(op for op in contract["operations"] if op["name"] == name)


def test_contract_records_signature_errors_and_where_each_name_lives() -> None:
    contract = contract_of(SHOP_TREE, AI_SERVICE)
    assert (contract["contract"], contract["service"], contract["version"]) == (
        "carveout.contract/1",
        "ai",
        "1.0.0",
    )
    summarise = operation(contract, "summarise")
    assert summarise["implementation"] == "shop.ai:summarise"
    assert [
        (p["name"], p["kind"], p["required"], p["default"]) for p in summarise["parameters"]
    ] == [
        ("request", "positional_or_keyword", True, None),
        ("model", "keyword_only", False, "DEFAULT_MODEL"),
        ("budget", "keyword_only", False, "None"),
        ("headers", "keyword_only", False, "None"),
    ]
    assert summarise["errors"] == ["ValueError", "shop.ai.types.QuotaExceeded"]
    assert summarise["result"] == {
        "annotation": "Summary",
        "schema": {"$ref": "#/$defs/shop.ai.types.Summary"},
    }
    errors = {e["name"]: e for e in contract["errors"]}
    assert errors["ValueError"]["description"] == "when the request has no text."
    assert errors["shop.ai.types.QuotaExceeded"]["retryable"] is None
    assert operation(contract, "prompts")["kind"] == "module"
    assert operation(contract, "stream_summary")["async"] is True
    request = operation(contract, "SummaryRequest")
    assert request["class_kind"] == "dataclass"
    assert [p["name"] for p in request["parameters"]] == [
        "text",
        "max_words",
        "style",
        "tags",
        "locale",
    ]


def test_contract_schemas_are_valid_and_validate_requests() -> None:
    contract = contract_of(SHOP_TREE, AI_SERVICE)
    request_schema = operation(contract, "summarise")["parameters"][0]["schema"]
    schema = {"$defs": contract["$defs"], **request_schema}
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"text": "hello", "style": "bullets", "tags": ["a"]})
    assert not validator.is_valid({"max_words": 3})  # text is required
    assert not validator.is_valid({"text": "hello", "style": "long"})  # not in the Literal
    for op in contract["operations"]:
        for param in op["parameters"] or []:
            jsonschema.Draft202012Validator.check_schema(
                {"$defs": contract["$defs"], **param["schema"]}
            )


def test_unreadable_sources_are_re_exported_with_a_note() -> None:
    contract = contract_of(KIT_TREE, KIT_SERVICE)
    broken = operation(contract, "oops")
    assert broken["kind"] == "unknown"
    assert broken["notes"][0].startswith("kit.broken could not be parsed")
    missing = operation(contract, "nowhere")
    assert missing["notes"] == [
        "nowhere is not bound at module level in kit.llm.client: re-exported as is"
    ]
    facade = generate(KIT_TREE, KIT_SERVICE)["facade.py"]
    assert "from kit.broken import oops\n" in facade
    assert 'def run(job: "Job", retries=len([])) -> None:' in facade
    assert "# Annotation kept as a string: Job is not bound in kit.legacy." in facade


def test_missing_source_module_still_gives_a_facade() -> None:
    service = Service("ai", ("shop.ai.gone",), (), (SurfaceName("shop.ai.gone", "f", ("x",)),), ())
    files = generate_contracts([service], {}, project_modules=frozenset({"shop.ai.gone"}))
    contract = json.loads(files[1].text)
    assert contract["operations"][0]["notes"] == [
        "no source for shop.ai.gone: re-exported without reading its definition"
    ]
    assert "from shop.ai.gone import f\n" in files[0].text


def test_modules_an_import_statement_cannot_name_are_reached_through_importlib(
    tmp_path: Path,
) -> None:
    tree = {
        "db/__init__.py": "",
        "db/versions/__init__.py": "",
        "db/versions/0001_init.py": "def upgrade(step: int = 1) -> int:\n    return step + 1\n",
    }
    service = Service(
        "migrations",
        ("db.versions.0001_init",),
        (),
        (
            SurfaceName("db.versions.0001_init", "upgrade", ("db",)),
            SurfaceName("db.versions.0001_init", "*", ("db",)),
        ),
        (),
    )
    facade = generate(tree, service)["facade.py"]
    assert "import importlib\n" in facade
    assert '_db_versions_0001_init = importlib.import_module("db.versions.0001_init")' in facade
    assert "versions_0001_init = _db_versions_0001_init\n" in facade  # an identifier name
    project = write_tree(tmp_path, {**tree, "db/facade.py": facade})
    script = "import db.facade as f; print(f.upgrade(2), f.versions_0001_init.upgrade())"
    ran = run([sys.executable, "-c", script], tmp_path, pythonpath=project)
    assert ran.stdout == "3 2\n", ran.stderr


def test_a_service_without_surface_gets_an_empty_facade_and_contract() -> None:
    generated = generate(SHOP_TREE, Service("quiet", ("shop.ai.prompts",), (), (), ()))
    assert "__all__: list[str] = []\n" in generated["facade.py"]
    assert "def " not in generated["facade.py"]
    contract = json.loads(generated["contract.v1.json"])
    assert (contract["operations"], contract["errors"], contract["$defs"]) == ([], [], {})


def test_numpy_and_sphinx_raises_sections_are_read() -> None:
    tree = {
        "pkg/__init__.py": "",
        "pkg/api.py": '''\
            from pkg import errs


            def numpy_style(x: int) -> int:
                """Do it.

                Raises
                ------
                KeyError
                    when x is unknown.
                errs.Gone
                    when it left.

                Returns
                -------
                int
                """
                return x


            def sphinx_style() -> None:
                """Do it.

                :raises TimeoutError: after a minute
                """
            ''',
        "pkg/errs.py": "class Gone(Exception):\n    pass\n",
    }
    service = Service(
        "api",
        ("pkg.api", "pkg.errs"),
        (),
        (
            SurfaceName("pkg.api", "numpy_style", ("pkg",)),
            SurfaceName("pkg.api", "sphinx_style", ("pkg",)),
        ),
        (),
    )
    contract = contract_of(tree, service)
    assert operation(contract, "numpy_style")["errors"] == ["KeyError", "pkg.errs.Gone"]
    errors = {e["name"]: e["description"] for e in contract["errors"]}
    assert errors == {
        "KeyError": "when x is unknown.",
        "TimeoutError": "after a minute",
        "pkg.errs.Gone": "when it left.",
    }


# --- JSON Schema from annotations, case by case ------------------------------------------

SCHEMA_CONTEXT = {
    "app/__init__.py": "",
    "app/models.py": """\
        import collections.abc as cabc
        import typing
        from dataclasses import dataclass
        from enum import Enum
        from typing import (
            Annotated, Any, Dict, List, Literal, Mapping, Optional, Sequence, Set, Tuple,
            TypedDict, Union,
        )

        from pydantic import BaseModel
        from typing_extensions import NotRequired


        class Colour(str, Enum):
            RED = "red"
            BLUE = "blue"


        @dataclass
        class Point:
            x: float
            y: float = 0.0


        class User(BaseModel):
            name: str
            friends: list["User"] = []


        class Movie(TypedDict):
            title: str
            year: NotRequired[int]


        class Plain:
            pass
        """,
}


def schema(annotation: str) -> tuple[dict[str, Any], dict[str, Any]]:
    sources = sources_of(SCHEMA_CONTEXT)
    return schema_for_annotation(
        annotation, module="app.models", sources=sources, project_modules=frozenset(sources)
    )


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        ("str", {"type": "string"}),
        ("int", {"type": "integer"}),
        ("float", {"type": "number"}),
        ("bool", {"type": "boolean"}),
        ("None", {"type": "null"}),
        ("bytes", {"type": "string", "contentEncoding": "base64"}),
        ("list", {"type": "array"}),
        ("list[int]", {"type": "array", "items": {"type": "integer"}}),
        ("List[str]", {"type": "array", "items": {"type": "string"}}),
        ("Sequence[bool]", {"type": "array", "items": {"type": "boolean"}}),
        ("cabc.Sequence[int]", {"type": "array", "items": {"type": "integer"}}),
        ("tuple[int, ...]", {"type": "array", "items": {"type": "integer"}}),
        (
            "Tuple[int, str]",
            {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "minItems": 2,
                "maxItems": 2,
            },
        ),
        ("set[str]", {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
        ("Set[int]", {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}),
        ("dict[str, int]", {"type": "object", "additionalProperties": {"type": "integer"}}),
        (
            "Mapping[str, list[str]]",
            {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        ),
        ("Dict[int, str]", {"description": "not expressible: Dict[int, str]"}),
        ("dict", {"type": "object"}),
        ("Optional[int]", {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        ("typing.Optional[str]", {"anyOf": [{"type": "string"}, {"type": "null"}]}),
        (
            "Union[int, str, None]",
            {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]},
        ),
        ("int | None", {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        ("Optional[int | None]", {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        ("Literal['a', 'b', 3]", {"enum": ["a", "b", 3]}),
        ("Literal[Colour.RED]", {"description": "not expressible: Literal[Colour.RED]"}),
        ("Any", {}),
        ("Optional[Any]", {}),
        ("Annotated[int, 'metres']", {"type": "integer"}),
        ("'Point'", {"$ref": "#/$defs/app.models.Point"}),
        ("complex", {"description": "not expressible: complex"}),
        ("Plain", {"description": "not expressible: Plain"}),
        ("Unknown[int]", {"description": "not expressible: Unknown[int]"}),
    ],
)
def test_annotation_schema(annotation: str, expected: dict[str, Any]) -> None:
    found, _ = schema(annotation)
    assert found == expected
    jsonschema.Draft202012Validator.check_schema(found)


def test_project_data_classes_become_object_schemas_under_defs() -> None:
    found, defs = schema("tuple[Point, User, Movie, Colour]")
    assert [item["$ref"] for item in found["prefixItems"]] == [
        "#/$defs/app.models.Point",
        "#/$defs/app.models.User",
        "#/$defs/app.models.Movie",
        "#/$defs/app.models.Colour",
    ]
    assert defs["app.models.Point"] == {
        "title": "Point",
        "type": "object",
        "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
        "required": ["x"],
    }
    # a pydantic model that refers to itself
    assert defs["app.models.User"]["properties"]["friends"] == {
        "type": "array",
        "items": {"$ref": "#/$defs/app.models.User"},
    }
    assert defs["app.models.Movie"]["required"] == ["title"]
    assert defs["app.models.Colour"] == {"title": "Colour", "enum": ["red", "blue"]}
    validator = jsonschema.Draft202012Validator({"$defs": defs, **found})
    assert validator.is_valid(
        [{"x": 1}, {"name": "a", "friends": [{"name": "b"}]}, {"title": "Up"}, "red"]
    )
    assert not validator.is_valid([{"x": 1}, {"name": "a"}, {"year": 2009}, "red"])


# --- comparing contract versions ---------------------------------------------------------

BASE_API = textwrap.dedent("""\
    from dataclasses import dataclass


    @dataclass
    class Query:
        text: str
        limit: int = 10


    def search(query: Query, page: int = 1, *, fuzzy: bool = False) -> list[str]:
        return []


    def count(text: str) -> int:
        return 0
    """)


def api_contract(source: str) -> dict[str, Any]:
    """The contract of every top-level definition of a one-module library."""
    return json.loads(_api_contract_text(source))


@functools.cache
def _api_contract_text(source: str) -> str:
    names = re.findall(r"^(?:async def|def|class) (\w+)", source, re.MULTILINE)
    surface = tuple(SurfaceName("lib.api", name, ("lib",)) for name in names)
    tree = {"lib/__init__.py": "", "lib/api.py": source}
    return generate(tree, Service("search", ("lib.api",), (), surface, ()))["contract.v1.json"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("page: int = 1, *,", "*,", ["breaking: search: removed parameter page"]),
        (
            "page: int = 1",
            "number: int = 1",
            ["breaking: search: parameter page renamed to number"],
        ),
        (
            "fuzzy: bool = False",
            "fuzzy: bool = False, lang: str",
            ["breaking: search: new required parameter lang"],
        ),
        (
            "fuzzy: bool = False",
            "fuzzy: bool = False, lang: str = 'en'",
            ["additive: search: new optional parameter lang"],
        ),
        (
            "page: int = 1",
            "page: float = 1",
            ["additive: search: parameter page type int -> float (widened)"],
        ),
        (
            "page: int = 1",
            "page: bool = 1",
            ["breaking: search: parameter page type int -> bool (changed)"],
        ),
        (
            "def count(text: str)",
            "def count(text: str | None)",
            ["additive: count: parameter text type str -> str | None (widened)"],
        ),
        (
            "def count(text: str) -> int",
            "def count(text: str) -> int | None",
            ["breaking: count: result type int -> int | None (widened)"],
        ),
        (
            "-> list[str]",
            "-> list[str] | None",
            ["breaking: search: result type list[str] -> list[str] | None (widened)"],
        ),
        (
            "def count(text: str) -> int",
            "def count(text: str) -> bool",
            ["breaking: count: result type int -> bool (changed)"],
        ),
        (
            "page: int = 1, *,",
            "*, page: int = 1,",
            ["breaking: search: parameter page kind positional_or_keyword -> keyword_only"],
        ),
        (
            "*, fuzzy: bool = False",
            "fuzzy: bool = False",
            ["additive: search: parameter fuzzy kind keyword_only -> positional_or_keyword"],
        ),
        (
            "query: Query, page: int = 1",
            "page: int = 1, query: Query = None",
            [
                "breaking: search: parameter query moved",
                "breaking: search: parameter page moved",
                "additive: search: parameter query is now optional",
            ],
        ),
        ("page: int = 1", "page: int", ["breaking: search: parameter page is now required"]),
        ("page: int = 1", "page: int = 2", ["breaking: search: parameter page default 1 -> 2"]),
        (
            "def count(text: str) -> int:",
            "async def count(text: str) -> int:",
            ["breaking: count: switched between sync and async"],
        ),
        (
            "    return 0",
            "    raise LookupError(text)",
            ["additive: count: may now raise LookupError (callers should handle it)"],
        ),
        (
            "    limit: int = 10",
            "    limit: int = 10\n    lang: str = 'en'",
            [
                "additive: type lib.api.Query: field lang added (optional)",
                "additive: Query: new optional parameter lang",
            ],
        ),
        (
            "    limit: int = 10",
            "    limit: int",
            [
                "breaking: type lib.api.Query: field limit is now required",
                "breaking: Query: parameter limit is now required",
            ],
        ),
        (
            "    limit: int = 10",
            "    lang: str = 'en'",
            [
                "breaking: type lib.api.Query: field limit removed",
                "breaking: Query: parameter limit renamed to lang",
                "additive: type lib.api.Query: field lang added (optional)",
            ],
        ),
        ("def count(text: str) -> int:\n    return 0", "", ["breaking: removed operation count"]),
    ],
)
def test_diff_contracts_classifies_changes(old: str, new: str, expected: list[str]) -> None:
    assert old in BASE_API
    before = api_contract(BASE_API)
    after = api_contract(BASE_API.replace(old, new, 1))
    assert sorted(diff_contracts(before, after)) == sorted(expected)
    assert diff_contracts(before, before) == []


def test_diff_contracts_lists_breaking_changes_first() -> None:
    before = api_contract(BASE_API)
    after = api_contract(
        BASE_API.replace("def count(text: str)", "def count(text: str, strict: bool)")
        + "\n\ndef clear() -> None:\n    pass\n"
    )
    assert diff_contracts(before, after) == [
        "breaking: count: new required parameter strict",
        "additive: new operation clear",
    ]


def test_next_version_follows_the_changes() -> None:
    assert next_version("1.0.0", ["breaking: removed operation x"]) == "2.0.0"
    assert next_version("1.4.2", ["additive: new operation y"]) == "1.5.0"
    assert next_version("1.4.2", []) == "1.4.2"


def test_names_made_from_module_names_are_valid_distinct_identifiers(tmp_path: Path) -> None:
    tree = {
        "pkg/__init__.py": "",
        "pkg/ai/__init__.py": "",
        "pkg/ai/0chat-v2.py": "def reply(text: str) -> str:\n    return 'dash ' + text\n",
        "pkg/ai/0chat_v2.py": "def answer(text: str) -> str:\n    return 'underscore ' + text\n",
        "pkg/ai/class.py": "def kind() -> str:\n    return 'keyword'\n",
    }
    surface = (
        SurfaceName("pkg.ai.0chat-v2", "*", ("pkg.web",)),
        SurfaceName("pkg.ai.0chat-v2", "reply", ("pkg.web",)),
        SurfaceName("pkg.ai.0chat_v2", "*", ("pkg.web",)),
        SurfaceName("pkg.ai.0chat_v2", "answer", ("pkg.web",)),
        SurfaceName("pkg.ai.class", "kind", ("pkg.web",)),
    )
    modules = ("pkg.ai.0chat-v2", "pkg.ai.0chat_v2", "pkg.ai.class")
    service = Service("chat", modules, (), surface, ())
    facade = generate(tree, service)["facade.py"]
    assert generate(tree, service)["facade.py"] == facade  # deterministic
    assert 'importlib.import_module("pkg.ai.0chat-v2")' in facade
    bound = re.findall(r"^ *(\w+) = ", facade, flags=re.M)
    assert len(bound) == len(set(bound)) >= 4  # the modules' aliases and re-exports
    assert all(name.isidentifier() for name in bound)

    project = write_tree(tmp_path, {**tree, "pkg/facade.py": facade})
    script = (
        "import pkg.facade as f; print(f.reply('a'), f.answer('b'), f.kind(), "
        "f.ai_0chat_v2.__name__, f.ai_0chat_v2_2.__name__)"
    )
    ran = run([sys.executable, "-c", script], tmp_path, pythonpath=project)
    assert ran.stdout == "dash a underscore b keyword pkg.ai.0chat-v2 pkg.ai.0chat_v2\n", (
        facade + ran.stderr
    )
