"""The answer engine: retrieve, gate, prompt, generate, verify.

The relevance gate answers with the refusal sentence (:data:`REFUSAL`) without
calling the model; everything the model says is verified against the sources it
was given before it is shown as an answer, by the support check the engine is
given (:func:`legalrag.factory.make_support_checker`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from legalrag.app.citations import SupportScorer, verify_citations
from legalrag.app.generation import (
    AnswerText,
    Event,
    Finished,
    GenerationRequest,
    Generator,
    Reasoning,
)
from legalrag.app.prompting import REFUSAL, render_answer_prompt, template_version
from legalrag.app.retrieval import Filters, RetrievedPassage

if TYPE_CHECKING:
    from legalrag.app.retrieval import Retriever
    from legalrag.app.support_check import SupportChecker
    from legalrag.settings import Settings

TRUNCATED_BEFORE_ANSWER = (
    "The model ran out of tokens before it began the answer (LEGALRAG_LLM_MAX_TOKENS)."
)


@dataclass
class Answer:
    """Everything `legalrag ask --json` prints."""

    question: str
    answer: str
    reasoning: str = ""
    refused: bool = False
    truncated: bool = False
    citations: list[dict[str, Any]] = field(default_factory=list)
    unsupported_sentences: list[str] = field(default_factory=list)
    misgrounded_sentences: list[str] = field(default_factory=list)
    quotes_not_found: list[str] = field(default_factory=list)
    invalid_markers: list[int] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    model: str = ""
    prompt_version: str = ""
    filters: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for --json and the audit log."""
        return asdict(self)


def _sources(passages: list[RetrievedPassage]) -> list[dict[str, Any]]:
    return [
        {
            "marker": n,
            "id": p.id,
            "document_id": p.document_id,
            "title": p.title,
            "url": p.url,
            "jurisdiction": p.jurisdiction,
            "created": p.created,
            "text": p.text,
            "score": p.score,
            "start": p.start,
            "end": p.end,
            "stages": None if p.stages is None else asdict(p.stages),
        }
        for n, p in enumerate(passages, start=1)
    ]


def _ms(since: float) -> float:
    return round(1000 * (time.perf_counter() - since), 1)


class AnswerEngine:
    """Answers questions from one index with one generator and one support check."""

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever,
        generator: Generator,
        support: SupportChecker | None = None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.generator = generator
        if support is None:
            # Transitional (issue 13): until every edge builds the engine with
            # legalrag.factory.make_engine, which passes the checker; then required.
            from legalrag.factory import make_support_checker

            support = make_support_checker(settings, retriever.embedder, generator)
        self._support = support

    def answer(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        k: int | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> Answer:
        """Answer ``question``; ``on_event`` sees reasoning and answer as they stream."""
        started = time.perf_counter()
        retrieved = self.retriever.retrieve(question, k=k, filters=filters)
        result = Answer(
            question=question,
            answer="",
            model=self.generator.model_name,
            prompt_version=template_version("answer.j2"),
            filters=retrieved.filters.describe(),
            sources=_sources(retrieved.passages),
            timings={"retrieve_ms": _ms(started)},
        )
        if not retrieved.passages:  # the gate, or filters that match nothing: no model call
            result.refused = True
            result.answer = retrieved.reason or REFUSAL
            return result

        prompt = render_answer_prompt(question, retrieved.passages)
        started = time.perf_counter()
        answer_parts: list[str] = []
        reasoning_parts: list[str] = []
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
                result.truncated = event.truncated
        result.timings["generate_ms"] = _ms(started)
        result.reasoning = "".join(reasoning_parts).strip()
        raw_answer = "".join(answer_parts).strip()

        started = time.perf_counter()
        checked = verify_citations(
            raw_answer, retrieved.passages, self.support_for(raw_answer, retrieved.passages)
        )
        result.timings["verify_ms"] = _ms(started)
        result.answer = checked.answer or (TRUNCATED_BEFORE_ANSWER if result.truncated else "")
        result.refused = REFUSAL.lower() in raw_answer.lower()
        result.citations = [asdict(c) for c in checked.citations]
        result.unsupported_sentences = checked.unsupported_sentences
        result.misgrounded_sentences = checked.misgrounded_sentences
        result.quotes_not_found = checked.quotes_not_found
        result.invalid_markers = checked.invalid_markers
        return result

    def support_for(self, answer: str, passages: list[RetrievedPassage]) -> SupportScorer:
        """The support scorer for verifying ``answer`` against ``passages``."""
        return self._support(answer, passages)


def make_generator(settings: Settings) -> Generator:
    """Moved to :func:`legalrag.factory.make_generator`; kept until the CLI, the chat,
    eval and bench import it from there (issue 13), then deleted."""
    from legalrag.factory import make_generator as build

    return build(settings)
