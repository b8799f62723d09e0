"""The document readers on files built in tests/document_files.py: PDFs with a text
layer, scans (OCR by the real Tesseract), Word and HTML; bad files rejected."""

from __future__ import annotations

from pathlib import Path

import pytest

from legalrag.ingest.readers import ReadOptions, reader_for
from legalrag.ingest.readers.layout import clean_pages
from legalrag.ingest.records import Rejected, SourceDocument
from legalrag.ingest.sources import read_path
from legalrag.ingest.structure import find_segments, path_at
from tests.document_files import (
    RUNNING_HEADER,
    docx_clauses,
    docx_file,
    scan_image,
    scanned_pdf,
    text_pdf,
)

OPTIONS = ReadOptions(max_chars=1_000_000)

LEASE_PAGES = [
    [
        "Section 1. Rent",
        "The tenant shall pay rent of $1,200 on the first day of each month by bank transfer"
        " to the account the landlord names in writing, without any deduc-\ntion or set-off.",
    ],
    [
        "Section 2. Security deposit",
        "The landlord shall return the security deposit within thirty days after the tenancy"
        " ends, less the cost of repairing damage beyond normal wear and tear.",
    ],
    [
        "Section 3. Notice",
        "Either party may end this lease by giving the other sixty days written notice.",
    ],
]


def read(path: Path, options: ReadOptions = OPTIONS) -> SourceDocument | Rejected:
    reader = reader_for(path, options)
    assert reader is not None
    return reader.read(path, document_id=path.name, source="test")


def test_text_pdf_pages_in_order_without_running_lines_hyphenation_joined(tmp_path: Path) -> None:
    document = read(text_pdf(tmp_path / "lease.pdf", LEASE_PAGES, title="Lease of 5 Elm St"))
    assert isinstance(document, SourceDocument)
    assert document.title == "Lease of 5 Elm St"
    text = document.text
    assert RUNNING_HEADER not in text and "Page 1 of 3" not in text and "of 3" not in text
    assert "deduction or set-off" in text and "deduc-" not in text
    assert (
        text.index("Section 1. Rent") < text.index("Section 2. Security") < text.index("Section 3.")
    )
    assert len(document.page_starts) == 3 and document.page_starts[0] == 0
    second = text.index("Section 2. Security deposit")
    assert document.page_starts[1] <= second < document.page_starts[2]
    assert [p.method for p in document.pages_read] == ["text"] * 3
    # Headings survive, so the structure finder gives section paths.
    segments = find_segments(text)
    assert segments is not None
    assert path_at(segments, text.index("within thirty days")) == "Section 2. Security deposit"


def test_chunk_pages_and_offsets(tmp_path: Path) -> None:
    document = read(text_pdf(tmp_path / "lease.pdf", LEASE_PAGES))
    assert isinstance(document, SourceDocument)
    start = document.text.index("The landlord shall return")
    meta = document.metadata(start=start, end=start + 40)
    assert (meta.page, meta.pages) == (2, "2")
    assert document.text[meta.start : meta.end].startswith("The landlord shall return")
    across = document.metadata(start=start, end=document.text.index("Either party") + 5)
    assert (across.page, across.pages, across.page_label) == (2, "2-3", "pp. 2-3")
    stored = across.to_store()
    assert stored["page"] == 2 and stored["pages"] == "2-3"
    assert type(across).from_store(stored) == across


def test_repeated_edge_lines_go_but_distinct_numbered_headings_stay() -> None:
    pages = [
        f"ARTICLE {n + 4}\nThe words of article {n + 4}.\nMore of its words here.\n"
        f"And a last line of it.\nAcme Corp. - page {n:04d}\n{n}"
        for n in (1, 2, 3)
    ]
    cleaned = clean_pages(pages)
    for n, page in zip((1, 2, 3), cleaned, strict=True):
        assert page.startswith(f"ARTICLE {n + 4}\nThe words of article {n + 4}.")
        assert page.endswith("And a last line of it.")


def test_scanned_and_mixed_pdf_by_ocr_with_confidence_and_blank_page_reported(
    tmp_path: Path,
) -> None:
    pdf = scanned_pdf(
        tmp_path / "scan.pdf",
        [
            ["1. Rent", "The tenant shall pay rent of $1,200 on the first day of each month."],
            None,
            ["2. Deposit", "The landlord shall return the deposit within thirty days."],
        ],
        text_page=2,
    )
    document = read(pdf)
    assert isinstance(document, SourceDocument)
    assert "The tenant shall pay rent of $1,200 on the first day of each month." in " ".join(
        document.text.split()
    )
    methods = [(p.method, p.problem) for p in document.pages_read]
    assert methods == [("ocr", ""), ("ocr", "no text found by OCR"), ("text", "")]
    first = document.pages_read[0]
    assert first.confidence is not None and first.confidence > 80
    assert (
        document.metadata(start=document.text.index("landlord"), end=len(document.text)).page == 3
    )
    never = read(pdf, ReadOptions(max_chars=1_000_000, ocr="never"))
    assert isinstance(never, SourceDocument) and "tenant" not in never.text
    assert [p.problem for p in never.pages_read][:2] == ["no text found (OCR off)"] * 2


def test_scan_only_pdf_with_ocr_never_is_rejected_and_low_confidence_is_flagged(
    tmp_path: Path,
) -> None:
    pdf = scanned_pdf(tmp_path / "scan.pdf", [["The buyer shall pay the seller."]])
    rejected = read(pdf, ReadOptions(max_chars=1_000_000, ocr="never"))
    assert isinstance(rejected, Rejected) and "no text" in rejected.reason
    strict = read(pdf, ReadOptions(max_chars=1_000_000, ocr_min_confidence=100))
    assert isinstance(strict, SourceDocument)
    assert "buyer shall pay the seller" in strict.text
    assert strict.pages_read[0].problem.startswith("OCR confidence")


def test_image_file_by_ocr(tmp_path: Path) -> None:
    path = tmp_path / "notice.png"
    scan_image(["NOTICE TO VACATE", "You must leave the premises within three days."]).save(path)
    document = read(path)
    assert isinstance(document, SourceDocument)
    assert "You must leave the premises within three days." in document.text
    assert document.page_starts == (0,) and document.pages_read[0].method == "ocr"


def test_docx_headings_numbered_clauses_and_tables(tmp_path: Path) -> None:
    document = read(docx_file(tmp_path / "services.docx"))
    assert isinstance(document, SourceDocument)
    text = document.text
    assert document.title == "Services Agreement" and document.page_starts == ()
    assert "1. The client shall pay each invoice within thirty days." in text
    assert "2. Late payments bear interest" in text
    assert "Fee | Amount\nSetup | $500" in text
    segments = find_segments(text)
    assert segments is not None
    where = path_at(segments, text.index("keep client data"))
    assert where.endswith("Confidentiality") and "Payment" not in where


def test_docx_multilevel_clause_numbers_as_word_counts_them(tmp_path: Path) -> None:
    clauses = [
        (0, "Definitions"),
        (1, "Affiliate means any entity controlling a party."),
        (1, "Confidential Information means all non-public information."),
        (2, "including trade secrets; and"),
        (2, "including customer lists."),
        (0, "Obligations"),
        (1, "The Recipient shall not disclose Confidential Information."),
    ]
    document = read(docx_clauses(tmp_path / "nda.docx", clauses))
    assert isinstance(document, SourceDocument)
    assert document.text.split("\n\n") == [
        "1. Definitions",
        "1.1 Affiliate means any entity controlling a party.",
        "1.2 Confidential Information means all non-public information.",
        "(a) including trade secrets; and",
        "(b) including customer lists.",
        "2. Obligations",
        "2.1 The Recipient shall not disclose Confidential Information.",
    ]
    segments = find_segments(document.text)
    assert segments is not None
    where = path_at(segments, document.text.index("The Recipient"))
    assert (
        where
        == "2. Obligations \u203a 2.1 The Recipient shall not disclose Confidential Information."
    )


def test_html_main_text_without_navigation(tmp_path: Path) -> None:
    page = tmp_path / "rights.html"
    page.write_text(
        "<html><head><title>Tenant rights</title></head><body><nav><ul><li><a href='/'>Home"
        "</a></li><li><a href='/about'>About us</a></li></ul></nav><main><article>"
        "<h1>Tenant rights</h1><p>A landlord must return a security deposit within thirty"
        " days after the tenant leaves, with an itemized list of deductions.</p>"
        "<h2>Late fees</h2><p>A late fee may be charged only if the written lease provides"
        " for it and the rent is unpaid two full days after the due date.</p></article>"
        "</main><footer>Copyright 2026 Example Firm. All rights reserved.</footer></body></html>"
    )
    document = read(page)
    assert isinstance(document, SourceDocument)
    assert "within thirty days after the tenant leaves" in document.text
    assert "## Late fees" in document.text
    assert "About us" not in document.text and "All rights reserved" not in document.text
    assert document.title == "Tenant rights" and document.page_starts == ()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.pdf", b"%PDF-1.4 this is not a pdf", "not a readable PDF"),
        ("empty.pdf", b"", "not a readable PDF"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "not a readable .docx"),
        ("empty.html", b"   ", "empty file"),
        ("broken.png", b"\x89PNG not an image", "not a readable image"),
        ("locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "encrypted"),
    ],
)
def test_corrupt_and_empty_files_are_rejected(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    rejected = read(path)
    assert isinstance(rejected, Rejected) and reason in rejected.reason


def test_encrypted_and_blank_pdfs_are_rejected(tmp_path: Path) -> None:
    locked = read(text_pdf(tmp_path / "locked.pdf", LEASE_PAGES, password="secret"))
    assert isinstance(locked, Rejected) and "encrypted" in locked.reason
    blank = read(text_pdf(tmp_path / "blank.pdf", [[" "], [" "]], running=False))
    assert isinstance(blank, Rejected) and "no text on any of its 2 pages" in blank.reason


def test_folder_picks_each_reader_and_reports_rejects(tmp_path: Path) -> None:
    folder = tmp_path / "matter"
    folder.mkdir()
    text_pdf(folder / "lease.pdf", LEASE_PAGES)
    docx_file(folder / "services.docx")
    (folder / "notes.txt").write_text("Call the client on Monday about the deposit.")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 junk")
    (folder / "sheet.xlsx").write_bytes(b"PK")
    items = list(read_path(folder, max_chars=1_000_000))
    documents = {i.document_id: i for i in items if isinstance(i, SourceDocument)}
    assert set(documents) == {"lease.pdf", "services.docx", "notes.txt"}
    assert documents["lease.pdf"].location == str(folder / "lease.pdf")
    rejected = {Path(r.location).name: r.reason for r in items if isinstance(r, Rejected)}
    assert rejected.keys() == {"broken.pdf", "sheet.xlsx"}
    assert "not a readable PDF" in rejected["broken.pdf"]
