"""The settings of ingest's document readers (OCR), declared apart.

:class:`~legalrag.settings.Settings` inherits these fields, read from the same
``LEGALRAG_*`` variables, TOML keys and flags as every other setting;
``ingest/run.py`` hands them to the readers as a ``ReadOptions``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ReaderFields(BaseModel):
    """How PDF pages and images are read: OCR (Tesseract) when, in which language."""

    ocr: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="OCR (Tesseract) of PDF pages and images: auto reads a PDF page by OCR "
        "only when it has no text layer (a scan); always, every page; never, none.",
    )
    ocr_language: str = Field(
        default="eng", description="Tesseract language(s), e.g. eng or eng+spa (installed)."
    )
    ocr_min_confidence: float = Field(
        default=60.0,
        ge=0,
        le=100,
        description="A page whose mean OCR word confidence is lower is flagged in the report.",
    )
    ocr_dpi: int = Field(default=300, ge=72, le=1200, description="PDF page render for OCR.")
