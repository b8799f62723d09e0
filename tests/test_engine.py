"""The answer engine against a real HTTP server that plays vLLM (tests/fake_llm.py)."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from legalrag.app.engine import TRUNCATED_BEFORE_ANSWER, AnswerEngine
from legalrag.app.generation import (
    EXTRACTIVE_NOTE,
    Capabilities,
    Completion,
    ExtractiveGenerator,
    GenerationError,
    GenerationRequest,
    OpenAICompatibleGenerator,
    Reasoning,
)
from legalrag.app.generation.reachability import SERVERS
from legalrag.app.prompting import REFUSAL
from legalrag.app.retrieval import Filters
from legalrag.factory import make_engine, make_rewriter, make_support_checker
from tests.conftest import free_port, make_retriever, run_cli
from tests.fake_llm import FakeLLM, Script

QUESTION = "How many days does a Texas landlord have to refund a security deposit?"
REASONING = "The user asks about Texas. Source 1 is the Texas post; it says 30 days."


@pytest.fixture
def engine(sample_index, embedder, fake: FakeLLM) -> AnswerEngine:
    settings, _ = sample_index
    settings = settings.model_copy(
        update={
            "llm_base_url": fake.url,
            "llm_timeout_s": 2.0,
            "llm_retries": 1,
            "llm_retry_backoff_s": 0.0,
        }
    )
    fake.script = Script()
    fake.requests.clear()
    retriever = make_retriever(settings, embedder)
    return make_engine(settings, retriever, OpenAICompatibleGenerator(settings.llm))


def _answer(engine: AnswerEngine, fake: FakeLLM, answer: str, **script) -> dict:
    fake.script = Script(answer=answer, reasoning=script.pop("reasoning", REASONING), **script)
    return engine.answer(QUESTION, filters=Filters(jurisdiction="TX")).as_dict()


@pytest.mark.parametrize("form", ["fields", "think", "close_only"])
def test_reasoning_is_kept_apart_in_each_form(
    engine: AnswerEngine, fake: FakeLLM, form: str
) -> None:
    answer = (
        "Texas gives the landlord 30 days to refund the deposit [1].\nThis is not legal advice."
    )
    events = []
    fake.script = Script(answer=answer, reasoning=REASONING, reasoning_as=form)
    result = engine.answer(QUESTION, filters=Filters(jurisdiction="TX"), on_event=events.append)
    assert result.answer == answer
    assert result.reasoning == REASONING
    assert "<think>" not in result.answer and "</think>" not in result.answer
    assert "".join(e.text for e in events if isinstance(e, Reasoning)).strip() == REASONING
    assert not result.truncated and result.model == "fake-r1-distill"
    assert result.prompt_version == "answer-v2"
    sent = fake.requests[-1]
    assert [m["role"] for m in sent["messages"]] == ["user"]  # no system prompt
    assert (sent["temperature"], sent["top_p"], sent["stream"]) == (0.6, 0.95, True)
    assert '<source number="1">' in sent["messages"][0]["content"]


def test_a_citation_of_a_missing_source_is_removed(engine: AnswerEngine, fake: FakeLLM) -> None:
    # Sources number at most retrieve_k (16): there is no source 99.
    claim = "Texas gives the landlord 30 days to refund the deposit [1][99]."
    result = _answer(engine, fake, claim)
    assert result["answer"] == "Texas gives the landlord 30 days to refund the deposit [1]."
    assert result["invalid_markers"] == [99]
    assert [c["valid"] for c in result["citations"]] == [True, False]


def test_a_quote_in_no_source_is_reported(engine: AnswerEngine, fake: FakeLLM) -> None:
    result = _answer(engine, fake, 'The code says "landlords may keep any deposit forever" [1].')
    assert result["quotes_not_found"] == ["landlords may keep any deposit forever"]


def test_an_uncited_sentence_is_unsupported(engine: AnswerEngine, fake: FakeLLM) -> None:
    result = _answer(
        engine,
        fake,
        "Texas gives the landlord 30 days to refund the deposit [1]. "
        "Courts always side with tenants.",
    )
    assert result["unsupported_sentences"] == ["Courts always side with tenants."]


def test_a_cited_sentence_the_source_does_not_support_is_misgrounded(
    engine: AnswerEngine, fake: FakeLLM
) -> None:
    result = _answer(engine, fake, "Texas gives the landlord 90 days to refund the deposit [1].")
    assert result["misgrounded_sentences"] == [
        "Texas gives the landlord 90 days to refund the deposit."
    ]


def test_cut_off_while_reasoning(engine: AnswerEngine, fake: FakeLLM) -> None:
    result = _answer(engine, fake, "", reasoning_as="close_only", finish_reason="length")
    assert result["truncated"] is True
    assert result["answer"] == TRUNCATED_BEFORE_ANSWER
    # The half-finished thought is reasoning, never presented as the answer.
    assert result["reasoning"] == REASONING


def test_cut_off_mid_answer(engine: AnswerEngine, fake: FakeLLM) -> None:
    result = _answer(engine, fake, "Texas gives the landlord 30 days to", finish_reason="length")
    assert result["truncated"] is True and result["answer"].startswith("Texas gives")


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (Script(status=500), "answered HTTP 500"),
        (Script(hang_s=4.0), "did not answer within 2 s"),
        (Script(garbage=True), "model server at"),
        (Script(html=True), "answered with text/html, not an event stream"),
        (
            Script(reasoning="Thinking.", stream_error="CUDA out of memory"),
            "failed mid-answer: CUDA out of memory",
        ),
        (Script(reasoning="Thinking.", broken_event=True), "sent an unusable answer"),
    ],
)
def test_server_failures_are_one_clear_error(
    engine: AnswerEngine, fake: FakeLLM, script: Script, message: str
) -> None:
    fake.script = script
    with pytest.raises(GenerationError, match=message) as caught:
        engine.answer(QUESTION, filters=Filters(jurisdiction="TX"))
    assert fake.url in str(caught.value)
    if script.status == 500:
        assert len(fake.requests) == 2  # retried once, as configured
    if script.hang_s:
        assert len(fake.requests) == 1  # a timeout spends the deadline: never resent


def test_a_server_that_is_down(sample_index) -> None:
    settings, _ = sample_index
    url = f"http://127.0.0.1:{free_port()}/v1"
    down = settings.model_copy(update={"llm_base_url": url, "llm_retries": 0})
    with pytest.raises(GenerationError, match="not reachable"):
        OpenAICompatibleGenerator(down.llm)


def test_a_server_found_down_is_tried_once_until_it_answers(sample_index, fake: FakeLLM) -> None:
    """A down server is retried in full once; later calls are told at once (one attempt),
    and the first call that reaches it again gets its retries back."""
    settings, _ = sample_index
    attempts: list[int] = []
    listener = socket.create_server(("127.0.0.1", 0))

    def hang_up() -> None:  # accepts and closes: no HTTP answer, as a server going down
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            attempts.append(1)
            conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    retrying = {"llm_model": "m", "llm_retries": 2, "llm_retry_backoff_s": 0}
    request = GenerationRequest(question="q", sources=[], prompt="p")

    def attempts_of_one_call(**update: object) -> int:
        attempts.clear()
        endpoint = settings.model_copy(update={"llm_base_url": url, **retrying, **update})
        with pytest.raises(GenerationError, match="not reachable"):
            list(OpenAICompatibleGenerator(endpoint.llm).generate(request))
        return len(attempts)

    try:
        assert [attempts_of_one_call() for _ in range(3)] == [3, 1, 1]
        assert attempts_of_one_call(llm_down_recheck_s=0) == 3  # no memory: full retries
    finally:
        listener.close()
    # An address that answers again: its mark is cleared by the first success.
    SERVERS.down(fake.url)
    fake.script = Script(answer="Fine [1].")
    up = settings.model_copy(update={"llm_base_url": fake.url, **retrying})
    assert list(OpenAICompatibleGenerator(up.llm).generate(request))
    assert not SERVERS.recently_down(fake.url, 60)


def test_the_gate_refuses_without_calling_the_model(engine: AnswerEngine, fake: FakeLLM) -> None:
    result = engine.answer("What is the boiling point of tungsten?")
    assert result.refused and result.answer == REFUSAL
    assert fake.requests == []


def test_the_offline_answerer_is_extractive_and_verifies_clean(sample_index, embedder) -> None:
    settings, _ = sample_index
    engine = make_engine(settings, make_retriever(settings, embedder), ExtractiveGenerator())
    result = engine.answer(QUESTION)
    assert result.answer.startswith(EXTRACTIVE_NOTE)
    assert result.model == "extractive" and result.citations
    assert all(c.valid and c.quote_ok for c in result.citations)
    assert not (
        result.unsupported_sentences or result.misgrounded_sentences or result.quotes_not_found
    )


def test_cli_ask_json_and_exit_codes(tmp_path, fake: FakeLLM) -> None:
    env = {"LEGALRAG_DATA_DIR": str(tmp_path / "data")}
    assert run_cli("ingest", "--limit", "40", "-q", env=env).returncode == 0
    offline = run_cli("ask", "Can my employer keep my last paycheck?", "--json", env=env)
    assert offline.returncode == 0, offline.stderr
    answer = json.loads(offline.stdout)
    assert {
        "question",
        "answer",
        "reasoning",
        "refused",
        "truncated",
        "citations",
        "sources",
        "model",
        "prompt_version",
        "timings",
    } <= set(answer)
    fake.script = Script(status=500)
    failing = run_cli(
        "ask",
        "Can my employer keep my last paycheck?",
        env={**env, "LEGALRAG_LLM_BASE_URL": fake.url, "LEGALRAG_LLM_RETRIES": "0"},
    )
    assert failing.returncode == 3
    assert fake.url in failing.stderr and "Traceback" not in failing.stderr
    empty = run_cli("ask", " ", env=env)
    assert empty.returncode == 2


def test_verification_scores_as_embedding_each_pair_would(
    engine: AnswerEngine, fake: FakeLLM, embedder
) -> None:
    from legalrag.app.citations import embedding_support, without_instructions

    sentences = [
        "A Texas landlord must refund the deposit within 30 days [1].",
        "The tenant should give a forwarding address in writing [1][2].",
    ]
    result = _answer(engine, fake, " ".join(sentences))
    assert result["citations"] and all(c["valid"] for c in result["citations"])
    each_pair = embedding_support(embedder.embed_documents)
    sources = result["sources"]
    for citation in result["citations"]:
        source = sources[citation["marker"] - 1]
        sentence = sentences[citation["sentence"]]
        expected = each_pair(sentence, without_instructions(source["text"]))
        assert citation["support"] == pytest.approx(expected, abs=1e-3)


def test_events_arrive_while_the_model_is_still_streaming(
    engine: AnswerEngine, fake: FakeLLM
) -> None:
    from legalrag.app.generation import GenerationRequest

    fake.script = Script(reasoning="r" * 40, answer="a" * 40, chunk_size=4, delay_s=0.05)
    started = time.perf_counter()
    arrivals = [
        (type(event).__name__, time.perf_counter() - started)
        for event in engine.generator.generate(
            GenerationRequest(question="q", sources=[], prompt="p")
        )
    ]
    # 22 events 50 ms apart: the first must not wait for the last.
    first_reasoning = next(at for name, at in arrivals if name == "Reasoning")
    assert first_reasoning < 0.5 < arrivals[-1][1]
    assert [name for name, _ in arrivals].count("Reasoning") == 10


class _Completes:
    """A generator of no known class that can answer plain prompts."""

    model_name = "completes"
    capabilities = Capabilities(complete=True)

    def generate(self, request):
        raise AssertionError("not asked to answer")

    def complete(self, prompt: str, *, max_tokens: int, logprobs: int = 0) -> Completion:
        return Completion(text="Standalone question: Texas deposits?", reasoning="", logprobs=None)


def test_the_factory_chooses_by_capability_not_by_class(embedder) -> None:
    from legalrag.app.citations import EmbeddingSupport, word_coverage
    from legalrag.app.followups import EarlierTurn, ModelRewriter, OfflineRewriter
    from legalrag.app.support_check import ModelSupportCheck
    from legalrag.settings import load_settings

    settings = load_settings(
        llm_base_url="http://127.0.0.1:9/v1", chat_rewrite="llm", support_check="llm"
    )
    # Without the `complete` capability: the offline rewriter and the offline check,
    # whatever the settings ask for.
    offline = ExtractiveGenerator()
    assert not offline.capabilities.complete
    with pytest.raises(GenerationError, match="no language model"):
        offline.complete("p", max_tokens=16)
    assert isinstance(make_rewriter(settings, offline), OfflineRewriter)
    assert make_support_checker(settings, None, offline)("a [1].", []) is word_coverage
    scorer = make_support_checker(settings, embedder, offline)("A sentence [1].", [])
    assert isinstance(scorer, EmbeddingSupport)
    # With it, the model's forms, for any class.
    rewriter = make_rewriter(settings, _Completes())
    assert isinstance(rewriter, ModelRewriter)
    earlier = [EarlierTurn("California deposits?", "California deposits?")]
    assert rewriter.rewrite("What about Texas?", earlier).question == "Texas deposits?"
    scorer = make_support_checker(settings, embedder, _Completes())("a [1].", [])
    assert isinstance(scorer, ModelSupportCheck)
