"""The HTTP API (app/api/) through FastAPI's TestClient, answering with the loopback model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from legalrag.app.api import build_api
from legalrag.app.api.answering import AnswerService
from legalrag.app.api.server import token_check
from legalrag.app.api.tokens import issue_token, tokens_path
from legalrag.app.chat.auth import load_users
from legalrag.errors import SettingsError
from tests.conftest import free_port, make_retriever
from tests.fake_llm import FakeLLM, Script

QUESTION = "How many days does a Texas landlord have to refund a security deposit?"
ANSWER = "A Texas landlord must refund the deposit within 30 days [1]."
REASONING = "Source 1 is the Texas post; it says 30 days."
VERDICTS = {"supported", "contradicted", "not_found", "invalid", "unclear"}


def api_settings(sample_index, url: str, **more):
    settings, _ = sample_index
    update = {
        "llm_base_url": url,
        "llm_timeout_s": 3.0,
        "llm_retries": 0,
        "chat_rewrite": "offline",
    }
    if "auth" in more:  # model_copy does not validate: the SecretStr the settings would hold
        more["auth"] = SecretStr(more["auth"])
    return settings.model_copy(update={**update, **more})


@pytest.fixture(scope="module")
def retriever(sample_index, embedder):
    return make_retriever(sample_index[0], embedder)


@pytest.fixture
def client(sample_index, retriever, fake: FakeLLM) -> TestClient:
    fake.script = Script(answer=ANSWER, reasoning=REASONING)
    fake.requests.clear()
    settings = api_settings(sample_index, fake.url)
    return TestClient(build_api(settings, AnswerService(settings, retriever)))


def events(body: str) -> list[tuple[str, dict]]:
    """Server-sent events as (name, data)."""
    found = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        found.append((lines["event"], json.loads(lines["data"])))
    return found


def test_retrieve_returns_sources_with_their_spans(client: TestClient) -> None:
    reply = client.post("/v1/retrieve", json={"question": QUESTION, "jurisdiction": "TX"})
    assert reply.status_code == 200
    sources = reply.json()["sources"]
    assert sources and all(s["jurisdiction"] == "TX" for s in sources)
    assert {"id", "text", "start", "end", "title"} <= set(sources[0])
    assert "vectors" not in sources[0]


def test_answer_streams_retrieval_reasoning_answer_then_checked(client: TestClient) -> None:
    reply = client.post("/v1/answer", json={"question": QUESTION, "jurisdiction": "TX"})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    stream = events(reply.text)
    names = [name for name, _ in stream]
    assert names[0] == "retrieval" and names[-1] == "checked"
    assert "reasoning" in names and "answer" in names
    assert names.index("reasoning") < names.index("answer")
    retrieval, checked = stream[0][1], stream[-1][1]
    assert retrieval["sources"] and retrieval["standalone_question"] == QUESTION
    text = "".join(data["text"] for name, data in stream if name == "answer")
    assert text.strip() == ANSWER
    assert "".join(d["text"] for n, d in stream if n == "reasoning") == REASONING
    assert checked["citations"]
    for citation in checked["citations"]:
        assert citation["verdict"] in VERDICTS
        assert {"reason", "source_sentence", "source_id"} <= set(citation)
    assert [s["id"] for s in checked["sources"]] == [s["id"] for s in retrieval["sources"]]


def test_a_follow_up_is_rewritten_from_the_history_sent(client: TestClient) -> None:
    history = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": ANSWER},
    ]
    reply = client.post(
        "/v1/answer", json={"question": "What about California?", "history": history}
    )
    retrieval = events(reply.text)[0][1]
    assert retrieval["rewrite"] == "offline"
    assert "California" in retrieval["standalone_question"]
    assert "deposit" in retrieval["standalone_question"]


def test_chat_completions_whole_and_streamed(client: TestClient, fake: FakeLLM) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    whole = client.post("/v1/chat/completions", json={"messages": messages, "jurisdiction": "TX"})
    assert whole.status_code == 200
    body = whole.json()
    assert body["object"] == "chat.completion"
    message = body["choices"][0]["message"]
    assert message["content"] == ANSWER and message["reasoning_content"] == REASONING
    references = body["references"]
    assert references["sources"] and references["citations"]
    assert all(c["verdict"] in VERDICTS for c in references["citations"])

    streamed = client.post(
        "/v1/chat/completions", json={"messages": messages, "stream": True, "jurisdiction": "TX"}
    )
    lines = [line[len("data: ") :] for line in streamed.text.split("\n\n") if line]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert content == ANSWER  # the checked answer, not the model's raw deltas
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["references"]["citations"] == references["citations"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"question": "   "}, 400, "the question is empty"),
        ({"question": "x" * 100_000}, 400, "LEGALRAG_MAX_QUESTION_CHARS"),
        ({"question": 42}, 422, ""),
        ({}, 422, ""),
    ],
)
def test_bad_questions_are_clear_4xx(
    client: TestClient, body: dict, status: int, message: str
) -> None:
    for path in ("/v1/retrieve", "/v1/answer"):
        reply = client.post(path, json=body)
        assert reply.status_code == status, (path, reply.text)
        assert message in reply.text
    assert client.post("/v1/chat/completions", json={"messages": []}).status_code == 422
    only_system = {"messages": [{"role": "system", "content": "be brief"}]}
    assert client.post("/v1/chat/completions", json=only_system).status_code == 400


def test_a_down_model_is_503_and_healthz_says_which_part(sample_index, retriever) -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"
    settings = api_settings(sample_index, down, llm_model="fake-r1-distill")  # no listing at start
    client = TestClient(build_api(settings, AnswerService(settings, retriever)))
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json() == {
        "status": "unavailable",
        "checks": {"store": "ok", "embedder": "ok", "model": "failing"},
    }
    assert down not in health.text  # reveals nothing
    for path, body in [
        ("/v1/answer", {"question": QUESTION}),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": QUESTION}]}),
    ]:
        reply = client.post(path, json=body)
        assert reply.status_code == 503 and "model unavailable" in reply.text
    assert client.post("/v1/retrieve", json={"question": QUESTION}).status_code == 200


def test_healthz_is_cached_and_needs_no_token(sample_index, retriever, fake: FakeLLM) -> None:
    settings = api_settings(sample_index, fake.url, health_cache_s=60.0, auth="alice:pw")
    app = build_api(settings, AnswerService(settings, retriever), token_check(settings))
    client = TestClient(app)
    for _ in range(20):
        reply = client.get("/healthz")
        assert reply.status_code == 200
        assert reply.json() == {
            "status": "ok",
            "checks": {"store": "ok", "embedder": "ok", "model": "ok"},
        }
    assert app.state.health.runs == 1
    assert "/v1/answer" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200


def test_tokens_are_checked_against_the_users(sample_index, retriever, fake: FakeLLM) -> None:
    settings = api_settings(sample_index, fake.url, auth="alice:pw,bob:pw2")
    users = load_users("alice:pw,bob:pw2")
    path = tokens_path(settings)
    alice = issue_token(path, "alice", users)
    bob = issue_token(path, "bob", users)
    assert alice not in path.read_text() and path.stat().st_mode & 0o077 == 0
    with pytest.raises(SettingsError, match="no user 'carol'"):
        issue_token(path, "carol", users)
    client = TestClient(
        build_api(settings, AnswerService(settings, retriever), token_check(settings))
    )
    body = {"question": QUESTION}
    assert client.post("/v1/retrieve", json=body).status_code == 401
    wrong = {"Authorization": "Bearer lrg_not-a-token"}
    assert client.post("/v1/retrieve", json=body, headers=wrong).status_code == 401
    good = {"Authorization": f"Bearer {alice}"}
    assert client.post("/v1/retrieve", json=body, headers=good).status_code == 200
    # bob leaves the users: his token stops working, alice's goes on.
    fewer = api_settings(sample_index, fake.url, auth="alice:pw")
    client = TestClient(build_api(fewer, AnswerService(fewer, retriever), token_check(fewer)))
    assert (
        client.post(
            "/v1/retrieve", json=body, headers={"Authorization": f"Bearer {bob}"}
        ).status_code
        == 401
    )
    assert client.post("/v1/retrieve", json=body, headers=good).status_code == 200


def test_no_auth_means_loopback_only(sample_index, fake: FakeLLM) -> None:
    assert token_check(api_settings(sample_index, fake.url)) is None
    with pytest.raises(SettingsError, match="without auth"):
        token_check(api_settings(sample_index, fake.url, api_host="0.0.0.0"))
    assert token_check(api_settings(sample_index, fake.url, api_host="0.0.0.0", auth="a:b"))


def test_auth_token_command_prints_a_token_and_keeps_its_hash(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from legalrag.cli import app

    monkeypatch.setenv("LEGALRAG_AUTH", "alice:pw")
    result = CliRunner().invoke(app, ["auth", "token", "alice", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("lrg_")
    stored = (tmp_path / "api_tokens").read_text()
    assert stored.startswith("alice:") and token not in stored
    missing = CliRunner().invoke(app, ["auth", "token", "carol", "--data-dir", str(tmp_path)])
    assert missing.exit_code == 2
