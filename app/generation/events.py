"""What a generator is asked and what it answers: typed events, never bare strings.

A reasoning model's thinking travels in :class:`Reasoning` events, apart from the
answer's :class:`AnswerText`, so that no part of the program can show one as the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from legalrag.app.retrieval import RetrievedPassage


@dataclass(frozen=True)
class Reasoning:
    """A piece of the model's thinking."""

    text: str


@dataclass(frozen=True)
class AnswerText:
    """A piece of the answer."""

    text: str


@dataclass(frozen=True)
class Finished:
    """The end of generation; ``truncated`` when max_tokens cut it off."""

    truncated: bool
    finish_reason: str | None = None


Event = Reasoning | AnswerText | Finished


@dataclass(frozen=True)
class GenerationRequest:
    """What a generator is asked: the rendered prompt and what it was made from."""

    question: str
    sources: Sequence[RetrievedPassage]
    prompt: str


@dataclass(frozen=True)
class Completion:
    """A whole (non-streamed) reply: the answer part, and its tokens' logprobs if asked."""

    text: str
    reasoning: str
    logprobs: list[dict] | None
