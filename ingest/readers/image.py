"""Scanned images (PNG, JPEG, TIFF; a multi-page TIFF is one page per frame) by OCR."""

from __future__ import annotations

from pathlib import Path

from legalrag.ingest.readers.layout import join_hyphenated
from legalrag.ingest.readers.ocr import OcrUnavailable, check_tesseract, ocr_page
from legalrag.ingest.readers.protocol import Page, ReadOptions, paged_document
from legalrag.ingest.records import Rejected, SourceDocument


class ImageReader:
    """Reads image files: every frame is a page, read by OCR (``--ocr never``: rejected)."""

    suffixes = (".png", ".jpg", ".jpeg", ".tif", ".tiff")

    def __init__(self, options: ReadOptions) -> None:
        self.options = options

    def read(self, path: Path, *, document_id: str, source: str) -> SourceDocument | Rejected:
        """The image's frames as pages of one document."""
        from PIL import Image, ImageSequence, UnidentifiedImageError

        location = str(path)
        if self.options.ocr == "never":
            return Rejected(location, "an image has text only by OCR, and --ocr is never")
        try:
            check_tesseract(self.options.ocr_language)
            with Image.open(path) as image:
                pages = [
                    ocr_page(frame.copy(), language=self.options.ocr_language)
                    for frame in ImageSequence.Iterator(image)
                ]
        except OcrUnavailable as exc:
            return Rejected(location, str(exc))
        except Image.DecompressionBombError as exc:  # a huge image: PIL's guard
            return Rejected(location, f"image too large to read safely ({exc})")
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            return Rejected(location, f"not a readable image ({exc})")
        pages = [Page(join_hyphenated(p.text), p.method, p.confidence) for p in pages]
        return paged_document(
            pages,
            path=path,
            document_id=document_id,
            source=source,
            options=self.options,
            location=location,
        )
