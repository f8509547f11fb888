"""Contract versions across runs: unchanged keeps the version, an additive change bumps the
minor, a breaking change starts `contract.v2.json` and keeps v1 beside it, deprecated."""

from __future__ import annotations

import json
from pathlib import Path

from carveout.cli import main

CHAT = '''\
from openai import OpenAI

client = OpenAI(api_key="sk-test")


def reply(question: str, tone: str = "plain") -> str:
    """Answer a question."""
    result = client.chat.completions.create(model="gpt-4o-mini", messages=[])
    return str(result)
'''
USER = """\
from app.ai.chat import reply
from app.core.auth import user
from app.core.db import load, save


def handle(q: str) -> str:
    return save(reply(q))


def profile() -> str:
    return load(user())


def history() -> str:
    return load("history")


def health() -> str:
    return "ok"
"""
DB = """\
def save(text: str) -> str:
    return text


def load(key: str) -> str:
    return key
"""
AUTH = "from app.core.db import load\n\n\ndef user() -> str:\n    return load('u')\n"
BILLING = """\
from app.core.auth import user
from app.core.db import load, save


def bill() -> str:
    return save(load(user()))
"""


def write_project(root: Path, chat: str) -> Path:
    files = {
        "app/__init__.py": "",
        "app/ai/__init__.py": "",
        "app/ai/chat.py": chat,
        "app/web/__init__.py": "",
        "app/web/routes.py": USER,
        "app/core/__init__.py": "",
        "app/core/db.py": DB,
        "app/core/auth.py": AUTH,
        "app/billing.py": BILLING,
        "app/main.py": "from app import billing\nfrom app.core import db\nimport app.web.routes\n",
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def run(project: Path, out: Path) -> dict[str, bytes]:
    code = main(["analyze", str(project), "--out", str(out), "--no-cache", "--quiet"])
    assert code == 0
    folder = out / "contracts" / "chat"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def contract(files: dict[str, bytes], name: str) -> dict:
    return json.loads(files[name])


def test_versions_follow_the_changes_of_the_surface(tmp_path: Path) -> None:
    project = write_project(tmp_path / "proj", CHAT)
    out = tmp_path / "out"

    first = run(project, out)
    assert contract(first, "contract.v1.json")["version"] == "1.0.0"

    # unchanged: same version, same bytes
    assert run(project, out) == first

    # additive: a new optional parameter bumps the minor version in the same file
    (project / "app/ai/chat.py").write_text(
        CHAT.replace('tone: str = "plain"', 'tone: str = "plain", short: bool = False')
    )
    additive = run(project, out)
    assert sorted(additive) == ["contract.v1.json", "facade.py", "test_contract.py"]
    v1 = contract(additive, "contract.v1.json")
    assert v1["version"] == "1.1.0"
    assert v1["changes_since"]["version"] == "1.0.0"
    assert all(c.startswith("additive:") for c in v1["changes_since"]["changes"])

    # breaking: a renamed parameter starts v2; v1 stays, deprecated, with what broke it
    (project / "app/ai/chat.py").write_text(
        CHAT.replace("question: str", "prompt: str").replace(
            'tone: str = "plain"', 'tone: str = "plain", short: bool = False'
        )
    )
    breaking = run(project, out)
    assert sorted(breaking) == [
        "contract.v1.json",
        "contract.v2.json",
        "facade.py",
        "test_contract.py",
    ]
    v2 = contract(breaking, "contract.v2.json")
    assert v2["version"] == "2.0.0"
    assert any(c.startswith("breaking:") for c in v2["changes_since"]["changes"])
    old = contract(breaking, "contract.v1.json")
    assert old["version"] == "1.1.0"
    assert old["deprecated"]["superseded_by"] == "contract.v2.json"
    assert old["deprecated"]["breaking_changes"]
    assert b"contract.v2.json" in breaking["test_contract.py"]
    assert b"contract version 2.0.0" in breaking["facade.py"]

    # and a rerun of the same code is stable again
    assert run(project, out) == breaking
