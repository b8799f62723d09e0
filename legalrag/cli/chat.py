"""`legalrag chat`, `legalrag audit tail|export` and `legalrag auth hash`: the chat's commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from legalrag.cli import render
from legalrag.cli.options import INDEX, LOGS, SharedOptions, setting_flag, shared_options
from legalrag.errors import SettingsError


@shared_options(
    INDEX,
    setting_flag("--host", "chat_host"),
    setting_flag("--port", "chat_port", help="Port `legalrag chat` listens on."),
    setting_flag("--concurrency", "chat_concurrency"),
)
def chat(*, shared: SharedOptions) -> None:
    """Start the web chat (Gradio): streamed, cited, checked answers with their sources."""
    settings = shared.settings()
    from legalrag.app.chat.auth import load_users

    # Bad login settings fail now, before the model loads.
    load_users(settings.auth.get_secret_value() if settings.auth else None)
    from legalrag.app.chat.backend import ChatBackend
    from legalrag.app.chat.server import serve

    render.note("loading the index and the embedding model…")
    backend = ChatBackend(settings)
    if backend.generator_error:
        render.warning(f"{backend.generator_error}; questions will say so until it answers")
    serve(settings, backend, say=render.said)


@shared_options(LOGS)
def audit_tail(
    count: Annotated[int, typer.Option("-n", "--lines", min=1, help="How many entries.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    user: Annotated[
        str | None,
        typer.Option(
            "--user", help="Only this user's own entries (what they asked and were shown)."
        ),
    ] = None,
    *,
    shared: SharedOptions,
) -> None:
    """Show the last entries of the chat's audit log (who asked what, what was cited)."""
    from legalrag.app.audit import tail_audit

    settings = shared.settings()
    path = settings.audit_log_path
    if user is not None:
        from legalrag.access import open_access

        open_access(settings).scope(user)  # an unknown user is refused
    entries = tail_audit(path, count, user=user)
    if as_json:
        for entry in entries:
            render.print_json(entry)
        return
    if not entries:
        render.note(f"no audit entries yet in {path}")
        return
    for entry in entries:
        render.audit_entry(entry)


@shared_options(LOGS)
def audit_export(
    matter: Annotated[str, typer.Option("--matter", help="The matter's name, as logged.")],
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD, UTC), included.")],
    end: Annotated[
        str | None,
        typer.Option("--to", help="Last day (YYYY-MM-DD, UTC), included; default today."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write here (default: standard output).")
    ] = None,
    *,
    shared: SharedOptions,
) -> None:
    """Export one matter's audit lines over a range of days, for the firm's records."""
    from legalrag.app.audit_export import FORMATS, parse_day, select_audit, write_export
    from legalrag.errors import AuditExportError

    if fmt not in FORMATS:
        raise AuditExportError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    first = parse_day(start, "--from")
    last = parse_day(end, "--to") if end is not None else None
    settings = shared.settings()
    selection = select_audit(settings.audit_log_path, matter=matter, start=first, end=last)
    if out is None:
        write_export(selection.entries, typer.get_text_stream("stdout"), fmt)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8", newline="") as stream:
            write_export(selection.entries, stream, fmt)
    render.note(
        f"{len(selection.entries)} audit lines for matter {selection.matter!r}, "
        f"{selection.start.isoformat()} to {selection.end.isoformat()}"
        + (f", written to {out}" if out is not None else "")
    )
    if selection.unreadable:
        render.warning(f"{selection.unreadable} lines of {settings.audit_log_path} were unreadable")


def auth_hash(
    user: Annotated[str, typer.Argument(help="The user name.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Asked for when not given (better: never on the command line).",
        ),
    ],
) -> None:
    """Print a users-file line (user:bcrypt-hash) for LEGALRAG_AUTH."""
    from legalrag.app.chat.auth import hash_password

    if ":" in user or not user.strip():
        raise SettingsError("a user name must be non-empty and contain no ':'")
    if not password:
        raise SettingsError("the password is empty")
    typer.echo(f"{user.strip()}:{hash_password(password)}")
