"""`legalrag ingest FOLDER` of a lawyer's files: each read by its type, rejects reported,
and the pages carried to `retrieve --json`, `ask` and `ask --json`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli
from tests.document_files import docx_file, scanned_pdf, text_pdf
from tests.test_readers import LEASE_PAGES


def test_ingest_folder_of_documents_cites_pages(tmp_path: Path) -> None:
    env = {"LEGALRAG_DATA_DIR": str(tmp_path / "data")}
    folder = tmp_path / "matter"
    folder.mkdir()
    text_pdf(folder / "lease.pdf", LEASE_PAGES)
    docx_file(folder / "services.docx")
    scanned_pdf(folder / "scan.pdf", [["The buyer shall pay the seller within ten days."], None])
    (folder / "locked.pdf").write_bytes(
        text_pdf(tmp_path / "l.pdf", LEASE_PAGES, password="x").read_bytes()
    )
    # Small chunks, so each of the lease's clauses (one a page) is a chunk of its own.
    env["LEGALRAG_CHUNK_SIZE"], env["LEGALRAG_CHUNK_OVERLAP"] = "48", "8"
    ingested = run_cli("ingest", str(folder), "--json", env=env)
    assert ingested.returncode == 0, ingested.stderr
    report = json.loads(ingested.stdout)
    assert report["documents_ingested"] == 3 and report["rejected_count"] == 1
    assert "encrypted" in report["rejected_first"][0]["reason"]
    assert report["pages"] == 5 and report["pages_ocr"] == 2
    assert [p["page"] for p in report["ocr_pages"]] == [1, 2]
    assert any("scan.pdf p. 2: no text found by OCR" in w for w in report["warnings"])

    question = "When must the landlord return the security deposit?"
    hits = json.loads(run_cli("retrieve", question, "--json", env=env).stdout)
    top = min(hits["sources"], key=lambda s: s["rank"])  # sources are in document order
    assert top["document_id"] == "lease.pdf" and top["page"] == 2 and top["pages"] == "2"
    docx_sources = [s for s in hits["sources"] if s["document_id"] == "services.docx"]
    assert docx_sources and all("page" not in s for s in docx_sources)

    answered = run_cli("ask", question, "--k", "1", env=env)
    assert answered.returncode == 0, answered.stderr
    assert "[1] (p. 2) " in answered.stdout and "p. 0" not in answered.stdout
    answer = json.loads(run_cli("ask", question, "--k", "1", "--json", env=env).stdout)
    assert answer["sources"][0]["page"] == 2
    assert answer["citations"] and all(c["page"] == 2 for c in answer["citations"])

    shown = run_cli("ingest", str(folder), env=env)
    # Rich wraps at the console's width, wherever the temporary path's length puts it.
    assert "locked.pdf:encrypted(password-protected)" in "".join(shown.stderr.split())


def test_ocr_setting_reaches_the_readers(tmp_path: Path) -> None:
    from legalrag.ingest.records import Rejected, SourceDocument
    from legalrag.ingest.run import open_source
    from legalrag.settings import Settings

    scan = scanned_pdf(tmp_path / "scan.pdf", [["The buyer shall pay the seller."]])
    (never,) = open_source(Settings(ocr="never"), None, scan, "train")
    assert isinstance(never, Rejected) and "OCR is off" in never.reason
    (auto,) = open_source(Settings(), None, scan, "train")
    assert isinstance(auto, SourceDocument) and "buyer shall pay" in auto.text
