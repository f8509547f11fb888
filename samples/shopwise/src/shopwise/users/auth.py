"""Signed bearer tokens and the FastAPI auth dependencies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time

from fastapi import Depends, Header, HTTPException, status
from sqlalchemy.orm import Session

from shopwise.core.config import settings
from shopwise.db.models import User
from shopwise.db.session import get_session
from shopwise.users import repository

# Rotated keys are passed straight through the environment during a rollout.
SECRET_KEY = os.getenv("SHOPWISE_SECRET_KEY") or settings.SECRET_KEY


def _sign(payload: bytes) -> str:
    return hmac.new(SECRET_KEY.encode(), payload, hashlib.sha256).hexdigest()


def create_token(user: User) -> tuple[str, int]:
    ttl = settings.ACCESS_TOKEN_TTL_MINUTES * 60
    body = json.dumps({"sub": user.id, "exp": int(time.time()) + ttl}).encode()
    token = base64.urlsafe_b64encode(body).decode().rstrip("=") + "." + _sign(body)
    return token, ttl


def decode_token(token: str) -> int:
    try:
        encoded, signature = token.split(".", 1)
        body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "malformed token") from None
    if not hmac.compare_digest(_sign(body), signature):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "bad signature")
    claims = json.loads(body)
    if claims.get("exp", 0) < time.time():
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "token expired")
    return int(claims["sub"])


def get_current_user(
    authorization: str = Header(default=""), session: Session = Depends(get_session)
) -> User:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token")
    user = repository.get(session, decode_token(token))
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown user")
    return user


def require_admin(user: User = Depends(get_current_user)) -> User:
    if not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admin only")
    return user
