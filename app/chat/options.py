"""The inputs of one question, as the page (or Gradio's API) sent them, checked.

The page's controls send only good values, but Gradio's API takes anything. The
question handler takes its inputs unprocessed (``preprocess=False`` in
``blocks.py``), so a bad one is refused by the turn, as a message on the page,
rather than by Gradio's own checks, which print a traceback to the server log for
each bad request. The conversation must be text messages as the chat wrote them:
a file or a component in it is refused too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from legalrag.errors import QuestionError

if TYPE_CHECKING:
    from legalrag.app.chat.backend import ChatBackend
    from legalrag.settings import Settings


def k_limit(settings: Settings) -> int:
    """The most sources one question may ask for (the end of the page's slider)."""
    return max(10, settings.retrieve_k)


def check_options(
    backend: ChatBackend, jurisdiction: object, topic: object, k: object
) -> tuple[str | None, str | None, int | None]:
    """The search options as sent, checked (:class:`QuestionError` if bad).

    A filter must be one of the index's values, k a whole number within the page's
    slider. ``None`` or ``""``: no filter, the default k.
    """
    index = backend.index
    return (
        _known(jurisdiction, index.jurisdictions, "jurisdiction"),
        _known(topic, index.topics, "topic"),
        _count(k, k_limit(backend.settings)),
    )


def _known(value: object, known: dict[str, int], what: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value in known:
        return value
    held = ", ".join(known) if known else "none"
    raise QuestionError(f"unknown {what} {repr(value)[:60]}: the index holds {held}")


def _count(value: object, limit: int) -> int | None:
    if value is None or value == "":
        return None
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if whole and not isinstance(value, bool) and 1 <= value <= limit:  # type: ignore[operator]
        return int(value)  # type: ignore[arg-type]
    raise QuestionError(
        f"the number of sources must be a whole number from 1 to {limit} (got {repr(value)[:60]})"
    )


_NOT_A_CONVERSATION = "the conversation sent with the question is not one this chat wrote"


def check_question(question: object) -> str:
    """The question's text as sent (None: empty); anything but text is refused."""
    if question is None:
        return ""
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text (got {type(question).__name__})")
    return question


def check_history(history: object) -> list[dict[str, Any]]:
    """The conversation as the browser sent it: text messages of the user and the chat.

    Each message is a dict with a ``role`` (user or assistant), a ``content`` that is
    text or a list of text parts, and optional ``metadata`` (the "Searching for" note,
    the reasoning's title). Returned as sent, for the page to show again.
    """
    if history is None:
        return []
    if not isinstance(history, list):
        raise QuestionError(_NOT_A_CONVERSATION)
    for message in history:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise QuestionError(_NOT_A_CONVERSATION)
        content = message.get("content")
        parts = content if isinstance(content, list) else [content]
        for part in parts:
            text_part = isinstance(part, dict) and part.get("type", "text") == "text"
            if not (isinstance(part, str) or (text_part and isinstance(part.get("text"), str))):
                raise QuestionError(_NOT_A_CONVERSATION + " (this chat takes text only)")
        if not isinstance(message.get("metadata") or {}, dict):
            raise QuestionError(_NOT_A_CONVERSATION)
    return list(history)
