"""The detector catalogue: built-in files load, a user's file merges, bad files are refused
with every problem listed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from carveout.adapters.catalogue import builtin_folder, catalogue_fingerprint, load_catalogue
from carveout.domain.errors import ConfigError
from carveout.domain.model import Capability
from helpers_features import run_tree

ROOT = Path(__file__).resolve().parents[1]


def test_builtin_catalogue_loads_from_the_repository_folder() -> None:
    folder = builtin_folder()
    assert (folder / "sdks.toml").is_file()
    catalogue = load_catalogue()
    names = {sdk.name for sdk in catalogue.sdks}
    for wanted in (
        "openai",
        "anthropic",
        "google-genai",
        "google-generativeai",
        "vertexai",
        "mistralai",
        "cohere",
        "groq",
        "ollama",
        "litellm",
        "langchain",
        "llama_index",
        "transformers",
        "diffusers",
        "sentence_transformers",
        "torch",
        "tiktoken",
        "whisper",
        "faster_whisper",
        "elevenlabs",
        "replicate",
        "bedrock",
        "huggingface_hub",
    ):
        assert wanted in names, wanted
    assert {"requests", "httpx", "aiohttp"} <= set(catalogue.http_clients)
    assert {e.name for e in catalogue.endpoints} >= {
        "openai-chat-completions",
        "ollama-generate-chat",
        "comfyui-prompt-queue",
        "gemini-generate",
    }
    assert catalogue_fingerprint(catalogue) == catalogue_fingerprint(load_catalogue())


def test_every_capability_is_documented() -> None:
    text = (ROOT / "docs" / "capabilities.md").read_text(encoding="utf-8")
    readme = (ROOT / "analyzers" / "README.md").read_text(encoding="utf-8")
    for capability in Capability:
        assert f"`{capability.value}`" in text
        assert f"`{capability.value}`" in readme


USER_FILE = """
[[sdk]]
name = "acme"
provider = "acme-ai"
modules = ["acme_llm"]
calls = [{ pattern = "acme_llm.**.ask", capabilities = ["chat"] }]

[[family]]
name = "gpt"
pattern = 'acme-'
provider = "acme"
capabilities = ["chat"]

[[endpoint]]
name = "acme-speech"
pattern = '/acme/speak$'
capabilities = ["text_to_speech"]
provider = "acme"
"""


def test_user_file_adds_and_replaces_entries(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(USER_FILE, encoding="utf-8")
    catalogue = load_catalogue(extra)
    assert catalogue.sdks[0].name == "acme"
    gpt = [f for f in catalogue.models if f.name == "gpt"]
    assert len(gpt) == 1 and gpt[0].pattern == "acme-"  # replaced, and tried first
    assert catalogue.sources[-1] == str(extra)
    assert catalogue_fingerprint(catalogue) != catalogue_fingerprint(load_catalogue())

    found = run_tree(
        tmp_path / "project",
        {
            "app/__init__.py": "",
            "app/bot.py": (
                "import acme_llm\nbot = acme_llm.Client()\nbot.ask('hi', model='acme-1')\n"
            ),
            "app/voice.py": "import httpx\nURL = '{}/acme/speak'\n",
        },
        catalogue=catalogue,
    )
    chat = found.feature(Capability.CHAT)
    assert chat.providers == ("acme-ai",) and chat.models == ("acme-1",)
    assert found.direct()["app.voice"] == {Capability.TEXT_TO_SPEECH}


def test_a_bad_user_file_lists_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        """
[[sdk]]
name = "broken"
modules = ["x"]
colls = []
calls = [{ pattern = "x..y", capabilities = ["telepathy"] }]

[[endpoint]]
name = "e"
pattern = '(unclosed'
capabilities = ["chat"]
provider = "p"

[extras]
a = 1
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        load_catalogue(bad)
    message = str(raised.value)
    for problem in (
        "unknown section 'extras'",
        "'provider' must be a non-empty string",
        "unknown key 'colls'",
        "is not a dotted glob",
        "unknown capability 'telepathy'",
        "not a valid regular expression",
    ):
        assert problem in message, problem
    assert re.search(r"has 6 problem", message)


def test_missing_and_unreadable_user_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_catalogue(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[sdk]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_catalogue(broken)
