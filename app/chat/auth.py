"""Who may use the chat: the users of ``LEGALRAG_AUTH``, and the login that remembers them.

``LEGALRAG_AUTH`` names either a file of ``user:hash`` lines (bcrypt hashes, as
``legalrag auth hash USER`` prints them; ``#`` starts a comment) or, for local use,
inline ``user:password`` pairs separated by commas.

A login is a cookie signed with ``session_secret`` (Starlette's session
middleware, itsdangerous underneath), not a token kept in one process's memory:
behind a load balancer that sends each request to any replica, every replica that
shares the secret recognises it. Gradio's own ``auth=`` keeps its tokens in a dict
in the serving process, which is why it is not used here. The routes and the wall
are in :mod:`.login`, sign-outs in :mod:`.sessions`, the throttle in :mod:`.throttle`.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from legalrag.settings import SettingsError
from legalrag.settings_edges import SESSION_SECRET_MIN_CHARS

if TYPE_CHECKING:
    from legalrag.settings import Settings

SESSION_COOKIE = "legalrag_session"
_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")


@dataclass(frozen=True)
class Users:
    """The users allowed in, each with a password check."""

    checks: dict[str, Callable[[str], bool]]
    source: str  # "file <path>" or "inline", for the start-up message

    def verify(self, user: str, password: str) -> bool:
        """True when ``user`` exists and ``password`` is theirs (same time either way)."""
        check = self.checks.get(user)
        if check is None:
            hmac.compare_digest(password, password)  # keep the timing of a real check
            return False
        return check(password)

    def __contains__(self, user: object) -> bool:
        return user in self.checks


def _bcrypt_check(hashed: str) -> Callable[[str], bool]:
    import bcrypt

    encoded = hashed.encode()

    def check(password: str) -> bool:
        try:
            return bcrypt.checkpw(password.encode(), encoded)
        except ValueError:
            return False

    return check


def _plain_check(expected: str) -> Callable[[str], bool]:
    def check(password: str) -> bool:
        return hmac.compare_digest(password.encode(), expected.encode())

    return check


def hash_password(password: str) -> str:
    """A bcrypt hash for a users file."""
    import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def load_users(value: str | None) -> Users | None:
    """The users ``LEGALRAG_AUTH`` names; None when it is unset (no login)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    path = Path(value).expanduser()
    if path.is_file():
        return _users_from_file(path)
    if value.startswith(("/", "~", ".")):  # a path; inline passwords may hold a "/"
        raise SettingsError(f"LEGALRAG_AUTH names a users file that does not exist: {value}")
    checks: dict[str, Callable[[str], bool]] = {}
    for pair in value.split(","):
        user, sep, password = pair.strip().partition(":")
        if not sep or not user.strip() or not password:
            raise SettingsError(
                "LEGALRAG_AUTH must be a users file or user:password pairs separated by commas"
            )
        checks[user.strip()] = _plain_check(password)
    return Users(checks, "inline user:password pairs")


def _users_from_file(path: Path) -> Users:
    checks: dict[str, Callable[[str], bool]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read the users file {path}: {exc}") from None
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, hashed = line.partition(":")
        if not sep or not user.strip() or not hashed.startswith(_BCRYPT_PREFIXES):
            raise SettingsError(
                f"{path}:{number}: expected user:bcrypt-hash "
                "(make one with `legalrag auth hash USER`)"
            )
        checks[user.strip()] = _bcrypt_check(hashed.strip())
    if not checks:
        raise SettingsError(f"the users file {path} names no users")
    return Users(checks, f"file {path}")


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
