"""RAGAS metrics through a judge model on any OpenAI-compatible endpoint.

ragas 0.4's current API (``ragas.metrics.collections``, one ``ascore`` per sample)
does the work: faithfulness always, and answer relevancy, context precision and
context recall when the question has a reference answer. ragas' own embeddings
(answer relevancy compares questions by cosine) are our :class:`Embedder`, so no
embedding model is downloaded and the judge endpoint need not serve embeddings.
The judge's endpoint is an :class:`~legalrag.settings.EndpointSettings` group like
the answering model's, reached with the same client options and, when no model is
named, the same "first model the server lists" (:mod:`legalrag.app.generation.endpoint`).

Without a judge every RAGAS metric is *skipped*, with the reason, never scored 0
or 1. A failure of one metric on one question (a timeout, a reply that is not the
JSON ragas asked for) is that metric's error on that question's row; the others
and the rest of the run go on.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from legalrag.app.generation.endpoint import client_options, served_models
from legalrag.errors import JudgeUnavailableError

if TYPE_CHECKING:
    from legalrag.embedding import Embedder
    from legalrag.settings import EndpointSettings, Settings

METRICS = ("faithfulness", "answer_relevancy", "context_precision", "context_recall")
NEEDS_REFERENCE = frozenset({"answer_relevancy", "context_precision", "context_recall"})
NO_JUDGE = "skipped: no judge (set --judge-url or LEGALRAG_JUDGE_BASE_URL)"


@dataclass(frozen=True)
class JudgeSample:
    """What the judge sees of one question."""

    question: str
    answer: str
    contexts: list[str]
    reference: str | None


class Judge(Protocol):
    """Scores one answered question; every metric's outcome is a value, a skip or an error."""

    model_name: str

    def score(self, sample: JudgeSample) -> dict[str, dict[str, Any]]: ...


def _not_applicable(sample: JudgeSample) -> dict[str, dict[str, Any]]:
    """The metrics that cannot be asked of this sample, and why."""
    skipped: dict[str, dict[str, Any]] = {}
    for metric in METRICS:
        if not sample.answer or not sample.contexts:
            skipped[metric] = {"skipped": "no answer from sources (refused before the model)"}
        elif metric in NEEDS_REFERENCE and not sample.reference:
            skipped[metric] = {"skipped": "no reference answer"}
    return skipped


class NoJudge:
    """No judge configured: every RAGAS metric is skipped with the reason."""

    model_name = ""

    def score(self, sample: JudgeSample) -> dict[str, dict[str, Any]]:
        """Each metric skipped."""
        return {metric: {"skipped": NO_JUDGE} for metric in METRICS}


def ragas_embeddings(embedder: Embedder) -> Any:
    """Our embedder behind ragas' modern embeddings interface (``BaseRagasEmbedding``)."""
    from ragas.embeddings.base import BaseRagasEmbedding

    class EmbedderForRagas(BaseRagasEmbedding):
        def embed_text(self, text: str, **kwargs: Any) -> list[float]:
            # Answer relevancy compares a question with questions generated from the
            # answer: both sides are queries, so both get the query instruction.
            return embedder.embed_query(text)

        async def aembed_text(self, text: str, **kwargs: Any) -> list[float]:
            return self.embed_text(text)

        def embed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
            return [embedder.embed_query(text) for text in texts]

        async def aembed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
            return self.embed_texts(texts)

    return EmbedderForRagas()


def _describe(exc: BaseException) -> str:
    """One line: the error's kind and the start of its message (instructor's are long)."""
    if type(exc).__name__ == "InstructorRetryException":  # instructor gave up re-asking
        attempts = getattr(exc, "n_attempts", "several")
        return f"malformed judge reply: not the JSON ragas asked for ({attempts} attempts)"
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message[:300]}"


class RagasJudge:
    """The four RAGAS metrics, asked of the configured judge endpoint."""

    def __init__(self, endpoint: EndpointSettings, embedder: Embedder) -> None:
        os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
        from openai import AsyncOpenAI, OpenAI
        from ragas.llms import llm_factory
        from ragas.metrics.collections import (
            AnswerRelevancy,
            ContextPrecision,
            ContextRecall,
            Faithfulness,
        )

        assert endpoint.base_url
        # ragas' requests are retried by the SDK, with its own backoff.
        connection = {**client_options(endpoint), "max_retries": endpoint.retries}
        # Asked once up front, so that a judge that is down stops the run before it
        # starts (exit 3) instead of failing every question's row.
        served = _served_models(OpenAI(**connection))
        if endpoint.model and endpoint.model not in served:
            raise JudgeUnavailableError(
                f"the judge at {endpoint.base_url} does not serve {endpoint.model!r}"
                f" (it serves: {', '.join(served)})"
            )
        self.model_name = endpoint.model or served[0]
        # One event loop for the whole run: the async client's connections belong to it.
        self._loop = asyncio.new_event_loop()
        llm = llm_factory(
            self.model_name,
            client=AsyncOpenAI(**connection),
            max_tokens=endpoint.max_tokens,
        )
        self._metrics = {
            "faithfulness": Faithfulness(llm=llm),
            "answer_relevancy": AnswerRelevancy(llm=llm, embeddings=ragas_embeddings(embedder)),
            "context_precision": ContextPrecision(llm=llm),
            "context_recall": ContextRecall(llm=llm),
        }

    def _arguments(self, metric: str, sample: JudgeSample) -> dict[str, Any]:
        question, answer, contexts = sample.question, sample.answer, sample.contexts
        return {
            "faithfulness": {
                "user_input": question,
                "response": answer,
                "retrieved_contexts": contexts,
            },
            "answer_relevancy": {"user_input": question, "response": answer},
            "context_precision": {
                "user_input": question,
                "reference": sample.reference,
                "retrieved_contexts": contexts,
            },
            "context_recall": {
                "user_input": question,
                "reference": sample.reference,
                "retrieved_contexts": contexts,
            },
        }[metric]

    def score(self, sample: JudgeSample) -> dict[str, dict[str, Any]]:
        """Each metric's value (0..1), or its skip reason, or its error."""
        outcomes = _not_applicable(sample)
        for name, metric in self._metrics.items():
            if name in outcomes:
                continue
            started = time.perf_counter()
            try:
                result = self._loop.run_until_complete(
                    metric.ascore(**self._arguments(name, sample))
                )
                value = float(result.value)
                outcomes[name] = (
                    {"error": "the judge produced no statements to score"}
                    if math.isnan(value)
                    else {"value": round(value, 4)}
                )
            except Exception as exc:  # one metric's failure is recorded, the run goes on
                outcomes[name] = {"error": _describe(exc)}
            outcomes[name]["ms"] = round(1000 * (time.perf_counter() - started), 1)
        return outcomes


def _served_models(client: Any) -> list[str]:
    try:
        models = served_models(client)
    except Exception as exc:
        raise JudgeUnavailableError(
            f"the judge at {client.base_url} did not list its models ({_describe(exc)})"
        ) from None
    if not models:
        raise JudgeUnavailableError(f"the judge at {client.base_url} lists no models")
    return models


def make_judge(settings: Settings, embedder: Embedder | None) -> Judge:
    """The RAGAS judge when an endpoint is configured, else the judge that skips."""
    if not settings.judge_base_url:
        return NoJudge()
    if embedder is None:
        from legalrag.factory import make_embedder

        embedder = make_embedder(settings)
    return RagasJudge(settings.judge, embedder)
