"""The `legalrag` command: its sub-commands, and the one place errors become exit codes.

Heavy libraries (torch, sentence-transformers, chromadb) are imported inside the
commands, after the privacy switches are set, so they never phone home and
`legalrag --help` stays fast. The commands live by area (ingest, query, chat,
eval, admin), their shared flags in :mod:`.options`, their printing in
:mod:`.render`.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from legalrag.cli import admin, chat, ingest, matter, query, render
from legalrag.cli import eval as evaluation
from legalrag.cli import serve as serving
from legalrag.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, LegalragError


def _exit(message: str, code: int) -> typer.Exit:
    render.error(message)
    return typer.Exit(code)


class _ErrorsToExitCodes(TyperGroup):
    """Runs every command; an error the user can act on becomes one line and its exit code."""

    def invoke(self, ctx: Any) -> Any:
        """The command, with its errors turned into one line each, never a traceback."""
        try:
            return super().invoke(ctx)
        except LegalragError as exc:
            # Each part turns its own failures into one of these (the store its server's
            # dropped connections, the generator its endpoint's): the CLI guesses at none.
            raise _exit(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise _exit("interrupted; what was written so far is kept", EXIT_INTERRUPTED) from None
        except (typer.Exit, typer.Abort, TyperException):
            raise  # typer's own: --help, bad flags, an exit code a command chose
        except Exception as exc:
            # A bug, not bad input: say what happened; the traceback is one setting away.
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                raise
            raise _exit(
                f"internal error: {type(exc).__name__}: {exc} "
                "(run with LEGALRAG_LOG_LEVEL=DEBUG for the traceback)",
                EXIT_INTERNAL,
            ) from None


app = typer.Typer(
    name="legalrag",
    help="Legal question answering over your own corpus, with verified citations.",
    cls=_ErrorsToExitCodes,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="Show the effective settings.", no_args_is_help=True)
index_app = typer.Typer(help="Inspect the index.", no_args_is_help=True)
audit_app = typer.Typer(help="Read the chat's audit log.", no_args_is_help=True)
matter_app = typer.Typer(
    help="Matters: client documents only their members may read.", no_args_is_help=True
)
auth_app = typer.Typer(help="Users of the chat's login, tokens of the API.", no_args_is_help=True)
sky_app = typer.Typer(
    help="Run on GPU clusters through SkyPilot (pip install 'legalrag[sky]').",
    no_args_is_help=True,
)
eval_app = typer.Typer(
    help="Measure the whole pipeline on a question set and write a report.",
    invoke_without_command=True,
)

config_app.command("show")(admin.config_show)
app.command()(ingest.ingest)
index_app.command("info")(admin.index_info)
app.command()(query.retrieve)
app.command()(query.ask)
sky_app.command("ingest")(admin.sky_ingest)
app.command()(chat.chat)
audit_app.command("tail")(chat.audit_tail)
audit_app.command("export")(chat.audit_export)
auth_app.command("hash")(chat.auth_hash)
matter_app.command("create")(matter.matter_create)
matter_app.command("list")(matter.matter_list)
matter_app.command("grant")(matter.matter_grant)
matter_app.command("revoke")(matter.matter_revoke)
auth_app.command("token")(serving.auth_token)
app.command()(serving.serve)
eval_app.callback()(evaluation.eval_run)
eval_app.command("corpus")(evaluation.eval_corpus)
eval_app.command("adversarial")(evaluation.eval_adversarial)

app.add_typer(config_app, name="config")
app.add_typer(index_app, name="index")
app.add_typer(sky_app, name="sky")
app.add_typer(audit_app, name="audit")
app.add_typer(auth_app, name="auth")
app.add_typer(matter_app, name="matter")
app.add_typer(eval_app, name="eval")


def main() -> None:
    """Console entry point."""
    try:
        app()
    except BrokenPipeError:  # `legalrag … | head` is fine
        sys.exit(0)
