"""AI features from SDK calls: resolution by qualified name, labels, entry points, lineage."""

from __future__ import annotations

from pathlib import Path

import pytest

from carveout.domain.model import Capability
from carveout.stages.features import glob_matches, normalise_model
from helpers_features import run_tree

CHAT = Capability.CHAT
EMBED = Capability.EMBEDDINGS
IMAGE = Capability.IMAGE
STT = Capability.SPEECH_TO_TEXT
TTS = Capability.TEXT_TO_SPEECH
LOCAL = Capability.LOCAL_INFERENCE
AGENTS = Capability.AGENTS
RERANK = Capability.RERANKING

INIT = {"app/__init__.py": "", "app/ai/__init__.py": "", "app/web/__init__.py": ""}


def test_module_level_client_used_from_another_module(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/ai/clients.py": """
                from openai import OpenAI as Client
                client = Client()
            """,
            "app/ai/pictures.py": """
                from app.ai.clients import client

                def draw(prompt):
                    return client.images.generate(model="dall-e-3", prompt=prompt)
            """,
        },
    )
    assert found.direct() == {"app.ai.pictures": {IMAGE}}
    feature = found.feature(IMAGE)
    assert feature.providers == ("openai",)
    assert feature.models == ("dall-e-3",)
    (evidence,) = feature.evidence
    assert (evidence.path, evidence.line) == ("app/ai/pictures.py", 5)
    assert "openai.OpenAI().images.generate" in evidence.text


def test_relative_import_of_a_module_alias(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/ai/llm/__init__.py": "",
            "app/ai/llm/client.py": """
                import anthropic
                claude = anthropic.Anthropic()
            """,
            "app/ai/features/__init__.py": "",
            "app/ai/features/summary.py": """
                from ..llm import client as cl

                def summarise(text):
                    return cl.claude.messages.create(model="claude-3-5-sonnet", messages=[])
            """,
        },
    )
    assert found.direct() == {"app.ai.features.summary": {CHAT}}
    assert found.feature(CHAT).models == ("claude-3-5-sonnet",)


def test_bare_name_trap_local_functions_are_not_sdk_calls(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/web/views.py": """
                import openai  # imported, but none of these calls reach it

                def chat(message):
                    return message

                def create(**kwargs):
                    return kwargs

                class Completions:
                    def create(self, **kwargs):
                        return kwargs

                def handler(client, message):
                    chat(message)
                    create(model="gpt-4o")
                    client.chat.completions.create(model="gpt-4o")
                    Completions().create()
                    return openai.__version__
            """,
        },
    )
    assert found.features == ()
    assert found.labels == ()


def test_local_client_in_the_same_function_and_in_a_class(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/ai/ask.py": """
                from openai import AsyncOpenAI

                async def ask(question):
                    client = AsyncOpenAI()
                    return await client.chat.completions.create(model="gpt-4o", messages=[])
            """,
            "app/ai/speaker.py": """
                from elevenlabs.client import ElevenLabs

                class Speaker:
                    def __init__(self):
                        self.tts = ElevenLabs()

                    def say(self, text):
                        return self.tts.text_to_speech.convert(text=text, voice_id="x")
            """,
        },
    )
    assert found.direct() == {"app.ai.ask": {CHAT}, "app.ai.speaker": {TTS}}


def test_local_name_needs_a_client_built_in_the_same_scope(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/ai/store.py": """
                import chromadb

                def connect():
                    return chromadb.HttpClient()

                def settings_of(config):
                    return config.get("collection")
            """,
        },
    )
    evidence = found.feature(EMBED).evidence
    assert [e.line for e in evidence] == [5]  # the constructor, not the dict's .get()


def test_function_level_import_under_try_except_import_error(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/ai/transcribe.py": """
                def transcribe(path):
                    try:
                        from faster_whisper import WhisperModel
                    except ImportError:
                        return None
                    model = WhisperModel("base")
                    segments, _ = model.transcribe(path)
                    return segments
            """,
        },
    )
    assert found.direct() == {"app.ai.transcribe": {STT, LOCAL}}
    assert found.feature(STT).providers == ("faster-whisper",)


def test_imports_through_importlib(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/ai/infer.py": """
                import importlib

                torch = importlib.import_module("torch")

                def run(model, batch):
                    with torch.no_grad():
                        return model(batch)
            """,
            "app/ai/gemini.py": """
                import importlib

                def ask(question):
                    genai = importlib.import_module("google.generativeai")
                    model = genai.GenerativeModel("gemini-1.5-pro")
                    return model.generate_content(question)
            """,
        },
    )
    assert found.direct() == {"app.ai.infer": {LOCAL}, "app.ai.gemini": {CHAT}}
    assert found.feature(CHAT).models == ("gemini-1.5-pro",)


def test_client_built_by_a_project_factory(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/ai/factory.py": """
                from mistralai import Mistral

                def make_client():
                    return Mistral(api_key="x")
            """,
            "app/ai/vectors.py": """
                from app.ai.factory import make_client

                client = make_client()

                def embed(texts):
                    return client.embeddings.create(model="mistral-embed", inputs=texts)
            """,
        },
    )
    assert found.direct() == {"app.ai.vectors": {EMBED}}
    assert found.feature(EMBED).models == ("mistral-embed",)


def test_bedrock_runtime_client_but_not_other_boto3_clients(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/ai/bedrock.py": """
                import boto3

                bedrock = boto3.client("bedrock-runtime")
                s3 = boto3.client("s3")

                def ask(text):
                    s3.put_object(Bucket="b", Key="k", Body=text)
                    return bedrock.converse(modelId="anthropic.claude-3-haiku", messages=[])
            """,
        },
    )
    feature = found.feature(CHAT)
    assert [e.line for e in feature.evidence] == [9]
    assert feature.models == ("anthropic.claude-3-haiku",)


# One call per SDK of the catalogue: (module text, the capabilities the module gets).
SDK_CASES = {
    "openai-legacy": ("import openai\nopenai.ChatCompletion.create(model='gpt-4')", {CHAT}),
    "openai-speech": (
        "from openai import OpenAI\nc = OpenAI()\nc.audio.speech.create(model='tts-1')",
        {TTS},
    ),
    "anthropic": (
        "from anthropic import Anthropic\nc = Anthropic()\nc.messages.create(messages=[])",
        {CHAT},
    ),
    "google-genai": (
        "from google import genai\nc = genai.Client()\nc.models.embed_content(contents='x')",
        {EMBED},
    ),
    "google-generativeai": (
        "import google.generativeai as genai\ngenai.GenerativeModel('gemini-pro')",
        {CHAT},
    ),
    "vertexai": (
        "from vertexai.preview.vision_models import ImageGenerationModel\n"
        "ImageGenerationModel.from_pretrained('imagegeneration')",
        {IMAGE},
    ),
    "mistralai": (
        "from mistralai import Mistral\nm = Mistral()\nm.chat.complete(messages=[])",
        {CHAT},
    ),
    "cohere": ("import cohere\nco = cohere.ClientV2()\nco.rerank(query='q')", {RERANK}),
    "groq": (
        "from groq import Groq\ng = Groq()\ng.audio.transcriptions.create(file=b'')",
        {STT},
    ),
    "ollama": ("import ollama\nollama.embed(model='nomic-embed-text')", {EMBED}),
    "litellm": ("from litellm import completion\ncompletion(model='gpt-4o')", {CHAT}),
    "langchain-openai": (
        "from langchain_openai import OpenAIEmbeddings\nOpenAIEmbeddings()",
        {EMBED},
    ),
    "langchain-agents": (
        "from langchain.agents import AgentExecutor\nAgentExecutor(agent=None, tools=[])",
        {AGENTS},
    ),
    "llama_index": (
        "from llama_index.core import VectorStoreIndex\nVectorStoreIndex.from_documents([])",
        {EMBED},
    ),
    "transformers-pipeline": (
        "from transformers import pipeline\npipeline('automatic-speech-recognition')",
        {STT, LOCAL},
    ),
    "diffusers": (
        "from diffusers import StableDiffusionPipeline\n"
        "StableDiffusionPipeline.from_pretrained('stabilityai/sdxl-turbo')",
        {IMAGE, LOCAL},
    ),
    "sentence_transformers": (
        "from sentence_transformers import CrossEncoder\nCrossEncoder('ms-marco')",
        {RERANK, LOCAL},
    ),
    "torch": ("import torch\ntorch.load('model.pt')", {LOCAL}),
    "whisper": ("import whisper\nwhisper.load_model('base')", {STT, LOCAL}),
    "elevenlabs": (
        "from elevenlabs import ElevenLabs\ne = ElevenLabs()\ne.text_to_speech.convert(text='x')",
        {TTS},
    ),
    "replicate": (
        "import replicate\nreplicate.run('stability-ai/stable-diffusion-3')",
        {IMAGE},
    ),
    "huggingface_hub": (
        "from huggingface_hub import InferenceClient\n"
        "hf = InferenceClient()\nhf.automatic_speech_recognition('a.wav')",
        {STT},
    ),
    "rapidocr": ("from rapidocr import RapidOCR\nRapidOCR()", {LOCAL}),
    "mcp-client": (
        "from mcp import ClientSession\nfrom mcp.client.stdio import stdio_client\n"
        "stdio_client(params)\nClientSession(read, write)",
        {AGENTS},
    ),
    "mcp-server": ("from mcp.server.fastmcp import FastMCP\nFastMCP('tools')", {AGENTS}),
    "langchain-document-compressor": (
        "from langchain_core.documents import BaseDocumentCompressor\n"
        "class Reorder(BaseDocumentCompressor):\n    pass",
        {RERANK},
    ),
}


@pytest.mark.parametrize("case", sorted(SDK_CASES))
def test_each_sdk_of_the_catalogue(tmp_path: Path, case: str) -> None:
    text, expected = SDK_CASES[case]
    found = run_tree(tmp_path, {**INIT, "app/ai/use.py": text + "\n"})
    assert found.direct() == {"app.ai.use": expected}


@pytest.mark.parametrize(
    "text",
    [
        "import tiktoken\ntiktoken.get_encoding('cl100k_base')",
        # keyword ranking runs no model: it is the lexical half of hybrid search
        "from rank_bm25 import BM25Okapi\nBM25Okapi(corpus)",
        # fetching weights runs nothing: the module that loads them is the inference
        "from huggingface_hub import snapshot_download\nsnapshot_download(repo_id='x/y')",
        # MCP's types and auth metadata call no tool
        "from mcp.shared.auth import OAuthMetadata\nOAuthMetadata(issuer='https://x')",
    ],
    ids=["tiktoken", "rank_bm25", "snapshot_download", "mcp-types"],
)
def test_supporting_libraries_alone_implement_no_capability(tmp_path: Path, text: str) -> None:
    found = run_tree(tmp_path, {**INIT, "app/ai/support.py": text + "\n"})
    assert found.features == ()


def test_sdk_base_class_and_decorator_count(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/ai/retriever.py": """
                from langchain_core.retrievers import BaseRetriever

                class ProductRetriever(BaseRetriever):
                    pass
            """,
            "app/ai/tools.py": """
                from langchain_core.tools import tool

                @tool
                def lookup(sku: str) -> str:
                    return sku
            """,
        },
    )
    assert found.direct() == {"app.ai.retriever": {EMBED}, "app.ai.tools": {AGENTS}}


# --- labels, entry points, env vars, config keys --------------------------------------------


FEATURE_TREE = {
    **INIT,
    "app/core/__init__.py": "",
    "app/core/config.py": """
        import os

        OPENAI_MODEL = os.getenv("OPENAI_MODEL", "gpt-4o-mini")
        TEMPERATURE = 0.2
    """,
    "app/ai/prompts.py": """
        SYSTEM = "You are a helpful shop assistant."
    """,
    "app/ai/writer.py": """
        import os
        from openai import OpenAI
        from app.ai.prompts import SYSTEM
        from app.core import config
        from app.core.config import TEMPERATURE

        client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])

        def write(text):
            return client.chat.completions.create(
                model=config.OPENAI_MODEL, temperature=TEMPERATURE, messages=[SYSTEM, text]
            )
    """,
    "app/web/routes.py": """
        from fastapi import APIRouter
        from app.ai import writer

        router = APIRouter()

        @router.post("/describe")
        def describe(text: str):
            return writer.write(text)
    """,
    "app/web/health.py": """
        from fastapi import APIRouter
        from app.core import config

        router = APIRouter()

        @router.get("/health")
        def health():
            return {"temperature": config.TEMPERATURE}
    """,
}


def test_feature_modules_entry_points_env_and_config(tmp_path: Path) -> None:
    found = run_tree(tmp_path, FEATURE_TREE)
    feature = found.feature(CHAT)
    assert feature.modules == ("app.ai.prompts", "app.ai.writer", "app.web.routes")
    assert found.direct() == {"app.ai.writer": {CHAT}}
    # the prompts exist only for the writer; the router drives nothing else
    assert found.orchestration() == {"app.ai.prompts": {CHAT}, "app.web.routes": {CHAT}}
    assert feature.entry_points == ("app.web.routes",)
    assert feature.env_vars == ("OPENAI_API_KEY",)
    assert feature.config_keys == ("OPENAI_MODEL", "TEMPERATURE")
    assert feature.models == ("gpt-4o-mini",)  # the config default of the key it reads


def test_shared_infrastructure_is_not_labelled(tmp_path: Path) -> None:
    found = run_tree(tmp_path, FEATURE_TREE)
    labelled = {label.module for label in found.labels}
    assert "app.core.config" not in labelled  # read by the feature and by health
    assert "app.web.health" not in labelled


def test_detection_is_deterministic(tmp_path: Path) -> None:
    first = run_tree(tmp_path / "a", FEATURE_TREE)
    second = run_tree(tmp_path / "b", FEATURE_TREE)
    assert first.features == second.features
    assert first.labels == second.labels


# --- pattern and model-name helpers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("openai.**.chat.completions.create", "openai.OpenAI().chat.completions.create", True),
        ("openai.**.chat.completions.create", "openai.chat.completions.create", True),
        ("openai.**.chat.completions.create", "openai.OpenAI().chat.completions", False),
        ("*.**.client(bedrock-runtime).converse", "boto3.client(bedrock-runtime).converse", True),
        ("*.**.client(bedrock-runtime).converse", "boto3.client(s3).converse", False),
        ("hub.**.*Client().chat", "hub.InferenceClient().chat", True),
        ("hub.**.*Client().chat", "hub.InferenceClient.chat", False),
        ("ollama.**.chat|generate", "ollama.Client().generate", True),
        ("ollama.**.chat|generate", "ollama.Client().pull", False),
    ],
)
def test_glob_patterns(pattern: str, name: str, matches: bool) -> None:
    assert glob_matches(pattern, name) is matches


@pytest.mark.parametrize(
    ("literal", "normalised"),
    [
        ("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b-instruct"),
        ("anthropic.claude-3-haiku-20240307-v1:0", "claude-3-haiku-20240307-v1:0"),
        ("models/gemini-1.5-pro", "gemini-1.5-pro"),
        ("OPENAI_MODEL", None),
        ("https://api.openai.com/v1", None),
        ("hello world", None),
    ],
)
def test_model_names_are_normalised(literal: str, normalised: str | None) -> None:
    assert normalise_model(literal) == normalised


def test_implementations_of_one_interface_share_its_capability(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/ai/stores/__init__.py": "",
            "app/ai/stores/base.py": "class VectorStore:\n    pass\n",
            "app/ai/stores/chroma.py": """
                import chromadb
                from app.ai.stores.base import VectorStore

                class Chroma(VectorStore):
                    def connect(self):
                        return chromadb.HttpClient()
            """,
            "app/ai/stores/qdrant.py": """
                from qdrant_client import QdrantClient
                from app.ai.stores.base import VectorStore

                class Qdrant(VectorStore):
                    def connect(self):
                        return QdrantClient()
            """,
            "app/ai/stores/memory.py": """
                from app.ai.stores.base import VectorStore

                class InMemory(VectorStore):
                    pass
            """,
            "app/web/plain.py": """
                from app.ai.stores.base import VectorStore

                class NotAStore:
                    pass
            """,
        },
    )
    assert found.orchestration() == {
        "app.ai.stores.base": {EMBED},
        "app.ai.stores.memory": {EMBED},
    }


def test_a_call_chained_on_a_fresh_client_is_an_sdk_call(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/embed.py": (
                "from openai import OpenAI\n\n\n"
                "def embed(text):\n"
                "    return OpenAI().embeddings.create(model='text-embedding-3-small',"
                " input=text)\n"
            ),
            "app/ask.py": (
                "import openai as oa\n\n\n"
                "def ask(q):\n"
                "    return oa.OpenAI().chat.completions.create(model='gpt-4o', messages=[])\n"
            ),
            "app/bedrock.py": (
                "import boto3\n\n\n"
                "def ask(body):\n"
                "    return boto3.client('bedrock-runtime').invoke_model(body=body)\n"
            ),
            "app/local.py": (
                "class Maker:\n    def chat(self): ...\n\n\n"
                "def not_ai():\n    return Maker().chat()\n"
            ),
        },
    )
    direct = found.direct()
    assert direct["app.embed"] == {Capability.EMBEDDINGS}
    assert direct["app.ask"] == {Capability.CHAT}
    assert Capability.CHAT in direct["app.bedrock"]
    assert "app.local" not in direct
