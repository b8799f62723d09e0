"""Follow-up questions rewritten into standalone ones before retrieval.

Retrieval sees one question; "What about Texas?" means nothing to it. The chat
keeps earlier questions in the conversation the browser sends back, and each turn
is searched for as a standalone question, shown to the user ("Searching for: …").
Only the rewritten question reaches retrieval and the answer prompt, so an answer
can cite only the sources retrieved for it.

Two rewriters behind one protocol: the model (``prompts/rewrite.j2``), and an
offline, deterministic rewrite used without a model that can answer a plain prompt
and whenever the model's rewrite fails or is unusable. Which one a chat gets is
decided in :func:`legalrag.factory.make_rewriter`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from legalrag.app.citations import content_words
from legalrag.app.claims.text import MARKER
from legalrag.app.jurisdictions import STATES, named_jurisdictions
from legalrag.errors import GenerationError

if TYPE_CHECKING:
    from legalrag.app.generation import Generator

log = logging.getLogger(__name__)

# Openings that only make sense after an earlier question.
_CUES = (
    "and ",
    "what about",
    "how about",
    "what if",
    "and if",
    "but ",
    "also",
    "same ",
    "then ",
    "in that case",
    "what else",
)
# Words that point back at the earlier question ("it" is left out: "is it legal to…").
_BACK_REFERENCES = frozenset(["that", "this", "those", "these", "they", "them", "there", "such"])
_WORD = re.compile(r"[a-z']+")
_STATE_NAMES = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, STATES), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_NAME_BY_CODE = {code: name for name, code in STATES.items()}
_ANSWER_LINE = re.compile(r"standalone question\s*:\s*(.+)", re.IGNORECASE)
# Longer than this is a paragraph, not a question (the longest rewrite in the
# golden file is 20 words; legal questions with their facts run to about 40).
MAX_REWRITE_WORDS = 60


@dataclass(frozen=True)
class EarlierTurn:
    """A question asked before, and what was searched for then."""

    question: str
    standalone: str


EDITED = "user"
"""The method of a search text the user edited (the chat's "Search again with this"):
searched for as typed, no rewrite asked of anyone."""


@dataclass(frozen=True)
class Rewrite:
    """What to search for, and how it was found (none, offline, llm, offline-fallback,
    or :data:`EDITED`)."""

    question: str
    method: str


class QuestionRewriter(Protocol):
    """Turns a follow-up into a standalone question."""

    def rewrite(self, question: str, earlier: Sequence[EarlierTurn]) -> Rewrite:
        """The standalone question for ``question`` after ``earlier`` (oldest first)."""
        ...


def is_follow_up(question: str) -> bool:
    """True when ``question`` leans on an earlier one: a cue opening, a back-reference
    in a short question, or too few content words to search for on its own."""
    lowered = question.strip().lower()
    if lowered.startswith(_CUES):
        return True
    words = _WORD.findall(lowered)
    meaningful = content_words(_STATE_NAMES.sub(" ", question))
    if len(meaningful) <= 1:
        return True
    return len(words) <= 12 and any(word in _BACK_REFERENCES for word in words)


def offline_rewrite(question: str, earlier: Sequence[EarlierTurn]) -> str:
    """The deterministic rewrite.

    A question that stands alone is kept. A follow-up that names other states and
    little else ("What about Texas?") becomes the previous question with its states
    replaced; any other follow-up is searched for together with the previous question.
    """
    if not earlier or not is_follow_up(question):
        return question
    previous = earlier[-1].standalone
    new_states = named_jurisdictions(question)
    old_states = named_jurisdictions(previous)
    rest = content_words(_STATE_NAMES.sub(" ", question))
    if len(new_states) == 1 and old_states and new_states != old_states and len(rest) <= 2:
        name = _NAME_BY_CODE[next(iter(new_states))]
        return _STATE_NAMES.sub(name, previous)
    return f"{previous} {question}"


class OfflineRewriter:
    """The deterministic rewrite, no model."""

    def rewrite(self, question: str, earlier: Sequence[EarlierTurn]) -> Rewrite:
        """See :func:`offline_rewrite`."""
        standalone = offline_rewrite(question, earlier)
        return Rewrite(standalone, "none" if standalone == question else "offline")


class ModelRewriter:
    """The answer model rewrites follow-ups (``prompts/rewrite.j2``); offline on failure."""

    def __init__(self, generator: Generator, *, max_tokens: int, max_chars: int) -> None:
        if not generator.capabilities.complete:
            raise ValueError(f"{generator.model_name} cannot rewrite: no plain prompts")
        self.generator = generator
        self.max_tokens = max_tokens
        self.max_chars = max_chars

    def rewrite(self, question: str, earlier: Sequence[EarlierTurn]) -> Rewrite:
        """The model's standalone question for a real follow-up; the offline rule otherwise.

        A question that stands on its own (:func:`is_follow_up` false) is searched for
        as asked: a model asked to rewrite it can only make it worse (a stand-in model
        turned a paycheck question into a deposit paragraph). The reply must end in the
        "Standalone question:" line and be one question (:func:`usable_rewrite`).
        """
        if not earlier or not is_follow_up(question):
            return Rewrite(question, "none")
        from legalrag.app.prompting import load_template

        prompt = load_template("rewrite.j2").render(question=question, earlier=earlier)
        try:
            reply = self.generator.complete(prompt, max_tokens=self.max_tokens).text
        except GenerationError as exc:
            log.warning("follow-up rewrite by the model failed (%s); rewriting offline", exc)
            return Rewrite(offline_rewrite(question, earlier), "offline-fallback")
        standalone = usable_rewrite(parse_rewrite(reply), max_chars=self.max_chars)
        if standalone is None:
            log.warning("the model's rewrite was unusable; rewriting offline")
            return Rewrite(offline_rewrite(question, earlier), "offline-fallback")
        return Rewrite(standalone, "llm")


def parse_rewrite(reply: str) -> str:
    """The question after the last "Standalone question:" line; "" when there is none.

    A reply without that line is not a rewrite (its last line may be anything the
    model wrote, a paragraph of an answer), so nothing is taken from it.
    """
    found = _ANSWER_LINE.findall(reply)
    text = found[-1] if found else ""
    return text.strip().strip("\"'“”*` ").strip()


def usable_rewrite(text: str, *, max_chars: int) -> str | None:
    """``text`` when it is one plain question of sane length, else None.

    Refused: empty, longer than ``max_chars`` or :data:`MAX_REWRITE_WORDS` words,
    holding a citation marker (answer text, not a question), or more than one
    question.
    """
    words = text.split()
    if not words or len(text) > max_chars or len(words) > MAX_REWRITE_WORDS:
        return None
    if MARKER.search(text) or text.count("?") > 1:
        return None
    # Text after the question mark is a second sentence ("Is it 30 days? Yes, it is.").
    # Full stops are not counted: "Tex. Prop. Code § 92.103" is one question.
    if "?" in text and not text.endswith("?"):
        return None
    return text
