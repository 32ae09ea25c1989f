"""Sign in (OAuth2 password flow) and ask who you are."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.accounts import authenticate
from api.deps import SettingsDep, StoreDep, User
from api.errors import ApiError
from api.security import Principal, issue_token

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(BaseModel):
    """A bearer token and who it is for."""

    access_token: str
    token_type: str = "bearer"
    expires_in_s: int
    principal: Principal


@router.post("/token", response_model=Token)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    store: StoreDep,
    settings: SettingsDep,
) -> Token:
    """Exchange username and password for an access token."""
    principal = authenticate(store.engine, form.username, form.password)
    if principal is None:
        raise ApiError(401, "unauthorized", "wrong username or password", "password")
    minutes = settings.token_minutes
    return Token(
        access_token=issue_token(principal, settings.secret(), minutes),
        expires_in_s=minutes * 60,
        principal=principal,
    )


@router.get("/me", response_model=Principal)
def me(user: User) -> Principal:
    """The signed-in user: role and the compound, supplier or driver it is bound to."""
    return user
