"""Sorting lists and pickup notices of a plan for a compound's leader (built in routing.sheets)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["documents"])
