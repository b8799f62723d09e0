"""A source card's whole document and its citation to copy (issue 16).

``GET /document`` over the sample index (every sample document rebuilt from its chunks,
checked against the corpus file) and over a small index of its own (a document holding
markup, one with a repeated paragraph the chunker keeps once, a matter's document behind
its wall, a document added in the chat); the card's link and citation from a real turn.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from legalrag.app.answers import Answer, AnswerSource
from legalrag.app.chat.actions import QUOTE_CHARS, citation_text, cited_span, quotation
from legalrag.app.chat.backend import ChatBackend
from legalrag.app.chat.server import build_app
from legalrag.app.chat.view import render_sources
from legalrag.app.citations import verify_citations
from legalrag.app.generation import ExtractiveGenerator
from legalrag.app.retrieval import RetrievedPassage
from legalrag.ingest.sources import read_sample
from legalrag.matters import open_registry
from legalrag.settings import load_settings
from tests.conftest import make_settings

USERS = "alice:alice-pw,bob:bob-pw"
SECRET = "document-test-secret-" + "d" * 32
ACME = "acme-v-zephyrine"
MARKUP = 'The clause reads <script>alert("owned")</script> & <b>bold</b> terms stay as text.'
# Each paragraph one chunk at 32 tokens; the third repeats the first, so the chunker
# keeps it once and the whole document has a hole only "[…]" can honestly fill.
FIRST = "Tenants who pay rent late owe a fee that the lease states in writing before move in."
SECOND = "Landlords must give written notice before they enter the rented home for repairs."
LAST = "A deposit comes back within thirty days together with a list of any deductions."


def _chat_settings(settings, tmp: Path):
    """``settings`` behind a login, what the chat writes (its audit log, its sign-outs)
    kept under ``tmp``; the matters' database is the one ``settings`` names."""
    secrets = load_settings(auth=USERS, session_secret=SECRET)
    return settings.model_copy(
        update={
            "auth": secrets.auth,
            "session_secret": secrets.session_secret,
            "audit_log": tmp / "audit.jsonl",
            "session_dir": tmp / "sessions",
            "chat_rewrite": "offline",
        }
    )


def _client(backend: ChatBackend, user: str | None) -> TestClient:
    client = TestClient(build_app(backend.settings, backend).app)
    if user is not None:
        signed_in = client.post("/login", data={"username": user, "password": f"{user}-pw"})
        assert signed_in.status_code == 200, signed_in.text
    return client


def _shown_text(page: str) -> str:
    """The document's text as the page shows it: marks taken off, a white-space hole
    (a block on the page) as a line break."""
    found = re.search(
        r'<div class="document-text" id="document-text">(.*)</div></main>', page, re.S
    )
    assert found, page[:500]
    text = re.sub(r'<span class="gap-space"[^>]*></span>', "\n", found.group(1))
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _marked(page: str) -> str:
    found = re.findall(r'<mark id="cited">(.*?)</mark>', page, re.S)
    assert len(found) == 1, found
    return html.unescape(re.sub(r"<[^>]+>", "", found[0]))


# --- the sample index ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_backend(sample_index, embedder, tmp_path_factory) -> ChatBackend:
    settings, _ = sample_index
    # The matters' database beside the test's own files: the sample index is read only.
    tmp = tmp_path_factory.mktemp("document-sample")
    settings = _chat_settings(
        settings.model_copy(update={"database_url": f"sqlite:///{tmp / 'legalrag.db'}"}), tmp
    )
    return ChatBackend(settings, embedder=embedder, generator=ExtractiveGenerator())


def test_every_sample_document_is_rebuilt_whole_from_its_chunks(sample_backend) -> None:
    client = _client(sample_backend, "alice")
    store = sample_backend.retriever.store
    originals = [d for d in read_sample(max_chars=10**7) if hasattr(d, "document_id")]
    exact = 0
    for document in originals:
        chunks = store.chunks_of_documents([document.document_id])
        reply = client.get("/document", params={"id": document.document_id})
        assert reply.status_code == 200, document.document_id
        page = reply.text
        shown = _shown_text(page)
        # Every hole the chunks leave is white space of the original, shown as a break.
        holes = re.findall(r'<span class="gap-space" data-start="(\d+)" data-end="(\d+)">', page)
        assert "[\u2026]" not in shown
        for start, end in holes:
            assert document.text[int(start) : int(end)].strip() == "", document.document_id
        assert shown.split() == document.text.split(), document.document_id
        if not holes:
            assert shown == document.text
            exact += len(chunks) > 1
    assert exact >= 1, "a multi-chunk sample document with overlapping chunks is exact"


def test_the_cited_span_is_marked_at_its_characters(sample_backend) -> None:
    client = _client(sample_backend, "alice")
    store = sample_backend.retriever.store
    # A document of several overlapping chunks (no hole): its text is exact everywhere.
    document = next(
        d
        for d in read_sample(max_chars=10**7)
        if hasattr(d, "document_id")
        and len(store.chunks_of_documents([d.document_id])) > 2
        and '<span class="gap-space"'
        not in client.get("/document", params={"id": d.document_id}).text
    )
    text = document.text
    for start, end in ((0, 40), (len(text) // 2, len(text) // 2 + 75), (len(text) - 30, len(text))):
        reply = client.get(
            "/document", params={"id": document.document_id, "start": start, "end": end}
        )
        assert reply.status_code == 200
        assert _marked(reply.text) == text[start:end]
        assert '<a href="#cited">Go to the cited passage</a>' in reply.text
    page = client.get("/document", params={"id": document.document_id}).text
    assert "<mark" not in page and "No passage is marked." in page
    assert '<html lang="en">' in page and page.count("<h1>") == 1
    assert f"<h1>{html.escape(document.title)}</h1>" in page
    assert "script-src" not in reply.headers["content-security-policy"]  # no script runs


def test_bad_requests_and_no_login_are_refused(sample_backend) -> None:
    client = _client(sample_backend, "alice")
    document_id = next(
        d for d in read_sample(max_chars=10**7) if hasattr(d, "document_id")
    ).document_id
    assert client.get("/document").status_code == 400
    assert client.get("/document", params={"id": "  "}).status_code == 400
    assert client.get("/document", params={"id": "x" * 3000}).status_code == 400
    for bad in ("-1", "ten", "1.5"):
        reply = client.get("/document", params={"id": document_id, "start": bad, "end": "9"})
        assert reply.status_code == 400 and "character offsets" in reply.text
    assert client.get("/document", params={"id": "https://nowhere.example/x"}).status_code == 404
    stranger = _client(sample_backend, None)
    refused = stranger.get("/document", params={"id": document_id}, follow_redirects=False)
    assert refused.status_code == 401 and "sign in" in refused.text


# --- an index of its own: markup, a hole, a matter ------------------------------------------


@pytest.fixture(scope="module")
def walled(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[ChatBackend]:
    from legalrag.ingest.run import ingest

    root = tmp_path_factory.mktemp("document-walled")
    settings = make_settings(
        root / "data",
        auth=USERS,
        chunk_size=32,
        chunk_overlap=8,
        database_url=f"sqlite:///{root / 'legalrag.db'}",
    )
    public, secret = root / "public", root / ACME
    public.mkdir()
    secret.mkdir()
    (public / "markup.txt").write_text(f"Clause with markup\n\n{MARKUP}\n", encoding="utf-8")
    (public / "repeated.txt").write_text(
        "\n\n".join((FIRST, SECOND, FIRST, LAST)) + "\n", encoding="utf-8"
    )
    (secret / "orchidale.txt").write_text(
        "Orchidale nondisclosure terms\n\nZephyrine Holdings keeps the Orchidale formulas "
        "confidential for seven years.\n",
        encoding="utf-8",
    )
    ingest(settings, path=public, quiet=True)
    registry = open_registry(settings)
    registry.create(ACME)
    registry.grant(ACME, "alice", "owner")
    ingest(settings, path=secret, matter=ACME, quiet=True)
    yield ChatBackend(
        _chat_settings(settings, root), embedder=embedder, generator=ExtractiveGenerator()
    )


def _document_ids(backend: ChatBackend) -> dict[str, str]:
    """The index's document ids by file name."""
    ids = set()
    for page in backend.retriever.store.pages(with_text=False):
        ids.update(chunk.metadata.document_id for chunk in page)
    return {Path(i).name: i for i in ids}


def test_a_documents_markup_is_shown_as_text(walled) -> None:
    client = _client(walled, "bob")
    reply = client.get("/document", params={"id": _document_ids(walled)["markup.txt"]})
    assert reply.status_code == 200
    assert "<script>" not in reply.text and "<b>bold" not in reply.text
    assert '&lt;script&gt;alert("owned")&lt;/script&gt; &amp; &lt;b&gt;bold' in reply.text
    assert MARKUP in _shown_text(reply.text)


def test_text_the_index_does_not_hold_is_a_gap_not_invented(walled) -> None:
    client = _client(walled, "bob")
    reply = client.get("/document", params={"id": _document_ids(walled)["repeated.txt"]})
    shown = _shown_text(reply.text)
    # The repeated paragraph is held once: where it stood again, a gap says so.
    assert shown.count(FIRST) == 1 and SECOND in shown and LAST in shown
    gap = re.search(r"\[\u2026\] \(([\d,]+) characters not in the index\)", shown)
    assert gap is not None and int(gap.group(1).replace(",", "")) >= len(FIRST)
    assert shown.index(SECOND) < gap.start() < shown.index(LAST)


def test_a_walled_document_is_the_same_404_as_none_for_an_outsider(walled) -> None:
    document_id = _document_ids(walled)["orchidale.txt"]
    member = _client(walled, "alice").get("/document", params={"id": document_id})
    assert member.status_code == 200 and "Orchidale formulas" in member.text
    outsider = _client(walled, "bob")
    walled_off = outsider.get("/document", params={"id": document_id, "start": 0, "end": 9})
    missing = outsider.get(
        "/document", params={"id": document_id + "-no-such", "start": 0, "end": 9}
    )
    assert walled_off.status_code == missing.status_code == 404
    assert walled_off.text == missing.text and "Orchidale" not in walled_off.text
    assert walled_off.headers["content-length"] == missing.headers["content-length"]


def _files(folder: Path) -> dict[Path, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time."""
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def test_the_cards_link_and_citation_from_a_real_turn(walled) -> None:
    from legalrag.app.chat.turns import ChatTurns

    steps = list(
        ChatTurns(walled).run(
            "How long are the Orchidale formulas kept confidential?",
            [],
            None,
            None,
            None,
            None,
            True,
            "alice",
        )
    )
    sources = steps[-1].sources
    assert sources is not None
    card = sources.split('id="src-1-1"')[1].split('<div class="source" id=')[0]
    link = re.search(
        r'<a class="whole-document" href="([^"]+)" target="_blank" rel="noopener">', card
    )
    assert link is not None and "Open the whole document" in card
    href = html.unescape(link.group(1))
    assert href.startswith("document?") and href.endswith("#cited")
    query = {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}
    citation = html.unescape(re.search(r'data-citation="([^"]*)"', card).group(1))
    assert re.search(r'<button type="button" class="copy-citation"', card)
    assert 'role="status" aria-live="polite"' in card
    alice, bob = _client(walled, "alice"), _client(walled, "bob")
    before = _files(walled.settings.data_dir)
    page = alice.get("/" + href.split("#")[0])
    assert page.status_code == 200
    marked = _marked(page.text)
    assert marked and marked in _shown_text(page.text)
    assert int(query["end"]) - int(query["start"]) == len(marked)
    # The citation: title [type], where and when, then the marked words in quotes.
    lines = citation.split("\n")
    assert lines[0] == "Orchidale nondisclosure terms [contract]"
    assert lines[1] == "No jurisdiction given, no date"
    assert lines[-1] == quotation(marked)
    # An outsider following the same link learns nothing.
    assert bob.get("/" + href.split("#")[0]).status_code == 404
    assert _files(walled.settings.data_dir) == before, "reading a document writes nothing"


def test_a_document_added_in_the_chat_opens_whole_too(walled) -> None:
    import json

    bob = _client(walled, "bob")
    text = f"Upload notes\n\n{MARKUP}\n\n{SECOND}\n"
    reply = bob.post(
        "/documents",
        params={"name": "notes.txt"},
        content=text.encode("utf-8"),
        headers={"Content-Type": "application/octet-stream"},
    )
    done = json.loads(reply.text.splitlines()[-1])
    assert reply.status_code == 200 and done.get("done"), reply.text
    document_id = f"upload/{done['upload_id']}/notes.txt"
    start = text.index(SECOND)
    page = bob.get("/document", params={"id": document_id, "start": start, "end": start + 20})
    assert page.status_code == 200
    assert _shown_text(page.text).split() == text.split()
    assert _marked(page.text) == SECOND[:20] and "<script>" not in page.text


# --- the citation's format ---------------------------------------------------------------------

TX_TEXT = (
    "Sec. 92.103. OBLIGATION TO REFUND. (a) A landlord shall refund a "
    '"security deposit" to the tenant on or before the 30th day after the date the tenant '
    "surrenders the premises."
)
TX = RetrievedPassage(
    id="chunk-tx",
    document_id="https://legalrag.example/tx-deposit",
    text=TX_TEXT,
    score=0.03,
    title="Texas Property Code \u00a7 92.103",
    url="https://legalrag.example/tx-deposit",
    jurisdiction="TX",
    created="2021-04-02T10:00:00",
    start=100,
    end=100 + len(TX_TEXT),
)


def test_a_citation_names_the_source_and_quotes_the_cited_span() -> None:
    raw = "A landlord shall refund a security deposit within 30 days [1]."
    checked = verify_citations(raw, [TX])
    answer = Answer(**vars(checked), question="q", sources=AnswerSource.numbered([TX]))
    source = answer.sources[0]
    start, end = cited_span(answer, source)
    assert TX.start <= start < end <= TX.end and (start, end) != (TX.start, TX.end)
    text = citation_text(answer, source)
    quoted = TX.text[start - TX.start : end - TX.start]
    assert text.split("\n") == [
        "Texas Property Code \u00a7 92.103 [statute]",
        "Texas, 2021-04-02",
        "https://legalrag.example/tx-deposit",
        quotation(quoted),
    ]
    assert quotation(quoted).startswith('"') and '"security' not in quotation(quoted)[1:-1]
    assert "'security deposit'" in quotation(quoted)
    # Uncited: the passage itself; a javascript: URL is never given.
    plain = Answer(answer="", question="q", sources=AnswerSource.numbered([TX]))
    assert cited_span(plain, plain.sources[0]) == (TX.start, TX.end)
    scripted = replace(plain.sources[0], url="javascript:alert(1)", created="")
    lines = citation_text(plain, scripted).split("\n")
    assert lines[1] == "Texas, no date" and len(lines) == 3 and "javascript" not in lines[2]
    long = quotation("word " * 200)
    assert len(long) <= QUOTE_CHARS + 3 and long.endswith('\u2026"')
    card = render_sources(answer, turn=1, question="q", standalone="q", sentences=[raw])
    assert f"start={start}&amp;end={end}#cited" in card
    assert 'Copy citation<span class="sr-only"> of source 1</span></button>' in card
