"""Import resolution and name qualification over a project index."""

from __future__ import annotations

from pathlib import Path

from carveout.domain.facts import Confidence, ImportFact, Origin
from helpers_graph import analyse, write_tree


def test_import_of_a_missing_module(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "",
            "pkg/user.py": """\
            import pkg.sub.compiled
            from pkg.sub.compiled import speedup
            import pkg.sub.gone.deeper
            """,
        },
    )
    run = analyse(tmp_path)
    index = run.index

    # `import pkg.sub.compiled`: the direct parent exists -> a candidate edge to it
    direct = index.resolve_import("pkg.user", ImportFact(1, "pkg.sub.compiled"))
    assert (direct.target, direct.unresolved) == (
        "pkg.sub",
        "no module pkg.sub.compiled in the project",
    )
    assert run.edge("pkg.user", "pkg.sub").confidence is Confidence.CANDIDATE
    # `from pkg.sub.compiled import x` and deeper misses: no import edge, parents still run
    missing = index.resolve_import("pkg.user", ImportFact(2, "pkg.sub.compiled", 0, "speedup"))
    assert missing.target is None and missing.qualified == "pkg.sub.compiled.speedup"
    implicit = {e.line for e in run.graph.edges if e.origin is Origin.IMPLICIT_PARENT}
    assert implicit == {1, 2, 3}
    assert [d.line for d in run.diagnostics("unresolved-import")] == [1, 2, 3]


def test_inner_folder_only_for_a_submodule(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/integrations/__init__.py": "",
            "app/integrations/fints/__init__.py": "",
            "app/integrations/fints/sensor.py": """\
            import fints
            from fints.client import Client
            from fints import sensor
            """,
        },
    )
    index = analyse(tmp_path).index
    importer = "app.integrations.fints.sensor"

    # a third-party package named like the component stays third-party
    assert index.resolve_import(importer, ImportFact(1, "fints")).external == "fints"
    client = index.resolve_import(importer, ImportFact(2, "fints.client", 0, "Client"))
    assert client.external == "fints"
    # naming a real submodule of an enclosing folder is the generated-code case
    inner = index.resolve_import(importer, ImportFact(3, "fints", 0, "sensor"))
    assert (inner.target, inner.canonical, inner.through) == (importer, False, "app.integrations")


def test_standard_library_wins_over_enclosing_folders(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/json/__init__.py": "",
            "app/json/codec.py": "",
            "app/use.py": "from json import codec\n",
        },
    )
    resolved = analyse(tmp_path).index.resolve_import("app.use", ImportFact(1, "json", 0, "codec"))
    assert resolved.external == "json"


def test_qualify_follows_aliases_and_reexports(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "ai/__init__.py": "from .llm import client as default_client\n",
            "ai/llm/__init__.py": "from ai.llm.openai_client import Client as client\n",
            "ai/llm/openai_client.py": "import openai\nclass Client:\n    api = openai.OpenAI\n",
            "web/views.py": """\
            import ai
            from ai import default_client as dc
            import openai as oa
            def view():
                from ai.llm import openai_client
                return openai_client.Client
            """,
        },
    )
    index = analyse(tmp_path).index

    assert index.qualify("web.views", "dc.complete") == "ai.llm.openai_client.Client.complete"
    assert index.qualify("web.views", "ai.default_client") == "ai.llm.openai_client.Client"
    assert index.qualify("web.views", "oa.OpenAI") == "openai.OpenAI"
    assert index.qualify("web.views", "openai_client.Client") == "ai.llm.openai_client.Client"
    assert index.qualify("web.views", "local_variable.attr") == "local_variable.attr"


def test_an_optional_import_is_not_hidden_by_its_fallback(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/llm.py": """\
            try:
                from openai import OpenAI
                import anthropic
            except ImportError:
                OpenAI = None
                class anthropic:
                    pass
            try:
                import numpy
            finally:
                numpy = None
            """,
        },
    )
    index = analyse(tmp_path).index

    assert index.qualify("app.llm", "OpenAI") == "openai.OpenAI"
    assert index.qualify("app.llm", "anthropic.Anthropic") == "anthropic.Anthropic"
    # not an ImportError guard: the later assignment stands
    assert index.qualify("app.llm", "numpy") == "app.llm.numpy"


def test_star_import_cycle_terminates(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import *\nA = 1\n",
            "pkg/b.py": "from pkg.a import *\nB = 2\n",
        },
    )
    index = analyse(tmp_path).index
    assert index.qualify("pkg.a", "B") == "pkg.b.B"
    assert set(index.public_names("pkg.a")) >= {"A", "B"}


def test_function_level_imports_bind_names_but_not_attributes(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pkg/__init__.py": "def load():\n    from .tool import tool\n    return tool\n",
            "pkg/tool.py": "def tool(): ...\n",
            "app.py": "from pkg import tool\n",
        },
    )
    run = analyse(tmp_path)
    assert "tool" in run.index.bindings("pkg")
    assert "tool" not in run.index.attributes("pkg")
    # only module-level attributes shadow a submodule
    assert run.edge("app", "pkg.tool").origin is Origin.IMPORT


def test_area_groups_by_package(tmp_path: Path) -> None:
    write_tree(tmp_path, {"shop/__init__.py": "", "shop/orders/api.py": "", "shop/x.py": ""})
    index = analyse(tmp_path).index
    assert index.area("shop.orders.api") == "shop.orders"
    assert index.owner_module("shop.orders.api.Order.total") == "shop.orders.api"


def test_inner_folder_only_for_the_importers_own_package(tmp_path: Path) -> None:
    # homeassistant 2025: components/mcp_server imports the MCP SDK, beside components/mcp
    write_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/components/__init__.py": "",
            "app/components/mcp/__init__.py": "",
            "app/components/mcp/types.py": "",
            "app/components/mcp_server/__init__.py": "",
            "app/components/mcp_server/http.py": "from mcp import types\n",
        },
    )
    run = analyse(tmp_path)
    resolved = run.index.resolve_import(
        "app.components.mcp_server.http", ImportFact(1, "mcp", 0, "types")
    )
    assert resolved.external == "mcp"
    assert [e.target for e in run.graph.edges if e.source.endswith("http")] == ["mcp"]
