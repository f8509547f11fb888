"""Small real packages for the generator tests: facades, contracts and import-linter rules.

Each builder writes a tiny tree under a folder and returns what the stages need (sources,
modules, edges, services), written by hand so the tests do not depend on other stages.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from carveout.domain.facts import Guard, Origin, Scope
from carveout.domain.model import Edge, Module, ModuleKind, Proposal, Service, SurfaceName

VENV_BIN = Path(sys.executable).parent
LINT_IMPORTS = VENV_BIN / "lint-imports"

# The `shop` package: a web layer that uses an `ai` subpackage with typed functions, a
# dataclass request type, a raise, and a TYPE_CHECKING import.
SHOP_TREE: dict[str, str] = {
    "shop/__init__.py": "",
    "shop/ai/__init__.py": """\
        \"\"\"The AI features.\"\"\"

        from shop.ai.summary import DEFAULT_MODEL, summarise

        __all__ = ["DEFAULT_MODEL", "summarise"]
        """,
    "shop/ai/types.py": """\
        from __future__ import annotations

        from dataclasses import dataclass, field
        from typing import Literal, Optional


        class QuotaExceeded(Exception):
            \"\"\"The provider refused the call: the budget is spent.\"\"\"


        @dataclass(frozen=True)
        class SummaryRequest:
            \"\"\"What to summarise, and how.\"\"\"

            text: str
            max_words: int = 50
            style: Literal["short", "bullets"] = "short"
            tags: list[str] = field(default_factory=list)
            locale: Optional[str] = None


        @dataclass(frozen=True)
        class Summary:
            text: str
            tokens: int
        """,
    "shop/ai/summary.py": """\
        from __future__ import annotations

        from typing import TYPE_CHECKING, Optional

        from shop.ai.types import QuotaExceeded, Summary, SummaryRequest

        if TYPE_CHECKING:
            from collections.abc import AsyncIterator, Mapping

        DEFAULT_MODEL = "small-model-1"


        def summarise(
            request: SummaryRequest,
            *,
            model: str = DEFAULT_MODEL,
            budget: Optional[int] = None,
            headers: Mapping[str, str] | None = None,
        ) -> Summary:
            \"\"\"Summarise a request with the given model.

            Raises:
                ValueError: when the request has no text.
            \"\"\"
            if not request.text:
                raise ValueError("nothing to summarise")
            if budget is not None and budget < len(request.text):
                raise QuotaExceeded(budget)
            words = request.text.split()[: request.max_words]
            return Summary(text=" ".join(words), tokens=len(words))


        async def stream_summary(request: SummaryRequest, chunk: int = 3) -> AsyncIterator[str]:
            \"\"\"Yield the summary a few words at a time.\"\"\"
            words = request.text.split()
            for start in range(0, len(words), chunk):
                yield " ".join(words[start : start + chunk])
        """,
    "shop/ai/prompts.py": """\
        GREETING = "You are a helpful shop assistant."


        def render(name: str) -> str:
            return f"{GREETING} The customer is {name}."
        """,
    "shop/ai/moderation.py": """\
        def is_allowed(text: str, threshold: float = 0.5) -> bool:
            \"\"\"Whether a text may be shown (no `from __future__ import annotations` here).\"\"\"
            return len(text) * threshold < 1000
        """,
    "shop/web/__init__.py": "",
    "shop/web/views.py": """\
        from __future__ import annotations

        from typing import TYPE_CHECKING

        import shop.ai.prompts
        from shop.ai import summarise
        from shop.ai.moderation import is_allowed
        from shop.ai.types import SummaryRequest

        if TYPE_CHECKING:
            from shop.ai.summary import stream_summary


        def summary_page(text: str) -> str:
            summary = summarise(SummaryRequest(text=text)).text + shop.ai.prompts.render("you")
            return summary if is_allowed(summary) else ""
        """,
    "shop/web/stream.py": """\
        def stream(text):
            from shop.ai.summary import stream_summary
            from shop.ai.types import SummaryRequest

            return stream_summary(SummaryRequest(text=text))
        """,
}

AI_MODULES = (
    "shop.ai",
    "shop.ai.moderation",
    "shop.ai.prompts",
    "shop.ai.summary",
    "shop.ai.types",
)

AI_SERVICE = Service(
    name="ai",
    modules=AI_MODULES,
    ai_capabilities=(),
    surface=(
        SurfaceName("shop.ai", "summarise", ("shop.web.views",)),
        SurfaceName("shop.ai.moderation", "is_allowed", ("shop.web.views",)),
        SurfaceName("shop.ai.prompts", "*", ("shop.web.views",)),
        SurfaceName("shop.ai.summary", "stream_summary", ("shop.web.stream",)),
        SurfaceName("shop.ai.types", "SummaryRequest", ("shop.web.stream", "shop.web.views")),
    ),
    blockers=(),
)


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (path -> dedented text) under `root`; return `root`."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def module_name(relative: str) -> str:
    parts = relative.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def sources_of(files: dict[str, str]) -> dict[str, str]:
    return {module_name(path): textwrap.dedent(text) for path, text in files.items()}


def modules_of(files: dict[str, str]) -> tuple[Module, ...]:
    found = []
    for path, text in files.items():
        kind = ModuleKind.PACKAGE if path.endswith("__init__.py") else ModuleKind.MODULE
        found.append(Module(module_name(path), path, kind, text.count("\n")))
    return tuple(sorted(found, key=lambda m: m.name))


def edge(
    source: str,
    target: str,
    line: int,
    *,
    guard: Guard = Guard.NONE,
    scope: Scope = Scope.MODULE,
    origin: Origin = Origin.IMPORT,
    external: bool = False,
) -> Edge:
    return Edge(source, target, line, scope=scope, guard=guard, origin=origin, external=external)


# The import edges of SHOP_TREE, as the graph stage would give them (implicit parents left
# out: they never count for rules).
SHOP_EDGES = (
    edge("shop.ai", "shop.ai.summary", 3),
    edge("shop.ai.summary", "shop.ai.types", 5),
    edge("shop.ai.summary", "collections", 8, guard=Guard.TYPE_CHECKING, external=True),
    edge("shop.ai.types", "dataclasses", 3, external=True),
    edge("shop.web.views", "shop.ai.prompts", 5),
    edge("shop.web.views", "shop.ai", 6),
    edge("shop.web.views", "shop.ai.moderation", 7),
    edge("shop.web.views", "shop.ai.types", 8),
    edge("shop.web.views", "shop.ai.summary", 11, guard=Guard.TYPE_CHECKING),
    edge("shop.web.stream", "shop.ai.summary", 2, scope=Scope.FUNCTION),
    edge("shop.web.stream", "shop.ai.types", 3, scope=Scope.FUNCTION),
)


def shop_proposal(*services: Service) -> Proposal:
    return Proposal(services=services or (AI_SERVICE,), monolith=(), placements=(), metrics=())


def run(args: list[str], cwd: Path, *, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    """Run a tool in a subprocess with only `pythonpath` added to the import path."""
    env = {
        **os.environ,
        "PYTHONPATH": str(pythonpath),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # a generated contract test needs no plugins
    }
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


# The `kit` package: the hard cases of facade generation in one service. Never imported
# (it names third-party packages); its facade and contract are only parsed and compared.
KIT_TREE: dict[str, str] = {
    "kit/__init__.py": "",
    "kit/llm/__init__.py": """\
        from .client import *
        from .client import complete as run
        """,
    "kit/llm/errors.py": """\
        class RateLimited(Exception):
            pass
        """,
    "kit/llm/helpers.py": """\
        DEFAULT_SIZE = 10


        class Helper:
            def __init__(self, name: str, *, retries: int = 3) -> None:
                self.name = name
        """,
    "kit/llm/client.py": """\
        from __future__ import annotations

        import typing as t
        from enum import Enum
        from typing import Any, TypedDict

        from openai import OpenAI
        from pydantic import BaseModel, Field

        from . import errors
        from .helpers import *


        class Tone(str, Enum):
            FRIENDLY = "friendly"
            FORMAL = "formal"


        class Message(TypedDict, total=False):
            role: str
            content: str


        class Options(BaseModel):
            \"\"\"Sampling options.\"\"\"

            temperature: float = 0.2
            stop: list[str] = Field(default_factory=list)
            seed: int | None = Field(...)
            tone: Tone = Tone.FRIENDLY
            _secret: str = "hidden"


        client = OpenAI()
        LIMITS: dict[str, int] = {"tokens": 100}


        def complete(
            prompt: str,
            /,
            *messages: Message,
            tone: Tone = Tone.FRIENDLY,
            options: Options | None = None,
            helper: Helper | None = None,
            **kwargs: Any,
        ) -> t.Optional[dict[str, Any]]:
            \"\"\"Complete a prompt.

            :raises errors.RateLimited: when the provider says so
            \"\"\"
            if not prompt:
                raise errors.RateLimited()
            return None


        def chunks(text: str, size: int = DEFAULT_SIZE) -> t.Iterator[tuple[int, str]]:
            yield from enumerate(text[i : i + size] for i in range(0, len(text), size))


        def run(data: bytes, *, keys: frozenset[int] = frozenset()) -> set[str]:
            raise NotImplementedError
        """,
    "kit/legacy.py": """\
        def run(job: "Job", retries=len([])) -> None:
            \"\"\"Run a job whose type this module never defines.\"\"\"
        """,
    "kit/broken.py": "def oops(:\n",
}

KIT_SERVICE = Service(
    name="llm",
    modules=(
        "kit.broken",
        "kit.legacy",
        "kit.llm",
        "kit.llm.client",
        "kit.llm.errors",
        "kit.llm.helpers",
    ),
    ai_capabilities=(),
    surface=(
        SurfaceName("kit.broken", "oops", ("kit.app",)),
        SurfaceName("kit.legacy", "run", ("kit.app",)),
        SurfaceName("kit.llm", "run", ("kit.app",)),
        SurfaceName("kit.llm.client", "LIMITS", ("kit.app",)),
        SurfaceName("kit.llm.client", "Message", ("kit.app",)),
        SurfaceName("kit.llm.client", "OpenAI", ("kit.app",)),
        SurfaceName("kit.llm.client", "Options", ("kit.app",)),
        SurfaceName("kit.llm.client", "Tone", ("kit.app",)),
        SurfaceName("kit.llm.client", "chunks", ("kit.app",)),
        SurfaceName("kit.llm.client", "client", ("kit.app",)),
        SurfaceName("kit.llm.client", "complete", ("kit.jobs",)),
        SurfaceName("kit.llm.client", "nowhere", ("kit.app",)),
        SurfaceName("kit.llm.client", "run", ("kit.app",)),
        SurfaceName("kit.llm.helpers", "*", ("kit.app",)),
    ),
    blockers=(),
)


# --- golden files -------------------------------------------------------------------------

GOLDEN = Path(__file__).parent / "golden"


def check_golden(path: Path, text: str) -> None:
    """Compare `text` with a golden file; CARVEOUT_UPDATE_GOLDEN=1 rewrites the file."""
    if os.environ.get("CARVEOUT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}; run with CARVEOUT_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=str(path),
            tofile="generated",
        )
        raise AssertionError("generated text differs from the golden file:\n" + "".join(diff))
