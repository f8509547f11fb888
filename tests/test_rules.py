"""import-linter rules generated for proposed services, checked by the real lint-imports."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from carveout.application.publish import ExitCode
from carveout.cli import main
from carveout.domain.facts import Guard, Origin
from carveout.domain.model import Module, ModuleKind, RuleSet, Service
from carveout.stages.rules import generate_rules
from helpers_gen import (
    AI_MODULES,
    AI_SERVICE,
    GOLDEN,
    LINT_IMPORTS,
    SHOP_EDGES,
    SHOP_TREE,
    check_golden,
    edge,
    modules_of,
    run,
    shop_proposal,
    write_tree,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

# SHOP_TREE plus the hard cases: a third-party SDK the ai service owns (imported by a
# submodule, also used outside today), a script folder and an experiments folder without
# __init__.py (grimp cannot see them), and a type-checking-only import (views.py).
EDGE_TREE = {
    **SHOP_TREE,
    "shop/ai/client.py": "import somesdk.chat\n",
    "shop/web/legacy_chat.py": "from somesdk.chat import completions\n",
    "shop/scripts/tool.py": "from shop.ai.summary import summarise\n",
    "shop/ai/experiments/try_it.py": "import shop.web.views\n",
}
INVISIBLE = frozenset({"shop.scripts.tool", "shop.ai.experiments.try_it"})
EDGE_SERVICE = Service(
    name="ai",
    modules=(*AI_MODULES, "shop.ai.client", "shop.ai.experiments.try_it"),
    ai_capabilities=(),
    surface=AI_SERVICE.surface,
    blockers=(),
)
EDGE_EDGES = (
    *SHOP_EDGES,
    edge("shop.ai.client", "somesdk", 1, external=True),
    edge("shop.web.legacy_chat", "somesdk", 1, external=True),
    edge("shop.scripts.tool", "shop.ai.summary", 1),
    edge("shop.ai.experiments.try_it", "shop.web.views", 1),
)


def shop_rules() -> RuleSet:
    return generate_rules(
        shop_proposal(), modules_of(SHOP_TREE), SHOP_EDGES, root_packages=["shop"]
    )


def edge_rules() -> RuleSet:
    return generate_rules(
        shop_proposal(EDGE_SERVICE),
        modules_of(EDGE_TREE),
        EDGE_EDGES,
        root_packages=["shop"],
        invisible_modules=INVISIBLE,
        service_packages={"ai": ["somesdk.chat"]},
    )


# Two services in one package tree: `llm` owns app.core's __init__ but not app.core.db
# (so every module is listed), `chat` is a whole package with its facade placed by hand,
# `eval` lives only in a notebook; a root package that does not exist; an SDK nobody uses.
APP_MODULES = (
    Module("app", "app/__init__.py", ModuleKind.PACKAGE, 1),
    Module("app.chat", "app/chat/__init__.py", ModuleKind.PACKAGE, 1),
    Module("app.chat.api", "app/chat/api.py", ModuleKind.MODULE, 10),
    Module("app.chat.store", "app/chat/store.py", ModuleKind.MODULE, 10),
    Module("app.core", "app/core/__init__.py", ModuleKind.PACKAGE, 1),
    Module("app.core.db", "app/core/db.py", ModuleKind.MODULE, 10),
    Module("app.core.llm", "app/core/llm.py", ModuleKind.MODULE, 10),
    Module("app.notebooks.eval", "app/notebooks/eval.ipynb", ModuleKind.NOTEBOOK, 10),
    Module("app.web", "app/web/__init__.py", ModuleKind.PACKAGE, 1),
    Module("app.web.routes", "app/web/routes.py", ModuleKind.MODULE, 10),
)
APP_EDGES = (
    edge("app.web.routes", "app.core.llm", 1),
    edge("app.web.routes", "app.core.llm", 9),  # a second statement: one ignore entry
    edge("app.web.routes", "app.chat.api", 2),
    edge("app.web.routes", "app.chat.store", 3, origin=Origin.DYNAMIC),
    edge("app.web.routes", "app.chat.store", 4, guard=Guard.TYPE_CHECKING),
    edge("app.web.routes", "app.core", 5, origin=Origin.IMPLICIT_PARENT),
    edge("app.web.routes", "openai", 6, external=True),
    edge("app.chat.store", "app.core.llm", 1),
    edge("app.core.db", "app.core", 1),
    edge("app.core.llm", "openai", 1, external=True),
    edge("app.notebooks.eval", "app.core.llm", 1),
)
APP_SERVICES = (
    Service("llm", ("app.core", "app.core.llm"), (), (), ()),
    Service("chat", ("app.chat", "app.chat.api", "app.chat.store"), (), (), ()),
    Service("eval", ("app.notebooks.eval",), (), (), ()),
)


def app_rules() -> RuleSet:
    return generate_rules(
        shop_proposal(*APP_SERVICES),
        APP_MODULES,
        APP_EDGES,
        root_packages=["app", "missing"],
        facade_modules={"chat": "app.chat_public"},
        service_packages={"llm": ["openai.types"], "chat": ["redis"]},
    )


CASES = {"shop": shop_rules, "shop_edges": edge_rules, "app": app_rules}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rules_match_golden(case: str) -> None:
    rules = CASES[case]()
    assert rules.text == CASES[case]().text  # generating twice gives the same bytes
    tomllib.loads(rules.text)
    check_golden(GOLDEN / "rules" / f"{case}.importlinter.toml.golden", rules.text)


def test_every_golden_file_belongs_to_a_case() -> None:
    on_disk = {path.name for path in (GOLDEN / "rules").glob("*.golden")}
    assert on_disk == {f"{case}.importlinter.toml.golden" for case in CASES}


def contracts_of(rules: RuleSet) -> dict[str, dict[str, Any]]:
    config = tomllib.loads(rules.text)["tool"]["importlinter"]
    return {contract["id"]: contract for contract in config["contracts"]}


# --- what goes into the rules ------------------------------------------------------------


def test_protected_contract_ignores_every_runtime_crossing_of_today() -> None:
    rules = shop_rules()
    config = tomllib.loads(rules.text)["tool"]["importlinter"]
    assert config["root_packages"] == ["shop"]
    assert config["exclude_type_checking_imports"] is True
    contract = contracts_of(rules)["ai-internals"]
    assert contract["type"] == "protected"
    assert contract["protected_modules"] == ["shop.ai", "shop.ai.**"]
    assert contract["allowed_importers"] == ["shop.ai", "shop.ai.**", "shop.ai_facade"]
    assert contract["as_packages"] is False
    # the type-checking import of shop.ai.summary by views is not listed
    assert (
        contract["ignore_imports"]
        == list(rules.ignored_imports)
        == [
            "shop.web.stream -> shop.ai.summary",
            "shop.web.stream -> shop.ai.types",
            "shop.web.views -> shop.ai",
            "shop.web.views -> shop.ai.moderation",
            "shop.web.views -> shop.ai.prompts",
            "shop.web.views -> shop.ai.types",
        ]
    )
    assert rules.unenforceable == ()
    assert rules.text.startswith("# Generated by carveout")
    assert "lint-imports --config importlinter.toml" in rules.text


def test_partial_package_is_listed_module_by_module_whole_one_by_subtree() -> None:
    contracts = contracts_of(app_rules())
    llm = contracts["llm-internals"]
    assert llm["protected_modules"] == ["app.core", "app.core.llm"]
    # app.core.db imports its own package's __init__, which belongs to the llm service
    assert llm["ignore_imports"] == [
        "app.chat.store -> app.core.llm",
        "app.core.db -> app.core",
        "app.web.routes -> app.core.llm",
    ]
    chat = contracts["chat-internals"]
    assert chat["protected_modules"] == ["app.chat", "app.chat.**"]
    assert chat["allowed_importers"] == ["app.chat", "app.chat.**", "app.chat_public"]
    # dynamic and type-checking imports of app.chat.store are not imports grimp records
    assert chat["ignore_imports"] == ["app.web.routes -> app.chat.api"]


def test_third_party_package_is_named_by_its_top_level_and_owned_by_its_service() -> None:
    rules = app_rules()
    openai = contracts_of(rules)["openai-package"]
    assert openai["protected_modules"] == ["openai"]
    assert openai["allowed_importers"] == ["app.core", "app.core.llm", "app.llm_facade"]
    assert openai["ignore_imports"] == ["app.web.routes -> openai"]
    assert tomllib.loads(rules.text)["tool"]["importlinter"]["include_external_packages"]
    assert "redis" not in contracts_of(rules)
    assert rules.unenforceable == (
        "app.notebooks.eval: a notebook; import-linter (grimp) reads only .py files",
        "missing: not used as a root package: import-linter needs a package with an "
        "__init__.py among the analysed modules",
        "openai.types: import-linter sees third-party packages only as a whole; the rule "
        "for service llm names openai",
        "redis: no package rule for service chat: no module imports it today, and "
        "import-linter cannot name a package outside its graph",
        "service eval: no protected contract: import-linter sees none of its modules",
    )
    assert "app.notebooks.eval" not in rules.text.split("[tool.importlinter]")[1]


def test_invisible_modules_are_left_out_and_listed() -> None:
    rules = edge_rules()
    body = rules.text.split("[tool.importlinter]")[1]
    for module in INVISIBLE:
        assert module not in body
        assert any(
            note.startswith(f"{module}: import-linter (grimp) does not see it")
            for note in rules.unenforceable
        )
    assert "shop.scripts.tool -> shop.ai.summary" not in rules.ignored_imports
    assert "shop.web.legacy_chat -> somesdk" in rules.ignored_imports


def test_no_rule_that_cannot_fail() -> None:
    everything = Service("all", tuple(m.name for m in modules_of(SHOP_TREE)), (), (), ())
    rules = generate_rules(
        shop_proposal(everything), modules_of(SHOP_TREE), SHOP_EDGES, root_packages=["shop"]
    )
    assert rules.text == ""  # lint-imports fails on a configuration without contracts
    assert rules.unenforceable == (
        "service all: no protected contract: every module import-linter sees belongs to "
        "it, so no importer outside could break it",
    )


def test_no_root_package_gives_no_configuration_and_says_why() -> None:
    rules = generate_rules(
        shop_proposal(), modules_of(SHOP_TREE), SHOP_EDGES, root_packages=["elsewhere"]
    )
    assert rules.text == ""
    assert rules.unenforceable[0].startswith("elsewhere: not used as a root package")
    assert "service ai: no protected contract: import-linter sees none of its modules" in (
        rules.unenforceable
    )


def test_no_service_gives_no_configuration() -> None:
    proposal = replace(shop_proposal(), services=())
    rules = generate_rules(proposal, modules_of(SHOP_TREE), SHOP_EDGES, root_packages=["shop"])
    assert rules == RuleSet(text="", ignored_imports=(), unenforceable=())


# --- the real lint-imports -------------------------------------------------------------


def test_lint_imports_keeps_todays_code_and_breaks_on_a_new_crossing(tmp_path: Path) -> None:
    project = write_tree(tmp_path / "project", EDGE_TREE)
    config = tmp_path / "importlinter.toml"
    config.write_text(edge_rules().text, encoding="utf-8")
    command = [str(LINT_IMPORTS), "--config", str(config), "--no-cache"]

    kept = run(command, project, pythonpath=project)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "Contracts: 2 kept, 0 broken." in kept.stdout

    # one new import of the service's internals and one of its SDK, from outside
    (project / "shop" / "web" / "admin.py").write_text(
        "import somesdk\nfrom shop.ai.summary import summarise\n", encoding="utf-8"
    )
    broken = run(command, project, pythonpath=project)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "Contracts: 0 kept, 2 broken." in broken.stdout
    assert "shop.web.admin -> shop.ai.summary (l.2)" in broken.stdout
    assert "shop.web.admin -> somesdk (l.1)" in broken.stdout


def test_service_modules_outside_the_roots_are_left_out_with_the_reason() -> None:
    modules = (*modules_of(SHOP_TREE), Module("manage", "manage.py", ModuleKind.MODULE, 3))
    service = Service("ai", (*AI_MODULES, "manage", "shop.ai.ghost"), (), (), ())
    rules = generate_rules(shop_proposal(service), modules, SHOP_EDGES, root_packages=["shop"])
    assert rules.unenforceable == (
        "manage: left out of service ai's protected contract: outside the root packages "
        "import-linter analyses",
        "shop.ai.ghost: left out of service ai's protected contract: not among the analysed "
        "modules",
    )
    assert contracts_of(rules)["ai-internals"]["protected_modules"] == ["shop.ai", "shop.ai.**"]


# --- modules import-linter cannot name --------------------------------------------------

# File names that are not identifiers (loaded through importlib, or run as scripts): grimp
# sees their imports, but an import-linter expression cannot spell `0chat-v2`.
UNNAMED_TREE = {
    "app/__init__.py": "",
    "app/ai/__init__.py": "",
    "app/ai/0chat-v2.py": "import somesdk\nfrom app.ai import prompts\n",
    "app/ai/prompts.py": "X = 1\n",
    "app/web/__init__.py": "",
    "app/web/views.py": "from app.ai import prompts\n",
    "app/web/1legacy-view.py": (
        "from app.ai.prompts import X\nimport somesdk\nimport app.web.views\n"
    ),
    "app/tools/__init__.py": "",
    "app/tools/2run-chat.py": "import app.web.views\n",
    "somesdk/__init__.py": "",
}
UNNAMED_EDGES = (
    edge("app.ai.0chat-v2", "somesdk", 1, external=True),
    edge("app.ai.0chat-v2", "app.ai.prompts", 2),
    edge("app.web.views", "app.ai.prompts", 1),
    edge("app.web.1legacy-view", "app.ai.prompts", 1),
    edge("app.web.1legacy-view", "somesdk", 2, external=True),
    edge("app.web.1legacy-view", "app.web.views", 3),
    edge("app.tools.2run-chat", "app.web.views", 1),
)
UNNAMED_SERVICES = (
    Service("ai", ("app.ai", "app.ai.0chat-v2", "app.ai.prompts"), (), (), ()),
    Service("web", ("app.web.1legacy-view", "app.web.views"), (), (), ()),
)


def unnamed_rules() -> RuleSet:
    modules = tuple(m for m in modules_of(UNNAMED_TREE) if not m.name.startswith("somesdk"))
    return generate_rules(
        shop_proposal(*UNNAMED_SERVICES),
        modules,
        UNNAMED_EDGES,
        root_packages=["app"],
        service_packages={"ai": ["somesdk"]},
    )


def test_modules_import_linter_cannot_name_are_written_as_wildcards() -> None:
    rules = unnamed_rules()
    contracts = contracts_of(rules)
    assert "0chat-v2" not in rules.text.split("[tool.importlinter]")[1]
    # covered by its package's subtree: protected; its importer outside is a wildcard
    assert contracts["ai-internals"]["protected_modules"] == ["app.ai", "app.ai.**"]
    assert contracts["ai-internals"]["ignore_imports"] == [
        "app.web.* -> app.ai.prompts",
        "app.web.views -> app.ai.prompts",
    ]
    assert contracts["somesdk-package"]["ignore_imports"] == ["app.web.* -> somesdk"]
    # not covered by a subtree: not protected, allowed through its wildcard
    assert contracts["web-internals"]["protected_modules"] == ["app.web.views"]
    assert contracts["web-internals"]["allowed_importers"] == [
        "app.web.*",
        "app.web.views",
        "app.web_facade",
    ]
    assert contracts["web-internals"]["ignore_imports"] == ["app.tools.* -> app.web.views"]
    assert (
        "app.web.1legacy-view: not protected in service web's contract: import-linter "
        'cannot write its name (a module expression takes only letters, digits and "_" in '
        "each part); it is allowed as app.web.*, which also allows the other modules that "
        "expression matches"
    ) in rules.unenforceable
    assert any(
        n.startswith("app.tools.2run-chat: import-linter cannot") for n in rules.unenforceable
    )


def test_lint_imports_accepts_wildcards_for_unnamed_modules(tmp_path: Path) -> None:
    project = write_tree(tmp_path / "project", UNNAMED_TREE)
    config = tmp_path / "importlinter.toml"
    config.write_text(unnamed_rules().text, encoding="utf-8")
    command = [str(LINT_IMPORTS), "--config", str(config), "--no-cache"]

    kept = run(command, project, pythonpath=project)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "Contracts: 3 kept, 0 broken." in kept.stdout

    (project / "app" / "tools" / "helper.py").write_text("import app.ai.prompts\n")
    broken = run(command, project, pythonpath=project)
    assert "app.tools.helper -> app.ai.prompts (l.1)" in broken.stdout
    assert "Contracts: 2 kept, 1 broken." in broken.stdout


# --- end to end: whenever importlinter.toml is written, lint-imports passes on its code ----

_CHAT_CALL = "client.chat.completions.create(model='gpt-4o', messages=[])"
END_TO_END = {
    # a service with a module whose file name import-linter cannot write
    "unnamed-module": (
        {
            "pkg/__init__.py": "",
            "pkg/ai/__init__.py": "",
            "pkg/ai/0chat-v2.py": (
                "import openai\nfrom pkg.ai import prompts\nclient = openai.OpenAI()\n"
                f"def reply(text):\n    return {_CHAT_CALL}\n"
            ),
            "pkg/ai/prompts.py": "def wrap(text):\n    return text\n",
            "pkg/db/__init__.py": "",
            "pkg/db/models.py": "class User:\n    pass\n",
            "pkg/web/__init__.py": "",
            "pkg/web/views.py": (
                "import importlib\nfrom pkg.db.models import User\n"
                "from pkg.ai.prompts import wrap\n"
                "chat = importlib.import_module('pkg.ai.0chat-v2')\n"
            ),
            "pkg/web/1legacy-view.py": "import openai\nfrom pkg.ai.prompts import wrap\n",
        },
        True,
    ),
    # the monolith imports the service's SDK too, and a folder lacks __init__.py
    "sdk-outside": (
        {
            "shop/__init__.py": "",
            "shop/llm/__init__.py": "",
            "shop/llm/client.py": (
                f"import openai\nclient = openai.OpenAI()\ndef ask():\n    return {_CHAT_CALL}\n"
            ),
            "shop/orders/__init__.py": "",
            "shop/orders/models.py": "class Order:\n    pass\n",
            "shop/orders/service.py": "from shop.orders.models import Order\nimport openai\n",
            "shop/api/__init__.py": "",
            "shop/api/routes.py": "from shop.llm.client import ask\nimport shop.orders.service\n",
            "shop/api/scripts/seed.py": "from shop.llm import client\n",
        },
        True,
    ),
    # one package, all of it AI (raw HTTP, no SDK): no rule could ever fail
    "nothing-to-enforce": (
        {
            "bot/__init__.py": "",
            "bot/ask.py": (
                "import requests\ndef ask(q):\n    return requests.post("
                "'https://api.openai.com/v1/chat/completions', json={'model': 'gpt-4o'})\n"
            ),
        },
        False,
    ),
    "no-service": ({"app/__init__.py": "", "app/m.py": "import app\n"}, False),
}


@pytest.mark.parametrize("case", sorted(END_TO_END))
def test_a_written_configuration_passes_lint_imports_on_its_own_code(
    tmp_path: Path, case: str
) -> None:
    tree, written = END_TO_END[case]
    project = write_tree(tmp_path / "project", tree)
    out = tmp_path / "out"
    arguments = ["analyze", str(project), "--out", str(out), "--no-cache", "--quiet"]
    assert main(arguments) == ExitCode.OK
    config = out / "importlinter.toml"
    rules = json.loads((out / "analysis.json").read_text(encoding="utf-8"))["rules"]
    assert config.is_file() is written is rules["generated"]
    if not written:
        services = json.loads((out / "analysis.json").read_text(encoding="utf-8"))["services"]
        assert rules["unenforceable"] or not services  # the report says why
        return
    checked = run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"], project, pythonpath=project
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert " kept, 0 broken." in checked.stdout
