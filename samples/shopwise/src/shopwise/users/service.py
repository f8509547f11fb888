"""Registration, password hashing and profile helpers."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy.orm import Session

from shopwise.db.models import User
from shopwise.users import repository
from shopwise.users.schemas import UserCreate

_ITERATIONS = 240_000


class EmailTaken(ValueError):
    pass


def hash_password(password: str, *, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), _ITERATIONS)
    return f"pbkdf2${_ITERATIONS}${salt}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, iterations, salt, expected = stored.split("$")
    except ValueError:
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations))
    return hmac.compare_digest(digest.hex(), expected)


def register_user(session: Session, data: UserCreate) -> User:
    if repository.get_by_email(session, data.email) is not None:
        raise EmailTaken(data.email)
    user = User(
        email=data.email,
        full_name=data.full_name,
        password_hash=hash_password(data.password),
        address=data.address.model_dump() if data.address else None,
    )
    # The first account becomes the shop admin.
    user.is_admin = repository.count_admins(session) == 0
    return repository.add(session, user)


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = repository.get_by_email(session, email)
    if user is None or not verify_password(password, user.password_hash):
        return None
    return user


def _format_address(address: dict[str, Any] | None) -> str:
    """Multi-line postal address as printed on invoices and labels."""
    if not address:
        return ""
    lines = [address.get("line1", ""), address.get("line2") or ""]
    lines.append(f"{address.get('postcode', '')} {address.get('city', '')}".strip())
    lines.append(str(address.get("country", "")).upper())
    return "\n".join(line for line in lines if line)
