"""SQLAlchemy engine, session factory and declarative base."""

from __future__ import annotations

import os

from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from shopwise.core.config import settings

# Migration scripts set DATABASE_URL for one process without touching settings.
DATABASE_URL = os.environ.get("DATABASE_URL", settings.DATABASE_URL)

_connect_args = {"check_same_thread": False} if DATABASE_URL.startswith("sqlite") else {}

engine = create_engine(DATABASE_URL, echo=settings.DEBUG, connect_args=_connect_args)
SessionLocal = sessionmaker(bind=engine, autoflush=False, expire_on_commit=False)


class Base(DeclarativeBase):
    """Declarative base for all shop tables."""


def create_all() -> None:
    """Create missing tables (development only; production uses migrations)."""
    from shopwise.db import models  # noqa: F401  - registers the tables on Base

    Base.metadata.create_all(bind=engine)
