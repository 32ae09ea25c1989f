"""Shared helpers for the PDF tests: poppler's command-line tools and the CJK font.

When poppler-utils or fonts-noto-cjk is missing the tests that need it fail under CI=true
(``make test`` installs both) and are skipped otherwise, naming the Debian package.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

from api.render.fonts import FontNotFoundError, find_cjk_font


def _missing(what: str, package: str) -> None:
    """Fail under CI=true, else skip, saying which Debian package provides ``what``."""
    message = f"{what} is missing: install Debian's {package} (apt-get install -y {package})"
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"CI=true and the PDF tests cannot run: {message}")
    pytest.skip(message)


def poppler(tool: str, *args: str) -> str:
    """Run a poppler-utils tool (pdftotext, pdftoppm, pdffonts, pdfinfo); its stdout."""
    if shutil.which(tool) is None:
        _missing(tool, "poppler-utils")
    done = subprocess.run([tool, *args], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


def need_cjk_font() -> None:
    """Skip (or fail under CI) when no Noto Sans CJK font is installed."""
    try:
        find_cjk_font()
    except FontNotFoundError as error:
        _missing(f"the CJK font ({error})", "fonts-noto-cjk")


def pdf_text(path: Path, layout: bool = False) -> str:
    """The text of a PDF as pdftotext extracts it, UTF-8: in reading order, or with
    ``layout`` as laid out on the page (a table row on one line)."""
    return poppler("pdftotext", *(["-layout"] if layout else []), "-enc", "UTF-8", str(path), "-")


def pdf_lines(path: Path) -> list[str]:
    """The non-empty extracted lines of a PDF, stripped."""
    return [line.strip() for line in pdf_text(path).splitlines() if line.strip()]


def page_count(path: Path) -> int:
    """Pages of a PDF, from pdfinfo."""
    match = re.search(r"^Pages:\s+(\d+)$", poppler("pdfinfo", str(path)), re.MULTILINE)
    assert match, f"pdfinfo gave no page count for {path}"
    return int(match.group(1))


def font_sizes(path: Path) -> set[float]:
    """Every font size set by a ``Tf`` operator in the PDF's (Flate-compressed) streams."""
    data = path.read_bytes()
    sizes: set[float] = set()
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        try:
            content = zlib.decompress(match.group(1))
        except zlib.error:
            continue  # an embedded font or image, not a content stream
        sizes |= {float(s) for s in re.findall(rb"/F\d+\s+([\d.]+)\s+Tf", content)}
    return sizes
