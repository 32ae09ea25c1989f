"""Where the CJK font for the PDFs is: Noto Sans CJK SC from Debian's ``fonts-noto-cjk``.

Chinese must print as characters, never as boxes, so a missing font is an error that names
the package to install rather than a silent fallback to a Latin-only core font.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont, TTLibError

FONT_ENV = "LINLI_CJK_FONT"
"""Environment variable: a TTF, OTF or TTC file to use instead of the searched ones."""

FONT_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),  # Debian, Ubuntu: fonts-noto-cjk
    Path("/usr/share/fonts/noto-cjk"),  # Arch: noto-fonts-cjk
    Path("/usr/share/fonts/google-noto-sans-cjk-fonts"),  # Fedora
    Path("/usr/share/fonts/opentype/noto-cjk"),
    Path("/usr/local/share/fonts"),
)
"""Folders searched, in order, for the regular and bold faces."""

_REGULAR_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf")
_BOLD_FILES = ("NotoSansCJK-Bold.ttc", "NotoSansCJKsc-Bold.otf", "NotoSansSC-Bold.otf")
_FAMILY = "Noto Sans CJK SC"
_INSTALL = (
    "install Debian's fonts-noto-cjk (`apt-get install -y fonts-noto-cjk`) or set "
    f"{FONT_ENV} to a TTF/OTF/TTC font file with Chinese glyphs"
)


class FontNotFoundError(RuntimeError):
    """No CJK font to print Chinese with; the message says which package to install."""


@dataclass(frozen=True)
class Face:
    """One face of a font file: the file and, for a TrueType/OpenType collection, its index."""

    path: Path
    index: int = 0


@dataclass(frozen=True)
class CjkFont:
    """The regular and bold faces the PDFs use (bold is the regular face when none exists)."""

    regular: Face
    bold: Face


def _face_index(path: Path) -> int:
    """The index of the Simplified Chinese face in ``path`` (0 for a single-font file).

    A collection such as NotoSansCJK-Regular.ttc holds JP, KR, SC, TC, HK faces; the SC one
    draws 门, 号, 区 in the mainland forms.
    """
    try:
        with path.open("rb") as file:
            tag = file.read(4)
        if tag != b"ttcf":
            TTFont(path, lazy=True).close()  # a readable single font
            return 0
        collection = TTCollection(path, lazy=True)
    except (OSError, TTLibError) as error:
        raise FontNotFoundError(f"cannot read the font file {path}: {error}; {_INSTALL}") from None
    names = [str(font["name"].getDebugName(1) or "") for font in collection.fonts]
    for wanted in (_FAMILY, "SC"):
        for index, name in enumerate(names):
            if name == wanted or (wanted == "SC" and name.endswith(" SC")):
                return index
    return 0


def _first(folders: Sequence[Path], files: Sequence[str]) -> Path | None:
    """The first of ``files`` found in ``folders``, in the order given."""
    for folder in folders:
        for name in files:
            path = folder / name
            if path.is_file():
                return path
    return None


def find_cjk_font(folders: Sequence[Path] = FONT_DIRS) -> CjkFont:
    """The CJK font: ``$LINLI_CJK_FONT`` if set, else Noto Sans CJK SC found in ``folders``.

    Raises ``FontNotFoundError`` naming the Debian package fonts-noto-cjk when none is found.
    """
    given = os.environ.get(FONT_ENV)
    if given:
        path = Path(given)
        if not path.is_file():
            raise FontNotFoundError(f"{FONT_ENV}={given} is not a file; {_INSTALL}")
        face = Face(path, _face_index(path))
        return CjkFont(regular=face, bold=face)
    regular = _first(folders, _REGULAR_FILES)
    if regular is None:
        searched = ", ".join(str(f) for f in folders)
        raise FontNotFoundError(
            f"no Noto Sans CJK font ({' or '.join(_REGULAR_FILES)}) in {searched}; {_INSTALL}"
        )
    bold = _first([regular.parent, *folders], _BOLD_FILES)
    regular_face = Face(regular, _face_index(regular))
    bold_face = regular_face if bold is None else Face(bold, _face_index(bold))
    return CjkFont(regular=regular_face, bold=bold_face)


@functools.cache
def default_cjk_font() -> CjkFont:
    """``find_cjk_font()`` once per process: reading the collections' names takes a moment."""
    return find_cjk_font()


def _subset_face(face: Face, codepoints: set[int], path: Path) -> Face:
    """Write the glyphs of ``codepoints`` from ``face`` to ``path`` as one OpenType font."""
    font = TTFont(face.path, fontNumber=face.index, lazy=True, recalcBBoxes=False)
    options = subset.Options()
    options.layout_features = []  # fpdf2 places glyphs one by one, without shaping
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints)
    subsetter.subset(font)
    font.save(path)
    font.close()
    return Face(path)


def subset_cjk_font(text: str, folder: Path, font: CjkFont | None = None) -> CjkFont:
    """``font`` cut down to the characters of ``text`` (and printable ASCII), in ``folder``.

    fpdf2 reads the whole 65 000-glyph collection for every document it makes; a font of the
    few hundred characters a day's documents use makes each PDF several times faster.
    """
    cjk = font or default_cjk_font()
    codepoints = {ord(c) for c in text if c.isprintable()} | set(range(0x20, 0x7F))
    folder.mkdir(parents=True, exist_ok=True)
    regular = _subset_face(cjk.regular, codepoints, folder / "linli-cjk-regular.otf")
    if cjk.bold == cjk.regular:
        return CjkFont(regular=regular, bold=regular)
    return CjkFont(
        regular=regular, bold=_subset_face(cjk.bold, codepoints, folder / "linli-cjk-bold.otf")
    )
