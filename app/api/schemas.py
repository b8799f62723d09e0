"""The API's request bodies (pydantic: FastAPI checks them and documents them at /docs)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Message(BaseModel):
    """One turn of a conversation, as OpenAI's chat API has it. A user turn may carry
    ``standalone``: what it was searched for (the ``checked`` event's
    ``standalone_question``), so a follow-up's rewrite sees it."""

    role: Literal["system", "user", "assistant"]
    content: str
    standalone: str | None = None


class Search(BaseModel):
    """What to search for and within what."""

    question: str = Field(description="The question; cleaned and checked as the CLI's are.")
    k: int | None = Field(default=None, ge=1, le=50, description="Sources; unset: retrieve_k.")
    jurisdiction: str | None = Field(default=None, description="Only this state's sources.")
    topic: str | None = Field(default=None, description="Only this topic's sources.")
    matter: str | None = Field(
        default=None, description="Only this matter's sources (one the token's user may read)."
    )


class AnswerRequest(Search):
    """A question with the conversation before it (the server keeps none)."""

    history: list[Message] = Field(default_factory=list, description="Earlier turns, oldest first.")


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat completion request: the last user message is the question."""

    model: str | None = None
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    k: int | None = Field(default=None, ge=1, le=50)
    jurisdiction: str | None = None
    topic: str | None = None
    matter: str | None = None
