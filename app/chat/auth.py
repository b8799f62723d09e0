"""Who may use the chat: the users of ``LEGALRAG_AUTH``, and the login that remembers them.

``LEGALRAG_AUTH`` names either a file of ``user:hash`` lines (bcrypt hashes, as
``legalrag auth hash USER`` prints them; ``#`` starts a comment; optional groups, see
:mod:`legalrag.users`) or, for local use, inline ``user:password`` pairs separated by
commas.

A login is a cookie signed with ``session_secret`` (Starlette's session
middleware, itsdangerous underneath), not a token kept in one process's memory:
behind a load balancer that sends each request to any replica, every replica that
shares the secret recognises it. Gradio's own ``auth=`` keeps its tokens in a dict
in the serving process, which is why it is not used here. The routes and the wall
are in :mod:`.login`, sign-outs in :mod:`.sessions`, the throttle in :mod:`.throttle`.
"""

from __future__ import annotations

import secrets
from html import escape
from typing import TYPE_CHECKING

from legalrag.settings import SettingsError
from legalrag.settings_edges import SESSION_SECRET_MIN_CHARS

# The users (and their groups) are read in legalrag.users, which the matters' walls
# share; the names stay importable from here.
from legalrag.users import Users, hash_password, load_users

if TYPE_CHECKING:
    from legalrag.settings import Settings

__all__ = ["SESSION_COOKIE", "Users", "hash_password", "load_users", "login_page", "session_secret"]

SESSION_COOKIE = "legalrag_session"


def session_secret(settings: Settings) -> tuple[str, bool]:
    """The cookie-signing secret, and whether it is shared (from settings) or this process's.

    A shared secret shorter than ``SESSION_SECRET_MIN_CHARS`` is refused
    (:class:`SettingsError`, exit 2): anyone holding one cookie could guess it offline
    and sign cookies for any user. The settings refuse it when read; this holds for
    settings copied without validation too.
    """
    if settings.session_secret is not None and settings.session_secret.get_secret_value():
        value = settings.session_secret.get_secret_value()
        if len(value) < SESSION_SECRET_MIN_CHARS:
            raise SettingsError(
                f"LEGALRAG_SESSION_SECRET must be at least {SESSION_SECRET_MIN_CHARS} "
                f"characters (it has {len(value)}); make one with `openssl rand -hex 32`"
            )
        return value, True
    return secrets.token_urlsafe(32), False


_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>legalrag: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; background: #f5f5f5; }}
form {{ max-width: 320px; margin: 12vh auto; background: #fff; padding: 24px;
  border-radius: 8px; box-shadow: 0 1px 4px #0002; }}
label {{ display: block; margin-top: 12px; }}
input {{ width: 100%; padding: 6px; box-sizing: border-box; }}
button {{ margin-top: 16px; width: 100%; padding: 8px; }}
.error {{ color: #b00020; }}
</style></head>
<body><form method="post" action="login">
<h1>legalrag</h1>
<p>Sign in to ask questions.</p>
{error}
<label for="username">User</label>
<input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form></body></html>
"""


def login_page(error: str = "") -> str:
    """The sign-in form (a plain page: it must work before Gradio is allowed to load)."""
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return _LOGIN_PAGE.format(error=message)
