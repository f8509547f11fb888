"""The feature stage's text pre-filter skips only modules that cannot match: the features and
labels are the same with and without it on the sample, on every tree the feature and
coupling tests build, and on small trees built to get past it; and every module it skips
gives its detectors nothing."""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import helpers_features
import test_areas
import test_couplings
import test_features
import test_features_calls
import test_features_http
from carveout.adapters.config import load_settings
from carveout.domain.catalogue import Catalogue
from carveout.domain.model import AiFeature, Capability, Edge, ModuleLabel
from carveout.stages.features import ProviderModules, _Matcher, detect_features, provider_modules
from carveout.stages.resolve import ProjectIndex
from helpers_features import CATALOGUE
from helpers_graph import Run, analyse, write_tree

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "shopwise"


def assert_prefilter_sound(
    index: ProjectIndex, edges: tuple[Edge, ...], catalogue: Catalogue = CATALOGUE
) -> ProviderModules:
    """Fail unless the pre-filter changes nothing: the same features and labels both ways,
    no hit in a module a detector skips, and the factories of the modules kept are all
    the factories there are."""
    plain = detect_features(index, edges, catalogue, prefilter=False)
    assert detect_features(index, edges, catalogue, prefilter=True) == plain
    readers = provider_modules(index, catalogue)
    everywhere = _Matcher(index, catalogue)
    for module in sorted(index.files):
        facts = index.facts.get(module)
        if facts is None or not facts.parsed:
            continue
        if module not in readers.sdk:
            assert everywhere.sdk_hits(module, facts) == [], f"skipped {module}"
        if module not in readers.endpoints:
            assert everywhere.endpoint_hits(module, facts) == [], f"skipped {module}"
    assert _Matcher(index, catalogue, readers.factories).factories == everywhere.factories
    return readers


# --- the sample ------------------------------------------------------------------------------


def test_the_sample_gives_the_same_features_with_and_without_the_prefilter() -> None:
    run = analyse(SAMPLE, load_settings(SAMPLE, {}))
    readers = assert_prefilter_sound(run.index, run.graph.edges)
    features, labels = detect_features(run.index, run.graph.edges, CATALOGUE)
    assert features and any(label.direct for label in labels)
    # the filter does filter: modules with no way to an SDK are not read
    assert "shopwise.orders.schemas" in run.index.files
    assert "shopwise.orders.schemas" not in readers.sdk
    assert readers.sdk < run.index.files.keys()


# --- the trees of the feature and coupling tests ---------------------------------------------

FIXTURE_MODULES = (
    test_features,
    test_features_calls,
    test_features_http,
    test_couplings,
    test_areas,
)


def fixture_cases() -> Iterator[object]:
    """Each test of those modules that builds a tree through the feature stage
    (`run_tree`), once per set of its parameters."""
    for module in FIXTURE_MODULES:
        for name, function in sorted(vars(module).items()):
            if not name.startswith("test_") or not callable(function):
                continue
            if "run_tree(" not in inspect.getsource(function):
                continue
            for arguments in _parameter_sets(function):
                label = "-".join(str(v)[:30] for v in arguments.values())
                yield pytest.param(function, arguments, id=f"{name}[{label}]" if label else name)


def _parameter_sets(function: Callable[..., object]) -> list[dict[str, object]]:
    """The keyword arguments `pytest.mark.parametrize` gives a test, every combination."""
    axes = []
    for mark in getattr(function, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        written = mark.args[0]
        names = [n.strip() for n in written.split(",")] if isinstance(written, str) else written
        values = []
        for value in mark.args[1]:
            value = value.values if hasattr(value, "values") and hasattr(value, "marks") else value
            values.append(dict(zip(names, value if len(names) > 1 else (value,), strict=True)))
        axes.append(values)
    return [
        {k: v for part in combination for k, v in part.items()}
        for combination in itertools.product(*axes)
    ]


@pytest.mark.parametrize(("test", "arguments"), list(fixture_cases()))
def test_every_fixture_tree_gives_the_same_features_with_and_without_the_prefilter(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    test: Callable[..., None],
    arguments: dict[str, object],
) -> None:
    checked = []

    def detect_checked(
        index: ProjectIndex, edges: tuple[Edge, ...], catalogue: Catalogue
    ) -> tuple[tuple[AiFeature, ...], tuple[ModuleLabel, ...]]:
        assert_prefilter_sound(index, edges, catalogue)
        checked.append(index)
        return detect_features(index, edges, catalogue)

    monkeypatch.setattr(helpers_features, "detect_features", detect_checked)
    test(tmp_path=tmp_path, **arguments)
    assert checked, "the test built no tree through the feature stage"


def test_the_fixture_trees_are_found() -> None:
    cases = list(fixture_cases())
    assert len(cases) > 100
    assert any("test_each_sdk_of_the_catalogue" in str(case.id) for case in cases)  # type: ignore[attr-defined]


# --- trees built to get past the pre-filter --------------------------------------------------

PLAIN = {
    "app/__init__.py": "",
    "app/plain.py": """
        import json

        def dump(value):
            return json.dumps(value)
    """,
}

TREES: dict[str, tuple[dict[str, str], str]] = {
    "re-export chain": (
        {
            "app/llm/__init__.py": "from .backend import client\n",
            "app/llm/backend.py": "from openai import OpenAI\nclient = OpenAI()\n",
            "app/facade.py": "from app.llm import client as shared\n",
            "app/use.py": """
                from app.facade import shared

                def run():
                    return shared.chat.completions.create(model="gpt-4o", messages=[])
            """,
        },
        "app.use",
    ),
    "module aliases": (
        {
            "app/a.py": "from app import b\n",
            "app/b.py": "from app import c\n",
            "app/c.py": "import openai\n",
            "app/use.py": """
                from app import a

                def run():
                    return a.b.c.openai.ChatCompletion.create(model="gpt-4")
            """,
        },
        "app.use",
    ),
    "star imports": (
        {
            "app/sdk.py": "from openai import OpenAI\n__all__ = ['OpenAI']\n",
            "app/api.py": "from app.sdk import *\n",
            "app/use.py": """
                from app.api import *

                def draw():
                    return OpenAI().images.generate(prompt="a cat")
            """,
        },
        "app.use",
    ),
    "factory in another module": (
        {
            "app/factory.py": """
                import anthropic

                def make():
                    return anthropic.Anthropic()
            """,
            "app/use.py": """
                from app.factory import make

                def ask():
                    llm = make()
                    return llm.messages.create(model="claude-3-5-sonnet", messages=[])
            """,
        },
        "app.use",
    ),
    "instance made by a factory": (
        {
            "app/factory.py": """
                from openai import OpenAI

                def build():
                    return OpenAI()
            """,
            "app/clients.py": "from app.factory import build\nai = build()\n",
            "app/use.py": """
                from app.clients import ai

                def embed(text):
                    return ai.embeddings.create(model="text-embedding-3-small", input=text)
            """,
        },
        "app.use",
    ),
    "dynamic import of a literal": (
        {
            "app/loader.py": "import importlib\nsdk = importlib.import_module('openai')\n",
            "app/use.py": """
                from app.loader import sdk

                def chat():
                    return sdk.ChatCompletion.create(model="gpt-4")
            """,
        },
        "app.use",
    ),
    "dynamic import in a factory, aliased importer": (
        {
            "app/compat.py": "from importlib import import_module as load\n",
            "app/loader.py": """
                from app.compat import load

                def backend():
                    return load("openai")
            """,
            "app/clients.py": "from app.loader import backend\nsdk = backend()\n",
            "app/use.py": """
                from app.clients import sdk

                def chat():
                    return sdk.ChatCompletion.create(model="gpt-4")
            """,
        },
        "app.use",
    ),
    "project function named like the importer": (
        {
            "app/importlib.py": "def import_module(name):\n    return name\n",
            "app/loader.py": """
                from app import importlib

                sdk = importlib.import_module("openai")
            """,
            "app/use.py": """
                from app.loader import sdk

                def chat():
                    return sdk.ChatCompletion.create(model="gpt-4")
            """,
        },
        "app.use",
    ),
    "dynamic import of an unknown target": (
        {
            "app/loader.py": """
                import importlib

                def plugin(name):
                    return importlib.import_module(name)
            """,
            "app/use.py": """
                import openai
                from app.loader import plugin

                def chat():
                    plugin("x")
                    return openai.ChatCompletion.create(model="gpt-4")
            """,
        },
        "app.use",
    ),
    "unbound sdk name": (
        {
            "app/use.py": """
                def chat(openai):
                    return openai.ChatCompletion.create(model="gpt-4")
            """,
        },
        "app.use",
    ),
    "sdk base class re-exported": (
        {
            "app/base.py": "from langchain_core.embeddings import Embeddings\n",
            "app/impl.py": """
                from app.base import Embeddings

                class Local(Embeddings):
                    def embed_documents(self, texts):
                        return []
            """,
        },
        "app.impl",
    ),
    "decorator of an instance from elsewhere": (
        {
            "app/server.py": "from mcp.server.fastmcp import FastMCP\nmcp = FastMCP('tools')\n",
            "app/tools.py": """
                from app.server import mcp

                @mcp.tool()
                def add(a, b):
                    return a + b
            """,
        },
        "app.server",
    ),
    "raw http through an aliased client": (
        {
            "app/net.py": "import requests as r\nsession = r.Session()\n",
            "app/use.py": """
                from app.net import session

                def embed(text):
                    return session.post("https://api.openai.com/v1/embeddings", json={})
            """,
            "app/other.py": """
                import httpx as h

                def chat():
                    return h.post("https://example.org/v1/chat/completions")
            """,
        },
        "app.use",
    ),
    "project package named like an sdk": (
        {
            "mcp/__init__.py": "",
            "mcp/server/__init__.py": "",
            "mcp/server/fastmcp.py": "class FastMCP:\n    def __init__(self, name): ...\n",
            "mcp/app.py": "from mcp.server.fastmcp import FastMCP\n\nserver = FastMCP('tools')\n",
        },
        "mcp.app",
    ),
}


@pytest.mark.parametrize("name", sorted(TREES))
def test_trees_built_to_get_past_the_prefilter(tmp_path: Path, name: str) -> None:
    files, implementing = TREES[name]
    run: Run = analyse(write_tree(tmp_path, {**PLAIN, **files}))
    readers = assert_prefilter_sound(run.index, run.graph.edges)
    _, labels = detect_features(run.index, run.graph.edges, CATALOGUE)
    direct = {label.module for label in labels if label.direct}
    assert implementing in direct, f"the tree shows no provider call in {implementing}: {labels}"
    assert implementing in readers.sdk | readers.endpoints
    assert "app.plain" not in readers.sdk | readers.factories | readers.endpoints


def test_a_changed_catalogue_moves_the_prefilter_with_it(tmp_path: Path) -> None:
    """The filter reads the catalogue it is given, never a fixed list of SDK names."""
    files, _ = TREES["re-export chain"]
    run = analyse(write_tree(tmp_path, {**PLAIN, **files}))
    bare = Catalogue(sdks=(), endpoints=(), models=(), http_clients=())
    readers = assert_prefilter_sound(run.index, run.graph.edges, bare)
    assert not readers.sdk and not readers.endpoints
    assert Capability.CHAT not in {
        f.capability for f in detect_features(run.index, run.graph.edges, bare)[0]
    }
