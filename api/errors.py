"""Structured JSON errors: ``{"error": code, "detail": ..., "field": ...}`` with a 4xx status.

Every failure a client can cause maps to one of these; nothing else leaves the server but a
500 with a request id (and the traceback stays in the server log).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from data.errors import DataError

log = logging.getLogger("linli.api")


class ErrorBody(BaseModel):
    """What every error response carries."""

    error: str
    detail: Any = None
    field: str | None = None


class ApiError(Exception):
    """An error a handler raises on purpose: HTTP status, code, sentence and field."""

    def __init__(
        self, status_code: int, error: str, detail: Any = None, field: str | None = None
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.error = error
        self.detail = detail
        self.field = field


def not_found(what: str, key: str) -> ApiError:
    """404 for an object that does not exist."""
    return ApiError(404, "not_found", f"no {what} {key!r}", what)


def forbidden(detail: str) -> ApiError:
    """403 for an object outside the caller's compound, supplier or driver."""
    return ApiError(403, "forbidden", detail)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "bad input"),
        (401, "not signed in, or the token expired"),
        (403, "the object is outside the caller's role or scope"),
        (404, "no such object"),
        (409, "conflict with the stored state"),
        (422, "a field failed validation; `field` names it"),
    )
}
"""OpenAPI description of the error responses, shared by every router."""


def _body(error: str, detail: Any = None, field: str | None = None) -> dict[str, Any]:
    return ErrorBody(error=error, detail=detail, field=field).model_dump()


def install_handlers(app: FastAPI) -> None:
    """Map every exception to structured JSON; 5xx bodies carry no internals."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(_body(exc.error, exc.detail, exc.field), exc.status_code)

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        issues = [
            {
                "file": i.file,
                "row": i.row,
                "field": i.field,
                "message": i.message,
                "hint": i.hint,
                "value": i.value,
            }
            for i in exc.issues
        ]
        first = exc.issues[0].field if exc.issues else None
        return JSONResponse(_body("invalid_data", issues, first), 422)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                "message": e.get("msg", ""),
            }
            for e in exc.errors()
        ]
        field = problems[0]["field"] if problems else None
        return JSONResponse(_body("invalid_request", problems, field), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method"}.get(
            exc.status_code, "http_error"
        )
        headers = getattr(exc, "headers", None)
        return JSONResponse(_body(code, exc.detail), exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        ref = secrets.token_hex(6)
        log.exception("unhandled error %s", ref, exc_info=exc)
        detail = f"internal error {ref}; the server log has the details"
        return JSONResponse(_body("internal", detail), status.HTTP_500_INTERNAL_SERVER_ERROR)
