"""User accounts: create one bound to its compound, supplier or driver (a committee to
several compounds, a volunteer to one building of a compound); check a password."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Column, Connection, Engine, insert, select

from api import audit
from api.security import Principal, Role, hash_password, verify_password
from data.tables import (
    BuildingRow,
    CompoundRow,
    DriverRow,
    SupplierRow,
    UserAccountRow,
    UserCompoundRow,
    table_of,
)

_USERS = table_of(UserAccountRow)
_SCOPE = table_of(UserCompoundRow)
_BUILDINGS = table_of(BuildingRow)
_COMPOUNDS = table_of(CompoundRow)
_BINDING: dict[Role, tuple[str, type[CompoundRow] | type[SupplierRow] | type[DriverRow]]] = {
    Role.leader: ("compound_id", CompoundRow),
    Role.volunteer: ("compound_id", CompoundRow),
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
    building_id: str | None = None,
    compound_ids: Sequence[str] = (),
    by: Principal | str = "cli",
) -> Principal:
    """Create a user; a leader, volunteer, dispatcher or driver names one existing object to
    bind (a volunteer also its ``building_id``), a committee one or more ``compound_ids``."""
    if not username or len(username) > 64:
        raise AccountError("username must be 1 to 64 characters")
    if len(password) < 8:
        raise AccountError("password must have at least 8 characters")
    values: dict[str, str | None] = {
        "compound_id": None,
        "supplier_id": None,
        "driver_id": None,
        "building_id": None,
    }
    scope = tuple(dict.fromkeys(compound_ids))
    if role is not Role.committee and scope:
        raise AccountError("only a committee is scoped to several compounds (compound_ids)")
    if role is not Role.volunteer and building_id:
        raise AccountError("only a volunteer is bound to a building")
    with engine.connect() as conn:
        if role in _BINDING:
            column, row = _BINDING[role]
            if not bound_to:
                raise AccountError(f"a {role} is bound to one {column[:-3]}: give its id")
            _exists(conn, table_of(row).c[column], bound_to, column[:-3])
            values[column] = bound_to
        elif bound_to:
            raise AccountError(f"a {role} is not bound to one compound, supplier or driver")
        if role is Role.volunteer:
            if not building_id:
                raise AccountError("a volunteer is bound to one building: give building_id")
            found = conn.execute(
                select(_BUILDINGS.c.building_id).where(
                    _BUILDINGS.c.compound_id == bound_to, _BUILDINGS.c.building_id == building_id
                )
            ).first()
            if found is None:
                raise AccountError(
                    f"no building {building_id!r} in compound {bound_to!r}; check the ids"
                )
            values["building_id"] = building_id
        if role is Role.committee:
            if not scope:
                raise AccountError("a committee is scoped to its compounds: give compound ids")
            for compound_id in scope:
                _exists(conn, _COMPOUNDS.c.compound_id, compound_id, "compound")
    principal = Principal(username=username, role=role, compound_ids=scope, **values)
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
        if scope:
            conn.execute(insert(_SCOPE), [{"username": username, "compound_id": c} for c in scope])
        audit.append(conn, by, "user.add", f"user {username}", after=principal.model_dump())
    return principal


def _exists(conn: Connection, key: Column[str], value: str, what: str) -> None:
    """AccountError unless a row with ``key == value`` exists."""
    if conn.execute(select(key).where(key == value)).first() is None:
        raise AccountError(f"no {what} {value!r}; import it first or check the id")


def authenticate(engine: Engine, username: str, password: str) -> Principal | None:
    """The principal of an active user whose password matches; None otherwise."""
    with engine.connect() as conn:
        row = conn.execute(select(_USERS).where(_USERS.c.username == username)).mappings().first()
        scope = conn.execute(
            select(_SCOPE.c.compound_id)
            .where(_SCOPE.c.username == username)
            .order_by(_SCOPE.c.compound_id)
        ).scalars()
        compound_ids = tuple(scope)
    if row is None or not row["active"] or not verify_password(row["password_hash"], password):
        return None
    return Principal(
        username=row["username"],
        role=Role(row["role"]),
        compound_id=row["compound_id"],
        supplier_id=row["supplier_id"],
        driver_id=row["driver_id"],
        building_id=row["building_id"],
        compound_ids=compound_ids,
    )
