"""PDF files through pypdfium2 (PDFium, Chrome's PDF engine; Apache-2.0/BSD): each
page's text layer in reading order, and each page rendered to an image for OCR when
it has no text layer (a scan), or always, as ``ocr`` says."""

from __future__ import annotations

from pathlib import Path

from legalrag.ingest.readers.layout import clean_pages, join_hyphenated
from legalrag.ingest.readers.ocr import OcrUnavailable, check_tesseract, ocr_page
from legalrag.ingest.readers.protocol import Page, ReadOptions, paged_document
from legalrag.ingest.records import Rejected, SourceDocument

MIN_TEXT_CHARS = 20
"""A page whose text layer has fewer letters and digits is read as a scan (``--ocr
auto``): a scanner's PDF often carries a stray page number or a stamp as text."""


class PdfReader:
    """Reads ``.pdf`` files."""

    suffixes = (".pdf",)

    def __init__(self, options: ReadOptions) -> None:
        self.options = options

    def read(self, path: Path, *, document_id: str, source: str) -> SourceDocument | Rejected:
        """The PDF's pages as one document (rejected: encrypted, corrupt, no text)."""
        import pypdfium2 as pdfium

        location = str(path)
        try:
            document = pdfium.PdfDocument(path)
        except pdfium.PdfiumError as exc:
            return Rejected(location, _open_problem(str(exc)))
        except OSError as exc:
            return Rejected(location, f"unreadable: {exc.strerror}")
        try:
            # The file's own Title, when its maker set one; else its first line.
            title = " ".join(str(document.get_metadata_dict().get("Title", "")).split())
            pages = self._pages(document)
        except OcrUnavailable as exc:
            return Rejected(location, str(exc))
        except pdfium.PdfiumError as exc:
            return Rejected(location, f"not a readable PDF: {exc}")
        finally:
            document.close()
        return paged_document(
            pages,
            path=path,
            document_id=document_id,
            source=source,
            options=self.options,
            location=location,
            title=title,
        )

    def _pages(self, document: object) -> list[Page]:
        layers: list[str] = []
        for index in range(len(document)):  # type: ignore[arg-type]
            page = document[index]  # type: ignore[index]
            textpage = page.get_textpage()
            layers.append(textpage.get_text_range())
            textpage.close()
            page.close()
        cleaned = clean_pages(layers)
        scanned = [
            self.options.ocr == "always"
            or (self.options.ocr == "auto" and sum(c.isalnum() for c in text) < MIN_TEXT_CHARS)
            for text in cleaned
        ]
        if any(scanned):
            check_tesseract(self.options.ocr_language)
        pages: list[Page] = []
        for index, text in enumerate(cleaned):
            if not scanned[index]:
                pages.append(Page(text))
                continue
            page = document[index]  # type: ignore[index]
            bitmap = page.render(scale=self.options.ocr_dpi / 72)
            read = ocr_page(bitmap.to_pil(), language=self.options.ocr_language)
            page.close()
            pages.append(Page(join_hyphenated(read.text), "ocr", read.confidence))
        return pages


def _open_problem(message: str) -> str:
    """PDFium's reason a file does not open, as a lawyer can act on it."""
    if "password" in message.lower():
        return "encrypted (password-protected): save an unprotected copy to index it"
    reason = message.removeprefix("Failed to load document").strip(" ().")
    return f"not a readable PDF ({reason or 'PDFium could not open it'})"
