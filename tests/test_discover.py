"""Discovery: files to module names, what is skipped and why, entry points, missing
`__init__.py` files."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from carveout.adapters.output_folder import MANIFEST
from carveout.domain.model import ModuleKind
from carveout.domain.settings import Settings
from carveout.stages.discover import (
    OUTPUT_MARKER,
    DiscoveryError,
    discover,
    invisible_modules,
    missing_init_files,
    module_name,
    plugin_groups,
    write_missing_init_files,
)
from helpers_graph import analyse, write_tree


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("pkg/sub/mod.py", "pkg.sub.mod"),
        ("pkg/__init__.py", "pkg"),
        ("pkg/migrations/0001_initial.py", "pkg.migrations.0001_initial"),
        ("pkg/a.b.py", None),
        ("bad-dir/x.py", None),
        (".hidden.py", None),
        ("__init__.py", None),
        ("notebooks/explore.ipynb", "notebooks.explore"),
    ],
)
def test_module_name(path: str, expected: str | None) -> None:
    assert module_name(Path(path)) == expected


def test_src_layout_is_found(tmp_path: Path) -> None:
    write_tree(tmp_path, {"src/app/__init__.py": "", "src/app/core.py": "", "tools/x.py": ""})
    project = discover(tmp_path, Settings())
    assert project.source_roots == ("src",)
    assert [f.module for f in project.files] == ["app", "app.core"]


def test_package_folder_given_directly(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/__init__.py": "", "app/core.py": "", "other/y.py": ""})
    project = discover(tmp_path / "app", Settings())
    assert project.name == "app"
    assert [f.module for f in project.files] == ["app", "app.core"]


def test_path_errors_are_discovery_errors(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError, match="does not exist"):
        discover(tmp_path / "missing", Settings())
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(DiscoveryError, match="not a folder"):
        discover(tmp_path / "file.txt", Settings())
    with pytest.raises(DiscoveryError, match="no Python modules"):
        discover(tmp_path, Settings())


def test_every_skipped_file_has_its_reason(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "setup.py": "",
            "app/__init__.py": "",
            "app/setup.py": "",  # a module of the package, not a packaging script
            "app/types.pyi": "",
            "app/test_core.py": "",
            "app/tests/test_more.py": "",
            "app/build/__init__.py": "",  # a subpackage named build is code
            "build/lib/app/__init__.py": "",  # build output at the root is not
            "venv/pyvenv.cfg": "",
            "venv/lib/site.py": "",
            "nb.ipynb": "{}",
        },
    )
    project = discover(tmp_path, Settings())

    assert {f.module for f in project.files} == {"app", "app.setup", "app.build"}
    reasons = {s.path: s.reason for s in project.skipped}
    assert reasons["setup.py"] == "packaging script (setup.py)"
    assert "stub" in reasons["app/types.pyi"]
    assert "test file" in reasons["app/test_core.py"]
    assert "test folder" in reasons["app/tests/"]
    assert "excluded folder" in reasons["build/"]
    assert reasons["venv/"] == "virtual environment"
    assert "notebook" in reasons["nb.ipynb"]


def test_tests_and_notebooks_when_asked(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/__init__.py": "", "app/tests/test_x.py": "", "nb.ipynb": "{}"})
    project = discover(tmp_path, Settings(include_tests=True, include_notebooks=True))
    kinds = {f.module: f.kind for f in project.files}
    assert kinds == {
        "app": ModuleKind.PACKAGE,
        "app.tests.test_x": ModuleKind.MODULE,
        "nb": ModuleKind.NOTEBOOK,
    }


def test_missing_init_files_inside_regular_packages_only(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/a/b/deep.py": "",
            "src/pkg/a/c/__init__.py": "",
            "src/pkg/empty/readme.txt": "",
            "src/ns/sub/__init__.py": "",  # a namespace top level is fine for grimp
            "src/ns/sub/mod.py": "",
        },
    )
    project = discover(tmp_path, Settings())

    assert missing_init_files(project) == ("src/pkg/a/__init__.py", "src/pkg/a/b/__init__.py")
    assert invisible_modules(project) == {"pkg.a", "pkg.a.b", "pkg.a.b.deep", "pkg.a.c"}

    assert write_missing_init_files(project) == missing_init_files(project)
    assert (tmp_path / "src/pkg/a/b/__init__.py").read_text() == ""
    rediscovered = discover(tmp_path, Settings())
    assert missing_init_files(rediscovered) == ()
    assert invisible_modules(rediscovered) == frozenset()


def test_entry_points_from_every_packaging_file(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pyproject.toml": """\
            [project]
            name = "acme"
            [project.gui-scripts]
            acme-gui = "acme.gui:run"
            [project.entry-points."acme.exporters"]
            csv = "acme.export_csv:Exporter"
            """,
            "setup.cfg": """\
            [options.entry_points]
            console_scripts =
                acme = acme.cli:main
            acme.exporters =
                xml = acme.export_xml:Exporter
                remote = elsewhere.mod:Exporter
            """,
            "acme/__init__.py": "",
            "acme/gui.py": "",
            "acme/cli.py": "",
            "acme/export_csv.py": "",
            "acme/export_xml.py": "",
            "acme/loader.py": (
                "from importlib.metadata import entry_points\n"
                'found = entry_points(group="acme.exporters")\n'
            ),
        },
    )
    project = discover(tmp_path, Settings())

    groups = {(e.group, e.name, e.module) for e in project.entry_points}
    assert groups == {
        ("gui_scripts", "acme-gui", "acme.gui"),
        ("console_scripts", "acme", "acme.cli"),
        ("acme.exporters", "csv", "acme.export_csv"),
        ("acme.exporters", "xml", "acme.export_xml"),
        ("acme.exporters", "remote", None),
    }
    entry_modules = {f.module for f in project.files if f.is_entry_point}
    assert entry_modules == {"acme.gui", "acme.cli", "acme.export_csv", "acme.export_xml"}
    assert plugin_groups(project) == {"acme.exporters": ("acme.export_csv", "acme.export_xml")}


def test_entry_points_of_an_unpacked_wheel(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "tool/__init__.py": "",
            "tool/main.py": "",
            "tool-1.0.dist-info/entry_points.txt": "[console_scripts]\nTool-Run = tool.main:run\n",
        },
    )
    project = discover(tmp_path, Settings())
    assert [(e.group, e.name, e.module) for e in project.entry_points] == [
        ("console_scripts", "Tool-Run", "tool.main")
    ]
    assert "tool-1.0.dist-info/" not in {s.path for s in project.skipped}  # no Python in it


# --- a package inside a package: full names, a limited scope ---------------------------------


SUBPACKAGE_TREE = {
    "pyproject.toml": "[project]\nname = 'shop'\n",
    "src/shop/__init__.py": "",
    "src/shop/db.py": "class User:\n    pass\n",
    "src/shop/web/__init__.py": "from shop.ai.text.writer import write\n",
    "src/shop/ai/__init__.py": "from shop.ai.text import writer\n",
    "src/shop/ai/text/__init__.py": "",
    "src/shop/ai/text/writer.py": (
        "from shop import db\n"
        "import shop.db\n"
        "from shop.db import User\n"
        "from ..images import gen\n"
        "from ... import web\n"
        "from shop.ai.missing import x\n"
    ),
    "src/shop/ai/images/__init__.py": "",
    "src/shop/ai/images/gen.py": "",
}


def test_a_subpackage_keeps_the_names_of_its_top_package(tmp_path: Path) -> None:
    write_tree(tmp_path, SUBPACKAGE_TREE)
    run = analyse(tmp_path / "src" / "shop" / "ai")
    project = run.project

    assert (project.scope, project.name) == ("shop.ai", "shop.ai")
    assert project.root == str((tmp_path / "src").resolve())
    assert [f.module for f in project.files] == [
        "shop.ai",
        "shop.ai.images",
        "shop.ai.images.gen",
        "shop.ai.text",
        "shop.ai.text.writer",
    ]
    assert project.files[0].path == "shop/ai/__init__.py"
    assert project.namespace_packages == ()  # `shop` is a regular package, only not read
    assert project.unread_modules == ("shop", "shop.db", "shop.web")
    assert [d.kind for d in project.diagnostics] == ["partial-analysis"]

    # shop code outside the scope is an external edge; inside, edges resolve as usual
    outside = sorted(
        (e.target, e.line)
        for e in run.graph.edges
        if e.source == "shop.ai.text.writer" and e.external
    )
    assert outside == [("shop", 1), ("shop", 2), ("shop", 3), ("shop", 5)]
    run.edge("shop.ai.text.writer", "shop.ai.images.gen")
    # a missing module inside the scope is still a problem worth a diagnostic
    assert [(d.kind, d.line) for d in run.graph.diagnostics] == [("unresolved-import", 6)]
    # the scope stands for the top package when areas are compared
    assert run.index.area("shop.ai.text.writer") == "shop.ai.text"
    assert run.index.area("shop.ai") == "shop.ai"


def test_a_top_level_package_given_directly_has_no_scope(tmp_path: Path) -> None:
    write_tree(tmp_path, SUBPACKAGE_TREE)
    project = discover(tmp_path / "src" / "shop", Settings())
    assert (project.scope, project.name, project.unread_modules) == (None, "shop", ())
    assert "shop.db" in {f.module for f in project.files}
    assert project.diagnostics == ()


# --- every Python file under the analysed folder is accounted for ----------------------------


def test_files_outside_the_source_roots_are_listed_with_their_reason(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "src/app/__init__.py": "",
            "src/app/core.py": "",
            "setup.py": "",
            "conftest.py": "",
            "noxfile.py": "",
            "tests/test_x.py": "",
            "tools/script.py": "",
            "tools/deep/more.py": "",
            "docs/notes.txt": "",
            ".venv/pyvenv.cfg": "",
            ".venv/lib/site.py": "",
            "notebooks/explore.ipynb": "{}",
        },
    )
    outside = "outside the source roots (src)"
    project = discover(tmp_path, Settings())
    assert [f.module for f in project.files] == ["app", "app.core"]
    assert {s.path: s.reason for s in project.skipped} == {
        "setup.py": "packaging script (setup.py)",
        "conftest.py": "test file (include with include_tests = true)",
        "noxfile.py": outside,
        "tests/": "test folder (include with include_tests = true)",
        "tools/": outside,
        ".venv/": "virtual environment",
        "notebooks/": outside,
    }
    # read tests or not, a test folder outside the roots is outside the roots
    included = discover(tmp_path, Settings(include_tests=True))
    assert {s.path: s.reason for s in included.skipped}["tests/"] == outside


def test_only_the_folders_leading_to_configured_roots_are_walked(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "services/api/src/api/__init__.py": "",
            "services/api/scripts/run.py": "",
            "services/web/app.py": "",
            "manage.py": "",
        },
    )
    project = discover(tmp_path, Settings(source_roots=("services/api/src",)))
    assert [f.module for f in project.files] == ["api"]
    outside = "outside the source roots (services/api/src)"
    assert {s.path: s.reason for s in project.skipped} == {
        "manage.py": outside,
        "services/api/scripts/": outside,
        "services/web/": outside,
    }


def test_a_source_root_that_is_missing_or_outside_the_project_is_an_error(tmp_path: Path) -> None:
    write_tree(tmp_path / "proj", {"src/app/__init__.py": "", "lib.py": ""})
    (tmp_path / "elsewhere").mkdir()
    for configured, problem in [
        ("lib", "source root 'lib' does not exist"),
        ("lib.py", "source root 'lib.py' is not a folder"),
        ("../elsewhere", "source root '../elsewhere' lies outside the project folder"),
        (str(tmp_path / "elsewhere"), "lies outside the project folder"),
    ]:
        with pytest.raises(DiscoveryError, match=re.escape(problem)):
            discover(tmp_path / "proj", Settings(source_roots=(configured,)))


def test_carveout_output_folders_are_never_read(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "reports/app/.carveout-manifest": "contracts/chat/facade.py\n",
            "reports/app/contracts/chat/facade.py": "from app import ai\n",
            "app/out/.carveout-manifest": "",
            "app/out/contracts/chat/facade.py": "",
        },
    )
    project = discover(tmp_path, Settings())
    assert [f.module for f in project.files] == ["app"]
    reasons = {s.path: s.reason for s in project.skipped}
    assert reasons == {
        "reports/app/": "carveout output folder",
        "app/out/": "carveout output folder",
    }
    assert OUTPUT_MARKER == MANIFEST  # the marker discovery looks for is the one written


def test_only_regular_files_inside_the_project_within_the_size_limit_are_modules(
    tmp_path: Path,
) -> None:
    project_folder = write_tree(
        tmp_path / "proj",
        {"pkg/__init__.py": "", "pkg/ok.py": "x = 1\n", "pkg/big.py": "x = 1\n" * 20},
    )
    package = project_folder / "pkg"
    os.mkfifo(package / "fifo.py")  # reading it would wait forever for a writer
    (package / "zero.py").symlink_to("/dev/zero")  # reading it would never end
    (tmp_path / "secret.py").write_text("TOKEN = 'abc'\n")
    (package / "leak.py").symlink_to(tmp_path / "secret.py")
    (package / "alias.py").symlink_to(package / "ok.py")  # inside the project: read
    (package / "gone.py").symlink_to(package / "missing.py")

    project = discover(project_folder, Settings(max_file_bytes=100))
    assert [f.module for f in project.files] == ["pkg", "pkg.alias", "pkg.ok"]
    assert {s.path: s.reason for s in project.skipped} == {
        "pkg/fifo.py": "special file (FIFO, not a regular file)",
        "pkg/zero.py": "special file (character device, not a regular file)",
        "pkg/leak.py": "external symlink (its target is outside the project)",
        "pkg/gone.py": "broken symlink",
        "pkg/big.py": "oversized file (120 bytes; max-file-bytes is 100)",
    }
    assert Settings().max_file_bytes == 5_000_000


# --- exclude patterns ------------------------------------------------------------------------


EXCLUDE_TREE = {
    "pyproject.toml": '[tool.carveout]\nexclude = ["shop/nothing", "*.pyx", "admin"]\n',
    "src/shop/__init__.py": "",
    "src/shop/core.py": "",
    "src/shop/admin/__init__.py": "",
    "src/shop/admin/views.py": "",
    "src/shop/orders/__init__.py": "",
    "src/shop/orders/admin/__init__.py": "",
    "src/shop/orders/admin/actions.py": "",
}
EVERY_MODULE = {
    "shop",
    "shop.core",
    "shop.admin",
    "shop.admin.views",
    "shop.orders",
    "shop.orders.admin",
    "shop.orders.admin.actions",
}
ADMIN = {"shop.admin", "shop.admin.views"}
ORDERS_ADMIN = {"shop.orders.admin", "shop.orders.admin.actions"}


@pytest.mark.parametrize(
    ("pattern", "left_out"),
    [
        ("admin", ADMIN | ORDERS_ADMIN),  # a name matches at any depth
        ("shop/admin", ADMIN),  # a path from the source root
        ("src/shop/admin", ADMIN),  # a path from the project root
        ("src/shop/admin/", ADMIN),  # folders only
        ("./src/shop/core.py", {"shop.core"}),
        ("*/admin/*", ADMIN | ORDERS_ADMIN),
        ("src/*/orders/*", {"shop.orders"} | ORDERS_ADMIN),  # all below, so the folder
        ("shop/*/admin/actions.py", {"shop.orders.admin.actions"}),
    ],
)
def test_exclude_patterns_with_a_slash_match_paths(
    tmp_path: Path, pattern: str, left_out: set[str]
) -> None:
    write_tree(tmp_path, EXCLUDE_TREE)
    project = discover(tmp_path, Settings(exclude=(pattern,)))
    assert EVERY_MODULE - {f.module for f in project.files} == left_out
    assert all(pattern in s.reason for s in project.skipped)
    assert not [d for d in project.diagnostics if d.kind == "unused-exclude"]


def test_a_path_pattern_also_holds_when_a_package_folder_is_analysed(tmp_path: Path) -> None:
    write_tree(tmp_path, EXCLUDE_TREE)
    project = discover(tmp_path / "src" / "shop", Settings(exclude=("src/shop/admin",)))
    assert EVERY_MODULE - {f.module for f in project.files} == ADMIN


def test_an_exclude_pattern_that_matches_nothing_is_a_warning(tmp_path: Path) -> None:
    write_tree(tmp_path, EXCLUDE_TREE)
    project = discover(tmp_path, Settings(exclude=("shop/nothing", "*.pyx", "admin")))
    unused = [(d.path, d.line, d.kind, d.message) for d in project.diagnostics]
    assert unused == [
        (
            "pyproject.toml",
            2,
            "unused-exclude",
            f"exclude pattern 'shop/nothing' matches no folder or file in {tmp_path.name}/",
        ),
        (
            "pyproject.toml",
            2,
            "unused-exclude",
            f"exclude pattern '*.pyx' matches no folder or file in {tmp_path.name}/",
        ),
    ]
