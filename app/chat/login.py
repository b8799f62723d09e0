"""The login wall: sign-in and sign-out routes, the signed session, and the wall itself.

Everything the app serves needs a signed-in user except the sign-in form, the
sign-out route and the readiness probe: the page redirects to the form, every
other path (Gradio's API, its configuration, its schema, its assets) answers 401.
Listing the few open paths, rather than the many closed ones, keeps a route that
Gradio adds later behind the wall too.

A session is a cookie signed with the shared secret (Starlette's session
middleware), holding the user and a session id; the id is checked against the
sign-outs (:mod:`.sessions`) at every request. Sign-ins are throttled per user
name and per client address (:mod:`.throttle`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request

from legalrag.app.chat.auth import SESSION_COOKIE, Users, login_page
from legalrag.app.chat.sessions import SessionStore, session_folder
from legalrag.app.chat.throttle import LoginThrottle, lockout_message

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    from legalrag.settings import Settings

log = logging.getLogger(__name__)

LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
WRONG_PASSWORD = "Wrong user name or password."
SIGN_OUT_NOT_RECORDED = (
    "You are signed out of this browser, but the server could not record the sign-out, "
    "so a copy of this login would stay valid until it expires. Tell your administrator."
)


@dataclass(frozen=True)
class LoginWall:
    """Who is signed in, from a request: the users, the sign-outs, the throttle."""

    users: Users
    sessions: SessionStore
    throttle: LoginThrottle

    def user(self, request: Request) -> str | None:
        """The signed-in user of ``request``; None for no cookie, a revoked or a stale one."""
        session = request.scope.get("session") or {}
        user = session.get("user")
        if not isinstance(user, str) or user not in self.users:
            return None
        return user if self.sessions.is_valid(session.get("sid")) else None


def client_address(request: Request) -> str:
    """The client's address as the server sees it (a proxy's own, unless it is trusted)."""
    return request.client.host if request.client else "unknown"


def _locked(seconds: float) -> HTMLResponse:
    from fastapi.responses import HTMLResponse

    return HTMLResponse(
        login_page(lockout_message(seconds)),
        status_code=429,
        headers={"Retry-After": str(max(1, math.ceil(seconds)))},
    )


def add_login(
    app: FastAPI,
    users: Users,
    settings: Settings,
    secret: str,
    *,
    open_paths: Iterable[str] = (),
) -> LoginWall:
    """Sign-in and sign-out routes, the signed session, and the wall around the rest."""
    from fastapi import Form
    from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
    from starlette.middleware.sessions import SessionMiddleware

    wall = LoginWall(
        users,
        SessionStore(session_folder(settings), max_age_s=settings.session_max_age_s),
        LoginThrottle.from_settings(settings),
    )
    unguarded = {LOGIN_PATH, LOGOUT_PATH, *open_paths}

    @app.get(LOGIN_PATH, response_class=HTMLResponse, include_in_schema=False)
    def show_login() -> HTMLResponse:
        return HTMLResponse(login_page())

    @app.post(LOGIN_PATH, include_in_schema=False)
    def do_login(
        request: Request,
        username: str = Form(""),
        password: str = Form(""),
    ):
        user, address = username.strip(), client_address(request)
        # Refused before the password is checked: a right guess must look like a wrong one.
        wait = wall.throttle.locked_for(user, address)
        if wait > 0:
            return _locked(wait)
        if users.verify(user, password):
            wall.throttle.succeeded(user)
            request.session.clear()  # a fresh id at each sign-in: no session fixation
            request.session.update({"user": user, "sid": wall.sessions.new_id()})
            return RedirectResponse("./", status_code=303)
        wait = wall.throttle.failed(user, address)
        if wait > 0:
            return _locked(wait)
        return HTMLResponse(login_page(WRONG_PASSWORD), status_code=401)

    @app.get(LOGOUT_PATH, include_in_schema=False)
    def do_logout(request: Request):
        session_id = request.session.get("sid")
        request.session.clear()
        try:
            wall.sessions.revoke(session_id)
        except OSError:
            log.exception("could not record a sign-out in %s", wall.sessions.folder)
            return HTMLResponse(login_page(SIGN_OUT_NOT_RECORDED), status_code=500)
        return RedirectResponse("login", status_code=303)

    @app.middleware("http")
    async def login_wall(request: Request, call_next):
        path = request.url.path
        if path in unguarded or wall.user(request) is not None:
            return await call_next(request)
        if request.method in ("GET", "HEAD") and path in ("/", ""):
            return RedirectResponse("login", status_code=303)
        return JSONResponse({"detail": "Not authenticated: sign in first."}, status_code=401)

    # Added last, so it runs first: the wall above already sees the session.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.session_https_only,
    )
    return wall
