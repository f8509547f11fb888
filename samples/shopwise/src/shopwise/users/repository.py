"""Data access for users."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopwise.db.models import User


def _normalise_email(email: str) -> str:
    local, _, domain = email.strip().partition("@")
    return f"{local}@{domain.lower()}"


def get(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == _normalise_email(email))).first()


def add(session: Session, user: User) -> User:
    user.email = _normalise_email(user.email)
    session.add(user)
    session.flush()
    return user


def count_admins(session: Session) -> int:
    return len(session.scalars(select(User.id).where(User.is_admin.is_(True))).all())
