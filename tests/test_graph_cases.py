"""The hard cases of the import graph (G01-G18), one tiny tree each, the answer asserted."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from carveout.domain.facts import Confidence, Guard, Origin, Scope
from carveout.domain.model import ModuleKind
from carveout.domain.settings import Settings
from carveout.stages.discover import invisible_modules, missing_init_files, plugin_groups
from carveout.stages.graph import implicit_loads
from helpers_graph import analyse, write_tree


def test_g01_type_checking_import_is_kept_but_not_runtime(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/helper.py": "",
            "app/low.py": """\
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from app.high import Widget
            else:
                from app import helper
            """,
            "app/high.py": "from app.low import use\n",
        },
    )
    run = analyse(tmp_path)

    guarded = run.edge("app.low", "app.high")
    assert guarded.guard is Guard.TYPE_CHECKING
    assert not guarded.is_runtime
    assert run.cycles == ()  # the only loop closes through the type-checking edge

    else_branch = run.edge("app.low", "app.helper")
    assert else_branch.guard is Guard.NONE
    assert else_branch.is_runtime


def test_g02_cycle_closed_inside_a_function_is_deferred(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "mod/__init__.py": "",
            "mod/a.py": "import mod.b\n",
            "mod/b.py": "def later():\n    import mod.a\n",
            "eager/__init__.py": "",
            "eager/x.py": "from eager import y\n",
            "eager/y.py": "from eager import x\n",
        },
    )
    run = analyse(tmp_path)

    assert run.edge("mod.b", "mod.a").scope is Scope.FUNCTION
    by_modules = {cycle.modules: cycle for cycle in run.cycles}
    deferred = by_modules[("mod.a", "mod.b")]
    assert deferred.deferred
    assert deferred.path[0] == deferred.path[-1]
    assert set(deferred.path) == {"mod.a", "mod.b"}
    assert not by_modules[("eager.x", "eager.y")].deferred


def test_g03_relative_import_in_package_init(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/api/__init__.py": "",
            "shop/data/__init__.py": "from .api import fetch\n",
            "shop/data/api.py": "def fetch(): ...\n",
            "shop/data/deep.py": "from .... import nothing\n",
        },
    )
    run = analyse(tmp_path)

    assert run.edge("shop.data", "shop.data.api").origin is Origin.IMPORT
    assert not run.edges("shop.data", "shop.api")
    climbing = run.diagnostics("unresolved-import")
    assert [(d.path, d.line) for d in climbing] == [("shop/data/deep.py", 1)]
    assert "above the top-level package" in climbing[0].message


def test_g04_from_package_import_submodule(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "lib/__init__.py": "from lib import _impl\n",
            "lib/_impl.py": "def go(): ...\n",
            "main.py": "import lib\n",
        },
    )
    run = analyse(tmp_path)
    assert run.edge("lib", "lib._impl").origin is Origin.IMPORT
    assert run.edge("main", "lib").origin is Origin.IMPORT

    # the answer does not depend on which file is read first
    reversed_run = analyse(tmp_path, order=["main", "lib._impl", "lib"])
    assert reversed_run.graph.edges == run.graph.edges


def test_g04_bound_attribute_wins_over_submodule(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pkg/__init__.py": "from .tool import tool\n",
            "pkg/tool.py": "def tool(): ...\n",
            "app.py": "from pkg import tool\n",
        },
    )
    run = analyse(tmp_path)
    assert run.pairs(Origin.IMPORT) >= {("app", "pkg"), ("pkg", "pkg.tool")}
    assert ("app", "pkg.tool") not in run.pairs(Origin.IMPORT)


def test_g05_importing_a_submodule_runs_its_parents(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "proj/__init__.py": "",
            "proj/core/__init__.py": "import requests\n",
            "proj/core/util.py": "",
            "proj/web/__init__.py": "from proj.core import util\n",
        },
    )
    run = analyse(tmp_path)

    assert run.edge("proj.web", "proj.core.util").origin is Origin.IMPORT
    for parent in ("proj.core", "proj"):
        implicit = run.edge("proj.web", parent, Origin.IMPLICIT_PARENT)
        assert not implicit.is_runtime
    assert "requests" in implicit_loads(run.graph.edges, "proj.web", include_external=True)
    # util imports nothing itself, but loading it runs proj/core/__init__.py, which does
    assert "requests" in implicit_loads(run.graph.edges, "proj.core.util", include_external=True)
    assert "requests" not in implicit_loads(run.graph.edges, "proj.web")  # project modules only


def test_g06_folder_without_init_inside_a_package(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/db.py": "",
            "pkg/helpers/slugify.py": "import pkg.db\n",
            "pkg/helpers/slugify.old.py": "",
        },
    )
    run = analyse(tmp_path)

    kinds = {f.module: f.kind for f in run.project.files}
    assert kinds["pkg.helpers.slugify"] is ModuleKind.MODULE
    assert "pkg.helpers" in run.project.namespace_packages
    assert run.edge("pkg.helpers.slugify", "pkg.db").origin is Origin.IMPORT
    skipped = {s.path: s.reason for s in run.project.skipped}
    assert "not importable" in skipped["pkg/helpers/slugify.old.py"]

    assert missing_init_files(run.project) == ("pkg/helpers/__init__.py",)
    assert invisible_modules(run.project) == {"pkg.helpers", "pkg.helpers.slugify"}


def test_g07_one_file_reachable_under_two_names(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/__main__.py": "",
            "svc/gen/api/__init__.py": "",
            "svc/gen/api/a_pb2.py": "from api import b_pb2\n",
            "svc/gen/api/b_pb2.py": "",
            "svc/util.py": "",
            "svc/util/__init__.py": "",
        },
    )
    run = analyse(tmp_path)

    names = {f.path: f.module for f in run.project.files}
    assert names["svc/gen/api/b_pb2.py"] == "svc.gen.api.b_pb2"
    edge = run.edge("svc.gen.api.a_pb2", "svc.gen.api.b_pb2")
    assert not edge.canonical
    main = next(f for f in run.project.files if f.module == "svc.__main__")
    assert main.is_entry_point
    clash = run.diagnostics("module-name-clash")
    assert len(clash) == 1 and "svc.util" in clash[0].message


def test_g08_sys_path_changed_before_an_import(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "scripts/sync.py": """\
            import os, sys
            sys.path.append(os.path.join(os.path.dirname(__file__), "..", "libs"))
            import textkit
            """,
            "scripts/guess.py": """\
            import sys
            sys.path.insert(0, sys.argv[1])
            import textkit
            """,
            "libs/textkit.py": "",
        },
    )
    run = analyse(tmp_path)

    assert run.edge("scripts.sync", "libs.textkit").line == 3
    assert not run.edges("scripts.sync", "libs")  # textkit is top-level on that path
    unresolved = [d for d in run.diagnostics("unresolved-import") if d.path == "scripts/guess.py"]
    assert len(unresolved) == 1 and "textkit" in unresolved[0].message
    assert "sys.path" in unresolved[0].message


def test_g09_dynamic_imports(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/loader.py": """\
            import importlib
            engine = importlib.import_module("app.engines.fast")
            other = importlib.import_module(engine.NAME)
            """,
            "app/engines/fast.py": "",
            "app/plugins.py": """\
            from importlib import import_module as im
            def get(n): return im(f"app.plugins_{n}")
            """,
            "app/plugins_csv.py": "",
            "app/plugins_xml.py": "",
        },
    )
    run = analyse(tmp_path)

    literal = run.edge("app.loader", "app.engines.fast", Origin.DYNAMIC)
    assert literal.confidence is Confidence.EXACT
    candidates = {
        e.target
        for e in run.graph.edges
        if e.source == "app.plugins" and e.confidence is Confidence.CANDIDATE
    }
    assert candidates == {"app.plugins_csv", "app.plugins_xml"}
    findings = {(d.path, d.line) for d in run.diagnostics("dynamic-import")}
    assert findings == {("app/plugins.py", 2), ("app/loader.py", 3)}


def test_g10_apps_named_by_dotted_strings(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "site/settings.py": (
                'INSTALLED_APPS = ["django.contrib.auth", "billing.apps.BillingConfig"]\n'
            ),
            "billing/apps.py": """\
            from django.apps import AppConfig
            class BillingConfig(AppConfig): name = "billing"
            """,
            "billing/models.py": "",
        },
    )
    run = analyse(tmp_path)

    assert run.edge("site.settings", "billing.apps", Origin.FRAMEWORK_STRING).line == 1
    assert run.pairs(Origin.FRAMEWORK_STRING) == {("site.settings", "billing.apps")}
    listed = run.diagnostics("unresolved-dotted-string")
    assert [d.message.split("'")[1] for d in listed] == ["django.contrib.auth"]


def test_g11_entry_points_in_packaging_metadata(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pyproject.toml": """\
            [project]
            name = "acme"
            [project.scripts]
            acme = "acme.cli:main"
            [project.entry-points."acme.plugins"]
            fast = "acme_fast.plugin:register"
            """,
            "acme/cli.py": "def main(): ...\n",
            "acme_fast/plugin.py": "def register(): ...\n",
        },
    )
    run = analyse(tmp_path)

    entry = {m.name for m in run.graph.modules if m.is_entry_point}
    assert entry == {"acme.cli", "acme_fast.plugin"}
    assert plugin_groups(run.project) == {"acme.plugins": ("acme_fast.plugin",)}


def test_g12_all_reexports_through_a_package(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "shapes/__init__.py": 'from ._circle import Circle\n__all__ = ["Circle"]\n',
            "shapes/_circle.py": "class Circle: ...\n",
            "app.py": "from shapes import Circle\n",
        },
    )
    run = analyse(tmp_path)

    assert run.edge("app", "shapes").origin is Origin.IMPORT
    assert not run.edges("app", "shapes._circle")
    assert run.index.qualify("app", "Circle") == "shapes._circle.Circle"
    assert run.index.public_names("shapes") == ("Circle",)


def test_g13_star_import(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pkg/consts.py": '__all__ = ["RATE"]\nRATE = 3\n_HIDDEN = 1\nOTHER = 2\n',
            "pkg/plain.py": "SPEED = 1\n_SECRET = 2\n",
            "pkg/use.py": """\
            from pkg.consts import *
            from pkg.plain import *
            def f(): return RATE
            """,
        },
    )
    run = analyse(tmp_path)

    assert run.edge("pkg.use", "pkg.consts", Origin.STAR).scope is Scope.MODULE
    assert run.index.qualify("pkg.use", "RATE") == "pkg.consts.RATE"
    assert run.index.qualify("pkg.use", "OTHER") == "OTHER"  # not in __all__
    assert run.index.qualify("pkg.use", "SPEED") == "pkg.plain.SPEED"  # no __all__: public
    assert run.index.qualify("pkg.use", "_SECRET") == "_SECRET"


def test_g14_qualified_names_behind_relative_imports(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pkg/sub/mod.py": "from ..llm import client\ndef ask(q): return client.complete(q)\n",
            "pkg/llm/client.py": "def complete(q): ...\n",
        },
    )
    run = analyse(tmp_path)

    assert run.edge("pkg.sub.mod", "pkg.llm.client").origin is Origin.IMPORT
    assert run.index.qualify("pkg.sub.mod", "client.complete") == "pkg.llm.client.complete"


def test_g15_newer_syntax_than_the_running_interpreter(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "route.py": 'match cmd:\n  case "sum": return handlers.total()\n',
            "label.py": 'import handlers\nlabel = f"{f"{name}"}"\nimport os\n',
            "types_.py": (
                "from typing import Callable\ntype Handler = Callable[[str], None]\n"
                "import handlers\n"
            ),
            "handlers.py": "def total(): ...\n",
            "broken.py": "import os\n\ndef broken(:\n",
        },
    )
    run = analyse(tmp_path)

    for module in ("route", "label", "types_"):
        assert run.facts[module].parsed, run.facts[module].diagnostics
    newer = "ast" if sys.version_info >= (3, 12) else "libcst"
    assert run.facts["label"].parser == newer
    assert run.facts["types_"].parser == newer
    assert run.edge("types_", "handlers").line == 3  # lines survive the lowering
    assert run.edge("label", "handlers").line == 1

    broken = run.facts["broken"]
    assert not broken.parsed
    assert [(d.kind, d.line) for d in broken.diagnostics] == [("syntax-error", 3)]
    assert {m.name for m in run.graph.modules} >= {"broken", "route", "label", "types_"}


def test_g16_local_module_with_a_standard_library_name(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/__init__.py": "from .io import read_all\n",
            "app/io.py": "def read_all(): ...\n",
            "app/report.py": "from io import StringIO\n",
        },
    )
    run = analyse(tmp_path)

    assert run.edge("app", "app.io").origin is Origin.IMPORT
    stdlib = run.edges("app.report", "io")
    assert len(stdlib) == 1 and stdlib[0].external
    assert not run.edges("app.report", "app.io")
    hazards = run.diagnostics("stdlib-shadow")
    assert [d.path for d in hazards] == ["app/io.py"]


def test_g17_third_party_packages_by_top_level_name(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "orbits/core/kepler.py": "from astropy import units as u\nimport astropy.constants\n",
        },
    )
    run = analyse(tmp_path)

    external = {
        (e.target, e.external) for e in run.graph.edges if e.source == "orbits.core.kepler"
    }
    assert external == {("astropy", True)}
    assert not any(e.is_runtime for e in run.graph.edges if e.external)


def _notebook(*cells: str) -> str:
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [
                {"cell_type": "markdown", "metadata": {}, "source": ["# notes"]},
                *(
                    {
                        "cell_type": "code",
                        "metadata": {},
                        "execution_count": None,
                        "outputs": [],
                        "source": cell.splitlines(keepends=True),
                    }
                    for cell in cells
                ),
            ],
        }
    )


def test_g18_notebooks(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/llm/client.py": "def complete(q): ...\n",
            "notebooks/explore.ipynb": _notebook(
                "%pip install openai",
                "!ls",
                "from app.llm import client\nclient.complete('hi')",
                "def broken(:\n    pass",
            ),
        },
    )
    run = analyse(tmp_path, Settings(include_notebooks=True))

    kinds = {m.name: m.kind for m in run.graph.modules}
    assert kinds["notebooks.explore"] is ModuleKind.NOTEBOOK
    assert run.edge("notebooks.explore", "app.llm.client").origin is Origin.IMPORT
    bad_cells = run.diagnostics("notebook-cell")
    assert len(bad_cells) == 1 and "cell 5" in bad_cells[0].message

    without = analyse(tmp_path, Settings())
    skipped = {s.path: s.reason for s in without.project.skipped}
    assert "notebook" in skipped["notebooks/explore.ipynb"]
    assert "notebooks.explore" not in {m.name for m in without.graph.modules}
