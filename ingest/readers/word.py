"""Word ``.docx`` files through python-docx: paragraphs and tables in document order;
Heading and Title styles as Markdown ``#`` lines (so the structure finder gives them
section paths), Word's list numbers written before their paragraphs (clause numbers
kept: :mod:`word_numbering`), each table row as one line of cells."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from legalrag.ingest.readers.protocol import ReadOptions, finished
from legalrag.ingest.readers.word_numbering import Numbering
from legalrag.ingest.records import Rejected, SourceDocument

CELL_SEPARATOR = " | "
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""How a compound file starts: a password-protected .docx is one (so is an old .doc)."""


class DocxReader:
    """Reads ``.docx`` files (a ``.doc`` from before 2007 is another format: rejected)."""

    suffixes = (".docx",)

    def __init__(self, options: ReadOptions) -> None:
        self.options = options

    def read(self, path: Path, *, document_id: str, source: str) -> SourceDocument | Rejected:
        """The document's body as text (no pages: Word lays them out only when printing)."""
        import docx
        from docx.opc.exceptions import PackageNotFoundError

        location = str(path)
        try:
            with path.open("rb") as stream:
                if stream.read(len(OLE_MAGIC)) == OLE_MAGIC:
                    return Rejected(
                        location,
                        "encrypted (password-protected), or a .doc renamed: save an "
                        "unprotected .docx to index it",
                    )
            document = docx.Document(str(path))
        except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
            # An encrypted .docx is an OLE file, not a zip: the same error as a corrupt one.
            return Rejected(location, f"not a readable .docx (corrupt or encrypted): {exc}")
        except OSError as exc:
            return Rejected(location, f"unreadable: {exc.strerror}")
        numbering = Numbering(document)
        blocks: list[str] = []
        for block in document.iter_inner_content():
            shown = _table(block) if hasattr(block, "rows") else _paragraph(block, numbering)
            if shown:
                blocks.append(shown)
        title = (document.core_properties.title or "").strip()
        return finished(
            "\n\n".join(blocks),
            path=path,
            document_id=document_id,
            source=source,
            options=self.options,
            location=location,
            title=title,
        )


def _paragraph(paragraph: Any, numbering: Numbering) -> str:
    text = paragraph.text.strip()
    label = numbering.label(paragraph)
    if not text:
        return ""
    if label:
        text = f"{label} {text}"
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style == "Title":
        return f"# {text}"
    if style.startswith("Heading ") and style.removeprefix("Heading ").isdigit():
        # Under the Title's "#": Heading 1 is "##".
        return "#" * min(6, int(style.removeprefix("Heading ")) + 1) + " " + text
    return text


def _table(table: Any) -> str:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if not cells or cells[-1] != text:  # a merged cell repeats in each column
                cells.append(text)
        if any(cells):
            rows.append(CELL_SEPARATOR.join(cells))
    return "\n".join(rows)
