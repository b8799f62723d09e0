"""The one OpenAI-compatible endpoint client (vLLM serving a DeepSeek-R1 distill).

:class:`OpenAICompatibleGenerator` streams answers (:meth:`generate`) and answers
plain prompts whole, with logprobs when asked (:meth:`complete`); it is built from
an :class:`~legalrag.settings.EndpointSettings` group, not the whole settings.
:func:`client_options` and :func:`served_models` are shared with eval's RAGAS
judge, which talks to its own endpoint through ragas but finds its model the same
way: an unset model name means the first model the server lists.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from itertools import chain
from typing import TYPE_CHECKING, Any

from legalrag.app.generation import events
from legalrag.app.generation.deadline import Deadline, Watchdog
from legalrag.app.generation.protocol import Capabilities
from legalrag.app.generation.reachability import SERVERS
from legalrag.app.generation.reasoning import ReasoningSplitter
from legalrag.errors import GenerationError

if TYPE_CHECKING:
    from legalrag.settings import EndpointSettings

# What a status-200 answer of the wrong kind most often means.
_WHICH_URL = "is LEGALRAG_LLM_BASE_URL the /v1 endpoint?"


def client_options(endpoint: EndpointSettings) -> dict[str, Any]:
    """The OpenAI SDK client's arguments for ``endpoint``: base URL, key and timeout."""
    api_key = endpoint.api_key.get_secret_value() if endpoint.api_key else "none"
    return {"base_url": endpoint.base_url, "api_key": api_key, "timeout": endpoint.timeout_s}


def served_models(client: Any) -> list[str]:
    """The names of the models the server lists, in its order (the first is the default).

    Errors are the SDK's, or a ValueError for a status-200 answer that is not JSON (a web
    page: the base URL is not the API): each caller says in its own words which server
    failed.
    """
    raw = client.models.with_raw_response.list()
    kind = _content_type(raw)
    if not kind.endswith("json"):
        raise ValueError(f"answered with {kind or 'no content type'}, not JSON")
    try:
        models = raw.parse()
    except ValueError:  # JSON by its header, not by its body
        raise ValueError("answered with a model list that is not JSON") from None
    return [m.id for m in getattr(models, "data", []) or []]


def _content_type(response: Any) -> str:
    """A response's media type, lower case, without its parameters ("" when none)."""
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


class OpenAICompatibleGenerator:
    """A chat-completions endpoint (vLLM, or any OpenAI-compatible server)."""

    capabilities = Capabilities(streaming=True, complete=True, logprobs=True, remote=True)

    def __init__(self, endpoint: EndpointSettings) -> None:
        import openai

        if not endpoint.base_url:
            raise GenerationError("no LLM endpoint configured (LEGALRAG_LLM_BASE_URL)")
        self.base_url = endpoint.base_url
        self.endpoint = endpoint
        self._client = openai.OpenAI(
            **client_options(endpoint),
            max_retries=0,  # retried here, with the backoff the settings ask for
        )
        self.model_name = endpoint.model or self._first_model()

    def _first_model(self) -> str:
        deadline = Deadline(self.endpoint.timeout_s)
        try:
            names = self._call(
                lambda left: served_models(self._client.with_options(timeout=left)), deadline
            )
        except ValueError as exc:  # a web page where the model list should be
            raise GenerationError(
                f"the model server at {self.base_url} {exc}; {_WHICH_URL}"
            ) from None
        if not names:
            raise GenerationError(f"the model server at {self.base_url} lists no models")
        return names[0]

    def _call(self, make_request: Callable[[float], Any], deadline: Deadline) -> Any:
        """``make_request(seconds left)``, retried while nothing came back and time allows.

        Retried: a server that is down, or a 5xx (it generated nothing). Never retried:
        a timeout (each request was given all that was left, so the deadline is spent:
        resending the prompt would only load a server that is busy with it), a retry
        whose backoff would end past the deadline, or anything once a response began.
        """
        import openai

        attempts = self.endpoint.retries + 1
        if SERVERS.recently_down(self.base_url, self.endpoint.down_recheck_s):
            attempts = 1  # found down a moment ago: say so at once (reachability.py)
        for attempt in range(attempts):
            if deadline.passed:
                raise GenerationError(self._late(answered=False))
            try:
                response = make_request(deadline.left())
            except openai.APITimeoutError:
                raise GenerationError(self._late(answered=False)) from None
            except (openai.APIConnectionError, openai.InternalServerError) as exc:
                pause = self.endpoint.retry_backoff_s * 2**attempt
                if attempt + 1 == attempts or deadline.left() <= pause:
                    if type(exc) is openai.APIConnectionError:  # not a 5xx: nothing answered
                        SERVERS.down(self.base_url)
                    raise GenerationError(self._describe(exc)) from None
                time.sleep(pause)
                continue
            except openai.APIError as exc:
                raise GenerationError(self._describe(exc)) from None
            SERVERS.up(self.base_url)
            return response
        raise AssertionError("unreachable")

    def _late(self, *, answered: bool) -> str:
        """The one line for a call that ran out of time, before or during the answer."""
        verb = "finish" if answered else "answer"
        return (
            f"the model server at {self.base_url} did not {verb} within "
            f"{self.endpoint.timeout_s:g} s"
        )

    def _expect(self, response: Any, content_type: str, what: str) -> None:
        """A status-200 body of the wrong kind (a web page: the base URL is not the API)."""
        received = _content_type(response)
        if not received.endswith(content_type):
            raise GenerationError(
                f"the model server at {self.base_url} answered with "
                f"{received or 'no content type'}, not {what}; {_WHICH_URL}"
            )

    def _failed(self, exc: Exception, watchdog: Watchdog, deadline: Deadline) -> GenerationError:
        """The one error for a read that broke: late when the deadline cut it, else what
        broke it."""
        if watchdog.fired or deadline.passed:
            return GenerationError(self._late(answered=True))
        return GenerationError(self._describe(exc))

    def _describe(self, exc: Exception) -> str:
        import httpx
        import openai

        if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
            return self._late(answered=False)
        if isinstance(exc, openai.APIConnectionError):
            return f"the model server at {self.base_url} is not reachable"
        if isinstance(exc, httpx.TransportError):  # while streaming: the request had gone
            return f"the connection to the model server at {self.base_url} broke mid-answer"
        if isinstance(exc, openai.APIStatusError):
            return f"the model server at {self.base_url} answered HTTP {exc.status_code}"
        return f"the model server at {self.base_url} sent an unusable answer ({type(exc).__name__})"

    def _chunks(self, stream: Any, deadline: Deadline) -> Iterator[dict[str, Any]]:
        """The stream's chunks as plain JSON, read from its server-sent events.

        Read here rather than by iterating the SDK's stream: the SDK builds a
        pydantic model for every event (one per token), which was 90% of a
        stream's cost on our side (bench/answer_overhead.py: 42 ms of 46 for
        560 events; the raw lines took 4). The request, its errors and retries
        stay the SDK's. The deadline is checked at every line: a server that
        drips tokens never lets a read time out.
        """
        data: list[str] = []
        for line in chain(stream.response.iter_lines(), [""]):  # "": the last event's end
            if deadline.passed:
                raise GenerationError(self._late(answered=True))
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

    def complete(self, prompt: str, *, max_tokens: int, logprobs: int = 0) -> events.Completion:
        """One non-streamed reply (e.g. a reranking judgement), reasoning apart.

        Within one deadline (``timeout_s``) for the whole call, retries and the
        reading of the body included.
        """
        import httpx
        import openai

        def request(left: float) -> Any:
            # The streaming-response form returns once the headers are in, so that the
            # body is read below, under the watchdog, rather than inside the SDK.
            opened = self._client.chat.completions.with_streaming_response.create(
                model=self.model_name,
                messages=[{"role": "user", "content": prompt}],
                temperature=self.endpoint.temperature,
                top_p=self.endpoint.top_p,
                max_tokens=max_tokens,
                logprobs=logprobs > 0,
                top_logprobs=logprobs or None,
                timeout=left,
            )
            return opened.__enter__()  # the request is made here; closed below

        deadline = Deadline(self.endpoint.timeout_s)
        raw = self._call(request, deadline)
        watchdog = Watchdog(raw.http_response, deadline)
        try:
            self._expect(raw.http_response, "json", "JSON")
            response = raw.parse()
        except (openai.APIError, httpx.HTTPError, ValueError, TypeError) as exc:
            raise self._failed(exc, watchdog, deadline) from None
        finally:
            watchdog.stop()
            raw.close()
        if not getattr(response, "choices", None):
            raise GenerationError(self._describe(ValueError("no choices")))
        choice = response.choices[0]
        message = choice.message
        extra = message.model_extra or {}
        splitter = ReasoningSplitter()
        parts = splitter.feed(message.content or "")
        parts += splitter.finish(truncated=choice.finish_reason == "length")
        reasoning = extra.get("reasoning_content") or extra.get("reasoning") or ""
        reasoning += "".join(e.text for e in parts if isinstance(e, events.Reasoning))
        tokens = None
        if choice.logprobs is not None and choice.logprobs.content:
            tokens = [t.model_dump() for t in choice.logprobs.content]
        return events.Completion(
            text="".join(e.text for e in parts if isinstance(e, events.AnswerText)),
            reasoning=reasoning,
            logprobs=tokens,
        )

    def generate(self, request: events.GenerationRequest) -> Iterator[events.Event]:
        """Stream the answer; reasoning apart; :class:`GenerationError` on failure.

        Within one deadline (``timeout_s``) for the whole call, from the request to
        the stream's last event: a server still streaming then is cut off.
        """
        import httpx
        import openai

        deadline = Deadline(self.endpoint.timeout_s)
        stream = self._call(
            lambda left: self._client.chat.completions.create(
                model=self.model_name,
                # DeepSeek-R1: no system prompt, all instructions in the user turn.
                messages=[{"role": "user", "content": request.prompt}],
                temperature=self.endpoint.temperature,
                top_p=self.endpoint.top_p,
                max_tokens=self.endpoint.max_tokens,
                stream=True,
                timeout=left,
            ),
            deadline,
        )
        watchdog = Watchdog(stream.response, deadline)
        splitter = ReasoningSplitter()
        finish_reason: str | None = None
        try:
            self._expect(stream.response, "text/event-stream", "an event stream")
            for chunk in self._chunks(stream, deadline):
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    thought = delta.get("reasoning_content") or delta.get("reasoning")
                    if thought:
                        yield from splitter.reasoning_arrives_apart()
                        yield events.Reasoning(thought)
                    if delta.get("content"):
                        yield from splitter.feed(delta["content"])
                    if choice.get("finish_reason"):
                        finish_reason = choice["finish_reason"]
        # ValueError, TypeError, AttributeError: an event that is not JSON, or not a chunk.
        except (openai.APIError, httpx.HTTPError, ValueError, TypeError, AttributeError) as exc:
            raise self._failed(exc, watchdog, deadline) from None
        finally:
            watchdog.stop()
            stream.close()
        if watchdog.fired:  # the cut connection read as the end of an HTTP/1.0 body
            raise GenerationError(self._late(answered=True))
        truncated = finish_reason == "length"
        yield from splitter.finish(truncated=truncated)
        if finish_reason is None:
            raise GenerationError(
                f"the model server at {self.base_url} ended the stream without finishing"
            )
        yield events.Finished(truncated=truncated, finish_reason=finish_reason)
