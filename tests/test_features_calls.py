"""Orchestration found through the call graph: modules whose functions, or whose callers,
exist for one capability; consumers, shared helpers and composition roots stay out."""

from __future__ import annotations

from pathlib import Path

from carveout.domain.model import Capability
from carveout.stages.features import call_profiles
from helpers_features import CATALOGUE, run_tree

CHAT = Capability.CHAT
EMBED = Capability.EMBEDDINGS
IMAGE = Capability.IMAGE
LOCAL = Capability.LOCAL_INFERENCE

PACKAGES = {
    f"app/{name}/__init__.py": ""
    for name in ("ai", "chat", "core", "jobs", "shop", "web", "db", "search")
}
PROVIDERS = {
    **PACKAGES,
    "app/__init__.py": "",
    "app/ai/openai_backend.py": """
        from openai import OpenAI

        client = OpenAI()

        def chat(payload):
            return client.chat.completions.create(**payload)

        def embed(text):
            return client.embeddings.create(input=text, model="text-embedding-3-small")
    """,
    "app/ai/ollama_backend.py": """
        import httpx

        def chat(base, payload):
            return httpx.post(f"{base}/api/chat", json=payload).json()
    """,
    "app/ai/pictures.py": """
        from openai import OpenAI

        client = OpenAI()

        def draw(prompt):
            return client.images.generate(prompt=prompt)
    """,
    # used by several modules of several areas: infrastructure, never a feature's own
    "app/core/text.py": """
        def clean(value):
            return value.strip()
    """,
    "app/jobs/nightly.py": """
        from app.core import text

        def run(rows):
            return [text.clean(r) for r in rows]
    """,
}


def test_a_dispatcher_whose_functions_reach_one_capability(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **PROVIDERS,
            # no provider call of its own: it picks a backend, through a private helper
            "app/chat/dispatch.py": """
                from app.ai import ollama_backend, openai_backend
                from app.core import text

                def generate(payload, base=None):
                    if base:
                        return ollama_backend.chat(base, _prepare(payload))
                    return openai_backend.chat(_prepare(payload))

                def stream(payload):
                    return generate(payload)

                def format_reply(reply):
                    return text.clean(reply["content"])

                def _prepare(payload):
                    return {**payload, "messages": _trim(payload["messages"])}

                def _trim(messages):
                    return messages[-20:]
            """,
            # other modules call it mostly to format: its use alone would not say chat
            "app/jobs/digest.py": """
                from app.chat import dispatch

                def summarise(rows):
                    return dispatch.format_reply(dispatch.generate({"messages": rows}))

                def headline(reply):
                    return dispatch.format_reply(reply)
            """,
        },
    )
    # format_reply reaches nothing, but two of three public functions reach chat
    assert found.orchestration()["app.chat.dispatch"] == {CHAT}
    assert "app.chat.dispatch" in found.feature(CHAT).modules


def test_helpers_only_the_module_calls_work_for_their_callers(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **PROVIDERS,
            "app/chat/pipeline.py": """
                from app.ai import openai_backend
                from app.core import text

                def process(payload):
                    payload = add_context(payload)
                    return openai_backend.chat(merge_system(payload))

                def add_context(payload):
                    return {**payload, "context": split_sources(payload)}

                def merge_system(payload):
                    return {**payload, "system": text.clean(payload["system"])}

                def split_sources(payload):
                    return payload.get("sources", [])

                def parse_tags(reply):
                    return reply.split(",")
            """,
            "app/jobs/replay.py": """
                from app.chat import pipeline

                def replay(payloads):
                    return [pipeline.process(p) for p in payloads]

                def tags(reply):
                    return pipeline.parse_tags(reply)
            """,
        },
    )
    # one function reaches the provider; three helpers work for it; parse_tags, which
    # another module calls, does not: four of five
    assert found.orchestration()["app.chat.pipeline"] == {CHAT}


def test_a_consumer_with_a_plain_fallback_is_not_the_feature(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **PROVIDERS,
            "app/shop/repository.py": """
                def keyword_search(words):
                    return [w for w in words]

                def get(product_id):
                    return product_id
            """,
            "app/shop/listing.py": """
                from app.shop import repository

                def show(product_id):
                    return repository.get(product_id)
            """,
            # semantic search first, keyword search as a fallback; related items are plain
            "app/shop/search.py": """
                from app.ai import openai_backend
                from app.shop import repository

                def search(query):
                    hits = _semantic(query)
                    return hits or repository.keyword_search(query.split())

                def related(product_id):
                    return [repository.get(product_id)]

                def _semantic(query):
                    return openai_backend.embed(query)
            """,
        },
    )
    assert "app.shop.search" not in found.orchestration()
    assert found.feature(EMBED).modules == ("app.ai.openai_backend",)


def test_calls_further_than_three_hops_do_not_count(tmp_path: Path) -> None:
    chain = {
        # four modules, each calling the next one; the last calls the provider
        f"app/chat/step{n}.py": f"""
            from app.chat import step{n + 1}

            def run(payload):
                return step{n + 1}.run(payload)
        """
        for n in range(1, 4)
    }
    found = run_tree(
        tmp_path,
        {
            **PROVIDERS,
            **chain,
            "app/chat/step4.py": """
                from app.ai import openai_backend

                def run(payload):
                    return openai_backend.chat(payload)
            """,
        },
    )
    labelled = found.orchestration()
    # step4.run is one call from the provider's function, step1.run four
    assert {m for m in labelled if m.startswith("app.chat.step")} == {
        "app.chat.step2",
        "app.chat.step3",
        "app.chat.step4",
    }


def test_a_module_other_modules_call_for_one_capability(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **PROVIDERS,
            # most of its functions are formatting; what others call it for is generation
            "app/web/style.py": """
                def tidy(value):
                    return value.strip()
            """,
            "app/chat/adapters.py": """
                from app.ai import openai_backend
                from app.web import style

                def to_provider(payload):
                    return openai_backend.chat(payload)

                def title_case(value):
                    return style.tidy(value).title()

                def snake_case(value):
                    return value.lower()

                def kebab_case(value):
                    return value.replace(" ", "-")
            """,
            # its callers do plain work besides: they are no chat modules themselves
            "app/jobs/titles.py": """
                from app.chat import adapters
                from app.core import text

                def title(value):
                    return adapters.to_provider({"messages": [value]})

                def tags(value):
                    return adapters.to_provider({"messages": [value, "tags"]})

                def slug(value):
                    return text.clean(value)

                def words(value):
                    return text.clean(value).split()

                def lines(value):
                    return text.clean(value).splitlines()
            """,
            "app/web/ask.py": """
                from app.chat.adapters import kebab_case, to_provider
                from app.core import text
                from app.web import style

                def ask(value):
                    return to_provider({"messages": [kebab_case(value)]})

                def echo(value):
                    return text.clean(value)

                def shout(value):
                    return style.tidy(text.clean(value)).upper()
            """,
        },
    )
    assert "app.jobs.titles" not in found.orchestration()
    assert found.orchestration()["app.chat.adapters"] == {CHAT}


def test_a_module_other_modules_call_mostly_for_plain_work(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **PROVIDERS,
            "app/shop/repository.py": """
                def load(product_id):
                    return {"id": product_id}
            """,
            "app/shop/stock.py": """
                from app.shop import repository

                def count(product_id):
                    return len(repository.load(product_id))
            """,
            "app/shop/service.py": """
                from app.ai import openai_backend
                from app.shop import repository

                def get_product(product_id):
                    return repository.load(product_id)

                def delete_product(product_id):
                    return repository.load(product_id)

                def rename(product_id, name):
                    return {**repository.load(product_id), "name": name}

                def describe(product):
                    return openai_backend.chat({"messages": [product["name"]]})
            """,
            "app/web/products.py": """
                from app.shop import service

                def show(product_id):
                    return service.get_product(product_id)

                def remove(product_id):
                    return service.delete_product(product_id)

                def edit(product_id, name):
                    service.get_product(product_id)
                    return service.rename(product_id, name)

                def describe(product_id):
                    return service.describe(service.get_product(product_id))
            """,
        },
    )
    assert "app.shop.service" not in found.orchestration()
    assert "app.web.products" not in found.orchestration()


def test_a_route_module_is_not_judged_by_who_calls_it(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **PROVIDERS,
            # its handlers upload and delete files; other modules reuse its indexing step
            "app/web/files.py": """
                from fastapi import APIRouter
                from app.ai import openai_backend
                from app.core import text

                router = APIRouter()

                @router.post("/files")
                def upload(name):
                    return text.clean(name)

                @router.delete("/files/{name}")
                def delete(name):
                    return text.clean(name)

                def index_file(name):
                    return openai_backend.embed(name)
            """,
            # its callers do plain work besides: they are no embedding modules themselves
            "app/jobs/reindex.py": """
                from app.core import text
                from app.web.files import index_file

                def reindex(names):
                    return [index_file(n) for n in names]

                def names(rows):
                    return [text.clean(r) for r in rows]

                def count(rows):
                    return len(text.clean(rows))
            """,
            "app/chat/attach.py": """
                from app.core import text
                from app.web import files

                def attach(name):
                    return files.index_file(name)

                def rename(name):
                    return text.clean(name)

                def label(name):
                    return text.clean(name).title()
            """,
        },
    )
    assert "app.web.files" not in found.orchestration()


def test_a_helper_the_capabilitys_modules_call(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **PROVIDERS,
            "app/chat/prompts.py": """
                def title_prompt(text):
                    return f"Title: {text}"
            """,
            "app/chat/titles.py": """
                from app.ai import openai_backend
                from app.chat import prompts

                def title(text):
                    return openai_backend.chat({"messages": [prompts.title_prompt(text)]})
            """,
            "app/chat/tags.py": """
                from app.ai import openai_backend
                from app.chat.prompts import title_prompt

                def tags(text):
                    return openai_backend.chat({"messages": [title_prompt(text), "tags"]})
            """,
            # one plain user besides: not every importer is the capability's
            "app/jobs/export.py": """
                from app.chat.prompts import title_prompt

                def export(rows):
                    return [title_prompt(r) for r in rows]
            """,
        },
    )
    assert found.orchestration()["app.chat.prompts"] == {CHAT}


def test_a_helper_several_features_call_is_shared(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **PROVIDERS,
            "app/core/timing.py": """
                def timed(result):
                    return result
            """,
            "app/chat/titles.py": """
                from app.ai import openai_backend
                from app.core.timing import timed

                def title(text):
                    return timed(openai_backend.chat({"messages": [text]}))
            """,
            "app/chat/tags.py": """
                from app.ai import openai_backend
                from app.core.timing import timed

                def tags(text):
                    return timed(openai_backend.chat({"messages": [text, "tags"]}))
            """,
            "app/chat/summary.py": """
                from app.ai import openai_backend
                from app.core.timing import timed

                def summary(text):
                    return timed(openai_backend.chat({"messages": [text, "summary"]}))
            """,
            "app/search/index.py": """
                from app.ai import openai_backend
                from app.core.timing import timed

                def index(text):
                    return timed(openai_backend.embed(text))
            """,
            "app/web/art.py": """
                from app.ai import pictures
                from app.core.timing import timed

                def art(prompt):
                    return timed(pictures.draw(prompt))
            """,
        },
    )
    # three chat modules call it, but so do two of other features: shared infrastructure;
    # and each caller serves the capability it calls for, not every one of the module
    assert found.orchestration() == {
        "app.chat.summary": {CHAT},
        "app.chat.tags": {CHAT},
        "app.chat.titles": {CHAT},
        "app.search.index": {EMBED},
        "app.web.art": {IMAGE},
    }


def test_local_inference_does_not_travel_through_calls(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **PROVIDERS,
            "app/ai/local_embed.py": """
                from sentence_transformers import SentenceTransformer

                def encode(texts):
                    return SentenceTransformer("all-MiniLM-L6-v2").encode(texts)
            """,
            "app/search/ingest.py": """
                from app.ai import local_embed

                def ingest(texts):
                    return local_embed.encode(texts)

                def reindex(texts):
                    return ingest(texts)
            """,
        },
    )
    assert found.direct()["app.ai.local_embed"] == {EMBED, LOCAL}
    assert found.orchestration()["app.search.ingest"] == {EMBED}


def test_settings_database_models_and_composition_roots_stay_out(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **PROVIDERS,
            # reaches chat in every function, but settings belong to no feature
            "app/core/settings.py": """
                from app.ai import openai_backend

                def check_key():
                    return openai_backend.chat({"messages": ["ping"]})
            """,
            # a table several areas use, with a method that reaches chat
            "app/db/models.py": """
                from sqlalchemy.orm import DeclarativeBase
                from app.ai import openai_backend

                class Base(DeclarativeBase):
                    pass

                class Chat(Base):
                    __tablename__ = "chats"

                    def summary(self):
                        return openai_backend.chat({"messages": [self.text]})
            """,
            "app/chat/history.py": """
                from app.db.models import Chat

                def load(chat_id):
                    return Chat(id=chat_id)
            """,
            "app/shop/orders.py": """
                from app.db.models import Chat

                def note(order_id):
                    return Chat(id=order_id)
            """,
            # builds the application and wires every feature; every function reaches AI
            "app/main.py": """
                from fastapi import FastAPI
                from app.ai import openai_backend, pictures

                app = FastAPI()

                def startup():
                    return openai_backend.chat({"messages": ["warm up"]})

                def banner():
                    return pictures.draw("banner")
            """,
        },
    )
    labelled = {label.module for label in found.labels}
    assert labelled.isdisjoint({"app.core.settings", "app.db.models", "app.main"})


def test_a_composition_roots_own_provider_call_stays_evidence(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **PROVIDERS,
            "app/main.py": """
                import httpx
                from fastapi import FastAPI
                from app.ai import openai_backend, pictures

                app = FastAPI()

                @app.post("/unload")
                def unload(base, model):
                    return httpx.post(f"{base}/api/generate", json={"model": model})

                @app.post("/draw")
                def draw(prompt):
                    return pictures.draw(prompt)

                @app.post("/chat")
                def chat(payload):
                    return openai_backend.chat(payload)
            """,
        },
    )
    chat = found.feature(CHAT)
    assert "app.main" not in chat.modules
    assert "app.main" in chat.entry_points
    assert ("app/main.py", 10) in {(e.path, e.line) for e in chat.evidence}
    assert "app.main" not in {label.module for label in found.labels}


def test_a_single_file_application_keeps_its_provider_call(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            "app.py": """
                from flask import Flask
                from openai import OpenAI

                app = Flask(__name__)
                client = OpenAI()

                @app.post("/ask")
                def ask():
                    return client.chat.completions.create(messages=[])
            """,
        },
    )
    assert found.direct() == {"app": {CHAT}}


def test_one_route_module_using_a_helper_does_not_make_it_the_features(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **PROVIDERS,
            # the route module proxies chat itself; the helper converts its payloads
            "app/web/proxy.py": """
                import httpx
                from fastapi import APIRouter
                from app.chat import convert

                router = APIRouter()

                @router.post("/proxy")
                def proxy(base, payload):
                    body = convert.to_ollama(payload)
                    return httpx.post(f"{base}/api/chat", json=body).json()
            """,
            "app/chat/convert.py": """
                def to_ollama(payload):
                    return {"model": payload["model"], "messages": payload["messages"]}
            """,
        },
    )
    assert found.direct()["app.web.proxy"] == {CHAT}
    assert "app.chat.convert" not in found.orchestration()


def test_call_profiles_count_units_call_sites_and_callers(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **PROVIDERS,
            "app/chat/dispatch.py": """
                from app.ai import openai_backend

                def generate(payload):
                    return openai_backend.chat(_prepare(payload))

                def format_reply(reply):
                    return reply["content"]

                def _prepare(payload):
                    return payload
            """,
            "app/jobs/digest.py": """
                from app.chat import dispatch

                def summarise(rows):
                    return dispatch.format_reply(dispatch.generate({"messages": rows}))
            """,
        },
    )
    profile = call_profiles(found.run.index, CATALOGUE)["app.chat.dispatch"]
    assert (profile.public_units, profile.working_units) == (2, 1)
    assert profile.working == ((CHAT, 1),)
    assert (profile.call_sites, profile.ai_call_sites) == (2, 1)
    assert profile.callers == ("app.jobs.digest",)
