"""The command line in-process: exit codes, messages for bad input, per-file diagnostics,
and the promise to write only into the output and cache folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from carveout.application.publish import ExitCode
from carveout.cli import main
from helpers_gen import LINT_IMPORTS, run

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "shopwise"


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def analyze(project: Path, out: Path, *extra: str) -> int:
    return main(
        [
            "analyze",
            str(project),
            "--out",
            str(out),
            "--cache-dir",
            str(out.parent / "cache"),
            "--quiet",
            *extra,
        ]
    )


def test_missing_path_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["analyze", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])
    assert code == ExitCode.USAGE_ERROR
    assert "path does not exist" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_folder_without_python_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "docs", {"README.md": "# nothing to see", "data.json": "{}"})
    code = main(["analyze", str(tmp_path / "docs"), "--out", str(tmp_path / "out")])
    assert code == ExitCode.USAGE_ERROR
    assert "no Python modules found" in capsys.readouterr().err


def test_a_file_given_instead_of_a_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"one.py": "x = 1\n"})
    assert main(["analyze", str(tmp_path / "one.py")]) == ExitCode.USAGE_ERROR
    assert "not a folder" in capsys.readouterr().err


def test_unknown_flag_and_bad_setting_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "p", {"app/__init__.py": "", "pyproject.toml": "[tool.carveout]\nnope = 1\n"})
    assert main(["analyze", str(tmp_path / "p"), "--frobnicate"]) == ExitCode.USAGE_ERROR
    assert main(["analyze", str(tmp_path / "p"), "--out", str(tmp_path / "o")]) == 2
    assert "unknown key 'nope'" in capsys.readouterr().err
    assert main(["couplings", str(tmp_path / "p"), "--format", "xml"]) == ExitCode.USAGE_ERROR


BAD_FILES: dict[str, str | bytes] = {
    "app/__init__.py": "",
    "app/empty.py": "",
    "app/broken.py": "def oops(:\n    pass\n",
    "app/latin.py": b"# no coding cookie\nname = '\xe9t\xe9'\n",
    "app/nul.py": b"x = 1\x00\n",
    "app/good.py": "from app import empty\nimport app.broken\n",
}


def test_bad_files_become_diagnostics_and_the_run_finishes(tmp_path: Path) -> None:
    project = write(tmp_path / "proj", BAD_FILES)
    out = tmp_path / "out"
    assert analyze(project, out) == ExitCode.OK

    data = json.loads((out / "analysis.json").read_text())
    by_path = {(d["path"], d["kind"]) for d in data["diagnostics"]}
    assert ("app/broken.py", "syntax-error") in by_path
    assert ("app/latin.py", "decode-error") in by_path
    assert ("app/nul.py", "decode-error") in by_path
    # every file is accounted for: a module (possibly with a diagnostic), none dropped
    assert sorted(m["path"] for m in data["modules"] if m["path"]) == sorted(BAD_FILES)
    broken = next(d for d in data["diagnostics"] if d["path"] == "app/broken.py")
    assert broken["line"] == 1


def test_too_deeply_nested_files_are_diagnostics_not_crashes(tmp_path: Path) -> None:
    # Python's parser refuses these; libcst, tried for newer grammar, overflowed its stack
    # and took the whole run down with it
    project = write(
        tmp_path / "proj",
        {
            "app/__init__.py": "",
            "app/deep.py": "import os\nx = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
            "app/long_sum.py": "total = " + "+".join(["a"] * 20000) + "\n",
            "app/after_error.py": "def broken(:\n    pass\nvalue = a" + ".b" * 8000 + "\n",
        },
    )
    out = tmp_path / "out"
    assert analyze(project, out, "--jobs", "1") == ExitCode.OK

    data = json.loads((out / "analysis.json").read_text())
    found = {(d["path"], d["kind"], d["line"]) for d in data["diagnostics"]}
    assert found == {
        ("app/deep.py", "too-complex", 2),
        ("app/long_sum.py", "too-complex", 1),
        ("app/after_error.py", "too-complex", 3),
    }
    after_error = next(d for d in data["diagnostics"] if d["path"] == "app/after_error.py")
    assert "invalid syntax, line 1" in after_error["message"]


def test_summary_counts_what_was_read_skipped_and_diagnosed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write(
        tmp_path / "proj",
        {**BAD_FILES, "tests/test_app.py": "import app\n", "app/types.pyi": "x: int\n"},
    )
    code = main(
        [
            "analyze",
            str(project),
            "--out",
            str(tmp_path / "out"),
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    err = capsys.readouterr().err
    assert code == ExitCode.OK
    assert "read 6 files" in err
    assert "skipped 1 file and 1 folder: 1 test folder, 1 type stub\n" in err
    assert "syntax-error" in err and "decode-error" in err
    assert f"report: {tmp_path / 'out' / 'index.html'}" in err


def test_writes_only_into_the_output_and_cache_folders(tmp_path: Path) -> None:
    project = write(tmp_path / "proj", {**BAD_FILES, "pyproject.toml": "[project]\nname='p'\n"})
    before = snapshot(tmp_path / "proj")
    assert analyze(project, tmp_path / "run" / "out") == ExitCode.OK
    assert snapshot(tmp_path / "proj") == before
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["cache", "out"]


def test_the_analysed_code_is_never_imported_or_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    trap = (
        "from pathlib import Path\n"
        f"Path({str(marker)!r}).write_text('imported')\n"
        "raise SystemExit('imported!')\n"
    )
    project = write(
        tmp_path / "proj",
        {"trap/__init__.py": trap, "trap/main.py": trap, "trap/__main__.py": trap},
    )
    assert analyze(project, tmp_path / "out") == ExitCode.OK
    assert not marker.exists()
    assert "trap" not in __import__("sys").modules


def test_default_output_folder_is_reports_project_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write(
        tmp_path / "src-tree",
        {"pyproject.toml": "[project]\nname = 'my app'\n", "src/myapp/__init__.py": "import os\n"},
    )
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", str(project), "--quiet", "--no-cache"]) == ExitCode.OK
    assert (tmp_path / "reports" / "my-app" / "analysis.json").is_file()
    assert not (project / ".carveout_cache").exists()


def test_a_rerun_never_reads_its_own_output_inside_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a flat layout, where the output folders lie among the project's code
    project = tmp_path / "flat"
    shutil.copytree(SAMPLE / "src" / "shopwise", project / "shopwise")
    write(project, {"pyproject.toml": "[project]\nname = 'shopwise'\n"})
    monkeypatch.chdir(project)

    def modules_and_skipped(*out: str) -> tuple[int, dict[str, str]]:
        assert main(["analyze", ".", "--quiet", "--no-cache", *out]) == ExitCode.OK
        folder = Path(out[1]) if out else Path("reports/shopwise")
        data = json.loads((folder / "analysis.json").read_text())
        skipped = {s["path"]: s["reason"] for s in data["project"]["skipped"]}
        return len(data["modules"]), skipped

    first, _ = modules_and_skipped()  # the default: reports/shopwise
    assert list(Path("reports/shopwise/contracts").glob("*/facade.py"))  # Python it wrote
    second, skipped = modules_and_skipped()
    assert second == first
    assert skipped["reports/shopwise/"] == "carveout output folder"
    # an output folder inside a package is never read either
    third, _ = modules_and_skipped("--out", "shopwise/carveout_out")
    fourth, skipped = modules_and_skipped("--out", "shopwise/carveout_out")
    assert third == fourth == first
    assert skipped["shopwise/carveout_out/"] == "carveout output folder"


def test_a_source_root_that_does_not_exist_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write(
        tmp_path / "p",
        {"app/__init__.py": "", "pyproject.toml": '[tool.carveout]\nsource-roots = ["lib"]\n'},
    )
    assert analyze(project, tmp_path / "out") == ExitCode.USAGE_ERROR
    assert "source root 'lib' does not exist" in capsys.readouterr().err


def test_a_subpackage_run_keeps_full_names_and_its_rules_pass_lint_imports(
    tmp_path: Path,
) -> None:
    project = tmp_path / "shopwise"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns(".carveout_cache"))
    out = tmp_path / "out"
    assert analyze(project / "src" / "shopwise" / "ai", out) == ExitCode.OK

    data = json.loads((out / "analysis.json").read_text())
    assert data["project"]["name"] == "shopwise.ai"
    assert data["project"]["top_level_packages"] == ["shopwise"]
    assert all(m["name"].startswith("shopwise.ai") for m in data["modules"])
    kinds = [d["kind"] for d in data["diagnostics"]]
    assert kinds == ["partial-analysis"]  # no unresolved import for code outside the folder
    assert any(e["target"] == "shopwise" and e["external"] for e in data["edges"])

    # the rules name the top package as root, and hold on the whole of it
    config = out / "importlinter.toml"
    assert 'root_packages = ["shopwise"]' in config.read_text()
    src = project / "src"
    checked = run([str(LINT_IMPORTS), "--config", str(config), "--no-cache"], src, pythonpath=src)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert " kept, 0 broken." in checked.stdout


def test_couplings_command_prints_json_and_sarif_to_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write(
        tmp_path / "proj",
        {
            "pkg/__init__.py": "",
            "pkg/a/__init__.py": "",
            "pkg/a/x.py": "import pkg.b.y\n",
            "pkg/b/__init__.py": "",
            "pkg/b/y.py": "def f():\n    import pkg.a.x\n",
        },
    )
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert main(["couplings", str(project), "--format", "json", "--quiet", *cache]) == 0
    kinds = {c["kind"] for c in json.loads(capsys.readouterr().out)}
    assert {"import-cycle", "hidden-cycle-import"} <= kinds

    assert main(["couplings", str(project), "--format", "sarif", "--quiet", *cache]) == 0
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["results"]


def test_timings_are_printed_per_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = write(tmp_path / "proj", {"pkg/__init__.py": "", "pkg/m.py": "import os\n"})
    assert analyze(project, tmp_path / "out", "--timings") == ExitCode.OK
    err = capsys.readouterr().err
    for stage in ("discover", "scan", "graph", "features", "couplings", "propose", "report"):
        assert stage in err


def test_internal_errors_have_their_own_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import carveout.cli as cli

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "analyze", explode)
    project = write(tmp_path / "proj", {"pkg/__init__.py": ""})
    assert main(["analyze", str(project)]) == ExitCode.INTERNAL_ERROR
    err = capsys.readouterr().err
    assert "internal error" in err and "boom" in err and "--debug" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("carveout ")


def test_no_progress_bar_when_stderr_is_not_a_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    files = {f"pkg/m{i}.py": "import os\n" for i in range(30)}
    project = write(tmp_path / "proj", {"pkg/__init__.py": "", **files})
    assert analyze(project, tmp_path / "out") == ExitCode.OK
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_init_files_lists_and_writes_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write(tmp_path / "proj", {"pkg/__init__.py": "", "pkg/routers/chat.py": "x = 1\n"})
    assert main(["init-files", str(project)]) == ExitCode.OK
    assert capsys.readouterr().out.split() == ["pkg/routers/__init__.py"]
    assert not (project / "pkg" / "routers" / "__init__.py").exists()

    assert main(["init-files", str(project), "--write"]) == ExitCode.OK
    assert (project / "pkg" / "routers" / "__init__.py").read_text() == ""
    assert main(["init-files", str(project)]) == ExitCode.OK
    assert capsys.readouterr().out.split() == ["pkg/routers/__init__.py"]
    assert main(["init-files", str(project)]) == ExitCode.OK
    assert capsys.readouterr().out == ""


# --- wording, flags and early checks -----------------------------------------------------

# One AI service beside a web layer: one feature, one service, one coupling (the dynamic
# import), and a module whose file name is not an identifier.
ONE_SERVICE: dict[str, str | bytes] = {
    "pkg/__init__.py": "",
    "pkg/ai/__init__.py": "",
    "pkg/ai/0chat-v2.py": (
        "import openai\n"
        "from pkg.ai import prompts\n"
        "client = openai.OpenAI()\n"
        "def reply(text: str) -> str:\n"
        "    messages = [prompts.wrap(text)]\n"
        "    return client.chat.completions.create(model='gpt-4o', messages=messages)\n"
    ),
    "pkg/ai/prompts.py": (
        "def wrap(text: str) -> dict:\n    return {'role': 'user', 'content': text}\n"
    ),
    "pkg/db/__init__.py": "",
    "pkg/db/models.py": "class User:\n    name = 'x'\n",
    "pkg/db/session.py": "from pkg.db.models import User\ndef get_user():\n    return User()\n",
    "pkg/web/__init__.py": "",
    "pkg/web/views.py": (
        "import importlib\n"
        "from pkg.db.session import get_user\n"
        "from pkg.ai.prompts import wrap\n"
        "chat = importlib.import_module('pkg.ai.0chat-v2')\n"
        "def view(t):\n"
        "    return chat.reply(wrap(t)), get_user()\n"
    ),
    "pkg/web/admin.py": (
        "from pkg.db.session import get_user\nfrom pkg.web.views import view\n"
        "def admin():\n    return view(get_user().name)\n"
    ),
}


def test_a_module_named_like_no_identifier_gets_a_facade(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write(tmp_path / "proj", ONE_SERVICE)
    assert analyze(project, tmp_path / "out") == ExitCode.OK
    facade = (tmp_path / "out" / "contracts" / "chat" / "facade.py").read_text()
    assert '_pkg_ai_0chat_v2 = importlib.import_module("pkg.ai.0chat-v2")' in facade
    assert "ai_0chat_v2 = _pkg_ai_0chat_v2\n" in facade

    # placed where the rules expect it, the facade imports and delegates
    (project / "pkg" / "chat_facade.py").write_text(facade)
    (project / "openai.py").write_text("class OpenAI:\n    pass\n")  # a stand-in SDK
    script = "import pkg.chat_facade as f; print(f.wrap('hi'), f.ai_0chat_v2.__name__)"
    ran = subprocess.run(
        [sys.executable, "-c", script],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(project)},
    )
    assert ran.stdout == "{'role': 'user', 'content': 'hi'} pkg.ai.0chat-v2\n", ran.stderr


def test_summary_counts_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write(tmp_path / "proj", ONE_SERVICE)
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert main(["analyze", str(project), "--out", str(tmp_path / "out"), *cache]) == 0
    err = capsys.readouterr().err
    assert "found 1 AI feature, 1 coupling; proposed 1 service\n" in err
    assert "-> 10 modules, 7 import edges between them\n" in err
    summary = json.loads((tmp_path / "out" / "analysis.json").read_text())["summary"]
    assert summary["import_edges"] == 7  # the one count of import edges, header included
    html = (tmp_path / "out" / "index.html").read_text()
    assert '<div class="value">7</div><div class="label">import edges</div>' in html
    assert "cannot see or check" not in err  # everything proposed is enforceable
    assert "init-files" not in err


def test_unenforceable_warning_says_what_it_counts_and_when_init_files_helps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blind = {
        "shop/__init__.py": "",
        "shop/ai/__init__.py": "",
        "shop/ai/experiments/try_chat.py": (
            "import openai\nclient = openai.OpenAI()\n"
            "def go():\n    return client.chat.completions.create(model='gpt-4o', messages=[])\n"
        ),
        "shop/web/__init__.py": "",
        "shop/web/views.py": "from shop.ai.experiments import try_chat\n",
        "shop/web/cart.py": "def total():\n    return 1\n",
        "shop/web/api.py": "from shop.web.cart import total\n",
    }
    project = write(tmp_path / "blind", blind)
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert main(["analyze", str(project), "--out", str(tmp_path / "o1"), *cache]) == 0
    err = capsys.readouterr().err
    assert "warning: import-linter cannot see or check 3 modules or rules" in err
    assert f"`carveout init-files {project}` lists the 1 missing __init__.py file" in err

    # one package, all of it AI: no rule can fail, but no __init__.py is missing either
    whole = {
        "bot/__init__.py": "",
        "bot/ask.py": (
            "import requests\n"
            "def ask(q):\n"
            "    return requests.post('https://api.openai.com/v1/chat/completions',"
            " json={'model': 'gpt-4o', 'messages': [q]})\n"
        ),
    }
    project = write(tmp_path / "whole", whole)
    assert main(["analyze", str(project), "--out", str(tmp_path / "o2"), *cache]) == 0
    err = capsys.readouterr().err
    assert "warning: import-linter cannot see or check 1 module or rule" in err
    assert "init-files" not in err
    assert "no importlinter.toml written: import-linter can enforce none" in err
    assert not (tmp_path / "o2" / "importlinter.toml").exists()
    assert "no protected contract" in (tmp_path / "o2" / "index.html").read_text()


def test_debug_is_accepted_after_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import carveout.cli as cli

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    project = write(tmp_path / "proj", {"pkg/__init__.py": ""})
    monkeypatch.setattr(cli, "analyze", explode)
    monkeypatch.setattr(cli, "list_missing_init", explode)
    for command in (
        ["analyze", str(project), "--out", str(tmp_path / "out"), "--debug"],
        ["couplings", str(project), "--debug"],
        ["init-files", str(project), "--debug"],
    ):
        with pytest.raises(RuntimeError, match="boom"):
            main(command)
    assert main(["couplings", str(project)]) == ExitCode.INTERNAL_ERROR  # debug is per run


def test_format_is_case_insensitive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = write(tmp_path / "proj", {"pkg/__init__.py": "", "pkg/m.py": "import os\n"})
    cache = ["--cache-dir", str(tmp_path / "cache"), "--quiet"]
    assert main(["couplings", str(project), "--format", "JSON", *cache]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out) == []
    assert main(["couplings", str(project), "-f", "Sarif", *cache]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["version"] == "2.1.0"


def test_config_errors_name_the_table_and_count_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = "[tool.carveout]\nnope = 1\nmax-services = 'x'\n"
    project = write(tmp_path / "p", {"app/__init__.py": "", "pyproject.toml": config})
    assert main(["analyze", str(project), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"error: [tool.carveout] in {project / 'pyproject.toml'} has 2 problems:\n" in err
    write(project, {"pyproject.toml": "[tool.carveout]\nnope = 1\n"})
    assert main(["analyze", str(project), "--out", str(tmp_path / "o")]) == 2
    assert "has 1 problem:\n" in capsys.readouterr().err


def test_an_unwritable_output_folder_fails_before_the_analysis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import carveout.cli as cli

    def explode(*args: object, **kwargs: object) -> None:
        raise AssertionError("the analysis ran")

    monkeypatch.setattr(cli, "analyze", explode)
    project = write(tmp_path / "proj", {"pkg/__init__.py": ""})
    write(tmp_path, {"taken": "a file where the output folder should go"})
    code = main(["analyze", str(project), "--out", str(tmp_path / "taken" / "out")])
    assert code == ExitCode.USAGE_ERROR
    assert "cannot write the output folder" in capsys.readouterr().err


def test_the_cache_folder_carveout_creates_is_marked(tmp_path: Path) -> None:
    project = write(tmp_path / "proj", {"pkg/__init__.py": "", "pkg/m.py": "import os\n"})
    assert main(["analyze", str(project), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    cache = project / ".carveout_cache"
    assert (
        (cache / "CACHEDIR.TAG")
        .read_text()
        .startswith("Signature: 8a477f597d28d172789f06886806bc55\n")
    )
    assert "*" in (cache / ".gitignore").read_text().splitlines()

    # a folder the user made and named is never marked (a `*` there would hide their files)
    own = write(tmp_path / "own", {"notes.txt": "mine"})
    assert analyze(project, tmp_path / "out2", "--cache-dir", str(own)) == 0
    assert sorted(p.name for p in own.iterdir()) == ["facts.sqlite", "notes.txt"]


def test_the_couplings_table_prints_names_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write(
        tmp_path / "proj",
        {
            "pyproject.toml": "[project]\nname = '[/odd] [bold]name'\n",
            "pkg/__init__.py": "",
            "pkg/a.py": "import pkg.b\n",
            "pkg/b.py": "def f():\n    import pkg.a\n",
        },
    )
    arguments = ["couplings", str(project), "--cache-dir", str(tmp_path / "cache"), "--quiet"]
    assert main(arguments) == ExitCode.OK
    out = capsys.readouterr().out
    assert "couplings in [/odd] [bold]name" in out
    assert "import-cycle" in out


def test_cache_dir_and_no_cache_together_are_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["--no-cache", "--cache-dir", str(tmp_path / "cache"), "-q"]
    for command in (["analyze", str(tmp_path), "--out", str(tmp_path / "out")], ["couplings"]):
        path = [] if command[0] == "analyze" else [str(tmp_path)]
        assert main([*command, *path, *arguments]) == ExitCode.USAGE_ERROR
        assert "--cache-dir and --no-cache contradict each other" in capsys.readouterr().err
    assert not (tmp_path / "cache").exists()
