"""`legalrag serve` (the stateless HTTP API) and `legalrag auth token` (its Bearer tokens)."""

from __future__ import annotations

from typing import Annotated

import typer

from legalrag.cli import render
from legalrag.cli.options import INDEX, LOGS, SharedOptions, setting_flag, shared_options
from legalrag.errors import SettingsError


@shared_options(
    INDEX,
    setting_flag("--host", "api_host"),
    setting_flag("--port", "api_port"),
)
def serve(*, shared: SharedOptions) -> None:
    """Serve the HTTP API: retrieve, answer (server-sent events), OpenAI chat completions."""
    from legalrag.app.api import serve as run

    run(shared.settings(), say=render.said)


@shared_options(LOGS)
def auth_token(
    user: Annotated[str, typer.Argument(help="A user of LEGALRAG_AUTH.")],
    *,
    shared: SharedOptions,
) -> None:
    """Issue an API Bearer token for USER (printed once; only its hash is kept)."""
    from legalrag.app.api.tokens import issue_token, tokens_path
    from legalrag.app.chat.auth import load_users

    settings = shared.settings()
    users = load_users(settings.auth.get_secret_value() if settings.auth else None)
    if users is None:
        raise SettingsError("no users: set LEGALRAG_AUTH (tokens are issued to its users)")
    path = tokens_path(settings)
    token = issue_token(path, user.strip(), users)
    render.note(f"token for {user.strip()} added to {path} (shown once, keep it secret):")
    typer.echo(token)
