"""Identity: argon2 password hashes, signed JWT access tokens and the signed-in principal."""

from __future__ import annotations

import datetime as dt
import enum
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


class Principal(BaseModel):
    """The signed-in user as the token says: role and the object it is bound to."""

    model_config = ConfigDict(frozen=True)

    username: str
    role: Role
    compound_id: str | None = None
    supplier_id: str | None = None
    driver_id: str | None = None


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
        "iat": now,
        "exp": now + dt.timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, secret: str) -> Principal | None:
    """The principal of a valid, unexpired token; None for anything else."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp"]})
        return Principal(
            username=claims["sub"],
            role=Role(claims["role"]),
            compound_id=claims.get("compound_id"),
            supplier_id=claims.get("supplier_id"),
            driver_id=claims.get("driver_id"),
        )
    except (jwt.PyJWTError, KeyError, ValueError):
        return None
