"""The section path in the store, contextual text for the embedder and BM25, and the
text format an index records (an older index is read, never added to)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from legalrag.app.retrieval.bm25 import searchable_text
from legalrag.errors import IndexFormatError
from legalrag.factory import open_store
from legalrag.ingest.run import ingest
from legalrag.store import ChunkMetadata, ModelStamp
from legalrag.store.chroma import ChromaChunkStore
from legalrag.store.schema import (
    PATH_SEPARATOR,
    SECTION,
    TEXT_FORMAT,
    context_header,
    embedded_text,
)
from tests.conftest import make_settings, run_cli, write_jsonl

SEP = PATH_SEPARATOR
NDA = """Mutual Non-Disclosure Agreement

This Agreement is made between Acme Ltd and Beta LLC on 1 March 2024.

1. Definitions
"Confidential Information" means any information one party discloses to the other.
"Purpose" means evaluating a possible joint venture between the parties.

2. Confidentiality
2.1 Obligations. The Receiving Party shall keep the Confidential Information secret.
2.2 Exceptions. The obligations in clause 2.1 do not apply to information that:
(a) is or becomes public through no fault of the Receiving Party;
(b) was known to the Receiving Party before it was disclosed.

3. Term
This Agreement lasts three years from the date it is signed by both parties.
"""
POST = {
    "text": "Title: Deposit kept\nQuestion: My landlord kept my deposit. Can he?\n\n"
    "Answer #1: In California he has twenty-one days to return it or itemise.",
    "url": "https://legalrag.example/test/1",
    "created_timestamp": "03-04-2021",
    "downloaded_timestamp": "03-05-2021",
}


def test_the_header_is_title_then_section_path() -> None:
    assert context_header("Fiverr Privacy Policy", "How we share information") == (
        f"Fiverr Privacy Policy{SEP}How we share information"
    )
    assert context_header("", f"5. Confidentiality{SEP}5.2 Exceptions") == (
        f"5. Confidentiality{SEP}5.2 Exceptions"
    )
    assert context_header("Act", f"Act{SEP}§ 12") == f"Act{SEP}§ 12"  # the title once
    assert context_header("A post", "") == "A post"


def test_only_a_chunk_with_a_section_path_is_embedded_with_a_header() -> None:
    clause = ChunkMetadata(document_id="d", title="NDA", section="2. Confidentiality")
    text = "The party shall."
    assert embedded_text(text, clause) == f"NDA{SEP}2. Confidentiality\n{text}"
    post = ChunkMetadata(document_id="d", title="Deposit kept")
    assert embedded_text("Answer #1: ...", post) == "Answer #1: ..."


def test_bm25_adds_the_section_path_and_is_unchanged_without_one() -> None:
    post = ChunkMetadata(document_id="d", title="Deposit kept", jurisdiction="CA")
    assert searchable_text("body", post) == "Deposit kept CA\nbody"
    clause = ChunkMetadata(document_id="d", title="NDA", section="3. Term")
    assert searchable_text("body", clause) == f"NDA{SEP}3. Term \nbody"


def test_section_is_stored_only_when_there_is_one_and_reads_back() -> None:
    meta = ChunkMetadata(document_id="d", title="NDA", section=f"2. Confidentiality{SEP}2.1")
    assert meta.to_store()[SECTION] == meta.section
    assert ChunkMetadata.from_store(meta.to_store()) == meta
    assert SECTION not in ChunkMetadata(document_id="d").to_store()
    # A chunk stored before the key existed reads as having no section.
    assert ChunkMetadata.from_store({"document_id": "d", "start": 3}).section == ""


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "nda.txt").write_text(NDA, encoding="utf-8")
    return folder


def test_ingested_clauses_carry_their_path_and_are_embedded_in_context(
    tmp_path: Path, embedder
) -> None:
    settings = make_settings(tmp_path / "data", chunk_size=40, chunk_overlap=10)
    ingest(settings, path=_folder(tmp_path), quiet=True)
    store = open_store(settings, embedder)
    assert store.model == ModelStamp(embedder.model_name, embedder.dimension, TEXT_FORMAT)
    chunks = [chunk for page in store.pages(with_vectors=True) for chunk in page]
    assert len(chunks) >= 3
    sections = {chunk.metadata.section for chunk in chunks}
    assert f"2. Confidentiality{SEP}2.2 Exceptions" in sections
    assert "" in sections  # the preamble sits under no heading
    for chunk in chunks:
        meta = chunk.metadata
        assert NDA[meta.start : meta.end] == chunk.text  # stored text: the file's own
        assert meta.title == "Mutual Non-Disclosure Agreement"
        wanted = embedder.embed_documents([embedded_text(chunk.text, meta)])[0]
        assert np.allclose(chunk.vector, wanted, atol=1e-5)
        if meta.section:  # with a header, not the bare text's vector
            bare = embedder.embed_documents([chunk.text])[0]
            assert not np.allclose(chunk.vector, bare, atol=1e-3)


def test_a_post_is_embedded_as_before(tmp_path: Path, embedder) -> None:
    settings = make_settings(tmp_path / "data")
    ingest(settings, path=write_jsonl(tmp_path / "posts.jsonl", [POST]), quiet=True)
    chunks = [c for page in open_store(settings).pages(with_vectors=True) for c in page]
    assert chunks and all(chunk.metadata.section == "" for chunk in chunks)
    for chunk in chunks:
        assert np.allclose(chunk.vector, embedder.embed_documents([chunk.text])[0], atol=1e-5)


def _old_format_index(settings, embedder) -> None:
    """An index as an older legalrag left it: its collection records no text format."""
    store = ChromaChunkStore.open_for_writing(
        settings.store, ModelStamp(embedder.model_name, embedder.dimension)
    )
    meta = dict(store.collection.metadata or {})
    meta.pop("legalrag_text_format")
    store.collection.modify(metadata=meta)
    store.close()


def test_adding_to_an_older_format_index_is_refused_but_reading_it_works(
    tmp_path: Path, embedder
) -> None:
    settings = make_settings(tmp_path / "data")
    _old_format_index(settings, embedder)
    assert open_store(settings, embedder).model.text_format == 1  # read, as before
    folder = _folder(tmp_path)
    with pytest.raises(IndexFormatError, match="fresh data dir"):
        ingest(settings, path=folder, quiet=True)
    env = {"LEGALRAG_DATA_DIR": str(tmp_path / "data")}
    refused = run_cli("ingest", "-q", str(folder), env=env)
    assert refused.returncode == 2
    assert "text format 1" in refused.stderr and "Traceback" not in refused.stderr
    assert open_store(settings).count() == 0
