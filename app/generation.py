"""Answer generators behind one protocol, streaming, with reasoning kept apart.

Backends: an OpenAI-compatible endpoint (vLLM serving a DeepSeek-R1 distill) and,
offline, :mod:`legalrag.app.extractive`. A reasoning model's thinking reaches us
in one of three ways, and all three end up in :class:`Reasoning` events, never in
the answer: vLLM's ``reasoning_content`` / ``reasoning`` delta fields (with
``--reasoning-parser deepseek_r1``), inline ``<think>…</think>``, or only a closing
``</think>`` because the chat template already opened the tag.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any, Protocol

from legalrag.errors import GenerationError

if TYPE_CHECKING:
    from legalrag.app.retrieval import RetrievedPassage
    from legalrag.settings import Settings

OPEN_TAG, CLOSE_TAG = "<think>", "</think>"


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


class Generator(Protocol):
    """Something that answers a request, streaming."""

    model_name: str

    def generate(self, request: GenerationRequest) -> Iterator[Event]:
        """Events in order, ending with one :class:`Finished`."""
        ...


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


class OpenAICompatibleGenerator:
    """A chat-completions endpoint (vLLM, or any OpenAI-compatible server)."""

    def __init__(self, settings: Settings) -> None:
        import openai

        if not settings.llm_base_url:
            raise GenerationError("no LLM endpoint configured (LEGALRAG_LLM_BASE_URL)")
        self.base_url = settings.llm_base_url
        self.settings = settings
        api_key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "none"
        self._client = openai.OpenAI(
            base_url=settings.llm_base_url,
            api_key=api_key,
            timeout=settings.llm_timeout_s,
            max_retries=0,  # retried here, with the backoff the settings ask for
        )
        self.model_name = settings.llm_model or self._first_model()

    def _first_model(self) -> str:
        models = self._call(lambda: self._client.models.list())
        names = [m.id for m in getattr(models, "data", []) or []]
        if not names:
            raise GenerationError(f"the model server at {self.base_url} lists no models")
        return names[0]

    def _call(self, make_request: Callable[[], Any]) -> Any:
        import openai

        attempts = self.settings.llm_retries + 1
        for attempt in range(attempts):
            try:
                return make_request()
            except (openai.APIConnectionError, openai.InternalServerError) as exc:
                # Down or 5xx: nothing was generated yet, so a retry is safe.
                if attempt + 1 == attempts:
                    raise GenerationError(self._describe(exc)) from None
                time.sleep(self.settings.llm_retry_backoff_s * 2**attempt)
            except openai.APIError as exc:
                raise GenerationError(self._describe(exc)) from None
        raise AssertionError("unreachable")

    def _describe(self, exc: Exception) -> str:
        import httpx
        import openai

        if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
            return (
                f"the model server at {self.base_url} did not answer within "
                f"{self.settings.llm_timeout_s:g} s"
            )
        if isinstance(exc, openai.APIConnectionError):
            return f"the model server at {self.base_url} is not reachable"
        if isinstance(exc, httpx.TransportError):  # while streaming: the request had gone
            return f"the connection to the model server at {self.base_url} broke mid-answer"
        if isinstance(exc, openai.APIStatusError):
            return f"the model server at {self.base_url} answered HTTP {exc.status_code}"
        return f"the model server at {self.base_url} sent an unusable answer ({type(exc).__name__})"

    def _chunks(self, stream: Any) -> Iterator[dict[str, Any]]:
        """The stream's chunks as plain JSON, read from its server-sent events.

        Read here rather than by iterating the SDK's stream: the SDK builds a
        pydantic model for every event (one per token), which was 90% of a
        stream's cost on our side (bench/answer_overhead.py: 42 ms of 46 for
        560 events; the raw lines took 4). The request, its errors and retries
        stay the SDK's.
        """
        data: list[str] = []
        for line in chain(stream.response.iter_lines(), [""]):  # "": the last event's end
            if line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
                continue
            if line or not data:
                continue  # an event's other fields, a comment, or a blank line alone
            payload, data = "\n".join(data), []
            if payload.startswith("[DONE]"):
                return
            chunk = json.loads(payload)
            if not isinstance(chunk, dict):
                raise ValueError("a streamed event that is not a JSON object")
            if chunk.get("error"):
                error = chunk["error"]
                message = error.get("message") if isinstance(error, dict) else str(error)
                raise GenerationError(
                    f"the model server at {self.base_url} failed mid-answer: {message}"
                )
            yield chunk

    def complete(self, prompt: str, *, max_tokens: int, logprobs: int = 0) -> Completion:
        """One non-streamed reply (e.g. a reranking judgement), reasoning apart."""
        response = self._call(
            lambda: self._client.chat.completions.create(
                model=self.model_name,
                messages=[{"role": "user", "content": prompt}],
                temperature=self.settings.llm_temperature,
                top_p=self.settings.llm_top_p,
                max_tokens=max_tokens,
                logprobs=logprobs > 0,
                top_logprobs=logprobs or None,
            )
        )
        if not getattr(response, "choices", None):
            raise GenerationError(self._describe(ValueError("no choices")))
        choice = response.choices[0]
        message = choice.message
        extra = message.model_extra or {}
        splitter = ReasoningSplitter()
        events = splitter.feed(message.content or "")
        events += splitter.finish(truncated=choice.finish_reason == "length")
        reasoning = extra.get("reasoning_content") or extra.get("reasoning") or ""
        reasoning += "".join(e.text for e in events if isinstance(e, Reasoning))
        tokens = None
        if choice.logprobs is not None and choice.logprobs.content:
            tokens = [t.model_dump() for t in choice.logprobs.content]
        return Completion(
            text="".join(e.text for e in events if isinstance(e, AnswerText)),
            reasoning=reasoning,
            logprobs=tokens,
        )

    def generate(self, request: GenerationRequest) -> Iterator[Event]:
        """Stream the answer; reasoning apart; :class:`GenerationError` on failure."""
        import httpx
        import openai

        stream = self._call(
            lambda: self._client.chat.completions.create(
                model=self.model_name,
                # DeepSeek-R1: no system prompt, all instructions in the user turn.
                messages=[{"role": "user", "content": request.prompt}],
                temperature=self.settings.llm_temperature,
                top_p=self.settings.llm_top_p,
                max_tokens=self.settings.llm_max_tokens,
                stream=True,
            )
        )
        splitter = ReasoningSplitter()
        finish_reason: str | None = None
        try:
            for chunk in self._chunks(stream):
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    thought = delta.get("reasoning_content") or delta.get("reasoning")
                    if thought:
                        yield from splitter.reasoning_arrives_apart()
                        yield Reasoning(thought)
                    if delta.get("content"):
                        yield from splitter.feed(delta["content"])
                    if choice.get("finish_reason"):
                        finish_reason = choice["finish_reason"]
        # ValueError, TypeError, AttributeError: an event that is not JSON, or not a chunk.
        except (openai.APIError, httpx.HTTPError, ValueError, TypeError, AttributeError) as exc:
            raise GenerationError(self._describe(exc)) from None
        finally:
            stream.close()
        truncated = finish_reason == "length"
        yield from splitter.finish(truncated=truncated)
        if finish_reason is None:
            raise GenerationError(
                f"the model server at {self.base_url} ended the stream without finishing"
            )
        yield Finished(truncated=truncated, finish_reason=finish_reason)
