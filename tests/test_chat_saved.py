"""Saved conversations in the chat: each answered turn saved, resumed as it was shown,
renamed, deleted, exported, and another user's conversation never seen."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import docx
import gradio as gr
import pytest

from legalrag.app.chat.backend import ChatBackend
from legalrag.app.chat.handler import handler
from legalrag.app.chat.saved import GONE, SavedChats
from legalrag.app.chat.turns import ChatTurns, earlier_turns
from legalrag.app.conversations import ConversationStore
from tests.conftest import free_port
from tests.fake_llm import FakeLLM, Script

QUESTION = "How many days does a Texas landlord have to refund a security deposit?"
ANSWER = (
    "A Texas landlord must refund the security deposit within 30 days after the tenant "
    "surrenders the premises [1][42].\nThis is not legal advice."
)
MATTER = "Smith v. Jones"


@pytest.fixture(scope="module")
def backend(sample_index, embedder, fake: FakeLLM, tmp_path_factory) -> ChatBackend:
    settings, _ = sample_index
    records = tmp_path_factory.mktemp("records")
    settings = settings.model_copy(
        update={
            "llm_base_url": fake.url,
            "llm_timeout_s": 2.0,
            "llm_retries": 0,
            "audit_log": records / "audit.jsonl",
            # The sample index is shared: the saved conversations get their own file.
            "database_url": f"sqlite:///{records / 'legalrag.db'}",
        }
    )
    return ChatBackend(settings, embedder=embedder)


def _ask(backend, saved, question, *, history=(), sources="", conversation="", user="alice"):
    """One question through the page's handler: its last step's outputs."""
    ask = handler(ChatTurns(backend), saved)
    steps = list(
        ask(
            question,
            list(history),
            sources,
            "TX",
            "",
            4,
            False,
            conversation,
            MATTER,
            gr.Request(username=user),
        )
    )
    return steps[-1]


def test_an_answered_turn_is_saved_and_resumed_as_it_was_shown(
    backend: ChatBackend, fake: FakeLLM
) -> None:
    saved = SavedChats(backend)
    fake.script = Script(answer=ANSWER)
    chat, sources, export, _box, conversation, listing, title, status = _ask(
        backend, saved, QUESTION
    )
    assert conversation and title == QUESTION and "Saved in" in status
    assert listing["value"] == conversation and listing["choices"][0][1] == conversation

    resumed = saved.resume(conversation, gr.Request(username="alice"))
    chat_back, sources_back, export_back, cid, title_back, matter, said = resumed
    assert (cid, title_back, matter) == (conversation, QUESTION, MATTER)
    assert "Resumed" in said and "1 questions" in said
    # The same answer, with the same verdict marks and the same sources column.
    assert chat_back[2]["content"] == chat[-1]["content"]
    assert 'data-verdict="supported"' in chat_back[2]["content"]
    assert '<s class="cite-invalid"' in chat_back[2]["content"]
    assert sources_back == sources
    assert chat_back[1]["metadata"]["title"] == chat[1]["metadata"]["title"]
    assert export_back.split("---")[0] == export.split("---")[0]

    # A follow-up on the resumed page: the same conversation, turn 2, context kept.
    fake.script = Script(answer="A California landlord has 21 days [1].")
    assert earlier_turns(chat_back)[0].question == QUESTION
    follow = _ask(
        backend,
        saved,
        "What about California?",
        history=chat_back,
        sources=sources_back,
        conversation=conversation,
    )
    assert follow[4] == conversation and 'id="turn-2"' in follow[1]
    whole = ConversationStore.open(backend.settings).load("alice", conversation)
    assert [t.question for t in whole.turns] == [QUESTION, "What about California?"]
    assert whole.matter == MATTER and whole.turns[0].k == 4 and whole.turns[0].mode == "model"
    lines = [json.loads(x) for x in backend.settings.audit_log_path.read_text().splitlines()]
    assert [(x["user"], x["matter"]) for x in lines[-2:]] == [("alice", MATTER)] * 2

    # The whole conversation as Word, named after its matter and the day.
    shown, exported = saved.export(conversation, "docx", gr.Request(username="alice"))
    path = shown["value"]
    assert shown["visible"] is True
    day = datetime.now(UTC).date().isoformat()
    assert Path(path).name == f"legalrag-smith-v-jones-{day}.docx" and "Exported" in exported
    document = docx.Document(io.BytesIO(Path(path).read_bytes()))
    text = "\n".join(p.text for p in document.paragraphs)
    assert f"Question 1: {QUESTION}" in text and "Question 2: What about California?" in text
    assert "A Texas landlord must refund the security deposit within 30 days" in text
    verdicts = [row.cells[2].text for table in document.tables for row in table.rows]
    assert "supported" in verdicts and "invalid" in verdicts


def test_another_users_conversation_is_never_seen(backend: ChatBackend, fake: FakeLLM) -> None:
    saved = SavedChats(backend)
    fake.script = Script(answer=ANSWER)
    conversation = _ask(backend, saved, QUESTION, user="alice")[4]
    bob = gr.Request(username="bob")
    assert all(cid != conversation for _, cid in saved.refresh(bob)["choices"])
    assert any(
        cid == conversation for _, cid in saved.refresh(gr.Request(username="alice"))["choices"]
    )
    for theirs in (conversation, "f" * 32):  # Alice's, and one that never existed
        assert saved.resume(theirs, bob)[-1] == saved.resume("f" * 32, bob)[-1]
        assert GONE in saved.resume(theirs, bob)[-1]
        assert saved.rename(theirs, "Bob's now", bob)[1] == saved.rename("f" * 32, "x", bob)[1]
        assert saved.delete(theirs, bob)[3] == saved.delete("f" * 32, bob)[3]
        assert saved.export(theirs, "pdf", bob) == saved.export("f" * 32, "pdf", bob)
        assert saved.export(theirs, "pdf", bob)[0] == {
            "__type__": "update",
            "value": None,
            "visible": False,
        }
    # Bob's question on Alice's conversation id starts a conversation of his own.
    bobs = _ask(backend, saved, QUESTION, conversation=conversation, user="bob")[4]
    assert bobs and bobs != conversation
    store = ConversationStore.open(backend.settings)
    assert len(store.load("alice", conversation).turns) == 1
    assert store.load("alice", conversation).title == QUESTION
    # Alice can delete hers; the page is cleared.
    deleted = saved.delete(conversation, gr.Request(username="alice"))
    assert deleted[0] == "" and "deleted" in deleted[3] and deleted[4] == []


def test_without_a_login_one_local_user_and_a_failed_model_is_saved_as_extractive(
    backend: ChatBackend, embedder
) -> None:
    settings = backend.settings.model_copy(
        update={"llm_base_url": f"http://127.0.0.1:{free_port()}/v1", "llm_model": "m"}
    )
    down = ChatBackend(settings, embedder=embedder)
    saved = SavedChats(down)
    step = _ask(down, saved, QUESTION, user=None)
    assert step[4], step[7]
    store = ConversationStore.open(settings)
    listed = store.list("local")
    assert listed and listed[0].id == step[4]
    turn = store.load("local", step[4]).turns[0]
    assert turn.mode == "extractive_fallback"
    resumed = saved.resume(step[4], gr.Request())
    assert "here instead is the extractive answer" in resumed[0][2]["content"]
    path = saved.export(step[4], "pdf", gr.Request())[0]["value"]
    assert Path(path).name.startswith("legalrag-smith-v-jones-") and path.endswith(".pdf")
