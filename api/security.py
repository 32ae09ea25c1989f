"""Identity: argon2 password hashes, signed JWT access tokens and the signed-in principal."""

from __future__ import annotations

import datetime as dt
import enum
import threading
import time
from collections import OrderedDict
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict

ALGORITHM = "HS256"
_hasher = PasswordHasher()


class Role(enum.StrEnum):
    """What a user may do; each non-admin role is bound to one object."""

    admin = "admin"
    leader = "leader"  # one compound
    dispatcher = "dispatcher"  # one supplier
    driver = "driver"  # one driver record
    committee = "committee"  # 居委会: several compounds (user_compound rows)
    volunteer = "volunteer"  # 楼栋志愿者: one building of one compound


class Principal(BaseModel):
    """The signed-in user as the token says: role and the object it is bound to."""

    model_config = ConfigDict(frozen=True)

    username: str
    role: Role
    compound_id: str | None = None
    supplier_id: str | None = None
    driver_id: str | None = None
    building_id: str | None = None
    compound_ids: tuple[str, ...] = ()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (False for a malformed hash)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(principal: Principal, secret: str, minutes: int) -> str:
    """A signed access token for ``principal`` that expires after ``minutes``."""
    now = dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {
        "sub": principal.username,
        "role": principal.role.value,
        "compound_id": principal.compound_id,
        "supplier_id": principal.supplier_id,
        "driver_id": principal.driver_id,
        "building_id": principal.building_id,
        "compound_ids": list(principal.compound_ids),
        "iat": now,
        "exp": now + dt.timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


_TOKEN_CACHE_SIZE = 4096
_tokens: OrderedDict[tuple[str, str], tuple[int, Principal]] = OrderedDict()
_tokens_lock = threading.Lock()


def read_token(token: str, secret: str) -> Principal | None:
    """The principal of a valid, unexpired token; None for anything else.

    A verified token is remembered with its expiry (a signature does not change), so a
    client's repeated requests skip the HMAC and claim checks until the token expires.
    """
    key = (token, secret)
    with _tokens_lock:
        known = _tokens.get(key)
        if known is not None:
            _tokens.move_to_end(key)
    if known is not None:
        expires, principal = known
        return principal if time.time() < expires else None
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp"]})
        principal = Principal(
            username=claims["sub"],
            role=Role(claims["role"]),
            compound_id=claims.get("compound_id"),
            supplier_id=claims.get("supplier_id"),
            driver_id=claims.get("driver_id"),
            building_id=claims.get("building_id"),
            compound_ids=tuple(claims.get("compound_ids") or ()),
        )
        expires = int(claims["exp"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        return None
    with _tokens_lock:
        _tokens[key] = (expires, principal)
        while len(_tokens) > _TOKEN_CACHE_SIZE:
            _tokens.popitem(last=False)
    return principal
