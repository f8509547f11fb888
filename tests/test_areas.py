"""Areas: the "packages" coupling rules compare. Sibling modules of a flat library are one
area, so a library's private modules importing each other is not a reach-in."""

from __future__ import annotations

from pathlib import Path

from helpers_features import run_tree


def test_private_siblings_of_a_flat_library_are_one_area(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            "lib/__init__.py": "from lib._api import get\n",
            "lib/_api.py": "from lib._client import _Client\ndef get(): return _Client()\n",
            "lib/_client.py": "class _Client: ...\n",
        },
    )
    assert found.run.index.area("lib._api") == found.run.index.area("lib._client") == "lib"
    assert [c for c in found.couplings if c.kind == "private-reach-in"] == []


def test_a_private_name_from_another_subpackage_is_a_reach_in(tmp_path: Path) -> None:
    found = run_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/cli.py": "",
            "app/billing/__init__.py": "",
            "app/billing/tax.py": "def _rate(): return 1\n",
            "app/orders/__init__.py": "",
            "app/orders/total.py": "from app.billing.tax import _rate\n",
        },
    )
    index = found.run.index
    assert index.area("app.orders.total") == "app.orders"
    assert index.area("app.cli") == "app"
    reach_ins = [c for c in found.couplings if c.kind == "private-reach-in"]
    assert [c.modules for c in reach_ins] == [("app.orders.total", "app.billing.tax")]
