"""The FastAPI app behind ``legalrag serve``: the routes, the token check, the errors.

- ``GET /healthz``: no token; cached probes (:mod:`.health`).
- ``POST /v1/retrieve``: the sources for a question.
- ``POST /v1/answer``: server-sent events ``retrieval`` (the sources), ``reasoning`` and
  ``answer`` (text deltas), then ``checked`` (the checked answer, each citation's
  verdict, reason and source sentence) or ``error``.
- ``POST /v1/chat/completions``: OpenAI's shape, streamed or not; the reply is the
  checked answer, and ``references`` carries the sources, their spans and the verdicts.

Errors: a bad question is 400 with the engine's one-line message; a model, embedder or
store that is down is 503 (checked before a stream starts, from the cached probe, so
a client is told before any event); no or a wrong token is 401.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from legalrag.app.api.answering import source_dict
from legalrag.app.api.health import CachedHealth
from legalrag.app.api.schemas import AnswerRequest, ChatCompletionRequest, Message, Search
from legalrag.errors import BackendError, LegalragError, QuestionError, SettingsError, UsageError

if TYPE_CHECKING:
    from legalrag.app.api.answering import AnswerService
    from legalrag.app.api.tokens import TokenCheck
    from legalrag.settings import Settings


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_check(settings: Settings) -> TokenCheck | None:
    """The token check when ``LEGALRAG_AUTH`` names users; None (loopback only) without.
    A non-loopback address without users is refused: anyone could ask."""
    from legalrag.app.api.tokens import TokenCheck, tokens_path
    from legalrag.app.chat.auth import load_users

    users = load_users(settings.auth.get_secret_value() if settings.auth else None)
    if users is None:
        if not is_loopback(settings.api_host):
            raise SettingsError(
                f"refusing to serve the API on {settings.api_host} without auth: set "
                "LEGALRAG_AUTH (users) and issue tokens with `legalrag auth token USER`, "
                "or listen on 127.0.0.1"
            )
        return None
    return TokenCheck(tokens_path(settings), users)


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _status(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, UsageError):
        return 400, str(exc)
    if isinstance(exc, BackendError):
        return 503, str(exc)
    return 500, f"internal error ({type(exc).__name__})"


def build_api(
    settings: Settings, service: AnswerService, tokens: TokenCheck | None = None
) -> FastAPI:
    """The app over ``service``; ``tokens`` None: no token asked (loopback only)."""
    app = FastAPI(
        title="legalrag API",
        version="1",
        description="Cited, checked answers from the legal index. Stateless: send the "
        "conversation with each request. Bearer token from `legalrag auth token USER`.",
    )
    health = CachedHealth(service.probes, cache_s=settings.health_cache_s)
    app.state.health = health
    bearer = HTTPBearer(auto_error=False)

    def caller(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    ) -> str | None:
        if tokens is None:
            return None
        user = tokens.user_for(credentials.credentials) if credentials else None
        if user is None:
            raise HTTPException(
                401, "a valid Bearer token is needed", headers={"WWW-Authenticate": "Bearer"}
            )
        return user

    @app.exception_handler(LegalragError)
    async def legalrag_error(_request: Request, exc: LegalragError) -> JSONResponse:
        status, message = _status(exc)
        return JSONResponse({"error": {"message": message}}, status_code=status)

    def ready_to_answer() -> None:
        """503 before anything starts when a part the answer needs is down."""
        status, body = health.check()
        if status != 200:
            down = ", ".join(k for k, v in body["checks"].items() if v != "ok") or "probe"
            raise HTTPException(503, f"not ready: {down} unavailable", headers={"Retry-After": "5"})

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        status, body = health.check()
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    @app.post("/v1/retrieve")
    def retrieve(search: Search, user: str | None = Depends(caller)) -> dict[str, Any]:
        """The sources for a question (no model call), within the user's matters."""
        return service.retrieve(search, user)

    def prepared(search: Search, history: list[Message], user: str | None) -> tuple[str, str, str]:
        question = service.question(search)
        service.filters(search, user)  # a matter the user may not read: 400 before a stream
        ready_to_answer()
        standalone, method = service.standalone(question, history)
        return question, standalone, method

    @app.post("/v1/answer")
    def answer(request: AnswerRequest, user: str | None = Depends(caller)) -> StreamingResponse:
        """The answer as server-sent events: retrieval, reasoning, answer, then checked."""
        question, standalone, method = prepared(request, request.history, user)
        search = request.model_copy(update={"question": question})

        def events() -> Iterator[str]:
            for kind, item in service.stream(search, standalone, user):
                if kind == "sources":
                    yield _sse(
                        "retrieval",
                        {
                            "question": question,
                            "standalone_question": standalone,
                            "rewrite": method,
                            "sources": [source_dict(s) for s in item],
                        },
                    )
                elif kind in ("reasoning", "answer"):
                    yield _sse(kind, {"text": item})
                elif kind == "checked":
                    yield _sse("checked", {**item.as_dict(), "standalone_question": standalone})
                else:
                    status, message = _status(item)
                    yield _sse("error", {"status": status, "message": message})

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.post("/v1/chat/completions")
    def chat_completions(
        request: ChatCompletionRequest,
        user: str | None = Depends(caller),
    ) -> Any:
        """OpenAI-compatible: the last user message is the question, the earlier ones
        its history; the reply is the checked answer, with ``references``."""
        users = [i for i, m in enumerate(request.messages) if m.role == "user"]
        if not users:
            raise QuestionError("the messages hold no user message")
        last = users[-1]
        search = Search(
            question=request.messages[last].content,
            k=request.k,
            jurisdiction=request.jurisdiction,
            topic=request.topic,
            matter=request.matter,
        )
        question, standalone, _ = prepared(search, request.messages[:last], user)
        search = search.model_copy(update={"question": question})
        completion = _Completion(request.model or service.engine.generator.model_name)
        if not request.stream:
            return completion.whole(service.answer(search, standalone, user))
        return StreamingResponse(
            completion.chunks(service.stream(search, standalone, user)),
            media_type="text/event-stream",
        )

    return app


class _Completion:
    """OpenAI's completion objects around one checked answer."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.model = model
        self.created = int(time.time())

    def _base(self, kind: str) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}

    def whole(self, answer: Any) -> dict[str, Any]:
        """The non-streamed reply."""
        message = {"role": "assistant", "content": answer.answer}
        if answer.reasoning:
            message["reasoning_content"] = answer.reasoning
        return {
            **self._base("chat.completion"),
            "choices": [{"index": 0, "message": message, "finish_reason": _finish(answer)}],
            "references": references(answer),
        }

    def chunks(self, events: Iterator[tuple[str, Any]]) -> Iterator[str]:
        """The streamed reply: reasoning as it comes (``reasoning_content``, vLLM's
        name), then the checked answer as one content delta (the model's raw text is
        never sent as the answer), then ``references`` and ``[DONE]``."""
        make: Callable[[dict[str, Any], str | None], str] = lambda delta, finish: (  # noqa: E731
            "data: "
            + json.dumps(
                {
                    **self._base("chat.completion.chunk"),
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                },
                ensure_ascii=False,
            )
            + "\n\n"
        )
        yield make({"role": "assistant", "content": ""}, None)
        for kind, item in events:
            if kind == "reasoning":
                yield make({"reasoning_content": item}, None)
            elif kind == "checked":
                yield make({"content": item.answer}, None)
                last = json.loads(make({}, _finish(item))[len("data: ") :])
                last["references"] = references(item)
                yield "data: " + json.dumps(last, ensure_ascii=False) + "\n\n"
            elif kind == "error":
                status, message = _status(item)
                yield (
                    "data: " + json.dumps({"error": {"message": message, "code": status}}) + "\n\n"
                )
        yield "data: [DONE]\n\n"


def _finish(answer: Any) -> str:
    return "length" if answer.truncated else "stop"


def references(answer: Any) -> dict[str, Any]:
    """The sources (with their spans) and each citation's verdict, from an answer."""
    data = answer.as_dict()
    return {
        "standalone_question": answer.question,
        "refused": answer.refused,
        "sources": data["sources"],
        "citations": data["citations"],
    }


def serve(settings: Settings, *, say: Callable[[str], object] = print) -> None:
    """Load once, then serve until interrupted."""
    import uvicorn

    from legalrag.app.api.answering import AnswerService

    tokens = token_check(settings)  # bad auth settings fail before the model loads
    say("loading the index, the embedder and the model client…")
    app = build_api(settings, AnswerService(settings), tokens)
    if tokens is None:
        say(f"no auth configured (LEGALRAG_AUTH): listening on {settings.api_host} only")
    else:
        say(f"Bearer tokens required ({len(tokens.users.checks)} users, {tokens.path})")
    host = settings.api_host
    shown = f"[{host}]" if ":" in host else host
    say(f"legalrag API on http://{shown}:{settings.api_port}/ (docs at /docs; Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=settings.api_port, log_level="warning")
