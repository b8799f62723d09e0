"""The chat's server side over the sample index: turns, errors, audit, health, login."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pytest
from fastapi.testclient import TestClient

from legalrag.app.chat.auth import SESSION_COOKIE, hash_password, load_users
from legalrag.app.chat.backend import ChatBackend
from legalrag.app.chat.server import bind_notes, build_app
from legalrag.app.chat.turns import STOPPED, ChatTurns, earlier_turns, next_turn, stopped
from legalrag.settings import SettingsError, load_settings
from tests.conftest import free_port, run_cli
from tests.fake_llm import FakeLLM, Script

API_KEY = "sk-very-secret-key-123"
SECRET = "shared-by-replicas-" + "s" * 32
QUESTION = "How many days does a Texas landlord have to refund a security deposit?"
ANSWER = (
    "A Texas landlord must refund the security deposit within 30 days after the tenant "
    "surrenders the premises [1][42].\nThis is not legal advice."
)


@pytest.fixture(scope="module")
def backend(sample_index, embedder, fake: FakeLLM, tmp_path_factory) -> ChatBackend:
    settings, _ = sample_index
    audit = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    settings = settings.model_copy(
        update={
            "llm_base_url": fake.url,
            "llm_api_key": load_settings(llm_api_key=API_KEY).llm_api_key,
            "llm_timeout_s": 2.0,
            "llm_retries": 0,
            "audit_log": audit,
            "auth": load_settings(auth="lawyer:open-sesame,alice:wonderland").auth,
            "session_secret": load_settings(session_secret=SECRET).session_secret,
            "chat_update_interval_s": 0.0,  # one update per token: the streaming is seen
        }
    )
    return ChatBackend(settings, embedder=embedder)


def _turn(backend: ChatBackend, question: str, history=None, **options) -> list:
    turns = ChatTurns(backend)
    steps = list(
        turns.run(
            question,
            list(history or []),
            None,
            options.get("jurisdiction"),
            options.get("topic"),
            options.get("k"),
            options.get("show_reasoning", True),
            options.get("user", "lawyer"),
        )
    )
    assert steps, "a turn always shows something"
    return steps


def _audit_lines(backend: ChatBackend) -> list[dict]:
    path = backend.settings.audit_log_path
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_turn_streams_reasoning_then_the_checked_answer(
    backend: ChatBackend, fake: FakeLLM
) -> None:
    fake.script = Script(answer=ANSWER, reasoning="Source 1 is the Texas post.", chunk_size=5)
    steps = _turn(backend, QUESTION, jurisdiction="TX")
    chats = [step.chat for step in steps]
    # The reasoning message appears, open, before any answer text...
    first_reasoning = next(
        c for c in chats if any((m.get("metadata") or {}).get("title") == "Reasoning" for m in c)
    )
    assert first_reasoning[-1]["metadata"]["status"] == "pending"
    # ...the answer grows piece by piece, and the reasoning closes once it begins.
    partial = [
        c[-1]["content"]
        for c in chats
        if c[-1].get("role") == "assistant" and not (c[-1].get("metadata"))
    ]
    assert len({len(p) for p in partial}) > 5
    final = chats[-1]
    assert [m["role"] for m in final] == ["user", "assistant", "assistant", "assistant"]
    assert final[1]["metadata"]["title"] == f"Searching for: {QUESTION}"
    assert final[2]["metadata"]["status"] == "done"
    # Once checked, the reasoning is its path: the step links to the source it names.
    assert final[2]["metadata"]["title"] == "Reasoning"  # source 1 is cited: no flag
    assert 'class="reasoning-path"' in final[2]["content"]
    assert '<span class="step-text">Source 1 is the Texas post.</span>' in final[2]["content"]
    assert 'href="#src-1-1"' in final[2]["content"]
    shown = final[3]["content"]
    assert 'href="#cite-1-0-1"' in shown and '<s class="cite-invalid"' in shown
    assert steps[-1].sources is not None and 'id="src-1-1"' in steps[-1].sources
    assert "A Texas landlord must refund" in steps[-1].export
    # Every source of this turn came from this turn's retrieval, restricted to Texas.
    assert "Texas ·" in steps[-1].sources and "California ·" not in steps[-1].sources


def test_streamed_tokens_are_coalesced_into_few_page_updates(
    backend: ChatBackend, fake: FakeLLM
) -> None:
    """With an interval longer than the whole stream, the first token goes out at once
    and the rest in one update (or none: the checked answer replaces them); each
    Gradio update costs the page ~20 ms."""
    reasoning = "Source 1 is the Texas post."
    fake.script = Script(answer=ANSWER, reasoning=reasoning, chunk_size=2)
    per_token = _turn(backend, QUESTION, jurisdiction="TX")
    tokens = (len(ANSWER) + len(reasoning)) // 2
    assert len(per_token) > tokens  # interval 0 (this module's backend): every token

    turns = ChatTurns(backend)
    turns.settings = backend.settings.model_copy(update={"chat_update_interval_s": 30.0})
    steps = list(turns.run(QUESTION, [], None, "TX", None, None, True, "lawyer"))
    assert len(steps) <= len(per_token) - tokens + 2
    # Nothing is lost: the same reasoning and checked answer at the end.
    assert steps[-1].chat[2]["content"] == per_token[-1].chat[2]["content"]
    assert reasoning in steps[-1].chat[2]["content"]
    assert steps[-1].chat[-1]["content"] == per_token[-1].chat[-1]["content"]


def test_hidden_reasoning_is_not_shown(backend: ChatBackend, fake: FakeLLM) -> None:
    fake.script = Script(answer=ANSWER, reasoning="secret thoughts")
    final = _turn(backend, QUESTION, show_reasoning=False)[-1].chat
    assert all("secret thoughts" not in str(m["content"]) for m in final)


def test_each_answered_question_is_one_audit_line_without_secrets(
    backend: ChatBackend, fake: FakeLLM
) -> None:
    fake.script = Script(answer=ANSWER, reasoning="r")
    before = len(_audit_lines(backend)) if backend.settings.audit_log_path.exists() else 0
    _turn(backend, QUESTION, jurisdiction="TX", k=3, user="lawyer")
    lines = _audit_lines(backend)
    assert len(lines) == before + 1
    line = lines[-1]
    assert line["user"] == "lawyer" and line["question"] == QUESTION
    assert line["filters"] == {"jurisdiction": "TX"} and line["k"] == 3
    assert line["model"] == "fake-r1-distill" and line["prompt_version"] == "answer-v2"
    assert line["source_ids"] and len(line["source_ids"]) <= 3
    assert [(c["marker"], c["verdict"]) for c in line["citations"]] == [
        (1, "supported"),
        (42, "invalid"),
    ]
    assert line["citations"][0]["source_id"] == line["source_ids"][0]
    assert line["invalid_markers"] == [42]
    assert {"retrieve_ms", "generate_ms", "verify_ms", "rewrite_ms", "total_ms"} <= set(
        line["timings"]
    )
    assert line["time"].endswith("+00:00")
    text = backend.settings.audit_log_path.read_text()
    assert API_KEY not in text and "open-sesame" not in text

    result = run_cli(
        "audit",
        "tail",
        "-n",
        "1",
        "--json",
        env={"LEGALRAG_AUDIT_LOG": str(backend.settings.audit_log_path)},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == line


def test_a_follow_up_is_searched_for_as_a_standalone_question(
    backend: ChatBackend, fake: FakeLLM
) -> None:
    ca = "How long does a California landlord have to return a security deposit?"
    fake.script = Script(
        answer="A landlord has 21 days [1].", judge_answer=ca.replace("California", "Texas")
    )
    first = _turn(backend, ca)[-1].chat
    fake.requests.clear()
    second = _turn(backend, "What about Texas?", history=first)
    final = second[-1].chat
    titles = [(m.get("metadata") or {}).get("title") for m in final]
    assert titles[-2] == (
        "Searching for: How long does a Texas landlord have to return a security deposit?"
    )
    assert len(earlier_turns(final)) == 2
    # The answer prompt holds the standalone question and this turn's sources only.
    prompt = fake.requests[-1]["messages"][0]["content"]
    assert "Question: How long does a Texas landlord" in prompt
    assert "21 days" not in prompt.split("Sources:")[0]
    assert 'href="#cite-2-0-1"' in final[-1]["content"]  # links to turn 2's sources


def test_errors_and_refusals_are_shown_as_such_and_the_chat_goes_on(
    backend: ChatBackend, fake: FakeLLM, sample_index, embedder
) -> None:
    settings = backend.settings.model_copy(
        update={"llm_base_url": f"http://127.0.0.1:{free_port()}/v1", "llm_model": "m"}
    )
    down = ChatBackend(settings, embedder=embedder)
    earlier = '<details class="turn" id="turn-1" open><summary>old</summary></details>'
    steps = list(ChatTurns(down).run(QUESTION, [], earlier, None, None, None, True, "lawyer"))
    final = steps[-1].chat
    assert f"The model server at {settings.llm_base_url} is not reachable" in final[-2]["content"]
    assert "Traceback" not in final[-2]["content"]
    # The extractive answer is offered, over this question's own sources, on top.
    assert "here instead is the extractive answer" in final[-1]["content"]
    assert 'class="cite" data-verdict="supported"' in final[-1]["content"]
    assert steps[-1].sources.index('id="turn-2" open') < steps[-1].sources.index('id="turn-1"')
    assert "Texas" in steps[-1].sources and steps[-1].export.startswith(f"# {QUESTION}")
    line = _audit_lines(backend)[-1]
    assert line["error"].startswith("the model server at")

    fake.script = Script(answer=ANSWER)
    off_topic = _turn(backend, "What is the airspeed velocity of an unladen swallow?")
    assert "The retrieved sources do not address this question" in off_topic[-1].chat[-1]["content"]
    empty = _turn(backend, "   ")
    assert "the question is empty" in empty[-1].chat[-1]["content"].lower()
    again = _turn(backend, QUESTION, history=off_topic[-1].chat)  # still answering
    assert 'class="cite" data-verdict="supported"' in again[-1].chat[-1]["content"]


def test_a_model_server_down_from_the_start_still_gets_the_extractive_answer(
    backend: ChatBackend, embedder
) -> None:
    """No model named and its server down: the chat cannot even learn the model's name,
    yet each question is answered extractively with the reason, not a bare error."""
    url = f"http://127.0.0.1:{free_port()}/v1"
    settings = backend.settings.model_copy(update={"llm_base_url": url, "llm_model": None})
    down = ChatBackend(settings, embedder=embedder)
    assert down.generator_error is not None  # found down when the chat started
    for _ in range(2):
        final = list(ChatTurns(down).run(QUESTION, [], None, None, None, None, True, "lawyer"))
        chat = final[-1].chat
        assert f"The model server at {url} is not reachable" in chat[-2]["content"]
        assert "here instead is the extractive answer" in chat[-1]["content"]
        assert 'data-verdict="supported"' in chat[-1]["content"]
        assert "Texas" in final[-1].sources


def test_a_stream_cut_mid_answer_is_labelled_incomplete_and_not_checked(
    backend: ChatBackend, fake: FakeLLM
) -> None:
    fake.script = Script(
        answer=ANSWER, reasoning="Texas.", stream_error="engine died", error_after=3, chunk_size=8
    )
    final = _turn(backend, QUESTION)[-1].chat
    cut = next(m["content"] for m in final if 'class="unchecked"' in str(m["content"]))
    assert "A Texas landlord m" in cut and "[1]" not in cut  # no marker that looks checked
    assert "Incomplete, not checked" in cut and 'class="checks' not in cut
    assert "here instead is the extractive answer" in final[-1]["content"]


def test_stop_labels_a_streaming_answer_and_clear_restarts_the_numbering() -> None:
    streaming = [
        {"role": "user", "content": "q"},
        {
            "role": "assistant",
            "content": "",
            "metadata": {"title": "Reasoning", "status": "pending"},
        },
        {"role": "assistant", "content": "A landlord must refund [1]"},
    ]
    after = stopped(streaming)
    assert "Incomplete, not checked" in after[-1]["content"] and "[1]" not in after[-1]["content"]
    assert after[1]["metadata"]["status"] == "done"
    done = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": '<span class="checks">x</span>'},
    ]
    assert stopped(done) == done  # a checked answer is left as it is
    shown = '<details class="turn" id="turn-3" open></details><details class="turn" id="turn-1">'
    assert next_turn(shown, 1) == 4  # ids stay unique
    assert next_turn(None, 0) == 1 and next_turn("<p>placeholder</p>", 0) == 1  # after Clear


def test_a_turn_stopped_while_streaming_is_audited_as_stopped(
    backend: ChatBackend, fake: FakeLLM
) -> None:
    fake.script = Script(answer=ANSWER, reasoning="Texas.", delay_s=0.05)
    steps = ChatTurns(backend).run(QUESTION, [], None, None, None, None, True, "lawyer")
    for step in steps:  # until the answer streams, then Stop (Gradio closes the generator)
        if step.chat and step.chat[-1].get("content", "").startswith("A Texas"):
            break
    else:
        pytest.fail("the answer never streamed")
    steps.close()
    line = _audit_lines(backend)[-1]
    assert line["question"] == QUESTION and line["user"] == "lawyer"
    assert line["error"] == STOPPED and line["answer"] == "" and line["citations"] == []


def test_an_extractive_answer_with_nothing_to_quote_is_a_refusal() -> None:
    from legalrag.app.generation import AnswerText, ExtractiveGenerator, GenerationRequest
    from legalrag.app.refusal import REFUSAL
    from legalrag.app.retrieval import RetrievedPassage

    question_half = RetrievedPassage(
        id="c",
        document_id="d",
        text="Title: Laid off in Texas\nQuestion: My employer says my final check comes later. "
        "Can they withhold it like that for weeks?",
        score=0.03,
    )
    request = GenerationRequest(
        question="Can my employer withhold my final paycheck?", sources=[question_half], prompt=""
    )
    text = "".join(
        e.text for e in ExtractiveGenerator().generate(request) if isinstance(e, AnswerText)
    )
    assert text == REFUSAL


def test_extractive_quotes_from_several_states_say_whose_rule_each_is() -> None:
    from legalrag.app.citations import verify_citations
    from legalrag.app.generation import AnswerText, ExtractiveGenerator, GenerationRequest
    from legalrag.app.retrieval import RetrievedPassage

    ny, ca = (
        RetrievedPassage(
            id=code,
            document_id=code,
            text=f"In {name} the landlord must return the deposit within {days} days.",
            score=0.03,
            jurisdiction=code,
        )
        for code, name, days in (("NY", "New York", 14), ("CA", "California", 21))
    )
    request = GenerationRequest(
        question="How long may a California landlord keep a deposit?", sources=[ny, ca], prompt=""
    )
    text = "".join(
        e.text for e in ExtractiveGenerator().generate(request) if isinstance(e, AnswerText)
    )
    assert '- From a New York source: "In New York' in text
    assert '- From a California source: "In California' in text
    checked = verify_citations(text, [ny, ca])
    assert {c.verdict for c in checked.citations} == {"supported"}


def test_healthz_reports_a_real_retrieval_without_login(backend: ChatBackend) -> None:
    client = TestClient(build_app(backend.settings, backend).app)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["chunks"] > 600
    assert body["probe"]["passages"] == 1
    assert body["generator"] == {
        "kind": "openai-compatible",
        "model": "fake-r1-distill",
        "ready": True,
    }
    assert body["prompt_version"] == "answer-v2"
    assert API_KEY not in response.text and "open-sesame" not in response.text


def test_healthz_is_503_when_the_index_is_gone(tmp_path: Path, embedder, sample_index) -> None:
    from legalrag.ingest.records import SourceDocument
    from legalrag.ingest.run import ingest_items
    from legalrag.store.chroma import make_client

    settings = load_settings(data_dir=tmp_path / "data", health_cache_s=0)
    doc = SourceDocument(
        document_id="d1", text="A landlord must return a security deposit.", source="t", title="t"
    )
    ingest_items(settings, [doc], quiet=True)
    backend = ChatBackend(settings, embedder=embedder)
    client = TestClient(build_app(settings, backend).app)
    assert client.get("/healthz").status_code == 200
    make_client(settings.store).delete_collection(settings.collection)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable" and "index" in response.json()["reason"]


def test_login_is_a_signed_cookie_that_any_replica_with_the_secret_accepts(
    backend: ChatBackend,
) -> None:
    first = TestClient(build_app(backend.settings, backend).app, follow_redirects=False)
    assert first.get("/").headers["location"].endswith("login")
    assert first.get("/gradio_api/info").status_code == 401
    refused = first.post("/login", data={"username": "lawyer", "password": "wrong"})
    assert refused.status_code == 401 and "Wrong user name or password" in refused.text
    accepted = first.post("/login", data={"username": "lawyer", "password": "open-sesame"})
    assert accepted.status_code == 303
    cookie = accepted.cookies[SESSION_COOKIE]
    assert first.get("/").status_code == 200

    # Another replica: its own process state, the same shared secret.
    replica = TestClient(build_app(backend.settings, backend).app, follow_redirects=False)
    replica.cookies.set(SESSION_COOKIE, cookie)
    assert replica.get("/").status_code == 200
    assert replica.get("/gradio_api/info").status_code == 200
    # A server with another secret does not trust it.
    other = backend.settings.model_copy(
        update={"session_secret": load_settings(session_secret="another" * 8).session_secret}
    )
    stranger = TestClient(build_app(other, backend).app, follow_redirects=False)
    stranger.cookies.set(SESSION_COOKIE, cookie)
    assert stranger.get("/").status_code == 303
    assert first.get("/logout").status_code == 303
    assert first.get("/").status_code == 303
    # Signing out revoked the session on every replica sharing the data folder.
    replica.cookies.set(SESSION_COOKIE, cookie)
    assert replica.get("/").status_code == 303
    assert replica.get("/gradio_api/info").status_code == 401


def test_users_come_from_a_hash_file_or_inline_pairs(tmp_path: Path) -> None:
    users_file = tmp_path / "users"
    users_file.write_text(f"# lawyers\nalice:{hash_password('correct horse')}\n\n")
    users = load_users(str(users_file))
    assert users is not None and users.verify("alice", "correct horse")
    assert not users.verify("alice", "wrong") and not users.verify("bob", "correct horse")
    inline = load_users("a:1, b:two:pa/rts")
    assert inline is not None and inline.verify("b", "two:pa/rts") and not inline.verify("a", "2")
    assert load_users(None) is None and load_users("") is None
    users_file.write_text("alice:plaintext\n")
    with pytest.raises(SettingsError, match="users:1: expected user:bcrypt-hash"):
        load_users(str(users_file))
    with pytest.raises(SettingsError, match="does not exist"):
        load_users(str(tmp_path / "missing" / "users"))
    with pytest.raises(SettingsError, match="user:password pairs"):
        load_users("just-a-word")


def test_bind_notes_say_who_can_reach_the_chat() -> None:
    local = bind_notes(load_settings(), None, False)
    assert local == [
        "no login configured (LEGALRAG_AUTH): listening on 127.0.0.1 only, so only this "
        "machine can use the chat"
    ]
    exposed = bind_notes(load_settings(chat_host="0.0.0.0"), None, False)
    assert exposed[0].startswith("WARNING: listening on 0.0.0.0 WITHOUT a login")
    users = load_users("a:b")
    notes = bind_notes(load_settings(chat_host="0.0.0.0"), users, False)
    assert notes[0].startswith("login required (1 users")
    assert "LEGALRAG_SESSION_SECRET" in notes[1]
    assert len(bind_notes(load_settings(), users, True)) == 1


def test_an_answer_whose_audit_line_fails_at_the_end_is_taken_off_the_page(
    backend: ChatBackend, fake: FakeLLM, embedder, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    settings = backend.settings.model_copy(update={"audit_log": logs / "audit.jsonl"})
    own = ChatBackend(settings, embedder=embedder)
    fake.script = Script(answer=ANSWER, reasoning="Source 1 is the Texas post.", chunk_size=5)
    steps = []
    for step in ChatTurns(own).run(QUESTION, [], None, "TX", None, None, True, "lawyer"):
        steps.append(step)
        if "A Texas landlord" in str(step.chat[-1]["content"]) and logs.is_dir():
            # The disk goes away while the answer streams: the log's folder is a file now.
            logs.rename(tmp_path / "logs-gone")
            logs.write_text("not a folder")
    assert any("A Texas landlord" in str(s.chat[-1]["content"]) for s in steps[:-1])
    final = steps[-1]
    assert "The answer was withheld because it could not be audited" in final.chat[-1]["content"]
    assert all("A Texas landlord" not in str(m["content"]) for m in final.chat)
    assert all((m.get("metadata") or {}).get("title") != "Reasoning" for m in final.chat)
    # Its sources (shown early, as retrieval ended) go too: a box says why there are none.
    assert "The answer was withheld" in final.sources and 'id="src-' not in final.sources
    assert final.export == ""
    assert own.audit.problem() is not None  # /healthz says so too
    logs.unlink()
    logs.mkdir()
    assert own.audit.problem() is None  # the disk is back: ready again


def test_bad_options_and_an_unwritable_audit_log_refuse_before_answering(
    backend: ChatBackend, fake: FakeLLM, embedder, tmp_path: Path
) -> None:
    fake.requests.clear()
    final = _turn(backend, QUESTION, jurisdiction="Atlantis")[-1].chat
    assert "Unknown jurisdiction 'Atlantis'" in final[-1]["content"].replace("&#x27;", "'")
    (tmp_path / "logs").write_text("a file where the folder should be")
    settings = backend.settings.model_copy(update={"audit_log": tmp_path / "logs" / "a.jsonl"})
    blocked = ChatBackend(settings, embedder=embedder)
    final = _turn(blocked, QUESTION)[-1].chat
    assert [m["role"] for m in final] == ["user", "assistant"]
    assert "withheld because it could not be audited" in final[-1]["content"]
    assert fake.requests == []  # the model was never asked


# --- the lawyer edits what is searched for (issue 16) ----------------------------------

CA_DEPOSIT = "How long does a California landlord have to return a security deposit?"
TX_DEPOSIT = "How long does a Texas landlord have to return a security deposit?"
# The model's rewrite of "What about Texas?", usable but wrong: another subject.
WRONG_REWRITE = "Standalone question: How long does a California employer have to pay wages?"


def _own_backend(backend: ChatBackend, embedder, tmp_path: Path) -> ChatBackend:
    """This module's chat without a login (its handlers get no request), with its own
    audit log and saved conversations (in tmp_path)."""
    settings = backend.settings.model_copy(
        update={
            "auth": None,
            "audit_log": tmp_path / "audit.jsonl",
            "database_url": f"sqlite:///{tmp_path / 'legalrag.db'}",
        }
    )
    return ChatBackend(settings, embedder=embedder)


def _search_again(own: ChatBackend, saved, text: object, history: list) -> list[tuple]:
    """Every step the page's "Search again with this" handler yields."""
    from legalrag.app.chat.search_edit import search_again_handler

    run = search_again_handler(ChatTurns(own), saved)
    return list(run(text, history, None, None, None, None, True, "", "", None))


def _rewrite_requests(fake: FakeLLM) -> list[dict]:
    return [r for r in fake.requests if "Latest question:" in r["messages"][0]["content"]]


def _wrongly_rewritten(own: ChatBackend, fake: FakeLLM) -> list[dict]:
    """A conversation whose follow-up ("What about Texas?") the model rewrote wrongly."""
    fake.script = Script(answer="A landlord has 21 days [1].", judge_answer=WRONG_REWRITE)
    first = _turn(own, CA_DEPOSIT)[-1].chat
    return _turn(own, "What about Texas?", history=first)[-1].chat


def test_an_edited_search_is_searched_as_typed_noted_audited_and_saved(
    backend: ChatBackend, fake: FakeLLM, embedder, tmp_path: Path
) -> None:
    from legalrag.app.chat.resume import resumed
    from legalrag.app.chat.saved import SavedChats
    from legalrag.app.chat.search_edit import refilled, search_text
    from legalrag.app.conversations import owner_of

    own = _own_backend(backend, embedder, tmp_path)
    wrong = _wrongly_rewritten(own, fake)
    assert search_text(wrong) == WRONG_REWRITE.removeprefix("Standalone question: ")
    assert "rewritten (llm)" in wrong[-2]["content"]

    saved = SavedChats(own)
    fake.requests.clear()
    steps = _search_again(own, saved, f"  {TX_DEPOSIT} ", wrong)
    chat, sources, export, _, conversation = steps[-1][:5]
    # The box's text, stripped, is what was searched for and put to the model; no rewrite.
    assert _rewrite_requests(fake) == []
    prompt = fake.requests[-1]["messages"][0]["content"]
    assert f"Question: {TX_DEPOSIT}" in prompt and "employer" not in prompt
    # A new turn: the same question again, its note saying the search was the user's.
    assert chat[: len(wrong)] == wrong
    assert [m["role"] for m in chat[len(wrong) :]][:2] == ["user", "assistant"]
    assert chat[len(wrong)]["content"] == "What about Texas?"
    note = chat[len(wrong) + 1]
    assert note["metadata"]["title"] == f"Searching for: {TX_DEPOSIT}"
    assert "edited by you" in note["content"] and "rewritten" not in note["content"]
    assert 'href="#cite-3-0-1"' in chat[-1]["content"]  # turn 3's own sources
    assert steps[0][3] == ""  # the status beside the box is cleared as the search starts
    # Sources and export are this search's: what retrieval finds for the edited text.
    found = own.retriever.retrieve(TX_DEPOSIT).passages
    assert sources.index('id="turn-3"') < sources.index('id="src-3-1"')
    assert "Texas ·" in sources and f"*Searched for: {TX_DEPOSIT}*" in export
    line = _audit_lines(own)[-1]
    assert line["question"] == "What about Texas?" and line["standalone_question"] == TX_DEPOSIT
    assert line["rewrite"] == "user" and line["source_ids"] == [p.id for p in found]
    assert [entry["rewrite"] for entry in _audit_lines(own)[:2]] == ["none", "llm"]
    kept = saved.store.load(owner_of(None), conversation)
    assert [(t.question, t.standalone) for t in kept.turns] == [("What about Texas?", TX_DEPOSIT)]
    # Resumed, the conversation's box offers the edited search again.
    resumed_chat = resumed(kept, max_age_years=own.settings.chat_source_max_age_years)[0]
    box, button, _ = refilled(resumed_chat)
    assert box["value"] == TX_DEPOSIT and box["interactive"] and button["interactive"]
    assert refilled([])[0] == gr.update(value="", interactive=False)  # before any question


def test_an_empty_or_too_long_edit_is_refused_and_nothing_changes(
    backend: ChatBackend, fake: FakeLLM, embedder, tmp_path: Path
) -> None:
    from legalrag.app.chat.saved import SavedChats
    from legalrag.app.conversations import owner_of

    own = _own_backend(backend, embedder, tmp_path)
    fake.script = Script(answer="A landlord has 21 days [1].")
    history = _turn(own, CA_DEPOSIT)[-1].chat
    audited = len(_audit_lines(own))
    saved = SavedChats(own)
    fake.requests.clear()
    too_long = "x" * (own.settings.max_question_chars + 1)
    for text, why in (
        ("  \n ", "The search text is empty."),
        (None, "The search text is empty."),
        (too_long, f"The search text has {len(too_long):,} characters; the limit is"),
    ):
        (step,) = _search_again(own, saved, text, history)
        assert why in step[3] and 'role="alert"' in step[3]
        assert all(value == gr.skip() for i, value in enumerate(step) if i != 3)
    (step,) = _search_again(own, saved, TX_DEPOSIT, [])
    assert "There is no question to search again: ask one first" in step[3]
    assert fake.requests == [] and len(_audit_lines(own)) == audited
    assert saved.store.list(owner_of(None)) == []


def test_a_follow_up_after_an_edited_search_carries_the_edited_text(
    backend: ChatBackend, fake: FakeLLM, embedder, tmp_path: Path
) -> None:
    from legalrag.app.chat.saved import SavedChats

    own = _own_backend(backend, embedder, tmp_path)
    wrong = _wrongly_rewritten(own, fake)
    edited = _search_again(own, SavedChats(own), TX_DEPOSIT, wrong)[-1][0]
    assert [t.standalone for t in earlier_turns(edited)][-1] == TX_DEPOSIT
    # The model's reply is no rewrite: the offline rule builds on the edited search.
    fake.script = Script(answer="A landlord has 30 days [1].", judge_answer="No idea.")
    fake.requests.clear()
    follow_up = "And what if the tenant leaves no forwarding address?"
    final = _turn(own, follow_up, history=edited)[-1].chat
    (rewrite,) = _rewrite_requests(fake)
    assert f"3. {TX_DEPOSIT}" in rewrite["messages"][0]["content"]
    assert final[-2]["metadata"]["title"] == f"Searching for: {TX_DEPOSIT} {follow_up}"
    assert _audit_lines(own)[-1]["rewrite"] == "offline-fallback"


def test_with_users_a_turn_without_one_is_refused_not_shown_every_matter(
    backend: ChatBackend,
) -> None:
    """A request that lost its user (a sign-in revoked mid-request) reads nothing: with
    users configured, no user is never "no wall"."""
    from legalrag.errors import AccessDeniedError

    with pytest.raises(AccessDeniedError, match="sign in again"):
        backend.filters_for(None, None, None)
    final = list(ChatTurns(backend).run(QUESTION, [], None, None, None, None, True, None))[-1]
    assert "sign in again" in final.chat[-1]["content"].lower()
    assert 'class="source"' not in (final.sources or "")  # no card: nothing was read
