"""Discovery: files to module names, what is skipped and why, entry points, missing
`__init__.py` files."""

from __future__ import annotations

from pathlib import Path

import pytest

from carveout.domain.model import ModuleKind
from carveout.domain.settings import Settings
from carveout.stages.discover import (
    DiscoveryError,
    discover,
    invisible_modules,
    missing_init_files,
    module_name,
    plugin_groups,
    write_missing_init_files,
)
from helpers_graph import write_tree


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
