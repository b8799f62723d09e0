"""The answer's stream as the page sees it: tokens coalesced into a few updates, and
the messages they build (the reasoning fold, the answer as it grows).

Every update Gradio sends costs the page about 20 ms (the chatbot re-renders); one per
token would keep a browser busy for a fast model. So tokens are gathered for at least
``chat_update_interval_s`` between two updates, the first token going out at once.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from html import escape
from typing import Any

from legalrag.app.chat.states import close_reasoning
from legalrag.app.generation import AnswerText, Finished, Reasoning

REASONING_TITLE = "Reasoning"


_GOING_ON = ("event", "sources")  # what the answer's worker sends before it ends


def coalesced(
    events: queue.Queue[tuple[str, Any]], interval_s: float
) -> Iterator[list[tuple[str, Any]]]:
    """Batches of ``(kind, item)`` from ``events``: each waits for one event, then takes
    what arrives until ``interval_s`` has passed since the last batch. A batch ending in
    ``"done"`` or ``"error"`` is the last (``"event"`` and ``"sources"`` go on)."""
    last = float("-inf")
    while True:
        batch = [events.get()]
        deadline = last + interval_s
        while batch[-1][0] in _GOING_ON:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(events.get(timeout=remaining))
            except queue.Empty:
                break
        yield batch
        if batch[-1][0] not in _GOING_ON:
            return
        last = time.monotonic()


class StreamedMessages:
    """The messages an answer's stream builds in ``chat``: the reasoning (when shown),
    folded once the answer begins, and the answer's text escaped as it grows."""

    def __init__(self, chat: list[dict[str, Any]], show_reasoning: bool) -> None:
        """Messages are appended to ``chat``, the conversation on the page."""
        self.chat = chat
        self.show_reasoning = show_reasoning
        self.reasoning: dict[str, Any] | None = None
        self.answer: dict[str, Any] | None = None
        self.parts: list[str] = []
        self.started = time.perf_counter()

    @property
    def raw(self) -> str:
        """The answer's text as the model wrote it so far."""
        return "".join(self.parts)

    def add(self, event: object) -> bool:
        """Apply one engine event; True when a message changed."""
        if isinstance(event, Reasoning) and self.show_reasoning:
            if self.reasoning is None:
                self.reasoning = {
                    "role": "assistant",
                    "content": "",
                    "metadata": {"title": REASONING_TITLE, "status": "pending"},
                }
                self.chat.append(self.reasoning)
            self.reasoning["content"] += event.text
            return True
        if isinstance(event, AnswerText):
            self.parts.append(event.text)
            if self.answer is None:
                self.close()
                self.answer = {"role": "assistant", "content": ""}
                self.chat.append(self.answer)
            self.answer["content"] = escape(self.raw, quote=False)
            return True
        if isinstance(event, Finished):
            self.close()
        return False

    def close(self) -> None:
        """Fold the reasoning, if any (again is harmless)."""
        if self.reasoning is not None:
            close_reasoning(self.reasoning, self.started)
