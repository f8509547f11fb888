"""Couplings: every detector on tiny trees with a true and a false positive, plus
suppression, ordering and the documented kinds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from carveout.domain.model import Severity
from carveout.stages.couplings import KINDS, KINDS_BY_ID
from helpers_features import run_tree

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    f"app/{name}/__init__.py": ""
    for name in ("orders", "billing", "core", "ai", "users", "catalogue")
}
PACKAGES["app/__init__.py"] = ""


def tree(**files: str) -> dict[str, str]:
    """A tree of the `app` package: keyword `orders__service` is app/orders/service.py."""
    return {**PACKAGES, **{f"app/{k.replace('__', '/')}.py": v for k, v in files.items()}}


def evidence_lines(coupling) -> list[tuple[str, int]]:
    return [(e.path, e.line) for e in coupling.evidence]


# --- cycles and function-level imports ----------------------------------------------------


def test_import_cycle_with_its_path(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            orders__service="from app.billing import invoices\n",
            billing__invoices="from app.orders import service\n",
        ),
    )
    (cycle,) = found.of_kind("import-cycle")
    assert set(cycle.modules) == {"app.billing.invoices", "app.orders.service"}
    assert sorted(evidence_lines(cycle)) == [
        ("app/billing/invoices.py", 1),
        ("app/orders/service.py", 1),
    ]
    assert "->" in cycle.why and cycle.severity is Severity.HIGH
    assert not found.of_kind("hidden-cycle-import")


def test_no_cycle_without_a_loop(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(orders__service="from app.billing import invoices\n", billing__invoices="X = 1\n"),
    )
    assert not found.of_kind("import-cycle")


def test_function_level_import_hiding_a_cycle(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            orders__service="from app.billing import invoices\n",
            billing__invoices="def pay():\n    from app.orders import service\n",
            users__audit="def log():\n    from app.core import clock\n",
            core__clock="NOW = 0\n",
        ),
    )
    assert found.pairs("hidden-cycle-import") == {("app.billing.invoices", "app.orders.service")}
    (hidden,) = found.of_kind("hidden-cycle-import")
    assert evidence_lines(hidden) == [("app/billing/invoices.py", 2)]
    assert found.pairs("function-level-import") == {
        ("app.billing.invoices", "app.orders.service"),
        ("app.users.audit", "app.core.clock"),
    }
    (cycle,) = found.of_kind("import-cycle")
    assert "deferred" in cycle.why


def test_no_function_level_import_for_module_level_or_third_party(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            users__audit="import json\nfrom app.core import clock\ndef f():\n    import yaml\n",
            core__clock="NOW = 0\n",
        ),
    )
    assert not found.of_kind("function-level-import")


# --- private names --------------------------------------------------------------------------


def test_private_names_across_packages(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            catalogue__repository="def _row(x):\n    return x\n_cache = {}\n",
            ai__index="from app.catalogue.repository import _row\n",
            users__admin="from app.catalogue import repository\nn = len(repository._cache)\n",
        ),
    )
    assert found.pairs("private-reach-in") == {
        ("app.ai.index", "app.catalogue.repository"),
        ("app.users.admin", "app.catalogue.repository"),
    }


def test_private_names_inside_one_package_are_fine(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **tree(
                catalogue__repository="def _row(x):\n    return x\n",
                catalogue__service="from app.catalogue.repository import _row\n",
            ),
            "lib/__init__.py": "from lib import _impl\n",
            "lib/_impl.py": "VALUE = 1\n",
        },
    )
    assert not found.of_kind("private-reach-in")


# --- writes and shared state ------------------------------------------------------------------


def test_writes_to_another_packages_attributes(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            core__flags="DEBUG = False\nLIMIT = 3\n",
            users__admin="""
from app.core import flags
import app.core.flags

def enable():
    flags.DEBUG = True
    setattr(app.core.flags, "LIMIT", 9)
""",
            core__toggles="from app.core import flags\nflags.DEBUG = True\n",
        ),
    )
    (write,) = found.of_kind("foreign-attribute-write")
    assert write.modules == ("app.users.admin", "app.core.flags")
    assert evidence_lines(write) == [("app/users/admin.py", 6), ("app/users/admin.py", 7)]
    # the same globals rebound from another package: module-level state shared
    assert ("app.core.flags", "app.users.admin") in found.pairs("shared-mutable-state")


def test_test_patch_by_string_is_a_foreign_write(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            core__clock="def now():\n    return 0\n",
            orders__checks="""
from unittest import mock

def frozen():
    return mock.patch("app.core.clock.now", lambda: 1)
""",
        ),
    )
    assert found.pairs("foreign-attribute-write") == {("app.orders.checks", "app.core.clock")}


def test_mutable_state_changed_from_another_package(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            core__registry="HANDLERS = []\nLIMITS = {}\n",
            orders__setup="""
from app.core.registry import HANDLERS
from app.core import registry

HANDLERS.append(print)
registry.LIMITS["orders"] = 5
""",
            core__boot="from app.core.registry import HANDLERS\nHANDLERS.append(len)\n",
        ),
    )
    states = found.of_kind("shared-mutable-state")
    handlers = next(c for c in states if "HANDLERS" in c.why)
    limits = next(c for c in states if "LIMITS" in c.why)
    # the writer inside the owner's package is listed once another package writes too
    assert handlers.modules == ("app.core.registry", "app.core.boot", "app.orders.setup")
    assert ("app/orders/setup.py", 5) in evidence_lines(handlers)
    assert ("app/core/registry.py", 1) in evidence_lines(handlers)  # where it is defined
    assert limits.modules == ("app.core.registry", "app.orders.setup")
    assert ("app/orders/setup.py", 6) in evidence_lines(limits)  # the item assignment
    assert len(states) == 2


def test_mutable_state_changed_inside_its_package_is_fine(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            core__registry="HANDLERS = []\n",
            core__boot="from app.core.registry import HANDLERS\nHANDLERS.append(len)\n",
        ),
    )
    assert not found.of_kind("shared-mutable-state")


# --- environment and configuration -----------------------------------------------------------


def test_env_var_read_in_several_packages(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            core__config="import os\nDB = os.getenv('DATABASE_URL')\nKEY = os.environ['KEY']\n",
            orders__db="import os\nURL = os.environ.get('DATABASE_URL')\n",
            core__other="import os\nKEY = os.environ['KEY']\n",
        ),
    )
    (shared,) = found.of_kind("shared-env-var")
    assert set(shared.modules) == {"app.core.config", "app.orders.db"}
    assert "DATABASE_URL" in shared.why


def test_ai_code_reading_shared_settings(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            core__config="class S:\n    MODEL = 'gpt-4o'\nsettings = S()\n",
            ai__writer="""
from openai import OpenAI
from app.core.config import settings

client = OpenAI()

def write(text):
    return client.chat.completions.create(model=settings.MODEL, messages=[])
""",
            orders__service="from app.core.config import settings\nX = settings.MODEL\n",
        ),
    )
    (read,) = found.of_kind("ai-config-read")
    assert read.modules == ("app.ai.writer", "app.core.config")
    assert evidence_lines(read) == [("app/ai/writer.py", 3), ("app/ai/writer.py", 8)]
    assert "MODEL" in read.why


# --- tables, clients, caches -------------------------------------------------------------------


MODELS = """
from sqlalchemy.orm import DeclarativeBase

class Base(DeclarativeBase):
    pass

class Order(Base):
    __tablename__ = "orders"

class Note(Base):
    __tablename__ = "notes"
"""


def test_table_used_by_several_packages(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            core__models=MODELS,
            orders__service="from app.core.models import Order, Note\n",
            billing__report="""
from sqlalchemy import text
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.models import Note

REVENUE = text("SELECT sum(total) FROM orders WHERE paid")
""",
        ),
    )
    (table,) = found.of_kind("shared-table")
    assert table.modules == ("app.core.models", "app.billing.report", "app.orders.service")
    assert ("app/billing/report.py", 8) in evidence_lines(table)  # raw SQL naming it
    # notes: used by orders only (the billing import is for type checking)


def test_client_shared_across_packages(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            core__db="from sqlalchemy import create_engine\nengine = create_engine('sqlite://')\n",
            orders__repo="from app.core.db import engine\n",
            core__health="from app.core.db import engine\n",
        ),
    )
    (client,) = found.of_kind("shared-client")
    assert client.modules == ("app.core.db", "app.core.health", "app.orders.repo")


def test_client_used_inside_its_package_only_is_fine(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            core__db="from sqlalchemy import create_engine\nengine = create_engine('sqlite://')\n",
            core__health="from app.core.db import engine\n",
        ),
    )
    assert not found.of_kind("shared-client")


def test_cache_shared_across_packages(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            core__cache="from cachetools import TTLCache\ncache = TTLCache(100, 60)\n",
            orders__prices=(
                "from app.core import cache as c\n\ndef f(k):\n    return c.cache.get(k)\n"
            ),
            core__memo="import functools\n\n@functools.lru_cache\ndef f(x):\n    return x\n",
            users__names="from app.core.memo import f\n",
        ),
    )
    (cache,) = found.of_kind("shared-cache")
    assert cache.modules == ("app.core.cache", "app.orders.prices")
    assert not found.of_kind("shared-mutable-state")


# --- dynamic wiring ---------------------------------------------------------------------------


def test_dynamic_imports(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            billing__payments="""
import importlib

def provider(name):
    stripe = importlib.import_module("app.billing.stripe")
    yaml = importlib.import_module("yaml")
    return importlib.import_module(name)
""",
            billing__stripe="X = 1\n",
        ),
    )
    assert found.pairs("dynamic-import") == {
        ("app.billing.payments",),
        ("app.billing.payments", "app.billing.stripe"),
    }


def test_framework_string_naming_another_package(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            core__settings='TASKS = ["app.billing.tasks.send_invoice"]\nOWN = "app.core.jobs"\n',
            billing__tasks="def send_invoice():\n    pass\n",
            core__jobs="X = 1\n",
        ),
    )
    (string,) = found.of_kind("framework-string")
    assert string.modules == ("app.core.settings", "app.billing.tasks")
    assert evidence_lines(string) == [("app/core/settings.py", 1)]


def test_signal_connected_across_packages(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            core__events=(
                "class Signal:\n    pass\n\nproduct_updated = Signal()\nunused = Signal()\n"
            ),
            catalogue__service="""
from app.core.events import product_updated, unused

def save():
    product_updated.send(product_id=1)
    unused.send()
""",
            ai__jobs="""
from app.core.events import product_updated

@product_updated.connect
def reindex(product_id):
    pass
""",
        ),
    )
    (signal,) = found.of_kind("cross-package-signal")
    assert signal.modules == ("app.core.events", "app.ai.jobs", "app.catalogue.service")
    assert ("app/core/events.py", 4) in evidence_lines(signal)


def test_stdlib_shadowing(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            **tree(core__logging="X = 1\n", core__jsonutil="X = 1\n"),
            "json.py": "X = 1\n",
            "tool.py": "import json\n",
        },
    )
    assert found.pairs("stdlib-shadowing") == {("app.core.logging",), ("json", "tool")}


# --- suppression, ordering, documentation -----------------------------------------------------


ENV_TREE = tree(
    core__config="import os\nKEY = os.getenv('KEY')\n",
    orders__db="import os\nKEY = os.getenv('KEY')  # carveout: ignore[shared-env-var]\n",
    users__db="import os\nKEY = os.getenv('KEY')\n",
)


def test_suppression_comment_drops_the_evidence_on_its_line(tmp_path: Path) -> None:
    found = run_tree(tmp_path, ENV_TREE)
    (shared,) = found.of_kind("shared-env-var")
    assert ("app/orders/db.py", 2) not in evidence_lines(shared)
    assert len(shared.evidence) == 2


def test_ignored_kinds_are_not_reported(tmp_path: Path) -> None:
    found = run_tree(tmp_path, ENV_TREE, ignored_kinds=frozenset({"shared-env-var"}))
    assert not found.of_kind("shared-env-var")


def test_couplings_are_sorted_and_complete(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        tree(
            orders__service="from app.billing import invoices\nimport os\nA = os.getenv('K')\n",
            billing__invoices=(
                "import os\nB = os.getenv('K')\ndef f():\n    from app.orders import service\n"
            ),
        ),
    )
    order = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
    keys = [(order[c.severity], c.kind) for c in found.couplings]
    assert keys == sorted(keys) and len(keys) >= 3
    for coupling in found.couplings:
        assert coupling.severity is KINDS_BY_ID[coupling.kind].severity
        assert coupling.why and coupling.fix and coupling.modules
        assert all(e.path.endswith(".py") and e.line >= 1 for e in coupling.evidence)
    again = run_tree(
        tmp_path / "again",
        {
            **PACKAGES,
            **{
                "app/orders/service.py": (
                    "from app.billing import invoices\nimport os\nA = os.getenv('K')\n"
                ),
                "app/billing/invoices.py": (
                    "import os\nB = os.getenv('K')\ndef f():\n    from app.orders import service\n"
                ),
            },
        },
    )
    assert again.couplings == found.couplings


def test_docs_list_every_kind_with_its_severity() -> None:
    text = (ROOT / "docs" / "couplings.md").read_text(encoding="utf-8")
    for kind in KINDS:
        row = re.search(rf"\| `{re.escape(kind.id)}` \| (\w+) \| (\w+) \|", text)
        assert row is not None, kind.id
        assert row.group(1) == kind.severity.value


@pytest.mark.parametrize("kind", [k.id for k in KINDS])
def test_kind_ids_are_stable_slugs(kind: str) -> None:
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", kind)
