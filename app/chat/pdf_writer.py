"""A conversation's document blocks (:mod:`.documents`) as a PDF file (fpdf2).

A PDF shows only the characters its font has. The text is set in a TrueType font
embedded in the file: ``export_font`` where configured, else DejaVu Sans where it is
installed (Debian's ``fonts-dejavu-core``, or matplotlib's copy), which covers Latin,
Greek, Cyrillic and the typographic marks legal text uses (§, ¶, curly quotes, dashes). Without one,
the PDF's own Helvetica (Latin-1 only) is used: typographic marks become their plain
forms, accented letters outside Latin-1 lose their accents, anything else becomes
"?", and the document says so on its first line, pointing to the Word export, which
keeps every character.
"""

from __future__ import annotations

import importlib.util
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from legalrag.app.chat.documents import printable
from legalrag.errors import SettingsError

if TYPE_CHECKING:
    from legalrag.app.chat.documents import Block

# Where distributions install DejaVu (Debian/Ubuntu, Fedora, Arch).
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
LOST_NOTE = (
    "{lost} characters of this conversation are not in this PDF's font ({font}) and are "
    "shown as ?: the Word export keeps them all{hint}."
)
NO_FONT_HINT = ", and installing fonts-dejavu-core (or setting LEGALRAG_EXPORT_FONT) gives "
NO_FONT_HINT += "the PDF a Unicode font"
OTHER_FONT_HINT = "; LEGALRAG_EXPORT_FONT can name a font that has them"
_PLAIN = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u2022": "-",
    "\u203a": ">",
    "\u2713": "v",
    "\u00a0": " ",
}
_FAMILY = "body"
_SIZES = {"title": 18, "heading1": 14, "heading2": 12, "paragraph": 10.5, "note": 8.5}


@dataclass(frozen=True)
class FontFiles:
    """The TrueType files the PDF embeds: regular, and bold (the regular when none)."""

    regular: Path
    bold: Path


def _with_bold(regular: Path) -> FontFiles:
    bold = regular.with_name(f"{regular.stem}-Bold{regular.suffix}")
    return FontFiles(regular, bold if bold.is_file() else regular)


def find_font(configured: Path | None = None) -> FontFiles | None:
    """``configured`` (which must exist), else an installed DejaVu Sans, else None."""
    if configured is not None:
        if not configured.is_file():
            raise SettingsError(f"export_font {configured} is not a font file")
        return _with_bold(configured)
    folders = list(FONT_DIRS)
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.origin:  # matplotlib ships DejaVu Sans; found, not imported
        folders.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf")
    for folder in folders:
        if (folder / "DejaVuSans.ttf").is_file():
            return _with_bold(folder / "DejaVuSans.ttf")
    return None


def latin1(text: str) -> tuple[str, int]:
    """``text`` in the characters Helvetica has, and how many had to become "?"."""
    shown: list[str] = []
    lost = 0
    for char in text:
        char = _PLAIN.get(char, char)
        try:
            char.encode("latin-1")
        except UnicodeEncodeError:
            # "ł" -> "l", "ﬁ" -> "fi": the letter without what Latin-1 lacks.
            base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
            base = "".join(c for c in base if not unicodedata.combining(c))
            if not base:
                lost += 1
            char = base or "?"
        shown.append(char)
    return "".join(shown), lost


class _Writer:
    """Lays the blocks out on A4 pages in one embedded font (or Helvetica)."""

    def __init__(self, font: FontFiles | None) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.set_margins(18, 16, 18)
        self.font_name = font.regular.name if font is not None else "Helvetica"
        self.glyphs: set[int] | None = None
        """The characters the embedded font has (None: Helvetica, Latin-1)."""
        self.lost = 0
        if font is not None:
            self.family = _FAMILY
            self.pdf.add_font(_FAMILY, "", str(font.regular))
            self.pdf.add_font(_FAMILY, "B", str(font.bold))
            self.glyphs = set(self.pdf.fonts[_FAMILY].cmap)
        else:
            self.family = "helvetica"
        self.pdf.add_page()

    def text(self, value: str) -> str:
        """``value`` as this font can show it; each character it cannot counts as lost."""
        value = printable(value)
        if self.glyphs is None:
            shown, lost = latin1(value)
        else:
            kept = [c if c.isspace() or ord(c) in self.glyphs else "?" for c in value]
            shown = "".join(kept)
            lost = sum(1 for new, old in zip(shown, value, strict=True) if new != old)
        self.lost += lost
        return shown

    def note_losses(self, blocks: Sequence[Block]) -> None:
        """Say first, where a reader looks, how many characters the font cannot show."""
        for block in blocks:
            for part in (block.text, *block.items, *(c for row in block.rows for c in row)):
                self.text(part)
        lost, self.lost = self.lost, 0
        if lost:
            hint = NO_FONT_HINT if self.glyphs is None else OTHER_FONT_HINT
            self.lines(LOST_NOTE.format(lost=lost, font=self.font_name, hint=hint), 9, bold=True)

    def font(self, size: float, bold: bool = False) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)

    def lines(self, value: str, size: float, *, bold: bool = False, grey: bool = False) -> None:
        self.font(size, bold)
        self.pdf.set_text_color(90 if grey else 0)
        self.pdf.multi_cell(0, size * 0.5, self.text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.set_text_color(0)
        self.pdf.ln(size * 0.25)

    def runs(self, runs: Sequence[tuple[str, bool]], *, quote: bool) -> None:
        margin = self.pdf.l_margin
        if quote:  # a source's text, set in from the margin as a quotation
            self.pdf.set_left_margin(margin + 6)
            self.pdf.set_x(margin + 6)
        size = _SIZES["paragraph"] - (1 if quote else 0)
        for text, bold in runs:
            self.font(size, bold)
            self.pdf.write(size * 0.5, self.text(text))
        self.pdf.set_left_margin(margin)
        self.pdf.ln(size * 0.5)
        self.pdf.set_x(margin)
        self.pdf.ln(size * 0.3)

    def table(self, rows: Sequence[Sequence[str]]) -> None:
        self.font(8)
        widths = (16, 58, 22, 46, 32)[: len(rows[0])]
        with self.pdf.table(
            col_widths=widths, text_align="LEFT", line_height=4, first_row_as_headings=True
        ) as table:
            for row in rows:
                cells = table.row()
                for value in row:
                    cells.cell(self.text(value))
        self.pdf.ln(2)

    def block(self, block: Block) -> None:
        if block.kind == "title":
            self.lines(block.text, _SIZES["title"], bold=True)
        elif block.kind == "heading":
            self.pdf.ln(2 if block.level > 1 else 4)
            self.lines(block.text, _SIZES[f"heading{min(block.level, 2)}"], bold=True)
        elif block.kind == "note":
            self.lines(block.text, _SIZES["note"], grey=True)
        elif block.kind == "paragraph":
            self.runs(block.runs, quote=block.quote)
        elif block.kind == "bullets":
            for item in block.items:
                self.lines(f"\u2022 {item}", _SIZES["paragraph"] - 0.5)
        elif block.kind == "table" and block.rows:
            self.table(block.rows)


def write_pdf(blocks: Sequence[Block], *, title: str, font: Path | None = None) -> bytes:
    """The PDF file's bytes, in ``font`` (or the one :func:`find_font` finds)."""
    writer = _Writer(find_font(font))
    writer.pdf.set_title(printable(title))
    writer.pdf.set_creator("legalrag")
    writer.note_losses(blocks)
    for block in blocks:
        writer.block(block)
    return bytes(writer.pdf.output())
