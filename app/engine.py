"""The answer engine: retrieve, gate, prompt, generate, verify.

The relevance gate answers with the refusal sentence (:data:`REFUSAL`) without
calling the model; everything the model says is verified against the sources it
was given before it is shown as an answer, by the support check the engine is
given (:func:`legalrag.factory.make_support_checker`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from legalrag.app.answers import Answer, AnswerSource
from legalrag.app.citations import SupportScorer, verify_citations
from legalrag.app.generation import (
    AnswerText,
    Event,
    Finished,
    GenerationRequest,
    Generator,
    Reasoning,
)
from legalrag.app.prompting import render_answer_prompt, template_version
from legalrag.app.refusal import REFUSAL
from legalrag.app.retrieval import Filters, RetrievedPassage

if TYPE_CHECKING:
    from legalrag.app.retrieval import Retriever
    from legalrag.app.support_check import SupportChecker
    from legalrag.settings import Settings

TRUNCATED_BEFORE_ANSWER = (
    "The model ran out of tokens before it began the answer (LEGALRAG_LLM_MAX_TOKENS)."
)


def _ms(since: float) -> float:
    return round(1000 * (time.perf_counter() - since), 1)


class AnswerEngine:
    """Answers questions from one index with one generator and one support check."""

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever,
        generator: Generator,
        support: SupportChecker,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.generator = generator
        self._support = support

    def answer(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        k: int | None = None,
        on_event: Callable[[Event], None] | None = None,
        on_sources: Callable[[list[AnswerSource]], None] | None = None,
    ) -> Answer:
        """Answer ``question``; ``on_event`` sees reasoning and answer as they stream,
        ``on_sources`` the numbered sources as soon as retrieval has them (the API's
        first event, before the model is called)."""
        started = time.perf_counter()
        retrieved = self.retriever.retrieve(question, k=k, filters=filters)
        made: dict[str, Any] = {
            "question": question,
            "model": self.generator.model_name,
            "prompt_version": template_version("answer.j2"),
            "filters": retrieved.filters.describe(),
            "sources": AnswerSource.numbered(retrieved.passages),
            "timings": {"retrieve_ms": _ms(started)},
        }
        if on_sources is not None:
            on_sources(made["sources"])
        if not retrieved.passages:  # the gate, or filters that match nothing: no model call
            return Answer(answer=retrieved.reason or REFUSAL, refused=True, **made)

        prompt = render_answer_prompt(question, retrieved.passages)
        started = time.perf_counter()
        answer_parts: list[str] = []
        reasoning_parts: list[str] = []
        truncated = False
        request = GenerationRequest(
            question=question, sources=retrieved.passages, prompt=prompt.text
        )
        for event in self.generator.generate(request):
            if on_event is not None:
                on_event(event)
            if isinstance(event, Reasoning):
                reasoning_parts.append(event.text)
            elif isinstance(event, AnswerText):
                answer_parts.append(event.text)
            elif isinstance(event, Finished):
                truncated = event.truncated
        made["timings"]["generate_ms"] = _ms(started)
        raw_answer = "".join(answer_parts).strip()

        started = time.perf_counter()
        checked = verify_citations(
            raw_answer, retrieved.passages, self.support_for(raw_answer, retrieved.passages)
        )
        made["timings"]["verify_ms"] = _ms(started)
        findings = vars(checked) | {
            "answer": checked.answer or (TRUNCATED_BEFORE_ANSWER if truncated else "")
        }
        return Answer(
            **findings,
            reasoning="".join(reasoning_parts).strip(),
            refused=REFUSAL.lower() in raw_answer.lower(),
            truncated=truncated,
            **made,
        )

    def support_for(self, answer: str, passages: list[RetrievedPassage]) -> SupportScorer:
        """The support scorer for verifying ``answer`` against ``passages``."""
        return self._support(answer, passages)
