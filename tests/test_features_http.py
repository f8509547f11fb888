"""AI features reached through raw HTTP: endpoint strings, URL templates, routes."""

from __future__ import annotations

from pathlib import Path

import pytest

from carveout.domain.model import Capability
from helpers_features import run_tree

INIT = {"app/__init__.py": "", "app/ai/__init__.py": "", "app/core/__init__.py": ""}
SETTINGS = {
    "app/core/config.py": """
        class Settings:
            EMBEDDING_URL = "http://localhost:8080"
            EMBEDDING_MODEL = "nomic-embed-text"

        settings = Settings()
    """
}


def test_httpx_call_to_an_f_string_url_built_from_settings(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            **SETTINGS,
            "app/ai/embed.py": """
                import httpx
                from app.core.config import settings

                async def embed(texts):
                    async with httpx.AsyncClient() as http:
                        response = await http.post(
                            f"{settings.EMBEDDING_URL}/v1/embeddings",
                            json={"model": settings.EMBEDDING_MODEL, "input": texts},
                        )
                    return response.json()
            """,
        },
    )
    feature = found.feature(Capability.EMBEDDINGS)
    assert feature.modules == ("app.ai.embed",)
    assert feature.providers == ("openai-compatible",)
    assert [(e.path, e.line, e.text) for e in feature.evidence] == [
        ("app/ai/embed.py", 8, "HTTP {}/v1/embeddings")
    ]
    assert feature.config_keys == ("EMBEDDING_MODEL", "EMBEDDING_URL")
    assert feature.models == ("nomic-embed-text",)  # the default of the config it reads


@pytest.mark.parametrize(
    ("url", "capability"),
    [
        ("{base}/api/generate", Capability.CHAT),
        ("{base}/api/chat", Capability.CHAT),
        ("{base}/api/embed", Capability.EMBEDDINGS),
        ("{base}/v1beta/models/{model}:generateContent", Capability.CHAT),
        ("{base}/v1beta/models/{model}:embedContent", Capability.EMBEDDINGS),
        ("{base}/prompt", Capability.IMAGE),
        ("{base}/sdapi/v1/txt2img", Capability.IMAGE),
        ("{base}/v1/images/generations", Capability.IMAGE),
        ("{base}/v1/audio/transcriptions", Capability.SPEECH_TO_TEXT),
        ("{base}/v1/audio/speech", Capability.TEXT_TO_SPEECH),
        ("https://api.openai.com/v1/chat/completions", Capability.CHAT),
        ("{base}/v1/moderations", Capability.MODERATION),
        ("{base}/v1/rerank", Capability.RERANKING),
        ("{base}/v1beta/models/imagen-3.0-generate-002:predict", Capability.IMAGE),
        ("{base}/v1beta/models/{model}:predictLongRunning", Capability.VIDEO),
        (
            "https://{region}.tts.speech.microsoft.com/cognitiveservices/v1",
            Capability.TEXT_TO_SPEECH,
        ),
    ],
)
def test_endpoint_paths(tmp_path: Path, url: str, capability: Capability) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/ai/call.py": f"""
                import requests

                def call(base, model, payload):
                    url = f"{url}"
                    return requests.post(url, json=payload).json()
            """,
        },
    )
    assert found.direct() == {"app.ai.call": {capability}}


def test_session_objects_of_each_http_client(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/ai/sessions.py": """
                import requests
                session = requests.Session()
            """,
            "app/ai/ollama_chat.py": """
                from app.ai.sessions import session

                def chat(base, messages):
                    return session.post(f"{base}/api/chat", json={"messages": messages})
            """,
            "app/ai/speech.py": """
                import aiohttp

                async def speak(base, text):
                    async with aiohttp.ClientSession() as http:
                        async with http.post(f"{base}/audio/speech", json={"input": text}) as r:
                            return await r.read()
            """,
        },
    )
    assert found.direct() == {
        "app.ai.ollama_chat": {Capability.CHAT},
        "app.ai.speech": {Capability.TEXT_TO_SPEECH},
    }


def test_url_passed_to_a_session_from_a_helper(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/core/pool.py": """
                def get_session():
                    raise NotImplementedError
            """,
            "app/ai/queue.py": """
                from app.core.pool import get_session

                async def queue(base, workflow):
                    session = await get_session()
                    return await session.post(f"{base}/prompt", json=workflow)
            """,
        },
    )
    assert found.direct() == {"app.ai.queue": {Capability.IMAGE}}


def test_served_routes_are_not_calls(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/api.py": """
                import httpx
                from fastapi import APIRouter

                router = APIRouter()

                @router.post("/v1/chat/completions")
                async def proxy(body: dict):
                    return body

                @router.get("/api/embeddings")
                async def embeddings():
                    return []
            """,
        },
    )
    assert found.features == ()


def test_endpoint_strings_need_http_and_a_slash(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/ai/names.py": """
                ENDPOINTS = {"chat": "/v1/chat/completions"}  # no HTTP client in this module
            """,
            "app/ai/keys.py": """
                import requests

                FIELDS = ["embeddings", "prompt", "transcriptions"]  # bare words, no paths

                def fetch(url):
                    return requests.get(url).json()
            """,
        },
    )
    assert found.features == ()


def test_the_stripe_api_is_not_an_ai_endpoint(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/billing.py": """
                import requests

                def charge(amount):
                    return requests.post("https://api.stripe.com/v1/payment_intents",
                                         data={"amount": amount})
            """,
        },
    )
    assert found.features == ()


def test_urls_assembled_by_concatenation_and_urlunsplit(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/ai/voice.py": """
                from urllib.parse import urlsplit, urlunsplit

                import aiohttp

                async def speak(base, region, ssml):
                    host = base or f"https://{region}.tts.speech.microsoft.com"
                    url = host + "/cognitiveservices/v1"
                    async with aiohttp.ClientSession() as http:
                        return await http.post(url, data=ssml)

                def realtime_url(base, model):
                    parts = urlsplit(base)
                    return urlunsplit(("wss", parts.netloc, f"{parts.path}/realtime", model, ""))
            """,
            "app/ai/voices.py": """
                import aiohttp

                async def voices(region):
                    host = f"https://{region}.api.cognitive.microsoft.com"
                    url = host + "/cognitiveservices/voices/list"
                    async with aiohttp.ClientSession() as http:
                        return await http.get(url)
            """,
        },
    )
    speech = {Capability.SPEECH_TO_TEXT, Capability.TEXT_TO_SPEECH}
    assert found.direct() == {"app.ai.voice": speech}  # listing voices synthesises nothing


def test_a_method_suffix_apart_from_its_url_is_not_an_endpoint(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **INIT,
            "app/ai/gemini.py": """
                import httpx

                def generate(base, model, body):
                    method = f"{model}:generateContent"  # chat or image: the model decides
                    return httpx.post(f"{base}/models/{method}", json=body)
            """,
        },
    )
    assert found.features == ()
