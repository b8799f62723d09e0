"""Text from a page image by OCR: Tesseract (Debian ``tesseract-ocr``) through
pytesseract, with the page's mean word confidence (0-100)."""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

from legalrag.ingest.readers.protocol import Page

if TYPE_CHECKING:
    from PIL.Image import Image


class OcrUnavailable(RuntimeError):
    """Tesseract, or its language data, is not installed, or it failed on a page (the
    reason): the file is rejected, never indexed without the pages it could not read."""


def check_tesseract(language: str) -> None:
    """Raise :class:`OcrUnavailable` unless Tesseract can read ``language``."""
    import pytesseract

    # Tesseract's OpenMP threads slow it down on a few busy cores (its docs advise one
    # thread per process for throughput); a user's own setting wins.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        raise OcrUnavailable(
            "needs OCR, and Tesseract is not installed (apt-get install tesseract-ocr)"
        )
    missing = set(language.split("+")) - set(pytesseract.get_languages(config=""))
    if missing:
        raise OcrUnavailable(
            f"needs OCR in {'+'.join(sorted(missing))}, which Tesseract lacks "
            f"(apt-get install tesseract-ocr-{sorted(missing)[0]})"
        )


def ocr_page(image: Image, *, language: str) -> Page:
    """The words Tesseract reads on ``image``, as lines and paragraphs in its reading
    order, and their mean confidence (None when it read no word)."""
    import pytesseract

    try:
        data = pytesseract.image_to_data(
            image.convert("L"), lang=language, output_type=pytesseract.Output.DICT
        )
    except pytesseract.TesseractError as exc:
        raise OcrUnavailable(f"OCR failed: {exc.message or exc.status}") from None
    lines: dict[tuple[int, int, int], list[str]] = {}
    confidences: list[float] = []
    for i, word in enumerate(data["text"]):
        confidence = float(data["conf"][i])
        if confidence < 0 or not word.strip():  # -1: a block or line, not a word
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        lines.setdefault(key, []).append(word)
        confidences.append(confidence)
    text_parts: list[str] = []
    previous: tuple[int, int] | None = None
    for (block, paragraph, _), words in lines.items():
        if previous is not None:
            text_parts.append("\n\n" if (block, paragraph) != previous else "\n")
        text_parts.append(" ".join(words))
        previous = (block, paragraph)
    confidence = sum(confidences) / len(confidences) if confidences else None
    return Page("".join(text_parts), method="ocr", confidence=confidence)
