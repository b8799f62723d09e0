"""The chat's web server: Gradio mounted on FastAPI, a readiness probe, the login.

``GET /healthz`` answers without login (a load balancer's readiness probe calls
it): 200 with a small JSON only when the index opens and a real retrieval works,
503 with the reason otherwise. The page and Gradio's API sit behind the login when
``LEGALRAG_AUTH`` names users.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from legalrag.app.chat.auth import Users, add_login, current_user, load_users, session_secret

if TYPE_CHECKING:
    from fastapi import FastAPI, Request

    from legalrag.app.chat.backend import ChatBackend
    from legalrag.settings import Settings

HEALTH_PATH = "/healthz"


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

    users = load_users(settings.auth.get_secret_value() if settings.auth else None)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get(HEALTH_PATH, include_in_schema=False)
    def healthz() -> JSONResponse:
        status, body = backend.health()
        return JSONResponse(body, status_code=status)

    shared = False
    auth_dependency = None
    if users is not None:
        secret, shared = session_secret(settings)
        add_login(app, users, settings, secret)

        def auth_dependency(request: Request) -> str | None:
            user = current_user(request)
            return user if user in users else None

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
        auth_dependency=auth_dependency,
        footer_links=[],
        run_history=False,
        ssr_mode=False,
        mcp_server=False,
        show_error=False,
        theme=theme,
        css=static_text("chat.css"),
        # The click handler that shows a citation's span (see view.py's cite ids).
        head=f"<script>\n{static_text('chat.js')}</script>\n",
        server_name=settings.chat_host,
        server_port=settings.chat_port,
    )
    return ChatApp(app, users, shared)


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
