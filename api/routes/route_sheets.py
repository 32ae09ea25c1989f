"""Route sheets for drivers and their dispatcher, and drivers' stop reports."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["route sheets"])
