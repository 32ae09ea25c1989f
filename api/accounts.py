"""User accounts: create one bound to its compound, supplier or driver; check a password."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, insert, select

from api import audit
from api.security import Principal, Role, hash_password, verify_password
from data.tables import (
    CompoundRow,
    DriverRow,
    SupplierRow,
    UserAccountRow,
    table_of,
)

_USERS = table_of(UserAccountRow)
_BINDING: dict[Role, tuple[str, type[CompoundRow] | type[SupplierRow] | type[DriverRow]]] = {
    Role.leader: ("compound_id", CompoundRow),
    Role.dispatcher: ("supplier_id", SupplierRow),
    Role.driver: ("driver_id", DriverRow),
}
"""Which id each role is bound to, and the table that id must exist in."""


class AccountError(ValueError):
    """A user cannot be created as asked; the message says how to fix it."""


def add_user(
    engine: Engine,
    username: str,
    password: str,
    role: Role,
    *,
    bound_to: str | None = None,
    by: Principal | str = "cli",
) -> Principal:
    """Create a user; a leader, dispatcher or driver must name an existing object to bind."""
    if not username or len(username) > 64:
        raise AccountError("username must be 1 to 64 characters")
    if len(password) < 8:
        raise AccountError("password must have at least 8 characters")
    values: dict[str, str | None] = {"compound_id": None, "supplier_id": None, "driver_id": None}
    if role in _BINDING:
        column, row = _BINDING[role]
        if not bound_to:
            raise AccountError(f"a {role} is bound to one {column[:-3]}: give its id")
        key = table_of(row).c[column]
        with engine.connect() as conn:
            if conn.execute(select(key).where(key == bound_to)).first() is None:
                raise AccountError(
                    f"no {column[:-3]} {bound_to!r}; import it first or check the id"
                )
        values[column] = bound_to
    elif bound_to:
        raise AccountError("an admin is not bound to a compound, supplier or driver")
    principal = Principal(username=username, role=role, **values)
    with audit.write(engine) as conn:
        taken = conn.execute(select(_USERS.c.username).where(_USERS.c.username == username))
        if taken.first() is not None:
            raise AccountError(f"user {username!r} exists already")
        conn.execute(
            insert(_USERS).values(
                username=username,
                password_hash=hash_password(password),
                role=role.value,
                active=True,
                created_at=dt.datetime.now(dt.UTC),
                **values,
            )
        )
        audit.append(conn, by, "user.add", f"user {username}", after=principal.model_dump())
    return principal


def authenticate(engine: Engine, username: str, password: str) -> Principal | None:
    """The principal of an active user whose password matches; None otherwise."""
    with engine.connect() as conn:
        row = conn.execute(select(_USERS).where(_USERS.c.username == username)).mappings().first()
    if row is None or not row["active"] or not verify_password(row["password_hash"], password):
        return None
    return Principal(
        username=row["username"],
        role=Role(row["role"]),
        compound_id=row["compound_id"],
        supplier_id=row["supplier_id"],
        driver_id=row["driver_id"],
    )
