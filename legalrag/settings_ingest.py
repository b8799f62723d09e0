"""The settings of ingest's document readers (OCR) and of the documents the chat
adds (types, size), declared apart.

:class:`~legalrag.settings.Settings` inherits these fields, read from the same
``LEGALRAG_*`` variables, TOML keys and flags as every other setting;
``ingest/run.py`` hands them to the readers as a ``ReadOptions``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator


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


UPLOAD_TYPES = (".pdf", ".docx", ".html", ".htm", ".txt", ".md", ".png", ".jpg", ".jpeg")
"""The file types the chat takes by default: those ingest's readers read, less TIFF
(a browser shows none) and JSONL (a corpus, not a document)."""


class UploadFields(BaseModel):
    """Documents added from the chat (issue 18): which types, how large."""

    chat_upload: bool = Field(
        default=True,
        description="Let the chat's users add documents (signed-in users, when a login is "
        "set); off: the chat's upload route answers 404.",
    )
    upload_max_bytes: int = Field(
        default=25 * 1024 * 1024,
        ge=1,
        description="The largest file the chat takes; a larger one is refused before it is read.",
    )
    upload_types: list[str] = Field(
        default=list(UPLOAD_TYPES),
        min_length=1,
        description="File name endings the chat takes (each must be one ingest reads).",
    )

    @field_validator("upload_types")
    @classmethod
    def _check_types(cls, value: list[str]) -> list[str]:
        cleaned = [suffix.strip().lower() for suffix in value]
        cleaned = [s if s.startswith(".") else "." + s for s in cleaned if s.strip(".")]
        if not cleaned:
            raise ValueError("name at least one file ending, e.g. .pdf")
        return list(dict.fromkeys(cleaned))
