"""Reranking: the Rank1-style LLM judge (on the fake vLLM server) and its place in retrieval;
the model's support check, which asks the same way."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from legalrag.app.generation import OpenAICompatibleGenerator
from legalrag.app.reranking import ReasoningReranker, verdict_probability
from legalrag.app.retrieval import RetrievedPassage
from tests.conftest import make_retriever
from tests.fake_llm import FakeLLM, Script

PASSAGES = [
    RetrievedPassage(id="a", document_id="a", text="Texas allows 30 days.", score=0.0),
    RetrievedPassage(id="b", document_id="b", text="Fences are shared.", score=0.0),
]


def test_verdict_probability_from_logprobs_or_the_word() -> None:
    logprobs = [
        {"token": "so", "logprob": -0.1, "top_logprobs": []},
        {
            "token": "true",
            "logprob": math.log(0.6),
            "top_logprobs": [
                {"token": "true", "logprob": math.log(0.6)},
                {"token": " false", "logprob": math.log(0.2)},
            ],
        },
    ]
    assert verdict_probability("so true", logprobs) == pytest.approx(0.75)
    assert verdict_probability("It answers it. True.", None) == 1.0
    assert verdict_probability("It does not. false", None) == 0.0
    assert verdict_probability("I cannot tell.", None) is None


def test_llm_reranker_scores_by_logprobs_and_falls_back_to_the_word(
    sample_index, fake: FakeLLM
) -> None:
    settings, _ = sample_index
    settings = settings.model_copy(update={"llm_base_url": fake.url, "llm_retries": 0})
    reranker = ReasoningReranker(OpenAICompatibleGenerator(settings.llm))
    fake.script = Script(
        answer="The passage gives the deadline. true",
        reasoning="Texas, 30 days: it answers.",
        reasoning_as="think",
        verdict_logprobs={"true": math.log(0.8), "false": math.log(0.2)},
    )
    assert reranker.scores("Texas deadline?", PASSAGES[:1]) == [pytest.approx(0.8)]
    request = fake.requests[-1]
    assert request["logprobs"] is True and request["top_logprobs"] == 5
    assert "Texas allows 30 days." in request["messages"][0]["content"]
    fake.script = Script(answer="Not about this. false", reasoning_as="none")
    assert reranker.scores("Texas deadline?", PASSAGES) == [0.0, 0.0]
    fake.script = Script(answer="Hard to say.", reasoning_as="none")
    assert reranker.scores("Texas deadline?", PASSAGES[:1]) == [0.5]


class PrefersTexas:
    """A stand-in judge for the retriever test: 1.0 for Texas passages, else 0."""

    name = "prefers-texas"

    def scores(self, question: str, passages: Sequence[RetrievedPassage]) -> list[float]:
        return [1.0 if "Texas" in p.text else 0.0 for p in passages]


def test_retriever_reorders_by_the_reranker(sample_index, embedder) -> None:
    settings, _ = sample_index
    retriever = make_retriever(settings, embedder)
    retriever.reranker = PrefersTexas()
    result = retriever.retrieve("How long does a landlord have to return a security deposit?", k=3)
    assert "Texas" in result.passages[0].text
    assert result.passages[0].stages.rerank == 1.0


def test_the_model_support_check_uses_the_model_but_numbers_stay_decisive(
    sample_index, fake: FakeLLM
) -> None:
    from legalrag.app.support_check import ModelSupportCheck

    settings, _ = sample_index
    settings = settings.model_copy(update={"llm_base_url": fake.url, "llm_retries": 0})
    check = ModelSupportCheck(OpenAICompatibleGenerator(settings.llm))
    fake.script = Script(
        answer="It does not say that. false",
        reasoning_as="none",
        verdict_logprobs={"true": math.log(0.1), "false": math.log(0.9)},
    )
    assert check("Texas allows 30 days [1].", "Texas allows 30 days.") == pytest.approx(0.1)
    sent = fake.requests[-1]["messages"][0]["content"]
    assert "Claim: Texas allows 30 days." in sent
    before = len(fake.requests)
    assert check("Texas allows 90 days [1].", "Texas allows 30 days.") == 0.0
    assert len(fake.requests) == before  # no model call needed


def test_engine_with_the_model_support_check_marks_what_it_rejects(
    sample_index, embedder, fake: FakeLLM
) -> None:
    from legalrag.app.retrieval import Filters
    from legalrag.factory import make_engine

    settings, _ = sample_index
    settings = settings.model_copy(
        update={"llm_base_url": fake.url, "llm_retries": 0, "support_check": "llm"}
    )
    engine = make_engine(
        settings, make_retriever(settings, embedder), OpenAICompatibleGenerator(settings.llm)
    )
    fake.script = Script(
        answer="A Texas landlord must refund the security deposit [1].",
        reasoning_as="none",
        judge_answer="The passage does not say this. false",
    )
    result = engine.answer("Texas security deposit refund?", filters=Filters(jurisdiction="TX"))
    assert result.misgrounded_sentences == ["A Texas landlord must refund the security deposit."]
    assert result.citations[0].support == 0.0
