"""Issue 18 in the chat: a document added through the chat's own route, refused ones
leaving nothing behind, the next question citing the added document's page, the page
image and the original behind the login; and issue 16's sources shown before the
model answers, and not left over from an earlier question after a failure.

A real server on 127.0.0.1 over a copy of the sample index (the session's stays read
only), the loopback fake model; the PDFs are made here with fpdf2.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from legalrag.app.chat.backend import ChatBackend
from legalrag.app.chat.server import UPLOADS_REFUSED, build_app
from legalrag.app.chat.shown import EARLY_NOTE
from legalrag.app.chat.turns import ChatTurns
from legalrag.settings import Settings
from tests.conftest import chat_settings, free_port
from tests.document_files import text_pdf
from tests.fake_llm import FakeLLM, Script
from tests.test_battery_chat import ask, chat_texts

USER, PASSWORD = "lawyer", "open-sesame"
MAX_BYTES = 300_000
NOTICE = (
    "The tenant must give the landlord ninety days of written notice before vacating "
    "the Zephyrine Wharf premises."
)
QUESTION = "How much notice must the tenant give before vacating the Zephyrine Wharf premises?"
PAGES = [
    [
        "1. Premises",
        "This lease covers the Zephyrine Wharf warehouse, unit 4, and its loading dock.",
    ],
    ["2. Notice", NOTICE, "Notice is given by registered mail to the landlord's address."],
]


@dataclass
class Served:
    url: str
    backend: ChatBackend
    settings: Settings


def _copy_index(sample_index, tmp_path: Path) -> Path:
    settings, _ = sample_index
    data_dir = tmp_path / "data"
    shutil.copytree(settings.data_dir, data_dir)
    return data_dir


@pytest.fixture(scope="module")
def served(sample_index, embedder, fake: FakeLLM, tmp_path_factory) -> Iterator[Served]:
    import uvicorn

    root = tmp_path_factory.mktemp("upload-chat")
    settings, _ = sample_index
    settings = chat_settings(
        settings.model_copy(update={"data_dir": _copy_index(sample_index, root)}),
        llm_url=fake.url,
        auth=f"{USER}:{PASSWORD}",
        secret="upload-test-secret-" + "u" * 32,
        audit_log=root / "audit.jsonl",
        chat_port=free_port(),
        upload_max_bytes=MAX_BYTES,
    )
    backend = ChatBackend(settings, embedder=embedder)
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(settings, backend).app,
            host="127.0.0.1",
            port=settings.chat_port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield Served(f"http://127.0.0.1:{settings.chat_port}/", backend, settings)
    server.should_exit = True
    thread.join(timeout=10)


def _signed_in(url: str) -> httpx.Client:
    client = httpx.Client(follow_redirects=False, timeout=120)
    response = client.post(url + "login", data={"username": USER, "password": PASSWORD})
    assert response.status_code == 303
    return client


def upload(client: httpx.Client, url: str, name: str, body: Any) -> tuple[int, list[dict]]:
    """POST the file as the page does; (status, the JSON lines answered)."""
    response = client.post(
        url + "documents",
        params={"name": name},
        content=body,
        headers={"Content-Type": "application/octet-stream"},
    )
    lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    return response.status_code, lines


def _uploads_left(settings: Settings) -> list[str]:
    folder = settings.data_dir / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_pdf_added_in_the_chat_is_cited_at_its_page(served: Served, fake: FakeLLM, tmp_path):
    client, url, backend = _signed_in(served.url), served.url, served.backend
    pdf = text_pdf(tmp_path / "lease.pdf", PAGES)
    chunks_before = backend.retriever.store.count()
    status, lines = upload(client, url, "Zephyrine lease.pdf", pdf.read_bytes())
    assert status == 200 and "done" in lines[-1], lines
    stages = [line.get("stage") for line in lines[:-1]]
    for stage in ("read", "chunk", "embed", "write", "index"):
        assert stage in stages, stages
    upload_id = lines[-1]["upload_id"]
    assert (
        lines[-1]["pages"] == 2 and "Added “Zephyrine lease.pdf” (2 pages" in lines[-1]["message"]
    )
    kept = served.settings.data_dir / "uploads" / upload_id / "Zephyrine lease.pdf"
    assert kept.read_bytes() == pdf.read_bytes()
    assert backend.retriever.store.count() == chunks_before + lines[-1]["chunks"]
    # The same file again is the same document: nothing embedded twice.
    again = upload(client, url, "Zephyrine lease.pdf", pdf.read_bytes())[1][-1]
    assert "already in the index" in again["message"]
    assert backend.retriever.store.count() == chunks_before + lines[-1]["chunks"]

    # The next question retrieves it; the answer quotes its page-2 sentence.
    found = backend.retriever.retrieve(QUESTION, k=5).passages
    marker = next(i for i, p in enumerate(found, 1) if p.document_id.startswith("upload/"))
    assert found[marker - 1].page == 1 and found[marker - 1].pages == "1-2"
    fake.script = Script(answer=f"{NOTICE} [{marker}]")
    message = ask(client, url, QUESTION, k=5)
    assert 'data-verdict="supported"' in chat_texts(message)[-1]
    sources = message["output"]["data"][1]
    # The cited sentence is on page 2 (the chunk begins on page 1): page 2 is shown.
    assert f'<img src="pages/{upload_id}/2.png"' in sources
    assert f'href="files/{upload_id}#page=2"' in sources and 'data-page="1"' not in sources
    assert 'class="page-mark" style="left:' in sources  # the span is marked on the image

    image = client.get(url + f"pages/{upload_id}/2.png")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    cached = served.settings.data_dir / "page-images" / upload_id / "2.png"
    assert cached.read_bytes() == image.content
    assert client.get(url + f"pages/{upload_id}/1.png").content != image.content
    assert client.get(url + f"pages/{upload_id}/3.png").status_code == 404
    assert client.get(url + "pages/not-an-id/1.png").status_code == 404
    original = client.get(url + f"files/{upload_id}")
    assert original.status_code == 200 and original.content == pdf.read_bytes()
    assert original.headers["content-type"] == "application/pdf"
    anonymous = httpx.Client(timeout=30)
    for path in (f"pages/{upload_id}/2.png", f"files/{upload_id}", "documents"):
        assert anonymous.get(url + path).status_code == 401, path
    refused = anonymous.post(
        url + "documents",
        params={"name": "x.txt"},
        content=b"text",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert refused.status_code == 401


def test_a_refused_file_leaves_nothing_indexed_and_no_file(served: Served, tmp_path) -> None:
    client, url, backend = _signed_in(served.url), served.url, served.backend
    bm25 = backend.retriever.bm25
    chunks_before = backend.retriever.store.count()
    left_before = _uploads_left(served.settings)
    encrypted = text_pdf(tmp_path / "locked.pdf", PAGES, password="secret")
    cases = {
        "locked.pdf": (encrypted.read_bytes(), "encrypted (password-protected)"),
        "broken.pdf": (b"%PDF-1.7\nnot really a pdf", "not a readable PDF"),
        "blank.txt": (b"   \n", "empty file"),
        "notes.docx": (b"PK\x03\x04 not a zip", "not a readable .docx"),
    }
    for name, (body, reason) in cases.items():
        status, lines = upload(client, url, name, body)
        assert status == 200 and "error" in lines[-1], (name, lines)
        assert reason in lines[-1]["error"] and "Nothing of it was indexed" in lines[-1]["error"]
    assert backend.retriever.store.count() == chunks_before
    assert backend.retriever.bm25 is bm25  # the keyword index was not rebuilt
    assert _uploads_left(served.settings) == left_before  # no stray file, partial or whole


def test_a_wrong_type_and_a_too_big_file_are_refused_before_they_are_read(
    served: Served,
) -> None:
    client, url = _signed_in(served.url), served.url
    left_before = _uploads_left(served.settings)
    status, lines = upload(client, url, "tool.exe", b"MZ")
    assert status == 415 and "not a type the chat takes" in lines[0]["error"]
    status, lines = upload(client, url, "big.pdf", b"x" * (MAX_BYTES + 1))
    assert status == 413 and "the chat takes files up to" in lines[0]["error"]

    def drip() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(MAX_BYTES // 10_000 + 2):
            yield b"y" * 10_000

    status, lines = upload(client, url, "big.txt", drip())
    assert status == 413, lines
    text = client.post(url + "documents", params={"name": "a.txt"}, content=b"hello")
    assert text.status_code == 415  # not sent as the page sends it (a cross-site form)
    # Gradio's generic route, and any multipart body, are refused as before.
    multipart = client.post(url + "documents?name=a.txt", files={"file": ("a.txt", b"hello")})
    assert multipart.status_code == 403 and multipart.text == UPLOADS_REFUSED
    gradio = client.post(url + "gradio_api/upload", files={"files": ("a.pdf", b"%PDF")})
    assert gradio.status_code == 403
    assert _uploads_left(served.settings) == left_before


def test_sources_show_before_the_answer_and_a_failure_takes_them_off(
    sample_index, embedder, fake: FakeLLM, tmp_path: Path
) -> None:
    from legalrag.store.chroma import make_client

    settings, _ = sample_index
    settings = chat_settings(
        settings.model_copy(update={"data_dir": _copy_index(sample_index, tmp_path)}),
        llm_url=fake.url,
        auth=f"{USER}:{PASSWORD}",
        secret="upload-test-secret-" + "u" * 32,
        audit_log=tmp_path / "audit.jsonl",
    )
    backend = ChatBackend(settings, embedder=embedder)
    fake.script = Script(answer="A Texas landlord must refund the deposit within 30 days [1].")
    question = "How many days does a Texas landlord have to refund a security deposit?"
    steps = list(ChatTurns(backend).run(question, [], None, None, None, 5, True, USER))
    early = next(i for i, s in enumerate(steps) if isinstance(s.sources, str))
    assert EARLY_NOTE in steps[early].sources and 'id="src-1-1"' in steps[early].sources
    # Shown before the model's first word reached the chat.
    assert all("Texas landlord must" not in str(m["content"]) for m in steps[early].chat)
    assert EARLY_NOTE not in steps[-1].sources and "cited for:" in steps[-1].sources

    earlier = steps[-1].sources
    make_client(settings.store).delete_collection(settings.collection)  # the index goes away
    failed = list(
        ChatTurns(backend).run(question, steps[-1].chat, earlier, None, None, 5, True, USER)
    )
    final = failed[-1]
    assert "chat-error" in final.chat[-1]["content"]
    assert final.sources.startswith('<details class="turn turn-failed" id="turn-2" open>')
    assert "This question failed" in final.sources
    assert '<details class="turn" id="turn-1">' in final.sources  # folded below, not on top
    assert final.export == ""
