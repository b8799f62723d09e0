"""Citation support judged by the reasoning model, instead of the offline score."""

from __future__ import annotations

from typing import TYPE_CHECKING

from legalrag.app.citations import lexical_support, numbers_in, strip_markers
from legalrag.app.prompting import load_template
from legalrag.app.reranking import verdict_probability

if TYPE_CHECKING:
    from legalrag.app.generation import OpenAICompatibleGenerator


class JudgeSupport:
    """A support scorer that asks the reasoning model (prompts/support.j2).

    The number rule of the offline scorer still applies first: a claim whose
    numbers are not in the passage is unsupported whatever the judge says. A
    judgement that names neither word falls back to the offline score.
    """

    def __init__(self, generator: OpenAICompatibleGenerator, max_tokens: int = 1024) -> None:
        self._generator = generator
        self._max_tokens = max_tokens

    def __call__(self, sentence: str, passage: str) -> float:
        """P(supported) from the judge's final true/false."""
        claim = strip_markers(sentence)
        if not numbers_in(claim) <= numbers_in(passage):
            return 0.0
        prompt = load_template("support.j2").render(claim=claim, passage=passage)
        reply = self._generator.complete(prompt, max_tokens=self._max_tokens, logprobs=5)
        probability = verdict_probability(reply.text, reply.logprobs)
        return lexical_support(claim, passage) if probability is None else probability
