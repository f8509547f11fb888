"""HTTP routes for sign-up, login and the current profile."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy.orm import Session

from shopwise.db.models import User
from shopwise.db.session import get_session
from shopwise.users import auth, service
from shopwise.users.schemas import LoginRequest, TokenOut, UserCreate, UserOut

router = APIRouter(prefix="/users", tags=["users"])


@router.post("/register", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def register(data: UserCreate, session: Session = Depends(get_session)) -> UserOut:
    try:
        return UserOut.model_validate(service.register_user(session, data))
    except service.EmailTaken:
        raise HTTPException(status.HTTP_409_CONFLICT, "email already registered") from None


@router.post("/login", response_model=TokenOut)
def login(data: LoginRequest, session: Session = Depends(get_session)) -> TokenOut:
    user = service.authenticate(session, data.email, data.password)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong email or password")
    token, ttl = auth.create_token(user)
    return TokenOut(access_token=token, expires_in=ttl)


@router.get("/me", response_model=UserOut)
def me(user: User = Depends(auth.get_current_user)) -> UserOut:
    return UserOut.model_validate(user)
