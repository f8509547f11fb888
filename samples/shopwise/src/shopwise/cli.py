"""Command line entry point: ``shopwise <command>``.

Commands import what they need lazily so that ``shopwise --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence


def _cmd_initdb(args: argparse.Namespace) -> int:
    from shopwise.db.base import create_all

    create_all()
    print("tables created")
    return 0


def _cmd_reindex(args: argparse.Namespace) -> int:
    from shopwise.ai.embeddings import jobs

    count = jobs.reindex_all(batch_size=args.batch_size)
    print(f"embedded {count} products")
    return 0


def _cmd_describe_missing(args: argparse.Namespace) -> int:
    from shopwise.catalogue import service
    from shopwise.db.session import session_scope

    with session_scope() as session:
        count = service.describe_missing(session, limit=args.limit)
    print(f"wrote {count} descriptions")
    return 0


def _cmd_sales(args: argparse.Namespace) -> int:
    from shopwise.admin import reports
    from shopwise.db.session import session_scope

    with session_scope() as session:
        rows = reports.sales_by_day(session, days=args.days)
    print(json.dumps([row.model_dump(mode="json") for row in rows], indent=2))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from shopwise.core.config import settings

    problems = []
    if not os.environ.get("OPENAI_API_KEY"):
        problems.append("OPENAI_API_KEY is not set: AI features will fail")
    if settings.IMAGE_BACKEND == "stability" and not settings.STABILITY_API_KEY:
        problems.append("IMAGE_BACKEND is stability but STABILITY_API_KEY is empty")
    if settings.is_production and settings.SECRET_KEY.startswith("dev-"):
        problems.append("SHOPWISE_SECRET_KEY still has the development default")
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shopwise", description="Shopwise maintenance commands")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("initdb", help="create database tables").set_defaults(func=_cmd_initdb)

    reindex = sub.add_parser("reindex", help="re-embed all products for semantic search")
    reindex.add_argument("--batch-size", type=int, default=64)
    reindex.set_defaults(func=_cmd_reindex)

    describe = sub.add_parser("describe-missing", help="write AI descriptions for products without one")
    describe.add_argument("--limit", type=int, default=50)
    describe.set_defaults(func=_cmd_describe_missing)

    sales = sub.add_parser("sales", help="print daily sales as JSON")
    sales.add_argument("--days", type=int, default=30)
    sales.set_defaults(func=_cmd_sales)

    sub.add_parser("check", help="check configuration").set_defaults(func=_cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
