"""Document readers' speed on this CPU: pages per second from PDFs with a text layer,
and pages per second by OCR (Tesseract at ``ocr_dpi``, 300) from scanned PDFs.

The files are built here (tests/document_files.py): a text PDF of lease clauses with a
running header and page footers, and a scanned PDF whose pages are images of known
text. Reading alone is timed (no chunking or embedding: bench/ingest_overhead.py).

Run: .venv/bin/python bench/ingest_documents.py [--quick] [--out FILE]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import figures

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/document_files.py

from legalrag.ingest.readers import ReadOptions
from legalrag.ingest.readers.pdf import PdfReader
from legalrag.ingest.records import SourceDocument
from tests.document_files import scanned_pdf, text_pdf

CLAUSE = (
    "The tenant shall pay the rent on the first day of each month, and the landlord shall "
    "return the security deposit within thirty days after the tenancy ends, less the cost "
    "of repairing damage beyond normal wear and tear, with an itemized list of deductions."
)
SCAN_LINES = [
    "The tenant shall pay the rent on the first day of each month.",
    "The landlord shall return the security deposit within thirty days",
    "after the tenancy ends, less the cost of repairing damage beyond",
    "normal wear and tear, with an itemized list of the deductions.",
] * 5


def _rate(path: Path, options: ReadOptions, repeats: int) -> dict[str, float]:
    reader = PdfReader(options)
    seconds = []
    pages = 0
    for _ in range(repeats):
        started = time.perf_counter()
        document = reader.read(path, document_id=path.name, source="bench")
        seconds.append(time.perf_counter() - started)
        assert isinstance(document, SourceDocument), document
        pages = len(document.page_starts)
    best = min(seconds)
    confidences = [p.confidence for p in document.pages_read if p.confidence is not None]
    return {
        "pages": pages,
        "seconds": round(best, 3),
        "pages_per_s": round(pages / best, 2),
        "mean_ocr_confidence": round(sum(confidences) / len(confidences), 1)
        if confidences
        else None,
    }


def main() -> None:
    parser = figures.arguments(__doc__ or "", "10 text pages and 2 scanned ones")
    args, mode = figures.parse(parser)
    text_pages, scan_pages = (10, 2) if mode == "quick" else (200, 12)
    with tempfile.TemporaryDirectory() as folder:
        text = text_pdf(
            Path(folder) / "text.pdf",
            [
                [f"Section {n}. Clause {n}", f"{CLAUSE} ({n})", CLAUSE, CLAUSE]
                for n in range(text_pages)
            ],
        )
        scans = scanned_pdf(Path(folder) / "scan.pdf", [SCAN_LINES] * scan_pages)
        options = ReadOptions(max_chars=10**8)
        rows = [
            {"file": "PDF, text layer", **_rate(text, options, 3 if mode == "full" else 1)},
            {"file": "PDF, scanned (OCR, 300 dpi)", **_rate(scans, options, 1)},
        ]
    figures.show("document readers: pages per second on this CPU", rows)
    figures.save("ingest_documents", mode, {"rows": rows}, args.out)


if __name__ == "__main__":
    main()
