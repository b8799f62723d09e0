"""Optional reranking of fused candidates, behind a small protocol.

- :class:`CrossEncoderReranker`: a sentence-transformers ``CrossEncoder`` (no model
  ships offline, so none is configured by default).
- :class:`ReasoningReranker`: Rank1-style; the configured reasoning LLM judges each
  passage and ends with "true" or "false"; the score is
  P(true) / (P(true) + P(false)) from the final token's logprobs, or the parsed
  word (1.0 / 0.0) when the server sends no logprobs. Any
  :class:`~legalrag.app.generation.Generator` that can ``complete`` a prompt will do.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from legalrag.app.generation import Generator
    from legalrag.app.retrieval import RetrievedPassage

_VERDICT = re.compile(r"\b(true|false)\W*$", re.IGNORECASE)


class Reranker(Protocol):
    """Scores passages for a question; higher is more relevant."""

    name: str

    def scores(self, question: str, passages: Sequence[RetrievedPassage]) -> list[float]:
        """One score per passage, in the passages' order."""
        ...


class CrossEncoderReranker:
    """A sentence-transformers cross-encoder."""

    def __init__(self, model: str, device: str = "cpu") -> None:
        from sentence_transformers import CrossEncoder

        self.name = f"cross-encoder:{model}"
        self._model = CrossEncoder(model, device=device)

    def scores(self, question: str, passages: Sequence[RetrievedPassage]) -> list[float]:
        """The cross-encoder's relevance logits."""
        if not passages:
            return []
        pairs = [(question, p.text) for p in passages]
        return [float(s) for s in self._model.predict(pairs, show_progress_bar=False)]


def verdict_probability(text: str, logprobs: list[dict] | None) -> float | None:
    """P(true)/(P(true)+P(false)) at the final verdict token; the word alone without logprobs."""
    if logprobs:
        for entry in reversed(logprobs):
            token = str(entry.get("token", "")).strip().lower()
            if token not in ("true", "false"):
                continue
            alternatives = {
                str(alt.get("token", "")).strip().lower(): float(alt.get("logprob", -math.inf))
                for alt in entry.get("top_logprobs") or []
            }
            alternatives.setdefault(token, float(entry.get("logprob", 0.0)))
            p_true = math.exp(alternatives.get("true", -math.inf))
            p_false = math.exp(alternatives.get("false", -math.inf))
            if p_true + p_false > 0:
                return p_true / (p_true + p_false)
    match = _VERDICT.search(text.strip())
    if match is None:
        return None
    return 1.0 if match.group(1).lower() == "true" else 0.0


class ReasoningReranker:
    """Asks the reasoning model, passage by passage, whether it answers the question."""

    def __init__(self, generator: Generator, max_tokens: int = 1024) -> None:
        if not generator.capabilities.complete:
            raise ValueError(f"{generator.model_name} cannot rerank: no plain prompts")
        self.name = f"llm:{generator.model_name}"
        self._generator = generator
        self._max_tokens = max_tokens
        # Logprobs make the verdict a probability; without them the word decides.
        self._logprobs = 5 if generator.capabilities.logprobs else 0

    def scores(self, question: str, passages: Sequence[RetrievedPassage]) -> list[float]:
        """A probability per passage; an unparseable judgement scores 0.5 (no evidence)."""
        from legalrag.app.prompting import load_template

        template = load_template("rerank.j2")
        results = []
        for passage in passages:
            prompt = template.render(question=question, passage=passage.text)
            reply = self._generator.complete(
                prompt, max_tokens=self._max_tokens, logprobs=self._logprobs
            )
            probability = verdict_probability(reply.text, reply.logprobs)
            results.append(0.5 if probability is None else probability)
        return results
