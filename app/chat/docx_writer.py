"""A conversation's document blocks (:mod:`.documents`) as a Word file (python-docx)."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from typing import TYPE_CHECKING

from docx import Document
from docx.shared import Pt, RGBColor

from legalrag.app.chat.documents import printable

if TYPE_CHECKING:
    from legalrag.app.chat.documents import Block

_NOTE_COLOUR = RGBColor(0x55, 0x55, 0x55)


def write_docx(blocks: Sequence[Block], *, title: str) -> bytes:
    """The ``.docx`` file's bytes: Word's own heading, quote, list and table styles, so a
    firm's template restyles it."""
    document = Document()
    document.core_properties.title = printable(title)
    document.core_properties.author = "legalrag"
    for block in blocks:
        if block.kind == "title":
            document.add_heading(printable(block.text), level=0)
        elif block.kind == "heading":
            document.add_heading(printable(block.text), level=block.level)
        elif block.kind == "note":
            run = document.add_paragraph().add_run(printable(block.text))
            run.italic = True
            run.font.size = Pt(9)
            run.font.color.rgb = _NOTE_COLOUR
        elif block.kind == "paragraph":
            paragraph = document.add_paragraph(style="Quote" if block.quote else None)
            for text, bold in block.runs:
                paragraph.add_run(printable(text)).bold = bold
        elif block.kind == "bullets":
            for item in block.items:
                document.add_paragraph(printable(item), style="List Bullet")
        elif block.kind == "table" and block.rows:
            _table(document, block.rows)
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def _table(document, rows: Sequence[Sequence[str]]) -> None:  # type: ignore[no-untyped-def]
    """A grid table, its first row the bold header."""
    table = document.add_table(rows=0, cols=len(rows[0]))
    table.style = "Table Grid"
    for number, row in enumerate(rows):
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=False):
            run = cell.paragraphs[0].add_run(printable(text))
            run.bold = number == 0
            run.font.size = Pt(9)
