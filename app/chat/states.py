"""What a turn shows in each of its states: a step, an error, the audit's notices, an
answer cut short or stopped (labelled incomplete, not checked), and the turn's number.

Kept apart from :mod:`.turns` (which runs a turn) so that both the question handler
and the page's Stop and Clear buttons (:mod:`.blocks`) use the same words.
"""

from __future__ import annotations

import copy
import logging
import re
import time
from dataclasses import dataclass
from html import escape
from typing import Any

import gradio as gr

from legalrag.app.chat.options import check_history
from legalrag.app.chat.view import stack_turns
from legalrag.app.citations import strip_markers
from legalrag.errors import LegalragError

log = logging.getLogger(__name__)

WITHHELD = (
    "The answer was withheld because it could not be audited: the audit log cannot be "
    "written ({reason}). Answers are shown only once they are logged; tell your administrator."
)
NOT_AUDITED = "Not audited: this answer could not be written to the audit log ({reason})."
OFFERED = (
    "The answer model failed, so here instead is the extractive answer: sentences quoted "
    "from this question's sources, each cited and checked."
)
_TURN_ID = re.compile(r'<details class="turn" id="turn-(\d+)"')
NOT_AUDITED_TURN = "Not audited: this question could not be written to the audit log ({reason})."


def message_text(message: dict[str, Any]) -> str:
    """A chat message's text, whether its content is a string or Gradio's list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


@dataclass
class TurnOutput:
    """What one step of a turn shows (the chat as it is at that step)."""

    chat: list[dict[str, Any]]
    sources: Any
    export: Any
    textbox: Any
    saved: Any = None
    """The answered turn to save (a :class:`~legalrag.app.conversations.SavedTurn`) on
    the turn's last step; None otherwise, and never sent to the page."""

    def __post_init__(self) -> None:
        # The turn goes on changing its messages; each step keeps what it showed.
        self.chat = copy.deepcopy(self.chat)

    def for_gradio(self) -> tuple[Any, ...]:
        """In the order of the handler's outputs; ``None`` becomes Gradio's "leave it"."""
        return tuple(
            gr.skip() if value is None else value
            for value in (self.chat, self.sources, self.export, self.textbox)
        )


def error_message(message: str) -> dict[str, Any]:
    """A message of the chat saying what went wrong, in the user's words."""
    text = message[:1].upper() + message[1:]
    return {"role": "assistant", "content": f'<span class="chat-error">⚠ {escape(text)}</span>'}


def next_turn(sources_html: str | None, asked: int) -> int:
    """This turn's number: after every turn the sources column holds (its ids must be
    new) and after the questions asked; 1 once the page was cleared."""
    shown = [int(n) for n in _TURN_ID.findall(sources_html or "")]
    return max([asked, *shown]) + 1


def unaudited(
    final: TurnOutput, reason: str, *, withhold: bool, answered: bool, asked: int
) -> TurnOutput:
    """The last step of a turn whose audit line could not be written.

    ``withhold``: the answer (its reasoning, sources and export too) is taken off the
    page, even where it had begun to stream, and the page says why. Otherwise the
    answer (the last message) stays, marked as not audited.
    """
    chat = copy.deepcopy(final.chat)
    if withhold:
        return TurnOutput(
            [*chat[:asked], error_message(WITHHELD.format(reason=reason))], None, "", None
        )
    if answered:
        notice = error_message(NOT_AUDITED.format(reason=reason))["content"]
        chat[-1]["content"] = f"{chat[-1]['content']}\n\n{notice}"
    else:
        chat.append(error_message(NOT_AUDITED_TURN.format(reason=reason)))
    return TurnOutput(chat, final.sources, final.export, final.textbox)


def close_reasoning(message: dict[str, Any], started: float) -> None:
    """Fold the reasoning message: done, with how long it took."""
    metadata = message["metadata"]
    if metadata.get("status") != "done":
        metadata["status"] = "done"
        metadata["duration"] = round(time.perf_counter() - started, 1)


def incomplete(partial: str, why: str) -> str:
    """An answer cut short: its text without markers (they would look checked), labelled."""
    return (
        f'<div class="unchecked">{partial}</div>\n\n'
        f'<span class="incomplete" data-verdict="unclear">\u26a0 Incomplete, not checked: '
        f"{why}. Its citations were removed, not checked.</span>"
    )


def stopped(history: object) -> list[dict[str, Any]]:
    """The conversation after Stop: an answer still streaming is labelled incomplete and
    unchecked, its markers removed (they would look checked)."""
    chat = check_history(history)
    last = chat[-1] if chat else None
    if (
        last is not None
        and last.get("role") == "assistant"
        and not (last.get("metadata") or {}).get("title")
        and 'class="checks' not in message_text(last)
        and 'class="incomplete' not in message_text(last)
    ):
        last["content"] = incomplete(strip_markers(message_text(last)), "you stopped the answer")
    for message in chat:
        metadata = message.get("metadata") or {}
        if metadata.get("status") == "pending":
            metadata["status"] = "done"
    return chat


def describe_error(exc: Exception) -> str:
    """A user's error (:class:`LegalragError`) as its message; anything else is a bug."""
    if isinstance(exc, LegalragError):
        return str(exc)
    log.exception("internal error while answering")
    return f"internal error ({type(exc).__name__}); the details are in the server log"


def stacked(shown: TurnOutput, earlier_html: str | None) -> TurnOutput:
    """``shown`` with the earlier turns' sources folded below its own."""
    return TurnOutput(
        shown.chat, stack_turns(shown.sources, earlier_html), shown.export, None, shown.saved
    )
