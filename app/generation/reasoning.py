"""A reasoning model's thinking, kept apart from its answer in streamed content.

A DeepSeek-R1 distill's thinking reaches us in one of three ways, and all three
end up in :class:`~legalrag.app.generation.Reasoning` events, never in the answer:
vLLM's ``reasoning_content`` / ``reasoning`` delta fields (with
``--reasoning-parser deepseek_r1``), inline ``<think>…</think>``, or only a closing
``</think>`` because the chat template already opened the tag. This module handles
the two inline forms; the endpoint client reads the fields.
"""

from __future__ import annotations

from legalrag.app.generation.events import AnswerText, Event, Reasoning

OPEN_TAG, CLOSE_TAG = "<think>", "</think>"


class ReasoningSplitter:
    """Separates ``<think>`` reasoning from the answer in streamed content.

    Without tags at the start, the text is held back until ``</think>`` shows that
    it was reasoning (the R1-distill template opens the tag itself) or the stream
    ends, when it was the answer after all. A tag split across two deltas is
    handled by keeping a short tail back.
    """

    def __init__(self) -> None:
        self._mode = "start"  # start -> (reasoning | held) -> answer
        self._buffer = ""

    def feed(self, text: str) -> list[Event]:
        """Events for one more piece of content."""
        self._buffer += text
        events: list[Event] = []
        while True:
            if self._mode == "start":
                stripped = self._buffer.lstrip()
                if stripped.startswith(OPEN_TAG):
                    self._buffer = stripped[len(OPEN_TAG) :]
                    self._mode = "reasoning"
                    continue
                if OPEN_TAG.startswith(stripped):  # maybe a tag still arriving
                    return events
                self._mode = "held"
                continue
            if self._mode in ("reasoning", "held"):
                end = self._buffer.find(CLOSE_TAG)
                if end >= 0:
                    if end:
                        events.append(Reasoning(self._buffer[:end]))
                    self._buffer = self._buffer[end + len(CLOSE_TAG) :].lstrip("\n")
                    self._mode = "answer"
                    continue
                if self._mode == "reasoning":
                    keep = _partial_tag_tail(self._buffer, CLOSE_TAG)
                    if len(self._buffer) > keep:
                        events.append(Reasoning(self._buffer[: len(self._buffer) - keep]))
                        self._buffer = self._buffer[len(self._buffer) - keep :]
                return events
            if self._buffer:
                events.append(AnswerText(self._buffer))
                self._buffer = ""
            return events

    def reasoning_arrives_apart(self) -> list[Event]:
        """The server sends reasoning in its own fields: content is all answer."""
        if self._mode not in ("start", "held"):
            return []
        self._mode = "answer"
        return self.feed("")

    def finish(self, *, truncated: bool) -> list[Event]:
        """Whatever is held back, once the stream has ended."""
        rest, self._buffer = self._buffer, ""
        if not rest:
            return []
        if self._mode == "reasoning" or (self._mode == "held" and truncated):
            return [Reasoning(rest)]  # cut off while still thinking
        return [AnswerText(rest)]


def _partial_tag_tail(text: str, tag: str) -> int:
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0
