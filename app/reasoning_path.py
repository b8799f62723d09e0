"""The model's reasoning as a path (the ReasonGraph idea): its steps, the sources each
step mentions, and the sources the reasoning draws on that the answer does not cite.

A reasoning model (DeepSeek-R1) thinks in paragraphs and names the numbered sources of
the prompt as it goes ("Source 2 says…", "[3] is about New York", "sources 1 and 4").
Read back as an outline, a lawyer sees at a glance which source each step rests on;
and a source the reasoning leans on but the answer never cites is the case to check:
the answer may depend on it without saying so, or the model weighed and dropped it.

Only the mentions' numbers are read, by a few patterns that name a source (a bare
number is never one): "[2]", "source 2", "sources 1, 3 and 4", "sources 1-3",
"source #2", "source number 2", "the second source". A number with no such source is
kept apart (the reasoning speaks of a source that was not given). Hand-written: no
library reads citations of a prompt's own numbering, and the patterns are few.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from legalrag.app.answers import Answer

_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
_NUMBERS = r"\d{1,3}(?!\d)(?:\s*(?:,|and|or|&|to|-|\u2013)\s*\d{1,3}(?!\d))*"
_MENTIONS = re.compile(
    rf"\[(?P<bracket>{_NUMBERS})\]"
    rf"|\bsources?\s*(?:number\s*|no\.\s*|#\s*)?\[?(?P<named>{_NUMBERS})\]?"
    rf"|\bthe\s+(?P<ordinal>{'|'.join(_ORDINALS)})\s+source\b",
    re.IGNORECASE,
)
_ITEM = re.compile(r"(\d{1,3})(?:\s*(?:to|-|\u2013)\s*(\d{1,3}))?", re.IGNORECASE)
_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\[\"(])")
_MAX_RANGE = 20  # "sources 1-3" is a range; "1-900" is not a list of sources


@dataclass(frozen=True)
class ReasoningStep:
    """One step of the reasoning: a paragraph, as the model wrote it, and the numbers of
    the given sources it mentions (in order of first mention)."""

    text: str
    sources: tuple[int, ...] = ()

    @property
    def summary(self) -> str:
        """The step's first sentence, for the outline (the whole step stays readable)."""
        first = _SENTENCE_END.split(self.text, maxsplit=1)[0]
        return first if len(first) <= 240 else first[:239].rstrip() + "\u2026"


@dataclass(frozen=True)
class ReasoningPath:
    """The reasoning's steps and what they lean on.

    ``uncited``: sources the reasoning mentions that no valid citation of the answer
    names. ``unknown``: numbers mentioned as sources that were not given (e.g. "source 9"
    of five)."""

    steps: tuple[ReasoningStep, ...] = ()
    uncited: tuple[int, ...] = ()
    unknown: tuple[int, ...] = ()
    mentioned: tuple[int, ...] = ()

    @property
    def flagged(self) -> bool:
        """True when the reasoning leans on a source the answer does not cite (or on one
        that was never given)."""
        return bool(self.uncited or self.unknown)


def _mentions(text: str) -> list[list[int]]:
    """Each mention of sources in ``text``, as the numbers it names."""
    return [
        [_ORDINALS[match["ordinal"].lower()]]
        if match["ordinal"]
        else _expand(match["bracket"] or match["named"])
        for match in _MENTIONS.finditer(text)
    ]


def mentioned_numbers(text: str) -> list[int]:
    """The source numbers ``text`` names, in order of first mention, each once."""
    found: list[int] = []
    for numbers in _mentions(text):
        found.extend(n for n in numbers if n not in found)
    return found


def _expand(listed: str) -> list[int]:
    """``"1, 3 and 5-7"`` → 1, 3, 5, 6, 7 (a range only when it is short and ascending)."""
    numbers: list[int] = []
    for item in _ITEM.finditer(listed):
        start = int(item[1])
        end = int(item[2]) if item[2] else start
        if not start < end <= start + _MAX_RANGE:
            end = start  # "2-1", "1-900": not a range of sources; the second is its own
            if item[2]:
                numbers.append(start)
                start = int(item[2])
                end = start
        numbers.extend(n for n in range(start, end + 1) if n not in numbers)
    return numbers


def reasoning_path(reasoning: str, *, sources: int, cited: Iterable[int]) -> ReasoningPath:
    """The path of ``reasoning`` over ``sources`` numbered sources (1…sources), against
    the source numbers the answer's valid citations name (``cited``)."""
    steps: list[ReasoningStep] = []
    mentioned: list[int] = []
    unknown: list[int] = []
    for paragraph in _PARAGRAPHS.split(reasoning.strip()):
        text = " ".join(paragraph.split())
        if len(text.split()) < 3:  # "Hmm." "Wait." : no step of the path
            continue
        given: list[int] = []
        for numbers in _mentions(text):
            given.extend(n for n in numbers if 1 <= n <= sources and n not in given)
            # Only a mention's first number: in "sources 2 and 30 days" the 30 is no source.
            if not 1 <= numbers[0] <= sources and numbers[0] not in unknown:
                unknown.append(numbers[0])
        mentioned.extend(n for n in given if n not in mentioned)
        steps.append(ReasoningStep(text, tuple(given)))
    cited_set = set(cited)
    return ReasoningPath(
        steps=tuple(steps),
        uncited=tuple(n for n in mentioned if n not in cited_set),
        unknown=tuple(unknown),
        mentioned=tuple(mentioned),
    )


def answer_path(answer: Answer) -> ReasoningPath:
    """The path of ``answer``'s reasoning over its sources and its valid citations. A
    refusal cites nothing by design: what its reasoning weighed is not flagged uncited."""
    cited = {c.marker for c in answer.citations if c.valid}
    path = reasoning_path(answer.reasoning, sources=len(answer.sources), cited=cited)
    return replace(path, uncited=()) if answer.refused else path
