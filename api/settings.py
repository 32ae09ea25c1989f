"""Server settings from the environment: ``LINLI_*`` and ``DATABASE_URL`` (pydantic-settings)."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from data.store import database_url


class Settings(BaseSettings):
    """Where the database is, how tokens are signed and how many job workers run."""

    model_config = SettingsConfigDict(env_prefix="LINLI_", frozen=True)

    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("LINLI_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL; empty means SQLite at .linli/linli.db",
    )
    jwt_secret: str = Field(
        default="",
        description="HMAC key for access tokens; empty means a key kept in .linli/jwt_secret",
    )
    token_minutes: int = Field(default=12 * 60, gt=0, description="access token lifetime")
    job_workers: int = Field(default=1, ge=1, description="worker processes for jobs")
    recover_jobs: bool = Field(
        default=True,
        description="at start, mark jobs a stopped server left running as failed; off in the "
        "HTTP worker processes of `linli serve --workers N`, whose parent recovers once",
    )
    match_time_limit_s: float = Field(default=20.0, gt=0)
    route_time_limit_s: float = Field(default=20.0, gt=0)
    claim_escalation_hours: float = Field(
        default=24.0,
        gt=0,
        description="hours a supplier has to answer a claim (and a filer to appeal a "
        "rejection) before it goes to the residents' committee",
    )

    def url(self) -> str:
        """The database URL with defaults applied (psycopg 3 for PostgreSQL)."""
        return database_url(self.database_url or None)

    def secret(self) -> str:
        """The signing key: configured, else read (or made once) beside the SQLite default."""
        if self.jwt_secret:
            return self.jwt_secret
        path = Path.cwd() / ".linli" / "jwt_secret"
        known = _SECRETS.get(path)
        if known is not None:
            return known
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32), encoding="utf-8")
            path.chmod(0o600)
        _SECRETS[path] = path.read_text(encoding="utf-8").strip()
        return _SECRETS[path]


_SECRETS: dict[Path, str] = {}
"""Signing keys read from disk, by file (read once per process)."""
