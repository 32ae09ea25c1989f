"""Request dependencies: the store, the settings and the signed-in principal (``Annotated``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.security import Principal, Role, read_token
from api.settings import Settings
from data.store import Store

oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


async def get_store(request: Request) -> Store:
    """The app's store (one engine, pooled connections); async: no I/O, no threadpool hop."""
    store: Store = request.app.state.store
    return store


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(store: Annotated[Store, Depends(get_store)]) -> Iterator[Session]:
    """An ORM session for one request, closed afterwards."""
    with Session(store.engine) as session:
        yield session


async def current_user(
    token: Annotated[str | None, Depends(oauth2)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> Principal:
    """The principal of the bearer token; 401 without a valid, unexpired one (CPU only, and
    a known token is a dictionary lookup, so it runs on the event loop)."""
    principal = read_token(token, settings.secret()) if token else None
    if principal is None:
        raise ApiError(401, "unauthorized", "sign in at /auth/token and send the bearer token")
    return principal


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
User = Annotated[Principal, Depends(current_user)]


def require(user: Principal, *roles: Role) -> None:
    """403 unless ``user`` has one of ``roles``."""
    if user.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise ApiError(403, "forbidden", f"this needs the role {allowed}; you are {user.role}")


def require_compound(user: Principal, compound_id: str, *, leader_only: bool = False) -> None:
    """403 unless ``user`` is this compound's leader or, when not ``leader_only``, an admin
    or a committee (居委会) scoped to it."""
    if user.role is Role.leader and user.compound_id == compound_id:
        return
    if not leader_only and governs(user, compound_id):
        return
    raise ApiError(403, "forbidden", f"compound {compound_id!r} is not yours")


def governs(user: Principal, compound_id: str) -> bool:
    """Whether ``user`` is an admin or a committee whose scope holds ``compound_id``."""
    if user.role is Role.admin:
        return True
    return user.role is Role.committee and compound_id in user.compound_ids


def require_governs(user: Principal, compound_id: str) -> None:
    """403 unless ``user`` is an admin or the committee of ``compound_id`` (lockdown status,
    certificate checks, every group of the compound)."""
    if not governs(user, compound_id):
        raise ApiError(
            403, "forbidden", f"compound {compound_id!r}: needs an admin or its committee"
        )


def require_supplier(user: Principal, supplier_id: str) -> None:
    """403 unless ``user`` is an admin or this supplier's dispatcher."""
    if user.role is Role.admin:
        return
    if user.role is Role.dispatcher and user.supplier_id == supplier_id:
        return
    raise ApiError(403, "forbidden", f"supplier {supplier_id!r} is not yours")
