"""Readers for the documents lawyers have, one module per format, each a
:class:`DocumentReader`; :func:`reader_for` is the one place a file's type picks one.

| format | module | library |
|---|---|---|
| PDF (text layer; scanned pages by OCR) | ``pdf.py`` (+ ``layout.py``) | pypdfium2 |
| images (PNG, JPEG, TIFF) | ``image.py`` | Pillow + Tesseract (``ocr.py``) |
| Word ``.docx`` | ``word.py`` (+ ``word_numbering.py``) | python-docx |
| HTML | ``web.py`` | trafilatura |

JSONL, ``.txt`` and ``.md`` are read by ``ingest/sources.py`` as before.
"""

from __future__ import annotations

from pathlib import Path

from legalrag.ingest.readers.image import ImageReader
from legalrag.ingest.readers.pdf import PdfReader
from legalrag.ingest.readers.protocol import DocumentReader, OcrMode, ReadOptions
from legalrag.ingest.readers.web import HtmlReader
from legalrag.ingest.readers.word import DocxReader

__all__ = ["READER_SUFFIXES", "DocumentReader", "OcrMode", "ReadOptions", "reader_for"]

_READERS = (PdfReader, ImageReader, DocxReader, HtmlReader)

READER_SUFFIXES: tuple[str, ...] = tuple(s for reader in _READERS for s in reader.suffixes)
"""Every file ending a reader here reads."""


def reader_for(path: Path, options: ReadOptions) -> DocumentReader | None:
    """The reader for ``path``'s file type, or None when no reader here reads it."""
    suffix = path.suffix.lower()
    for reader in _READERS:
        if suffix in reader.suffixes:
            return reader(options)
    return None
