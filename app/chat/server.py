"""The chat's web server: Gradio mounted on FastAPI, a readiness probe, the login.

``GET /healthz`` answers without login (a load balancer's readiness probe calls
it): 200 with a small JSON only when the index opens, a real retrieval works and
the audit log can be written, 503 with the reason otherwise; its probe is kept a
few seconds (:mod:`.health`). Everything else sits behind the login when
``LEGALRAG_AUTH`` names users (:mod:`.login`). One route takes a file, the chat's own
``POST /documents`` (:mod:`.upload`: its types, its size limit, a raw body); Gradio's
upload routes, and any multipart body, are refused before Gradio sees them. A source
card's whole document is ``GET /document`` (:mod:`.whole`), behind the wall of matters.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from legalrag.app.chat.auth import Users, load_users, session_secret

if TYPE_CHECKING:
    from fastapi import FastAPI

    from legalrag.app.chat.backend import ChatBackend
    from legalrag.app.chat.health import Readiness
    from legalrag.app.chat.login import LoginWall
    from legalrag.settings import Settings

HEALTH_PATH = "/healthz"
UPLOADS_REFUSED = "This chat accepts no file uploads."
# Gradio's routes that take a file; any multipart body is refused as well.
_UPLOAD_ROUTE = re.compile(r"/gradio_api/(upload|upload_progress|process_recording)/?$")


class RefuseUploads:
    """ASGI middleware: answers 403 to an upload before anything reads its body.

    Outermost, so neither the login nor Gradio spools a byte of it to disk; Gradio's
    own ``max_file_size`` is 0 as well, in case a route is reached some other way.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Refuse an upload; pass anything else on."""
        if scope["type"] == "http" and is_upload(scope):
            from starlette.responses import PlainTextResponse

            await PlainTextResponse(UPLOADS_REFUSED, status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def is_upload(scope: dict[str, Any]) -> bool:
    """True for a request to an upload route or with a multipart (file) body."""
    if _UPLOAD_ROUTE.search(scope.get("path", "")):
        return True
    return any(
        name == b"content-type" and value.strip().lower().startswith(b"multipart/")
        for name, value in scope.get("headers", ())
    )


def static_text(name: str) -> str:
    """A file of the chat's ``static/`` folder (package data), as text."""
    folder = resources.files("legalrag.app.chat") / "static"
    return (folder / name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class ChatApp:
    """The assembled web app and what the start-up message says about it."""

    app: FastAPI
    users: Users | None
    shared_secret: bool
    readiness: Readiness
    wall: LoginWall | None


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_notes(settings: Settings, users: Users | None, shared_secret: bool) -> list[str]:
    """What to tell the person starting the chat about who can reach it."""
    notes: list[str] = []
    if users is None:
        if is_loopback(settings.chat_host):
            notes.append(
                f"no login configured (LEGALRAG_AUTH): listening on {settings.chat_host} only, "
                "so only this machine can use the chat"
            )
        else:
            notes.append(
                f"WARNING: listening on {settings.chat_host} WITHOUT a login: anyone who can "
                "reach this machine can ask questions. Set LEGALRAG_AUTH to require one."
            )
    else:
        notes.append(f"login required ({len(users.checks)} users, {users.source})")
        if not shared_secret:
            notes.append(
                "no LEGALRAG_SESSION_SECRET: logins are signed with a key of this process "
                "only; replicas behind a load balancer need the same secret"
            )
    return notes


def build_app(settings: Settings, backend: ChatBackend) -> ChatApp:
    """The FastAPI app: /healthz, the login (when configured), and the Gradio page at /."""
    import gradio as gr
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    from legalrag.app.chat.blocks import build_blocks
    from legalrag.app.chat.health import Readiness
    from legalrag.app.chat.login import add_login

    users = load_users(settings.auth.get_secret_value() if settings.auth else None)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    readiness = Readiness(backend, cache_s=settings.health_cache_s)

    @app.get(HEALTH_PATH, include_in_schema=False)
    def healthz() -> JSONResponse:
        status, body = readiness.check()
        return JSONResponse(body, status_code=status)

    shared = False
    wall = None
    if users is not None:
        secret, shared = session_secret(settings)
        wall = add_login(app, users, settings, secret, open_paths=(HEALTH_PATH,))

    from legalrag.app.chat.upload import add_document_routes

    # Before Gradio's mount at /, so these paths are the chat's own.
    from legalrag.app.chat.whole import add_whole_document_route

    user_of = wall.user if wall is not None else lambda _: None
    add_document_routes(app, backend, user_of)
    add_whole_document_route(app, backend, user_of)
    blocks = build_blocks(backend, signed_in=users is not None)
    theme = gr.themes.Default(
        # System fonts: the page must not fetch fonts from the internet.
        font=["system-ui", "sans-serif"],
        font_mono=["ui-monospace", "monospace"],
    )
    app = gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        auth_dependency=wall.user if wall is not None else None,
        footer_links=[],
        run_history=False,
        ssr_mode=False,
        mcp_server=False,
        show_error=False,
        theme=theme,
        css="".join(static_text(name) for name in ("chat.css", "upload.css", "actions.css")),
        # The click handler that shows a citation's span (see view.py's cite ids).
        head="<script>\n"
        + "\n".join(static_text(name) for name in ("chat.js", "upload.js", "phone.js", "copy.js"))
        + "</script>\n",
        server_name=settings.chat_host,
        server_port=settings.chat_port,
        # Gradio takes no files (RefuseUploads answers first; this is Gradio's own cap):
        # documents come through the chat's own route (upload.py).
        max_file_size=0,
        # Gradio's app would serve FastAPI's schema of every route at /openapi.json.
        app_kwargs={"openapi_url": None, "docs_url": None, "redoc_url": None},
    )
    app.add_middleware(RefuseUploads)  # added last: runs before the login and Gradio
    return ChatApp(app, users, shared, readiness, wall)


def serve(
    settings: Settings, backend: ChatBackend, *, say: Callable[[str], object] = print
) -> None:
    """Run the chat until interrupted."""
    import uvicorn

    chat = build_app(settings, backend)
    for note in bind_notes(settings, chat.users, chat.shared_secret):
        say(note)
    host = settings.chat_host
    shown = f"[{host}]" if ":" in host else host
    say(f"legalrag chat on http://{shown}:{settings.chat_port}/ (Ctrl+C to stop)")
    uvicorn.run(
        chat.app,
        host=host,
        port=settings.chat_port,
        log_level="warning",
        # The queue's event stream must not be cut by a proxy's buffering.
        timeout_keep_alive=30,
    )
