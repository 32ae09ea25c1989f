"""Uploaded files: check the name's type, run a file loader on the bytes, and name the upload
(not a temporary path) in every issue of a rejected file."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from fastapi import UploadFile

from api.errors import ApiError
from data.errors import DataError, Issue

T = TypeVar("T")


def upload_name(file: UploadFile, default: str, suffixes: Sequence[str], what: str) -> str:
    """The upload's base name; 422 naming ``what`` to send unless it ends in ``suffixes``."""
    name = Path(file.filename or default).name
    if Path(name).suffix.lower() not in suffixes:
        raise ApiError(422, "invalid_request", f"{name}: send {what}", "file")
    return name


def load_upload(name: str, content: bytes, load: Callable[[Path], T]) -> T:
    """``load`` on ``content`` saved as ``name``; a DataError's issues name the upload."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        try:
            return load(path)
        except DataError as error:
            raise DataError(
                [Issue(name, i.row, i.field, i.message, i.hint, i.value) for i in error.issues]
            ) from None
