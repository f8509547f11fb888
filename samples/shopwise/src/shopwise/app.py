"""FastAPI application factory and the module-level ``app`` for ASGI servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import shopwise.ai.embeddings.jobs  # noqa: F401  - connects the re-embedding receiver
from shopwise import __version__
from shopwise.admin.routes import router as admin_router
from shopwise.billing.routes import router as billing_router
from shopwise.catalogue.routes import router as catalogue_router
from shopwise.core.config import settings
from shopwise.core.logging import configure_logging
from shopwise.db.base import create_all
from shopwise.orders.routes import router as orders_router
from shopwise.support.routes import router as support_router
from shopwise.users.routes import router as users_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    configure_logging(settings.LOG_LEVEL)
    if not settings.is_production:
        create_all()
    yield


def create_app() -> FastAPI:
    app = FastAPI(title="Shopwise", version=__version__, debug=settings.DEBUG, lifespan=lifespan)
    for router in (users_router, catalogue_router, orders_router, billing_router, support_router, admin_router):
        app.include_router(router, prefix="/api")

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, object]:
        return {"status": "ok", "version": __version__, "ai": settings.ai_enabled()}

    return app


app = create_app()
