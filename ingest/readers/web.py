"""Web pages (saved HTML) through trafilatura: the main text, headings as Markdown
``#`` lines (so the structure finder sees them), tables and lists kept; navigation,
menus, cookie banners, footers and other boilerplate left out."""

from __future__ import annotations

from pathlib import Path

from legalrag.ingest.readers.protocol import ReadOptions, finished
from legalrag.ingest.records import Rejected, SourceDocument


class HtmlReader:
    """Reads ``.html``/``.htm`` files (the charset their meta tag or bytes say)."""

    suffixes = (".html", ".htm")

    def __init__(self, options: ReadOptions) -> None:
        self.options = options

    def read(self, path: Path, *, document_id: str, source: str) -> SourceDocument | Rejected:
        """The page's main text as one document (no pages)."""
        import trafilatura

        location = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            return Rejected(location, f"unreadable: {exc.strerror}")
        if not data.strip():
            return Rejected(location, "empty file")
        text = trafilatura.extract(
            data,
            output_format="markdown",
            include_tables=True,
            include_comments=False,
            include_links=False,
            include_images=False,
            favor_recall=True,
        )
        if not text or not text.strip():
            return Rejected(location, "no main text found in the page")
        metadata = trafilatura.extract_metadata(data)
        title = (metadata.title if metadata is not None else "") or ""
        return finished(
            text.strip(),
            path=path,
            document_id=document_id,
            source=source,
            options=self.options,
            location=location,
            title=title,
        )
